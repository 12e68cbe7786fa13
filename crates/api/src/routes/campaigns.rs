//! Campaigns (DISCOUNT_COUPONS and PROMOTION), vouchers and promotion tiers. Discounts and time
//! windows are compiled by the engine when written.

use crate::auth::Tenant;
pub use crate::codes::code_key;
use crate::codes::{CodeConfig, MAX_ASYNC_CODES, MAX_SYNC_CODES, check_code};
use crate::error::{ApiError, ErrorKey};
use crate::extract::{ApiJson, ApiQuery, strip_nulls};
use crate::ids;
use crate::routes::metadata;
use crate::routes::projects::timestamp;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use promo_engine::schedule::{Schedule, ScheduleDef};
use promo_engine::{Discount, DiscountDef};
use promo_store::PgConnection;
use promo_store::campaigns::{self as store, CampaignKeys, CampaignRow, TierRow, VoucherRow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub(crate) fn invalid(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKey::InvalidPayload).details(details)
}

fn engine_error(e: promo_engine::DefinitionError) -> ApiError {
    invalid(format!("Property .{} {}", e.path, e.kind))
}

/// Checks the schedule fields of an object with the engine; `prefix` names it in errors.
fn check_schedule(obj: &Map<String, Value>, prefix: &str) -> Result<(), ApiError> {
    let fields = crate::definitions::schedule_fields(obj);
    let def: ScheduleDef = serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
        let path = if prefix.is_empty() { e.path().to_string() } else { format!("{prefix}.{}", e.path()) };
        invalid(format!("Property .{path}: {}", e.inner()))
    })?;
    Schedule::compile(&def, prefix).map_err(engine_error)?;
    Ok(())
}

/// Checks a discount with the engine and returns it as stored.
fn check_discount(v: Option<&Value>, path: &str) -> Result<Value, ApiError> {
    let v = v.ok_or_else(|| invalid(format!("Property .{path} is required")))?;
    let def: DiscountDef = serde_path_to_error::deserialize(v)
        .map_err(|e| invalid(format!("Property .{path}.{}: {}", e.path(), e.inner())))?;
    Discount::compile(&def, path).map_err(engine_error)?;
    Ok(v.clone())
}

pub(crate) fn object(v: Value) -> Map<String, Value> {
    match strip_nulls(v) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

async fn assign_rules(
    db: &mut PgConnection,
    project: Uuid,
    rules: Option<&Value>,
    kind: &str,
    object_id: &str,
    path: &str,
) -> Result<(), ApiError> {
    let ids: Vec<&str> = match rules {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().ok_or_else(|| invalid(format!("Property .{path} must hold rule ids"))))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid(format!("Property .{path} must be an array of validation rule ids"))),
    };
    if ids.len() > 1 {
        return Err(invalid(format!("Property .{path} holds at most one validation rule")));
    }
    for raw in ids {
        let rule =
            ids::try_parse(ids::VALIDATION_RULE, raw).ok_or_else(|| ApiError::not_found("validation_rules", raw))?;
        promo_store::validation_rules::get(&mut *db, project, rule)
            .await?
            .ok_or_else(|| ApiError::not_found("validation_rules", raw))?;
        promo_store::validation_rules::assign(&mut *db, project, promo_store::new_id(), rule, kind, object_id).await?;
    }
    Ok(())
}

async fn assignments(db: &mut PgConnection, project: Uuid, object_id: &str) -> Result<Value, ApiError> {
    let page = promo_store::Page { limit: 100, offset: 0 };
    let (rows, total) =
        promo_store::validation_rules::list_assignments(db, project, None, Some(object_id), page).await?;
    let data: Vec<Value> = rows
        .into_iter()
        .map(|a| {
            json!({"id": ids::wire(ids::ASSIGNMENT, a.assignment_id), "rule_id": ids::wire(ids::VALIDATION_RULE, a.rule_id),
                   "related_object_id": a.related_object_id, "related_object_type": a.related_object_type,
                   "created_at": timestamp(a.created_at), "object": "validation_rules_assignment"})
        })
        .collect();
    Ok(json!({"object": "list", "data_ref": "data", "data": data, "total": total}))
}

