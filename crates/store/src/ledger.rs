//! The redemption ledger and the counters that enforce limits.
//!
//! A redemption is one transaction: its rows are inserted and every counter it consumes is
//! claimed with a guarded update (`apply_counter_claims`, in sorted key order; a single counter
//! that no live session reserves, by one `UPDATE` inside the redemption statement); a claim over
//! its limit writes nothing. Rollbacks add the negated claims back, once per redemption
//! (a unique key on the rollback row). Session reservations hold counter slots until they
//! expire or are consumed; expired ones are ignored by every read, so no cron is needed.

use crate::ProjectId;
use crate::{Json, Page, StoreError};
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgExecutor, Postgres, QueryBuilder, Row};
use std::collections::HashMap;
use uuid::Uuid;

/// One counter a redemption consumes: `value + delta`, which must stay `<= limit` when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub key: String,
    pub delta: i64,
    pub limit: Option<i64>,
}

/// Current values of the given counters, each including what live sessions other than
/// `session` reserve. Missing counters are absent (read as 0).
pub async fn counter_values(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    keys: &[String],
    session: Option<&str>,
) -> Result<HashMap<String, i64>, StoreError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select c.counter_key,
                case when strpos(c.counter_key, '|roll:') > 0
                     then counter_value_at(c.project_id, c.counter_key, c.value, now()) else c.value end
                + coalesce((select sum(r.amount) from session_reservation r
             where r.project_id = c.project_id and r.counter_key = c.counter_key and r.expires_at > now()
               and r.session_key is distinct from $3), 0)::bigint
         from counter c where c.project_id = $1 and c.counter_key = any($2)",
    )
    .bind(project)
    .bind(keys)
    .bind(session)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

fn claim_arrays(claims: &[Claim]) -> (Vec<&str>, Vec<i64>, Vec<Option<i64>>) {
    (
        claims.iter().map(|c| c.key.as_str()).collect(),
        claims.iter().map(|c| c.delta).collect(),
        claims.iter().map(|c| c.limit).collect(),
    )
}

/// Applies claims inside the caller's transaction, made at `at` (the redemption's time; for a
/// rollback, the time of the redemption it gives back); `Some(i)` = claim `i` would exceed its
/// limit (nothing may be committed then). Consumes `session`'s reservations.
pub async fn apply_claims(
    conn: &mut PgConnection,
    project: ProjectId,
    claims: &[Claim],
    session: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Option<usize>, StoreError> {
    if claims.is_empty() && session.is_none() {
        return Ok(None);
    }
    let (keys, deltas, limits) = claim_arrays(claims);
    let failed: i32 = sqlx::query_scalar("select apply_counter_claims($1, $2, $3, $4, $5, $6)")
        .bind(project)
        .bind(&keys)
        .bind(&deltas)
        .bind(&limits)
        .bind(session)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?;
    Ok(usize::try_from(failed).ok().filter(|&i| i > 0).map(|i| i - 1))
}

/// Replaces a session's reservations with one per limited claim; `Some(i)` = claim `i` has no
/// room left (the caller rolls back).
pub async fn reserve(
    conn: &mut PgConnection,
    project: ProjectId,
    session: &str,
    claims: &[Claim],
    expires_at: DateTime<Utc>,
) -> Result<Option<usize>, StoreError> {
    let limited: Vec<&Claim> = claims.iter().filter(|c| c.limit.is_some()).collect();
    let keys: Vec<&str> = limited.iter().map(|c| c.key.as_str()).collect();
    let amounts: Vec<i64> = limited.iter().map(|c| c.delta).collect();
    let limits: Vec<i64> = limited.iter().filter_map(|c| c.limit).collect();
    let failed: i32 = sqlx::query_scalar("select reserve_counter_claims($1, $2, $3, $4, $5, $6)")
        .bind(project)
        .bind(session)
        .bind(&keys)
        .bind(&amounts)
        .bind(&limits)
        .bind(expires_at)
        .fetch_one(&mut *conn)
        .await?;
    let Some(pos) = usize::try_from(failed).ok().filter(|&i| i > 0) else { return Ok(None) };
    let key = keys[pos - 1];
    Ok(claims.iter().position(|c| c.key == key))
}

/// Releases a session's reservations; whether it held any.
pub async fn release_session(db: impl PgExecutor<'_>, project: ProjectId, session: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("delete from session_reservation where project_id = $1 and session_key = $2")
        .bind(project)
        .bind(session)
        .execute(db)
        .await?
        .rows_affected()
        > 0)
}

