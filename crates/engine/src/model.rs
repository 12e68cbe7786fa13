//! What a checkout sends: the order, its items, the customer. Wire names, minor units.
//!
//! Explicit `null` is treated as absent everywhere (the Python SDK sends `null` for every unset
//! field), unknown fields are ignored.

use serde::{Deserialize, Deserializer, Serialize};

/// Free-form metadata, as JSON.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// Deserializes `null` as the type's default (used with `#[serde(default)]`).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// What only the catalog says of a product (`cost`, `floor_price`, `stock`): a cart sending
/// one is refused by name rather than believed or ignored (`null` counts as absent).
fn catalog_only<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<serde::de::IgnoredAny>::deserialize(deserializer)? {
        None => Ok(None),
        Some(_) => Err(serde::de::Error::custom(
            "is the catalog's, not the order's: set it on the product or SKU (or through POST /v1/inventory)",
        )),
    }
}

/// An optional decimal that must be a JSON number (rust_decimal's own deserializer also takes
/// strings, which would then be stored and echoed as strings).
pub fn number_option<'de, D>(deserializer: D) -> Result<Option<rust_decimal::Decimal>, D::Error>
where
    D: Deserializer<'de>,
{
    use serde::de::Error;
    match Option::<serde_json::Number>::deserialize(deserializer)? {
        None => Ok(None),
        Some(n) => {
            let text = n.to_string();
            let parsed = std::str::FromStr::from_str(&text).or_else(|_| rust_decimal::Decimal::from_scientific(&text));
            parsed.map(Some).map_err(|_| D::Error::custom(format!("{n} is not a number this service can hold")))
        }
    }
}

/// An optional RFC 3339 time with a four-digit year (chrono's own deserializer also takes
/// `+99999-01-01T00:00:00Z`, which PostgreSQL and clients cannot read back).
pub fn rfc3339_option<'de, D>(deserializer: D) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    use serde::de::Error;
    match Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)? {
        None => Ok(None),
        Some(s) => chrono::DateTime::parse_from_rfc3339(&s)
            .ok()
            .filter(|t| (1..=9999).contains(&chrono::Datelike::year(t)))
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .ok_or_else(|| D::Error::custom(format!("`{s}` is not an RFC 3339 date-time (e.g. 2026-12-31T23:59:59Z)"))),
    }
}

/// An order as sent in a validation, redemption or qualification.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub status: Option<String>,
    /// Order amount before discounts; Σ item amounts when omitted.
    pub amount: Option<i64>,
    pub initial_amount: Option<i64>,
    /// Order-level discount already on the order from earlier redemptions.
    pub discount_amount: Option<i64>,
    /// ISO 4217; when sent, it must be the project's (amounts are never converted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Our extension: the shipping in `amount` (not itemised); order-level discounts leave it
    /// alone unless the campaign's guardrails say otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_amount: Option<i64>,
    /// Our extension: the tax in `amount` (not itemised); never discounted unless the
    /// campaign's guardrails say otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub items: Vec<OrderItem>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// The catalog entries the caller read for this order and its discounts' products (see
    /// [`crate::catalog::CatalogEntries::resolve_order`]); never on the wire.
    #[serde(skip)]
    pub known_products: crate::catalog::CatalogEntries,
}

/// One order line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub sku_id: Option<String>,
    pub product_id: Option<String>,
    /// Source id of the product or SKU named by `related_object`.
    pub source_id: Option<String>,
    pub related_object: Option<String>,
    pub quantity: Option<i64>,
    /// Unit price, minor units.
    pub price: Option<i64>,
    /// Line amount, minor units; `price × quantity` when omitted.
    pub amount: Option<i64>,
    /// Item-level discount already on the line from earlier redemptions.
    pub discount_amount: Option<i64>,
    pub product: Option<ProductInfo>,
    pub sku: Option<SkuInfo>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// Never set: a line naming one of these is refused (they are the catalog's).
    #[serde(default, skip_serializing, deserialize_with = "catalog_only")]
    pub stock: Option<i64>,
    #[serde(default, skip_serializing, deserialize_with = "catalog_only")]
    pub cost: Option<i64>,
    #[serde(default, skip_serializing, deserialize_with = "catalog_only")]
    pub floor_price: Option<i64>,
}

/// Product data sent with (or resolved for) an order item (answered without its unset fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// From the catalog only (a cart cannot claim them): units in stock (`None`: not tracked),
    /// unit cost and the lowest unit price a discount may leave.
    #[serde(default, skip_serializing, deserialize_with = "catalog_only")]
    pub stock: Option<i64>,
    #[serde(default, skip_serializing, deserialize_with = "catalog_only")]
    pub cost: Option<i64>,
    #[serde(default, skip_serializing, deserialize_with = "catalog_only")]
    pub floor_price: Option<i64>,
}

/// SKU data sent with (or resolved for) an order item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SkuInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// From the catalog only (a cart cannot claim them): units in stock (`None`: not tracked),
    /// unit cost and the lowest unit price a discount may leave.
    #[serde(default, skip_serializing, deserialize_with = "catalog_only")]
    pub stock: Option<i64>,
    #[serde(default, skip_serializing, deserialize_with = "catalog_only")]
    pub cost: Option<i64>,
    #[serde(default, skip_serializing, deserialize_with = "catalog_only")]
    pub floor_price: Option<i64>,
}

/// The customer, with the segments the caller resolved for them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(default, skip_serializing)]
    pub phone: Option<String>,
    pub birthdate: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// Segment ids the customer belongs to (resolved by the caller).
    #[serde(default, deserialize_with = "null_as_default")]
    pub segments: Vec<String>,
    pub loyalty_tier: Option<String>,
    /// Previous orders (the customer's summary), when the caller read it (rules that need it).
    #[serde(skip)]
    pub orders_count: Option<i64>,
    /// The day the customer joined (their record was created), in the project's time zone;
    /// set by the caller for anniversary rules.
    #[serde(skip)]
    pub joined_on: Option<chrono::NaiveDate>,
    /// The person per-customer counters count, when the project counts by more than the
    /// account (set by the caller from [`crate::identity::IdentityRule`]).
    #[serde(skip)]
    pub identity: Option<String>,
}

impl Customer {
    /// The identifier for per-customer counters: the person's identity when the project counts
    /// by one, else the account's id, else source id, else email.
    pub fn counter_identity(&self) -> Option<&str> {
        self.identity.as_deref().or(self.id.as_deref()).or(self.source_id.as_deref()).or(self.email.as_deref())
    }
}
