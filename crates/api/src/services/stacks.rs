//! Promotion stacks: up to 30 tiers of one campaign applied together, in the listed order.

use crate::error::ApiError;
use crate::error::invalid;
use crate::ids;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::common::ListOut;
use crate::wire::strip_nulls;
use crate::wire::timestamp;
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
    if let Some(k) = body.keys().find(|k| !["name", "tiers", "category_id"].contains(&k.as_str())) {
        return Err(invalid(format!("Property .{k} is not read here (name, tiers, category_id)")));
    }
    if let Some(k) = body.get("tiers").and_then(Value::as_object).and_then(|t| {
        t.keys().find(|k| *k != "ids" && !(*k == "hierarchy_mode" && t.get("hierarchy_mode") == Some(&json!("MANUAL"))))
    }) {
        return Err(invalid(format!("Property .tiers.{k} is not read here (tiers.ids; hierarchy_mode is MANUAL)")));
    }
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
        if !promo_store::categories::hold(&mut *db, project, cid).await? {
            return Err(ApiError::not_found("category", c));
        }
    }
    Ok(
        json!({"name": name, "tiers": {"ids": tier_ids, "hierarchy_mode": "MANUAL"}, "category_id": body.get("category_id")}),
    )
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

/// Create a promotion stack in a campaign.
pub(crate) async fn create_stack(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    body: Map<String, Value>,
) -> Result<Value, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let c = campaign(&mut conn, tenant.id(), raw).await?;
    let doc = stack_doc(&mut conn, tenant.id(), &c, &body).await?;
    let row = STACKS.insert(&mut *conn, tenant.id(), promo_store::new_id(), Some(c.campaign_id), None, &doc).await?;
    Ok(out(row))
}

/// Get a promotion stack.
pub(crate) async fn get_stack(app: &AppState, tenant: &Tenant, (c, raw): (&str, &str)) -> Result<Value, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    Ok(out(find(&mut conn, tenant, c, raw).await?.1))
}

/// Update a promotion stack (name, tiers, category).
pub(crate) async fn update_stack(
    app: &AppState,
    tenant: &Tenant,
    (c, raw): (&str, &str),
    body: Map<String, Value>,
) -> Result<Value, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (campaign, row) = find(&mut conn, tenant, c, raw).await?;
    let mut merged = match row.doc.0.clone() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    merged.extend(body);
    let doc = stack_doc(&mut conn, tenant.id(), &campaign, &merged).await?;
    let updated = STACKS
        .update(&mut *conn, tenant.id(), row.id, None, &doc)
        .await?
        .ok_or_else(|| ApiError::not_found("promotion_stack", raw))?;
    Ok(out(updated))
}

/// Delete a promotion stack.
pub(crate) async fn delete_stack(app: &AppState, tenant: &Tenant, (c, raw): (&str, &str)) -> Result<(), ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (_, row) = find(&mut conn, tenant, c, raw).await?;
    STACKS.delete(&mut *conn, tenant.id(), row.id).await?;
    Ok(())
}

/// List the stacks of a campaign.
pub(crate) async fn list_campaign_stacks(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    page: promo_store::Page,
) -> Result<ListOut<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let c = campaign(&mut conn, tenant.id(), raw).await?;
    let (rows, total) = STACKS.list(&mut conn, tenant.id(), Some(c.campaign_id), page).await?;
    Ok(ListOut::new(rows.into_iter().map(out).collect(), total))
}

/// List every promotion stack of the project.
pub(crate) async fn list_stacks(
    app: &AppState,
    tenant: &Tenant,
    page: promo_store::Page,
) -> Result<ListOut<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = STACKS.list(&mut conn, tenant.id(), None, page).await?;
    Ok(ListOut::new(rows.into_iter().map(out).collect(), total))
}
