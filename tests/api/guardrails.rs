//! Revenue guardrails: velocity windows, one person behind many accounts, the order's currency.
//! The races run many clients through the whole HTTP stack, each redemption on its own pooled
//! connection, and compare what succeeded with the counters and the ledger.

use crate::checkout::voucher;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use chrono::Datelike;
use serde_json::{Value, json};
use std::sync::Arc;

const CLIENTS: usize = 24;
const ATTEMPTS: usize = 4;

/// `CLIENTS × ATTEMPTS` redemptions, `CLIENTS` at a time: how many succeeded.
async fn race(app: &Arc<TestApp>, p: &Project, body: impl Fn(usize) -> Value + Send + Sync + 'static) -> usize {
    let body = Arc::new(body);
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (app, p, body) = (app.clone(), p.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for _ in 0..ATTEMPTS {
                let r = app.request(Method::POST, "/v1/redemptions", Auth::App(&p), Some(body(client))).await;
                // 429: a hot code sheds load beyond its concurrency guard (retryable)
                assert!(
                    [200, 400, 429].contains(&r.status.as_u16()),
                    "{} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
                ok += usize::from(r.status == StatusCode::OK);
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.expect("client");
    }
    ok
}

/// The counters of one object whose period starts with `period` (e.g. `hour:`), by key.
async fn counters(app: &TestApp, p: &Project, object: &str, period: &str) -> Vec<(String, i64)> {
    sqlx::query_as::<_, (String, i64)>(
        "select counter_key, value from counter where project_id = $1 and counter_key like $2 || '%|' || $3 || '%'
          order by counter_key",
    )
    .bind(p.uuid())
    .bind(format!("redeemable:{object}|"))
    .bind(period)
    .fetch_all(&app.db)
    .await
    .expect("counters")
}

async fn live_redemptions(app: &TestApp, p: &Project, object: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from redemption where project_id = $1 and related_object_id = $2
           and result = 'SUCCESS' and status = 'SUCCEEDED'",
    )
    .bind(p.uuid())
    .bind(object)
    .fetch_one(&app.db)
    .await
    .expect("ledger")
}

async fn rule(app: &TestApp, p: &Project, name: &str, at_most: i64) -> String {
    let r = app
        .post(
            p,
            "/v1/validation-rules",
            json!({"name": name, "rules": {"1": {"name": name, "conditions": {"$less_than_or_equal": [at_most]}}, "logic": "1"}}),
        )
        .await;
    r.assert_status(StatusCode::OK);
    r.json()["id"].as_str().unwrap().to_owned()
}

async fn code_with(app: &TestApp, p: &Project, code: &str, rule_id: &str) -> String {
    voucher(app, p, code, json!({"type": "AMOUNT", "amount_off": 100}), None, Some(rule_id)).await;
    app.get(p, &format!("/v1/vouchers/{code}")).await.json()["id"].as_str().unwrap().to_owned()
}

fn redeem(code: &str, customer: Value) -> Value {
    json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 5000}, "customer": customer})
}

