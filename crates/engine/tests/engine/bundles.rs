//! Bundles (`bundle_rules`): complete bundles counted exactly (checked against Hall's
//! condition, an independent oracle), discounts multiplied by them within what the definition
//! allows, bundle prices exact to the minor unit, and a cart short of a bundle told what is
//! missing.

use crate::support::*;
use promo_engine::stacking::{Outcome, StackingRules};
use promo_engine::{Order, OrderItem};
use proptest::prelude::*;
use serde_json::{Value, json};

const PRODUCTS: usize = 5;

fn product(i: usize) -> String {
    format!("p{i}")
}

/// A bundle rule over components, each `(products it accepts, units per bundle)`.
fn bundle_rule(components: &[(Vec<usize>, i64)], limit: Option<i64>) -> Value {
    let mut b = serde_json::Map::new();
    b.insert("limit".into(), json!(limit));
    for (k, (products, units)) in components.iter().enumerate() {
        let refs: Vec<Value> = products
            .iter()
            .map(|p| json!({"id": product(*p), "type": "product_or_sku", "object": "product"}))
            .collect();
        b.insert(
            (k + 1).to_string(),
            json!({"name": "order.items.any", "conditions": {"$is": refs},
                   "rules": {"1": {"name": "order.items.quantity", "conditions": {"$more_than_or_equal": [units]}}}}),
        );
    }
    json!({"rules": {}, "bundle_rules": b})
}

/// The most bundles by Hall's condition: for every set S of components, the units of lines
/// feeding any of them must cover Σ_{c∈S} units_c × q.
fn most_bundles(lines: &[(usize, i64)], components: &[(Vec<usize>, i64)], limit: Option<i64>) -> i64 {
    let mut best = limit.unwrap_or(100);
    for mask in 1u32..(1 << components.len()) {
        let chosen: Vec<&(Vec<usize>, i64)> =
            components.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| c).collect();
        let need: i64 = chosen.iter().map(|c| c.1).sum();
        let have: i64 = lines.iter().filter(|(p, _)| chosen.iter().any(|c| c.0.contains(p))).map(|(_, q)| q).sum();
        best = best.min(have / need);
    }
    best
}

fn cart_of(lines: &[(usize, i64)], prices: &[i64]) -> Order {
    order(lines.iter().zip(prices).map(|((p, q), price)| item(&product(*p), *q, *price)).collect())
}

fn components() -> impl Strategy<Value = Vec<(Vec<usize>, i64)>> {
    proptest::collection::vec(
        (proptest::collection::btree_set(0..PRODUCTS, 1..=2).prop_map(|s| s.into_iter().collect()), 1i64..=3),
        1..=3,
    )
}

fn lines() -> impl Strategy<Value = Vec<(usize, i64)>> {
    proptest::collection::vec((0..PRODUCTS, 1i64..8), 1..=6)
}

