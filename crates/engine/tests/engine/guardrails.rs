//! Guardrails: items out of stock are never discounted or given, shipping and tax stay out of
//! order-level bases, and no item is discounted below its floor price (or cost) — each with a
//! note saying so — and a property test that no discount, of any kind, breaks a floor.

use crate::support::*;
use promo_engine::guardrails::{GuardReason, Guardrails, MarginFloor};
use promo_engine::model::ProductInfo;
use promo_engine::stacking::StackingRules;
use promo_engine::{Order, OrderItem};
use proptest::prelude::*;
use serde_json::json;

/// An item whose catalog entry says `stock`, `floor_price` and `cost`.
fn stocked(
    product: &str,
    quantity: i64,
    price: i64,
    stock: Option<i64>,
    floor: Option<i64>,
    cost: Option<i64>,
) -> OrderItem {
    OrderItem {
        product: Some(ProductInfo { stock, floor_price: floor, cost, ..Default::default() }),
        ..item(product, quantity, price)
    }
}

fn reasons(a: &promo_engine::stacking::Applied) -> Vec<GuardReason> {
    a.guardrails.iter().map(|n| n.reason).collect()
}

#[test]
fn order_percentages_leave_shipping_and_tax_out_by_default() {
    let w = World::new();
    let o = Order {
        amount: Some(11_800),
        shipping_amount: Some(1_000),
        tax_amount: Some(800),
        ..order(vec![item("a", 1, 10_000)])
    };
    let ten = voucher("TEN", json!({"type": "PERCENT", "percent_off": 10}));
    let (e, a) = w.apply_one(&ten, &o);
    assert_eq!(a.discount, 1_000, "10 % of the items only");
    assert_eq!(reasons(&a), vec![GuardReason::ShippingExcluded, GuardReason::TaxExcluded]);
    assert_eq!(e.order.total_amount, 10_800, "exact to the cent");
    // spread for returns: all of it on the item, none on the unitemized shipping and tax
    assert_eq!(a.unitemized, 0);

    let mut everything = ten.clone();
    everything.guardrails = Guardrails { discount_shipping: true, discount_tax: true, ..Guardrails::default() };
    assert_eq!(w.apply_one(&everything, &o).1.discount, 1_180);
}

#[test]
fn shipping_lines_are_left_to_discounts_that_name_them() {
    let w = World::new();
    let o = order(vec![item("a", 1, 10_000), item("prod_5h1pp1ng", 1, 500)]);
    let ten = voucher("TEN", json!({"type": "PERCENT", "percent_off": 10}));
    assert_eq!(w.apply_one(&ten, &o).1.discount, 1_000);
    // Voucherify's free shipping names the shipping product: it still applies
    let free_shipping = voucher(
        "SHIP",
        json!({"type": "UNIT", "unit_off": 1, "unit_type": "prod_5h1pp1ng", "effect": "ADD_MISSING_ITEMS",
               "product": {"id": "prod_5h1pp1ng", "source_id": "5h1pp1ng", "name": "Shipping"}}),
    );
    assert_eq!(w.apply_one(&free_shipping, &o).1.discount, 500);
}

#[test]
fn out_of_stock_items_are_neither_discounted_nor_given() {
    let w = World::new();
    let o = order(vec![stocked("gone", 1, 5_000, Some(0), None, None), stocked("here", 1, 5_000, Some(3), None, None)]);
    // item-level: the clearance discount reaches only what is in stock
    let clearance =
        with_rules(voucher("CLEAR", json!({"type": "PERCENT", "percent_off": 20})), applicable_to(&["gone", "here"]));
    let (_, a) = w.apply_one(&clearance, &o);
    assert_eq!(item_amounts(&a), vec![(1, 1_000)]);
    assert_eq!(reasons(&a), vec![GuardReason::OutOfStock]);
    assert_eq!(a.guardrails[0].line, Some(0));
    // order-level: the base leaves the line out
    let order_wide = voucher("ALL", json!({"type": "PERCENT", "percent_off": 20}));
    assert_eq!(w.apply_one(&order_wide, &o).1.discount, 1_000);
    // a campaign may choose to discount them
    let mut anyway = clearance.clone();
    anyway.guardrails.discount_out_of_stock = true;
    assert_eq!(w.apply_one(&anyway, &o).1.discount, 2_000);
    // a free unit of what is out of stock is not given
    let free_gone =
        voucher("FREE", json!({"type": "UNIT", "unit_off": 1, "unit_type": "gone", "effect": "ADD_NEW_ITEMS"}));
    let (_, a) = w.apply_one(&free_gone, &o);
    assert_eq!((a.discount, reasons(&a)), (0, vec![GuardReason::OutOfStock]));
}

