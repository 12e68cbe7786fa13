//! Checkout bodies: orders, validations, qualifications, redemptions and rollbacks (reference
//! §3). The checkout renders its answers straight to bytes for speed; these types describe
//! them, and the HTTP tests check every answer against them.
#![allow(dead_code)] // schema types: the checkout serializes its own borrowed views

use super::campaigns::CategoryRef;
use super::common::DiscountSchema;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A product named by an order item (nested form), as sent and as answered.
#[derive(ToSchema)]
pub struct ItemProductSchema {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub name: Option<String>,
    /// Minor units.
    pub price: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// A SKU named by an order item (nested form).
#[derive(ToSchema)]
pub struct ItemSkuSchema {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub sku: Option<String>,
    /// Minor units.
    pub price: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// An order item as a checkout sends it: by product or SKU id, by `source_id`, or nested.
#[derive(ToSchema)]
pub struct OrderItemIn {
    pub sku_id: Option<String>,
    pub product_id: Option<String>,
    pub source_id: Option<String>,
    /// `product` or `sku`: what `source_id` names.
    pub related_object: Option<String>,
    pub quantity: Option<i64>,
    /// Minor units.
    pub price: Option<i64>,
    pub amount: Option<i64>,
    pub discount_amount: Option<i64>,
    pub product: Option<ItemProductSchema>,
    pub sku: Option<ItemSkuSchema>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// An order as a checkout sends it (amounts in minor units).
#[derive(ToSchema)]
pub struct OrderIn {
    pub id: Option<String>,
    pub source_id: Option<String>,
    /// `CREATED`, `PAID`, `CANCELED` or `FULFILLED`.
    pub status: Option<String>,
    pub amount: Option<i64>,
    pub initial_amount: Option<i64>,
    pub discount_amount: Option<i64>,
    /// ISO 4217; must be the project's currency when sent.
    pub currency: Option<String>,
    /// Our extension: the shipping within `amount` (not itemised). Order-level discounts leave
    /// it alone unless the campaign's guardrails say `discount_shipping`.
    pub shipping_amount: Option<i64>,
    /// Our extension: the tax within `amount`; never discounted unless `discount_tax`.
    pub tax_amount: Option<i64>,
    pub items: Option<Vec<OrderItemIn>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// `POST /v1/orders` and `PUT /v1/orders/{id}` only.
    pub customer: Option<super::catalog::CustomerIn>,
}

/// An order item with the engine's totals.
#[derive(ToSchema)]
pub struct OrderItemOut {
    pub sku_id: Option<String>,
    pub product_id: Option<String>,
    pub source_id: Option<String>,
    pub related_object: Option<String>,
    pub product: Option<ItemProductSchema>,
    pub sku: Option<ItemSkuSchema>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    pub quantity: i64,
    pub initial_quantity: Option<i64>,
    pub discount_quantity: Option<i64>,
    pub applied_discount_quantity: Option<i64>,
    pub price: Option<i64>,
    pub amount: i64,
    pub initial_amount: Option<i64>,
    pub discount_amount: i64,
    pub applied_discount_amount: Option<i64>,
    pub subtotal_amount: i64,
    /// Units a discount added (positive) or took away (negative); null when it changed none.
    pub applied_quantity: Option<i64>,
    /// The amount of those units.
    pub applied_quantity_amount: Option<i64>,
    /// Lines are not objects of their own here: always null.
    pub id: Option<String>,
    pub object: String,
}

/// A customer reference inside an order.
#[derive(ToSchema)]
pub struct ObjectRef {
    pub id: String,
    pub object: String,
}

/// One entry of an order's map of the redemptions that used it.
#[derive(ToSchema)]
pub struct OrderRedemptionSchema {
    #[schema(format = DateTime)]
    pub date: String,
    pub related_object_type: String,
    pub related_object_id: String,
    pub related_object_parent_id: Option<String>,
    /// The redemptions of a stacked redemption.
    pub stacked: Option<Vec<String>>,
    pub rollback_id: Option<String>,
    #[schema(format = DateTime)]
    pub rollback_date: Option<String>,
    pub rollback_stacked: Option<Vec<String>>,
}

/// `OrderCalculated`: the order with the engine's totals.
#[derive(ToSchema)]
pub struct OrderCalculated {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub status: Option<String>,
    pub amount: i64,
    pub initial_amount: i64,
    pub discount_amount: i64,
    pub items_discount_amount: i64,
    pub total_discount_amount: i64,
    pub total_amount: i64,
    pub applied_discount_amount: i64,
    pub items_applied_discount_amount: i64,
    pub total_applied_discount_amount: i64,
    /// Echoed when the order carries it.
    pub shipping_amount: Option<i64>,
    pub tax_amount: Option<i64>,
    pub items: Vec<OrderItemOut>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub customer_id: Option<String>,
    pub customer: Option<ObjectRef>,
    /// The redemptions that used the order, by id.
    pub redemptions: Option<BTreeMap<String, OrderRedemptionSchema>>,
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub object: String,
}

/// A redeemable a request names.
#[derive(ToSchema)]
pub struct RedeemableIn {
    /// `voucher`, `promotion_tier` or `promotion_stack`.
    pub object: Option<String>,
    pub id: Option<String>,
    pub gift: Option<GiftIn>,
    pub reward: Option<RewardIn>,
}

#[derive(ToSchema)]
pub struct GiftIn {
    pub credits: Option<i64>,
}

#[derive(ToSchema)]
pub struct RewardIn {
    pub id: Option<String>,
    pub points: Option<i64>,
}

/// A LOCK session: the validation reserves what a redemption with the same key takes.
#[derive(ToSchema)]
pub struct SessionSchema {
    /// `LOCK`.
    #[schema(rename = "type")]
    pub kind: Option<String>,
    pub key: Option<String>,
    pub ttl: Option<i64>,
    /// `MILLISECONDS`, `SECONDS`, `MINUTES`, `HOURS`, `DAYS`, `WEEKS`.
    pub ttl_unit: Option<String>,
}

/// `options` of a validation or qualification.
#[derive(ToSchema)]
pub struct CheckoutOptions {
    /// `order`, `redeemable`, `category`, `redemption`, `validation_rules`.
    pub expand: Option<Vec<String>>,
    /// Qualifications: entries per page.
    pub limit: Option<i64>,
    /// Qualifications: the cursor of the next page.
    pub starting_after: Option<String>,
    /// Qualifications: `BEST_DEAL` or `LEAST_DEAL`.
    pub sorting_rule: Option<String>,
    /// Qualifications: Voucherify's filters (`junction` and fields with `conditions`).
    #[schema(value_type = Option<Object>)]
    pub filters: Option<Value>,
}

/// The body of a validation, redemption or qualification (client-side ones too).
#[derive(ToSchema)]
pub struct CheckoutIn {
    pub redeemables: Option<Vec<RedeemableIn>>,
    pub order: Option<OrderIn>,
    pub customer: Option<super::catalog::CustomerIn>,
    pub session: Option<SessionSchema>,
    pub options: Option<CheckoutOptions>,
    pub tracking_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Qualifications only.
    pub scenario: Option<QualificationScenario>,
}

/// What a qualification looks at (the engine's `Scenario`; a test keeps the two lists equal).
#[derive(Debug, Clone, Copy, serde::Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QualificationScenario {
    All,
    CustomerWallet,
    AudienceOnly,
    Products,
    ProductsDiscount,
    PromotionStacks,
    ProductsByCustomer,
    ProductsDiscountByCustomer,
}

/// The stacking rules in force.
#[derive(ToSchema)]
pub struct StackingRulesSchema {
    pub redeemables_limit: i64,
    pub applicable_redeemables_limit: i64,
    pub applicable_redeemables_per_category_limit: i64,
    pub applicable_redeemables_category_limits: BTreeMap<String, i64>,
    pub applicable_exclusive_redeemables_limit: i64,
    pub applicable_exclusive_redeemables_per_category_limit: i64,
    pub exclusive_categories: Vec<String>,
    pub joint_categories: Vec<String>,
    /// `ALL` or `PARTIAL`.
    pub redeemables_application_mode: String,
    /// `REQUESTED_ORDER` or `CATEGORY_HIERARCHY`.
    pub redeemables_sorting_rule: String,
    /// `STACK` or `ONCE`.
    pub redeemables_products_application_mode: String,
    /// `REDEEM_ANYWAY` or `SKIP`.
    pub redeemables_no_effect_rule: String,
    pub no_effect_skip_categories: Vec<String>,
    pub no_effect_redeem_anyway_categories: Vec<String>,
    /// `WITH_ORDER` or `WITHOUT_ORDER`.
    pub redeemables_rollback_order_mode: String,
    pub grouped_redeemables_sorting_rule: String,
    /// `DISCOUNTED_AMOUNT` or `INITIAL_AMOUNT`.
    pub discount_calculation_mode: String,
    pub initial_amount_mode_categories: Vec<String>,
    pub discounted_amount_mode_categories: Vec<String>,
}

/// Stacking rules as written: every field optional, the rest keep their values.
#[derive(ToSchema)]
pub struct StackingRulesIn {
    pub redeemables_limit: Option<i64>,
    pub applicable_redeemables_limit: Option<i64>,
    pub applicable_redeemables_per_category_limit: Option<i64>,
    pub applicable_redeemables_category_limits: Option<BTreeMap<String, i64>>,
    pub applicable_exclusive_redeemables_limit: Option<i64>,
    pub applicable_exclusive_redeemables_per_category_limit: Option<i64>,
    pub exclusive_categories: Option<Vec<String>>,
    pub joint_categories: Option<Vec<String>>,
    pub redeemables_application_mode: Option<String>,
    pub redeemables_sorting_rule: Option<String>,
    pub redeemables_products_application_mode: Option<String>,
    pub redeemables_no_effect_rule: Option<String>,
    pub no_effect_skip_categories: Option<Vec<String>>,
    pub no_effect_redeem_anyway_categories: Option<Vec<String>>,
    pub redeemables_rollback_order_mode: Option<String>,
    pub grouped_redeemables_sorting_rule: Option<String>,
    pub discount_calculation_mode: Option<String>,
    pub initial_amount_mode_categories: Option<Vec<String>>,
    pub discounted_amount_mode_categories: Option<Vec<String>>,
}

/// What a discount reached or skipped in the order.
#[derive(ToSchema)]
pub struct ApplicableItem {
    /// `product`, `sku` or `products_collection`.
    pub object: String,
    /// Absent when the definition or the cart named it by `source_id` only.
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub product_id: Option<String>,
    pub effect: Option<String>,
    pub quantity_limit: Option<i64>,
    pub aggregated_quantity_limit: Option<i64>,
    pub amount_limit: Option<i64>,
    pub aggregated_amount_limit: Option<i64>,
    pub price: Option<i64>,
    pub price_formula: Option<String>,
    pub repeat: Option<i64>,
    pub skip_initially: Option<i64>,
    /// `UNIT` or `ITEM`.
    pub target: Option<String>,
    /// The positions (from 0) of the request's order items the discount reached.
    pub order_item_indices: Option<Vec<i64>>,
}

/// `applicable_to` / `inapplicable_to` of an applicable redeemable.
#[derive(ToSchema)]
pub struct ApplicableList {
    pub object: String,
    pub data_ref: Option<String>,
    pub data: Vec<ApplicableItem>,
    pub total: i64,
}

/// The `error.message` a validation rule sets for shoppers.
#[derive(ToSchema)]
pub struct RuleMessage {
    pub message: String,
}

/// Why a redeemable does not apply, as Voucherify's error object.
#[derive(ToSchema)]
pub struct StackedError {
    pub code: i64,
    pub key: String,
    pub message: String,
    pub details: Option<String>,
    pub request_id: Option<String>,
    pub resource_id: Option<String>,
    pub resource_type: Option<String>,
    pub error: Option<RuleMessage>,
}

/// How far an order is from satisfying a rule.
#[derive(ToSchema)]
pub struct Shortfall {
    /// What is measured (`order.amount`, `order.items.quantity`, ...).
    pub metric: String,
    /// The product, SKU or collection it concerns.
    pub target: Option<String>,
    /// By how much (minor units for amounts, units for quantities).
    pub needed: i64,
    /// "order.amount needs +1250".
    pub text: String,
}

/// A rule that failed.
#[derive(ToSchema)]
pub struct RuleFailure {
    /// The rule's key in the validation rule (`"1"`, `"2"`, ...).
    pub rule: Option<String>,
    /// The rule's name (`order.amount`, ...).
    pub name: String,
    pub key: String,
    pub message: Option<String>,
    pub missing: Option<Shortfall>,
}

/// `key` and `message` of a skipped or inapplicable redeemable.
#[derive(ToSchema)]
pub struct ResultDetails {
    pub key: String,
    pub message: String,
}

#[derive(ToSchema)]
pub struct GiftResult {
    pub credits: i64,
    pub balance: i64,
}

#[derive(ToSchema)]
pub struct LoyaltyResult {
    pub points: i64,
}

/// A cart line that makes up the complete bundles.
#[derive(ToSchema)]
pub struct BundleIdentified {
    pub id: String,
    /// `product` or `sku`.
    pub object: String,
    /// The line's position in the request's `order.items`.
    pub item_index: i64,
    /// Its units in the bundles (not more than the bundles need).
    pub item_quantity: i64,
}

/// A bundle item the cart lacks for its first complete bundle.
#[derive(ToSchema)]
pub struct BundleMissing {
    pub id: String,
    /// `product`, `sku` or `products_collection`.
    pub object: String,
    pub item_quantity: i64,
}

/// What the cart holds of the validation rule's bundle (Voucherify's `Bundle`).
#[derive(ToSchema)]
pub struct BundleResult {
    /// Complete bundles, at most `limit`: the discount's multiplier.
    pub quantity: i64,
    pub limit: Option<i64>,
    pub identified: Vec<BundleIdentified>,
    /// Sent only while no bundle is complete.
    pub missing: Option<Vec<BundleMissing>>,
}

/// What a redeemable gives, or why it does not.
#[derive(ToSchema)]
pub struct RedeemableResult {
    pub discount: Option<DiscountSchema>,
    pub gift: Option<GiftResult>,
    pub loyalty_card: Option<LoyaltyResult>,
    pub error: Option<StackedError>,
    pub details: Option<ResultDetails>,
    pub failures: Option<Vec<RuleFailure>>,
    /// For a redeemable whose validation rule has a bundle.
    pub bundle: Option<BundleResult>,
    /// Our extension: the campaign guardrails that made the discount smaller.
    pub guardrails: Option<Vec<GuardrailNote>>,
}

/// A guardrail that made a discount smaller, and where.
#[derive(ToSchema)]
pub struct GuardrailNote {
    /// `out_of_stock` (the item is not discounted or given), `margin_floor` (the discount
    /// stops at the item's floor price or cost), `shipping_excluded` or `tax_excluded` (not
    /// part of an order-level discount's base).
    pub reason: String,
    /// The position of the request's order item it concerns, when it concerns one.
    pub order_item_index: Option<i64>,
    /// What it kept out of the discount's base or cap, minor units, when known.
    pub amount: Option<i64>,
}

/// One redeemable of a validation: `APPLICABLE`, `INAPPLICABLE` or `SKIPPED`.
#[derive(ToSchema)]
pub struct ValidatedRedeemable {
    pub status: String,
    pub id: String,
    pub object: String,
    pub order: Option<OrderCalculated>,
    pub applicable_to: Option<ApplicableList>,
    pub inapplicable_to: Option<ApplicableList>,
    pub result: RedeemableResult,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub categories: Vec<CategoryRef>,
    /// With `options.expand: ["redeemable"]`.
    pub campaign_name: Option<String>,
    pub campaign_id: Option<String>,
    pub name: Option<String>,
}

/// A LOCK session as answered.
#[derive(ToSchema)]
pub struct SessionOut {
    pub key: String,
    #[schema(rename = "type")]
    pub kind: String,
    pub ttl: i64,
    pub ttl_unit: String,
}

/// `POST /v1/validations`.
#[derive(ToSchema)]
pub struct ValidationsOut {
    pub id: String,
    pub valid: bool,
    pub redeemables: Vec<ValidatedRedeemable>,
    pub skipped_redeemables: Vec<ValidatedRedeemable>,
    pub inapplicable_redeemables: Vec<ValidatedRedeemable>,
    pub order: OrderCalculated,
    pub tracking_id: Option<String>,
    pub session: Option<SessionOut>,
    pub stacking_rules: StackingRulesSchema,
}

/// One qualification entry: what the redeemable would give this cart.
#[derive(ToSchema)]
pub struct QualifiedRedeemable {
    pub id: String,
    pub object: String,
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    pub name: Option<String>,
    pub banner: Option<String>,
    pub campaign_id: Option<String>,
    pub campaign_name: Option<String>,
    pub campaign_type: Option<String>,
    pub validation_rule_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub categories: Vec<CategoryRef>,
    pub result: RedeemableResult,
    pub applicable_to: Option<ApplicableList>,
    pub inapplicable_to: Option<ApplicableList>,
    pub order: Option<OrderCalculated>,
    /// A promotion stack's redeemables.
    pub redeemables: Option<Vec<ObjectRef>>,
}

#[derive(ToSchema)]
pub struct QualifiedPage {
    pub object: String,
    pub data_ref: String,
    pub data: Vec<QualifiedRedeemable>,
    pub total: i64,
    pub has_more: bool,
    /// The cursor of the next page (`options.starting_after`).
    pub more_starting_after: Option<String>,
}

/// A promotion the cart almost qualifies for, with what is missing.
#[derive(ToSchema)]
pub struct NearMiss {
    pub id: String,
    pub object: String,
    pub name: Option<String>,
    pub campaign_id: Option<String>,
    pub campaign_name: Option<String>,
    /// The tier's banner.
    pub banner: Option<String>,
    /// The tier's discount, as written.
    #[schema(value_type = Option<crate::types::common::DiscountSchema>)]
    pub discount: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// What the cart lacks, rule by rule (with the amount or units missing).
    pub missing: Vec<RuleFailure>,
    /// What the cart holds of the bundle, when a bundle is what it lacks.
    pub bundle: Option<BundleResult>,
}

/// `POST /v1/qualifications`.
#[derive(ToSchema)]
pub struct QualificationsOut {
    pub redeemables: QualifiedPage,
    pub tracking_id: Option<String>,
    pub order: OrderCalculated,
    pub stacking_rules: StackingRulesSchema,
    pub near_misses: Vec<NearMiss>,
}

/// Where a redemption came from.
#[derive(ToSchema)]
pub struct Channel {
    pub channel_id: String,
    /// `API` or `CLIENT_API`.
    pub channel_type: String,
}

/// The customer of a redemption. A customer sent with neither `id` nor `source_id` is not
/// stored: the redemption shows what was sent, without an `id`.
#[derive(ToSchema)]
pub struct CustomerRef {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    pub object: String,
}

/// The voucher a redemption used: the voucher as `GET /v1/vouchers/{code}` answered it then, but
/// its live counters (`redemption`) and rule assignments (read those from the voucher).
#[derive(ToSchema)]
pub struct RedeemedVoucher {
    pub id: String,
    pub code: String,
    pub object: String,
    #[schema(rename = "type")]
    pub kind: String,
    pub campaign: Option<String>,
    pub campaign_id: Option<String>,
    pub category: Option<String>,
    pub category_id: Option<String>,
    pub discount: Option<DiscountSchema>,
    pub gift: Option<super::campaigns::GiftOut>,
    pub loyalty_card: Option<super::campaigns::LoyaltyCardOut>,
    pub is_referral_code: bool,
    pub active: bool,
    pub holder_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub categories: Vec<CategoryRef>,
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub publish: Option<super::campaigns::PublishSummary>,
    pub additional_info: Option<String>,
    #[schema(format = DateTime)]
    pub start_date: Option<String>,
    #[schema(format = DateTime)]
    pub expiration_date: Option<String>,
    #[schema(value_type = Option<super::common::TimeframeSchema>)]
    pub validity_timeframe: Option<Value>,
    pub validity_day_of_week: Option<Vec<i64>>,
    #[schema(value_type = Option<super::common::ValidityHoursSchema>)]
    pub validity_hours: Option<Value>,
}

/// A promotion tier a redemption used: the tier as `GET /v1/promotions/tiers/{id}` answered it
/// then, but its live figures (`summary`) and rule assignments.
#[derive(ToSchema)]
pub struct RedeemedTier {
    pub id: String,
    pub name: Option<String>,
    pub banner: Option<String>,
    pub object: String,
    pub action: Option<super::campaigns::TierAction>,
    pub campaign: super::campaigns::TierCampaignRef,
    pub campaign_id: Option<String>,
    pub promotion_id: Option<String>,
    pub hierarchy: i64,
    pub active: bool,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub category_id: Option<String>,
    pub categories: Vec<CategoryRef>,
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    #[schema(format = DateTime)]
    pub start_date: Option<String>,
    #[schema(format = DateTime)]
    pub expiration_date: Option<String>,
    #[schema(value_type = Option<super::common::TimeframeSchema>)]
    pub validity_timeframe: Option<Value>,
    pub validity_day_of_week: Option<Vec<i64>>,
    #[schema(value_type = Option<super::common::ValidityHoursSchema>)]
    pub validity_hours: Option<Value>,
}

/// The key of the session a redemption consumed.
#[derive(ToSchema)]
pub struct SessionKey {
    pub key: String,
}

#[derive(ToSchema)]
pub struct GiftAmount {
    pub amount: i64,
}

/// A rollback as a redemption lists it.
#[derive(ToSchema)]
pub struct RollbackRef {
    pub id: String,
    #[schema(format = DateTime)]
    pub date: String,
    pub rollback_order_mode: Option<String>,
}

/// A redemption's related redemptions and rollbacks.
#[derive(ToSchema)]
pub struct RelatedRedemptions {
    pub redemptions: Vec<RollbackRef>,
    pub rollbacks: Vec<RollbackRef>,
}

/// A reward a redemption gave (rewards are not part of this service: never set).
#[derive(ToSchema)]
pub struct RewardOut {
    pub id: String,
    pub object: String,
}

/// A redemption or a rollback (`object`: `redemption` or `redemption_rollback`).
#[derive(ToSchema)]
pub struct RedemptionOut {
    pub id: String,
    pub object: String,
    #[schema(format = DateTime)]
    pub date: String,
    pub customer_id: Option<String>,
    pub customer: Option<CustomerRef>,
    pub tracking_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub amount: i64,
    /// The parent of a stacked redemption, or the redemption a rollback undid.
    pub redemption: Option<String>,
    pub order: Option<OrderCalculated>,
    pub channel: Channel,
    /// `SUCCESS` or `FAILURE`.
    pub result: String,
    /// `SUCCEEDED`, `FAILED` or `ROLLED_BACK`.
    pub status: String,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub related_object_type: String,
    pub related_object_id: String,
    pub voucher: Option<RedeemedVoucher>,
    pub promotion_tier: Option<RedeemedTier>,
    pub session: Option<SessionKey>,
    pub gift: Option<GiftAmount>,
    /// Loyalty programs are not part of this service: always null.
    pub loyalty_card: Option<super::campaigns::LoyaltyCardOut>,
    /// Rewards are not part of this service: always null.
    pub reward: Option<RewardOut>,
    /// Rollbacks: why.
    pub reason: Option<String>,
    /// The rollback of a rolled-back redemption.
    pub rollback: Option<String>,
    pub related_redemptions: Option<RelatedRedemptions>,
}

/// `POST /v1/redemptions`.
#[derive(ToSchema)]
pub struct RedemptionsOut {
    pub redemptions: Vec<RedemptionOut>,
    pub parent_redemption: Option<RedemptionOut>,
    pub order: OrderCalculated,
    pub inapplicable_redeemables: Vec<ValidatedRedeemable>,
    pub skipped_redeemables: Vec<ValidatedRedeemable>,
}

/// A rollback body.
#[derive(ToSchema)]
pub struct RollbackIn {
    pub reason: Option<String>,
    pub tracking_id: Option<String>,
    pub customer: Option<super::catalog::CustomerIn>,
    pub order: Option<RollbackOrderIn>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// The order of a rollback: only its metadata changes.
#[derive(ToSchema)]
pub struct RollbackOrderIn {
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// `POST /v1/redemptions/{id}/rollbacks` (a stacked redemption).
#[derive(ToSchema)]
pub struct RollbacksOut {
    pub rollbacks: Vec<RedemptionOut>,
    pub parent_rollback: RedemptionOut,
    pub order: Option<OrderCalculated>,
}

/// `GET /v1/vouchers/{code}/redemption`: a voucher's redemptions and its quantity figures.
#[derive(serde::Serialize, ToSchema)]
pub struct VoucherRedemptionsOut {
    pub quantity: Option<i64>,
    pub redeemed_quantity: i64,
    /// Units held by live LOCK validation sessions, not redeemed yet.
    pub reserved_quantity: i64,
    pub object: &'static str,
    pub url: String,
    pub data_ref: &'static str,
    pub total: i64,
    #[schema(value_type = Vec<RedemptionOut>)]
    pub redemption_entries: Vec<Value>,
}

/// `GET /client/v1/validate` (legacy): the one code's answer; an invalid code is `valid: false`
/// with a `reason`.
#[derive(ToSchema)]
pub struct LegacyValidationOut {
    pub valid: bool,
    pub code: String,
    pub applicable_to: Option<ApplicableList>,
    pub inapplicable_to: Option<ApplicableList>,
    pub order: Option<OrderCalculated>,
    pub tracking_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub campaign: Option<String>,
    pub campaign_id: Option<String>,
    pub discount: Option<DiscountSchema>,
    pub gift: Option<GiftResult>,
    pub loyalty_card: Option<LoyaltyResult>,
    pub session: Option<SessionOut>,
    pub reason: Option<String>,
    pub error: Option<StackedError>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RedemptionsList {
    pub object: &'static str,
    pub data_ref: &'static str,
    #[schema(value_type = Vec<crate::types::checkout::RedemptionOut>)]
    pub redemptions: Vec<Value>,
    pub total: i64,
}

/// The filters of `GET /v1/redemptions` (read from the query pairs, in any combination; an
/// unknown one is a 400). Also accepted: Voucherify's `filters[field][conditions][$is|$in]=…`.
#[allow(dead_code)] // documents the query; the handler reads the pairs
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RedemptionFilters {
    /// `SUCCESS` or `FAILURE`; repeat it for both.
    #[param(style = Form, explode)]
    result: Option<Vec<String>>,
    /// A campaign name (or `campaign_name`).
    campaign: Option<String>,
    /// A customer id or source id (or `customer_id`).
    customer: Option<String>,
    voucher_code: Option<String>,
    /// A voucher or promotion tier id.
    related_object_id: Option<String>,
    /// The parent of stacked redemptions (`r_…`).
    parent_redemption_id: Option<String>,
    failure_code: Option<String>,
    /// RFC 3339.
    #[param(rename = "created_at[before]")]
    created_at_before: Option<String>,
    /// RFC 3339.
    #[param(rename = "created_at[after]")]
    created_at_after: Option<String>,
    /// `created_at`, `id`, `voucher_code`, `tracking_id` (`-` first: descending).
    order: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::QualificationScenario as S;

    #[test]
    fn the_documented_scenarios_are_the_engines() {
        let documented = [
            S::All,
            S::CustomerWallet,
            S::AudienceOnly,
            S::Products,
            S::ProductsDiscount,
            S::PromotionStacks,
            S::ProductsByCustomer,
            S::ProductsDiscountByCustomer,
        ];
        let names: Vec<String> = documented
            .iter()
            .map(|s| serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
            .collect();
        let engine: Vec<&str> = promo_engine::Scenario::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, engine);
    }
}
