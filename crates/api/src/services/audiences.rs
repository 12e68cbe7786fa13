//! Segments (static and auto-update), product collections (static and auto-update) and orders.
//! Filters are compiled by the engine; order totals are the engine's.

use crate::error::ApiError;
use crate::error::invalid;
use crate::ids;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::admin::OrdersList;
use crate::types::common::ListOut;
use crate::wire::metadata;
use crate::wire::object;
use crate::wire::strip_nulls;
use crate::wire::timestamp;
use promo_engine::condition::{Clock, Filter};
use promo_engine::{Catalog, Order};
use promo_store::audiences::{COLLECTIONS, ORDERS, SEGMENTS};
use promo_store::customers::CUSTOMERS;
use promo_store::documents::DocRow;
use serde_json::{Map, Value, json};

/// Refuses a body field this kind of list does not read (it would be stored and ignored).
fn only_fields(body: &Map<String, Value>, allowed: &[&str], kind: &str) -> Result<(), ApiError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => {
            Err(invalid(format!("Property .{k} is not read for a {kind} list (it reads {})", allowed.join(", "))))
        }
        None => Ok(()),
    }
}

fn name_of(body: &Map<String, Value>) -> Result<String, ApiError> {
    body.get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= 200)
        .map(str::to_owned)
        .ok_or_else(|| invalid("Property .name must be a non-empty string of at most 200 characters"))
}

/// The customer fields a segment filter can read (besides `metadata.<key>`): what a checkout
/// knows of the customer, summary included.
pub const SEGMENT_FIELDS: &[&str] = &[
    "id",
    "source_id",
    "name",
    "email",
    "phone",
    "birthdate",
    "birthday",
    "description",
    "address.city",
    "address.state",
    "address.line_1",
    "address.line_2",
    "address.country",
    "address.postal_code",
    "summary.orders.total_amount",
    "summary.orders.total_count",
    "summary.orders.average_amount",
    "summary.orders.last_order_amount",
    "summary.orders.last_order_date",
    "summary.redemptions.total_redeemed",
    "summary.redemptions.total_succeeded",
    "summary.redemptions.total_failed",
    "summary.redemptions.total_rolled_back",
];

/// The product fields an AUTO_UPDATE collection's filter can read (besides `metadata.<key>`).
pub const COLLECTION_FIELDS: &[&str] = &["id", "source_id", "name", "price"];

/// Compiles the body's filter, refusing a field it could never read (it would never match).
fn check_filter(body: &Map<String, Value>, fields: &[&str]) -> Result<Value, ApiError> {
    let filter = body.get("filter").ok_or_else(|| invalid("Property .filter is required"))?;
    if !Filter::junction_known(filter) {
        return Err(invalid("Property .filter.junction must be \"and\" or \"or\""));
    }
    let compiled =
        Filter::compile(filter, "filter").map_err(|e| invalid(format!("Property .{} {}", e.path, e.kind)))?;
    let known = |f: &str| fields.contains(&f) || f.strip_prefix("metadata.").is_some_and(|k| !k.is_empty());
    if let Some(f) = compiled.fields().find(|f| !known(f)) {
        return Err(invalid(format!(
            "Property .filter.{f} is not a field this filter can read (one of {}, metadata.<key>)",
            fields.join(", ")
        )));
    }
    Ok(filter.clone())
}

fn doc_out(r: DocRow, prefix: &str, object_name: &str, extra: Value) -> Value {
    let mut out = json!({"id": ids::wire(prefix, r.id), "created_at": timestamp(r.created_at), "updated_at": r.updated_at.map(timestamp), "object": object_name});
    if let (Some(o), Value::Object(d)) = (out.as_object_mut(), r.doc.0) {
        o.extend(d);
        if let Value::Object(e) = extra {
            o.extend(e);
        }
        if let Some(s) = r.source_id {
            o.insert("source_id".into(), json!(s));
        }
    }
    let mut out = strip_nulls(out);
    if let Some(o) = out.as_object_mut() {
        // documented nulls: never updated; a static list has no filter
        o.entry("updated_at").or_insert(Value::Null);
        o.entry("filter").or_insert(Value::Null);
    }
    out
}

