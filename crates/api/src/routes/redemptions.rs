//! The ledger as the API reads it: a redemption or rollback by id, the redemptions list with
//! Voucherify's filters, a voucher's redemptions, and releasing a validation session.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::types::checkout::{RedemptionFilters, RedemptionsList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

/// Get a redemption (`r_…`, or `rf_…` for a failed one).
#[utoipa::path(get, path = "/v1/redemptions/{redemptionId}", tag = "checkout", params(("redemptionId" = String, Path)),
    responses((status = 200, body = crate::types::checkout::RedemptionOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_redemption(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::redemptions::get_redemption(&app, &tenant, &raw).await?))
}

/// List redemptions, newest first, with Voucherify's filters (`result`, `campaign`,
/// `customer`, `voucher_code`, `related_object_id`, `parent_redemption_id`, `failure_code`,
/// `created_at[before|after]`, `order`).
#[utoipa::path(get, path = "/v1/redemptions", tag = "checkout", params(crate::extract::PageQuery, RedemptionFilters),
    responses((status = 200, body = RedemptionsList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_redemptions(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(page): ApiQuery<crate::extract::PageQuery>,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> Result<Json<RedemptionsList>, ApiError> {
    Ok(Json(crate::services::redemptions::list_redemptions(&app, &tenant, page.page()?, pairs).await?))
}

/// A voucher's redemptions and its quantity figures.
#[utoipa::path(get, path = "/v1/vouchers/{code}/redemption", tag = "vouchers", params(("code" = String, Path), crate::extract::PageQuery),
    responses((status = 200, body = crate::types::checkout::VoucherRedemptionsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn voucher_redemptions(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(code): Path<String>,
    ApiQuery(page): ApiQuery<crate::extract::PageQuery>,
) -> Result<Json<crate::types::checkout::VoucherRedemptionsOut>, ApiError> {
    Ok(Json(crate::services::redemptions::voucher_redemptions(&app, &tenant, &code, page.page()?).await?))
}

/// A voucher's redemptions: the URL its `redemption.url` prints (the same answer as
/// `/v1/vouchers/{code}/redemption`).
#[utoipa::path(get, path = "/v1/vouchers/{code}/redemptions", tag = "vouchers", params(("code" = String, Path), crate::extract::PageQuery),
    responses((status = 200, body = crate::types::checkout::VoucherRedemptionsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn voucher_redemptions_listed(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(code): Path<String>,
    ApiQuery(page): ApiQuery<crate::extract::PageQuery>,
) -> Result<Json<crate::types::checkout::VoucherRedemptionsOut>, ApiError> {
    Ok(Json(crate::services::redemptions::voucher_redemptions(&app, &tenant, &code, page.page()?).await?))
}

/// Release a validation session's reservations (`204` whether or not it held any).
#[utoipa::path(delete, path = "/v1/vouchers/{code}/sessions/{sessionKey}", tag = "vouchers",
    params(("code" = String, Path), ("sessionKey" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn release_session(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((code, session)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    crate::services::redemptions::release_session(&app, &tenant, (&code, &session)).await?;
    Ok(StatusCode::NO_CONTENT)
}