/// Hourly and weekly windows hold exactly under a race (three rounds, fresh codes each): no
/// window's counter exceeds its cap, and successes = counters = ledger. A race that crosses an
/// hour may fill two hourly windows, each at most to the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hourly_and_weekly_windows_are_never_exceeded_under_a_race() {
    let app = Arc::new(TestApp::with_connections(16).await);
    let p = app.project("Velocity").await;
    let hourly = rule(&app, &p, "redemption.count.hourly", 7).await;
    let weekly = rule(&app, &p, "redemption.count.weekly", 9).await;
    let per_customer_hourly = rule(&app, &p, "redemption.count.per_customer.hourly", 2).await;
    for round in 0..3 {
        for (cap, rule_id, period) in [(7, &hourly, "hour:"), (9, &weekly, "week:")] {
            let code = format!("V{round}-{period}").replace(':', "");
            let id = code_with(&app, &p, &code, rule_id).await;
            let ok = race(&app, &p, move |_| redeem(&code, json!({"source_id": "anyone"}))).await as i64;
            let windows = counters(&app, &p, &id, period).await;
            assert!(!windows.is_empty() && windows.iter().all(|(_, v)| *v <= cap), "{windows:?}");
            let counted: i64 = windows.iter().map(|(_, v)| v).sum();
            assert_eq!((ok, counted, live_redemptions(&app, &p, &id).await), (counted, counted, counted));
            assert!(ok >= cap, "the first window fills: {ok}");
            if windows.len() == 1 {
                assert_eq!(ok, cap);
            }
        }
        // per customer and hour: each of three shoppers gets 2
        let code = format!("PCH{round}");
        let id = code_with(&app, &p, &code, &per_customer_hourly).await;
        let c = code.clone();
        let ok =
            race(&app, &p, move |client| redeem(&c, json!({"source_id": format!("shopper-{}", client % 3)}))).await;
        let windows = counters(&app, &p, &id, "hour:").await;
        assert!(windows.len() >= 3 && windows.iter().all(|(_, v)| *v <= 2), "{windows:?}");
        assert_eq!(ok as i64, windows.iter().map(|(_, v)| v).sum::<i64>());
        assert_eq!(ok as i64, live_redemptions(&app, &p, &id).await);
    }
    // the window's key says which hour and week, in the project's time zone
    let keys =
        counters(&app, &p, app.get(&p, "/v1/vouchers/V0-hour").await.json()["id"].as_str().unwrap(), "hour:").await;
    assert!(keys[0].0.contains("|hour:20") && keys[0].0.ends_with("+00:00"), "{keys:?}");
}

/// Rolling windows ("at most 5 in any 24 h", per code; "at most 2 in any hour" per customer):
/// never exceeded under a race, successes = events in the window = ledger; a rollback frees its
/// slot; a redemption that has left the window no longer counts; a LOCK session's reservation
/// holds a slot against everyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rolling_windows_are_never_exceeded_under_a_race() {
    let app = Arc::new(TestApp::with_connections(16).await);
    let p = app.project("Rolling").await;
    let daily = rule(&app, &p, "redemption.count.rolling_24h", 5).await;
    let per_customer = rule(&app, &p, "redemption.count.per_customer.rolling_1h", 2).await;
    let in_window = async |id: &str| -> i64 {
        sqlx::query_scalar::<_, Option<i64>>(
            "select sum(amount)::bigint from counter_event where project_id = $1 and counter_key like $2
               and at > now() - interval '24 hours'",
        )
        .bind(p.uuid())
        .bind(format!("redeemable:{id}|%|roll:%"))
        .fetch_one(&app.db)
        .await
        .unwrap()
        .unwrap_or(0)
    };
    for round in 0..3 {
        let code = format!("ROLL{round}");
        let id = code_with(&app, &p, &code, &daily).await;
        let c = code.clone();
        let ok = race(&app, &p, move |_| redeem(&c, json!({"source_id": "anyone"}))).await as i64;
        assert_eq!((ok, in_window(&id).await, live_redemptions(&app, &p, &id).await), (5, 5, 5));

        // per customer: three shoppers, two each
        let code = format!("PCR{round}");
        let pid = code_with(&app, &p, &code, &per_customer).await;
        let c = code.clone();
        let ok = race(&app, &p, move |client| redeem(&c, json!({"source_id": format!("r-{}", client % 3)}))).await;
        assert_eq!((ok as i64, live_redemptions(&app, &p, &pid).await), (6, 6));
    }
    // a rollback gives its slot back; one more fits, then the window is full again
    let r = app.get(&p, "/v1/redemptions?voucher_code=ROLL0&result=SUCCESS&limit=1").await.json();
    let first = r["redemptions"][0]["id"].as_str().unwrap().to_owned();
    app.post(&p, &format!("/v1/redemptions/{first}/rollback"), json!({})).await.assert_status(StatusCode::OK);
    let again = || redeem("ROLL0", json!({"source_id": "anyone"}));
    app.post(&p, "/v1/redemptions", again()).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/redemptions", again()).await.assert_error(StatusCode::BAD_REQUEST, "redemption_rules_violated");
    // a day later the five have left the window (moved back 25 hours, with their redemptions)
    let id = app.get(&p, "/v1/vouchers/ROLL0").await.json()["id"].as_str().unwrap().to_owned();
    sqlx::query("update counter_event set at = at - interval '25 hours' where project_id = $1 and counter_key like $2")
        .bind(p.uuid())
        .bind(format!("redeemable:{id}|%"))
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(in_window(&id).await, 0);
    // a LOCK session takes one of the five fresh slots: four others fit, the fifth does not
    let lock = json!({"redeemables": [{"object": "voucher", "id": "ROLL0"}], "order": {"amount": 5000},
                      "customer": {"source_id": "anyone"}, "session": {"type": "LOCK", "key": "cart-1"}});
    let v = app.post(&p, "/v1/validations", lock).await.json();
    assert_eq!(v["valid"], true, "{v}");
    for _ in 0..4 {
        app.post(&p, "/v1/redemptions", again()).await.assert_status(StatusCode::OK);
    }
    app.post(&p, "/v1/redemptions", again()).await.assert_error(StatusCode::BAD_REQUEST, "redemption_rules_violated");
    let mut locked = again();
    locked["session"] = json!({"type": "LOCK", "key": "cart-1"});
    app.post(&p, "/v1/redemptions", locked).await.assert_status(StatusCode::OK);
    assert_eq!(in_window(&id).await, 5);
}

