//! Validation rules and their assignments. Every rule is compiled by the engine when written.

use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::admin::{AssignmentIn, AssignmentsQuery, ValidationRuleIn, ValidationRuleOut};
use crate::types::common::AssignmentOut;
use crate::types::common::ListOut;
use crate::wire::timestamp;
use promo_engine::rules::{RuleSet, ValidationRuleDef};
use promo_store::validation_rules::ValidationRuleRow;
use serde_json::{Value, json};

const TYPES: &[&str] = &["expression", "basic", "advanced", "complex"];

const OBJECT_TYPES: &[&str] =
    &["voucher", "campaign", "earning_rule", "reward_assignment", "promotion_tier", "distribution"];

impl From<ValidationRuleRow> for ValidationRuleOut {
    fn from(r: ValidationRuleRow) -> Self {
        let doc = r.doc.0;
        let field = |k: &str| doc.get(k).cloned().filter(|v| !v.is_null());
        ValidationRuleOut {
            id: ids::wire(ids::VALIDATION_RULE, r.rule_id),
            name: r.name,
            kind: field("type").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "expression".into()),
            context_type: field("context_type")
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "global".into()),
            rules: field("rules").unwrap_or_else(|| json!({})),
            error: field("error"),
            applicable_to: applicable_to_out(field("applicable_to")),
            bundle_rules: field("bundle_rules").unwrap_or_else(|| json!({})),
            created_at: timestamp(r.created_at),
            updated_at: r.updated_at.map(timestamp),
            assignments_count: r.assignments_count,
            object: "validation_rules",
        }
    }
}

/// The fields of an `applicable_to` entry the service reads: answered, `null` when unset.
const ENTRY_FIELDS: &[&str] = &[
    "object",
    "id",
    "source_id",
    "product_id",
    "product_source_id",
    "price",
    "price_formula",
    "effect",
    "quantity_limit",
    "aggregated_quantity_limit",
    "amount_limit",
    "aggregated_amount_limit",
    "repeat",
    "skip_initially",
    "target",
];

/// A rule's `applicable_to` as answered: both lists and `included_all` present, every entry
/// with the fields the service reads (documented nulls included).
fn applicable_to_out(stored: Option<Value>) -> Value {
    let mut a = match stored {
        Some(Value::Object(a)) => a,
        _ => serde_json::Map::new(),
    };
    for list in ["included", "excluded"] {
        let entries = a.entry(list).or_insert_with(|| json!([]));
        for e in entries.as_array_mut().into_iter().flatten().filter_map(Value::as_object_mut) {
            for k in ENTRY_FIELDS {
                e.entry(*k).or_insert(Value::Null);
            }
        }
    }
    a.entry("included_all").or_insert(json!(false));
    Value::Object(a)
}

fn invalid_rules(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKey::InvalidValidationRules).message("Invalid validation rules").details(details)
}

/// The documented `context_type` values.
fn context_type_known(c: &str) -> bool {
    const DISCOUNT_EFFECTS: &[&str] = &[
        "apply_to_order",
        "apply_to_items",
        "apply_to_items_proportionally",
        "apply_to_items_proportionally_by_quantity",
        "apply_to_items_by_quantity",
        "fixed.apply_to_items",
        "percent.apply_to_items",
    ];
    const PLAIN: &[&str] = &[
        "global",
        "earning_rule.order.paid",
        "earning_rule.custom_event",
        "earning_rule.customer.segment.entered",
        "earning_rule.customer.tier.joined",
        "earning_rule.customer.tier.left",
        "earning_rule.customer.tier.upgraded",
        "earning_rule.customer.tier.downgraded",
        "earning_rule.customer.tier.prolonged",
        "campaign.discount_coupons",
        "campaign.gift_vouchers",
        "campaign.gift_vouchers.gift.apply_to_order",
        "campaign.gift_vouchers.gift.apply_to_items",
        "campaign.referral_program",
        "campaign.promotion",
        "campaign.loyalty_program",
        "voucher.discount_voucher",
        "voucher.gift_voucher",
        "voucher.gift_voucher.gift.apply_to_order",
        "voucher.gift_voucher.gift.apply_to_items",
        "voucher.loyalty_card",
        "distribution.custom_event",
        "distribution.order.paid",
        "distribution.order.created",
        "distribution.order.canceled",
        "distribution.order.updated",
        "reward_assignment.pay_with_points",
    ];
    PLAIN.contains(&c)
        || ["campaign.discount_coupons", "campaign.referral_program", "campaign.promotion", "voucher.discount_voucher"]
            .iter()
            .any(|base| {
                c.strip_prefix(base)
                    .and_then(|rest| rest.strip_prefix(".discount."))
                    .is_some_and(|effect| DISCOUNT_EFFECTS.contains(&effect))
            })
}

