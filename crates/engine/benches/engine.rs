//! Engine benchmarks: a stacked validation of 5 redeemables on a 50-line cart, and
//! qualification of a 50-line cart against 1,000 and 10,000 active tiers (10% untargeted,
//! 90% targeted at products or collections).

// test code: a failed unwrap is a failed test, with its message
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use promo_engine::qualify::{QualificationSorting, QualifyOptions, qualify};
use promo_engine::redeemable::{Benefit, Environment, RedeemableObject};
use promo_engine::stacking::{Requested, StackOptions, StackingRules, evaluate_stack};
use promo_engine::{
    Catalog, Customer, Discount, ItemRef, Metadata, NoCounters, Order, OrderItem, QualificationIndex, Redeemable,
    RuleSet,
};
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::Arc;

const PRODUCTS: usize = 1000;
const COLLECTION_SIZE: usize = 5;

/// Deterministic pseudo-random numbers (no RNG dependency, same data every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn catalog() -> Catalog {
    let mut c = Catalog::new();
    for k in 0..PRODUCTS / COLLECTION_SIZE {
        let members = (0..COLLECTION_SIZE)
            .map(|j| ItemRef::Product { id: Some(format!("prod_{}", k * COLLECTION_SIZE + j)), source_id: None })
            .collect();
        c.add_static(format!("pc_{k}"), members);
    }
    c
}

fn cart(lines: usize, rng: &mut Lcg) -> Order {
    let items = (0..lines)
        .map(|_| OrderItem {
            product_id: Some(format!("prod_{}", rng.next(PRODUCTS))),
            quantity: Some(1 + rng.next(4) as i64),
            price: Some(500 + rng.next(20_000) as i64),
            ..Default::default()
        })
        .collect();
    Order { items, ..Default::default() }
}

fn discount(v: Value) -> Discount {
    Discount::compile(&serde_json::from_value(v).unwrap(), "discount").unwrap()
}

fn rules(v: Value) -> Arc<RuleSet> {
    Arc::new(RuleSet::compile(&serde_json::from_value(v).unwrap(), Some("val_bench".into())).unwrap())
}

fn redeemable(id: String, object: RedeemableObject, d: Value, r: Option<Value>) -> Redeemable {
    let mut x = Redeemable::new(id, object, Benefit::Discount(discount(d)));
    x.rules = r.map(rules);
    x
}

fn stacked_five(order: &Order) -> Vec<Redeemable> {
    let products: Vec<Value> = order
        .items
        .iter()
        .take(10)
        .map(|i| json!({"object": "product", "id": i.product_id, "effect": "APPLY_TO_EVERY"}))
        .collect();
    let first = order.items[0].product_id.clone();
    vec![
        redeemable(
            "COUPON10".into(),
            RedeemableObject::Voucher,
            json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS_PROPORTIONALLY"}),
            Some(
                json!({"rules": {"1": {"name": "order.amount", "conditions": {"$more_than": [5000]}}}, "applicable_to": {"included": products}}),
            ),
        ),
        redeemable(
            "promo_vip".into(),
            RedeemableObject::PromotionTier,
            json!({"type": "PERCENT", "percent_off": 5, "amount_limit": 5000}),
            Some(json!({"rules": {
                "1": {"name": "customer.segment", "conditions": {"$is": ["seg_vip"]}},
                "2": {"name": "order.items.count", "conditions": {"$more_than_or_equal": [3]}},
                "logic": "1 and 2"
            }})),
        ),
        redeemable(
            "promo_bundle".into(),
            RedeemableObject::PromotionTier,
            json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"}),
            Some(json!({
                "rules": {"1": {"name": "order.items.any", "conditions": {"$is": [{"id": "pc_3", "object": "products_collection"}, first]},
                                 "rules": {"1": {"name": "order.items.aggregated_quantity", "conditions": {"$more_than_or_equal": [1]}}}}},
                "applicable_to": {"included": [{"object": "product", "id": first, "effect": "APPLY_TO_EVERY", "quantity_limit": 2}]}
            })),
        ),
        redeemable(
            "promo_formula".into(),
            RedeemableObject::PromotionTier,
            json!({"type": "AMOUNT", "amount_off": 100, "amount_off_formula": "IF(ORDER_UNITS_QUANTITY > 20; MIN(ORDER_AMOUNT * 0.02; 3000); 500)"}),
            None,
        ),
        redeemable(
            "FREESHIP".into(),
            RedeemableObject::Voucher,
            json!({"type": "UNIT", "unit_off": 1, "unit_type": "prod_5h1pp1ng", "effect": "ADD_MISSING_ITEMS", "product": {"id": "prod_5h1pp1ng", "price": 1500}}),
            None,
        ),
    ]
}

