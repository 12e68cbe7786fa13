//! Nothing accepted and ignored: every field of the reference's discount, `applicable_to`,
//! validation-rule and segment-filter schemas is either honoured (a behaviour test, named
//! below) or refused with a 400 naming it; fields the reference does not have are refused too.

use crate::checkout::{item, promotion, tier, voucher};
use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Asserts a 400 whose details name `field` (validation rules say `invalid_validation_rules`).
fn refused(r: &TestResponse, field: &str) {
    r.assert_status(StatusCode::BAD_REQUEST);
    let e = r.json();
    assert!(["invalid_payload", "invalid_validation_rules"].contains(&e["key"].as_str().unwrap_or_default()), "{e}");
    let details = e["details"].as_str().unwrap_or_default();
    assert!(details.contains(field), "the refusal names `{field}`: {e}");
}

/// Every field of the reference's discount (§5.1), per type: honoured ones are written and
/// answered 200 (their behaviour tests are in checkout.rs, resolution.rs and the engine's
/// tests); a field another type reads is refused for this one; unknown fields at any depth too.
#[tokio::test]
async fn every_discount_field_is_honoured_or_refused() {
    let app = TestApp::new().await;
    let p = app.project("Discount fields").await;
    let honoured = [
        json!({"type": "AMOUNT", "amount_off": 1000, "aggregated_amount_limit": 500, "effect": "APPLY_TO_ORDER"}),
        json!({"type": "AMOUNT", "amount_off_formula": "ORDER_AMOUNT / 10", "amount_off": 100, "is_dynamic": true}),
        json!({"type": "PERCENT", "percent_off": 10, "amount_limit": 600, "aggregated_amount_limit": 5000, "effect": "APPLY_TO_ITEMS"}),
        json!({"type": "PERCENT", "percent_off_formula": "5 + 5", "is_dynamic": true}),
        json!({"type": "FIXED", "fixed_amount": 1000, "effect": "APPLY_TO_ORDER", "is_dynamic": false}),
        json!({"type": "FIXED", "fixed_amount_formula": "ORDER_AMOUNT - 100"}),
        json!({"type": "UNIT", "unit_off": 1, "unit_type": "prod_tee", "effect": "ADD_MISSING_ITEMS",
               "product": {"id": "prod_tee", "source_id": "tee", "name": "T-shirt", "price": 3000}}),
        json!({"type": "UNIT", "unit_off_formula": "1", "effect": "ADD_NEW_ITEMS", "sku": {"id": "sku_tee_m", "source_id": "tee-m", "name": "M"}}),
        json!({"type": "UNIT", "effect": "ADD_MANY_ITEMS", "units": [
            {"unit_off": 2, "unit_type": "prod_a", "effect": "ADD_MISSING_ITEMS"},
            {"unit_off_formula": "1", "effect": "ADD_NEW_ITEMS", "product": {"source_id": "b"}, "sku": {"source_id": "b-1"}}]}),
    ];
    for (i, d) in honoured.iter().enumerate() {
        let r = app.post(&p, &format!("/v1/vouchers/OK-{i}"), json!({"type": "DISCOUNT_VOUCHER", "discount": d})).await;
        r.assert_status(StatusCode::OK);
        assert_eq!(&r.json()["discount"], d, "stored as written");
    }
    let refusals = [
        // a field of another type: it would be stored and never read
        (json!({"type": "AMOUNT", "amount_off": 100, "percent_off": 10}), "discount.percent_off"),
        (json!({"type": "AMOUNT", "amount_off": 100, "amount_limit": 10}), "discount.amount_limit"),
        (json!({"type": "PERCENT", "percent_off": 10, "amount_off": 100}), "discount.amount_off"),
        (json!({"type": "FIXED", "fixed_amount": 100, "unit_off": 1}), "discount.unit_off"),
        (json!({"type": "UNIT", "unit_off": 1, "unit_type": "prod_a", "fixed_amount": 5}), "discount.fixed_amount"),
        // is_dynamic that does not agree with the discount
        (json!({"type": "AMOUNT", "amount_off": 100, "is_dynamic": true}), "discount.is_dynamic"),
        // fields no discount has, at any depth
        (json!({"type": "AMOUNT", "amount_off": 100, "currency": "EUR"}), "discount.currency"),
        (
            json!({"type": "UNIT", "unit_off": 1, "product": {"id": "prod_a", "colour": "red"}}),
            "discount.product.colour",
        ),
        (
            json!({"type": "UNIT", "units": [{"unit_off": 1, "unit_type": "prod_a", "bonus": true}]}),
            "discount.units[0].bonus",
        ),
    ];
    for (d, field) in refusals {
        let r = app.post(&p, "/v1/vouchers/NOPE", json!({"type": "DISCOUNT_VOUCHER", "discount": d})).await;
        refused(&r, field);
        // the same through a promotion tier
        let r = app
            .post(
                &p,
                "/v1/campaigns",
                json!({"name": format!("t {field}"), "campaign_type": "PROMOTION",
                "promotion": {"tiers": [{"name": "t", "action": {"discount": d}}]}}),
            )
            .await;
        refused(&r, field);
    }
    app.get(&p, "/v1/vouchers/NOPE").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    // a voucher's category is a category_id (honoured: see below); `category` by name is refused
    let r = app
        .post(
            &p,
            "/v1/vouchers/CAT",
            json!({"type": "DISCOUNT_VOUCHER", "category": "Summer", "discount": {"type": "AMOUNT", "amount_off": 1}}),
        )
        .await;
    refused(&r, "category");
}

