//! Campaigns, promotion tiers and the codes added to them: checked with the engine when written,
//! rendered as Voucherify's objects.

use crate::error::invalid;
use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::services::categories::PageCategories;
use crate::services::codes::{CodeConfig, MAX_ASYNC_CODES, MAX_SYNC_CODES, check_code, generate_now};
use crate::services::vouchers::*;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::campaigns::{
    CampaignCodes, CampaignDoc, CampaignOut, CampaignType, TierCampaignRef, TierDoc, TierOrdersSummary, TierOut,
    TierRedemptionsSummary, TierSummary, TiersList, VoucherOut, VouchersList,
};
use crate::types::common::EmptyOut;
use crate::wire::code_key;
use crate::wire::metadata;
use crate::wire::object;
use crate::wire::timestamp;
use promo_store::PgConnection;
use promo_store::campaigns::{self as store, CampaignKeys, CampaignRow, TierRow};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use uuid::Uuid;

pub(crate) async fn create_standalone(
    app: &AppState,
    tenant: &Tenant,
    code: Option<String>,
    body: Value,
) -> Result<VoucherOut, ApiError> {
    let body = object(body);
    if let Some(k) = ["campaign", "campaign_id"].into_iter().find(|k| body.contains_key(*k)) {
        return Err(invalid(format!(
            "Property .{k} is not read when creating a standalone code: add a code to a campaign with POST /v1/campaigns/{{campaignId}}/vouchers/{{code}}"
        )));
    }
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
    category_of(&mut tx, tenant.id(), &doc).await?;
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

pub(crate) async fn set_voucher_active(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    active: bool,
) -> Result<VoucherOut, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let v = find_voucher(&mut conn, tenant, raw).await?;
    store::update_voucher(&mut *conn, tenant.id(), v.voucher_id, active, &v.doc.0).await?;
    let v = find_voucher(&mut conn, tenant, raw).await?;
    voucher_response(&mut conn, tenant, v).await
}

/// A tier's properties as written (besides its schedule), with their types.
const TIER_TYPES: &[(&str, crate::hygiene::Kind)] = {
    use crate::hygiene::Kind;
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
    ]
};

