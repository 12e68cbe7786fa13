//! Publishing codes to customers: the customer upsert, the choice of codes (a named one, or a
//! campaign's free ones, or fresh ones for AUTO_UPDATE), `join_once`, and the publication record
//! whose insert also writes the `voucher.published` event.

use crate::error::invalid;
use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::services::campaigns::find_campaign;
use crate::services::checkout::resolve_customer;
use crate::services::vouchers::find_voucher;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::campaigns::VoucherOut;
use crate::wire::timestamp;
use chrono::Utc;
use promo_store::campaigns::VoucherRow;
use promo_store::publications::{self as store, NewPublication};
use serde_json::{Value, json};

/// Most codes one publication hands out.
pub const MAX_CODES_PER_PUBLICATION: i64 = 50;

fn error(key: ErrorKey, details: impl Into<String>) -> ApiError {
    ApiError::new(key).details(details)
}

/// Publishes per `body` (`voucher`, or `campaign` with `count`); returns the publication.
pub async fn publish(app: &AppState, tenant: &Tenant, join_once: bool, body: &Value) -> Result<Value, ApiError> {
    let project = tenant.id();
    // checked before anything is written (the customer is written before the publication)
    let metadata = crate::wire::metadata(body.get("metadata").cloned())?;
    let channel = match body.get("channel") {
        None => "API".to_owned(),
        Some(Value::String(c)) if !c.is_empty() && c.len() <= 100 => c.clone(),
        Some(_) => return Err(invalid("Property .channel must be a string of at most 100 characters")),
    };
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
        return Ok(existing.doc.0);
    }
    drop(conn);
    let mut tx = promo_store::begin(&app.db).await?;
    let (campaign_id, vouchers) = match (body.get("voucher"), body.get("campaign")) {
        (Some(code), None) => {
            let code = code.as_str().ok_or_else(|| invalid("Property .voucher must be a code"))?;
            let v = find_voucher(&mut tx, tenant, code).await?;
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
            refuse_ended(&campaign)?;
            let join_once = join_once || campaign.doc.0.get("join_once").and_then(Value::as_bool) == Some(true);
            if join_once {
                store::lock_customer_in_campaign(&mut *tx, project, campaign.campaign_id, customer_id).await?;
                if let Some(first) =
                    store::first_from_campaign(&mut *tx, project, campaign.campaign_id, customer_id).await?
                {
                    return Ok(first.doc.0);
                }
            }
            let vouchers = campaign_codes(&mut tx, tenant, &campaign, customer_id, count).await?;
            (Some(campaign.campaign_id), vouchers)
        }
        _ => return Err(invalid("Send either .voucher (a code) or .campaign (a name, or {name, count})")),
    };
    let vouchers = match campaign_id {
        Some(c) => lasting_after_publication(&mut tx, project, c, vouchers).await?,
        None => vouchers,
    };
    let id = promo_store::new_id();
    let rendered: Vec<VoucherOut> =
        crate::services::vouchers::vouchers_as_answered(&mut tx, project, vouchers.clone()).await?;
    let doc = json!({
        "id": ids::wire(ids::PUBLICATION, id), "object": "publication", "created_at": timestamp(Utc::now()),
        "customer_id": ids::wire(ids::CUSTOMER, customer_id), "tracking_id": customer.tracking_id,
        "metadata": metadata,
        "channel": channel,
        "source_id": source_id, "result": "SUCCESS", "customer": customer.summary,
        "vouchers_id": vouchers.iter().map(|v| ids::wire(ids::VOUCHER, v.voucher_id)).collect::<Vec<_>>(),
        "voucher": rendered.first(),
        // the codes published (the voucher object shows the first)
        "vouchers": vouchers.iter().map(|v| v.code.as_str()).collect::<Vec<_>>(),
    });
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
    Ok(doc)
}

/// A campaign's `activity_duration_after_publishing` (an abandoned-cart code valid for a day):
/// codes published for the first time expire that long from now, or when they already would.
async fn lasting_after_publication(
    tx: &mut promo_store::PgConnection,
    project: promo_store::ProjectId,
    campaign: uuid::Uuid,
    mut vouchers: Vec<VoucherRow>,
) -> Result<Vec<VoucherRow>, ApiError> {
    let campaign = find_campaign(&mut *tx, project, &ids::wire(ids::CAMPAIGN, campaign)).await?;
    // named by its code or not, an ended campaign's code is not handed out
    refuse_ended(&campaign)?;
    let lasts = campaign.doc.0.get("activity_duration_after_publishing").and_then(Value::as_str);
    let Some(duration) = lasts.and_then(crate::wire::iso_duration) else { return Ok(vouchers) };
    // the time counts from the campaign's start when that is still to come; durations are at
    // most 100 years when written; a code never outlives its campaign
    let from = campaign_date(&campaign.doc.0, "start_date").map_or(Utc::now(), |start| start.max(Utc::now()));
    let Some(mut until) = from.checked_add_signed(duration) else { return Ok(vouchers) };
    if let Some(ends) = campaign_date(&campaign.doc.0, "expiration_date") {
        until = until.min(ends);
    }
    let first: Vec<uuid::Uuid> = vouchers.iter().filter(|v| v.publish_count == 1).map(|v| v.voucher_id).collect();
    for updated in store::expire_published(&mut *tx, project, &first, until).await? {
        if let Some(v) = vouchers.iter_mut().find(|v| v.voucher_id == updated.voucher_id) {
            *v = updated;
        }
    }
    Ok(vouchers)
}

/// A campaign's `start_date` or `expiration_date`, if it has one.
fn campaign_date(doc: &Value, which: &str) -> Option<chrono::DateTime<Utc>> {
    let at = doc.get(which).and_then(Value::as_str)?;
    chrono::DateTime::parse_from_rfc3339(at).ok().map(|t| t.with_timezone(&Utc))
}

/// An expired campaign's codes can no longer be published.
fn refuse_ended(campaign: &promo_store::campaigns::CampaignRow) -> Result<(), ApiError> {
    match campaign_date(&campaign.doc.0, "expiration_date") {
        Some(ends) if ends <= Utc::now() => Err(error(
            ErrorKey::NoVoucherSuitableForPublication,
            format!("Campaign {} has expired: its codes can no longer be published", campaign.name),
        )),
        _ => Ok(()),
    }
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
        let config = crate::services::codes::CodeConfig::parse(template.get("code_config"), "voucher.code_config")?;
        let mut doc = template.clone();
        doc.remove("code_config");
        let cs = tenant.project.case_sensitive_codes;
        let keys = crate::services::codes::generate_now(
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
