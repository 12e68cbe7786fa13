//! Analytics: a campaign's, tier's or code's figures by day or hour in the project's time zone,
//! and campaigns compared over one window. Read from 15-minute buckets the redemption deltas and
//! the validation tally fill (never by scanning the ledger), so a 90-day series costs the same
//! at a million redemptions as at ten; failures by reason come from a partial index of the
//! failed redemptions only.

use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::analytics::{ComparedCampaign, ComparisonOut, FailureCount, Figures, SeriesOut, WindowQuery};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use promo_store::analytics::{self as store, PeriodRow};
use std::collections::HashMap;

/// Longest windows answered.
const MAX_DAYS: i64 = 366;
const MAX_HOURLY_DAYS: i64 = 31;
/// Campaigns compared at most at once.
const MAX_COMPARED: usize = 20;

fn query_error(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKey::InvalidQueryParams).details(details)
}

/// A window: local days, their UTC bounds, the grain and the periods it has.
pub(crate) struct Window {
    tz: Tz,
    start: NaiveDate,
    end: NaiveDate,
    hourly: bool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    pub csv: bool,
}

fn local_start(tz: Tz, day: NaiveDate) -> Option<DateTime<Utc>> {
    day.and_hms_opt(0, 0, 0)?.and_local_timezone(tz).earliest().map(|t| t.with_timezone(&Utc))
}

impl Window {
    pub(crate) fn parse(tenant: &Tenant, q: &WindowQuery, now: DateTime<Utc>) -> Result<Window, ApiError> {
        let tz: Tz = tenant.project.timezone.parse().unwrap_or(chrono_tz::UTC);
        let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty() && v != "None");
        // dates far from now have no figures and would only risk overflows
        let day = |name: &str, v: String| {
            NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .ok()
                .filter(|d| (1970..=9000).contains(&chrono::Datelike::year(d)))
                .ok_or_else(|| query_error(format!("{name} must be a date (YYYY-MM-DD) between 1970 and 9000")))
        };
        let today = now.with_timezone(&tz).date_naive();
        let end = given(&q.end_date).map(|v| day("end_date", v)).transpose()?.unwrap_or(today);
        let start = match given(&q.start_date) {
            Some(v) => day("start_date", v)?,
            None => end.checked_sub_signed(Duration::days(29)).unwrap_or(end),
        };
        if start > end {
            return Err(query_error("start_date must not be after end_date"));
        }
        let hourly = match given(&q.interval).as_deref() {
            None | Some("day") => false,
            Some("hour") => true,
            Some(other) => return Err(query_error(format!("interval `{other}` must be day or hour"))),
        };
        let csv = match given(&q.format).as_deref() {
            None | Some("json") => false,
            Some("csv") => true,
            Some(other) => return Err(query_error(format!("format `{other}` must be json or csv"))),
        };
        let days = (end - start).num_days() + 1;
        let max = if hourly { MAX_HOURLY_DAYS } else { MAX_DAYS };
        if days > max {
            return Err(query_error(format!(
                "the window is {days} days; at most {max} by {}",
                if hourly { "hour" } else { "day" }
            )));
        }
        let (from, to) = match (local_start(tz, start), end.succ_opt().and_then(|d| local_start(tz, d))) {
            (Some(f), Some(t)) => (f, t),
            _ => return Err(query_error("the window is out of range")),
        };
        Ok(Window { tz, start, end, hourly, from, to, csv })
    }

    fn unit(&self) -> &'static str {
        if self.hourly { "hour" } else { "day" }
    }

    /// The local starts of every period of the window.
    fn periods(&self) -> Vec<NaiveDateTime> {
        let mut out = Vec::new();
        let mut day = self.start;
        while day <= self.end {
            let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
            if self.hourly {
                // a day of 23 or 25 hours has as many local hours (the series' rows group by them)
                out.extend((0..24).map(|h| midnight + Duration::hours(h)));
            } else {
                out.push(midnight);
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        out
    }

    fn label(&self, period: NaiveDateTime) -> String {
        if self.hourly { period.format("%Y-%m-%dT%H:%M").to_string() } else { period.format("%Y-%m-%d").to_string() }
    }
}

fn figures(rows: &[&PeriodRow], period: Option<String>) -> Figures {
    let sum = |f: fn(&PeriodRow) -> i64| rows.iter().map(|r| f(r)).sum::<i64>();
    let (redemptions, orders, discount) = (sum(|r| r.succeeded), sum(|r| r.order_amount), sum(|r| r.discount_amount));
    let (vs, vf) = (sum(|r| r.validations_succeeded), sum(|r| r.validations_failed));
    // half away from zero, as every amount of the service
    let average = |total: i64| if redemptions == 0 { 0 } else { (2 * total + redemptions) / (2 * redemptions) };
    Figures {
        period,
        validations: vs + vf,
        validations_succeeded: vs,
        validations_failed: vf,
        redemptions,
        redemptions_failed: sum(|r| r.failed),
        rollbacks: sum(|r| r.rolled_back),
        orders_amount: orders,
        discount_amount: discount,
        revenue: orders - discount,
        rolled_back_orders_amount: sum(|r| r.rolled_back_order_amount),
        rolled_back_discount_amount: sum(|r| r.rolled_back_discount_amount),
        average_order_amount: average(orders),
        average_order_amount_after_discount: average(orders - discount),
        new_customers: sum(|r| r.new_customers),
        redemptions_by_new_customers: sum(|r| r.first_redemptions),
        redemptions_by_returning_customers: sum(|r| r.identified - r.first_redemptions),
        costed_redemptions: sum(|r| r.costed),
        costed_orders_amount: sum(|r| r.costed_order_amount),
        costed_discount_amount: sum(|r| r.costed_discount_amount),
        cost_amount: sum(|r| r.cost_amount),
        profit: sum(|r| r.costed_order_amount - r.costed_discount_amount - r.cost_amount),
    }
}

/// Every period of the window (zeros where nothing happened) and the totals, for one object.
fn series_of(w: &Window, rows: &[PeriodRow], object: &str) -> (Figures, Vec<Figures>) {
    let mut by_period: HashMap<NaiveDateTime, Vec<&PeriodRow>> = HashMap::new();
    for r in rows.iter().filter(|r| r.object_id == object) {
        by_period.entry(r.period).or_default().push(r);
    }
    let all: Vec<&PeriodRow> = by_period.values().flatten().copied().collect();
    let data = w
        .periods()
        .into_iter()
        .map(|p| figures(by_period.get(&p).map(Vec::as_slice).unwrap_or_default(), Some(w.label(p))))
        .collect();
    (figures(&all, None), data)
}

/// The object named: a campaign (id or name), a tier, or a code (id or code).
async fn object_id(app: &AppState, tenant: &Tenant, raw: &str) -> Result<String, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    if raw.starts_with(ids::TIER) {
        let (tier, _) = crate::services::campaigns::find_tier(&mut conn, tenant.id(), raw).await?;
        return Ok(ids::wire(ids::TIER, tier.tier_id));
    }
    if let Ok(c) = crate::services::campaigns::find_campaign(&mut conn, tenant.id(), raw).await {
        return Ok(ids::wire(ids::CAMPAIGN, c.campaign_id));
    }
    let v = crate::services::vouchers::find_voucher(&mut conn, tenant, raw)
        .await
        .map_err(|_| ApiError::not_found("campaign, promotion tier or voucher", raw))?;
    Ok(ids::wire(ids::VOUCHER, v.voucher_id))
}

