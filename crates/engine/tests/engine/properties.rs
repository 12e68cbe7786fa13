//! Property tests of the invariants: allocations sum exactly, discounts stay within their base,
//! totals never go negative, caps hold, item order does not matter, nothing panics.

use crate::support::*;
use promo_engine::redeemable::{Benefit, Redeemable, RedeemableObject};
use promo_engine::rules::{RuleSet, ValidationRuleDef};
use promo_engine::stacking::{Outcome, Requested, StackingRules, evaluate_stack};
use promo_engine::{Discount, Order, OrderItem};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const PRODUCTS: usize = 6;

fn cart_items() -> impl Strategy<Value = Vec<OrderItem>> {
    proptest::collection::vec((1i64..30, 0i64..200_000), 1..=PRODUCTS)
        .prop_map(|lines| lines.into_iter().enumerate().map(|(i, (q, p))| item(&format!("p{i}"), q, p)).collect())
}

fn discount_json() -> impl Strategy<Value = Value> {
    let amount_effects = prop_oneof![
        Just("APPLY_TO_ORDER"),
        Just("APPLY_TO_ITEMS"),
        Just("APPLY_TO_ITEMS_PROPORTIONALLY"),
        Just("APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY"),
        Just("APPLY_TO_ITEMS_BY_QUANTITY")
    ];
    let two = || prop_oneof![Just("APPLY_TO_ORDER"), Just("APPLY_TO_ITEMS")];
    prop_oneof![
        (0i64..500_000, amount_effects, proptest::option::of(0i64..100_000))
            .prop_map(|(v, e, agg)| json!({"type": "AMOUNT", "amount_off": v, "effect": e, "aggregated_amount_limit": agg})),
        (0i64..=10_000, two(), proptest::option::of(0i64..100_000))
            .prop_map(|(bp, e, cap)| json!({"type": "PERCENT", "percent_off": bp as f64 / 100.0, "effect": e, "amount_limit": cap})),
        (0i64..200_000, two()).prop_map(|(v, e)| json!({"type": "FIXED", "fixed_amount": v, "effect": e})),
    ]
}

fn scoped_redeemable(id: &str, d: Value, scope: &[bool]) -> Redeemable {
    let r = voucher(id, d);
    if scope.iter().all(|s| !s) {
        return r;
    }
    let included: Vec<&str> = (0..PRODUCTS)
        .filter(|i| scope.get(*i).copied().unwrap_or(false))
        .map(|i| ["p0", "p1", "p2", "p3", "p4", "p5"][i])
        .collect();
    with_rules(r, applicable_to(&included))
}

