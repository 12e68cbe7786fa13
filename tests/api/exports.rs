//! The Exports API: an export scheduled, run by the worker, read back and downloaded as CSV
//! whose rows are what the list endpoints answer; fields, defaults, filters, order, bad
//! fields, another project's key, an expired token, a download from another instance, delete.

use crate::checkout::{code, item};
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// Runs the project's due exports, as the service's worker does.
async fn run_exports(app: &TestApp, p: &Project) {
    promo_api::services::exports::run_due(&app.db, std::time::Duration::from_secs(30), Some(p.project_id()))
        .await
        .unwrap();
}

/// Schedules an export, runs it and answers (export, CSV rows with the header first).
async fn export(app: &TestApp, p: &Project, body: Value) -> (Value, Vec<Vec<String>>) {
    let created = app.post(p, "/v1/exports", body).await;
    created.assert_status(StatusCode::OK);
    let created = created.json();
    assert_eq!((&created["status"], &created["object"]), (&json!("SCHEDULED"), &json!("export")), "{created}");
    run_exports(app, p).await;
    let done = app.get(p, &format!("/v1/exports/{}", created["id"].as_str().unwrap())).await.json();
    assert_eq!(done["status"], "DONE", "{done}");
    let rows = download(app, &done, Auth::None).await;
    (done, rows)
}

/// The download path of a done export (its URL without the host).
fn download_path(done: &Value) -> String {
    let url = done["result"]["url"].as_str().unwrap();
    url[url.find("/v1/exports/").unwrap()..].to_owned()
}