async fn category_of(db: &mut PgConnection, project: Uuid, obj: &Map<String, Value>) -> Result<Option<Uuid>, ApiError> {
    match obj.get("category_id").and_then(Value::as_str) {
        None => Ok(None),
        Some(raw) => {
            let id = ids::try_parse(ids::CATEGORY, raw).ok_or_else(|| ApiError::not_found("category", raw))?;
            promo_store::categories::get(&mut *db, project, id)
                .await?
                .ok_or_else(|| ApiError::not_found("category", raw))?;
            Ok(Some(id))
        }
    }
}

// ---------- vouchers ----------

pub(crate) fn voucher_out(v: VoucherRow, assignments: Value) -> Value {
    let doc = object(v.doc.0);
    let quantity = doc.get("redemption").and_then(|r| r.get("quantity")).cloned().unwrap_or(Value::Null);
    let mut out = json!({
        "id": ids::wire(ids::VOUCHER, v.voucher_id),
        "code": v.code,
        "campaign": v.campaign_name,
        "campaign_id": v.campaign_id.map(|c| ids::wire(ids::CAMPAIGN, c)),
        "category": Value::Null, "category_id": Value::Null, "categories": [],
        "type": "DISCOUNT_VOUCHER",
        "gift": Value::Null, "loyalty_card": Value::Null,
        "active": v.active,
        "metadata": {},
        "is_referral_code": false,
        "created_at": timestamp(v.created_at),
        "updated_at": v.updated_at.map(timestamp),
        "holder_id": v.holder_id.map(|h| ids::wire(ids::CUSTOMER, h)),
        "object": "voucher",
        "publish": {"object": "list", "count": v.publish_count, "url": format!("/v1/vouchers/{}/publications?page=1&limit=10", v.code)},
        "redemption": {"quantity": quantity, "redeemed_quantity": v.redeemed_quantity.unwrap_or(0), "redeemed_points": 0, "object": "list",
                       "url": format!("/v1/vouchers/{}/redemptions?page=1&limit=10", v.code)},
        "validation_rules_assignments": assignments,
    });
    if let Some(o) = out.as_object_mut() {
        for (k, val) in doc {
            if k != "redemption" {
                o.insert(k, val);
            }
        }
    }
    out
}

/// The voucher fields of a body (standalone voucher or campaign template), checked.
pub(crate) fn voucher_doc(body: &Map<String, Value>, path: &str) -> Result<Map<String, Value>, ApiError> {
    use crate::hygiene::{Kind, SCHEDULE_TYPES, expect_types};
    expect_types(body, path, SCHEDULE_TYPES)?;
    expect_types(
        body,
        path,
        &[
            ("code", Kind::String),
            ("type", Kind::String),
            ("active", Kind::Bool),
            ("additional_info", Kind::String),
            ("category_id", Kind::String),
            ("category", Kind::String),
            ("discount", Kind::Object),
            ("redemption", Kind::Object),
            ("metadata", Kind::Object),
            ("validation_rules", Kind::Array),
            ("campaign", Kind::String),
            ("campaign_id", Kind::String),
            ("code_config", Kind::Object),
        ],
    )?;
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("DISCOUNT_VOUCHER");
    if kind != "DISCOUNT_VOUCHER" {
        return Err(invalid(format!("Property .{path}type `{kind}` is not supported yet (DISCOUNT_VOUCHER only)")));
    }
    let discount = check_discount(body.get("discount"), &format!("{path}discount"))?;
    check_schedule(body, path.trim_end_matches('.'))?;
    let quantity = body.get("redemption").and_then(|r| r.get("quantity")).cloned().unwrap_or(Value::Null);
    if !quantity.is_null() && quantity.as_i64().is_none_or(|q| q < 1) {
        return Err(invalid(format!("Property .{path}redemption.quantity must be a positive integer or null")));
    }
    let mut doc = Map::new();
    for k in [
        "additional_info",
        "start_date",
        "expiration_date",
        "validity_timeframe",
        "validity_day_of_week",
        "validity_hours",
    ] {
        if let Some(v) = body.get(k) {
            doc.insert(k.into(), v.clone());
        }
    }
    doc.insert("type".into(), json!("DISCOUNT_VOUCHER"));
    doc.insert("discount".into(), discount);
    doc.insert("redemption".into(), json!({"quantity": quantity}));
    doc.insert("metadata".into(), Value::Object(metadata(body.get("metadata").cloned())?));
    Ok(doc)
}

