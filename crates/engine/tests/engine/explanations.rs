//! Rules: logic, the catalogue, nested item rules, explanations and definition errors.

use crate::support::*;
use promo_engine::error::DefinitionErrorKind;
use promo_engine::rules::{RuleSet, Shortfall, ValidationRuleDef};
use promo_engine::stacking::{Outcome, StackingRules};
use promo_engine::{ErrorKey, ItemRef};
use serde_json::{Value, json};

fn compile(v: Value) -> Result<RuleSet, promo_engine::DefinitionError> {
    RuleSet::compile(&serde_json::from_value::<ValidationRuleDef>(v).unwrap(), None)
}

fn rejection(w: &World, rule: Value, cart: &promo_engine::Order) -> Option<promo_engine::redeemable::Rejection> {
    let v = with_rules(voucher("V", json!({"type": "AMOUNT", "amount_off": 100})), rule);
    let e = w.stack(&[&v], cart, &StackingRules::default());
    match &e.results[0].outcome {
        Outcome::Inapplicable(r) => Some(r.clone()),
        _ => None,
    }
}

#[test]
fn spend_more_nudge_says_how_much() {
    let r = rejection(
        &World::new(),
        json!({"rules": {"1": {"name": "order.amount", "conditions": {"$more_than_or_equal": [5000]}}}}),
        &order(vec![item("a", 1, 3750)]),
    )
    .unwrap();
    assert_eq!(r.key, ErrorKey::OrderRulesViolated);
    let s = r.failures[0].shortfall.as_ref().unwrap();
    assert_eq!(s, &Shortfall { metric: "order.amount".into(), target: None, needed: 1250 });
    assert_eq!(s.to_string(), "order.amount needs +1250");
}

#[test]
fn collection_quantity_nudge_names_the_collection() {
    let mut w = World::new();
    w.catalog.add_static(
        "pc_summer",
        vec![
            ItemRef::Product { id: Some("hat".into()), source_id: None },
            ItemRef::Product { id: Some("towel".into()), source_id: None },
        ],
    );
    let rule = json!({"rules": {"1": {
        "name": "order.items.any",
        "conditions": {"$is": [{"id": "pc_summer", "type": "products_collection", "object": "products_collection"}]},
        "rules": {"1": {"name": "order.items.aggregated_quantity", "conditions": {"$more_than_or_equal": [3]}}, "logic": "1"}
    }}});
    let r =
        rejection(&w, rule.clone(), &order(vec![item("hat", 1, 1000), item("towel", 1, 1000), item("shoe", 4, 1000)]))
            .unwrap();
    let s = r.failures[0].shortfall.as_ref().unwrap();
    assert_eq!(s.to_string(), "1 more item from pc_summer");
    assert!(rejection(&w, rule, &order(vec![item("hat", 2, 1000), item("towel", 1, 1000)])).is_none());
}

#[test]
fn logic_combines_rules_with_and_or_not() {
    let rule = json!({"rules": {
        "1": {"name": "order.amount", "conditions": {"$more_than": [10000]}},
        "2": {"name": "order.metadata", "property": "channel", "conditions": {"$is": ["web"]}},
        "3": {"name": "order.items.count", "conditions": {"$more_than_or_equal": [3]}},
        "logic": "(1 AND 2) or (3 and not 2)"
    }});
    let mut web_big = order(vec![item("a", 1, 20000)]);
    web_big.metadata.insert("channel".into(), json!("web"));
    assert!(rejection(&World::new(), rule.clone(), &web_big).is_none());
    let pos_three = order(vec![item("a", 3, 100)]);
    assert!(rejection(&World::new(), rule.clone(), &pos_three).is_none());
    let mut web_three = order(vec![item("a", 3, 100)]);
    web_three.metadata.insert("channel".into(), json!("web"));
    let r = rejection(&World::new(), rule, &web_three).unwrap();
    // The cheaper branch to fix is (1 and 2): spend 9701 more.
    assert_eq!(r.failures.len(), 1);
    assert_eq!(r.failures[0].shortfall.as_ref().unwrap().needed, 9701);
}

#[test]
fn custom_messages_surface_per_rule_and_as_fallback() {
    let rule = json!({
        "error": {"message": "fallback"},
        "rules": {
            "1": {"name": "order.amount", "conditions": {"$more_than": [100]}, "error": {"message": "Spend more than $1"}},
            "2": {"name": "order.items.count", "conditions": {"$more_than": [5]}}
        }
    });
    let r = rejection(&World::new(), rule, &order(vec![item("a", 1, 50)])).unwrap();
    assert_eq!(r.rule_message.as_deref(), Some("Spend more than $1"));
    assert_eq!(r.failures[1].message.as_deref(), Some("fallback"));
    assert_eq!(r.details, "Discount Coupon cannot be redeemed because of violated validation rules: val_test");
}