pub(crate) fn tier_doc(body: &Map<String, Value>, path: &str) -> Result<Map<String, Value>, ApiError> {
    use crate::hygiene::{SCHEDULE_TYPES, expect_types, only_known};
    only_known(body, path, &[SCHEDULE_TYPES, TIER_TYPES])?;
    expect_types(body, path, SCHEDULE_TYPES)?;
    expect_types(body, path, TIER_TYPES)?;
    if let Some(k) = body.get("action").and_then(Value::as_object).and_then(|a| a.keys().find(|k| *k != "discount")) {
        return Err(invalid(format!("Property .{path}action.{k} is not read here (a tier's action is its discount)")));
    }
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

/// Refuses a tier whose window reaches outside its campaign's (it could never apply there).
fn within_campaign(tier: &Map<String, Value>, campaign: &Map<String, Value>, path: &str) -> Result<(), ApiError> {
    let at = |doc: &Map<String, Value>, k: &str| {
        doc.get(k).and_then(Value::as_str).and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    let (tier_start, tier_end) = (at(tier, "start_date"), at(tier, "expiration_date"));
    let (camp_start, camp_end) = (at(campaign, "start_date"), at(campaign, "expiration_date"));
    let outside = |field: &str, what: &str, when: &chrono::DateTime<chrono::FixedOffset>| {
        invalid(format!(
            "Property .{path}{field} is {what} the campaign's ({}): the tier could never apply then",
            when.to_rfc3339()
        ))
    };
    if let (Some(t), Some(c)) = (tier_start, camp_start)
        && t < c
    {
        return Err(outside("start_date", "before the start of", &c));
    }
    if let (Some(t), Some(c)) = (tier_start, camp_end)
        && t > c
    {
        return Err(outside("start_date", "after the end of", &c));
    }
    if let (Some(t), Some(c)) = (tier_end, camp_end)
        && t > c
    {
        return Err(outside("expiration_date", "after the end of", &c));
    }
    Ok(())
}

pub(crate) async fn create_tier_row(
    db: &mut PgConnection,
    tenant: &Tenant,
    (campaign, campaign_doc): (Uuid, &Map<String, Value>),
    body: &Map<String, Value>,
    path: &str,
) -> Result<TierRow, ApiError> {
    let doc = tier_doc(body, path)?;
    within_campaign(&doc, campaign_doc, path)?;
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

pub(crate) async fn tier_out(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    t: TierRow,
    campaign: &CampaignRow,
) -> Result<TierOut, ApiError> {
    let object_ids = vec![ids::wire(ids::TIER, t.tier_id)];
    let stats = Figures::load(db, project, &object_ids).await?;
    let mut assignments = Assignments::load(db, project, object_ids).await?;
    let mut out = render_tier(t, campaign, &mut assignments, &stats);
    PageCategories::load(db, project, PageCategories::named_by_tiers(std::slice::from_ref(&out)))
        .await?
        .fill_tier(&mut out);
    Ok(out)
}

/// Redemption figures of a page of tiers or campaigns, read in one query.
pub(crate) struct Figures(HashMap<String, promo_store::ledger::ObjectStats>);

impl Figures {
    pub(crate) async fn load(
        db: &mut PgConnection,
        project: promo_store::ProjectId,
        object_ids: &[String],
    ) -> Result<Self, ApiError> {
        let rows = promo_store::ledger::redemption_stats(db, project, object_ids).await?;
        Ok(Figures(rows.into_iter().map(|s| (s.object_id.clone(), s)).collect()))
    }

    /// A tier's summary: redemptions not rolled back, with their orders and discounts.
    fn tier_summary(&self, object_id: &str) -> TierSummary {
        let s = self.0.get(object_id).cloned().unwrap_or_default();
        TierSummary {
            redemptions: TierRedemptionsSummary { total_redeemed: s.succeeded - s.rolled_back },
            orders: TierOrdersSummary {
                total_amount: s.order_amount - s.rolled_back_order_amount,
                total_discount_amount: s.discount_amount - s.rolled_back_discount_amount,
            },
        }
    }
}

/// A tier as answered, with its assignments and figures from a page's batch.
fn render_tier(t: TierRow, campaign: &CampaignRow, assignments: &mut Assignments, figures: &Figures) -> TierOut {
    let tier_id = ids::wire(ids::TIER, t.tier_id);
    let assignments = assignments.of(&tier_id);
    let summary = figures.tier_summary(&tier_id);
    let camp_doc = object(campaign.doc.0.clone());
    let doc: TierDoc = crate::wire::lenient(object(t.doc.0), "promotion_tier");
    let campaign_id = ids::wire(ids::CAMPAIGN, t.campaign_id);
    TierOut {
        id: tier_id,
        created_at: timestamp(t.created_at),
        updated_at: t.updated_at.map(timestamp),
        hierarchy: i64::from(t.hierarchy),
        promotion_id: campaign_id.clone(),
        campaign: TierCampaignRef {
            id: campaign_id.clone(),
            active: campaign.active,
            object: "campaign",
            start_date: camp_doc.get("start_date").cloned(),
            expiration_date: camp_doc.get("expiration_date").cloned(),
            validity_timeframe: camp_doc.get("validity_timeframe").cloned(),
            validity_day_of_week: camp_doc.get("validity_day_of_week").cloned(),
            validity_hours: camp_doc.get("validity_hours").cloned(),
            category_id: campaign.category_id.map(|c| ids::wire(ids::CATEGORY, c)),
        },
        campaign_id,
        active: t.active,
        summary,
        object: "promotion_tier",
        validation_rule_assignments: assignments,
        categories: Vec::new(),
        name: doc.name,
        banner: doc.banner,
        action: doc.action,
        metadata: doc.metadata.unwrap_or_default(),
        category_id: doc.category_id,
        start_date: doc.start_date,
        expiration_date: doc.expiration_date,
        validity_timeframe: doc.validity_timeframe,
        validity_day_of_week: doc.validity_day_of_week,
        validity_hours: doc.validity_hours,
    }
}

pub(crate) async fn find_campaign(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    raw: &str,
) -> Result<CampaignRow, ApiError> {
    let id = ids::try_parse(ids::CAMPAIGN, raw);
    store::get_campaign(&mut *db, project, id, if id.is_none() { Some(raw) } else { None })
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", raw))
}

pub(crate) async fn find_tier(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    raw: &str,
) -> Result<(TierRow, CampaignRow), ApiError> {
    let id = ids::parse(ids::TIER, "promotion_tier", raw)?;
    let tier =
        store::get_tier(&mut *db, project, id).await?.ok_or_else(|| ApiError::not_found("promotion_tier", raw))?;
    let campaign = store::get_campaign(&mut *db, project, Some(tier.campaign_id), None)
        .await?
        .ok_or_else(|| ApiError::not_found("promotion_tier", raw))?;
    Ok((tier, campaign))
}

pub(crate) async fn tiers_list(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    campaign: Option<&CampaignRow>,
    page: promo_store::Page,
) -> Result<TiersList, ApiError> {
    let (rows, total) = store::list_tiers(&mut *db, project, campaign.map(|c| c.campaign_id), page).await?;
    // the page's campaigns and assignments: one query each, whatever the page size
    let owners: HashMap<Uuid, CampaignRow> = match campaign {
        Some(c) => HashMap::from([(c.campaign_id, c.clone())]),
        None => {
            let mut ids: Vec<Uuid> = rows.iter().map(|t| t.campaign_id).collect();
            ids.sort_unstable();
            ids.dedup();
            store::campaigns_by_ids(&mut *db, project, &ids).await?.into_iter().map(|c| (c.campaign_id, c)).collect()
        }
    };
    let tier_ids: Vec<String> = rows.iter().map(|t| ids::wire(ids::TIER, t.tier_id)).collect();
    let figures = Figures::load(db, project, &tier_ids).await?;
    let mut assignments = Assignments::load(db, project, tier_ids).await?;
    let mut tiers = Vec::with_capacity(rows.len());
    for t in rows {
        let owner = owners
            .get(&t.campaign_id)
            .ok_or_else(|| ApiError::internal(promo_store::StoreError::Corrupt("tier without campaign".into())))?;
        tiers.push(render_tier(t, owner, &mut assignments, &figures));
    }
    let categories = PageCategories::load(db, project, PageCategories::named_by_tiers(&tiers)).await?;
    for t in &mut tiers {
        categories.fill_tier(t);
    }
    let has_more = page.offset + (tiers.len() as i64) < total;
    Ok(TiersList { object: "list", data_ref: "tiers", tiers, total, has_more })
}

pub(crate) async fn set_tier_active(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    active: bool,
) -> Result<TierOut, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (tier, campaign) = find_tier(&mut conn, tenant.id(), raw).await?;
    let row = store::update_tier(&mut *conn, tenant.id(), tier.tier_id, tier.hierarchy, active, &tier.doc.0)
        .await?
        .ok_or_else(|| ApiError::not_found("promotion_tier", raw))?;
    tier_out(&mut conn, tenant.id(), row, &campaign).await
}

/// A campaign body's own properties and their types (its voucher and tiers are checked apart).
const CAMPAIGN_TYPES: &[(&str, crate::hygiene::Kind)] = {
    use crate::hygiene::Kind;
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
        ("guardrails", Kind::Object),
        ("category", Kind::String),
        ("metadata", Kind::Object),
        ("voucher", Kind::Object),
        ("promotion", Kind::Object),
        ("validation_rules", Kind::Array),
        ("active", Kind::Bool),
    ]
};

/// What an update reads besides the schedule; the rest of a campaign is set when it is
/// created, or through its own endpoints (tiers, rule assignments, enable / disable).
const CAMPAIGN_UPDATE_TYPES: &[(&str, crate::hygiene::Kind)] = {
    use crate::hygiene::Kind;
    &[
        ("description", Kind::String),
        ("type", Kind::String),
        ("join_once", Kind::Bool),
        ("auto_join", Kind::Bool),
        ("use_voucher_metadata_schema", Kind::Bool),
        ("activity_duration_after_publishing", Kind::String),
        ("category_id", Kind::String),
        ("guardrails", Kind::Object),
        ("metadata", Kind::Object),
        ("voucher", Kind::Object),
    ]
};

/// The types of a campaign body's own properties (its voucher and tiers are checked apart); a
/// property the operation does not read is refused (`updating`: an update's fewer).
pub(crate) fn check_campaign_types(body: &Map<String, Value>, updating: bool) -> Result<(), ApiError> {
    use crate::hygiene::{SCHEDULE_TYPES, expect_types, only_known};
    if body.contains_key("category") {
        return Err(invalid("Property .category is not supported: name the category by category_id"));
    }
    // refused rather than stored and ignored: a campaign is switched by its own endpoints
    if body.contains_key("active") {
        return Err(invalid("Property .active cannot be set here: use POST /v1/campaigns/{id}/enable or /disable"));
    }
    only_known(body, "", &[SCHEDULE_TYPES, if updating { CAMPAIGN_UPDATE_TYPES } else { CAMPAIGN_TYPES }])?;
    expect_types(body, "", SCHEDULE_TYPES)?;
    expect_types(body, "", CAMPAIGN_TYPES)?;
    if let Some(d) = body.get("activity_duration_after_publishing").and_then(Value::as_str)
        && crate::wire::iso_duration(d).is_none_or(|d| d > MAX_ACTIVITY_AFTER_PUBLISHING)
    {
        return Err(invalid(format!(
            "Property .activity_duration_after_publishing must be an ISO 8601 duration of weeks, days, hours, minutes or seconds (e.g. P24D, PT1H) of at most 100 years, not {d}"
        )));
    }
    if let Some(g) = body.get("guardrails").filter(|g| !g.is_null()) {
        check_guardrails(g)?;
    }
    Ok(())
}

/// Longest `activity_duration_after_publishing`: 100 years (anything longer could not be
/// written as a date and would silently mean "never expires").
const MAX_ACTIVITY_AFTER_PUBLISHING: chrono::Duration = chrono::Duration::days(36_525);

/// A campaign's `guardrails`, each property checked on its own so the error names it.
fn check_guardrails(g: &Value) -> Result<(), ApiError> {
    let o = g.as_object().ok_or_else(|| invalid("Property .guardrails must be an object"))?;
    for (k, v) in o {
        serde_json::from_value::<promo_engine::guardrails::Guardrails>(json!({ k: v }))
            .map_err(|e| invalid(format!("Property .guardrails.{k}: {e}")))?;
    }
    Ok(())
}

/// What a campaign's `voucher` template cannot set: each code's own, or the campaign's.
const TEMPLATE_DENIED: &[&str] = &["code", "active", "campaign", "campaign_id", "validation_rules"];

pub(crate) const CAMPAIGN_FIELDS: &[&str] = &[
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
    "guardrails",
];

pub(crate) async fn campaign_out(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    c: CampaignRow,
) -> Result<CampaignOut, ApiError> {
    let mut out = campaigns_out(db, project, vec![c]).await?;
    out.pop().ok_or_else(|| ApiError::internal(promo_store::StoreError::Corrupt("campaign vanished".into())))
}

/// A page of campaigns as answered: their PROMOTION tiers and every assignment are read in one
/// query each, whatever the page size.
pub(crate) async fn campaigns_out(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    rows: Vec<CampaignRow>,
) -> Result<Vec<CampaignOut>, ApiError> {
    let is_promotion = |c: &CampaignRow| CampaignType::parse(&c.campaign_type) == Some(CampaignType::Promotion);
    let promotions: Vec<Uuid> = rows.iter().filter(|c| is_promotion(c)).map(|c| c.campaign_id).collect();
    let mut tiers: HashMap<Uuid, Vec<TierRow>> = HashMap::new();
    if !promotions.is_empty() {
        for t in store::tiers_of(&mut *db, project, &promotions).await? {
            tiers.entry(t.campaign_id).or_default().push(t);
        }
    }
    let object_ids: Vec<String> = rows
        .iter()
        .map(|c| ids::wire(ids::CAMPAIGN, c.campaign_id))
        .chain(tiers.values().flatten().map(|t| ids::wire(ids::TIER, t.tier_id)))
        .collect();
    let figures = Figures::load(db, project, &object_ids).await?;
    let mut assignments = Assignments::load(db, project, object_ids).await?;
    let mut out = rows
        .into_iter()
        .map(|c| {
            let promotion = is_promotion(&c).then(|| {
                let mut own = tiers.remove(&c.campaign_id).unwrap_or_default();
                let total = own.len() as i64;
                own.truncate(100);
                let tiers: Vec<TierOut> =
                    own.into_iter().map(|t| render_tier(t, &c, &mut assignments, &figures)).collect();
                TiersList { object: "list", data_ref: "tiers", has_more: (tiers.len() as i64) < total, tiers, total }
            });
            render_campaign(c, promotion, &mut assignments)
        })
        .collect::<Vec<_>>();
    let categories = PageCategories::load(db, project, PageCategories::named_by_campaigns(&out)).await?;
    for c in &mut out {
        categories.fill_campaign(c);
    }
    Ok(out)
}

fn render_campaign(c: CampaignRow, promotion: Option<TiersList>, assignments: &mut Assignments) -> CampaignOut {
    let camp_id = ids::wire(ids::CAMPAIGN, c.campaign_id);
    let assignments = assignments.of(&camp_id);
    let doc: CampaignDoc = crate::wire::lenient(object(c.doc.0.clone()), "campaign");
    CampaignOut {
        id: camp_id,
        name: c.name,
        campaign_type: c.campaign_type,
        kind: c.type_,
        active: c.active,
        vouchers_count: c.vouchers_count,
        metadata: doc.metadata.unwrap_or_default(),
        created_at: timestamp(c.created_at),
        updated_at: c.updated_at.map(timestamp),
        creation_status: if c.vouchers_generation_status == "IN_PROGRESS" { "IN_PROGRESS" } else { "DONE" },
        vouchers_generation_status: c.vouchers_generation_status,
        readonly: false,
        protected: false,
        categories: Vec::new(),
        object: "campaign",
        validation_rules_assignments: assignments,
        category: None,
        description: doc.description,
        join_once: doc.join_once,
        auto_join: doc.auto_join,
        use_voucher_metadata_schema: doc.use_voucher_metadata_schema,
        start_date: doc.start_date,
        expiration_date: doc.expiration_date,
        validity_timeframe: doc.validity_timeframe,
        validity_day_of_week: doc.validity_day_of_week,
        validity_hours: doc.validity_hours,
        activity_duration_after_publishing: doc.activity_duration_after_publishing,
        category_id: doc.category_id,
        guardrails: doc.guardrails.unwrap_or_default().into(),
        voucher: doc.voucher,
        promotion,
    }
}

pub(crate) async fn set_campaign_active(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    active: bool,
) -> Result<EmptyOut, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let c = find_campaign(&mut conn, tenant.id(), raw).await?;
    store::set_campaign_active(&mut *conn, tenant.id(), c.campaign_id, active).await?;
    Ok(EmptyOut {})
}