async fn create_voucher_row(
    db: &mut PgConnection,
    tenant: &Tenant,
    code: &str,
    campaign: Option<Uuid>,
    active: bool,
    doc: &Value,
) -> Result<Option<Uuid>, ApiError> {
    let id = promo_store::new_id();
    let key = code_key(code, tenant.project.case_sensitive_codes);
    Ok(store::insert_voucher(&mut *db, tenant.id(), id, code, &key, campaign, active, doc).await?.then_some(id))
}

pub(crate) async fn find_voucher(db: &mut PgConnection, tenant: &Tenant, raw: &str) -> Result<VoucherRow, ApiError> {
    let id = ids::try_parse(ids::VOUCHER, raw);
    let key = code_key(raw, tenant.project.case_sensitive_codes);
    store::get_voucher(&mut *db, tenant.id(), id, &key).await?.ok_or_else(|| ApiError::not_found("voucher", raw))
}

pub(crate) async fn voucher_response(
    db: &mut PgConnection,
    tenant: &Tenant,
    v: VoucherRow,
) -> Result<Json<Value>, ApiError> {
    let a = assignments(db, tenant.id(), &ids::wire(ids::VOUCHER, v.voucher_id)).await?;
    Ok(Json(voucher_out(v, a)))
}

async fn create_standalone(
    app: &AppState,
    tenant: &Tenant,
    code: Option<String>,
    body: Value,
) -> Result<Json<Value>, ApiError> {
    let body = object(body);
    let doc = voucher_doc(&body, "")?;
    let active = body
        .get("active")
        .map(|a| a.as_bool().ok_or_else(|| invalid("Property .active must be a boolean")))
        .transpose()?
        .unwrap_or(true);
    let mut tx = promo_store::begin(&app.db).await?;
    let config = CodeConfig::parse(body.get("code_config"), "code_config")?;
    let code = match code.or_else(|| body.get("code").and_then(Value::as_str).map(str::to_owned)) {
        Some(c) => c,
        None => config.generate(),
    };
    check_code(&code)?;
    let id = create_voucher_row(&mut tx, tenant, &code, None, active, &Value::Object(doc)).await?.ok_or_else(|| {
        ApiError::new(ErrorKey::DuplicateFound).details(format!("A voucher with code {code} already exists"))
    })?;
    assign_rules(
        &mut tx,
        tenant.id(),
        body.get("validation_rules"),
        "voucher",
        &ids::wire(ids::VOUCHER, id),
        "validation_rules",
    )
    .await?;
    let row = store::get_voucher(&mut *tx, tenant.id(), Some(id), "")
        .await?
        .ok_or_else(|| ApiError::not_found("voucher", &code))?;
    let out = voucher_response(&mut tx, tenant, row).await?;
    promo_store::commit(tx).await?;
    Ok(out)
}

/// Create a voucher with a generated code (`code` or `code_config` in the body are honoured).
#[utoipa::path(post, path = "/v1/vouchers", tag = "vouchers", request_body = Object,
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    create_standalone(&app, &tenant, None, body).await
}

/// Create a voucher with a specific code.
#[utoipa::path(post, path = "/v1/vouchers/{code}", tag = "vouchers", params(("code" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_voucher_with_code(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    create_standalone(&app, &tenant, Some(code), body).await
}

/// Get a voucher by code or id.
#[utoipa::path(get, path = "/v1/vouchers/{code}", tag = "vouchers", params(("code" = String, Path)),
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let v = find_voucher(&mut conn, &tenant, &raw).await?;
    voucher_response(&mut conn, &tenant, v).await
}

