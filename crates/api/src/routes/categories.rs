//! Categories.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::routes::ListOut;
use crate::state::AppState;
use crate::types::campaigns::{CategoryIn, CategoryOut};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Create a category.
#[utoipa::path(post, path = "/v1/categories", tag = "categories", request_body = CategoryIn,
    responses((status = 200, body = CategoryOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_category(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CategoryIn>,
) -> Result<Json<CategoryOut>, ApiError> {
    Ok(Json(crate::services::categories::create_category(&app, &tenant, body).await?))
}

/// Get a category.
#[utoipa::path(get, path = "/v1/categories/{categoryId}", tag = "categories", params(("categoryId" = String, Path)),
    responses((status = 200, body = CategoryOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_category(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<CategoryOut>, ApiError> {
    Ok(Json(crate::services::categories::get_category(&app, &tenant, &raw).await?))
}

/// List categories by hierarchy.
#[utoipa::path(get, path = "/v1/categories", tag = "categories", params(PageQuery),
    responses((status = 200, body = ListOut<CategoryOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_categories(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<CategoryOut>>, ApiError> {
    Ok(Json(crate::services::categories::list_categories(&app, &tenant, q.page()?).await?))
}

/// Update a category.
#[utoipa::path(put, path = "/v1/categories/{categoryId}", tag = "categories", params(("categoryId" = String, Path)), request_body = CategoryIn,
    responses((status = 200, body = CategoryOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_category(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<CategoryIn>,
) -> Result<Json<CategoryOut>, ApiError> {
    Ok(Json(crate::services::categories::update_category(&app, &tenant, &raw, body).await?))
}

/// Delete a category.
#[utoipa::path(delete, path = "/v1/categories/{categoryId}", tag = "categories", params(("categoryId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_category(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::categories::delete_category(&app, &tenant, &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}