/// An order as answered: the stored document as written (a redemption's order carries its
/// documented nulls), with its identity and dates; `source_id` and `updated_at` null when unset.
pub(crate) fn order_out(r: DocRow) -> Value {
    let mut out = json!({"id": ids::wire(ids::ORDER, r.id), "source_id": r.source_id,
        "created_at": timestamp(r.created_at), "updated_at": r.updated_at.map(timestamp), "object": "order"});
    if let (Some(o), Value::Object(d)) = (out.as_object_mut(), r.doc.0) {
        for (k, v) in d {
            // the row's identity and dates win over what the document repeats
            if !matches!(k.as_str(), "id" | "source_id" | "created_at" | "updated_at" | "object") {
                o.insert(k, v);
            }
        }
    }
    out
}

/// How a stored document resource appears on the wire (segments, collections).
struct Resource {
    table: promo_store::documents::DocTable,
    prefix: &'static str,
    /// `resource_type` in a 404, and the wire `object`.
    kind: &'static str,
    /// A constant field every response carries.
    extra: Option<(&'static str, &'static str)>,
}

const SEGMENT: Resource =
    Resource { table: SEGMENTS, prefix: ids::SEGMENT, kind: "segment", extra: Some(("initial_sync_status", "DONE")) };

const COLLECTION: Resource =
    Resource { table: COLLECTIONS, prefix: ids::COLLECTION, kind: "products_collection", extra: None };

impl Resource {
    fn out(&self, r: DocRow) -> Value {
        let extra = self.extra.map_or(json!({}), |(k, v)| json!({ k: v }));
        doc_out(r, self.prefix, self.kind, extra)
    }

    async fn get(&self, app: &AppState, tenant: &Tenant, raw: &str) -> Result<Value, ApiError> {
        let id = ids::parse(self.prefix, self.kind, raw)?;
        let row = self
            .table
            .get(&app.db, tenant.id(), Some(id), None)
            .await?
            .ok_or_else(|| ApiError::not_found(self.kind, raw))?;
        Ok(self.out(row))
    }

    async fn list(&self, app: &AppState, tenant: &Tenant, page: promo_store::Page) -> Result<ListOut<Value>, ApiError> {
        let mut conn = promo_store::acquire(&app.db).await?;
        let (rows, total) = self.table.list(&mut conn, tenant.id(), None, page).await?;
        Ok(ListOut::new(rows.into_iter().map(|r| self.out(r)).collect(), total))
    }

    async fn delete(&self, app: &AppState, tenant: &Tenant, raw: &str) -> Result<(), ApiError> {
        let id = ids::parse(self.prefix, self.kind, raw)?;
        if self.table.delete(&app.db, tenant.id(), id).await? {
            Ok(())
        } else {
            Err(ApiError::not_found(self.kind, raw))
        }
    }
}

/// A collection member as stored and answered: `{object, id, source_id, product_id}`, each a
/// string when given (a bare id is read as `{"id": …}`); other keys are left out.
fn collection_member(p: &Value, i: usize) -> Result<Map<String, Value>, ApiError> {
    let mut member = Map::new();
    match p {
        Value::String(id) => {
            member.insert("id".into(), json!(id));
        }
        Value::Object(o) => {
            const MEMBER_FIELDS: [&str; 4] = ["object", "id", "source_id", "product_id"];
            if let Some(k) = o.keys().find(|k| !MEMBER_FIELDS.contains(&k.as_str())) {
                return Err(invalid(format!(
                    "Property .products[{i}].{k} is not read (a member is named by {})",
                    MEMBER_FIELDS.join(", ")
                )));
            }
            for key in MEMBER_FIELDS {
                match o.get(key) {
                    None => {}
                    Some(Value::String(v)) => {
                        member.insert(key.into(), json!(v));
                    }
                    Some(_) => return Err(invalid(format!("Property .products[{i}].{key} must be a string"))),
                }
            }
        }
        _ => return Err(invalid(format!("Property .products[{i}] must name a product or SKU"))),
    }
    Ok(member)
}

// ---------- orders ----------

const STATUSES: &[&str] = &["CREATED", "PAID", "CANCELED", "FULFILLED"];

fn check_status(status: &str) -> Result<(), ApiError> {
    if !STATUSES.contains(&status) {
        return Err(invalid(format!("Property .status must be one of {}", STATUSES.join(", "))));
    }
    Ok(())
}

