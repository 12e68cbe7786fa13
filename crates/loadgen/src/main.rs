//! `promo-loadgen`: the checkout load benchmark (see `scripts/load.sh`, which starts a release
//! server and runs this against it).
//!
//! Open loop: requests are sent on a fixed schedule whatever the server does, and each latency is
//! measured from the request's *scheduled* time, so a stalled server shows up in the tail instead
//! of slowing the generator down (no coordinated omission). Saturation is measured closed loop
//! (a fixed number of clients sending back to back). Every figure comes with the same figure for
//! a baseline measured in the same run: the server's `/health/live`.
//!
//! Environment: `PROMO_URL`, `PROMO_MANAGEMENT_ID`/`_TOKEN`, `LOAD_SECONDS` (per step, 10);
//! `LOAD_ONLY=validate|qualify|redeem|hot` runs one closed-loop step (for profiling);
//! `LOAD_OPEN=redeem@1000` one open-loop step (`LOAD_TIMELINE=1` prints the slow stretches);
//! `Q_LIMIT` the qualification page size (5); `LOAD_SETTLE` a command run after the warm-up.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Most requests in flight in an open-loop run; beyond it a request counts as dropped.
const MAX_IN_FLIGHT: u64 = 4096;

/// Most connections an open-loop run opens, as a shop's application servers would: a request
/// waits for one (its latency still counts from its scheduled time) instead of opening yet
/// another, which under a burst overflowed the server's accept queue.
const MAX_CONNECTIONS: usize = 512;

#[derive(Clone)]
struct Target {
    method: Method,
    path: String,
    body: Option<Bytes>,
    headers: Vec<(&'static str, String)>,
}

#[derive(Default)]
struct Stats {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<u16, u64>,
    /// latencies of 429 answers (refused fast?)
    refused_us: Vec<u64>,
    dropped: u64,
    elapsed: Duration,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.latencies_us.extend(other.latencies_us);
        self.refused_us.extend(other.refused_us);
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.dropped += other.dropped;
    }

    fn percentile(v: &mut [u64], p: f64) -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i] as f64 / 1000.0
    }

    fn p(&mut self, p: f64) -> f64 {
        Self::percentile(&mut self.latencies_us, p)
    }

    fn throughput(&self, status: u16) -> f64 {
        *self.statuses.get(&status).unwrap_or(&0) as f64 / self.elapsed.as_secs_f64()
    }

    fn total(&self) -> u64 {
        self.statuses.values().sum()
    }
}

async fn send(client: &HttpClient, base: &str, t: &Target) -> Result<(u16, Bytes), String> {
    let mut req = Request::builder().method(t.method.clone()).uri(format!("{base}{}", t.path));
    for (k, v) in &t.headers {
        req = req.header(*k, v);
    }
    if t.body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(Full::new(t.body.clone().unwrap_or_default())).map_err(|e| e.to_string())?;
    let res = client.request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body))
}

async fn call(client: &HttpClient, base: &str, t: Target) -> Value {
    let (status, body) = send(client, base, &t).await.unwrap_or_else(|e| panic!("{} {}: {e}", t.method, t.path));
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert!((200..300).contains(&status), "{} {} → {status}: {v}", t.method, t.path);
    v
}

/// Open loop at `rate` requests per second for `duration`; `make(i)` builds request `i`.
async fn open_loop(
    client: &HttpClient,
    base: &str,
    rate: f64,
    duration: Duration,
    make: Arc<dyn Fn(u64) -> Target + Send + Sync>,
) -> Stats {
    let total = (rate * duration.as_secs_f64()) as u64;
    let start = Instant::now() + Duration::from_millis(50);
    let in_flight = Arc::new(AtomicU64::new(0));
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut handles = Vec::with_capacity(total as usize);
    let mut dropped = 0;
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
            dropped += 1;
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (client, base, make, in_flight) = (client.clone(), base.to_owned(), make.clone(), in_flight.clone());
        let connections = connections.clone();
        handles.push(tokio::spawn(async move {
            let t = make(i);
            let _connection = connections.acquire_owned().await;
            let result = send(&client, &base, &t).await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            // from the scheduled time, not the send time
            (result.map(|r| r.0).unwrap_or(0), due.elapsed().as_micros() as u64)
        }));
    }
    let mut stats = Stats { dropped, ..Stats::default() };
    for h in handles {
        if let Ok((status, us)) = h.await {
            *stats.statuses.entry(status).or_default() += 1;
            stats.latencies_us.push(us);
        }
    }
    stats.elapsed = start.elapsed();
    stats
}