/// Update a voucher (given fields replace theirs; the discount is compiled again).
#[utoipa::path(put, path = "/v1/vouchers/{code}", tag = "vouchers", params(("code" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let v = find_voucher(&mut conn, &tenant, &raw).await?;
    let mut merged = object(v.doc.0.clone());
    let body = object(body);
    let active = body.get("active").and_then(Value::as_bool).unwrap_or(v.active);
    for (k, val) in body {
        if !["code", "active", "campaign", "campaign_id"].contains(&k.as_str()) {
            merged.insert(k, val);
        }
    }
    let doc = voucher_doc(&merged, "")?;
    store::update_voucher(&mut *conn, tenant.id(), v.voucher_id, active, &Value::Object(doc)).await?;
    let v = find_voucher(&mut conn, &tenant, &raw).await?;
    voucher_response(&mut conn, &tenant, v).await
}

async fn set_voucher_active(app: &AppState, tenant: &Tenant, raw: &str, active: bool) -> Result<Json<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let v = find_voucher(&mut conn, tenant, raw).await?;
    store::update_voucher(&mut *conn, tenant.id(), v.voucher_id, active, &v.doc.0).await?;
    let v = find_voucher(&mut conn, tenant, raw).await?;
    voucher_response(&mut conn, tenant, v).await
}

/// Enable a voucher.
#[utoipa::path(post, path = "/v1/vouchers/{code}/enable", tag = "vouchers", params(("code" = String, Path)),
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn enable_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_voucher_active(&app, &tenant, &raw, true).await
}

/// Disable a voucher.
#[utoipa::path(post, path = "/v1/vouchers/{code}/disable", tag = "vouchers", params(("code" = String, Path)),
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn disable_voucher(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_voucher_active(&app, &tenant, &raw, false).await
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
    pub limit: Option<i64>,
    pub page: Option<i64>,
    pub campaign_id: Option<String>,
    /// Campaign name.
    pub campaign: Option<String>,
}

/// The vouchers list envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct VouchersList {
    pub object: &'static str,
    pub data_ref: &'static str,
    #[schema(value_type = Vec<Object>)]
    pub vouchers: Vec<Value>,
    pub total: i64,
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
    let mut conn = promo_store::acquire(&app.db).await?;
    let empty = || Json(VouchersList { object: "list", data_ref: "vouchers", vouchers: Vec::new(), total: 0 });
    // An unknown campaign matches no voucher (the SDK sends the string "None" for unset filters).
    let campaign =
        match (q.campaign_id.as_deref().filter(|c| *c != "None"), q.campaign.as_deref().filter(|c| *c != "None")) {
            (Some(raw), _) => match ids::try_parse(ids::CAMPAIGN, raw) {
                Some(c) => Some(c),
                None => return Ok(empty()),
            },
            (None, Some(name)) => match store::get_campaign(&mut *conn, tenant.id(), None, Some(name)).await? {
                Some(c) => Some(c.campaign_id),
                None => return Ok(empty()),
            },
            (None, None) => None,
        };
    let (rows, total) = store::list_vouchers(&mut conn, tenant.id(), campaign, page).await?;
    let mut vouchers = Vec::with_capacity(rows.len());
    for v in rows {
        let a = assignments(&mut conn, tenant.id(), &ids::wire(ids::VOUCHER, v.voucher_id)).await?;
        vouchers.push(voucher_out(v, a));
    }
    Ok(Json(VouchersList { object: "list", data_ref: "vouchers", vouchers, total }))
}

// ---------- promotion tiers ----------