/// A ledger row to insert.
#[derive(Debug, Clone)]
pub struct NewRedemption {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub success: bool,
    pub related_object_type: String,
    pub related_object_id: String,
    pub campaign_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub amount: i64,
    pub session_key: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub claims: serde_json::Value,
    /// The redemption object, serialized once (the same text answers the request).
    pub doc: Box<RawValue>,
    pub voucher_code: Option<String>,
    pub tracking_id: Option<String>,
    /// For a campaign's tier or code that succeeded: the order amount and this redemption's
    /// discount, added to the redeemed object's and its campaign's figures (`redemption_stats`).
    pub figures: Option<(i64, i64)>,
    /// The order's cost, when the catalog knows every line's unit cost (profit figures).
    pub cost_amount: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RedemptionRow {
    pub redemption_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub result: String,
    pub status: String,
    pub related_object_type: String,
    pub related_object_id: String,
    pub campaign_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub amount: i64,
    pub session_key: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub claims: Json<serde_json::Value>,
    pub doc: Json<serde_json::Value>,
    pub voucher_code: Option<String>,
    pub tracking_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A rollback entry of a listing (its id is the rollback's, its document the rollback).
    #[sqlx(default)]
    pub is_rollback: bool,
}

/// The columns of [`RedemptionRow`] but `is_rollback` (a literal, for `concat!`).
macro_rules! redemption_columns {
    () => {
        "redemption_id, parent_id, result, status, related_object_type, related_object_id, campaign_id,
    customer_id, order_id, amount, session_key, failure_code, failure_message, claims, doc, voucher_code, tracking_id,
    created_at"
    };
}
pub(crate) use redemption_columns;

/// The order a successful redemption writes (new or reused).
#[derive(Debug, Clone)]
pub struct OrderWrite<'a> {
    pub id: Uuid,
    pub source_id: Option<&'a str>,
    pub customer: Option<Uuid>,
    pub doc: &'a RawValue,
    /// A stored order the redemption reuses (updated); otherwise a new one (inserted).
    pub stored: bool,
}

/// Where and when ledger rows are written.
#[derive(Debug, Clone, Copy)]
pub struct LedgerWrite {
    pub project: ProjectId,
    pub at: DateTime<Utc>,
    /// Whether the project has an active webhook endpoint (from its compiled definitions): the
    /// statement enqueues the rows' events only then.
    pub webhooks: bool,
}

/// Inserts ledger rows in one statement.
pub async fn insert_redemptions(
    conn: &mut PgConnection,
    write: LedgerWrite,
    rows: &[NewRedemption],
) -> Result<(), StoreError> {
    record(conn, write, rows, None, None).await.map(drop)
}

/// A successful redemption's order and ledger rows, in one round trip.
pub async fn record_success(
    conn: &mut PgConnection,
    write: LedgerWrite,
    rows: &[NewRedemption],
    order: OrderWrite<'_>,
) -> Result<(), StoreError> {
    record(conn, write, rows, Some(order), None).await.map(drop)
}

/// Claims, order and ledger rows in one autocommit statement: all of it, or (when claim `i`
/// has no room) nothing, and `Some(i)`.
pub async fn redeem_atomically(
    conn: &mut PgConnection,
    write: LedgerWrite,
    (claims, session): (&[Claim], Option<&str>),
    rows: &[NewRedemption],
    order: OrderWrite<'_>,
) -> Result<Option<usize>, StoreError> {
    let failed = record(conn, write, rows, Some(order), Some((claims, session))).await?;
    Ok(usize::try_from(failed).ok().filter(|&i| i > 0).map(|i| i - 1))
}

/// The shape of a [`record`] statement: each is prepared once per connection.
#[derive(Debug, Clone, Copy)]
struct RecordShape {
    /// The order is a stored one (upserted) rather than new (a plain insert: its id is new, so
    /// it cannot conflict, and a speculative insertion cost a WAL record and an index probe).
    stored_order: bool,
    /// The webhook events of the top-level rows go in the same statement.
    webhooks: bool,
    /// One ledger row, read from the arrays by subscript (an unnest of sixteen arrays cost more
    /// to set up than the insert it feeds).
    one_row: bool,
}

impl RecordShape {
    /// Its statement's place in [`RECORD_STATEMENTS`].
    fn index(self) -> usize {
        usize::from(self.stored_order) | usize::from(self.webhooks) << 1 | usize::from(self.one_row) << 2
    }
}

// The parts of a [`record`] statement (literals, for `concat!`).
macro_rules! order_insert {
    () => {
        "insert into order_record (project_id, order_id, source_id, status, customer_id, amount, doc, created_at)
         select $1, $19, $20, coalesce($22 ->> 'status', 'CREATED'), $21,
                coalesce(($22 ->> 'amount')::bigint, 0), $22, $17
         where $19::uuid is not null and (select failed from claimed) = 0"
    };
}
macro_rules! order_upsert {
    () => {
        concat!(
            order_insert!(),
            "
         on conflict (project_id, order_id) do update
           set status = excluded.status, customer_id = coalesce(excluded.customer_id, order_record.customer_id),
               amount = excluded.amount, doc = excluded.doc, updated_at = now()"
        )
    };
}
macro_rules! one_row {
    () => {
        "(select ($2::uuid[])[1] as id, ($3::uuid[])[1] as parent_id, ($4::bool[])[1] as success,
                 ($5::text[])[1] as related_object_type, ($6::text[])[1] as related_object_id,
                 ($7::uuid[])[1] as campaign_id, ($8::uuid[])[1] as customer_id, ($9::uuid[])[1] as order_id,
                 ($10::bigint[])[1] as amount, ($11::text[])[1] as session_key,
                 ($12::text[])[1] as failure_code, ($13::text[])[1] as failure_message,
                 ($14::jsonb[])[1] as claims, ($15::text[])[1] as doc, ($16::text[])[1] as voucher_code,
                 ($18::text[])[1] as tracking_id, ($29::bigint[])[1] as order_amount,
                 ($30::bigint[])[1] as discount_amount, ($31::bigint[])[1] as cost_amount) u"
    };
}
macro_rules! many_rows {
    () => {
        "unnest($2::uuid[], $3::uuid[], $4::bool[], $5::text[], $6::text[], $7::uuid[], $8::uuid[],
                $9::uuid[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::jsonb[],
                $15::text[], $16::text[], $18::text[], $29::bigint[], $30::bigint[], $31::bigint[])
           as u(id, parent_id, success, related_object_type, related_object_id, campaign_id, customer_id,
                order_id, amount, session_key, failure_code, failure_message, claims, doc, voucher_code,
                tracking_id, order_amount, discount_amount, cost_amount)"
    };
}
// The webhook events of the top-level rows, and a result that reads them (a plain CTE runs only
// when read).
macro_rules! with_events {
    () => {
        ", events as (
           select webhook_enqueue(array(
             select row($1, case when u.success then 'redemption.succeeded' else 'redemption.failed' end,
                        coalesce(d.data ->> 'id', u.id::text), d.data)::webhook_event
             from unnest($2::uuid[], $3::uuid[], $4::bool[], $15::text[]) with ordinality
                  as u(id, parent_id, success, doc, n),
                  lateral (select u.doc::jsonb as data) d
             where u.parent_id is null order by u.n))
           where (select failed from claimed) = 0
         )
         select failed + (select count(*) from events)::int * 0 from claimed"
    };
}
macro_rules! without_events {
    () => {
        "
         select failed from claimed"
    };
}

