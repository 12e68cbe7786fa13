//! Voucher documents: checked with the engine when written, rendered as Voucherify's voucher;
//! the validation-rule assignments and categories they carry.

use crate::error::ApiError;
use crate::error::invalid;
use crate::ids;
use crate::tenant::Tenant;
use crate::types::campaigns::{PublishSummary, RedemptionSummary, VoucherDoc, VoucherOut};
use crate::types::common::{AssignmentOut, ListOut};
use crate::wire::code_key;
use crate::wire::metadata;
use crate::wire::object;
use crate::wire::timestamp;
use promo_engine::schedule::{Schedule, ScheduleDef};
use promo_engine::{Discount, DiscountDef};
use promo_store::PgConnection;
use promo_store::campaigns::{self as store, VoucherRow};
use promo_store::validation_rules::AssignmentRow;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use uuid::Uuid;

pub(crate) fn engine_error(e: promo_engine::DefinitionError) -> ApiError {
    invalid(format!("Property .{} {}", e.path, e.kind))
}

/// Checks the schedule fields of an object with the engine; `prefix` names it in errors.
pub(crate) fn check_schedule(obj: &Map<String, Value>, prefix: &str) -> Result<(), ApiError> {
    let fields = crate::services::definitions::schedule_fields(obj);
    let def: ScheduleDef = serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
        let path = if prefix.is_empty() { e.path().to_string() } else { format!("{prefix}.{}", e.path()) };
        invalid(format!("Property .{path}: {}", e.inner()))
    })?;
    Schedule::compile(&def, prefix).map_err(engine_error)?;
    Ok(())
}

/// Checks a discount with the engine and returns it as stored.
pub(crate) fn check_discount(v: Option<&Value>, path: &str) -> Result<Value, ApiError> {
    let v = v.ok_or_else(|| invalid(format!("Property .{path} is required")))?;
    let def: DiscountDef = crate::wire::read_strictly(v, path)?;
    Discount::compile(&def, path).map_err(engine_error)?;
    Ok(v.clone())
}

pub(crate) async fn assign_rules(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
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

/// The validation-rule assignments of a page of objects, read in one query.
pub(crate) struct Assignments(HashMap<String, Vec<AssignmentOut>>);

impl Assignments {
    pub(crate) async fn load(
        db: &mut PgConnection,
        project: promo_store::ProjectId,
        object_ids: Vec<String>,
    ) -> Result<Self, ApiError> {
        let mut by_object: HashMap<String, Vec<AssignmentOut>> = HashMap::new();
        if !object_ids.is_empty() {
            for a in promo_store::validation_rules::assignments_of(&mut *db, project, &object_ids).await? {
                by_object.entry(a.related_object_id.clone()).or_default().push(a.into());
            }
        }
        Ok(Assignments(by_object))
    }

    /// One object's list, as embedded (the first 100).
    pub(crate) fn of(&mut self, object_id: &str) -> ListOut<AssignmentOut> {
        let mut data = self.0.remove(object_id).unwrap_or_default();
        let total = data.len() as i64;
        data.truncate(100);
        ListOut::new(data, total)
    }
}

pub(crate) async fn category_of(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    obj: &Map<String, Value>,
) -> Result<Option<Uuid>, ApiError> {
    match obj.get("category_id").and_then(Value::as_str) {
        None => Ok(None),
        Some(raw) => {
            let id = ids::try_parse(ids::CATEGORY, raw).ok_or_else(|| ApiError::not_found("category", raw))?;
            if !promo_store::categories::hold(&mut *db, project, id).await? {
                return Err(ApiError::not_found("category", raw));
            }
            Ok(Some(id))
        }
    }
}

pub(crate) fn voucher_out(v: VoucherRow, assignments: ListOut<AssignmentOut>) -> VoucherOut {
    let doc: VoucherDoc = crate::wire::lenient(object(v.doc.0), "voucher");
    let quantity = doc.redemption.as_ref().and_then(|r| r.get("quantity")).and_then(Value::as_i64);
    VoucherOut {
        id: ids::wire(ids::VOUCHER, v.voucher_id),
        campaign: v.campaign_name,
        campaign_id: v.campaign_id.map(|c| ids::wire(ids::CAMPAIGN, c)),
        category: None,
        category_id: doc.category_id,
        categories: Vec::new(),
        kind: doc.kind.unwrap_or_else(|| "DISCOUNT_VOUCHER".into()),
        gift: None,
        loyalty_card: None,
        active: v.active,
        metadata: doc.metadata.unwrap_or_default(),
        is_referral_code: false,
        created_at: timestamp(v.created_at),
        updated_at: v.updated_at.map(timestamp),
        holder_id: v.holder_id.map(|h| ids::wire(ids::CUSTOMER, h)),
        object: "voucher",
        publish: PublishSummary {
            object: "list",
            count: i64::from(v.publish_count),
            url: format!("/v1/vouchers/{}/publications?page=1&limit=10", crate::wire::path_segment(&v.code)),
        },
        redemption: RedemptionSummary {
            quantity,
            redeemed_quantity: v.redeemed_quantity.unwrap_or(0),
            reserved_quantity: v.reserved_quantity.unwrap_or(0),
            redeemed_points: 0,
            object: "list",
            url: format!("/v1/vouchers/{}/redemptions?page=1&limit=10", crate::wire::path_segment(&v.code)),
        },
        validation_rules_assignments: assignments,
        additional_info: doc.additional_info,
        // a discount that is not an object (a row damaged in the database) is left out
        discount: doc.discount.filter(Value::is_object),
        start_date: doc.start_date,
        expiration_date: doc.expiration_date,
        validity_timeframe: doc.validity_timeframe,
        validity_day_of_week: doc.validity_day_of_week,
        validity_hours: doc.validity_hours,
        code: v.code,
    }
}

/// Refuses what a campaign's codes cannot take from a code template (`voucher` of a campaign, the
/// body of codes added to one): `denied` are the code's properties the campaign decides.
pub(crate) fn check_template(body: &Map<String, Value>, path: &str, denied: &[&str]) -> Result<(), ApiError> {
    match denied.iter().find(|k| body.contains_key(**k)) {
        None => Ok(()),
        Some(k) => Err(invalid(format!(
            "Property .{path}{k} is not read for a campaign's codes (the campaign decides it; set it on the campaign)"
        ))),
    }
}

/// The properties of a code as written (besides its schedule), with their types.
pub(crate) const VOUCHER_TYPES: &[(&str, crate::hygiene::Kind)] = {
    use crate::hygiene::Kind;
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
    ]
};

