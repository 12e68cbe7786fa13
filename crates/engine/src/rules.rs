//! Validation rules: the `rules` tree with `logic`, compiled once, evaluated against the running
//! cart. Failures explain themselves (key, message, distance to satisfaction); counter-based rules
//! read counter values given by the caller and say which counters a redemption consumes.

use crate::bundle::BundleRules;
use crate::cart::Cart;
use crate::catalog::{Catalog, ItemRef};
use crate::condition::{Clock, Conditions, Op, Operand};
use crate::error::{DefinitionError, DefinitionErrorKind};
use crate::logic::Logic;
use crate::model::{Customer, Metadata, null_as_default};
use crate::money::to_wire;
use crate::targeting::{ApplicableTo, ApplicableToDef};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// Deepest rule nesting accepted.
pub const MAX_RULE_DEPTH: usize = 8;

/// `{"message": "..."}` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorMessageDef {
    pub message: Option<String>,
}

/// A validation rule on the wire (`POST /v1/validation-rules`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationRuleDef {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub context_type: Option<String>,
    pub error: Option<ErrorMessageDef>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub rules: serde_json::Map<String, Value>,
    pub applicable_to: Option<ApplicableToDef>,
    pub bundle_rules: Option<Value>,
}

/// The machine key of a redeemable failure (reference §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKey {
    NotFound,
    VoucherDisabled,
    VoucherExpired,
    VoucherNotActive,
    VoucherNotActiveNow,
    PromotionInactive,
    PromotionNotActiveNow,
    QuantityExceeded,
    GiftAmountExceeded,
    CustomerRulesViolated,
    OrderRulesViolated,
    RedemptionRulesViolated,
    MissingCustomer,
    MissingOrder,
    MissingOrderItems,
    InvalidGift,
}

impl ErrorKey {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKey::NotFound => "not_found",
            ErrorKey::VoucherDisabled => "voucher_disabled",
            ErrorKey::VoucherExpired => "voucher_expired",
            ErrorKey::VoucherNotActive => "voucher_not_active",
            ErrorKey::VoucherNotActiveNow => "voucher_not_active_now",
            ErrorKey::PromotionInactive => "promotion_inactive",
            ErrorKey::PromotionNotActiveNow => "promotion_not_active_now",
            ErrorKey::QuantityExceeded => "quantity_exceeded",
            ErrorKey::GiftAmountExceeded => "gift_amount_exceeded",
            ErrorKey::CustomerRulesViolated => "customer_rules_violated",
            ErrorKey::OrderRulesViolated => "order_rules_violated",
            ErrorKey::RedemptionRulesViolated => "redemption_rules_violated",
            ErrorKey::MissingCustomer => "missing_customer",
            ErrorKey::MissingOrder => "missing_order",
            ErrorKey::MissingOrderItems => "missing_order_items",
            ErrorKey::InvalidGift => "invalid_gift",
        }
    }

    /// The HTTP-style code Voucherify puts in the error object.
    pub fn code(self) -> u16 {
        if self == ErrorKey::NotFound { 404 } else { 400 }
    }

    /// Voucherify's message for the key.
    pub fn message(self) -> &'static str {
        match self {
            ErrorKey::NotFound => "Resource not found",
            ErrorKey::VoucherDisabled => "voucher is disabled",
            ErrorKey::VoucherExpired => "voucher expired",
            ErrorKey::VoucherNotActive => "voucher not active",
            ErrorKey::VoucherNotActiveNow => "voucher not active now",
            ErrorKey::PromotionInactive => "Inactive Promotion",
            ErrorKey::PromotionNotActiveNow => "promotion not active now",
            ErrorKey::QuantityExceeded => "quantity exceeded",
            ErrorKey::GiftAmountExceeded => "gift amount exceeded",
            ErrorKey::CustomerRulesViolated => "customer does not match segment rules",
            ErrorKey::OrderRulesViolated => "order does not match validation rules",
            ErrorKey::RedemptionRulesViolated => "redemption does not match validation rules",
            ErrorKey::MissingCustomer => "Customer is required to validate rules",
            ErrorKey::MissingOrder => "Missing order",
            ErrorKey::MissingOrderItems => "Missing applicable order items",
            ErrorKey::InvalidGift => "Invalid gift",
        }
    }
}

impl fmt::Display for ErrorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rule names of the catalogue (reference §9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleName {
    /// Our extension: the customer's previous orders (their summary; 0 for a first-time buyer).
    CustomerOrdersCount,
    /// Our extension: days until the customer's next birthday in the project's time zone (0 on
    /// the day; 29 February falls on 28 February in other years).
    CustomerBirthdayInDays,
    /// Our extension: whether this month is the customer's birthday month (project time zone).
    CustomerBirthdayThisMonth,
    /// Our extension: days until the next anniversary of the day the customer joined (their
    /// record's creation, project time zone); the day they join is not one.
    CustomerAnniversaryInDays,
    /// Our extension: whether this month holds an anniversary of the customer's joining.
    CustomerAnniversaryThisMonth,
    CustomerSegment,
    CustomerMetadata,
    CustomerLoyaltyTier,
    OrderAmount,
    OrderInitialAmount,
    OrderItemsCount,
    OrderItemsPriceAny,
    OrderItemsPriceEach,
    OrderItemsMetadataAny,
    OrderItemsMetadataEach,
    OrderMetadata,
    ItemsAny,
    ItemsEvery,
    ItemsNone,
    ItemsCheapest,
    ItemsMostExpensive,
    ItemQuantity,
    ItemAggregatedQuantity,
    ItemPrice,
    ItemAggregatedAmount,
    ItemMetadata,
    ProductMetadata,
    ProductMetadataAggregatedQuantity,
    ProductMetadataAggregatedAmount,
    ProductMetadataMatchAll,
    ProductId,
    SkuId,
    Counter(CounterRule),
    RedemptionMetadata,
    /// Our extension: the request's `metadata.channel` (web, app, pos, marketplace, …).
    RedemptionChannel,
    /// Our extension: the request's `metadata.payment_method`.
    RedemptionPaymentMethod,
    RedemptionGiftAmount,
    RedemptionApiKey,
    RedemptionUserLogin,
    RedemptionPointsUsed,
    PublicationRedeemableByLinkedCustomer,
    CustomEventMetadata,
}

/// Counter-based rules: which counter, and what one redemption adds to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterRule {
    pub scope: CounterScope,
    pub per: CounterPerKind,
    pub metric: CounterMetric,
    pub period: PeriodKind,
}

/// Whose counter: the campaign's, or the redeemable's (voucher or tier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterScope {
    Campaign,
    Redeemable,
}

/// Whether the counter is split by customer, API key or user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterPerKind {
    All,
    Customer,
    ApiKey,
    User,
    /// The shopper's IP (the request's `metadata.ip`; the client-side API sets it itself).
    Ip,
}

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterMetric {
    Redemptions,
    DiscountedAmount,
    OrderAmount,
    Customers,
}

/// Calendar period of a counter, in the project's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Total,
    Hour,
    Day,
    /// ISO week (Monday to Sunday).
    Week,
    Month,
    /// Any window of this many seconds ending now ("at most 3 in any 24 h"); the store sums
    /// the counter's events within it.
    Rolling(u32),
}