/// What adding codes to a campaign did.
pub enum Added {
    /// One code, made now.
    Voucher(Box<VoucherOut>),
    /// Many codes, queued as this async action.
    Action(Uuid),
}

/// Adds `count` codes to a campaign: one now, more as an async action. `body` may set `code`
/// (one code), `code_config`, and voucher fields that override the campaign's.
pub async fn add_to_campaign(
    app: &crate::state::AppState,
    tenant: &crate::tenant::Tenant,
    raw: &str,
    count: i64,
    body: serde_json::Map<String, Value>,
) -> Result<Added, ApiError> {
    if !(1..=MAX_ASYNC_CODES).contains(&count) {
        return Err(invalid(format!("Query parameter vouchers_count must be within 1..={MAX_ASYNC_CODES}")));
    }
    let mut tx = promo_store::begin(&app.db).await?;
    let campaign = find_campaign(&mut tx, tenant.id(), raw).await?;
    let Some(mut template) = campaign.doc.0.get("voucher").and_then(Value::as_object).cloned() else {
        return Err(invalid(format!("Campaign {raw} has no codes (a {} campaign)", campaign.campaign_type)));
    };
    let stored_config = template.remove("code_config");
    check_template(&body, "", &["active", "campaign", "campaign_id", "category", "category_id", "validation_rules"])?;
    for (k, v) in &body {
        if !["code", "code_config"].contains(&k.as_str()) {
            template.insert(k.clone(), v.clone());
        }
    }
    let doc = voucher_doc(&template, "")?;
    category_of(&mut tx, tenant.id(), &doc).await?;
    let config = CodeConfig::parse(body.get("code_config").or(stored_config.as_ref()), "code_config")?;
    let cs = tenant.project.case_sensitive_codes;
    if count > 1 {
        if body.contains_key("code") {
            return Err(invalid("Property .code names one code; vouchers_count must then be 1"));
        }
        config.check_room(count, cs, "code_config")?;
        let id = crate::services::jobs::enqueue_generation(
            &mut tx,
            tenant,
            campaign.campaign_id,
            &config,
            count,
            &Value::Object(doc),
        )
        .await?;
        promo_store::commit(tx).await?;
        return Ok(Added::Action(id));
    }
    let doc = Value::Object(doc);
    let key = match body.get("code").and_then(Value::as_str) {
        Some(code) => {
            check_code(code)?;
            let ids = [promo_store::new_id()];
            let (codes, keys) = ([code.to_owned()], [code_key(code, cs)]);
            let new = promo_store::campaigns::NewCodes {
                ids: &ids,
                codes: &codes,
                keys: &keys,
                docs: std::slice::from_ref(&doc),
                active: &[],
            };
            promo_store::campaigns::insert_codes(&mut *tx, tenant.id(), Some(campaign.campaign_id), None, new)
                .await?
                .pop()
                .ok_or_else(|| {
                    ApiError::new(ErrorKey::DuplicateFound)
                        .details(format!("A voucher with code {code} already exists"))
                })?
        }
        None => {
            let made = generate_now(&mut tx, tenant.id(), campaign.campaign_id, None, (&config, cs), 1, &doc).await?;
            made.into_iter().next().ok_or_else(|| invalid("No code could be generated"))?
        }
    };
    let row = promo_store::campaigns::get_voucher(&mut *tx, tenant.id(), None, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("voucher", &key))?;
    let out = voucher_response(&mut tx, tenant, row).await?;
    promo_store::commit(tx).await?;
    Ok(Added::Voucher(Box::new(out)))
}

