//! Analytics: after a storm of racing redemptions and rollbacks the series equal sums computed
//! from the ledger (the redemptions list), before and after the background fold; days and
//! hours are the project's (a non-UTC zone's midnight splits them); comparisons and CSV.

use crate::checkout::item;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// Totals summed from the redemptions list of a campaign: (redemptions, rollbacks, orders
/// amount, discount, rolled-back orders amount, rolled-back discount).
async fn ledger_totals(app: &TestApp, p: &Project, campaign: &str) -> [i64; 6] {
    let mut entries = Vec::new();
    for page in 1.. {
        let listed = app.get(p, &format!("/v1/redemptions?campaign={campaign}&limit=100&page={page}")).await.json();
        let batch = listed["redemptions"].as_array().unwrap().clone();
        let done = batch.len() < 100;
        entries.extend(batch);
        if done {
            break;
        }
    }
    let ok: Vec<&Value> = entries.iter().filter(|e| e["object"] == "redemption" && e["result"] == "SUCCESS").collect();
    let back: Vec<&Value> = ok.iter().copied().filter(|e| e["status"] == "ROLLED_BACK").collect();
    let sum =
        |l: &[&Value], ptr: &str| l.iter().map(|e| e.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)).sum::<i64>();
    [
        ok.len() as i64,
        entries.iter().filter(|e| e["object"] == "redemption_rollback" && e["result"] == "SUCCESS").count() as i64,
        sum(&ok, "/order/amount"),
        sum(&ok, "/order/total_applied_discount_amount"),
        sum(&back, "/order/amount"),
        sum(&back, "/order/total_applied_discount_amount"),
    ]
}

fn series_totals(s: &Value) -> [i64; 6] {
    let t = &s["totals"];
    [
        "redemptions",
        "rollbacks",
        "orders_amount",
        "discount_amount",
        "rolled_back_orders_amount",
        "rolled_back_discount_amount",
    ]
    .map(|k| t[k].as_i64().unwrap_or_else(|| panic!("{k} in {s}")))
}