/// A project that counts people by e-mail: two accounts whose addresses reach one Gmail mailbox
/// race for a once-per-person code, and exactly one redemption succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_person_with_two_accounts_takes_a_once_per_person_code_once() {
    let app = Arc::new(TestApp::with_connections(16).await);
    let p = app.project("People").await;
    app.update_project(&p, json!({"customer_identity": "email"})).await.assert_status(StatusCode::OK);
    let once = rule(&app, &p, "redemption.count.per_customer", 1).await;
    for round in 0..3 {
        let code = format!("ONCE{round}");
        let id = code_with(&app, &p, &code, &once).await;
        let c = code.clone();
        let ok = race(&app, &p, move |client| {
            let (account, email) = if client % 2 == 0 {
                (format!("acct-a{round}"), format!("J.Doe{round}@gmail.com"))
            } else {
                (format!("acct-b{round}"), format!("jdoe{round}+promo@googlemail.com"))
            };
            redeem(&c, json!({"source_id": account, "email": email}))
        })
        .await;
        assert_eq!(ok, 1, "round {round}");
        assert_eq!(live_redemptions(&app, &p, &id).await, 1);
        let person = counters(&app, &p, &id, "total").await;
        assert_eq!(
            person,
            vec![(format!("redeemable:{id}|customer:email:jdoe{round}@gmail.com|redemptions|total"), 1)]
        );
    }
    // another person is not affected; a shopper without an e-mail is counted by account
    let id = code_with(&app, &p, "ONCE-OTHER", &once).await;
    for (customer, status) in [
        (json!({"source_id": "x1", "email": "x@example.com"}), StatusCode::OK),
        (json!({"source_id": "x2", "email": "X@Example.com"}), StatusCode::BAD_REQUEST),
        (json!({"source_id": "y1"}), StatusCode::OK),
        (json!({"source_id": "y1"}), StatusCode::BAD_REQUEST),
        (json!({"source_id": "y2"}), StatusCode::OK),
    ] {
        app.post(&p, "/v1/redemptions", redeem("ONCE-OTHER", customer.clone())).await.assert_status(status);
    }
    assert_eq!(live_redemptions(&app, &p, &id).await, 3);
    // a rule naming what it counts by is checked when written
    app.update_project(&p, json!({"customer_identity": "ip"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    let read = app.management(Method::GET, &format!("/management/v1/projects/{}", p.id), None).await.json();
    assert_eq!(read["customer_identity"], "email");
}

/// A value the checkout sends (a device id in the request's metadata) counts even anonymous
/// shoppers; without it, a per-customer limit needs a customer as before.
#[tokio::test]
async fn a_device_id_in_metadata_counts_anonymous_shoppers() {
    let app = TestApp::new().await;
    let p = app.project("Devices").await;
    app.update_project(&p, json!({"customer_identity": "metadata.device_id"})).await.assert_status(StatusCode::OK);
    let twice = rule(&app, &p, "redemption.count.per_customer", 2).await;
    code_with(&app, &p, "DEV2", &twice).await;
    let by = |device: &str| json!({"redeemables": [{"object": "voucher", "id": "DEV2"}], "order": {"amount": 5000}, "metadata": {"device_id": device}});
    for (device, status) in [("d-1", 200), ("d-1", 200), ("d-1", 400), ("d-2", 200)] {
        app.post(&p, "/v1/redemptions", by(device)).await.assert_status(StatusCode::from_u16(status).unwrap());
    }
    let no_device = json!({"redeemables": [{"object": "voucher", "id": "DEV2"}], "order": {"amount": 5000}});
    let e = app.post(&p, "/v1/validations", no_device).await.json();
    assert_eq!(e["valid"], false, "{e}");
}

/// Amounts are never converted: an order in another currency than the project's is refused.
#[tokio::test]
async fn an_order_in_another_currency_is_refused() {
    let app = TestApp::new().await;
    let p = app.project("Currency").await;
    voucher(&app, &p, "TEN", json!({"type": "AMOUNT", "amount_off": 1000}), None, None).await;
    let body = |currency: &str| json!({"redeemables": [{"object": "voucher", "id": "TEN"}], "order": {"amount": 5000, "currency": currency}});
    let e = app.post(&p, "/v1/redemptions", body("EUR")).await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e["details"].as_str().unwrap().contains("order.currency"), "{e}");
    app.post(&p, "/v1/validations", body("usd")).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/orders", json!({"amount": 5000, "currency": "EUR"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert_eq!(app.get(&p, "/v1/redemptions").await.json()["total"], json!(0), "nothing redeemed");
}

/// Channels and payment methods are rule subjects, read from the request's `metadata` (where the
/// official SDKs can put them); "not on X" holds when the checkout names no channel.
#[tokio::test]
async fn channel_and_payment_method_rules() {
    let app = TestApp::new().await;
    let p = app.project("Channels").await;
    let make = |name: &str, rules: Value| json!({"name": name, "rules": rules});
    let cases = [
        (
            "APPONLY",
            make(
                "app",
                json!({"1": {"name": "redemption.channel", "conditions": {"$in": ["app", "pos"]}}, "logic": "1"}),
            ),
        ),
        (
            "NOTMARKET",
            make(
                "not mp",
                json!({"1": {"name": "redemption.channel", "conditions": {"$is_not": ["marketplace"]}}, "logic": "1"}),
            ),
        ),
        (
            "CARD",
            make(
                "card",
                json!({"1": {"name": "redemption.payment_method", "conditions": {"$is": ["card"]}}, "logic": "1"}),
            ),
        ),
    ];
    for (code, body) in cases {
        let r = app.post(&p, "/v1/validation-rules", body).await;
        r.assert_status(StatusCode::OK);
        let id = r.json()["id"].as_str().unwrap().to_owned();
        voucher(&app, &p, code, json!({"type": "AMOUNT", "amount_off": 100}), None, Some(&id)).await;
    }
    let valid = async |code: &str, metadata: Value| {
        let body = json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 5000}, "metadata": metadata});
        app.post(&p, "/v1/validations", body).await.json()["valid"].as_bool().unwrap()
    };
    assert!(valid("APPONLY", json!({"channel": "app"})).await);
    assert!(!valid("APPONLY", json!({"channel": "web"})).await);
    assert!(!valid("APPONLY", json!({})).await, "a channel rule that names channels needs one");
    assert!(valid("NOTMARKET", json!({})).await, "$is_not holds when no channel is sent");
    assert!(valid("NOTMARKET", json!({"channel": "web"})).await);
    assert!(!valid("NOTMARKET", json!({"channel": "marketplace"})).await);
    assert!(valid("CARD", json!({"payment_method": "card", "channel": "web"})).await);
    assert!(!valid("CARD", json!({"payment_method": "cash"})).await);
}

