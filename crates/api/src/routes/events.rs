//! Custom events and a customer's activity.

use crate::auth::{ClientTenant, Tenant};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::services::events as service;
use crate::state::AppState;
use crate::types::events::{ActivityQuery, CustomerActivityList, EventIn, EventOut};
use axum::Json;
use axum::extract::{Path, State};

/// Record a custom event of a customer (found by id or source id, or created).
#[utoipa::path(post, path = "/v1/events", tag = "events", request_body = EventIn,
    responses((status = 200, body = EventOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_event(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<EventIn>,
) -> Result<Json<EventOut>, ApiError> {
    Ok(Json(service::create_event(&app, tenant.id(), body).await?))
}

/// Record a custom event from a storefront (client-side key).
#[utoipa::path(post, path = "/client/v1/events", tag = "events", request_body = EventIn,
    responses((status = 200, body = EventOut), (status = "4XX", body = crate::error::ErrorBody)), security(("client" = [])))]
pub async fn create_event_client_side(
    State(app): State<AppState>,
    tenant: ClientTenant,
    ApiJson(body): ApiJson<EventIn>,
) -> Result<Json<EventOut>, ApiError> {
    Ok(Json(service::create_event(&app, tenant.project.project_id, body).await?))
}

/// A customer's activity: redemptions, rollbacks, publications and custom events, newest first.
#[utoipa::path(get, path = "/v1/customers/{customerId}/activity", tag = "customers",
    params(("customerId" = String, Path), ActivityQuery),
    responses((status = 200, body = CustomerActivityList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn customer_activity(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> Result<Json<CustomerActivityList>, ApiError> {
    Ok(Json(service::customer_activity(&app, tenant.id(), &raw, q).await?))
}
