//! Webhook endpoints, the outbox that triggers fill in the transaction of each event (see the
//! `webhook_payloads_rendered_by_the_service` migration: they capture the object, the service
//! renders the payload), and the delivery attempts.

use crate::ProjectId;
use crate::{Binds, Json, ListSql, Page, StoreError, page_and_total};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub webhook_id: Uuid,
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The columns of [`EndpointRow`] (a literal, for `concat!`).
macro_rules! endpoint_columns {
    () => {
        "webhook_id, url, secret, events, active, created_at, updated_at"
    };
}

pub async fn insert_endpoint(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    url: &str,
    secret: &str,
    events: &[String],
    active: bool,
) -> Result<EndpointRow, StoreError> {
    Ok(sqlx::query_as(concat!(
        "insert into webhook_endpoint (project_id, webhook_id, url, secret, events, active)
         values ($1, $2, $3, $4, $5, $6) returning ",
        endpoint_columns!()
    ))
    .bind(project)
    .bind(id)
    .bind(url)
    .bind(secret)
    .bind(events)
    .bind(active)
    .fetch_one(db)
    .await?)
}

pub async fn get_endpoint(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
) -> Result<Option<EndpointRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        endpoint_columns!(),
        " from webhook_endpoint where project_id = $1 and webhook_id = $2"
    ))
    .bind(project)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// A page of the project's endpoints, oldest first, and how many there are.
pub async fn list_endpoints(
    db: &mut PgConnection,
    project: ProjectId,
    page: Page,
) -> Result<(Vec<EndpointRow>, i64), StoreError> {
    const ENDPOINTS: ListSql = ListSql {
        rows: concat!(
            "select ",
            endpoint_columns!(),
            " from webhook_endpoint where project_id = $1 order by created_at, webhook_id limit $2 offset $3"
        ),
        count: "select count(*) from webhook_endpoint where project_id = $1",
    };
    page_and_total(db, ENDPOINTS, Binds::default().with(project)?, page).await
}

pub async fn update_endpoint(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    url: &str,
    events: &[String],
    active: bool,
) -> Result<Option<EndpointRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "update webhook_endpoint set url = $3, events = $4, active = $5, updated_at = now()
         where project_id = $1 and webhook_id = $2 returning ",
        endpoint_columns!()
    ))
    .bind(project)
    .bind(id)
    .bind(url)
    .bind(events)
    .bind(active)
    .fetch_optional(db)
    .await?)
}

pub async fn delete_endpoint(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query("delete from webhook_endpoint where project_id = $1 and webhook_id = $2")
        .bind(project)
        .bind(id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

/// An event waiting for (or done with) delivery to one endpoint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub project_id: ProjectId,
    pub event_id: Uuid,
    pub webhook_id: Uuid,
    pub seq: i64,
    pub event_type: String,
    pub object_id: Option<String>,
    /// What the event is about, as captured (the whole payload when `envelope`).
    pub payload: Json<serde_json::Value>,
    /// Enqueued before the service rendered payloads: `payload` is the whole event.
    pub envelope: bool,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub url: String,
    pub secret: String,
}

/// The columns of [`OutboxRow`] (a literal, for `concat!`).
macro_rules! outbox_columns {
    () => {
        "o.project_id, o.event_id, o.webhook_id, o.seq, o.event_type, o.object_id, o.payload, o.envelope, o.attempts,
    o.next_attempt_at, o.delivered_at, o.last_error, o.created_at, w.url, w.secret"
    };
}

/// Locks, until the transaction ends, the oldest undelivered event of up to `limit` active
/// endpoints whose oldest event is due: each endpoint gets its events one at a time, in order.
/// Rows another worker holds are skipped. Of one project only when `project` is given. Each
/// endpoint's head is found through the pending index (one probe per endpoint): an earlier
/// form tested every undelivered event for an earlier one, and a plan cached while the outbox
/// was small ran for 40 minutes over 320,000 events of one endpoint (found by the fuzzer).
pub async fn lock_due(
    db: &mut PgConnection,
    limit: i64,
    project: Option<ProjectId>,
) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        outbox_columns!(),
        " from webhook_outbox o
         join webhook_endpoint w on w.project_id = o.project_id and w.webhook_id = o.webhook_id and w.active
         where (o.project_id, o.webhook_id, o.seq) in (
                 select h.project_id, h.webhook_id, h.seq from webhook_endpoint e
                 cross join lateral (select x.project_id, x.webhook_id, x.seq from webhook_outbox x
                                      where x.project_id = e.project_id and x.webhook_id = e.webhook_id
                                        and x.delivered_at is null
                                      order by x.seq limit 1) h
                 where e.active and ($2::uuid is null or e.project_id = $2))
           and o.delivered_at is null and o.next_attempt_at <= now()
         order by o.seq limit $1
         for update of o skip locked"
    ))
    .bind(limit)
    .bind(project)
    .fetch_all(db)
    .await?)
}

/// Records one delivery attempt and its outcome on the event: delivered, or retried at `retry_at`.
pub async fn record_attempt(
    db: &mut PgConnection,
    e: &OutboxRow,
    status_code: Option<i32>,
    error: Option<&str>,
    duration_ms: i32,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into webhook_delivery (project_id, webhook_id, event_id, attempt, status_code, error, duration_ms)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.project_id)
    .bind(e.webhook_id)
    .bind(e.event_id)
    .bind(e.attempts + 1)
    .bind(status_code)
    .bind(error)
    .bind(duration_ms)
    .execute(&mut *db)
    .await?;
    sqlx::query(
        "update webhook_outbox set attempts = attempts + 1, last_error = $4,
                delivered_at = case when $5::timestamptz is null then now() end,
                next_attempt_at = coalesce($5, next_attempt_at)
         where project_id = $1 and event_id = $2 and webhook_id = $3",
    )
    .bind(e.project_id)
    .bind(e.event_id)
    .bind(e.webhook_id)
    .bind(error)
    .bind(retry_at)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// The events of an endpoint, newest first.
pub async fn list_events(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    webhook: Uuid,
    page: Page,
) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        outbox_columns!(),
        " from webhook_outbox o
         join webhook_endpoint w on w.project_id = o.project_id and w.webhook_id = o.webhook_id
         where o.project_id = $1 and o.webhook_id = $2 order by o.seq desc limit $3 offset $4"
    ))
    .bind(project)
    .bind(webhook)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(db)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub event_id: Uuid,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub attempted_at: DateTime<Utc>,
}

/// Delivery attempts of an endpoint, newest first.
pub async fn list_deliveries(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    webhook: Uuid,
    page: Page,
) -> Result<Vec<DeliveryRow>, StoreError> {
    Ok(sqlx::query_as(
        "select event_id, attempt, status_code, error, duration_ms, attempted_at from webhook_delivery
         where project_id = $1 and webhook_id = $2 order by attempted_at desc, attempt desc limit $3 offset $4",
    )
    .bind(project)
    .bind(webhook)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(db)
    .await?)
}

/// Drops delivered events (and their attempts) older than `days`; undelivered ones stay.
pub async fn expire_delivered(db: &PgPool, days: i32) -> Result<u64, StoreError> {
    sqlx::query(
        "delete from webhook_delivery d using webhook_outbox o
         where o.project_id = d.project_id and o.webhook_id = d.webhook_id and o.event_id = d.event_id
           and o.delivered_at < now() - make_interval(days => $1)",
    )
    .bind(days)
    .execute(db)
    .await?;
    Ok(sqlx::query("delete from webhook_outbox where delivered_at < now() - make_interval(days => $1)")
        .bind(days)
        .execute(db)
        .await?
        .rows_affected())
}