/// The rolling windows rule names may end in (`redemption.count.per_customer.rolling_24h`).
const ROLLING_WINDOWS: [(&str, u32); 4] =
    [(".rolling_1h", 3_600), (".rolling_24h", 86_400), (".rolling_7d", 604_800), (".rolling_30d", 2_592_000)];

impl RuleName {
    pub fn parse(name: &str) -> Option<RuleName> {
        // a rolling window of any redemption count that has calendar windows
        for (suffix, secs) in ROLLING_WINDOWS {
            if let Some(base) = name.strip_suffix(suffix) {
                return match RuleName::parse(&format!("{base}.hourly"))? {
                    RuleName::Counter(c) if c.metric == CounterMetric::Redemptions => {
                        Some(RuleName::Counter(CounterRule { period: PeriodKind::Rolling(secs), ..c }))
                    }
                    _ => None,
                };
            }
        }
        use CounterMetric::*;
        use CounterPerKind as P;
        use CounterScope::*;
        use PeriodKind::*;
        let c = |scope, per, metric, period| RuleName::Counter(CounterRule { scope, per, metric, period });
        Some(match name {
            "customer.segment" => RuleName::CustomerSegment,
            "customer.metadata" => RuleName::CustomerMetadata,
            "customer.loyalty.tier" => RuleName::CustomerLoyaltyTier,
            "customer.orders.count" => RuleName::CustomerOrdersCount,
            "customer.birthday.in_days" => RuleName::CustomerBirthdayInDays,
            "customer.birthday.this_month" => RuleName::CustomerBirthdayThisMonth,
            "customer.anniversary.in_days" => RuleName::CustomerAnniversaryInDays,
            "customer.anniversary.this_month" => RuleName::CustomerAnniversaryThisMonth,
            "order.amount" => RuleName::OrderAmount,
            "order.initial_amount" => RuleName::OrderInitialAmount,
            "order.items.count" => RuleName::OrderItemsCount,
            "order.items.price_any" => RuleName::OrderItemsPriceAny,
            "order.items.price_each" => RuleName::OrderItemsPriceEach,
            "order.items.metadata_any" => RuleName::OrderItemsMetadataAny,
            "order.items.metadata_each" => RuleName::OrderItemsMetadataEach,
            "order.metadata" => RuleName::OrderMetadata,
            "order.items.any" => RuleName::ItemsAny,
            "order.items.every" => RuleName::ItemsEvery,
            "order.items.none" => RuleName::ItemsNone,
            "order.items.cheapest" => RuleName::ItemsCheapest,
            "order.items.most_expensive" => RuleName::ItemsMostExpensive,
            "order.items.quantity" | "product.quantity" | "sku.quantity" => RuleName::ItemQuantity,
            "order.items.aggregated_quantity" => RuleName::ItemAggregatedQuantity,
            "order.items.price" | "product.price" | "sku.price" => RuleName::ItemPrice,
            "order.items.aggregated_amount" => RuleName::ItemAggregatedAmount,
            "order.items.metadata" => RuleName::ItemMetadata,
            "product.metadata" | "product.metadata.discount_applicable" => RuleName::ProductMetadata,
            "product.metadata.aggregated_quantity" => RuleName::ProductMetadataAggregatedQuantity,
            "product.metadata.aggregated_amount" => RuleName::ProductMetadataAggregatedAmount,
            "product.metadata.match_all" => RuleName::ProductMetadataMatchAll,
            "product.id" | "product.discount_applicable" => RuleName::ProductId,
            "sku.id" | "sku.discount_applicable" => RuleName::SkuId,
            "campaign.orders.amount_discounted" => c(Campaign, P::All, DiscountedAmount, Total),
            "campaign.orders.amount" => c(Campaign, P::All, OrderAmount, Total),
            "campaign.redemptions.count" => c(Campaign, P::All, Redemptions, Total),
            "campaign.redemptions.count.hourly" => c(Campaign, P::All, Redemptions, Hour),
            "campaign.redemptions.count.daily" => c(Campaign, P::All, Redemptions, Day),
            "campaign.redemptions.count.weekly" => c(Campaign, P::All, Redemptions, Week),
            "campaign.redemptions.count.monthly" => c(Campaign, P::All, Redemptions, Month),
            "campaign.redemptions.customers_count" => c(Campaign, P::All, Customers, Total),
            "campaign.redemptions.customers_count.hourly" => c(Campaign, P::All, Customers, Hour),
            "campaign.redemptions.customers_count.daily" => c(Campaign, P::All, Customers, Day),
            "campaign.redemptions.customers_count.weekly" => c(Campaign, P::All, Customers, Week),
            "campaign.redemptions.customers_count.monthly" => c(Campaign, P::All, Customers, Month),
            "redemption.count.hourly" => c(Redeemable, P::All, Redemptions, Hour),
            "redemption.count.daily" => c(Redeemable, P::All, Redemptions, Day),
            "redemption.count.weekly" => c(Redeemable, P::All, Redemptions, Week),
            "redemption.count.monthly" => c(Redeemable, P::All, Redemptions, Month),
            "redemption.count.per_customer" => c(Redeemable, P::Customer, Redemptions, Total),
            "redemption.count.per_customer.hourly" => c(Redeemable, P::Customer, Redemptions, Hour),
            "redemption.count.per_customer.daily" => c(Redeemable, P::Customer, Redemptions, Day),
            "redemption.count.per_customer.weekly" => c(Redeemable, P::Customer, Redemptions, Week),
            "redemption.count.per_customer.monthly" => c(Redeemable, P::Customer, Redemptions, Month),
            // our extension: a campaign's redemptions per customer, across its codes and tiers
            "campaign.redemptions.count.per_customer" => c(Campaign, P::Customer, Redemptions, Total),
            "campaign.redemptions.count.per_customer.hourly" => c(Campaign, P::Customer, Redemptions, Hour),
            "campaign.redemptions.count.per_customer.daily" => c(Campaign, P::Customer, Redemptions, Day),
            "campaign.redemptions.count.per_customer.weekly" => c(Campaign, P::Customer, Redemptions, Week),
            "campaign.redemptions.count.per_customer.monthly" => c(Campaign, P::Customer, Redemptions, Month),
            "redemption.count.per_api_key" => c(Redeemable, P::ApiKey, Redemptions, Total),
            // our extension: per shopper IP (`metadata.ip`)
            "redemption.count.per_ip" => c(Redeemable, P::Ip, Redemptions, Total),
            "redemption.count.per_ip.hourly" => c(Redeemable, P::Ip, Redemptions, Hour),
            "redemption.count.per_ip.daily" => c(Redeemable, P::Ip, Redemptions, Day),
            "redemption.count.per_ip.weekly" => c(Redeemable, P::Ip, Redemptions, Week),
            "redemption.count.per_ip.monthly" => c(Redeemable, P::Ip, Redemptions, Month),
            "redemption.count.per_user" => c(Redeemable, P::User, Redemptions, Total),
            "redemption.metadata" => RuleName::RedemptionMetadata,
            "redemption.channel" => RuleName::RedemptionChannel,
            "redemption.payment_method" => RuleName::RedemptionPaymentMethod,
            "redemption.gift.amount" => RuleName::RedemptionGiftAmount,
            "redemption.api_key" => RuleName::RedemptionApiKey,
            "redemption.user.login" => RuleName::RedemptionUserLogin,
            "redemption.reward.pay_with_points.points_used" => RuleName::RedemptionPointsUsed,
            "publication.redeemable_by_linked_customer" => RuleName::PublicationRedeemableByLinkedCustomer,
            "custom_event.metadata" => RuleName::CustomEventMetadata,
            _ => return None,
        })
    }

