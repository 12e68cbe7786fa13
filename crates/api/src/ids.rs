//! Wire ids: a prefix and the internal UUIDv7 in simple hex (`cat_0190f5…`).

use crate::error::ApiError;
use uuid::Uuid;

/// Formats an id with its prefix.
pub fn wire(prefix: &str, id: Uuid) -> String {
    format!("{prefix}{}", id.simple())
}

/// Parses a prefixed id; anything else is "not found" (ids are opaque to clients).
pub fn parse(prefix: &str, resource_type: &str, s: &str) -> Result<Uuid, ApiError> {
    s.strip_prefix(prefix)
        .filter(|hex| hex.len() == 32)
        .and_then(|hex| Uuid::try_parse(hex).ok())
        .ok_or_else(|| ApiError::not_found(resource_type, s))
}

/// Parses an id if it has the prefix (paths that accept an id or a source id).
pub fn try_parse(prefix: &str, s: &str) -> Option<Uuid> {
    s.strip_prefix(prefix).filter(|hex| hex.len() == 32).and_then(|hex| Uuid::try_parse(hex).ok())
}

pub const CATEGORY: &str = "cat_";
pub const VALIDATION_RULE: &str = "val_";
pub const ASSIGNMENT: &str = "asgm_";
pub const CUSTOMER: &str = "cust_";
pub const PRODUCT: &str = "prod_";
pub const SKU: &str = "sku_";
pub const PROJECT: &str = "proj_";
pub const STACKING_RULES: &str = "sr_";
pub const CAMPAIGN: &str = "camp_";
pub const VOUCHER: &str = "v_";
pub const TIER: &str = "promo_";
pub const SEGMENT: &str = "seg_";
pub const COLLECTION: &str = "pc_";
pub const ORDER: &str = "ord_";
pub const STACK: &str = "stack_";
pub const ASYNC_ACTION: &str = "aa_";
pub const PUBLICATION: &str = "pub_";
pub const WEBHOOK: &str = "wh_";
pub const EVENT: &str = "evt_";
pub const EXPORT: &str = "exp_";
pub const BLOCK: &str = "blk_";
