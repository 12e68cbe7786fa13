//! Hostile input, broken rows, the error contract at the edge, CORS, rate limits, metrics and
//! two instances on one database.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

fn voucher(amount_off: i64) -> Value {
    json!({"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": amount_off}})
}

fn validation(code: &str) -> Value {
    json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 5000}})
}

async fn count(app: &TestApp, p: &Project, path: &str, list: &str) -> usize {
    let r = app.get(p, path).await;
    r.assert_status(StatusCode::OK);
    r.json()[list].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn hostile_values_are_refused_naming_the_property_and_write_nothing() {
    let app = TestApp::new().await;
    let p = app.project("hostile").await;
    app.post(&p, "/v1/vouchers/SAFE", voucher(500)).await.assert_status(StatusCode::OK);
    let many_keys: serde_json::Map<String, Value> = (0..101).map(|i| (format!("k{i}"), json!(i))).collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/v1/customers", json!({"source_id": "a\u{0}b"}), "Property .source_id must not contain NUL"),
        (
            "/v1/customers",
            json!({"source_id": "c", "metadata": {"x": 1.797_693_134_862_315_7e308}}),
            "Property .metadata.x must be a number",
        ),
        (
            "/v1/customers",
            json!({"source_id": "c", "metadata": many_keys}),
            "Property .metadata has more than 100 keys",
        ),
        (
            "/v1/customers",
            json!({"source_id": "c", "metadata": {"x": "y".repeat(6000)}}),
            "Property .metadata.x is longer than 5000",
        ),
        ("/v1/products", json!({"name": "p", "metadata": {"x": -1e300}}), "Property .metadata.x must be a number"),
        (
            "/v1/campaigns",
            json!({"name": "n\u{0}", "type": "AUTO_UPDATE", "voucher": voucher(1)}),
            "Property .name must not contain NUL",
        ),
        (
            "/v1/campaigns",
            json!({"name": "pct", "type": "AUTO_UPDATE",
            "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "PERCENT", "percent_off": "10"}}}),
            "percent_off",
        ),
        (
            "/v1/campaigns",
            json!({"name": "far", "type": "AUTO_UPDATE", "expiration_date": "+99999-01-01T00:00:00Z", "voucher": voucher(1)}),
            "expiration_date",
        ),
        (
            "/v1/validation-rules",
            json!({"name": "r", "error": {"message": 1e308}}),
            "Property .error.message must be a number",
        ),
        ("/v1/validation-rules", json!({"name": "r", "error": 7}), "Property .error must be an object"),
        ("/v1/validation-rules", json!({"name": "r", "context_type": "anything"}), "Property .context_type `anything`"),
        (
            "/v1/validations",
            json!({"redeemables": [{"object": "voucher", "id": "SAFE"}], "order": {"amount": 5000},
            "customer": {"source_id": "x\u{0}"}}),
            "Property .customer.source_id must not contain NUL",
        ),
        (
            "/v1/redemptions",
            json!({"redeemables": [{"object": "voucher", "id": "SAFE"}], "order": {"amount": 5000},
            "metadata": {"x": 1e-20}}),
            "Property .metadata.x must be a number",
        ),
    ];
    for (path, body, expected) in cases {
        let r = app.post(&p, path, body.clone()).await;
        let e = r.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
        let details = e["details"].as_str().unwrap_or_default();
        assert!(details.contains(expected), "{path} {body}: {details}");
    }
    // the same checks hold on a raw body (a float beyond a double is not even JSON we accept)
    let r = app.post(&p, "/v1/customers", json!("RAW:{\"source_id\": \"c\", \"metadata\": {\"x\": 1e400}}")).await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    let r = app.get(&p, "/v1/vouchers/A%00B").await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    let r = app.get(&p, "/v1/customers?limit=1%00").await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    // nothing was written, and the project serves
    assert_eq!(count(&app, &p, "/v1/customers", "customers").await, 0);
    assert_eq!(count(&app, &p, "/v1/products", "products").await, 0);
    assert_eq!(count(&app, &p, "/v1/campaigns", "campaigns").await, 0);
    assert_eq!(count(&app, &p, "/v1/validation-rules", "data").await, 0);
    let v = app.post(&p, "/v1/validations", validation("SAFE")).await;
    v.assert_status(StatusCode::OK);
    assert_eq!(v.json()["valid"], true);
}

#[tokio::test]
async fn a_percent_formula_beyond_100_gives_what_the_static_value_allows() {
    let app = TestApp::new().await;
    let p = app.project("formula bounds").await;
    let body = json!({"type": "DISCOUNT_VOUCHER",
        "discount": {"type": "PERCENT", "percent_off": 10, "percent_off_formula": "10000"}});
    app.post(&p, "/v1/vouchers/F1", body).await.assert_status(StatusCode::OK);
    let v = app.post(&p, "/v1/validations", validation("F1")).await.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["order"]["total_discount_amount"], 500, "10% of 5000, not 100%: {v}");
}

#[tokio::test]
async fn rows_broken_in_the_database_leave_the_project_serving() {
    let app = TestApp::new().await;
    let p = app.project("broken rows").await;
    app.post(&p, "/v1/vouchers/OK10", voucher(1000)).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/vouchers/BROKEN", voucher(100)).await.assert_status(StatusCode::OK);
    app.post(&p, "/v1/customers", json!({"source_id": "ann", "metadata": {"x": 1}}))
        .await
        .assert_status(StatusCode::OK);
    let rule = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "big", "rules": {"1": {"name": "order.amount",
            "conditions": {"$more_than": [1]}}, "logic": "1"}}),
        )
        .await
        .json();
    let rule_id = rule["id"].as_str().unwrap().to_owned();
    app.post(&p, &format!("/v1/validation-rules/{rule_id}/assignments"), json!({"voucher": "OK10"}))
        .await
        .assert_status(StatusCode::OK);
    // what a float written before the edge checks (or a hand edit) leaves behind
    let project = p.uuid();
    for sql in [
        "update customer set doc = jsonb_set(doc, '{metadata,x}', '1.7976931348623157e308'::jsonb) where project_id = $1",
        "update validation_rule set doc = jsonb_set(doc, '{error}', '{\"message\": 1e400}'::jsonb) where project_id = $1",
        "update voucher set doc = jsonb_set(doc, '{metadata}', '{\"x\": 1e400}'::jsonb) where project_id = $1 and code = 'OK10'",
        "update voucher set doc = jsonb_set(doc, '{discount}', '\"garbage\"'::jsonb) where project_id = $1 and code = 'BROKEN'",
    ] {
        sqlx::query(sql).bind(project).execute(&app.db).await.expect(sql);
    }
    assert_eq!(count(&app, &p, "/v1/customers", "customers").await, 1);
    assert_eq!(count(&app, &p, "/v1/vouchers", "vouchers").await, 2);
    assert_eq!(count(&app, &p, "/v1/validation-rules", "data").await, 1);
    let c = app.get(&p, "/v1/customers/ann").await;
    c.assert_status(StatusCode::OK);
    assert_eq!(c.json()["metadata"]["x"], Value::Null, "an unreadable number reads as null");
    let v = app.post(&p, "/v1/validations", validation("OK10")).await;
    v.assert_status(StatusCode::OK);
    let v = v.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["order"]["total_discount_amount"], 1000);
    let q =
        app.post(&p, "/v1/qualifications", json!({"order": {"amount": 5000}, "customer": {"source_id": "ann"}})).await;
    q.assert_status(StatusCode::OK);
    // the voucher whose discount no longer compiles is inapplicable, not an error
    let b = app.post(&p, "/v1/validations", validation("BROKEN")).await;
    b.assert_status(StatusCode::OK);
    assert_eq!(b.json()["valid"], false);
    // and everything broken can be fixed or deleted through the API
    app.put(&p, "/v1/vouchers/BROKEN", json!({"discount": {"type": "AMOUNT", "amount_off": 100}}))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(app.post(&p, "/v1/validations", validation("BROKEN")).await.json()["valid"], true);
    app.delete(&p, &format!("/v1/validation-rules/{rule_id}")).await;
    app.delete(&p, "/v1/customers/ann").await.assert_status(StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn every_error_status_carries_the_json_body() {
    let app = TestApp::new().await;
    let p = app.project("edge errors").await;
    let e = app.get(&p, "/v1/vouchers/A%FFB").await.assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
    assert!(e["details"].as_str().unwrap().contains("UTF-8"), "{e}");
    app.get(&p, "/v1/no-such-thing").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.request(Method::PATCH, "/v1/customers", Auth::App(&p), None)
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let e = app.get(&Project { token: "wrong".into(), ..p.clone() }, "/v1/customers").await;
    let e = e.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(e["details"].as_str().unwrap().contains("X-App-Token"), "{e}");
    // refused before its body was read: the connection cannot carry another request, and says so
    let r = app.post(&Project { token: "wrong".into(), ..p.clone() }, "/v1/customers", json!({"source_id": "x"})).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(r.headers.get("connection").map(|v| v.to_str().unwrap()), Some("close"));
    let r = app.post(&p, "/v1/customers", json!({"source_id": "read"})).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.headers.get("connection"), None, "a body that was read keeps the connection");
    let big = json!(format!("RAW:{{\"name\": \"{}\"}}", "x".repeat(1 << 20)));
    app.post(&p, "/v1/customers", big).await.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "query_too_large");
    // a request slower than the timeout (its body never arrives): 408 with the body
    let slow = TestApp::with_config(2, |c| c.request_timeout = std::time::Duration::from_millis(100)).await;
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/customers")
        .header("x-app-id", &p.app_id)
        .header("x-app-token", &p.token)
        .header("content-type", "application/json")
        .body(axum::body::Body::new(NeverEnds))
        .unwrap();
    let e = slow.send(req).await.assert_error(StatusCode::REQUEST_TIMEOUT, "request_timeout").clone();
    assert!(e["details"].is_string(), "{e}");
}

