//! Stacking: the reference's 5-redeemable example, and every SKIPPED / INAPPLICABLE key.

use crate::support::*;
use promo_engine::ErrorKey;
use promo_engine::redeemable::{Benefit, Category, Redeemable, RedeemableObject};
use promo_engine::rules::{CounterKey, CounterMetric};
use promo_engine::schedule::{Schedule, ScheduleDef};
use promo_engine::stacking::{
    ApplicationMode, NoEffectRule, Outcome, ProductsApplicationMode, SkipReason, SortingRule, StackingRules,
};
use serde_json::json;

#[test]
fn reference_five_redeemable_example_applies_in_sequence() {
    let voucher_items = voucher("GNcuPKGe", json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS"}));
    let loyalty = Redeemable::new("LOYALTY", RedeemableObject::Voucher, Benefit::LoyaltyCard { points: 4 });
    let gift = Redeemable::new("GIFT", RedeemableObject::Voucher, Benefit::Gift { amount: 20400 });
    let forty = tier("promo_40", json!({"type": "PERCENT", "percent_off": 40, "effect": "APPLY_TO_ORDER"}));
    let thirty = tier("promo_30", json!({"type": "AMOUNT", "amount_off": 30, "effect": "APPLY_TO_ORDER"}));
    let cart = order(vec![item("prod_1", 1, 2000), item("prod_2", 1, 700)]);
    let w = World::new();
    let requested = vec![
        promo_engine::Requested::Found { redeemable: &voucher_items, options: Default::default() },
        promo_engine::Requested::Found { redeemable: &loyalty, options: Default::default() },
        promo_engine::Requested::Found {
            redeemable: &gift,
            options: promo_engine::RedeemOptions { gift_credits: Some(100), points: None },
        },
        promo_engine::Requested::Found { redeemable: &forty, options: Default::default() },
        promo_engine::Requested::Found { redeemable: &thirty, options: Default::default() },
    ];
    let e = promo_engine::evaluate_stack(
        &requested,
        &cart,
        &StackingRules::default(),
        &w.env(),
        promo_engine::StackOptions { snapshots: true, allocations: true },
    )
    .unwrap();
    assert!(e.valid);

    // 1. 1000 off each item, capped at the 700 item: 1700 off.
    let a = applied(&e, 0);
    assert_eq!(item_amounts(a), vec![(0, 1000), (1, 700)]);
    let s = a.order.as_ref().unwrap();
    assert_eq!((s.items_discount_amount, s.total_amount), (1700, 1000));
    // 2. The loyalty card changes nothing.
    assert_eq!(applied(&e, 1).discount, 0);
    // 3. Gift credits 100 at order level.
    let s = applied(&e, 2).order.as_ref().unwrap();
    assert_eq!((s.discount_amount, s.total_amount), (100, 900));
    assert_eq!(applied(&e, 2).gift, Some((100, 20300)));
    // 4. 40% of the discounted 900 is 360.
    let s = applied(&e, 3).order.as_ref().unwrap();
    assert_eq!(
        (s.applied_discount_amount, s.discount_amount, s.total_discount_amount, s.total_amount),
        (360, 460, 2160, 540)
    );
    // 5. Then 30 off.
    let s = applied(&e, 4).order.as_ref().unwrap();
    assert_eq!((s.applied_discount_amount, s.discount_amount, s.total_amount), (30, 490, 510));
    // Root order.
    let o = &e.order;
    assert_eq!(
        (o.amount, o.discount_amount, o.items_discount_amount, o.total_discount_amount, o.total_amount),
        (2700, 490, 1700, 2190, 510)
    );
    assert_eq!(
        (o.applied_discount_amount, o.items_applied_discount_amount, o.total_applied_discount_amount),
        (490, 1700, 2190)
    );
}

#[test]
fn second_reference_example_gift_then_percent_then_amount() {
    let gift = Redeemable::new("GIFT", RedeemableObject::Voucher, Benefit::Gift { amount: 100000 });
    let twenty = tier("promo_20", json!({"type": "PERCENT", "percent_off": 20}));
    let eighty = tier("promo_80", json!({"type": "AMOUNT", "amount_off": 8000}));
    let w = World::new();
    let requested = vec![
        promo_engine::Requested::Found {
            redeemable: &gift,
            options: promo_engine::RedeemOptions { gift_credits: Some(100), points: None },
        },
        promo_engine::Requested::Found { redeemable: &twenty, options: Default::default() },
        promo_engine::Requested::Found { redeemable: &eighty, options: Default::default() },
    ];
    let cart = promo_engine::Order { amount: Some(200000), ..Default::default() };
    let e = promo_engine::evaluate_stack(&requested, &cart, &StackingRules::default(), &w.env(), Default::default())
        .unwrap();
    assert_eq!((e.order.discount_amount, e.order.total_amount), (48080, 151920));
    assert_eq!(applied(&e, 1).discount, 39980);
}

fn skip_of(e: &promo_engine::StackedEvaluation<'_>, id: &str) -> Option<SkipReason> {
    e.results.iter().find(|r| r.id == id).and_then(|r| match r.outcome {
        Outcome::Skipped(s) => Some(s),
        _ => None,
    })
}

fn error_of(e: &promo_engine::StackedEvaluation<'_>, id: &str) -> Option<ErrorKey> {
    e.results.iter().find(|r| r.id == id).and_then(|r| match &r.outcome {
        Outcome::Inapplicable(x) => Some(x.key),
        _ => None,
    })
}

fn cat(id: &str, hierarchy: i64) -> Category {
    Category { id: id.into(), name: id.into(), hierarchy, created_at: None }
}

fn ten(id: &str, cats: &[Category]) -> Redeemable {
    let mut r = voucher(id, json!({"type": "AMOUNT", "amount_off": 100}));
    r.categories = cats.to_vec();
    r
}

fn cart() -> promo_engine::Order {
    order(vec![item("a", 1, 10000)])
}

#[test]
fn applicable_limit_skips_the_rest() {
    let (a, b) = (ten("A", &[]), ten("B", &[]));
    let rules = StackingRules { applicable_redeemables_limit: 1, ..Default::default() };
    let e = World::new().stack(&[&a, &b], &cart(), &rules);
    assert_eq!(skip_of(&e, "B"), Some(SkipReason::ApplicableRedeemablesLimitExceeded));
    assert_eq!(SkipReason::ApplicableRedeemablesLimitExceeded.key(), Some("applicable_redeemables_limit_exceeded"));
}

#[test]
fn per_category_limit_skips_a_second_from_the_same_category() {
    let (a, b, c) = (ten("A", &[cat("cat_x", 1)]), ten("B", &[cat("cat_x", 1)]), ten("C", &[cat("cat_y", 1)]));
    let e = World::new().stack(&[&a, &b, &c], &cart(), &StackingRules::default());
    assert_eq!(skip_of(&e, "B"), Some(SkipReason::ApplicableRedeemablesPerCategoryLimitExceeded));
    assert_eq!(skip_of(&e, "C"), None);
    // A per-category override lifts it.
    let rules = StackingRules {
        applicable_redeemables_category_limits: [("cat_x".to_string(), 2)].into(),
        ..Default::default()
    };
    let e = World::new().stack(&[&a, &b], &cart(), &rules);
    assert_eq!(skip_of(&e, "B"), None);
}

#[test]
fn exclusive_category_wins_regardless_of_order() {
    let (common, exclusive) = (ten("COMMON", &[cat("cat_c", 1)]), ten("EXCL", &[cat("cat_e", 1)]));
    let rules = StackingRules { exclusive_categories: vec!["cat_e".into()], ..Default::default() };
    let e = World::new().stack(&[&common, &exclusive], &cart(), &rules);
    assert_eq!(skip_of(&e, "COMMON"), Some(SkipReason::ExclusionRulesNotMet));
    assert!(matches!(e.results.iter().find(|r| r.id == "EXCL").unwrap().outcome, Outcome::Applicable(_)));
    assert_eq!(e.order.total_discount_amount, 100);
}

#[test]
fn joint_category_stacks_with_exclusive() {
    let (joint, exclusive) = (ten("JOINT", &[cat("cat_j", 1)]), ten("EXCL", &[cat("cat_e", 1)]));
    let rules = StackingRules {
        exclusive_categories: vec!["cat_e".into()],
        joint_categories: vec!["cat_j".into()],
        ..Default::default()
    };
    let e = World::new().stack(&[&joint, &exclusive], &cart(), &rules);
    assert_eq!(e.order.total_discount_amount, 200);
    assert_eq!(e.results.last().unwrap().id, "JOINT", "joint always last");
}

#[test]
fn exclusive_limit_and_exclusive_per_category_limit() {
    let (a, b) = (ten("A", &[cat("cat_e", 1)]), ten("B", &[cat("cat_f", 1)]));
    let rules = StackingRules { exclusive_categories: vec!["cat_e".into(), "cat_f".into()], ..Default::default() };
    let e = World::new().stack(&[&a, &b], &cart(), &rules);
    assert_eq!(skip_of(&e, "B"), Some(SkipReason::ApplicableExclusiveRedeemablesLimitExceeded));

    let (c, d) = (ten("C", &[cat("cat_e", 1)]), ten("D", &[cat("cat_e", 1)]));
    let rules = StackingRules {
        exclusive_categories: vec!["cat_e".into()],
        applicable_exclusive_redeemables_limit: 2,
        ..Default::default()
    };
    let e = World::new().stack(&[&c, &d], &cart(), &rules);
    assert_eq!(skip_of(&e, "D"), Some(SkipReason::ApplicableExclusiveRedeemablesPerCategoryLimitExceeded));
}

#[test]
fn all_mode_fails_everything_after_an_inapplicable_one() {
    let (a, b) = (ten("A", &[]), ten("B", &[]));
    let mut disabled = ten("OFF", &[]);
    disabled.active = false;
    let rules = StackingRules { redeemables_application_mode: ApplicationMode::All, ..Default::default() };
    let e = World::new().stack(&[&a, &disabled, &b], &cart(), &rules);
    assert!(!e.valid);
    assert_eq!(error_of(&e, "OFF"), Some(ErrorKey::VoucherDisabled));
    assert_eq!(skip_of(&e, "B"), Some(SkipReason::PrecedingValidationFailed));
    assert_eq!(skip_of(&e, "A"), Some(SkipReason::RequestFailed), "nothing applies in ALL mode");
    assert_eq!(e.order.total_discount_amount, 0);
    assert!(e.claims.is_empty());
    assert!(!e.goes_ahead(&rules), "a redemption of it does not go ahead");
}

#[test]
fn partial_mode_applies_what_it_can() {
    let (a, b) = (ten("A", &[]), ten("B", &[]));
    let mut disabled = ten("OFF", &[]);
    disabled.active = false;
    let e = World::new().stack(&[&a, &disabled, &b], &cart(), &StackingRules::default());
    assert!(e.valid);
    assert_eq!(e.order.total_discount_amount, 200);
    assert!(e.goes_ahead(&StackingRules::default()));
    // nothing applicable: no redemption, PARTIAL or not
    let nothing = World::new().stack(&[&disabled], &cart(), &StackingRules::default());
    assert!(!nothing.goes_ahead(&StackingRules::default()));
}

#[test]
fn no_effect_rule_skip_reports_no_effect() {
    let nothing = with_rules(
        voucher("NONE", json!({"type": "AMOUNT", "amount_off": 100, "effect": "APPLY_TO_ITEMS"})),
        applicable_to(&["absent"]),
    );
    let rules = StackingRules { redeemables_no_effect_rule: NoEffectRule::Skip, ..Default::default() };
    let e = World::new().stack(&[&nothing], &cart(), &rules);
    assert_eq!(skip_of(&e, "NONE"), Some(SkipReason::NoEffect));
    let e = World::new().stack(&[&nothing], &cart(), &StackingRules::default());
    assert!(matches!(e.results[0].outcome, Outcome::Applicable(_)), "REDEEM_ANYWAY by default");
}

#[test]
fn products_application_mode_once_lets_one_discount_touch_a_product() {
    let a = voucher("A", json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"}));
    let b = voucher("B", json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"}));
    let rules =
        StackingRules { redeemables_products_application_mode: ProductsApplicationMode::Once, ..Default::default() };
    let e = World::new().stack(&[&a, &b], &cart(), &rules);
    assert_eq!(e.order.items_discount_amount, 1000);
    let e = World::new().stack(&[&a, &b], &cart(), &StackingRules::default());
    assert_eq!(e.order.items_discount_amount, 1900, "STACK: 10% then 10% of the rest");
}

#[test]
fn category_hierarchy_orders_application() {
    let pct = {
        let mut r = voucher("PCT", json!({"type": "PERCENT", "percent_off": 10}));
        r.categories = vec![cat("cat_1", 1)];
        r
    };
    let amt = {
        let mut r = voucher("AMT", json!({"type": "AMOUNT", "amount_off": 1000}));
        r.categories = vec![cat("cat_0", 0)];
        r
    };
    let rules = StackingRules { redeemables_sorting_rule: SortingRule::CategoryHierarchy, ..Default::default() };
    let e = World::new().stack(&[&pct, &amt], &cart(), &rules);
    assert_eq!(e.results[0].id, "AMT");
    // 10000 − 1000 = 9000, then 10% = 900.
    assert_eq!(e.order.total_discount_amount, 1900);
}

#[test]
fn initial_amount_mode_reads_the_undiscounted_amount() {
    let a = voucher("A", json!({"type": "PERCENT", "percent_off": 10}));
    let b = voucher("B", json!({"type": "PERCENT", "percent_off": 20}));
    let rules = StackingRules {
        discount_calculation_mode: promo_engine::stacking::DiscountCalculationMode::InitialAmount,
        ..Default::default()
    };
    assert_eq!(World::new().stack(&[&a, &b], &cart(), &rules).order.total_discount_amount, 3000);
    assert_eq!(World::new().stack(&[&a, &b], &cart(), &StackingRules::default()).order.total_discount_amount, 2800);
}

#[test]
fn request_errors_are_typed() {
    let a = ten("A", &[]);
    let w = World::new();
    let found = |r| promo_engine::Requested::Found { redeemable: r, options: Default::default() };
    let run = |req: Vec<promo_engine::Requested<'_>>| {
        promo_engine::evaluate_stack(&req, &cart(), &StackingRules::default(), &w.env(), Default::default()).map(|_| ())
    };
    use promo_engine::stacking::RequestError;
    assert_eq!(run(vec![]), Err(RequestError::Empty));
    assert_eq!(run(vec![found(&a), found(&a)]), Err(RequestError::Duplicated));
    assert_eq!(
        run(vec![found(&a), promo_engine::Requested::Stack { id: "stack_1".into(), tiers: vec![] }]),
        Err(RequestError::StackWithOthers)
    );
    let many: Vec<_> = (0..31).map(|_| found(&a)).collect();
    assert_eq!(run(many), Err(RequestError::TooMany(30)));
}

#[test]
fn a_promotion_stack_expands_to_its_tiers() {
    let (t1, t2) = (
        tier("promo_1", json!({"type": "AMOUNT", "amount_off": 100})),
        tier("promo_2", json!({"type": "AMOUNT", "amount_off": 200})),
    );
    let w = World::new();
    let req = vec![promo_engine::Requested::Stack { id: "stack_1".into(), tiers: vec![&t1, &t2] }];
    let e =
        promo_engine::evaluate_stack(&req, &cart(), &StackingRules::default(), &w.env(), Default::default()).unwrap();
    assert_eq!(e.results.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec!["promo_1", "promo_2"]);
    assert_eq!(e.order.total_discount_amount, 300);
}

fn window(start: Option<&str>, end: Option<&str>) -> Schedule {
    let p = |s: Option<&str>| s.map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc));
    Schedule::compile(&ScheduleDef { start_date: p(start), expiration_date: p(end), ..Default::default() }, "").unwrap()
}

