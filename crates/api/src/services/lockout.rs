//! Code-guessing lock-out (our extension): a shopper whose checkouts keep naming unknown codes
//! is blocked — the customer as the request names it, and the IP — for a time or until lifted.
//! A blocked checkout costs one indexed read and no write.

use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::services::block_cache::MAX_CACHED_BLOCKS;
use crate::services::checkout;
use crate::state::AppState;
use crate::types::blocks::{BlockOut, BlockSubject, BlocksList, BlocksQuery};
use crate::types::management::LockoutIo;
use crate::wire::timestamp;
use chrono::{DateTime, Duration, Utc};
use promo_store::ProjectId;
use promo_store::lockout::{self as store, BlockRow};
use promo_store::projects::ProjectRow;
use serde_json::{Value, json};
use std::time::Instant;

/// The project's lock-out, when on.
fn setting(project: &ProjectRow) -> Option<LockoutIo> {
    let l: LockoutIo = serde_json::from_value(project.lockout.as_ref()?.0.clone()).ok()?;
    (l.failures > 0).then_some(l)
}

/// The subjects a checkout request names: its customer (`customer.id`, else `source_id`) and
/// the shopper's IP (`metadata.ip`; the client-side API writes the one it saw there).
pub(crate) fn subjects(project: &ProjectRow, body: &Value) -> Vec<String> {
    if setting(project).is_none() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(2);
    let customer = body.get("customer");
    if let Some(c) = ["id", "source_id"].iter().find_map(|k| customer?.get(*k)?.as_str())
        && !c.is_empty()
        && c.len() <= 200
    {
        out.push(format!("customer:{c}"));
    }
    if let Some(ip) =
        body.pointer("/metadata/ip").and_then(Value::as_str).and_then(promo_engine::identity::normalise_ip)
    {
        out.push(format!("ip:{ip}"));
    }
    out
}

/// The verdict from memory when the project's blocks were read less than a second ago.
fn from_memory(app: &AppState, project: &ProjectRow, subjects: &[String]) -> Option<Result<(), ApiError>> {
    let blocks = app.blocks.fresh(project.project_id)??;
    let now = Utc::now();
    let found = subjects
        .iter()
        .filter_map(|s| blocks.get(s))
        .filter(|(_, until)| until.is_none_or(|u| u > now))
        .max_by_key(|(_, until)| until.map_or(i64::MAX, |u| u.timestamp()));
    Some(match found {
        None => Ok(()),
        Some((failures, until)) => Err(blocked(*failures, *until)),
    })
}

fn blocked(failures: i32, until: Option<DateTime<Utc>>) -> ApiError {
    let until =
        until.map_or_else(|| "until an administrator lifts it".to_owned(), |u| format!("until {}", timestamp(u)));
    ApiError::new(ErrorKey::Blocked)
        .details(format!("Checkouts are blocked {until} after {failures} attempts with unknown codes"))
}

/// Refuses a checkout from a blocked subject: 403 `blocked`, saying until when. Reads on `conn`
/// (the request's connection) at most once a second per project.
pub(crate) async fn refuse_blocked(
    app: &AppState,
    conn: &mut promo_store::PgConnection,
    project: &ProjectRow,
    subjects: &[String],
) -> Result<(), ApiError> {
    if subjects.is_empty() {
        return Ok(());
    }
    if let Some(verdict) = from_memory(app, project, subjects) {
        return verdict;
    }
    let now = Utc::now();
    let read_at = Instant::now();
    let rows = store::active_blocks(&mut *conn, project.project_id, now, MAX_CACHED_BLOCKS + 1).await?;
    let too_many = rows.len() as i64 > MAX_CACHED_BLOCKS;
    app.blocks.store(project.project_id, read_at, (!too_many).then_some(rows));
    if let Some(verdict) = from_memory(app, project, subjects) {
        return verdict;
    }
    match store::active_block(&mut *conn, project.project_id, subjects, now).await? {
        None => Ok(()),
        Some(b) => Err(blocked(b.failures, b.until)),
    }
}