    fn needs_property(self) -> bool {
        matches!(
            self,
            RuleName::CustomerMetadata
                | RuleName::OrderMetadata
                | RuleName::OrderItemsMetadataAny
                | RuleName::OrderItemsMetadataEach
                | RuleName::ItemMetadata
                | RuleName::ProductMetadata
                | RuleName::ProductMetadataAggregatedQuantity
                | RuleName::ProductMetadataAggregatedAmount
                | RuleName::ProductMetadataMatchAll
                | RuleName::RedemptionMetadata
                | RuleName::CustomEventMetadata
        )
    }

    fn is_structure(self) -> bool {
        matches!(
            self,
            RuleName::ItemsAny
                | RuleName::ItemsEvery
                | RuleName::ItemsNone
                | RuleName::ItemsCheapest
                | RuleName::ItemsMostExpensive
                | RuleName::ProductId
                | RuleName::SkuId
        )
    }

    /// The error key a failure of this rule reports.
    fn error_key(self) -> ErrorKey {
        match self {
            RuleName::CustomerSegment
            | RuleName::CustomerMetadata
            | RuleName::CustomerLoyaltyTier
            | RuleName::CustomerOrdersCount
            | RuleName::CustomerBirthdayInDays
            | RuleName::CustomerBirthdayThisMonth
            | RuleName::CustomerAnniversaryInDays
            | RuleName::CustomerAnniversaryThisMonth => ErrorKey::CustomerRulesViolated,
            RuleName::Counter(_)
            | RuleName::RedemptionMetadata
            | RuleName::RedemptionChannel
            | RuleName::RedemptionPaymentMethod
            | RuleName::RedemptionGiftAmount
            | RuleName::RedemptionApiKey
            | RuleName::RedemptionUserLogin
            | RuleName::RedemptionPointsUsed
            | RuleName::PublicationRedeemableByLinkedCustomer
            | RuleName::CustomEventMetadata => ErrorKey::RedemptionRulesViolated,
            _ => ErrorKey::OrderRulesViolated,
        }
    }

    /// Rules that only look at the customer (the `AUDIENCE_ONLY` qualification scenario).
    pub fn is_audience(self) -> bool {
        matches!(
            self,
            RuleName::CustomerSegment
                | RuleName::CustomerOrdersCount
                | RuleName::CustomerBirthdayInDays
                | RuleName::CustomerBirthdayThisMonth
                | RuleName::CustomerAnniversaryInDays
                | RuleName::CustomerAnniversaryThisMonth
                | RuleName::CustomerMetadata
                | RuleName::CustomerLoyaltyTier
                | RuleName::PublicationRedeemableByLinkedCustomer
        )
    }
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Path of keys, e.g. `2` or `2.1`.
    pub key: String,
    pub name_text: String,
    pub name: RuleName,
    pub property: Option<String>,
    pub conditions: Conditions,
    /// For structure rules: the referenced products/SKUs/collections, and whether the
    /// conditions negate them (`$is_not` / `$not_in`).
    pub refs: Vec<ItemRef>,
    pub negated: bool,
    pub nested: Option<RuleGroup>,
    pub message: Option<String>,
}

/// Rules combined by `logic`.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    pub rules: Vec<Rule>,
    pub logic: Logic,
}

/// A compiled validation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub id: Option<String>,
    pub group: RuleGroup,
    pub message: Option<String>,
    pub applicable_to: Option<ApplicableTo>,
    /// Contains counter rules whose consumption depends on the discount amount.
    pub needs_discount: bool,
    pub has_counters: bool,
    /// A stored rule that no longer compiles: it never passes (fail closed, never open).
    pub unusable: bool,
    /// The bundle the cart must hold (`bundle_rules`); complete bundles multiply the discount.
    pub bundle: Option<BundleRules>,
}

impl RuleSet {
    /// Whether a rule reads the customer's summary (`customer.orders.count`): only then does a
    /// checkout count the customer's orders.
    pub fn reads_customer_summary(&self) -> bool {
        fn reads(g: &RuleGroup) -> bool {
            g.rules.iter().any(|r| r.name == RuleName::CustomerOrdersCount || r.nested.as_ref().is_some_and(reads))
        }
        reads(&self.group)
    }
}

fn compile_group(
    map: &serde_json::Map<String, Value>,
    path: &str,
    key_prefix: &str,
    depth: usize,
) -> Result<RuleGroup, DefinitionError> {
    if depth > MAX_RULE_DEPTH {
        return Err(DefinitionError::new(path, DefinitionErrorKind::TooDeep(MAX_RULE_DEPTH)));
    }
    let mut keys: Vec<&String> = map.keys().filter(|k| k.as_str() != "logic").collect();
    keys.sort_by_key(|k| (k.parse::<u64>().unwrap_or(u64::MAX), (*k).clone()));
    let mut rules = Vec::with_capacity(keys.len());
    for key in &keys {
        let rule_path = format!("{path}.{key}");
        let key_path = if key_prefix.is_empty() { (*key).clone() } else { format!("{key_prefix}.{key}") };
        rules.push(compile_rule(&key_path, &map[key.as_str()], &rule_path, depth)?);
    }
    let logic = match map.get("logic") {
        None | Some(Value::Null) => Logic::all(rules.len()),
        Some(Value::String(s)) if s.trim().is_empty() && rules.is_empty() => Logic::all(0),
        Some(Value::String(s)) => {
            Logic::parse(s, |k| keys.iter().position(|x| x.as_str() == k)).map_err(|problem| {
                DefinitionError::new(
                    format!("{path}.logic"),
                    DefinitionErrorKind::MalformedLogic { logic: s.clone(), problem },
                )
            })?
        }
        Some(_) => {
            return Err(DefinitionError::new(
                format!("{path}.logic"),
                DefinitionErrorKind::Invalid("logic must be a string".into()),
            ));
        }
    };
    Ok(RuleGroup { rules, logic })
}

/// The fields of one rule of a validation rule.
pub const RULE_FIELDS: &[&str] = &["name", "property", "conditions", "rules", "error"];