// Data-modifying CTEs run to completion whether read or not; all wait for the claims. One
// counter and no session ($28): a guarded update claims it; apply_counter_claims decides
// otherwise, and when that update declines (a missing, full or reserved counter).
macro_rules! record_statement {
    ($order:ident, $rows:ident, $events:ident) => {
        concat!(
            "with fast_claim as (
               update counter c set value = c.value + ($25::bigint[])[1], updated_at = now()
               where $28::boolean and c.project_id = $1 and c.counter_key = ($24::text[])[1]
                 and (($26::bigint[])[1] is null or c.value + ($25::bigint[])[1] <= ($26::bigint[])[1])
                 and (c.reserved_until is null or c.reserved_until <= now())
               returning 0 as failed
             ),
             claimed as (
               select case when $23::boolean
                           then coalesce((select failed from fast_claim),
                                         apply_counter_claims($1, $24::text[], $25::bigint[], $26::bigint[], $27, $17))
                           else 0 end as failed
             ),
             written_order as (",
            $order!(),
            "),
             written_ledger as (
               insert into redemption (project_id, redemption_id, parent_id, result, status, related_object_type,
                   related_object_id, campaign_id, customer_id, order_id, amount, session_key, failure_code,
                   failure_message, claims, doc, voucher_code, tracking_id, created_at, cost_amount)
               select $1, u.id, u.parent_id, case when u.success then 'SUCCESS' else 'FAILURE' end,
                      case when u.success then 'SUCCEEDED' else 'FAILED' end, u.related_object_type,
                      u.related_object_id, u.campaign_id, u.customer_id, u.order_id, u.amount, u.session_key,
                      u.failure_code, u.failure_message, u.claims, u.doc::json, u.voucher_code, u.tracking_id, $17,
                      u.cost_amount
               from ",
            $rows!(),
            "
               where (select failed from claimed) = 0
             ),
             written_figures as (
               insert into redemption_stats_delta (project_id, object_id, succeeded, order_amount, discount_amount,
                                                   customer_id, redemption_ref, created_at, bucket, costed,
                                                   costed_order_amount, costed_discount_amount, cost_amount)
               select $1, x.object_id, 1, u.order_amount, u.discount_amount, u.customer_id,
                      coalesce(u.parent_id, u.id), $17,
                      date_bin('15 minutes', $17, timestamptz '2000-01-01 00:00:00+00'),
                      k.costed, k.costed * u.order_amount, k.costed * u.discount_amount, coalesce(u.cost_amount, 0)
               from ",
            $rows!(),
            "
               cross join lateral (values (u.related_object_id),
                                          ('camp_' || replace(u.campaign_id::text, '-', ''))) x(object_id)
               cross join lateral (select case when u.cost_amount is null then 0 else 1 end as costed) k
               where (select failed from claimed) = 0 and u.order_amount is not null
             )",
            $events!()
        )
    };
}

/// Every [`RecordShape`]'s statement: the one at index `i` is the shape whose bits are `i`
/// (stored order 1, webhooks 2, one row 4).
const RECORD_STATEMENTS: [&str; 8] = [
    record_statement!(order_insert, many_rows, without_events),
    record_statement!(order_upsert, many_rows, without_events),
    record_statement!(order_insert, many_rows, with_events),
    record_statement!(order_upsert, many_rows, with_events),
    record_statement!(order_insert, one_row, without_events),
    record_statement!(order_upsert, one_row, without_events),
    record_statement!(order_insert, one_row, with_events),
    record_statement!(order_upsert, one_row, with_events),
];

/// Writes the order (when given) and the ledger rows in one statement; with `claims`, only if
/// `apply_counter_claims` finds room for all of them (its result is returned, 0 = applied).
async fn record(
    conn: &mut PgConnection,
    LedgerWrite { project, at, webhooks }: LedgerWrite,
    rows: &[NewRedemption],
    order: Option<OrderWrite<'_>>,
    claims: Option<(&[Claim], Option<&str>)>,
) -> Result<i32, StoreError> {
    if rows.is_empty() && order.is_none() && claims.is_none() {
        return Ok(0);
    }
    let (keys, deltas, limits) = claim_arrays(claims.map(|c| c.0).unwrap_or_default());
    let col = |f: &dyn Fn(&NewRedemption) -> Option<String>| -> Vec<Option<String>> { rows.iter().map(f).collect() };
    let shape =
        RecordShape { stored_order: order.as_ref().is_some_and(|o| o.stored), webhooks, one_row: rows.len() == 1 };
    let statement = RECORD_STATEMENTS[shape.index()];
    // One counter and no session to consume: a guarded update in the statement can claim it
    // (apply_counter_claims still decides when the counter is missing, full or reserved).
    // A rolling window's counter is its events, not a value a guard can compare.
    let fast_claim = claims
        .is_some_and(|(claims, session)| claims.len() == 1 && session.is_none() && !claims[0].key.contains("|roll:"));
    Ok(sqlx::query_scalar::<_, i32>(statement)
        .bind(project)
        .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.parent_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.success).collect::<Vec<_>>())
        .bind(col(&|r| Some(r.related_object_type.clone())))
        .bind(col(&|r| Some(r.related_object_id.clone())))
        .bind(rows.iter().map(|r| r.campaign_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.customer_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.order_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.amount).collect::<Vec<_>>())
        .bind(col(&|r| r.session_key.clone()))
        .bind(col(&|r| r.failure_code.clone()))
        .bind(col(&|r| r.failure_message.clone()))
        .bind(rows.iter().map(|r| Json(&r.claims)).collect::<Vec<_>>())
        // the documents' text, checked as json on insert (see the migration: not parsed into jsonb)
        .bind(rows.iter().map(|r| r.doc.get()).collect::<Vec<&str>>())
        .bind(col(&|r| r.voucher_code.clone()))
        .bind(at)
        .bind(col(&|r| r.tracking_id.clone()))
        .bind(order.as_ref().map(|o| o.id))
        .bind(order.as_ref().and_then(|o| o.source_id))
        .bind(order.as_ref().and_then(|o| o.customer))
        .bind(order.as_ref().map(|o| Json(o.doc)))
        .bind(claims.is_some())
        .bind(&keys)
        .bind(&deltas)
        .bind(&limits)
        .bind(claims.and_then(|c| c.1))
        .bind(fast_claim)
        .bind(rows.iter().map(|r| r.figures.map(|f| f.0)).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.figures.map(|f| f.1)).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.cost_amount).collect::<Vec<_>>())
        .fetch_one(&mut *conn)
        .await?)
}