/// The `create_campaign` operation (see its route).
pub(crate) async fn create_campaign(app: &AppState, tenant: &Tenant, body: Value) -> Result<CampaignOut, ApiError> {
    let body = object(body);
    check_campaign_types(&body, false)?;
    let name =
        body.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty() && n.chars().count() <= 200);
    let name =
        name.ok_or_else(|| invalid("Property .name must be a non-empty string of at most 200 characters"))?.to_owned();
    let campaign_type = match body.get("campaign_type").and_then(Value::as_str) {
        None => CampaignType::DiscountCoupons,
        Some(t) => CampaignType::parse(t).ok_or_else(|| {
            invalid(format!("Property .campaign_type `{t}` is not supported yet (DISCOUNT_COUPONS, PROMOTION)"))
        })?,
    };
    let codes = match (body.get("type").and_then(Value::as_str), campaign_type) {
        (None, CampaignType::Promotion) => CampaignCodes::Static,
        (None, CampaignType::DiscountCoupons) => CampaignCodes::AutoUpdate,
        (Some(t), _) => CampaignCodes::parse(t)
            .ok_or_else(|| invalid("Property .type must be AUTO_UPDATE, STATIC or STANDALONE"))?,
    };
    check_schedule(&body, "")?;
    let other_type = match campaign_type {
        CampaignType::Promotion => ["voucher", "vouchers_count", "activity_duration_after_publishing"]
            .into_iter()
            .find(|k| body.contains_key(*k)),
        CampaignType::DiscountCoupons => body.contains_key("promotion").then_some("promotion"),
    };
    if let Some(k) = other_type {
        return Err(invalid(format!("Property .{k} is not read for a {} campaign", campaign_type.as_str())));
    }
    if let Some(k) = body.get("promotion").and_then(Value::as_object).and_then(|p| p.keys().find(|k| *k != "tiers")) {
        return Err(invalid(format!("Property .promotion.{k} is not read here (promotion.tiers)")));
    }
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
    if campaign_type == CampaignType::DiscountCoupons {
        let voucher = body
            .get("voucher")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("Property .voucher is required for DISCOUNT_COUPONS"))?;
        check_template(voucher, "voucher.", TEMPLATE_DENIED)?;
        let v = voucher_doc(voucher, "voucher.")?;
        category_of(&mut tx, tenant.id(), &v).await?;
        let config = CodeConfig::parse(voucher.get("code_config"), "voucher.code_config")?;
        let mut with_config = v.clone();
        with_config.insert("code_config".into(), config.to_json());
        doc.insert("voucher".into(), Value::Object(with_config));
        template = Some((config, Value::Object(v)));
    }
    let id = promo_store::new_id();
    let keys = CampaignKeys {
        name: &name,
        campaign_type: campaign_type.as_str(),
        type_: codes.as_str(),
        active: true,
        category_id,
    };
    let window = crate::services::definitions::schedule_fields(&doc);
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
            crate::services::jobs::enqueue_generation(&mut tx, tenant, id, config, count, v).await?;
        } else {
            crate::services::codes::generate_now(&mut tx, tenant.id(), id, None, (config, cs), count as usize, v)
                .await?;
        }
    }
    if campaign_type == CampaignType::Promotion {
        let tiers =
            body.get("promotion").and_then(|p| p.get("tiers")).and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, t) in tiers.into_iter().enumerate() {
            create_tier_row(&mut tx, tenant, (id, &window), &object(t), &format!("promotion.tiers[{i}].")).await?;
        }
    }
    let row = store::get_campaign(&mut *tx, tenant.id(), Some(id), None)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", &name))?;
    let out = campaign_out(&mut tx, tenant.id(), row).await?;
    promo_store::commit(tx).await?;
    Ok(out)
}

