//! The audit log of admin writes (`audit_entry`): appended after a write succeeded, listed newest
//! first with filters per object, credential, action and time.

use crate::{Json, ProjectId, StoreError};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// One admin write as the audit layer saw it.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub entry_id: Uuid,
    pub request_id: Option<String>,
    pub credential_type: &'static str,
    pub credential_id: String,
    pub method: String,
    pub path: String,
    pub action: String,
    pub object_type: &'static str,
    pub object_id: Option<String>,
    pub object_key: Option<String>,
    pub changed_fields: Vec<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn insert_entry(db: impl PgExecutor<'_>, project: ProjectId, e: &NewEntry) -> Result<(), StoreError> {
    sqlx::query(
        "insert into audit_entry (project_id, entry_id, request_id, credential_type, credential_id, method, path,
                                  action, object_type, object_id, object_key, changed_fields, before, after)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(project)
    .bind(e.entry_id)
    .bind(&e.request_id)
    .bind(e.credential_type)
    .bind(&e.credential_id)
    .bind(&e.method)
    .bind(&e.path)
    .bind(&e.action)
    .bind(e.object_type)
    .bind(&e.object_id)
    .bind(&e.object_key)
    .bind(&e.changed_fields)
    .bind(e.before.as_ref().map(Json))
    .bind(e.after.as_ref().map(Json))
    .execute(db)
    .await?;
    Ok(())
}

/// A stored entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub entry_id: Uuid,
    pub seq: i64,
    pub created_at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub credential_type: String,
    pub credential_id: String,
    pub method: String,
    pub path: String,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub object_key: Option<String>,
    pub changed_fields: Vec<String>,
    pub before: Option<Json<serde_json::Value>>,
    pub after: Option<Json<serde_json::Value>>,
}

/// Which entries to list; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct EntryQuery {
    pub object_type: Option<String>,
    /// The object's id or its path key (a code, a source id).
    pub object_id: Option<String>,
    pub credential_type: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Entries older than this one (its `seq`).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// A page of a project's audit log, newest first.
pub async fn list_entries(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    q: &EntryQuery,
) -> Result<Vec<EntryRow>, StoreError> {
    Ok(sqlx::query_as(
        "select entry_id, seq, created_at, request_id, credential_type, credential_id, method, path, action,
                object_type, object_id, object_key, changed_fields, before, after
           from audit_entry
          where project_id = $1
            and ($2::text is null or object_type = $2)
            and ($3::text is null or object_id = $3 or lower(object_key) = lower($3))
            and ($4::text is null or credential_type = $4)
            and ($5::text is null or action = $5)
            and ($6::timestamptz is null or created_at >= $6)
            and ($7::timestamptz is null or created_at < $7)
            and ($8::bigint is null or seq < $8)
          order by seq desc
          limit $9",
    )
    .bind(project)
    .bind(&q.object_type)
    .bind(&q.object_id)
    .bind(&q.credential_type)
    .bind(&q.action)
    .bind(q.from)
    .bind(q.to)
    .bind(q.before_seq)
    .bind(q.limit)
    .fetch_all(db)
    .await?)
}

/// The position of one entry of the project's log (for a `starting_after_id` cursor).
pub async fn entry_seq(db: impl PgExecutor<'_>, project: ProjectId, entry: Uuid) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("select seq from audit_entry where project_id = $1 and entry_id = $2")
        .bind(project)
        .bind(entry)
        .fetch_optional(db)
        .await?)
}
