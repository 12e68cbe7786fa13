//! Webhook endpoints, async actions, segments, product collections, orders, promotion stacks and
//! publications on the wire.

use super::campaigns::VoucherOut;
use super::checkout::OrderCalculated;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// What an async action does (`services::jobs` runs each; a test keeps the two lists equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum AsyncActionKind {
    #[serde(rename = "CAMPAIGN.VOUCHERS_GENERATE")]
    CampaignVouchersGenerate,
    #[serde(rename = "CAMPAIGN.VOUCHERS_IMPORT")]
    CampaignVouchersImport,
    #[serde(rename = "CAMPAIGN.VOUCHERS_IMPORT_CSV")]
    CampaignVouchersImportCsv,
    #[serde(rename = "VOUCHERS.IMPORT")]
    VouchersImport,
    #[serde(rename = "VOUCHERS.IMPORT_CSV")]
    VouchersImportCsv,
}

/// Where an async action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AsyncActionStatus {
    Enqueued,
    InProgress,
    Done,
    Failed,
}

/// A list envelope without a total (the webhook logs page by cursor position only).
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOut<T> {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub data: Vec<T>,
}

impl<T> PageOut<T> {
    pub fn new(data: Vec<T>) -> Self {
        PageOut { object: "list", data_ref: "data", data }
    }
}

/// A webhook endpoint; `secret` (`whsec_…`) only where the management credential reads one.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    pub id: String,
    pub object: &'static str,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhooksList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub total: i64,
    pub data: Vec<WebhookOut>,
}

/// An event queued for an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEventOut {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub object_id: Option<String>,
    /// `DELIVERED` or `PENDING`.
    pub status: &'static str,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    pub delivered_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The body POSTed to the endpoint.
    #[schema(value_type = Object)]
    pub payload: Value,
    pub object: &'static str,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryOut {
    pub event_id: String,
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    #[schema(format = DateTime)]
    pub attempted_at: String,
    pub object: &'static str,
}

/// What an async action reported when it finished (stored as it was written).
#[allow(dead_code)] // documents the stored result document
#[derive(ToSchema)]
pub struct AsyncActionResult {
    pub message: String,
    /// Codes generated.
    pub count: Option<i64>,
    pub campaign_id: Option<String>,
    /// Codes imported.
    pub imported: Option<i64>,
    /// Rows that cannot be imported (nothing is imported then).
    pub failed: Option<i64>,
    pub errors: Option<Vec<ImportError>>,
}

/// A row an import refused.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ImportError {
    /// 1-based.
    pub row: i64,
    pub code: Option<String>,
    pub message: String,
}

/// An async action: code generation or an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct AsyncActionOut {
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = AsyncActionKind)]
    pub kind: String,
    #[schema(value_type = AsyncActionStatus)]
    pub status: String,
    pub operation_status: String,
    #[schema(value_type = Option<AsyncActionResult>)]
    pub result: Option<Value>,
    /// 0–100.
    pub progress: i64,
    /// Milliseconds, once done.
    pub processing_time: Option<i64>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub request_id: Option<String>,
    pub object: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AsyncActionsList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub async_actions: Vec<AsyncActionOut>,
}

/// A product or SKU named by a collection or a rule: by id, or by `source_id`.
#[allow(dead_code)] // schema of documents kept as written
#[derive(ToSchema)]
pub struct ItemRefSchema {
    /// `product`, `sku` or `products_collection`.
    pub object: Option<String>,
    pub id: Option<String>,
    pub source_id: Option<String>,
    /// A SKU's product.
    pub product_id: Option<String>,
}

/// A segment as written: `static` with `customers`, or `auto-update` / `passive` with a `filter`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SegmentIn {
    pub name: String,
    /// `static` (default), `auto-update` or `passive`.
    #[schema(rename = "type")]
    pub kind: Option<String>,
    /// Customer ids or source ids (static segments).
    pub customers: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
}

/// A segment.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SegmentOut {
    pub id: String,
    pub name: String,
    #[schema(rename = "type")]
    pub kind: String,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    pub initial_sync_status: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub object: String,
}

/// A product collection as written: `STATIC` with `products`, or `AUTO_UPDATE` with a `filter`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct CollectionIn {
    pub name: String,
    /// `STATIC` (default) or `AUTO_UPDATE`.
    #[schema(rename = "type")]
    pub kind: Option<String>,
    pub products: Option<Vec<ItemRefSchema>>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
}

/// A product collection.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct CollectionOut {
    pub id: String,
    pub name: String,
    #[schema(rename = "type")]
    pub kind: String,
    pub products: Option<Vec<ItemRefSchema>>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub object: String,
}

