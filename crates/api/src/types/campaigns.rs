//! Campaigns, vouchers and promotion tiers on the wire.

use super::common::{AssignmentOut, CodeConfigSchema, DiscountSchema, ListOut, TimeframeSchema, ValidityHoursSchema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The schedule fields campaigns, tiers and vouchers share.
#[allow(dead_code)] // documents request bodies read as JSON documents
#[derive(ToSchema)]
pub struct ScheduleIn {
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub start_date: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub expiration_date: Option<String>,
    pub validity_timeframe: Option<TimeframeSchema>,
    /// 0 (Sunday) .. 6.
    pub validity_day_of_week: Option<Vec<i64>>,
    pub validity_hours: Option<ValidityHoursSchema>,
}

/// `redemption.quantity`: how many times a code may be redeemed (`null`: unlimited).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct RedemptionQuantityIn {
    pub quantity: Option<i64>,
}

/// A voucher as written: standalone (`POST /v1/vouchers`), as a campaign's template, or as one
/// imported row. `null` means absent.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct VoucherIn {
    pub code: Option<String>,
    #[schema(rename = "type")]
    pub kind: Option<VoucherType>,
    pub active: Option<bool>,
    pub additional_info: Option<String>,
    pub category_id: Option<String>,
    pub category: Option<String>,
    pub discount: Option<DiscountSchema>,
    pub redemption: Option<RedemptionQuantityIn>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Validation rule ids (at most one).
    pub validation_rules: Option<Vec<String>>,
    pub code_config: Option<CodeConfigSchema>,
    #[schema(format = DateTime)]
    pub start_date: Option<String>,
    #[schema(format = DateTime)]
    pub expiration_date: Option<String>,
    pub validity_timeframe: Option<TimeframeSchema>,
    pub validity_day_of_week: Option<Vec<i64>>,
    pub validity_hours: Option<ValidityHoursSchema>,
}

/// A promotion tier as written.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct TierIn {
    pub name: Option<String>,
    pub banner: Option<String>,
    pub hierarchy: Option<i64>,
    pub active: Option<bool>,
    pub action: Option<TierActionSchema>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Validation rule ids (at most one); `validation_rule_assignments` is read the same way.
    pub validation_rules: Option<Vec<String>>,
    pub validation_rule_assignments: Option<Vec<String>>,
    pub category_id: Option<String>,
    #[schema(format = DateTime)]
    pub start_date: Option<String>,
    #[schema(format = DateTime)]
    pub expiration_date: Option<String>,
    pub validity_timeframe: Option<TimeframeSchema>,
    pub validity_day_of_week: Option<Vec<i64>>,
    pub validity_hours: Option<ValidityHoursSchema>,
}

/// What a tier gives.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct TierActionSchema {
    pub discount: Option<DiscountSchema>,
}

/// The tiers of a PROMOTION campaign as written with it.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PromotionIn {
    pub tiers: Option<Vec<TierIn>>,
}

/// A campaign as written (`POST /v1/campaigns`; `PUT` takes the same fields, all optional).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct CampaignIn {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `DISCOUNT_COUPONS` by default.
    pub campaign_type: Option<CampaignType>,
    /// `AUTO_UPDATE` by default (`STATIC` for promotions).
    #[schema(rename = "type")]
    pub kind: Option<CampaignCodes>,
    pub join_once: Option<bool>,
    pub auto_join: Option<bool>,
    pub use_voucher_metadata_schema: Option<bool>,
    /// Codes generated with the campaign (DISCOUNT_COUPONS).
    pub vouchers_count: Option<i64>,
    pub activity_duration_after_publishing: Option<String>,
    pub category_id: Option<String>,
    pub category: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// The code template (DISCOUNT_COUPONS).
    pub voucher: Option<VoucherIn>,
    pub promotion: Option<PromotionIn>,
    pub validation_rules: Option<Vec<String>>,
    #[schema(format = DateTime)]
    pub start_date: Option<String>,
    #[schema(format = DateTime)]
    pub expiration_date: Option<String>,
    pub validity_timeframe: Option<TimeframeSchema>,
    pub validity_day_of_week: Option<Vec<i64>>,
    pub validity_hours: Option<ValidityHoursSchema>,
}

/// Rows of `POST /v1/vouchers/import` and `/v1/campaigns/{id}/import`: a list of vouchers (each
/// with its `code`), or `{"vouchers": [...]}`.
#[allow(dead_code)]
#[derive(ToSchema)]
#[serde(untagged)]
pub enum VouchersImportIn {
    Rows(Vec<VoucherIn>),
    Wrapped { vouchers: Vec<VoucherIn> },
}

