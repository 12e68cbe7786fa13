//! Webhook endpoints of a project (management API), their events and delivery attempts.

use crate::error::ApiError;
use crate::error::invalid;
use crate::ids;
use crate::state::AppState;
use crate::types::admin::EndpointIn;
use crate::types::admin::{PageOut, WebhookDeliveryOut, WebhookEventOut, WebhookOut, WebhooksList};
use crate::wire::timestamp;
use promo_store::webhooks::{self as store, EndpointRow};

/// The events an endpoint can subscribe to.
pub const EVENTS: &[&str] = &[
    "voucher.published",
    "voucher.created",
    "voucher.updated",
    "voucher.deleted",
    "redemption.succeeded",
    "redemption.failed",
    "redemption.rollback.succeeded",
    "redemption.rollback.failed",
    "campaign.enabled",
    "campaign.disabled",
    "campaign.deleted",
];

fn check_url(url: &str) -> Result<(), ApiError> {
    let ok =
        url.parse::<hyper::Uri>().is_ok_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
    if !ok {
        return Err(invalid(format!("Property .url must be an absolute http:// or https:// URL (got {url})")));
    }
    Ok(())
}

fn check_events(events: &[String]) -> Result<Vec<String>, ApiError> {
    if events.iter().any(|e| e == "*") {
        return Ok(EVENTS.iter().map(|e| (*e).to_owned()).collect());
    }
    if events.is_empty() {
        return Err(invalid("Property .events must name at least one event"));
    }
    if let Some(unknown) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(invalid(format!("Property .events: unknown event {unknown}; known: {}", EVENTS.join(", "))));
    }
    let mut out = events.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
}

fn render(e: &EndpointRow, with_secret: bool) -> WebhookOut {
    WebhookOut {
        id: ids::wire(ids::WEBHOOK, e.webhook_id),
        object: "webhook",
        url: e.url.clone(),
        events: e.events.clone(),
        active: e.active,
        created_at: timestamp(e.created_at),
        updated_at: e.updated_at.map(timestamp),
        secret: with_secret.then(|| e.secret.clone()),
    }
}

async fn project(app: &AppState, raw: &str) -> Result<promo_store::ProjectId, ApiError> {
    let id = promo_store::ProjectId(ids::parse(ids::PROJECT, "project", raw)?);
    promo_store::projects::get(&app.db, id).await?.ok_or_else(|| ApiError::not_found("project", raw))?;
    Ok(id)
}

/// An endpoint of a project, both from the path.
async fn endpoint(
    app: &AppState,
    (project_raw, raw): &(String, String),
) -> Result<(promo_store::ProjectId, EndpointRow), ApiError> {
    let project = project(app, project_raw).await?;
    let id = ids::parse(ids::WEBHOOK, "webhook", raw)?;
    let row = store::get_endpoint(&app.db, project, id).await?.ok_or_else(|| ApiError::not_found("webhook", raw))?;
    Ok((project, row))
}

/// Create a webhook endpoint. The signing secret (`whsec_…`) is returned here and by GET.
pub(crate) async fn create_webhook(app: &AppState, raw: &str, body: EndpointIn) -> Result<WebhookOut, ApiError> {
    let project = project(app, raw).await?;
    let url = body.url.ok_or_else(|| invalid("Property .url is required"))?;
    check_url(&url)?;
    let events = check_events(&body.events.ok_or_else(|| invalid("Property .events is required"))?)?;
    let secret = crate::services::webhooks::new_secret();
    let row = store::insert_endpoint(
        &app.db,
        project,
        promo_store::new_id(),
        &url,
        &secret,
        &events,
        body.active.unwrap_or(true),
    )
    .await?;
    Ok(render(&row, true))
}

/// List a project's webhook endpoints.
pub(crate) async fn list_webhooks(
    app: &AppState,
    raw: &str,
    page: promo_store::Page,
) -> Result<WebhooksList, ApiError> {
    let project = project(app, raw).await?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = store::list_endpoints(&mut conn, project, page).await?;
    let data: Vec<WebhookOut> = rows.iter().map(|e| render(e, false)).collect();
    Ok(WebhooksList { object: "list", data_ref: "data", total, data })
}

/// Get a webhook endpoint, with its secret.
pub(crate) async fn get_webhook(app: &AppState, path: (String, String)) -> Result<WebhookOut, ApiError> {
    Ok(render(&endpoint(app, &path).await?.1, true))
}

/// Update a webhook endpoint (given fields replace theirs). Disabled endpoints keep their
/// events queued and get them when enabled again.
pub(crate) async fn update_webhook(
    app: &AppState,
    path: (String, String),
    body: EndpointIn,
) -> Result<WebhookOut, ApiError> {
    let (project, current) = endpoint(app, &path).await?;
    let url = body.url.unwrap_or(current.url);
    check_url(&url)?;
    let events = match body.events {
        Some(e) => check_events(&e)?,
        None => current.events,
    };
    let row = store::update_endpoint(
        &app.db,
        project,
        current.webhook_id,
        &url,
        &events,
        body.active.unwrap_or(current.active),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("webhook", &path.1))?;
    Ok(render(&row, true))
}

/// Delete a webhook endpoint with its queued events.
pub(crate) async fn delete_webhook(app: &AppState, path: (String, String)) -> Result<(), ApiError> {
    let (project, e) = endpoint(app, &path).await?;
    store::delete_endpoint(&app.db, project, e.webhook_id).await?;
    Ok(())
}

/// The events of an endpoint, newest first, each with its delivery state.
pub(crate) async fn list_webhook_events(
    app: &AppState,
    path: (String, String),
    page: promo_store::Page,
) -> Result<PageOut<WebhookEventOut>, ApiError> {
    let (project, e) = endpoint(app, &path).await?;
    let rows = store::list_events(&app.db, project, e.webhook_id, page).await?;
    let data = rows
        .into_iter()
        .map(|o| WebhookEventOut {
            payload: crate::services::webhooks::render_event(&o),
            id: ids::wire(ids::EVENT, o.event_id),
            kind: o.event_type,
            object_id: o.object_id,
            status: if o.delivered_at.is_some() { "DELIVERED" } else { "PENDING" },
            attempts: i64::from(o.attempts),
            last_error: o.last_error,
            next_attempt_at: o.delivered_at.is_none().then(|| timestamp(o.next_attempt_at)),
            delivered_at: o.delivered_at.map(timestamp),
            created_at: timestamp(o.created_at),
            object: "webhook_event",
        })
        .collect();
    Ok(PageOut::new(data))
}

/// The delivery attempts of an endpoint, newest first.
pub(crate) async fn list_webhook_deliveries(
    app: &AppState,
    path: (String, String),
    page: promo_store::Page,
) -> Result<PageOut<WebhookDeliveryOut>, ApiError> {
    let (project, e) = endpoint(app, &path).await?;
    let rows = store::list_deliveries(&app.db, project, e.webhook_id, page).await?;
    let data = rows
        .into_iter()
        .map(|d| WebhookDeliveryOut {
            event_id: ids::wire(ids::EVENT, d.event_id),
            attempt: i64::from(d.attempt),
            status_code: d.status_code.map(i64::from),
            error: d.error,
            duration_ms: i64::from(d.duration_ms),
            attempted_at: timestamp(d.attempted_at),
            object: "webhook_delivery",
        })
        .collect();
    Ok(PageOut::new(data))
}
