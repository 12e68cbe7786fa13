//! Customers, by id (`cust_…`) or `source_id`, as an admin call or a checkout writes them.

use crate::error::{ApiError, invalid};
use crate::ids;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::catalog::{
    CustomerIn, CustomerOrdersSummary, CustomerOut, CustomerRedemptionsSummary, CustomerSummary, CustomersList,
};
use crate::wire::metadata;
use crate::wire::timestamp;
use promo_store::customers::CUSTOMERS;
use promo_store::documents::DocRow;
use serde_json::{Map, Value, json};

pub fn into_doc(c: CustomerIn) -> Result<(Option<String>, Value), ApiError> {
    if let Some(s) = &c.source_id
        && (s.trim().is_empty() || s.len() > 200)
    {
        return Err(invalid("Property .source_id must be a non-empty string of at most 200 characters"));
    }
    if let Some(e) = &c.email
        && (!e.contains('@') || e.len() > 320)
    {
        return Err(invalid("Property .email must be an email address"));
    }
    for (field, v) in [("birthdate", &c.birthdate), ("birthday", &c.birthday)] {
        if let Some(d) = v {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| invalid(format!("Property .{field} must be a date YYYY-MM-DD")))?;
        }
    }
    if c.address.as_ref().is_some_and(|a| !a.is_object()) {
        return Err(invalid("Property .address must be an object"));
    }
    let doc = json!({
        "name": c.name, "email": c.email, "phone": c.phone, "birthdate": c.birthdate.or(c.birthday),
        "description": c.description, "address": c.address, "metadata": metadata(c.metadata)?,
    });
    Ok((c.source_id, crate::wire::strip_nulls(doc)))
}

impl From<DocRow> for CustomerOut {
    fn from(r: DocRow) -> Self {
        CustomerOut {
            id: ids::wire(ids::CUSTOMER, r.id),
            source_id: r.source_id,
            fields: crate::wire::lenient(crate::wire::object(r.doc.0), "customer"),
            summary: CustomerSummary::default(),
            created_at: timestamp(r.created_at),
            updated_at: r.updated_at.map(timestamp),
            object: "customer",
        }
    }
}

/// A path id: `cust_…`, else a source id.
pub(crate) async fn find(app: &AppState, project: promo_store::ProjectId, raw: &str) -> Result<DocRow, ApiError> {
    let id = ids::try_parse(ids::CUSTOMER, raw);
    CUSTOMERS
        .get(&app.db, project, id, if id.is_none() { Some(raw) } else { None })
        .await?
        .ok_or_else(|| ApiError::not_found("customer", raw))
}

/// Voucherify's summary, counted from the redemption ledger and the orders (so it always agrees
/// with them).
pub(crate) fn summary_from(l: &promo_store::ledger::CustomerLedger) -> CustomerSummary {
    CustomerSummary {
        redemptions: CustomerRedemptionsSummary {
            total_redeemed: l.succeeded + l.failed,
            total_succeeded: l.succeeded,
            total_failed: l.failed,
            total_rolled_back: l.rolled_back,
            total_rollback_succeeded: l.rollbacks,
            ..Default::default()
        },
        orders: CustomerOrdersSummary {
            total_amount: l.orders_amount,
            total_count: l.orders,
            average_amount: if l.orders > 0 { l.orders_amount / l.orders } else { 0 },
            last_order_amount: l.last_order_amount.unwrap_or(0),
            last_order_date: Some(l.last_order_at.map(timestamp)),
        },
    }
}

/// Create a customer.
pub(crate) async fn create_customer(
    app: &AppState,
    tenant: &Tenant,
    body: CustomerIn,
) -> Result<CustomerOut, ApiError> {
    let (source_id, doc) = into_doc(body)?;
    let row = CUSTOMERS.insert(&app.db, tenant.id(), promo_store::new_id(), None, source_id.as_deref(), &doc).await?;
    Ok(row.into())
}

/// Get a customer by id or source id.
pub(crate) async fn get_customer(app: &AppState, tenant: &Tenant, raw: &str) -> Result<CustomerOut, ApiError> {
    let row = find(app, tenant.id(), raw).await?;
    let ledger = promo_store::ledger::customer_ledger(&app.db, tenant.id(), row.id).await?;
    let mut out: CustomerOut = row.into();
    out.summary = summary_from(&ledger);
    Ok(out)
}