/// The `update_campaign` operation (see its route).
pub(crate) async fn update_campaign(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    body: Value,
) -> Result<CampaignOut, ApiError> {
    let mut tx = promo_store::begin(&app.db).await?;
    let c = find_campaign(&mut tx, tenant.id(), raw).await?;
    let body = object(body);
    check_campaign_types(&body, true)?;
    if c.campaign_type == CampaignType::Promotion.as_str() && body.contains_key("activity_duration_after_publishing") {
        return Err(invalid(
            "Property .activity_duration_after_publishing is not read for a PROMOTION campaign (it has no codes to publish)",
        ));
    }
    let mut doc = object(c.doc.0.clone());
    for k in CAMPAIGN_FIELDS.iter().chain(&["metadata"]) {
        if let Some(v) = body.get(*k) {
            doc.insert((*k).into(), v.clone());
        }
    }
    // an update's guardrails change the properties it names and keep the others
    if let (Some(Value::Object(update)), Some(Value::Object(kept))) =
        (body.get("guardrails"), c.doc.0.get("guardrails"))
    {
        let mut merged = kept.clone();
        merged.extend(update.clone());
        doc.insert("guardrails".into(), Value::Object(merged));
    }
    check_schedule(&doc, "")?;
    if body.contains_key("start_date") || body.contains_key("expiration_date") {
        // a window moved past its tiers' would leave them unable to ever apply
        for t in store::tiers_of(&mut *tx, tenant.id(), &[c.campaign_id]).await? {
            let tier_id = ids::wire(ids::TIER, t.tier_id);
            within_campaign(&object(t.doc.0), &doc, "").map_err(|_| {
                invalid(format!(
                    "Property .start_date / .expiration_date: tier {tier_id}'s window would reach outside the campaign's (change the tier first)"
                ))
            })?;
        }
    }
    doc.insert("metadata".into(), Value::Object(metadata(doc.get("metadata").cloned())?));
    if let (Some(v), Some(existing)) =
        (body.get("voucher").and_then(Value::as_object), doc.get("voucher").and_then(Value::as_object).cloned())
    {
        check_template(v, "voucher.", TEMPLATE_DENIED)?;
        let mut merged = existing.clone();
        merged.extend(v.clone());
        let config = merged.get("code_config").cloned();
        let mut checked = voucher_doc(&merged, "voucher.")?;
        category_of(&mut tx, tenant.id(), &checked).await?;
        checked.insert("code_config".into(), config.unwrap_or_else(|| json!({})));
        doc.insert("voucher".into(), Value::Object(checked));
    }
    let category_id = category_of(&mut tx, tenant.id(), &doc).await?;
    let type_ = match body.get("type").and_then(Value::as_str) {
        None => c.type_.clone(),
        Some(t) => CampaignCodes::parse(t)
            .ok_or_else(|| invalid("Property .type must be AUTO_UPDATE, STATIC or STANDALONE"))?
            .as_str()
            .to_owned(),
    };
    let keys =
        CampaignKeys { name: &c.name, campaign_type: &c.campaign_type, type_: &type_, active: c.active, category_id };
    store::update_campaign(&mut *tx, tenant.id(), c.campaign_id, &keys, &Value::Object(doc)).await?;
    let row = store::get_campaign(&mut *tx, tenant.id(), Some(c.campaign_id), None)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", raw))?;
    let out = campaign_out(&mut tx, tenant.id(), row).await?;
    promo_store::commit(tx).await?;
    Ok(out)
}

