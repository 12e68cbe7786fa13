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