#[test]
fn every_inapplicable_key() {
    let mut w = World::new();
    let mut disabled = ten("DISABLED", &[]);
    disabled.active = false;
    let mut tier_off = tier("promo_off", json!({"type": "AMOUNT", "amount_off": 1}));
    tier_off.active = false;
    let mut expired = ten("EXPIRED", &[]);
    expired.schedule = window(Some("2020-01-01T00:00:00Z"), Some("2021-01-01T00:00:00Z"));
    let mut future = ten("FUTURE", &[]);
    future.schedule = window(Some("2030-01-01T00:00:00Z"), None);
    let mut not_now = ten("NOTNOW", &[]);
    not_now.schedule =
        Schedule::compile(&ScheduleDef { validity_day_of_week: Some(vec![1]), ..Default::default() }, "").unwrap();
    let mut tier_later = tier("promo_later", json!({"type": "AMOUNT", "amount_off": 1}));
    tier_later.schedule = window(Some("2030-01-01T00:00:00Z"), None);
    let mut used_up = ten("USEDUP", &[]);
    used_up.quantity = Some(1);
    w.counters.insert(CounterKey::voucher_quantity("USEDUP"), 1);
    let segment = with_rules(
        ten("SEGMENT", &[]),
        json!({"rules": {"1": {"name": "customer.segment", "conditions": {"$is": ["seg_vip"]}}}}),
    );
    let big_order = with_rules(
        ten("BIG", &[]),
        json!({"rules": {"1": {"name": "order.amount", "conditions": {"$more_than": [1000000]}}}}),
    );
    let meta = with_rules(
        ten("META", &[]),
        json!({"rules": {"1": {"name": "redemption.metadata", "property": "channel", "conditions": {"$is": ["pos"]}}}}),
    );
    let gift = Redeemable::new("GIFTX", RedeemableObject::Voucher, Benefit::Gift { amount: 50 });
    w.customer = Some(promo_engine::Customer {
        id: Some("cust_1".into()),
        segments: vec!["seg_regular".into()],
        ..Default::default()
    });

    let all = [&disabled, &tier_off, &expired, &future, &not_now, &tier_later, &used_up, &segment, &big_order, &meta];
    let e = w.stack(&all, &cart(), &StackingRules { redeemables_limit: 30, ..Default::default() });
    let expect = [
        ("DISABLED", ErrorKey::VoucherDisabled),
        ("promo_off", ErrorKey::PromotionInactive),
        ("EXPIRED", ErrorKey::VoucherExpired),
        ("FUTURE", ErrorKey::VoucherNotActive),
        ("NOTNOW", ErrorKey::VoucherNotActiveNow),
        ("promo_later", ErrorKey::PromotionNotActiveNow),
        ("USEDUP", ErrorKey::QuantityExceeded),
        ("SEGMENT", ErrorKey::CustomerRulesViolated),
        ("BIG", ErrorKey::OrderRulesViolated),
        ("META", ErrorKey::RedemptionRulesViolated),
    ];
    for (id, key) in expect {
        assert_eq!(error_of(&e, id), Some(key), "{id}");
    }

    let gift_req = vec![promo_engine::Requested::Found {
        redeemable: &gift,
        options: promo_engine::RedeemOptions { gift_credits: Some(100), points: None },
    }];
    let e = promo_engine::evaluate_stack(&gift_req, &cart(), &StackingRules::default(), &w.env(), Default::default())
        .unwrap();
    assert_eq!(error_of(&e, "GIFTX"), Some(ErrorKey::GiftAmountExceeded));

    let missing = vec![promo_engine::Requested::NotFound { id: "NOPE".into(), object: RedeemableObject::Voucher }];
    let e = promo_engine::evaluate_stack(&missing, &cart(), &StackingRules::default(), &w.env(), Default::default())
        .unwrap();
    match &e.results[0].outcome {
        Outcome::Inapplicable(r) => {
            assert_eq!((r.key, r.details.as_str()), (ErrorKey::NotFound, "Cannot find voucher with id NOPE"))
        }
        other => panic!("{other:?}"),
    }

    w.customer = None;
    let e = w.stack(&[&segment], &cart(), &StackingRules::default());
    assert_eq!(error_of(&e, "SEGMENT"), Some(ErrorKey::MissingCustomer));
}

