//! Checkout end to end: validations, redemptions, rollbacks, sessions, idempotency,
//! qualifications and the ledger's listings.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

pub fn item(product: &str, quantity: i64, price: i64) -> Value {
    json!({"product_id": product, "quantity": quantity, "price": price})
}

/// A validation rule scoping the discount to products; returns its id.
pub async fn applicable_to(app: &TestApp, p: &Project, products: &[&str]) -> String {
    let included: Vec<Value> = products.iter().map(|id| json!({"object": "product", "id": id})).collect();
    let name = format!("only {}", products.join(","));
    let r = app.post(p, "/v1/validation-rules", json!({"name": name, "applicable_to": {"included": included}})).await;
    r.assert_status(StatusCode::OK);
    r.json()["id"].as_str().unwrap().to_owned()
}

/// A standalone code with this discount (and optional quantity / rule).
pub async fn voucher(
    app: &TestApp,
    p: &Project,
    code: &str,
    discount: Value,
    quantity: Option<i64>,
    rule: Option<&str>,
) {
    let mut body = json!({"type": "DISCOUNT_VOUCHER", "discount": discount, "redemption": {"quantity": quantity}});
    if let Some(r) = rule {
        body["validation_rules"] = json!([r]);
    }
    app.post(p, &format!("/v1/vouchers/{code}"), body).await.assert_status(StatusCode::OK);
}

/// A standalone code with this discount, no limit and no rule.
pub async fn code(app: &TestApp, p: &Project, code: &str, discount: Value) {
    voucher(app, p, code, discount, None, None).await;
}

