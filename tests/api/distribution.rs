//! Codes at scale and distribution: generation, async actions, imports, publications, the
//! wallet, webhooks and the campaign lifecycle.

use crate::checkout::item;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

fn coupons(name: &str, count: i64, code_config: Value) -> Value {
    json!({"name": name, "campaign_type": "DISCOUNT_COUPONS", "type": "STATIC", "vouchers_count": count,
           "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100},
                       "redemption": {"quantity": 1}, "code_config": code_config}})
}

async fn codes_of(app: &TestApp, p: &Project, campaign: &str) -> Vec<String> {
    let mut out = Vec::new();
    for page in 1.. {
        let r = app.get(p, &format!("/v1/vouchers?campaign={campaign}&limit=100&page={page}")).await;
        let list = r.json()["vouchers"].as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            break;
        }
        out.extend(list.iter().map(|v| v["code"].as_str().unwrap().to_owned()));
    }
    out
}

/// Runs this project's async actions to completion and returns the action.
pub(crate) async fn finish_action(app: &TestApp, p: &Project, id: &str) -> Value {
    promo_api::services::jobs::run_due(&app.db, promo_api::services::jobs::DEFAULT_LEASE, Some(p.project_id()), None)
        .await
        .expect("jobs run");
    let a = app.get(p, &format!("/v1/async-actions/{id}")).await;
    a.assert_status(StatusCode::OK);
    a.json()
}

#[tokio::test]
async fn generation_honours_every_code_config_field_and_keeps_codes_unique() {
    let app = TestApp::new().await;
    let p = app.project("codes").await;
    // prefix, postfix, pattern with fixed characters, custom charset: 3^4 = 81 codes ≥ 2 × 40.
    let config = json!({"prefix": "PRE-", "postfix": "-X", "pattern": "##-##", "charset": "ABC"});
    app.post(&p, "/v1/campaigns", coupons("patterned", 40, config)).await.assert_status(StatusCode::OK);
    let codes = codes_of(&app, &p, "patterned").await;
    assert_eq!(codes.len(), 40);
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 40, "distinct");
    for c in &codes {
        let body = c.strip_prefix("PRE-").and_then(|c| c.strip_suffix("-X")).unwrap_or_else(|| panic!("{c}"));
        let (a, b) = body.split_once('-').unwrap_or_else(|| panic!("{c}"));
        assert!(a.len() == 2 && b.len() == 2 && (a.to_owned() + b).chars().all(|ch| "ABC".contains(ch)), "{c}");
    }
    // length with a digit charset
    let config = json!({"length": 6, "charset": "0123456789"});
    app.post(&p, "/v1/campaigns", coupons("digits", 5, config)).await.assert_status(StatusCode::OK);
    for c in codes_of(&app, &p, "digits").await {
        assert!(c.len() == 6 && c.chars().all(|ch| ch.is_ascii_digit()), "{c}");
    }
    // Codes compare case-insensitively in this project: `abAB` is two characters, 2^3 = 8 < 2 × 5.
    let config = json!({"pattern": "###", "charset": "abAB"});
    let e = app.post(&p, "/v1/campaigns", coupons("folded", 5, config)).await;
    let e = e.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e["details"].as_str().unwrap().contains("only 8"), "{e}");
    // Too small a space is refused before any work, also for async counts.
    let config = json!({"pattern": "##", "charset": "01"});
    app.post(&p, "/v1/campaigns", coupons("tiny", 3, config.clone()))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.post(&p, "/v1/campaigns", coupons("tiny", 5000, config))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.get(&p, "/v1/campaigns/tiny").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.get(&p, "/v1/async-actions").await.json()["async_actions"].as_array().unwrap().len(), 0);

    // Unique against imported and existing codes: Q0..Q4 are taken, so the five new codes of a
    // 10-code space must be exactly Q5..Q9.
    let rows: Vec<Value> =
        (0..5).map(|i| json!({"code": format!("q{i}"), "discount": {"type": "AMOUNT", "amount_off": 5}})).collect();
    let r = app.post(&p, "/v1/vouchers/import", json!(rows)).await;
    r.assert_status(StatusCode::ACCEPTED);
    let action = finish_action(&app, &p, r.json()["async_action_id"].as_str().unwrap()).await;
    assert_eq!(action["operation_status"], "SUCCESS", "{action}");
    let config = json!({"prefix": "Q", "pattern": "#", "charset": "0123456789"});
    app.post(&p, "/v1/campaigns", coupons("rest", 5, config)).await.assert_status(StatusCode::OK);
    let mut rest = codes_of(&app, &p, "rest").await;
    rest.sort();
    assert_eq!(rest, ["Q5", "Q6", "Q7", "Q8", "Q9"]);
}