/// Checks the body with the engine and returns the document to store.
fn into_doc(body: ValidationRuleIn) -> Result<(String, Value), ApiError> {
    let name = body.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty() && n.chars().count() <= 200);
    let name = name.ok_or_else(|| {
        ApiError::new(ErrorKey::InvalidPayload)
            .details("Property .name must be a non-empty string of at most 200 characters")
    })?;
    if let Some(k) = body.kind.as_deref().filter(|k| !TYPES.contains(k)) {
        return Err(ApiError::new(ErrorKey::InvalidPayload)
            .details(format!("Property .type `{k}` must be one of {}", TYPES.join(", "))));
    }
    if let Some(c) = body.context_type.as_deref().filter(|c| !context_type_known(c)) {
        return Err(ApiError::new(ErrorKey::InvalidPayload)
            .details(format!("Property .context_type `{c}` is not one of the documented context types")));
    }
    if let Some(e) = &body.error
        && !(e.is_object()
            && e.get("message").is_none_or(Value::is_string)
            && e.as_object().is_some_and(|o| o.keys().all(|k| k == "message")))
    {
        return Err(ApiError::new(ErrorKey::InvalidPayload)
            .details("Property .error must be an object like {\"message\": \"…\"}"));
    }
    if body.rules.as_ref().is_some_and(|r| !r.is_object()) {
        return Err(ApiError::new(ErrorKey::InvalidPayload).details("Property .rules must be an object"));
    }
    // Entries echo back with their targeting effect (clients require it).
    let applicable_to = body.applicable_to.map(|mut a| {
        for list in ["included", "excluded"] {
            if let Some(entries) = a.get_mut(list).and_then(Value::as_array_mut) {
                for e in entries.iter_mut().filter_map(Value::as_object_mut) {
                    e.entry("effect").or_insert_with(|| json!("APPLY_TO_EVERY"));
                }
            }
        }
        a
    });
    let doc = json!({
        "type": body.kind.unwrap_or_else(|| "expression".into()),
        "context_type": body.context_type.unwrap_or_else(|| "global".into()),
        "error": body.error,
        "rules": body.rules.unwrap_or_else(|| json!({})),
        "applicable_to": applicable_to,
        "bundle_rules": body.bundle_rules,
    });
    let def: ValidationRuleDef = serde_path_to_error::deserialize(&doc)
        .map_err(|e| invalid_rules(format!("Property .{}: {}", e.path(), e.inner())))?;
    if let Some(a) = doc.get("applicable_to").filter(|a| !a.is_null()) {
        let written: promo_engine::targeting::ApplicableToDef = crate::wire::read_strictly(a, "applicable_to")?;
        written
            .check_written("applicable_to")
            .map_err(|e| invalid_rules(format!("Property .{} {}", e.path, e.kind)))?;
    }
    RuleSet::compile(&def, None).map_err(|e| invalid_rules(format!("Property .{} {}", e.path, e.kind)))?;
    Ok((name, doc))
}

fn rule_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    ids::parse(ids::VALIDATION_RULE, "validation_rules", raw)
}

