//! Webhook delivery: a worker in the service posts the outbox's events to their endpoints,
//! signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`:
//! `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the base64 key after
//! `whsec_`). At least once: an event is marked delivered only after a 2xx, in the transaction
//! that held it; failures retry with exponential backoff, forever, and each endpoint gets its
//! events one at a time in the order they were written.

use crate::error::ApiError;
use crate::ids;
use crate::wire::timestamp;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use promo_store::PgPool;
use promo_store::webhooks::{self, OutboxRow};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// An event as its receivers get it and the events list shows it: the envelope around its
/// object. The outbox keeps what the event is about as it was written (see the
/// `webhook_payloads_rendered_by_the_service` migration): a voucher or campaign row, rendered
/// here, or a document the service rendered already (redemptions, rollbacks, publications).
pub fn render_event(e: &OutboxRow) -> Value {
    if e.envelope {
        // enqueued before the service rendered payloads: whole as it was stored
        return e.payload.0.clone();
    }
    json!({
        "id": ids::wire(ids::EVENT, e.event_id),
        "object": "event",
        "type": e.event_type,
        "created_at": timestamp(e.created_at),
        "project_id": ids::wire(ids::PROJECT, e.project_id.0),
        "data": {"object": render_object(e)},
    })
}

/// A voucher row as the outbox captured it (`to_jsonb` of the `voucher` row).
#[derive(Debug, Deserialize)]
struct CapturedVoucher {
    voucher_id: Uuid,
    code: String,
    campaign_id: Option<Uuid>,
    active: bool,
    holder_id: Option<Uuid>,
    doc: Map<String, Value>,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
}

/// A campaign row as the outbox captured it.
#[derive(Debug, Deserialize)]
struct CapturedCampaign {
    campaign_id: Uuid,
    name: String,
    campaign_type: String,
    #[serde(rename = "type")]
    type_: String,
    active: bool,
    doc: Map<String, Value>,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
}

/// The event's object: a voucher or campaign as its stored fields with its identity; other
/// objects as the service rendered them.
fn render_object(e: &OutboxRow) -> Value {
    let (event_type, captured) = (e.event_type.as_str(), &e.payload.0);
    let rendered = match event_type {
        "voucher.created" | "voucher.updated" | "voucher.deleted" => {
            serde_json::from_value::<CapturedVoucher>(captured.clone()).map(|v| {
                let mut out = v.doc;
                out.extend([
                    ("id".to_owned(), json!(ids::wire(ids::VOUCHER, v.voucher_id))),
                    ("code".to_owned(), json!(v.code)),
                    ("object".to_owned(), json!("voucher")),
                    ("campaign_id".to_owned(), json!(v.campaign_id.map(|c| ids::wire(ids::CAMPAIGN, c)))),
                    ("active".to_owned(), json!(v.active)),
                    ("holder_id".to_owned(), json!(v.holder_id.map(|h| ids::wire(ids::CUSTOMER, h)))),
                    ("created_at".to_owned(), json!(timestamp(v.created_at))),
                    ("updated_at".to_owned(), json!(v.updated_at.map(timestamp))),
                ]);
                Value::Object(out)
            })
        }
        "campaign.enabled" | "campaign.disabled" | "campaign.deleted" => {
            serde_json::from_value::<CapturedCampaign>(captured.clone()).map(|c| {
                let mut out = c.doc;
                out.extend([
                    ("id".to_owned(), json!(ids::wire(ids::CAMPAIGN, c.campaign_id))),
                    ("name".to_owned(), json!(c.name)),
                    ("object".to_owned(), json!("campaign")),
                    ("campaign_type".to_owned(), json!(c.campaign_type)),
                    ("type".to_owned(), json!(c.type_)),
                    ("active".to_owned(), json!(c.active)),
                    ("created_at".to_owned(), json!(timestamp(c.created_at))),
                    ("updated_at".to_owned(), json!(c.updated_at.map(timestamp))),
                ]);
                Value::Object(out)
            })
        }
        _ => return captured.clone(),
    };
    rendered.unwrap_or_else(|error| {
        // a row damaged in the database: its identity only (the captured row holds internal
        // columns a receiver must not see)
        tracing::warn!(event_type, %error, "a captured webhook object does not read as its row");
        let kind = event_type.split('.').next().unwrap_or_default();
        json!({"id": e.object_id, "object": kind})
    })
}

/// Endpoints served per round (each gets its oldest due event).
const ENDPOINTS_PER_ROUND: i64 = 16;

/// When failed deliveries are tried again: `base` doubled per failed attempt, at most `max`.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
    /// How long a receiver has to answer.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base: Duration::from_secs(2), max: Duration::from_secs(3600), timeout: Duration::from_secs(10) }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failure.
    pub fn delay(&self, attempts: u32) -> Duration {
        let factor = 1u32.checked_shl(attempts.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// A new endpoint secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut key = Vec::with_capacity(32);
    key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("whsec_{}", BASE64.encode(key))
}

/// The `webhook-signature` value of a message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = BASE64.decode(secret.trim_start_matches("whsec_")).unwrap_or_else(|_| secret.as_bytes().to_vec());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC accepts keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// An HTTP/1 client for http:// and https:// receivers (TLS through rustls, Mozilla's roots).
pub fn client() -> HttpClient {
    let https = hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots().https_or_http().enable_http1().build();
    Client::builder(TokioExecutor::new()).build(https)
}

/// Starts the delivery worker.
pub fn spawn(db: PgPool, policy: RetryPolicy) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = client();
        loop {
            match deliver_due(&db, &client, policy, None).await {
                Ok(0) => tokio::time::sleep(Duration::from_millis(200)).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = ?e, "webhook delivery worker");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })
}