fn tiers(count: usize, rng: &mut Lcg) -> QualificationIndex {
    let mut all = Vec::with_capacity(count);
    for i in 0..count {
        let id = format!("promo_{i}");
        let t = match i % 10 {
            // 10% untargeted: spend thresholds.
            0 => redeemable(
                id,
                RedeemableObject::PromotionTier,
                json!({"type": "PERCENT", "percent_off": 1 + rng.next(20)}),
                Some(
                    json!({"rules": {"1": {"name": "order.amount", "conditions": {"$more_than_or_equal": [rng.next(200_000)]}}}}),
                ),
            ),
            // 30% collection-targeted.
            1..=3 => {
                let c = format!("pc_{}", rng.next(PRODUCTS / COLLECTION_SIZE));
                redeemable(
                    id,
                    RedeemableObject::PromotionTier,
                    json!({"type": "AMOUNT", "amount_off": 100 + rng.next(1000), "effect": "APPLY_TO_ITEMS"}),
                    Some(json!({
                        "rules": {"1": {"name": "order.items.any", "conditions": {"$is": [{"id": c, "object": "products_collection"}]}}},
                        "applicable_to": {"included": [{"object": "products_collection", "id": c, "effect": "APPLY_TO_EVERY"}]}
                    })),
                )
            }
            // 60% product-targeted, with a quantity condition.
            _ => {
                let p = format!("prod_{}", rng.next(PRODUCTS));
                redeemable(
                    id,
                    RedeemableObject::PromotionTier,
                    json!({"type": "PERCENT", "percent_off": 5 + rng.next(30), "effect": "APPLY_TO_ITEMS"}),
                    Some(json!({
                        "rules": {"1": {"name": "order.items.any", "conditions": {"$is": [p]},
                                         "rules": {"1": {"name": "order.items.quantity", "conditions": {"$more_than_or_equal": [1 + rng.next(3)]}}}}},
                        "applicable_to": {"included": [{"object": "product", "id": p, "effect": "APPLY_TO_EVERY"}]}
                    })),
                )
            }
        };
        // Tiers are created one after another, as in a real project.
        let t = Redeemable { created_at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(i as i64), ..t };
        all.push(Arc::new(t));
    }
    QualificationIndex::new(all)
}

fn benches(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
    let catalog = catalog();
    let empty = Metadata::new();
    let customer = Customer { id: Some("cust_1".into()), segments: vec!["seg_vip".into()], ..Default::default() };
    let env = Environment {
        customer: Some(&customer),
        ..Environment::new(now, chrono_tz::Europe::Warsaw, &catalog, &NoCounters, &empty)
    };
    let mut rng = Lcg(7);
    let order = cart(50, &mut rng);

    let five = stacked_five(&order);
    let requested: Vec<Requested<'_>> =
        five.iter().map(|r| Requested::Found { redeemable: r, options: Default::default() }).collect();
    let rules = StackingRules::default();
    let check =
        evaluate_stack(&requested, &order, &rules, &env, StackOptions { snapshots: true, allocations: true }).unwrap();
    assert_eq!(check.results.iter().filter(|r| r.outcome.status() == "APPLICABLE").count(), 5, "all five apply");
    // The default response, and the one with `options.expand: ["order"]` (a cumulative order
    // snapshot per redeemable).
    for (name, snapshots) in
        [("validate_5_stacked_on_50_lines", false), ("validate_5_stacked_on_50_lines_expand_order", true)]
    {
        c.bench_function(name, |b| {
            b.iter(|| {
                evaluate_stack(
                    black_box(&requested),
                    black_box(&order),
                    &rules,
                    &env,
                    StackOptions { snapshots, allocations: false },
                )
                .unwrap()
            })
        });
    }

    let options = QualifyOptions {
        sorting: QualificationSorting::BestDeal,
        near_misses: true,
        best_tier_per_campaign: false,
        limit: Some(50),
    };
    for count in [1_000, 10_000] {
        let index = tiers(count, &mut rng);
        let q = qualify(&index, &order, &env, options).unwrap();
        eprintln!(
            "qualify {count}: {} candidates evaluated, {} qualified, {} near misses",
            q.evaluated,
            q.qualified.len(),
            q.near_misses.len()
        );
        c.bench_function(&format!("qualify_50_lines_{count}_tiers"), |b| {
            b.iter(|| qualify(black_box(&index), black_box(&order), &env, options).unwrap())
        });
    }
}

criterion_group! {
    name = engine;
    config = Criterion::default().sample_size(50).warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(engine);
