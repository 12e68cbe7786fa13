use chrono::{DateTime, TimeZone, Utc};
use promo_engine::redeemable::{Benefit, Environment, Redeemable, RedeemableObject};
use promo_engine::rules::{CounterKey, RuleSet};
use promo_engine::stacking::{
    Applied, Outcome, Requested, StackOptions, StackedEvaluation, StackingRules, evaluate_stack,
};
use promo_engine::{Catalog, Customer, Discount, Metadata, Order, OrderItem, RedeemOptions};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

pub fn item(product: &str, quantity: i64, price: i64) -> OrderItem {
    OrderItem { product_id: Some(product.into()), quantity: Some(quantity), price: Some(price), ..Default::default() }
}

pub fn order(items: Vec<OrderItem>) -> Order {
    Order { items, ..Default::default() }
}

pub fn discount(v: Value) -> Discount {
    Discount::compile(&serde_json::from_value(v).unwrap(), "discount").unwrap()
}

pub fn rules(v: Value) -> Arc<RuleSet> {
    Arc::new(RuleSet::compile(&serde_json::from_value(v).unwrap(), Some("val_test".into())).unwrap())
}

pub fn voucher(code: &str, d: Value) -> Redeemable {
    Redeemable::new(code, RedeemableObject::Voucher, Benefit::Discount(discount(d)))
}

pub fn tier(id: &str, d: Value) -> Redeemable {
    Redeemable::new(id, RedeemableObject::PromotionTier, Benefit::Discount(discount(d)))
}

pub fn with_rules(mut r: Redeemable, v: Value) -> Redeemable {
    r.rules = Some(rules(v));
    r
}

/// Everything around an evaluation: catalog, counters, customer, metadata.
pub struct World {
    pub catalog: Catalog,
    pub counters: HashMap<CounterKey, i64>,
    pub customer: Option<Customer>,
    pub metadata: Metadata,
}

impl World {
    pub fn new() -> Self {
        World { catalog: Catalog::new(), counters: HashMap::new(), customer: None, metadata: Metadata::new() }
    }

    pub fn env(&self) -> Environment<'_> {
        Environment {
            customer: self.customer.as_ref(),
            ..Environment::new(now(), chrono_tz::UTC, &self.catalog, &self.counters, &self.metadata)
        }
    }

    pub fn stack<'r>(
        &self,
        redeemables: &[&'r Redeemable],
        order: &Order,
        rules: &StackingRules,
    ) -> StackedEvaluation<'r> {
        let requested: Vec<Requested<'r>> =
            redeemables.iter().map(|r| Requested::Found { redeemable: r, options: RedeemOptions::default() }).collect();
        evaluate_stack(&requested, order, rules, &self.env(), StackOptions { snapshots: true, allocations: true })
            .unwrap()
    }

    /// One redeemable alone, which must apply.
    pub fn apply_one(&self, r: &Redeemable, order: &Order) -> (StackedEvaluation<'static>, Applied) {
        let r: &'static Redeemable = Box::leak(Box::new(r.clone()));
        let e = self.stack(&[r], order, &StackingRules::default());
        let a = applied(&e, 0).clone();
        (e, a)
    }
}

pub fn applied<'a>(e: &'a StackedEvaluation<'_>, i: usize) -> &'a Applied {
    match &e.results[i].outcome {
        Outcome::Applicable(a) => a,
        other => panic!("redeemable {i} ({}) is not applicable: {other:?}", e.results[i].id),
    }
}

/// Item discounts of a result, as (line, amount) pairs sorted by line.
pub fn item_amounts(a: &Applied) -> Vec<(usize, i64)> {
    let mut v: Vec<(usize, i64)> = a.item_discounts.iter().map(|l| (l.line, l.amount)).collect();
    v.sort();
    v
}

/// `{"applicable_to": {"included": [products…]}}` as a validation rule.
pub fn applicable_to(products: &[&str]) -> Value {
    let included: Vec<Value> = products
        .iter()
        .map(|p| serde_json::json!({"object": "product", "id": p, "effect": "APPLY_TO_EVERY"}))
        .collect();
    serde_json::json!({"rules": {}, "applicable_to": {"included": included}})
}
