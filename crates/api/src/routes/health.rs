//! Liveness and readiness.

use crate::error::{ApiError, ErrorKey};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct HealthOut {
    pub status: &'static str,
}

tokio::task_local! {
    /// The serving instance's outage clock (see [`Outages`]), set for each request.
    pub static OUTAGES: std::sync::Arc<Outages>;
}

/// When a request of this instance last met the database unusable (see `now_ms`; 0: never).
#[derive(Debug, Default)]
pub struct Outages {
    last_ms: AtomicU64,
}

/// How long after a request met an outage readiness stays 503 (a probe's own ping can succeed on
/// a fresh connection while backends are still being killed); short enough that readiness is
/// back within a second of recovery.
const OUTAGE_MEMORY: Duration = Duration::from_millis(500);

/// How long after an outage the probe opens its own connection.
const RECOVERY_WATCH: Duration = Duration::from_secs(30);

/// Milliseconds on a monotonic clock (a wall clock stepped back would keep readiness down), from
/// one second after the process's first use of it (0 means "never").
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1000
}

/// Called for every transient database failure a request met.
pub fn note_database_failure(e: &(dyn std::error::Error + 'static)) {
    let outage = e.downcast_ref::<promo_store::SqlxError>().is_none_or(promo_store::is_outage);
    if outage {
        let _ = OUTAGES.try_with(|o| o.last_ms.store(now_ms(), Ordering::Relaxed));
    }
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
    if now_ms().saturating_sub(app.outages.last_ms.load(Ordering::Relaxed)) < OUTAGE_MEMORY.as_millis() as u64 {
        return Err(unavailable());
    }
    // within a while of an outage the probe asks on a connection of its own (the pool's
    // reconnect backoff would keep readiness down a second after recovery); else like a request
    let since_outage = now_ms().saturating_sub(app.outages.last_ms.load(Ordering::Relaxed));
    let ping = async {
        if since_outage < RECOVERY_WATCH.as_millis() as u64 {
            promo_store::ping_fresh(&app.db).await
        } else {
            promo_store::ping(&app.db).await
        }
    };
    match tokio::time::timeout(Duration::from_secs(1), ping).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            if let promo_store::StoreError::Busy(source) | promo_store::StoreError::Database(source) = &e {
                note_database_failure(source);
            }
            return Err(unavailable());
        }
        Err(_) => return Err(unavailable()),
    }
    Ok(Json(HealthOut { status: "ok" }))
}