/// A promotion campaign with these tiers; returns the tier ids in order.
pub async fn promotion(app: &TestApp, p: &Project, name: &str, tiers: Vec<Value>) -> Vec<String> {
    let r = app
        .post(p, "/v1/campaigns", json!({"name": name, "campaign_type": "PROMOTION", "promotion": {"tiers": tiers}}))
        .await;
    r.assert_status(StatusCode::OK);
    r.json()["promotion"]["tiers"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
}

pub fn tier(name: &str, discount: Value) -> Value {
    json!({"name": name, "action": {"discount": discount}})
}

fn order_fields(o: &Value) -> [i64; 9] {
    [
        "amount",
        "initial_amount",
        "discount_amount",
        "items_discount_amount",
        "total_discount_amount",
        "total_amount",
        "applied_discount_amount",
        "items_applied_discount_amount",
        "total_applied_discount_amount",
    ]
    .map(|k| o[k].as_i64().unwrap_or_else(|| panic!("order.{k} missing in {o}")))
}

pub fn item_discounts(o: &Value) -> Vec<i64> {
    o["items"].as_array().unwrap().iter().map(|i| i["discount_amount"].as_i64().unwrap_or(0)).collect()
}

#[tokio::test]
async fn discount_effect_seed_vectors_hold_through_the_api() {
    let app = TestApp::new().await;
    let p = app.project("Seed vectors").await;
    let pen_mug = applicable_to(&app, &p, &["pen", "mug"]).await;
    voucher(
        &app,
        &p,
        "PCT10",
        json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"}),
        None,
        Some(&pen_mug),
    )
    .await;
    voucher(
        &app,
        &p,
        "PROP-AMOUNT",
        json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS_PROPORTIONALLY"}),
        None,
        Some(&pen_mug),
    )
    .await;
    voucher(
        &app,
        &p,
        "PROP-QTY",
        json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY"}),
        None,
        Some(&pen_mug),
    )
    .await;
    let cart = json!({"items": [item("tshirt", 1, 3000), item("pen", 1, 2000), item("mug", 1, 1000)]});
    let qty_cart = json!({"items": [item("tshirt", 2, 3000), item("pen", 1, 2000), item("mug", 6, 1000)]});
    for (code, order, want) in [
        ("PCT10", &cart, vec![0, 200, 100]),
        ("PROP-AMOUNT", &cart, vec![0, 667, 333]),
        ("PROP-QTY", &qty_cart, vec![0, 143, 857]),
    ] {
        let r = app
            .post(&p, "/v1/validations", json!({"redeemables": [{"object": "voucher", "id": code}], "order": order}))
            .await;
        r.assert_status(StatusCode::OK);
        let v = r.json();
        assert_eq!(v["valid"], true, "{code}: {v}");
        assert_eq!(item_discounts(&v["order"]), want, "{code}");
        assert_eq!(v["order"]["items_discount_amount"], want.iter().sum::<i64>(), "{code}");
    }
}

#[tokio::test]
async fn stacked_validate_redeem_and_rollback_agree_on_every_order_total() {
    let app = TestApp::new().await;
    let p = app.project("Stacked").await;
    voucher(
        &app,
        &p,
        "TENOFF",
        json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS"}),
        Some(5),
        None,
    )
    .await;
    let tiers = promotion(
        &app,
        &p,
        "Summer",
        vec![
            tier("40% off", json!({"type": "PERCENT", "percent_off": 40, "effect": "APPLY_TO_ORDER"})),
            tier("30 off", json!({"type": "AMOUNT", "amount_off": 30, "effect": "APPLY_TO_ORDER"})),
        ],
    )
    .await;
    // the reference's example without gift and loyalty cards: 2000 + 700, 1000 off each item
    // (capped at 700), then 40% of the remaining 1000, then 30
    let body = json!({
        "redeemables": [{"object": "voucher", "id": "TENOFF"}, {"object": "promotion_tier", "id": tiers[0]},
                        {"object": "promotion_tier", "id": tiers[1]}],
        "order": {"source_id": "order-1", "items": [item("a", 1, 2000), item("b", 1, 700)]},
        "customer": {"source_id": "alice", "email": "alice@example.com"},
        "options": {"expand": ["order", "redeemable"]},
    });
    let v = app.post(&p, "/v1/validations", body.clone()).await;
    v.assert_status(StatusCode::OK);
    let v = v.json();
    assert_eq!(v["valid"], true, "{v}");
    // amount, initial, discount, items_discount, total_discount, total, applied, items_applied, total_applied
    let expected = [2700, 2700, 430, 1700, 2130, 570, 430, 1700, 2130];
    assert_eq!(order_fields(&v["order"]), expected);
    let snapshots: Vec<[i64; 9]> =
        v["redeemables"].as_array().unwrap().iter().map(|r| order_fields(&r["order"])).collect();
    assert_eq!(snapshots[0], [2700, 2700, 0, 1700, 1700, 1000, 0, 1700, 1700], "after the voucher");
    // cumulative totals; applied_* are this redeemable's own part
    assert_eq!(snapshots[1], [2700, 2700, 400, 1700, 2100, 600, 400, 0, 400], "40% of 1000");
    assert_eq!(snapshots[2], [2700, 2700, 430, 1700, 2130, 570, 30, 0, 30], "then 30");
    assert_eq!(v["redeemables"][1]["name"], "40% off", "expand redeemable names the tier");
    assert!(v["stacking_rules"]["redeemables_limit"].is_number());

    let r = app.post(&p, "/v1/redemptions", body).await;
    r.assert_status(StatusCode::OK);
    let r = r.json();
    assert_eq!(order_fields(&r["order"]), expected, "redemption computes what validation did");
    let parent = r["parent_redemption"]["id"].as_str().unwrap().to_owned();
    assert!(parent.starts_with("r_"));
    let children = r["redemptions"].as_array().unwrap();
    assert_eq!(children.len(), 3);
    assert!(children.iter().all(|c| c["redemption"] == parent.as_str() && c["result"] == "SUCCESS"));
    assert_eq!(children[0]["voucher"]["code"], "TENOFF");
    assert_eq!(children[1]["promotion_tier"]["id"], tiers[0].as_str());
    let order_id = r["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r["order"]["status"], "PAID");
    assert_eq!(r["order"]["redemptions"][&parent]["stacked"].as_array().unwrap().len(), 3);

    let stored = app.get(&p, &format!("/v1/orders/{order_id}")).await.json();
    assert_eq!(stored["total_amount"], 570, "the order is recorded with its discounts");
    let customer = r["parent_redemption"]["customer_id"].as_str().unwrap().to_owned();
    assert!(customer.starts_with("cust_"), "the customer was upserted by source_id");
    assert_eq!(app.get(&p, "/v1/customers/alice").await.json()["email"], "alice@example.com");
    assert_eq!(app.get(&p, "/v1/vouchers/TENOFF/redemption").await.json()["redeemed_quantity"], 1);

    // a child cannot be rolled back alone, a parent not through the single endpoint
    let child = children[0]["id"].as_str().unwrap();
    app.post(&p, &format!("/v1/redemptions/{child}/rollback"), json!({}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_redemption_parent");
    app.post(&p, &format!("/v1/redemptions/{parent}/rollback"), json!({}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_redemption");
    let rb = app.post(&p, &format!("/v1/redemptions/{parent}/rollbacks"), json!({"reason": "returned"})).await;
    rb.assert_status(StatusCode::OK);
    let rb = rb.json();
    assert_eq!(rb["rollbacks"].as_array().unwrap().len(), 3);
    assert!(rb["parent_rollback"]["id"].as_str().unwrap().starts_with("rr_"));
    assert_eq!(rb["parent_rollback"]["reason"], "returned");
    assert_eq!(rb["order"]["status"], "CANCELED", "WITH_ORDER is the default");
    // the order no longer carries the discounts rolled back
    assert_eq!(order_fields(&rb["order"]), [2700, 2700, 0, 0, 0, 2700, 0, 0, 0], "{}", rb["order"]);
    assert_eq!(item_discounts(&rb["order"]), [0, 0]);
    let stored = app.get(&p, &format!("/v1/orders/{order_id}")).await.json();
    assert_eq!((&stored["total_amount"], &stored["status"]), (&json!(2700), &json!("CANCELED")));
    // a rollback is read by its id, as the listing shows it
    let parent_rollback = rb["parent_rollback"]["id"].as_str().unwrap();
    let got = app.get(&p, &format!("/v1/redemptions/{parent_rollback}")).await;
    got.assert_status(StatusCode::OK);
    assert_eq!(got.json()["id"], parent_rollback);
    app.get(&p, "/v1/redemptions/rr_00000000000000000000000000000000")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get(&p, "/v1/vouchers/TENOFF/redemption").await.json()["redeemed_quantity"],
        0,
        "quantity given back"
    );
    let again = app.post(&p, &format!("/v1/redemptions/{parent}/rollbacks"), json!({})).await;
    let e = again.assert_error(StatusCode::BAD_REQUEST, "already_rolled_back");
    assert_eq!(e["resource_type"], "redemption_rollback");
    let got = app.get(&p, &format!("/v1/redemptions/{parent}")).await.json();
    assert_eq!(got["status"], "ROLLED_BACK");
    assert!(got["related_redemptions"]["rollbacks"][0]["id"].as_str().unwrap().starts_with("rr_"));
    // the listing shows the rollbacks as entries of their own, newest first
    let listed = app.get(&p, &format!("/v1/redemptions?parent_redemption_id={parent}")).await.json();
    let objects: Vec<&str> =
        listed["redemptions"].as_array().unwrap().iter().map(|r| r["object"].as_str().unwrap()).collect();
    assert_eq!(objects, ["redemption_rollback"; 3].into_iter().chain(["redemption"; 3]).collect::<Vec<_>>());
    assert_eq!(listed["redemptions"][3]["status"], "ROLLED_BACK");
    let history = app.get(&p, "/v1/vouchers/TENOFF/redemption").await.json();
    assert_eq!(history["total"], 2, "the voucher's redemption and its rollback");
    // a project with a ledger can still be deleted, ledger and all
    let gone = app.management(Method::DELETE, &format!("/management/v1/projects/{}", p.id), None).await;
    assert!(gone.status.is_success(), "{}", String::from_utf8_lossy(&gone.body));
    for table in
        ["redemption", "redemption_rollback", "order_record", "counter", "redemption_stats", "redemption_stats_delta"]
    {
        let left: i64 = sqlx::query_scalar(&format!("select count(*) from {table} where project_id = $1"))
            .bind(p.uuid())
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(left, 0, "{table} rows of the deleted project");
    }
}

#[tokio::test]
async fn a_reused_order_keeps_every_redemption_and_the_ledger_stores_what_was_answered() {
    let app = TestApp::new().await;
    let p = app.project("Reused order").await;
    voucher(&app, &p, "FIRST", json!({"type": "AMOUNT", "amount_off": 500}), None, None).await;
    voucher(&app, &p, "SECOND", json!({"type": "AMOUNT", "amount_off": 300}), None, None).await;
    let order = json!({"source_id": "ord-A", "items": [{"product_id": "p1", "quantity": 2, "price": 2000}]});
    let first = app
        .post(&p, "/v1/redemptions", json!({"redeemables": [{"object": "voucher", "id": "FIRST"}], "order": order}))
        .await;
    first.assert_status(StatusCode::OK);
    let first = first.json();
    let first_id = first["redemptions"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(first["redemptions"][0]["order"]["total_amount"], 3500);
    assert!(first["redemptions"][0]["order"].get("redemptions").is_none(), "a redemption's order has no map");
    assert_eq!(first["order"]["redemptions"][&first_id]["related_object_type"], "voucher");
    // what the ledger stores is what the request was answered with
    let stored = app.get(&p, &format!("/v1/redemptions/{first_id}")).await.json();
    for field in ["id", "date", "order", "voucher", "customer_id", "result", "status", "amount", "channel"] {
        assert_eq!(stored[field], first["redemptions"][0][field], "{field}");
    }
    // the same order again (by source id, its items taken from the stored one)
    let second = app
        .post(
            &p,
            "/v1/redemptions",
            json!({"redeemables": [{"object": "voucher", "id": "SECOND"}], "order": {"source_id": "ord-A"}}),
        )
        .await;
    second.assert_status(StatusCode::OK);
    let second = second.json();
    let second_id = second["redemptions"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(second["order"]["id"], first["order"]["id"], "the stored order is reused");
    // the stored order keeps its discount: both apply
    assert_eq!(second["redemptions"][0]["order"]["total_amount"], 3200);
    let order = app.get(&p, &format!("/v1/orders/{}", first["order"]["id"].as_str().unwrap())).await.json();
    let map = order["redemptions"].as_object().unwrap();
    assert!(map.contains_key(&first_id) && map.contains_key(&second_id), "{order}");
    assert_eq!(order["total_amount"], 3200);
}

#[tokio::test]
async fn a_static_segment_rule_reads_memberships_once_the_project_has_static_segments() {
    let app = TestApp::new().await;
    let p = app.project("Static segments").await;
    voucher(&app, &p, "ANYONE", json!({"type": "AMOUNT", "amount_off": 100}), None, None).await;
    let validate = |code: &str, customer: &str| {
        json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 1000},
               "customer": {"source_id": customer}})
    };
    app.post(&p, "/v1/customers", json!({"source_id": "alice"})).await.assert_status(StatusCode::OK);
    // definitions compiled while the project has no static segment: memberships are not read
    let v = app.post(&p, "/v1/validations", validate("ANYONE", "alice")).await.json();
    assert_eq!(v["valid"], true, "{v}");
    let segment = app.post(&p, "/v1/segments", json!({"name": "VIP", "type": "static", "customers": ["alice"]})).await;
    segment.assert_status(StatusCode::OK);
    let segment = segment.json()["id"].as_str().unwrap().to_owned();
    let rule = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "VIPs only", "rules": {"1": {"name": "customer.segment", "conditions": {"$is": [segment]}}, "logic": "1"}}),
        )
        .await;
    rule.assert_status(StatusCode::OK);
    let rule = rule.json()["id"].as_str().unwrap().to_owned();
    voucher(&app, &p, "VIPONLY", json!({"type": "AMOUNT", "amount_off": 100}), None, Some(&rule)).await;
    let alice = app.post(&p, "/v1/validations", validate("VIPONLY", "alice")).await.json();
    assert_eq!(alice["valid"], true, "a member: {alice}");
    let bob = app.post(&p, "/v1/validations", validate("VIPONLY", "bob")).await.json();
    assert_eq!(bob["valid"], false, "not a member: {bob}");
}

#[tokio::test]
async fn quantity_limits_hold_and_failures_are_recorded_without_consuming() {
    let app = TestApp::new().await;
    let p = app.project("Quantity").await;
    voucher(&app, &p, "ONCE", json!({"type": "AMOUNT", "amount_off": 500}), Some(1), None).await;
    let body = json!({"redeemables": [{"object": "voucher", "id": "once"}], "order": {"amount": 5000}});
    let first = app.post(&p, "/v1/redemptions", body.clone()).await;
    first.assert_status(StatusCode::OK);
    let first = first.json();
    assert!(first.get("parent_redemption").is_none(), "one redeemable: no parent");
    assert_eq!(first["redemptions"][0]["order"]["total_amount"], 4500);
    let single = first["redemptions"][0]["id"].as_str().unwrap().to_owned();
    let second = app.post(&p, "/v1/redemptions", body.clone()).await;
    let e = second.assert_error(StatusCode::BAD_REQUEST, "quantity_exceeded");
    assert_eq!(e["resource_type"], "redemption");
    let failed = e["resource_id"].as_str().unwrap().to_owned();
    assert!(failed.starts_with("rf_"));
    let f = app.get(&p, &format!("/v1/redemptions/{failed}")).await.json();
    assert_eq!((f["result"].as_str(), f["failure_code"].as_str()), (Some("FAILURE"), Some("quantity_exceeded")));
    assert_eq!(f["voucher"]["code"], "ONCE", "a failure shows the code it tried: {f}");
    let validation = app.post(&p, "/v1/validations", body.clone()).await.json();
    assert_eq!(validation["valid"], false);
    assert_eq!(validation["inapplicable_redeemables"][0]["result"]["error"]["key"], "quantity_exceeded");

    let list = app.get(&p, "/v1/redemptions?result=FAILURE").await.json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["data_ref"], "redemptions");
    let list = app.get(&p, "/v1/redemptions?voucher_code=ONCE&result=SUCCESS").await.json();
    assert_eq!(list["redemptions"][0]["id"], single.as_str());

    // a single redemption rolls back through either endpoint, once
    let rb = app.post(&p, &format!("/v1/redemptions/{single}/rollback?reason=mistake"), json!({})).await;
    rb.assert_status(StatusCode::OK);
    let rb = rb.json();
    assert_eq!(
        (rb["object"].as_str(), rb["redemption"].as_str()),
        (Some("redemption_rollback"), Some(single.as_str()))
    );
    assert_eq!(rb["reason"], "mistake");
    app.post(&p, &format!("/v1/redemptions/{single}/rollbacks"), json!({}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "already_rolled_back");
    app.post(&p, "/v1/redemptions", body).await.assert_status(StatusCode::OK);
    app.post(&p, &format!("/v1/redemptions/{failed}/rollback"), json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn partial_mode_applies_the_rest_and_all_mode_fails_the_whole_redemption() {
    let app = TestApp::new().await;
    let p = app.project("Modes").await;
    voucher(&app, &p, "GOOD", json!({"type": "AMOUNT", "amount_off": 100}), Some(10), None).await;
    let body = json!({"redeemables": [{"object": "voucher", "id": "GOOD"}, {"object": "voucher", "id": "MISSING"}],
                      "order": {"amount": 1000}});
    // PARTIAL (the default): the good one applies, the missing one is listed
    let r = app.post(&p, "/v1/redemptions", body.clone()).await;
    r.assert_status(StatusCode::OK);
    let r = r.json();
    assert_eq!(r["redemptions"].as_array().unwrap().len(), 1);
    assert_eq!(r["inapplicable_redeemables"][0]["id"], "MISSING");
    assert_eq!(r["order"]["total_amount"], 900);

    app.request(
        Method::POST,
        &format!("/management/v1/projects/{}/stacking-rules", p.id),
        Auth::Management,
        Some(json!({"redeemables_application_mode": "ALL"})),
    )
    .await
    .assert_status(StatusCode::OK);
    let v = app.post(&p, "/v1/validations", body.clone()).await.json();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["redeemables"][1]["status"], "INAPPLICABLE");
    assert_eq!(v["redeemables"][1]["result"]["error"]["key"], "not_found");
    assert_eq!(v["redeemables"][0]["status"], "SKIPPED", "ALL mode: the valid one is not applied");
    let e = app.post(&p, "/v1/redemptions", body.clone()).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(e["details"].as_str().unwrap().contains("MISSING"));
    assert!(e["resource_id"].as_str().unwrap().starts_with("rf_"), "the failure is recorded");
    assert_eq!(
        app.get(&p, "/v1/vouchers/GOOD/redemption").await.json()["redeemed_quantity"],
        1,
        "nothing more consumed"
    );
}

#[tokio::test]
async fn idempotent_redemptions_replay_byte_for_byte_and_refuse_a_different_body() {
    let app = TestApp::new().await;
    let p = app.project("Idempotency").await;
    voucher(&app, &p, "IDEM", json!({"type": "AMOUNT", "amount_off": 100}), Some(10), None).await;
    let body = json!({"redeemables": [{"object": "voucher", "id": "IDEM"}], "order": {"amount": 1000}});
    let send = |b: Value, key: &'static str| {
        let p = p.clone();
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/v1/redemptions",
                Auth::Raw(vec![("x-app-id", &p.app_id), ("x-app-token", &p.token), ("idempotency-key", key)]),
                Some(b),
            )
            .await
        }
    };
    let first = send(body.clone(), "k-1").await;
    first.assert_status(StatusCode::OK);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = send(body.clone(), "k-1").await;
    again.assert_status(StatusCode::OK);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.body, first.body, "byte for byte");
    assert_eq!(app.get(&p, "/v1/vouchers/IDEM/redemption").await.json()["redeemed_quantity"], 1, "executed once");
    let mut other = body.clone();
    other["order"]["amount"] = json!(2000);
    send(other, "k-1").await.assert_error(StatusCode::CONFLICT, "idempotency_key_reused");

    // rollbacks too
    let id = first.json()["redemptions"][0]["id"].as_str().unwrap().to_owned();
    let rb = |key: &'static str| {
        let p = p.clone();
        let app = &app;
        let path = format!("/v1/redemptions/{id}/rollback");
        async move {
            app.request(
                Method::POST,
                &path,
                Auth::Raw(vec![("x-app-id", &p.app_id), ("x-app-token", &p.token), ("idempotency-key", key)]),
                Some(json!({})),
            )
            .await
        }
    };
    let a = rb("rb-1").await;
    a.assert_status(StatusCode::OK);
    let b = rb("rb-1").await;
    assert_eq!(
        (b.status, &b.body),
        (StatusCode::OK, &a.body),
        "a retried rollback replays instead of already_rolled_back"
    );
}