/// Counts a checkout that named unknown codes; at the threshold its subjects are blocked (and a
/// stored customer's activity says so).
pub(crate) async fn record_failure(
    app: &AppState,
    conn: &mut promo_store::PgConnection,
    project: &ProjectRow,
    subjects: &[String],
) -> Result<(), ApiError> {
    let Some(l) = setting(project) else { return Ok(()) };
    if subjects.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let window = i64::from(l.window_minutes) * 60;
    let start = DateTime::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(window), 0).unwrap_or(now);
    let until = l.block_minutes.map(|m| now + Duration::minutes(i64::from(m)));
    let blocks = store::record_failure(&mut *conn, project.project_id, subjects, start, l.failures, until).await?;
    if !blocks.is_empty() {
        app.blocks.forget(project.project_id);
    }
    for b in blocks {
        tracing::warn!(project = %project.project_id.uuid(), subject = %b.subject, "blocked after repeated unknown codes");
        if let Some(named) = b.subject.strip_prefix("customer:") {
            let id = ids::try_parse(ids::CUSTOMER, named);
            let found = promo_store::customers::CUSTOMERS
                .get(&mut *conn, project.project_id, id, if id.is_none() { Some(named) } else { None })
                .await?;
            if let Some(c) = found {
                let data = json!({"block": block_out(b.clone(), now)});
                promo_store::activity::insert_customer_blocked(
                    &mut *conn,
                    project.project_id,
                    b.block_id,
                    &ids::wire(ids::CUSTOMER, c.id),
                    &data,
                )
                .await?;
            }
        }
    }
    Ok(())
}

fn block_out(b: BlockRow, now: DateTime<Utc>) -> BlockOut {
    let (kind, value) = b.subject.split_once(':').unwrap_or(("unknown", b.subject.as_str()));
    BlockOut {
        id: ids::wire(ids::BLOCK, b.block_id),
        object: "block",
        subject: BlockSubject { kind: kind.to_owned(), value: value.to_owned() },
        failures: b.failures,
        created_at: timestamp(b.created_at),
        until: b.until.map(timestamp),
        active: b.until.is_none_or(|u| u > now),
    }
}

pub(crate) async fn list(app: &AppState, project: ProjectId, q: BlocksQuery) -> Result<BlocksList, ApiError> {
    let limit = q.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(crate::services::events::query_error("limit must be within 1..=100"));
    }
    let now = Utc::now();
    let mut conn = promo_store::acquire(&app.db).await?;
    let active_at = q.active.unwrap_or(false).then_some(now);
    let (rows, total) = store::list_blocks(&mut conn, project, active_at, limit).await?;
    Ok(BlocksList {
        object: "list",
        data_ref: "data",
        data: rows.into_iter().map(|b| block_out(b, now)).collect(),
        total,
    })
}

pub(crate) async fn get(app: &AppState, project: ProjectId, raw: &str) -> Result<BlockOut, ApiError> {
    let id = ids::parse(ids::BLOCK, "block", raw)?;
    let row = store::get_block(&app.db, project, id).await?.ok_or_else(|| ApiError::not_found("block", raw))?;
    Ok(block_out(row, Utc::now()))
}

/// Lifts a block; its subject's failed attempts are forgotten.
pub(crate) async fn lift(app: &AppState, project: ProjectId, raw: &str) -> Result<(), ApiError> {
    let id = ids::parse(ids::BLOCK, "block", raw)?;
    if !store::lift(&app.db, project, id).await? {
        return Err(ApiError::not_found("block", raw));
    }
    app.blocks.forget(project);
    Ok(())
}

/// [`checkout::validate`] behind the lock-out: a blocked shopper is refused before any work; a
/// validation naming unknown codes counts as a failed attempt. Everything on the request's
/// connection (a second one while holding it could drain the pool).
pub(crate) async fn validate(
    app: &AppState,
    project: &ProjectRow,
    conn: &mut promo_store::PgConnection,
    api_key: &str,
    body: Value,
) -> Result<checkout::Validated, ApiError> {
    let subjects = subjects(project, &body);
    refuse_blocked(app, &mut *conn, project, &subjects).await?;
    let validated = checkout::validate(app, project, &mut *conn, api_key, body).await?;
    if validated.unknown_codes > 0 {
        record_failure(app, conn, project, &subjects).await?;
    }
    Ok(validated)
}

/// [`checkout::redeem`] behind the lock-out (see [`validate`]); the redemption takes its own
/// connection, so the lock-out's reads take one before and after it, never during.
pub(crate) async fn redeem(
    app: &AppState,
    project: &ProjectRow,
    api_key: &str,
    body: Value,
    idempotency_key: Option<&str>,
) -> Result<checkout::Reply, ApiError> {
    let subjects = subjects(project, &body);
    if !subjects.is_empty() {
        match from_memory(app, project, &subjects) {
            Some(verdict) => verdict?,
            None => {
                let mut conn = promo_store::acquire(&app.db).await?;
                refuse_blocked(app, &mut conn, project, &subjects).await?;
            }
        }
    }
    let outcome = checkout::redeem(app, project, api_key, body, idempotency_key).await;
    if checkout::names_unknown_code(&outcome) && !subjects.is_empty() {
        let mut conn = promo_store::acquire(&app.db).await?;
        record_failure(app, &mut conn, project, &subjects).await?;
    }
    outcome
}
