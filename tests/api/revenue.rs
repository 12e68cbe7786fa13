//! Revenue protection through the API: stock from an inventory system, shipping and tax kept
//! out of order-level discounts, margin floors, anniversaries — and the seeds' use cases end
//! to end (clearance that skips what is out of stock, a 50 % promotion capped at a floor
//! price, an abandoned-cart code for its customer within its window, wholesale tiers).

use crate::checkout::{applicable_to, promotion, tier, voucher};
use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

fn validate(code: &str, order: Value) -> Value {
    json!({"redeemables": [{"object": "voucher", "id": code}], "order": order})
}

fn line(source_id: &str, quantity: i64, price: i64) -> Value {
    json!({"source_id": source_id, "related_object": "product", "quantity": quantity, "price": price})
}

/// A discount-coupons campaign with one code and these guardrails.
async fn campaign_code(app: &TestApp, p: &Project, name: &str, code: &str, discount: Value, guardrails: Value) {
    let body = json!({"name": name, "campaign_type": "DISCOUNT_COUPONS", "type": "STATIC", "guardrails": guardrails,
        "voucher": {"type": "DISCOUNT_VOUCHER", "discount": discount}});
    let r = app.post(p, "/v1/campaigns", body).await;
    r.assert_status(StatusCode::OK);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    app.post(p, &format!("/v1/campaigns/{id}/vouchers/{code}"), json!({})).await.assert_status(StatusCode::OK);
}

/// The seeds' clearance: an inventory system sets stock in bulk (by id, by source id, SKUs
/// too), the clearance discount skips the line that is out of stock and says so; restocked,
/// the line is discounted again. A bulk update naming something unknown changes nothing.
#[tokio::test]
async fn clearance_skips_what_the_inventory_system_says_is_out_of_stock() {
    let app = TestApp::new().await;
    let p = app.project("Clearance").await;
    let coat = app.post(&p, "/v1/products", json!({"source_id": "coat", "name": "Coat", "price": 10000})).await.json();
    app.post(&p, "/v1/products", json!({"source_id": "hat", "name": "Hat", "price": 5000}))
        .await
        .assert_status(StatusCode::OK);
    let red = app.post(&p, "/v1/products/hat/skus", json!({"source_id": "hat-red", "price": 5000})).await.json();
    let stock = app
        .post(
            &p,
            "/v1/inventory",
            json!({"items": [{"product_id": coat["id"], "stock": 0}, {"source_id": "hat", "stock": 12},
                             {"sku_id": red["id"], "stock": 3}]}),
        )
        .await;
    stock.assert_status(StatusCode::OK);
    assert_eq!(stock.json(), json!({"products": 2, "skus": 1, "object": "inventory"}));
    assert_eq!(app.get(&p, "/v1/products/coat").await.json()["stock"], 0);

    let rule = applicable_to(&app, &p, &["coat", "hat"]).await;
    voucher(&app, &p, "CLEAR30", json!({"type": "PERCENT", "percent_off": 30}), None, Some(&rule)).await;
    let cart = json!({"items": [line("coat", 1, 10000), line("hat", 2, 5000)]});
    let v = app.post(&p, "/v1/validations", validate("CLEAR30", cart.clone())).await.json();
    assert_eq!(v["order"]["total_discount_amount"], 3000, "only the hats: {v}");
    let notes = &v["redeemables"][0]["result"]["guardrails"];
    let why = json!([{"reason": "out_of_stock", "order_item_index": 0, "amount": 10000}]);
    assert_eq!(notes, &why, "the answer says why, and how much it kept out: {v}");

    // nothing changes when one entry is unknown, or when one product is named twice
    let unknown = json!({"items": [{"source_id": "coat", "stock": 5}, {"source_id": "no-such", "stock": 1}]});
    app.post(&p, "/v1/inventory", unknown).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    let twice = json!({"items": [{"source_id": "coat", "stock": 5}, {"product_id": coat["id"], "stock": 1}]});
    app.post(&p, "/v1/inventory", twice).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert_eq!(app.get(&p, "/v1/products/coat").await.json()["stock"], 0);

    // restocked through the product itself: discounted again
    app.put(&p, "/v1/products/coat", json!({"stock": 4})).await.assert_status(StatusCode::OK);
    let v = app.post(&p, "/v1/validations", validate("CLEAR30", cart)).await.json();
    assert_eq!(v["order"]["total_discount_amount"], 6000);
    assert!(v["redeemables"][0]["result"].get("guardrails").is_none(), "{v}");

    // a campaign may choose to discount stock it no longer has
    app.post(&p, "/v1/inventory", json!({"items": [{"source_id": "coat", "stock": 0}]}))
        .await
        .assert_status(StatusCode::OK);
    campaign_code(
        &app,
        &p,
        "Anything goes",
        "ALL30",
        json!({"type": "PERCENT", "percent_off": 30}),
        json!({"discount_out_of_stock": true}),
    )
    .await;
    let v = app.post(&p, "/v1/validations", validate("ALL30", json!({"items": [line("coat", 1, 10000)]}))).await.json();
    assert_eq!(v["order"]["total_discount_amount"], 3000, "{v}");
}

