//! Campaign summaries: the figures equal sums computed from the redemptions list (the ledger as
//! a user reads it), within a date range too.

use crate::checkout::item;
use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_campaign_summary_equals_the_ledger_read_through_the_list() {
    let app = TestApp::new().await;
    let p = app.project("Summaries").await;
    let c = app
        .post(&p, "/v1/campaigns", json!({"name": "Summer", "campaign_type": "DISCOUNT_COUPONS", "vouchers_count": 4,
            "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 500}, "redemption": {"quantity": 1}}}))
        .await
        .json();
    let id = c["id"].as_str().unwrap().to_owned();
    let codes: Vec<String> = app.get(&p, &format!("/v1/vouchers?campaign_id={id}")).await.json()["vouchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect();
    let redeem = |code: String, price: i64| {
        let (app, p) = (&app, &p);
        async move {
            app.post(
                p,
                "/v1/redemptions",
                json!({"redeemables": [{"object": "voucher", "id": code}],
                "order": {"items": [item("mug", 1, price)]}}),
            )
            .await
        }
    };
    let first = redeem(codes[0].clone(), 3000).await.json();
    redeem(codes[1].clone(), 4000).await.assert_status(StatusCode::OK);
    // the first code is used up: a failed redemption
    redeem(codes[0].clone(), 3000).await.assert_status(StatusCode::BAD_REQUEST);
    let r = first["redemptions"][0]["id"].as_str().unwrap();
    app.post(&p, &format!("/v1/redemptions/{r}/rollback"), json!({})).await.assert_status(StatusCode::OK);
    app.delete(&p, &format!("/v1/vouchers/{}", codes[3])).await.assert_status(StatusCode::NO_CONTENT);
    app.post(&p, "/v1/publications", json!({"campaign": {"name": "Summer"}, "customer": {"source_id": "ann"}}))
        .await
        .assert_status(StatusCode::OK);

    // two validations: one applicable, one not (its code is used up); counted in memory and
    // written by the tally's flush (every few seconds in the service)
    for (code, valid) in [(&codes[2], true), (&codes[1], false)] {
        let v = app
            .post(
                &p,
                "/v1/validations",
                json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 1000}}),
            )
            .await
            .json();
        assert_eq!(v["valid"], valid, "{v}");
    }
    app.state.validations.flush(&app.db).await.unwrap();

    let s = app.get(&p, &format!("/v1/campaigns/{id}/summary")).await.json();
    assert_eq!((&s["object"], &s["campaign"]["id"]), (&json!("campaign_summary"), &json!(id)), "{s}");
    assert_eq!(
        [&s["validations"], &s["validations_succeeded"], &s["validations_failed"]],
        [&json!(2), &json!(1), &json!(1)],
        "{s}"
    );
    // the same figures, summed from the redemptions list
    let listed = app.get(&p, "/v1/redemptions?campaign=Summer&limit=100").await.json();
    let entries = listed["redemptions"].as_array().unwrap();
    let of = |object: &str, result: &str| -> Vec<&Value> {
        entries.iter().filter(|e| e["object"] == object && e["result"] == result).collect()
    };
    let sum = |list: &[&Value], pointer: &str| -> i64 {
        list.iter().map(|e| e.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)).sum()
    };
    let succeeded = of("redemption", "SUCCESS");
    let rollbacks = of("redemption_rollback", "SUCCESS");
    let rolled_back: Vec<&Value> = succeeded.iter().copied().filter(|e| e["status"] == "ROLLED_BACK").collect();
    assert_eq!(s["redemptions_succeeded"], succeeded.len());
    assert_eq!(s["redemptions_failed"], of("redemption", "FAILURE").len());
    assert_eq!(s["redemptions"], succeeded.len() + of("redemption", "FAILURE").len());
    assert_eq!(
        (s["rollbacks"].clone(), s["rollbacks_succeeded"].clone()),
        (json!(rollbacks.len()), json!(rollbacks.len()))
    );
    assert_eq!(s["orders_amount"], sum(&succeeded, "/order/amount"));
    assert_eq!(s["discounted_amount"], sum(&succeeded, "/order/total_applied_discount_amount"));
    assert_eq!(s["orders_rolledback_amount"], sum(&rolled_back, "/order/amount"));
    assert_eq!(s["rolledback_discounted_amount"], sum(&rolled_back, "/order/total_applied_discount_amount"));
    // and the values themselves
    assert_eq!(
        [
            &s["redemptions_succeeded"],
            &s["redemptions_failed"],
            &s["rollbacks"],
            &s["orders_amount"],
            &s["discounted_amount"],
            &s["orders_rolledback_amount"],
            &s["rolledback_discounted_amount"]
        ],
        [&json!(2), &json!(1), &json!(1), &json!(7000), &json!(1000), &json!(3000), &json!(500)],
        "{s}"
    );
    assert_eq!(
        [&s["vouchers_created"], &s["vouchers_deleted"], &s["publications"]],
        [&json!(4), &json!(1), &json!(1)],
        "{s}"
    );

    // a date range: today (in the project's zone) holds everything, a later day nothing
    let today = chrono::Utc::now().date_naive();
    let (yesterday, tomorrow) = (today.pred_opt().unwrap(), today.succ_opt().unwrap());
    let s =
        app.get(&p, &format!("/v1/campaigns/Summer/summary?start_date={yesterday}&end_date={tomorrow}")).await.json();
    assert_eq!(
        (&s["redemptions"], &s["orders_amount"], &s["validations"]),
        (&json!(3), &json!(7000), &json!(2)),
        "{s}"
    );
    let later = tomorrow.succ_opt().unwrap();
    let s = app.get(&p, &format!("/v1/campaigns/{id}/summary?start_date={later}")).await.json();
    assert_eq!(
        (&s["redemptions"], &s["rollbacks"], &s["vouchers_created"], &s["validations"]),
        (&json!(0), &json!(0), &json!(0), &json!(0)),
        "{s}"
    );
    app.get(&p, &format!("/v1/campaigns/{id}/summary?start_date=tomorrow"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    app.get(&p, &format!("/v1/campaigns/{id}/summary?start_date={tomorrow}&end_date={yesterday}"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");

    // a promotion's summary has no codes or publications; another project's campaign is 404
    let promo = app
        .post(
            &p,
            "/v1/campaigns",
            json!({"name": "Autumn", "campaign_type": "PROMOTION",
            "promotion": {"tiers": [{"name": "5%", "action": {"discount": {"type": "PERCENT", "percent_off": 5}}}]}}),
        )
        .await
        .json();
    let s = app.get(&p, &format!("/v1/campaigns/{}/summary", promo["id"].as_str().unwrap())).await.json();
    assert!(s.get("vouchers_created").is_none() && s.get("publications").is_none(), "{s}");
    let other = app.project("Other").await;
    app.get(&other, &format!("/v1/campaigns/{id}/summary")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
}
