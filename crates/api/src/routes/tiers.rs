//! Promotion tiers.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::services::campaigns::*;
use crate::state::AppState;
use crate::types::campaigns::{TierIn, TierOut, TiersList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use promo_store::campaigns::{self as store};
use serde_json::Value;

/// Add a promotion tier to a PROMOTION campaign.
#[utoipa::path(post, path = "/v1/promotions/{campaignId}/tiers", tag = "promotions", params(("campaignId" = String, Path)), request_body = TierIn,
    responses((status = 200, body = TierOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<TierOut>, ApiError> {
    crate::services::campaigns::create_tier(&app, &tenant, &raw, body).await.map(Json)
}

/// List the tiers of a campaign, by hierarchy: all of them (up to 100) unless `limit` is given.
#[utoipa::path(get, path = "/v1/promotions/{campaignId}/tiers", tag = "promotions",
    params(("campaignId" = String, Path), crate::extract::WholeListQuery),
    responses((status = 200, body = TiersList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_campaign_tiers(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<crate::extract::WholeListQuery>,
) -> Result<Json<TiersList>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let campaign = find_campaign(&mut conn, tenant.id(), &raw).await?;
    Ok(Json(tiers_list(&mut conn, tenant.id(), Some(&campaign), q.page()?).await?))
}

/// List the project's tiers.
#[utoipa::path(get, path = "/v1/promotions/tiers", tag = "promotions", params(crate::extract::PageQuery),
    responses((status = 200, body = TiersList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_tiers(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<crate::extract::PageQuery>,
) -> Result<Json<TiersList>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    Ok(Json(tiers_list(&mut conn, tenant.id(), None, q.page()?).await?))
}

/// List the project's tiers for a storefront (client-side keys, trusted origins only).
#[utoipa::path(get, path = "/client/v1/promotions/tiers", tag = "promotions", params(crate::extract::PageQuery),
    responses((status = 200, body = TiersList), (status = "4XX", body = crate::error::ErrorBody)), security(("client" = [])))]
pub async fn list_tiers_client_side(
    State(app): State<AppState>,
    tenant: crate::auth::ClientTenant,
    ApiQuery(q): ApiQuery<crate::extract::PageQuery>,
) -> Result<Json<TiersList>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    Ok(Json(tiers_list(&mut conn, tenant.project.project_id, None, q.page()?).await?))
}

/// Get a tier.
#[utoipa::path(get, path = "/v1/promotions/tiers/{promotionTierId}", tag = "promotions", params(("promotionTierId" = String, Path)),
    responses((status = 200, body = TierOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<TierOut>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (tier, campaign) = find_tier(&mut conn, tenant.id(), &raw).await?;
    Ok(Json(tier_out(&mut conn, tenant.id(), tier, &campaign).await?))
}

/// Update a tier (given fields replace theirs; the discount is compiled again).
#[utoipa::path(put, path = "/v1/promotions/tiers/{promotionTierId}", tag = "promotions", params(("promotionTierId" = String, Path)), request_body = TierIn,
    responses((status = 200, body = TierOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<TierOut>, ApiError> {
    crate::services::campaigns::update_tier(&app, &tenant, &raw, body).await.map(Json)
}

/// Enable a tier.
#[utoipa::path(post, path = "/v1/promotions/tiers/{promotionTierId}/enable", tag = "promotions", params(("promotionTierId" = String, Path)),
    responses((status = 200, body = TierOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn enable_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<TierOut>, ApiError> {
    set_tier_active(&app, &tenant, &raw, true).await.map(Json)
}

/// Disable a tier.
#[utoipa::path(post, path = "/v1/promotions/tiers/{promotionTierId}/disable", tag = "promotions", params(("promotionTierId" = String, Path)),
    responses((status = 200, body = TierOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn disable_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<TierOut>, ApiError> {
    set_tier_active(&app, &tenant, &raw, false).await.map(Json)
}

/// Delete a tier.
#[utoipa::path(delete, path = "/v1/promotions/tiers/{promotionTierId}", tag = "promotions", params(("promotionTierId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (tier, _) = find_tier(&mut conn, tenant.id(), &raw).await?;
    store::delete_tier(&mut *conn, tenant.id(), tier.tier_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
