//! Qualification, tiered thresholds, buy-X-get-Y, and the candidate index.

use crate::support::*;
use promo_engine::qualify::{QualificationSorting, QualifyOptions, qualify};
use promo_engine::stacking::StackingRules;
use promo_engine::{ItemRef, QualificationIndex, Redeemable};
use serde_json::json;
use std::sync::Arc;

fn spend_tier(id: &str, min: i64, percent: i64, hierarchy: i64) -> Redeemable {
    let mut t = with_rules(
        tier(id, json!({"type": "PERCENT", "percent_off": percent})),
        json!({"rules": {"1": {"name": "order.amount", "conditions": {"$more_than_or_equal": [min]}}}}),
    );
    t.campaign_id = Some("camp_tiers".into());
    t.hierarchy = hierarchy;
    t
}

fn tiers() -> QualificationIndex {
    QualificationIndex::new(vec![
        Arc::new(spend_tier("promo_gold", 10000, 10, 1)),
        Arc::new(spend_tier("promo_silver", 5000, 5, 2)),
    ])
}

#[test]
fn spend_fifty_gets_five_percent_and_a_nudge_towards_ten() {
    let w = World::new();
    let index = tiers();
    let q = qualify(
        &index,
        &order(vec![item("a", 1, 6000)]),
        &w.env(),
        QualifyOptions { near_misses: true, best_tier_per_campaign: true, ..Default::default() },
    )
    .unwrap();
    assert_eq!(
        q.qualified.iter().map(|q| (q.redeemable.id.as_str(), q.discount)).collect::<Vec<_>>(),
        vec![("promo_silver", 300)]
    );
    assert_eq!(q.near_misses.len(), 1);
    assert_eq!(q.near_misses[0].redeemable.id, "promo_gold");
    assert_eq!(q.near_misses[0].missing[0].shortfall.as_ref().unwrap().to_string(), "order.amount needs +4000");
}

#[test]
fn spend_a_hundred_gets_the_highest_tier_only() {
    let w = World::new();
    let index = tiers();
    let q = qualify(
        &index,
        &order(vec![item("a", 1, 12000)]),
        &w.env(),
        QualifyOptions { best_tier_per_campaign: true, ..Default::default() },
    )
    .unwrap();
    assert_eq!(
        q.qualified.iter().map(|q| (q.redeemable.id.as_str(), q.discount)).collect::<Vec<_>>(),
        vec![("promo_gold", 1200)]
    );
    let all = qualify(
        &index,
        &order(vec![item("a", 1, 12000)]),
        &w.env(),
        QualifyOptions { sorting: QualificationSorting::LeastDeal, ..Default::default() },
    )
    .unwrap();
    assert_eq!(all.qualified.iter().map(|q| q.discount).collect::<Vec<_>>(), vec![600, 1200]);
}

#[test]
fn buy_two_get_one_free_adds_the_third() {
    let bogo = with_rules(
        voucher(
            "B2G1",
            json!({"type": "UNIT", "unit_off": 1, "unit_type": "soap", "effect": "ADD_NEW_ITEMS", "product": {"id": "soap", "price": 500}}),
        ),
        json!({"rules": {"1": {"name": "order.items.any", "conditions": {"$is": ["soap"]}, "rules": {"1": {"name": "order.items.quantity", "conditions": {"$more_than_or_equal": [2]}}}}}}),
    );
    let w = World::new();
    let e = w.stack(&[&bogo], &order(vec![item("soap", 2, 500)]), &StackingRules::default());
    assert_eq!((e.order.items[0].quantity, e.order.amount, e.order.total_amount), (3, 1500, 1000));
    let e = w.stack(&[&bogo], &order(vec![item("soap", 1, 500)]), &StackingRules::default());
    assert!(!e.valid, "one soap is not enough");
}

#[test]
fn buy_three_cheapest_is_free() {
    let mut w = World::new();
    w.catalog.add_static(
        "pc_shirts",
        ["a", "b", "c"].iter().map(|p| ItemRef::Product { id: Some((*p).into()), source_id: None }).collect(),
    );
    let promo = with_rules(
        voucher("3FOR2", json!({"type": "PERCENT", "percent_off": 100, "effect": "APPLY_TO_ITEMS"})),
        json!({
            "rules": {"1": {"name": "order.items.any", "conditions": {"$is": [{"id": "pc_shirts", "object": "products_collection"}]},
                             "rules": {"1": {"name": "order.items.aggregated_quantity", "conditions": {"$more_than_or_equal": [3]}}}}},
            "applicable_to": {"included": [{"object": "products_collection", "id": "pc_shirts", "effect": "APPLY_TO_CHEAPEST"}]}
        }),
    );
    let e = w.stack(
        &[&promo],
        &order(vec![item("a", 1, 1000), item("b", 1, 700), item("c", 1, 1200)]),
        &StackingRules::default(),
    );
    assert_eq!(e.order.items_discount_amount, 700);
    assert_eq!(e.order.items[1].discount_amount, 700);
    let e = w.stack(&[&promo], &order(vec![item("a", 1, 1000), item("b", 1, 700)]), &StackingRules::default());
    assert!(!e.valid);
}

