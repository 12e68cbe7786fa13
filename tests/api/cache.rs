//! The compiled-definitions cache: bounded, and loaded once per project however many checkouts
//! wait for it.

use crate::checkout::{promotion, tier, voucher};
use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::json;

fn validation(code: &str) -> serde_json::Value {
    json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 1000}})
}

#[tokio::test]
async fn the_cache_keeps_at_most_its_capacity_of_projects() {
    let app = TestApp::with_config(4, |c| c.definitions_cache_projects = 2).await;
    for name in ["one", "two", "three"] {
        let p = app.project(name).await;
        voucher(&app, &p, "TEN", json!({"type": "AMOUNT", "amount_off": 10}), None, None).await;
        let v = app.post(&p, "/v1/validations", validation("TEN")).await;
        v.assert_status(StatusCode::OK);
        assert_eq!(v.json()["valid"], true);
        assert!(app.state.definitions.len() <= 2, "{} projects cached", app.state.definitions.len());
    }
    assert_eq!(app.state.definitions.len(), 2);
}

#[tokio::test]
async fn a_burst_after_a_change_compiles_the_definitions_once() {
    let app = TestApp::with_connections(12).await;
    let p = app.project("burst").await;
    voucher(&app, &p, "TEN", json!({"type": "AMOUNT", "amount_off": 10}), None, None).await;
    app.post(&p, "/v1/validations", validation("TEN")).await.assert_status(StatusCode::OK);
    // a change moves the project's definitions version on: the next checkouts must reload
    promotion(&app, &p, "autumn", vec![tier("5 off", json!({"type": "AMOUNT", "amount_off": 5}))]).await;
    let before = app.state.definitions.loads();
    let burst = (0..10).map(|_| app.post(&p, "/v1/validations", validation("TEN")));
    for v in futures_join(burst).await {
        v.assert_status(StatusCode::OK);
        assert_eq!(v.json()["valid"], true);
    }
    assert_eq!(app.state.definitions.loads() - before, 1, "one load for the whole burst");
}

/// Runs the futures concurrently on this task.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(out) => {
                        results[i] = Some(out);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    outputs.extend(results.into_iter().flatten());
    outputs
}
