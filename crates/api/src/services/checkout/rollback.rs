//! Rollbacks (reference §3.4): a forward operation that gives back exactly what a redemption
//! claimed, once. The unique rollback row per redemption makes a concurrent second rollback
//! wait for the first and then find it done.

use super::{REDEMPTION, ROLLBACK, Reply, early_replay, invalid, replay, request_hash};
use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::state::AppState;
use chrono::Utc;
use promo_store::PgConnection;
use promo_store::audiences::ORDERS;
use promo_store::ledger::{self, Claim, RedemptionRow};
use promo_store::projects::ProjectRow;
use serde_json::{Value, json};

/// Which endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackKind {
    /// `POST /v1/redemptions/{id}/rollback`: single redemptions only.
    Single,
    /// `POST /v1/redemptions/{parentId}/rollbacks`: a parent and its children, or a single one.
    Stacked,
}

/// Optional body and query fields.
#[derive(Debug, Clone, Default)]
pub struct RollbackInput {
    pub reason: Option<String>,
    pub tracking_id: Option<String>,
    pub metadata: Value,
}

impl RollbackInput {
    pub fn parse(body: &Value, query_reason: Option<String>, query_tracking: Option<String>) -> Result<Self, ApiError> {
        let reason = body.get("reason").and_then(Value::as_str).map(str::to_owned).or(query_reason);
        if reason.as_ref().is_some_and(|r| r.len() > 1000) {
            return Err(invalid("Property .reason must be at most 1000 characters"));
        }
        let metadata = body.get("metadata").cloned().unwrap_or_else(|| json!({}));
        if !metadata.is_object() {
            return Err(invalid("Property .metadata must be an object"));
        }
        Ok(RollbackInput {
            reason,
            tracking_id: body.get("tracking_id").and_then(Value::as_str).map(str::to_owned).or(query_tracking),
            metadata,
        })
    }
}