pub async fn get_redemption(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
) -> Result<Option<RedemptionRow>, StoreError> {
    Ok(sqlx::query_as::<_, RedemptionRow>(concat!(
        "select ",
        redemption_columns!(),
        " from redemption where project_id = $1 and redemption_id = $2"
    ))
    .bind(project)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// The children of a stacked redemption, in application order.
pub async fn children(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    parent: Uuid,
) -> Result<Vec<RedemptionRow>, StoreError> {
    Ok(sqlx::query_as::<_, RedemptionRow>(concat!(
        "select ",
        redemption_columns!(),
        " from redemption where project_id = $1 and parent_id = $2 order by redemption_id"
    ))
    .bind(project)
    .bind(parent)
    .fetch_all(db)
    .await?)
}

/// Listing filters of `GET /v1/redemptions` (all optional, combined with and).
#[derive(Debug, Clone, Default)]
pub struct RedemptionFilter {
    pub results: Vec<String>,
    pub campaign_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub voucher_code: Option<String>,
    pub related_object_id: Option<String>,
    pub parent_id: Option<Uuid>,
    pub failure_code: Option<String>,
    pub created_before: Option<DateTime<Utc>>,
    pub created_after: Option<DateTime<Utc>>,
}

/// How to order a listing: a column and a direction (from a fixed list, never input).
#[derive(Debug, Clone, Copy)]
pub enum RedemptionOrder {
    CreatedAt,
    Id,
    VoucherCode,
    TrackingId,
    CustomerId,
}

pub async fn list_redemptions(
    db: &mut PgConnection,
    project: ProjectId,
    f: &RedemptionFilter,
    order: (RedemptionOrder, bool),
    page: Page,
) -> Result<(Vec<RedemptionRow>, i64), StoreError> {
    // Rollbacks are listed too, as entries of their own carrying their redemption's facets. Only
    // the given filters are written (each combination is a statement of its own, with a plan of
    // its own: see `ListSql`); the builder numbers their parameters.
    fn entries_matching<'a>(f: &'a RedemptionFilter, project: ProjectId, head: &str) -> QueryBuilder<'a, Postgres> {
        let mut q = QueryBuilder::new(head);
        q.push(
            " from (select redemption_id, parent_id, result, status, related_object_type, related_object_id,
                campaign_id, customer_id, order_id, amount, session_key, failure_code, failure_message, claims,
                doc, voucher_code, tracking_id, created_at, false as is_rollback, project_id
            from redemption where project_id = ",
        );
        q.push_bind(project);
        q.push(
            " union all
          select b.rollback_id, r.parent_id, b.result, 'SUCCEEDED', r.related_object_type, r.related_object_id,
                r.campaign_id, r.customer_id, r.order_id, -r.amount, null, null, null, '[]'::jsonb,
                b.doc::json, r.voucher_code, r.tracking_id, b.created_at, true, b.project_id
            from redemption_rollback b join redemption r using (project_id, redemption_id)
            where b.project_id = ",
        );
        q.push_bind(project);
        q.push(") entries where true");
        if !f.results.is_empty() {
            q.push(" and result = any(").push_bind(&f.results).push(")");
        }
        if let Some(v) = f.campaign_id {
            q.push(" and campaign_id = ").push_bind(v);
        }
        if let Some(v) = f.customer_id {
            q.push(" and customer_id = ").push_bind(v);
        }
        if let Some(v) = &f.voucher_code {
            q.push(" and voucher_code = ").push_bind(v);
        }
        if let Some(v) = &f.related_object_id {
            q.push(" and related_object_id = ").push_bind(v);
        }
        if let Some(v) = f.parent_id {
            q.push(" and parent_id = ").push_bind(v);
        }
        if let Some(v) = &f.failure_code {
            q.push(" and failure_code = ").push_bind(v);
        }
        if let Some(v) = f.created_before {
            q.push(" and created_at < ").push_bind(v);
        }
        if let Some(v) = f.created_after {
            q.push(" and created_at > ").push_bind(v);
        }
        q
    }
    use RedemptionOrder::*;
    let order_by = match order {
        (CreatedAt, true) => "created_at desc nulls last, redemption_id desc",
        (CreatedAt, false) => "created_at asc nulls last, redemption_id asc",
        (Id, true) => "redemption_id desc nulls last, redemption_id desc",
        (Id, false) => "redemption_id asc nulls last, redemption_id asc",
        (VoucherCode, true) => "voucher_code desc nulls last, redemption_id desc",
        (VoucherCode, false) => "voucher_code asc nulls last, redemption_id asc",
        (TrackingId, true) => "tracking_id desc nulls last, redemption_id desc",
        (TrackingId, false) => "tracking_id asc nulls last, redemption_id asc",
        (CustomerId, true) => "customer_id desc nulls last, redemption_id desc",
        (CustomerId, false) => "customer_id asc nulls last, redemption_id asc",
    };
    crate::built_page_and_total(
        db,
        |head| entries_matching(f, project, head),
        (concat!("select ", redemption_columns!(), ", is_rollback"), order_by),
        page,
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RollbackRow {
    pub rollback_id: Uuid,
    pub redemption_id: Uuid,
    pub doc: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// Records the rollback of one redemption and marks it rolled back; `false` if it already was
/// (the unique key makes a concurrent second rollback wait, then lose).
pub async fn insert_rollback(
    conn: &mut PgConnection,
    project: ProjectId,
    rollback_id: Uuid,
    redemption_id: Uuid,
    doc: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "insert into redemption_rollback (project_id, rollback_id, redemption_id, result, doc, created_at)
         values ($1, $2, $3, 'SUCCESS', $4, $5) on conflict (project_id, redemption_id) do nothing",
    )
    .bind(project)
    .bind(rollback_id)
    .bind(redemption_id)
    .bind(Json(doc))
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        sqlx::query("update redemption set status = 'ROLLED_BACK' where project_id = $1 and redemption_id = $2")
            .bind(project)
            .bind(redemption_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(inserted)
}

/// The columns of [`RollbackRow`] from `redemption_rollback` (a literal, for `concat!`).
macro_rules! rollback_select {
    () => {
        "select rollback_id, redemption_id, doc, created_at from redemption_rollback"
    };
}

/// A rollback by its own id.
pub async fn get_rollback(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    rollback_id: Uuid,
) -> Result<Option<RollbackRow>, StoreError> {
    Ok(sqlx::query_as::<_, RollbackRow>(concat!(rollback_select!(), " where project_id = $1 and rollback_id = $2"))
        .bind(project)
        .bind(rollback_id)
        .fetch_optional(db)
        .await?)
}

/// The rollback of a redemption, if any.
pub async fn rollback_of(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    redemption_id: Uuid,
) -> Result<Option<RollbackRow>, StoreError> {
    Ok(sqlx::query_as::<_, RollbackRow>(concat!(rollback_select!(), " where project_id = $1 and redemption_id = $2"))
        .bind(project)
        .bind(redemption_id)
        .fetch_optional(db)
        .await?)
}

/// The rollbacks of several redemptions at once (a page of redemptions).
pub async fn rollbacks_of(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    redemption_ids: &[Uuid],
) -> Result<Vec<RollbackRow>, StoreError> {
    Ok(sqlx::query_as::<_, RollbackRow>(concat!(
        rollback_select!(),
        " where project_id = $1 and redemption_id = any($2)"
    ))
    .bind(project)
    .bind(redemption_ids)
    .fetch_all(db)
    .await?)
}

/// A stored idempotency key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdempotentResponse {
    pub request_hash: Vec<u8>,
    pub status_code: Option<i16>,
    pub response_body: Option<Vec<u8>>,
}

/// Takes an idempotency key inside the caller's transaction. `None`: the key is ours (a
/// concurrent holder makes this wait until it commits or rolls back). `Some`: it was used
/// before, with this stored response.
pub async fn claim_idempotency_key(
    conn: &mut PgConnection,
    project: ProjectId,
    key: &str,
    request_hash: &[u8],
) -> Result<Option<IdempotentResponse>, StoreError> {
    let inserted = sqlx::query(
        "insert into idempotency_key (project_id, idempotency_key, request_hash) values ($1, $2, $3)
         on conflict (project_id, idempotency_key) do nothing",
    )
    .bind(project)
    .bind(key)
    .bind(request_hash)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        return Ok(None);
    }
    Ok(sqlx::query_as::<_, IdempotentResponse>(
        "select request_hash, status_code, response_body from idempotency_key
         where project_id = $1 and idempotency_key = $2",
    )
    .bind(project)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A key's stored response, outside any transaction (the fast replay path).
pub async fn idempotent_response(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    key: &str,
) -> Result<Option<IdempotentResponse>, StoreError> {
    Ok(sqlx::query_as::<_, IdempotentResponse>(
        "select request_hash, status_code, response_body from idempotency_key
         where project_id = $1 and idempotency_key = $2 and status_code is not null",
    )
    .bind(project)
    .bind(key)
    .fetch_optional(db)
    .await?)
}

/// Stores the response of a key taken with [`claim_idempotency_key`], in the same transaction.
pub async fn complete_idempotency_key(
    conn: &mut PgConnection,
    project: ProjectId,
    key: &str,
    status: u16,
    body: &[u8],
) -> Result<(), StoreError> {
    sqlx::query(
        "update idempotency_key set status_code = $3, response_body = $4 where project_id = $1 and idempotency_key = $2",
    )
    .bind(project)
    .bind(key)
    .bind(status as i16)
    .bind(body)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets keys older than `days` days (kept at least 24 h).
pub async fn expire_idempotency_keys(db: impl PgExecutor<'_>, days: i32) -> Result<u64, StoreError> {
    Ok(sqlx::query("delete from idempotency_key where created_at < now() - make_interval(days => $1)")
        .bind(days.max(1))
        .execute(db)
        .await?
        .rows_affected())
}

/// Redemption counters of a customer, straight from the ledger.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct CustomerLedger {
    pub succeeded: i64,
    pub failed: i64,
    pub rolled_back: i64,
    pub rollbacks: i64,
    pub orders: i64,
    /// What the customer paid (order totals after discounts), cancelled orders apart.
    pub orders_amount: i64,
    pub last_order_at: Option<DateTime<Utc>>,
    pub last_order_amount: Option<i64>,
}

/// The customer summary's figures for the customer `$who` (a literal: a parameter or a column).
macro_rules! customer_ledger_select {
    ($who:literal) => {
        concat!(
            "select
            count(*) filter (where r.result = 'SUCCESS' and r.related_object_type <> 'redemption') as succeeded,
            count(*) filter (where r.result = 'FAILURE' and r.related_object_type <> 'redemption') as failed,
            count(*) filter (where r.status = 'ROLLED_BACK' and r.related_object_type <> 'redemption') as rolled_back,
            (select count(*) from redemption_rollback b join redemption x using (project_id, redemption_id)
               where x.project_id = $1 and x.customer_id = ", $who, " and x.related_object_type <> 'redemption') as rollbacks,
            o.orders, o.orders_amount, o.last_order_at, o.last_order_amount
         from (select
                   count(*) as orders,
                   coalesce(sum(coalesce((o.doc ->> 'total_amount')::bigint, o.amount)), 0)::bigint as orders_amount,
                   max(o.created_at) as last_order_at,
                   (array_agg(coalesce((o.doc ->> 'total_amount')::bigint, o.amount)
                              order by o.created_at desc, o.order_id desc))[1] as last_order_amount
                 from order_record o
                where o.project_id = $1 and o.customer_id = ", $who, " and o.status <> 'CANCELED') o
         left join redemption r on r.project_id = $1 and r.customer_id = ", $who, "
         group by o.orders, o.orders_amount, o.last_order_at, o.last_order_amount"
        )
    };
}

pub async fn customer_ledger(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    customer: Uuid,
) -> Result<CustomerLedger, StoreError> {
    Ok(sqlx::query_as::<_, CustomerLedger>(customer_ledger_select!("$2"))
        .bind(project)
        .bind(customer)
        .fetch_one(db)
        .await?)
}

/// [`customer_ledger`] for a page of customers: one query.
pub async fn customer_ledgers(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    customers: &[Uuid],
) -> Result<Vec<(Uuid, CustomerLedger)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        customer_id: Uuid,
        #[sqlx(flatten)]
        ledger: CustomerLedger,
    }
    let rows = sqlx::query_as::<_, Row>(concat!(
        "select c.id as customer_id, l.* from unnest($2::uuid[]) as c(id) cross join lateral (",
        customer_ledger_select!("c.id"),
        ") l"
    ))
    .bind(project)
    .bind(customers)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.customer_id, r.ledger)).collect())
}