/// Order-level percentages leave shipping and tax out by default; the order echoes them and
/// its totals stay exact. A campaign can let them in. Shipping and tax beyond what the amount
/// holds, or guardrails the service cannot read, are refused by name.
#[tokio::test]
async fn order_percentages_leave_shipping_and_tax_alone() {
    let app = TestApp::new().await;
    let p = app.project("Shipping and tax").await;
    voucher(&app, &p, "TEN", json!({"type": "PERCENT", "percent_off": 10}), None, None).await;
    let order = json!({"amount": 11800, "shipping_amount": 1000, "tax_amount": 800, "items": [line("book", 1, 10000)]});
    let r = app.post(&p, "/v1/redemptions", validate("TEN", order.clone())).await;
    r.assert_status(StatusCode::OK);
    let o = &r.json()["order"];
    assert_eq!((o["total_discount_amount"].clone(), o["total_amount"].clone()), (json!(1000), json!(10800)));
    assert_eq!((o["shipping_amount"].clone(), o["tax_amount"].clone()), (json!(1000), json!(800)));
    let v = app.post(&p, "/v1/validations", validate("TEN", order.clone())).await.json();
    assert_eq!(
        v["redeemables"][0]["result"]["guardrails"],
        json!([{"reason": "shipping_excluded", "amount": 1000}, {"reason": "tax_excluded", "amount": 800}])
    );
    // shipping as a line (Voucherify's shipping product) is left out as well
    let shipped =
        json!({"items": [line("book", 1, 10000), {"product_id": "prod_5h1pp1ng", "quantity": 1, "price": 500}]});
    let v = app.post(&p, "/v1/validations", validate("TEN", shipped)).await.json();
    assert_eq!(v["order"]["total_discount_amount"], 1000, "{v}");

    campaign_code(
        &app,
        &p,
        "Everything",
        "ALL10",
        json!({"type": "PERCENT", "percent_off": 10}),
        json!({"discount_shipping": true, "discount_tax": true}),
    )
    .await;
    let v = app.post(&p, "/v1/validations", validate("ALL10", order)).await.json();
    assert_eq!(v["order"]["total_discount_amount"], 1180);
    let listed = app.get(&p, "/v1/campaigns/Everything").await.json();
    assert_eq!(
        listed["guardrails"],
        json!({"discount_out_of_stock": false, "discount_shipping": true, "discount_tax": true, "margin_floor": "FLOOR_PRICE"})
    );

    let beyond = json!({"amount": 10500, "shipping_amount": 1000, "items": [line("book", 1, 10000)]});
    let e = app
        .post(&p, "/v1/validations", validate("TEN", beyond))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e.to_string().contains("shipping_amount"), "{e}");
    let bad = json!({"name": "Bad", "campaign_type": "DISCOUNT_COUPONS", "guardrails": {"discount_shiping": true},
        "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "PERCENT", "percent_off": 5}}});
    let e = app.post(&p, "/v1/campaigns", bad).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e.to_string().contains("discount_shiping"), "{e}");
    let bad = json!({"guardrails": {"margin_floor": "LOW"}});
    app.put(&p, "/v1/campaigns/Everything", bad).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
}

