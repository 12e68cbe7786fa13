//! Analytics (our extension): series of a campaign, tier or code by day or hour in the
//! project's time zone, and campaigns compared over one window.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Figures of a period (or of the whole window). Amounts in minor units.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Figures {
    /// The period's local start (`2026-12-04` for a day, `2026-12-04T13:00` for an hour);
    /// absent in totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    pub validations: i64,
    pub validations_succeeded: i64,
    pub validations_failed: i64,
    /// Successful redemptions (each an order).
    pub redemptions: i64,
    /// Failed redemptions (any reason; see `failures` for the reasons).
    pub redemptions_failed: i64,
    pub rollbacks: i64,
    /// Order amounts before the discount.
    pub orders_amount: i64,
    /// The discount given (the promotion's cost).
    pub discount_amount: i64,
    /// What the orders brought in after the discount.
    pub revenue: i64,
    pub rolled_back_orders_amount: i64,
    pub rolled_back_discount_amount: i64,
    /// Average order amount before / after the discount (0 without orders).
    pub average_order_amount: i64,
    pub average_order_amount_after_discount: i64,
    /// Customers whose first successful redemption in the project was this object's, in this
    /// period (counted once folded, within seconds of the redemption).
    pub new_customers: i64,
    /// Successful redemptions naming a customer that were the customer's first / that came
    /// after an earlier one (folded ones; anonymous redemptions are in neither).
    pub redemptions_by_new_customers: i64,
    pub redemptions_by_returning_customers: i64,
    /// Profit impact where costs are known: redemptions whose order's every line has a unit
    /// `cost` in the catalog, net of their rollbacks (a rollback takes its redemption back in
    /// the rollback's period), with their order amounts, discounts and the orders' cost.
    pub costed_redemptions: i64,
    pub costed_orders_amount: i64,
    pub costed_discount_amount: i64,
    pub cost_amount: i64,
    /// `costed_orders_amount − costed_discount_amount − cost_amount`.
    pub profit: i64,
}

/// Failed redemptions with one failure code.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailureCount {
    pub failure_code: String,
    pub count: i64,
}

/// `GET /v1/analytics/series`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesOut {
    pub object: &'static str,
    /// The campaign (`camp_`), tier (`promo_`) or code (`v_`).
    pub object_id: String,
    /// `day` or `hour`.
    pub interval: String,
    pub time_zone: String,
    #[schema(format = Date)]
    pub start_date: String,
    #[schema(format = Date)]
    pub end_date: String,
    pub totals: Figures,
    /// Every period of the window, in order (empty ones as zeros).
    pub data: Vec<Figures>,
    /// Failed redemptions in the window by reason, most frequent first.
    pub failures: Vec<FailureCount>,
}

/// One campaign of a comparison.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparedCampaign {
    pub campaign_id: String,
    pub name: String,
    pub totals: Figures,
    pub data: Vec<Figures>,
}

/// `GET /v1/analytics/campaigns`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparisonOut {
    pub object: &'static str,
    pub interval: String,
    pub time_zone: String,
    #[schema(format = Date)]
    pub start_date: String,
    #[schema(format = Date)]
    pub end_date: String,
    pub campaigns: Vec<ComparedCampaign>,
}

/// The window and its grain: whole days `start_date..=end_date` in the project's time zone
/// (default: the last 30 days), by `day` (default) or `hour`; `format=csv` for a CSV.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    #[param(format = Date)]
    pub start_date: Option<String>,
    #[param(format = Date)]
    pub end_date: Option<String>,
    /// `day` (up to 366 days) or `hour` (up to 31 days).
    pub interval: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// `GET /v1/analytics/series` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// A campaign (`camp_…` or its name), tier (`promo_…`) or code (`v_…` or the code).
    pub object_id: String,
}

/// `GET /v1/analytics/campaigns` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComparisonQuery {
    /// Campaign ids or names, comma-separated (up to 20).
    pub campaigns: String,
}
