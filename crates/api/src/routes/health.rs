//! Operations: liveness, readiness and Prometheus metrics.

use crate::error::{ApiError, ErrorKey};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct HealthOut {
    pub status: &'static str,
}

/// Liveness: the process serves requests.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = HealthOut)))]
pub async fn live() -> Json<HealthOut> {
    Json(HealthOut { status: "ok" })
}

/// Readiness: no request met the database unusable in the last half second, and it answers
/// within a second.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = HealthOut), (status = 503, body = crate::error::ErrorBody)))]
pub async fn ready(State(app): State<AppState>) -> Result<Json<HealthOut>, ApiError> {
    let unavailable = || ApiError::new(ErrorKey::ServiceUnavailable).details("The database is unavailable");
    // what requests met decides first: a probe's own ping may find a fresh connection in between
    if app.outages.recent() {
        return Err(unavailable());
    }
    // within a while of an outage the probe asks on a connection of its own (the pool's
    // reconnect backoff would keep readiness down a second after recovery); else like a request
    let ping = async {
        if app.outages.recovering() { promo_store::ping_fresh(&app.db).await } else { promo_store::ping(&app.db).await }
    };
    match tokio::time::timeout(Duration::from_secs(1), ping).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            if let promo_store::StoreError::Busy(source) | promo_store::StoreError::Database(source) = &e {
                crate::outages::note_database_failure(source);
            }
            return Err(unavailable());
        }
        Err(_) => return Err(unavailable()),
    }
    Ok(Json(HealthOut { status: "ok" }))
}

/// `GET /metrics`, in Prometheus' text format.
pub async fn metrics(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = &app.config.metrics_token {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if given.strip_prefix("Bearer ") != Some(token.as_str()) {
            return Err(
                ApiError::new(ErrorKey::Unauthorized).details("Send Authorization: Bearer <PROMO_METRICS_TOKEN>")
            );
        }
    }
    let out = app.metrics.scrape(&app.db).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}
