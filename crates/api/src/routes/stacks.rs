//! Promotion stacks: up to 30 tiers of one campaign applied together, in the listed order.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::error::invalid;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::ids;
use crate::routes::ListOut;
use crate::state::AppState;
use crate::wire::strip_nulls;
use crate::wire::timestamp;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use promo_store::PgConnection;
use promo_store::campaigns::{CampaignRow, STACKS};
use promo_store::documents::DocRow;
use serde_json::{Map, Value, json};

/// Most tiers in a stack.
pub const MAX_STACK_TIERS: usize = 30;

fn out(r: DocRow) -> Value {
    let mut v = json!({
        "id": ids::wire(ids::STACK, r.id),
        "campaign_id": r.parent_id.map(|c| ids::wire(ids::CAMPAIGN, c)),
        "created_at": timestamp(r.created_at),
        "updated_at": r.updated_at.map(timestamp),
        "object": "promotion_stack",
        "categories": [],
    });
    if let (Some(o), Value::Object(d)) = (v.as_object_mut(), r.doc.0) {
        o.extend(d);
    }
    strip_nulls(v)
}

async fn campaign(db: &mut PgConnection, project: promo_store::ProjectId, raw: &str) -> Result<CampaignRow, ApiError> {
    let id = ids::try_parse(ids::CAMPAIGN, raw);
    promo_store::campaigns::get_campaign(&mut *db, project, id, if id.is_none() { Some(raw) } else { None })
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", raw))
}

/// Checks a stack body against the campaign's tiers; returns the document to store.
async fn stack_doc(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    campaign: &CampaignRow,
    body: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let name =
        body.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty() && n.chars().count() <= 200);
    let name = name.ok_or_else(|| invalid("Property .name must be a non-empty string of at most 200 characters"))?;
    let tier_ids: Vec<String> = body
        .get("tiers")
        .and_then(|t| t.get("ids"))
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("Property .tiers.ids is required"))?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| invalid("Property .tiers.ids must hold tier ids")))
        .collect::<Result<_, _>>()?;
    if tier_ids.is_empty() || tier_ids.len() > MAX_STACK_TIERS {
        return Err(invalid(format!("Property .tiers.ids must hold 1 to {MAX_STACK_TIERS} tiers")));
    }
    let mut seen = std::collections::HashSet::new();
    for raw in &tier_ids {
        if !seen.insert(raw) {
            return Err(invalid(format!("Property .tiers.ids lists {raw} twice")));
        }
        let id = ids::parse(ids::TIER, "promotion_tier", raw)?;
        let tier = promo_store::campaigns::get_tier(&mut *db, project, id)
            .await?
            .ok_or_else(|| ApiError::not_found("promotion_tier", raw))?;
        if tier.campaign_id != campaign.campaign_id {
            return Err(invalid(format!("Promotion tier {raw} does not belong to this campaign")));
        }
    }
    if body.get("category_id").is_some_and(|c| !c.is_string() && !c.is_null()) {
        return Err(invalid("Property .category_id must be a category id"));
    }
    if let Some(c) = body.get("category_id").and_then(Value::as_str) {
        let cid = ids::try_parse(ids::CATEGORY, c).ok_or_else(|| ApiError::not_found("category", c))?;
        promo_store::categories::get(&mut *db, project, cid)
            .await?
            .ok_or_else(|| ApiError::not_found("category", c))?;
    }
    Ok(
        json!({"name": name, "tiers": {"ids": tier_ids, "hierarchy_mode": "MANUAL"}, "category_id": body.get("category_id")}),
    )
}

/// Create a promotion stack in a campaign.
#[utoipa::path(post, path = "/v1/promotions/{campaignId}/stacks", tag = "promotions", params(("campaignId" = String, Path)), request_body = crate::types::admin::StackIn,
    responses((status = 200, body = crate::types::admin::StackOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_stack(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let c = campaign(&mut conn, tenant.id(), &raw).await?;
    let doc = stack_doc(&mut conn, tenant.id(), &c, &body).await?;
    let row = STACKS.insert(&mut *conn, tenant.id(), promo_store::new_id(), Some(c.campaign_id), None, &doc).await?;
    Ok(Json(out(row)))
}

async fn find(
    conn: &mut PgConnection,
    tenant: &Tenant,
    campaign_raw: &str,
    raw: &str,
) -> Result<(CampaignRow, DocRow), ApiError> {
    let c = campaign(conn, tenant.id(), campaign_raw).await?;
    let id = ids::parse(ids::STACK, "promotion_stack", raw)?;
    let row = STACKS.get(&mut *conn, tenant.id(), Some(id), None).await?.filter(|r| r.parent_id == Some(c.campaign_id));
    Ok((c, row.ok_or_else(|| ApiError::not_found("promotion_stack", raw))?))
}

/// Get a promotion stack.
#[utoipa::path(get, path = "/v1/promotions/{campaignId}/stacks/{stackId}", tag = "promotions", params(("campaignId" = String, Path), ("stackId" = String, Path)),
    responses((status = 200, body = crate::types::admin::StackOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_stack(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((c, raw)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    Ok(Json(out(find(&mut conn, &tenant, &c, &raw).await?.1)))
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
    let mut conn = promo_store::acquire(&app.db).await?;
    let (campaign, row) = find(&mut conn, &tenant, &c, &raw).await?;
    let mut merged = match row.doc.0.clone() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    merged.extend(body);
    let doc = stack_doc(&mut conn, tenant.id(), &campaign, &merged).await?;
    let updated = STACKS
        .update(&mut *conn, tenant.id(), row.id, None, &doc)
        .await?
        .ok_or_else(|| ApiError::not_found("promotion_stack", &raw))?;
    Ok(Json(out(updated)))
}

/// Delete a promotion stack.
#[utoipa::path(delete, path = "/v1/promotions/{campaignId}/stacks/{stackId}", tag = "promotions", params(("campaignId" = String, Path), ("stackId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_stack(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((c, raw)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (_, row) = find(&mut conn, &tenant, &c, &raw).await?;
    STACKS.delete(&mut *conn, tenant.id(), row.id).await?;
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
    let mut conn = promo_store::acquire(&app.db).await?;
    let c = campaign(&mut conn, tenant.id(), &raw).await?;
    let (rows, total) = STACKS.list(&mut conn, tenant.id(), Some(c.campaign_id), q.page()?).await?;
    Ok(Json(ListOut::new(rows.into_iter().map(out).collect(), total)))
}

/// List every promotion stack of the project.
#[utoipa::path(get, path = "/v1/promotions/stacks", tag = "promotions", params(PageQuery),
    responses((status = 200, body = ListOut<crate::types::admin::StackOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_stacks(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<Value>>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = STACKS.list(&mut conn, tenant.id(), None, q.page()?).await?;
    Ok(Json(ListOut::new(rows.into_iter().map(out).collect(), total)))
}