/// A category a voucher or tier belongs to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryRef {
    pub id: String,
    pub name: String,
    pub hierarchy: i64,
    pub object: String,
    #[schema(format = DateTime)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `EXCLUSIVE` or `JOINT` when the stacking rules name the category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stacking_rules_type: Option<String>,
}

/// A gift card's balance (not issued by this service yet: always `null`).
#[derive(Debug, Serialize, ToSchema)]
pub struct GiftOut {
    pub amount: i64,
    pub balance: i64,
}

/// A loyalty card's points (not issued by this service yet: always `null`).
#[derive(Debug, Serialize, ToSchema)]
pub struct LoyaltyCardOut {
    pub points: i64,
    pub balance: i64,
}

/// How often a code was published.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishSummary {
    pub object: &'static str,
    pub count: i64,
    pub url: String,
}

/// How often a code may be and was redeemed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedemptionSummary {
    pub quantity: Option<i64>,
    /// Units redeemed and not rolled back.
    pub redeemed_quantity: i64,
    /// Units held by live LOCK validation sessions, not redeemed yet (not counted in
    /// `redeemed_quantity`; they count against `quantity` until redeemed, released or expired).
    pub reserved_quantity: i64,
    pub redeemed_points: i64,
    pub object: &'static str,
    pub url: String,
}

/// The stored voucher document (what `voucher_doc` wrote).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VoucherDoc {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub additional_info: Option<String>,
    /// The voucher's own category (a standalone voucher's; campaign codes take the campaign's).
    pub category_id: Option<String>,
    pub start_date: Option<Value>,
    pub expiration_date: Option<Value>,
    pub validity_timeframe: Option<Value>,
    pub validity_day_of_week: Option<Value>,
    pub validity_hours: Option<Value>,
    pub discount: Option<Value>,
    pub redemption: Option<Value>,
    pub metadata: Option<Map<String, Value>>,
}

/// A voucher.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoucherOut {
    pub id: String,
    pub code: String,
    /// The campaign's name.
    pub campaign: Option<String>,
    pub campaign_id: Option<String>,
    pub category: Option<String>,
    pub category_id: Option<String>,
    pub categories: Vec<CategoryRef>,
    #[serde(rename = "type")]
    #[schema(value_type = VoucherType)]
    pub kind: String,
    pub gift: Option<GiftOut>,
    pub loyalty_card: Option<LoyaltyCardOut>,
    pub active: bool,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub is_referral_code: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub holder_id: Option<String>,
    pub object: &'static str,
    pub publish: PublishSummary,
    pub redemption: RedemptionSummary,
    pub validation_rules_assignments: ListOut<AssignmentOut>,
    pub additional_info: Option<String>,
    #[schema(value_type = Option<DiscountSchema>)]
    pub discount: Option<Value>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_date: Option<Value>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expiration_date: Option<Value>,
    #[schema(value_type = Option<TimeframeSchema>)]
    pub validity_timeframe: Option<Value>,
    #[schema(value_type = Option<Vec<i64>>)]
    pub validity_day_of_week: Option<Value>,
    #[schema(value_type = Option<ValidityHoursSchema>)]
    pub validity_hours: Option<Value>,
}

/// The vouchers list envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct VouchersList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub vouchers: Vec<VoucherOut>,
    pub total: i64,
}

/// The campaign a tier belongs to, as the tier shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierCampaignRef {
    pub id: String,
    pub active: bool,
    pub object: &'static str,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_date: Option<Value>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expiration_date: Option<Value>,
    #[schema(value_type = Option<TimeframeSchema>)]
    pub validity_timeframe: Option<Value>,
    #[schema(value_type = Option<Vec<i64>>)]
    pub validity_day_of_week: Option<Value>,
    #[schema(value_type = Option<ValidityHoursSchema>)]
    pub validity_hours: Option<Value>,
    pub category_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierRedemptionsSummary {
    pub total_redeemed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierOrdersSummary {
    pub total_amount: i64,
    pub total_discount_amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierSummary {
    pub redemptions: TierRedemptionsSummary,
    pub orders: TierOrdersSummary,
}

/// What a tier gives, as answered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TierAction {
    #[schema(value_type = DiscountSchema)]
    pub discount: Value,
}

/// The stored tier document (what `tier_doc` wrote).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TierDoc {
    pub name: Option<String>,
    pub banner: Option<String>,
    pub action: Option<TierAction>,
    pub metadata: Option<Map<String, Value>>,
    pub category_id: Option<String>,
    pub start_date: Option<Value>,
    pub expiration_date: Option<Value>,
    pub validity_timeframe: Option<Value>,
    pub validity_day_of_week: Option<Value>,
    pub validity_hours: Option<Value>,
}

