//! Carts resolved against the catalog: a product or SKU named by id, by source id or nested
//! meets a definition naming it any other way; stored prices and metadata fill what the cart
//! omits; free items carry their catalog price.

use crate::checkout::{applicable_to, code, item_discounts, voucher};
use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

struct Shop {
    tee: String,
    pen: String,
    mug: String,
    mug_blue: String,
}

async fn shop(app: &TestApp, p: &Project) -> Shop {
    let mut ids = Vec::new();
    for (source, name, price, brand) in
        [("tee", "T-shirt", 3000, "X"), ("pen", "Pen", 2000, "Y"), ("mug", "Mug", 1000, "Y")]
    {
        let r = app
            .post(
                p,
                "/v1/products",
                json!({"source_id": source, "name": name, "price": price, "metadata": {"brand": brand}}),
            )
            .await;
        r.assert_status(StatusCode::OK);
        ids.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    let sku = app
        .post(p, &format!("/v1/products/{}/skus", ids[2]), json!({"source_id": "mug-blue", "sku": "Blue mug"}))
        .await;
    sku.assert_status(StatusCode::OK);
    Shop {
        tee: ids[0].clone(),
        pen: ids[1].clone(),
        mug: ids[2].clone(),
        mug_blue: sku.json()["id"].as_str().unwrap().to_owned(),
    }
}

/// The seed cart (T-shirt $30, Pen $20, Mug $10) written every way a storefront writes it,
/// without prices: the catalog supplies them.
fn seed_carts(s: &Shop) -> Vec<(&'static str, Value)> {
    vec![
        ("by source_id", json!([{"source_id": "tee"}, {"source_id": "pen"}, {"source_id": "mug"}])),
        ("by product_id", json!([{"product_id": s.tee}, {"product_id": s.pen}, {"product_id": s.mug}])),
        (
            "nested by source_id",
            json!([{"product": {"source_id": "tee"}}, {"product": {"source_id": "pen"}}, {"product": {"source_id": "mug"}}]),
        ),
        (
            "nested by id",
            json!([{"product": {"id": s.tee}}, {"related_object": "product", "source_id": "pen"}, {"product_id": s.mug}]),
        ),
        (
            "the mug by its SKU's source id",
            json!([{"source_id": "tee"}, {"product_id": s.pen}, {"related_object": "sku", "source_id": "mug-blue"}]),
        ),
        ("the mug by its SKU id", json!([{"source_id": "tee"}, {"source_id": "pen"}, {"sku_id": s.mug_blue}])),
    ]
}

async fn validate(app: &TestApp, p: &Project, code: &str, items: &Value) -> Value {
    let r = app
        .post(
            p,
            "/v1/validations",
            json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"items": items}}),
        )
        .await;
    r.assert_status(StatusCode::OK);
    r.json()
}

