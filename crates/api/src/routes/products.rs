//! Products and SKUs, by id (`prod_…`, `sku_…`) or `source_id`.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::state::AppState;
use crate::types::admin::{ProductIn, SkuIn};
use crate::types::catalog::{CatalogItemOut, ProductsList, SkusList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Create a product.
#[utoipa::path(post, path = "/v1/products", tag = "products", request_body = ProductIn,
    responses((status = 200, body = CatalogItemOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_product(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<ProductIn>,
) -> Result<Json<CatalogItemOut>, ApiError> {
    Ok(Json(crate::services::products::create_product(&app, &tenant, body).await?))
}

/// Get a product by id or source id.
#[utoipa::path(get, path = "/v1/products/{productId}", tag = "products", params(("productId" = String, Path)),
    responses((status = 200, body = CatalogItemOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_product(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<CatalogItemOut>, ApiError> {
    Ok(Json(crate::services::products::get_product(&app, &tenant, &raw).await?))
}

/// List products, newest first.
#[utoipa::path(get, path = "/v1/products", tag = "products", params(PageQuery),
    responses((status = 200, body = ProductsList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_products(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ProductsList>, ApiError> {
    Ok(Json(crate::services::products::list_products(&app, &tenant, q.page()?).await?))
}

/// Update a product (given fields replace theirs).
#[utoipa::path(put, path = "/v1/products/{productId}", tag = "products", params(("productId" = String, Path)), request_body = ProductIn,
    responses((status = 200, body = CatalogItemOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_product(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<ProductIn>,
) -> Result<Json<CatalogItemOut>, ApiError> {
    Ok(Json(crate::services::products::update_product(&app, &tenant, &raw, body).await?))
}

/// Delete a product and its SKUs.
#[utoipa::path(delete, path = "/v1/products/{productId}", tag = "products", params(("productId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_product(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::products::delete_product(&app, &tenant, &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a SKU of a product.
#[utoipa::path(post, path = "/v1/products/{productId}/skus", tag = "products", params(("productId" = String, Path)), request_body = SkuIn,
    responses((status = 200, body = CatalogItemOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_sku(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<SkuIn>,
) -> Result<Json<CatalogItemOut>, ApiError> {
    Ok(Json(crate::services::products::create_sku(&app, &tenant, &raw, body).await?))
}

/// Get a SKU by id or source id.
#[utoipa::path(get, path = "/v1/skus/{skuId}", tag = "products", params(("skuId" = String, Path)),
    responses((status = 200, body = CatalogItemOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_sku(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<CatalogItemOut>, ApiError> {
    Ok(Json(crate::services::products::get_sku(&app, &tenant, &raw).await?))
}

/// List the SKUs of a product.
#[utoipa::path(get, path = "/v1/products/{productId}/skus", tag = "products", params(("productId" = String, Path), PageQuery),
    responses((status = 200, body = SkusList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_skus(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<SkusList>, ApiError> {
    Ok(Json(crate::services::products::list_skus(&app, &tenant, &raw, q.page()?).await?))
}

/// Update a SKU (given fields replace theirs).
#[utoipa::path(put, path = "/v1/products/{productId}/skus/{skuId}", tag = "products", params(("productId" = String, Path), ("skuId" = String, Path)),
    request_body = SkuIn, responses((status = 200, body = CatalogItemOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_sku(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((product_raw, raw)): Path<(String, String)>,
    ApiJson(body): ApiJson<SkuIn>,
) -> Result<Json<CatalogItemOut>, ApiError> {
    Ok(Json(crate::services::products::update_sku(&app, &tenant, (&product_raw, &raw), body).await?))
}

/// Delete a SKU.
#[utoipa::path(delete, path = "/v1/products/{productId}/skus/{skuId}", tag = "products", params(("productId" = String, Path), ("skuId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_sku(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((product_raw, raw)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    crate::services::products::delete_sku(&app, &tenant, (&product_raw, &raw)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set stock levels of products and SKUs (an inventory system's bulk update; all or none).
#[utoipa::path(post, path = "/v1/inventory", tag = "products", request_body = crate::types::admin::InventoryIn,
    responses((status = 200, body = crate::types::admin::InventoryOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn set_inventory(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<crate::types::admin::InventoryIn>,
) -> Result<Json<crate::types::admin::InventoryOut>, ApiError> {
    Ok(Json(crate::services::products::set_inventory(&app, &tenant, body).await?))
}