fn compile_rule(key: &str, raw: &Value, path: &str, depth: usize) -> Result<Rule, DefinitionError> {
    let obj = raw
        .as_object()
        .ok_or_else(|| DefinitionError::new(path, DefinitionErrorKind::Invalid("rule must be an object".into())))?;
    // nothing accepted and ignored: a rule has these fields only
    if let Some(k) = obj.keys().find(|k| !RULE_FIELDS.contains(&k.as_str())) {
        return Err(DefinitionError::new(
            format!("{path}.{k}"),
            DefinitionErrorKind::Invalid(format!("is not a rule field (one of {})", RULE_FIELDS.join(", "))),
        ));
    }
    if let Some(k) = obj.get("error").and_then(Value::as_object).and_then(|e| e.keys().find(|k| *k != "message")) {
        return Err(DefinitionError::new(
            format!("{path}.error.{k}"),
            DefinitionErrorKind::Invalid("a rule's error has a message only".into()),
        ));
    }
    let name_text = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| DefinitionError::new(format!("{path}.name"), DefinitionErrorKind::Missing))?;
    let name = RuleName::parse(name_text).ok_or_else(|| {
        DefinitionError::new(format!("{path}.name"), DefinitionErrorKind::UnknownRuleName(name_text.into()))
    })?;
    let property = obj.get("property").and_then(Value::as_str).filter(|p| !p.is_empty()).map(str::to_owned);
    if name.needs_property() && property.is_none() {
        return Err(DefinitionError::new(
            format!("{path}.property"),
            DefinitionErrorKind::MissingProperty(name_text.into()),
        ));
    }
    let conditions = match obj.get("conditions") {
        None | Some(Value::Null) => {
            return Err(DefinitionError::new(format!("{path}.conditions"), DefinitionErrorKind::Missing));
        }
        Some(c) => Conditions::compile(c, &format!("{path}.conditions"))?,
    };
    let (refs, negated) = if name.is_structure() {
        let mut refs = Vec::new();
        let mut negated = false;
        for c in &conditions.0 {
            match c.op {
                Op::Is | Op::In => {}
                Op::IsNot | Op::NotIn => negated = true,
                _ => continue,
            }
            for v in &c.values {
                refs.push(ItemRef::from_json(&v.raw).ok_or_else(|| {
                    DefinitionError::new(
                        format!("{path}.conditions"),
                        DefinitionErrorKind::Invalid("product reference must be an id or an object with id".into()),
                    )
                })?);
            }
        }
        if refs.is_empty() {
            return Err(DefinitionError::new(
                format!("{path}.conditions"),
                DefinitionErrorKind::Invalid("needs `$is` / `$in` with products, SKUs or collections".into()),
            ));
        }
        (refs, negated)
    } else {
        (Vec::new(), false)
    };
    let nested = match obj.get("rules") {
        Some(Value::Object(m)) if m.keys().any(|k| k != "logic") => {
            Some(compile_group(m, &format!("{path}.rules"), key, depth + 1)?)
        }
        _ => None,
    };
    let message = obj.get("error").and_then(|e| e.get("message")).and_then(Value::as_str).map(str::to_owned);
    Ok(Rule {
        key: key.to_owned(),
        name_text: name_text.into(),
        name,
        property,
        conditions,
        refs,
        negated,
        nested,
        message,
    })
}

fn visit<'r>(g: &'r RuleGroup, f: &mut impl FnMut(&'r Rule)) {
    for r in &g.rules {
        f(r);
        if let Some(n) = &r.nested {
            visit(n, f);
        }
    }
}

impl RuleSet {
    /// Compiles a validation rule definition. Errors name the path (`rules.2.conditions`).
    pub fn compile(def: &ValidationRuleDef, id: Option<String>) -> Result<Self, DefinitionError> {
        let group = compile_group(&def.rules, "rules", "", 0)?;
        let bundle = BundleRules::compile(def.bundle_rules.as_ref(), "bundle_rules")?;
        let applicable_to =
            def.applicable_to.as_ref().map(|a| ApplicableTo::compile(a, "applicable_to")).transpose()?;
        let mut needs_discount = false;
        let mut has_counters = false;
        visit(&group, &mut |r| {
            if let RuleName::Counter(c) = r.name {
                has_counters = true;
                needs_discount |= c.metric == CounterMetric::DiscountedAmount;
            }
        });
        Ok(RuleSet {
            id,
            group,
            message: def.error.as_ref().and_then(|e| e.message.clone()),
            applicable_to,
            needs_discount,
            has_counters,
            unusable: false,
            bundle,
        })
    }

    /// Stands for a stored rule that does not compile any more: whatever it was meant to
    /// restrict, its redeemables apply to no cart until it is fixed (rather than to every cart).
    pub fn unusable(id: Option<String>) -> Self {
        RuleSet {
            id,
            group: RuleGroup { rules: Vec::new(), logic: Logic::all(0) },
            message: Some(
                "The validation rule of this redeemable cannot be read: it applies to no order until the rule is fixed"
                    .into(),
            ),
            applicable_to: None,
            needs_discount: false,
            has_counters: false,
            unusable: true,
            bundle: None,
        }
    }

    /// References that must be in the cart for the rules to pass (for indexing): from the
    /// first structure rule reached through `and` only. Empty when the rules target no product.
    pub fn required_refs(&self) -> Vec<ItemRef> {
        let mut required = Vec::new();
        self.group.logic.required(&mut required);
        for i in required {
            let r = &self.group.rules[i];
            if r.negated {
                continue;
            }
            match r.name {
                RuleName::ItemsAny | RuleName::ProductId | RuleName::SkuId => {
                    return r.refs.clone();
                }
                RuleName::ItemsEvery => return r.refs.first().cloned().into_iter().collect(),
                _ => {}
            }
        }
        Vec::new()
    }
}

/// The key of a counter kept by the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CounterKey {
    /// `campaign:<id>` or `redeemable:<id>`.
    pub subject: String,
    /// `customer:<id>`, `api_key:<id>`, `user:<login>`, or empty.
    pub per: String,
    pub metric: CounterMetric,
    /// `total`, `hour:2026-11-21T13+01:00`, `day:2026-11-21`, `week:2026-W47` or `month:2026-11`.
    pub period: String,
}

impl fmt::Display for CounterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metric = match self.metric {
            CounterMetric::Redemptions => "redemptions",
            CounterMetric::DiscountedAmount => "discounted_amount",
            CounterMetric::OrderAmount => "order_amount",
            CounterMetric::Customers => "customers",
        };
        write!(f, "{}|{}|{}|{}", self.subject, self.per, metric, self.period)
    }
}

impl CounterKey {
    /// Whether this is a voucher's own redemption counter (its `redemption.quantity`), as
    /// opposed to a validation rule's limit.
    pub fn is_voucher_quantity(&self) -> bool {
        self.subject.starts_with("redeemable:")
            && self.per.is_empty()
            && self.metric == CounterMetric::Redemptions
            && self.period == "total"
    }

    /// The redemption counter of a voucher (its `redemption.quantity` limit).
    pub fn voucher_quantity(redeemable_id: &str) -> Self {
        CounterKey {
            subject: format!("redeemable:{redeemable_id}"),
            per: String::new(),
            metric: CounterMetric::Redemptions,
            period: "total".into(),
        }
    }
}

/// Current counter values, from the store.
pub trait CounterSource {
    /// The value, 0 when the counter does not exist yet.
    fn get(&self, key: &CounterKey) -> i64;
}

impl CounterSource for HashMap<CounterKey, i64> {
    fn get(&self, key: &CounterKey) -> i64 {
        HashMap::get(self, key).copied().unwrap_or(0)
    }
}

