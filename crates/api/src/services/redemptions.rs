//! The ledger as the API reads it: a redemption or rollback by id, the redemptions list with
//! Voucherify's filters, a voucher's redemptions, and releasing a validation session.

use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::services::checkout::{FAILED_REDEMPTION, REDEMPTION};
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::checkout::RedemptionsList;
use chrono::{DateTime, Utc};
use promo_store::ledger::{RedemptionFilter, RedemptionOrder, RedemptionRow};
use serde_json::{Value, json};

/// The stored redemption as the ledger shows it now (status, rollback).
async fn redemption_out(app: &AppState, project: promo_store::ProjectId, r: RedemptionRow) -> Result<Value, ApiError> {
    let rollbacks = rollbacks_of(&app.db, project, std::slice::from_ref(&r)).await?;
    Ok(render_redemption(r, &rollbacks))
}

/// The rollbacks of the rolled-back redemptions among `rows`, read in one query.
async fn rollbacks_of(
    db: &promo_store::PgPool,
    project: promo_store::ProjectId,
    rows: &[RedemptionRow],
) -> Result<std::collections::HashMap<uuid::Uuid, Value>, ApiError> {
    let rolled_back: Vec<uuid::Uuid> =
        rows.iter().filter(|r| !r.is_rollback && r.status == "ROLLED_BACK").map(|r| r.redemption_id).collect();
    if rolled_back.is_empty() {
        return Ok(Default::default());
    }
    let found = promo_store::ledger::rollbacks_of(db, project, &rolled_back).await?;
    Ok(found.into_iter().map(|b| (b.redemption_id, crate::services::checkout::rollback::rollback_ref(&b))).collect())
}

fn render_redemption(r: RedemptionRow, rollbacks: &std::collections::HashMap<uuid::Uuid, Value>) -> Value {
    if r.is_rollback {
        return r.doc.0;
    }
    let mut doc = r.doc.0;
    if let Some(o) = doc.as_object_mut() {
        o.insert("status".into(), json!(r.status));
        if r.status == "ROLLED_BACK"
            && let Some(entry) = rollbacks.get(&r.redemption_id)
        {
            o.insert("related_redemptions".into(), json!({"rollbacks": [entry], "redemptions": []}));
        }
    }
    doc
}

fn query_error(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKey::InvalidQueryParams).details(details)
}

fn parse_time(field: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| query_error(format!("{field} must be a date or date-time")))
}

/// Filters, order (column, descending) and the customer named (id or source id).
type ListingQuery = (RedemptionFilter, (RedemptionOrder, bool), Option<String>);

/// Listing filters and order from the query.
fn redemption_filter(
    app_defs: &crate::services::definitions::Definitions,
    pairs: &[(String, String)],
) -> Result<ListingQuery, ApiError> {
    let mut f = RedemptionFilter::default();
    let mut order = (RedemptionOrder::CreatedAt, true);
    let mut customer = None;
    let mut campaign_name = None;
    for (k, v) in pairs {
        // filters[<field>][conditions][$is|$in] behave like the shortcut of the same field
        let field = k
            .strip_prefix("filters[")
            .and_then(|rest| rest.split(']').next())
            .filter(|_| k.contains("[conditions][$is]") || k.contains("[conditions][$in]"))
            .unwrap_or(k.as_str());
        match field {
            "limit" | "page" | "junction" => {}
            "result" => f.results.push(v.to_uppercase()),
            "campaign" | "campaign_name" => campaign_name = Some(v.clone()),
            "customer" | "customer_id" => customer = Some(v.clone()),
            "voucher_code" => f.voucher_code = Some(v.clone()),
            "related_object_id" => f.related_object_id = Some(v.clone()),
            "parent_redemption_id" => {
                f.parent_id = Some(
                    ids::try_parse(REDEMPTION, v)
                        .ok_or_else(|| query_error("parent_redemption_id is not a redemption id"))?,
                )
            }
            "failure_code" => f.failure_code = Some(v.clone()),
            "created_at[before]" => f.created_before = Some(parse_time(k, v)?),
            "created_at[after]" => f.created_after = Some(parse_time(k, v)?),
            "order" => {
                let (desc, name) = match v.strip_prefix('-') {
                    Some(n) => (true, n),
                    None => (false, v.as_str()),
                };
                let column = match name {
                    "created_at" => RedemptionOrder::CreatedAt,
                    "id" => RedemptionOrder::Id,
                    "voucher_code" => RedemptionOrder::VoucherCode,
                    "tracking_id" => RedemptionOrder::TrackingId,
                    "customer_id" => RedemptionOrder::CustomerId,
                    _ => return Err(query_error(format!("order `{v}` is not supported"))),
                };
                order = (column, desc);
            }
            other => return Err(query_error(format!("{other} is not a supported filter"))),
        }
    }
    for r in &f.results {
        if r != "SUCCESS" && r != "FAILURE" {
            return Err(query_error("result must be SUCCESS or FAILURE"));
        }
    }
    if let Some(name) = &campaign_name {
        // an unknown campaign matches nothing
        f.campaign_id =
            Some(app_defs.campaigns.values().find(|c| &c.name == name).map(|c| c.id).unwrap_or_else(uuid::Uuid::nil));
    }
    Ok((f, order, customer))
}

