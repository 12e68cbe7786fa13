//! Custom events and a customer's activity: redemptions, rollbacks, publications and custom
//! events of one customer in time order.

use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::services::checkout::{FAILED_REDEMPTION, REDEMPTION, ROLLBACK};
use crate::state::AppState;
use crate::types::events::{
    ActivityQuery, CustomerActivityList, CustomerActivityOut, EventCustomer, EventIn, EventOut,
};
use crate::wire::timestamp;
use promo_store::activity::{self as store, ActivityRow};
use promo_store::{ProjectId, documents::DocRow};
use serde_json::{Value, json};

const EVENT: &str = "evcus_";
/// A failed validation's entry has the validation's own id.
const VALIDATION: &str = "valid_";
const MAX_EVENT_NAME: usize = 300;

fn invalid(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKey::InvalidPayload).details(details)
}

/// Records a custom event of a customer (found by id or source id, or created).
pub(crate) async fn create_event(app: &AppState, project: ProjectId, body: EventIn) -> Result<EventOut, ApiError> {
    let event = body.event.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    let event = event.ok_or_else(|| invalid("Property .event is required"))?;
    if event.chars().count() > MAX_EVENT_NAME {
        return Err(invalid(format!("Property .event must be at most {MAX_EVENT_NAME} characters")));
    }
    for (name, v) in [("referral", &body.referral), ("loyalty", &body.loyalty)] {
        if v.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(invalid(format!(
                "Property .{name} is not supported: {name} programs are not part of this service"
            )));
        }
    }
    let metadata = match body.metadata {
        None | Some(Value::Null) => json!({}),
        Some(m @ Value::Object(_)) => m,
        Some(_) => return Err(invalid("Property .metadata must be an object")),
    };
    let customer = body.customer.filter(|c| !c.is_null()).ok_or_else(|| invalid("Property .customer is required"))?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let row = crate::services::customers::find_or_create(&mut conn, project, &customer).await?;
    let wire = ids::wire(ids::CUSTOMER, row.id);
    store::insert_custom_event(
        &mut *conn,
        project,
        promo_store::new_id(),
        &wire,
        &json!({"event": event, "metadata": metadata}),
    )
    .await?;
    Ok(EventOut {
        object: "event",
        kind: event,
        customer: event_customer(&row, wire),
        referral: None,
        loyalty: None,
        metadata,
    })
}

fn event_customer(row: &DocRow, id: String) -> EventCustomer {
    let field = |k: &str| row.doc.0.get(k).and_then(Value::as_str).map(str::to_owned);
    EventCustomer {
        id,
        source_id: row.source_id.clone(),
        name: field("name"),
        email: field("email"),
        metadata: row.doc.0.get("metadata").cloned().unwrap_or_else(|| json!({})),
        object: "customer",
    }
}

const KINDS: &[&str] = &[
    "customer.redemption.succeeded",
    "customer.redemption.failed",
    "customer.redemption.rollback.succeeded",
    "customer.redemption.rollback.failed",
    "customer.publication.succeeded",
    "customer.custom_event",
    "customer.validation.failed",
    "customer.blocked",
];

fn entry_id(r: &ActivityRow) -> String {
    let prefix = match r.kind.as_str() {
        "customer.redemption.succeeded" => REDEMPTION,
        "customer.redemption.failed" => FAILED_REDEMPTION,
        k if k.starts_with("customer.redemption.rollback") => ROLLBACK,
        "customer.publication.succeeded" => ids::PUBLICATION,
        "customer.validation.failed" => VALIDATION,
        "customer.blocked" => ids::BLOCK,
        _ => EVENT,
    };
    ids::wire(prefix, r.object_id)
}

fn entry(r: ActivityRow) -> CustomerActivityOut {
    let id = entry_id(&r);
    let mut doc = r.doc.0;
    if let (Some(status), Some(o)) = (r.status, doc.as_object_mut()) {
        o.insert("status".into(), json!(status));
    }
    let data = match r.kind.as_str() {
        k if k.starts_with("customer.redemption.rollback") => json!({"rollback": doc}),
        k if k.starts_with("customer.redemption") => json!({"redemption": doc}),
        "customer.publication.succeeded" => json!({"publication": doc}),
        _ => doc,
    };
    CustomerActivityOut { id, kind: r.kind, data, created_at: timestamp(r.created_at), group_id: None }
}

pub(crate) fn query_error(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKey::InvalidQueryParams).details(details)
}

pub(crate) fn time(name: &str, v: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .ok()
        .filter(|t| (1970..=9000).contains(&chrono::Datelike::year(t)))
        .ok_or_else(|| query_error(format!("{name} must be a date or date-time between 1970 and 9000")))
}

/// A customer's activity, newest first (`order=created_at`: oldest first), a page at a time.
pub(crate) async fn customer_activity(
    app: &AppState,
    project: ProjectId,
    raw: &str,
    q: ActivityQuery,
) -> Result<CustomerActivityList, ApiError> {
    let customer = crate::services::customers::find(app, project, raw).await?;
    let wire = ids::wire(ids::CUSTOMER, customer.id);
    let given = |v: Option<String>| v.filter(|v| !v.is_empty() && v != "None");
    let limit = q.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(query_error("limit must be within 1..=100"));
    }
    let ascending = match given(q.order).as_deref() {
        None | Some("-created_at") => false,
        Some("created_at") => true,
        Some(o) => return Err(query_error(format!("order `{o}` must be created_at or -created_at"))),
    };
    let kinds: Vec<String> = match given(q.kind) {
        None => Vec::new(),
        Some(k) if KINDS.contains(&k.as_str()) => vec![k],
        Some(k) => return Err(query_error(format!("type `{k}` must be one of {}", KINDS.join(", ")))),
    };
    let mut query = store::ActivityQuery {
        kinds,
        from: given(q.start_date).map(|v| time("start_date", &v)).transpose()?,
        to: given(q.end_date).map(|v| time("end_date", &v)).transpose()?,
        after: None,
        ascending,
        limit: limit + 1,
        only: None,
    };
    let mut conn = promo_store::acquire(&app.db).await?;
    if let Some(cursor) = given(q.starting_after_id) {
        let uuid = cursor
            .split_once('_')
            .and_then(|(_, hex)| uuid::Uuid::try_parse(hex).ok())
            .ok_or_else(|| query_error("starting_after_id is not an activity id"))?;
        let only = store::ActivityQuery {
            only: Some(uuid),
            limit: 1,
            kinds: Vec::new(),
            from: None,
            to: None,
            ..query.clone()
        };
        let found = store::customer_activity(&mut *conn, project, customer.id, &wire, &only).await?;
        let at = found
            .first()
            .ok_or_else(|| query_error("starting_after_id is not an entry of this customer's activity"))?;
        query.after = Some((at.created_at, at.object_id));
    }
    let mut rows = store::customer_activity(&mut *conn, project, customer.id, &wire, &query).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let data: Vec<CustomerActivityOut> = rows.into_iter().map(entry).collect();
    let more_starting_after = if has_more { data.last().map(|e| e.id.clone()) } else { None };
    Ok(CustomerActivityList { object: "list", data_ref: "data", data, has_more, more_starting_after })
}