/// Create a validation rule.
pub(crate) async fn create_validation_rule(
    app: &AppState,
    tenant: &Tenant,
    body: ValidationRuleIn,
) -> Result<ValidationRuleOut, ApiError> {
    let (name, doc) = into_doc(body)?;
    let row = promo_store::validation_rules::insert(&app.db, tenant.id(), promo_store::new_id(), &name, &doc).await?;
    Ok(row.into())
}

/// Get a validation rule.
pub(crate) async fn get_validation_rule(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
) -> Result<ValidationRuleOut, ApiError> {
    let row = promo_store::validation_rules::get(&app.db, tenant.id(), rule_id(raw)?)
        .await?
        .ok_or_else(|| ApiError::not_found("validation_rules", raw))?;
    Ok(row.into())
}

/// List validation rules, newest first.
pub(crate) async fn list_validation_rules(
    app: &AppState,
    tenant: &Tenant,
    page: promo_store::Page,
) -> Result<ListOut<ValidationRuleOut>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = promo_store::validation_rules::list(&mut conn, tenant.id(), page).await?;
    Ok(ListOut::new(rows.into_iter().map(ValidationRuleOut::from).collect(), total))
}

/// Update a validation rule (given fields replace theirs; the result is compiled again).
pub(crate) async fn update_validation_rule(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    body: ValidationRuleIn,
) -> Result<ValidationRuleOut, ApiError> {
    let id = rule_id(raw)?;
    let current = promo_store::validation_rules::get(&app.db, tenant.id(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("validation_rules", raw))?;
    let doc = &current.doc.0;
    let keep = |v: Option<Value>, k: &str| v.or_else(|| doc.get(k).cloned().filter(|v| !v.is_null()));
    let merged = ValidationRuleIn {
        name: body.name.or(Some(current.name.clone())),
        kind: body.kind.or_else(|| doc.get("type").and_then(Value::as_str).map(str::to_owned)),
        context_type: body.context_type.or_else(|| doc.get("context_type").and_then(Value::as_str).map(str::to_owned)),
        error: keep(body.error, "error"),
        rules: keep(body.rules, "rules"),
        applicable_to: keep(body.applicable_to, "applicable_to"),
        // `null` keeps the bundle like any other field (SDK models send every unset field as
        // null); `{}` removes it
        bundle_rules: keep(body.bundle_rules, "bundle_rules"),
    };
    let (name, doc) = into_doc(merged)?;
    let row = promo_store::validation_rules::update(&app.db, tenant.id(), id, &name, &doc)
        .await?
        .ok_or_else(|| ApiError::not_found("validation_rules", raw))?;
    Ok(row.into())
}

/// Delete a validation rule (and its assignments).
pub(crate) async fn delete_validation_rule(app: &AppState, tenant: &Tenant, raw: &str) -> Result<(), ApiError> {
    if promo_store::validation_rules::delete(&app.db, tenant.id(), rule_id(raw)?).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("validation_rules", raw))
    }
}