#[tokio::test]
async fn a_lock_session_reserves_the_last_unit_until_redeemed_or_released() {
    let app = TestApp::new().await;
    let p = app.project("Sessions").await;
    voucher(&app, &p, "LAST", json!({"type": "AMOUNT", "amount_off": 100}), Some(1), None).await;
    let validate = |session: Value| json!({"redeemables": [{"object": "voucher", "id": "LAST"}], "order": {"amount": 1000}, "session": session});
    let v = app
        .post(
            &p,
            "/v1/validations",
            validate(json!({"type": "LOCK", "key": "ssn_alice", "ttl": 1, "ttl_unit": "HOURS"})),
        )
        .await
        .json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["session"]["key"], "ssn_alice");
    // the reservation is shown apart from redemptions, on the voucher and its redemption URL
    let counters = |v: Value| (v["redeemed_quantity"].as_i64(), v["reserved_quantity"].as_i64());
    let voucher_counters = || async { counters(app.get(&p, "/v1/vouchers/LAST").await.json()["redemption"].clone()) };
    assert_eq!(voucher_counters().await, (Some(0), Some(1)), "a live LOCK is reserved, not redeemed");
    assert_eq!(counters(app.get(&p, "/v1/vouchers/LAST/redemption").await.json()), (Some(0), Some(1)));
    // another shopper's session, or a plain redemption, finds no unit left
    let other = app.post(&p, "/v1/validations", validate(json!({"type": "LOCK"}))).await.json();
    assert_eq!(other["valid"], false);
    assert_eq!(other["inapplicable_redeemables"][0]["result"]["error"]["key"], "quantity_exceeded");
    let plain = json!({"redeemables": [{"object": "voucher", "id": "LAST"}], "order": {"amount": 1000}});
    app.post(&p, "/v1/redemptions", plain.clone()).await.assert_error(StatusCode::BAD_REQUEST, "quantity_exceeded");
    // released: the unit is free again; locked again and redeemed with the key
    app.delete(&p, "/v1/vouchers/LAST/sessions/ssn_alice").await.assert_status(StatusCode::NO_CONTENT);
    assert_eq!(app.post(&p, "/v1/validations", plain.clone()).await.json()["valid"], true);
    let v = app.post(&p, "/v1/validations", validate(json!({"type": "LOCK", "key": "ssn_bob"}))).await.json();
    assert_eq!(v["valid"], true);
    let r = app.post(&p, "/v1/redemptions", validate(json!({"key": "ssn_bob"}))).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["redemptions"][0]["session"]["key"], "ssn_bob");
    app.post(&p, "/v1/redemptions", plain).await.assert_error(StatusCode::BAD_REQUEST, "quantity_exceeded");
    assert_eq!(
        voucher_counters().await,
        (Some(1), Some(0)),
        "redeemed with its session: the reservation became the redemption"
    );
}

