//! Publications (handing codes to customers) and the customer wallet.

use crate::auth::Tenant;
use crate::error::{ApiError, ErrorKey};
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::ids;
use crate::services::campaigns::find_campaign;
use crate::services::publishing::no_assignments;
use crate::services::vouchers::voucher_out;
use crate::state::AppState;
use crate::wire::code_key;
use crate::wire::timestamp;
use axum::Json;
use axum::extract::{Path, State};
use promo_store::publications::{self as store, PublicationFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublishQuery {
    /// The customer gets the codes of their first publication from this campaign again.
    pub join_once: Option<bool>,
}

/// Publish codes to a customer: `{"voucher": "CODE"}`, or `{"campaign": {"name": …, "count": 1..50}}`
/// (a campaign's free codes, oldest first; an AUTO_UPDATE campaign makes fresh ones when none is
/// left). The customer (by `id` or `source_id`, created when new) becomes the holder of a
/// campaign's codes; a standalone code stays shared. The same `source_id` returns the same
/// publication.
#[utoipa::path(post, path = "/v1/publications", tag = "publications", params(PublishQuery), request_body = crate::types::admin::PublicationIn,
    responses((status = 200, body = crate::types::admin::PublicationOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_publication(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PublishQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    crate::services::publishing::publish(&app, &tenant, q.join_once.unwrap_or(false), &body).await.map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicationsQuery {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000, default = 1)]
    pub page: Option<i64>,
    /// Customer id or source id.
    pub customer: Option<String>,
    /// Campaign id or name.
    pub campaign: Option<String>,
    /// Voucher code.
    pub voucher: Option<String>,
    pub source_id: Option<String>,
}

/// List publications, newest first.
#[utoipa::path(get, path = "/v1/publications", tag = "publications", params(PublicationsQuery),
    responses((status = 200, body = crate::types::admin::PublicationsList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_publications(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PublicationsQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = PageQuery { limit: q.limit, page: q.page }.page()?;
    let project = tenant.id();
    let mut conn = promo_store::acquire(&app.db).await?;
    let empty = || Json(json!({"object": "list", "data_ref": "publications", "publications": [], "total": 0}));
    let given = |s: &Option<String>| s.clone().filter(|s| s != "None");
    let mut filter = PublicationFilter { source_id: given(&q.source_id), ..Default::default() };
    if let Some(c) = given(&q.customer) {
        match crate::routes::customers::find(&app, project, &c).await {
            Ok(row) => filter.customer = Some(row.id),
            Err(e) if e.key() == ErrorKey::NotFound => return Ok(empty()),
            Err(e) => return Err(e),
        }
    }
    if let Some(c) = given(&q.campaign) {
        match find_campaign(&mut conn, project, &c).await {
            Ok(row) => filter.campaign = Some(row.campaign_id),
            Err(e) if e.key() == ErrorKey::NotFound => return Ok(empty()),
            Err(e) => return Err(e),
        }
    }
    if let Some(code) = given(&q.voucher) {
        let key = code_key(&code, tenant.project.case_sensitive_codes);
        match promo_store::campaigns::get_voucher(&mut *conn, project, None, &key).await? {
            Some(v) => filter.voucher = Some(v.voucher_id),
            None => return Ok(empty()),
        }
    }
    let (rows, total) = store::list(&mut conn, project, &filter, page).await?;
    let publications: Vec<Value> = rows.into_iter().map(|r| r.doc.0).collect();
    Ok(Json(json!({"object": "list", "data_ref": "publications", "publications": publications, "total": total})))
}

/// The customer wallet: codes the customer holds, newest first.
#[utoipa::path(get, path = "/v1/customers/{customerId}/redeemables", tag = "customers",
    params(("customerId" = String, Path), PageQuery),
    responses((status = 200, body = crate::types::admin::CustomerRedeemablesList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn customer_redeemables(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.page()?.limit;
    let project = tenant.id();
    let customer = crate::routes::customers::find(&app, project, &raw).await?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let held = promo_store::ledger::held_vouchers(&mut *conn, project, customer.id, limit + 1).await?;
    let has_more = held.len() as i64 > limit;
    let customer_wire = ids::wire(ids::CUSTOMER, customer.id);
    let data: Vec<Value> = held
        .into_iter()
        .take(limit as usize)
        .map(|v| {
            let voucher_id = ids::wire(ids::VOUCHER, v.voucher_id);
            json!({
                "id": format!("rh_{}", v.voucher_id.simple()), "created_at": timestamp(v.updated_at.unwrap_or(v.created_at)),
                "redeemable_id": voucher_id, "redeemable_object": "voucher", "customer_id": customer_wire,
                "holder_role": "OWNER", "campaign_id": v.campaign_id.map(|c| ids::wire(ids::CAMPAIGN, c)),
                "campaign_type": "DISCOUNT_COUPONS", "voucher_type": "DISCOUNT_VOUCHER",
                "redeemable": {"voucher": voucher_out(v, no_assignments())}, "object": "customer_redeemable",
            })
        })
        .collect();
    Ok(Json(json!({"object": "list", "data_ref": "data", "data": data, "total": data.len(), "has_more": has_more})))
}
