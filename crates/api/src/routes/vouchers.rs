//! Vouchers (standalone and campaign codes). Discounts and time windows are compiled by the engine
//! when written.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::services::campaigns::*;
use crate::services::vouchers::*;
use crate::state::AppState;
use crate::types::campaigns::{VoucherIn, VoucherOut, VouchersList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use promo_store::campaigns::{self as store};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

/// Create a voucher with a generated code (`code` or `code_config` in the body are honoured).
#[utoipa::path(post, path = "/v1/vouchers", tag = "vouchers", request_body = VoucherIn,
    responses((status = 200, body = VoucherOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<VoucherOut>, ApiError> {
    create_standalone(&app, &tenant, None, body).await.map(Json)
}

/// Create a voucher with a specific code.
#[utoipa::path(post, path = "/v1/vouchers/{code}", tag = "vouchers", params(("code" = String, Path)), request_body = VoucherIn,
    responses((status = 200, body = VoucherOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_voucher_with_code(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<VoucherOut>, ApiError> {
    create_standalone(&app, &tenant, Some(code), body).await.map(Json)
}

/// Get a voucher by code or id.
#[utoipa::path(get, path = "/v1/vouchers/{code}", tag = "vouchers", params(("code" = String, Path)),
    responses((status = 200, body = VoucherOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<VoucherOut>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let v = find_voucher(&mut conn, &tenant, &raw).await?;
    voucher_response(&mut conn, &tenant, v).await.map(Json)
}

/// Update a voucher (given fields replace theirs; the discount is compiled again).
#[utoipa::path(put, path = "/v1/vouchers/{code}", tag = "vouchers", params(("code" = String, Path)), request_body = VoucherIn,
    responses((status = 200, body = VoucherOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<VoucherOut>, ApiError> {
    crate::services::campaigns::update_voucher(&app, &tenant, &raw, body).await.map(Json)
}

/// Enable a voucher.
#[utoipa::path(post, path = "/v1/vouchers/{code}/enable", tag = "vouchers", params(("code" = String, Path)),
    responses((status = 200, body = VoucherOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn enable_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<VoucherOut>, ApiError> {
    set_voucher_active(&app, &tenant, &raw, true).await.map(Json)
}

/// Disable a voucher.
#[utoipa::path(post, path = "/v1/vouchers/{code}/disable", tag = "vouchers", params(("code" = String, Path)),
    responses((status = 200, body = VoucherOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn disable_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<VoucherOut>, ApiError> {
    set_voucher_active(&app, &tenant, &raw, false).await.map(Json)
}

/// Delete a voucher.
#[utoipa::path(delete, path = "/v1/vouchers/{code}", tag = "vouchers", params(("code" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let v = find_voucher(&mut conn, &tenant, &raw).await?;
    store::delete_voucher(&mut *conn, tenant.id(), v.voucher_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VouchersQuery {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000, default = 1)]
    pub page: Option<i64>,
    pub campaign_id: Option<String>,
    /// Campaign name.
    pub campaign: Option<String>,
}

/// List vouchers, newest first.
#[utoipa::path(get, path = "/v1/vouchers", tag = "vouchers", params(VouchersQuery),
    responses((status = 200, body = VouchersList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_vouchers(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<VouchersQuery>,
) -> Result<Json<VouchersList>, ApiError> {
    let page = crate::extract::PageQuery { limit: q.limit, page: q.page }.page()?;
    let list = vouchers_page(&app, &tenant, q.campaign_id.as_deref(), q.campaign.as_deref(), page).await?;
    Ok(Json(list))
}
