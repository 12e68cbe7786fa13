//! Custom events (`POST /v1/events`, `POST /client/v1/events`) and a customer's activity.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A custom event of a customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// The event's name (1–300 characters).
    pub event: Option<String>,
    /// The customer: `{"id": …}`, or `{"source_id": …}` with the fields of a new customer.
    #[schema(value_type = Option<crate::types::catalog::CustomerIn>)]
    pub customer: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Referral programs are not part of this service: must be absent or `null`.
    #[schema(value_type = Option<EventReferral>)]
    pub referral: Option<Value>,
    /// Loyalty programs are not part of this service: must be absent or `null`.
    #[schema(value_type = Option<EventLoyalty>)]
    pub loyalty: Option<Value>,
}

/// Voucherify's referral of an event (refused here: no referral programs).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventReferral {
    pub code: Option<String>,
    pub referrer_id: Option<String>,
}

/// Voucherify's loyalty card of an event (refused here: no loyalty programs).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventLoyalty {
    pub code: Option<String>,
}

/// What an activity entry is about (a schema: entries are built as JSON).
#[derive(ToSchema)]
pub struct ActivityData {
    pub redemption: Option<crate::types::checkout::RedemptionOut>,
    pub rollback: Option<crate::types::checkout::RedemptionOut>,
    pub publication: Option<crate::types::admin::PublicationOut>,
    /// A custom event's name and metadata.
    pub event: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// A validation of the customer's that failed.
    pub validation: Option<FailedValidationOut>,
    /// The block the code-guessing lock-out raised (as it was raised).
    pub block: Option<crate::types::blocks::BlockOut>,
}

/// A failed validation in a customer's activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedValidationOut {
    /// The validation's id (`valid_…`), as its response gave it.
    pub id: String,
    /// Always false.
    pub valid: bool,
    pub inapplicable_redeemables: Vec<RefusedRedeemable>,
    pub skipped_redeemables: Vec<RefusedRedeemable>,
    pub order: FailedValidationOrder,
}

/// A redeemable a validation refused or skipped, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefusedRedeemable {
    pub object: Option<String>,
    pub id: Option<String>,
    pub status: Option<String>,
    pub result: RefusedResult,
}

/// Why a redeemable was refused.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefusedResult {
    #[schema(value_type = Option<crate::error::ErrorBody>)]
    pub error: Option<Value>,
}

/// The validated order's amount.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedValidationOrder {
    pub amount: i64,
}

/// The customer an event names.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventCustomer {
    pub id: String,
    pub source_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub object: &'static str,
}

/// The event as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub object: &'static str,
    #[serde(rename = "type")]
    pub kind: String,
    pub customer: EventCustomer,
    /// Always `null` (no referral programs here).
    #[schema(value_type = Option<EventReferral>)]
    pub referral: Option<Value>,
    /// Always `null` (no loyalty programs here).
    #[schema(value_type = Option<EventLoyalty>)]
    pub loyalty: Option<Value>,
    #[schema(value_type = Object)]
    pub metadata: Value,
}

/// One moment of a customer's activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerActivityOut {
    /// The redemption's (`r_`/`rf_`), rollback's (`rr_`), publication's (`pub_`) or custom
    /// event's (`evcus_`) id.
    pub id: String,
    /// `customer.redemption.succeeded`, `customer.redemption.failed`,
    /// `customer.redemption.rollback.succeeded`, `customer.redemption.rollback.failed`,
    /// `customer.publication.succeeded`, `customer.custom_event`, `customer.validation.failed` or
    /// `customer.blocked`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `{"redemption": …}`, `{"rollback": …}`, `{"publication": …}` (as `GET` answers them),
    /// `{"event": name, "metadata": …}`, `{"validation": …}` or `{"block": …}`.
    #[schema(value_type = ActivityData)]
    pub data: Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub group_id: Option<String>,
}

/// `GET /v1/customers/{id}/activity`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerActivityList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub data: Vec<CustomerActivityOut>,
    pub has_more: bool,
    /// Pass as `starting_after_id` for the next page.
    pub more_starting_after: Option<String>,
}

/// `GET /v1/customers/{id}/activity` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
    /// `created_at` or `-created_at` (default).
    pub order: Option<String>,
    /// The id of the last entry of the previous page.
    pub starting_after_id: Option<String>,
    #[param(format = DateTime)]
    pub start_date: Option<String>,
    #[param(format = DateTime)]
    pub end_date: Option<String>,
    /// One activity type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
}
