//! Services: what the API does, below HTTP. They take typed input and a tenant, call the store and
//! the engine, and return typed output or an `ApiError`. Nothing here imports `routes`, `auth`,
//! `edge` or `extract` (`tests/api/layers.rs` checks it).

pub mod analytics;
pub mod audiences;
pub mod audit;
pub mod block_cache;
pub mod campaigns;
pub mod categories;
pub mod checkout;
pub mod codes;
pub mod customers;
pub mod definitions;
pub mod events;
pub mod exports;
pub mod jobs;
pub mod lockout;
pub mod products;
pub mod projects;
pub mod publications;
pub mod publishing;
pub mod redemptions;
pub mod stacks;
pub mod tally;
pub mod validation_rules;
pub mod vouchers;
pub mod webhook_endpoints;
pub mod webhooks;