/// Links an order to its customer.
pub async fn set_order_customer(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    order: Uuid,
    customer: Uuid,
) -> Result<(), StoreError> {
    sqlx::query("update order_record set customer_id = $3 where project_id = $1 and order_id = $2")
        .bind(project)
        .bind(order)
        .bind(customer)
        .execute(db)
        .await?;
    Ok(())
}

/// Sets the document of a rollback written earlier in the transaction.
pub async fn store_rollback_doc(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    rollback_id: Uuid,
    doc: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query("update redemption_rollback set doc = $3 where project_id = $1 and rollback_id = $2")
        .bind(project)
        .bind(rollback_id)
        .bind(Json(doc))
        .execute(db)
        .await?;
    Ok(())
}

/// Vouchers held by a customer (the customer wallet), newest first.
pub async fn held_vouchers(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    customer: Uuid,
    limit: i64,
) -> Result<Vec<crate::campaigns::VoucherRow>, StoreError> {
    Ok(sqlx::query_as::<_, crate::campaigns::VoucherRow>(concat!(
        "select ",
        crate::campaigns::voucher_columns!(),
        " from voucher v where v.project_id = $1 and v.deleted_at is null and v.holder_id = $2
         order by v.created_at desc limit $3"
    ))
    .bind(project)
    .bind(customer)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// A voucher with its redemption counter as a checkout reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CheckoutVoucher {
    #[sqlx(flatten)]
    pub row: crate::campaigns::VoucherRow,
    /// The voucher's `redemption.quantity` counter plus what other live sessions reserve.
    pub redeemed: i64,
    /// The project's definitions version, read in the same round trip.
    pub definitions_version: i64,
}

/// The vouchers a checkout names: by id or by code key (compared as the project compares codes).
#[derive(Debug, Clone, Default)]
pub struct VoucherLookup {
    pub ids: Vec<Uuid>,
    pub code_keys: Vec<String>,
    /// A voucher's quantity counter key: prefix and suffix around its wire id.
    pub counter_key: (&'static str, &'static str),
    /// The checkout's session, whose own reservations do not count against it.
    pub session: Option<String>,
}

impl VoucherLookup {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.code_keys.is_empty()
    }
}

