//! Limits under concurrency: many clients race through the whole HTTP stack, each redemption on
//! its own pooled database connection and transaction. Exact counts, and counters that agree
//! with the ledger, whatever the interleaving. One test runs the scenarios in sequence so the
//! races do not share the machine with each other.

use crate::checkout::{promotion, tier, voucher};
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

const CLIENTS: usize = 200;
const ATTEMPTS: usize = 50;

/// Fires `CLIENTS × attempts` requests, `CLIENTS` at a time; counts responses by status.
async fn storm(
    app: &Arc<TestApp>,
    p: &Project,
    attempts: usize,
    request: impl Fn(usize, usize) -> (String, Value, Option<String>) + Send + Sync + 'static,
) -> HashMap<u16, usize> {
    let request = Arc::new(request);
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (app, p, request) = (app.clone(), p.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut seen: HashMap<u16, usize> = HashMap::new();
            for attempt in 0..attempts {
                let (path, body, key) = request(client, attempt);
                let mut headers = vec![("x-app-id", p.app_id.as_str()), ("x-app-token", p.token.as_str())];
                if let Some(k) = &key {
                    headers.push(("idempotency-key", k.as_str()));
                }
                let r = app.request(Method::POST, &path, Auth::Raw(headers), Some(body)).await;
                assert!(
                    [200, 400, 429].contains(&r.status.as_u16()),
                    "{} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
                *seen.entry(r.status.as_u16()).or_default() += 1;
            }
            seen
        }));
    }
    let mut total: HashMap<u16, usize> = HashMap::new();
    for t in tasks {
        for (k, v) in t.await.expect("client task") {
            *total.entry(k).or_default() += v;
        }
    }
    total
}

/// Sum of the counters whose key starts with `prefix`.
async fn counters(app: &TestApp, p: &Project, prefix: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "select coalesce(sum(value), 0)::bigint from counter where project_id = $1 and counter_key like $2 || '%'",
    )
    .bind(p.uuid())
    .bind(prefix)
    .fetch_one(&app.db)
    .await
    .expect("counters")
}

/// Successful, not rolled back, non-parent ledger rows naming this object.
async fn live_redemptions(app: &TestApp, p: &Project, related: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "select count(*) from redemption where project_id = $1 and related_object_id = $2
           and result = 'SUCCESS' and status = 'SUCCEEDED'",
    )
    .bind(p.uuid())
    .bind(related)
    .fetch_one(&app.db)
    .await
    .expect("ledger")
}

async fn voucher_id(app: &TestApp, p: &Project, code: &str) -> String {
    app.get(p, &format!("/v1/vouchers/{code}")).await.json()["id"].as_str().expect("id").to_owned()
}

