//! Segments, product collections, orders.

use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn segments_static_and_auto_update() {
    let app = TestApp::new().await;
    let p = app.project("Segments").await;
    let alice = app.post(&p, "/v1/customers", json!({"source_id": "alice"})).await.json();
    let s = app
        .post(&p, "/v1/segments", json!({"name": "VIP", "type": "static", "customers": [alice["id"], "alice"]}))
        .await;
    s.assert_status(StatusCode::OK);
    let s = s.json();
    assert!(s["id"].as_str().unwrap().starts_with("seg_"));
    assert_eq!(
        (s["type"].as_str(), s["object"].as_str(), s["initial_sync_status"].as_str()),
        (Some("static"), Some("segment"), Some("DONE"))
    );
    let auto = app.post(&p, "/v1/segments", json!({"name": "Poles", "type": "auto-update", "filter": {"junction": "and", "address.country": {"conditions": {"$is": ["Poland"]}}}})).await;
    auto.assert_status(StatusCode::OK);
    assert_eq!(auto.json()["filter"]["address.country"]["conditions"]["$is"][0], "Poland");
    app.post(
        &p,
        "/v1/segments",
        json!({"name": "Bad", "type": "auto-update", "filter": {"age": {"conditions": {"$older": [3]}}}}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(
        &p,
        "/v1/segments",
        json!({"name": "Ghosts", "type": "static", "customers": ["cust_00000000000000000000000000000000"]}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.get(&p, "/v1/segments").await.json()["total"], 2, "failed creations wrote nothing");
    let id = s["id"].as_str().unwrap();
    app.get(&p, &format!("/v1/segments/{id}")).await.assert_status(StatusCode::OK);
    app.delete(&p, &format!("/v1/segments/{id}")).await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, &format!("/v1/segments/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn product_collections_static_and_auto_update() {
    let app = TestApp::new().await;
    let p = app.project("Collections").await;
    let c = app.post(&p, "/v1/product-collections", json!({"name": "Summer", "type": "STATIC", "products": [{"id": "prod_1", "object": "product"}, {"id": "sku_1", "product_id": "prod_1", "object": "sku"}]})).await;
    c.assert_status(StatusCode::OK);
    let c = c.json();
    assert!(c["id"].as_str().unwrap().starts_with("pc_"));
    assert_eq!((c["object"].as_str(), c["products"].as_array().map(Vec::len)), (Some("products_collection"), Some(2)));
    app.post(&p, "/v1/product-collections", json!({"name": "Pricey", "type": "AUTO_UPDATE", "filter": {"junction": "and", "price": {"conditions": {"$more_than": [5000]}}}}))
        .await
        .assert_status(StatusCode::OK);
    app.post(
        &p,
        "/v1/product-collections",
        json!({"name": "Bad", "type": "AUTO_UPDATE", "filter": {"price": {"conditions": {"$more_than": ["lots"]}}}}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/product-collections", json!({"name": "Odd", "type": "STATIC", "products": [7]}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    // a member's fields are strings: anything else is refused, not stored and answered back
    let odd = json!({"name": "Odder", "type": "STATIC", "products": [{"id": {"nested": 1}, "object": "sku", "product_id": "prod_1"}]});
    let body =
        app.post(&p, "/v1/product-collections", odd).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(body["details"].as_str().unwrap().contains("products[0].id"), "{body}");
    assert_eq!(app.get(&p, "/v1/product-collections").await.json()["total"], 2);
    let id = c["id"].as_str().unwrap();
    app.delete(&p, &format!("/v1/product-collections/{id}")).await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, &format!("/v1/product-collections/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn orders_get_engine_totals_and_update_by_source_id() {
    let app = TestApp::new().await;
    let p = app.project("Orders").await;
    app.post(&p, "/v1/customers", json!({"source_id": "bob"})).await.assert_status(StatusCode::OK);
    let o = app
        .post(&p, "/v1/orders", json!({"source_id": "ord-1", "customer": {"source_id": "bob"}, "items": [{"product_id": "prod_1", "quantity": 2, "price": 1500}, {"source_id": "mug", "related_object": "product", "amount": 700}]}))
        .await;
    o.assert_status(StatusCode::OK);
    let o = o.json();
    assert!(o["id"].as_str().unwrap().starts_with("ord_"));
    assert_eq!(
        (o["amount"].as_i64(), o["total_amount"].as_i64(), o["status"].as_str()),
        (Some(3700), Some(3700), Some("CREATED"))
    );
    assert_eq!((o["items"][0]["amount"].as_i64(), o["items"][1]["quantity"].as_i64()), (Some(3000), Some(1)));
    assert!(o["customer_id"].as_str().unwrap().starts_with("cust_"));
    let u = app.put(&p, "/v1/orders/ord-1", json!({"status": "PAID"})).await;
    assert_eq!((u.json()["status"].as_str(), u.json()["amount"].as_i64()), (Some("PAID"), Some(3700)));
    app.put(&p, "/v1/orders/ord-1", json!({"status": "LOST"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/orders", json!({"items": [{"quantity": 0, "price": 1}]}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/orders", json!({"amount": 10, "items": [{"quantity": 1, "price": 100}]}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/orders", json!({"source_id": "ord-1"}))
        .await
        .assert_error(StatusCode::CONFLICT, "duplicate_found");
    let list = app.get(&p, "/v1/orders").await.json();
    assert_eq!((list["data_ref"].as_str(), list["total"].as_i64()), (Some("orders"), Some(1)));
}

#[tokio::test]
async fn another_projects_segments_collections_and_orders_are_404() {
    let app = TestApp::new().await;
    let (a, b) = (app.project("Owner").await, app.project("Other").await);
    let seg = app.post(&a, "/v1/segments", json!({"name": "S", "type": "static"})).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pc = app
        .post(&a, "/v1/product-collections", json!({"name": "C", "type": "STATIC", "products": []}))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ord = app.post(&a, "/v1/orders", json!({"source_id": "o-1", "amount": 100})).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/v1/segments/{seg}"),
        format!("/v1/product-collections/{pc}"),
        format!("/v1/orders/{ord}"),
        "/v1/orders/o-1".to_owned(),
    ] {
        app.get(&b, &path).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    app.delete(&b, &format!("/v1/segments/{seg}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.put(&b, &format!("/v1/orders/{ord}"), json!({"status": "PAID"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    for path in ["/v1/segments", "/v1/product-collections", "/v1/orders"] {
        assert_eq!(app.get(&b, path).await.json()["total"], 0, "{path}");
    }
}
