//! The audit log of admin writes: who changed what, when, with the before and after.

use crate::checkout::{code, item, promotion};
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

async fn log(app: &TestApp, p: &Project, query: &str) -> Value {
    let r = app.get(p, &format!("/v1/audit-log{query}")).await;
    r.assert_status(StatusCode::OK);
    r.json()
}

fn entries(list: &Value) -> Vec<Value> {
    list["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_admin_write_is_logged_with_its_credential_and_the_object_before_and_after() {
    let app = TestApp::new().await;
    let p = app.project("Audited").await;
    let created = app.post(&p, "/v1/categories", json!({"name": "Summer", "hierarchy": 1})).await;
    created.assert_status(StatusCode::OK);
    let create_request = created.headers["x-request-id"].to_str().unwrap().to_owned();
    let id = created.json()["id"].as_str().unwrap().to_owned();
    app.put(&p, &format!("/v1/categories/{id}"), json!({"name": "Winter"})).await.assert_status(StatusCode::OK);
    // a refused write changes nothing and is not logged
    app.put(&p, &format!("/v1/categories/{id}"), json!({"name": 7})).await.assert_status(StatusCode::BAD_REQUEST);
    app.delete(&p, &format!("/v1/categories/{id}")).await;

    let list = log(&app, &p, &format!("?object_id={id}")).await;
    let e = entries(&list);
    let actions: Vec<&str> = e.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["delete", "update", "create"], "newest first: {list}");
    for entry in &e {
        assert_eq!(entry["object"], "audit_entry");
        assert_eq!(entry["credential"], json!({"type": "server_key", "id": p.app_id}), "{entry}");
        assert_eq!(entry["resource"]["type"], "category");
        assert_eq!(entry["resource"]["id"], json!(id));
        assert!(entry["id"].as_str().unwrap().starts_with("audit_"));
    }
    let (delete, update, create) = (&e[0], &e[1], &e[2]);
    assert_eq!((&create["before"], &create["after"]["name"]), (&Value::Null, &json!("Summer")), "{create}");
    assert_eq!(create["request_id"], json!(create_request));
    assert_eq!((&create["method"], &create["path"]), (&json!("POST"), &json!("/v1/categories")));
    assert_eq!((&update["before"]["name"], &update["after"]["name"]), (&json!("Summer"), &json!("Winter")));
    let changed: Vec<&str> = update["changed_fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(changed.contains(&"name"), "{update}");
    assert!(!changed.contains(&"hierarchy"), "{update}");
    // the after image is what GET answered after the write
    assert_eq!((&delete["before"]["name"], &delete["after"]), (&json!("Winter"), &Value::Null), "{delete}");
    assert_eq!(create["after"]["id"], json!(id));

    // checkout calls are not admin writes
    code(&app, &p, "SAVE10", json!({"type": "AMOUNT", "amount_off": 100})).await;
    let order = json!({"items": [item("mug", 1, 3000)]});
    app.post(&p, "/v1/validations", json!({"redeemables": [{"object": "voucher", "id": "SAVE10"}], "order": order}))
        .await
        .assert_status(StatusCode::OK);
    app.post(&p, "/v1/redemptions", json!({"redeemables": [{"object": "voucher", "id": "SAVE10"}], "order": order}))
        .await
        .assert_status(StatusCode::OK);
    // the path spells the code in lower case: the entry keeps the code as created
    app.post(&p, "/v1/vouchers/save10/disable", json!({})).await.assert_status(StatusCode::OK);
    // a code is found by its code as well as by its id
    let by_code = entries(&log(&app, &p, "?object_id=SAVE10").await);
    let actions: Vec<&str> = by_code.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["disable", "create"], "{by_code:?}");
    assert_eq!((&by_code[0]["before"]["active"], &by_code[0]["after"]["active"]), (&json!(true), &json!(false)));
    assert_eq!(by_code[0]["changed_fields"].as_array().unwrap().iter().filter(|f| *f == "active").count(), 1);
    let voucher_id = by_code[0]["resource"]["id"].as_str().unwrap();
    assert!(voucher_id.starts_with("v_"), "{voucher_id}");
    assert_eq!(by_code[0]["resource"]["key"], "SAVE10");
    // codes are case-insensitive here, and so is the filter
    assert_eq!(entries(&log(&app, &p, "?object_id=Save10").await).len(), 2);
    // the redemption shows in the after image's counters, but made no entry of its own
    assert_eq!(by_code[0]["after"]["redemption"]["redeemed_quantity"], 1);
    let all = entries(&log(&app, &p, "?limit=100").await);
    assert!(all.iter().all(|e| !e["path"].as_str().unwrap().contains("validations")), "{all:?}");
    assert!(all.iter().all(|e| !e["path"].as_str().unwrap().contains("redemptions")), "{all:?}");

    // the management credential's changes to the project are in its log; secrets never are
    app.update_project(&p, json!({"rate_limits": {"server_per_second": 500}})).await.assert_status(StatusCode::OK);
    app.management(
        Method::POST,
        &format!("/management/v1/projects/{}/webhooks", p.id),
        Some(json!({"url": "https://hooks.example.com/x", "events": ["*"]})),
    )
    .await
    .assert_status(StatusCode::OK);
    let management = entries(&log(&app, &p, "?credential_type=management").await);
    let kinds: Vec<&str> = management.iter().map(|e| e["resource"]["type"].as_str().unwrap()).collect();
    // the project's own creation is its first entry
    assert_eq!(kinds, ["webhook", "project", "project"], "{management:?}");
    assert_eq!((&management[2]["action"], &management[2]["before"]), (&json!("create"), &Value::Null));
    assert_eq!(management[0]["resource"]["key"], Value::Null, "the project is the webhook's parent, not its key");
    assert_eq!(management[0]["credential"]["type"], "management");
    assert_eq!(management[0]["after"]["secret"], "[redacted]", "{:?}", management[0]);
    assert!(!management[0].to_string().contains("whsec_"));
    let project = &management[1];
    assert_eq!(project["after"]["rate_limits"]["server_per_second"], 500);
    assert!(project["changed_fields"].as_array().unwrap().contains(&json!("rate_limits.server_per_second")));

    // filters
    let updates = entries(&log(&app, &p, "?action=update&object_type=category").await);
    assert_eq!(updates.len(), 1);
    let future = entries(&log(&app, &p, "?start_date=2999-01-01").await);
    assert!(future.is_empty());
    app.get(&p, "/v1/audit-log?start_date=2026-02-01&end_date=2026-01-01")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    app.get(&p, "/v1/audit-log?object_type=spaceship")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    app.get(&p, "/v1/audit-log?limit=0").await.assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    app.get(&p, "/v1/audit-log?action=explode").await.assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
}

