//! A list page runs the same number of database statements whatever its size: what a page
//! embeds (tiers, validation-rule assignments, rollbacks, owning campaigns) is read in one
//! statement for the whole page, never one per row. Statements are counted from sqlx's own
//! `sqlx::query` events by the one global subscriber of this binary (a binary of its own: a
//! scoped subscriber misses callsites whose interest other tests' threads already cached).

// test code: a failed unwrap is a failed test, with its message
#![allow(clippy::unwrap_used)]

/// The HTTP tests' response checks run in the `api` binary; here they are off.
mod conformance {
    pub fn assert_conforms(_: &str, _: &str, _: u16, _: Option<&str>, _: &[u8]) {}
    pub fn sample(_: &str, _: &str, _: u16, _: &str, _: &[u8]) {}
}
#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use axum::http::StatusCode;
use helpers::*;
use serde_json::Value;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tracing_subscriber::layer::SubscriberExt;

struct CountStatements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The statements counted since start (every thread: the subscriber is global).
fn counted() -> &'static Arc<AtomicUsize> {
    static COUNT: std::sync::OnceLock<Arc<AtomicUsize>> = std::sync::OnceLock::new();
    COUNT.get_or_init(|| {
        let count = Arc::new(AtomicUsize::new(0));
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(CountStatements(count.clone())))
            .expect("the only subscriber of this binary");
        count
    })
}

/// Statements one GET runs: the fewest of three calls (a call that meets a cold cache or a new
/// pooled connection may run one more, which says nothing about the page).
async fn statements(app: &TestApp, p: &Project, path: &str) -> usize {
    let mut fewest = usize::MAX;
    for _ in 0..3 {
        let before = counted().load(Ordering::SeqCst);
        app.get(p, path).await.assert_status(StatusCode::OK);
        fewest = fewest.min(counted().load(Ordering::SeqCst) - before);
    }
    fewest
}

fn item(product: &str, quantity: i64, price: i64) -> Value {
    json!({"product_id": product, "quantity": quantity, "price": price})
}

fn tier(name: &str, discount: Value) -> Value {
    json!({"name": name, "action": {"discount": discount}})
}

/// Adds `n` of everything a list embeds: a coupon campaign and a promotion with two tiers (each
/// with a rule), a standalone voucher with a rule, and a redemption of it that is rolled back.
async fn add(app: &TestApp, p: &Project, round: usize, n: usize) {
    for i in 0..n {
        let tag = format!("{round}-{i}");
        let r = app
            .post(
                p,
                "/v1/validation-rules",
                json!({"name": format!("mugs {tag}"),
                "applicable_to": {"included": [{"object": "product", "id": "mug"}]}}),
            )
            .await;
        r.assert_status(StatusCode::OK);
        let rule = r.json()["id"].as_str().unwrap().to_owned();
        let discount = json!({"type": "AMOUNT", "amount_off": 100});
        app.post(
            p,
            "/v1/campaigns",
            json!({"name": format!("coupons {tag}"), "validation_rules": [rule],
                   "voucher": {"type": "DISCOUNT_VOUCHER", "discount": discount}, "vouchers_count": 1}),
        )
        .await
        .assert_status(StatusCode::OK);
        let mut tiers = vec![tier("a", discount.clone()), tier("b", discount.clone())];
        for t in &mut tiers {
            t["validation_rules"] = json!([rule]);
        }
        app.post(
            p,
            "/v1/campaigns",
            json!({"name": format!("promo {tag}"), "campaign_type": "PROMOTION",
                                            "promotion": {"tiers": tiers}}),
        )
        .await
        .assert_status(StatusCode::OK);
        let code = format!("Q{round}X{i}");
        app.post(
            p,
            &format!("/v1/vouchers/{code}"),
            json!({"type": "DISCOUNT_VOUCHER", "discount": discount, "validation_rules": [rule]}),
        )
        .await
        .assert_status(StatusCode::OK);
        let r = app
            .post(
                p,
                "/v1/redemptions",
                json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"items": [item("mug", 1, 1000)]}}),
            )
            .await;
        r.assert_status(StatusCode::OK);
        let id = r.json()["redemptions"][0]["id"].as_str().unwrap().to_owned();
        app.post(p, &format!("/v1/redemptions/{id}/rollback"), json!({})).await.assert_status(StatusCode::OK);
    }
}

#[tokio::test]
async fn a_list_page_runs_the_same_statements_whatever_its_size() {
    counted();
    let app = TestApp::new().await;
    let p = app.project("statements").await;
    let lists = [
        "/v1/campaigns?limit=100",
        "/v1/campaigns?limit=100&campaign_type=PROMOTION",
        "/v1/vouchers?limit=100",
        "/v1/promotions/tiers?limit=100",
        "/v1/redemptions?limit=100",
        "/v1/validation-rules?limit=100",
        "/v1/validation-rules-assignments?limit=100",
        "/v1/customers?limit=100",
        "/v1/publications?limit=100",
        "/v1/async-actions?limit=100",
    ];
    add(&app, &p, 1, 1).await;
    let mut small = Vec::new();
    for path in lists {
        small.push(statements(&app, &p, path).await);
    }
    add(&app, &p, 2, 6).await;
    for (path, before) in lists.iter().zip(small) {
        let after = statements(&app, &p, path).await;
        assert!(before > 0, "{path}: no statement was counted (is the counter wired?)");
        assert_eq!(after, before, "{path}: {before} statements with a small page, {after} with a bigger one");
    }
}