/// The seeds' 50 % promotion capped at an item's floor price: an auto-applied tier never takes
/// the coat below its floor (and says so), the scarf without one gets its full half; by cost,
/// or with no floor, as the campaign chooses.
#[tokio::test]
async fn a_fifty_percent_promotion_stops_at_the_floor_price() {
    let app = TestApp::new().await;
    let p = app.project("Floors").await;
    let coat = json!({"source_id": "coat", "price": 10000, "floor_price": 7000, "cost": 8000});
    app.post(&p, "/v1/products", coat).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/products", json!({"source_id": "scarf", "price": 2000})).await.assert_status(StatusCode::OK);
    let product = app.get(&p, "/v1/products/coat").await.json();
    assert_eq!((product["floor_price"].clone(), product["cost"].clone()), (json!(7000), json!(8000)));
    let rule = applicable_to(&app, &p, &["coat", "scarf"]).await;
    let mut half = tier("Half", json!({"type": "PERCENT", "percent_off": 50}));
    half["validation_rules"] = json!([rule]);
    let tiers = promotion(&app, &p, "Half-off", vec![half]).await;
    let cart = json!({"items": [line("coat", 1, 10000), line("scarf", 1, 2000)]});
    let v = app
        .post(
            &p,
            "/v1/validations",
            json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}], "order": cart.clone()}),
        )
        .await
        .json();
    assert_eq!(v["order"]["items"][0]["discount_amount"], 3000, "the coat stops at 70.00: {v}");
    assert_eq!(v["order"]["items"][1]["discount_amount"], 1000, "the scarf has no floor");
    assert_eq!(v["redeemables"][0]["result"]["guardrails"], json!([{"reason": "margin_floor", "order_item_index": 0}]));
    // an auto-applied promotion's qualification says the same
    let q = app.post(&p, "/v1/qualifications", json!({"order": cart.clone()})).await.json();
    let offered = &q["redeemables"]["data"][0];
    assert_eq!(offered["order"]["total_discount_amount"], 4000, "{q}");
    assert_eq!(offered["result"]["guardrails"], json!([{"reason": "margin_floor", "order_item_index": 0}]), "{q}");

    // by cost (80.00, above the floor): 20.00 off the coat
    app.put(&p, "/v1/campaigns/Half-off", json!({"guardrails": {"margin_floor": "COST"}}))
        .await
        .assert_status(StatusCode::OK);
    let v = app
        .post(
            &p,
            "/v1/validations",
            json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}], "order": cart.clone()}),
        )
        .await
        .json();
    assert_eq!(v["order"]["items"][0]["discount_amount"], 2000, "{v}");
    // an update changes the guardrails it names and keeps the others
    app.put(&p, "/v1/campaigns/Half-off", json!({"guardrails": {"discount_tax": false}}))
        .await
        .assert_status(StatusCode::OK);
    let kept = app.get(&p, "/v1/campaigns/Half-off").await.json()["guardrails"].clone();
    assert_eq!((kept["margin_floor"].clone(), kept["discount_tax"].clone()), (json!("COST"), json!(false)), "{kept}");
    let bad = json!({"guardrails": {"margin_floor": "SOMETIMES"}});
    let e = app.put(&p, "/v1/campaigns/Half-off", bad).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e.to_string().contains(".guardrails.margin_floor"), "the error names the property: {e}");
    // a cart cannot claim the catalog's cost, floor or stock: refused by name, not ignored
    for claim in ["cost", "floor_price", "stock"] {
        let mut item = line("coat", 1, 10000);
        item[claim] = json!(1);
        let body = json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}], "order": {"items": [item]}});
        let e = app.post(&p, "/v1/validations", body).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        assert!(e.to_string().contains(&format!("order.items[0].{claim}")), "{e}");
    }
    let mut item = line("coat", 1, 10000);
    item["product"] = json!({"cost": 1});
    let body = json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}], "order": {"items": [item]}});
    let e = app.post(&p, "/v1/validations", body).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e.to_string().contains("order.items[0].product.cost"), "{e}");
    app.put(&p, "/v1/campaigns/Half-off", json!({"guardrails": {"margin_floor": "NONE"}}))
        .await
        .assert_status(StatusCode::OK);
    let v = app
        .post(
            &p,
            "/v1/validations",
            json!({"redeemables": [{"object": "promotion_tier", "id": tiers[0]}], "order": cart}),
        )
        .await
        .json();
    assert_eq!(v["order"]["items"][0]["discount_amount"], 5000, "{v}");
}