fn redeem(code: &str, customer: Option<&str>) -> Value {
    let mut b = json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 10000}});
    if let Some(c) = customer {
        b["customer"] = json!({"source_id": c});
    }
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_hold_exactly_under_concurrent_redemptions() {
    let app = Arc::new(TestApp::with_connections(24).await);
    let p = app.project("Races").await;

    // 1. a code with quantity 100
    voucher(&app, &p, "HOT100", json!({"type": "AMOUNT", "amount_off": 100}), Some(100), None).await;
    let seen = storm(&app, &p, ATTEMPTS, |_, _| ("/v1/redemptions".into(), redeem("HOT100", None), None)).await;
    assert_eq!(seen.get(&200), Some(&100), "exactly the quantity: {seen:?}");
    let v = voucher_id(&app, &p, "HOT100").await;
    assert_eq!(counters(&app, &p, &format!("redeemable:{v}||redemptions|total")).await, 100);
    assert_eq!(live_redemptions(&app, &p, &v).await, 100, "counter = ledger");

    // 2. one customer, a per-customer limit whose counter row does not exist before the race
    let per_customer = app.post(&p, "/v1/validation-rules", json!({"name": "3 each",
        "rules": {"1": {"name": "redemption.count.per_customer", "conditions": {"$less_than_or_equal": [3]}}, "logic": "1"}})).await;
    let per_customer = per_customer.json()["id"].as_str().unwrap().to_owned();
    voucher(&app, &p, "EACH3", json!({"type": "AMOUNT", "amount_off": 100}), None, Some(&per_customer)).await;
    let v = voucher_id(&app, &p, "EACH3").await;
    assert_eq!(counters(&app, &p, &format!("redeemable:{v}|customer:")).await, 0, "no counter row yet");
    let seen = storm(&app, &p, ATTEMPTS, |_, _| ("/v1/redemptions".into(), redeem("EACH3", Some("racer")), None)).await;
    assert_eq!(seen.get(&200), Some(&3), "{seen:?}");
    assert_eq!(counters(&app, &p, &format!("redeemable:{v}|customer:")).await, 3);
    assert_eq!(live_redemptions(&app, &p, &v).await, 3);

    // 3. a daily limit
    let daily = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "20 a day",
        "rules": {"1": {"name": "redemption.count.daily", "conditions": {"$less_than_or_equal": [20]}}, "logic": "1"}}),
        )
        .await;
    let daily = daily.json()["id"].as_str().unwrap().to_owned();
    voucher(&app, &p, "DAILY20", json!({"type": "AMOUNT", "amount_off": 100}), None, Some(&daily)).await;
    let seen = storm(&app, &p, ATTEMPTS, |_, _| ("/v1/redemptions".into(), redeem("DAILY20", None), None)).await;
    assert_eq!(seen.get(&200), Some(&20), "{seen:?}");
    let v = voucher_id(&app, &p, "DAILY20").await;
    assert_eq!(counters(&app, &p, &format!("redeemable:{v}||redemptions|day:")).await, 20);
    assert_eq!(live_redemptions(&app, &p, &v).await, 20);

    // 4. a campaign budget in money: 300 off each, at most 10,000 discounted in all → 33
    let budget = app.post(&p, "/v1/validation-rules", json!({"name": "budget",
        "rules": {"1": {"name": "campaign.orders.amount_discounted", "conditions": {"$less_than_or_equal": [10000]}}, "logic": "1"}})).await;
    budget.assert_status(StatusCode::OK);
    let budget = budget.json()["id"].as_str().unwrap().to_owned();
    let mut t = tier("3 off", json!({"type": "AMOUNT", "amount_off": 300}));
    t["validation_rules"] = json!([budget]);
    let tiers = promotion(&app, &p, "Budgeted", vec![t]).await;
    let tier_id = tiers[0].clone();
    let seen = storm(&app, &p, ATTEMPTS, move |_, _| {
        (
            "/v1/redemptions".into(),
            json!({"redeemables": [{"object": "promotion_tier", "id": tier_id}], "order": {"amount": 10000}}),
            None,
        )
    })
    .await;
    assert_eq!(seen.get(&200), Some(&33), "{seen:?}");
    assert_eq!(counters(&app, &p, "campaign:").await, 33 * 300, "the budget counter holds the money spent");
    assert_eq!(live_redemptions(&app, &p, &tiers[0]).await, 33);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redeem_and_rollback_storms_leave_counters_equal_to_the_ledger() {
    let app = Arc::new(TestApp::with_connections(24).await);
    let p = app.project("Rollback storm").await;
    voucher(&app, &p, "CHURN", json!({"type": "AMOUNT", "amount_off": 100}), Some(150), None).await;
    let v = voucher_id(&app, &p, "CHURN").await;
    // each client redeems, then rolls back what it got every other time, twice over
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (app, p) = (app.clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            let mut rolled = 0;
            for attempt in 0..6 {
                let r = app.post(&p, "/v1/redemptions", redeem("CHURN", None)).await;
                assert!([200, 400, 429].contains(&r.status.as_u16()), "{}", String::from_utf8_lossy(&r.body));
                if r.status == StatusCode::OK && (client + attempt) % 2 == 0 {
                    let id = r.json()["redemptions"][0]["id"].as_str().unwrap().to_owned();
                    // two concurrent rollbacks of the same redemption: one wins
                    let path = format!("/v1/redemptions/{id}/rollback");
                    let (a, b) = tokio::join!(app.post(&p, &path, json!({})), app.post(&p, &path, json!({})));
                    let ok = [&a, &b].iter().filter(|x| x.status == StatusCode::OK).count();
                    assert_eq!(ok, 1, "{} / {}", String::from_utf8_lossy(&a.body), String::from_utf8_lossy(&b.body));
                    rolled += 1;
                }
            }
            rolled
        }));
    }
    let mut rolled = 0;
    for t in tasks {
        rolled += t.await.expect("client");
    }
    assert!(rolled > 0);
    let succeeded: i64 = sqlx::query_scalar(
        "select count(*) from redemption where project_id = $1 and related_object_id = $2 and result = 'SUCCESS'",
    )
    .bind(p.uuid())
    .bind(&v)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let rollbacks: i64 = sqlx::query_scalar("select count(*) from redemption_rollback where project_id = $1")
        .bind(p.uuid())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rollbacks, rolled);
    let counter = counters(&app, &p, &format!("redeemable:{v}||redemptions|total")).await;
    assert_eq!(counter, succeeded - rollbacks, "counter = successful redemptions − successful rollbacks");
    assert!(counter <= 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idempotent_retry_storm_executes_each_key_once() {
    let app = Arc::new(TestApp::with_connections(24).await);
    let p = app.project("Retry storm").await;
    voucher(&app, &p, "RETRY", json!({"type": "AMOUNT", "amount_off": 100}), None, None).await;
    const KEYS: usize = 40;
    // 200 clients send 40 keys, each key from 5 clients at once, 5 times each; a client retries
    // a refusal (429, from the hot-code limiter, before any work) until it gets its answer
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (app, p) = (app.clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            let key = format!("order-{}", client % KEYS);
            let mut bodies = Vec::new();
            for _ in 0..5 {
                for _ in 0..400 {
                    let r = app
                        .request(
                            Method::POST,
                            "/v1/redemptions",
                            Auth::Raw(vec![
                                ("x-app-id", &p.app_id),
                                ("x-app-token", &p.token),
                                ("idempotency-key", &key),
                            ]),
                            Some(redeem("RETRY", None)),
                        )
                        .await;
                    if r.status == StatusCode::TOO_MANY_REQUESTS {
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        continue;
                    }
                    r.assert_status(StatusCode::OK);
                    bodies.push(r.json()["redemptions"][0]["id"].as_str().unwrap().to_owned());
                    break;
                }
            }
            (key, bodies)
        }));
    }
    let mut answers: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    let mut answered = 0;
    for t in tasks {
        let (key, bodies) = t.await.expect("client");
        answered += bodies.len();
        answers.entry(key).or_default().extend(bodies);
    }
    assert_eq!(answered, CLIENTS * 5, "every retry got an answer");
    assert!(answers.values().all(|ids| ids.len() == 1), "every retry of a key got the same redemption");
    let v = voucher_id(&app, &p, "RETRY").await;
    assert_eq!(live_redemptions(&app, &p, &v).await, KEYS as i64, "each key executed once");
    // and a later retry of any key replays the one execution
    let ids: std::collections::HashSet<String> = sqlx::query_scalar(
        "select redemption_id::text from redemption where project_id = $1 and related_object_id = $2",
    )
    .bind(p.uuid())
    .bind(&v)
    .fetch_all(&app.db)
    .await
    .unwrap()
    .into_iter()
    .map(|u: String| format!("r_{}", u.replace('-', "")))
    .collect();
    for k in 0..KEYS {
        let key = format!("order-{k}");
        let r = app
            .request(
                Method::POST,
                "/v1/redemptions",
                Auth::Raw(vec![("x-app-id", &p.app_id), ("x-app-token", &p.token), ("idempotency-key", &key)]),
                Some(redeem("RETRY", None)),
            )
            .await;
        r.assert_status(StatusCode::OK);
        assert_eq!(r.headers.get("idempotent-replayed").unwrap(), "true");
        assert!(ids.contains(r.json()["redemptions"][0]["id"].as_str().unwrap()));
    }
}