/// The body's order, its lines resolved against the project's catalog (as a checkout resolves
/// them: a line named by source id gets the product's id, name, price and metadata).
async fn resolved_order(
    db: &mut promo_store::PgConnection,
    project: promo_store::ProjectId,
    body: &Map<String, Value>,
) -> Result<Order, ApiError> {
    let mut order: Order = serde_path_to_error::deserialize(Value::Object(body.clone()))
        .map_err(|e| invalid(format!("Property .{}: {}", e.path(), e.inner())))?;
    crate::services::checkout::catalog::resolve_items(db, project, &mut order).await?;
    Ok(order)
}

/// The order document: the request's order with the engine's totals (no discounts yet); the
/// caller has checked `status`.
fn order_doc(order: &Order, body: &Map<String, Value>, status: &str) -> Result<Value, ApiError> {
    let clock = Clock { now: chrono::DateTime::UNIX_EPOCH, tz: chrono_tz::UTC };
    let cart = promo_engine::Cart::new(order, &Catalog::new(), &clock).map_err(|e| invalid(e.to_string()))?;
    let totals = cart.totals();
    let items: Vec<Value> = order
        .items
        .iter()
        .zip(&totals.items)
        .map(|(item, t)| {
            let mut v = serde_json::to_value(item).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("object".into(), json!("order_item"));
                o.insert("quantity".into(), json!(t.quantity));
                o.insert("price".into(), json!(t.price));
                o.insert("amount".into(), json!(t.amount));
                o.insert("subtotal_amount".into(), json!(t.subtotal_amount));
                o.insert("discount_amount".into(), json!(t.discount_amount));
            }
            let mut v = strip_nulls(v);
            if let Some(o) = v.as_object_mut() {
                // documented nulls: how the line names its product or SKU
                for k in ["sku_id", "product_id", "source_id", "related_object", "product", "sku"] {
                    o.entry(k).or_insert(Value::Null);
                }
            }
            v
        })
        .collect();
    Ok(json!({
        "status": status,
        "amount": totals.amount, "initial_amount": totals.initial_amount,
        "discount_amount": totals.discount_amount, "items_discount_amount": totals.items_discount_amount,
        "total_discount_amount": totals.total_discount_amount, "total_amount": totals.total_amount,
        "applied_discount_amount": 0, "items_applied_discount_amount": 0, "total_applied_discount_amount": 0,
        "items": items,
        "metadata": metadata(body.get("metadata").cloned())?,
        "redemptions": {},
    }))
}

async fn find_order(app: &AppState, tenant: &Tenant, raw: &str) -> Result<DocRow, ApiError> {
    let id = ids::try_parse(ids::ORDER, raw);
    ORDERS
        .get(&app.db, tenant.id(), id, if id.is_none() { Some(raw) } else { None })
        .await?
        .ok_or_else(|| ApiError::not_found("order", raw))
}

/// Create a segment: `static` with `customers` (ids or source ids), or `auto-update` / `passive`
/// with a `filter` evaluated at validation time.
pub(crate) async fn create_segment(app: &AppState, tenant: &Tenant, body: Value) -> Result<Value, ApiError> {
    let body = object(body);
    let name = name_of(&body)?;
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("static").to_owned();
    let mut doc = json!({"name": name, "type": kind});
    let mut tx = promo_store::begin(&app.db).await?;
    let id = promo_store::new_id();
    let mut members = Vec::new();
    match kind.as_str() {
        "static" => {
            only_fields(&body, &["name", "type", "customers"], "static")?;
            let customers = body.get("customers").and_then(Value::as_array).cloned().unwrap_or_default();
            if customers.len() > 20_000 {
                return Err(invalid("Property .customers holds at most 20000 customers"));
            }
            for (i, c) in customers.iter().enumerate() {
                let raw =
                    c.as_str().ok_or_else(|| invalid(format!("Property .customers[{i}] must be a customer id")))?;
                let cid = ids::try_parse(ids::CUSTOMER, raw);
                let row = CUSTOMERS
                    .get(&mut *tx, tenant.id(), cid, if cid.is_none() { Some(raw) } else { None })
                    .await?
                    .ok_or_else(|| ApiError::not_found("customer", raw))?;
                members.push(row.id);
            }
        }
        "auto-update" | "passive" => {
            only_fields(&body, &["name", "type", "filter"], &kind)?;
            doc["filter"] = check_filter(&body, SEGMENT_FIELDS)?
        }
        other => return Err(invalid(format!("Property .type `{other}` must be static, auto-update or passive"))),
    }
    let row = SEGMENTS.insert(&mut *tx, tenant.id(), id, None, None, &doc).await?;
    for m in &members {
        promo_store::audiences::add_segment_member(&mut *tx, tenant.id(), id, *m).await?;
    }
    promo_store::commit(tx).await?;
    Ok(SEGMENT.out(row))
}

