//! What the service logs, read back: a binary of its own, so one global subscriber sees every
//! thread (callsites cached by other tests' threads would hide events).

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
use serde_json::json;

fn voucher(amount_off: i64) -> serde_json::Value {
    json!({"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": amount_off}})
}

fn validation(code: &str) -> serde_json::Value {
    json!({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 5000}})
}

/// Collects what a subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_logs_carry_the_request_and_project_ids() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    // the only test of this binary: a global subscriber sees every thread
    tracing::subscriber::set_global_default(subscriber).expect("the first subscriber");
    let app = TestApp::new().await;
    let p = app.project("logs").await;
    app.post(&p, "/v1/vouchers/LOG1", voucher(100)).await.assert_status(StatusCode::OK);
    // a checkout, whose key comes from the one-second key cache after the first
    for _ in 0..2 {
        let r = app.post(&p, "/v1/validations", validation("LOG1")).await;
        r.assert_status(StatusCode::OK);
        let request_id = r.headers["x-request-id"].to_str().unwrap().to_owned();
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = logs.lines().filter(|l| l.contains(&request_id)).collect();
        assert!(!lines.is_empty(), "no log line names {request_id}:\n{logs}");
        // the project is known once the key is checked: the lines after that name it
        let project = format!("project_id={}", p.uuid());
        assert!(lines.iter().any(|l| l.contains(&project)), "{lines:#?}");
    }
}