/// The tiers of a promotion stack.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct StackTiersSchema {
    /// Tier ids of the stack's campaign, in order.
    pub ids: Vec<String>,
    /// `MANUAL`.
    pub hierarchy_mode: Option<String>,
}

/// A promotion stack as written.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct StackIn {
    pub name: Option<String>,
    pub tiers: Option<StackTiersSchema>,
    pub category_id: Option<String>,
}

/// A promotion stack: tiers applied together.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct StackOut {
    pub id: String,
    pub name: String,
    pub tiers: StackTiersSchema,
    pub campaign_id: Option<String>,
    pub category_id: Option<String>,
    pub categories: Vec<super::campaigns::CategoryRef>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub object: String,
}

/// Which codes of a campaign to publish.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PublicationCampaignIn {
    pub name: Option<String>,
    pub id: Option<String>,
    /// Codes to publish (at most 50).
    pub count: Option<i64>,
}

/// A campaign named by its name, or with a count.
#[allow(dead_code)]
#[derive(ToSchema)]
#[serde(untagged)]
pub enum PublicationCampaign {
    Name(String),
    Spec(PublicationCampaignIn),
}

/// A publication: a code (or codes of a campaign) given to a customer.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PublicationIn {
    pub customer: Option<super::catalog::CustomerIn>,
    /// One code.
    pub voucher: Option<String>,
    pub campaign: Option<PublicationCampaign>,
    /// Makes the publication idempotent.
    pub source_id: Option<String>,
    pub channel: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// A publication.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PublicationOut {
    pub id: String,
    pub object: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub customer_id: String,
    pub tracking_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub channel: String,
    pub source_id: Option<String>,
    pub result: String,
    pub customer: Option<super::checkout::CustomerRef>,
    pub vouchers_id: Vec<String>,
    pub voucher: Option<VoucherOut>,
    /// The codes published (the voucher object shows the first).
    pub vouchers: Option<Vec<String>>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PublicationsList {
    pub object: String,
    pub data_ref: String,
    pub publications: Vec<PublicationOut>,
    pub total: i64,
}

/// A code in a customer's wallet.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct WalletRedeemable {
    pub voucher: VoucherOut,
}

/// One entry of a customer's wallet.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct CustomerRedeemable {
    pub id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub redeemable_id: String,
    pub redeemable_object: String,
    pub customer_id: String,
    pub holder_role: String,
    pub campaign_id: Option<String>,
    pub campaign_type: String,
    pub voucher_type: String,
    pub redeemable: WalletRedeemable,
    pub object: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct CustomerRedeemablesList {
    pub object: String,
    pub data_ref: String,
    pub data: Vec<CustomerRedeemable>,
    pub total: i64,
    pub has_more: bool,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct OrdersListSchema {
    pub object: String,
    pub data_ref: String,
    pub orders: Vec<OrderCalculated>,
    pub total: i64,
}

/// The message shoppers see when a rule fails.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct RuleErrorSchema {
    pub message: Option<String>,
}

/// A product, SKU or collection a validation rule's discount reaches.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ApplicableTargetSchema {
    /// `product`, `sku` or `products_collection`.
    pub object: Option<String>,
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub product_id: Option<String>,
    pub product_source_id: Option<String>,
    pub price: Option<i64>,
    pub price_formula: Option<String>,
    pub effect: Option<String>,
    pub quantity_limit: Option<i64>,
    pub aggregated_quantity_limit: Option<i64>,
    pub amount_limit: Option<i64>,
    pub aggregated_amount_limit: Option<i64>,
    /// Every n-th unit (or item) of the matched lines, in the effect's order.
    pub repeat: Option<i64>,
    /// The first n units (or items) are not discounted.
    pub skip_initially: Option<i64>,
    /// What `repeat` and `skip_initially` count: `UNIT` (default) or `ITEM`.
    pub target: Option<String>,
    /// Sent by old clients; no effect.
    pub strict: Option<bool>,
}

/// What a validation rule's discount reaches.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ApplicableToRulesSchema {
    pub included: Option<Vec<ApplicableTargetSchema>>,
    pub excluded: Option<Vec<ApplicableTargetSchema>>,
    pub included_all: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublishQuery {
    /// The customer gets the codes of their first publication from this campaign again.
    pub join_once: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicationsQuery {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000, default = 1)]
    pub page: Option<i64>,
    /// Customer id or source id.
    pub customer: Option<String>,
    /// Campaign id or name.
    pub campaign: Option<String>,
    /// Voucher code.
    pub voucher: Option<String>,
    pub source_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignmentsQuery {
    pub related_object_id: Option<String>,
    pub rule: Option<String>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
    /// From 1.
    #[param(minimum = 1, maximum = 1000, default = 1)]
    pub page: Option<i64>,
}

