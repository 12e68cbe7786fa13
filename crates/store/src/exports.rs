//! Exports: the export objects, their CSV kept in chunks (so any server streams a download in
//! constant memory), the worker's lease, and the rows an export reads — one query per export,
//! streamed in batches, so a million rows never sit in memory.

use crate::ProjectId;
use crate::campaigns::VoucherRow;
use crate::documents::DocRow;
use crate::ledger::RedemptionRow;
use crate::publications::PublicationRow;
use crate::{Json, Page, StoreError};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub project_id: ProjectId,
    pub export_id: Uuid,
    pub exported_object: String,
    pub parameters: Json<serde_json::Value>,
    pub status: String,
    pub channel: String,
    pub secret: Vec<u8>,
    pub rows_written: i64,
    pub error: Option<Json<serde_json::Value>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

macro_rules! export_columns {
    () => {
        "project_id, export_id, exported_object, parameters, status, channel, secret, rows_written, error,
         created_at, updated_at, completed_at"
    };
}

/// Schedules an export.
pub async fn create(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    exported_object: &str,
    parameters: &serde_json::Value,
    secret: &[u8],
) -> Result<ExportRow, StoreError> {
    Ok(sqlx::query_as(concat!(
        "insert into export (project_id, export_id, exported_object, parameters, secret) values ($1, $2, $3, $4, $5)
         returning ",
        export_columns!()
    ))
    .bind(project)
    .bind(id)
    .bind(exported_object)
    .bind(Json(parameters))
    .bind(secret)
    .fetch_one(db)
    .await?)
}

