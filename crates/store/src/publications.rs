//! Publications: codes handed to customers (the code's holder), and the customer wallet.

use crate::ProjectId;
use crate::campaigns::VoucherRow;
use crate::{Json, Page, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

/// Hands up to `count` free codes of a campaign (oldest first) to `customer`. Codes another
/// publication is taking at the same moment are skipped, not waited for, so two concurrent
/// publications never get the same code.
pub async fn take_free_codes(
    db: &mut PgConnection,
    project: ProjectId,
    campaign: Uuid,
    customer: Uuid,
    count: i64,
) -> Result<Vec<VoucherRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "with picked as (
           select voucher_id from voucher
           where project_id = $1 and campaign_id = $2 and holder_id is null and deleted_at is null and active
           order by created_at, voucher_id limit $4 for update skip locked)
         update voucher v set holder_id = $3, publish_count = v.publish_count + 1, updated_at = now()
         from picked where v.project_id = $1 and v.voucher_id = picked.voucher_id
         returning ",
        crate::campaigns::voucher_columns!()
    ))
    .bind(project)
    .bind(campaign)
    .bind(customer)
    .bind(count)
    .fetch_all(db)
    .await?)
}

/// Publishes one code to `customer`. With `hold`, the customer becomes its holder, unless
/// another customer already is (then `None`); without, the code stays shared (a generic code).
pub async fn publish_code(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    voucher: Uuid,
    customer: Uuid,
    hold: bool,
) -> Result<Option<VoucherRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "update voucher v set publish_count = v.publish_count + 1, updated_at = now(),
                holder_id = case when $4 then $3 else v.holder_id end
         where v.project_id = $1 and v.voucher_id = $2 and v.deleted_at is null
           and (not $4 or v.holder_id is null or v.holder_id = $3)
         returning ",
        crate::campaigns::voucher_columns!()
    ))
    .bind(project)
    .bind(voucher)
    .bind(customer)
    .bind(hold)
    .fetch_optional(db)
    .await?)
}

/// Ends the codes' validity at `until` (or earlier, where they already end earlier): a
/// campaign's `activity_duration_after_publishing` counted from their first publication.
pub async fn expire_published(
    db: &mut PgConnection,
    project: ProjectId,
    vouchers: &[Uuid],
    until: DateTime<Utc>,
) -> Result<Vec<VoucherRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "update voucher v set doc = jsonb_set(v.doc, '{expiration_date}', to_jsonb($3::text)), updated_at = now()
         where v.project_id = $1 and v.voucher_id = any($2)
           and (v.doc->>'expiration_date' is null or (v.doc->>'expiration_date')::timestamptz > $4)
         returning ",
        crate::campaigns::voucher_columns!()
    ))
    .bind(project)
    .bind(vouchers)
    .bind(until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    .bind(until)
    .fetch_all(db)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicationRow {
    pub publication_id: Uuid,
    pub voucher_ids: Vec<Uuid>,
    pub customer_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub source_id: Option<String>,
    pub doc: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// The columns of [`PublicationRow`] (a literal, for `concat!`).
macro_rules! publication_columns {
    () => {
        "publication_id, voucher_ids, customer_id, campaign_id, source_id, doc, created_at"
    };
}
pub(crate) use publication_columns;

pub struct NewPublication<'a> {
    pub id: Uuid,
    pub voucher_ids: &'a [Uuid],
    pub customer: Uuid,
    pub campaign: Option<Uuid>,
    pub source_id: Option<&'a str>,
    pub doc: &'a serde_json::Value,
}

pub async fn insert(db: impl PgExecutor<'_>, project: ProjectId, p: &NewPublication<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "insert into publication (project_id, publication_id, voucher_id, voucher_ids, customer_id, campaign_id,
                                  source_id, doc)
         values ($1, $2, $3[1], $3, $4, $5, $6, $7)",
    )
    .bind(project)
    .bind(p.id)
    .bind(p.voucher_ids)
    .bind(p.customer)
    .bind(p.campaign)
    .bind(p.source_id)
    .bind(Json(p.doc))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn by_source_id(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    source_id: &str,
) -> Result<Option<PublicationRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        publication_columns!(),
        " from publication where project_id = $1 and source_id = $2"
    ))
    .bind(project)
    .bind(source_id)
    .fetch_optional(db)
    .await?)
}

/// The customer's first publication from a campaign (`join_once`).
pub async fn first_from_campaign(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    campaign: Uuid,
    customer: Uuid,
) -> Result<Option<PublicationRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "select ",
        publication_columns!(),
        " from publication where project_id = $1 and campaign_id = $2 and customer_id = $3
         order by created_at, publication_id limit 1"
    ))
    .bind(project)
    .bind(campaign)
    .bind(customer)
    .fetch_optional(db)
    .await?)
}

/// Serializes publications of one customer from one campaign (`join_once`), until commit.
pub async fn lock_customer_in_campaign(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    campaign: Uuid,
    customer: Uuid,
) -> Result<(), StoreError> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1::text || $2::text || $3::text, 0))")
        .bind(project)
        .bind(campaign)
        .bind(customer)
        .execute(db)
        .await?;
    Ok(())
}

/// Filters of the publications list.
#[derive(Debug, Clone, Default)]
pub struct PublicationFilter {
    pub customer: Option<Uuid>,
    pub campaign: Option<Uuid>,
    pub voucher: Option<Uuid>,
    pub source_id: Option<String>,
}

/// Newest first.
pub async fn list(
    db: &mut PgConnection,
    project: ProjectId,
    f: &PublicationFilter,
    page: Page,
) -> Result<(Vec<PublicationRow>, i64), StoreError> {
    let matching = |head: &'static str| {
        let mut q = QueryBuilder::<Postgres>::new(head);
        q.push(" from publication where project_id = ").push_bind(project);
        if let Some(v) = f.customer {
            q.push(" and customer_id = ").push_bind(v);
        }
        if let Some(v) = f.campaign {
            q.push(" and campaign_id = ").push_bind(v);
        }
        if let Some(v) = f.voucher {
            q.push(" and ").push_bind(v).push(" = any(voucher_ids)");
        }
        if let Some(v) = &f.source_id {
            q.push(" and source_id = ").push_bind(v);
        }
        q
    };
    crate::built_page_and_total(
        db,
        matching,
        (concat!("select ", publication_columns!()), "created_at desc, publication_id desc"),
        page,
    )
    .await
}
