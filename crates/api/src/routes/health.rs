//! Liveness and readiness.

use crate::error::{ApiError, ErrorKey};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
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

/// Readiness: the database answers.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = HealthOut), (status = 503, body = crate::error::ErrorBody)))]
pub async fn ready(State(app): State<AppState>) -> Result<Json<HealthOut>, ApiError> {
    promo_store::ping(&app.db)
        .await
        .map_err(|_| ApiError::new(ErrorKey::ServiceUnavailable).details("database unreachable"))?;
    Ok(Json(HealthOut { status: "ok" }))
}