/// The `update_voucher` operation (see its route).
pub(crate) async fn update_voucher(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    body: Value,
) -> Result<VoucherOut, ApiError> {
    let body = object(body);
    // the types of what is checked apart from the stored document (not merged into it)
    crate::hygiene::expect_types(&body, "", VOUCHER_TYPES)?;
    if let Some(k) = ["validation_rules", "code_config"].into_iter().find(|k| body.contains_key(*k)) {
        return Err(invalid(format!(
            "Property .{k} is not read when updating a code (rules are assigned with POST /v1/validation-rules/{{id}}/assignments; a code's text is fixed)"
        )));
    }
    // a transaction: the category named stays held until the code names it
    let mut conn = promo_store::begin(&app.db).await?;
    let v = find_voucher(&mut conn, tenant, raw).await?;
    let mut merged = object(v.doc.0.clone());
    let active = body.get("active").and_then(Value::as_bool).unwrap_or(v.active);
    let own_campaign = [v.campaign_id.map(|c| ids::wire(ids::CAMPAIGN, c)), v.campaign_name.clone()];
    for k in ["campaign", "campaign_id"] {
        if let Some(named) = body.get(k).and_then(Value::as_str)
            && !own_campaign.iter().flatten().any(|own| own == named)
        {
            return Err(invalid(format!("Property .{k}: a code cannot move to another campaign")));
        }
    }
    if let Some(code) = body.get("code").and_then(Value::as_str)
        && code_key(code, tenant.project.case_sensitive_codes) != code_key(&v.code, tenant.project.case_sensitive_codes)
    {
        return Err(invalid("Property .code: a code cannot be renamed (create a new one)"));
    }
    for (k, val) in body {
        if !["code", "active", "campaign", "campaign_id"].contains(&k.as_str()) {
            merged.insert(k, val);
        }
    }
    let doc = voucher_doc(&merged, "")?;
    category_of(&mut conn, tenant.id(), &doc).await?;
    store::update_voucher(&mut *conn, tenant.id(), v.voucher_id, active, &Value::Object(doc)).await?;
    let v = find_voucher(&mut conn, tenant, raw).await?;
    let out = voucher_response(&mut conn, tenant, v).await?;
    promo_store::commit(conn).await?;
    Ok(out)
}