/// `applicable_to` entries: every reference field honoured or refused; `repeat`,
/// `skip_initially` and `target` work (every 2nd mug free gives 2 of 4 mugs, not 4).
#[tokio::test]
async fn applicable_to_fields_are_honoured_or_refused_and_repeat_works() {
    let app = TestApp::new().await;
    let p = app.project("Applicable fields").await;
    let n = std::cell::Cell::new(0);
    let rule = |entry: Value| {
        n.set(n.get() + 1);
        json!({"name": format!("r{}", n.get()), "applicable_to": {"included": [entry]}})
    };
    let honoured = json!({
        "object": "product", "id": "mug", "effect": "APPLY_TO_EVERY", "price": 500, "quantity_limit": 10,
        "aggregated_quantity_limit": 20, "amount_limit": 1000, "aggregated_amount_limit": 5000, "repeat": 2,
        "skip_initially": 0, "target": "UNIT", "strict": false,
    });
    app.post(&p, "/v1/validation-rules", rule(honoured)).await.assert_status(StatusCode::OK);
    let sku_entry = json!({"object": "sku", "id": "sku_1", "product_id": "prod_1", "product_source_id": "p1", "price_formula": "100"});
    app.post(&p, "/v1/validation-rules", rule(sku_entry)).await.assert_status(StatusCode::OK);
    for (entry, field) in [
        // budget-style limits (an on-demand feature of Voucherify's) are not implemented
        (
            json!({"object": "product", "id": "mug", "product_campaign_quantity_limit": 5}),
            "product_campaign_quantity_limit",
        ),
        // output-only fields
        (json!({"object": "product", "id": "mug", "order_item_indices": [0]}), "order_item_indices"),
        (json!({"object": "product", "id": "mug", "order_item_units": []}), "order_item_units"),
        (json!({"object": "product", "id": "mug", "repeat": 0}), "repeat"),
        (json!({"object": "product", "id": "mug", "skip_initially": -1}), "skip_initially"),
        (json!({"object": "product", "id": "mug", "target": "BASKET"}), "target"),
        (json!({"object": "product", "id": "mug", "colour": "red"}), "colour"),
    ] {
        refused(&app.post(&p, "/v1/validation-rules", rule(entry)).await, field);
    }
    // rule entries and the rule itself
    let r = app
        .post(&p, "/v1/validation-rules", json!({"name": "r", "rules": {"1": {"name": "order.amount", "conditions": {"$more_than": [1]}, "weight": 2}, "logic": "1"}}))
        .await;
    refused(&r, "rules.1.weight");
    let r = app
        .post(&p, "/v1/validation-rules", json!({"name": "r", "rules": {"1": {"name": "order.amount", "conditions": {"$more_than": [1]}, "error": {"message": "m", "code": 1}}}}))
        .await;
    refused(&r, "error.code");
    refused(&app.post(&p, "/v1/validation-rules", json!({"name": "r", "priority": 1})).await, "priority");
    refused(
        &app.post(&p, "/v1/validation-rules", json!({"name": "r", "error": {"message": "m", "code": 7}})).await,
        "error",
    );
    refused(
        &app.post(&p, "/v1/validation-rules", json!({"name": "r", "bundle_rules": {"limit": 1}})).await,
        "bundle_rules",
    );
    refused(
        &app.post(
            &p,
            "/v1/validation-rules",
            json!({"name": "r", "rules": {"1": {"name": "order.bundle", "conditions": {"$is": [1]}}}}),
        )
        .await,
        "order.bundle",
    );

    // every 2nd mug free: 2 of 4 mugs, wherever the mugs sit in the cart
    let r = app.post(&p, "/v1/validation-rules", rule(json!({"object": "product", "id": "mug", "repeat": 2}))).await;
    let every_2nd = r.json()["id"].as_str().unwrap().to_owned();
    voucher(
        &app,
        &p,
        "MUG2",
        json!({"type": "PERCENT", "percent_off": 100, "effect": "APPLY_TO_ITEMS"}),
        None,
        Some(&every_2nd),
    )
    .await;
    for items in
        [json!([item("mug", 4, 1000)]), json!([item("mug", 1, 1000), item("pen", 1, 500), item("mug", 3, 1000)])]
    {
        let v = app
            .post(
                &p,
                "/v1/validations",
                json!({"redeemables": [{"object": "voucher", "id": "MUG2"}], "order": {"items": items}}),
            )
            .await
            .json();
        assert_eq!(v["order"]["items_discount_amount"], 2000, "{v}");
        let reached = &v["redeemables"][0]["applicable_to"]["data"][0];
        assert_eq!((&reached["id"], &reached["repeat"]), (&json!("mug"), &json!(2)), "{v}");
    }
    // the first mug at full price, then every mug (skip_initially), counted per line with ITEM
    let r = app
        .post(
            &p,
            "/v1/validation-rules",
            rule(json!({"object": "product", "id": "mug", "skip_initially": 1, "target": "ITEM"})),
        )
        .await;
    let after_first_line = r.json()["id"].as_str().unwrap().to_owned();
    voucher(
        &app,
        &p,
        "MUG-LINE",
        json!({"type": "PERCENT", "percent_off": 100, "effect": "APPLY_TO_ITEMS"}),
        None,
        Some(&after_first_line),
    )
    .await;
    let v = app
        .post(
            &p,
            "/v1/validations",
            json!({"redeemables": [{"object": "voucher", "id": "MUG-LINE"}],
            "order": {"items": [item("mug", 2, 1000), item("mug", 3, 1000)]}}),
        )
        .await
        .json();
    assert_eq!(v["order"]["items_discount_amount"], 3000, "the second line, all its units: {v}");
}