#[tokio::test]
async fn an_expired_session_frees_its_slot_without_any_cron() {
    let app = TestApp::new().await;
    let p = app.project("Expiry").await;
    voucher(&app, &p, "BRIEF", json!({"type": "AMOUNT", "amount_off": 100}), Some(1), None).await;
    let body = |session: Value| json!({"redeemables": [{"object": "voucher", "id": "BRIEF"}], "order": {"amount": 1000}, "session": session});
    let v = app
        .post(&p, "/v1/validations", body(json!({"type": "LOCK", "ttl": 300, "ttl_unit": "MILLISECONDS"})))
        .await
        .json();
    assert_eq!(v["valid"], true);
    assert_eq!(app.post(&p, "/v1/validations", body(json!({"type": "LOCK"}))).await.json()["valid"], false);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(app.post(&p, "/v1/validations", body(json!({"type": "LOCK"}))).await.json()["valid"], true);
}

#[tokio::test]
async fn per_customer_limits_count_each_customer_separately() {
    let app = TestApp::new().await;
    let p = app.project("Per customer").await;
    let rule = app.post(&p, "/v1/validation-rules", json!({"name": "once each",
        "rules": {"1": {"name": "redemption.count.per_customer", "conditions": {"$less_than_or_equal": [1]}}, "logic": "1"}})).await;
    rule.assert_status(StatusCode::OK);
    let rule = rule.json()["id"].as_str().unwrap().to_owned();
    voucher(&app, &p, "WELCOME", json!({"type": "AMOUNT", "amount_off": 100}), None, Some(&rule)).await;
    let body = |who: &str| {
        json!({"redeemables": [{"object": "voucher", "id": "WELCOME"}], "order": {"amount": 1000},
                                   "customer": {"source_id": who}})
    };
    app.post(&p, "/v1/redemptions", body("ann")).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/redemptions", body("ann"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "redemption_rules_violated");
    app.post(&p, "/v1/redemptions", body("ben")).await.assert_status(StatusCode::OK);
    let ann = app.get(&p, "/v1/customers/ann").await.json();
    assert_eq!(ann["summary"]["redemptions"]["total_succeeded"], 1);
    assert_eq!(ann["summary"]["redemptions"]["total_failed"], 1);
}

