//! Campaigns, their vouchers and their promotion tiers.

use crate::ProjectId;
use crate::{Binds, Json, ListSql, Page, StoreError, page_and_total};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRow {
    pub campaign_id: Uuid,
    pub name: String,
    pub campaign_type: String,
    pub type_: String,
    pub active: bool,
    pub category_id: Option<Uuid>,
    pub doc: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub vouchers_count: i64,
    /// `DONE`, or `IN_PROGRESS` while an async action generates its codes.
    pub vouchers_generation_status: String,
}

/// The columns of [`CampaignRow`], for a query over `campaign c` (a literal, for `concat!`).
macro_rules! campaign_columns {
    () => {
        "c.campaign_id, c.name, c.campaign_type, c.type as type_, c.active, c.category_id, c.doc, c.created_at, c.updated_at,
    (select count(*) from voucher v where v.project_id = c.project_id and v.campaign_id = c.campaign_id) as vouchers_count,
    c.vouchers_generation_status"
    };
}

/// The indexed columns of a campaign.
#[derive(Debug, Clone)]
pub struct CampaignKeys<'a> {
    pub name: &'a str,
    pub campaign_type: &'a str,
    pub type_: &'a str,
    pub active: bool,
    pub category_id: Option<Uuid>,
}

pub async fn insert_campaign(
    db: &mut PgConnection,
    project: ProjectId,
    id: Uuid,
    k: &CampaignKeys<'_>,
    doc: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into campaign (project_id, campaign_id, name, campaign_type, type, active, category_id, doc)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(project)
    .bind(id)
    .bind(k.name)
    .bind(k.campaign_type)
    .bind(k.type_)
    .bind(k.active)
    .bind(k.category_id)
    .bind(Json(doc))
    .execute(db)
    .await?;
    Ok(())
}

/// By id, or by name when `id` is `None`.
pub async fn get_campaign(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Option<Uuid>,
    name: Option<&str>,
) -> Result<Option<CampaignRow>, StoreError> {
    Ok(sqlx::query_as::<_, CampaignRow>(concat!(
        "select ",
        campaign_columns!(),
        " from campaign c where c.project_id = $1 and c.deleted_at is null and ",
        crate::id_or_key!("campaign", "campaign_id", "name")
    ))
    .bind(project)
    .bind(id)
    .bind(name)
    .fetch_optional(db)
    .await?)
}

pub async fn list_campaigns(
    db: &mut PgConnection,
    project: ProjectId,
    campaign_type: Option<&str>,
    name_contains: Option<&str>,
    page: Page,
) -> Result<(Vec<CampaignRow>, i64), StoreError> {
    // the optional filters are null when not asked for; `name_contains` is a literal substring
    const FILTERED: ListSql = ListSql {
        rows: concat!(
            "select ",
            campaign_columns!(),
            " from campaign c where c.project_id = $1 and c.deleted_at is null
               and ($2::text is null or c.campaign_type = $2)
               and ($3::text is null or strpos(lower(c.name), lower($3)) > 0)
             order by c.created_at desc, c.campaign_id desc limit $4 offset $5"
        ),
        count: "select count(*) from campaign c where c.project_id = $1 and c.deleted_at is null
                  and ($2::text is null or c.campaign_type = $2)
                  and ($3::text is null or strpos(lower(c.name), lower($3)) > 0)",
    };
    let binds = Binds::default().with(project)?.with(campaign_type)?.with(name_contains)?;
    page_and_total(db, FILTERED, binds, page).await
}