fn tier_doc(body: &Map<String, Value>, path: &str) -> Result<Map<String, Value>, ApiError> {
    use crate::hygiene::{Kind, SCHEDULE_TYPES, expect_types};
    expect_types(body, path, SCHEDULE_TYPES)?;
    expect_types(
        body,
        path,
        &[
            ("name", Kind::String),
            ("banner", Kind::String),
            ("hierarchy", Kind::Integer),
            ("active", Kind::Bool),
            ("action", Kind::Object),
            ("metadata", Kind::Object),
            ("validation_rules", Kind::Array),
            ("validation_rule_assignments", Kind::Array),
            ("category_id", Kind::String),
        ],
    )?;
    let name =
        body.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty() && n.chars().count() <= 200);
    let name = name
        .ok_or_else(|| invalid(format!("Property .{path}name must be a non-empty string of at most 200 characters")))?;
    let discount =
        check_discount(body.get("action").and_then(|a| a.get("discount")), &format!("{path}action.discount"))?;
    check_schedule(body, path.trim_end_matches('.'))?;
    if let Some(h) = body.get("hierarchy")
        && h.as_i64().is_none_or(|h| !(0..=i64::from(i32::MAX)).contains(&h))
    {
        return Err(invalid(format!("Property .{path}hierarchy must be a non-negative integer")));
    }
    let mut doc = Map::new();
    for k in [
        "banner",
        "start_date",
        "expiration_date",
        "validity_timeframe",
        "validity_day_of_week",
        "validity_hours",
        "category_id",
    ] {
        if let Some(v) = body.get(k) {
            doc.insert(k.into(), v.clone());
        }
    }
    doc.insert("name".into(), json!(name));
    doc.insert("action".into(), json!({"discount": discount}));
    doc.insert("metadata".into(), Value::Object(metadata(body.get("metadata").cloned())?));
    Ok(doc)
}

async fn create_tier_row(
    db: &mut PgConnection,
    tenant: &Tenant,
    campaign: Uuid,
    body: &Map<String, Value>,
    path: &str,
) -> Result<TierRow, ApiError> {
    let doc = tier_doc(body, path)?;
    category_of(&mut *db, tenant.id(), &doc).await?;
    let hierarchy = body.get("hierarchy").and_then(Value::as_i64).and_then(|h| i32::try_from(h).ok());
    let active = body.get("active").and_then(Value::as_bool).unwrap_or(true);
    let row = store::insert_tier(
        &mut *db,
        tenant.id(),
        promo_store::new_id(),
        campaign,
        hierarchy,
        active,
        &Value::Object(doc),
    )
    .await?;
    let rules = body.get("validation_rules").or_else(|| body.get("validation_rule_assignments"));
    assign_rules(
        &mut *db,
        tenant.id(),
        rules,
        "promotion_tier",
        &ids::wire(ids::TIER, row.tier_id),
        &format!("{path}validation_rules"),
    )
    .await?;
    Ok(row)
}

async fn tier_out(db: &mut PgConnection, project: Uuid, t: TierRow, campaign: &CampaignRow) -> Result<Value, ApiError> {
    let tier_id = ids::wire(ids::TIER, t.tier_id);
    let assignments = assignments(&mut *db, project, &tier_id).await?;
    let camp_doc = &campaign.doc.0;
    let mut out = json!({
        "id": tier_id,
        "created_at": timestamp(t.created_at),
        "updated_at": t.updated_at.map(timestamp),
        "hierarchy": t.hierarchy,
        "promotion_id": ids::wire(ids::CAMPAIGN, t.campaign_id),
        "campaign_id": ids::wire(ids::CAMPAIGN, t.campaign_id),
        "campaign": {"id": ids::wire(ids::CAMPAIGN, t.campaign_id), "active": campaign.active, "object": "campaign",
                     "start_date": camp_doc.get("start_date"), "expiration_date": camp_doc.get("expiration_date")},
        "active": t.active,
        "summary": {"redemptions": {"total_redeemed": 0}, "orders": {"total_amount": 0, "total_discount_amount": 0}},
        "object": "promotion_tier",
        "validation_rule_assignments": assignments,
        "categories": [],
    });
    if let Some(o) = out.as_object_mut() {
        o.extend(object(t.doc.0));
    }
    Ok(strip_nulls(out))
}

pub(crate) async fn find_campaign(db: &mut PgConnection, project: Uuid, raw: &str) -> Result<CampaignRow, ApiError> {
    let id = ids::try_parse(ids::CAMPAIGN, raw);
    store::get_campaign(&mut *db, project, id, if id.is_none() { Some(raw) } else { None })
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", raw))
}

async fn find_tier(db: &mut PgConnection, project: Uuid, raw: &str) -> Result<(TierRow, CampaignRow), ApiError> {
    let id = ids::parse(ids::TIER, "promotion_tier", raw)?;
    let tier =
        store::get_tier(&mut *db, project, id).await?.ok_or_else(|| ApiError::not_found("promotion_tier", raw))?;
    let campaign = store::get_campaign(&mut *db, project, Some(tier.campaign_id), None)
        .await?
        .ok_or_else(|| ApiError::not_found("promotion_tier", raw))?;
    Ok((tier, campaign))
}