/// Segment and collection filters read known fields only; a first-time-buyer segment (on the
/// customer's summary) matches new customers, stops matching after an order, and matches
/// again once that order is rolled back.
#[tokio::test]
async fn filters_read_known_fields_and_first_time_buyers_match() {
    let app = TestApp::new().await;
    let p = app.project("Filters").await;
    for (filter, field) in [
        (json!({"shoe_size": {"conditions": {"$is": [42]}}}), "shoe_size"),
        (json!({"summary.orders.biggest": {"conditions": {"$is": [1]}}}), "summary.orders.biggest"),
        (json!({"email": {"conditions": {"$is": ["a"]}, "weight": 1}}), "email.weight"),
    ] {
        let r = app.post(&p, "/v1/segments", json!({"name": "s", "type": "auto-update", "filter": filter})).await;
        refused(&r, field);
    }
    let r = app
        .post(
            &p,
            "/v1/product-collections",
            json!({"name": "c", "type": "AUTO_UPDATE", "filter": {"colour": {"conditions": {"$is": ["red"]}}}}),
        )
        .await;
    refused(&r, "colour");
    assert_eq!(app.get(&p, "/v1/segments").await.json()["total"], 0);

    let s = app
        .post(
            &p,
            "/v1/segments",
            json!({"name": "First-time buyers", "type": "auto-update",
            "filter": {"summary.orders.total_count": {"conditions": {"$is": [0]}}}}),
        )
        .await;
    s.assert_status(StatusCode::OK);
    let segment = s.json()["id"].as_str().unwrap().to_owned();
    let rule = app
        .post(&p, "/v1/validation-rules", json!({"name": "first order", "rules": {"1": {"name": "customer.segment", "conditions": {"$is": [segment]}}, "logic": "1"}}))
        .await;
    let tiers =
        promotion(&app, &p, "Welcome", vec![tier("Welcome", json!({"type": "AMOUNT", "amount_off": 500}))]).await;
    let rule_id = rule.json()["id"].as_str().unwrap().to_owned();
    app.post(&p, &format!("/v1/validation-rules/{rule_id}/assignments"), json!({"promotion_tier": tiers[0]}))
        .await
        .assert_status(StatusCode::OK);
    let body = |order: &str| {
        json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}], "customer": {"source_id": "newbie"},
               "order": {"source_id": order, "items": [item("mug", 1, 2000)]}})
    };
    let v = app.post(&p, "/v1/validations", body("o1")).await.json();
    assert_eq!(v["valid"], true, "a customer never seen is a first-time buyer: {v}");
    let r = app.post(&p, "/v1/redemptions", body("o1")).await;
    r.assert_status(StatusCode::OK);
    let parent = r.json()["redemptions"][0]["id"].as_str().unwrap().to_owned();
    let c = app.get(&p, "/v1/customers/newbie").await.json();
    assert_eq!(
        (
            &c["summary"]["orders"]["total_count"],
            &c["summary"]["orders"]["total_amount"],
            &c["summary"]["orders"]["last_order_amount"]
        ),
        (&json!(1), &json!(1500), &json!(1500)),
        "{c}"
    );
    let v = app.post(&p, "/v1/validations", body("o2")).await.json();
    assert_eq!(v["valid"], false, "one order later, not a first-time buyer: {v}");
    app.post(&p, &format!("/v1/redemptions/{parent}/rollback"), json!({})).await.assert_status(StatusCode::OK);
    let c = app.get(&p, "/v1/customers/newbie").await.json();
    assert_eq!(c["summary"]["orders"]["total_count"], 0, "the cancelled order does not count: {c}");
    let v = app.post(&p, "/v1/validations", body("o3")).await.json();
    assert_eq!(v["valid"], true, "{v}");
}