/// A ledger figure: `select` over the project's redemption rows.
async fn ledger(app: &TestApp, p: &Project, select: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("select ({select})::bigint from redemption r where r.project_id = $1"))
        .bind(p.uuid())
        .fetch_one(&app.db)
        .await
        .expect("ledger")
}

/// Stacked redemptions (a campaign code and a promotion tier under a money budget) race with
/// rollbacks of whole stacks; then every counter the API shows — the code's redeemed quantity
/// and its redemption list, the tier's summary, each customer's summary — equals the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_counter_the_api_shows_equals_the_ledger_after_a_storm() {
    let app = Arc::new(TestApp::with_connections(24).await);
    let p = app.project("Counters storm").await;
    let c = app
        .post(&p, "/v1/campaigns", json!({"name": "Codes", "campaign_type": "DISCOUNT_COUPONS", "vouchers_count": 1,
            "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100}, "redemption": {"quantity": 400},
                        "code_config": {"pattern": "STORM-####"}}}))
        .await;
    c.assert_status(StatusCode::OK);
    let camp = c.json()["id"].as_str().unwrap().to_owned();
    let listed = app.get(&p, &format!("/v1/vouchers?campaign_id={camp}")).await.json();
    let code = listed["vouchers"][0]["code"].as_str().unwrap().to_owned();
    let budget = app.post(&p, "/v1/validation-rules", json!({"name": "budget",
        "rules": {"1": {"name": "campaign.orders.amount_discounted", "conditions": {"$less_than_or_equal": [30000]}}, "logic": "1"}})).await;
    let mut t = tier("2.5 off", json!({"type": "AMOUNT", "amount_off": 250}));
    t["validation_rules"] = json!([budget.json()["id"]]);
    let tier_id = promotion(&app, &p, "Budgeted", vec![t]).await.remove(0);
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (app, p, code, tier_id) = (app.clone(), p.clone(), code.clone(), tier_id.clone());
        tasks.push(tokio::spawn(async move {
            for attempt in 0..4 {
                let body = json!({
                    "redeemables": [{"object": "voucher", "id": code}, {"object": "promotion_tier", "id": tier_id}],
                    "customer": {"source_id": format!("c{}", client % 7)},
                    "order": {"amount": 10000 + 100 * (client % 5) as i64},
                });
                // a hot code answers 429 while too many redemptions of it run, and a storm on a
                // busy host may get the retryable 503 (a counter's lock waited too long): retry,
                // as a client would (whatever was written, the counters must equal the ledger)
                let retryable =
                    |s: StatusCode| s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::SERVICE_UNAVAILABLE;
                let mut r = app.post(&p, "/v1/redemptions", body.clone()).await;
                while retryable(r.status) {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    r = app.post(&p, "/v1/redemptions", body.clone()).await;
                }
                assert!([200, 400].contains(&r.status.as_u16()), "{}", String::from_utf8_lossy(&r.body));
                if r.status == StatusCode::OK && (client + attempt) % 3 == 0 {
                    let parent = r.json()["parent_redemption"]["id"].as_str().map(str::to_owned);
                    if let Some(parent) = parent {
                        let path = format!("/v1/redemptions/{parent}/rollbacks");
                        let mut rb = app.post(&p, &path, json!({})).await;
                        let mut retried = false;
                        while retryable(rb.status) {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                            rb = app.post(&p, &path, json!({})).await;
                            retried = true;
                        }
                        // a retry of a rollback that was applied finds it done
                        let done = retried
                            && rb.status == StatusCode::BAD_REQUEST
                            && rb.json()["key"] == "already_rolled_back";
                        assert!(rb.status == StatusCode::OK || done, "{}", String::from_utf8_lossy(&rb.body));
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("client");
    }
    let live =
        |object: &str| format!("count(*) filter (where r.related_object_id = '{object}' and r.status = 'SUCCEEDED')");
    let voucher = app.get(&p, &format!("/v1/vouchers/{code}")).await.json();
    let voucher_id = voucher["id"].as_str().unwrap().to_owned();
    let voucher_live = ledger(&app, &p, &live(&voucher_id)).await;
    assert!(voucher_live > 0);
    assert_eq!(voucher["redemption"]["redeemed_quantity"], voucher_live, "{voucher}");
    // the URL the voucher prints answers, with every ledger entry of the code
    let url = voucher["redemption"]["url"].as_str().unwrap();
    let history = app.get(&p, url).await.json();
    let rollbacks: i64 = sqlx::query_scalar(
        "select count(*) from redemption_rollback b join redemption r using (project_id, redemption_id)
          where b.project_id = $1 and r.related_object_id = $2",
    )
    .bind(p.uuid())
    .bind(&voucher_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let entries = ledger(&app, &p, &format!("count(*) filter (where r.related_object_id = '{voucher_id}')")).await;
    assert_eq!(history["total"], entries + rollbacks, "{history}");
    assert_eq!(history["redeemed_quantity"], voucher_live);

    let tier_live = ledger(&app, &p, &live(&tier_id)).await;
    let tier_discount = ledger(
        &app,
        &p,
        &format!("coalesce(sum((r.doc -> 'order' ->> 'total_applied_discount_amount')::bigint) filter (where r.related_object_id = '{tier_id}' and r.status = 'SUCCEEDED'), 0)"),
    )
    .await;
    let tier_orders = ledger(
        &app,
        &p,
        &format!("coalesce(sum((r.doc -> 'order' ->> 'amount')::bigint) filter (where r.related_object_id = '{tier_id}' and r.status = 'SUCCEEDED'), 0)"),
    )
    .await;
    let got = app.get(&p, &format!("/v1/promotions/tiers/{tier_id}")).await.json();
    assert_eq!(got["summary"]["redemptions"]["total_redeemed"], tier_live, "{got}");
    assert_eq!(got["summary"]["orders"]["total_discount_amount"], tier_discount, "{got}");
    assert_eq!(got["summary"]["orders"]["total_amount"], tier_orders, "{got}");
    assert_eq!(tier_discount, tier_live * 250);
    // the background fold moves deltas into one row per object: the figures do not change,
    // whether read between small folds or after the last
    loop {
        let moved: i32 = sqlx::query_scalar("select fold_redemption_stats(7)").fetch_one(&app.db).await.unwrap();
        let again = app.get(&p, &format!("/v1/promotions/tiers/{tier_id}")).await.json();
        assert_eq!(again["summary"], got["summary"], "after folding {moved}");
        if moved == 0 {
            break;
        }
    }
    let left: i64 = sqlx::query_scalar("select count(*) from redemption_stats_delta where project_id = $1")
        .bind(p.uuid())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0, "every delta folded");
    assert_eq!(counters(&app, &p, "campaign:").await, tier_discount, "the budget counter is the live discount");
    assert!(tier_discount <= 30000);

    for c in 0..7 {
        let customer = app.get(&p, &format!("/v1/customers/c{c}")).await.json();
        let id = customer["id"].as_str().unwrap_or_else(|| panic!("c{c}: {customer}"));
        let succeeded = ledger(
            &app,
            &p,
            &format!("count(*) filter (where r.customer_id::text = '{}' and r.result = 'SUCCESS' and r.related_object_type <> 'redemption')",
                uuid::Uuid::parse_str(id.trim_start_matches("cust_")).unwrap()),
        )
        .await;
        assert_eq!(customer["summary"]["redemptions"]["total_succeeded"], succeeded, "{customer}");
        let orders: i64 = sqlx::query_scalar(
            "select count(*) from order_record where project_id = $1 and customer_id = $2 and status <> 'CANCELED'",
        )
        .bind(p.uuid())
        .bind(uuid::Uuid::parse_str(id.trim_start_matches("cust_")).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(customer["summary"]["orders"]["total_count"], orders, "{customer}");
    }
}