/// The vouchers' columns, their quantity counters plus what other live sessions reserve
/// (`redeemed`), for `v` from one of the `named_…` sources (`$4`/`$5` the counter key's prefix
/// and suffix, `$6` the session). Not the campaign's name: a checkout has it from the compiled
/// definitions. A literal, for `concat!`.
macro_rules! checkout_voucher_columns {
    () => {
        "v.voucher_id, v.code, v.campaign_id, null::text as campaign_name, v.active, v.holder_id, v.doc, v.created_at, v.updated_at, v.publish_count,
    coalesce((select k.value from counter k where k.project_id = v.project_id
                and k.counter_key = $4 || replace(v.voucher_id::text, '-', '') || $5), 0)
    + coalesce((select sum(r.amount) from session_reservation r where r.project_id = v.project_id
                and r.counter_key = $4 || replace(v.voucher_id::text, '-', '') || $5
                and r.expires_at > now() and r.session_key is distinct from $6), 0)::bigint as redeemed"
    };
}

// The vouchers of a lookup as `v` (ids in `$2`, code keys in `$3`): each name is one probe of a
// unique index (an `or` of the two lists let a cached generic plan scan every voucher of the
// project). A single name, the usual checkout, gets a plain probe: the unnest/lateral/union
// form cost PostgreSQL 30–50 µs more per execution (pgbench, same runs).
macro_rules! named_by_one_code {
    () => {
        "voucher v where v.project_id = $1 and v.code_key = ($3::text[])[1] and v.deleted_at is null"
    };
}
macro_rules! named_by_one_id {
    () => {
        "voucher v where v.project_id = $1 and v.voucher_id = ($2::uuid[])[1] and v.deleted_at is null"
    };
}
macro_rules! named_by_several {
    () => {
        "(select f.* from unnest($2::uuid[]) i(id)
            cross join lateral (select * from voucher v where v.project_id = $1 and v.voucher_id = i.id limit 1) f
          union all
          select f.* from unnest($3::text[]) k(key)
            cross join lateral (select * from voucher v where v.project_id = $1 and v.code_key = k.key limit 1) f) v
        where v.deleted_at is null"
    };
}

/// Which `named_…` source a lookup reads: its statements' place in the arrays below.
fn named_shape(lookup: &VoucherLookup) -> usize {
    match (lookup.ids.len(), lookup.code_keys.len()) {
        (0, 1) => 0,
        (1, 0) => 1,
        _ => 2,
    }
}

macro_rules! checkout_vouchers_statement {
    ($named:ident) => {
        concat!(
            "select ",
            checkout_voucher_columns!(),
            ",
                (select p.definitions_version from project p where p.project_id = v.project_id) as definitions_version
         from ",
            $named!()
        )
    };
}

/// [`checkout_vouchers`]' statements, by [`named_shape`].
const CHECKOUT_VOUCHERS: [&str; 3] = [
    checkout_vouchers_statement!(named_by_one_code),
    checkout_vouchers_statement!(named_by_one_id),
    checkout_vouchers_statement!(named_by_several),
];

/// How a checkout names its customer.
#[derive(Debug, Clone, Copy)]
pub struct CustomerLookup<'a> {
    /// By id; else by `source_id`.
    pub id: Option<Uuid>,
    pub source_id: Option<&'a str>,
    /// Read the static segments it belongs to (a project without static segments has none).
    pub segments: bool,
}

impl CustomerLookup<'_> {
    /// Its statements' place in [`CHECKOUT_CUSTOMER`] and in a row of [`CHECKOUT_READS`].
    fn shape(&self) -> usize {
        usize::from(self.segments) << 1 | usize::from(self.id.is_some())
    }
}