pub async fn update_campaign(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    k: &CampaignKeys<'_>,
    doc: &serde_json::Value,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "update campaign set name = $3, type = $4, active = $5, category_id = $6, doc = $7, updated_at = now()
         where project_id = $1 and campaign_id = $2",
    )
    .bind(project)
    .bind(id)
    .bind(k.name)
    .bind(k.type_)
    .bind(k.active)
    .bind(k.category_id)
    .bind(Json(doc))
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_campaign_active(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    active: bool,
) -> Result<bool, StoreError> {
    Ok(sqlx::query("update campaign set active = $3, updated_at = now() where project_id = $1 and campaign_id = $2")
        .bind(project)
        .bind(id)
        .bind(active)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

/// Moves a campaign and its codes to the bin: hidden and unusable, the codes still reserved.
pub async fn bin_campaign(db: &mut PgConnection, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    sqlx::query(
        "update voucher set deleted_at = now(), active = false
         where project_id = $1 and campaign_id = $2 and deleted_at is null",
    )
    .bind(project)
    .bind(id)
    .execute(&mut *db)
    .await?;
    Ok(sqlx::query(
        "update campaign set deleted_at = now(), active = false, updated_at = now()
         where project_id = $1 and campaign_id = $2 and deleted_at is null",
    )
    .bind(project)
    .bind(id)
    .execute(&mut *db)
    .await?
    .rows_affected()
        == 1)
}

/// Deletes a campaign with its vouchers and tiers, for good.
pub async fn delete_campaign(db: &mut PgConnection, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    sqlx::query("delete from voucher where project_id = $1 and campaign_id = $2")
        .bind(project)
        .bind(id)
        .execute(&mut *db)
        .await?;
    Ok(sqlx::query("delete from campaign where project_id = $1 and campaign_id = $2")
        .bind(project)
        .bind(id)
        .execute(&mut *db)
        .await?
        .rows_affected()
        == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VoucherRow {
    pub voucher_id: Uuid,
    pub code: String,
    pub campaign_id: Option<Uuid>,
    pub campaign_name: Option<String>,
    pub active: bool,
    pub holder_id: Option<Uuid>,
    pub doc: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub publish_count: i32,
    /// Units redeemed and not rolled back: the quantity counter the redemption statement claims
    /// when the voucher has a limit, else its successful redemptions in the ledger. `None` where
    /// a query does not read it (checkout reads its counters apart).
    #[sqlx(default)]
    pub redeemed_quantity: Option<i64>,
    /// Units live LOCK sessions hold on its quantity counter (not redeemed yet). `None` where a
    /// query does not read it.
    #[sqlx(default)]
    pub reserved_quantity: Option<i64>,
}

/// A voucher's quantity counter key around its wire id (`v_` and the hex of its uuid): the
/// engine's `CounterKey::voucher_quantity` written out (an API test pins the two together).
pub const VOUCHER_QUANTITY_KEY: (&str, &str) = ("redeemable:v_", "||redemptions|total");

/// The columns of [`VoucherRow`], for a query over `voucher v` (a literal, for `concat!`): the
/// counter key is [`VOUCHER_QUANTITY_KEY`] around the voucher's id.
macro_rules! voucher_columns {
    () => {
        "v.voucher_id, v.code, v.campaign_id, (select c.name from campaign c where c.project_id = v.project_id and c.campaign_id = v.campaign_id) as campaign_name,
    v.active, v.holder_id, v.doc, v.created_at, v.updated_at, v.publish_count,
    coalesce((select k.value from counter k where k.project_id = v.project_id
              and k.counter_key = 'redeemable:v_' || replace(v.voucher_id::text, '-', '') || '||redemptions|total'),
             (select count(*) from redemption r where r.project_id = v.project_id
              and r.related_object_id = 'v_' || replace(v.voucher_id::text, '-', '')
              and r.status = 'SUCCEEDED')) as redeemed_quantity,
    (select coalesce(sum(s.amount), 0)::bigint from session_reservation s where s.project_id = v.project_id
       and s.counter_key = 'redeemable:v_' || replace(v.voucher_id::text, '-', '') || '||redemptions|total'
       and s.expires_at > now()) as reserved_quantity"
    };
}
pub(crate) use voucher_columns;

/// Inserts a voucher unless its code is taken; returns whether it was inserted.
#[expect(clippy::too_many_arguments, reason = "one column each; a struct would only rename them")]
pub async fn insert_voucher(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    code: &str,
    code_key: &str,
    campaign: Option<Uuid>,
    active: bool,
    doc: &serde_json::Value,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "insert into voucher (project_id, voucher_id, code, code_key, campaign_id, active, doc)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (project_id, code_key) do nothing",
    )
    .bind(project)
    .bind(id)
    .bind(code)
    .bind(code_key)
    .bind(campaign)
    .bind(active)
    .bind(Json(doc))
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// By id, or by code key.
pub async fn get_voucher(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Option<Uuid>,
    code_key: &str,
) -> Result<Option<VoucherRow>, StoreError> {
    Ok(sqlx::query_as::<_, VoucherRow>(concat!(
        "select ",
        voucher_columns!(),
        " from voucher v where v.project_id = $1 and v.deleted_at is null and ",
        crate::id_or_key!("voucher", "voucher_id", "code_key")
    ))
    .bind(project)
    .bind(id)
    .bind(code_key)
    .fetch_optional(db)
    .await?)
}

pub async fn list_vouchers(
    db: &mut PgConnection,
    project: ProjectId,
    campaign: Option<Uuid>,
    page: Page,
) -> Result<(Vec<VoucherRow>, i64), StoreError> {
    const ALL: ListSql = ListSql {
        rows: concat!(
            "select ",
            voucher_columns!(),
            " from voucher v where v.project_id = $1 and v.deleted_at is null
             order by v.created_at desc, v.voucher_id desc limit $2 offset $3"
        ),
        count: "select count(*) from voucher v where v.project_id = $1 and v.deleted_at is null",
    };
    const OF_CAMPAIGN: ListSql = ListSql {
        rows: concat!(
            "select ",
            voucher_columns!(),
            " from voucher v where v.project_id = $1 and v.deleted_at is null and v.campaign_id = $2
             order by v.created_at desc, v.voucher_id desc limit $3 offset $4"
        ),
        count: "select count(*) from voucher v where v.project_id = $1 and v.deleted_at is null and v.campaign_id = $2",
    };
    match campaign {
        None => page_and_total(db, ALL, Binds::default().with(project)?, page).await,
        Some(c) => page_and_total(db, OF_CAMPAIGN, Binds::default().with(project)?.with(c)?, page).await,
    }
}

pub async fn update_voucher(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    active: bool,
    doc: &serde_json::Value,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "update voucher set active = $3, doc = $4, updated_at = now() where project_id = $1 and voucher_id = $2",
    )
    .bind(project)
    .bind(id)
    .bind(active)
    .bind(Json(doc))
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Deletes a code for good; a campaign's code leaves a row in the activity log (when it was
/// created and when it left: binned earlier, or now) so the campaign summary still counts it.
pub async fn delete_voucher(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    let deleted: i64 = sqlx::query_scalar(
        "with gone as (
             delete from voucher where project_id = $1 and voucher_id = $2
             returning voucher_id, campaign_id, created_at, deleted_at
         ), logged as (
             insert into activity_log (project_id, activity_id, object_type, object_id, action, data)
             select $1, $3, 'voucher', 'v_' || replace(voucher_id::text, '-', ''), 'deleted',
                    jsonb_build_object('campaign_id', campaign_id, 'created_at', created_at,
                                       'deleted_at', coalesce(deleted_at, now()))
               from gone where campaign_id is not null
         )
         select count(*) from gone",
    )
    .bind(project)
    .bind(id)
    .bind(crate::new_id())
    .fetch_one(db)
    .await?;
    Ok(deleted == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TierRow {
    pub tier_id: Uuid,
    pub campaign_id: Uuid,
    pub hierarchy: i32,
    pub active: bool,
    pub doc: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The columns of [`TierRow`] (a literal, for `concat!`).
macro_rules! tier_columns {
    () => {
        "tier_id, campaign_id, hierarchy, active, doc, created_at, updated_at"
    };
}

/// Inserts a tier; `hierarchy` `None` takes the next one in the campaign.
pub async fn insert_tier(
    db: &mut PgConnection,
    project: ProjectId,
    id: Uuid,
    campaign: Uuid,
    hierarchy: Option<i32>,
    active: bool,
    doc: &serde_json::Value,
) -> Result<TierRow, StoreError> {
    Ok(sqlx::query_as::<_, TierRow>(concat!(
        "insert into promotion_tier (project_id, tier_id, campaign_id, hierarchy, active, doc)
         values ($1, $2, $3, coalesce($4, (select coalesce(max(hierarchy), 0) + 1 from promotion_tier where project_id = $1 and campaign_id = $3)), $5, $6)
         returning ",
        tier_columns!()
    ))
    .bind(project)
    .bind(id)
    .bind(campaign)
    .bind(hierarchy)
    .bind(active)
    .bind(Json(doc))
    .fetch_one(db)
    .await?)
}

pub async fn get_tier(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<Option<TierRow>, StoreError> {
    Ok(sqlx::query_as::<_, TierRow>(concat!(
        "select ",
        tier_columns!(),
        " from promotion_tier where project_id = $1 and tier_id = $2
           and exists (select 1 from campaign c where c.project_id = promotion_tier.project_id and c.campaign_id = promotion_tier.campaign_id and c.deleted_at is null)"
    ))
    .bind(project)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// The tiers of several campaigns at once (a page of campaigns), by campaign and hierarchy.
pub async fn tiers_of(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    campaigns: &[Uuid],
) -> Result<Vec<TierRow>, StoreError> {
    Ok(sqlx::query_as::<_, TierRow>(concat!(
        "select ",
        tier_columns!(),
        " from promotion_tier where project_id = $1 and campaign_id = any($2)
         order by campaign_id, hierarchy, tier_id"
    ))
    .bind(project)
    .bind(campaigns)
    .fetch_all(db)
    .await?)
}

/// Several campaigns by id (the owners of a page of tiers); deleted ones are left out.
pub async fn campaigns_by_ids(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    ids: &[Uuid],
) -> Result<Vec<CampaignRow>, StoreError> {
    Ok(sqlx::query_as::<_, CampaignRow>(concat!(
        "select ",
        campaign_columns!(),
        " from campaign c where c.project_id = $1 and c.campaign_id = any($2) and c.deleted_at is null"
    ))
    .bind(project)
    .bind(ids)
    .fetch_all(db)
    .await?)
}

/// Tiers of one campaign (by hierarchy) or of the project.
pub async fn list_tiers(
    db: &mut PgConnection,
    project: ProjectId,
    campaign: Option<Uuid>,
    page: Page,
) -> Result<(Vec<TierRow>, i64), StoreError> {
    /// The tier's campaign is not in the bin.
    macro_rules! campaign_live {
        () => {
            " and exists (select 1 from campaign c where c.project_id = promotion_tier.project_id
                            and c.campaign_id = promotion_tier.campaign_id and c.deleted_at is null)"
        };
    }
    const ALL: ListSql = ListSql {
        rows: concat!(
            "select ",
            tier_columns!(),
            " from promotion_tier where project_id = $1",
            campaign_live!(),
            " order by campaign_id, hierarchy, tier_id limit $2 offset $3"
        ),
        count: concat!("select count(*) from promotion_tier where project_id = $1", campaign_live!()),
    };
    const OF_CAMPAIGN: ListSql = ListSql {
        rows: concat!(
            "select ",
            tier_columns!(),
            " from promotion_tier where project_id = $1 and campaign_id = $2",
            campaign_live!(),
            " order by campaign_id, hierarchy, tier_id limit $3 offset $4"
        ),
        count: concat!(
            "select count(*) from promotion_tier where project_id = $1 and campaign_id = $2",
            campaign_live!()
        ),
    };
    match campaign {
        None => page_and_total(db, ALL, Binds::default().with(project)?, page).await,
        Some(c) => page_and_total(db, OF_CAMPAIGN, Binds::default().with(project)?.with(c)?, page).await,
    }
}

pub async fn update_tier(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    hierarchy: i32,
    active: bool,
    doc: &serde_json::Value,
) -> Result<Option<TierRow>, StoreError> {
    Ok(sqlx::query_as::<_, TierRow>(concat!(
        "update promotion_tier set hierarchy = $3, active = $4, doc = $5, updated_at = now()
         where project_id = $1 and tier_id = $2 returning ",
        tier_columns!()
    ))
    .bind(project)
    .bind(id)
    .bind(hierarchy)
    .bind(active)
    .bind(Json(doc))
    .fetch_optional(db)
    .await?)
}

pub async fn delete_tier(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query("delete from promotion_tier where project_id = $1 and tier_id = $2")
        .bind(project)
        .bind(id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

/// Promotion stacks, kept under their campaign.
pub const STACKS: crate::documents::DocTable = crate::documents::doc_table! {
    table: "promotion_stack", id: "stack_id", source: no, parent: "campaign_id", derived: [],
};

/// Codes of a bulk insert (generation, import, publication of a fresh code).
#[derive(Debug, Clone, Copy)]
pub struct NewCodes<'a> {
    pub ids: &'a [Uuid],
    pub codes: &'a [String],
    /// The codes as compared (see `voucher.code_key`).
    pub keys: &'a [String],
    /// One document per code, or one for all when it has a single element.
    pub docs: &'a [serde_json::Value],
    pub active: &'a [bool],
}

/// Inserts codes in one statement, skipping those whose key is taken; returns the keys inserted.
pub async fn insert_codes(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    campaign: Option<Uuid>,
    holder: Option<Uuid>,
    c: NewCodes<'_>,
) -> Result<Vec<String>, StoreError> {
    let docs: Vec<Json<&serde_json::Value>> = c.docs.iter().map(Json).collect();
    Ok(sqlx::query_scalar(
        "insert into voucher (project_id, voucher_id, code, code_key, campaign_id, active, holder_id, publish_count, doc)
         select $1, u.id, u.code, u.key, $2, coalesce(u.active, true), $3, case when $3::uuid is null then 0 else 1 end,
                case when cardinality($7::jsonb[]) = 1 then ($7::jsonb[])[1] else u.doc end
         from unnest($4::uuid[], $5::text[], $6::text[], $7::jsonb[], $8::bool[]) as u(id, code, key, doc, active)
         where u.id is not null
         on conflict (project_id, code_key) do nothing
         returning code_key",
    )
    .bind(project)
    .bind(campaign)
    .bind(holder)
    .bind(c.ids)
    .bind(c.codes)
    .bind(c.keys)
    .bind(docs)
    .bind(c.active)
    .fetch_all(db)
    .await?)
}

/// Which of these code keys are taken in the project (also by codes in the bin).
pub async fn taken_codes(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    keys: &[String],
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("select code_key from voucher where project_id = $1 and code_key = any($2)")
        .bind(project)
        .bind(keys)
        .fetch_all(db)
        .await?)
}

pub async fn set_generation_status(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    campaign: Uuid,
    status: &str,
) -> Result<(), StoreError> {
    sqlx::query("update campaign set vouchers_generation_status = $3 where project_id = $1 and campaign_id = $2")
        .bind(project)
        .bind(campaign)
        .bind(status)
        .execute(db)
        .await?;
    Ok(())
}

/// A campaign in the bin, by id or name (for deleting it for good).
pub async fn binned_campaign(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Option<Uuid>,
    name: Option<&str>,
) -> Result<Option<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(concat!(
        "select campaign_id from campaign where project_id = $1 and deleted_at is not null and ",
        crate::id_or_key!("campaign", "campaign_id", "name")
    ))
    .bind(project)
    .bind(id)
    .bind(name)
    .fetch_optional(db)
    .await?)
}

/// Whether a campaign exists and is not in the bin (cheap: no counts).
pub async fn campaign_is_live(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from campaign where project_id = $1 and campaign_id = $2 and deleted_at is null)",
    )
    .bind(project)
    .bind(id)
    .fetch_one(db)
    .await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn voucher_reads_use_the_one_quantity_counter_key() {
        let (prefix, suffix) = super::VOUCHER_QUANTITY_KEY;
        let columns = voucher_columns!();
        assert!(columns.contains(&format!("'{prefix}' || replace(v.voucher_id::text, '-', '') || '{suffix}'")));
    }
}

/// A campaign's figures (`GET /v1/campaigns/{id}/summary`) from the analytics buckets and, for
/// failures, the ledger, over
/// `[from, to)` when given: redemptions, rollbacks and their amounts by when they happened,
/// codes by when they were created or binned, publications by when they were made.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct CampaignSummaryRow {
    pub redemptions_succeeded: i64,
    pub redemptions_failed: i64,
    pub orders_amount: i64,
    pub discounted_amount: i64,
    pub rollbacks_succeeded: i64,
    pub rollbacks_failed: i64,
    pub orders_rolledback_amount: i64,
    pub rolledback_discounted_amount: i64,
    pub vouchers_created: i64,
    pub vouchers_deleted: i64,
    pub publications: i64,
}

pub async fn campaign_summary(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    campaign: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<CampaignSummaryRow, StoreError> {
    // successful redemptions and rollbacks from the analytics buckets (and the deltas not folded
    // yet): the same figures as the ledger without reading it; failures from the ledger, through
    // the partial index only failures write to
    Ok(sqlx::query_as(
        "with s as (
             select succeeded, rolled_back, order_amount, discount_amount, rolled_back_order_amount,
                    rolled_back_discount_amount
               from redemption_series
              where project_id = $1 and object_id = 'camp_' || replace($2::text, '-', '')
                and ($3::timestamptz is null or bucket >= $3) and ($4::timestamptz is null or bucket < $4)
             union all
             select succeeded, rolled_back, order_amount, discount_amount, rolled_back_order_amount,
                    rolled_back_discount_amount
               from redemption_stats_delta
              where project_id = $1 and object_id = 'camp_' || replace($2::text, '-', '')
                and ($3::timestamptz is null or bucket >= $3) and ($4::timestamptz is null or bucket < $4)
         ), failed as (
             select count(*) as n from redemption
              where project_id = $1 and result = 'FAILURE' and campaign_id = $2
                and related_object_type <> 'redemption'
                and ($3::timestamptz is null or created_at >= $3) and ($4::timestamptz is null or created_at < $4)
         ), failed_rollbacks as (
             select count(*) as n from redemption_rollback b join redemption r using (project_id, redemption_id)
              where b.project_id = $1 and b.result = 'FAILURE' and r.campaign_id = $2
                and ($3::timestamptz is null or b.created_at >= $3) and ($4::timestamptz is null or b.created_at < $4)
         ), deleted_codes as (
             -- codes deleted for good (see `delete_voucher`)
             select (data ->> 'created_at')::timestamptz as created, (data ->> 'deleted_at')::timestamptz as deleted
               from activity_log
              where project_id = $1 and object_type = 'voucher' and action = 'deleted'
                and data ->> 'campaign_id' = $2::text
         )
         select (select coalesce(sum(succeeded), 0)::bigint from s) as redemptions_succeeded,
                (select n from failed) as redemptions_failed,
                (select coalesce(sum(order_amount), 0)::bigint from s) as orders_amount,
                (select coalesce(sum(discount_amount), 0)::bigint from s) as discounted_amount,
                (select coalesce(sum(rolled_back), 0)::bigint from s) as rollbacks_succeeded,
                (select n from failed_rollbacks) as rollbacks_failed,
                (select coalesce(sum(rolled_back_order_amount), 0)::bigint from s) as orders_rolledback_amount,
                (select coalesce(sum(rolled_back_discount_amount), 0)::bigint from s) as rolledback_discounted_amount,
                (select count(*) from voucher where project_id = $1 and campaign_id = $2
                   and ($3::timestamptz is null or created_at >= $3) and ($4::timestamptz is null or created_at < $4))
                 + (select count(*) from deleted_codes
                     where ($3::timestamptz is null or created >= $3) and ($4::timestamptz is null or created < $4))
                  as vouchers_created,
                (select count(*) from voucher where project_id = $1 and campaign_id = $2 and deleted_at is not null
                   and ($3::timestamptz is null or deleted_at >= $3) and ($4::timestamptz is null or deleted_at < $4))
                 + (select count(*) from deleted_codes
                     where ($3::timestamptz is null or deleted >= $3) and ($4::timestamptz is null or deleted < $4))
                  as vouchers_deleted,
                (select count(*) from publication where project_id = $1 and campaign_id = $2
                   and ($3::timestamptz is null or created_at >= $3) and ($4::timestamptz is null or created_at < $4))
                  as publications",
    )
    .bind(project)
    .bind(campaign)
    .bind(from)
    .bind(to)
    .fetch_one(db)
    .await?)
}