#[tokio::test]
async fn a_large_generation_is_an_async_action_that_survives_a_restart() {
    let app = TestApp::new().await;
    let p = app.project("async").await;
    let r = app.post(&p, "/v1/campaigns", coupons("big", 12_000, json!({"length": 10}))).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["vouchers_generation_status"], "IN_PROGRESS");
    let actions = app.get(&p, "/v1/async-actions").await.json();
    let action = actions["async_actions"][0].clone();
    assert_eq!(
        (action["type"].as_str(), action["status"].as_str()),
        (Some("CAMPAIGN.VOUCHERS_GENERATE"), Some("ENQUEUED"))
    );
    let id = action["id"].as_str().unwrap().to_owned();

    // One batch is committed, then the server "dies" holding the lease.
    promo_api::services::jobs::run_due(
        &app.db,
        promo_api::services::jobs::DEFAULT_LEASE,
        Some(p.project_id()),
        Some(1),
    )
    .await
    .unwrap();
    let mid = app.get(&p, &format!("/v1/async-actions/{id}")).await.json();
    assert_eq!(mid["status"], "IN_PROGRESS");
    assert_eq!(mid["progress"], 41, "5,000 of 12,000: {mid}");
    // While the lease runs, no other worker takes it.
    assert_eq!(
        promo_api::services::jobs::run_due(
            &app.db,
            promo_api::services::jobs::DEFAULT_LEASE,
            Some(p.project_id()),
            None
        )
        .await
        .unwrap(),
        0
    );
    // The lease runs out (as after a crash); a new server's worker resumes from the commit.
    sqlx::query("update async_action set locked_until = now() - interval '1 second' where project_id = $1")
        .bind(p.uuid())
        .execute(&app.db)
        .await
        .unwrap();
    let restarted = TestApp::new().await;
    let done = finish_action(&restarted, &p, &id).await;
    assert_eq!((done["status"].as_str(), done["operation_status"].as_str()), (Some("DONE"), Some("SUCCESS")), "{done}");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["result"]["count"], 12_000);
    let campaign = app.get(&p, "/v1/campaigns/big").await.json();
    assert_eq!(
        (campaign["vouchers_count"].as_i64(), campaign["vouchers_generation_status"].as_str()),
        (Some(12_000), Some("DONE"))
    );
    let distinct: i64 = sqlx::query_scalar("select count(distinct code_key) from voucher where project_id = $1")
        .bind(p.uuid())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(distinct, 12_000);
    // More codes for the campaign later: one now (200), many as an action (202).
    let one = app.post(&p, "/v1/campaigns/big/vouchers", json!({"code": "HANDPICKED"})).await;
    assert_eq!(one.json()["code"], "HANDPICKED", "{}", one.json());
    let many = app.post(&p, "/v1/campaigns/big/vouchers?vouchers_count=10", json!({})).await;
    many.assert_status(StatusCode::ACCEPTED);
    let done = finish_action(&app, &p, many.json()["async_action_id"].as_str().unwrap()).await;
    assert_eq!(done["operation_status"], "SUCCESS");
    assert_eq!(app.get(&p, "/v1/campaigns/big").await.json()["vouchers_count"], 12_011);
}

