//! Projects (tenants) and their stacking rules on the management API.

use promo_engine::StackingRules;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Project settings on create and update; absent fields keep their value (defaults on create).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectIn {
    pub name: Option<String>,
    pub description: Option<String>,
    /// IANA time zone, e.g. `Europe/Warsaw`; default `UTC`.
    pub timezone: Option<String>,
    /// ISO 4217 code; default `USD`.
    pub currency: Option<String>,
    pub case_sensitive_codes: Option<bool>,
    /// Origins allowed to call the client-side API (`*` for any).
    pub client_trusted_domains: Option<Vec<String>>,
    pub client_redeem_enabled: Option<bool>,
    /// This project's own rate limits (absent members keep the service's defaults).
    pub rate_limits: Option<RateLimitsIo>,
    /// Code-guessing lock-out (our extension): block a shopper — the customer as the request
    /// names it, and the IP (`metadata.ip`; a storefront's as the service saw it) — after
    /// `failures` checkouts naming unknown codes within `window_minutes`, for `block_minutes`
    /// (absent: until lifted with `DELETE /v1/blocks/{id}`). `{"failures": 0}` turns it off.
    pub lockout: Option<LockoutIo>,
    /// What per-customer limits count by (our extension): `customer` (the account; default),
    /// `email` (normalised: case, and the `+tags` and Gmail dots that reach one mailbox),
    /// `phone` (digits), or `metadata.<key>` (a value the checkout sends in the request's
    /// `metadata`, e.g. a device id or payment fingerprint). A shopper without it is counted by
    /// their account.
    pub customer_identity: Option<String>,
    /// Only `v2018-08-01` (the official SDKs send it); another version is refused.
    pub api_version: Option<String>,
    /// Only `v2024-01-01` (the official SDKs send it); another version is refused.
    pub webhook_version: Option<String>,
}

/// Rate limits of a project; `null` (or absent) means the service's default (see README).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsIo {
    /// Requests per second per server-side key.
    pub server_per_second: Option<i32>,
    /// Client-side requests per second per client IP.
    pub client_ip_per_second: Option<i32>,
    /// Unknown codes named in client-side checkouts per minute per client IP before further
    /// checkouts are refused with 429 (code guessing; server-side keys are not limited so).
    pub unknown_codes_per_minute: Option<i32>,
}

/// A project's code-guessing lock-out.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LockoutIo {
    /// Failed checkouts (naming unknown codes) within one window that block; 0 turns it off.
    pub failures: i32,
    /// The window, in minutes (1–1440; default 10).
    #[serde(default = "LockoutIo::default_window")]
    pub window_minutes: i32,
    /// How long a block lasts, in minutes (1–525600); absent or null: until lifted.
    pub block_minutes: Option<i32>,
}

impl LockoutIo {
    fn default_window() -> i32 {
        10
    }
}

/// An application key.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyOut {
    pub app_id: String,
    pub app_token: String,
}

/// A project.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectOut {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub timezone: String,
    pub currency: String,
    pub case_sensitive_codes: bool,
    pub client_trusted_domains: Vec<String>,
    pub client_redeem_enabled: bool,
    pub rate_limits: RateLimitsIo,
    /// The code-guessing lock-out; null: off.
    pub lockout: Option<LockoutIo>,
    /// What per-customer limits count by (see `ProjectIn.customer_identity`).
    pub customer_identity: String,
    pub api_version: &'static str,
    pub webhook_version: &'static str,
    pub is_sandbox: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Only in the create response: the keys are shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_side_key: Option<KeyOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_side_key: Option<KeyOut>,
}

/// A project's stacking rules on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct StackingRulesOut {
    pub id: String,
    #[serde(flatten)]
    #[schema(value_type = crate::types::checkout::StackingRulesSchema)]
    pub rules: StackingRules,
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}