/// No counters at all: every counter reads 0.
pub struct NoCounters;

impl CounterSource for NoCounters {
    fn get(&self, _: &CounterKey) -> i64 {
        0
    }
}

/// What a successful redemption adds to a counter, and the most the counter may then hold.
/// The store applies it as `update … set value = value + delta where value + delta <= limit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CounterClaim {
    pub key: CounterKey,
    pub delta: i64,
    pub limit: Option<i64>,
}

/// How far a failing rule is from passing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortfall {
    /// What must grow: `order.amount`, `order.items.quantity`, `order.items.aggregated_amount`, ...
    pub metric: String,
    /// The product, SKU or collection it concerns.
    pub target: Option<String>,
    /// By how much (minor units for amounts, units for quantities).
    pub needed: i64,
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.target, self.metric.contains("quantity") || self.metric.ends_with("count")) {
            (Some(t), true) => {
                write!(f, "{} more item{} from {t}", self.needed, if self.needed == 1 { "" } else { "s" })
            }
            (Some(t), false) => write!(f, "{} needs +{} from {t}", self.metric, self.needed),
            (None, _) => write!(f, "{} needs +{}", self.metric, self.needed),
        }
    }
}

/// One failed rule, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Rule key path, e.g. `1` or `2.1`.
    pub rule_key: String,
    pub rule: String,
    pub key: ErrorKey,
    /// The rule's own error message, else the validation rule's.
    pub message: Option<String>,
    pub shortfall: Option<Shortfall>,
}

/// The facts of the redeemable whose rules are evaluated.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleSubject<'a> {
    pub redeemable_id: &'a str,
    pub campaign_id: Option<&'a str>,
    pub holder_id: Option<&'a str>,
}

/// Everything rules read besides the cart.
#[derive(Clone, Copy)]
pub struct RuleEnv<'e> {
    pub clock: Clock,
    pub catalog: &'e Catalog,
    pub customer: Option<&'e Customer>,
    pub redemption_metadata: &'e Metadata,
    pub custom_event_metadata: Option<&'e Metadata>,
    pub counters: &'e dyn CounterSource,
    pub api_key: Option<&'e str>,
    pub user_login: Option<&'e str>,
    pub gift_credits: Option<i64>,
    pub points: Option<i64>,
    pub subject: RuleSubject<'e>,
    /// The discount this redemption would give (for budget rules).
    pub discount: Decimal,
    /// Evaluate only customer rules (`AUDIENCE_ONLY`).
    pub audience_only: bool,
    /// Skip counter rules (qualifications ignore budgets, as Voucherify does).
    pub ignore_counters: bool,
    /// Collect every failure (explanations) instead of stopping at the first.
    pub explain: bool,
}

/// The outcome of a rule set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleOutcome {
    pub passed: bool,
    pub failures: Vec<Failure>,
    pub claims: Vec<CounterClaim>,
}

struct Node {
    passed: bool,
    failures: Vec<Failure>,
    claims: Vec<CounterClaim>,
}

impl Node {
    fn pass() -> Self {
        Node { passed: true, failures: Vec::new(), claims: Vec::new() }
    }

    /// Ranks failing branches: fewer unfixable failures first, then smaller total shortfall.
    fn cost(&self) -> (usize, i64, usize) {
        let unfixable = self.failures.iter().filter(|f| f.shortfall.is_none()).count();
        let need: i64 = self.failures.iter().filter_map(|f| f.shortfall.as_ref().map(|s| s.needed)).sum();
        (unfixable, need, self.failures.len())
    }
}

/// Days from `today` to the next anniversary of `born` (0 on the day); 29 February counts as
/// 28 February in a year without it.
fn days_to_birthday(born: NaiveDate, today: NaiveDate) -> i64 {
    let on = |year: i32| {
        NaiveDate::from_ymd_opt(year, born.month(), born.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, born.month(), born.day() - 1))
    };
    [today.year(), today.year() + 1]
        .into_iter()
        .filter_map(on)
        .find(|d| *d >= today)
        .map_or(0, |d| (d - today).num_days())
}

/// Days from `today` to the next anniversary of `joined` (0 on the day); the day itself is
/// not an anniversary, so a customer who joins today has theirs in a year.
fn days_to_anniversary(joined: NaiveDate, today: NaiveDate) -> i64 {
    match joined.checked_add_months(chrono::Months::new(12)) {
        // the first anniversary (28 February for a 29 February joiner)
        Some(first) if today < first => (first - today).num_days(),
        _ => days_to_birthday(joined, today),
    }
}

/// The calendar period `now` falls in, in the project's time zone. An hour carries its UTC
/// offset, so the hour a DST change repeats is two windows, not one of two hours.
fn period_key(kind: PeriodKind, now: DateTime<Utc>, tz: Tz) -> String {
    let at = now.with_timezone(&tz);
    let local: NaiveDate = at.date_naive();
    match kind {
        PeriodKind::Total => "total".into(),
        PeriodKind::Hour => format!("hour:{}", at.format("%Y-%m-%dT%H%:z")),
        PeriodKind::Day => format!("day:{local}"),
        PeriodKind::Week => {
            let week = local.iso_week();
            format!("week:{:04}-W{:02}", week.year(), week.week())
        }
        PeriodKind::Month => format!("month:{:04}-{:02}", local.year(), local.month()),
        PeriodKind::Rolling(secs) => format!("roll:{secs}"),
    }
}

impl RuleSet {
    /// Evaluates the rules against the cart.
    pub fn evaluate(&self, cart: &Cart<'_>, env: &RuleEnv<'_>) -> RuleOutcome {
        if self.unusable {
            let failure = Failure {
                rule_key: String::new(),
                rule: String::new(),
                key: ErrorKey::OrderRulesViolated,
                message: self.message.clone(),
                shortfall: None,
            };
            return RuleOutcome { passed: false, failures: vec![failure], claims: Vec::new() };
        }
        let node = eval_group(self, &self.group, cart, env, cart.all_lines());
        let mut failures = node.failures;
        for f in &mut failures {
            if f.message.is_none() {
                f.message.clone_from(&self.message);
            }
        }
        RuleOutcome { passed: node.passed, failures, claims: if node.passed { node.claims } else { Vec::new() } }
    }
}

fn eval_group(set: &RuleSet, g: &RuleGroup, cart: &Cart<'_>, env: &RuleEnv<'_>, scope: &[usize]) -> Node {
    eval_logic(set, g, &g.logic, cart, env, scope)
}

