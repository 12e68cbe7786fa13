//! Async actions: long jobs (code generation, imports) run by a worker in the service. A job is
//! leased (`locked_until`) while a worker runs it and commits its progress with each batch, so
//! a restarted or another server resumes where the last commit left it.

use crate::ProjectId;
use crate::{Json, Page, StoreError};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AsyncActionRow {
    pub project_id: ProjectId,
    pub async_action_id: Uuid,
    pub type_: String,
    pub status: String,
    pub operation_status: Option<String>,
    pub progress: i32,
    pub processed: i64,
    pub total: i64,
    pub request: Json<serde_json::Value>,
    pub result: Option<Json<serde_json::Value>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// The columns of [`AsyncActionRow`] (a literal, for `concat!`).
macro_rules! action_columns {
    () => {
        "project_id, async_action_id, type as type_, status, operation_status, progress, processed, total,
    request, result, created_at, updated_at, completed_at"
    };
}

/// Enqueues an action of `total` units of work.
pub async fn create(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    type_: &str,
    request: &serde_json::Value,
    total: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into async_action (project_id, async_action_id, type, status, request, total)
         values ($1, $2, $3, 'ENQUEUED', $4, $5)",
    )
    .bind(project)
    .bind(id)
    .bind(type_)
    .bind(Json(request))
    .bind(total)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn get(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<Option<AsyncActionRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        action_columns!(),
        " from async_action where project_id = $1 and async_action_id = $2"
    ))
    .bind(project)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Newest first.
pub async fn list(db: impl PgExecutor<'_>, project: ProjectId, page: Page) -> Result<Vec<AsyncActionRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        action_columns!(),
        " from async_action where project_id = $1
         order by created_at desc, async_action_id desc limit $2 offset $3"
    ))
    .bind(project)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(db)
    .await?)
}

/// Leases the oldest action that is waiting, or running under an expired lease (its worker
/// died), for `lease_ms`; of one project only when `project` is given.
pub async fn claim_due(
    db: impl PgExecutor<'_>,
    lease_ms: i64,
    project: Option<ProjectId>,
) -> Result<Option<AsyncActionRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "update async_action set status = 'IN_PROGRESS', locked_until = now() + $1 * interval '1 millisecond',
                updated_at = now()
         where (project_id, async_action_id) = (
             select project_id, async_action_id from async_action
             where status in ('ENQUEUED', 'IN_PROGRESS') and (locked_until is null or locked_until < now())
               and ($2::uuid is null or project_id = $2)
             order by created_at limit 1 for update skip locked)
         returning ",
        action_columns!()
    ))
    .bind(lease_ms)
    .bind(project)
    .fetch_optional(db)
    .await?)
}

/// Records progress (in the transaction of the batch it counts) and renews the lease.
pub async fn advance(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    processed: i64,
    lease_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "update async_action set processed = $3,
                progress = case when total > 0 then least(99, ($3 * 100 / total)::int) else 0 end,
                locked_until = now() + $4 * interval '1 millisecond', updated_at = now()
         where project_id = $1 and async_action_id = $2",
    )
    .bind(project)
    .bind(id)
    .bind(processed)
    .bind(lease_ms)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks an action done: `operation_status` SUCCESS or FAILED, with its result. An import's
/// rows are dropped from its request then (they can be large and are not needed again).
pub async fn finish(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    operation_status: &str,
    result: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "update async_action set status = 'DONE', operation_status = $3, result = $4, progress = 100,
                request = request - 'rows',
                locked_until = null, updated_at = now(), completed_at = now()
         where project_id = $1 and async_action_id = $2",
    )
    .bind(project)
    .bind(id)
    .bind(operation_status)
    .bind(Json(result))
    .execute(db)
    .await?;
    Ok(())
}