/// Assign a validation rule to a voucher, campaign or tier.
pub(crate) async fn create_assignment(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    body: AssignmentIn,
) -> Result<AssignmentOut, ApiError> {
    let rule = rule_id(raw)?;
    promo_store::validation_rules::get(&app.db, tenant.id(), rule)
        .await?
        .ok_or_else(|| ApiError::not_found("validation_rules", raw))?;
    let (kind, object) =
        match (body.related_object_type, body.related_object_id, body.voucher, body.campaign, body.promotion_tier) {
            (Some(k), Some(o), ..) => (k, o),
            (None, None, Some(v), None, None) => ("voucher".to_owned(), v),
            (None, None, None, Some(c), None) => ("campaign".to_owned(), c),
            (None, None, None, None, Some(t)) => ("promotion_tier".to_owned(), t),
            _ => {
                return Err(
                    ApiError::new(ErrorKey::InvalidPayload).details("Give related_object_type and related_object_id")
                );
            }
        };
    if !OBJECT_TYPES.contains(&kind.as_str()) {
        return Err(ApiError::new(ErrorKey::InvalidPayload)
            .details(format!("Property .related_object_type must be one of {}", OBJECT_TYPES.join(", "))));
    }
    if object.trim().is_empty() || object.len() > 200 {
        return Err(
            ApiError::new(ErrorKey::InvalidPayload).details("Property .related_object_id must be a non-empty id")
        );
    }
    // the object must exist, and is stored by the wire id checkouts look rules up by (a voucher
    // named by its code, a campaign by its name)
    let mut conn = promo_store::acquire(&app.db).await?;
    let object = match kind.as_str() {
        "voucher" => {
            let v = crate::services::vouchers::find_voucher(&mut conn, tenant, &object).await?;
            ids::wire(ids::VOUCHER, v.voucher_id)
        }
        "campaign" => {
            let c = crate::services::campaigns::find_campaign(&mut conn, tenant.id(), &object).await?;
            ids::wire(ids::CAMPAIGN, c.campaign_id)
        }
        "promotion_tier" => {
            let (t, _) = crate::services::campaigns::find_tier(&mut conn, tenant.id(), &object).await?;
            ids::wire(ids::TIER, t.tier_id)
        }
        other => {
            // the service has no such objects: the rule would never be read
            return Err(ApiError::new(ErrorKey::InvalidPayload).details(format!(
                "Property .related_object_type `{other}` is not supported (voucher, campaign, promotion_tier)"
            )));
        }
    };
    let row =
        promo_store::validation_rules::assign(&mut *conn, tenant.id(), promo_store::new_id(), rule, &kind, &object)
            .await?;
    Ok(row.into())
}

/// List the assignments of a validation rule.
pub(crate) async fn list_rule_assignments(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    page: promo_store::Page,
) -> Result<ListOut<AssignmentOut>, ApiError> {
    let rule = rule_id(raw)?;
    promo_store::validation_rules::get(&app.db, tenant.id(), rule)
        .await?
        .ok_or_else(|| ApiError::not_found("validation_rules", raw))?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) =
        promo_store::validation_rules::list_assignments(&mut conn, tenant.id(), Some(rule), None, page).await?;
    Ok(ListOut::new(rows.into_iter().map(AssignmentOut::from).collect(), total))
}

/// List assignments of the project, filtered by object or rule.
pub(crate) async fn list_assignments(
    app: &AppState,
    tenant: &Tenant,
    q: AssignmentsQuery,
) -> Result<ListOut<AssignmentOut>, ApiError> {
    let page = crate::wire::page(q.limit, q.page, 10)?;
    // The SDK sends the string "None" for unset filters.
    let rule = match q.rule.as_deref().filter(|r| *r != "None") {
        Some(r) => match ids::try_parse(ids::VALIDATION_RULE, r) {
            Some(id) => Some(id),
            None => return Ok(ListOut::new(Vec::new(), 0)),
        },
        None => None,
    };
    let mut conn = promo_store::acquire(&app.db).await?;
    let object = q.related_object_id.as_deref().filter(|o| *o != "None");
    let (rows, total) =
        promo_store::validation_rules::list_assignments(&mut conn, tenant.id(), rule, object, page).await?;
    Ok(ListOut::new(rows.into_iter().map(AssignmentOut::from).collect(), total))
}

/// Delete an assignment.
pub(crate) async fn delete_assignment(
    app: &AppState,
    tenant: &Tenant,
    (raw, assignment_raw): (&str, &str),
) -> Result<(), ApiError> {
    let rule = rule_id(raw)?;
    let assignment = ids::parse(ids::ASSIGNMENT, "validation_rules_assignment", assignment_raw)?;
    if promo_store::validation_rules::unassign(&app.db, tenant.id(), rule, assignment).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("validation_rules_assignment", assignment_raw))
    }
}
