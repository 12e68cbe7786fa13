//! Validation rules (compiled by the engine when written) and assignments.

use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::json;

fn rule() -> serde_json::Value {
    json!({
        "name": "Big spenders",
        "error": {"message": "Spend more"},
        "rules": {
            "1": {"name": "order.amount", "conditions": {"$more_than_or_equal": [5000]}},
            "2": {"name": "customer.segment", "conditions": {"$is": ["seg_vip"]}},
            "logic": "1 or 2"
        },
        "applicable_to": {"included": [{"object": "product", "id": "prod_1"}]}
    })
}

#[tokio::test]
async fn validation_rule_lifecycle() {
    let app = TestApp::new().await;
    let p = app.project("Rules").await;
    let created = app.post(&p, "/v1/validation-rules", rule()).await;
    created.assert_status(StatusCode::OK);
    let c = created.json();
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("val_"));
    assert_eq!(
        (c["type"].as_str(), c["context_type"].as_str(), c["object"].as_str()),
        (Some("expression"), Some("global"), Some("validation_rules"))
    );
    assert_eq!(c["applicable_to"]["included"][0]["effect"], "APPLY_TO_EVERY", "entries carry their effect");
    assert_eq!(c["rules"]["logic"], "1 or 2");

    app.get(&p, &format!("/v1/validation-rules/{id}")).await.assert_status(StatusCode::OK);
    let updated = app
        .put(
            &p,
            &format!("/v1/validation-rules/{id}"),
            json!({"rules": {"1": {"name": "order.items.count", "conditions": {"$more_than": [2]}}}}),
        )
        .await;
    updated.assert_status(StatusCode::OK);
    assert_eq!(updated.json()["name"], "Big spenders", "absent fields keep their value");
    assert_eq!(updated.json()["rules"]["1"]["name"], "order.items.count");
    let list = app.get(&p, "/v1/validation-rules").await;
    assert_eq!((list.json()["total"].as_i64(), list.json()["data_ref"].as_str()), (Some(1), Some("data")));
    app.delete(&p, &format!("/v1/validation-rules/{id}")).await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, &format!("/v1/validation-rules/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn bad_rules_are_rejected_with_the_engine_path_and_not_stored() {
    let app = TestApp::new().await;
    let p = app.project("Bad rules").await;
    let cases = [
        (json!({"1": {"name": "order.bogus", "conditions": {"$is": [1]}}}), "rules.1.name"),
        (json!({"1": {"name": "order.amount", "conditions": {"$more_than": [1]}}, "logic": "1 and (2"}), "rules.logic"),
        (json!({"1": {"name": "customer.metadata", "conditions": {"$is": ["x"]}}}), "rules.1.property"),
        (json!({"1": {"name": "order.amount", "conditions": {"$wat": [1]}}}), "rules.1.conditions.$wat"),
    ];
    for (rules, path) in cases {
        let e = app
            .post(&p, "/v1/validation-rules", json!({"name": "bad", "rules": rules}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_validation_rules");
        assert!(e["details"].as_str().unwrap().contains(path), "{path}: {e}");
    }
    app.post(&p, "/v1/validation-rules", json!({"rules": {}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/validation-rules", json!({"name": "t", "type": "fancy"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert_eq!(app.get(&p, "/v1/validation-rules").await.json()["total"], 0);
}

#[tokio::test]
async fn rule_names_are_unique_per_project() {
    let app = TestApp::new().await;
    let (a, b) = (app.project("A").await, app.project("B").await);
    app.post(&a, "/v1/validation-rules", rule()).await.assert_status(StatusCode::OK);
    app.post(&a, "/v1/validation-rules", rule()).await.assert_error(StatusCode::CONFLICT, "duplicate_found");
    app.post(&b, "/v1/validation-rules", rule()).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn assignments_lifecycle() {
    let app = TestApp::new().await;
    let p = app.project("Assignments").await;
    let id = app.post(&p, "/v1/validation-rules", rule()).await.json()["id"].as_str().unwrap().to_owned();
    let a = app
        .post(
            &p,
            &format!("/v1/validation-rules/{id}/assignments"),
            json!({"related_object_type": "voucher", "related_object_id": "v_1"}),
        )
        .await;
    a.assert_status(StatusCode::OK);
    let a = a.json();
    assert_eq!((a["rule_id"].as_str(), a["object"].as_str()), (Some(id.as_str()), Some("validation_rules_assignment")));
    app.post(
        &p,
        &format!("/v1/validation-rules/{id}/assignments"),
        json!({"related_object_type": "voucher", "related_object_id": "v_1"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "duplicate_found");
    let legacy = app.post(&p, &format!("/v1/validation-rules/{id}/assignments"), json!({"campaign": "camp_1"})).await;
    assert_eq!(legacy.json()["related_object_type"], "campaign");
    app.post(
        &p,
        &format!("/v1/validation-rules/{id}/assignments"),
        json!({"related_object_type": "planet", "related_object_id": "x"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert_eq!(app.get(&p, &format!("/v1/validation-rules/{id}/assignments")).await.json()["total"], 2);
    assert_eq!(app.get(&p, "/v1/validation-rules-assignments?related_object_id=v_1").await.json()["total"], 1);
    assert_eq!(app.get(&p, &format!("/v1/validation-rules/{id}")).await.json()["assignments_count"], 2);
    let asgm = a["id"].as_str().unwrap();
    app.delete(&p, &format!("/v1/validation-rules/{id}/assignments/{asgm}"))
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.delete(&p, &format!("/v1/validation-rules/{id}/assignments/{asgm}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn another_projects_rules_are_404_and_never_listed() {
    let app = TestApp::new().await;
    let (a, b) = (app.project("Owner").await, app.project("Other").await);
    let id = app.post(&a, "/v1/validation-rules", rule()).await.json()["id"].as_str().unwrap().to_owned();
    app.get(&b, &format!("/v1/validation-rules/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.put(&b, &format!("/v1/validation-rules/{id}"), json!({"name": "stolen"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&b, &format!("/v1/validation-rules/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&b, &format!("/v1/validation-rules/{id}/assignments"), json!({"voucher": "X"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.get(&b, "/v1/validation-rules").await.json()["total"], 0);
    assert_eq!(app.get(&b, "/v1/validation-rules-assignments").await.json()["total"], 0);
    assert_eq!(app.get(&a, &format!("/v1/validation-rules/{id}")).await.json()["name"], "Big spenders", "untouched");
}