/// The voucher fields of a body (standalone voucher or campaign template), checked; a property no
/// code reads is refused.
pub(crate) fn voucher_doc(body: &Map<String, Value>, path: &str) -> Result<Map<String, Value>, ApiError> {
    use crate::hygiene::{SCHEDULE_TYPES, expect_types, only_known};
    only_known(body, path, &[SCHEDULE_TYPES, VOUCHER_TYPES])?;
    expect_types(body, path, SCHEDULE_TYPES)?;
    expect_types(body, path, VOUCHER_TYPES)?;
    if let Some(k) = body.get("redemption").and_then(Value::as_object).and_then(|r| r.keys().find(|k| *k != "quantity"))
    {
        return Err(invalid(format!(
            "Property .{path}redemption.{k} is not read here (a code takes redemption.quantity)"
        )));
    }
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
    if body.contains_key("category") {
        return Err(invalid(format!("Property .{path}category is not supported: name the category by category_id")));
    }
    let mut doc = Map::new();
    for k in [
        "category_id",
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

pub(crate) async fn create_voucher_row(
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
) -> Result<VoucherOut, ApiError> {
    let mut out = vouchers_as_answered(db, tenant.id(), vec![v]).await?;
    out.pop().ok_or_else(|| ApiError::internal(promo_store::StoreError::Corrupt("voucher vanished".into())))
}

/// Codes as `GET` answers them (their rule assignments and categories read for the whole list).
pub(crate) async fn vouchers_as_answered(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    rows: Vec<VoucherRow>,
) -> Result<Vec<VoucherOut>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|v| ids::wire(ids::VOUCHER, v.voucher_id)).collect();
    let mut assignments = Assignments::load(&mut *db, project, ids).await?;
    let rows = rows
        .into_iter()
        .map(|v| {
            let a = assignments.of(&ids::wire(ids::VOUCHER, v.voucher_id));
            (v, a)
        })
        .collect();
    vouchers_with_categories(db, project, rows).await
}

/// Codes as answered, each listing its category (its own, else its campaign's): the
/// campaigns' categories and the categories are read in one query each.
async fn vouchers_with_categories(
    db: &mut PgConnection,
    project: promo_store::ProjectId,
    rows: Vec<(VoucherRow, ListOut<AssignmentOut>)>,
) -> Result<Vec<VoucherOut>, ApiError> {
    let mut campaign_ids: Vec<Uuid> = rows.iter().filter_map(|(v, _)| v.campaign_id).collect();
    campaign_ids.sort_unstable();
    campaign_ids.dedup();
    let campaign_category: HashMap<Uuid, String> = if campaign_ids.is_empty() {
        HashMap::new()
    } else {
        store::campaigns_by_ids(&mut *db, project, &campaign_ids)
            .await?
            .into_iter()
            .filter_map(|c| Some((c.campaign_id, ids::wire(ids::CATEGORY, c.category_id?))))
            .collect()
    };
    let out: Vec<(VoucherOut, Option<Uuid>)> = rows
        .into_iter()
        .map(|(v, a)| {
            let campaign = v.campaign_id;
            (voucher_out(v, a), campaign)
        })
        .collect();
    let named = out.iter().map(|(v, c)| {
        v.category_id.as_deref().or_else(|| c.and_then(|c| campaign_category.get(&c)).map(String::as_str))
    });
    let categories = crate::services::categories::PageCategories::load(db, project, named.collect::<Vec<_>>()).await?;
    Ok(out
        .into_iter()
        .map(|(mut v, c)| {
            categories.fill_voucher(&mut v, c.and_then(|c| campaign_category.get(&c)).map(String::as_str));
            v
        })
        .collect())
}

impl From<AssignmentRow> for AssignmentOut {
    fn from(a: AssignmentRow) -> Self {
        AssignmentOut {
            id: ids::wire(ids::ASSIGNMENT, a.assignment_id),
            rule_id: ids::wire(ids::VALIDATION_RULE, a.rule_id),
            related_object_id: a.related_object_id,
            related_object_type: a.related_object_type,
            created_at: timestamp(a.created_at),
            object: "validation_rules_assignment",
        }
    }
}