/// Per-IP limits count `metadata.ip`; a storefront's claimed IP is replaced by the one the
/// service saw, so a browser cannot reset its count by lying. Without an IP the limit cannot be
/// checked, and the code is refused rather than the limit skipped.
#[tokio::test]
async fn per_ip_limits_count_the_ip_the_service_saw() {
    let app = TestApp::new().await;
    let p = app.project("Per IP").await;
    app.update_project(&p, json!({"client_trusted_domains": ["shop.example.com"], "client_redeem_enabled": true}))
        .await
        .assert_status(StatusCode::OK);
    let once = rule(&app, &p, "redemption.count.per_ip.daily", 1).await;
    let id = code_with(&app, &p, "IP1", &once).await;
    let server = |ip: Option<&str>| {
        let mut b = json!({"redeemables": [{"object": "voucher", "id": "IP1"}], "order": {"amount": 5000}});
        if let Some(ip) = ip {
            b["metadata"] = json!({"ip": ip});
        }
        b
    };
    app.post(&p, "/v1/redemptions", server(Some("203.0.113.7"))).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/redemptions", server(Some(" 203.0.113.7"))).await.assert_status(StatusCode::BAD_REQUEST);
    app.post(&p, "/v1/redemptions", server(Some("::ffff:203.0.113.7"))).await.assert_status(StatusCode::BAD_REQUEST);
    app.post(&p, "/v1/redemptions", server(Some("2001:db8:1:2::5"))).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/redemptions", server(Some("2001:db8:1:2::99"))).await.assert_status(StatusCode::BAD_REQUEST);
    app.post(&p, "/v1/redemptions", server(None)).await.assert_status(StatusCode::BAD_REQUEST);
    // a storefront: its own claims are replaced by the connection's IP
    for (spoofed, status) in [("198.51.100.1", StatusCode::OK), ("198.51.100.2", StatusCode::BAD_REQUEST)] {
        let body = json!({"redeemables": [{"object": "voucher", "id": "IP1"}], "order": {"amount": 5000},
                          "metadata": {"ip": spoofed}});
        let r = app.client_post(&p, "/client/v1/redemptions", body).await;
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    }
    let ledger = app.get(&p, "/v1/redemptions?result=SUCCESS&limit=10").await.json();
    let ips: Vec<&str> =
        ledger["redemptions"].as_array().unwrap().iter().filter_map(|r| r["metadata"]["ip"].as_str()).collect();
    assert_eq!(ips.len(), 3, "{ips:?}");
    assert!(!ips.contains(&"198.51.100.1"), "the spoofed IP is not what was stored: {ips:?}");
    assert_eq!(live_redemptions(&app, &p, &id).await, 3);
}

