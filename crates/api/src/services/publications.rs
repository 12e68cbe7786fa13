//! Publications (handing codes to customers) and the customer wallet.

use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::services::campaigns::find_campaign;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::admin::{PublicationsQuery, PublishQuery};
use crate::wire::code_key;
use crate::wire::timestamp;
use promo_store::publications::{self as store, PublicationFilter};
use serde_json::{Value, json};

/// Publish codes to a customer: `{"voucher": "CODE"}`, or `{"campaign": {"name": …, "count": 1..50}}`
/// (a campaign's free codes, oldest first; an AUTO_UPDATE campaign makes fresh ones when none is
/// left). The customer (by `id` or `source_id`, created when new) becomes the holder of a
/// campaign's codes; a standalone code stays shared. The same `source_id` returns the same
/// publication.
pub(crate) async fn create_publication(
    app: &AppState,
    tenant: &Tenant,
    q: PublishQuery,
    body: Value,
) -> Result<Value, ApiError> {
    crate::services::publishing::publish(app, tenant, q.join_once.unwrap_or(false), &body).await
}

/// List publications, newest first.
/// A voucher's publications (404 for a code that does not exist).
pub(crate) async fn voucher_publications(
    app: &AppState,
    tenant: &Tenant,
    code: &str,
    (limit, page): (Option<i64>, Option<i64>),
) -> Result<Value, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let voucher = crate::services::vouchers::find_voucher(&mut conn, tenant, code).await?;
    drop(conn);
    let q = PublicationsQuery { limit, page, voucher: Some(voucher.code), ..Default::default() };
    list_publications(app, tenant, q).await
}

pub(crate) async fn list_publications(
    app: &AppState,
    tenant: &Tenant,
    q: PublicationsQuery,
) -> Result<Value, ApiError> {
    let page = crate::wire::page(q.limit, q.page, 10)?;
    let project = tenant.id();
    let mut conn = promo_store::acquire(&app.db).await?;
    let empty = || json!({"object": "list", "data_ref": "publications", "publications": [], "total": 0});
    let given = |s: &Option<String>| s.clone().filter(|s| s != "None");
    let mut filter = PublicationFilter { source_id: given(&q.source_id), ..Default::default() };
    if let Some(c) = given(&q.customer) {
        match crate::services::customers::find(app, project, &c).await {
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
    Ok(json!({"object": "list", "data_ref": "publications", "publications": publications, "total": total}))
}

/// The customer wallet: codes the customer holds, newest first.
pub(crate) async fn customer_redeemables(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    page: promo_store::Page,
) -> Result<Value, ApiError> {
    let limit = page.limit;
    let project = tenant.id();
    let customer = crate::services::customers::find(app, project, raw).await?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let held = promo_store::ledger::held_vouchers(&mut *conn, project, customer.id, limit + 1).await?;
    let has_more = held.len() as i64 > limit;
    let customer_wire = ids::wire(ids::CUSTOMER, customer.id);
    let held: Vec<_> = held.into_iter().take(limit as usize).collect();
    let entries: Vec<(uuid::Uuid, String)> =
        held.iter().map(|v| (v.voucher_id, timestamp(v.updated_at.unwrap_or(v.created_at)))).collect();
    let vouchers = crate::services::vouchers::vouchers_as_answered(&mut conn, project, held).await?;
    let data: Vec<Value> = entries
        .into_iter()
        .zip(vouchers)
        .map(|((voucher_uuid, held_since), voucher)| {
            json!({
                "id": format!("rh_{}", voucher_uuid.simple()), "created_at": held_since,
                "redeemable_id": voucher.id, "redeemable_object": "voucher", "customer_id": customer_wire,
                "holder_role": "OWNER", "campaign_id": voucher.campaign_id,
                "campaign_type": "DISCOUNT_COUPONS", "voucher_type": "DISCOUNT_VOUCHER",
                "redeemable": {"voucher": voucher}, "object": "customer_redeemable",
            })
        })
        .collect();
    Ok(json!({"object": "list", "data_ref": "data", "data": data, "total": data.len(), "has_more": has_more}))
}
