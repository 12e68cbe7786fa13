//! Campaigns, vouchers and promotion tiers.

use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::json;

fn coupons(count: i64) -> serde_json::Value {
    json!({
        "name": "Ten off", "campaign_type": "DISCOUNT_COUPONS", "vouchers_count": count,
        "start_date": "2026-01-01T00:00:00Z", "expiration_date": "2027-01-01T00:00:00Z", "metadata": {"region": "EU"},
        "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "PERCENT", "percent_off": 10}, "redemption": {"quantity": 1},
                    "code_config": {"pattern": "TEN-####", "charset": "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"}}
    })
}

#[tokio::test]
async fn discount_coupons_campaign_generates_unique_codes_from_its_code_config() {
    let app = TestApp::new().await;
    let p = app.project("Coupons").await;
    let c = app.post(&p, "/v1/campaigns", coupons(50)).await;
    c.assert_status(StatusCode::OK);
    let c = c.json();
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("camp_"));
    assert_eq!(
        (c["vouchers_count"].as_i64(), c["type"].as_str(), c["creation_status"].as_str()),
        (Some(50), Some("AUTO_UPDATE"), Some("DONE"))
    );
    assert_eq!(c["voucher"]["code_config"]["pattern"], "TEN-####", "clients require code_config");
    let list = app.get(&p, &format!("/v1/vouchers?campaign_id={id}&limit=100")).await.json();
    let codes: Vec<&str> = list["vouchers"].as_array().unwrap().iter().map(|v| v["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 50);
    let unique: std::collections::HashSet<&&str> = codes.iter().collect();
    assert_eq!(unique.len(), 50, "codes are unique");
    assert!(codes.iter().all(|c| c.len() == 8
        && c.starts_with("TEN-")
        && c[4..].chars().all(|ch| "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(ch))));
    assert_eq!(list["vouchers"][0]["campaign"], "Ten off");
    assert!(list["vouchers"][0].get("code_config").is_none());
    assert_eq!(
        app.get(&p, "/v1/campaigns/Ten off".replace(' ', "%20").as_str()).await.json()["id"],
        id.as_str(),
        "by name too"
    );
}

#[tokio::test]
async fn campaigns_reject_bad_definitions_with_the_engine_path_and_write_nothing() {
    let app = TestApp::new().await;
    let p = app.project("Bad campaigns").await;
    let mut bad_percent = coupons(1);
    bad_percent["voucher"]["discount"]["percent_off"] = json!(120);
    let mut empty_window = coupons(1);
    empty_window["expiration_date"] = json!("2025-01-01T00:00:00Z");
    let mut small_space = coupons(1);
    small_space["voucher"]["code_config"] = json!({"pattern": "#", "charset": "AB"});
    small_space["vouchers_count"] = json!(5);
    let mut too_many = coupons(1);
    too_many["vouchers_count"] = json!(10_000_001);
    for (body, needle) in [
        (bad_percent, "voucher.discount.percent_off"),
        (empty_window, "expiration_date"),
        (small_space, "code_config"),
        (too_many, "vouchers_count"),
        (json!({"campaign_type": "DISCOUNT_COUPONS"}), "name"),
        (json!({"name": "x", "campaign_type": "DISCOUNT_COUPONS"}), "voucher"),
        (json!({"name": "x", "campaign_type": "LOTTERY"}), "campaign_type"),
        (
            json!({"name": "x", "campaign_type": "PROMOTION", "promotion": {"tiers": [{"name": "t", "action": {"discount": {"type": "AMOUNT", "amount_off": -1}}}]}}),
            "promotion.tiers[0].action.discount.amount_off",
        ),
    ] {
        let e = app.post(&p, "/v1/campaigns", body).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        assert!(e["details"].as_str().unwrap().contains(needle), "{needle}: {e}");
    }
    assert_eq!(app.get(&p, "/v1/campaigns").await.json()["total"], 0);
    assert_eq!(app.get(&p, "/v1/vouchers").await.json()["total"], 0);
}

#[tokio::test]
async fn promotion_campaign_with_tiers_and_tier_endpoints() {
    let app = TestApp::new().await;
    let p = app.project("Promotions").await;
    let rule = app.post(&p, "/v1/validation-rules", json!({"name": "Spend 100", "rules": {"1": {"name": "order.amount", "conditions": {"$more_than_or_equal": [10000]}}}})).await.json();
    let c = app
        .post(
            &p,
            "/v1/campaigns",
            json!({"name": "Tiers", "campaign_type": "PROMOTION", "promotion": {"tiers": [
                {"name": "Spend 100", "banner": "10% off", "action": {"discount": {"type": "PERCENT", "percent_off": 10}}, "validation_rules": [rule["id"]]},
                {"name": "Spend 50", "action": {"discount": {"type": "PERCENT", "percent_off": 5}}}
            ]}}),
        )
        .await;
    c.assert_status(StatusCode::OK);
    let c = c.json();
    let tiers = c["promotion"]["tiers"].as_array().unwrap();
    assert_eq!((c["promotion"]["data_ref"].as_str(), tiers.len()), (Some("tiers"), 2));
    assert_eq!(
        (tiers[0]["hierarchy"].as_i64(), tiers[1]["hierarchy"].as_i64()),
        (Some(1), Some(2)),
        "next hierarchy by default"
    );
    assert_eq!(tiers[0]["validation_rule_assignments"]["total"], 1);
    let tier = tiers[0]["id"].as_str().unwrap().to_owned();
    assert!(tier.starts_with("promo_"));
    let campaign = c["id"].as_str().unwrap();
    let added = app
        .post(
            &p,
            &format!("/v1/promotions/{campaign}/tiers"),
            json!({"name": "Spend 200", "action": {"discount": {"type": "AMOUNT", "amount_off": 3000}}}),
        )
        .await;
    assert_eq!(added.json()["hierarchy"], 3);
    assert_eq!(app.get(&p, &format!("/v1/promotions/{campaign}/tiers")).await.json()["total"], 3);
    assert_eq!(app.get(&p, "/v1/promotions/tiers").await.json()["total"], 3);
    // a campaign's tiers come all at once unless a page is asked for
    let page = app.get(&p, &format!("/v1/promotions/{campaign}/tiers?limit=2&page=2")).await.json();
    assert_eq!(
        (page["tiers"].as_array().unwrap().len(), &page["total"], &page["has_more"]),
        (1, &json!(3), &json!(false))
    );
    assert_eq!(page["tiers"][0]["hierarchy"], 3);
    let page = app.get(&p, &format!("/v1/promotions/{campaign}/tiers?limit=2")).await.json();
    assert_eq!((page["tiers"].as_array().unwrap().len(), &page["has_more"]), (2, &json!(true)));
    let disabled = app.post(&p, &format!("/v1/promotions/tiers/{tier}/disable"), json!({})).await;
    assert_eq!(disabled.json()["active"], false);
    let updated = app
        .put(
            &p,
            &format!("/v1/promotions/tiers/{tier}"),
            json!({"banner": "now 12%", "action": {"discount": {"type": "PERCENT", "percent_off": 12}}}),
        )
        .await;
    assert_eq!(
        (
            updated.json()["banner"].as_str(),
            updated.json()["action"]["discount"]["percent_off"].as_f64(),
            updated.json()["active"].as_bool()
        ),
        (Some("now 12%"), Some(12.0), Some(false))
    );
    app.put(
        &p,
        &format!("/v1/promotions/tiers/{tier}"),
        json!({"action": {"discount": {"type": "PERCENT", "percent_off": 101}}}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.delete(&p, &format!("/v1/promotions/tiers/{tier}")).await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, &format!("/v1/promotions/tiers/{tier}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&p, "/v1/campaigns/Tiers/disable", json!({})).await.assert_status(StatusCode::OK);
    assert_eq!(app.get(&p, &format!("/v1/campaigns/{campaign}")).await.json()["active"], false);
    app.delete(&p, &format!("/v1/campaigns/{campaign}")).await.assert_status(StatusCode::NO_CONTENT);
    assert_eq!(app.get(&p, "/v1/promotions/tiers").await.json()["total"], 0);
}

#[tokio::test]
async fn standalone_voucher_lifecycle_with_case_insensitive_codes() {
    let app = TestApp::new().await;
    let p = app.project("Vouchers").await;
    let v = app.post(&p, "/v1/vouchers/SUMMER10", json!({"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 1000}, "redemption": {"quantity": null}})).await;
    v.assert_status(StatusCode::OK);
    let v = v.json();
    assert!(v["id"].as_str().unwrap().starts_with("v_"));
    assert_eq!(
        (v["redemption"]["quantity"].clone(), v["redemption"]["redeemed_quantity"].as_i64()),
        (json!(null), Some(0))
    );
    assert_eq!(
        app.get(&p, "/v1/vouchers/summer10").await.json()["code"],
        "SUMMER10",
        "codes compare case-insensitively by default"
    );
    app.post(&p, "/v1/vouchers/summer10", json!({"discount": {"type": "AMOUNT", "amount_off": 1}}))
        .await
        .assert_error(StatusCode::CONFLICT, "duplicate_found");
    let random = app.post(&p, "/v1/vouchers", json!({"discount": {"type": "PERCENT", "percent_off": 5}, "code_config": {"length": 12, "charset": "0123456789"}})).await.json();
    assert!(
        random["code"].as_str().unwrap().chars().all(|c| c.is_ascii_digit())
            && random["code"].as_str().unwrap().len() == 12
    );
    let disabled = app.post(&p, "/v1/vouchers/SUMMER10/disable", json!({})).await.json();
    assert_eq!(disabled["active"], false);
    let updated = app
        .put(
            &p,
            "/v1/vouchers/SUMMER10",
            json!({"discount": {"type": "AMOUNT", "amount_off": 1500}, "metadata": {"channel": "email"}}),
        )
        .await
        .json();
    assert_eq!(
        (
            updated["discount"]["amount_off"].as_i64(),
            updated["metadata"]["channel"].as_str(),
            updated["active"].as_bool()
        ),
        (Some(1500), Some("email"), Some(false))
    );
    app.put(&p, "/v1/vouchers/SUMMER10", json!({"discount": {"type": "AMOUNT", "amount_off": -5}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/vouchers/has%20space", json!({"discount": {"type": "AMOUNT", "amount_off": 1}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.delete(&p, "/v1/vouchers/SUMMER10").await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, "/v1/vouchers/SUMMER10").await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn another_projects_campaigns_vouchers_and_tiers_are_404() {
    let app = TestApp::new().await;
    let (a, b) = (app.project("Owner").await, app.project("Other").await);
    let c = app.post(&a, "/v1/campaigns", coupons(2)).await.json();
    let camp = c["id"].as_str().unwrap().to_owned();
    let code = app.get(&a, &format!("/v1/vouchers?campaign_id={camp}")).await.json()["vouchers"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let promo = app.post(&a, "/v1/campaigns", json!({"name": "P", "campaign_type": "PROMOTION", "promotion": {"tiers": [{"name": "t", "action": {"discount": {"type": "AMOUNT", "amount_off": 1}}}]}})).await.json();
    let tier = promo["promotion"]["tiers"][0]["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/v1/campaigns/{camp}"),
        "/v1/campaigns/Ten%20off".to_owned(),
        format!("/v1/vouchers/{code}"),
        format!("/v1/promotions/tiers/{tier}"),
    ] {
        app.get(&b, &path).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    app.post(&b, &format!("/v1/campaigns/{camp}/disable"), json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&b, &format!("/v1/vouchers/{code}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    for path in ["/v1/campaigns", "/v1/vouchers", "/v1/promotions/tiers"] {
        assert_eq!(app.get(&b, path).await.json()["total"], 0, "{path}");
    }
    // The same code is free in another project.
    app.post(&b, &format!("/v1/vouchers/{code}"), json!({"discount": {"type": "AMOUNT", "amount_off": 1}}))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(app.get(&a, &format!("/v1/campaigns/{camp}")).await.json()["active"], true);
}

#[tokio::test]
async fn promotion_stacks_hold_tiers_of_their_campaign() {
    let app = TestApp::new().await;
    let p = app.project("Stacks").await;
    let tier = |name: &str| json!({"name": name, "action": {"discount": {"type": "AMOUNT", "amount_off": 100}}});
    let c = app
        .post(
            &p,
            "/v1/campaigns",
            json!({"name": "P", "campaign_type": "PROMOTION", "promotion": {"tiers": [tier("a"), tier("b")]}}),
        )
        .await
        .json();
    let other = app
        .post(
            &p,
            "/v1/campaigns",
            json!({"name": "Q", "campaign_type": "PROMOTION", "promotion": {"tiers": [tier("c")]}}),
        )
        .await
        .json();
    let camp = c["id"].as_str().unwrap();
    let (t1, t2) = (c["promotion"]["tiers"][0]["id"].clone(), c["promotion"]["tiers"][1]["id"].clone());
    let s = app
        .post(
            &p,
            &format!("/v1/promotions/{camp}/stacks"),
            json!({"name": "Both", "tiers": {"ids": [t2, t1], "hierarchy_mode": "MANUAL"}}),
        )
        .await;
    s.assert_status(StatusCode::OK);
    let s = s.json();
    let stack = s["id"].as_str().unwrap().to_owned();
    assert!(stack.starts_with("stack_"));
    assert_eq!(
        (s["tiers"]["ids"][0].clone(), s["object"].as_str()),
        (t2.clone(), Some("promotion_stack")),
        "the listed order is kept"
    );
    let foreign = other["promotion"]["tiers"][0]["id"].clone();
    app.post(&p, &format!("/v1/promotions/{camp}/stacks"), json!({"name": "Mixed", "tiers": {"ids": [t1, foreign]}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, &format!("/v1/promotions/{camp}/stacks"), json!({"name": "Twice", "tiers": {"ids": [t1, t1]}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, &format!("/v1/promotions/{camp}/stacks"), json!({"name": "Empty", "tiers": {"ids": []}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    let u = app.put(&p, &format!("/v1/promotions/{camp}/stacks/{stack}"), json!({"name": "Renamed"})).await;
    assert_eq!(
        (u.json()["name"].as_str(), u.json()["tiers"]["ids"].as_array().map(Vec::len)),
        (Some("Renamed"), Some(2))
    );
    assert_eq!(app.get(&p, &format!("/v1/promotions/{camp}/stacks")).await.json()["total"], 1);
    assert_eq!(app.get(&p, "/v1/promotions/stacks").await.json()["total"], 1);
    let q = other["id"].as_str().unwrap();
    app.get(&p, &format!("/v1/promotions/{q}/stacks/{stack}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    let b = app.project("Other project").await;
    app.get(&b, &format!("/v1/promotions/{camp}/stacks/{stack}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.get(&b, "/v1/promotions/stacks").await.json()["total"], 0);
    app.delete(&p, &format!("/v1/promotions/{camp}/stacks/{stack}")).await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, &format!("/v1/promotions/{camp}/stacks/{stack}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn campaign_update_and_list_filters() {
    let app = TestApp::new().await;
    let p = app.project("Campaign updates").await;
    let c = app.post(&p, "/v1/campaigns", coupons(3)).await.json();
    let id = c["id"].as_str().unwrap().to_owned();
    app.post(&p, "/v1/campaigns", json!({"name": "P", "campaign_type": "PROMOTION"}))
        .await
        .assert_status(StatusCode::OK);
    let u = app
        .put(&p, &format!("/v1/campaigns/{id}"), json!({"description": "Autumn", "expiration_date": "2027-06-01T00:00:00Z", "voucher": {"discount": {"type": "PERCENT", "percent_off": 15}}}))
        .await;
    u.assert_status(StatusCode::OK);
    let u = u.json();
    assert_eq!(
        (u["description"].as_str(), u["voucher"]["discount"]["percent_off"].as_f64()),
        (Some("Autumn"), Some(15.0))
    );
    assert_eq!(u["voucher"]["code_config"]["pattern"], "TEN-####", "the code config stays");
    assert!(u["updated_at"].is_string());
    app.put(&p, &format!("/v1/campaigns/{id}"), json!({"expiration_date": "2020-01-01T00:00:00Z"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    // a campaign's `type` is one of the documented values on update too
    for bad in ["WEEKLY", "static", ""] {
        let e = app.put(&p, &format!("/v1/campaigns/{id}"), json!({"type": bad})).await;
        let e = e.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        assert!(e["details"].as_str().unwrap().contains(".type"), "{e}");
    }
    let kept = app.get(&p, &format!("/v1/campaigns/{id}")).await.json();
    assert_eq!(kept["type"], "AUTO_UPDATE");
    app.put(
        &p,
        &format!("/v1/campaigns/{id}"),
        json!({"voucher": {"discount": {"type": "PERCENT", "percent_off": 101}}}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert_eq!(
        app.get(&p, &format!("/v1/campaigns/{id}")).await.json()["description"],
        "Autumn",
        "rejected updates changed nothing"
    );
    let coupons_only = app.get(&p, "/v1/campaigns?campaign_type=DISCOUNT_COUPONS").await.json();
    assert_eq!((coupons_only["total"].as_i64(), coupons_only["data_ref"].as_str()), (Some(1), Some("campaigns")));
    assert_eq!(app.get(&p, "/v1/campaigns").await.json()["total"], 2);
    // the dashboard's search: a part of the name, any case; `%` and `_` are plain characters
    let named = app.get(&p, "/v1/campaigns?name=TEN%20O").await.json();
    assert_eq!((named["total"].as_i64(), named["campaigns"][0]["name"].as_str()), (Some(1), Some("Ten off")));
    assert_eq!(app.get(&p, "/v1/campaigns?name=%25").await.json()["total"], 0);
    assert_eq!(app.get(&p, "/v1/campaigns?name=ten&campaign_type=PROMOTION").await.json()["total"], 0);
    assert_eq!(app.get(&p, "/v1/vouchers?campaign=Ten%20off").await.json()["total"], 3);
    assert_eq!(app.get(&p, "/v1/vouchers?campaign=Nope").await.json()["total"], 0);
    app.post(&p, &format!("/v1/campaigns/{id}/enable"), json!({})).await.assert_status(StatusCode::OK);
}