/// The `create_tier` operation (see its route).
pub(crate) async fn create_tier(app: &AppState, tenant: &Tenant, raw: &str, body: Value) -> Result<TierOut, ApiError> {
    let mut tx = promo_store::begin(&app.db).await?;
    let campaign = find_campaign(&mut tx, tenant.id(), raw).await?;
    if CampaignType::parse(&campaign.campaign_type) != Some(CampaignType::Promotion) {
        return Err(invalid("Tiers belong to PROMOTION campaigns"));
    }
    let campaign_doc = object(campaign.doc.0.clone());
    let row = create_tier_row(&mut tx, tenant, (campaign.campaign_id, &campaign_doc), &object(body), "").await?;
    let out = tier_out(&mut tx, tenant.id(), row, &campaign).await?;
    promo_store::commit(tx).await?;
    Ok(out)
}

/// The `update_tier` operation (see its route).
pub(crate) async fn update_tier(app: &AppState, tenant: &Tenant, raw: &str, body: Value) -> Result<TierOut, ApiError> {
    let body = object(body);
    // the types of what is not merged into the stored document
    crate::hygiene::expect_types(&body, "", TIER_TYPES)?;
    if let Some(h) = body.get("hierarchy")
        && h.as_i64().is_none_or(|h| !(0..=i64::from(i32::MAX)).contains(&h))
    {
        return Err(invalid("Property .hierarchy must be a non-negative integer"));
    }
    let mut conn = promo_store::begin(&app.db).await?;
    let (tier, campaign) = find_tier(&mut conn, tenant.id(), raw).await?;
    if let Some(k) = ["validation_rules", "validation_rule_assignments"].into_iter().find(|k| body.contains_key(*k)) {
        return Err(invalid(format!(
            "Property .{k} is not read when updating a tier: assign rules with POST /v1/validation-rules/{{id}}/assignments"
        )));
    }
    let mut merged = object(tier.doc.0.clone());
    for (k, v) in &body {
        if !["id", "hierarchy", "active"].contains(&k.as_str()) {
            merged.insert(k.clone(), v.clone());
        }
    }
    let doc = tier_doc(&merged, "")?;
    within_campaign(&doc, &object(campaign.doc.0.clone()), "")?;
    category_of(&mut conn, tenant.id(), &doc).await?;
    let hierarchy =
        body.get("hierarchy").and_then(Value::as_i64).and_then(|h| i32::try_from(h).ok()).unwrap_or(tier.hierarchy);
    let active = body.get("active").and_then(Value::as_bool).unwrap_or(tier.active);
    let row = store::update_tier(&mut *conn, tenant.id(), tier.tier_id, hierarchy, active, &Value::Object(doc))
        .await?
        .ok_or_else(|| ApiError::not_found("promotion_tier", raw))?;
    let out = tier_out(&mut conn, tenant.id(), row, &campaign).await?;
    promo_store::commit(conn).await?;
    Ok(out)
}

/// Deletes a campaign with its vouchers and tiers: to the bin, or for good with `force` (which
/// also reaches a campaign already in the bin, and frees its name and codes).
pub(crate) async fn delete_campaign_or_bin(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    force: bool,
) -> Result<(), ApiError> {
    let mut tx = promo_store::begin(&app.db).await?;
    let found = find_campaign(&mut tx, tenant.id(), raw).await;
    match (found, force) {
        (Ok(c), false) => {
            store::bin_campaign(&mut tx, tenant.id(), c.campaign_id).await?;
        }
        (Ok(c), true) => {
            store::delete_campaign(&mut tx, tenant.id(), c.campaign_id).await?;
        }
        // A campaign in the bin can still be deleted for good (which frees its name and codes).
        (Err(not_found), true) => {
            let id = ids::try_parse(ids::CAMPAIGN, raw);
            let name = if id.is_none() { Some(raw) } else { None };
            let binned = store::binned_campaign(&mut *tx, tenant.id(), id, name).await?.ok_or(not_found)?;
            store::delete_campaign(&mut tx, tenant.id(), binned).await?;
        }
        (Err(not_found), false) => return Err(not_found),
    }
    promo_store::commit(tx).await?;
    Ok(())
}

