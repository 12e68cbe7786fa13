//! Management API: projects, keys, stacking rules.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn project_lifecycle_create_read_update_list_delete() {
    let app = TestApp::new().await;
    let r = app
        .management(Method::POST, "/management/v1/projects", Some(json!({"name": "Shop", "timezone": "Europe/Warsaw", "currency": "EUR", "client_trusted_domains": ["shop.example.com"]})))
        .await;
    r.assert_status(StatusCode::OK);
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("proj_"));
    assert_eq!((created["timezone"].as_str(), created["currency"].as_str()), (Some("Europe/Warsaw"), Some("EUR")));
    assert!(created["server_side_key"]["app_token"].as_str().is_some_and(|t| t.len() == 64));
    assert!(created["client_side_key"]["app_id"].as_str().is_some_and(|t| t.starts_with("client-")));

    let got = app.management(Method::GET, &format!("/management/v1/projects/{id}"), None).await;
    got.assert_status(StatusCode::OK);
    assert_eq!(got.json()["name"], "Shop");
    assert!(got.json().get("server_side_key").is_none(), "keys are shown only at creation");

    let updated = app
        .management(
            Method::PUT,
            &format!("/management/v1/projects/{id}"),
            Some(json!({"name": "Shop 2", "case_sensitive_codes": true})),
        )
        .await;
    updated.assert_status(StatusCode::OK);
    assert_eq!(
        (
            updated.json()["name"].as_str(),
            updated.json()["case_sensitive_codes"].as_bool(),
            updated.json()["currency"].as_str()
        ),
        (Some("Shop 2"), Some(true), Some("EUR"))
    );

    let list = app.management(Method::GET, "/management/v1/projects?limit=100", None).await;
    list.assert_status(StatusCode::OK);
    assert_eq!(list.json()["object"], "list");
    assert!(list.json()["data"].as_array().unwrap().iter().any(|p| p["id"] == id.as_str()));

    app.management(Method::DELETE, &format!("/management/v1/projects/{id}"), None)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.management(Method::GET, &format!("/management/v1/projects/{id}"), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn project_keys_authenticate_and_die_with_the_project() {
    let app = TestApp::new().await;
    let p = app.project("Keys").await;
    app.get(&p, "/v1/categories").await.assert_status(StatusCode::OK);
    let wrong = Project { token: "0".repeat(64), ..p.clone() };
    app.get(&wrong, "/v1/categories").await.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let client_as_server = Project { app_id: p.client_app_id.clone(), token: p.client_token.clone(), ..p.clone() };
    app.get(&client_as_server, "/v1/categories").await.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.management(Method::DELETE, &format!("/management/v1/projects/{}", p.id), None)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&p, "/v1/categories").await.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn management_api_needs_the_management_credential() {
    let app = TestApp::new().await;
    app.request(Method::GET, "/management/v1/projects", Auth::None, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let wrong = Auth::Raw(vec![("x-management-id", MANAGEMENT_ID), ("x-management-token", "nope")]);
    app.request(Method::GET, "/management/v1/projects", wrong, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let p = app.project("App keys are not management keys").await;
    app.request(Method::GET, "/management/v1/projects", Auth::App(&p), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn bad_project_settings_are_rejected_and_nothing_is_written() {
    let app = TestApp::new().await;
    for (body, needle) in [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x", "timezone": "Mars/Olympus"}), "timezone"),
        (json!({"name": "x", "currency": "euro"}), "currency"),
        (json!({"name": "x", "client_trusted_domains": [""]}), "client_trusted_domains"),
        (json!({"name": 5}), "name"),
    ] {
        let r = app.management(Method::POST, "/management/v1/projects", Some(body.clone())).await;
        let e = r.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        assert!(e["details"].as_str().unwrap().contains(needle), "{body} → {e}");
    }
    let before =
        app.management(Method::GET, "/management/v1/projects?limit=1", None).await.json()["total"].as_i64().unwrap();
    app.management(Method::POST, "/management/v1/projects", Some(json!({"name": "x", "timezone": "Nowhere"}))).await;
    // Other tests may create projects meanwhile; none of ours has that timezone.
    let all = app.management(Method::GET, "/management/v1/projects?limit=100", None).await.json();
    assert!(all["data"].as_array().unwrap().iter().all(|p| p["timezone"] != "Nowhere"));
    assert!(all["total"].as_i64().unwrap() >= before);
}

#[tokio::test]
async fn stacking_rules_lifecycle_with_defaults_limits_and_one_per_project() {
    let app = TestApp::new().await;
    let p = app.project("Stacking").await;
    let base = format!("/management/v1/projects/{}/stacking-rules", p.id);
    let empty = app.management(Method::GET, &base, None).await;
    empty.assert_status(StatusCode::OK);
    assert_eq!(empty.json()["total"], 0);

    let created = app.management(Method::POST, &base, Some(json!({"applicable_redeemables_limit": 3, "exclusive_categories": ["cat_x"], "redeemables_limit": null}))).await;
    created.assert_status(StatusCode::OK);
    let c = created.json();
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (c["applicable_redeemables_limit"].as_i64(), c["redeemables_limit"].as_i64()),
        (Some(3), Some(30)),
        "null means the default"
    );
    assert_eq!(c["redeemables_application_mode"], "PARTIAL");

    app.management(Method::POST, &base, Some(json!({})))
        .await
        .assert_error(StatusCode::CONFLICT, "stacking_rules_exist");

    let updated = app
        .management(Method::PUT, &format!("{base}/{id}"), Some(json!({"redeemables_application_mode": "ALL"})))
        .await;
    updated.assert_status(StatusCode::OK);
    assert_eq!(
        (
            updated.json()["redeemables_application_mode"].as_str(),
            updated.json()["applicable_redeemables_limit"].as_i64()
        ),
        (Some("ALL"), Some(3))
    );

    for bad in [
        json!({"redeemables_limit": 31}),
        json!({"applicable_exclusive_redeemables_limit": 6}),
        json!({"redeemables_sorting_rule": "RANDOM"}),
        json!({"joint_categories": ["cat_x"]}),
    ] {
        app.management(Method::PUT, &format!("{base}/{id}"), Some(bad))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    }
    let got = app.management(Method::GET, &format!("{base}/{id}"), None).await;
    assert_eq!(got.json()["redeemables_application_mode"], "ALL", "rejected updates changed nothing");

    app.management(Method::DELETE, &format!("{base}/{id}"), None).await.assert_status(StatusCode::NO_CONTENT);
    app.management(Method::GET, &format!("{base}/{id}"), None).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.management(Method::GET, &base, None).await.json()["total"], 0);
}

#[tokio::test]
async fn client_side_keys_work_only_from_trusted_origins_and_only_client_side() {
    let app = TestApp::new().await;
    let p = app.project("Storefront").await;
    app.management(
        Method::PUT,
        &format!("/management/v1/projects/{}", p.id),
        Some(json!({"client_trusted_domains": ["shop.example.com"]})),
    )
    .await
    .assert_status(StatusCode::OK);
    let c = app.post(&p, "/v1/campaigns", json!({"name": "P", "campaign_type": "PROMOTION", "promotion": {"tiers": [{"name": "t", "action": {"discount": {"type": "AMOUNT", "amount_off": 1}}}]}})).await;
    c.assert_status(StatusCode::OK);
    let client = |origin: &'static str| {
        Auth::Raw(vec![
            ("x-client-application-id", p.client_app_id.as_str()),
            ("x-client-token", p.client_token.as_str()),
            ("origin", origin),
        ])
    };
    let ok = app.request(Method::GET, "/client/v1/promotions/tiers", client("https://shop.example.com"), None).await;
    ok.assert_status(StatusCode::OK);
    assert_eq!(ok.json()["total"], 1);
    app.request(Method::GET, "/client/v1/promotions/tiers", client("https://evil.example.net"), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.request(Method::GET, "/client/v1/promotions/tiers", Auth::App(&p), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    // Client keys never open the server-side API.
    let as_server = Auth::Raw(vec![("x-app-id", p.client_app_id.as_str()), ("x-app-token", p.client_token.as_str())]);
    app.request(Method::GET, "/v1/promotions/tiers", as_server, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

/// The management credential acts inside one project with `X-Project-Id` (the dashboard's
/// operator sign-in): it reads and writes that project's objects — checkout included — and
/// the audit log names it; a wrong token, an unknown project or a malformed id is 401; an
/// app key sent along wins over the header.
fn as_auth<'a>(headers: &'a [(&'static str, String)]) -> Auth<'a> {
    Auth::Raw(headers.iter().map(|(k, v)| (*k, v.as_str())).collect())
}

#[tokio::test]
async fn the_management_credential_acts_inside_the_project_it_names() {
    let app = TestApp::new().await;
    let shop = app.project("Managed shop").await;
    let other = app.project("Other shop").await;
    app.post(
        &other,
        "/v1/vouchers/OTHER-1",
        json!({"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100}}),
    )
    .await
    .assert_status(StatusCode::OK);
    let managing = |project: &str| {
        vec![("x-management-id", MANAGEMENT_ID), ("x-management-token", MANAGEMENT_TOKEN), ("x-project-id", project)]
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect::<Vec<_>>()
    };
    let headers = managing(&shop.id);
    let body = json!({"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 500}});
    app.request(Method::POST, "/v1/vouchers/MANAGED-1", as_auth(&headers), Some(body))
        .await
        .assert_status(StatusCode::OK);
    let listed = app.request(Method::GET, "/v1/vouchers", as_auth(&headers), None).await.json();
    assert_eq!(listed["total"], 1, "only the named project's codes: {listed}");
    let redeem = json!({"redeemables": [{"object": "voucher", "id": "MANAGED-1"}], "order": {"amount": 2000}});
    let r = app.request(Method::POST, "/v1/redemptions", as_auth(&headers), Some(redeem)).await;
    r.assert_status(StatusCode::OK);
    let other_code = app.request(Method::GET, "/v1/vouchers/OTHER-1", as_auth(&headers), None).await;
    other_code.assert_status(StatusCode::NOT_FOUND);
    // the shop's own key sees what the credential made, and the audit log names who made it
    assert_eq!(app.get(&shop, "/v1/vouchers/MANAGED-1").await.json()["redemption"]["redeemed_quantity"], 1);
    let audit = app.get(&shop, "/v1/audit-log?object_id=MANAGED-1").await.json();
    assert_eq!(audit["data"][0]["credential"]["type"], "management", "{audit}");

    let mut wrong = managing(&shop.id);
    wrong[1].1 = "not-the-token".into();
    for refused in [wrong, managing("proj_00000000000000000000000000000000"), managing("not-a-project")] {
        let r = app.request(Method::GET, "/v1/vouchers", as_auth(&refused), None).await;
        r.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // an app key decides the project even with the header
    let mut both = managing(&shop.id);
    both.extend([("x-app-id", other.app_id.clone()), ("x-app-token", other.token.clone())]);
    let seen = app.request(Method::GET, "/v1/vouchers", as_auth(&both), None).await.json();
    assert_eq!(seen["vouchers"][0]["code"], "OTHER-1");
}
