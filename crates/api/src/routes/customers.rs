//! Customers, by id (`cust_…`) or `source_id`.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::ids;
use crate::services::customers::{CustomerIn, into_doc};
use crate::state::AppState;
use crate::types::catalog::{
    CustomerOrdersSummary, CustomerOut, CustomerRedemptionsSummary, CustomerSummary, CustomersList,
};
use crate::wire::timestamp;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use promo_store::customers::CUSTOMERS;
use promo_store::documents::DocRow;
use serde_json::{Map, Value};

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

/// Create a customer.
#[utoipa::path(post, path = "/v1/customers", tag = "customers", request_body = CustomerIn,
    responses((status = 200, body = CustomerOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_customer(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CustomerIn>,
) -> Result<Json<CustomerOut>, ApiError> {
    let (source_id, doc) = into_doc(body)?;
    let row = CUSTOMERS.insert(&app.db, tenant.id(), promo_store::new_id(), None, source_id.as_deref(), &doc).await?;
    Ok(Json(row.into()))
}

/// Get a customer by id or source id.
#[utoipa::path(get, path = "/v1/customers/{customerId}", tag = "customers", params(("customerId" = String, Path)),
    responses((status = 200, body = CustomerOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_customer(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<CustomerOut>, ApiError> {
    let row = find(&app, tenant.id(), &raw).await?;
    let ledger = promo_store::ledger::customer_ledger(&app.db, tenant.id(), row.id).await?;
    let mut out: CustomerOut = row.into();
    out.summary = summary_from(&ledger);
    Ok(Json(out))
}

/// Voucherify's summary, counted from the redemption ledger and the orders (so it always agrees
/// with them).
fn summary_from(l: &promo_store::ledger::CustomerLedger) -> CustomerSummary {
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
            last_order_amount: 0,
            last_order_date: Some(l.last_order_at.map(timestamp)),
        },
    }
}

/// List customers, newest first.
#[utoipa::path(get, path = "/v1/customers", tag = "customers", params(PageQuery),
    responses((status = 200, body = CustomersList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_customers(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<CustomersList>, ApiError> {
    let page = q.page()?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = CUSTOMERS.list(&mut conn, tenant.id(), None, page).await?;
    let has_more = page.offset + (rows.len() as i64) < total;
    Ok(Json(CustomersList {
        object: "list",
        data_ref: "customers",
        customers: rows.into_iter().map(CustomerOut::from).collect(),
        total,
        has_more,
    }))
}

/// Update a customer (given fields replace theirs).
#[utoipa::path(put, path = "/v1/customers/{customerId}", tag = "customers", params(("customerId" = String, Path)), request_body = CustomerIn,
    responses((status = 200, body = CustomerOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_customer(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<CustomerIn>,
) -> Result<Json<CustomerOut>, ApiError> {
    let current = find(&app, tenant.id(), &raw).await?;
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
        .ok_or_else(|| ApiError::not_found("customer", &raw))?;
    Ok(Json(row.into()))
}

/// Delete a customer.
#[utoipa::path(delete, path = "/v1/customers/{customerId}", tag = "customers", params(("customerId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_customer(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let current = find(&app, tenant.id(), &raw).await?;
    CUSTOMERS.delete(&app.db, tenant.id(), current.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