fn prices(n: usize) -> impl Strategy<Value = Vec<i64>> {
    proptest::collection::vec(1i64..20_000, n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The count of complete bundles is the exact maximum (Hall's condition), capped by the
    /// limit; the identified units make up exactly that many bundles from the cart's own lines.
    #[test]
    fn complete_bundles_are_counted_exactly(
        comps in components(),
        cart_lines in lines(),
        limit in proptest::option::of(1i64..5),
        amount_off in 1i64..5_000,
    ) {
        let price_list = vec![10_000i64; cart_lines.len()];
        let r = with_rules(
            voucher("B", json!({"type": "AMOUNT", "amount_off": amount_off, "effect": "APPLY_TO_ORDER"})),
            bundle_rule(&comps, limit),
        );
        let w = World::new();
        let cart = cart_of(&cart_lines, &price_list);
        let e = w.stack(&[&r], &cart, &StackingRules::default());
        let want = most_bundles(&cart_lines, &comps, limit);
        match &e.results[0].outcome {
            Outcome::Applicable(a) => {
                let b = a.bundle.as_ref().unwrap();
                prop_assert_eq!(b.quantity, want);
                prop_assert!(b.missing.is_empty());
                let per_bundle: i64 = comps.iter().map(|c| c.1).sum();
                prop_assert_eq!(b.identified.iter().map(|i| i.item_quantity).sum::<i64>(), per_bundle * want);
                for i in &b.identified {
                    prop_assert!(i.item_quantity <= cart_lines[i.item_index].1);
                    prop_assert!(comps.iter().any(|c| c.0.contains(&cart_lines[i.item_index].0)));
                }
                // AMOUNT on the order: amount_off per bundle, never past the order
                let total: i64 = cart_lines.iter().map(|(_, q)| q * 10_000).sum();
                prop_assert_eq!(a.discount, (amount_off * want).min(total));
            }
            Outcome::Inapplicable(rej) => {
                prop_assert_eq!(want, 0);
                let b = rej.bundle.as_ref().unwrap();
                prop_assert_eq!(b.quantity, 0);
                prop_assert!(!b.missing.is_empty());
                prop_assert!(b.identified.is_empty());
            }
            Outcome::Skipped(s) => prop_assert!(false, "skipped: {:?}", s),
        }
    }

    /// Bundle prices ("any k for X"): the identified units cost exactly X per bundle (or what
    /// they cost, when that is less); the discount sits on them only and sums exactly.
    #[test]
    fn bundle_prices_are_exact(
        comps in components(),
        (cart_lines, price_list) in lines().prop_flat_map(|l| { let n = l.len(); (Just(l), prices(n)) }),
        limit in proptest::option::of(1i64..5),
        bundle_price in 0i64..30_000,
    ) {
        let r = with_rules(
            voucher("K", json!({"type": "FIXED", "fixed_amount": bundle_price, "effect": "APPLY_TO_ITEMS"})),
            bundle_rule(&comps, limit),
        );
        let w = World::new();
        let cart = cart_of(&cart_lines, &price_list);
        let e = w.stack(&[&r], &cart, &StackingRules::default());
        let Outcome::Applicable(a) = &e.results[0].outcome else {
            prop_assert_eq!(most_bundles(&cart_lines, &comps, limit), 0);
            return Ok(());
        };
        let b = a.bundle.as_ref().unwrap();
        let regular: i64 = b.identified.iter().map(|i| price_list[i.item_index] * i.item_quantity).sum();
        prop_assert_eq!(a.discount, (regular - bundle_price * b.quantity).max(0));
        // only identified lines carry it, never more than their identified units cost
        for l in &a.item_discounts {
            let i = b.identified.iter().find(|i| i.item_index == l.line).unwrap();
            prop_assert!(l.amount <= price_list[l.line] * i.item_quantity);
        }
        prop_assert_eq!(a.item_discounts.iter().map(|l| l.amount).sum::<i64>(), a.discount);
    }

    /// Multiplied discounts stay within what the definition allows: a percentage never passes
    /// 100 % or its cap; units off each item reach at most the multiplied unit limit.
    #[test]
    fn multiplied_discounts_stay_within_the_definition(
        cart_lines in lines(),
        percent in 1i64..=60,
        cap in proptest::option::of(1i64..50_000),
        unit_limit in 1i64..3,
    ) {
        let comps = vec![(vec![0usize], 1i64)];
        let price_list = vec![1_000i64; cart_lines.len()];
        let cart = cart_of(&cart_lines, &price_list);
        let w = World::new();
        let q = most_bundles(&cart_lines, &comps, None);
        let total: i64 = cart_lines.iter().map(|(_, n)| n * 1_000).sum();

        let pct = with_rules(
            voucher("P", json!({"type": "PERCENT", "percent_off": percent, "amount_limit": cap, "effect": "APPLY_TO_ORDER"})),
            bundle_rule(&comps, None),
        );
        let e = w.stack(&[&pct], &cart, &StackingRules::default());
        if q > 0 {
            let want_pct = (percent * q).min(100);
            let raw = (total * want_pct + 50) / 100;
            prop_assert_eq!(applied(&e, 0).discount, cap.map_or(raw, |c| raw.min(c)));
        }

        // $5 off each unit of p1, one unit per line per bundle
        let mut rule = bundle_rule(&comps, None);
        rule["applicable_to"] = json!({"included": [{"object": "product", "id": "p1", "effect": "APPLY_TO_EVERY", "quantity_limit": unit_limit}]});
        let per_unit = with_rules(voucher("U", json!({"type": "AMOUNT", "amount_off": 500, "effect": "APPLY_TO_ITEMS_BY_QUANTITY"})), rule);
        let e = w.stack(&[&per_unit], &cart, &StackingRules::default());
        if q > 0 {
            let want: i64 = cart_lines.iter().filter(|(p, _)| *p == 1).map(|(_, n)| (*n).min(unit_limit * q) * 500).sum();
            prop_assert_eq!(applied(&e, 0).discount, want);
        }
    }
}

#[test]
fn a_cart_short_of_a_bundle_is_told_what_is_missing() {
    // laptop + 2 bags; the cart has the laptop and one bag
    let comps = vec![(vec![0usize], 1i64), (vec![1usize], 2i64)];
    let r = with_rules(voucher("B", json!({"type": "AMOUNT", "amount_off": 2_000})), bundle_rule(&comps, Some(2)));
    let w = World::new();
    let e = w.stack(&[&r], &cart_of(&[(0, 1), (1, 1)], &[100_000, 5_000]), &StackingRules::default());
    let Outcome::Inapplicable(rej) = &e.results[0].outcome else { panic!("{:?}", e.results[0].outcome) };
    let b = rej.bundle.as_ref().unwrap();
    assert_eq!((b.quantity, b.limit), (0, Some(2)));
    assert_eq!(b.missing.len(), 1);
    assert_eq!((b.missing[0].id.as_str(), b.missing[0].object, b.missing[0].item_quantity), ("p1", "product", 1));
    let shortfall = rej.failures[0].shortfall.as_ref().unwrap();
    assert_eq!((shortfall.metric.as_str(), shortfall.needed), ("order.items.quantity", 1));
}

#[test]
fn free_units_are_multiplied_by_bundles_and_added_units_make_no_bundle() {
    // buy a laptop, get a bag free — per laptop
    let comps = vec![(vec![0usize], 1i64)];
    let r = with_rules(
        voucher("FREEBAG", json!({"type": "UNIT", "unit_off": 1, "unit_type": "p1", "effect": "ADD_MISSING_ITEMS"})),
        bundle_rule(&comps, None),
    );
    let w = World::new();
    let cart = order(vec![item("p0", 3, 100_000), OrderItem { price: Some(4_000), ..item("p1", 1, 4_000) }]);
    let (e, a) = w.apply_one(&r, &cart);
    assert_eq!(a.bundle.as_ref().unwrap().quantity, 3);
    assert_eq!(a.discount, 3 * 4_000, "three bags free");
    assert_eq!(e.order.items[1].quantity, 3, "two bags added to the one in the cart");
}

#[test]
fn a_formula_reading_the_bundle_count_is_not_multiplied_again() {
    let comps = vec![(vec![0usize], 2i64)];
    let r = with_rules(
        voucher(
            "F",
            json!({"type": "AMOUNT", "amount_off_formula": "order.bundle.quantity * 300", "effect": "APPLY_TO_ORDER"}),
        ),
        bundle_rule(&comps, None),
    );
    let w = World::new();
    let (_, a) = w.apply_one(&r, &order(vec![item("p0", 7, 10_000)]));
    assert_eq!(a.bundle.as_ref().unwrap().quantity, 3);
    assert_eq!(a.discount, 900);
}
