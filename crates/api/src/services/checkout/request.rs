//! The bodies of validations, redemptions and qualifications (reference §3.1, §3.6), checked.

use crate::error::ApiError;
use crate::error::invalid;
use promo_engine::model::null_as_default;
use promo_engine::{Metadata, Order};
use serde::Deserialize;
use serde_json::Value;

/// Most redeemables a request may name (stacking rules may allow fewer).
pub const MAX_REDEEMABLES: usize = 30;
const ORDER_STATUSES: &[&str] = &["CREATED", "PAID", "CANCELED", "FULFILLED"];
const EXPAND: &[&str] = &["order", "redeemable", "category", "redemption", "validation_rules"];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GiftIn {
    pub credits: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardIn {
    pub id: Option<String>,
    pub points: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemableIn {
    pub object: Option<String>,
    pub id: Option<String>,
    pub gift: Option<GiftIn>,
    pub reward: Option<RewardIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionIn {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub key: Option<String>,
    pub ttl: Option<i64>,
    pub ttl_unit: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionsIn {
    #[serde(default, deserialize_with = "null_as_default")]
    pub expand: Vec<String>,
    pub limit: Option<i64>,
    pub starting_after: Option<String>,
    pub sorting_rule: Option<String>,
    pub filters: Option<Value>,
}

/// A validation or redemption body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackRequest {
    #[serde(default, deserialize_with = "null_as_default")]
    pub redeemables: Vec<RedeemableIn>,
    pub order: Option<Order>,
    pub customer: Option<Value>,
    pub session: Option<SessionIn>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub options: OptionsIn,
    pub tracking_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// Qualifications only.
    pub scenario: Option<String>,
}

/// What a redeemable entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Voucher,
    PromotionTier,
    PromotionStack,
}

impl StackRequest {
    pub fn parse(body: Value) -> Result<Self, ApiError> {
        let req: StackRequest = serde_path_to_error::deserialize(body)
            .map_err(|e| invalid(format!("Property .{}: {}", e.path(), e.inner())))?;
        if let Some(order) = &req.order {
            check_order(order)?;
        }
        if let Some(c) = &req.customer
            && !c.is_object()
        {
            return Err(invalid("Property .customer must be an object"));
        }
        for e in &req.options.expand {
            if !EXPAND.contains(&e.as_str()) {
                return Err(invalid(format!("Property .options.expand `{e}` must be one of {}", EXPAND.join(", "))));
            }
        }
        if let Some(s) = &req.session
            && s.kind.as_deref().is_some_and(|k| k != "LOCK")
        {
            return Err(invalid("Property .session.type must be LOCK"));
        }
        Ok(req)
    }

    /// Refuses what the operation does not read (the three share one body type): a qualification
    /// names no redeemables or session; a validation or redemption takes no scenario and, of the
    /// options, only `expand`.
    pub fn refuse_unread(&self, qualification: bool) -> Result<(), ApiError> {
        let unread = if qualification {
            [(!self.redeemables.is_empty(), "redeemables"), (self.session.is_some(), "session")].to_vec()
        } else {
            [
                (self.scenario.is_some(), "scenario"),
                (self.options.limit.is_some(), "options.limit"),
                (self.options.starting_after.is_some(), "options.starting_after"),
                (self.options.sorting_rule.is_some(), "options.sorting_rule"),
                (self.options.filters.is_some(), "options.filters"),
            ]
            .to_vec()
        };
        match unread.into_iter().find(|(set, _)| *set) {
            None => Ok(()),
            Some((_, field)) => Err(invalid(format!(
                "Property .{field} is not read by {}",
                if qualification { "a qualification" } else { "a validation or redemption" }
            ))),
        }
    }

    /// The redeemables with their kind, checked (1..=30, known objects, ids present).
    pub fn redeemables(&self) -> Result<Vec<(ObjectKind, &RedeemableIn)>, ApiError> {
        if self.redeemables.is_empty() {
            return Err(invalid("Property .redeemables should have at least one item"));
        }
        if self.redeemables.len() > MAX_REDEEMABLES {
            return Err(invalid(format!("Property .redeemables should have at most {MAX_REDEEMABLES} items")));
        }
        self.redeemables
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let kind = match r.object.as_deref() {
                    Some("voucher") => ObjectKind::Voucher,
                    Some("promotion_tier") => ObjectKind::PromotionTier,
                    Some("promotion_stack") => ObjectKind::PromotionStack,
                    Some(other) => {
                        return Err(invalid(format!(
                            "Property .redeemables[{i}].object `{other}` must be voucher, promotion_tier or promotion_stack"
                        )));
                    }
                    None => return Err(invalid(format!("Property .redeemables[{i}] should have required property 'object'"))),
                };
                if r.id.as_deref().is_none_or(|id| id.trim().is_empty()) {
                    return Err(invalid(format!("Property .redeemables[{i}] should have required property 'id'")));
                }
                if r.gift.as_ref().and_then(|g| g.credits).is_some_and(|c| c < 0) {
                    return Err(invalid(format!("Property .redeemables[{i}].gift.credits must not be negative")));
                }
                Ok((kind, r))
            })
            .collect()
    }

    pub fn expands(&self, what: &str) -> bool {
        self.options.expand.iter().any(|e| e == what)
    }

    /// The session to lock, if asked for: its key (given or new) and its time to live.
    pub fn lock(&self) -> Result<Option<(String, chrono::Duration, i64, String)>, ApiError> {
        let Some(s) = &self.session else { return Ok(None) };
        let ttl = s.ttl.unwrap_or(7);
        if ttl < 1 {
            return Err(invalid("Property .session.ttl must be a positive integer"));
        }
        let unit = s.ttl_unit.clone().unwrap_or_else(|| "DAYS".into());
        let d = match unit.as_str() {
            "DAYS" => chrono::Duration::try_days(ttl),
            "HOURS" => chrono::Duration::try_hours(ttl),
            "MINUTES" => chrono::Duration::try_minutes(ttl),
            "SECONDS" => chrono::Duration::try_seconds(ttl),
            "MILLISECONDS" => chrono::Duration::try_milliseconds(ttl),
            "MICROSECONDS" => Some(chrono::Duration::microseconds(ttl)),
            "NANOSECONDS" => Some(chrono::Duration::nanoseconds(ttl)),
            _ => {
                return Err(invalid(
                    "Property .session.ttl_unit must be DAYS, HOURS, MINUTES, SECONDS, MILLISECONDS, MICROSECONDS or NANOSECONDS",
                ));
            }
        };
        let d = d
            .filter(|d| *d <= chrono::Duration::days(365))
            .ok_or_else(|| invalid("Property .session.ttl is too long (at most 365 days)"))?;
        let key = match &s.key {
            Some(k) if k.trim().is_empty() || k.len() > 200 => {
                return Err(invalid("Property .session.key must be a non-empty string of at most 200 characters"));
            }
            Some(k) => k.clone(),
            None => format!("ssn_{}", uuid::Uuid::new_v4().simple()),
        };
        Ok(Some((key, d, ttl, unit)))
    }
}

fn check_order(order: &Order) -> Result<(), ApiError> {
    if let Some(s) = &order.status
        && !ORDER_STATUSES.contains(&s.as_str())
    {
        return Err(invalid(format!("Property .order.status must be one of {}", ORDER_STATUSES.join(", "))));
    }
    for (i, item) in order.items.iter().enumerate() {
        if let Some(r) = &item.related_object
            && r != "product"
            && r != "sku"
        {
            return Err(invalid(format!("Property .order.items[{i}].related_object must be product or sku")));
        }
    }
    Ok(())
}