/// Code guessing: after `failures` checkouts naming unknown codes in one window, the customer
/// (as the request names it) and the IP are blocked — 403 `blocked` before any work, no ledger
/// row — listed and lifted through `/v1/blocks`, and recorded in the customer's activity.
#[tokio::test]
async fn a_code_guessing_shopper_is_locked_out_until_lifted() {
    let app = TestApp::new().await;
    let p = app.project("Lockout").await;
    app.update_project(&p, json!({"lockout": {"failures": 3, "window_minutes": 10, "block_minutes": 30}}))
        .await
        .assert_status(StatusCode::OK);
    app.post(&p, "/v1/customers", json!({"source_id": "guesser"})).await.assert_status(StatusCode::OK);
    voucher(&app, &p, "REAL", json!({"type": "AMOUNT", "amount_off": 100}), None, None).await;
    let attempt = |code: &str, customer: &str| {
        json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 5000},
               "customer": {"source_id": customer}})
    };
    for guess in ["AAAA1", "AAAA2", "AAAA3"] {
        let v = app.post(&p, "/v1/validations", attempt(guess, "guesser")).await;
        v.assert_status(StatusCode::OK);
        assert_eq!(v.json()["valid"], false);
    }
    // blocked now, even for a real code, before any work
    let ledger_before = app.get(&p, "/v1/redemptions").await.json()["total"].clone();
    let e = app
        .post(&p, "/v1/redemptions", attempt("REAL", "guesser"))
        .await
        .assert_error(StatusCode::FORBIDDEN, "blocked");
    assert!(e["details"].as_str().unwrap().contains("3 attempts"), "{e}");
    app.post(&p, "/v1/validations", attempt("REAL", "guesser")).await.assert_error(StatusCode::FORBIDDEN, "blocked");
    assert_eq!(app.get(&p, "/v1/redemptions").await.json()["total"], ledger_before, "no ledger row");
    // another shopper is not affected
    app.post(&p, "/v1/redemptions", attempt("REAL", "honest")).await.assert_status(StatusCode::OK);

    let blocks = app.get(&p, "/v1/blocks?active=true").await.json();
    assert_eq!(blocks["total"], 1, "{blocks}");
    let block = &blocks["data"][0];
    assert_eq!((&block["subject"]["type"], &block["subject"]["value"]), (&json!("customer"), &json!("guesser")));
    assert_eq!((&block["failures"], &block["active"]), (&json!(3), &json!(true)));
    let until = chrono::DateTime::parse_from_rfc3339(block["until"].as_str().unwrap()).unwrap();
    let minutes = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!((28..=30).contains(&minutes), "{minutes}");
    let id = block["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("blk_"));
    let activity = app.get(&p, "/v1/customers/guesser/activity?type=customer.blocked").await.json();
    assert_eq!(activity["data"][0]["id"], json!(id), "{activity}");
    assert_eq!(activity["data"][0]["data"]["block"]["subject"]["value"], "guesser");

    // lifted: the shopper checks out again, with a fresh count
    app.delete(&p, &format!("/v1/blocks/{id}")).await.assert_status(StatusCode::NO_CONTENT);
    app.post(&p, "/v1/redemptions", attempt("REAL", "guesser")).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/validations", attempt("AAAA4", "guesser")).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/validations", attempt("REAL", "guesser")).await.assert_status(StatusCode::OK);
    assert_eq!(app.get(&p, "/v1/blocks?active=true").await.json()["total"], 0);
    app.get(&p, &format!("/v1/blocks/{id}")).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    let lifted = app.get(&p, "/v1/audit-log?object_type=block").await.json();
    assert_eq!(lifted["data"][0]["action"], "lift", "{lifted}");

    // a block raised by another instance (written straight to the database) applies here within
    // a second: this instance reads the project's blocks again at most once a second
    app.post(&p, "/v1/validations", attempt("REAL", "elsewhere")).await.assert_status(StatusCode::OK);
    sqlx::query(
        "insert into lockout_block (project_id, block_id, subject, failures, until)
         values ($1, gen_random_uuid(), 'customer:elsewhere', 3, now() + interval '1 hour')",
    )
    .bind(p.uuid())
    .execute(&app.db)
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.post(&p, "/v1/validations", attempt("REAL", "elsewhere")).await.assert_error(StatusCode::FORBIDDEN, "blocked");

    // a storefront's IP is blocked whoever it names; until lifted when no duration is set
    app.update_project(
        &p,
        json!({"lockout": {"failures": 2, "window_minutes": 5}, "client_trusted_domains": ["shop.example.com"],
               "client_redeem_enabled": true}),
    )
    .await
    .assert_status(StatusCode::OK);
    for (i, status) in [(1, StatusCode::NOT_FOUND), (2, StatusCode::NOT_FOUND), (3, StatusCode::FORBIDDEN)] {
        let body = json!({"redeemables": [{"object": "voucher", "id": format!("BBBB{i}")}], "order": {"amount": 5000},
                          "customer": {"source_id": format!("visitor-{i}")}});
        let r = app.client_post(&p, "/client/v1/redemptions", body).await;
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    }
    let ip_blocks = app.get(&p, "/v1/blocks?active=true").await.json();
    let ip = ip_blocks["data"].as_array().unwrap().iter().find(|b| b["subject"]["type"] == "ip").expect("an IP block");
    assert_eq!(ip["until"], Value::Null, "until lifted");
    // settings are checked; `failures: 0` turns the lock-out off
    app.update_project(&p, json!({"lockout": {"failures": -1}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    app.update_project(&p, json!({"lockout": {"failures": 3, "every": 1}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    let off = app.update_project(&p, json!({"lockout": {"failures": 0}})).await.json();
    assert_eq!(off["lockout"], Value::Null);
    let body = json!({"redeemables": [{"object": "voucher", "id": "REAL"}], "order": {"amount": 5000}});
    app.client_post(&p, "/client/v1/redemptions", body).await.assert_status(StatusCode::OK);
}

/// The seeds' first-purchase code: `customer.orders.count` reads the customer's summary (counted
/// from the ledger and orders), so a shopper who has ordered before is refused and a new one is
/// not — once. Birthday rules read `birthdate` in the project's time zone.
#[tokio::test]
async fn first_time_buyers_and_birthdays() {
    let app = TestApp::new().await;
    let p = app.project("First and birthday").await;
    let make = |name: &str, rule: Value| json!({"name": name, "rules": {"1": rule, "logic": "1"}, "error": {"message": format!("{name} only")}});
    let first = app
        .post(
            &p,
            "/v1/validation-rules",
            make("first order", json!({"name": "customer.orders.count", "conditions": {"$is": [0]}})),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    voucher(&app, &p, "WELCOME", json!({"type": "PERCENT", "percent_off": 15}), None, Some(&first)).await;
    voucher(&app, &p, "ANY", json!({"type": "AMOUNT", "amount_off": 100}), None, None).await;
    let redeem = |code: &str, customer: Value| json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 5000}, "customer": customer});
    app.post(&p, "/v1/redemptions", redeem("ANY", json!({"source_id": "regular"}))).await.assert_status(StatusCode::OK);
    let refused = app.post(&p, "/v1/redemptions", redeem("WELCOME", json!({"source_id": "regular"}))).await;
    let e = refused.assert_error(StatusCode::BAD_REQUEST, "customer_rules_violated");
    assert!(e.to_string().contains("first order only"), "the answer says why: {e}");
    app.post(&p, "/v1/redemptions", redeem("WELCOME", json!({"source_id": "newbie"})))
        .await
        .assert_status(StatusCode::OK);
    app.post(&p, "/v1/redemptions", redeem("WELCOME", json!({"source_id": "newbie"})))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "customer_rules_violated");

    let today = chrono::Utc::now().date_naive();
    let born_today = today.with_year(1990).unwrap_or(today).to_string();
    let far = (today + chrono::Duration::days(180)).with_year(1990).unwrap_or(today).to_string();
    for (source, born) in [("bday", &born_today), ("later", &far)] {
        app.post(&p, "/v1/customers", json!({"source_id": source, "birthdate": born}))
            .await
            .assert_status(StatusCode::OK);
    }
    app.post(&p, "/v1/customers", json!({"source_id": "unknown-birthday"})).await.assert_status(StatusCode::OK);
    let week = app
        .post(
            &p,
            "/v1/validation-rules",
            make(
                "birthday week",
                json!({"name": "customer.birthday.in_days", "conditions": {"$less_than_or_equal": [7]}}),
            ),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let month = app
        .post(
            &p,
            "/v1/validation-rules",
            make("birthday month", json!({"name": "customer.birthday.this_month", "conditions": {"$is": [true]}})),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    voucher(&app, &p, "BDAYWEEK", json!({"type": "AMOUNT", "amount_off": 500}), None, Some(&week)).await;
    voucher(&app, &p, "BDAYMONTH", json!({"type": "AMOUNT", "amount_off": 500}), None, Some(&month)).await;
    let valid = async |code: &str, who: &str| {
        let body = json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 5000}, "customer": {"source_id": who}});
        app.post(&p, "/v1/validations", body).await.json()["valid"].as_bool().unwrap()
    };
    assert!(valid("BDAYWEEK", "bday").await);
    assert!(valid("BDAYMONTH", "bday").await);
    assert!(!valid("BDAYWEEK", "later").await);
    assert!(!valid("BDAYMONTH", "later").await);
    assert!(!valid("BDAYWEEK", "unknown-birthday").await, "no birthdate: the rule cannot hold");
}