fn eval_logic(
    set: &RuleSet,
    g: &RuleGroup,
    logic: &Logic,
    cart: &Cart<'_>,
    env: &RuleEnv<'_>,
    scope: &[usize],
) -> Node {
    match logic {
        Logic::Rule(i) => eval_rule(set, &g.rules[*i], cart, env, scope),
        Logic::And(parts) => {
            let mut out = Node::pass();
            for p in parts {
                let n = eval_logic(set, g, p, cart, env, scope);
                out.claims.extend(n.claims);
                if !n.passed {
                    out.passed = false;
                    out.failures.extend(n.failures);
                    if !env.explain {
                        break;
                    }
                }
            }
            out
        }
        Logic::Or(parts) => {
            let mut best: Option<Node> = None;
            for p in parts {
                let n = eval_logic(set, g, p, cart, env, scope);
                if n.passed {
                    return n;
                }
                if best.as_ref().is_none_or(|b| n.cost() < b.cost()) {
                    best = Some(n);
                }
            }
            best.unwrap_or_else(Node::pass)
        }
        Logic::Not(inner) => {
            let n = eval_logic(set, g, inner, cart, env, scope);
            if n.passed {
                let mut rules = Vec::new();
                collect_rules(g, inner, &mut rules);
                let first = rules.first().map(|r| (*r).clone());
                Node {
                    passed: false,
                    failures: vec![Failure {
                        rule_key: first.as_ref().map(|r| r.key.clone()).unwrap_or_default(),
                        rule: first.as_ref().map(|r| format!("not {}", r.name_text)).unwrap_or_default(),
                        key: first.as_ref().map_or(ErrorKey::OrderRulesViolated, |r| r.name.error_key()),
                        message: first.and_then(|r| r.message),
                        shortfall: None,
                    }],
                    claims: Vec::new(),
                }
            } else {
                Node::pass()
            }
        }
    }
}

fn collect_rules<'r>(g: &'r RuleGroup, logic: &Logic, out: &mut Vec<&'r Rule>) {
    match logic {
        Logic::Rule(i) => out.push(&g.rules[*i]),
        Logic::And(p) | Logic::Or(p) => p.iter().for_each(|l| collect_rules(g, l, out)),
        Logic::Not(l) => collect_rules(g, l, out),
    }
}

fn fail(rule: &Rule, key: ErrorKey, shortfall: Option<Shortfall>) -> Node {
    Node {
        passed: false,
        failures: vec![Failure {
            rule_key: rule.key.clone(),
            rule: rule.name_text.clone(),
            key,
            message: rule.message.clone(),
            shortfall,
        }],
        claims: Vec::new(),
    }
}

fn check(rule: &Rule, x: &Operand<'_>, env: &RuleEnv<'_>, metric: Option<&str>, target: Option<&str>) -> Node {
    if rule.conditions.holds(x, &env.clock) {
        return Node::pass();
    }
    let shortfall = metric.and_then(|m| {
        rule.conditions.shortfall(x, &env.clock).map(|n| Shortfall {
            metric: m.into(),
            target: target.map(str::to_owned),
            needed: to_wire(n),
        })
    });
    fail(rule, rule.name.error_key(), shortfall)
}

fn num(d: Decimal) -> Operand<'static> {
    Operand::Num(d)
}

fn meta<'a>(m: Option<&'a Metadata>, key: &Option<String>) -> Operand<'a> {
    Operand::from_json(m.and_then(|m| key.as_deref().and_then(|k| m.get(k))))
}