#[tokio::test]
async fn the_seed_effects_hold_however_the_cart_names_its_products() {
    let app = TestApp::new().await;
    let p = app.project("Resolution").await;
    let s = shop(&app, &p).await;
    // definitions naming the products by id, and by source id
    let by_id = applicable_to(&app, &p, &[&s.pen, &s.mug]).await;
    voucher(
        &app,
        &p,
        "PCT10-ID",
        json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"}),
        None,
        Some(&by_id),
    )
    .await;
    let r = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "pen and mug by source", "applicable_to": {"included": [
                {"object": "product", "source_id": "pen"}, {"object": "product", "source_id": "mug"}]}}),
        )
        .await;
    let by_source = r.json()["id"].as_str().unwrap().to_owned();
    voucher(
        &app,
        &p,
        "PROP-SRC",
        json!({"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS_PROPORTIONALLY"}),
        None,
        Some(&by_source),
    )
    .await;
    // free T-shirts: named by id (missing items) and by source id (new items), no price given
    code(
        &app,
        &p,
        "FREE-TEE",
        json!({"type": "UNIT", "unit_off": 1, "effect": "ADD_MISSING_ITEMS", "unit_type": s.tee}),
    )
    .await;
    code(
        &app,
        &p,
        "NEW-TEE",
        json!({"type": "UNIT", "unit_off": 1, "effect": "ADD_NEW_ITEMS", "product": {"source_id": "tee"}}),
    )
    .await;
    for (how, items) in seed_carts(&s) {
        let v = validate(&app, &p, "PCT10-ID", &items).await;
        assert_eq!(v["valid"], true, "{how}: {v}");
        assert_eq!(v["order"]["amount"], 6000, "{how}: the catalog prices the cart");
        assert_eq!(item_discounts(&v["order"]), [0, 200, 100], "{how}");
        assert_eq!(v["order"]["items"][1]["product"]["name"], "Pen", "{how}: items show their product");
        // what the discount reached, as the storefront needs it to highlight lines
        let reached = &v["redeemables"][0]["applicable_to"];
        assert_eq!(reached["total"], 2, "{how}: {reached}");
        assert_eq!(
            (&reached["data"][0]["id"], &reached["data"][0]["order_item_indices"]),
            (&json!(s.pen), &json!([1])),
            "{how}: {reached}"
        );
        assert_eq!(reached["data"][1]["order_item_indices"], json!([2]), "{how}: {reached}");
        assert_eq!(v["redeemables"][0]["inapplicable_to"]["total"], 0);

        let v = validate(&app, &p, "PROP-SRC", &items).await;
        assert_eq!(item_discounts(&v["order"]), [0, 667, 333], "{how}");

        let v = validate(&app, &p, "FREE-TEE", &items).await;
        assert_eq!(v["valid"], true, "{how}: {v}");
        assert_eq!(
            (
                v["order"]["amount"].as_i64(),
                v["order"]["total_amount"].as_i64(),
                v["order"]["items"].as_array().unwrap().len()
            ),
            (Some(6000), Some(3000), 3),
            "{how}: the T-shirt in the cart is made free, none added"
        );

        let v = validate(&app, &p, "NEW-TEE", &items).await;
        assert_eq!(v["valid"], true, "{how}: {v}");
        assert_eq!(
            (
                v["order"]["amount"].as_i64(),
                v["order"]["total_discount_amount"].as_i64(),
                v["order"]["total_amount"].as_i64()
            ),
            (Some(9000), Some(3000), Some(6000)),
            "{how}: a free $30 T-shirt is added and is worth $30"
        );
    }
    // the cart's own price and metadata win over the catalog's
    let v = validate(&app, &p, "PCT10-ID", &json!([{"source_id": "pen", "price": 5000}, {"source_id": "mug"}])).await;
    assert_eq!((v["order"]["amount"].as_i64(), v["order"]["items_discount_amount"].as_i64()), (Some(6000), Some(600)));
    // a product the catalog does not know is an ad-hoc line, as before
    let v =
        validate(&app, &p, "PCT10-ID", &json!([{"source_id": "unknown", "price": 700}, {"source_id": "mug"}])).await;
    assert_eq!((v["order"]["amount"].as_i64(), v["order"]["items_discount_amount"].as_i64()), (Some(1700), Some(100)));
    // everything but the pen: the lines reached are listed one by one, the pen as excluded
    let r = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "not the pen", "applicable_to": {"included_all": true,
            "excluded": [{"object": "product", "source_id": "pen"}]}}),
        )
        .await;
    r.assert_status(StatusCode::OK);
    voucher(
        &app,
        &p,
        "NOT-PEN",
        json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS"}),
        None,
        Some(r.json()["id"].as_str().unwrap()),
    )
    .await;
    let v =
        validate(&app, &p, "NOT-PEN", &json!([{"source_id": "tee"}, {"source_id": "pen"}, {"source_id": "mug"}])).await;
    assert_eq!(v["order"]["items_discount_amount"], 400, "{v}");
    let reached = &v["redeemables"][0]["applicable_to"];
    let indices: Vec<&Value> = reached["data"].as_array().unwrap().iter().map(|e| &e["order_item_indices"]).collect();
    assert_eq!(indices, [&json!([0]), &json!([2])], "{reached}");
    assert_eq!(reached["data"][0]["id"], s.tee.as_str(), "{reached}");
    let excluded = &v["redeemables"][0]["inapplicable_to"];
    assert_eq!((&excluded["total"], &excluded["data"][0]["source_id"]), (&json!(1), &json!("pen")), "{excluded}");
    // a free T-shirt the cart does not hold is added at its catalog price
    let v = validate(&app, &p, "FREE-TEE", &json!([{"source_id": "pen"}])).await;
    assert_eq!((v["order"]["amount"].as_i64(), v["order"]["total_amount"].as_i64()), (Some(5000), Some(2000)), "{v}");
}