#[tokio::test]
async fn an_import_with_bad_rows_reports_them_and_imports_nothing() {
    let app = TestApp::new().await;
    let p = app.project("imports").await;
    app.post(&p, "/v1/campaigns", coupons("imported", 0, json!({}))).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/vouchers/EXISTING", json!({"discount": {"type": "AMOUNT", "amount_off": 1}}))
        .await
        .assert_status(StatusCode::OK);
    let rows = json!([
        {"code": "GOOD-1"},
        {"code": "has space"},
        {"code": "good-1"},
        {"code": "existing"},
        {"code": "GOOD-2", "redemption": {"quantity": 0}},
        {"code": "GOOD-3"},
    ]);
    let r = app.post(&p, "/v1/campaigns/imported/import", rows).await;
    r.assert_status(StatusCode::ACCEPTED);
    let action = finish_action(&app, &p, r.json()["async_action_id"].as_str().unwrap()).await;
    assert_eq!((action["status"].as_str(), action["operation_status"].as_str()), (Some("DONE"), Some("FAILED")));
    let errors = action["result"]["errors"].as_array().unwrap();
    let bad: Vec<i64> = errors.iter().map(|e| e["row"].as_i64().unwrap()).collect();
    assert_eq!(bad, [2, 3, 4, 5], "{action}");
    assert!(errors[1]["message"].as_str().unwrap().contains("row 1"), "{action}");
    assert!(errors[2]["message"].as_str().unwrap().contains("already exists"), "{action}");
    assert_eq!(codes_of(&app, &p, "imported").await.len(), 0, "nothing of a failed import is kept");

    // A clean import keeps every row's own fields.
    let rows = json!([{"code": "GOOD-1", "metadata": {"batch": 1}}, {"code": "GOOD-2", "redemption": {"quantity": 3}, "active": false}]);
    let r = app.post(&p, "/v1/campaigns/imported/import", rows).await;
    let action = finish_action(&app, &p, r.json()["async_action_id"].as_str().unwrap()).await;
    assert_eq!(action["operation_status"], "SUCCESS", "{action}");
    let v = app.get(&p, "/v1/vouchers/good-2").await.json();
    assert_eq!((v["redemption"]["quantity"].as_i64(), v["active"].as_bool()), (Some(3), Some(false)), "{v}");
    assert_eq!(v["discount"]["amount_off"], 100, "the campaign's discount");
    assert_eq!(app.get(&p, "/v1/vouchers/GOOD-1").await.json()["metadata"]["batch"], 1);

    // CSV, as a multipart upload: discount columns for standalone codes, other columns metadata.
    let csv = "Code,Discount Type,Value,Redemption Limit,Region\nCSV-1,PERCENT,15,2,EU\nCSV-2,AMOUNT,500,,US\n";
    let boundary = "XyZbOuNdArY";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"codes.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let r = app
        .raw_request(
            Method::POST,
            "/v1/vouchers/importCSV",
            &p,
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await;
    r.assert_status(StatusCode::ACCEPTED);
    let action = finish_action(&app, &p, r.json()["async_action_id"].as_str().unwrap()).await;
    assert_eq!(action["operation_status"], "SUCCESS", "{action}");
    let v = app.get(&p, "/v1/vouchers/CSV-1").await.json();
    assert_eq!(v["discount"], json!({"type": "PERCENT", "percent_off": 15}));
    assert_eq!((v["redemption"]["quantity"].as_i64(), v["metadata"]["region"].as_str()), (Some(2), Some("EU")));
    // A CSV row without its discount fails the whole file.
    let r =
        app.raw_request(Method::POST, "/v1/vouchers/importCSV", &p, "text/csv", "code,region\nCSV-3,EU\n".into()).await;
    let action = finish_action(&app, &p, r.json()["async_action_id"].as_str().unwrap()).await;
    assert_eq!(action["operation_status"], "FAILED");
    assert!(action["result"]["errors"][0]["message"].as_str().unwrap().contains("discount"), "{action}");
    app.get(&p, "/v1/vouchers/CSV-3").await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn concurrent_publications_hand_out_distinct_codes() {
    let app = Arc::new(TestApp::with_connections(24).await);
    let p = app.project("publications").await;
    app.post(&p, "/v1/campaigns", coupons("hundred", 100, json!({"length": 8}))).await.assert_status(StatusCode::OK);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let (app, p) = (app.clone(), p.clone());
        tasks.spawn(async move {
            let r = app
                .post(
                    &p,
                    "/v1/publications",
                    json!({"campaign": {"name": "hundred"}, "customer": {"source_id": format!("c{i}")}}),
                )
                .await;
            r.assert_status(StatusCode::OK);
            let body = r.json();
            assert_eq!(body["voucher"]["holder_id"], body["customer_id"], "{body}");
            body["voucher"]["code"].as_str().unwrap().to_owned()
        });
    }
    let mut codes = HashSet::new();
    while let Some(code) = tasks.join_next().await {
        assert!(codes.insert(code.unwrap()), "a code was handed out twice");
    }
    assert_eq!(codes.len(), 100);
    let e = app.post(&p, "/v1/publications", json!({"campaign": "hundred", "customer": {"source_id": "late"}})).await;
    e.assert_error(StatusCode::BAD_REQUEST, "no_voucher_suitable_for_publication");
    let listed = app.get(&p, "/v1/publications?campaign=hundred&limit=100").await.json();
    assert_eq!(listed["total"], 100);
    // The list filters by customer; the same source id returns the same publication.
    let mine = app.get(&p, "/v1/publications?customer=c7").await.json();
    assert_eq!(mine["total"], 1);
    let first = &mine["publications"][0];
    assert!(codes.contains(first["voucher"]["code"].as_str().unwrap()));
}

#[tokio::test]
async fn auto_update_campaigns_make_codes_join_once_repeats_and_holders_alone_redeem() {
    let app = TestApp::new().await;
    let p = app.project("holders").await;
    let rule = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "holder only", "rules": {"logic": "1",
              "1": {"name": "publication.redeemable_by_linked_customer", "conditions": {"$is": [true]}}}}),
        )
        .await;
    rule.assert_status(StatusCode::OK);
    let mut campaign = coupons("fresh", 0, json!({"prefix": "F-", "length": 6}));
    campaign["type"] = json!("AUTO_UPDATE");
    campaign["join_once"] = json!(true);
    campaign["validation_rules"] = json!([rule.json()["id"]]);
    app.post(&p, "/v1/campaigns", campaign).await.assert_status(StatusCode::OK);
    let publish = |who: &str| json!({"campaign": {"name": "fresh", "count": 1}, "customer": {"source_id": who}, "source_id": null});
    let first = app.post(&p, "/v1/publications", publish("ann")).await.json();
    let code = first["voucher"]["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("F-"), "{first}");
    let again = app.post(&p, "/v1/publications", publish("ann")).await.json();
    assert_eq!(again["voucher"]["code"], code.as_str(), "join_once gives the same code");
    let other = app.post(&p, "/v1/publications", publish("bob")).await.json();
    assert_ne!(other["voucher"]["code"], code.as_str());
    // Publishing ann's code to bob directly is refused.
    app.post(&p, "/v1/publications", json!({"voucher": code, "customer": {"source_id": "bob"}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "voucher_already_published");
    // Only the holder can redeem it.
    let redeem = |who: &str| {
        json!({"redeemables": [{"object": "voucher", "id": code}], "customer": {"source_id": who},
               "order": {"amount": 1000, "items": [item("p", 1, 1000)]}})
    };
    let e = app.post(&p, "/v1/redemptions", redeem("bob")).await;
    e.assert_error(StatusCode::BAD_REQUEST, "redemption_rules_violated");
    app.post(&p, "/v1/redemptions", redeem("ann")).await.assert_status(StatusCode::OK);
    // The wallet: by source id or id.
    let wallet = app.get(&p, "/v1/customers/ann/redeemables").await.json();
    assert_eq!(wallet["data"].as_array().unwrap().len(), 1, "{wallet}");
    assert_eq!(wallet["data"][0]["redeemable"]["voucher"]["code"], code.as_str());
    assert_eq!(wallet["data"][0]["redeemable"]["voucher"]["publish"]["count"], 1);
    // the URLs a voucher prints answer: its publications and its redemptions
    let voucher = app.get(&p, &format!("/v1/vouchers/{code}")).await.json();
    let publications = app.get(&p, voucher["publish"]["url"].as_str().unwrap()).await.json();
    assert_eq!(publications["total"], voucher["publish"]["count"], "{publications}");
    assert_eq!(publications["publications"][0]["customer"]["source_id"], "ann", "{publications}");
    let redemptions = app.get(&p, voucher["redemption"]["url"].as_str().unwrap()).await.json();
    assert_eq!(redemptions["redeemed_quantity"], voucher["redemption"]["redeemed_quantity"], "{redemptions}");
    assert_eq!(redemptions["redeemed_quantity"], 1);
    app.get(&p, "/v1/vouchers/NO-SUCH-CODE/publications").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    let q = app
        .post(
            &p,
            "/v1/qualifications",
            json!({"scenario": "CUSTOMER_WALLET", "customer": {"source_id": "bob"},
              "order": {"amount": 1000, "items": [item("p", 1, 1000)]}}),
        )
        .await
        .json();
    let wallet_ids: Vec<&str> =
        q["redeemables"]["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(wallet_ids, [other["voucher"]["code"].as_str().unwrap()], "{q}");
}

/// A receiver that fails its first `failures` requests with 500 and keeps what it accepted.
pub(crate) async fn receiver(failures: usize) -> (String, Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>) {
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(0usize));
    let (acc, seen2) = (accepted.clone(), seen.clone());
    let handler = move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
        let (acc, seen) = (acc.clone(), seen2.clone());
        async move {
            let n = {
                let mut s = seen.lock().unwrap();
                *s += 1;
                *s
            };
            if n <= failures {
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            acc.lock().unwrap().push((headers, body.to_vec()));
            StatusCode::NO_CONTENT
        }
    };
    let router = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, accepted)
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_delivered_in_order_with_nothing_missing() {
    let app = TestApp::new().await;
    let p = app.project("webhooks").await;
    let (url, accepted) = receiver(2).await;
    let wh = app
        .management(
            Method::POST,
            &format!("/management/v1/projects/{}/webhooks", p.id),
            Some(json!({"url": url, "events": ["*"]})),
        )
        .await;
    wh.assert_status(StatusCode::OK);
    let wh = wh.json();
    let secret = wh["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let bad = app
        .management(
            Method::POST,
            &format!("/management/v1/projects/{}/webhooks", p.id),
            Some(json!({"url": url, "events": ["nope"]})),
        )
        .await;
    bad.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");

    app.post(&p, "/v1/campaigns", coupons("hooked", 1, json!({"prefix": "H-"}))).await.assert_status(StatusCode::OK);
    let published =
        app.post(&p, "/v1/publications", json!({"campaign": "hooked", "customer": {"source_id": "eve"}})).await.json();
    let code = published["voucher"]["code"].as_str().unwrap().to_owned();
    let redeemed = app
        .post(
            &p,
            "/v1/redemptions",
            json!({"redeemables": [{"object": "voucher", "id": code}], "customer": {"source_id": "eve"},
              "order": {"amount": 1000}}),
        )
        .await
        .json();
    let redemption = redeemed["redemptions"][0]["id"].as_str().unwrap().to_owned();
    app.post(&p, &format!("/v1/redemptions/{redemption}/rollback"), json!({})).await.assert_status(StatusCode::OK);
    app.post(
        &p,
        "/v1/redemptions",
        json!({"redeemables": [{"object": "voucher", "id": "NO-SUCH"}], "order": {"amount": 1}}),
    )
    .await;
    app.post(&p, "/v1/campaigns/hooked/disable", json!({})).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/campaigns/hooked/enable", json!({})).await.assert_status(StatusCode::OK);
    app.put(&p, &format!("/v1/vouchers/{code}"), json!({"metadata": {"x": 1}})).await.assert_status(StatusCode::OK);
    app.delete(&p, &format!("/v1/vouchers/{code}")).await.assert_status(StatusCode::NO_CONTENT);
    app.delete(&p, "/v1/campaigns/hooked").await.assert_status(StatusCode::NO_CONTENT);
    let expected = [
        "voucher.created",
        "voucher.published",
        "redemption.succeeded",
        "redemption.rollback.succeeded",
        "redemption.failed",
        "campaign.disabled",
        "campaign.enabled",
        "voucher.updated",
        "voucher.deleted",
        "campaign.deleted",
    ];

    let policy = promo_api::services::webhooks::RetryPolicy {
        base: std::time::Duration::from_millis(20),
        max: std::time::Duration::from_millis(100),
        timeout: std::time::Duration::from_secs(5),
    };
    let client = promo_api::services::webhooks::client();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while accepted.lock().unwrap().len() < expected.len() && std::time::Instant::now() < deadline {
        if promo_api::services::webhooks::deliver_due(&app.db, &client, policy, Some(p.project_id())).await.unwrap()
            == 0
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    // Nothing more is pending, and nothing arrives twice.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    while promo_api::services::webhooks::deliver_due(&app.db, &client, policy, Some(p.project_id())).await.unwrap() > 0
    {
    }
    let got = accepted.lock().unwrap().clone();
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    let mut types = Vec::new();
    let mut ids = HashSet::new();
    for (headers, body) in &got {
        verifier.verify(body, headers).unwrap_or_else(|e| panic!("signature does not verify: {e:?}"));
        assert!(ids.insert(headers["webhook-id"].to_str().unwrap().to_owned()), "delivered twice");
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["id"].as_str(), headers["webhook-id"].to_str().ok());
        types.push(event["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(types, expected);
    // Each carries its object as the API shows it.
    let object_ids: Vec<String> = got
        .iter()
        .map(|(_, body)| {
            serde_json::from_slice::<Value>(body).unwrap()["data"]["object"]["id"].as_str().unwrap_or("").to_owned()
        })
        .collect();
    let prefixes = ["v_", "pub_", "r_", "rr_", "rf_", "camp_", "camp_", "v_", "v_", "camp_"];
    for (id, prefix) in object_ids.iter().zip(prefixes) {
        assert!(id.starts_with(prefix), "{id} should start with {prefix}: {object_ids:?}");
    }
    let rollback: Value = serde_json::from_slice(&got[3].1).unwrap();
    assert_eq!(rollback["data"]["object"]["redemption"], redemption.as_str(), "{rollback}");
    // the service renders the voucher and campaign rows the outbox captured, in its wire format
    let updated: Value = serde_json::from_slice(&got[7].1).unwrap();
    let voucher = &updated["data"]["object"];
    assert_eq!(
        (voucher["code"].as_str(), &voucher["metadata"]["x"], &voucher["object"]),
        (Some(code.as_str()), &json!(1), &json!("voucher"))
    );
    assert!(voucher["campaign_id"].as_str().unwrap().starts_with("camp_"), "{voucher}");
    assert!(voucher["updated_at"].as_str().unwrap().ends_with('Z'), "{voucher}");
    assert_eq!(updated["project_id"], p.id.as_str());
    assert!(updated["created_at"].as_str().unwrap().ends_with('Z'), "{updated}");
    let disabled: Value = serde_json::from_slice(&got[5].1).unwrap();
    let campaign = &disabled["data"]["object"];
    assert_eq!(
        (&campaign["name"], &campaign["active"], &campaign["object"]),
        (&json!("hooked"), &json!(false), &json!("campaign")),
        "{campaign}"
    );
    // A tampered body does not verify.
    let (headers, body) = &got[0];
    let mut tampered = body.clone();
    tampered[0] = b' ';
    assert!(verifier.verify(&tampered, headers).is_err());
    // The attempts are queryable: two failures, then one success per event.
    let wh_id = wh["id"].as_str().unwrap();
    let deliveries = app
        .management(
            Method::GET,
            &format!("/management/v1/projects/{}/webhooks/{wh_id}/deliveries?limit=100", p.id),
            None,
        )
        .await
        .json();
    let attempts = deliveries["data"].as_array().unwrap();
    assert_eq!(attempts.len(), expected.len() + 2, "{deliveries}");
    assert_eq!(attempts.iter().filter(|a| a["status_code"] == 500).count(), 2);
    let events = app
        .management(Method::GET, &format!("/management/v1/projects/{}/webhooks/{wh_id}/events?limit=100", p.id), None)
        .await
        .json();
    assert!(events["data"].as_array().unwrap().iter().all(|e| e["status"] == "DELIVERED"), "{events}");
}

#[tokio::test]
async fn campaigns_activate_and_expire_by_date_and_the_bin_keeps_codes_reserved() {
    let app = TestApp::new().await;
    let p = app.project("lifecycle").await;
    let order = json!({"amount": 1000});
    let validate = |code: &str| json!({"redeemables": [{"object": "voucher", "id": code}], "order": order});
    let mut future = coupons("later", 0, json!({}));
    future["start_date"] = json!("2999-01-01T00:00:00Z");
    app.post(&p, "/v1/campaigns", future).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/campaigns/later/vouchers", json!({"code": "LATER"})).await.assert_status(StatusCode::OK);
    let mut past = coupons("over", 0, json!({}));
    past["expiration_date"] = json!("2001-01-01T00:00:00Z");
    app.post(&p, "/v1/campaigns", past).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/campaigns/over/vouchers", json!({"code": "OVER"})).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/campaigns", coupons("now", 0, json!({}))).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/campaigns/now/vouchers", json!({"code": "NOW"})).await.assert_status(StatusCode::OK);
    // The voucher's outcome: APPLICABLE, or the key it is inapplicable with.
    let outcome = |v: Value| match v["redeemables"][0]["status"].as_str() {
        Some(s) => s.to_owned(),
        None => v["inapplicable_redeemables"][0]["result"]["error"]["key"].as_str().unwrap_or("?").to_owned(),
    };
    for (code, expected) in [("LATER", "voucher_not_active"), ("OVER", "voucher_expired"), ("NOW", "APPLICABLE")] {
        assert_eq!(outcome(app.post(&p, "/v1/validations", validate(code)).await.json()), expected, "{code}");
    }
    // Disabled and expired campaigns stay listed and can be enabled again.
    app.post(&p, "/v1/campaigns/now/disable", json!({})).await.assert_status(StatusCode::OK);
    assert_eq!(outcome(app.post(&p, "/v1/validations", validate("NOW")).await.json()), "voucher_disabled");
    assert_eq!(app.get(&p, "/v1/campaigns").await.json()["total"], 3);
    app.post(&p, "/v1/campaigns/now/enable", json!({})).await.assert_status(StatusCode::OK);
    assert_eq!(outcome(app.post(&p, "/v1/validations", validate("NOW")).await.json()), "APPLICABLE");
    // Deleted without force: gone from view and from checkout, its code still reserved.
    app.delete(&p, "/v1/campaigns/now").await.assert_status(StatusCode::NO_CONTENT);
    app.get(&p, "/v1/campaigns/now").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get(&p, "/v1/vouchers/NOW").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(outcome(app.post(&p, "/v1/validations", validate("NOW")).await.json()), "not_found");
    app.post(&p, "/v1/vouchers/NOW", json!({"discount": {"type": "AMOUNT", "amount_off": 1}}))
        .await
        .assert_error(StatusCode::CONFLICT, "duplicate_found");
    // From the bin, deleted for good: the code is free again.
    app.request(Method::DELETE, "/v1/campaigns/now?force=true", Auth::App(&p), None)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.post(&p, "/v1/vouchers/NOW", json!({"discount": {"type": "AMOUNT", "amount_off": 1}}))
        .await
        .assert_status(StatusCode::OK);
    // With force: gone for good, the code free again.
    app.request(Method::DELETE, "/v1/campaigns/over?force=true", Auth::App(&p), None)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.post(&p, "/v1/vouchers/OVER", json!({"discount": {"type": "AMOUNT", "amount_off": 1}}))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(app.get(&p, "/v1/campaigns").await.json()["total"], 1);
}

#[tokio::test]
async fn a_receiver_that_cannot_be_reached_keeps_its_events_pending_with_each_attempt_recorded() {
    let app = TestApp::new().await;
    let p = app.project("unreachable").await;
    let (url, accepted) = receiver(0).await;
    let hooks = format!("/management/v1/projects/{}/webhooks", p.id);
    app.management(Method::POST, &hooks, Some(json!({"url": "ftp://example.com/x", "events": ["*"]})))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    // https to a plain-HTTP server: the TLS handshake fails, as with any broken receiver.
    let https = url.replace("http://", "https://");
    let wh =
        app.management(Method::POST, &hooks, Some(json!({"url": https, "events": ["voucher.created"]}))).await.json();
    let wh_id = wh["id"].as_str().unwrap();
    // the endpoint list pages like every list
    app.management(Method::POST, &hooks, Some(json!({"url": https, "events": ["campaign.deleted"]})))
        .await
        .assert_status(StatusCode::OK);
    let listed = app.management(Method::GET, &format!("{hooks}?limit=1&page=2"), None).await.json();
    assert_eq!((listed["data"].as_array().unwrap().len(), &listed["total"]), (1, &json!(2)));
    assert_ne!(listed["data"][0]["id"], wh["id"], "oldest first: the second page holds the second endpoint");
    app.post(&p, "/v1/vouchers/KEPT", json!({"discount": {"type": "AMOUNT", "amount_off": 1}}))
        .await
        .assert_status(StatusCode::OK);
    let policy = promo_api::services::webhooks::RetryPolicy {
        base: std::time::Duration::from_millis(10),
        max: std::time::Duration::from_millis(10),
        timeout: std::time::Duration::from_secs(5),
    };
    let client = promo_api::services::webhooks::client();
    for _ in 0..3 {
        while promo_api::services::webhooks::deliver_due(&app.db, &client, policy, Some(p.project_id())).await.unwrap()
            == 0
        {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    let path = format!("{hooks}/{wh_id}");
    let attempts = app.management(Method::GET, &format!("{path}/deliveries"), None).await.json();
    let attempts = attempts["data"].as_array().unwrap().clone();
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a["status_code"].is_null() && a["error"].is_string()), "{attempts:?}");
    let events = app.management(Method::GET, &format!("{path}/events"), None).await.json();
    assert_eq!(
        (events["data"][0]["status"].as_str(), events["data"][0]["attempts"].as_i64()),
        (Some("PENDING"), Some(3))
    );
    // Fixed: the same event arrives, once.
    app.management(Method::PUT, &path, Some(json!({"url": url}))).await.assert_status(StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    while promo_api::services::webhooks::deliver_due(&app.db, &client, policy, Some(p.project_id())).await.unwrap() > 0
    {
    }
    let got = accepted.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let event: Value = serde_json::from_slice(&got[0].1).unwrap();
    assert_eq!(
        (event["type"].as_str(), event["data"]["object"]["code"].as_str()),
        (Some("voucher.created"), Some("KEPT"))
    );
    assert_eq!(event["id"], events["data"][0]["id"]);
}

#[tokio::test]
async fn an_endpoint_added_while_redemptions_run_gets_their_events() {
    let app = TestApp::new().await;
    let p = app.project("late listener").await;
    app.post(
        &p,
        "/v1/vouchers/LATE",
        json!({"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100}}),
    )
    .await
    .assert_status(StatusCode::OK);
    let redeem = json!({"redeemables": [{"object": "voucher", "id": "LATE"}], "order": {"amount": 1000}});
    // compiled definitions are cached by now, without a listener
    app.post(&p, "/v1/redemptions", redeem.clone()).await.assert_status(StatusCode::OK);
    let events = async || -> i64 {
        sqlx::query_scalar(
            "select count(*) from webhook_outbox where project_id = $1 and event_type = 'redemption.succeeded'",
        )
        .bind(p.uuid())
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    assert_eq!(events().await, 0, "nobody listened");
    app.management(
        Method::POST,
        &format!("/management/v1/projects/{}/webhooks", p.id),
        Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["redemption.succeeded"]})),
    )
    .await
    .assert_status(StatusCode::OK);
    app.post(&p, "/v1/redemptions", redeem).await.assert_status(StatusCode::OK);
    assert_eq!(events().await, 1, "the next redemption's event is queued");
}