/// One round: the oldest due event of each endpoint, delivered concurrently, outcomes recorded
/// in the transaction that locked them; of one project only when `project` is given (tests).
/// Returns how many were attempted.
pub async fn deliver_due(
    db: &PgPool,
    client: &HttpClient,
    policy: RetryPolicy,
    project: Option<promo_store::ProjectId>,
) -> Result<usize, ApiError> {
    let mut tx = promo_store::begin(db).await?;
    let due = webhooks::lock_due(&mut tx, ENDPOINTS_PER_ROUND, project).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut sends = tokio::task::JoinSet::new();
    for (i, event) in due.iter().enumerate() {
        let (client, event) = (client.clone(), event.clone());
        sends.spawn(async move { (i, send(&client, &event, policy.timeout).await) });
    }
    let mut outcomes = vec![None; due.len()];
    while let Some(done) = sends.join_next().await {
        if let Ok((i, outcome)) = done {
            outcomes[i] = Some(outcome);
        }
    }
    for (event, outcome) in due.iter().zip(outcomes) {
        let outcome =
            outcome.unwrap_or(Outcome { status: None, error: Some("delivery task failed".into()), millis: 0 });
        let delivered = outcome.status.is_some_and(|s| (200..300).contains(&s)) && outcome.error.is_none();
        let retry_at = (!delivered).then(|| {
            let wait = policy.delay(event.attempts.unsigned_abs() + 1);
            Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
        });
        let error = match (&outcome.error, outcome.status) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(s)) if !delivered => Some(format!("the receiver answered {s}")),
            _ => None,
        };
        webhooks::record_attempt(&mut tx, event, outcome.status, error.as_deref(), outcome.millis, retry_at).await?;
    }
    promo_store::commit(tx).await?;
    Ok(due.len())
}

#[derive(Debug, Clone)]
struct Outcome {
    status: Option<i32>,
    error: Option<String>,
    millis: i32,
}

async fn send(client: &HttpClient, event: &OutboxRow, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let body = serde_json::to_vec(&render_event(event)).unwrap_or_default();
    let msg_id = ids::wire(ids::EVENT, event.event_id);
    let timestamp = Utc::now().timestamp();
    let signature = sign(&event.secret, &msg_id, timestamp, &body);
    let request = hyper::Request::post(event.url.as_str())
        .header("content-type", "application/json")
        .header("user-agent", "promo-engine-webhooks/1")
        .header("webhook-id", &msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(Full::new(Bytes::from(body)));
    let millis = || i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let request = match request {
        Ok(r) => r,
        Err(e) => return Outcome { status: None, error: Some(format!("invalid request: {e}")), millis: millis() },
    };
    match tokio::time::timeout(timeout, client.request(request)).await {
        Ok(Ok(response)) => {
            Outcome { status: Some(i32::from(response.status().as_u16())), error: None, millis: millis() }
        }
        Ok(Err(e)) => Outcome { status: None, error: Some(format!("{e:#}")), millis: millis() },
        Err(_) => Outcome { status: None, error: Some(format!("no answer within {timeout:?}")), millis: millis() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(event_type: &str, payload: Value, envelope: bool) -> OutboxRow {
        OutboxRow {
            project_id: promo_store::ProjectId(Uuid::nil()),
            event_id: Uuid::nil(),
            webhook_id: Uuid::nil(),
            seq: 1,
            event_type: event_type.into(),
            object_id: None,
            payload: promo_store::Json(payload),
            envelope,
            attempts: 0,
            next_attempt_at: Utc::now(),
            delivered_at: None,
            last_error: None,
            created_at: Utc::now(),
            url: "http://receiver".into(),
            secret: "whsec_".into(),
        }
    }

    #[test]
    fn an_event_enqueued_whole_before_the_service_rendered_payloads_is_sent_as_it_was() {
        let whole = json!({"id": "evt_old", "object": "event", "data": {"object": {"id": "v_1"}}});
        assert_eq!(render_event(&captured("voucher.created", whole.clone(), true)), whole);
    }

    #[test]
    fn a_captured_row_that_does_not_read_is_sent_as_its_identity_only() {
        let mut row = captured("voucher.created", json!({"voucher_id": 5, "code_key": "X"}), false);
        row.object_id = Some("v_1".into());
        let event = render_event(&row);
        assert_eq!(event["data"]["object"], json!({"id": "v_1", "object": "voucher"}));
        assert_eq!(event["type"], "voucher.created");
        // other objects were rendered by the service already
        let event = render_event(&captured("redemption.succeeded", json!({"id": "r_1"}), false));
        assert_eq!(event["data"]["object"], json!({"id": "r_1"}));
    }
}