#[tokio::test]
async fn collections_and_rules_see_the_catalogs_metadata() {
    let app = TestApp::new().await;
    let p = app.project("Resolution metadata").await;
    let s = shop(&app, &p).await;
    let c = app
        .post(
            &p,
            "/v1/product-collections",
            json!({"name": "Brand Y", "type": "AUTO_UPDATE", "filter": {"junction": "and", "metadata.brand": {"conditions": {"$is": ["Y"]}}}}),
        )
        .await;
    c.assert_status(StatusCode::OK);
    let collection = c.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "brand Y", "applicable_to": {"included": [{"object": "products_collection", "id": collection}]}}),
        )
        .await;
    voucher(
        &app,
        &p,
        "BRAND-Y",
        json!({"type": "AMOUNT", "amount_off": 500, "effect": "APPLY_TO_ITEMS"}),
        None,
        Some(r.json()["id"].as_str().unwrap()),
    )
    .await;
    // a static collection naming the T-shirt by source id, a rule requiring it in the cart
    let c = app
        .post(
            &p,
            "/v1/product-collections",
            json!({"name": "Tees", "type": "STATIC", "products": [{"object": "product", "source_id": "tee"}]}),
        )
        .await;
    let tees = c.json()["id"].as_str().unwrap().to_owned();
    let rule = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "needs a tee", "rules": {"1": {"name": "order.items.any", "conditions": {"$is": [{"id": tees, "object": "products_collection"}]}}, "logic": "1"}}),
        )
        .await;
    rule.assert_status(StatusCode::OK);
    voucher(
        &app,
        &p,
        "TEE-BUYERS",
        json!({"type": "AMOUNT", "amount_off": 100}),
        None,
        Some(rule.json()["id"].as_str().unwrap()),
    )
    .await;
    for (how, items) in seed_carts(&s) {
        let v = validate(&app, &p, "BRAND-Y", &items).await;
        assert_eq!(
            item_discounts(&v["order"]),
            [0, 500, 500],
            "{how}: the pen and the mug are brand Y in the catalog: {v}"
        );
        let v = validate(&app, &p, "TEE-BUYERS", &items).await;
        assert_eq!(v["valid"], true, "{how}: {v}");
    }
    // the cart's metadata wins: a pen the storefront says is brand Z is not in the collection
    let v = validate(
        &app,
        &p,
        "BRAND-Y",
        &json!([{"source_id": "pen", "product": {"metadata": {"brand": "Z"}}}, {"source_id": "mug"}]),
    )
    .await;
    assert_eq!(v["order"]["items_discount_amount"], 500, "{v}");
    let v = validate(&app, &p, "TEE-BUYERS", &json!([{"source_id": "pen"}])).await;
    assert_eq!(v["valid"], false, "{v}");
}

/// A rule naming a product by the storefront's id (its source id) meets a cart naming it by
/// our id, and the other way round.
#[tokio::test]
async fn product_rules_by_source_id_meet_lines_by_id() {
    let app = TestApp::new().await;
    let p = app.project("rule by source id").await;
    let s = shop(&app, &p).await;
    for (code, named) in [("BY-SOURCE", json!("tee")), ("BY-ID", json!(s.tee.clone()))] {
        let rule = app
            .post(
                &p,
                "/v1/validation-rules",
                json!({"name": code, "rules": {"1": {"name": "product.id",
                "conditions": {"$is": [named]}}, "logic": "1"}}),
            )
            .await;
        rule.assert_status(StatusCode::OK);
        let rule_id = rule.json()["id"].as_str().unwrap().to_owned();
        voucher(&app, &p, code, json!({"type": "AMOUNT", "amount_off": 100}), None, Some(&rule_id)).await;
        for (cart, expected) in [
            (json!([{"product_id": s.tee}]), true),
            (json!([{"source_id": "tee"}]), true),
            (json!([{"product": {"source_id": "tee"}}]), true),
            (json!([{"source_id": "pen"}]), false),
        ] {
            let v = app
                .post(
                    &p,
                    "/v1/validations",
                    json!({"redeemables": [{"object": "voucher", "id": code}],
                    "order": {"items": cart.clone()}}),
                )
                .await
                .json();
            assert_eq!(v["valid"], expected, "{code} with {cart}: {v}");
        }
    }
}

