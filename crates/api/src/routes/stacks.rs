//! Promotion stacks: up to 30 tiers of one campaign applied together, in the listed order.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::routes::ListOut;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value};

/// Create a promotion stack in a campaign.
#[utoipa::path(post, path = "/v1/promotions/{campaignId}/stacks", tag = "promotions", params(("campaignId" = String, Path)), request_body = crate::types::admin::StackIn,
    responses((status = 200, body = crate::types::admin::StackOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_stack(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::stacks::create_stack(&app, &tenant, &raw, body).await?))
}

/// Get a promotion stack.
#[utoipa::path(get, path = "/v1/promotions/{campaignId}/stacks/{stackId}", tag = "promotions", params(("campaignId" = String, Path), ("stackId" = String, Path)),
    responses((status = 200, body = crate::types::admin::StackOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_stack(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((c, raw)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::stacks::get_stack(&app, &tenant, (&c, &raw)).await?))
}

/// Update a promotion stack (name, tiers, category).
#[utoipa::path(put, path = "/v1/promotions/{campaignId}/stacks/{stackId}", tag = "promotions", params(("campaignId" = String, Path), ("stackId" = String, Path)),
    request_body = crate::types::admin::StackIn, responses((status = 200, body = crate::types::admin::StackOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_stack(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((c, raw)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::stacks::update_stack(&app, &tenant, (&c, &raw), body).await?))
}

/// Delete a promotion stack.
#[utoipa::path(delete, path = "/v1/promotions/{campaignId}/stacks/{stackId}", tag = "promotions", params(("campaignId" = String, Path), ("stackId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_stack(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((c, raw)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    crate::services::stacks::delete_stack(&app, &tenant, (&c, &raw)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the stacks of a campaign.
#[utoipa::path(get, path = "/v1/promotions/{campaignId}/stacks", tag = "promotions", params(("campaignId" = String, Path), PageQuery),
    responses((status = 200, body = ListOut<crate::types::admin::StackOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_campaign_stacks(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<Value>>, ApiError> {
    Ok(Json(crate::services::stacks::list_campaign_stacks(&app, &tenant, &raw, q.page()?).await?))
}

/// List every promotion stack of the project.
#[utoipa::path(get, path = "/v1/promotions/stacks", tag = "promotions", params(PageQuery),
    responses((status = 200, body = ListOut<crate::types::admin::StackOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_stacks(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<Value>>, ApiError> {
    Ok(Json(crate::services::stacks::list_stacks(&app, &tenant, q.page()?).await?))
}