pub async fn spend_rule(app: &TestApp, p: &Project, amount: i64) -> String {
    let r = app
        .post(
            p,
            "/v1/validation-rules",
            json!({"name": format!("spend {amount}"),
        "rules": {"1": {"name": "order.amount", "conditions": {"$more_than_or_equal": [amount]}}, "logic": "1"}}),
        )
        .await;
    r.assert_status(StatusCode::OK);
    r.json()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn qualifications_list_what_applies_and_what_is_nearly_there() {
    let app = TestApp::new().await;
    let p = app.project("Qualify").await;
    let r50 = spend_rule(&app, &p, 5000).await;
    let r100 = spend_rule(&app, &p, 10000).await;
    let mut five = tier("5% over 50", json!({"type": "PERCENT", "percent_off": 5}));
    five["validation_rules"] = json!([r50]);
    let mut ten = tier("10% over 100", json!({"type": "PERCENT", "percent_off": 10}));
    ten["validation_rules"] = json!([r100]);
    ten["banner"] = json!("Spend $100, save 10%");
    ten["metadata"] = json!({"shelf": "volume"});
    let volume = promotion(&app, &p, "Volume", vec![ten, five]).await;
    let q = app
        .post(&p, "/v1/qualifications", json!({"order": {"amount": 8750}, "options": {"sorting_rule": "BEST_DEAL"}}))
        .await;
    q.assert_status(StatusCode::OK);
    let q = q.json();
    let data = q["redeemables"]["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{q}");
    assert_eq!(data[0]["name"], "5% over 50");
    assert_eq!(data[0]["order"]["total_amount"], 8312, "5% of 8750 = 437.5, rounded half away from zero to 438");
    assert_eq!(q["near_misses"][0]["name"], "10% over 100");
    assert_eq!(q["near_misses"][0]["missing"][0]["missing"]["needed"], 1250, "spend 1250 more");
    assert_eq!(q["near_misses"][0]["banner"], "Spend $100, save 10%", "{q}");
    assert_eq!(q["near_misses"][0]["discount"]["percent_off"], 10, "{q}");
    // near misses answer to the filters, metadata included
    let camp = app.get(&p, &format!("/v1/promotions/tiers/{}", volume[0])).await.json()["campaign"]["id"].clone();
    let filtered = |filters: Value| json!({"order": {"amount": 8750}, "options": {"filters": filters}});
    let other_campaign = app
        .post(
            &p,
            "/v1/qualifications",
            filtered(json!({"campaign_id": {"conditions": {"$is": ["camp_00000000000000000000000000000000"]}}})),
        )
        .await
        .json();
    assert_eq!(other_campaign["near_misses"], json!([]), "{other_campaign}");
    assert_eq!(other_campaign["redeemables"]["total"], 0);
    let this_campaign = app
        .post(&p, "/v1/qualifications", filtered(json!({"campaign_id": {"conditions": {"$is": [camp]}}})))
        .await
        .json();
    assert_eq!(this_campaign["near_misses"][0]["name"], "10% over 100", "{this_campaign}");
    let shelf = app
        .post(&p, "/v1/qualifications", filtered(json!({"metadata.shelf": {"conditions": {"$is": ["volume"]}}})))
        .await
        .json();
    assert_eq!(shelf["near_misses"][0]["name"], "10% over 100", "{shelf}");
    assert_eq!(shelf["redeemables"]["total"], 0, "the 5% tier has no shelf: {shelf}");
    let none = app
        .post(
            &p,
            "/v1/qualifications",
            json!({"order": {"amount": 8750},
        "options": {"filters": {"resource_type": {"conditions": {"$is": ["voucher"]}}}}}),
        )
        .await
        .json();
    assert_eq!(none["redeemables"]["total"], 0);
    app.post(&p, "/v1/qualifications", json!({"scenario": "EVERYTHING"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
}

#[tokio::test]
async fn client_side_checkout_needs_a_trusted_origin_and_client_redemption_enabled() {
    let app = TestApp::new().await;
    let p = app.project("Client").await;
    app.request(
        Method::PUT,
        &format!("/management/v1/projects/{}", p.id),
        Auth::Management,
        Some(json!({"client_trusted_domains": ["shop.example.com"]})),
    )
    .await
    .assert_status(StatusCode::OK);
    voucher(&app, &p, "WEB", json!({"type": "AMOUNT", "amount_off": 100}), None, None).await;
    let body = json!({"redeemables": [{"object": "voucher", "id": "WEB"}], "order": {"amount": 1000}});
    // a qualification names no redeemables (it finds them)
    let client = |path: &'static str| {
        let mut body = body.clone();
        if path.ends_with("qualifications") {
            body.as_object_mut().unwrap().remove("redeemables");
        }
        app.client_post(&p, path, body)
    };
    assert_eq!(client("/client/v1/validations").await.json()["valid"], true);
    for path in ["/client/v1/validations", "/client/v1/qualifications", "/client/v1/redemptions"] {
        let elsewhere = app
            .request(
                Method::POST,
                path,
                Auth::Raw(vec![
                    ("x-client-application-id", &p.client_app_id),
                    ("x-client-token", &p.client_token),
                    ("origin", "https://evil.example.net"),
                ]),
                Some(body.clone()),
            )
            .await;
        elsewhere.assert_error(StatusCode::FORBIDDEN, "forbidden");
        // and a client key is no server key
        let as_server = app
            .request(
                Method::POST,
                &path.replace("/client", ""),
                Auth::Raw(vec![("x-app-id", &p.client_app_id), ("x-app-token", &p.client_token)]),
                Some(body.clone()),
            )
            .await;
        as_server.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    client("/client/v1/qualifications").await.assert_status(StatusCode::OK);
    client("/client/v1/redemptions").await.assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.request(
        Method::PUT,
        &format!("/management/v1/projects/{}", p.id),
        Auth::Management,
        Some(json!({"client_redeem_enabled": true})),
    )
    .await
    .assert_status(StatusCode::OK);
    client("/client/v1/redemptions").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn bad_checkout_requests_get_clear_errors_and_change_nothing() {
    let app = TestApp::new().await;
    let p = app.project("Bad checkout").await;
    voucher(&app, &p, "OK", json!({"type": "AMOUNT", "amount_off": 100}), Some(3), None).await;
    for (body, key, needle) in [
        (json!({"redeemables": []}), "invalid_payload", "at least one"),
        (json!({"redeemables": [{"object": "voucher"}]}), "invalid_payload", "'id'"),
        (json!({"redeemables": [{"object": "coupon", "id": "OK"}]}), "invalid_payload", "object"),
        (
            json!({"redeemables": [{"object": "voucher", "id": "OK"}, {"object": "voucher", "id": "OK"}]}),
            "duplicated_redeemables",
            "",
        ),
        (
            json!({"redeemables": [{"object": "voucher", "id": "OK"}], "order": {"items": [{"quantity": -1, "price": 5}]}}),
            "invalid_payload",
            "order",
        ),
        (
            json!({"redeemables": [{"object": "voucher", "id": "OK"}], "session": {"type": "LOCK", "ttl_unit": "WEEKS"}}),
            "invalid_payload",
            "ttl_unit",
        ),
    ] {
        for path in ["/v1/validations", "/v1/redemptions"] {
            let e = app.post(&p, path, body.clone()).await.assert_error(StatusCode::BAD_REQUEST, key);
            assert!(e["details"].as_str().unwrap_or_default().contains(needle), "{path} {body}: {e}");
        }
    }
    assert_eq!(app.get(&p, "/v1/redemptions").await.json()["total"], 0, "nothing recorded");
    assert_eq!(app.get(&p, "/v1/vouchers/OK/redemption").await.json()["redeemed_quantity"], 0);
    app.get(&p, "/v1/redemptions?order=price").await.assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    app.get(&p, "/v1/redemptions/r_nope").await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn definitions_are_recompiled_after_every_write() {
    let app = TestApp::new().await;
    let p = app.project("Cache").await;
    let tiers = promotion(&app, &p, "Flash", vec![tier("1 off", json!({"type": "AMOUNT", "amount_off": 100}))]).await;
    let body = json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}], "order": {"amount": 1000}});
    assert_eq!(app.post(&p, "/v1/validations", body.clone()).await.json()["order"]["total_amount"], 900);
    app.put(
        &p,
        &format!("/v1/promotions/tiers/{}", tiers[0]),
        json!({"action": {"discount": {"type": "AMOUNT", "amount_off": 250}}}),
    )
    .await
    .assert_status(StatusCode::OK);
    assert_eq!(
        app.post(&p, "/v1/validations", body.clone()).await.json()["order"]["total_amount"],
        750,
        "the cache saw the update"
    );
    app.post(&p, &format!("/v1/promotions/tiers/{}/disable", tiers[0]), json!({})).await.assert_status(StatusCode::OK);
    let v = app.post(&p, "/v1/validations", body).await.json();
    assert_eq!(v["inapplicable_redeemables"][0]["result"]["error"]["key"], "promotion_inactive");
}

#[tokio::test]
async fn a_write_through_another_server_reaches_this_servers_cache_at_once() {
    let a = TestApp::new().await;
    let b = TestApp::new().await; // a second server instance on the same database
    let p = a.project("Two servers").await;
    let tiers = promotion(&a, &p, "Flash", vec![tier("1 off", json!({"type": "AMOUNT", "amount_off": 100}))]).await;
    a.post(&p, "/v1/customers", json!({"source_id": "kim"})).await.assert_status(StatusCode::OK);
    voucher(&a, &p, "KIM", json!({"type": "AMOUNT", "amount_off": 50}), None, None).await;
    // the version rides on the customer read, on the voucher read, or is asked for
    let bodies = [
        json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}], "order": {"amount": 1000}, "customer": {"source_id": "kim"}}),
        json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}, {"object": "voucher", "id": "KIM"}], "order": {"amount": 1000}}),
        json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}], "order": {"amount": 1000}}),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let amount_off = 200 + 100 * i as i64;
        let before = a.post(&p, "/v1/validations", body.clone()).await.json();
        assert_eq!(before["valid"], true, "{before}");
        b.put(
            &p,
            &format!("/v1/promotions/tiers/{}", tiers[0]),
            json!({"action": {"discount": {"type": "AMOUNT", "amount_off": amount_off}}}),
        )
        .await
        .assert_status(StatusCode::OK);
        let after = a.post(&p, "/v1/validations", body.clone()).await.json();
        let tier_discount = after["redeemables"][0]["result"]["discount"]["amount_off"].as_i64();
        assert_eq!(tier_discount, Some(amount_off), "case {i}: server a sees server b's write at once");
    }
}

