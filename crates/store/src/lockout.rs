//! Code-guessing lock-out: failed attempts counted per subject and window, and the blocks they
//! raise. A subject is `customer:<id or source id>` or `ip:<address>`.

use crate::{ProjectId, StoreError};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlockRow {
    pub block_id: Uuid,
    pub subject: String,
    pub failures: i32,
    pub created_at: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

/// A block in force on one of `subjects` at `now`, if any (the one lasting longest).
pub async fn active_block(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    subjects: &[String],
    now: DateTime<Utc>,
) -> Result<Option<BlockRow>, StoreError> {
    Ok(sqlx::query_as(
        "select block_id, subject, failures, created_at, until from lockout_block
          where project_id = $1 and subject = any($2) and (until is null or until > $3)
          order by until desc nulls first limit 1",
    )
    .bind(project)
    .bind(subjects)
    .bind(now)
    .fetch_optional(db)
    .await?)
}

/// The blocks in force at `now` (at most `limit`).
pub async fn active_blocks(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<BlockRow>, StoreError> {
    Ok(sqlx::query_as(
        "select block_id, subject, failures, created_at, until from lockout_block
          where project_id = $1 and (until is null or until > $2) limit $3",
    )
    .bind(project)
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Counts one failed attempt for each subject in the window starting `window_start`; a subject
/// reaching `threshold` is blocked until `until` (None: until lifted). Returns the new blocks.
pub async fn record_failure(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    subjects: &[String],
    window_start: DateTime<Utc>,
    threshold: i32,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<BlockRow>, StoreError> {
    // `= threshold`, not `>=`: one block per crossing, however many attempts follow in the window
    Ok(sqlx::query_as(
        "with counted as (
             insert into lockout_failure (project_id, subject, window_start, failures)
             select $1, s, $3, 1 from unnest($2::text[]) as s
             on conflict (project_id, subject, window_start)
                 do update set failures = lockout_failure.failures + 1
             returning subject, failures),
         pruned as (
             delete from lockout_failure
              where project_id = $1 and subject = any($2) and window_start < $3 - interval '1 day')
         insert into lockout_block (project_id, block_id, subject, failures, until)
         select $1, gen_random_uuid(), subject, failures, $5 from counted where failures = $4
         on conflict (project_id, subject) do update
             set block_id = excluded.block_id, failures = excluded.failures, created_at = now(), until = excluded.until
         returning block_id, subject, failures, created_at, until",
    )
    .bind(project)
    .bind(subjects)
    .bind(window_start)
    .bind(threshold)
    .bind(until)
    .fetch_all(db)
    .await?)
}

/// The project's blocks, newest first (at most `limit`), and how many there are.
pub async fn list_blocks(
    db: &mut sqlx::PgConnection,
    project: ProjectId,
    active_at: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<(Vec<BlockRow>, i64), StoreError> {
    let rows = sqlx::query_as(
        "select block_id, subject, failures, created_at, until from lockout_block
          where project_id = $1 and ($2::timestamptz is null or until is null or until > $2)
          order by created_at desc, block_id desc limit $3",
    )
    .bind(project)
    .bind(active_at)
    .bind(limit)
    .fetch_all(&mut *db)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "select count(*) from lockout_block
          where project_id = $1 and ($2::timestamptz is null or until is null or until > $2)",
    )
    .bind(project)
    .bind(active_at)
    .fetch_one(&mut *db)
    .await?;
    Ok((rows, total))
}

pub async fn get_block(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<Option<BlockRow>, StoreError> {
    Ok(sqlx::query_as(
        "select block_id, subject, failures, created_at, until from lockout_block
          where project_id = $1 and block_id = $2",
    )
    .bind(project)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Lifts a block, and forgets its subject's failed attempts (a fresh start).
pub async fn lift(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    let lifted: Option<String> = sqlx::query_scalar(
        "with gone as (delete from lockout_block where project_id = $1 and block_id = $2 returning subject),
              forgotten as (delete from lockout_failure f using gone
                             where f.project_id = $1 and f.subject = gone.subject)
         select subject from gone",
    )
    .bind(project)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(lifted.is_some())
}