/// A request body that never sends anything.
struct NeverEnds;

impl hyper::body::Body for NeverEnds {
    type Data = hyper::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

fn client_headers<'a>(p: &'a Project, origin: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("x-client-application-id", &p.client_app_id), ("x-client-token", &p.client_token), ("origin", origin)]
}

#[tokio::test]
async fn the_client_api_answers_browsers_with_cors_for_trusted_origins_only() {
    let app = TestApp::new().await;
    let p = app.project("cors").await;
    app.update_project(
        &p,
        json!({"client_trusted_domains": ["shop.example.com", "http://localhost:3000", "*.example.org"]}),
    )
    .await
    .assert_status(StatusCode::OK);
    app.post(&p, "/v1/vouchers/WEB5", voucher(500)).await.assert_status(StatusCode::OK);
    // a preflight carries no credentials: answered, origin echoed, credentials allowed
    let pre = app
        .request(
            Method::OPTIONS,
            "/client/v1/validations",
            Auth::Raw(vec![
                ("origin", "https://shop.example.com"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "x-client-application-id, x-client-token, content-type"),
            ]),
            None,
        )
        .await;
    pre.assert_status(StatusCode::NO_CONTENT);
    let h = |r: &TestResponse, name: &str| r.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(h(&pre, "access-control-allow-origin").as_deref(), Some("https://shop.example.com"));
    assert_eq!(h(&pre, "access-control-allow-credentials").as_deref(), Some("true"));
    assert!(h(&pre, "access-control-allow-headers").unwrap().contains("x-client-token"));
    assert!(h(&pre, "access-control-allow-methods").unwrap().contains("POST"));
    // trusted origins get the answer and the CORS headers, case-insensitive host, exact scheme and port
    for origin in
        ["https://shop.example.com", "https://SHOP.example.com", "http://localhost:3000", "https://a.example.org"]
    {
        let r = app
            .request(
                Method::POST,
                "/client/v1/validations",
                Auth::Raw(client_headers(&p, origin)),
                Some(validation("WEB5")),
            )
            .await;
        r.assert_status(StatusCode::OK);
        assert_eq!(h(&r, "access-control-allow-origin").as_deref(), Some(origin));
        assert_eq!(h(&r, "access-control-allow-credentials").as_deref(), Some("true"));
    }
    // others are refused, and without a header that would let the page read the answer
    for origin in [
        "http://shop.example.com",
        "https://shop.example.com:8443",
        "http://a.example.org",
        "https://evil.io",
        "https://example.org",
    ] {
        let r = app
            .request(
                Method::POST,
                "/client/v1/validations",
                Auth::Raw(client_headers(&p, origin)),
                Some(validation("WEB5")),
            )
            .await;
        r.assert_error(StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(h(&r, "access-control-allow-origin"), None, "{origin}");
    }
    // error answers to trusted pages carry the headers too (the page can read why)
    let mut bad = client_headers(&p, "https://shop.example.com");
    bad[1].1 = "wrong";
    let r = app.request(Method::POST, "/client/v1/validations", Auth::Raw(bad), Some(validation("WEB5"))).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(h(&r, "access-control-allow-origin").as_deref(), Some("https://shop.example.com"));
    // server-side endpoints never answer browsers
    let r =
        app.request(Method::GET, "/v1/customers", Auth::Raw(vec![("origin", "https://shop.example.com")]), None).await;
    assert_eq!(h(&r, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn the_legacy_client_endpoints_answer_in_their_documented_shapes() {
    let app = TestApp::new().await;
    let p = app.project("legacy").await;
    app.update_project(&p, json!({"client_trusted_domains": ["shop.example.com"], "client_redeem_enabled": true}))
        .await
        .assert_status(StatusCode::OK);
    app.post(&p, "/v1/vouchers/OLD10", voucher(1000)).await.assert_status(StatusCode::OK);
    let origin = "https://shop.example.com";
    let get = |q: &'static str| {
        let headers = client_headers(&p, origin);
        let app = &app;
        async move { app.request(Method::GET, &format!("/client/v1/validate?{q}"), Auth::Raw(headers), None).await }
    };
    let v = get("code=OLD10&amount=2500&item[0][product_id]=prod_x&item[0][quantity]=1&item[0][price]=2500&customer[source_id]=web-1&metadata[lang]=en").await;
    v.assert_status(StatusCode::OK);
    let v = v.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["code"], "OLD10");
    assert_eq!(v["discount"]["amount_off"], 1000, "{v}");
    assert_eq!(v["order"]["total_discount_amount"], 1000, "{v}");
    let bad = get("code=NOPE&amount=2500").await;
    bad.assert_status(StatusCode::OK);
    let bad = bad.json();
    assert_eq!(bad["valid"], false, "{bad}");
    assert!(bad["reason"].is_string(), "{bad}");
    get("amount=1").await.assert_error(StatusCode::BAD_REQUEST, "invalid_query_params");
    let r = app
        .request(
            Method::POST,
            "/client/v1/redeem?code=OLD10",
            Auth::Raw(client_headers(&p, origin)),
            Some(json!({"order": {"amount": 2500}, "customer": {"source_id": "web-1"}})),
        )
        .await;
    r.assert_status(StatusCode::OK);
    let r = r.json();
    assert_eq!(r["result"], "SUCCESS", "{r}");
    assert_eq!(r["object"], "redemption", "{r}");
    let voucher = app.get(&p, "/v1/vouchers/OLD10").await.json();
    assert_eq!(voucher["redemption"]["redeemed_quantity"], 1, "{voucher}");
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_ratelimit_headers() {
    let app = TestApp::new().await;
    let p = app.project("limited").await;
    let r = app.update_project(&p, json!({"rate_limits": {"server_per_second": 3}})).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["rate_limits"]["server_per_second"], 3);
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let r = app.get(&p, "/v1/customers").await;
        statuses.push(r.status.as_u16());
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    let r = limited.expect("a 429");
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    for header in ["retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
        assert!(r.headers.contains_key(header), "{header} missing: {:?}", r.headers);
    }
    assert_eq!(r.headers["ratelimit-limit"], "3");
    // another project is not affected
    let other = app.project("unlimited").await;
    app.get(&other, "/v1/customers").await.assert_status(StatusCode::OK);
    // limits are checked values
    app.update_project(&p, json!({"rate_limits": {"server_per_second": 0}}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_payload");
}

#[tokio::test]
async fn a_storefront_guessing_codes_is_locked_out() {
    let app = TestApp::new().await;
    let p = app.project("guessing").await;
    app.update_project(
        &p,
        json!({"client_trusted_domains": ["shop.example.com"], "rate_limits": {"unknown_codes_per_minute": 3}}),
    )
    .await
    .assert_status(StatusCode::OK);
    app.post(&p, "/v1/vouchers/REAL", voucher(100)).await.assert_status(StatusCode::OK);
    let try_code = |code: String| {
        let headers = client_headers(&p, "https://shop.example.com");
        let app = &app;
        async move { app.request(Method::POST, "/client/v1/validations", Auth::Raw(headers), Some(validation(&code))).await }
    };
    // real codes do not count
    for _ in 0..5 {
        try_code("REAL".into()).await.assert_status(StatusCode::OK);
    }
    for i in 0..3 {
        let r = try_code(format!("GUESS-{i}")).await;
        r.assert_status(StatusCode::OK);
        assert_eq!(r.json()["valid"], false);
    }
    // the fourth unknown code in a minute is refused itself (its answer would tell), and then
    // the IP is, even for a real code
    let r = try_code("GUESS-3".into()).await;
    let e = r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(e["details"].as_str().unwrap().contains("unknown codes"), "{e}");
    assert!(r.headers.contains_key("retry-after"));
    try_code("REAL".into()).await.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // many guesses in one checkout are no way around it
    let q = app.project("guessing in bulk").await;
    app.update_project(
        &q,
        json!({"client_trusted_domains": ["shop.example.com"], "rate_limits": {"unknown_codes_per_minute": 3}}),
    )
    .await
    .assert_status(StatusCode::OK);
    let bulk: Vec<Value> = (0..5).map(|i| json!({"object": "voucher", "id": format!("BULK-{i}")})).collect();
    app.request(
        Method::POST,
        "/client/v1/validations",
        Auth::Raw(client_headers(&q, "https://shop.example.com")),
        Some(json!({"redeemables": bulk, "order": {"amount": 100}})),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // the server-side API (the shop's own backend) is not locked out
    app.post(&p, "/v1/validations", validation("REAL")).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_status() {
    let app = TestApp::new().await;
    let p = app.project("metrics").await;
    app.post(&p, "/v1/vouchers/M1", voucher(100)).await.assert_status(StatusCode::OK);
    app.get(&p, "/v1/customers").await.assert_status(StatusCode::OK);
    app.post(
        &p,
        "/v1/redemptions",
        json!({"redeemables": [{"object": "voucher", "id": "M1"}], "order": {"amount": 500}}),
    )
    .await
    .assert_status(StatusCode::OK);
    let brew = Method::from_bytes(b"BREWCOFFEE").unwrap();
    app.request(brew, "/health/live", Auth::None, None)
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let r = app.request(Method::GET, "/metrics", Auth::None, None).await;
    r.assert_status(StatusCode::OK);
    let text = String::from_utf8(r.body).unwrap();
    // a method a client makes up is one label, not a series per method
    assert!(!text.contains("BREWCOFFEE"), "{text}");
    assert!(text.contains(r#"method="OTHER",route="/health/live",status="405""#), "{text}");
    for needle in [
        r#"promo_http_requests_total{method="GET",route="/v1/customers",status="200"} 1"#,
        r#"promo_http_request_duration_seconds_bucket{method="GET",route="/v1/customers",status="200",le="+Inf"} 1"#,
        r#"promo_redemptions_total{outcome="SUCCESS"} 1"#,
        r#"promo_db_pool_connections{state="max"} 4"#,
        r#"promo_backlog{queue="async_actions"}"#,
        r#"promo_backlog{queue="webhook_events"}"#,
    ] {
        assert!(text.contains(needle), "{needle} missing in:\n{text}");
    }
    // raw paths never become series (one per id would grow without bound)
    assert!(!text.contains("/v1/vouchers/M1"), "{text}");
}

#[tokio::test]
async fn two_instances_on_one_database_agree_at_once() {
    let a = TestApp::new().await;
    let b = TestApp::new().await;
    let p = a.project("two instances").await;
    a.post(&p, "/v1/vouchers/TWIN", voucher(300)).await.assert_status(StatusCode::OK);
    let v = b.post(&p, "/v1/validations", validation("TWIN")).await.json();
    assert_eq!(v["order"]["total_discount_amount"], 300, "{v}");
    // an edit through one is what the other's checkout uses next, not a cached copy
    a.put(&p, "/v1/vouchers/TWIN", json!({"discount": {"type": "AMOUNT", "amount_off": 700}}))
        .await
        .assert_status(StatusCode::OK);
    let v = b.post(&p, "/v1/validations", validation("TWIN")).await.json();
    assert_eq!(v["order"]["total_discount_amount"], 700, "{v}");
    a.post(&p, "/v1/vouchers/TWIN/disable", json!({})).await.assert_status(StatusCode::OK);
    assert_eq!(b.post(&p, "/v1/validations", validation("TWIN")).await.json()["valid"], false);
    // a code generation run by both instances' workers makes each code once
    let workers = [
        promo_api::services::jobs::spawn(a.db.clone(), std::time::Duration::from_secs(30)),
        promo_api::services::jobs::spawn(b.db.clone(), std::time::Duration::from_secs(30)),
    ];
    let c = a
        .post(&p, "/v1/campaigns", json!({"name": "twins", "type": "AUTO_UPDATE", "vouchers_count": 3000,
            "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 1}, "code_config": {"length": 10}}}))
        .await;
    c.assert_status(StatusCode::OK);
    let mut made = 0;
    for _ in 0..600 {
        made = b.get(&p, "/v1/campaigns/twins").await.json()["vouchers_count"].as_i64().unwrap_or(0);
        let actions = a.get(&p, "/v1/async-actions").await.json();
        if actions["async_actions"].as_array().unwrap().iter().all(|x| x["status"] == "DONE") && made > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for w in workers {
        w.abort();
    }
    assert_eq!(made, 3000);
    let distinct: i64 =
        sqlx::query_scalar("select count(distinct code) from voucher where project_id = $1 and code <> 'TWIN'")
            .bind(p.uuid())
            .fetch_one(&a.db)
            .await
            .unwrap();
    assert_eq!(distinct, 3000);

    // webhook events raised through either instance are delivered once, by whichever worker
    let (url, accepted) = crate::distribution::receiver(0).await;
    a.management(
        Method::POST,
        &format!("/management/v1/projects/{}/webhooks", p.id),
        Some(json!({"url": url, "events": ["*"]})),
    )
    .await
    .assert_status(StatusCode::OK);
    a.post(&p, "/v1/vouchers/TWIN/enable", json!({})).await.assert_status(StatusCode::OK);
    for (i, app) in [&a, &b, &a, &b].into_iter().enumerate() {
        app.post(
            &p,
            "/v1/redemptions",
            json!({"redeemables": [{"object": "voucher", "id": "TWIN"}],
            "order": {"amount": 5000 + i}}),
        )
        .await
        .assert_status(StatusCode::OK);
    }
    let policy = promo_api::services::webhooks::RetryPolicy::default();
    let senders = [
        promo_api::services::webhooks::spawn(a.db.clone(), policy),
        promo_api::services::webhooks::spawn(b.db.clone(), policy),
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while accepted.lock().unwrap().len() < 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    for s in senders {
        s.abort();
    }
    let got = accepted.lock().unwrap().clone();
    let ids: std::collections::HashSet<String> =
        got.iter().map(|(h, _)| h["webhook-id"].to_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), got.len(), "an event was delivered twice");
    let redemptions = got
        .iter()
        .filter(|(_, body)| serde_json::from_slice::<Value>(body).unwrap()["type"] == "redemption.succeeded")
        .count();
    assert_eq!(redemptions, 4);
}

#[tokio::test]
async fn a_csv_import_with_a_nul_character_reports_the_row_and_imports_nothing() {
    let app = TestApp::new().await;
    let p = app.project("csv hygiene").await;
    let csv = "code,discount_type,value,region\nOK-1,AMOUNT,100,EU\nBAD-1,AMOUNT,100,E\u{0}U\n";
    let r = app.raw_request(Method::POST, "/v1/vouchers/importCSV", &p, "text/csv", csv.into()).await;
    r.assert_status(StatusCode::ACCEPTED);
    let action = crate::distribution::finish_action(&app, &p, r.json()["async_action_id"].as_str().unwrap()).await;
    assert_eq!(action["operation_status"], "FAILED", "{action}");
    let errors = action["result"]["errors"].to_string();
    assert!(errors.contains("must not contain NUL characters"), "{action}");
    app.get(&p, "/v1/vouchers/OK-1").await.assert_error(StatusCode::NOT_FOUND, "not_found");
}

/// A stored validation rule that no longer compiles (written by an older version, or by hand)
/// fails closed: its voucher applies to no order — never to every order — and the answer says
/// why; fixing the rule through the API brings the voucher back.
#[tokio::test]
async fn a_stored_rule_that_no_longer_compiles_fails_closed() {
    let app = TestApp::new().await;
    let p = app.project("fail closed").await;
    let rule = app
        .post(
            &p,
            "/v1/validation-rules",
            json!({"name": "big orders", "rules": {"1": {"name": "order.amount",
            "conditions": {"$more_than": [10000]}}, "logic": "1"}}),
        )
        .await;
    rule.assert_status(StatusCode::OK);
    let rule_id = rule.json()["id"].as_str().unwrap().to_owned();
    crate::checkout::voucher(&app, &p, "BIGONLY", json!({"type": "AMOUNT", "amount_off": 1000}), None, Some(&rule_id))
        .await;
    assert_eq!(app.post(&p, "/v1/validations", validation("BIGONLY")).await.json()["valid"], false, "5000 is not big");
    sqlx::query(
        "update validation_rule set doc = jsonb_set(doc, '{rules,1,name}', '\"order.no_such_rule\"') where project_id = $1",
    )
    .bind(p.uuid())
    .execute(&app.db)
    .await
    .unwrap();
    let v = app.post(&p, "/v1/validations", validation("BIGONLY")).await;
    v.assert_status(StatusCode::OK);
    let v = v.json();
    assert_eq!(v["valid"], false, "a rule that cannot be read restricts everything, not nothing: {v}");
    let message = v["inapplicable_redeemables"][0]["result"]["details"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("cannot be read"), "{v}");
    app.post(
        &p,
        "/v1/redemptions",
        json!({"redeemables": [{"object": "voucher", "id": "BIGONLY"}], "order": {"amount": 50000}}),
    )
    .await
    .assert_status(StatusCode::BAD_REQUEST);
    app.put(
        &p,
        &format!("/v1/validation-rules/{rule_id}"),
        json!({"rules": {"1": {"name": "order.amount",
        "conditions": {"$more_than": [1000]}}, "logic": "1"}}),
    )
    .await
    .assert_status(StatusCode::OK);
    assert_eq!(app.post(&p, "/v1/validations", validation("BIGONLY")).await.json()["valid"], true, "fixed");
}
