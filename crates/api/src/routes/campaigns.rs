//! Campaigns (DISCOUNT_COUPONS and PROMOTION).

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::services::campaigns::*;
use crate::state::AppState;
use crate::types::campaigns::{CampaignIn, CampaignOut, CampaignsList};
use crate::types::common::EmptyOut;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use promo_store::campaigns::{self as store};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

/// Create a campaign: DISCOUNT_COUPONS (with a voucher template and up to 1,000 codes generated
/// now) or PROMOTION (with tiers).
#[utoipa::path(post, path = "/v1/campaigns", tag = "campaigns", request_body = CampaignIn,
    responses((status = 200, body = CampaignOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<CampaignOut>, ApiError> {
    crate::services::campaigns::create_campaign(&app, &tenant, body).await.map(Json)
}

/// Get a campaign by id or name.
#[utoipa::path(get, path = "/v1/campaigns/{campaignId}", tag = "campaigns", params(("campaignId" = String, Path)),
    responses((status = 200, body = CampaignOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<CampaignOut>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let c = find_campaign(&mut conn, tenant.id(), &raw).await?;
    Ok(Json(campaign_out(&mut conn, tenant.id(), c).await?))
}

/// A campaign's summary: redemptions, rollbacks and their amounts, codes and publications, over
/// `start_date`..=`end_date` (whole days in the project's time zone) when given.
#[utoipa::path(get, path = "/v1/campaigns/{campaignId}/summary", tag = "campaigns",
    params(("campaignId" = String, Path), crate::types::campaigns::SummaryQuery),
    responses((status = 200, body = crate::types::campaigns::CampaignSummaryOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("app" = [])))]
pub async fn campaign_summary(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<crate::types::campaigns::SummaryQuery>,
) -> Result<Json<crate::types::campaigns::CampaignSummaryOut>, ApiError> {
    let summary = crate::services::campaigns::campaign_summary(
        &app,
        &tenant,
        &raw,
        q.start_date.as_deref(),
        q.end_date.as_deref(),
    )
    .await?;
    Ok(Json(summary))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignsQuery {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000, default = 1)]
    pub page: Option<i64>,
    pub campaign_type: Option<String>,
    /// Our extension: only campaigns whose name contains this text (case-insensitive).
    #[param(max_length = 200)]
    pub name: Option<String>,
}

/// List campaigns, newest first.
#[utoipa::path(get, path = "/v1/campaigns", tag = "campaigns", params(CampaignsQuery),
    responses((status = 200, body = CampaignsList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_campaigns(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<CampaignsQuery>,
) -> Result<Json<CampaignsList>, ApiError> {
    let page = crate::extract::PageQuery { limit: q.limit, page: q.page }.page()?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let kind = q.campaign_type.as_deref().filter(|k| *k != "None");
    let name = q.name.as_deref().filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.len() > 200) {
        return Err(crate::services::events::query_error("name must be at most 200 characters"));
    }
    let (rows, total) = store::list_campaigns(&mut conn, tenant.id(), kind, name, page).await?;
    let campaigns = campaigns_out(&mut conn, tenant.id(), rows).await?;
    Ok(Json(CampaignsList { object: "list", data_ref: "campaigns", campaigns, total }))
}

/// Update a campaign (given fields replace theirs).
#[utoipa::path(put, path = "/v1/campaigns/{campaignId}", tag = "campaigns", params(("campaignId" = String, Path)), request_body = CampaignIn,
    responses((status = 200, body = CampaignOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<CampaignOut>, ApiError> {
    crate::services::campaigns::update_campaign(&app, &tenant, &raw, body).await.map(Json)
}

/// Enable a campaign.
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/enable", tag = "campaigns", params(("campaignId" = String, Path)),
    responses((status = 200, body = EmptyOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn enable_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<EmptyOut>, ApiError> {
    set_campaign_active(&app, &tenant, &raw, true).await.map(Json)
}

/// Disable a campaign.
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/disable", tag = "campaigns", params(("campaignId" = String, Path)),
    responses((status = 200, body = EmptyOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn disable_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<EmptyOut>, ApiError> {
    set_campaign_active(&app, &tenant, &raw, false).await.map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// `true`: delete for good (the name and the codes can be used again). Otherwise the
    /// campaign and its codes go to the bin: hidden, unusable, their codes still reserved.
    pub force: Option<bool>,
}

/// Delete a campaign with its vouchers and tiers (to the bin, or for good with `force=true`).
#[utoipa::path(delete, path = "/v1/campaigns/{campaignId}", tag = "campaigns", params(("campaignId" = String, Path), DeleteQuery),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    delete_campaign_or_bin(&app, &tenant, &raw, q.force == Some(true)).await?;
    Ok(StatusCode::NO_CONTENT)
}
