//! A campaign's revenue guardrails: what its discounts may never touch (items out of stock,
//! shipping, tax) and the margin floor no item may be discounted below, with the notes that
//! tell a checkout why a discount came out smaller.

use serde::{Deserialize, Serialize};

/// The price below which no item may be discounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MarginFloor {
    /// The product's or SKU's `floor_price`, where the catalog sets one.
    #[default]
    FloorPrice,
    /// The higher of `floor_price` and `cost`: never sold at a loss.
    Cost,
    /// No floor.
    None,
}

impl MarginFloor {
    /// The lowest unit price this floor leaves, of a product with this floor price and cost
    /// (in whatever unit both are given).
    pub fn unit_floor<T: Ord + Default>(self, floor_price: Option<T>, cost: Option<T>) -> T {
        match self {
            MarginFloor::FloorPrice => floor_price,
            MarginFloor::Cost => floor_price.max(cost),
            MarginFloor::None => None,
        }
        .unwrap_or_default()
    }
}

/// A campaign's guardrails; the default protects everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Guardrails {
    /// Discount lines whose product or SKU the catalog holds at zero stock or less.
    pub discount_out_of_stock: bool,
    /// Let order-level discounts reach shipping lines (`prod_5h1pp1ng`) and `shipping_amount`.
    pub discount_shipping: bool,
    /// Let order-level discounts reach `tax_amount`.
    pub discount_tax: bool,
    pub margin_floor: MarginFloor,
}

/// Why a guardrail made a discount smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardReason {
    /// The line's product or SKU is out of stock: not discounted, not given.
    OutOfStock,
    /// The discount stops at the item's floor price (or cost).
    MarginFloor,
    /// Shipping is not part of the order-level discount's base.
    ShippingExcluded,
    /// Tax is not part of the order-level discount's base.
    TaxExcluded,
}

/// One guardrail that took effect on a redeemable's discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GuardNote {
    pub reason: GuardReason,
    /// The cart line it concerns (`None`: the order).
    #[serde(skip)]
    pub line: Option<usize>,
    /// The amount it kept out of the discount's base or cap, minor units (when one is known).
    pub amount: Option<i64>,
}