#[test]
fn claims_name_every_limited_counter_in_a_stable_order() {
    let mut w = World::new();
    w.customer = Some(promo_engine::Customer { id: Some("cust_1".into()), ..Default::default() });
    let mut v = with_rules(
        ten("LIM", &[]),
        json!({"rules": {
            "1": {"name": "redemption.count.per_customer", "conditions": {"$less_than_or_equal": [2]}},
            "2": {"name": "campaign.orders.amount_discounted", "conditions": {"$less_than_or_equal": [50000]}},
            "3": {"name": "redemption.count.daily", "conditions": {"$less_than": [10]}}
        }}),
    );
    v.quantity = Some(100);
    v.campaign_id = Some("camp_1".into());
    let e = w.stack(&[&v], &cart(), &StackingRules::default());
    let claims: Vec<(String, i64, Option<i64>)> =
        e.claims.iter().map(|c| (c.key.to_string(), c.delta, c.limit)).collect();
    assert_eq!(
        claims,
        vec![
            ("campaign:camp_1||discounted_amount|total".to_string(), 100, Some(50000)),
            ("redeemable:LIM||redemptions|day:2026-11-21".to_string(), 1, Some(9)),
            ("redeemable:LIM||redemptions|total".to_string(), 1, Some(100)),
            ("redeemable:LIM|customer:cust_1|redemptions|total".to_string(), 1, Some(2)),
        ]
    );
    // The per-customer counter at its limit blocks the redemption.
    w.counters.insert(e.claims[3].key.clone(), 2);
    let e = w.stack(&[&v], &cart(), &StackingRules::default());
    assert_eq!(error_of(&e, "LIM"), Some(ErrorKey::RedemptionRulesViolated));
    // A budget counter that this discount would overflow blocks it too.
    w.counters.clear();
    w.counters.insert(
        promo_engine::CounterKey {
            subject: "campaign:camp_1".into(),
            per: String::new(),
            metric: CounterMetric::DiscountedAmount,
            period: "total".into(),
        },
        49950,
    );
    let e = w.stack(&[&v], &cart(), &StackingRules::default());
    assert_eq!(error_of(&e, "LIM"), Some(ErrorKey::RedemptionRulesViolated));
}

/// A counter claimed out from under a redemption: a voucher's own quantity reads as
/// `quantity_exceeded`, any rule's limit as `redemption_rules_violated` naming the limit.
#[test]
fn an_exhausted_counter_says_which_limit_ran_out() {
    use promo_engine::redeemable::Rejection;
    use promo_engine::rules::{CounterKey, CounterMetric};
    let quantity = CounterKey::voucher_quantity("v_1");
    assert!(quantity.is_voucher_quantity());
    let r = Rejection::exhausted(&quantity, "v_1");
    assert_eq!((r.key.as_str(), r.details.as_str()), ("quantity_exceeded", "v_1"));
    let daily = CounterKey { period: "day:2026-12-04".into(), ..quantity.clone() };
    let per_customer = CounterKey { per: "customer:c_1".into(), ..quantity.clone() };
    let budget = CounterKey { metric: CounterMetric::DiscountedAmount, ..quantity };
    for key in [daily, per_customer, budget] {
        assert!(!key.is_voucher_quantity(), "{key}");
        let r = Rejection::exhausted(&key, "v_1");
        assert_eq!(r.key.as_str(), "redemption_rules_violated");
        assert!(r.details.contains(&key.to_string()));
    }
}
