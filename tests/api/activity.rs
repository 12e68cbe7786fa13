//! Custom events and a customer's activity.

use crate::checkout::{code, item};
use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_customers_activity_lists_events_redemptions_rollbacks_and_publications_in_time_order() {
    let app = TestApp::new().await;
    let p = app.project("Activity").await;
    app.update_project(&p, json!({"client_trusted_domains": ["shop.example.com"]})).await.assert_status(StatusCode::OK);
    let e = app
        .post(
            &p,
            "/v1/events",
            json!({"event": "signed_up", "customer": {"source_id": "bob", "name": "Bob"}, "metadata": {"plan": "pro"}}),
        )
        .await;
    e.assert_status(StatusCode::OK);
    let e = e.json();
    assert_eq!(
        (&e["object"], &e["type"], &e["customer"]["source_id"]),
        (&json!("event"), &json!("signed_up"), &json!("bob")),
        "{e}"
    );
    assert!(e["customer"]["id"].as_str().unwrap().starts_with("cust_"));
    assert_eq!((&e["referral"], &e["loyalty"], &e["metadata"]), (&Value::Null, &Value::Null, &json!({"plan": "pro"})));
    app.client_post(&p, "/client/v1/events", json!({"event": "cart_viewed", "customer": {"source_id": "bob"}}))
        .await
        .assert_status(StatusCode::OK);
    code(&app, &p, "BOB10", json!({"type": "AMOUNT", "amount_off": 1000})).await;
    let redeemed = app
        .post(
            &p,
            "/v1/redemptions",
            json!({"redeemables": [{"object": "voucher", "id": "BOB10"}],
            "order": {"items": [item("mug", 1, 3000)]}, "customer": {"source_id": "bob"}}),
        )
        .await
        .json();
    app.post(
        &p,
        "/v1/redemptions",
        json!({"redeemables": [{"object": "voucher", "id": "NOPE"}],
        "order": {"items": [item("mug", 1, 3000)]}, "customer": {"source_id": "bob"}}),
    )
    .await;
    let r = redeemed["redemptions"][0]["id"].as_str().unwrap();
    app.post(&p, &format!("/v1/redemptions/{r}/rollback"), json!({})).await.assert_status(StatusCode::OK);
    app.post(
        &p,
        "/v1/campaigns",
        json!({"name": "Welcome", "type": "AUTO_UPDATE", "vouchers_count": 0,
        "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100}}}),
    )
    .await
    .assert_status(StatusCode::OK);
    app.post(&p, "/v1/publications", json!({"campaign": {"name": "Welcome"}, "customer": {"source_id": "bob"}}))
        .await
        .assert_status(StatusCode::OK);

    let all = app.get(&p, "/v1/customers/bob/activity?limit=100").await.json();
    let types: Vec<&str> = all["data"].as_array().unwrap().iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "customer.publication.succeeded",
            "customer.redemption.rollback.succeeded",
            "customer.redemption.failed",
            "customer.redemption.succeeded",
            "customer.custom_event",
            "customer.custom_event"
        ],
        "newest first (the unknown code's failed redemption is the customer's too): {all}"
    );
    let data = all["data"].as_array().unwrap();
    assert_eq!(data[3]["id"], json!(r));
    assert_eq!(data[3]["data"]["redemption"]["id"], json!(r));
    assert!(data[2]["id"].as_str().unwrap().starts_with("rf_"));
    assert_eq!(
        (&data[5]["data"]["event"], &data[5]["data"]["metadata"]),
        (&json!("signed_up"), &json!({"plan": "pro"}))
    );
    assert!(data[5]["id"].as_str().unwrap().starts_with("evcus_"));
    let times: Vec<&str> = data.iter().map(|a| a["created_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // pages of two cover every entry once; oldest first on request; one type
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/v1/customers/bob/activity?limit=2".to_owned(),
            Some(c) => format!("/v1/customers/bob/activity?limit=2&starting_after_id={c}"),
        };
        let page = app.get(&p, &path).await.json();
        seen.extend(page["data"].as_array().unwrap().iter().map(|a| a["id"].clone()));
        match page["more_starting_after"].as_str() {
            Some(next) if page["has_more"] == true => cursor = Some(next.to_owned()),
            _ => break,
        }
    }
    assert_eq!(seen, data.iter().map(|a| a["id"].clone()).collect::<Vec<_>>());
    let oldest = app.get(&p, "/v1/customers/bob/activity?order=created_at&limit=1").await.json();
    assert_eq!(oldest["data"][0]["type"], "customer.custom_event");
    let events = app.get(&p, "/v1/customers/bob/activity?type=customer.custom_event").await.json();
    assert_eq!(events["data"].as_array().unwrap().len(), 2);

    // refused: no event name, programs this service has not, a wrong type; others' customers
    for (body, named) in [
        (json!({"customer": {"source_id": "bob"}}), "event"),
        (json!({"event": "x", "customer": {"source_id": "bob"}, "referral": {"code": "R"}}), "referral"),
        (json!({"event": "x"}), "customer"),
    ] {
        let e = app.post(&p, "/v1/events", body).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        assert!(e["details"].as_str().unwrap().contains(named), "{e}");
    }
    app.get(&p, "/v1/customers/bob/activity?type=customer.sms.sent")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    let other = app.project("Not Bob's").await;
    app.get(&other, "/v1/customers/bob/activity").await.assert_error(StatusCode::NOT_FOUND, "not_found");

    // a validation of Bob's that fails is in his activity (written with the validation tally),
    // under the validation's own id; one that passes, and an unknown shopper's, are not
    code(&app, &p, "MIN50", json!({"type": "AMOUNT", "amount_off": 100})).await;
    app.post(&p, "/v1/vouchers/MIN50/disable", json!({})).await.assert_status(StatusCode::OK);
    let failed = app
        .post(
            &p,
            "/v1/validations",
            json!({"redeemables": [{"object": "voucher", "id": "MIN50"}], "order": {"amount": 2500},
            "customer": {"source_id": "bob"}}),
        )
        .await
        .json();
    assert_eq!(failed["valid"], false, "{failed}");
    for customer in ["bob", "stranger"] {
        app.post(
            &p,
            "/v1/validations",
            json!({"redeemables": [{"object": "voucher", "id": "BOB10"}], "order": {"amount": 2500},
            "customer": {"source_id": customer}}),
        )
        .await
        .assert_status(StatusCode::OK);
    }
    app.state.validations.flush(&app.db).await.unwrap();
    let v = app.get(&p, "/v1/customers/bob/activity?type=customer.validation.failed").await.json();
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{v}");
    assert_eq!(data[0]["id"], failed["id"]);
    let refused = &data[0]["data"]["validation"]["inapplicable_redeemables"][0];
    assert_eq!((&refused["id"], &refused["status"]), (&json!("MIN50"), &json!("INAPPLICABLE")), "{v}");
    assert_eq!(refused["result"]["error"]["key"], failed["inapplicable_redeemables"][0]["result"]["error"]["key"]);
    assert_eq!(data[0]["data"]["validation"]["order"]["amount"], 2500);
    let newest = app.get(&p, "/v1/customers/bob/activity?limit=1").await.json();
    assert_eq!(newest["data"][0]["type"], "customer.validation.failed");
}