// A customer's columns for `c`, with the static segments it belongs to or none (a project
// without static segments has none). Literals, for `concat!`.
macro_rules! customer_with_segments {
    () => {
        "c.customer_id, c.source_id, c.doc, c.created_at, c.updated_at,
         array(select m.segment_id from segment_member m
               where m.project_id = c.project_id and m.customer_id = c.customer_id) as segments"
    };
}
macro_rules! customer_without_segments {
    () => {
        "c.customer_id, c.source_id, c.doc, c.created_at, c.updated_at, '{}'::uuid[] as segments"
    };
}

macro_rules! checkout_customer_statement {
    ($columns:ident, $condition:literal) => {
        concat!(
            "select ",
            $columns!(),
            ",
                exists(select 1 from voucher v where v.project_id = c.project_id and v.holder_id = c.customer_id
                       and v.deleted_at is null) as holds_vouchers,
                (select p.definitions_version from project p where p.project_id = c.project_id) as definitions_version
         from customer c where c.project_id = $1 and ",
            $condition
        )
    };
}

/// [`checkout_customer`]'s statements, by [`CustomerLookup::shape`] (id in `$2`, source id in
/// `$3`): each lookup is a plain probe of its own unique index.
const CHECKOUT_CUSTOMER: [&str; 4] = [
    checkout_customer_statement!(customer_without_segments, "c.source_id = $3"),
    checkout_customer_statement!(customer_without_segments, "c.customer_id = $2"),
    checkout_customer_statement!(customer_with_segments, "c.source_id = $3"),
    checkout_customer_statement!(customer_with_segments, "c.customer_id = $2"),
];

// One row per voucher (at least one), the customer's columns on each (id in `$7`, source id in
// `$8`).
macro_rules! checkout_reads_statement {
    ($named:ident, $columns:ident, $condition:literal) => {
        concat!(
            "with named as (select ",
            checkout_voucher_columns!(),
            " from ",
            $named!(),
            "),
              customer as (select ",
            $columns!(),
            " from customer c where c.project_id = $1 and ",
            $condition,
            ")
         select customer.*, named.voucher_id, named.code, named.campaign_id, named.campaign_name, named.active,
                named.holder_id, named.doc as voucher_doc, named.created_at as voucher_created_at,
                named.updated_at as voucher_updated_at, named.publish_count, named.redeemed,
                (select p.definitions_version from project p where p.project_id = $1) as definitions_version
         from (values (1)) one (x) left join customer on true left join named on true"
        )
    };
}
macro_rules! checkout_reads_row {
    ($named:ident) => {
        [
            checkout_reads_statement!($named, customer_without_segments, "c.source_id = $8"),
            checkout_reads_statement!($named, customer_without_segments, "c.customer_id = $7"),
            checkout_reads_statement!($named, customer_with_segments, "c.source_id = $8"),
            checkout_reads_statement!($named, customer_with_segments, "c.customer_id = $7"),
        ]
    };
}

/// [`checkout_reads`]' statements, by [`named_shape`] and [`CustomerLookup::shape`].
const CHECKOUT_READS: [[&str; 4]; 3] = [
    checkout_reads_row!(named_by_one_code),
    checkout_reads_row!(named_by_one_id),
    checkout_reads_row!(named_by_several),
];

/// Binds `$1`, the project, and a lookup's `$2`–`$6` (see the `named_…` sources and
/// `checkout_voucher_columns`).
fn bind_voucher_lookup<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    project: ProjectId,
    lookup: &'q VoucherLookup,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(project)
        .bind(&lookup.ids)
        .bind(&lookup.code_keys)
        .bind(lookup.counter_key.0)
        .bind(lookup.counter_key.1)
        .bind(lookup.session.as_deref())
}

/// The vouchers named by id or by code key, with their quantity counters and the definitions
/// version, in one round trip.
pub async fn checkout_vouchers(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    lookup: &VoucherLookup,
) -> Result<Vec<CheckoutVoucher>, StoreError> {
    let sql = CHECKOUT_VOUCHERS[named_shape(lookup)];
    let rows = bind_voucher_lookup(sqlx::query(sql), project, lookup).fetch_all(db).await?;
    Ok(rows.iter().map(CheckoutVoucher::from_row).collect::<Result<_, _>>()?)
}

/// A customer by id or source id, with the static segments it belongs to, in one round trip.
#[derive(Debug, Clone)]
pub struct CheckoutCustomer {
    pub row: crate::documents::DocRow,
    pub segments: Vec<Uuid>,
    /// The project's definitions version, read in the same round trip.
    pub definitions_version: i64,
    /// Whether any live code is published to the customer, where the read asked (a
    /// qualification skips its wallet read when none is).
    pub holds_vouchers: Option<bool>,
}

impl CheckoutCustomer {
    /// From a customer's columns (`customer_with_segments`); `None` when a join found none.
    fn from_columns(row: &PgRow, definitions_version: i64) -> Result<Option<Self>, sqlx::Error> {
        let Some(id) = row.try_get::<Option<Uuid>, _>("customer_id")? else { return Ok(None) };
        Ok(Some(CheckoutCustomer {
            row: crate::documents::DocRow {
                id,
                source_id: row.try_get("source_id")?,
                parent_id: None,
                doc: row.try_get("doc")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            },
            segments: row.try_get("segments")?,
            definitions_version,
            holds_vouchers: None,
        }))
    }
}

