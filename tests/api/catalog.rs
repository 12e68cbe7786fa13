//! Categories, customers, products and SKUs: lifecycle, bad input, isolation between projects.

use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn category_lifecycle_and_bad_input() {
    let app = TestApp::new().await;
    let p = app.project("Categories").await;
    let c = app.post(&p, "/v1/categories", json!({"name": "Summer", "hierarchy": 2})).await;
    c.assert_status(StatusCode::OK);
    let id = c.json()["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cat_"));
    app.post(&p, "/v1/categories", json!({"name": "Summer"}))
        .await
        .assert_error(StatusCode::CONFLICT, "duplicate_found");
    app.post(&p, "/v1/categories", json!({"name": "Neg", "hierarchy": -1}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/categories", json!({"hierarchy": 1}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/categories", json!({"name": "Winter", "hierarchy": 1})).await.assert_status(StatusCode::OK);
    let list = app.get(&p, "/v1/categories").await.json();
    let names: Vec<&str> = list["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Winter", "Summer"], "by hierarchy");
    let u = app.put(&p, &format!("/v1/categories/{id}"), json!({"hierarchy": 0})).await;
    assert_eq!((u.json()["name"].as_str(), u.json()["hierarchy"].as_i64()), (Some("Summer"), Some(0)));
    assert!(u.json()["updated_at"].is_string());
    app.delete(&p, &format!("/v1/categories/{id}")).await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, &format!("/v1/categories/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn customer_lifecycle_by_id_and_source_id() {
    let app = TestApp::new().await;
    let p = app.project("Customers").await;
    let c = app.post(&p, "/v1/customers", json!({"source_id": "alice@example.com", "name": "Alice", "email": "alice@example.com", "birthdate": "1990-02-03", "metadata": {"club": "gold"}})).await;
    c.assert_status(StatusCode::OK);
    let c = c.json();
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cust_"));
    assert_eq!(c["summary"]["redemptions"]["total_redeemed"], 0);
    assert_eq!(c["summary"]["orders"]["total_count"], 0);
    assert_eq!(app.get(&p, "/v1/customers/alice@example.com").await.json()["id"], id.as_str());
    app.post(&p, "/v1/customers", json!({"source_id": "alice@example.com"}))
        .await
        .assert_error(StatusCode::CONFLICT, "duplicate_found");
    app.post(&p, "/v1/customers", json!({"email": "not-an-email"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/customers", json!({"birthdate": "03/02/1990"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    let u = app.put(&p, &format!("/v1/customers/{id}"), json!({"name": "Alice B."})).await;
    u.assert_status(StatusCode::OK);
    assert_eq!((u.json()["name"].as_str(), u.json()["metadata"]["club"].as_str()), (Some("Alice B."), Some("gold")));
    let list = app.get(&p, "/v1/customers").await.json();
    assert_eq!(
        (list["data_ref"].as_str(), list["total"].as_i64(), list["has_more"].as_bool()),
        (Some("customers"), Some(1), Some(false))
    );
    app.delete(&p, "/v1/customers/alice@example.com").await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, &format!("/v1/customers/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn product_and_sku_lifecycle() {
    let app = TestApp::new().await;
    let p = app.project("Products").await;
    let prod = app.post(&p, "/v1/products", json!({"source_id": "tee", "name": "T-shirt", "price": 3000, "attributes": ["size"], "metadata": {"brand": "X"}})).await;
    prod.assert_status(StatusCode::OK);
    let prod_id = prod.json()["id"].as_str().unwrap().to_owned();
    assert!(prod_id.starts_with("prod_"));
    app.post(&p, "/v1/products", json!({"source_id": "tee"}))
        .await
        .assert_error(StatusCode::CONFLICT, "duplicate_found");
    app.post(&p, "/v1/products", json!({"price": -1})).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    let sku = app
        .post(
            &p,
            &format!("/v1/products/{prod_id}/skus"),
            json!({"source_id": "tee-m", "sku": "M", "price": 3100, "attributes": {"size": "M"}}),
        )
        .await;
    sku.assert_status(StatusCode::OK);
    let sku = sku.json();
    let sku_id = sku["id"].as_str().unwrap().to_owned();
    assert_eq!((sku["product_id"].as_str(), sku["object"].as_str()), (Some(prod_id.as_str()), Some("sku")));
    assert_eq!(app.get(&p, "/v1/skus/tee-m").await.json()["id"], sku_id.as_str());
    let listed = app.get(&p, &format!("/v1/products/{prod_id}/skus")).await.json();
    assert_eq!((&listed["data_ref"], &listed["skus"][0]["id"]), (&json!("skus"), &json!(sku_id)), "{listed}");
    app.post(&p, &format!("/v1/products/{prod_id}/skus"), json!({"price": -5}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    // attributes are values by name: anything else is refused, not stored
    for attributes in [json!(9007199254740993_u64), json!(["M"]), json!({"size": 3})] {
        let r = app.post(&p, &format!("/v1/products/{prod_id}/skus"), json!({"attributes": attributes})).await;
        let body = r.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        assert!(body["details"].as_str().unwrap().contains("attributes"), "{body}");
    }
    app.post(&p, &format!("/v1/products/{prod_id}/skus"), json!({"currency": "EURO"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, &format!("/v1/products/{prod_id}/skus"), json!({"source_id": "tee-m"}))
        .await
        .assert_error(StatusCode::CONFLICT, "duplicate_found");
    assert_eq!(app.get(&p, "/v1/products/tee/skus").await.json()["total"], 1);
    // the product lists its SKUs, by itself and in the product list
    let product = app.get(&p, "/v1/products/tee").await.json();
    assert_eq!(
        (product["skus"]["total"].as_i64(), &product["skus"]["data"][0]["id"]),
        (Some(1), &json!(sku_id)),
        "{product}"
    );
    let listed = app.get(&p, "/v1/products").await.json();
    let tee = listed["products"].as_array().unwrap().iter().find(|x| x["source_id"] == "tee").unwrap().clone();
    assert_eq!(tee["skus"]["total"], 1, "{tee}");
    let u = app.put(&p, &format!("/v1/products/tee/skus/{sku_id}"), json!({"price": 2900})).await;
    assert_eq!((u.json()["price"].as_i64(), u.json()["sku"].as_str()), (Some(2900), Some("M")));
    let u = app.put(&p, "/v1/products/tee", json!({"name": "Tee"})).await;
    assert_eq!(
        (u.json()["name"].as_str(), u.json()["price"].as_i64(), u.json()["metadata"]["brand"].as_str()),
        (Some("Tee"), Some(3000), Some("X"))
    );
    assert_eq!(app.get(&p, "/v1/products").await.json()["data_ref"], "products");
    app.delete(&p, &format!("/v1/products/{prod_id}")).await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, &format!("/v1/skus/{sku_id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn another_projects_catalog_is_404_and_never_listed() {
    let app = TestApp::new().await;
    let (a, b) = (app.project("Owner").await, app.project("Other").await);
    let cat = app.post(&a, "/v1/categories", json!({"name": "Mine"})).await.json()["id"].as_str().unwrap().to_owned();
    let cust =
        app.post(&a, "/v1/customers", json!({"source_id": "bob"})).await.json()["id"].as_str().unwrap().to_owned();
    let prod =
        app.post(&a, "/v1/products", json!({"source_id": "mug"})).await.json()["id"].as_str().unwrap().to_owned();
    let sku = app.post(&a, &format!("/v1/products/{prod}/skus"), json!({"source_id": "mug-red"})).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/v1/categories/{cat}"),
        format!("/v1/customers/{cust}"),
        "/v1/customers/bob".to_owned(),
        format!("/v1/products/{prod}"),
        "/v1/products/mug".to_owned(),
        format!("/v1/skus/{sku}"),
        format!("/v1/products/{prod}/skus"),
    ] {
        app.get(&b, &path).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    app.put(&b, &format!("/v1/categories/{cat}"), json!({"name": "x"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&b, &format!("/v1/customers/{cust}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&b, &format!("/v1/products/{prod}/skus"), json!({"source_id": "x"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    for path in ["/v1/categories", "/v1/customers", "/v1/products"] {
        assert_eq!(app.get(&b, path).await.json()["total"], 0, "{path}");
    }
    // The same source ids are free in another project.
    app.post(&b, "/v1/customers", json!({"source_id": "bob"})).await.assert_status(StatusCode::OK);
    app.get(&a, &format!("/v1/customers/{cust}")).await.assert_status(StatusCode::OK);
}

/// A deleted category leaves no campaign, tier or code naming it: each can still be updated
/// (a dangling reference used to make every later update 404 "Cannot find category").
#[tokio::test]
async fn deleting_a_category_clears_it_from_what_used_it() {
    let app = TestApp::new().await;
    let p = app.project("Category delete").await;
    let cat =
        app.post(&p, "/v1/categories", json!({"name": "Seasonal"})).await.json()["id"].as_str().unwrap().to_owned();
    let discount = json!({"type": "AMOUNT", "amount_off": 500});
    let camp = app
        .post(
            &p,
            "/v1/campaigns",
            json!({"name": "Cat coupons", "category_id": cat, "vouchers_count": 1,
                   "voucher": {"type": "DISCOUNT_VOUCHER", "discount": discount, "category_id": cat}}),
        )
        .await
        .json();
    let camp_id = camp["id"].as_str().unwrap().to_owned();
    let promo = app
        .post(
            &p,
            "/v1/campaigns",
            json!({"name": "Cat promo", "campaign_type": "PROMOTION",
                   "promotion": {"tiers": [{"name": "T", "category_id": cat, "action": {"discount": discount}}]}}),
        )
        .await
        .json();
    let tier_id = promo["promotion"]["tiers"][0]["id"].as_str().unwrap().to_owned();
    app.post(&p, "/v1/vouchers/CAT-CODE", json!({"discount": discount, "category_id": cat}))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(app.get(&p, "/v1/vouchers/CAT-CODE").await.json()["categories"][0]["id"], json!(cat));

    app.delete(&p, &format!("/v1/categories/{cat}")).await.assert_status(StatusCode::NO_CONTENT);

    let c = app.put(&p, &format!("/v1/campaigns/{camp_id}"), json!({"description": "after"})).await;
    c.assert_status(StatusCode::OK);
    assert_eq!((c.json()["category_id"].clone(), c.json()["categories"].clone()), (json!(null), json!([])));
    let t = app.put(&p, &format!("/v1/promotions/tiers/{tier_id}"), json!({"banner": "after"})).await;
    t.assert_status(StatusCode::OK);
    assert_eq!(t.json()["categories"], json!([]));
    let v = app.put(&p, "/v1/vouchers/CAT-CODE", json!({"additional_info": "after"})).await;
    v.assert_status(StatusCode::OK);
    assert_eq!((v.json()["category_id"].clone(), v.json()["categories"].clone()), (json!(null), json!([])));
    // codes generated from the template after the delete carry no category either
    let added = app.post(&p, &format!("/v1/campaigns/{camp_id}/vouchers"), json!({})).await;
    added.assert_status(StatusCode::OK);
    assert_eq!(added.json()["category_id"], json!(null));
    // a stack's category is cleared too (its next update would otherwise be refused)
    let cat2 =
        app.post(&p, "/v1/categories", json!({"name": "Stacked"})).await.json()["id"].as_str().unwrap().to_owned();
    let stacks = format!("/v1/promotions/{}/stacks", promo["id"].as_str().unwrap());
    let stack = app.post(&p, &stacks, json!({"name": "S", "tiers": {"ids": [tier_id]}, "category_id": cat2})).await;
    stack.assert_status(StatusCode::OK);
    let stack_id = stack.json()["id"].as_str().unwrap().to_owned();
    app.delete(&p, &format!("/v1/categories/{cat2}")).await.assert_status(StatusCode::NO_CONTENT);
    let s = app.put(&p, &format!("{stacks}/{stack_id}"), json!({"name": "S2"})).await;
    s.assert_status(StatusCode::OK);
    assert_eq!(s.json()["category_id"], json!(null));
    // a tier update naming an unknown category is refused, as a create is
    app.put(&p, &format!("/v1/promotions/tiers/{tier_id}"), json!({"category_id": cat2}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    // naming the deleted category is still refused
    app.put(&p, &format!("/v1/campaigns/{camp_id}"), json!({"category_id": cat}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}
