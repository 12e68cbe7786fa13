//! Publications (handing codes to customers) and the customer wallet.

use crate::auth::Tenant;
use crate::checkout::resolve_customer;
use crate::error::{ApiError, ErrorKey};
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::ids;
use crate::routes::campaigns::{code_key, find_campaign, find_voucher, invalid, voucher_out};
use crate::routes::projects::timestamp;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use promo_store::campaigns::VoucherRow;
use promo_store::publications::{self as store, NewPublication, PublicationFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

/// Most codes one publication hands out.
pub const MAX_CODES_PER_PUBLICATION: i64 = 50;

fn no_assignments() -> Value {
    json!({"object": "list", "data_ref": "data", "data": [], "total": 0})
}

fn error(key: ErrorKey, details: impl Into<String>) -> ApiError {
    ApiError::new(key).details(details)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PublishQuery {
    /// The customer gets the codes of their first publication from this campaign again.
    pub join_once: Option<bool>,
}

/// Publish codes to a customer: `{"voucher": "CODE"}`, or `{"campaign": {"name": …, "count": 1..50}}`
/// (a campaign's free codes, oldest first; an AUTO_UPDATE campaign makes fresh ones when none is
/// left). The customer (by `id` or `source_id`, created when new) becomes the holder of a
/// campaign's codes; a standalone code stays shared. The same `source_id` returns the same
/// publication.
#[utoipa::path(post, path = "/v1/publications", tag = "publications", params(PublishQuery), request_body = Object,
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_publication(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PublishQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let project = tenant.id();
    let mut conn = promo_store::acquire(&app.db).await?;
    let customer_in = body.get("customer").ok_or_else(|| invalid("Property .customer is required"))?;
    let defs = app.definitions.get(&mut conn, project, tenant.project.definitions_version).await?;
    // The customer is created (autocommit) before the publication's transaction.
    let customer = resolve_customer(&mut conn, project, &defs, Some(customer_in), true, Utc::now()).await?;
    let customer_id = customer
        .id
        .ok_or_else(|| invalid("Property .customer needs an id or a source_id (the customer the codes are for)"))?;
    let source_id = body.get("source_id").and_then(Value::as_str);
    if let Some(s) = source_id
        && let Some(existing) = store::by_source_id(&mut *conn, project, s).await?
    {
        if existing.customer_id != customer_id {
            return Err(error(
                ErrorKey::DuplicateSourceId,
                format!("Publication with source_id {s} exists for another customer"),
            ));
        }
        return Ok(Json(existing.doc.0));
    }
    drop(conn);
    let mut tx = promo_store::begin(&app.db).await?;
    let (campaign_id, vouchers) = match (body.get("voucher"), body.get("campaign")) {
        (Some(code), None) => {
            let code = code.as_str().ok_or_else(|| invalid("Property .voucher must be a code"))?;
            let v = find_voucher(&mut tx, &tenant, code).await?;
            // A campaign's code has one holder; a standalone (generic) code is shared.
            let hold = v.campaign_id.is_some();
            let published = store::publish_code(&mut *tx, project, v.voucher_id, customer_id, hold).await?;
            let v = published.ok_or_else(|| {
                error(
                    ErrorKey::VoucherAlreadyPublished,
                    format!("Voucher {code} is already published to another customer"),
                )
            })?;
            (v.campaign_id, vec![v])
        }
        (None, Some(c)) => {
            let (name, count) = match c {
                Value::String(name) => (name.clone(), 1),
                Value::Object(o) => (
                    o.get("name").or(o.get("id")).and_then(Value::as_str).unwrap_or_default().to_owned(),
                    o.get("count").map_or(Some(1), Value::as_i64).unwrap_or(0),
                ),
                _ => return Err(invalid("Property .campaign must be a name or {name, count}")),
            };
            if !(1..=MAX_CODES_PER_PUBLICATION).contains(&count) {
                return Err(error(
                    ErrorKey::TooManyVouchersRequested,
                    format!("Property .campaign.count must be within 1..={MAX_CODES_PER_PUBLICATION}"),
                ));
            }
            let campaign = find_campaign(&mut tx, project, &name).await?;
            let join_once =
                q.join_once.unwrap_or(false) || campaign.doc.0.get("join_once").and_then(Value::as_bool) == Some(true);
            if join_once {
                store::lock_customer_in_campaign(&mut *tx, project, campaign.campaign_id, customer_id).await?;
                if let Some(first) =
                    store::first_from_campaign(&mut *tx, project, campaign.campaign_id, customer_id).await?
                {
                    return Ok(Json(first.doc.0));
                }
            }
            let vouchers = campaign_codes(&mut tx, &tenant, &campaign, customer_id, count).await?;
            (Some(campaign.campaign_id), vouchers)
        }
        _ => return Err(invalid("Send either .voucher (a code) or .campaign (a name, or {name, count})")),
    };
    let id = promo_store::new_id();
    let rendered: Vec<Value> = vouchers.iter().cloned().map(|v| voucher_out(v, no_assignments())).collect();
    let mut doc = json!({
        "id": ids::wire(ids::PUBLICATION, id), "object": "publication", "created_at": timestamp(Utc::now()),
        "customer_id": ids::wire(ids::CUSTOMER, customer_id), "tracking_id": customer.tracking_id,
        "metadata": body.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "channel": body.get("channel").cloned().unwrap_or_else(|| json!("API")),
        "source_id": source_id, "result": "SUCCESS", "customer": customer.summary,
        "vouchers_id": vouchers.iter().map(|v| ids::wire(ids::VOUCHER, v.voucher_id)).collect::<Vec<_>>(),
        "voucher": rendered.first(),
    });
    // Several codes: their codes as a list (the voucher object shows the first).
    if vouchers.len() > 1 {
        doc["vouchers"] = json!(vouchers.iter().map(|v| v.code.as_str()).collect::<Vec<_>>());
    }
    let voucher_ids: Vec<uuid::Uuid> = vouchers.iter().map(|v| v.voucher_id).collect();
    let new = NewPublication {
        id,
        voucher_ids: &voucher_ids,
        customer: customer_id,
        campaign: campaign_id,
        source_id,
        doc: &doc,
    };
    match store::insert(&mut *tx, project, &new).await {
        Ok(()) => {}
        // A concurrent publication with this source id won.
        Err(promo_store::StoreError::UniqueViolation { .. }) => {
            return Err(error(ErrorKey::DuplicateSourceId, "A publication with this source_id was just made"));
        }
        Err(e) => return Err(e.into()),
    }
    promo_store::commit(tx).await?;
    Ok(Json(doc))
}

/// `count` codes of a campaign for the customer: free ones first, then (AUTO_UPDATE) new ones.
async fn campaign_codes(
    tx: &mut promo_store::PgConnection,
    tenant: &Tenant,
    campaign: &promo_store::campaigns::CampaignRow,
    customer: uuid::Uuid,
    count: i64,
) -> Result<Vec<VoucherRow>, ApiError> {
    let project = tenant.id();
    let Some(template) = campaign.doc.0.get("voucher").and_then(Value::as_object) else {
        return Err(invalid(format!("Campaign {} has no codes to publish", campaign.name)));
    };
    let mut vouchers = store::take_free_codes(&mut *tx, project, campaign.campaign_id, customer, count).await?;
    let missing = count - vouchers.len() as i64;
    if missing > 0 && campaign.type_ == "AUTO_UPDATE" {
        let config = crate::codes::CodeConfig::parse(template.get("code_config"), "voucher.code_config")?;
        let mut doc = template.clone();
        doc.remove("code_config");
        let cs = tenant.project.case_sensitive_codes;
        let keys = crate::codes::generate_now(
            &mut *tx,
            project,
            campaign.campaign_id,
            Some(customer),
            (&config, cs),
            missing as usize,
            &Value::Object(doc),
        )
        .await?;
        for key in keys {
            let row = promo_store::campaigns::get_voucher(&mut *tx, project, None, &key).await?;
            vouchers.extend(row);
        }
    }
    if (vouchers.len() as i64) < count {
        return Err(error(
            ErrorKey::NoVoucherSuitableForPublication,
            format!("Campaign {} has no free code left to publish", campaign.name),
        ));
    }
    Ok(vouchers)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PublicationsQuery {
    pub limit: Option<i64>,
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
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
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
        let uuid = ids::try_parse(ids::CUSTOMER, &c);
        let by_source = if uuid.is_none() { Some(c.as_str()) } else { None };
        match promo_store::customers::CUSTOMERS.get(&mut *conn, project, uuid, by_source).await? {
            Some(row) => filter.customer = Some(row.id),
            None => return Ok(empty()),
        }
    }
    if let Some(c) = given(&q.campaign) {
        match find_campaign(&mut conn, project, &c).await {
            Ok(row) => filter.campaign = Some(row.campaign_id),
            Err(_) => return Ok(empty()),
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
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn customer_redeemables(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.page()?.limit;
    let project = tenant.id();
    let mut conn = promo_store::acquire(&app.db).await?;
    let uuid = ids::try_parse(ids::CUSTOMER, &raw);
    let by_source = if uuid.is_none() { Some(raw.as_str()) } else { None };
    let customer = promo_store::customers::CUSTOMERS
        .get(&mut *conn, project, uuid, by_source)
        .await?
        .ok_or_else(|| ApiError::not_found("customer", &raw))?;
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