#[test]
fn fifty_percent_stops_at_the_floor_price() {
    let w = World::new();
    let o = order(vec![stocked("coat", 2, 10_000, None, Some(7_000), Some(4_000))]);
    let half = with_rules(voucher("HALF", json!({"type": "PERCENT", "percent_off": 50})), applicable_to(&["coat"]));
    let (e, a) = w.apply_one(&half, &o);
    assert_eq!(a.discount, 6_000, "2 × (100.00 − 70.00)");
    assert_eq!(reasons(&a), vec![GuardReason::MarginFloor]);
    assert_eq!(e.order.total_amount, 14_000);
    // the same at order level
    let order_half = voucher("OHALF", json!({"type": "PERCENT", "percent_off": 50}));
    assert_eq!(w.apply_one(&order_half, &o).1.discount, 6_000);
    // by cost: a floor of max(floor, cost); without floors: the full half
    let mut by_cost = half.clone();
    by_cost.guardrails.margin_floor = MarginFloor::Cost;
    assert_eq!(w.apply_one(&by_cost, &o).1.discount, 6_000);
    let mut no_floor = half.clone();
    no_floor.guardrails.margin_floor = MarginFloor::None;
    assert_eq!(w.apply_one(&no_floor, &o).1.discount, 10_000);
    // a small discount that stays above the floor says nothing
    let small = with_rules(voucher("S", json!({"type": "PERCENT", "percent_off": 10})), applicable_to(&["coat"]));
    let (_, a) = w.apply_one(&small, &o);
    assert_eq!((a.discount, a.guardrails.len()), (2_000, 0));
}

#[test]
fn shipping_and_tax_beyond_the_amount_are_refused() {
    let w = World::new();
    let o = Order { amount: Some(10_500), shipping_amount: Some(1_000), ..order(vec![item("a", 1, 10_000)]) };
    let ten = voucher("TEN", json!({"type": "PERCENT", "percent_off": 10}));
    let requested = [promo_engine::Requested::Found { redeemable: &ten, options: Default::default() }];
    let e = promo_engine::evaluate_stack(&requested, &o, &StackingRules::default(), &w.env(), Default::default());
    assert!(matches!(
        e,
        Err(promo_engine::stacking::RequestError::Order(promo_engine::OrderError::ChargesAboveUnitemized {
            charges: 1_000,
            unitemized: 500
        }))
    ));
    // without an amount, shipping and tax are added to the items
    let o = Order { shipping_amount: Some(1_000), ..order(vec![item("a", 1, 10_000)]) };
    let (e, a) = w.apply_one(&ten, &o);
    assert_eq!((e.order.amount, a.discount), (11_000, 1_000));
}

fn discount_kind() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        (1i64..=100).prop_map(|p| json!({"type": "PERCENT", "percent_off": p})),
        (1i64..50_000).prop_map(|a| json!({"type": "AMOUNT", "amount_off": a})),
        (1i64..50_000)
            .prop_map(|a| json!({"type": "AMOUNT", "amount_off": a, "effect": "APPLY_TO_ITEMS_PROPORTIONALLY"})),
        (0i64..20_000).prop_map(|p| json!({"type": "FIXED", "fixed_amount": p, "effect": "APPLY_TO_ITEMS"})),
        (1i64..4)
            .prop_map(|n| json!({"type": "UNIT", "unit_off": n, "unit_type": "p0", "effect": "ADD_MISSING_ITEMS"})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the discounts, stacked in any order at item or order level, what the items are
    /// left to cost never goes below Σ floor × quantity, and out-of-stock lines take nothing.
    #[test]
    fn no_discount_breaks_a_floor_or_touches_what_is_out_of_stock(
        lines in proptest::collection::vec((1i64..5, 100i64..20_000, 0u32..100, any::<bool>()), 1..5),
        defs in proptest::collection::vec((discount_kind(), any::<bool>()), 1..4),
    ) {
        let items: Vec<OrderItem> = lines
            .iter()
            .enumerate()
            .map(|(i, (q, price, floor_pct, gone))| {
                let floor = price * i64::from(*floor_pct) / 100;
                stocked(&format!("p{i}"), *q, *price, Some(if *gone { 0 } else { 9 }), Some(floor), None)
            })
            .collect();
        let o = order(items);
        let products: Vec<String> = (0..lines.len()).map(|i| format!("p{i}")).collect();
        let names: Vec<&str> = products.iter().map(String::as_str).collect();
        let reds: Vec<_> = defs
            .iter()
            .enumerate()
            .map(|(k, (d, scoped))| {
                let v = voucher(&format!("V{k}"), d.clone());
                if *scoped && d["type"] != "UNIT" { with_rules(v, applicable_to(&names)) } else { v }
            })
            .collect();
        let refs: Vec<_> = reds.iter().collect();
        let e = World::new().stack(&refs, &o, &StackingRules::default());
        // what the lines in stock hold above their floors, free units a discount added included
        let mut above_floors = 0;
        for (i, item) in e.order.items.iter().enumerate() {
            let k = item.request_index.unwrap();
            let (_, price, f, gone) = lines[k];
            let floor = item.quantity * (price * i64::from(f) / 100);
            if gone {
                prop_assert_eq!(item.discount_amount, 0, "line {} is out of stock", i);
            } else {
                prop_assert!(item.amount - item.discount_amount >= floor, "line {} below its floor", i);
                above_floors += item.amount - floor;
            }
        }
        let mut taken = 0;
        for r in &e.results {
            if let promo_engine::Outcome::Applicable(a) = &r.outcome {
                taken += a.discount;
            }
        }
        // order-level discounts included: what is in stock never costs less than its floors
        prop_assert!(taken <= above_floors, "took {} of the {} above the floors", taken, above_floors);
    }
}