#[tokio::test]
async fn a_request_that_finds_no_free_connection_gets_a_retryable_503() {
    let app = TestApp::with_connections(1).await;
    let p = app.project("Busy").await;
    let body = json!({"redeemables": [{"object": "voucher", "id": "ANY"}], "order": {"amount": 1000}});
    app.post(&p, "/v1/validations", body.clone()).await.assert_status(StatusCode::OK);
    let held = app.db.acquire().await.expect("the only connection");
    let busy = app.post(&p, "/v1/validations", body.clone()).await;
    busy.assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    drop(held);
    app.post(&p, "/v1/validations", body).await.assert_status(StatusCode::OK);
}

/// Customer and codes come from one read: every combination of found and missing holds.
#[tokio::test]
async fn a_checkout_reads_its_customer_and_codes_together() {
    let app = TestApp::new().await;
    let p = app.project("Reads together").await;
    voucher(&app, &p, "TOGETHER-A", json!({"type": "AMOUNT", "amount_off": 500}), None, None).await;
    voucher(&app, &p, "TOGETHER-B", json!({"type": "AMOUNT", "amount_off": 300}), None, None).await;
    let ann = app.post(&p, "/v1/customers", json!({"source_id": "ann", "metadata": {"tier": "gold"}})).await.json();
    let codes = json!([{"object": "voucher", "id": "TOGETHER-A"}, {"object": "voucher", "id": "TOGETHER-B"},
                       {"object": "voucher", "id": "NO-SUCH-CODE"}]);
    let order = json!({"items": [item("pen", 2, 5000)]});
    let validate = |customer: Value| {
        let body = json!({"redeemables": codes, "order": order, "customer": customer});
        let (app, p) = (&app, &p);
        async move { app.post(p, "/v1/validations", body).await }
    };
    let statuses = |v: &Value| -> Vec<String> {
        v["redeemables"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap().to_owned()).collect()
    };

    // a stored customer by source id, and by id: found with both codes (the missing one reported)
    for customer in [json!({"source_id": "ann"}), json!({"id": ann["id"]})] {
        let r = validate(customer.clone()).await;
        r.assert_status(StatusCode::OK);
        let v = r.json();
        assert_eq!(v["order"]["customer_id"], ann["id"], "{customer}: {v}");
        let by_id: Vec<(&str, &str)> = v["redeemables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_str().unwrap(), r["status"].as_str().unwrap()))
            .collect();
        assert_eq!(by_id, [("TOGETHER-A", "APPLICABLE"), ("TOGETHER-B", "APPLICABLE")]);
        assert_eq!(v["inapplicable_redeemables"][0]["id"], "NO-SUCH-CODE", "{v}");
        assert_eq!(v["inapplicable_redeemables"][0]["result"]["error"]["key"], "not_found", "{v}");
    }
    // a customer not stored yet, by source id: the codes still apply, no stored id
    let r = validate(json!({"source_id": "newcomer"})).await;
    r.assert_status(StatusCode::OK);
    let v = r.json();
    assert!(v["order"]["customer_id"].is_null(), "{v}");
    assert_eq!(statuses(&v)[..2], ["APPLICABLE", "APPLICABLE"]);
    // an unknown customer id is an error, not an anonymous checkout
    let r = validate(json!({"id": "cust_00000000000000000000000000000000"})).await;
    r.assert_status(StatusCode::NOT_FOUND);
    // one code by code or by id, with and without a customer (each a statement of its own shape)
    let by_id = app.get(&p, "/v1/vouchers/TOGETHER-B").await.json()["id"].clone();
    for (name, customer) in [
        (json!("TOGETHER-B"), json!({"source_id": "ann"})),
        (by_id.clone(), json!({"source_id": "ann"})),
        (by_id.clone(), Value::Null),
        (json!("together-b"), Value::Null),
    ] {
        let mut body = json!({"redeemables": [{"object": "voucher", "id": name}], "order": order});
        if !customer.is_null() {
            body["customer"] = customer.clone();
        }
        let r = app.post(&p, "/v1/validations", body).await;
        r.assert_status(StatusCode::OK);
        let v = r.json();
        assert_eq!(v["valid"], true, "{name} {customer}: {v}");
        assert_eq!(v["order"]["total_discount_amount"], 300, "{name} {customer}: {v}");
        let expected_customer = if customer.is_null() { Value::Null } else { ann["id"].clone() };
        assert_eq!(v["order"]["customer_id"], expected_customer, "{name} {customer}: {v}");
    }

    // a redemption creates the customer; the next one reads it with the code
    let redeem = |code: &str| {
        let body = json!({"redeemables": [{"object": "voucher", "id": code}], "order": order,
                          "customer": {"source_id": "newcomer"}});
        let (app, p) = (&app, &p);
        async move { app.post(p, "/v1/redemptions", body).await }
    };
    let first = redeem("TOGETHER-A").await;
    first.assert_status(StatusCode::OK);
    let created = first.json()["redemptions"][0]["customer_id"].clone();
    assert!(created.as_str().is_some_and(|c| c.starts_with("cust_")), "{}", first.json());
    let second = redeem("TOGETHER-B").await;
    second.assert_status(StatusCode::OK);
    assert_eq!(second.json()["redemptions"][0]["customer_id"], created);
}

/// A tier's qualification entry is rendered once per definitions version: an edit shows at once.
#[tokio::test]
async fn qualification_entries_follow_tier_edits() {
    let app = TestApp::new().await;
    let p = app.project("Entries follow edits").await;
    let mut first = tier("Ten off", json!({"type": "PERCENT", "percent_off": 10}));
    first["banner"] = json!("10% off");
    let ids = promotion(&app, &p, "Edited", vec![first]).await;
    let entry = || async {
        let r = app.post(&p, "/v1/qualifications", json!({"order": {"items": [item("pen", 1, 10000)]}})).await;
        r.assert_status(StatusCode::OK);
        let v = r.json();
        assert_eq!(v["redeemables"]["total"], 1, "{v}");
        v["redeemables"]["data"][0].clone()
    };
    for _ in 0..2 {
        let e = entry().await;
        assert_eq!(
            (e["banner"].as_str(), e["result"]["discount"]["percent_off"].as_f64()),
            (Some("10% off"), Some(10.0))
        );
        assert_eq!(e["order"]["total_discount_amount"], 1000, "{e}");
    }
    app.put(
        &p,
        &format!("/v1/promotions/tiers/{}", ids[0]),
        json!({"banner": "now 12%", "metadata": {"season": "winter"}, "action": {"discount": {"type": "PERCENT", "percent_off": 12}}}),
    )
    .await
    .assert_status(StatusCode::OK);
    let e = entry().await;
    assert_eq!((e["banner"].as_str(), e["result"]["discount"]["percent_off"].as_f64()), (Some("now 12%"), Some(12.0)));
    assert_eq!(
        (e["metadata"]["season"].as_str(), e["order"]["total_discount_amount"].as_i64()),
        (Some("winter"), Some(1200))
    );
}

/// A voucher without a quantity limit counts its redemptions from the ledger; its `/redemption`
/// figures say what the voucher says (redeemed and not rolled back).
#[tokio::test]
async fn an_unlimited_voucher_shows_the_same_redeemed_quantity_everywhere() {
    let app = TestApp::new().await;
    let p = app.project("unlimited-counts").await;
    app.post(&p, "/v1/vouchers/FREEFLOW", json!({"discount": {"type": "AMOUNT", "amount_off": 100}}))
        .await
        .assert_status(StatusCode::OK);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = app
            .post(
                &p,
                "/v1/redemptions",
                json!({"redeemables": [{"object": "voucher", "id": "FREEFLOW"}], "order": {"amount": 1000}}),
            )
            .await;
        r.assert_status(StatusCode::OK);
        ids.push(r.json()["redemptions"][0]["id"].as_str().unwrap().to_owned());
    }
    app.post(&p, &format!("/v1/redemptions/{}/rollback", ids[0]), json!({})).await.assert_status(StatusCode::OK);
    let voucher = app.get(&p, "/v1/vouchers/FREEFLOW").await.json();
    assert_eq!(voucher["redemption"]["redeemed_quantity"], 2);
    let history = app.get(&p, "/v1/vouchers/FREEFLOW/redemption").await.json();
    assert_eq!((&history["redeemed_quantity"], &history["total"]), (&json!(2), &json!(4)), "{history}");
    // a customer sent without id or source_id is not stored: the redemption shows it without an
    // id (the fuzzer found the document requiring one), here and when read back
    let r = app
        .post(
            &p,
            "/v1/redemptions",
            json!({"redeemables": [{"object": "voucher", "id": "FREEFLOW"}], "order": {"amount": 1000},
                   "customer": {"name": "anonymous"}}),
        )
        .await;
    r.assert_status(StatusCode::OK);
    let r = r.json();
    let customer = &r["redemptions"][0]["customer"];
    assert_eq!((&customer["name"], customer.get("id")), (&json!("anonymous"), Some(&Value::Null)), "{r}");
    let id = r["redemptions"][0]["id"].as_str().unwrap();
    app.get(&p, &format!("/v1/redemptions/{id}")).await.assert_status(StatusCode::OK);
    assert_eq!(app.get(&p, "/v1/customers").await.json()["total"], 0);
}

