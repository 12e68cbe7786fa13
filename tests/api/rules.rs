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
    let v = app
        .post(
            &p,
            "/v1/vouchers/RULED",
            json!({"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100}}),
        )
        .await
        .json();
    let v_id = v["id"].as_str().unwrap().to_owned();
    let c = app
        .post(&p, "/v1/campaigns", json!({"name": "Ruled", "campaign_type": "PROMOTION", "promotion": {"tiers": []}}))
        .await
        .json();
    let a = app
        .post(
            &p,
            &format!("/v1/validation-rules/{id}/assignments"),
            json!({"related_object_type": "voucher", "related_object_id": v_id}),
        )
        .await;
    a.assert_status(StatusCode::OK);
    let a = a.json();
    assert_eq!((a["rule_id"].as_str(), a["object"].as_str()), (Some(id.as_str()), Some("validation_rules_assignment")));
    // the same voucher named by its code is the same assignment
    app.post(&p, &format!("/v1/validation-rules/{id}/assignments"), json!({"voucher": "RULED"}))
        .await
        .assert_error(StatusCode::CONFLICT, "duplicate_found");
    // a campaign by name is stored by its id (what checkouts look rules up by)
    let legacy = app.post(&p, &format!("/v1/validation-rules/{id}/assignments"), json!({"campaign": "Ruled"})).await;
    assert_eq!(
        (&legacy.json()["related_object_type"], &legacy.json()["related_object_id"]),
        (&json!("campaign"), &c["id"])
    );
    // nothing accepted that no checkout would read: unknown objects, objects the service lacks
    for (body, status, key) in [
        (
            json!({"related_object_type": "planet", "related_object_id": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_payload",
        ),
        (
            json!({"related_object_type": "earning_rule", "related_object_id": "ern_1"}),
            StatusCode::BAD_REQUEST,
            "invalid_payload",
        ),
        (json!({"voucher": "NO-SUCH-CODE"}), StatusCode::NOT_FOUND, "not_found"),
        (json!({"campaign": "camp_00000000000000000000000000000000"}), StatusCode::NOT_FOUND, "not_found"),
        (json!({"promotion_tier": "promo_00000000000000000000000000000000"}), StatusCode::NOT_FOUND, "not_found"),
    ] {
        app.post(&p, &format!("/v1/validation-rules/{id}/assignments"), body).await.assert_error(status, key);
    }
    assert_eq!(app.get(&p, &format!("/v1/validation-rules/{id}/assignments")).await.json()["total"], 2);
    assert_eq!(
        app.get(&p, &format!("/v1/validation-rules-assignments?related_object_id={v_id}")).await.json()["total"],
        1
    );
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