#[tokio::test]
async fn series_equal_the_ledger_after_a_storm_and_split_days_in_the_projects_zone() {
    let app = Arc::new(TestApp::new().await);
    let p = app.project("Analytics").await;
    app.update_project(&p, json!({"timezone": "America/New_York"})).await.assert_status(StatusCode::OK);
    let c = app
        .post(
            &p,
            "/v1/campaigns",
            json!({"name": "Storm", "campaign_type": "DISCOUNT_COUPONS", "vouchers_count": 1,
            "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "PERCENT", "percent_off": 10}}}),
        )
        .await
        .json();
    let campaign = c["id"].as_str().unwrap_or_else(|| panic!("{c}")).to_owned();
    let code = app.get(&p, &format!("/v1/vouchers?campaign_id={campaign}")).await.json()["vouchers"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    // 8 clients × 5 redemptions of one code, racing; every third one rolled back by its client
    let mut tasks = Vec::new();
    for client in 0..8 {
        let (app, p, code) = (app.clone(), p.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..5 {
                let body = json!({"redeemables": [{"object": "voucher", "id": code}],
                    "order": {"items": [item("mug", 1 + (client + n) % 3, 1000 + 10 * client)]}});
                let r = app.request(Method::POST, "/v1/redemptions", Auth::App(&p), Some(body)).await;
                assert!([200, 429].contains(&r.status.as_u16()), "{}", String::from_utf8_lossy(&r.body));
                if r.status == StatusCode::OK && n % 3 == 0 {
                    let id = r.json()["redemptions"][0]["id"].as_str().unwrap().to_owned();
                    app.request(
                        Method::POST,
                        &format!("/v1/redemptions/{id}/rollback"),
                        Auth::App(&p),
                        Some(json!({})),
                    )
                    .await
                    .assert_status(StatusCode::OK);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for amount in [1000, 0] {
        app.post(
            &p,
            "/v1/validations",
            json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": amount}}),
        )
        .await
        .assert_status(StatusCode::OK);
    }
    app.state.validations.flush(&app.db).await.unwrap();

    let want = ledger_totals(&app, &p, "Storm").await;
    assert!(want[0] > 10 && want[1] > 3, "a storm happened: {want:?}");
    // unfolded deltas count at once; folding changes nothing
    let s = app.get(&p, &format!("/v1/analytics/series?object_id={campaign}")).await.json();
    assert_eq!(series_totals(&s), want, "{s}");
    assert_eq!((&s["time_zone"], &s["interval"]), (&json!("America/New_York"), &json!("day")));
    assert_eq!(s["data"].as_array().unwrap().len(), 30, "the last 30 days, every one");
    assert_eq!(s["totals"]["validations"], 2, "{s}");
    while promo_store::ledger::fold_redemption_stats(&app.db, 10_000).await.unwrap() > 0 {}
    let s = app
        .get(
            &p,
            &format!(
                "/v1/analytics/series?object_id=Storm&interval=hour&start_date={}",
                s["end_date"].as_str().unwrap()
            ),
        )
        .await
        .json();
    assert_eq!(series_totals(&s), want, "{s}");
    assert_eq!(s["data"].as_array().unwrap().len(), 24);
    let t = &s["totals"];
    assert_eq!(t["revenue"], t["orders_amount"].as_i64().unwrap() - t["discount_amount"].as_i64().unwrap());
    let n = t["redemptions"].as_i64().unwrap();
    assert_eq!(t["average_order_amount"], (2 * t["orders_amount"].as_i64().unwrap() + n) / (2 * n));
    // the code's own series is the campaign's here (its only code)
    let own = app.get(&p, &format!("/v1/analytics/series?object_id={code}")).await.json();
    assert_eq!(series_totals(&own), want, "{own}");

    // New York's midnight splits the days: buckets at 04:45 and 05:00 UTC on 10 January are
    // 23:45 on the 9th and 00:00 on the 10th there
    sqlx::query(
        "insert into redemption_series (project_id, object_id, bucket, succeeded, order_amount, discount_amount)
         values ($1, $2, '2026-01-10T04:45:00Z', 1, 1000, 100), ($1, $2, '2026-01-10T05:00:00Z', 2, 3000, 300)",
    )
    .bind(p.uuid())
    .bind(&campaign)
    .execute(&app.db)
    .await
    .unwrap();
    let s = app
        .get(&p, &format!("/v1/analytics/series?object_id={campaign}&start_date=2026-01-09&end_date=2026-01-10"))
        .await
        .json();
    let days: Vec<(String, i64)> = s["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["period"].as_str().unwrap().to_owned(), d["redemptions"].as_i64().unwrap()))
        .collect();
    assert_eq!(days, [("2026-01-09".to_owned(), 1), ("2026-01-10".to_owned(), 2)]);
    let s = app
        .get(
            &p,
            &format!(
                "/v1/analytics/series?object_id={campaign}&start_date=2026-01-09&end_date=2026-01-09&interval=hour"
            ),
        )
        .await
        .json();
    assert_eq!(s["data"][23]["period"], "2026-01-09T23:00");
    assert_eq!((&s["data"][23]["redemptions"], &s["data"][23]["orders_amount"]), (&json!(1), &json!(1000)));

    // campaigns compared over one window, and as CSV
    app.post(
        &p,
        "/v1/campaigns",
        json!({"name": "Calm", "campaign_type": "PROMOTION",
        "promotion": {"tiers": [{"name": "5%", "action": {"discount": {"type": "PERCENT", "percent_off": 5}}}]}}),
    )
    .await
    .assert_status(StatusCode::OK);
    let cmp = app
        .get(&p, "/v1/analytics/campaigns?campaigns=Storm,Calm&start_date=2026-01-09&end_date=2026-01-10")
        .await
        .json();
    assert_eq!(cmp["campaigns"][0]["totals"]["redemptions"], 3, "{cmp}");
    assert_eq!(
        (&cmp["campaigns"][1]["name"], &cmp["campaigns"][1]["totals"]["redemptions"]),
        (&json!("Calm"), &json!(0))
    );
    let r = app
        .get(&p, "/v1/analytics/campaigns?campaigns=Storm,Calm&start_date=2026-01-09&end_date=2026-01-10&format=csv")
        .await;
    r.assert_status(StatusCode::OK);
    let text = String::from_utf8(r.body.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("Campaign Id,Campaign,Period,Validations"), "{text}");
    assert_eq!(lines.len(), 1 + 2 * 2, "{text}");
    assert!(lines[1].starts_with(&format!("{campaign},Storm,2026-01-09,0,0,0,1,")), "{text}");

    // refused: a bad grain or format, too long a window; unknown and others' objects are 404
    for q in [
        "interval=week",
        "format=xml",
        "interval=hour&start_date=2026-01-01&end_date=2026-03-01",
        "start_date=2026-02-01&end_date=2026-01-01",
    ] {
        app.get(&p, &format!("/v1/analytics/series?object_id={campaign}&{q}"))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    }
    app.get(&p, "/v1/analytics/series?object_id=NOPE").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    let other = app.project("Not mine").await;
    app.get(&other, &format!("/v1/analytics/series?object_id={campaign}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

/// New customers, redemptions by new and returning customers and failed redemptions per
/// period, against the ledger read through the redemptions list: a customer's first
/// redemption in the project is the earliest one that succeeded.
#[tokio::test]
async fn new_and_returning_customers_and_failures_per_period_equal_the_ledger() {
    let app = Arc::new(TestApp::new().await);
    let p = app.project("Customers").await;
    let mut codes = Vec::new();
    for name in ["Acquire", "Retain"] {
        let c = app
            .post(
                &p,
                "/v1/campaigns",
                json!({"name": name, "campaign_type": "DISCOUNT_COUPONS", "vouchers_count": 1,
                "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100}}}),
            )
            .await
            .json();
        let id = c["id"].as_str().unwrap().to_owned();
        let code = app.get(&p, &format!("/v1/vouchers?campaign_id={id}")).await.json()["vouchers"][0]["code"]
            .as_str()
            .unwrap()
            .to_owned();
        codes.push((id, code));
    }
    // six shoppers racing each other, each redeeming three times in turn (one of them starting
    // with the other campaign), and anonymous orders between them
    let mut tasks = Vec::new();
    for shopper in 0..6 {
        let (app, p, codes) = (app.clone(), p.clone(), codes.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..3 {
                let (_, code) = &codes[(shopper + n) % 2];
                let mut body = json!({"redeemables": [{"object": "voucher", "id": code}],
                    "order": {"items": [item("mug", 1, 1000)]}});
                if shopper != 5 {
                    body["customer"] = json!({"source_id": format!("shopper-{shopper}")});
                }
                let r = app.request(Method::POST, "/v1/redemptions", Auth::App(&p), Some(body)).await;
                r.assert_status(StatusCode::OK);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // two failed redemptions of Acquire's code (disabled: they fail in the ledger)
    app.post(&p, &format!("/v1/vouchers/{}/disable", codes[0].1), json!({})).await.assert_status(StatusCode::OK);
    for _ in 0..2 {
        let body = json!({"redeemables": [{"object": "voucher", "id": codes[0].1}],
            "order": {"items": [item("mug", 1, 1000)]}, "customer": {"source_id": "shopper-0"}});
        app.post(&p, "/v1/redemptions", body).await.assert_status(StatusCode::BAD_REQUEST);
    }
    while promo_store::ledger::fold_redemption_stats(&app.db, 10_000).await.unwrap() > 0 {}

    // the ledger, oldest first
    let mut entries = Vec::new();
    for page in 1.. {
        let listed = app.get(&p, &format!("/v1/redemptions?limit=100&page={page}")).await.json();
        let batch = listed["redemptions"].as_array().unwrap().clone();
        let done = batch.len() < 100;
        entries.extend(batch);
        if done {
            break;
        }
    }
    entries.reverse();
    let mut seen = std::collections::HashSet::new();
    for (campaign, code) in &codes {
        let mine: Vec<&Value> = entries.iter().filter(|e| e["voucher"]["code"] == json!(code)).collect();
        let s = app.get(&p, &format!("/v1/analytics/series?object_id={campaign}")).await.json();
        let t = &s["totals"];
        let ok: Vec<&&Value> = mine.iter().filter(|e| e["result"] == "SUCCESS").collect();
        let failed = mine.len() - ok.len();
        assert_eq!(t["redemptions_failed"], json!(failed), "{s}");
        let today = s["data"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(today["redemptions_failed"], json!(failed), "failures fall in their period: {s}");
        // first redemptions: a customer's earliest success in the whole project
        let mut firsts = 0;
        let mut identified = 0;
        for e in entries.iter().filter(|e| e["result"] == "SUCCESS") {
            let customer = e["customer_id"].as_str();
            let first = customer.is_some_and(|c| seen.insert(c.to_owned()));
            if e["voucher"]["code"] == json!(code) && customer.is_some() {
                identified += 1;
                firsts += i64::from(first);
            }
        }
        seen.clear();
        assert_eq!(t["new_customers"], json!(firsts), "{campaign}: {s}");
        assert_eq!(t["redemptions_by_new_customers"], json!(firsts), "{s}");
        assert_eq!(t["redemptions_by_returning_customers"], json!(identified - firsts), "{s}");
        assert_eq!(today["new_customers"], t["new_customers"]);
    }
    // every named shopper is new exactly once across the two campaigns
    let total: i64 = new_customers_of(&app, &p, &codes).await;
    assert_eq!(total, 5);
}

async fn new_customers_of(app: &TestApp, p: &Project, codes: &[(String, String)]) -> i64 {
    let mut total = 0;
    for (campaign, _) in codes {
        let s = app.get(p, &format!("/v1/analytics/series?object_id={campaign}")).await.json();
        total += s["totals"]["new_customers"].as_i64().unwrap();
    }
    total
}