/// Qualification pages follow `more_starting_after` through tiers created in the same
/// instant (one campaign creation) without skipping or repeating any; a client that keeps the
/// cursor to the microsecond only (as Python's datetime does) may see entries again, never miss
/// one.
#[tokio::test]
async fn qualification_pages_are_stable_through_tiers_created_at_once() {
    let app = TestApp::new().await;
    let p = app.project("Qualification paging").await;
    let tiers: Vec<Value> =
        (0..7).map(|i| tier(&format!("t{i}"), json!({"type": "AMOUNT", "amount_off": 100 + i}))).collect();
    let mut ids = promotion(&app, &p, "Seven", tiers).await;
    ids.sort();
    let page = |cursor: Option<String>| {
        let mut body = json!({"order": {"amount": 10000}, "options": {"limit": 2}});
        if let Some(c) = cursor {
            body["options"]["starting_after"] = json!(c);
        }
        body
    };
    let mut seen: Vec<String> = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let q = app.post(&p, "/v1/qualifications", page(cursor.clone())).await;
        q.assert_status(StatusCode::OK);
        let q = q.json();
        for e in q["redeemables"]["data"].as_array().unwrap() {
            seen.push(e["id"].as_str().unwrap().to_owned());
        }
        if q["redeemables"]["has_more"] != true {
            break;
        }
        cursor = Some(q["redeemables"]["more_starting_after"].as_str().unwrap().to_owned());
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "every tier exactly once: {seen:?}");
    assert_eq!(seen, ids, "tiers created at once come by id");
    // a cursor cut to the microsecond repeats, never skips
    let q = app.post(&p, "/v1/qualifications", page(None)).await.json();
    let c = q["redeemables"]["more_starting_after"].as_str().unwrap();
    let micros = format!("{}Z", &c[..c.find('.').unwrap() + 7]);
    let again = app.post(&p, "/v1/qualifications", page(Some(micros))).await.json();
    assert_eq!(again["redeemables"]["total"], 7, "{again}");
}
