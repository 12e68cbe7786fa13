//! The discount-effects seed (003) worked examples and the reference §5.2 table, to the cent.

use crate::support::*;
use serde_json::json;

/// The seed's cart: T-shirt $30, Pen $20, Mug $10.
fn seed_cart() -> promo_engine::Order {
    order(vec![item("tshirt", 1, 3000), item("pen", 1, 2000), item("mug", 1, 1000)])
}

#[test]
fn ten_percent_off_the_whole_cart_is_six_dollars() {
    let v = voucher("TEN", json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ORDER"}));
    let (e, a) = World::new().apply_one(&v, &seed_cart());
    assert_eq!(a.discount, 600);
    assert_eq!(a.order_discount, 600);
    assert_eq!(e.order.total_amount, 5400);
    // The order-level discount is still spread over the lines for returns.
    assert_eq!(a.order_allocations.iter().map(|l| l.amount).collect::<Vec<_>>(), vec![300, 200, 100]);
}

#[test]
fn ten_percent_on_pen_and_mug_is_three_dollars() {
    let v = with_rules(
        voucher("TEN", json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"})),
        applicable_to(&["pen", "mug"]),
    );
    let (e, a) = World::new().apply_one(&v, &seed_cart());
    assert_eq!(item_amounts(&a), vec![(1, 200), (2, 100)]);
    assert_eq!(a.discount, 300);
    assert_eq!(e.order.items_discount_amount, 300);
    assert_eq!(e.order.total_amount, 5700);
}

#[test]
fn ten_dollars_proportionally_by_amount_is_667_and_333() {
    let v = with_rules(
        voucher("TEN", json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS_PROPORTIONALLY"})),
        applicable_to(&["pen", "mug"]),
    );
    let (_, a) = World::new().apply_one(&v, &seed_cart());
    assert_eq!(item_amounts(&a), vec![(1, 667), (2, 333)]);
    assert_eq!(a.discount, 1000);
}

#[test]
fn ten_dollars_proportionally_by_quantity_is_143_and_857() {
    let cart = order(vec![item("tshirt", 2, 3000), item("pen", 1, 2000), item("mug", 6, 1000)]);
    let v = with_rules(
        voucher(
            "TEN",
            json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY"}),
        ),
        applicable_to(&["pen", "mug"]),
    );
    let (_, a) = World::new().apply_one(&v, &cart);
    assert_eq!(item_amounts(&a), vec![(1, 143), (2, 857)]);
    assert_eq!(a.discount, 1000);
}

#[test]
fn free_tshirt_add_missing_items_discounts_the_tshirt_already_in_the_cart() {
    let v = voucher(
        "FREETEE",
        json!({"type": "UNIT", "unit_off": 1, "unit_type": "tshirt", "effect": "ADD_MISSING_ITEMS", "product": {"id": "tshirt", "price": 3000}}),
    );
    let (e, a) = World::new().apply_one(&v, &seed_cart());
    assert_eq!(a.discount, 3000);
    assert_eq!(a.item_discounts[0].added_units, 0, "no t-shirt is added");
    assert_eq!(e.order.items.len(), 3);
    assert_eq!(e.order.items[0].quantity, 1);
    assert_eq!(e.order.items[0].discount_quantity, 1);
    assert_eq!(e.order.amount, 6000);
    assert_eq!(e.order.total_amount, 3000);
}

#[test]
fn free_tshirt_add_missing_items_adds_it_when_absent() {
    let cart = order(vec![item("pen", 1, 2000), item("mug", 1, 1000)]);
    let v = voucher(
        "FREETEE",
        json!({"type": "UNIT", "unit_off": 1, "unit_type": "tshirt", "effect": "ADD_MISSING_ITEMS", "product": {"id": "tshirt", "price": 3000}}),
    );
    let (e, a) = World::new().apply_one(&v, &cart);
    assert_eq!(a.discount, 3000);
    assert_eq!(e.order.items.len(), 3);
    let added = &e.order.items[2];
    assert_eq!(
        (added.request_index, added.quantity, added.initial_quantity, added.amount, added.discount_amount),
        (None, 1, 0, 3000, 3000)
    );
    assert_eq!(added.added.as_ref().and_then(|p| p.product_id.as_deref()), Some("tshirt"));
    assert_eq!((e.order.initial_amount, e.order.amount, e.order.total_amount), (3000, 6000, 3000));
}

#[test]
fn free_tshirt_add_new_items_always_adds_one() {
    let v = voucher(
        "FREETEE",
        json!({"type": "UNIT", "unit_off": 1, "unit_type": "tshirt", "effect": "ADD_NEW_ITEMS", "product": {"id": "tshirt", "price": 3000}}),
    );
    let (e, a) = World::new().apply_one(&v, &seed_cart());
    assert_eq!(a.discount, 3000);
    let tee = &e.order.items[0];
    assert_eq!(
        (tee.quantity, tee.initial_quantity, tee.amount, tee.discount_amount, tee.discount_quantity),
        (2, 1, 6000, 3000, 1)
    );
    assert_eq!((e.order.initial_amount, e.order.amount, e.order.total_amount), (6000, 9000, 6000));
}

/// Reference §5.2: Mug $10×2, Poster $15×3, T-shirt $20×3, Bottle $25×2; the discount applies
/// to mug, poster and t-shirt.
fn adventure_cart() -> promo_engine::Order {
    order(vec![item("mug", 2, 1000), item("poster", 3, 1500), item("tshirt", 3, 2000), item("bottle", 2, 2500)])
}

fn adventure(d: serde_json::Value) -> Vec<(usize, i64)> {
    let v = with_rules(voucher("ADV", d), applicable_to(&["mug", "poster", "tshirt"]));
    let (_, a) = World::new().apply_one(&v, &adventure_cart());
    item_amounts(&a)
}

#[test]
fn reference_effect_table_holds_to_the_cent() {
    assert_eq!(
        adventure(json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS"})),
        vec![(0, 1000), (1, 1000), (2, 1000)]
    );
    assert_eq!(
        adventure(json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS_BY_QUANTITY"})),
        vec![(0, 2000), (1, 3000), (2, 3000)]
    );
    assert_eq!(
        adventure(json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS_PROPORTIONALLY"})),
        vec![(0, 160), (1, 360), (2, 480)]
    );
    assert_eq!(
        adventure(json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY"})),
        vec![(0, 250), (1, 375), (2, 375)]
    );
    assert_eq!(
        adventure(json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"})),
        vec![(0, 200), (1, 450), (2, 600)]
    );
    assert_eq!(
        adventure(json!({"type": "FIXED", "fixed_amount": 1000, "effect": "APPLY_TO_ITEMS"})),
        vec![(1, 1500), (2, 3000)]
    );
}

#[test]
fn amount_off_an_item_never_exceeds_the_item() {
    let v = voucher("BIG", json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS"}));
    let (_, a) = World::new().apply_one(&v, &order(vec![item("a", 1, 2000), item("b", 1, 700)]));
    assert_eq!(item_amounts(&a), vec![(0, 1000), (1, 700)]);
}

#[test]
fn percent_cap_limits_the_whole_discount() {
    let v =
        voucher("CAP", json!({"type": "PERCENT", "percent_off": 50, "amount_limit": 600, "effect": "APPLY_TO_ORDER"}));
    let (_, a) = World::new().apply_one(&v, &order(vec![item("a", 1, 10000)]));
    assert_eq!(a.discount, 600);
    let v = with_rules(
        voucher("CAPI", json!({"type": "PERCENT", "percent_off": 50, "amount_limit": 600, "effect": "APPLY_TO_ITEMS"})),
        applicable_to(&["a", "b"]),
    );
    let (_, a) = World::new().apply_one(&v, &order(vec![item("a", 1, 1000), item("b", 1, 3000)]));
    assert_eq!(item_amounts(&a), vec![(0, 150), (1, 450)], "the cap is shared in proportion");
}

#[test]
fn fixed_order_price_discounts_the_difference() {
    let v = voucher("FIX", json!({"type": "FIXED", "fixed_amount": 5000}));
    let (e, a) = World::new().apply_one(&v, &order(vec![item("a", 2, 4000)]));
    assert_eq!((a.discount, e.order.total_amount), (3000, 5000));
}

#[test]
fn half_cent_rounds_away_from_zero() {
    // 12.5% of 1012 = 126.5 → 127 (banker's rounding would give 126).
    let v = voucher("R", json!({"type": "PERCENT", "percent_off": 12.5}));
    let (_, a) = World::new().apply_one(&v, &order(vec![item("a", 1, 1012)]));
    assert_eq!(a.discount, 127);
}

#[test]
fn item_targets_cheapest_and_quantity_limits() {
    let mut w = World::new();
    w.catalog.add_static(
        "pc_all",
        vec![
            promo_engine::ItemRef::Product { id: Some("a".into()), source_id: None },
            promo_engine::ItemRef::Product { id: Some("b".into()), source_id: None },
        ],
    );
    let rule = json!({"rules": {}, "applicable_to": {"included": [{"object": "products_collection", "id": "pc_all", "effect": "APPLY_FROM_CHEAPEST", "aggregated_quantity_limit": 3}]}});
    let v = with_rules(voucher("C", json!({"type": "PERCENT", "percent_off": 100, "effect": "APPLY_TO_ITEMS"})), rule);
    // a: 2 × 500, b: 5 × 300 → the 3 cheapest units are b's: 900.
    let (_, a) = w.apply_one(&v, &order(vec![item("a", 2, 500), item("b", 5, 300)]));
    assert_eq!(item_amounts(&a), vec![(1, 900)]);
}

#[test]
fn formula_discount_uses_order_facts_and_falls_back_when_it_fails() {
    let v = voucher(
        "F",
        json!({"type": "AMOUNT", "amount_off": 100, "amount_off_formula": "IF(ORDER_AMOUNT > 10000; ORDER_AMOUNT * 0.1; 50)"}),
    );
    let (_, a) = World::new().apply_one(&v, &order(vec![item("a", 1, 20000)]));
    assert_eq!(a.discount, 2000);
    let v = voucher(
        "G",
        json!({"type": "AMOUNT", "amount_off": 100, "amount_off_formula": "ORDER_METADATA(\"missing\") * 2"}),
    );
    let (_, a) = World::new().apply_one(&v, &order(vec![item("a", 1, 20000)]));
    assert_eq!(a.discount, 100, "static value is the fallback");
}

#[test]
fn order_level_discount_covers_the_unitemized_amount_in_proportion() {
    // Items 6000 plus 4000 not itemised (shipping): 10% = 1000, 600 on items, 400 on the rest.
    let v = voucher("TEN", json!({"type": "PERCENT", "percent_off": 10}));
    let cart = promo_engine::Order { amount: Some(10000), ..order(vec![item("a", 1, 4000), item("b", 1, 2000)]) };
    let (e, a) = World::new().apply_one(&v, &cart);
    assert_eq!(a.discount, 1000);
    assert_eq!(a.order_allocations.iter().map(|l| l.amount).collect::<Vec<_>>(), vec![400, 200]);
    assert_eq!(a.unitemized, 400);
    assert_eq!(e.order.total_amount, 9000);
}

#[test]
fn order_amount_below_its_items_is_refused() {
    let cart = promo_engine::Order { amount: Some(100), ..order(vec![item("a", 1, 4000)]) };
    let w = World::new();
    let v = voucher("TEN", json!({"type": "PERCENT", "percent_off": 10}));
    let req = [promo_engine::Requested::Found { redeemable: &v, options: Default::default() }];
    let err = promo_engine::evaluate_stack(
        &req,
        &cart,
        &promo_engine::StackingRules::default(),
        &w.env(),
        Default::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "order.amount 100 is less than the sum of item amounts 4000");
}

#[test]
fn per_line_amount_limit_caps_the_percent_not_its_base() {
    // 10% of 1000 is 100; a per-line limit of 150 does not bind, a limit of 60 does.
    let rule = |limit: i64| json!({"rules": {}, "applicable_to": {"included": [{"object": "product", "id": "a", "effect": "APPLY_TO_EVERY", "amount_limit": limit}]}});
    let v =
        with_rules(voucher("P", json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"})), rule(150));
    assert_eq!(World::new().apply_one(&v, &order(vec![item("a", 1, 1000)])).1.discount, 100);
    let v =
        with_rules(voucher("P", json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"})), rule(60));
    assert_eq!(World::new().apply_one(&v, &order(vec![item("a", 1, 1000)])).1.discount, 60);
}