#[test]
fn every_third_unit_free_by_formula() {
    let promo = voucher(
        "EVERY3",
        json!({"type": "UNIT", "unit_off_formula": "FLOOR(ORDER_UNITS_QUANTITY / 3; 0)", "unit_type": "soap", "effect": "ADD_MISSING_ITEMS"}),
    );
    let w = World::new();
    let e = w.stack(&[&promo], &order(vec![item("soap", 7, 500)]), &StackingRules::default());
    assert_eq!((e.order.items[0].discount_quantity, e.order.items_discount_amount), (2, 1000));
}

#[test]
fn the_index_evaluates_only_reachable_candidates() {
    let targeted = |id: &str, product: &str| {
        Arc::new(with_rules(
            tier(id, json!({"type": "AMOUNT", "amount_off": 100})),
            json!({"rules": {"1": {"name": "order.items.any", "conditions": {"$is": [product]}}}}),
        ))
    };
    let mut all = vec![Arc::new(tier("promo_any", json!({"type": "AMOUNT", "amount_off": 50})))];
    for i in 0..100 {
        all.push(targeted(&format!("promo_{i}"), &format!("prod_{i}")));
    }
    let index = QualificationIndex::new(all);
    let w = World::new();
    let q = qualify(
        &index,
        &order(vec![item("prod_7", 1, 1000), item("prod_42", 1, 1000)]),
        &w.env(),
        QualifyOptions { sorting: QualificationSorting::BestDeal, ..Default::default() },
    )
    .unwrap();
    assert_eq!(q.evaluated, 3);
    let mut ids: Vec<&str> = q.qualified.iter().map(|q| q.redeemable.id.as_str()).collect();
    assert_eq!(ids.remove(2), "promo_any", "best deal sorts the smaller discount last");
    let page = qualify(
        &index,
        &order(vec![item("prod_7", 1, 1000), item("prod_42", 1, 1000)]),
        &w.env(),
        QualifyOptions { sorting: QualificationSorting::LeastDeal, limit: Some(1), ..Default::default() },
    )
    .unwrap();
    assert_eq!(
        (page.qualified.len(), page.qualified[0].redeemable.id.as_str()),
        (3, "promo_any"),
        "the page is sorted, all are counted"
    );
    ids.sort();
    assert_eq!(ids, vec!["promo_42", "promo_7"]);
}

#[test]
fn audience_only_checks_the_customer_and_ignores_the_cart() {
    let mut w = World::new();
    w.customer =
        Some(promo_engine::Customer { id: Some("c".into()), segments: vec!["seg_vip".into()], ..Default::default() });
    let vip = Arc::new(with_rules(
        tier("promo_vip", json!({"type": "AMOUNT", "amount_off": 100})),
        json!({"rules": {"1": {"name": "customer.segment", "conditions": {"$is": ["seg_vip"]}}, "2": {"name": "order.amount", "conditions": {"$more_than": [100000]}}}}),
    ));
    let index = QualificationIndex::new(vec![vip]);
    let env = promo_engine::Environment { audience_only: true, ..w.env() };
    assert_eq!(
        qualify(&index, &order(vec![item("a", 1, 1000)]), &env, QualifyOptions::default()).unwrap().qualified.len(),
        1
    );
    assert_eq!(
        qualify(&index, &order(vec![item("a", 1, 1000)]), &w.env(), QualifyOptions::default()).unwrap().qualified.len(),
        0
    );
}

#[test]
fn scenarios_read_their_wire_names_and_say_what_they_look_at() {
    use promo_engine::Scenario;
    for s in Scenario::ALL {
        assert_eq!(Scenario::parse(s.as_str()), Some(s));
    }
    assert_eq!(Scenario::parse("all"), None, "names are case-sensitive, as Voucherify's");
    assert!(Scenario::All.wants_tiers() && Scenario::All.wants_wallet() && !Scenario::All.wants_stacks());
    assert!(!Scenario::CustomerWallet.wants_tiers() && Scenario::CustomerWallet.wants_wallet());
    assert!(Scenario::PromotionStacks.wants_stacks() && !Scenario::PromotionStacks.wants_tiers());
    assert!(Scenario::AudienceOnly.audience_only() && !Scenario::All.audience_only());
    assert!(!Scenario::Products.wants_wallet());
}

#[test]
fn a_qualification_page_is_ordered_by_deal_then_newest_then_id() {
    use promo_engine::{PageKey, QualificationSorting};
    use std::cmp::Ordering;
    let t = |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap();
    let a = PageKey { discount: 100, created_at: t(10), id: "a" };
    let b = PageKey { discount: 200, created_at: t(10), id: "b" };
    let newer = PageKey { discount: 100, created_at: t(20), id: "z" };
    assert_eq!(QualificationSorting::BestDeal.compare(b, a), Ordering::Less);
    assert_eq!(QualificationSorting::LeastDeal.compare(a, b), Ordering::Less);
    assert_eq!(QualificationSorting::Default.compare(newer, a), Ordering::Less, "newest first");
    // same deal, same millisecond: the id decides, so pages never skip or repeat an entry
    assert_eq!(QualificationSorting::Default.compare(a, b), Ordering::Less);
    assert_eq!(QualificationSorting::Default.compare(b, a), Ordering::Greater);
    assert_eq!(QualificationSorting::parse("BEST_DEAL"), Some(QualificationSorting::BestDeal));
    assert_eq!(QualificationSorting::parse("best"), None);
}