/// Get a segment.
pub(crate) async fn get_segment(app: &AppState, tenant: &Tenant, raw: &str) -> Result<Value, ApiError> {
    SEGMENT.get(app, tenant, raw).await
}

/// List segments, newest first.
pub(crate) async fn list_segments(
    app: &AppState,
    tenant: &Tenant,
    page: promo_store::Page,
) -> Result<ListOut<Value>, ApiError> {
    SEGMENT.list(app, tenant, page).await
}

/// Delete a segment.
pub(crate) async fn delete_segment(app: &AppState, tenant: &Tenant, raw: &str) -> Result<(), ApiError> {
    SEGMENT.delete(app, tenant, raw).await
}

/// Create a product collection: `STATIC` with `products` (products and SKUs), or
/// `AUTO_UPDATE` with a `filter` over product fields.
pub(crate) async fn create_collection(app: &AppState, tenant: &Tenant, body: Value) -> Result<Value, ApiError> {
    let body = object(body);
    let name = name_of(&body)?;
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("STATIC").to_owned();
    let mut doc = json!({"name": name, "type": kind});
    match kind.as_str() {
        "STATIC" => {
            only_fields(&body, &["name", "type", "products"], "STATIC")?;
            let products = body.get("products").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut stored = Vec::with_capacity(products.len());
            for (i, p) in products.iter().enumerate() {
                let r = promo_engine::ItemRef::from_json(p)
                    .ok_or_else(|| invalid(format!("Property .products[{i}] must name a product or SKU")))?;
                if matches!(r, promo_engine::ItemRef::Collection { .. }) {
                    return Err(invalid(format!("Property .products[{i}] must be a product or a SKU")));
                }
                stored.push(collection_member(p, i)?);
            }
            doc["products"] = json!(stored);
        }
        "AUTO_UPDATE" => {
            only_fields(&body, &["name", "type", "filter"], "AUTO_UPDATE")?;
            doc["filter"] = check_filter(&body, COLLECTION_FIELDS)?
        }
        other => return Err(invalid(format!("Property .type `{other}` must be STATIC or AUTO_UPDATE"))),
    }
    let row = COLLECTIONS.insert(&app.db, tenant.id(), promo_store::new_id(), None, None, &doc).await?;
    Ok(COLLECTION.out(row))
}

/// Get a product collection.
pub(crate) async fn get_collection(app: &AppState, tenant: &Tenant, raw: &str) -> Result<Value, ApiError> {
    COLLECTION.get(app, tenant, raw).await
}

/// List product collections, newest first.
pub(crate) async fn list_collections(
    app: &AppState,
    tenant: &Tenant,
    page: promo_store::Page,
) -> Result<ListOut<Value>, ApiError> {
    COLLECTION.list(app, tenant, page).await
}

/// Delete a product collection.
pub(crate) async fn delete_collection(app: &AppState, tenant: &Tenant, raw: &str) -> Result<(), ApiError> {
    COLLECTION.delete(app, tenant, raw).await
}

