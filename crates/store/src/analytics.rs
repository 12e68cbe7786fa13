//! Analytics series: redemption figures and validations of objects, summed from 15-minute
//! buckets into days or hours of a time zone; failed redemptions by reason.

use crate::{ProjectId, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::PgExecutor;

/// One object's figures in one period (local start of the day or hour).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct PeriodRow {
    pub object_id: String,
    pub period: NaiveDateTime,
    pub succeeded: i64,
    pub rolled_back: i64,
    pub order_amount: i64,
    pub discount_amount: i64,
    pub rolled_back_order_amount: i64,
    pub rolled_back_discount_amount: i64,
    pub validations_succeeded: i64,
    pub validations_failed: i64,
    /// Folded redemptions that named a customer, those that were the customer's first, and the
    /// customers whose first redemption it was (see the `new_customers` migration).
    pub identified: i64,
    pub first_redemptions: i64,
    pub new_customers: i64,
    /// Redemptions whose order's every line has a known cost, net of their rollbacks, with
    /// their order amounts, discounts and the orders' cost (see the `profit` migration).
    pub costed: i64,
    pub costed_order_amount: i64,
    pub costed_discount_amount: i64,
    pub cost_amount: i64,
    /// Failed redemptions (filled from [`failures_by_period`], not by [`series`]).
    #[sqlx(default)]
    pub failed: i64,
}

/// Figures of `objects` in `[from, to)` by `unit` (`day` or `hour`) of time zone `tz`: folded
/// buckets and the deltas not folded yet, so the series equals the ledger at once.
pub async fn series(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    objects: &[String],
    tz: &str,
    unit: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<PeriodRow>, StoreError> {
    Ok(sqlx::query_as(
        "select object_id, date_trunc($6, bucket at time zone $5) as period,
                sum(succeeded)::bigint as succeeded, sum(rolled_back)::bigint as rolled_back,
                sum(order_amount)::bigint as order_amount, sum(discount_amount)::bigint as discount_amount,
                sum(rolled_back_order_amount)::bigint as rolled_back_order_amount,
                sum(rolled_back_discount_amount)::bigint as rolled_back_discount_amount,
                sum(vs)::bigint as validations_succeeded, sum(vf)::bigint as validations_failed,
                sum(identified)::bigint as identified, sum(first_redemptions)::bigint as first_redemptions,
                sum(new_customers)::bigint as new_customers, sum(costed)::bigint as costed,
                sum(costed_order_amount)::bigint as costed_order_amount,
                sum(costed_discount_amount)::bigint as costed_discount_amount,
                sum(cost_amount)::bigint as cost_amount
           from (select object_id, bucket, succeeded, rolled_back, order_amount, discount_amount,
                        rolled_back_order_amount, rolled_back_discount_amount, 0 as vs, 0 as vf,
                        identified, first_redemptions, new_customers, costed, costed_order_amount,
                        costed_discount_amount, cost_amount
                   from redemption_series
                  where project_id = $1 and object_id = any($2) and bucket >= $3 and bucket < $4
                 union all
                 select object_id, bucket, succeeded, rolled_back, order_amount, discount_amount,
                        rolled_back_order_amount, rolled_back_discount_amount, 0, 0, 0, 0, 0, costed,
                        costed_order_amount, costed_discount_amount, cost_amount
                   from redemption_stats_delta
                  where project_id = $1 and object_id = any($2) and bucket >= $3 and bucket < $4
                 union all
                 select object_id, bucket, 0, 0, 0, 0, 0, 0, succeeded, failed, 0, 0, 0, 0, 0, 0, 0
                   from validation_stats
                  where project_id = $1 and object_id = any($2) and bucket >= $3 and bucket < $4) t
          group by 1, 2 order by 1, 2",
    )
    .bind(project)
    .bind(objects)
    .bind(from)
    .bind(to)
    .bind(tz)
    .bind(unit)
    .fetch_all(db)
    .await?)
}

/// Failed redemptions of an object in `[from, to)` by `unit` of time zone `tz`.
pub async fn failures_by_period(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    object_id: &str,
    tz: &str,
    unit: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(NaiveDateTime, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "select date_trunc($6, created_at at time zone $5), count(*) from redemption
          where project_id = $1 and result = 'FAILURE' and created_at >= $3 and created_at < $4
            and (related_object_id = $2 or 'camp_' || replace(campaign_id::text, '-', '') = $2)
          group by 1 order by 1",
    )
    .bind(project)
    .bind(object_id)
    .bind(from)
    .bind(to)
    .bind(tz)
    .bind(unit)
    .fetch_all(db)
    .await?)
}

/// Failed redemptions of an object (a campaign by its id, a tier or code by theirs) in
/// `[from, to)`, by failure code, most frequent first.
pub async fn failures(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    object_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "select coalesce(failure_code, 'unknown'), count(*) from redemption
          where project_id = $1 and result = 'FAILURE' and created_at >= $3 and created_at < $4
            and (related_object_id = $2 or 'camp_' || replace(campaign_id::text, '-', '') = $2)
          group by 1 order by 2 desc, 1",
    )
    .bind(project)
    .bind(object_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?)
}
