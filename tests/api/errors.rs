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
async fn null_is_absent_and_unknown_fields_are_ignored() {
    let app = TestApp::new().await;
    let p = app.project("Nulls").await;
    let r = app
        .post(
            &p,
            "/v1/products",
            json!({"source_id": "mug", "name": null, "price": 1000, "colour": "red", "metadata": null}),
        )
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["metadata"], json!({}));
    assert!(r.json().get("colour").is_none());
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