fn line_share(e: &promo_engine::StackedEvaluation<'_>) -> BTreeMap<String, i64> {
    // Discount (item-level and allocated order-level) per product.
    let mut out = BTreeMap::new();
    let a = applied(e, 0);
    for l in a.item_discounts.iter().chain(&a.order_allocations) {
        *out.entry(l.line).or_insert(0) += l.amount;
    }
    out.into_iter().map(|(line, amount)| (format!("line{line}"), amount)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn item_discounts_sum_to_the_redeemable_discount_and_stay_within_the_base(
        items in cart_items(), d in discount_json(), scope in proptest::collection::vec(any::<bool>(), PRODUCTS), unitemized in prop_oneof![Just(0i64), 0i64..50_000]
    ) {
        let r = scoped_redeemable("V", d, &scope);
        let items_sum: i64 = items.iter().map(|i| i.price.unwrap() * i.quantity.unwrap()).sum();
        let cart = Order { amount: Some(items_sum + unitemized), ..order(items) };
        let w = World::new();
        let e = w.stack(&[&r], &cart, &StackingRules::default());
        let a = applied(&e, 0);
        let parts: i64 = a.item_discounts.iter().map(|l| l.amount).sum::<i64>() + a.order_allocations.iter().map(|l| l.amount).sum::<i64>() + a.unitemized;
        prop_assert_eq!(parts, a.discount);
        prop_assert!(a.discount >= 0 && a.discount <= items_sum + unitemized);
        for it in &e.order.items {
            prop_assert!(it.discount_amount >= 0 && it.discount_amount <= it.amount);
        }
        prop_assert!(e.order.total_amount >= 0);
    }

    #[test]
    fn stacked_totals_never_go_negative_and_stay_consistent(
        items in cart_items(), ds in proptest::collection::vec((discount_json(), proptest::collection::vec(any::<bool>(), PRODUCTS)), 1..6)
    ) {
        let redeemables: Vec<Redeemable> = ds.into_iter().enumerate().map(|(i, (d, s))| scoped_redeemable(&format!("V{i}"), d, &s)).collect();
        let refs: Vec<&Redeemable> = redeemables.iter().collect();
        let cart = order(items);
        let e = World::new().stack(&refs, &cart, &StackingRules::default());
        let o = &e.order;
        prop_assert!(o.total_amount >= 0);
        prop_assert_eq!(o.total_amount, o.amount - o.total_discount_amount);
        prop_assert_eq!(o.total_discount_amount, o.discount_amount + o.items_discount_amount);
        prop_assert_eq!(o.items_discount_amount, o.items.iter().map(|i| i.discount_amount).sum::<i64>());
        let applied_sum: i64 = e.results.iter().filter_map(|r| match &r.outcome { Outcome::Applicable(a) => Some(a.discount), _ => None }).sum();
        prop_assert_eq!(applied_sum, o.total_applied_discount_amount);
        for it in &o.items {
            prop_assert!(it.subtotal_amount >= 0);
        }
        // With order-level discounts spread over the lines, no line pays less than nothing, and
        // each spread sums back to its discount.
        let mut per_line = vec![0i64; o.items.len()];
        for r in &e.results {
            if let Outcome::Applicable(a) = &r.outcome {
                prop_assert_eq!(a.order_allocations.iter().map(|l| l.amount).sum::<i64>() + a.unitemized, a.order_discount);
                for l in a.order_allocations.iter().chain(&a.item_discounts) {
                    per_line[l.line] += l.amount;
                }
            }
        }
        for (it, taken) in o.items.iter().zip(&per_line) {
            prop_assert!(*taken <= it.amount, "line {:?} gets {} off {}", it.request_index, taken, it.amount);
        }
    }

    #[test]
    fn percent_caps_hold(items in cart_items(), bp in 0i64..=10_000, cap in 0i64..50_000, on_items in any::<bool>()) {
        let effect = if on_items { "APPLY_TO_ITEMS" } else { "APPLY_TO_ORDER" };
        let r = voucher("P", json!({"type": "PERCENT", "percent_off": bp as f64 / 100.0, "amount_limit": cap, "effect": effect}));
        let (_, a) = World::new().apply_one(&r, &order(items.clone()));
        prop_assert!(a.discount <= cap);
        let base: i64 = items.iter().map(|i| i.price.unwrap() * i.quantity.unwrap()).sum();
        // Uncapped, a percent discount is the percentage of the base, rounded per line at most.
        prop_assert!(a.discount <= (base * bp + 9_999) / 10_000 + items.len() as i64);
    }

    #[test]
    fn allocation_does_not_depend_on_item_order(
        items in cart_items(), d in discount_json(), scope in proptest::collection::vec(any::<bool>(), PRODUCTS), seed in any::<u64>()
    ) {
        let r = scoped_redeemable("V", d, &scope);
        let w = World::new();
        let by_product = |items: &[OrderItem]| {
            let cart = order(items.to_vec());
            let e = w.stack(&[&r], &cart, &StackingRules::default());
            line_share(&e).into_iter().map(|(line, amount)| {
                let idx: usize = line.trim_start_matches("line").parse().unwrap();
                (items[idx].product_id.clone().unwrap(), amount)
            }).collect::<BTreeMap<_, _>>()
        };
        let mut shuffled = items.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(by_product(&items), by_product(&shuffled));
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        any::<bool>().prop_map(Value::from),
        prop_oneof![
            Just("prod_1"),
            Just("pc_x"),
            Just("sku_1"),
            Just(""),
            Just("2026-01-01"),
            Just("10:00"),
            Just("web")
        ]
        .prop_map(Value::from),
        Just(Value::Null),
        Just(json!({"id": "p1", "object": "product"})),
        Just(json!({"id": "pc_x", "object": "products_collection"})),
    ]
}

const NAMES: &[&str] = &[
    "order.amount",
    "order.initial_amount",
    "order.items.count",
    "order.items.any",
    "order.items.every",
    "order.items.none",
    "order.items.cheapest",
    "order.items.most_expensive",
    "order.items.quantity",
    "order.items.aggregated_quantity",
    "order.items.price",
    "order.items.aggregated_amount",
    "order.items.metadata",
    "order.metadata",
    "customer.segment",
    "customer.metadata",
    "redemption.count.per_customer",
    "campaign.orders.amount_discounted",
    "campaign.redemptions.customers_count",
    "redemption.metadata",
    "product.id",
    "sku.id",
    "product.metadata.aggregated_quantity",
    "publication.redeemable_by_linked_customer",
    "order.items.price_each",
    "not.a.rule",
];
const OPS: &[&str] = &[
    "$is",
    "$is_not",
    "$in",
    "$not_in",
    "$more_than",
    "$more_than_or_equal",
    "$less_than",
    "$less_than_or_equal",
    "$contains",
    "$starts_with",
    "$after",
    "$before",
    "$timeframe",
    "$dow",
    "$count",
    "$has_value",
    "$is_days_ago",
    "$timeframe_daily_hours",
    "$bogus",
];

fn rule_json(depth: u32) -> BoxedStrategy<Value> {
    let leaf = (
        proptest::sample::select(NAMES),
        proptest::sample::select(OPS),
        proptest::collection::vec(json_leaf(), 0..3),
        proptest::option::of(prop_oneof![Just("k"), Just("channel")]),
    )
        .prop_map(
            |(name, op, values, property)| json!({"name": name, "conditions": {op: values}, "property": property}),
        );
    if depth == 0 {
        return leaf.boxed();
    }
    (leaf, proptest::option::of(group_json(depth - 1)))
        .prop_map(|(mut rule, nested)| {
            if let Some(n) = nested {
                rule["rules"] = n;
            }
            rule
        })
        .boxed()
}

fn group_json(depth: u32) -> BoxedStrategy<Value> {
    let logic = proptest::collection::vec(
        prop_oneof![Just("1"), Just("2"), Just("3"), Just("and"), Just("or"), Just("not"), Just("("), Just(")")],
        0..8,
    )
    .prop_map(|t| t.join(" "));
    (proptest::collection::vec(rule_json(depth), 0..4), proptest::option::of(logic))
        .prop_map(|(rules, logic)| {
            let mut m = serde_json::Map::new();
            for (i, r) in rules.into_iter().enumerate() {
                m.insert((i + 1).to_string(), r);
            }
            if let Some(l) = logic {
                m.insert("logic".into(), Value::from(l));
            }
            Value::Object(m)
        })
        .boxed()
}

const FORMULA_LEAVES: &[&str] = &[
    "0",
    "1",
    "3",
    "2.5",
    "99999999999999999999999",
    "79228162514264337593543950335",
    "ORDER_AMOUNT",
    "ORDER_UNITS_QUANTITY",
    "ORDER_ITEMS_QUANTITY",
    "ORDER_ITEM_PRICE",
    "CHEAPEST_ORDER_ITEM_PRICE",
    "MOST_EXPENSIVE_ORDER_ITEM_SUBTOTAL",
    "ORDER_METADATA(\"k\")",
    "CUSTOMER_METADATA(\"k\")",
    "\"text\"",
    "TODAY",
    "NOW",
    "VOUCHER_REDEEMED_QUANTITY",
];

/// Well-formed formulas (and, through random tokens, broken ones).
fn formula() -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(FORMULA_LEAVES).prop_map(str::to_owned);
    let tree = leaf.prop_recursive(4, 32, 3, |inner| {
        let op = proptest::sample::select(&["+", "-", "*", "/", "%", ">", "<", "=", "AND", "OR"][..]);
        let func = proptest::sample::select(
            &["MIN", "MAX", "POW", "ROUND", "FLOOR", "CEIL", "DEFAULT_TO", "DAY_OF_MONTH", "ABS"][..],
        );
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            (func, inner.clone(), inner.clone()).prop_map(|(f, a, b)| {
                if f == "DAY_OF_MONTH" || f == "ABS" { format!("{f}({a})") } else { format!("{f}({a}; {b})") }
            }),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| format!("IF({c}; {a}; {b})")),
            inner.prop_map(|a| format!("-{a}")),
        ]
    });
    let junk = proptest::collection::vec(
        proptest::sample::select(&["(", ")", ";", "*", "IF(", "1", "ORDER_AMOUNT", "\""][..]),
        0..10,
    )
    .prop_map(|t| t.join(" "));
    prop_oneof![4 => tree, 1 => junk]
}

