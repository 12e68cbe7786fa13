//! Segments (static and auto-update), product collections (static and auto-update) and orders.
//! Filters are compiled by the engine; order totals are the engine's.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::routes::ListOut;
use crate::state::AppState;
use crate::types::admin::OrdersList;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

// ---------- segments ----------

/// Create a segment: `static` with `customers` (ids or source ids), or `auto-update` / `passive`
/// with a `filter` evaluated at validation time.
#[utoipa::path(post, path = "/v1/segments", tag = "segments", request_body = crate::types::admin::SegmentIn,
    responses((status = 200, body = crate::types::admin::SegmentOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_segment(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::audiences::create_segment(&app, &tenant, body).await?))
}

/// Get a segment.
#[utoipa::path(get, path = "/v1/segments/{segmentId}", tag = "segments", params(("segmentId" = String, Path)),
    responses((status = 200, body = crate::types::admin::SegmentOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_segment(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::audiences::get_segment(&app, &tenant, &raw).await?))
}

/// List segments, newest first.
#[utoipa::path(get, path = "/v1/segments", tag = "segments", params(PageQuery),
    responses((status = 200, body = ListOut<crate::types::admin::SegmentOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_segments(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<Value>>, ApiError> {
    Ok(Json(crate::services::audiences::list_segments(&app, &tenant, q.page()?).await?))
}

/// Delete a segment.
#[utoipa::path(delete, path = "/v1/segments/{segmentId}", tag = "segments", params(("segmentId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_segment(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::audiences::delete_segment(&app, &tenant, &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- product collections ----------

/// Create a product collection: `STATIC` with `products` (products and SKUs), or
/// `AUTO_UPDATE` with a `filter` over product fields.
#[utoipa::path(post, path = "/v1/product-collections", tag = "product collections", request_body = crate::types::admin::CollectionIn,
    responses((status = 200, body = crate::types::admin::CollectionOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_collection(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::audiences::create_collection(&app, &tenant, body).await?))
}

/// Get a product collection.
#[utoipa::path(get, path = "/v1/product-collections/{productCollectionId}", tag = "product collections", params(("productCollectionId" = String, Path)),
    responses((status = 200, body = crate::types::admin::CollectionOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_collection(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::audiences::get_collection(&app, &tenant, &raw).await?))
}

/// List product collections, newest first.
#[utoipa::path(get, path = "/v1/product-collections", tag = "product collections", params(PageQuery),
    responses((status = 200, body = ListOut<crate::types::admin::CollectionOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_collections(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<Value>>, ApiError> {
    Ok(Json(crate::services::audiences::list_collections(&app, &tenant, q.page()?).await?))
}

/// Delete a product collection.
#[utoipa::path(delete, path = "/v1/product-collections/{productCollectionId}", tag = "product collections", params(("productCollectionId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_collection(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::audiences::delete_collection(&app, &tenant, &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an order (totals computed by the engine).
#[utoipa::path(post, path = "/v1/orders", tag = "orders", request_body = crate::types::checkout::OrderIn,
    responses((status = 200, body = crate::types::checkout::OrderCalculated), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_order(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::audiences::create_order(&app, &tenant, body).await?))
}

/// Get an order by id or source id.
#[utoipa::path(get, path = "/v1/orders/{orderId}", tag = "orders", params(("orderId" = String, Path)),
    responses((status = 200, body = crate::types::checkout::OrderCalculated), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_order(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::audiences::get_order(&app, &tenant, &raw).await?))
}

/// Update an order: status, metadata, items (totals are computed again).
#[utoipa::path(put, path = "/v1/orders/{orderId}", tag = "orders", params(("orderId" = String, Path)), request_body = crate::types::checkout::OrderIn,
    responses((status = 200, body = crate::types::checkout::OrderCalculated), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_order(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::audiences::update_order(&app, &tenant, &raw, body).await?))
}

/// List orders, newest first.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(PageQuery),
    responses((status = 200, body = OrdersList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_orders(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<OrdersList>, ApiError> {
    Ok(Json(crate::services::audiences::list_orders(&app, &tenant, q.page()?).await?))
}