/// Anniversaries count from the day the customer joined, in the project's time zone: not on
/// the day they join, and in its month a year later.
#[tokio::test]
async fn anniversaries_of_joining() {
    let app = TestApp::new().await;
    let p = app.project("Anniversaries").await;
    for who in ["old-friend", "newcomer"] {
        app.post(&p, "/v1/customers", json!({"source_id": who})).await.assert_status(StatusCode::OK);
    }
    sqlx::query("update customer set created_at = now() - interval '3 years' where project_id = $1 and source_id = 'old-friend'")
        .bind(p.uuid())
        .execute(&app.db)
        .await
        .unwrap();
    let rule = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "anniversary month", "rules": {"logic": "1",
                "1": {"name": "customer.anniversary.this_month", "conditions": {"$is": [true]}}}}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    voucher(&app, &p, "THANKS", json!({"type": "AMOUNT", "amount_off": 500}), None, Some(&rule)).await;
    let valid = async |who: &str| {
        let body = json!({"redeemables": [{"object": "voucher", "id": "THANKS"}], "order": {"amount": 5000}, "customer": {"source_id": who}});
        app.post(&p, "/v1/validations", body).await.json()["valid"].as_bool().unwrap()
    };
    assert!(valid("old-friend").await, "three years ago this month");
    assert!(!valid("newcomer").await, "joining is not an anniversary");

    // a shopper not stored yet joins with the redemption that stores them: validation and
    // redemption agree that their first anniversary is a year away
    let rule = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "within a year", "rules": {"logic": "1",
                "1": {"name": "customer.anniversary.in_days", "conditions": {"$more_than": [300]}}}}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    voucher(&app, &p, "WELCOME-YEAR", json!({"type": "AMOUNT", "amount_off": 500}), None, Some(&rule)).await;
    let body = json!({"redeemables": [{"object": "voucher", "id": "WELCOME-YEAR"}], "order": {"amount": 5000}, "customer": {"source_id": "walk-in"}});
    let v = app.post(&p, "/v1/validations", body.clone()).await.json();
    assert_eq!(v["valid"], true, "{v}");
    app.post(&p, "/v1/redemptions", body).await.assert_status(StatusCode::OK);
}