fn owned(x: Operand<'_>) -> Operand<'static> {
    match x {
        Operand::Missing => Operand::Missing,
        Operand::Num(n) => Operand::Num(n),
        Operand::Bool(b) => Operand::Bool(b),
        Operand::Date(d) => Operand::Date(d),
        Operand::Text(t) => Operand::Text(Cow::Owned(t.into_owned())),
        Operand::List(l) => Operand::List(l.into_iter().map(|c| Cow::Owned(c.into_owned())).collect()),
    }
}

fn eval_rule(set: &RuleSet, rule: &Rule, cart: &Cart<'_>, env: &RuleEnv<'_>, scope: &[usize]) -> Node {
    if env.audience_only && !rule.name.is_audience() {
        return Node::pass();
    }
    let lines = &cart.lines;
    let item_meta = |i: usize| cart.item(i).map(|it| &it.metadata);
    let product_meta = |i: usize| cart.item(i).and_then(|it| it.product.as_ref()).map(|p| &p.metadata);
    let any_line =
        |f: &dyn Fn(usize) -> Operand<'static>| scope.iter().any(|&i| rule.conditions.holds(&f(i), &env.clock));
    let each_line = |f: &dyn Fn(usize) -> Operand<'static>| {
        !scope.is_empty() && scope.iter().all(|&i| rule.conditions.holds(&f(i), &env.clock))
    };
    let verdict = |ok: bool| {
        if ok { Node::pass() } else { fail(rule, rule.name.error_key(), None) }
    };
    match rule.name {
        RuleName::CustomerSegment
        | RuleName::CustomerMetadata
        | RuleName::CustomerLoyaltyTier
        | RuleName::CustomerOrdersCount
        | RuleName::CustomerBirthdayInDays
        | RuleName::CustomerBirthdayThisMonth
        | RuleName::CustomerAnniversaryInDays
        | RuleName::CustomerAnniversaryThisMonth => {
            let Some(c) = env.customer else {
                return fail(rule, ErrorKey::MissingCustomer, None);
            };
            let today = env.clock.now.with_timezone(&env.clock.tz).date_naive();
            let birthday =
                || c.birthdate.as_deref().and_then(|b| NaiveDate::parse_from_str(b.get(..10)?, "%Y-%m-%d").ok());
            let x = match rule.name {
                RuleName::CustomerOrdersCount => c.orders_count.map_or(Operand::Missing, |n| num(Decimal::from(n))),
                RuleName::CustomerBirthdayInDays => {
                    birthday().map_or(Operand::Missing, |b| num(Decimal::from(days_to_birthday(b, today))))
                }
                RuleName::CustomerBirthdayThisMonth => {
                    birthday().map_or(Operand::Missing, |b| Operand::Bool(b.month() == today.month()))
                }
                RuleName::CustomerAnniversaryInDays => {
                    c.joined_on.map_or(Operand::Missing, |j| num(Decimal::from(days_to_anniversary(j, today))))
                }
                RuleName::CustomerAnniversaryThisMonth => c
                    .joined_on
                    .map_or(Operand::Missing, |j| Operand::Bool(j.month() == today.month() && today.year() > j.year())),
                RuleName::CustomerSegment => {
                    Operand::List(c.segments.iter().map(|s| Cow::Borrowed(s.as_str())).collect())
                }
                RuleName::CustomerMetadata => meta(Some(&c.metadata), &rule.property),
                _ => c.loyalty_tier.as_deref().map_or(Operand::Missing, |t| Operand::Text(Cow::Borrowed(t))),
            };
            check(rule, &x, env, None, None)
        }
        RuleName::OrderAmount => check(rule, &num(cart.net_total()), env, Some("order.amount"), None),
        RuleName::OrderInitialAmount => check(rule, &num(cart.initial_amount), env, Some("order.initial_amount"), None),
        RuleName::OrderItemsCount => {
            check(rule, &num(Decimal::from(cart.units())), env, Some("order.items.count"), None)
        }
        RuleName::OrderItemsPriceAny => verdict(any_line(&|i| num(lines[i].price))),
        RuleName::OrderItemsPriceEach => verdict(each_line(&|i| num(lines[i].price))),
        RuleName::OrderItemsMetadataAny | RuleName::ItemMetadata => {
            verdict(any_line(&|i| owned(meta(item_meta(i), &rule.property))))
        }
        RuleName::OrderItemsMetadataEach => verdict(each_line(&|i| owned(meta(item_meta(i), &rule.property)))),
        RuleName::ProductMetadata => verdict(any_line(&|i| owned(meta(product_meta(i), &rule.property)))),
        RuleName::ProductMetadataMatchAll => verdict(each_line(&|i| owned(meta(product_meta(i), &rule.property)))),
        RuleName::ProductMetadataAggregatedQuantity | RuleName::ProductMetadataAggregatedAmount => {
            let with_key: Vec<usize> = scope
                .iter()
                .copied()
                .filter(|&i| !matches!(meta(product_meta(i), &rule.property), Operand::Missing))
                .collect();
            let (value, metric) = if rule.name == RuleName::ProductMetadataAggregatedQuantity {
                (
                    Decimal::from(with_key.iter().map(|&i| lines[i].quantity).sum::<i64>()),
                    "order.items.aggregated_quantity",
                )
            } else {
                (with_key.iter().map(|&i| lines[i].net()).sum(), "order.items.aggregated_amount")
            };
            check(rule, &num(value), env, Some(metric), rule.property.as_deref())
        }
        RuleName::OrderMetadata => check(rule, &meta(Some(cart.metadata()), &rule.property), env, None, None),
        RuleName::ItemQuantity | RuleName::ItemAggregatedQuantity => {
            let q: i64 = scope.iter().map(|&i| lines[i].quantity).sum();
            let metric = if rule.name == RuleName::ItemQuantity {
                "order.items.quantity"
            } else {
                "order.items.aggregated_quantity"
            };
            check(rule, &num(Decimal::from(q)), env, Some(metric), None)
        }
        RuleName::ItemPrice => verdict(any_line(&|i| num(lines[i].price))),
        RuleName::ItemAggregatedAmount => {
            let a: Decimal = scope.iter().map(|&i| lines[i].net()).sum();
            check(rule, &num(a), env, Some("order.items.aggregated_amount"), None)
        }
        RuleName::ItemsAny | RuleName::ItemsEvery | RuleName::ItemsNone | RuleName::ProductId | RuleName::SkuId => {
            eval_structure(set, rule, cart, env, scope)
        }
        RuleName::ItemsCheapest | RuleName::ItemsMostExpensive => {
            let pick = scope.iter().copied().min_by(|&a, &b| {
                let o = lines[a].price.cmp(&lines[b].price).then(a.cmp(&b));
                if rule.name == RuleName::ItemsCheapest { o } else { o.reverse().then(a.cmp(&b)) }
            });
            let Some(line) = pick else {
                return fail(rule, ErrorKey::OrderRulesViolated, None);
            };
            let matches = rule.refs.iter().any(|r| lines[line].identity.matches(r, env.catalog)) != rule.negated;
            if !matches {
                return fail(rule, ErrorKey::OrderRulesViolated, None);
            }
            match &rule.nested {
                Some(n) => eval_group(set, n, cart, env, &[line]),
                None => Node::pass(),
            }
        }
        RuleName::Counter(c) => eval_counter(rule, c, cart, env),
        RuleName::RedemptionMetadata => {
            check(rule, &meta(Some(env.redemption_metadata), &rule.property), env, None, None)
        }
        RuleName::CustomEventMetadata => check(rule, &meta(env.custom_event_metadata, &rule.property), env, None, None),
        RuleName::RedemptionChannel | RuleName::RedemptionPaymentMethod => {
            let key = if rule.name == RuleName::RedemptionChannel { "channel" } else { "payment_method" };
            let x = Operand::from_json(env.redemption_metadata.get(key));
            // "not on the marketplace" holds for a checkout that names no channel
            if !x.is_present() && rule.conditions.only_negations() {
                Node::pass()
            } else {
                check(rule, &x, env, None, None)
            }
        }
        RuleName::RedemptionGiftAmount => {
            check(rule, &env.gift_credits.map_or(Operand::Missing, |g| num(Decimal::from(g))), env, None, None)
        }
        RuleName::RedemptionPointsUsed => {
            check(rule, &env.points.map_or(Operand::Missing, |g| num(Decimal::from(g))), env, None, None)
        }
        RuleName::RedemptionApiKey => {
            check(rule, &env.api_key.map_or(Operand::Missing, |k| Operand::Text(Cow::Borrowed(k))), env, None, None)
        }
        RuleName::RedemptionUserLogin => {
            check(rule, &env.user_login.map_or(Operand::Missing, |k| Operand::Text(Cow::Borrowed(k))), env, None, None)
        }
        RuleName::PublicationRedeemableByLinkedCustomer => {
            let linked = match (env.subject.holder_id, env.customer.and_then(|c| c.id.as_deref())) {
                (Some(h), Some(c)) => h == c,
                _ => false,
            };
            check(rule, &Operand::Bool(linked), env, None, None)
        }
    }
}

/// `order.items.any/every/none`, `product.id`, `sku.id`: which referenced products are in the
/// cart, with nested rules evaluated over the matching lines.
fn eval_structure(set: &RuleSet, rule: &Rule, cart: &Cart<'_>, env: &RuleEnv<'_>, scope: &[usize]) -> Node {
    // The lines each reference matches within the scope (borrowed from the cart's index when
    // the scope is the whole cart).
    let lines_of = |r: &ItemRef| -> Cow<'_, [usize]> {
        let lines = cart.lines_matching(&env.catalog.matcher(r), env.catalog);
        if scope.len() == cart.lines.len() {
            lines
        } else {
            Cow::Owned(lines.iter().copied().filter(|i| scope.binary_search(i).is_ok()).collect())
        }
    };
    let none_mode = rule.name == RuleName::ItemsNone || rule.negated;
    if none_mode {
        let present = rule.refs.iter().any(|r| !lines_of(r).is_empty());
        return if present { fail(rule, ErrorKey::OrderRulesViolated, None) } else { Node::pass() };
    }
    let evaluate = |lines: &[usize], target: &ItemRef| -> Node {
        let n = match &rule.nested {
            Some(nested) => eval_group(set, nested, cart, env, lines),
            None if lines.is_empty() => fail(
                rule,
                ErrorKey::OrderRulesViolated,
                Some(Shortfall { metric: "order.items.quantity".into(), target: None, needed: 1 }),
            ),
            None => Node::pass(),
        };
        if n.passed && !lines.is_empty() {
            return n;
        }
        // Attribute the missing pieces to this product or collection, under this rule's key.
        let mut failures: Vec<Failure> = n
            .failures
            .into_iter()
            .map(|mut f| {
                if let Some(s) = &mut f.shortfall {
                    s.target.get_or_insert_with(|| target.label().to_owned());
                }
                f
            })
            .collect();
        if failures.is_empty() {
            failures.push(Failure {
                rule_key: rule.key.clone(),
                rule: rule.name_text.clone(),
                key: ErrorKey::OrderRulesViolated,
                message: rule.message.clone(),
                shortfall: Some(Shortfall {
                    metric: "order.items.quantity".into(),
                    target: Some(target.label().to_owned()),
                    needed: 1,
                }),
            });
        }
        for f in &mut failures {
            if f.message.is_none() {
                f.message.clone_from(&rule.message);
            }
        }
        Node { passed: false, failures, claims: Vec::new() }
    };
    let every = rule.name == RuleName::ItemsEvery;
    let mut best: Option<Node> = None;
    let mut all = Node::pass();
    for r in &rule.refs {
        let n = evaluate(&lines_of(r), r);
        if every {
            if !n.passed {
                all.passed = false;
                all.failures.extend(n.failures);
                if !env.explain {
                    break;
                }
            }
        } else if n.passed {
            return n;
        } else if best.as_ref().is_none_or(|b| n.cost() < b.cost()) {
            best = Some(n);
        }
    }
    if every { all } else { best.unwrap_or_else(|| fail(rule, ErrorKey::OrderRulesViolated, None)) }
}