/// Add a promotion tier to a PROMOTION campaign.
#[utoipa::path(post, path = "/v1/promotions/{campaignId}/tiers", tag = "promotions", params(("campaignId" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
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

/// The tiers list envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct TiersList {
    pub object: &'static str,
    pub data_ref: &'static str,
    #[schema(value_type = Vec<Object>)]
    pub tiers: Vec<Value>,
    pub total: i64,
    pub has_more: bool,
}

async fn tiers_list(
    db: &mut PgConnection,
    project: Uuid,
    campaign: Option<&CampaignRow>,
    page: promo_store::Page,
) -> Result<TiersList, ApiError> {
    let (rows, total) = store::list_tiers(&mut *db, project, campaign.map(|c| c.campaign_id), page).await?;
    let mut tiers = Vec::with_capacity(rows.len());
    for t in rows {
        let owner = match campaign {
            Some(c) => c.clone(),
            None => store::get_campaign(&mut *db, project, Some(t.campaign_id), None)
                .await?
                .ok_or_else(|| ApiError::internal(promo_store::StoreError::Corrupt("tier without campaign".into())))?,
        };
        tiers.push(tier_out(&mut *db, project, t, &owner).await?);
    }
    let has_more = page.offset + (tiers.len() as i64) < total;
    Ok(TiersList { object: "list", data_ref: "tiers", tiers, total, has_more })
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
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (tier, campaign) = find_tier(&mut conn, tenant.id(), &raw).await?;
    Ok(Json(tier_out(&mut conn, tenant.id(), tier, &campaign).await?))
}

/// Update a tier (given fields replace theirs; the discount is compiled again).
#[utoipa::path(put, path = "/v1/promotions/tiers/{promotionTierId}", tag = "promotions", params(("promotionTierId" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
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

async fn set_tier_active(app: &AppState, tenant: &Tenant, raw: &str, active: bool) -> Result<Json<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (tier, campaign) = find_tier(&mut conn, tenant.id(), raw).await?;
    let row = store::update_tier(&mut *conn, tenant.id(), tier.tier_id, tier.hierarchy, active, &tier.doc.0)
        .await?
        .ok_or_else(|| ApiError::not_found("promotion_tier", raw))?;
    Ok(Json(tier_out(&mut conn, tenant.id(), row, &campaign).await?))
}

/// Enable a tier.
#[utoipa::path(post, path = "/v1/promotions/tiers/{promotionTierId}/enable", tag = "promotions", params(("promotionTierId" = String, Path)),
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn enable_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_tier_active(&app, &tenant, &raw, true).await
}