#[test]
fn item_structure_rules_any_every_none() {
    let has = |name: &str| json!({"rules": {"1": {"name": name, "conditions": {"$is": ["a", "b"]}}}});
    let cart = order(vec![item("a", 1, 100)]);
    assert!(rejection(&World::new(), has("order.items.any"), &cart).is_none());
    assert!(rejection(&World::new(), has("order.items.every"), &cart).is_some());
    assert!(rejection(&World::new(), has("order.items.none"), &cart).is_some());
    assert!(rejection(&World::new(), has("order.items.none"), &order(vec![item("c", 1, 100)])).is_none());
    assert!(rejection(&World::new(), has("product.id"), &cart).is_none());
    let cheapest = json!({"rules": {"1": {"name": "order.items.cheapest", "conditions": {"$is": ["a"]}}}});
    assert!(rejection(&World::new(), cheapest.clone(), &order(vec![item("a", 1, 100), item("b", 1, 200)])).is_none());
    assert!(rejection(&World::new(), cheapest, &order(vec![item("a", 1, 300), item("b", 1, 200)])).is_some());
}

#[test]
fn customer_metadata_and_price_rules() {
    let mut w = World::new();
    w.customer = Some(promo_engine::Customer {
        id: Some("c".into()),
        metadata: json!({"club": "gold", "age": 30}).as_object().unwrap().clone(),
        ..Default::default()
    });
    let rule = json!({"rules": {
        "1": {"name": "customer.metadata", "property": "club", "conditions": {"$in": ["gold", "silver"]}},
        "2": {"name": "customer.metadata", "property": "age", "conditions": {"$more_than_or_equal": [18]}},
        "3": {"name": "order.items.price_each", "conditions": {"$less_than": [5000]}}
    }});
    assert!(rejection(&w, rule.clone(), &order(vec![item("a", 1, 100), item("b", 1, 4999)])).is_none());
    assert!(rejection(&w, rule, &order(vec![item("a", 1, 100), item("b", 1, 5000)])).is_some());
}

#[test]
fn linked_customer_rule_needs_the_holder() {
    let mut w = World::new();
    w.customer = Some(promo_engine::Customer { id: Some("cust_holder".into()), ..Default::default() });
    let mut v = with_rules(
        voucher("V", json!({"type": "AMOUNT", "amount_off": 100})),
        json!({"rules": {"1": {"name": "publication.redeemable_by_linked_customer", "conditions": {"$is": [true]}}}}),
    );
    v.holder_id = Some("cust_holder".into());
    let e = w.stack(&[&v], &order(vec![item("a", 1, 1000)]), &StackingRules::default());
    assert!(matches!(e.results[0].outcome, Outcome::Applicable(_)));
    w.customer = Some(promo_engine::Customer { id: Some("cust_other".into()), ..Default::default() });
    let e = w.stack(&[&v], &order(vec![item("a", 1, 1000)]), &StackingRules::default());
    assert!(matches!(e.results[0].outcome, Outcome::Inapplicable(_)));
}

#[test]
fn bad_definitions_are_rejected_with_their_path() {
    let e = compile(json!({"rules": {"1": {"name": "order.bogus", "conditions": {"$is": [1]}}}})).unwrap_err();
    assert_eq!((e.path.as_str(), e.kind), ("rules.1.name", DefinitionErrorKind::UnknownRuleName("order.bogus".into())));

    let e = compile(
        json!({"rules": {"1": {"name": "order.amount", "conditions": {"$more_than": [1]}}, "logic": "1 and (2"}}),
    )
    .unwrap_err();
    assert_eq!(e.path, "rules.logic");
    assert!(matches!(e.kind, DefinitionErrorKind::MalformedLogic { .. }));

    let e = compile(
        json!({"rules": {"1": {"name": "order.amount", "conditions": {"$more_than": [1]}}, "logic": "1 or 2"}}),
    )
    .unwrap_err();
    assert_eq!(e.path, "rules.logic");

    let e = compile(json!({"rules": {"1": {"name": "customer.metadata", "conditions": {"$is": ["x"]}}}})).unwrap_err();
    assert_eq!(
        (e.path.as_str(), e.kind),
        ("rules.1.property", DefinitionErrorKind::MissingProperty("customer.metadata".into()))
    );

    let e = compile(json!({"rules": {"1": {"name": "order.items.any", "conditions": {"$is": ["a"]}, "rules": {"1": {"name": "order.items.quantity", "conditions": {"$wat": [1]}}}}}})).unwrap_err();
    assert_eq!(e.path, "rules.1.rules.1.conditions.$wat");

    let e =
        compile(json!({"rules": {}, "applicable_to": {"included": [{"object": "product", "id": "a", "price": -1}]}}))
            .unwrap_err();
    assert_eq!(e.path, "applicable_to.included[0].price");
}

#[test]
fn required_refs_drive_indexing() {
    let r = compile(json!({"rules": {
        "1": {"name": "order.amount", "conditions": {"$more_than": [1]}},
        "2": {"name": "order.items.any", "conditions": {"$is": ["prod_a", "pc_x"]}}
    }}))
    .unwrap();
    assert_eq!(
        r.required_refs(),
        // `prod_a` is not one of our ids (prod_ and 32 hex digits): the storefront's, so also a
        // source id
        vec![
            ItemRef::Product { id: Some("prod_a".into()), source_id: Some("prod_a".into()) },
            ItemRef::Collection { id: "pc_x".into() }
        ]
    );
    let r = compile(json!({"rules": {
        "1": {"name": "order.amount", "conditions": {"$more_than": [1]}},
        "2": {"name": "order.items.any", "conditions": {"$is": ["prod_a"]}},
        "logic": "1 or 2"
    }}))
    .unwrap();
    assert!(r.required_refs().is_empty(), "an OR does not require the product");
}
