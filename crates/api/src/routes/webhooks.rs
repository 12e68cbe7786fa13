//! Webhook endpoints of a project (management API), their events and delivery attempts.

use crate::auth::Management;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::state::AppState;
use crate::types::admin::EndpointIn;
use crate::types::admin::{PageOut, WebhookDeliveryOut, WebhookEventOut, WebhookOut, WebhooksList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Create a webhook endpoint. The signing secret (`whsec_…`) is returned here and by GET.
#[utoipa::path(post, path = "/management/v1/projects/{projectId}/webhooks", tag = "management",
    params(("projectId" = String, Path)), request_body = EndpointIn,
    responses((status = 200, body = WebhookOut), (status = "4XX", body = crate::error::ErrorBody)), security(("management" = [])))]
pub async fn create_webhook(
    State(app): State<AppState>,
    _: Management,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<EndpointIn>,
) -> Result<Json<WebhookOut>, ApiError> {
    Ok(Json(crate::services::webhook_endpoints::create_webhook(&app, &raw, body).await?))
}

/// List a project's webhook endpoints, oldest first: all of them (up to 100) unless `limit` is
/// given.
#[utoipa::path(get, path = "/management/v1/projects/{projectId}/webhooks", tag = "management",
    params(("projectId" = String, Path), crate::extract::WholeListQuery),
    responses((status = 200, body = WebhooksList), (status = "4XX", body = crate::error::ErrorBody)), security(("management" = [])))]
pub async fn list_webhooks(
    State(app): State<AppState>,
    _: Management,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<crate::extract::WholeListQuery>,
) -> Result<Json<WebhooksList>, ApiError> {
    Ok(Json(crate::services::webhook_endpoints::list_webhooks(&app, &raw, q.page()?).await?))
}

/// Get a webhook endpoint, with its secret.
#[utoipa::path(get, path = "/management/v1/projects/{projectId}/webhooks/{webhookId}", tag = "management",
    params(("projectId" = String, Path), ("webhookId" = String, Path)),
    responses((status = 200, body = WebhookOut), (status = "4XX", body = crate::error::ErrorBody)), security(("management" = [])))]
pub async fn get_webhook(
    State(app): State<AppState>,
    _: Management,
    Path(path): Path<(String, String)>,
) -> Result<Json<WebhookOut>, ApiError> {
    Ok(Json(crate::services::webhook_endpoints::get_webhook(&app, path).await?))
}

/// Update a webhook endpoint (given fields replace theirs). Disabled endpoints keep their
/// events queued and get them when enabled again.
#[utoipa::path(put, path = "/management/v1/projects/{projectId}/webhooks/{webhookId}", tag = "management",
    params(("projectId" = String, Path), ("webhookId" = String, Path)), request_body = EndpointIn,
    responses((status = 200, body = WebhookOut), (status = "4XX", body = crate::error::ErrorBody)), security(("management" = [])))]
pub async fn update_webhook(
    State(app): State<AppState>,
    _: Management,
    Path(path): Path<(String, String)>,
    ApiJson(body): ApiJson<EndpointIn>,
) -> Result<Json<WebhookOut>, ApiError> {
    Ok(Json(crate::services::webhook_endpoints::update_webhook(&app, path, body).await?))
}

/// Delete a webhook endpoint with its queued events.
#[utoipa::path(delete, path = "/management/v1/projects/{projectId}/webhooks/{webhookId}", tag = "management",
    params(("projectId" = String, Path), ("webhookId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("management" = [])))]
pub async fn delete_webhook(
    State(app): State<AppState>,
    _: Management,
    Path(path): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    crate::services::webhook_endpoints::delete_webhook(&app, path).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The events of an endpoint, newest first, each with its delivery state.
#[utoipa::path(get, path = "/management/v1/projects/{projectId}/webhooks/{webhookId}/events", tag = "management",
    params(("projectId" = String, Path), ("webhookId" = String, Path), PageQuery),
    responses((status = 200, body = PageOut<WebhookEventOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("management" = [])))]
pub async fn list_webhook_events(
    State(app): State<AppState>,
    _: Management,
    Path(path): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PageOut<WebhookEventOut>>, ApiError> {
    Ok(Json(crate::services::webhook_endpoints::list_webhook_events(&app, path, q.page()?).await?))
}

/// The delivery attempts of an endpoint, newest first.
#[utoipa::path(get, path = "/management/v1/projects/{projectId}/webhooks/{webhookId}/deliveries", tag = "management",
    params(("projectId" = String, Path), ("webhookId" = String, Path), PageQuery),
    responses((status = 200, body = PageOut<WebhookDeliveryOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("management" = [])))]
pub async fn list_webhook_deliveries(
    State(app): State<AppState>,
    _: Management,
    Path(path): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PageOut<WebhookDeliveryOut>>, ApiError> {
    Ok(Json(crate::services::webhook_endpoints::list_webhook_deliveries(&app, path, q.page()?).await?))
}
