//! A customer's activity: custom events (kept in `activity_log`) and what the ledger and the
//! publications record for the customer, read together in time order.

use crate::{Json, ProjectId, StoreError};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Records a custom event of a customer.
pub async fn insert_custom_event(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    customer_wire_id: &str,
    data: &serde_json::Value,
) -> Result<DateTime<Utc>, StoreError> {
    Ok(sqlx::query_scalar(
        "insert into activity_log (project_id, activity_id, object_type, object_id, action, data)
         values ($1, $2, 'customer', $3, 'customer.custom_event', $4) returning created_at",
    )
    .bind(project)
    .bind(id)
    .bind(customer_wire_id)
    .bind(Json(data))
    .fetch_one(db)
    .await?)
}

/// A validation of a stored customer that failed, for the customer's activity.
#[derive(Debug, Clone)]
pub struct FailedValidation {
    pub project: ProjectId,
    /// The validation's id (its `valid_…` response id).
    pub id: Uuid,
    pub customer_wire_id: String,
    pub at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// Records failed validations in their customers' activity, in one statement.
pub async fn insert_failed_validations(db: impl PgExecutor<'_>, rows: &[FailedValidation]) -> Result<(), StoreError> {
    let projects: Vec<Uuid> = rows.iter().map(|r| r.project.uuid()).collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let customers: Vec<&str> = rows.iter().map(|r| r.customer_wire_id.as_str()).collect();
    let at: Vec<DateTime<Utc>> = rows.iter().map(|r| r.at).collect();
    let data: Vec<Json<&serde_json::Value>> = rows.iter().map(|r| Json(&r.data)).collect();
    // a project deleted meanwhile takes its entries with it
    sqlx::query(
        "insert into activity_log (project_id, activity_id, object_type, object_id, action, data, created_at)
         select u.p, u.id, 'customer', u.c, 'customer.validation.failed', u.d, u.at
           from unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::jsonb[]) as u(p, id, c, at, d)
          where exists (select 1 from project where project_id = u.p)
         on conflict do nothing",
    )
    .bind(projects)
    .bind(ids)
    .bind(customers)
    .bind(at)
    .bind(data)
    .execute(db)
    .await?;
    Ok(())
}

/// Records that a customer was blocked (code guessing) in their activity.
pub async fn insert_customer_blocked(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    block_id: Uuid,
    customer_wire_id: &str,
    data: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into activity_log (project_id, activity_id, object_type, object_id, action, data, created_at)
         values ($1, $2, 'customer', $3, 'customer.blocked', $4, now()) on conflict do nothing",
    )
    .bind(project)
    .bind(block_id)
    .bind(customer_wire_id)
    .bind(Json(data))
    .execute(db)
    .await?;
    Ok(())
}

/// One entry of a customer's activity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    /// The entry's id: the redemption's, rollback's or publication's, or the custom event's.
    pub kind: String,
    pub object_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub doc: Json<serde_json::Value>,
    /// A redemption's status now (its document keeps the one it was written with).
    pub status: Option<String>,
}

/// Which entries of a customer's activity.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    pub kinds: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Entries after this one (by time, then id) in the listing's order.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub ascending: bool,
    pub limit: i64,
    /// Only this entry (to find where a cursor points).
    pub only: Option<Uuid>,
}

/// A page of a customer's activity: redemptions (succeeded, failed), rollbacks, publications and
/// custom events, newest first unless `ascending`.
pub async fn customer_activity(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    customer: Uuid,
    customer_wire_id: &str,
    q: &ActivityQuery,
) -> Result<Vec<ActivityRow>, StoreError> {
    let (cmp, dir) = if q.ascending { (">", "asc") } else { ("<", "desc") };
    let sql = format!(
        "select * from (
             select case when result = 'SUCCESS' then 'customer.redemption.succeeded'
                         else 'customer.redemption.failed' end as kind,
                    redemption_id as object_id, created_at, doc::jsonb as doc, status
               from redemption where project_id = $1 and customer_id = $2 and related_object_type <> 'redemption'
             union all
             select case when b.result = 'SUCCESS' then 'customer.redemption.rollback.succeeded'
                         else 'customer.redemption.rollback.failed' end,
                    b.rollback_id, b.created_at, b.doc, null
               from redemption_rollback b join redemption r using (project_id, redemption_id)
              where b.project_id = $1 and r.customer_id = $2 and r.related_object_type <> 'redemption'
             union all
             select 'customer.publication.succeeded', publication_id, created_at, doc, null
               from publication where project_id = $1 and customer_id = $2
             union all
             select action, activity_id, created_at, data, null
               from activity_log where project_id = $1 and object_type = 'customer' and object_id = $3
         ) entries
         where (cardinality($4::text[]) = 0 or kind = any($4))
           and ($5::timestamptz is null or created_at >= $5) and ($6::timestamptz is null or created_at < $6)
           and ($7::timestamptz is null or (created_at, object_id) {cmp} ($7, $8::uuid))
           and ($10::uuid is null or object_id = $10)
         order by created_at {dir}, object_id {dir} limit $9"
    );
    Ok(sqlx::query_as(&sql)
        .bind(project)
        .bind(customer)
        .bind(customer_wire_id)
        .bind(&q.kinds)
        .bind(q.from)
        .bind(q.to)
        .bind(q.after.map(|a| a.0))
        .bind(q.after.map(|a| a.1))
        .bind(q.limit)
        .bind(q.only)
        .fetch_all(db)
        .await?)
}