/// A promotion tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierOut {
    pub id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub hierarchy: i64,
    pub promotion_id: String,
    pub campaign_id: String,
    pub campaign: TierCampaignRef,
    pub active: bool,
    pub summary: TierSummary,
    pub object: &'static str,
    pub validation_rule_assignments: ListOut<AssignmentOut>,
    pub categories: Vec<CategoryRef>,
    pub name: Option<String>,
    pub banner: Option<String>,
    pub action: Option<TierAction>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub category_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_date: Option<Value>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expiration_date: Option<Value>,
    #[schema(value_type = Option<TimeframeSchema>)]
    pub validity_timeframe: Option<Value>,
    #[schema(value_type = Option<Vec<i64>>)]
    pub validity_day_of_week: Option<Value>,
    #[schema(value_type = Option<ValidityHoursSchema>)]
    pub validity_hours: Option<Value>,
}

/// The tiers list envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct TiersList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub tiers: Vec<TierOut>,
    pub total: i64,
    pub has_more: bool,
}

/// A campaign's code template as stored and answered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VoucherTemplateOut {
    #[serde(rename = "type", default = "discount_voucher")]
    #[schema(value_type = VoucherType)]
    pub kind: String,
    #[serde(default)]
    #[schema(value_type = DiscountSchema)]
    pub discount: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CodeConfigSchema>)]
    pub code_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RedemptionQuantityIn>)]
    pub redemption: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_date: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expiration_date: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<TimeframeSchema>)]
    pub validity_timeframe: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<i64>>)]
    pub validity_day_of_week: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ValidityHoursSchema>)]
    pub validity_hours: Option<Value>,
}

fn discount_voucher() -> String {
    "DISCOUNT_VOUCHER".into()
}

/// The stored campaign document.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CampaignDoc {
    pub description: Option<String>,
    pub join_once: Option<bool>,
    pub auto_join: Option<bool>,
    pub use_voucher_metadata_schema: Option<bool>,
    pub start_date: Option<Value>,
    pub expiration_date: Option<Value>,
    pub validity_timeframe: Option<Value>,
    pub validity_day_of_week: Option<Value>,
    pub validity_hours: Option<Value>,
    pub activity_duration_after_publishing: Option<String>,
    pub category_id: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub guardrails: Option<promo_engine::guardrails::Guardrails>,
    pub voucher: Option<VoucherTemplateOut>,
}

/// A campaign's `campaign_type`: the kinds this service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignType {
    DiscountCoupons,
    Promotion,
}

impl CampaignType {
    pub const ALL: [CampaignType; 2] = [CampaignType::DiscountCoupons, CampaignType::Promotion];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignType::DiscountCoupons => "DISCOUNT_COUPONS",
            CampaignType::Promotion => "PROMOTION",
        }
    }

    pub fn parse(s: &str) -> Option<CampaignType> {
        CampaignType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A campaign's `type`: how its codes come (generated on demand, a fixed set, or one code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignCodes {
    AutoUpdate,
    Static,
    Standalone,
}

impl CampaignCodes {
    pub const ALL: [CampaignCodes; 3] = [CampaignCodes::AutoUpdate, CampaignCodes::Static, CampaignCodes::Standalone];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignCodes::AutoUpdate => "AUTO_UPDATE",
            CampaignCodes::Static => "STATIC",
            CampaignCodes::Standalone => "STANDALONE",
        }
    }

    pub fn parse(s: &str) -> Option<CampaignCodes> {
        CampaignCodes::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A voucher's `type`: the kinds this service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VoucherType {
    DiscountVoucher,
}

/// A campaign's guardrails (our extension; every field optional when written, each defaulting
/// to the protective choice).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignGuardrails {
    /// Discount lines whose product or SKU is out of stock (default false: they are skipped,
    /// and a discount never gives them).
    pub discount_out_of_stock: bool,
    /// Let order-level discounts reach shipping lines and `order.shipping_amount` (default false).
    pub discount_shipping: bool,
    /// Let order-level discounts reach `order.tax_amount` (default false).
    pub discount_tax: bool,
    /// `FLOOR_PRICE` (default: no item below its `floor_price`), `COST` (nor below its `cost`)
    /// or `NONE`.
    pub margin_floor: String,
}