/// `clients` senders back to back for `duration`.
async fn closed_loop(
    client: &HttpClient,
    base: &str,
    clients: usize,
    duration: Duration,
    make: Arc<dyn Fn(u64) -> Target + Send + Sync>,
) -> Stats {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..clients {
        let (client, base, make, counter) = (client.clone(), base.to_owned(), make.clone(), counter.clone());
        handles.push(tokio::spawn(async move {
            let mut s = Stats::default();
            while start.elapsed() < duration {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let t = make(i);
                let sent = Instant::now();
                let status = send(&client, &base, &t).await.map(|r| r.0).unwrap_or(0);
                let us = sent.elapsed().as_micros() as u64;
                *s.statuses.entry(status).or_default() += 1;
                if status == 429 {
                    s.refused_us.push(us);
                } else {
                    s.latencies_us.push(us);
                }
            }
            s
        }));
    }
    let mut stats = Stats::default();
    for h in handles {
        if let Ok(s) = h.await {
            stats.merge(s);
        }
    }
    stats.elapsed = start.elapsed();
    stats
}

/// The first 1,000 requests of a scenario, built once: the bodies repeat with that period (1,000
/// customers, 200 codes, 50 carts), and building JSON per request took the generator's share of
/// the 2 cores the server runs on.
fn precomputed(make: impl Fn(u64) -> Target) -> Arc<dyn Fn(u64) -> Target + Send + Sync> {
    const PERIOD: u64 = 1000;
    let targets: Vec<Target> = (0..PERIOD).map(make).collect();
    Arc::new(move |i| targets[(i % PERIOD) as usize].clone())
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

struct Fixture {
    app: Vec<(&'static str, String)>,
    tier: String,
    codes: Vec<String>,
    hot_code: String,
}

fn app_target(app: &[(&'static str, String)], method: Method, path: &str, body: Value) -> Target {
    Target { method, path: path.to_owned(), body: Some(Bytes::from(body.to_string())), headers: app.to_vec() }
}

/// The benchmark project's settings: `LOAD_PROJECT_SETTINGS` (a JSON object, e.g. to turn the
/// guardrails on) merged into `{"name": "load benchmark"}`.
fn project_settings() -> Value {
    let mut body = json!({"name": "load benchmark"});
    if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(&env("LOAD_PROJECT_SETTINGS", "{}"))
        && let Some(o) = body.as_object_mut()
    {
        o.extend(extra);
    }
    body
}

/// A project with 100 active promotion tiers (spend thresholds and product-scoped ones),
/// 200 codes with a large quantity, and one hot code.
async fn setup(client: &HttpClient, base: &str) -> Fixture {
    let mgmt = vec![
        ("x-management-id", env("PROMO_MANAGEMENT_ID", "")),
        ("x-management-token", env("PROMO_MANAGEMENT_TOKEN", "")),
    ];
    let project = call(
        client,
        base,
        Target {
            method: Method::POST,
            path: "/management/v1/projects".into(),
            body: Some(Bytes::from(project_settings().to_string())),
            headers: mgmt,
        },
    )
    .await;
    let key = &project["server_side_key"];
    let app = vec![
        ("x-app-id", key["app_id"].as_str().unwrap_or_default().to_owned()),
        ("x-app-token", key["app_token"].as_str().unwrap_or_default().to_owned()),
    ];
    let mut rules = Vec::new();
    for i in 0..10 {
        let r = call(client, base, app_target(&app, Method::POST, "/v1/validation-rules", json!({
            "name": format!("spend {i}"),
            "rules": {"1": {"name": "order.amount", "conditions": {"$more_than_or_equal": [1000 * (i + 1)]}}, "logic": "1"},
        })))
        .await;
        rules.push(r["id"].as_str().unwrap_or_default().to_owned());
    }
    let mut first_tier = String::new();
    for c in 0..10 {
        let tiers: Vec<Value> = (0..10)
            .map(|t| {
                json!({"name": format!("tier {c}.{t}"), "validation_rules": [rules[(c + t) % 10]],
                       "action": {"discount": {"type": "PERCENT", "percent_off": 1 + t}}})
            })
            .collect();
        let camp = call(
            client,
            base,
            app_target(
                &app,
                Method::POST,
                "/v1/campaigns",
                json!({
                    "name": format!("promotion {c}"), "campaign_type": "PROMOTION", "promotion": {"tiers": tiers},
                }),
            ),
        )
        .await;
        if first_tier.is_empty() {
            first_tier = camp["promotion"]["tiers"][0]["id"].as_str().unwrap_or_default().to_owned();
        }
    }
    let mut codes = Vec::new();
    for i in 0..200 {
        let code = format!("LOAD-{i:03}");
        call(client, base, app_target(&app, Method::POST, &format!("/v1/vouchers/{code}"), json!({
            "type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 500}, "redemption": {"quantity": 1_000_000_000},
        })))
        .await;
        codes.push(code);
    }
    let hot_code = "HOT".to_owned();
    call(client, base, app_target(&app, Method::POST, "/v1/vouchers/HOT", json!({
        "type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100}, "redemption": {"quantity": 1_000_000_000},
    })))
    .await;
    Fixture { app, tier: first_tier, codes, hot_code }
}

fn cart(i: u64) -> Value {
    let items: Vec<Value> = (0..5)
        .map(
            |l| json!({"product_id": format!("prod_{}", (i + l) % 50), "quantity": 1 + l % 3, "price": 1500 + 100 * l}),
        )
        .collect();
    json!({"items": items})
}

/// With `LOAD_TIMELINE`, the 100 ms stretches of an open-loop step whose slowest request took
/// over 10 ms (latencies are in schedule order).
fn timeline(name: &str, s: &Stats, rate: f64) {
    if std::env::var("LOAD_TIMELINE").is_err() {
        return;
    }
    let per_bucket = (rate / 10.0).max(1.0) as usize;
    for (i, bucket) in s.latencies_us.chunks(per_bucket).enumerate() {
        let worst = bucket.iter().copied().max().unwrap_or(0);
        if worst > 10_000 {
            let slow = bucket.iter().filter(|us| **us > 10_000).count();
            eprintln!("{name}: t={:.1}s worst {:.1} ms, {slow} over 10 ms", i as f64 / 10.0, worst as f64 / 1000.0);
        }
    }
}

fn row(name: &str, s: &mut Stats, base: &mut Stats) -> String {
    let (p50, p99, b50, b99) = (s.p(0.5), s.p(0.99), base.p(0.5), base.p(0.99));
    format!(
        "| {name} | {:.0} | {p50:.2} | {p99:.2} | {b99:.2} | {:.1}× | {} | {} |",
        s.total() as f64 / s.elapsed.as_secs_f64(),
        p99 / b99,
        s.statuses.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(" "),
        if s.dropped > 0 { format!("{} dropped", s.dropped) } else { format!("base p50 {b50:.2}") },
    )
}

#[tokio::main]
async fn main() {
    let base = env("PROMO_URL", "http://127.0.0.1:18182");
    let secs: u64 = env("LOAD_SECONDS", "10").parse().unwrap_or(10);
    let duration = Duration::from_secs(secs);
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(4096).build_http();
    let f = Arc::new(setup(&client, &base).await);
    eprintln!("fixture ready: 100 tiers, 200 codes; {secs} s per step");

    let health: Arc<dyn Fn(u64) -> Target + Send + Sync> =
        Arc::new(|_| Target { method: Method::GET, path: "/health/live".into(), body: None, headers: vec![] });
    let fv = f.clone();
    let validate = precomputed(move |i| {
        let code = &fv.codes[(i % fv.codes.len() as u64) as usize];
        app_target(
            &fv.app,
            Method::POST,
            "/v1/validations",
            json!({
                "redeemables": [{"object": "voucher", "id": code}, {"object": "promotion_tier", "id": fv.tier}],
                "order": cart(i), "customer": {"source_id": format!("c{}", i % 1000)},
            }),
        )
    });
    let fq = f.clone();
    let qualify = precomputed(move |i| {
        app_target(
            &fq.app,
            Method::POST,
            "/v1/qualifications",
            json!({
                "order": cart(i), "customer": {"source_id": format!("c{}", i % 1000)}, "options": {"limit": std::env::var("Q_LIMIT").ok().and_then(|l| l.parse::<i64>().ok()).unwrap_or(5), "sorting_rule": "BEST_DEAL"},
            }),
        )
    });
    let fr = f.clone();
    let redeem = precomputed(move |i| {
        let code = &fr.codes[(i % fr.codes.len() as u64) as usize];
        app_target(
            &fr.app,
            Method::POST,
            "/v1/redemptions",
            json!({
                "redeemables": [{"object": "voucher", "id": code}],
                "order": cart(i), "customer": {"source_id": format!("c{}", i % 1000)},
            }),
        )
    });
    // every redemption of one promotion tier (and campaign): their figures must not serialise them
    let ft = f.clone();
    let tier = precomputed(move |i| {
        app_target(
            &ft.app,
            Method::POST,
            "/v1/redemptions",
            json!({
                "redeemables": [{"object": "promotion_tier", "id": ft.tier}],
                "order": cart(i), "customer": {"source_id": format!("c{}", i % 1000)},
            }),
        )
    });
    let fh = f.clone();
    let hot = precomputed(move |i| {
        app_target(
            &fh.app,
            Method::POST,
            "/v1/redemptions",
            json!({
                "redeemables": [{"object": "voucher", "id": fh.hot_code}], "order": cart(i),
            }),
        )
    });

    // warm up: connections, caches, and the 1,000 customers and 200 counters the redemptions
    // create on first use (a shop in steady state has them)
    closed_loop(&client, &base, 8, Duration::from_secs(1), validate.clone()).await;
    closed_loop(&client, &base, 8, Duration::from_secs(1), qualify.clone()).await;
    closed_loop(&client, &base, 8, Duration::from_secs(2), redeem.clone()).await;
    // `LOAD_SETTLE`: a shell command run once the warm-up has written its customers and
    // redemptions (scripts/load.sh vacuums, analyzes and checkpoints the database), so the first
    // step does not meet the first autovacuum and checkpoint of a database seconds old.
    if let Ok(cmd) = std::env::var("LOAD_SETTLE") {
        let status = std::process::Command::new("sh").arg("-c").arg(&cmd).status();
        assert!(status.is_ok_and(|s| s.success()), "LOAD_SETTLE failed: {cmd}");
    }

    // one open-loop step only: LOAD_OPEN=redeem@1000
    if let Ok(spec) = std::env::var("LOAD_OPEN") {
        let (name, rate) = spec.split_once('@').unwrap_or((spec.as_str(), "1000"));
        let make = match name {
            "validate" => validate,
            "qualify" => qualify,
            _ => redeem,
        };
        let rate: f64 = rate.parse().unwrap_or(1000.0);
        let mut s = open_loop(&client, &base, rate, duration, make).await;
        if std::env::var("LOAD_TIMELINE").is_ok() {
            // latencies are in schedule order: show the slow stretches
            for (i, us) in s.latencies_us.iter().enumerate().filter(|(_, us)| **us > 50_000).step_by(25) {
                eprintln!("t={:.3}s latency {:.1} ms", i as f64 / rate, *us as f64 / 1000.0);
            }
        }
        println!(
            "{spec}: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, {:?}",
            s.p(0.5),
            s.p(0.99),
            s.p(0.999),
            s.statuses
        );
        return;
    }
    // one scenario only, closed loop (for profiling the server): LOAD_ONLY=validate|qualify|redeem|tier|hot
    if let Ok(only) = std::env::var("LOAD_ONLY") {
        let make = match only.as_str() {
            "validate" => validate,
            "qualify" => qualify,
            "redeem" => redeem,
            "tier" => tier,
            _ => hot,
        };
        let mut s = closed_loop(&client, &base, 32, duration, make).await;
        println!(
            "{only}: {:.0} req/s ok, p50 {:.2} ms, p99 {:.2} ms, {:?}",
            s.throughput(200),
            s.p(0.5),
            s.p(0.99),
            s.statuses
        );
        return;
    }

    println!("| open loop | rate req/s | p50 ms | p99 ms | baseline p99 ms | p99 ratio | statuses | note |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut base2000 = open_loop(&client, &base, 2000.0, duration, health.clone()).await;
    let mut v = open_loop(&client, &base, 2000.0, duration, validate.clone()).await;
    timeline("validate", &v, 2000.0);
    println!("{}", row("validate (voucher + tier, 5 lines) @2000/s", &mut v, &mut base2000));
    let mut q = open_loop(&client, &base, 2000.0, duration, qualify.clone()).await;
    timeline("qualify", &q, 2000.0);
    println!("{}", row("qualify (100 promotions) @2000/s", &mut q, &mut base2000));
    let mut base1000 = open_loop(&client, &base, 1000.0, duration, health.clone()).await;
    let mut r = open_loop(&client, &base, 1000.0, duration, redeem.clone()).await;
    timeline("redeem", &r, 1000.0);
    println!("{}", row("redeem (200 codes, customer upsert) @1000/s", &mut r, &mut base1000));

    println!();
    println!("| saturation (32 clients, closed loop) | req/s | p50 ms | p99 ms | ratio to /health/live |");
    println!("|---|---|---|---|---|");
    let mut hs = closed_loop(&client, &base, 32, duration, health.clone()).await;
    let h_rate = hs.total() as f64 / hs.elapsed.as_secs_f64();
    println!("| /health/live | {h_rate:.0} | {:.2} | {:.2} | 1.00 |", hs.p(0.5), hs.p(0.99));
    for (name, make) in [("validate", validate.clone()), ("qualify", qualify.clone()), ("redeem", redeem.clone())] {
        let mut s = closed_loop(&client, &base, 32, duration, make).await;
        let rate = s.throughput(200);
        println!("| {name} | {rate:.0} | {:.2} | {:.2} | {:.3} |", s.p(0.5), s.p(0.99), rate / h_rate);
    }

    println!();
    let mut s = closed_loop(&client, &base, 64, duration, hot).await;
    let refused_p99 = Stats::percentile(&mut s.refused_us, 0.99);
    let ok_p99 = s.p(0.99);
    println!(
        "hot code, 64 clients back to back: {:.0} redemptions/s; statuses {:?}; p99 of successes {:.2} ms; p99 of 429 refusals {refused_p99:.2} ms",
        s.throughput(200),
        s.statuses,
        ok_p99
    );
}
