//! Customers, products and SKUs on the wire.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The stored customer fields, as written; unset ones answer `null` (as Voucherify documents).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct CustomerFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub address: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct GiftSummary {
    pub redeemed_amount: i64,
    pub amount_to_go: i64,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct LoyaltySummary {
    pub redeemed_points: i64,
    pub points_to_go: i64,
}

/// A customer's redemptions, counted from the ledger.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CustomerRedemptionsSummary {
    pub total_redeemed: i64,
    pub total_failed: i64,
    pub total_succeeded: i64,
    pub total_rolled_back: i64,
    pub total_rollback_failed: i64,
    pub total_rollback_succeeded: i64,
    pub gift: GiftSummary,
    pub loyalty_card: LoyaltySummary,
}

/// A customer's orders (amounts in minor units).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CustomerOrdersSummary {
    pub total_amount: i64,
    pub total_count: i64,
    pub average_amount: i64,
    pub last_order_amount: i64,
    /// Read back by `GET /v1/customers/{id}` (`null` before a first order).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_order_date: Option<Option<String>>,
}

/// Voucherify's customer summary.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CustomerSummary {
    pub redemptions: CustomerRedemptionsSummary,
    pub orders: CustomerOrdersSummary,
}

/// A customer with Voucherify's summary.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    pub id: String,
    pub source_id: Option<String>,
    #[serde(flatten)]
    pub fields: CustomerFields,
    pub summary: CustomerSummary,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub object: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomersList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub customers: Vec<CustomerOut>,
    pub total: i64,
    pub has_more: bool,
}

/// A product's attribute names, or a SKU's attribute values.
#[allow(dead_code)] // documents `attributes`, kept as written
#[derive(ToSchema)]
#[serde(untagged)]
pub enum AttributesSchema {
    Names(Vec<String>),
    Values(std::collections::BTreeMap<String, String>),
}

/// The stored fields of a product or SKU.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct CatalogFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A SKU's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Minor units.
    pub price: Option<i64>,
    pub currency: Option<String>,
    #[schema(value_type = Option<AttributesSchema>)]
    pub attributes: Option<Value>,
    pub image_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Our extension, when set: units in stock, unit cost and floor price (minor units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_price: Option<i64>,
}

/// A product or a SKU: id, source id, its fields, timestamps.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogItemOut {
    pub id: String,
    pub source_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(flatten)]
    pub fields: CatalogFields,
    /// A product's SKUs (listed at `/v1/products/{id}/skus`; empty here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skus: Option<ProductSkus>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub object: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductsList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub products: Vec<CatalogItemOut>,
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkusList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub skus: Vec<CatalogItemOut>,
    pub total: i64,
}

/// The SKUs list a product carries (empty: they are listed at `/v1/products/{id}/skus`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSkus {
    pub object: &'static str,
    pub data_ref: &'static str,
    #[schema(no_recursion)]
    pub data: Vec<CatalogItemOut>,
    pub total: i64,
}

/// A customer as a request writes it (created or updated by `source_id`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    pub source_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    pub birthday: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub address: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}
