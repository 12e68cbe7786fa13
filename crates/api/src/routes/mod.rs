//! HTTP handlers, one module per resource. Handlers are thin: extract, convert, call, map.

pub mod audiences;
pub mod campaigns;
pub mod categories;
pub mod checkout;
pub mod codes;
pub mod customers;
pub mod health;
pub mod legacy_client;
pub mod products;
pub mod projects;
pub mod publications;
pub mod stacks;
pub mod tiers;
pub mod validation_rules;
pub mod vouchers;
pub mod webhooks;

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