/// The rows with each object's failed redemptions per period added.
async fn with_failures(
    conn: &mut promo_store::PoolConnection,
    tenant: &Tenant,
    w: &Window,
    mut rows: Vec<PeriodRow>,
    objects: &[String],
) -> Result<Vec<PeriodRow>, ApiError> {
    for object in objects {
        let failed =
            store::failures_by_period(&mut **conn, tenant.id(), object, w.tz.name(), w.unit(), w.from, w.to).await?;
        rows.extend(failed.into_iter().map(|(period, failed)| PeriodRow {
            object_id: object.clone(),
            period,
            failed,
            ..PeriodRow::default()
        }));
    }
    Ok(rows)
}

/// A campaign's, tier's or code's series.
pub(crate) async fn series(app: &AppState, tenant: &Tenant, raw: &str, w: &Window) -> Result<SeriesOut, ApiError> {
    let object = object_id(app, tenant, raw).await?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let rows =
        store::series(&mut *conn, tenant.id(), std::slice::from_ref(&object), w.tz.name(), w.unit(), w.from, w.to)
            .await?;
    let failures = store::failures(&mut *conn, tenant.id(), &object, w.from, w.to).await?;
    let rows = with_failures(&mut conn, tenant, w, rows, std::slice::from_ref(&object)).await?;
    let (totals, data) = series_of(w, &rows, &object);
    Ok(SeriesOut {
        object: "analytics_series",
        object_id: object,
        interval: w.unit().into(),
        time_zone: w.tz.name().into(),
        start_date: w.start.to_string(),
        end_date: w.end.to_string(),
        totals,
        data,
        failures: failures.into_iter().map(|(failure_code, count)| FailureCount { failure_code, count }).collect(),
    })
}