/// Get a redemption (`r_…`, or `rf_…` for a failed one).
pub(crate) async fn get_redemption(app: &AppState, tenant: &Tenant, raw: &str) -> Result<Value, ApiError> {
    // a rollback is read by its id too, as the listing shows it
    if let Some(id) = ids::try_parse(crate::services::checkout::ROLLBACK, raw) {
        let row = promo_store::ledger::get_rollback(&app.db, tenant.id(), id)
            .await?
            .ok_or_else(|| ApiError::not_found("redemption_rollback", raw))?;
        return Ok(row.doc.0);
    }
    let id = ids::try_parse(REDEMPTION, raw)
        .or_else(|| ids::try_parse(FAILED_REDEMPTION, raw))
        .ok_or_else(|| ApiError::not_found("redemption", raw))?;
    let row = promo_store::ledger::get_redemption(&app.db, tenant.id(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("redemption", raw))?;
    redemption_out(app, tenant.id(), row).await
}

/// List redemptions, newest first, with Voucherify's filters (`result`, `campaign`,
/// `customer`, `voucher_code`, `related_object_id`, `parent_redemption_id`, `failure_code`,
/// `created_at[before|after]`, `order`).
pub(crate) async fn list_redemptions(
    app: &AppState,
    tenant: &Tenant,
    page: promo_store::Page,
    pairs: Vec<(String, String)>,
) -> Result<RedemptionsList, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let defs = app.definitions.get(&mut conn, tenant.id(), tenant.project.definitions_version).await?;
    let (mut filter, order, customer) = redemption_filter(&defs, &pairs)?;
    if let Some(c) = customer {
        let id = ids::try_parse(ids::CUSTOMER, &c);
        let row = promo_store::customers::CUSTOMERS
            .get(&mut *conn, tenant.id(), id, if id.is_none() { Some(&c) } else { None })
            .await?;
        filter.customer_id = Some(row.map(|r| r.id).unwrap_or_else(uuid::Uuid::nil));
    }
    let (rows, total) = promo_store::ledger::list_redemptions(&mut conn, tenant.id(), &filter, order, page).await?;
    drop(conn);
    let redemptions = as_listed(&app.db, tenant.id(), rows).await?;
    Ok(RedemptionsList { object: "list", data_ref: "redemptions", redemptions, total })
}

/// Ledger entries as the redemptions list shows them (their rollbacks read in one query).
pub(crate) async fn as_listed(
    db: &promo_store::PgPool,
    project: promo_store::ProjectId,
    rows: Vec<RedemptionRow>,
) -> Result<Vec<Value>, ApiError> {
    let rollbacks = rollbacks_of(db, project, &rows).await?;
    Ok(rows.into_iter().map(|r| render_redemption(r, &rollbacks)).collect())
}

/// A voucher's redemptions and its quantity figures.
pub(crate) async fn voucher_redemptions(
    app: &AppState,
    tenant: &Tenant,
    code: &str,
    page: promo_store::Page,
) -> Result<crate::types::checkout::VoucherRedemptionsOut, ApiError> {
    let by_id = ids::try_parse(ids::VOUCHER, code);
    let key = crate::wire::code_key(code, tenant.project.case_sensitive_codes);
    let v = promo_store::campaigns::get_voucher(&app.db, tenant.id(), by_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("voucher", code))?;
    let filter = RedemptionFilter {
        related_object_id: Some(ids::wire(ids::VOUCHER, v.voucher_id)),
        ..RedemptionFilter::default()
    };
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = promo_store::ledger::list_redemptions(
        &mut conn,
        tenant.id(),
        &filter,
        (RedemptionOrder::CreatedAt, true),
        page,
    )
    .await?;
    // as the voucher shows it: units redeemed and not rolled back (its quantity counter when
    // it has a limit, else its successful ledger rows); live reservations in reserved_quantity
    let redeemed = v.redeemed_quantity.unwrap_or(0);
    drop(conn);
    let rollbacks = rollbacks_of(&app.db, tenant.id(), &rows).await?;
    let entries = rows.into_iter().map(|r| render_redemption(r, &rollbacks)).collect();
    Ok(crate::types::checkout::VoucherRedemptionsOut {
        quantity: v.doc.0.pointer("/redemption/quantity").and_then(Value::as_i64),
        redeemed_quantity: redeemed,
        reserved_quantity: v.reserved_quantity.unwrap_or(0),
        object: "list",
        url: format!("/v1/vouchers/{}/redemption", v.code),
        data_ref: "redemption_entries",
        total,
        redemption_entries: entries,
    })
}

/// Release a validation session's reservations (`204` whether or not it held any).
pub(crate) async fn release_session(
    app: &AppState,
    tenant: &Tenant,
    (code, session): (&str, &str),
) -> Result<(), ApiError> {
    let by_id = ids::try_parse(ids::VOUCHER, code);
    let key = crate::wire::code_key(code, tenant.project.case_sensitive_codes);
    promo_store::campaigns::get_voucher(&app.db, tenant.id(), by_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("voucher", code))?;
    promo_store::ledger::release_session(&app.db, tenant.id(), session).await?;
    Ok(())
}