/// List customers, newest first.
pub(crate) async fn list_customers(
    app: &AppState,
    tenant: &Tenant,
    page: promo_store::Page,
) -> Result<CustomersList, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = CUSTOMERS.list(&mut conn, tenant.id(), None, page).await?;
    let has_more = page.offset + (rows.len() as i64) < total;
    let customers = as_listed(&mut conn, tenant.id(), rows).await?;
    Ok(CustomersList { object: "list", data_ref: "customers", customers, total, has_more })
}

/// Customers as the list shows them: each with its summary, as GET answers it (one query for
/// all of them).
pub(crate) async fn as_listed(
    conn: &mut promo_store::PgConnection,
    project: promo_store::ProjectId,
    rows: Vec<promo_store::documents::DocRow>,
) -> Result<Vec<CustomerOut>, ApiError> {
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let mut ledgers: std::collections::HashMap<uuid::Uuid, promo_store::ledger::CustomerLedger> =
        promo_store::ledger::customer_ledgers(&mut *conn, project, &ids).await?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let ledger = ledgers.remove(&r.id).unwrap_or_default();
            let mut out = CustomerOut::from(r);
            out.summary = summary_from(&ledger);
            out
        })
        .collect())
}

/// Update a customer (given fields replace theirs).
pub(crate) async fn update_customer(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    body: CustomerIn,
) -> Result<CustomerOut, ApiError> {
    let current = find(app, tenant.id(), raw).await?;
    let source_id = body.source_id.clone().or(current.source_id.clone());
    let (_, patch) = into_doc(CustomerIn { source_id: source_id.clone(), ..body })?;
    let mut doc = current.doc.0.clone();
    if let (Some(d), Value::Object(p)) = (doc.as_object_mut(), patch) {
        for (k, v) in p {
            // An empty metadata object in the patch does not wipe stored metadata.
            if k == "metadata" && v.as_object().is_some_and(Map::is_empty) {
                continue;
            }
            d.insert(k, v);
        }
    }
    let row = CUSTOMERS
        .update(&app.db, tenant.id(), current.id, source_id.as_deref(), &doc)
        .await?
        .ok_or_else(|| ApiError::not_found("customer", raw))?;
    Ok(row.into())
}

/// Delete a customer.
pub(crate) async fn delete_customer(app: &AppState, tenant: &Tenant, raw: &str) -> Result<(), ApiError> {
    let current = find(app, tenant.id(), raw).await?;
    CUSTOMERS.delete(&app.db, tenant.id(), current.id).await?;
    Ok(())
}

/// The customer an object names (`{"id": …}` or `{"source_id": …, other fields}`): found by
/// id or source id, or created from the fields (an existing customer is not changed).
pub(crate) async fn find_or_create(
    db: &mut promo_store::PgConnection,
    project: promo_store::ProjectId,
    customer: &Value,
) -> Result<promo_store::documents::DocRow, ApiError> {
    let mut fields = customer.as_object().cloned().ok_or_else(|| invalid("Property .customer must be an object"))?;
    // an id (ours, or a source id in the id field: found by either); `null` is no id
    if let Some(raw) = fields.remove("id").filter(|v| !v.is_null()) {
        let raw = raw.as_str().ok_or_else(|| invalid("Property .customer.id must be a string"))?;
        let id = ids::try_parse(ids::CUSTOMER, raw);
        let row = CUSTOMERS.get(&mut *db, project, id, if id.is_none() { Some(raw) } else { None }).await?;
        return row.ok_or_else(|| ApiError::not_found("customer", raw));
    }
    fields.remove("object");
    let body: crate::types::catalog::CustomerIn = serde_path_to_error::deserialize(Value::Object(fields))
        .map_err(|e| invalid(format!("Property .customer.{}: {}", e.path(), e.inner())))?;
    let Some(source) = body.source_id.clone() else {
        return Err(invalid("Property .customer needs an id or a source_id"));
    };
    if let Some(row) = CUSTOMERS.get(&mut *db, project, None, Some(&source)).await? {
        return Ok(row);
    }
    let (source_id, doc) = into_doc(body)?;
    Ok(CUSTOMERS.insert(&mut *db, project, promo_store::new_id(), None, source_id.as_deref(), &doc).await?)
}