fn stored_claims(r: &RedemptionRow) -> Vec<Claim> {
    // the negation of what was claimed, unguarded: giving back never exceeds a limit
    let mut claims: Vec<Claim> = r
        .claims
        .0
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    Some(Claim {
                        key: c.get("key")?.as_str()?.to_owned(),
                        delta: -c.get("delta")?.as_i64()?,
                        limit: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    claims.sort_by(|a, b| a.key.cmp(&b.key));
    claims
}

fn rollback_doc(
    r: &RedemptionRow,
    id: &str,
    input: &RollbackInput,
    order: Option<&Value>,
    parent_rollback: Option<&str>,
) -> Value {
    let doc = &r.doc.0;
    let related = r.related_object_type.as_str();
    let mut v = json!({
        "id": id,
        "object": "redemption_rollback",
        "date": crate::wire::timestamp(Utc::now()),
        "customer_id": doc.get("customer_id"),
        "tracking_id": input.tracking_id.clone().or_else(|| r.tracking_id.clone()),
        "metadata": input.metadata,
        "amount": -r.amount,
        "redemption": ids::wire(REDEMPTION, r.redemption_id),
        "reason": input.reason,
        "result": "SUCCESS",
        "status": "SUCCEEDED",
        "order": order.cloned().or_else(|| doc.get("order").cloned()),
        "channel": doc.get("channel"),
        "customer": doc.get("customer"),
        "related_object_type": related,
        "related_object_id": r.related_object_id,
        "rollback": parent_rollback,
    });
    if let Some(o) = v.as_object_mut() {
        for field in ["voucher", "promotion_tier"] {
            if let Some(x) = doc.get(field) {
                o.insert(field.into(), x.clone());
            }
        }
        if r.amount != 0 {
            o.insert("gift".into(), json!({"amount": -r.amount}));
        }
        // documented nulls stay (the order and the embedded objects are as the redemption
        // stored them); only a rollback that is not part of a stacked one drops `rollback`
        if o.get("rollback").is_some_and(Value::is_null) {
            o.remove("rollback");
        }
        for field in ["failure_code", "failure_message", "voucher", "promotion_tier"] {
            o.entry(field).or_insert(Value::Null);
        }
    }
    v
}

/// Rolls back a redemption (and its children); answers the rollback object(s).
pub async fn rollback(
    app: &AppState,
    project: &ProjectRow,
    raw_id: &str,
    kind: RollbackKind,
    input: RollbackInput,
    body_for_hash: &Value,
    idempotency_key: Option<&str>,
) -> Result<Reply, ApiError> {
    let hash = request_hash(&format!("rollback:{raw_id}:{kind:?}"), body_for_hash);
    let mut conn = promo_store::acquire(&app.db).await?;
    if let Some(r) = early_replay(&mut conn, project.project_id, idempotency_key, &hash).await? {
        return Ok(r);
    }
    let id = ids::parse(REDEMPTION, "redemption", raw_id)?;
    let target = ledger::get_redemption(&mut *conn, project.project_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("redemption", raw_id))?;
    if target.result != "SUCCESS" {
        return Err(ApiError::new(ErrorKey::InvalidRedemption).details("A failed redemption cannot be rolled back"));
    }
    let is_parent = target.related_object_type == "redemption";
    if target.parent_id.is_some() {
        return Err(ApiError::new(ErrorKey::InvalidRedemptionParent));
    }
    if is_parent && kind == RollbackKind::Single {
        return Err(ApiError::new(ErrorKey::InvalidRedemption));
    }
    let children = if is_parent { ledger::children(&mut *conn, project.project_id, id).await? } else { Vec::new() };

    let mut tx = promo_store::begin_on(&mut conn).await?;
    if let Some(key) = idempotency_key
        && let Some(stored) = ledger::claim_idempotency_key(&mut tx, project.project_id, key, &hash).await?
    {
        return replay(stored, &hash);
    }
    let now = Utc::now();
    let rollback_uuid = promo_store::new_id();
    let rollback_id = ids::wire(ROLLBACK, rollback_uuid);
    if !ledger::insert_rollback(&mut tx, project.project_id, rollback_uuid, id, &json!({}), now).await? {
        drop(tx);
        let existing = ledger::rollback_of(&mut *conn, project.project_id, id).await?;
        let rrf = existing.map(|r| ids::wire(ROLLBACK, r.rollback_id)).unwrap_or_default();
        return Err(ApiError::new(ErrorKey::AlreadyRolledBack)
            .details("Redemption has been already rolled back.")
            .resource(rrf, "redemption_rollback"));
    }
    // given back at the redemption's own time: a rolling window that held it stops counting it
    ledger::apply_claims(&mut tx, project.project_id, &stored_claims(&target), None, target.created_at).await?;
    let order = cancel_order(&mut tx, project, &target, &rollback_id, now).await?;

    let reply_value = if is_parent || kind == RollbackKind::Stacked {
        let mut rollbacks = Vec::new();
        let mut child_ids = Vec::new();
        for c in &children {
            let child_uuid = promo_store::new_id();
            let child_id = ids::wire(ROLLBACK, child_uuid);
            let doc = rollback_doc(c, &child_id, &input, order.as_ref(), Some(&rollback_id));
            // children carry no claims of their own (the parent holds them)
            ledger::insert_rollback(&mut tx, project.project_id, child_uuid, c.redemption_id, &doc, now).await?;
            child_ids.push(child_id);
            rollbacks.push(doc);
        }
        let parent_doc = rollback_doc(&target, &rollback_id, &input, order.as_ref(), None);
        ledger::store_rollback_doc(&mut *tx, project.project_id, rollback_uuid, &parent_doc).await?;
        if is_parent {
            json!({"rollbacks": rollbacks, "parent_rollback": parent_doc, "order": order})
        } else {
            json!({"rollbacks": [parent_doc], "order": order})
        }
    } else {
        let doc = rollback_doc(&target, &rollback_id, &input, order.as_ref(), None);
        ledger::store_rollback_doc(&mut *tx, project.project_id, rollback_uuid, &doc).await?;
        doc
    };
    let reply = Reply { status: 200, body: serde_json::to_vec(&reply_value).unwrap_or_default(), replayed: false };
    if let Some(key) = idempotency_key {
        ledger::complete_idempotency_key(&mut tx, project.project_id, key, reply.status, &reply.body).await?;
    }
    tx.commit().await.map_err(promo_store::StoreError::from)?;
    Ok(reply)
}

/// `WITH_ORDER` (the default): the order of a rolled-back redemption is canceled and its
/// redemption entry notes the rollback.
async fn cancel_order(
    conn: &mut PgConnection,
    project: &ProjectRow,
    target: &RedemptionRow,
    rollback_id: &str,
    now: chrono::DateTime<Utc>,
) -> Result<Option<Value>, ApiError> {
    let Some(order_id) = target.order_id else { return Ok(None) };
    let Some(row) = ORDERS.get(&mut *conn, project.project_id, Some(order_id), None).await? else { return Ok(None) };
    let mut doc = row.doc.0.clone();
    let with_order = project
        .stacking_rules
        .as_ref()
        .and_then(|r| r.0.get("redeemables_rollback_order_mode").and_then(Value::as_str).map(str::to_owned))
        .is_none_or(|m| m == "WITH_ORDER");
    if with_order {
        doc["status"] = json!("CANCELED");
    }
    undo_totals(&mut doc, target.doc.0.get("order"));
    let entry_id = ids::wire(REDEMPTION, target.redemption_id);
    if let Some(entry) = doc.get_mut("redemptions").and_then(|m| m.get_mut(&entry_id)).and_then(Value::as_object_mut) {
        entry.insert("rollback_id".into(), json!(rollback_id));
        entry.insert("rollback_date".into(), json!(crate::wire::timestamp(now)));
    }
    ORDERS.update(&mut *conn, project.project_id, row.id, row.source_id.as_deref(), &doc).await?;
    let mut out = doc;
    out["id"] = json!(ids::wire(ids::ORDER, row.id));
    Ok(Some(out))
}

/// Takes a rolled-back redemption's discounts out of its order's totals: the order (as the
/// redemption left it) names what this redemption applied, in all and line by line.
fn undo_totals(order: &mut Value, redeemed: Option<&Value>) {
    let Some(redeemed) = redeemed else { return };
    let applied = |k: &str| redeemed.get(k).and_then(Value::as_i64).unwrap_or(0);
    let (order_level, items_level, total) = (
        applied("applied_discount_amount"),
        applied("items_applied_discount_amount"),
        applied("total_applied_discount_amount"),
    );
    let Some(o) = order.as_object_mut() else { return };
    let mut added_amount = 0;
    if let (Some(items), Some(redeemed_items)) =
        (o.get_mut("items").and_then(Value::as_array_mut), redeemed.get("items").and_then(Value::as_array))
    {
        let mut emptied = Vec::new();
        for (n, (item, was)) in items.iter_mut().zip(redeemed_items).enumerate() {
            // a later redemption of the same order may have written other lines: undo only a
            // line that is the one this redemption saw
            if !same_line(item, was) {
                continue;
            }
            let Some(i) = item.as_object_mut() else { continue };
            let get = |i: &serde_json::Map<String, Value>, k: &str| i.get(k).and_then(Value::as_i64);
            let was_get = |k: &str| was.get(k).and_then(Value::as_i64).unwrap_or(0);
            // the units its unit discount added go (a line it added entirely is dropped)
            let units = was_get("applied_quantity");
            let units_amount = was_get("applied_quantity_amount");
            if units != 0 {
                let quantity = get(i, "quantity").unwrap_or(0) - units;
                if quantity <= 0 && get(i, "initial_quantity") == Some(0) {
                    emptied.push(n);
                }
                i.insert("quantity".into(), json!(quantity.max(0)));
                if let Some(a) = get(i, "amount") {
                    i.insert("amount".into(), json!((a - units_amount).max(0)));
                }
                added_amount += units_amount;
            }
            // and the discount it gave the line
            let discount = (get(i, "discount_amount").unwrap_or(0) - was_get("applied_discount_amount")).max(0);
            let discounted_units =
                (get(i, "discount_quantity").unwrap_or(0) - was_get("applied_discount_quantity")).max(0);
            i.insert("discount_amount".into(), json!(discount));
            i.insert("discount_quantity".into(), json!(discounted_units));
            let amount = get(i, "amount").unwrap_or(0);
            i.insert("subtotal_amount".into(), json!((amount - discount).max(0)));
            for k in ["applied_discount_amount", "applied_discount_quantity"] {
                if i.contains_key(k) {
                    i.insert(k.into(), json!(0));
                }
            }
            for k in ["applied_quantity", "applied_quantity_amount"] {
                i.insert(k.into(), Value::Null);
            }
        }
        for n in emptied.into_iter().rev() {
            items.remove(n);
        }
    }
    if added_amount != 0
        && let Some(v) = o.get("amount").and_then(Value::as_i64)
    {
        o.insert("amount".into(), json!((v - added_amount).max(0)));
    }
    let mut less = |k: &str, by: i64| {
        if let Some(v) = o.get(k).and_then(Value::as_i64) {
            o.insert(k.into(), json!((v - by).max(0)));
        }
    };
    less("discount_amount", order_level);
    less("items_discount_amount", items_level);
    less("total_discount_amount", total);
    for k in ["applied_discount_amount", "items_applied_discount_amount", "total_applied_discount_amount"] {
        if o.contains_key(k) {
            o.insert(k.into(), json!(0));
        }
    }
    if let (Some(amount), Some(discount)) =
        (o.get("amount").and_then(Value::as_i64), o.get("total_discount_amount").and_then(Value::as_i64))
    {
        o.insert("total_amount".into(), json!((amount - discount).max(0)));
    }
}

/// Whether a stored order line is the line a redemption's order shows at the same position
/// (the same product, SKU and source id).
fn same_line(stored: &Value, seen: &Value) -> bool {
    let id = |line: &Value, k: &str| line.get(k).filter(|v| !v.is_null()).cloned();
    ["product_id", "sku_id", "source_id"].iter().all(|k| id(stored, k) == id(seen, k))
}

/// The stored rollback of a redemption, as listings show it.
pub fn rollback_ref(r: &ledger::RollbackRow) -> Value {
    json!({"id": ids::wire(ROLLBACK, r.rollback_id), "date": crate::wire::timestamp(r.created_at),
           "rollback_order_mode": "WITH_ORDER"})
}
