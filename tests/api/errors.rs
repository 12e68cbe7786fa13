//! The error contract: body shape, statuses, bad input changes nothing.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn malformed_json_names_the_problem() {
    let app = TestApp::new().await;
    let p = app.project("Errors").await;
    let e = app
        .post(&p, "/v1/customers", json!("RAW:{\"source_id\": "))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e["details"].as_str().unwrap().starts_with("Invalid JSON"), "{e}");
    let e = app
        .post(&p, "/v1/customers", json!({"source_id": "a", "address": "Main St"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e["details"].as_str().unwrap().contains(".address"), "{e}");
    let e = app
        .post(&p, "/v1/products", json!({"price": "cheap"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e["details"].as_str().unwrap().contains(".price"), "{e}");
}

#[tokio::test]
async fn null_is_absent_and_unknown_fields_are_refused() {
    let app = TestApp::new().await;
    let p = app.project("Nulls").await;
    let r =
        app.post(&p, "/v1/products", json!({"source_id": "mug", "name": null, "price": 1000, "metadata": null})).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["metadata"], json!({}));
    let e = app.post(&p, "/v1/products", json!({"source_id": "cup", "colour": "red"})).await;
    let e = e.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e["details"].as_str().unwrap().contains("colour"), "{e}");
}

/// Nothing accepted and ignored: a property no operation reads is a 400 naming it, and nothing
/// is written (a try-out found `PUT /v1/campaigns/{id} {"bogus_field": 1}` answered 200 and a
/// standalone code's `campaign_id` silently dropped).
#[tokio::test]
async fn fields_an_operation_does_not_read_are_refused_by_name() {
    let app = TestApp::new().await;
    let p = app.project("Unread fields").await;
    let discount = json!({"type": "AMOUNT", "amount_off": 100});
    let camp = app
        .post(&p, "/v1/campaigns", json!({"name": "C", "voucher": {"type": "DISCOUNT_VOUCHER", "discount": discount}}))
        .await
        .json();
    let camp_id = camp["id"].as_str().unwrap().to_owned();
    let promo = app
        .post(
            &p,
            "/v1/campaigns",
            json!({"name": "P", "campaign_type": "PROMOTION",
                   "promotion": {"tiers": [{"name": "T", "action": {"discount": discount}}]}}),
        )
        .await
        .json();
    let tier = promo["promotion"]["tiers"][0]["id"].as_str().unwrap().to_owned();
    app.post(&p, "/v1/vouchers/OWN", json!({"discount": discount})).await.assert_status(StatusCode::OK);
    let cases: Vec<(axum::http::Method, String, serde_json::Value, &str)> = vec![
        (
            Method::POST,
            "/v1/campaigns".into(),
            json!({"name": "X", "bogus_field": 1, "voucher": {"discount": discount}}),
            "bogus_field",
        ),
        (
            Method::POST,
            "/v1/campaigns".into(),
            json!({"name": "X", "voucher": {"discount": discount, "active": false}}),
            "voucher.active",
        ),
        (
            Method::POST,
            "/v1/campaigns".into(),
            json!({"name": "X", "voucher": {"discount": discount, "colour": 1}}),
            "voucher.colour",
        ),
        (Method::PUT, format!("/v1/campaigns/{camp_id}"), json!({"bogus_field": 1}), "bogus_field"),
        (Method::PUT, format!("/v1/campaigns/{camp_id}"), json!({"name": "Renamed"}), "name"),
        (Method::PUT, format!("/v1/campaigns/{camp_id}"), json!({"voucher": {"code": "X"}}), "voucher.code"),
        (Method::POST, "/v1/vouchers/NEW".into(), json!({"discount": discount, "campaign_id": camp_id}), "campaign_id"),
        (Method::POST, "/v1/vouchers/NEW".into(), json!({"discount": discount, "bogus_field": 1}), "bogus_field"),
        (
            Method::POST,
            "/v1/vouchers/NEW".into(),
            json!({"discount": discount, "redemption": {"quantity": 2, "per_day": 1}}),
            "redemption.per_day",
        ),
        (Method::PUT, "/v1/vouchers/OWN".into(), json!({"campaign_id": camp_id}), "campaign_id"),
        (Method::PUT, "/v1/vouchers/OWN".into(), json!({"code": "OTHER"}), "code"),
        (Method::PUT, "/v1/vouchers/OWN".into(), json!({"bogus_field": 1}), "bogus_field"),
        (Method::POST, format!("/v1/campaigns/{camp_id}/vouchers"), json!({"active": false}), "active"),
        (Method::POST, format!("/v1/campaigns/{camp_id}/vouchers"), json!({"category_id": "cat_x"}), "category_id"),
        (
            Method::POST,
            format!("/v1/promotions/{}/tiers", promo["id"].as_str().unwrap()),
            json!({"name": "U", "action": {"discount": discount}, "bogus_field": 1}),
            "bogus_field",
        ),
        (
            Method::PUT,
            format!("/v1/promotions/tiers/{tier}"),
            json!({"action": {"discount": discount, "extra": 1}}),
            "action.extra",
        ),
        (Method::PUT, format!("/v1/promotions/tiers/{tier}"), json!({"validation_rules": []}), "validation_rules"),
        (
            Method::POST,
            "/v1/validations".into(),
            json!({"redeemables": [{"object": "voucher", "id": "OWN"}], "channel": "web"}),
            "channel",
        ),
        (
            Method::POST,
            "/v1/redemptions".into(),
            json!({"redeemables": [{"object": "voucher", "id": "OWN", "points": 1}]}),
            "points",
        ),
        (Method::POST, "/v1/customers".into(), json!({"source_id": "c1", "nickname": "x"}), "nickname"),
        (Method::PUT, "/v1/vouchers/OWN".into(), json!({"validation_rules": []}), "validation_rules"),
        (Method::PUT, "/v1/vouchers/OWN".into(), json!({"active": "no"}), "active"),
        (Method::PUT, format!("/v1/promotions/tiers/{tier}"), json!({"hierarchy": "first"}), "hierarchy"),
        (Method::PUT, format!("/v1/promotions/tiers/{tier}"), json!({"hierarchy": -1}), "hierarchy"),
        (
            Method::POST,
            "/v1/campaigns".into(),
            json!({"name": "X", "campaign_type": "PROMOTION", "vouchers_count": 5}),
            "vouchers_count",
        ),
        (
            Method::POST,
            "/v1/campaigns".into(),
            json!({"name": "X", "campaign_type": "PROMOTION", "promotion": {"tiers": [], "bogus": 1}}),
            "promotion.bogus",
        ),
        (
            Method::POST,
            "/v1/campaigns".into(),
            json!({"name": "X", "voucher": {"discount": discount}, "promotion": {"tiers": []}}),
            "promotion",
        ),
        (
            Method::POST,
            "/v1/validations".into(),
            json!({"redeemables": [{"object": "voucher", "id": "OWN"}], "scenario": "ALL"}),
            "scenario",
        ),
        (
            Method::POST,
            "/v1/redemptions".into(),
            json!({"redeemables": [{"object": "voucher", "id": "OWN"}], "options": {"limit": 5}}),
            "options.limit",
        ),
        (
            Method::POST,
            "/v1/qualifications".into(),
            json!({"redeemables": [{"object": "voucher", "id": "OWN"}]}),
            "redeemables",
        ),
        (
            Method::POST,
            format!("/v1/promotions/{}/stacks", promo["id"].as_str().unwrap()),
            json!({"name": "S", "tiers": {"ids": [tier]}, "bogus": 1}),
            "bogus",
        ),
        (Method::POST, format!("/v1/campaigns/{camp_id}/vouchers/CC2"), json!({"code": 5}), "code"),
        (Method::POST, "/v1/categories".into(), json!({"name": "K", "colour": "red"}), "colour"),
        (Method::POST, "/v1/products".into(), json!({"source_id": "p1", "sku_count": 2}), "sku_count"),
    ];
    for (method, path, body, field) in cases {
        let r = app.request(method.clone(), &path, Auth::App(&p), Some(body.clone())).await;
        let e = r.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        assert!(e["details"].as_str().unwrap().contains(field), "{method} {path} {body}: {e}");
    }
    // nothing was written
    assert_eq!(app.get(&p, "/v1/campaigns").await.json()["total"], json!(2));
    app.get(&p, "/v1/vouchers/NEW").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.get(&p, &format!("/v1/campaigns/{camp_id}")).await.json()["name"], json!("C"));
    assert_eq!(app.get(&p, "/v1/customers").await.json()["total"], json!(0));
    // a code's own campaign (by id or name) and code may be sent back unchanged
    app.post(&p, &format!("/v1/campaigns/{camp_id}/vouchers/CC1"), json!({})).await.assert_status(StatusCode::OK);
    app.put(&p, "/v1/vouchers/CC1", json!({"campaign_id": camp_id, "campaign": "C"}))
        .await
        .assert_status(StatusCode::OK);
    app.put(&p, "/v1/vouchers/own", json!({"code": "OWN", "additional_info": "same code"}))
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn oversized_bodies_get_413_and_wrong_content_types_415() {
    let app = TestApp::new().await;
    let p = app.project("Sizes").await;
    let big = format!("RAW:{{\"name\": \"{}\"}}", "x".repeat(promo_api::MAX_BODY_BYTES + 10));
    app.post(&p, "/v1/categories", json!(big)).await.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "query_too_large");
    let r = app
        .request(
            Method::POST,
            "/v1/categories",
            Auth::Raw(vec![("x-app-id", &p.app_id), ("x-app-token", &p.token), ("content-type", "text/plain")]),
            None,
        )
        .await;
    r.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_eq!(app.get(&p, "/v1/categories").await.json()["total"], 0, "nothing was written");
}