/// A customer with the static segments it belongs to and whether it holds codes.
pub async fn checkout_customer(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    customer: CustomerLookup<'_>,
) -> Result<Option<CheckoutCustomer>, StoreError> {
    let row = sqlx::query(CHECKOUT_CUSTOMER[customer.shape()])
        .bind(project)
        .bind(customer.id)
        .bind(customer.source_id)
        .fetch_optional(db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut customer = CheckoutCustomer::from_columns(&row, row.try_get("definitions_version")?)?;
    if let Some(c) = &mut customer {
        c.holds_vouchers = Some(row.try_get("holds_vouchers")?);
    }
    Ok(customer)
}

/// A checkout's customer (by id, else source id) and vouchers in one round trip: a statement
/// costs PostgreSQL and the server more to run than the probes it makes. Whether the customer
/// holds codes is not read (only qualifications, which name no codes, ask).
pub async fn checkout_reads(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    customer: CustomerLookup<'_>,
    vouchers: &VoucherLookup,
) -> Result<(Option<CheckoutCustomer>, Vec<CheckoutVoucher>), StoreError> {
    let sql = CHECKOUT_READS[named_shape(vouchers)][customer.shape()];
    let rows = bind_voucher_lookup(sqlx::query(sql), project, vouchers)
        .bind(customer.id)
        .bind(customer.source_id)
        .fetch_all(db)
        .await?;
    let mut found = None;
    let mut named = Vec::new();
    for row in &rows {
        let definitions_version: i64 = row.try_get("definitions_version")?;
        if found.is_none() {
            found = CheckoutCustomer::from_columns(row, definitions_version)?;
        }
        let Some(voucher_id) = row.try_get::<Option<Uuid>, _>("voucher_id")? else { continue };
        named.push(CheckoutVoucher {
            row: crate::campaigns::VoucherRow {
                voucher_id,
                code: row.try_get("code")?,
                campaign_id: row.try_get("campaign_id")?,
                campaign_name: row.try_get("campaign_name")?,
                active: row.try_get("active")?,
                holder_id: row.try_get("holder_id")?,
                doc: row.try_get("voucher_doc")?,
                created_at: row.try_get("voucher_created_at")?,
                updated_at: row.try_get("voucher_updated_at")?,
                publish_count: row.try_get("publish_count")?,
                redeemed_quantity: None,
                reserved_quantity: None,
            },
            redeemed: row.try_get("redeemed")?,
            definitions_version,
        });
    }
    Ok((found, named))
}

/// The project's definitions version (when no other read of the request carried it).
pub async fn definitions_version(db: impl PgExecutor<'_>, project: ProjectId) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("select definitions_version from project where project_id = $1")
        .bind(project)
        .fetch_optional(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_shape_finds_its_own_statement() {
        for i in 0..8 {
            let shape = RecordShape { stored_order: i & 1 != 0, webhooks: i & 2 != 0, one_row: i & 4 != 0 };
            let sql = &RECORD_STATEMENTS[shape.index()];
            assert_eq!(sql.contains("on conflict (project_id, order_id)"), shape.stored_order, "{shape:?}");
            assert_eq!(sql.contains("webhook_enqueue"), shape.webhooks, "{shape:?}");
            assert_eq!(sql.contains("$15::text[], $16::text[]"), !shape.one_row, "{shape:?}");
        }
    }
}

/// An object's redemption figures (see the `redemption_stats` migration): successful
/// redemptions and their amounts, and of those what was rolled back since.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ObjectStats {
    pub object_id: String,
    pub succeeded: i64,
    pub rolled_back: i64,
    pub order_amount: i64,
    pub discount_amount: i64,
    pub rolled_back_order_amount: i64,
    pub rolled_back_discount_amount: i64,
}

/// The figures of promotion tiers, campaign codes or campaigns, by wire id (objects never
/// redeemed have no row): the folded figures plus the deltas not folded yet, in one snapshot.
pub async fn redemption_stats(
    db: &mut PgConnection,
    project: ProjectId,
    object_ids: &[String],
) -> Result<Vec<ObjectStats>, StoreError> {
    if object_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as::<_, ObjectStats>(
        "select object_id, sum(succeeded)::bigint as succeeded, sum(rolled_back)::bigint as rolled_back,
                sum(order_amount)::bigint as order_amount, sum(discount_amount)::bigint as discount_amount,
                sum(rolled_back_order_amount)::bigint as rolled_back_order_amount,
                sum(rolled_back_discount_amount)::bigint as rolled_back_discount_amount
           from (select object_id, succeeded, rolled_back, order_amount, discount_amount,
                        rolled_back_order_amount, rolled_back_discount_amount
                   from redemption_stats where project_id = $1 and object_id = any($2)
                 union all
                 select object_id, succeeded, rolled_back, order_amount, discount_amount,
                        rolled_back_order_amount, rolled_back_discount_amount
                   from redemption_stats_delta where project_id = $1 and object_id = any($2)) figures
          group by object_id",
    )
    .bind(project)
    .bind(object_ids)
    .fetch_all(db)
    .await?)
}

/// Folds up to `batch` figure deltas into the per-object figures (see the `redemption_stats`
/// migration); returns how many it folded.
pub async fn fold_redemption_stats(db: impl PgExecutor<'_>, batch: i32) -> Result<i32, StoreError> {
    Ok(sqlx::query_scalar::<_, i32>("select fold_redemption_stats($1)").bind(batch).fetch_one(db).await?)
}

/// Adds counted validations (`(object id, 15-minute bucket, succeeded, failed)` per project)
/// to `validation_stats`, in one statement.
pub async fn add_validation_counts(
    db: impl PgExecutor<'_>,
    rows: &[(ProjectId, String, DateTime<Utc>, i64, i64)],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let projects: Vec<Uuid> = rows.iter().map(|r| r.0.uuid()).collect();
    let objects: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let buckets: Vec<DateTime<Utc>> = rows.iter().map(|r| r.2).collect();
    let ok: Vec<i64> = rows.iter().map(|r| r.3).collect();
    let failed: Vec<i64> = rows.iter().map(|r| r.4).collect();
    sqlx::query(
        "insert into validation_stats as s (project_id, object_id, bucket, succeeded, failed)
         select * from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[])
         order by 1, 2, 3
         on conflict (project_id, object_id, bucket) do update
            set succeeded = s.succeeded + excluded.succeeded, failed = s.failed + excluded.failed",
    )
    .bind(projects)
    .bind(objects)
    .bind(buckets)
    .bind(ok)
    .bind(failed)
    .execute(db)
    .await?;
    Ok(())
}

/// Validations of an object (succeeded, failed) in buckets within `[from, to)` when given.
pub async fn validation_counts(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    object_id: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<(i64, i64), StoreError> {
    Ok(sqlx::query_as(
        "select coalesce(sum(succeeded), 0)::bigint, coalesce(sum(failed), 0)::bigint from validation_stats
          where project_id = $1 and object_id = $2
            and ($3::timestamptz is null or bucket >= $3) and ($4::timestamptz is null or bucket < $4)",
    )
    .bind(project)
    .bind(object_id)
    .bind(from)
    .bind(to)
    .fetch_one(db)
    .await?)
}
