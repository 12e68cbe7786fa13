//! Campaigns (DISCOUNT_COUPONS and PROMOTION).

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::error::invalid;
use crate::extract::{ApiJson, ApiQuery};
use crate::ids;
use crate::services::campaigns::*;
use crate::services::codes::{CodeConfig, MAX_ASYNC_CODES, MAX_SYNC_CODES};
use crate::services::vouchers::*;
use crate::state::AppState;
use crate::types::campaigns::{CampaignIn, CampaignOut, CampaignsList};
use crate::types::common::EmptyOut;
use crate::wire::metadata;
use crate::wire::object;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use promo_store::campaigns::{self as store, CampaignKeys};
use serde::Deserialize;
use serde_json::{Map, Value, json};
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
    let body = object(body);
    check_campaign_types(&body)?;
    let name =
        body.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty() && n.chars().count() <= 200);
    let name =
        name.ok_or_else(|| invalid("Property .name must be a non-empty string of at most 200 characters"))?.to_owned();
    let campaign_type = body.get("campaign_type").and_then(Value::as_str).unwrap_or("DISCOUNT_COUPONS").to_owned();
    if !["DISCOUNT_COUPONS", "PROMOTION"].contains(&campaign_type.as_str()) {
        return Err(invalid(format!(
            "Property .campaign_type `{campaign_type}` is not supported yet (DISCOUNT_COUPONS, PROMOTION)"
        )));
    }
    let default_type = if campaign_type == "PROMOTION" { "STATIC" } else { "AUTO_UPDATE" };
    let type_ = body.get("type").and_then(Value::as_str).unwrap_or(default_type).to_owned();
    if !["AUTO_UPDATE", "STATIC", "STANDALONE"].contains(&type_.as_str()) {
        return Err(invalid("Property .type must be AUTO_UPDATE, STATIC or STANDALONE"));
    }
    check_schedule(&body, "")?;
    let count = body
        .get("vouchers_count")
        .map(|c| c.as_i64().filter(|c| (0..=MAX_ASYNC_CODES).contains(c)))
        .map(|c| c.ok_or_else(|| invalid(format!("Property .vouchers_count must be within 0..={MAX_ASYNC_CODES}"))));
    let count = count.transpose()?.unwrap_or(0);
    let mut doc = Map::new();
    for k in CAMPAIGN_FIELDS {
        if let Some(v) = body.get(*k) {
            doc.insert((*k).into(), v.clone());
        }
    }
    doc.insert("metadata".into(), Value::Object(metadata(body.get("metadata").cloned())?));
    let mut tx = promo_store::begin(&app.db).await?;
    let category_id = category_of(&mut tx, tenant.id(), &doc).await?;
    let mut template = None;
    if campaign_type == "DISCOUNT_COUPONS" {
        let voucher = body
            .get("voucher")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("Property .voucher is required for DISCOUNT_COUPONS"))?;
        let v = voucher_doc(voucher, "voucher.")?;
        let config = CodeConfig::parse(voucher.get("code_config"), "voucher.code_config")?;
        let mut with_config = v.clone();
        with_config.insert("code_config".into(), config.to_json());
        doc.insert("voucher".into(), Value::Object(with_config));
        template = Some((config, Value::Object(v)));
    }
    let id = promo_store::new_id();
    let keys = CampaignKeys { name: &name, campaign_type: &campaign_type, type_: &type_, active: true, category_id };
    promo_store::campaigns::insert_campaign(&mut tx, tenant.id(), id, &keys, &Value::Object(doc)).await?;
    assign_rules(
        &mut tx,
        tenant.id(),
        body.get("validation_rules"),
        "campaign",
        &ids::wire(ids::CAMPAIGN, id),
        "validation_rules",
    )
    .await?;
    if let Some((config, v)) = &template {
        // Vouchers keep the template's fields; schedule and metadata come from the campaign.
        let cs = tenant.project.case_sensitive_codes;
        config.check_room(count, cs, "voucher.code_config")?;
        if count > MAX_SYNC_CODES {
            crate::services::jobs::enqueue_generation(&mut tx, &tenant, id, config, count, v).await?;
        } else {
            crate::services::codes::generate_now(&mut tx, tenant.id(), id, None, (config, cs), count as usize, v)
                .await?;
        }
    }
    if campaign_type == "PROMOTION" {
        let tiers =
            body.get("promotion").and_then(|p| p.get("tiers")).and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, t) in tiers.into_iter().enumerate() {
            create_tier_row(&mut tx, &tenant, id, &object(t), &format!("promotion.tiers[{i}].")).await?;
        }
    }
    let row = store::get_campaign(&mut *tx, tenant.id(), Some(id), None)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", &name))?;
    let out = campaign_out(&mut tx, tenant.id(), row).await?;
    promo_store::commit(tx).await?;
    Ok(Json(out))
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
    let (rows, total) = store::list_campaigns(&mut conn, tenant.id(), kind, page).await?;
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
    let mut tx = promo_store::begin(&app.db).await?;
    let c = find_campaign(&mut tx, tenant.id(), &raw).await?;
    let body = object(body);
    check_campaign_types(&body)?;
    let mut doc = object(c.doc.0.clone());
    for k in CAMPAIGN_FIELDS.iter().chain(&["metadata"]) {
        if let Some(v) = body.get(*k) {
            doc.insert((*k).into(), v.clone());
        }
    }
    check_schedule(&doc, "")?;
    doc.insert("metadata".into(), Value::Object(metadata(doc.get("metadata").cloned())?));
    if let (Some(v), Some(existing)) =
        (body.get("voucher").and_then(Value::as_object), doc.get("voucher").and_then(Value::as_object).cloned())
    {
        let mut merged = existing.clone();
        merged.extend(v.clone());
        let config = merged.get("code_config").cloned();
        let mut checked = voucher_doc(&merged, "voucher.")?;
        checked.insert("code_config".into(), config.unwrap_or_else(|| json!({})));
        doc.insert("voucher".into(), Value::Object(checked));
    }
    let category_id = category_of(&mut tx, tenant.id(), &doc).await?;
    let type_ = body.get("type").and_then(Value::as_str).unwrap_or(&c.type_).to_owned();
    let keys =
        CampaignKeys { name: &c.name, campaign_type: &c.campaign_type, type_: &type_, active: c.active, category_id };
    store::update_campaign(&mut *tx, tenant.id(), c.campaign_id, &keys, &Value::Object(doc)).await?;
    let row = store::get_campaign(&mut *tx, tenant.id(), Some(c.campaign_id), None)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", &raw))?;
    let out = campaign_out(&mut tx, tenant.id(), row).await?;
    promo_store::commit(tx).await?;
    Ok(Json(out))
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
    let mut tx = promo_store::begin(&app.db).await?;
    let found = find_campaign(&mut tx, tenant.id(), &raw).await;
    match (found, q.force == Some(true)) {
        (Ok(c), false) => {
            store::bin_campaign(&mut tx, tenant.id(), c.campaign_id).await?;
        }
        (Ok(c), true) => {
            store::delete_campaign(&mut tx, tenant.id(), c.campaign_id).await?;
        }
        // A campaign in the bin can still be deleted for good (which frees its name and codes).
        (Err(not_found), true) => {
            let id = ids::try_parse(ids::CAMPAIGN, &raw);
            let name = if id.is_none() { Some(raw.as_str()) } else { None };
            let binned = store::binned_campaign(&mut *tx, tenant.id(), id, name).await?.ok_or(not_found)?;
            store::delete_campaign(&mut tx, tenant.id(), binned).await?;
        }
        (Err(not_found), false) => return Err(not_found),
    }
    promo_store::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}