/// The seeds' abandoned-cart code: a campaign's codes last a while after they are handed out
/// (`activity_duration_after_publishing`), and only the customer they were handed to can
/// redeem one. Inside the window the holder's cart takes it and another shopper's does not;
/// after it, nobody's does.
#[tokio::test]
async fn an_abandoned_cart_code_is_for_its_customer_within_its_window() {
    let app = TestApp::new().await;
    let p = app.project("Abandoned carts").await;
    let holder_only = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "holder only", "rules": {"logic": "1",
                "1": {"name": "publication.redeemable_by_linked_customer", "conditions": {"$is": [true]}}}}),
        )
        .await
        .json()["id"]
        .clone();
    let campaign = |name: &str, lasts: &str| {
        json!({"name": name, "campaign_type": "DISCOUNT_COUPONS", "type": "AUTO_UPDATE", "vouchers_count": 0,
               "activity_duration_after_publishing": lasts, "validation_rules": [holder_only],
               "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "PERCENT", "percent_off": 10},
                           "code_config": {"prefix": "CART-", "length": 8}}})
    };
    app.post(&p, "/v1/campaigns", campaign("Come back", "PT1H")).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/campaigns", campaign("Hurry", "PT1S")).await.assert_status(StatusCode::OK);
    // months and years have no fixed length; past 100 years no date could be written
    for lasts in ["P1M", "P450000W"] {
        let e = app.post(&p, "/v1/campaigns", campaign("Vague", lasts)).await;
        let e = e.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        assert!(e.to_string().contains("activity_duration_after_publishing"), "{e}");
    }
    let promo = json!({"name": "No codes", "campaign_type": "PROMOTION", "activity_duration_after_publishing": "P1D",
        "promotion": {"tiers": []}});
    let e = app.post(&p, "/v1/campaigns", promo).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e.to_string().contains("activity_duration_after_publishing"), "{e}");
    // a code never outlives its campaign; an ended campaign hands out no more codes
    let ends = chrono::Utc::now() + chrono::Duration::minutes(10);
    let ends = ends.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut soon = campaign("Ends soon", "P1D");
    soon["expiration_date"] = json!(ends);
    app.post(&p, "/v1/campaigns", soon).await.assert_status(StatusCode::OK);
    let capped = app.post(&p, "/v1/publications", json!({"campaign": "Ends soon", "customer": {"source_id": "ann"}}));
    assert_eq!(capped.await.json()["voucher"]["expiration_date"], json!(ends));
    let mut over = campaign("Over", "P1D");
    over["start_date"] = json!("2020-01-01T00:00:00Z");
    over["expiration_date"] = json!("2020-02-01T00:00:00Z");
    app.post(&p, "/v1/campaigns", over).await.assert_status(StatusCode::OK);
    let late = app.post(&p, "/v1/publications", json!({"campaign": "Over", "customer": {"source_id": "ann"}})).await;
    late.assert_status(StatusCode::BAD_REQUEST);
    app.post(&p, "/v1/campaigns/Over/vouchers/OVER-1", json!({})).await.assert_status(StatusCode::OK);
    let named = app.post(&p, "/v1/publications", json!({"voucher": "OVER-1", "customer": {"source_id": "ann"}})).await;
    named.assert_status(StatusCode::BAD_REQUEST);
    // a campaign yet to start: its codes' time counts from its start
    let starts = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut later = campaign("Later", "P1D");
    later["start_date"] = json!(starts);
    app.post(&p, "/v1/campaigns", later).await.assert_status(StatusCode::OK);
    let early =
        app.post(&p, "/v1/publications", json!({"campaign": "Later", "customer": {"source_id": "ann"}})).await.json();
    let until = chrono::DateTime::parse_from_rfc3339(early["voucher"]["expiration_date"].as_str().unwrap()).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339(&starts).unwrap();
    assert_eq!(until - start, chrono::Duration::days(1), "{early}");

    let publish = |name: &str| json!({"campaign": {"name": name, "count": 1}, "customer": {"source_id": "ann"}});
    let published = app.post(&p, "/v1/publications", publish("Come back")).await.json();
    let code = published["voucher"]["code"].as_str().unwrap().to_owned();
    let expires =
        chrono::DateTime::parse_from_rfc3339(published["voucher"]["expiration_date"].as_str().unwrap()).unwrap();
    let left = expires.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(58) && left <= chrono::Duration::minutes(60), "{left}");
    let redeem = |code: &str, who: &str| json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 5000}, "customer": {"source_id": who}});
    app.post(&p, "/v1/redemptions", redeem(&code, "bob")).await.assert_status(StatusCode::BAD_REQUEST);
    app.post(&p, "/v1/redemptions", redeem(&code, "ann")).await.assert_status(StatusCode::OK);

    let hurry = app.post(&p, "/v1/publications", publish("Hurry")).await.json();
    let code = hurry["voucher"]["code"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let late = app.post(&p, "/v1/validations", redeem(&code, "ann")).await.json();
    assert_eq!(late["valid"], false);
    assert_eq!(late["inapplicable_redeemables"][0]["result"]["error"]["key"], "voucher_expired", "{late}");
}