/// A page of vouchers, of one campaign (by id or name) or of the project. An unknown campaign
/// matches no voucher (the Python SDK sends the string "None" for unset filters).
pub(crate) async fn vouchers_page(
    app: &AppState,
    tenant: &Tenant,
    campaign_id: Option<&str>,
    campaign_name: Option<&str>,
    page: promo_store::Page,
) -> Result<VouchersList, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let empty = || VouchersList { object: "list", data_ref: "vouchers", vouchers: Vec::new(), total: 0 };
    let given = |v: Option<&str>| v.filter(|c| *c != "None").map(str::to_owned);
    let campaign = match (given(campaign_id), given(campaign_name)) {
        (Some(raw), _) => match ids::try_parse(ids::CAMPAIGN, &raw) {
            Some(c) => Some(c),
            None => return Ok(empty()),
        },
        (None, Some(name)) => match store::get_campaign(&mut *conn, tenant.id(), None, Some(&name)).await? {
            Some(c) => Some(c.campaign_id),
            None => return Ok(empty()),
        },
        (None, None) => None,
    };
    let (rows, total) = store::list_vouchers(&mut conn, tenant.id(), campaign, page).await?;
    let vouchers = vouchers_as_answered(&mut conn, tenant.id(), rows).await?;
    Ok(VouchersList { object: "list", data_ref: "vouchers", vouchers, total })
}

/// A campaign's summary (Voucherify's `campaign_summary`), from the ledger: redemptions,
/// rollbacks and their amounts, and for discount campaigns codes and publications, over whole
/// days `start_date`..=`end_date` in the project's time zone when given.
pub(crate) async fn campaign_summary(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    start_date: Option<&str>,
    end_date: Option<&str>,
) -> Result<crate::types::campaigns::CampaignSummaryOut, ApiError> {
    let tz: chrono_tz::Tz = tenant.project.timezone.parse().unwrap_or(chrono_tz::UTC);
    // the first instant of a day in the project's time zone (the earliest one on a DST change)
    let day_start = |name: &str, v: &str, next: bool| -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
        let day = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .ok()
            .filter(|d| (1970..=9000).contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| {
                ApiError::new(ErrorKey::InvalidQueryParams)
                    .details(format!("{name} must be a date (YYYY-MM-DD) between 1970 and 9000"))
            })?;
        let day = if next { day.succ_opt().unwrap_or(day) } else { day };
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok_or_else(|| ApiError::new(ErrorKey::InvalidQueryParams).details(format!("{name} is out of range")))
    };
    fn given(v: Option<&str>) -> Option<&str> {
        v.filter(|v| !v.is_empty() && *v != "None")
    }
    let from = given(start_date).map(|v| day_start("start_date", v, false)).transpose()?;
    let to = given(end_date).map(|v| day_start("end_date", v, true)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::new(ErrorKey::InvalidQueryParams).details("start_date must not be after end_date"));
    }
    let mut conn = promo_store::acquire(&app.db).await?;
    let c = find_campaign(&mut conn, tenant.id(), raw).await?;
    let figures = store::campaign_summary(&mut *conn, tenant.id(), c.campaign_id, from, to).await?;
    let discount = CampaignType::parse(&c.campaign_type) != Some(CampaignType::Promotion);
    let (valid, invalid) = promo_store::ledger::validation_counts(
        &mut *conn,
        tenant.id(),
        &ids::wire(ids::CAMPAIGN, c.campaign_id),
        from,
        to,
    )
    .await?;
    let campaign = campaign_out(&mut conn, tenant.id(), c).await?;
    let f = figures;
    Ok(crate::types::campaigns::CampaignSummaryOut {
        object: "campaign_summary",
        campaign,
        redemptions: f.redemptions_succeeded + f.redemptions_failed,
        redemptions_succeeded: f.redemptions_succeeded,
        redemptions_failed: f.redemptions_failed,
        rollbacks: f.rollbacks_succeeded + f.rollbacks_failed,
        rollbacks_succeeded: f.rollbacks_succeeded,
        rollbacks_failed: f.rollbacks_failed,
        validations: Some(valid + invalid),
        validations_succeeded: Some(valid),
        validations_failed: Some(invalid),
        orders_amount: f.orders_amount,
        orders_rolledback_amount: f.orders_rolledback_amount,
        discounted_amount: f.discounted_amount,
        rolledback_discounted_amount: f.rolledback_discounted_amount,
        vouchers_created: discount.then_some(f.vouchers_created),
        vouchers_deleted: discount.then_some(f.vouchers_deleted),
        publications: discount.then_some(f.publications),
        publications_succeeded: discount.then_some(f.publications),
        publications_failed: discount.then_some(None),
    })
}