/// Rolling back a redemption whose unit discount added free items takes them out of the order
/// again: a line it added goes, units it added to a line go, and the totals are the cart's.
#[tokio::test]
async fn a_rollback_takes_the_free_items_back_out_of_the_order() {
    let app = TestApp::new().await;
    let p = app.project("free items rollback").await;
    shop(&app, &p).await;
    code(
        &app,
        &p,
        "FREE-TEE",
        json!({"type": "UNIT", "unit_off": 1, "effect": "ADD_NEW_ITEMS", "product": {"source_id": "tee"}}),
    )
    .await;
    code(
        &app,
        &p,
        "TWO-PENS",
        json!({"type": "UNIT", "unit_off": 2, "effect": "ADD_MISSING_ITEMS", "product": {"source_id": "pen"}}),
    )
    .await;
    // ADD_MISSING_ITEMS makes both pens free, the one in the cart too (Voucherify's rule)
    for (code, source, redeemed_total) in [("FREE-TEE", "o-new", 3000), ("TWO-PENS", "o-missing", 1000)] {
        let r = app
            .post(&p, "/v1/redemptions", json!({"redeemables": [{"object": "voucher", "id": code}],
                "order": {"source_id": source, "items": [{"source_id": "pen", "quantity": 1}, {"source_id": "mug", "quantity": 1}]}}))
            .await;
        r.assert_status(StatusCode::OK);
        let redeemed = r.json();
        assert_eq!(redeemed["order"]["total_amount"], redeemed_total, "{code}: {}", redeemed["order"]);
        let id = redeemed["redemptions"][0]["id"].as_str().unwrap().to_owned();
        app.post(&p, &format!("/v1/redemptions/{id}/rollback"), json!({})).await.assert_status(StatusCode::OK);
        let o = app.get(&p, &format!("/v1/orders/{source}")).await.json();
        let lines: Vec<(Option<&str>, Option<i64>)> = o["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["source_id"].as_str().or(i["product"]["name"].as_str()), i["quantity"].as_i64()))
            .collect();
        assert_eq!(lines, vec![(Some("pen"), Some(1)), (Some("mug"), Some(1))], "{code}: {o}");
        for line in o["items"].as_array().unwrap() {
            let n = |k: &str| line[k].as_i64();
            assert_eq!(
                (n("discount_amount"), n("discount_quantity"), n("subtotal_amount")),
                (Some(0), Some(0), n("amount")),
                "{code}: every line is back at full price: {line}"
            );
        }
        assert_eq!(
            (o["amount"].as_i64(), o["total_discount_amount"].as_i64(), o["total_amount"].as_i64()),
            (Some(3000), Some(0), Some(3000)),
            "{code}: {o}"
        );
    }
}

/// The storefront's own id in an id field (`product_id: "tee"`, `unit_type: "tee"`) is its
/// source id: the line is priced from the catalog, the free item is the catalog's (priced and
/// discounted), and a free item already in the cart is not added twice.
#[tokio::test]
async fn a_source_id_in_an_id_field_names_the_catalogs_product() {
    let app = TestApp::new().await;
    let p = app.project("source id in id field").await;
    let s = shop(&app, &p).await;
    code(&app, &p, "FREE-TEE", json!({"type": "UNIT", "unit_off": 1, "unit_type": "tee", "effect": "ADD_NEW_ITEMS"}))
        .await;
    code(
        &app,
        &p,
        "MISSING-TEE",
        json!({"type": "UNIT", "unit_off": 1, "unit_type": "tee", "effect": "ADD_MISSING_ITEMS"}),
    )
    .await;
    let added = validate(&app, &p, "FREE-TEE", &json!([{"source_id": "mug", "quantity": 1}])).await;
    assert_eq!(added["valid"], true, "{added}");
    let lines = added["order"]["items"].as_array().unwrap();
    let free =
        lines.iter().find(|l| l["product_id"] == s.tee).unwrap_or_else(|| panic!("the free tee by our id: {added}"));
    assert_eq!((free["price"].as_i64(), free["discount_amount"].as_i64()), (Some(3000), Some(3000)), "{free}");
    assert_eq!(added["order"]["total_discount_amount"], 3000);
    for cart in [json!([{"product_id": "tee", "quantity": 1}]), json!([{"product_id": s.tee, "quantity": 1}])] {
        let v = validate(&app, &p, "MISSING-TEE", &cart).await;
        let lines = v["order"]["items"].as_array().unwrap();
        assert_eq!(lines.len(), 1, "the tee in the cart is the free one, not a second line: {v}");
        assert_eq!(
            (lines[0]["product_id"].as_str(), lines[0]["price"].as_i64()),
            (Some(s.tee.as_str()), Some(3000)),
            "{v}"
        );
        assert_eq!(v["order"]["total_discount_amount"], 3000, "{v}");
    }
}