/// A standalone voucher's category_id is kept, shown and used in stacking.
#[tokio::test]
async fn a_standalone_vouchers_category_is_honoured() {
    let app = TestApp::new().await;
    let p = app.project("Voucher category").await;
    let cat = app.post(&p, "/v1/categories", json!({"name": "Summer", "hierarchy": 1})).await.json();
    let cat_id = cat["id"].as_str().unwrap();
    let r = app
        .post(&p, "/v1/vouchers/SUN", json!({"type": "DISCOUNT_VOUCHER", "category_id": cat_id, "discount": {"type": "AMOUNT", "amount_off": 100}}))
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["category_id"], cat_id);
    app.post(&p, "/v1/vouchers/NOCAT", json!({"type": "DISCOUNT_VOUCHER", "category_id": "cat_00000000000000000000000000000000", "discount": {"type": "AMOUNT", "amount_off": 1}}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let v = app
        .post(
            &p,
            "/v1/validations",
            json!({"redeemables": [{"object": "voucher", "id": "SUN"}], "order": {"amount": 1000},
            "options": {"expand": ["category"]}}),
        )
        .await
        .json();
    assert_eq!(v["redeemables"][0]["categories"][0]["id"], cat_id, "{v}");
}

/// A tier whose window reaches outside its campaign's could never apply there: refused.
#[tokio::test]
async fn a_tier_window_outside_its_campaign_is_refused() {
    let app = TestApp::new().await;
    let p = app.project("Tier windows").await;
    let tier = |start: &str, end: &str| json!({"name": "t", "start_date": start, "expiration_date": end, "action": {"discount": {"type": "AMOUNT", "amount_off": 1}}});
    let campaign = |tiers: Vec<Value>| {
        json!({"name": "Windowed", "campaign_type": "PROMOTION", "start_date": "2026-06-01T00:00:00Z",
               "expiration_date": "2026-09-01T00:00:00Z", "promotion": {"tiers": tiers}})
    };
    let r = app.post(&p, "/v1/campaigns", campaign(vec![tier("2026-05-01T00:00:00Z", "2026-07-01T00:00:00Z")])).await;
    refused(&r, "promotion.tiers[0].start_date");
    let r = app.post(&p, "/v1/campaigns", campaign(vec![tier("2026-06-10T00:00:00Z", "2026-10-01T00:00:00Z")])).await;
    refused(&r, "promotion.tiers[0].expiration_date");
    let ok = app.post(&p, "/v1/campaigns", campaign(vec![tier("2026-06-10T00:00:00Z", "2026-08-01T00:00:00Z")])).await;
    ok.assert_status(StatusCode::OK);
    let id = ok.json()["id"].as_str().unwrap().to_owned();
    let tier_id = ok.json()["promotion"]["tiers"][0]["id"].as_str().unwrap().to_owned();
    let r =
        app.post(&p, &format!("/v1/promotions/{id}/tiers"), tier("2026-09-02T00:00:00Z", "2026-09-03T00:00:00Z")).await;
    refused(&r, "start_date");
    let r = app
        .put(&p, &format!("/v1/promotions/tiers/{tier_id}"), json!({"expiration_date": "2027-01-01T00:00:00Z"}))
        .await;
    refused(&r, "expiration_date");
    // nor can the campaign's window move past its tiers'
    let r = app.put(&p, &format!("/v1/campaigns/{id}"), json!({"expiration_date": "2026-07-01T00:00:00Z"})).await;
    refused(&r, &tier_id);
    let kept = app.get(&p, &format!("/v1/campaigns/{id}")).await.json();
    assert_eq!(kept["expiration_date"], "2026-09-01T00:00:00Z", "the refused update changed nothing");
    app.put(&p, &format!("/v1/campaigns/{id}"), json!({"expiration_date": "2026-08-15T00:00:00Z"}))
        .await
        .assert_status(StatusCode::OK);
}

/// Lists read only what they use: a segment or collection field its type does not read, an
/// unknown key of a collection member, an entry object that names no kind and a junction that
/// is neither `and` nor `or` are refused, naming the field.
#[tokio::test]
async fn lists_and_entries_refuse_what_they_would_not_read() {
    let app = TestApp::new().await;
    let p = app.project("List fields").await;
    let cases = [
        ("/v1/segments", json!({"name": "s", "type": "static", "customers": [], "filter": {}}), ".filter"),
        ("/v1/segments", json!({"name": "s", "type": "auto-update", "filtr": {}}), ".filtr"),
        (
            "/v1/segments",
            json!({"name": "s", "type": "auto-update", "filter": {"junction": "banana",
            "metadata.tier": {"conditions": {"$is": ["gold"]}}}}),
            "junction",
        ),
        ("/v1/segments", json!({"name": "s", "type": "static", "customers": [], "metadata": {"a": 1}}), ".metadata"),
        ("/v1/product-collections", json!({"name": "c", "type": "STATIC", "products": [], "filter": {}}), ".filter"),
        (
            "/v1/product-collections",
            json!({"name": "c", "type": "STATIC", "products": [{"id": "prod_1", "qty": 2}]}),
            ".products[0].qty",
        ),
        (
            "/v1/product-collections",
            json!({"name": "c", "type": "AUTO_UPDATE", "filter": {"junction": "xor",
            "price": {"conditions": {"$more_than": [1]}}}}),
            "junction",
        ),
        (
            "/v1/validation-rules",
            json!({"name": "r", "applicable_to": {"included": [{"object": "foo", "id": "prod_1"}]}}),
            "object",
        ),
        (
            "/v1/validation-rules",
            json!({"name": "r", "applicable_to": {"included": [{"object": "product", "id": "prod_1",
            "repeat": i64::MAX}]}}),
            "repeat",
        ),
        (
            "/v1/validation-rules",
            json!({"name": "r", "applicable_to": {"included_all": true, "excluded": [{"object": "product",
            "id": "prod_1", "repeat": 2}]}}),
            "excluded[0].repeat",
        ),
    ];
    for (path, body, field) in cases {
        refused(&app.post(&p, path, body.clone()).await, field);
    }
    let huge = app
        .post(&p, "/v1/validation-rules", json!({"name": "r", "applicable_to": {"included": [{"object": "product", "id": "prod_1", "repeat": i64::MAX}]}}))
        .await
        .json();
    assert!(
        huge["details"].as_str().unwrap().contains("between 1 and"),
        "a too large repeat is not called non-positive: {huge}"
    );
    assert_eq!(app.get(&p, "/v1/segments").await.json()["total"], 0, "nothing refused was stored");
    assert_eq!(app.get(&p, "/v1/product-collections").await.json()["total"], 0);
    // `and` / `or` in any case are honoured
    let ok = app
        .post(
            &p,
            "/v1/segments",
            json!({"name": "s", "type": "auto-update", "filter": {"junction": "OR",
        "metadata.tier": {"conditions": {"$is": ["gold"]}}}}),
        )
        .await;
    ok.assert_status(StatusCode::OK);
}

/// `POST /v1/orders` resolves its lines against the catalog, creates the customer it names by
/// source id, and the customer's summary counts the order; a status update keeps the totals a
/// redemption gave, and the lines of a redeemed order cannot change behind its discounts.
#[tokio::test]
async fn admin_orders_are_resolved_counted_and_keep_their_discounts() {
    let app = TestApp::new().await;
    let p = app.project("Admin orders").await;
    app.post(&p, "/v1/products", json!({"source_id": "tee", "name": "T-shirt", "price": 3000}))
        .await
        .assert_status(StatusCode::OK);
    let r = app
        .post(
            &p,
            "/v1/orders",
            json!({"source_id": "o-1", "status": "PAID", "items": [{"source_id": "tee", "quantity": 2}],
            "customer": {"source_id": "new-buyer", "email": "nb@example.com"}}),
        )
        .await;
    r.assert_status(StatusCode::OK);
    let o = r.json();
    assert_eq!(o["amount"], 6000, "the catalog priced the lines: {o}");
    assert_eq!(o["items"][0]["product"]["name"], "T-shirt");
    assert!(o["items"][0]["product_id"].as_str().unwrap().starts_with("prod_"));
    let c = app.get(&p, "/v1/customers/new-buyer").await;
    c.assert_status(StatusCode::OK);
    let c = c.json();
    assert_eq!(c["email"], "nb@example.com", "the order created its customer");
    assert_eq!(o["customer_id"], c["id"]);
    assert_eq!(o["customer"]["id"], c["id"], "the order names its customer as a redeemed one does");
    assert_eq!(c["summary"]["orders"]["total_count"], 1, "the summary counts the admin order: {c}");
    assert_eq!(c["summary"]["orders"]["total_amount"], 6000);
    let listed = app.get(&p, "/v1/customers").await.json();
    let entry = listed["customers"].as_array().unwrap().iter().find(|x| x["source_id"] == "new-buyer").unwrap().clone();
    assert_eq!(entry["summary"], c["summary"], "the list shows the same summary as GET");
    app.post(&p, "/v1/orders", json!({"items": [], "customer": {"id": "cust_00000000000000000000000000000000"}}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    voucher(&app, &p, "FIVE", json!({"type": "AMOUNT", "amount_off": 500}), None, None).await;
    let redeemed = app
        .post(
            &p,
            "/v1/redemptions",
            json!({"redeemables": [{"object": "voucher", "id": "FIVE"}],
            "order": {"source_id": "o-2", "status": "CREATED", "items": [{"source_id": "tee", "quantity": 1}]}}),
        )
        .await;
    redeemed.assert_status(StatusCode::OK);
    let stored = app.get(&p, "/v1/orders/o-2").await.json();
    assert_eq!(stored["created_at"], redeemed.json()["order"]["created_at"], "the answer's order is the stored one");
    let paid = app.put(&p, "/v1/orders/o-2", json!({"status": "PAID"})).await;
    paid.assert_status(StatusCode::OK);
    let paid = paid.json();
    assert_eq!(
        (paid["status"].as_str(), paid["discount_amount"].as_i64(), paid["total_amount"].as_i64()),
        (Some("PAID"), Some(500), Some(2500)),
        "{paid}"
    );
    assert_eq!(paid["redemptions"].as_object().map(|m| m.len()), Some(1), "the redemption map stays");
    refused(&app.put(&p, "/v1/orders/o-2", json!({"items": [{"source_id": "tee", "quantity": 5}]})).await, ".items");
    refused(&app.put(&p, "/v1/orders/o-2", json!({"amount": 1})).await, ".amount");
    refused(&app.put(&p, "/v1/orders/o-2", json!({"customer": {"source_id": "x"}})).await, ".customer");
    // an order names its customer by a null id and a source id, or by the source id in the id
    for customer in [json!({"id": null, "source_id": "new-buyer"}), json!({"id": "new-buyer"})] {
        let r = app.post(&p, "/v1/orders", json!({"items": [], "customer": customer})).await;
        r.assert_status(StatusCode::OK);
        assert_eq!(r.json()["customer_id"], c["id"], "{customer}");
    }
}

/// A bundle rule naming catalog products by id meets carts that name them by source id.
fn bundle_of(parts: &[(&str, i64)], limit: Option<i64>) -> Value {
    let mut b = json!({"limit": limit});
    for (i, (id, units)) in parts.iter().enumerate() {
        b[(i + 1).to_string()] = json!({"name": "order.items.any",
            "conditions": {"$is": [{"id": id, "type": "product_or_sku", "object": "product"}]},
            "rules": {"1": {"name": "order.items.quantity", "conditions": {"$more_than_or_equal": [units]}}}});
    }
    b
}

fn by_source(source_id: &str, quantity: i64, price: i64) -> Value {
    json!({"source_id": source_id, "quantity": quantity, "price": price})
}

/// `bundle_rules`: complete bundles (up to `limit`) multiply the discount and are answered in
/// `result.bundle`; a cart short of one is INAPPLICABLE with what is missing (and a near miss
/// in qualifications); a FIXED discount on items prices each bundle ("any 3 for £10"); the
/// rule reads back as written, `null` keeps it and `{}` removes it.
#[tokio::test]
async fn bundles_multiply_discounts_and_price_any_k_for_x() {
    let app = TestApp::new().await;
    let p = app.project("Bundles").await;
    let mut ids = std::collections::HashMap::new();
    for (source, price) in [("laptop", 100_000), ("bag", 5_000), ("tee", 600), ("cap", 500)] {
        let r = app.post(&p, "/v1/products", json!({"source_id": source, "name": source, "price": price})).await;
        ids.insert(source, r.json()["id"].as_str().unwrap().to_owned());
    }
    let bundle = bundle_of(&[(&ids["laptop"], 1), (&ids["bag"], 2)], Some(2));
    let r = app.post(&p, "/v1/validation-rules", json!({"name": "laptop and two bags", "bundle_rules": bundle})).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["bundle_rules"], bundle, "read back as written");
    let rule = r.json()["id"].as_str().unwrap().to_owned();
    voucher(
        &app,
        &p,
        "KIT",
        json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ORDER"}),
        None,
        Some(&rule),
    )
    .await;
    let validate = |items: Value| {
        let app = &app;
        let p = &p;
        async move {
            app.post(
                p,
                "/v1/validations",
                json!({"redeemables": [{"object": "voucher", "id": "KIT"}], "order": {"items": items}}),
            )
            .await
            .json()
        }
    };

    // three laptops and five bags hold two bundles; the limit is 2 anyway
    let v = validate(json!([by_source("laptop", 3, 100_000), by_source("bag", 5, 5_000)])).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["order"]["discount_amount"], 2000, "1000 per bundle, two bundles: {v}");
    let b = &v["redeemables"][0]["result"]["bundle"];
    assert_eq!((&b["quantity"], &b["limit"]), (&json!(2), &json!(2)), "{v}");
    assert_eq!(
        b["identified"],
        json!([{"id": ids["laptop"], "object": "product", "item_index": 0, "item_quantity": 2},
               {"id": ids["bag"], "object": "product", "item_index": 1, "item_quantity": 4}]),
        "{v}"
    );
    assert!(b.get("missing").is_none(), "not sent once a bundle is complete: {v}");

    // one laptop and one bag: a bag short
    let v = validate(json!([by_source("laptop", 1, 100_000), by_source("bag", 1, 5_000)])).await;
    assert_eq!(v["valid"], false, "{v}");
    let result = &v["inapplicable_redeemables"][0]["result"];
    assert_eq!(result["error"]["key"], "order_rules_violated", "{v}");
    assert_eq!(result["bundle"]["quantity"], 0, "{v}");
    assert_eq!(
        result["bundle"]["missing"],
        json!([{"id": ids["bag"], "object": "product", "item_quantity": 1}]),
        "{v}"
    );

    // qualifications: a near miss (one more bag), and the bundle of a tier that applies
    promotion(
        &app,
        &p,
        "Kit promo",
        vec![json!({"name": "kit", "action": {"discount": {"type": "PERCENT", "percent_off": 5}}, "validation_rules": [rule]})],
    )
    .await;
    let q = app
        .post(
            &p,
            "/v1/qualifications",
            json!({"order": {"items": [by_source("laptop", 1, 100_000), by_source("bag", 1, 5_000)]}}),
        )
        .await
        .json();
    let near = q["near_misses"].as_array().unwrap();
    assert_eq!(near.len(), 1, "{q}");
    assert_eq!(near[0]["missing"][0]["missing"]["needed"], 1, "{q}");
    assert_eq!(near[0]["bundle"]["missing"][0]["id"], json!(ids["bag"]), "{q}");
    let q = app
        .post(
            &p,
            "/v1/qualifications",
            json!({"order": {"items": [by_source("laptop", 2, 100_000), by_source("bag", 4, 5_000)]}}),
        )
        .await
        .json();
    let tier = &q["redeemables"]["data"][0];
    assert_eq!(tier["result"]["bundle"]["quantity"], 2, "{q}");
    assert_eq!(tier["order"]["discount_amount"], 22_000, "5 % per bundle: 10 % of 220,000: {q}");

    // any 3 of tees and caps for 10.00: six units make two bundles at 20.00 instead of 34.00
    let r = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "any 3", "bundle_rules": {"1": {"name": "order.items.any",
                "conditions": {"$is": [{"id": ids["tee"], "type": "product_or_sku", "object": "product"},
                                       {"id": ids["cap"], "type": "product_or_sku", "object": "product"}]},
                "rules": {"1": {"name": "order.items.quantity", "conditions": {"$is": [3]}}}}}}),
        )
        .await;
    let any3 = r.json()["id"].as_str().unwrap().to_owned();
    voucher(
        &app,
        &p,
        "ANY3",
        json!({"type": "FIXED", "fixed_amount": 1000, "effect": "APPLY_TO_ITEMS"}),
        None,
        Some(&any3),
    )
    .await;
    let r = app
        .post(
            &p,
            "/v1/redemptions",
            json!({"redeemables": [{"object": "voucher", "id": "ANY3"}],
                   "order": {"items": [by_source("tee", 4, 600), by_source("cap", 3, 500)]}}),
        )
        .await;
    r.assert_status(StatusCode::OK);
    let v = r.json();
    // seven units: two bundles of the dearest six (4 tees, 2 caps = 34.00) cost 20.00
    assert_eq!(v["order"]["items_discount_amount"], 1400, "{v}");
    assert_eq!(v["order"]["total_amount"], 2400 + 1500 - 1400, "{v}");

    // PUT: null keeps the bundle, {} removes it
    let r =
        app.put(&p, &format!("/v1/validation-rules/{rule}"), json!({"name": "renamed", "bundle_rules": null})).await;
    assert_eq!(r.json()["bundle_rules"], bundle, "{}", r.json());
    let r = app.put(&p, &format!("/v1/validation-rules/{rule}"), json!({"bundle_rules": {}})).await;
    assert_eq!(r.json()["bundle_rules"], json!({}));
    let v = validate(json!([by_source("laptop", 1, 100_000), by_source("bag", 1, 5_000)])).await;
    assert_eq!((&v["valid"], &v["order"]["discount_amount"]), (&json!(true), &json!(1000)), "{v}");

    // malformed bundles are refused with the path
    for (b, path) in [
        (json!({"limit": 1}), "bundle_rules"),
        (
            json!({"limit": 101, "1": {"name": "order.items.any", "conditions": {"$is": [{"id": "prod_x", "object": "product"}]}}}),
            "bundle_rules.limit",
        ),
        (
            json!({"1": {"name": "order.items.any", "conditions": {"$in": [{"id": "prod_x", "object": "product"}]}}}),
            "bundle_rules.1.conditions.$in",
        ),
        (
            json!({"1": {"name": "order.items.any", "conditions": {"$is": [{"id": "prod_x", "object": "product"}]},
                "rules": {"1": {"name": "order.items.price", "conditions": {"$is": [3]}}}}}),
            "bundle_rules.1.rules.1.name",
        ),
    ] {
        refused(&app.post(&p, "/v1/validation-rules", json!({"name": "bad", "bundle_rules": b})).await, path);
    }
}