#[tokio::test]
async fn the_audit_log_pages_and_never_shows_another_projects_writes() {
    let app = TestApp::new().await;
    let p = app.project("Paged").await;
    let q = app.project("Other").await;
    promotion(
        &app,
        &p,
        "Tiers",
        vec![json!({"name": "A", "action": {"discount": {"type": "AMOUNT", "amount_off": 100}}})],
    )
    .await;
    for i in 0..4 {
        app.post(&p, "/v1/categories", json!({"name": format!("c{i}"), "hierarchy": i}))
            .await
            .assert_status(StatusCode::OK);
    }
    let first = log(&app, &p, "?limit=3").await;
    assert_eq!((entries(&first).len(), &first["has_more"]), (3, &json!(true)));
    let cursor = first["more_starting_after"].as_str().unwrap().to_owned();
    let second = log(&app, &p, &format!("?limit=3&starting_after_id={cursor}")).await;
    let ids = |l: &Value| entries(l).iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(second["has_more"], json!(false));
    let mut all = ids(&first);
    all.extend(ids(&second));
    let mut distinct = all.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((all.len(), distinct.len()), (6, 6), "4 categories, 1 campaign, the project: {all:?}");
    let campaign = entries(&second)[1].clone();
    assert_eq!((&campaign["resource"]["type"], &campaign["action"]), (&json!("campaign"), &json!("create")));
    assert_eq!(campaign["after"]["promotion"]["tiers"][0]["name"], "A", "{campaign}");

    // another project's key sees nothing of this log, by filter or by cursor
    let theirs = entries(&log(&app, &q, "").await);
    assert_eq!(theirs.len(), 1, "only its own creation: {theirs:?}");
    assert_eq!(theirs[0]["resource"]["id"], json!(q.id));
    let id = campaign["resource"]["id"].as_str().unwrap();
    assert!(entries(&log(&app, &q, &format!("?object_id={id}")).await).is_empty());
    app.get(&q, &format!("/v1/audit-log?starting_after_id={cursor}"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
}