fn eval_counter(rule: &Rule, c: CounterRule, cart: &Cart<'_>, env: &RuleEnv<'_>) -> Node {
    if env.ignore_counters {
        return Node::pass();
    }
    let subject = match c.scope {
        CounterScope::Campaign => match env.subject.campaign_id {
            Some(id) => format!("campaign:{id}"),
            // A standalone code has no campaign: its campaign counters are its own.
            None => format!("redeemable:{}", env.subject.redeemable_id),
        },
        CounterScope::Redeemable => format!("redeemable:{}", env.subject.redeemable_id),
    };
    let per = match c.per {
        CounterPerKind::All => String::new(),
        CounterPerKind::Customer => match env.customer.and_then(Customer::counter_identity) {
            Some(id) => format!("customer:{id}"),
            None => return fail(rule, ErrorKey::MissingCustomer, None),
        },
        CounterPerKind::ApiKey => format!("api_key:{}", env.api_key.unwrap_or_default()),
        CounterPerKind::User => format!("user:{}", env.user_login.unwrap_or_default()),
        // a per-IP limit the checkout gives no IP for cannot be checked: refused, not skipped
        CounterPerKind::Ip => {
            match env.redemption_metadata.get("ip").and_then(Value::as_str).and_then(crate::identity::normalise_ip) {
                Some(ip) => format!("ip:{ip}"),
                None => return fail(rule, ErrorKey::RedemptionRulesViolated, None),
            }
        }
    };
    let period = period_key(c.period, env.clock.now, env.clock.tz);
    let key = CounterKey { subject: subject.clone(), per, metric: c.metric, period: period.clone() };
    let delta = match c.metric {
        CounterMetric::Redemptions => 1,
        CounterMetric::DiscountedAmount => to_wire(env.discount),
        CounterMetric::OrderAmount => to_wire(cart.amount()),
        CounterMetric::Customers => {
            // A customer counts once per period: only their first redemption adds one.
            let Some(id) = env.customer.and_then(Customer::counter_identity) else {
                return fail(rule, ErrorKey::MissingCustomer, None);
            };
            let seen =
                CounterKey { subject, per: format!("customer:{id}"), metric: CounterMetric::Redemptions, period };
            i64::from(env.counters.get(&seen) == 0)
        }
    };
    let current = env.counters.get(&key);
    let prospective = Decimal::from(current.saturating_add(delta));
    if !rule.conditions.holds(&Operand::Num(prospective), &env.clock) {
        let key = if c.metric == CounterMetric::Redemptions
            && c.per == CounterPerKind::All
            && c.scope == CounterScope::Redeemable
            && c.period == PeriodKind::Total
        {
            ErrorKey::QuantityExceeded
        } else {
            ErrorKey::RedemptionRulesViolated
        };
        return fail(rule, key, None);
    }
    let limit = rule.conditions.upper_limit().map(to_wire);
    let mut claims = vec![CounterClaim { key, delta, limit }];
    if c.metric == CounterMetric::Customers {
        // The per-customer redemption counter tells later redemptions this customer was seen.
        if let Some(id) = env.customer.and_then(Customer::counter_identity) {
            claims.push(CounterClaim {
                key: CounterKey {
                    subject: claims[0].key.subject.clone(),
                    per: format!("customer:{id}"),
                    metric: CounterMetric::Redemptions,
                    period: claims[0].key.period.clone(),
                },
                delta: 1,
                limit: None,
            });
        }
    }
    Node { passed: true, failures: Vec::new(), claims }
}

#[cfg(test)]
mod birthday_tests {
    use super::{days_to_anniversary, days_to_birthday};
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn days_to_the_next_birthday() {
        assert_eq!(days_to_birthday(d(1990, 12, 5), d(2026, 12, 5)), 0, "on the day");
        assert_eq!(days_to_birthday(d(1990, 12, 12), d(2026, 12, 5)), 7);
        assert_eq!(days_to_birthday(d(1990, 1, 1), d(2026, 12, 31)), 1, "over the new year");
        assert_eq!(days_to_birthday(d(1990, 12, 4), d(2026, 12, 5)), 364, "just passed");
        // 29 February: 28 February in other years, the day itself in leap years
        assert_eq!(days_to_birthday(d(2000, 2, 29), d(2027, 2, 28)), 0);
        assert_eq!(days_to_birthday(d(2000, 2, 29), d(2028, 2, 28)), 1);
    }

    #[test]
    fn days_to_the_next_anniversary_of_joining() {
        assert_eq!(days_to_anniversary(d(2026, 12, 5), d(2026, 12, 5)), 365, "joining day is not one");
        assert_eq!(days_to_anniversary(d(2026, 12, 1), d(2026, 12, 5)), 361, "first one ahead");
        assert_eq!(days_to_anniversary(d(2025, 12, 5), d(2026, 12, 5)), 0, "first anniversary");
        assert_eq!(days_to_anniversary(d(2020, 12, 12), d(2026, 12, 5)), 7);
        assert_eq!(days_to_anniversary(d(2024, 2, 29), d(2024, 3, 1)), 364, "28 February 2025");
    }
}

#[cfg(test)]
mod rolling_tests {
    use super::*;

    #[test]
    fn rolling_windows_extend_every_redemption_count_with_calendar_windows() {
        let rolling = |name: &str| match RuleName::parse(name) {
            Some(RuleName::Counter(c)) => Some((c.scope, c.per, c.period)),
            _ => None,
        };
        assert_eq!(
            rolling("redemption.count.per_customer.rolling_24h"),
            Some((CounterScope::Redeemable, CounterPerKind::Customer, PeriodKind::Rolling(86_400)))
        );
        assert_eq!(
            rolling("campaign.redemptions.count.rolling_7d"),
            Some((CounterScope::Campaign, CounterPerKind::All, PeriodKind::Rolling(604_800)))
        );
        assert_eq!(rolling("redemption.count.per_ip.rolling_1h").map(|r| r.1), Some(CounterPerKind::Ip));
        // customers counted once per window have no rolling form, nor do unknown windows
        assert_eq!(rolling("campaign.redemptions.customers_count.rolling_24h"), None);
        assert_eq!(rolling("redemption.count.rolling_2h"), None);
        assert_eq!(period_key(PeriodKind::Rolling(3_600), DateTime::<Utc>::UNIX_EPOCH, chrono_tz::UTC), "roll:3600");
    }
}
