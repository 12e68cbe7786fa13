//! Shapes shared by many resources: list envelopes, discounts, schedules, code patterns,
//! validation-rule assignments.

use serde::Serialize;
use utoipa::ToSchema;

/// Voucherify's list envelope for lists whose `data_ref` is `data`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListOut<T> {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub data: Vec<T>,
    pub total: i64,
}

impl<T> ListOut<T> {
    pub fn new(data: Vec<T>, total: i64) -> Self {
        ListOut { object: "list", data_ref: "data", data, total }
    }
}

/// A discount's `type` (the engine's `DiscountKind`; a test keeps the two lists equal).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiscountType {
    Amount,
    Percent,
    Fixed,
    Unit,
}

/// A discount's `effect` (the engine's `Effect`; a test keeps the two lists equal).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiscountEffect {
    ApplyToOrder,
    ApplyToItems,
    ApplyToItemsProportionally,
    ApplyToItemsProportionallyByQuantity,
    ApplyToItemsByQuantity,
    AddMissingItems,
    AddNewItems,
    AddManyItems,
}

/// A discount as written and as answered: `type` decides which fields apply.
#[allow(dead_code)] // documents the stored discount document, written and read as JSON
#[derive(ToSchema)]
pub struct DiscountSchema {
    #[schema(rename = "type")]
    pub kind: DiscountType,
    pub effect: Option<DiscountEffect>,
    pub amount_off: Option<i64>,
    pub amount_off_formula: Option<String>,
    pub percent_off: Option<f64>,
    pub percent_off_formula: Option<String>,
    pub amount_limit: Option<i64>,
    pub aggregated_amount_limit: Option<i64>,
    pub fixed_amount: Option<i64>,
    pub fixed_amount_formula: Option<String>,
    pub unit_off: Option<i64>,
    pub unit_off_formula: Option<String>,
    pub unit_type: Option<String>,
    pub product: Option<UnitProductSchema>,
    pub sku: Option<UnitProductSchema>,
    pub units: Option<Vec<UnitSchema>>,
    /// In answers: whether a formula decides the value.
    pub is_dynamic: Option<bool>,
}

/// The product or SKU a unit discount gives.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct UnitProductSchema {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub name: Option<String>,
    /// Unit price when the item is added; the catalog's price when omitted.
    pub price: Option<i64>,
}

/// One item of a multi-unit discount.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct UnitSchema {
    pub unit_off: Option<i64>,
    pub unit_off_formula: Option<String>,
    pub unit_type: Option<String>,
    pub effect: Option<String>,
    pub product: Option<UnitProductSchema>,
    pub sku: Option<UnitProductSchema>,
}

/// `validity_timeframe`: active for `duration` every `interval` (ISO 8601) from `start_date`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct TimeframeSchema {
    pub interval: Option<String>,
    pub duration: Option<String>,
}

/// `validity_hours`: daily windows.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ValidityHoursSchema {
    pub daily: Option<Vec<DailyWindowSchema>>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct DailyWindowSchema {
    /// `HH:MM`.
    pub start_time: Option<String>,
    /// `HH:MM`.
    pub expiration_time: Option<String>,
    /// 0 (Sunday) .. 6.
    pub days_of_week: Option<Vec<i64>>,
}

/// How codes are generated: `pattern` (`#` = a character of `charset`) or `length`, with a
/// prefix and postfix.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct CodeConfigSchema {
    pub length: Option<i64>,
    pub charset: Option<String>,
    pub prefix: Option<String>,
    pub postfix: Option<String>,
    pub pattern: Option<String>,
}

/// A validation rule attached to a campaign, tier or voucher.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentOut {
    pub id: String,
    pub rule_id: String,
    pub related_object_id: String,
    pub related_object_type: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub object: &'static str,
}

/// The 202 of an operation run as an async action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedOut {
    pub async_action_id: String,
}

/// `{}`: what Voucherify answers where there is nothing to say (a campaign enabled, ...).
#[derive(Debug, Serialize)]
pub struct EmptyOut {}

impl utoipa::PartialSchema for EmptyOut {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder};
        ObjectBuilder::new()
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .description(Some("An empty object."))
            .into()
    }
}

impl ToSchema for EmptyOut {}

#[cfg(test)]
mod tests {
    use super::*;
    use promo_engine::discount::{DiscountKind, Effect};

    fn names<T: Serialize>(all: &[T]) -> Vec<String> {
        all.iter()
            .map(|v| serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
            .collect()
    }

    #[test]
    fn the_documented_discount_types_and_effects_are_the_engines() {
        use DiscountEffect as E;
        use DiscountType as T;
        assert_eq!(names(&[T::Amount, T::Percent, T::Fixed, T::Unit]), names(&DiscountKind::ALL));
        let effects = [
            E::ApplyToOrder,
            E::ApplyToItems,
            E::ApplyToItemsProportionally,
            E::ApplyToItemsProportionallyByQuantity,
            E::ApplyToItemsByQuantity,
            E::AddMissingItems,
            E::AddNewItems,
            E::AddManyItems,
        ];
        assert_eq!(names(&effects), names(&Effect::ALL));
        assert!(names(&Effect::ALL).iter().all(|n| Effect::parse(n).is_some()));
        assert!(names(&DiscountKind::ALL).iter().all(|n| DiscountKind::parse(n).is_some()));
    }
}