/// Disable a tier.
#[utoipa::path(post, path = "/v1/promotions/tiers/{promotionTierId}/disable", tag = "promotions", params(("promotionTierId" = String, Path)),
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn disable_tier(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_tier_active(&app, &tenant, &raw, false).await
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

// ---------- campaigns ----------

/// The types of a campaign body's own properties (its voucher and tiers are checked apart).
fn check_campaign_types(body: &Map<String, Value>) -> Result<(), ApiError> {
    use crate::hygiene::{Kind, SCHEDULE_TYPES, expect_types};
    expect_types(body, "", SCHEDULE_TYPES)?;
    expect_types(
        body,
        "",
        &[
            ("name", Kind::String),
            ("description", Kind::String),
            ("type", Kind::String),
            ("campaign_type", Kind::String),
            ("join_once", Kind::Bool),
            ("auto_join", Kind::Bool),
            ("use_voucher_metadata_schema", Kind::Bool),
            ("vouchers_count", Kind::Integer),
            ("activity_duration_after_publishing", Kind::String),
            ("category_id", Kind::String),
            ("category", Kind::String),
            ("metadata", Kind::Object),
            ("voucher", Kind::Object),
            ("promotion", Kind::Object),
            ("validation_rules", Kind::Array),
        ],
    )?;
    // refused rather than stored and ignored: a campaign is switched by its own endpoints
    if body.contains_key("active") {
        return Err(invalid("Property .active cannot be set here: use POST /v1/campaigns/{id}/enable or /disable"));
    }
    Ok(())
}

const CAMPAIGN_FIELDS: &[&str] = &[
    "description",
    "join_once",
    "auto_join",
    "use_voucher_metadata_schema",
    "start_date",
    "expiration_date",
    "validity_timeframe",
    "validity_day_of_week",
    "validity_hours",
    "activity_duration_after_publishing",
    "category_id",
];

async fn campaign_out(db: &mut PgConnection, project: Uuid, c: CampaignRow) -> Result<Value, ApiError> {
    let camp_id = ids::wire(ids::CAMPAIGN, c.campaign_id);
    let assignments = assignments(&mut *db, project, &camp_id).await?;
    let doc = object(c.doc.0.clone());
    let mut out = json!({
        "id": camp_id,
        "name": c.name,
        "campaign_type": c.campaign_type,
        "type": c.type_,
        "active": c.active,
        "vouchers_count": c.vouchers_count,
        "metadata": {},
        "created_at": timestamp(c.created_at),
        "updated_at": c.updated_at.map(timestamp),
        "creation_status": if c.vouchers_generation_status == "IN_PROGRESS" { "IN_PROGRESS" } else { "DONE" },
        "vouchers_generation_status": c.vouchers_generation_status,
        "readonly": false,
        "protected": false,
        "categories": [],
        "object": "campaign",
        "validation_rules_assignments": assignments,
    });
    if let Some(o) = out.as_object_mut() {
        for (k, v) in doc {
            o.insert(k, v);
        }
        if c.campaign_type == "PROMOTION" {
            let tiers = tiers_list(&mut *db, project, Some(&c), promo_store::Page { limit: 100, offset: 0 }).await?;
            o.insert("promotion".into(), serde_json::to_value(tiers).map_err(ApiError::internal)?);
        }
    }
    Ok(strip_nulls(out))
}

/// Create a campaign: DISCOUNT_COUPONS (with a voucher template and up to 1,000 codes generated
/// now) or PROMOTION (with tiers).
#[utoipa::path(post, path = "/v1/campaigns", tag = "campaigns", request_body = Object,
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
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
            crate::jobs::enqueue_generation(&mut tx, &tenant, id, config, count, v).await?;
        } else {
            crate::codes::generate_now(&mut tx, tenant.id(), id, None, (config, cs), count as usize, v).await?;
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
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let c = find_campaign(&mut conn, tenant.id(), &raw).await?;
    Ok(Json(campaign_out(&mut conn, tenant.id(), c).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignsQuery {
    pub limit: Option<i64>,
    pub page: Option<i64>,
    pub campaign_type: Option<String>,
}

/// The campaigns list envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignsList {
    pub object: &'static str,
    pub data_ref: &'static str,
    #[schema(value_type = Vec<Object>)]
    pub campaigns: Vec<Value>,
    pub total: i64,
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
    let mut campaigns = Vec::with_capacity(rows.len());
    for c in rows {
        campaigns.push(campaign_out(&mut conn, tenant.id(), c).await?);
    }
    Ok(Json(CampaignsList { object: "list", data_ref: "campaigns", campaigns, total }))
}

/// Update a campaign (given fields replace theirs).
#[utoipa::path(put, path = "/v1/campaigns/{campaignId}", tag = "campaigns", params(("campaignId" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
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

async fn set_campaign_active(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    active: bool,
) -> Result<Json<Value>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let c = find_campaign(&mut conn, tenant.id(), raw).await?;
    store::set_campaign_active(&mut *conn, tenant.id(), c.campaign_id, active).await?;
    Ok(Json(json!({})))
}

/// Enable a campaign.
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/enable", tag = "campaigns", params(("campaignId" = String, Path)),
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn enable_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_campaign_active(&app, &tenant, &raw, true).await
}

/// Disable a campaign.
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/disable", tag = "campaigns", params(("campaignId" = String, Path)),
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn disable_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_campaign_active(&app, &tenant, &raw, false).await
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