#[tokio::test]
async fn unknown_paths_and_methods_use_the_error_body() {
    let app = TestApp::new().await;
    let p = app.project("Paths").await;
    app.get(&p, "/v1/nothing-here").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&p, "/v1/categories").await.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let r = app.get(&p, "/v1/categories/not-an-id").await;
    let e = r.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(e["resource_type"], "category");
    assert!(r.headers.get("x-request-id").is_some());
}

#[tokio::test]
async fn bad_paging_is_an_invalid_query() {
    let app = TestApp::new().await;
    let p = app.project("Paging").await;
    for q in ["limit=0", "limit=101", "page=0", "page=1001", "limit=abc"] {
        app.get(&p, &format!("/v1/categories?{q}")).await.assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    }
}

#[tokio::test]
async fn health_endpoints_answer() {
    let app = TestApp::new().await;
    app.request(Method::GET, "/health/live", Auth::None, None).await.assert_status(StatusCode::OK);
    let r = app.request(Method::GET, "/health/ready", Auth::None, None).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    app.db.close().await;
    app.request(Method::GET, "/health/ready", Auth::None, None)
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
}

#[tokio::test]
async fn serve_stops_gracefully_when_told() {
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = promo_api::state::AppState::new(
        app.db.clone(),
        promo_api::config::Config::for_tests((MANAGEMENT_ID.into(), MANAGEMENT_TOKEN.into())),
        promo_api::state::ManagementCredential {
            id: MANAGEMENT_ID.into(),
            token_hash: promo_store::hash_token(MANAGEMENT_TOKEN),
        },
    );
    let server = tokio::spawn(promo_api::serve(listener, state, async {
        let _ = stopped.await;
    }));
    // A real request over TCP, then the shutdown signal.
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    stop.send(()).expect("send");
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("stops in time")
        .expect("join")
        .expect("serve");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the port is closed");
}

#[tokio::test]
async fn an_unusable_database_is_a_retryable_503_without_the_cause() {
    let app = TestApp::new().await;
    let p = app.project("Faults").await;
    app.db.close().await;
    let r = app.get(&p, "/v1/categories").await;
    let body = r.assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    assert_eq!(body["details"], "The database is unavailable; retry shortly");
    assert!(!String::from_utf8_lossy(&r.body).to_lowercase().contains("pool"), "no cause leaks: {body}");
}
