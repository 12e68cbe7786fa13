//! Promotion tiers.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::error::invalid;
use crate::extract::{ApiJson, ApiQuery};
use crate::services::campaigns::*;
use crate::state::AppState;
use crate::types::campaigns::{TierIn, TierOut, TiersList};
use crate::wire::object;
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
    let mut tx = promo_store::begin(&app.db).await?;
    let campaign = find_campaign(&mut tx, tenant.id(), &raw).await?;
    if campaign.campaign_type != "PROMOTION" {
        return Err(invalid("Tiers belong to PROMOTION campaigns"));
    }
    let row = create_tier_row(&mut tx, &tenant, campaign.campaign_id, &object(body), "").await?;
    let out = tier_out(&mut tx, tenant.id(), row, &campaign).await?;
    promo_store::commit(tx).await?;
    Ok(Json(out))
}

/// List the tiers of a campaign, by hierarchy.
#[utoipa::path(get, path = "/v1/promotions/{campaignId}/tiers", tag = "promotions", params(("campaignId" = String, Path)),
    responses((status = 200, body = TiersList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_campaign_tiers(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<TiersList>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let campaign = find_campaign(&mut conn, tenant.id(), &raw).await?;
    Ok(Json(tiers_list(&mut conn, tenant.id(), Some(&campaign), promo_store::Page { limit: 100, offset: 0 }).await?))
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
    let mut conn = promo_store::acquire(&app.db).await?;
    let (tier, campaign) = find_tier(&mut conn, tenant.id(), &raw).await?;
    let body = object(body);
    let mut merged = object(tier.doc.0.clone());
    for (k, v) in &body {
        if !["id", "hierarchy", "active"].contains(&k.as_str()) {
            merged.insert(k.clone(), v.clone());
        }
    }
    let doc = tier_doc(&merged, "")?;
    let hierarchy =
        body.get("hierarchy").and_then(Value::as_i64).and_then(|h| i32::try_from(h).ok()).unwrap_or(tier.hierarchy);
    let active = body.get("active").and_then(Value::as_bool).unwrap_or(tier.active);
    let row = store::update_tier(&mut *conn, tenant.id(), tier.tier_id, hierarchy, active, &Value::Object(doc))
        .await?
        .ok_or_else(|| ApiError::not_found("promotion_tier", &raw))?;
    Ok(Json(tier_out(&mut conn, tenant.id(), row, &campaign).await?))
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