async fn download(app: &TestApp, done: &Value, auth: Auth<'_>) -> Vec<Vec<String>> {
    let r = app.request(Method::GET, &download_path(done), auth, None).await;
    r.assert_status(StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/plain"), "{:?}", r.headers);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(r.body.as_slice())
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn redemption_exports_equal_the_list_and_honour_fields_filters_and_order() {
    let app = TestApp::new().await;
    let p = app.project("Exports").await;
    code(&app, &p, "TEN", json!({"type": "AMOUNT", "amount_off": 1000})).await;
    code(&app, &p, "FIVE", json!({"type": "AMOUNT", "amount_off": 500})).await;
    app.post(&p, "/v1/vouchers/FIVE/disable", json!({})).await.assert_status(StatusCode::OK);
    let mut ids = Vec::new();
    for (i, (voucher, colour)) in
        [("TEN", "red"), ("FIVE", "blue"), ("TEN", "blue"), ("TEN", "green")].iter().enumerate()
    {
        let r = app
            .post(
                &p,
                "/v1/redemptions",
                json!({"redeemables": [{"object": "voucher", "id": voucher}], "order": {"items": [item("mug", 1, 3000)]},
                       "customer": {"source_id": format!("shopper-{i}"), "name": format!("Shopper {i}")},
                       "metadata": {"colour": colour}}),
            )
            .await;
        ids.push(r.json());
    }
    // one rolled back: the list shows the rollback as an entry of its own
    let first = ids[0]["redemptions"][0]["id"].as_str().unwrap().to_owned();
    app.post(&p, &format!("/v1/redemptions/{first}/rollback"), json!({})).await.assert_status(StatusCode::OK);

    // defaults, newest first: exactly the list
    let (done, rows) = export(&app, &p, json!({"exported_object": "redemption"})).await;
    assert_eq!(done["parameters"]["fields"], json!(["id", "object", "voucher_code", "customer_id", "date", "result"]));
    assert_eq!(done["parameters"]["order"], "-created_at");
    assert_eq!(rows[0], ["Id", "Object", "Voucher Code", "Customer Id", "Date", "Result"]);
    let listed = app.get(&p, "/v1/redemptions?limit=100").await.json();
    let listed = listed["redemptions"].as_array().unwrap();
    assert_eq!(rows.len() - 1, listed.len(), "{rows:?}");
    assert_eq!(done["rows"], listed.len());
    for (row, r) in rows[1..].iter().zip(listed) {
        let want = [
            text(&r["id"]),
            text(&r["object"]),
            text(r.pointer("/voucher/code").unwrap_or(&Value::Null)),
            text(&r["customer_id"]),
            text(&r["date"]),
            text(&r["result"]),
        ];
        assert_eq!(row, &want, "{r}");
    }
    assert!(rows[1..].iter().all(|r| r[4].ends_with('Z')), "UTC ISO-8601 times: {rows:?}");

    // chosen fields, metadata expanded to columns, a filter on the result and on metadata, order
    let (_, rows) = export(
        &app,
        &p,
        json!({"exported_object": "redemption", "parameters": {
            "fields": ["voucher_code", "customer_name", "result", "failure_code", "metadata"],
            "filters": {"junction": "and", "result": {"conditions": {"$in": ["SUCCESS"]}},
                        "metadata.colour": {"conditions": {"$is": ["blue"]}}},
            "order": "voucher_code"}}),
    )
    .await;
    assert_eq!(rows[0], ["Voucher Code", "Customer Name", "Result", "Failure Code", "Metadata colour"]);
    assert_eq!(rows[1..], [["TEN", "Shopper 2", "SUCCESS", "", "blue"]], "the FIVE one failed (disabled)");
    let (_, rows) = export(
        &app,
        &p,
        json!({"exported_object": "redemption", "parameters": {"fields": ["voucher_code", "result", "failure_code"],
            "filters": {"result": {"conditions": {"$is": ["FAILURE"]}}}}}),
    )
    .await;
    assert_eq!(rows[1..], [["FIVE", "FAILURE", "voucher_disabled"]]);

    // refused: fields the object has not (naming the allowed ones), unknown objects, orders, filters
    let e = app
        .post(&p, "/v1/exports", json!({"exported_object": "redemption", "parameters": {"fields": ["id", "colour"]}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_export_fields");
    let details = e["details"].as_str().unwrap();
    assert!(details.contains("colour") && details.contains("voucher_code"), "{e}");
    for (body, named) in [
        (json!({"exported_object": "loyalty"}), "exported_object"),
        (json!({"exported_object": "voucher", "parameters": {"order": "-result"}}), "order"),
        (
            json!({"exported_object": "order", "parameters": {"filters": {"colour": {"conditions": {"$is": ["x"]}}}}}),
            "filters.colour",
        ),
        (json!({"exported_object": "order", "parameters": {"limit": 5}}), "limit"),
    ] {
        let e = app.post(&p, "/v1/exports", body).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        assert!(e["details"].as_str().unwrap().contains(named), "{e}");
    }
}

#[tokio::test]
async fn every_object_exports_what_its_list_shows() {
    let app = TestApp::new().await;
    let p = app.project("Export objects").await;
    app.post(
        &p,
        "/v1/customers",
        json!({"source_id": "ann", "name": "Ann", "email": "ann@example.com", "metadata": {"tier": "gold"}}),
    )
    .await
    .assert_status(StatusCode::OK);
    let product = app
        .post(&p, "/v1/products", json!({"source_id": "mug", "name": "Mug", "price": 3000, "attributes": ["colour"]}))
        .await
        .json();
    app.post(
        &p,
        &format!("/v1/products/{}/skus", product["id"].as_str().unwrap()),
        json!({"source_id": "mug-red", "sku": "Red mug", "price": 3200, "attributes": {"colour": "red"}}),
    )
    .await
    .assert_status(StatusCode::OK);
    code(&app, &p, "GOLD", json!({"type": "PERCENT", "percent_off": 15})).await;
    app.post(&p, "/v1/redemptions", json!({"redeemables": [{"object": "voucher", "id": "GOLD"}],
        "order": {"source_id": "o-1", "items": [{"source_id": "mug", "quantity": 2}]}, "customer": {"source_id": "ann"}}))
        .await
        .assert_status(StatusCode::OK);
    app.post(
        &p,
        "/v1/campaigns",
        json!({"name": "Welcome", "type": "AUTO_UPDATE", "vouchers_count": 0,
        "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100}}}),
    )
    .await
    .assert_status(StatusCode::OK);
    app.post(
        &p,
        "/v1/publications",
        json!({"campaign": {"name": "Welcome"}, "customer": {"source_id": "ann"}, "channel": "email"}),
    )
    .await
    .assert_status(StatusCode::OK);
    promo_api::services::jobs::run_due(&app.db, promo_api::services::jobs::DEFAULT_LEASE, Some(p.project_id()), None)
        .await
        .unwrap();

    // customers: defaults, and the summary the list shows
    let (_, rows) = export(&app, &p, json!({"exported_object": "customer"})).await;
    assert_eq!(rows, [vec!["Name", "Source Id"], vec!["Ann", "ann"]]);
    let (_, rows) = export(&app, &p, json!({"exported_object": "customer", "parameters": {
        "fields": ["source_id", "orders_total_count", "orders_total_amount", "redemptions_total_succeeded", "metadata.tier"]}}))
    .await;
    let listed = &app.get(&p, "/v1/customers").await.json()["customers"][0];
    assert_eq!(
        rows[1],
        [
            "ann".to_owned(),
            text(&listed["summary"]["orders"]["total_count"]),
            text(&listed["summary"]["orders"]["total_amount"]),
            text(&listed["summary"]["redemptions"]["total_succeeded"]),
            "gold".to_owned()
        ]
    );
    assert_eq!(rows[1][1], "1");

    // vouchers: defaults (code, type, value, discount type) and the counters the list shows
    let (_, rows) = export(&app, &p, json!({"exported_object": "voucher", "parameters": {"order": "code"}})).await;
    assert_eq!(rows[0], ["Code", "Voucher Type", "Value", "Discount Type"]);
    assert!(
        rows.contains(&vec!["GOLD".to_owned(), "DISCOUNT_VOUCHER".into(), "15".into(), "PERCENT".into()]),
        "{rows:?}"
    );
    let (_, rows) = export(
        &app,
        &p,
        json!({"exported_object": "voucher", "parameters": {
        "fields": ["code", "redemption_count", "campaign"], "filters": {"code": {"conditions": {"$is": ["GOLD"]}}}}}),
    )
    .await;
    assert_eq!(rows[1..], [["GOLD", "1", ""]]);

    // orders, through both doors
    let (_, rows) = export(&app, &p, json!({"exported_object": "order", "parameters": {"fields": ["source_id", "status", "amount", "total_amount"]}})).await;
    let order = &app.get(&p, "/v1/orders").await.json()["orders"][0];
    assert_eq!(
        rows[1],
        [text(&order["source_id"]), text(&order["status"]), text(&order["amount"]), text(&order["total_amount"])]
    );
    assert_eq!(rows[1], ["o-1", "PAID", "6000", "5100"]);
    let created =
        app.post(&p, "/v1/orders/export", json!({"parameters": {"fields": ["id", "source_id"]}})).await.json();
    assert_eq!((&created["exported_object"], &created["status"]), (&json!("order"), &json!("SCHEDULED")), "{created}");

    // products and SKUs
    let (_, rows) = export(&app, &p, json!({"exported_object": "product"})).await;
    assert_eq!(rows[0], ["Id", "Name", "Price", "Image Url", "Source Id", "Attributes", "Created At"]);
    assert_eq!(
        rows[1][..6],
        [text(&product["id"]), "Mug".into(), "3000".into(), String::new(), "mug".into(), "colour".into()]
    );
    let (_, rows) = export(&app, &p, json!({"exported_object": "sku", "parameters": {"fields": ["sku", "product_id", "source_id", "price", "attributes"]}})).await;
    assert_eq!(
        rows[1],
        ["Red mug".to_owned(), text(&product["id"]), "mug-red".into(), "3200".into(), "{\"colour\":\"red\"}".into()]
    );

    // publications
    let (_, rows) = export(&app, &p, json!({"exported_object": "publication"})).await;
    assert_eq!(rows[0], ["Voucher Code", "Customer Id", "Date", "Channel"]);
    let publication = &app.get(&p, "/v1/publications").await.json()["publications"][0];
    assert_eq!(rows[1][..2], [text(&publication["voucher"]["code"]), text(&publication["customer_id"])]);
    assert_eq!(rows[1][3], "email", "{rows:?}");
}

#[tokio::test]
async fn downloads_need_the_token_of_this_project_in_time_and_work_from_any_instance() {
    let a = TestApp::new().await;
    let b = TestApp::new().await;
    let p = a.project("Export downloads").await;
    let other = a.project("Someone else").await;
    code(&a, &p, "ONE", json!({"type": "AMOUNT", "amount_off": 100})).await;
    let created = a.post(&p, "/v1/exports", json!({"exported_object": "voucher"})).await.json();
    let id = created["id"].as_str().unwrap().to_owned();
    // before it is done: no URL
    assert_eq!(a.get(&p, &format!("/v1/exports/{id}")).await.json()["result"], Value::Null);
    run_exports(&a, &p).await;
    let done = a.get(&p, &format!("/v1/exports/{id}")).await.json();
    // requested through one instance, downloaded from another (no state on one server)
    let rows = download(&b, &done, Auth::None).await;
    assert_eq!(rows[1], ["ONE", "DISCOUNT_VOUCHER", "100", "AMOUNT"]);
    // with this project's key too
    assert_eq!(download(&b, &done, Auth::App(&p)).await, rows);
    // another project's key: 404, with or without the token
    a.get(&other, &format!("/v1/exports/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    a.request(Method::GET, &download_path(&done), Auth::App(&other), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    // a token altered, or for another export, opens nothing
    let path = download_path(&done);
    // (the last character changed to another: a token ending in 0 once made this "forgery" valid)
    let last = if path.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &path[..path.len() - 1]);
    a.request(Method::GET, &forged, Auth::None, None).await.assert_error(StatusCode::FORBIDDEN, "forbidden");
    // no token and no key: 401
    a.request(Method::GET, &format!("/v1/exports/{id}"), Auth::None, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    // an expired token: refused (an hour is the default lifetime)
    let token = path.split("token=").nth(1).unwrap();
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let e = promo_api::services::exports::authorize_download(&a.db, &id, token, None, later)
        .await
        .unwrap_err()
        .body_value();
    assert_eq!(e["key"], "forbidden");
    assert!(e["details"].as_str().unwrap().contains("expired"), "{e}");
    assert!(
        promo_api::services::exports::authorize_download(&a.db, &id, token, None, chrono::Utc::now()).await.is_ok()
    );

    // listed, newest first; deleted: gone, and so is its file
    let second = a.post(&p, "/v1/exports", json!({"exported_object": "customer"})).await.json();
    let listed = a.get(&p, "/v1/exports").await.json();
    assert_eq!(listed["total"], 2);
    assert_eq!((&listed["data_ref"], &listed["exports"][0]["id"]), (&json!("exports"), &second["id"]));
    assert_eq!(a.get(&other, "/v1/exports").await.json()["total"], 0);
    a.delete(&p, &format!("/v1/exports/{id}")).await.assert_status(StatusCode::NO_CONTENT);
    a.get(&p, &format!("/v1/exports/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    a.request(Method::GET, &path, Auth::None, None).await.assert_error(StatusCode::NOT_FOUND, "not_found");
}