fn weird_items() -> impl Strategy<Value = Vec<OrderItem>> {
    let num = prop_oneof![any::<i64>(), -5i64..100_000, Just(i64::MAX), Just(0)];
    proptest::collection::vec(
        (proptest::option::of(num.clone()), proptest::option::of(num.clone()), proptest::option::of(num), 0usize..4),
        0..8,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(q, p, a, k)| OrderItem {
                product_id: Some(format!("p{k}")),
                quantity: q,
                price: p,
                amount: a,
                ..Default::default()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_never_panics_on_arbitrary_rules_formulas_and_carts(
        group in group_json(2),
        formula in formula(),
        items in weird_items(),
        amount in proptest::option::of(any::<i64>()),
        d in discount_json(),
    ) {
        let def: ValidationRuleDef = serde_json::from_value(json!({"rules": group})).unwrap();
        let rules = RuleSet::compile(&def, None).ok();
        let mut dj = d;
        for field in ["amount_off_formula", "percent_off_formula", "fixed_amount_formula"] {
            dj[field] = Value::from(formula.clone());
        }
        if dj["type"] == "AMOUNT" {
            dj["amount_off"] = Value::from(100);
        }
        let discount = Discount::compile(&serde_json::from_value(dj).unwrap(), "discount");
        let benefit = match discount {
            Ok(d) => Benefit::Discount(d),
            Err(_) => Benefit::Gift { amount: 500 },
        };
        let mut r = Redeemable::new("X", RedeemableObject::Voucher, benefit);
        r.rules = rules.map(std::sync::Arc::new);
        let cart = Order { items, amount, ..Default::default() };
        let mut w = World::new();
        w.customer = Some(promo_engine::Customer { id: Some("c".into()), ..Default::default() });
        let req = [Requested::Found { redeemable: &r, options: Default::default() }];
        if let Ok(e) = evaluate_stack(&req, &cart, &StackingRules::default(), &w.env(), Default::default()) {
            prop_assert!(e.order.total_amount >= 0);
        }
    }
}

/// Every unit of the matched lines in the effect's order, as (line, unit price).
fn unit_sequence(items: &[OrderItem], effect: &str) -> Vec<(usize, i64)> {
    let mut lines: Vec<usize> = (0..items.len()).collect();
    let price = |i: usize| items[i].price.unwrap();
    match effect {
        "APPLY_FROM_CHEAPEST" => lines.sort_by_key(|&i| (price(i), format!("p{i}"))),
        "APPLY_FROM_MOST_EXPENSIVE" => lines.sort_by_key(|&i| (std::cmp::Reverse(price(i)), format!("p{i}"))),
        _ => {}
    }
    lines.iter().flat_map(|&i| std::iter::repeat_n((i, price(i)), items[i].quantity.unwrap() as usize)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `repeat` and `skip_initially`: a 100% item discount reaches exactly the units a walk
    /// over the sequence picks (after the first `skip`, every `repeat`-th), never more than
    /// the same discount without them, and `quantity_limit` still caps each line.
    #[test]
    fn repeat_and_skip_initially_reach_exactly_every_nth_unit(
        lines in proptest::collection::vec((1i64..12, 1i64..5_000), 1..=PRODUCTS),
        repeat in 1i64..6,
        skip in 0i64..10,
        effect in prop_oneof![Just("APPLY_TO_EVERY"), Just("APPLY_FROM_CHEAPEST"), Just("APPLY_FROM_MOST_EXPENSIVE")],
        quantity_limit in proptest::option::of(1i64..8),
        per_item in any::<bool>(),
    ) {
        // distinct prices, so the walk's order is the engine's
        let items: Vec<OrderItem> =
            lines.iter().enumerate().map(|(i, (q, p))| item(&format!("p{i}"), *q, p * 10 + i as i64)).collect();
        // one entry over lines of one product, as a marketer writes "every 2nd mug"
        let entry = json!({"object": "product", "id": "p0", "effect": effect, "repeat": repeat, "skip_initially": skip,
            "quantity_limit": quantity_limit, "target": if per_item { "ITEM" } else { "UNIT" }});
        let same_product: Vec<OrderItem> = items.iter().map(|i| OrderItem { product_id: Some("p0".into()), ..i.clone() }).collect();
        let rule = json!({"rules": {}, "applicable_to": {"included": [entry]}});
        let r = with_rules(voucher("V", json!({"type": "PERCENT", "percent_off": 100, "effect": "APPLY_TO_ITEMS"})), rule);
        let cart = order(same_product.clone());
        let w = World::new();
        let e = w.stack(&[&r], &cart, &StackingRules::default());
        // the walk
        let mut want = vec![0i64; items.len()];
        if per_item {
            let mut order_of_lines: Vec<usize> = Vec::new();
            for (l, _) in unit_sequence(&items, effect) {
                if order_of_lines.last() != Some(&l) { order_of_lines.push(l); }
            }
            for (k, l) in order_of_lines.iter().enumerate() {
                let pos = k as i64 + 1 - skip;
                if pos >= 1 && pos % repeat == 0 {
                    want[*l] = items[*l].quantity.unwrap().min(quantity_limit.unwrap_or(i64::MAX)) * items[*l].price.unwrap();
                }
            }
        } else {
            let mut units = vec![0i64; items.len()];
            for (k, (l, _)) in unit_sequence(&items, effect).into_iter().enumerate() {
                let pos = k as i64 + 1 - skip;
                if pos >= 1 && pos % repeat == 0 { units[l] += 1; }
            }
            for (l, u) in units.iter().enumerate() {
                want[l] = (*u).min(quantity_limit.unwrap_or(i64::MAX)) * items[l].price.unwrap();
            }
        }
        let got: Vec<i64> = e.order.items.iter().map(|i| i.discount_amount).collect();
        prop_assert_eq!(&got, &want);
        // never more than the same discount on every unit
        let every = with_rules(
            voucher("W", json!({"type": "PERCENT", "percent_off": 100, "effect": "APPLY_TO_ITEMS"})),
            json!({"rules": {}, "applicable_to": {"included": [{"object": "product", "id": "p0", "effect": effect, "quantity_limit": quantity_limit}]}}),
        );
        let all = w.stack(&[&every], &cart, &StackingRules::default());
        prop_assert!(e.order.total_discount_amount <= all.order.total_discount_amount);
        for (a, b) in e.order.items.iter().zip(&all.order.items) {
            prop_assert!(a.discount_amount <= b.discount_amount);
        }
    }
}