/// Create an order (totals computed by the engine).
pub(crate) async fn create_order(app: &AppState, tenant: &Tenant, body: Value) -> Result<Value, ApiError> {
    let body = object(body);
    let status = body.get("status").and_then(Value::as_str).unwrap_or("CREATED").to_owned();
    check_status(&status)?;
    let source_id = body.get("source_id").and_then(Value::as_str).map(str::to_owned);
    if source_id.as_ref().is_some_and(|s| s.trim().is_empty() || s.len() > 200) {
        return Err(invalid("Property .source_id must be a non-empty string of at most 200 characters"));
    }
    let mut tx = promo_store::begin(&app.db).await?;
    let order = resolved_order(&mut tx, tenant.id(), &body).await?;
    crate::services::checkout::check_currency(&tenant.project, Some(&order))?;
    let mut doc = order_doc(&order, &body, &status)?;
    let customer = match body.get("customer") {
        Some(c) => Some(crate::services::customers::find_or_create(&mut tx, tenant.id(), c).await?.id),
        None => None,
    };
    if let Some(c) = customer {
        doc["customer_id"] = json!(ids::wire(ids::CUSTOMER, c));
        doc["customer"] = json!({"id": ids::wire(ids::CUSTOMER, c), "object": "customer"});
    }
    let row = ORDERS.insert(&mut *tx, tenant.id(), promo_store::new_id(), None, source_id.as_deref(), &doc).await?;
    if let Some(c) = customer {
        // the customer's summary counts the order
        promo_store::ledger::set_order_customer(&mut *tx, tenant.id(), row.id, c).await?;
    }
    promo_store::commit(tx).await?;
    Ok(order_out(row))
}

/// An order's customer: by id (it must exist), or by source id (created with the fields sent
/// when it does not exist yet, as a checkout does).
/// Get an order by id or source id.
pub(crate) async fn get_order(app: &AppState, tenant: &Tenant, raw: &str) -> Result<Value, ApiError> {
    Ok(order_out(find_order(app, tenant, raw).await?))
}

/// Update an order: status, metadata, items (totals are computed again).
pub(crate) async fn update_order(app: &AppState, tenant: &Tenant, raw: &str, body: Value) -> Result<Value, ApiError> {
    let current = find_order(app, tenant, raw).await?;
    let body = object(body);
    // what an update can change; anything else would be accepted and ignored
    const UPDATABLE: [&str; 4] = ["status", "metadata", "items", "amount"];
    if let Some(k) = body.keys().find(|k| !UPDATABLE.contains(&k.as_str())) {
        return Err(invalid(format!("Property .{k} cannot change on an order (it can: {})", UPDATABLE.join(", "))));
    }
    let changes_lines = body.contains_key("items") || body.contains_key("amount");
    let redeemed = current.doc.0.get("redemptions").and_then(Value::as_object).is_some_and(|m| !m.is_empty());
    if changes_lines && redeemed {
        // its totals carry the discounts the redemptions gave: new lines would need them again
        let field = if body.contains_key("items") { "items" } else { "amount" };
        return Err(invalid(format!(
            "Property .{field}: the lines and amount of a redeemed order cannot change (roll its redemptions back first)"
        )));
    }
    let mut doc = object(current.doc.0.clone());
    if let Some(s) = body.get("status") {
        let status = s.as_str().ok_or_else(|| invalid("Property .status must be a string"))?;
        check_status(status)?;
        doc.insert("status".into(), json!(status));
    }
    if let Some(m) = body.get("metadata") {
        doc.insert("metadata".into(), json!(metadata(Some(m.clone()))?));
    }
    if changes_lines {
        let mut merged = doc.clone();
        for k in ["items", "amount"] {
            if let Some(v) = body.get(k) {
                merged.insert(k.into(), v.clone());
            }
        }
        let status = merged.get("status").and_then(Value::as_str).unwrap_or("CREATED").to_owned();
        let mut conn = promo_store::acquire(&app.db).await?;
        let order = resolved_order(&mut conn, tenant.id(), &merged).await?;
        let mut fresh = object(order_doc(&order, &merged, &status)?);
        for k in ["customer_id", "customer"] {
            if let Some(v) = doc.get(k) {
                fresh.insert(k.into(), v.clone());
            }
        }
        doc = fresh;
    }
    let row = ORDERS
        .update(&app.db, tenant.id(), current.id, current.source_id.as_deref(), &Value::Object(doc))
        .await?
        .ok_or_else(|| ApiError::not_found("order", raw))?;
    Ok(order_out(row))
}

/// List orders, newest first.
pub(crate) async fn list_orders(
    app: &AppState,
    tenant: &Tenant,
    page: promo_store::Page,
) -> Result<OrdersList, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = ORDERS.list(&mut conn, tenant.id(), None, page).await?;
    let orders = rows.into_iter().map(order_out).collect();
    Ok(OrdersList { object: "list", data_ref: "orders", orders, total })
}