/// Campaigns compared over one window.
pub(crate) async fn compare(
    app: &AppState,
    tenant: &Tenant,
    list: &str,
    w: &Window,
) -> Result<ComparisonOut, ApiError> {
    let names: Vec<&str> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if names.is_empty() || names.len() > MAX_COMPARED {
        return Err(query_error(format!("campaigns must name 1 to {MAX_COMPARED} campaigns, comma-separated")));
    }
    let mut conn = promo_store::acquire(&app.db).await?;
    let mut campaigns = Vec::with_capacity(names.len());
    for n in &names {
        let c = crate::services::campaigns::find_campaign(&mut conn, tenant.id(), n).await?;
        let id = ids::wire(ids::CAMPAIGN, c.campaign_id);
        // one campaign named twice (by id and by name) is compared once
        if !campaigns.iter().any(|(seen, _)| *seen == id) {
            campaigns.push((id, c.name));
        }
    }
    let objects: Vec<String> = campaigns.iter().map(|(id, _)| id.clone()).collect();
    let rows = store::series(&mut *conn, tenant.id(), &objects, w.tz.name(), w.unit(), w.from, w.to).await?;
    let rows = with_failures(&mut conn, tenant, w, rows, &objects).await?;
    Ok(ComparisonOut {
        object: "analytics_comparison",
        interval: w.unit().into(),
        time_zone: w.tz.name().into(),
        start_date: w.start.to_string(),
        end_date: w.end.to_string(),
        campaigns: campaigns
            .into_iter()
            .map(|(campaign_id, name)| {
                let (totals, data) = series_of(w, &rows, &campaign_id);
                ComparedCampaign { campaign_id, name, totals, data }
            })
            .collect(),
    })
}

const CSV_HEADER: [&str; 22] = [
    "Period",
    "Validations",
    "Validations Succeeded",
    "Validations Failed",
    "Redemptions",
    "Failed Redemptions",
    "Rollbacks",
    "Orders Amount",
    "Discount Amount",
    "Revenue",
    "Rolled Back Orders Amount",
    "Rolled Back Discount Amount",
    "Average Order Amount",
    "Average Order Amount After Discount",
    "New Customers",
    "Redemptions By New Customers",
    "Redemptions By Returning Customers",
    "Costed Redemptions",
    "Costed Orders Amount",
    "Costed Discount Amount",
    "Cost Amount",
    "Profit",
];

fn csv_record(f: &Figures) -> Vec<String> {
    let mut r = vec![f.period.clone().unwrap_or_default()];
    r.extend(
        [
            f.validations,
            f.validations_succeeded,
            f.validations_failed,
            f.redemptions,
            f.redemptions_failed,
            f.rollbacks,
            f.orders_amount,
            f.discount_amount,
            f.revenue,
            f.rolled_back_orders_amount,
            f.rolled_back_discount_amount,
            f.average_order_amount,
            f.average_order_amount_after_discount,
            f.new_customers,
            f.redemptions_by_new_customers,
            f.redemptions_by_returning_customers,
            f.costed_redemptions,
            f.costed_orders_amount,
            f.costed_discount_amount,
            f.cost_amount,
            f.profit,
        ]
        .map(|n| n.to_string()),
    );
    r
}

/// A series as CSV: one row per period.
pub(crate) fn series_csv(s: &SeriesOut) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER).map_err(ApiError::internal)?;
    for f in &s.data {
        w.write_record(csv_record(f)).map_err(ApiError::internal)?;
    }
    w.into_inner().map_err(|e| ApiError::internal(e.into_error()))
}

/// A comparison as CSV: one row per campaign and period.
pub(crate) fn comparison_csv(c: &ComparisonOut) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["Campaign Id", "Campaign"].into_iter().chain(CSV_HEADER)).map_err(ApiError::internal)?;
    for campaign in &c.campaigns {
        for f in &campaign.data {
            let record = [campaign.campaign_id.clone(), campaign.name.clone()].into_iter().chain(csv_record(f));
            w.write_record(record).map_err(ApiError::internal)?;
        }
    }
    w.into_inner().map_err(|e| ApiError::internal(e.into_error()))
}