/// The seeds' wholesale tiers: a static segment of trade customers gets the deeper tier of a
/// cart promotion, and everyone else the shallow one; qualifications offer each their own.
#[tokio::test]
async fn wholesale_customers_get_their_own_tier() {
    let app = TestApp::new().await;
    let p = app.project("Wholesale").await;
    app.post(&p, "/v1/customers", json!({"source_id": "trade-1"})).await.assert_status(StatusCode::OK);
    let segment =
        app.post(&p, "/v1/segments", json!({"name": "Wholesale", "type": "static", "customers": ["trade-1"]})).await;
    segment.assert_status(StatusCode::OK);
    let segment = segment.json()["id"].clone();
    let rule = |name: &str, condition: &str| json!({"name": name, "rules": {"logic": "1", "1": {"name": "customer.segment", "conditions": {condition: [segment]}}}});
    let trade = app.post(&p, "/v1/validation-rules", rule("trade", "$is")).await.json()["id"].clone();
    let retail = app.post(&p, "/v1/validation-rules", rule("retail", "$is_not")).await.json()["id"].clone();
    let mut deep = tier("Wholesale 20%", json!({"type": "PERCENT", "percent_off": 20}));
    deep["validation_rules"] = json!([trade]);
    let mut shallow = tier("Everyone 5%", json!({"type": "PERCENT", "percent_off": 5}));
    shallow["validation_rules"] = json!([retail]);
    promotion(&app, &p, "Trade prices", vec![deep, shallow]).await;
    let offered = async |who: &str| {
        let q = app
            .post(&p, "/v1/qualifications", json!({"customer": {"source_id": who}, "order": {"amount": 100000}}))
            .await
            .json();
        let data = q["redeemables"]["data"].as_array().unwrap().clone();
        data.iter()
            .map(|r| (r["name"].as_str().unwrap().to_owned(), r["order"]["total_discount_amount"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(offered("trade-1").await, vec![("Wholesale 20%".to_owned(), json!(20000))]);
    assert_eq!(offered("walk-in").await, vec![("Everyone 5%".to_owned(), json!(5000))]);
}

/// Profit impact where costs are known: a campaign's analytics count the redemptions whose
/// order's every line has a catalog cost — order amount, discount, cost and profit — net of
/// rollbacks, the same before and after the figures are folded; an order with an uncosted line
/// is left out of them (and still counted everywhere else).
#[tokio::test]
async fn analytics_show_profit_where_costs_are_known() {
    let app = TestApp::new().await;
    let p = app.project("Profit").await;
    app.post(&p, "/v1/products", json!({"source_id": "coat", "price": 10000, "cost": 6000}))
        .await
        .assert_status(StatusCode::OK);
    app.post(&p, "/v1/products", json!({"source_id": "scarf", "price": 2000, "cost": 500}))
        .await
        .assert_status(StatusCode::OK);
    campaign_code(&app, &p, "Ten-off", "TENOFF", json!({"type": "PERCENT", "percent_off": 10}), json!({})).await;
    app.post(&p, "/v1/campaigns/Ten-off/vouchers/TENOFF2", json!({})).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/campaigns/Ten-off/vouchers/TENOFF3", json!({})).await.assert_status(StatusCode::OK);
    let redeem = |code: &str, items: Value| json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"items": items}});
    // costed: 2 coats and a scarf = 22000, 10 % off = 2200, cost 12500: profit 7300
    let costed = json!([line("coat", 2, 10000), line("scarf", 1, 2000)]);
    app.post(&p, "/v1/redemptions", redeem("TENOFF", costed.clone())).await.assert_status(StatusCode::OK);
    // an uncosted line (not in the catalog): left out of the profit figures
    let uncosted = json!([line("coat", 1, 10000), line("mystery", 1, 1000)]);
    app.post(&p, "/v1/redemptions", redeem("TENOFF2", uncosted)).await.assert_status(StatusCode::OK);
    // costed, then rolled back: nets to nothing
    let r = app.post(&p, "/v1/redemptions", redeem("TENOFF3", costed)).await.json();
    let id = r["redemptions"][0]["id"].as_str().unwrap().to_owned();
    app.post(&p, &format!("/v1/redemptions/{id}/rollback"), json!({})).await.assert_status(StatusCode::OK);

    let campaign = app.get(&p, "/v1/campaigns/Ten-off").await.json()["id"].as_str().unwrap().to_owned();
    let profit = async || {
        let t = app.get(&p, &format!("/v1/analytics/series?object_id={campaign}")).await.json()["totals"].clone();
        ["redemptions", "costed_redemptions", "costed_orders_amount", "costed_discount_amount", "cost_amount", "profit"]
            .map(|k| t[k].as_i64().unwrap_or_else(|| panic!("{k} in {t}")))
    };
    let expected = [3, 1, 22000, 2200, 12500, 7300];
    assert_eq!(profit().await, expected, "before the fold");
    while promo_store::ledger::fold_redemption_stats(&app.db, 10_000).await.unwrap() > 0 {}
    assert_eq!(profit().await, expected, "after the fold");
    // the ledger agrees: the live costed redemption's cost
    let ledger: Option<i64> = sqlx::query_scalar(
        "select sum(cost_amount)::bigint from redemption where project_id = $1 and status = 'SUCCEEDED'",
    )
    .bind(p.uuid())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(ledger, Some(12500));
}