/// An assignment: `{related_object_type, related_object_id}`, or the legacy `{voucher: code}`
/// / `{campaign: id}` / `{promotion_tier: id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentIn {
    pub related_object_type: Option<String>,
    pub related_object_id: Option<String>,
    pub voucher: Option<String>,
    pub campaign: Option<String>,
    pub promotion_tier: Option<String>,
}

/// A validation rule; `rules`, `applicable_to` and `bundle_rules` as documented. Any other
/// field is refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidationRuleIn {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub context_type: Option<String>,
    #[schema(value_type = Option<crate::types::admin::RuleErrorSchema>)]
    pub error: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub rules: Option<Value>,
    #[schema(value_type = Option<crate::types::admin::ApplicableToRulesSchema>)]
    pub applicable_to: Option<Value>,
    /// A bundle the cart must hold: `{"limit": n, "1": {"name": "order.items.any", "conditions":
    /// {"$is": [{"id", "type", "object"}]}, "rules": {"1": {"name": "order.items.quantity",
    /// "conditions": {"$more_than_or_equal": [k]}}}}, "2": …}`. Complete bundles (up to
    /// `limit`, at most 100) multiply the discount; a FIXED discount applied to items prices
    /// each bundle. `{}` removes it; `null` keeps it.
    #[schema(value_type = Option<Object>)]
    pub bundle_rules: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationRuleOut {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub context_type: String,
    #[schema(value_type = Object)]
    pub rules: Value,
    #[schema(value_type = Option<crate::types::admin::RuleErrorSchema>)]
    pub error: Option<Value>,
    #[schema(value_type = crate::types::admin::ApplicableToRulesSchema)]
    pub applicable_to: Value,
    /// The bundle the cart must hold (`{}`: none); see `ValidationRuleIn.bundle_rules`.
    #[schema(value_type = Object)]
    pub bundle_rules: Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub assignments_count: i64,
    pub object: &'static str,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductIn {
    pub source_id: Option<String>,
    pub name: Option<String>,
    /// Minor units.
    pub price: Option<i64>,
    pub attributes: Option<Vec<String>>,
    pub image_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Our extension: units in stock (zero or less: out of stock; never set: not tracked).
    pub stock: Option<i64>,
    /// Our extension: unit cost, minor units (for a `COST` margin floor and profit figures).
    pub cost: Option<i64>,
    /// Our extension: the lowest unit price a discount may leave, minor units.
    pub floor_price: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuIn {
    pub source_id: Option<String>,
    pub sku: Option<String>,
    /// Minor units.
    pub price: Option<i64>,
    pub currency: Option<String>,
    /// Attribute values by name (`{"color": "red"}`).
    pub attributes: Option<std::collections::BTreeMap<String, String>>,
    pub image_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Our extension: units in stock (zero or less: out of stock; never set: not tracked).
    pub stock: Option<i64>,
    /// Our extension: unit cost, minor units (for a `COST` margin floor and profit figures).
    pub cost: Option<i64>,
    /// Our extension: the lowest unit price a discount may leave, minor units.
    pub floor_price: Option<i64>,
}

/// Stock levels from an inventory system: all applied, or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryIn {
    /// 1 to 1000 products or SKUs.
    pub items: Vec<InventoryItemIn>,
}

/// One stock level: a product or SKU by id, or by `source_id` with `related_object`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryItemIn {
    pub product_id: Option<String>,
    pub sku_id: Option<String>,
    pub source_id: Option<String>,
    /// `product` (default) or `sku`: what `source_id` names.
    pub related_object: Option<String>,
    /// Units in stock; zero or less is out of stock.
    pub stock: i64,
}

/// What a stock update changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct InventoryOut {
    pub products: i64,
    pub skus: i64,
    pub object: &'static str,
}

/// The orders list envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrdersList {
    pub object: &'static str,
    pub data_ref: &'static str,
    #[schema(value_type = Vec<crate::types::checkout::OrderCalculated>)]
    pub orders: Vec<Value>,
    pub total: i64,
}

/// A webhook endpoint as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointIn {
    /// Where events are POSTed (`https://`, or `http://`).
    pub url: Option<String>,
    /// Event types, from the list in the README; `["*"]` for all.
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}