impl From<promo_engine::guardrails::Guardrails> for CampaignGuardrails {
    fn from(g: promo_engine::guardrails::Guardrails) -> Self {
        use promo_engine::guardrails::MarginFloor;
        CampaignGuardrails {
            discount_out_of_stock: g.discount_out_of_stock,
            discount_shipping: g.discount_shipping,
            discount_tax: g.discount_tax,
            margin_floor: match g.margin_floor {
                MarginFloor::FloorPrice => "FLOOR_PRICE",
                MarginFloor::Cost => "COST",
                MarginFloor::None => "NONE",
            }
            .into(),
        }
    }
}

/// A campaign.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignOut {
    pub id: String,
    pub name: String,
    #[schema(value_type = CampaignType)]
    pub campaign_type: String,
    #[serde(rename = "type")]
    #[schema(value_type = CampaignCodes)]
    pub kind: String,
    pub active: bool,
    pub vouchers_count: i64,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    /// `IN_PROGRESS` while codes are being generated, else `DONE`.
    pub creation_status: &'static str,
    pub vouchers_generation_status: String,
    pub readonly: bool,
    pub protected: bool,
    pub categories: Vec<CategoryRef>,
    pub object: &'static str,
    pub validation_rules_assignments: ListOut<AssignmentOut>,
    /// The category's name.
    pub category: Option<String>,
    pub description: Option<String>,
    pub join_once: Option<bool>,
    pub auto_join: Option<bool>,
    pub use_voucher_metadata_schema: Option<bool>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_date: Option<Value>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expiration_date: Option<Value>,
    #[schema(value_type = Option<TimeframeSchema>)]
    pub validity_timeframe: Option<Value>,
    #[schema(value_type = Option<Vec<i64>>)]
    pub validity_day_of_week: Option<Value>,
    #[schema(value_type = Option<ValidityHoursSchema>)]
    pub validity_hours: Option<Value>,
    pub activity_duration_after_publishing: Option<String>,
    pub category_id: Option<String>,
    /// Our extension: what the campaign's discounts may never touch, and its margin floor.
    pub guardrails: CampaignGuardrails,
    pub voucher: Option<VoucherTemplateOut>,
    /// The tiers of a PROMOTION campaign.
    pub promotion: Option<TiersList>,
}

/// The campaigns list envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignsList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub campaigns: Vec<CampaignOut>,
    pub total: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryIn {
    pub name: Option<String>,
    /// Lower applies first; 0 or more.
    pub hierarchy: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryOut {
    pub id: String,
    pub name: String,
    pub hierarchy: i32,
    pub object: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

/// `GET /v1/campaigns/{id}/summary`: the campaign's figures from the ledger, over
/// `start_date`..`end_date` (whole days in the project's time zone) when given.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignSummaryOut {
    pub object: &'static str,
    pub campaign: CampaignOut,
    pub redemptions: i64,
    pub redemptions_succeeded: i64,
    pub redemptions_failed: i64,
    pub rollbacks: i64,
    pub rollbacks_succeeded: i64,
    pub rollbacks_failed: i64,
    /// Validations of the campaign's codes or tiers (each redeemable of a validation request
    /// counts: applicable as succeeded, inapplicable as failed), by local day.
    pub validations: Option<i64>,
    pub validations_succeeded: Option<i64>,
    pub validations_failed: Option<i64>,
    /// Order amounts of the successful redemptions (not reduced by rollbacks).
    pub orders_amount: i64,
    pub orders_rolledback_amount: i64,
    /// Discounts given by the successful redemptions (not reduced by rollbacks).
    pub discounted_amount: i64,
    pub rolledback_discounted_amount: i64,
    /// Discount campaigns: codes created in the period (the campaign's codes that still exist,
    /// in the bin included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vouchers_created: Option<i64>,
    /// Discount campaigns: codes moved to the bin in the period (codes deleted for good leave no
    /// trace and are not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vouchers_deleted: Option<i64>,
    /// Discount campaigns: publications made in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publications: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publications_succeeded: Option<i64>,
    /// Failed publication attempts are not recorded: `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publications_failed: Option<Option<i64>>,
}

/// `start_date` / `end_date` of a summary (`YYYY-MM-DD`, both included).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    #[param(format = Date)]
    pub start_date: Option<String>,
    #[param(format = Date)]
    pub end_date: Option<String>,
}