pub async fn get(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<Option<ExportRow>, StoreError> {
    Ok(sqlx::query_as(concat!("select ", export_columns!(), " from export where project_id = $1 and export_id = $2"))
        .bind(project)
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// A page of exports, by `created_at` or `status` (`desc`: newest or last first), and the total.
pub async fn list(
    db: &PgPool,
    project: ProjectId,
    page: Page,
    by_status: bool,
    desc: bool,
) -> Result<(Vec<ExportRow>, i64), StoreError> {
    let order = match (by_status, desc) {
        (false, true) => "created_at desc, export_id desc",
        (false, false) => "created_at asc, export_id asc",
        (true, true) => "status desc, created_at desc, export_id desc",
        (true, false) => "status asc, created_at desc, export_id desc",
    };
    let sql = format!(
        concat!("select ", export_columns!(), " from export where project_id = $1 order by {} limit $2 offset $3"),
        order
    );
    let rows = sqlx::query_as(&sql).bind(project).bind(page.limit).bind(page.offset).fetch_all(db).await?;
    let total: i64 =
        sqlx::query_scalar("select count(*) from export where project_id = $1").bind(project).fetch_one(db).await?;
    Ok((rows, total))
}

/// Deletes an export and its file.
pub async fn delete(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query("delete from export where project_id = $1 and export_id = $2")
        .bind(project)
        .bind(id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

/// Leases the oldest export waiting, or running under an expired lease (its server died), and
/// drops whatever file it had begun: it starts over.
pub async fn claim_due(
    db: &PgPool,
    lease_ms: i64,
    project: Option<ProjectId>,
) -> Result<Option<ExportRow>, StoreError> {
    let mut tx = db.begin().await?;
    let row: Option<ExportRow> = sqlx::query_as(concat!(
        "update export set status = 'IN_PROGRESS', locked_until = now() + $1 * interval '1 millisecond',
                rows_written = 0, updated_at = now()
         where (project_id, export_id) = (
             select project_id, export_id from export
             where status in ('SCHEDULED', 'IN_PROGRESS') and (locked_until is null or locked_until < now())
               and ($2::uuid is null or project_id = $2)
             order by created_at limit 1 for update skip locked)
         returning ",
        export_columns!()
    ))
    .bind(lease_ms)
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(r) = &row {
        sqlx::query("delete from export_chunk where project_id = $1 and export_id = $2")
            .bind(r.project_id)
            .bind(r.export_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// Appends a piece of the file and renews the lease; false when the export is gone (deleted
/// meanwhile) or no longer leased by this run.
pub async fn append(
    db: &PgPool,
    project: ProjectId,
    id: Uuid,
    seq: i32,
    data: &[u8],
    rows_written: i64,
    lease_ms: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let leased = sqlx::query(
        "update export set rows_written = $3, locked_until = now() + $4 * interval '1 millisecond', updated_at = now()
         where project_id = $1 and export_id = $2 and status = 'IN_PROGRESS'",
    )
    .bind(project)
    .bind(id)
    .bind(rows_written)
    .bind(lease_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !leased {
        return Ok(false);
    }
    sqlx::query("insert into export_chunk (project_id, export_id, seq, data) values ($1, $2, $3, $4)")
        .bind(project)
        .bind(id)
        .bind(seq)
        .bind(data)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Marks an export `DONE` or `ERROR` (with the error).
pub async fn finish(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    status: &str,
    error: Option<&serde_json::Value>,
) -> Result<(), StoreError> {
    sqlx::query(
        "update export set status = $3, error = $4, locked_until = null, updated_at = now(), completed_at = now()
         where project_id = $1 and export_id = $2",
    )
    .bind(project)
    .bind(id)
    .bind(status)
    .bind(error.map(Json))
    .execute(db)
    .await?;
    Ok(())
}

/// The `seq`-th piece of an export's file (a download reads them one at a time).
pub async fn chunk(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    seq: i32,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(sqlx::query_scalar("select data from export_chunk where project_id = $1 and export_id = $2 and seq = $3")
        .bind(project)
        .bind(id)
        .bind(seq)
        .fetch_optional(db)
        .await?)
}

/// What an export reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Redemptions,
    Vouchers,
    Customers,
    Orders,
    Products,
    Skus,
    Publications,
}

impl Source {
    /// The `order by` of a sort field the export's object documents (never input: a fixed list).
    pub fn order_by(self, field: &str, desc: bool) -> Option<String> {
        let (column, id) = match (self, field) {
            (Source::Redemptions, "created_at") => ("created_at", "redemption_id"),
            (Source::Redemptions, "id") => ("redemption_id", "redemption_id"),
            (Source::Redemptions, "voucher_code") => ("voucher_code", "redemption_id"),
            (Source::Redemptions, "tracking_id") => ("tracking_id", "redemption_id"),
            (Source::Redemptions, "customer_id") => ("customer_id", "redemption_id"),
            (Source::Vouchers, "created_at") => ("v.created_at", "v.voucher_id"),
            (Source::Vouchers, "updated_at") => ("v.updated_at", "v.voucher_id"),
            (Source::Vouchers, "code") => ("v.code", "v.voucher_id"),
            (Source::Customers, "created_at") => ("created_at", "customer_id"),
            (Source::Customers, "updated_at") => ("updated_at", "customer_id"),
            (Source::Customers, "id") => ("customer_id", "customer_id"),
            (Source::Customers, "source_id") => ("source_id", "customer_id"),
            (Source::Customers, "email") => ("email", "customer_id"),
            (Source::Customers, "name") => ("doc->>'name'", "customer_id"),
            (Source::Orders, "created_at") => ("created_at", "order_id"),
            (Source::Orders, "updated_at") => ("updated_at", "order_id"),
            (Source::Orders, "status") => ("status", "order_id"),
            (Source::Products, "created_at") => ("created_at", "product_id"),
            (Source::Products, "updated_at") => ("updated_at", "product_id"),
            (Source::Products, "id") => ("product_id", "product_id"),
            (Source::Products, "name") => ("name", "product_id"),
            (Source::Products, "source_id") => ("source_id", "product_id"),
            (Source::Skus, "created_at") => ("created_at", "sku_id"),
            (Source::Skus, "updated_at") => ("updated_at", "sku_id"),
            (Source::Skus, "id") => ("sku_id", "sku_id"),
            (Source::Skus, "source_id") => ("source_id", "sku_id"),
            (Source::Publications, "created_at") => ("created_at", "publication_id"),
            (Source::Publications, "id") => ("publication_id", "publication_id"),
            (Source::Publications, "customer_id") => ("customer_id", "publication_id"),
            (Source::Publications, "voucher_code") => ("doc->>'voucher_code'", "publication_id"),
            (Source::Publications, "tracking_id") => ("doc->>'tracking_id'", "publication_id"),
            (Source::Publications, "channel") => ("doc->>'channel'", "publication_id"),
            _ => return None,
        };
        let dir = if desc { "desc" } else { "asc" };
        Some(format!("{column} {dir} nulls last, {id} {dir}"))
    }

    fn select(self) -> &'static str {
        match self {
            // the listing's entries: redemptions, and rollbacks as entries of their own
            Source::Redemptions => concat!(
                "select * from (select ",
                crate::ledger::redemption_columns!(),
                ", false as is_rollback from redemption where project_id = $1
                 union all
                 select b.rollback_id, r.parent_id, b.result, 'SUCCEEDED', r.related_object_type, r.related_object_id,
                       r.campaign_id, r.customer_id, r.order_id, -r.amount, null, null, null, '[]'::jsonb,
                       b.doc::json, r.voucher_code, r.tracking_id, b.created_at, true
                 from redemption_rollback b join redemption r using (project_id, redemption_id)
                 where b.project_id = $1) entries"
            ),
            Source::Vouchers => {
                concat!(
                    "select ",
                    crate::campaigns::voucher_columns!(),
                    " from voucher v where v.project_id = $1 and v.deleted_at is null"
                )
            }
            Source::Customers => {
                "select customer_id as id, source_id, null::uuid as parent_id, doc, created_at, updated_at
                 from customer where project_id = $1"
            }
            Source::Orders => {
                "select order_id as id, source_id, null::uuid as parent_id, doc, created_at, updated_at
                 from order_record where project_id = $1"
            }
            Source::Products => {
                "select product_id as id, source_id, null::uuid as parent_id, doc, created_at, updated_at
                 from product where project_id = $1"
            }
            Source::Skus => {
                "select sku_id as id, source_id, product_id as parent_id, doc, created_at, updated_at
                 from sku where project_id = $1"
            }
            Source::Publications => {
                concat!(
                    "select ",
                    crate::publications::publication_columns!(),
                    " from publication where project_id = $1"
                )
            }
        }
    }
}

/// A batch of rows as their source reads them.
pub enum Batch {
    Redemptions(Vec<RedemptionRow>),
    Vouchers(Vec<VoucherRow>),
    Docs(Vec<DocRow>),
    Publications(Vec<PublicationRow>),
}

fn batch_of(source: Source, rows: Vec<PgRow>) -> Result<Batch, sqlx::Error> {
    fn read<T: for<'r> FromRow<'r, PgRow>>(rows: &[PgRow]) -> Result<Vec<T>, sqlx::Error> {
        rows.iter().map(T::from_row).collect()
    }
    Ok(match source {
        Source::Redemptions => Batch::Redemptions(read(&rows)?),
        Source::Vouchers => Batch::Vouchers(read(&rows)?),
        Source::Publications => Batch::Publications(read(&rows)?),
        Source::Customers | Source::Orders | Source::Products | Source::Skus => Batch::Docs(read(&rows)?),
    })
}

/// The query reading every row of `source` in the project in `order_by` (from
/// [`Source::order_by`]).
pub fn rows_sql(source: Source, order_by: &str) -> String {
    format!("{} order by {order_by}", source.select())
}

/// The rows an export reads, from one streamed query ([`rows_sql`]): memory holds one batch.
pub struct ExportRows<'a> {
    source: Source,
    rows: futures_util::stream::BoxStream<'a, Result<PgRow, sqlx::Error>>,
}

impl<'a> ExportRows<'a> {
    pub fn open(db: &'a PgPool, sql: &'a str, project: ProjectId, source: Source) -> Self {
        ExportRows { source, rows: sqlx::query(sql).bind(project).fetch(db) }
    }

    /// The next (up to) `size` rows; `None` once all were read.
    pub async fn next_batch(&mut self, size: usize) -> Result<Option<Batch>, StoreError> {
        let mut buffer = Vec::with_capacity(size);
        while buffer.len() < size {
            match self.rows.try_next().await? {
                Some(row) => buffer.push(row),
                None => break,
            }
        }
        if buffer.is_empty() {
            return Ok(None);
        }
        Ok(Some(batch_of(self.source, buffer)?))
    }
}
