//! HTTP handlers, one module per resource. Handlers are thin: extract, convert, call, map.

pub mod analytics;
pub mod audiences;
pub mod audit;
pub mod blocks;
pub mod campaigns;
pub mod categories;
pub mod checkout;
pub mod codes;
pub mod customers;
pub mod dashboard;
pub mod docs;
pub mod events;
pub mod exports;
pub mod health;
pub mod legacy_client;
pub mod products;
pub mod projects;
pub mod publications;
pub mod redemptions;
pub mod stacks;
pub mod tiers;
pub mod validation_rules;
pub mod vouchers;
pub mod webhooks;

pub use crate::types::common::ListOut;
