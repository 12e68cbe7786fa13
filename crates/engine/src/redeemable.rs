//! Redeemables (vouchers and promotion tiers) as the engine sees them, and the check of one
//! redeemable against the running cart: status, schedule, limits, rules, discount.

use crate::bundle::{BundleMatch, BundleRules};
use crate::cart::{Cart, Proposal};
use crate::catalog::Catalog;
use crate::condition::Clock;
use crate::discount::{CalculationMode, Discount, DiscountKind, Effect, Terms, bundle_price, propose};
use crate::facts::{FormulaFacts, VoucherFacts};
use crate::guardrails::Guardrails;
use crate::model::{Customer, Metadata};
use crate::money::{from_wire, to_wire};
use crate::rules::{
    CounterClaim, CounterKey, CounterMetric, CounterSource, ErrorKey, Failure, RuleEnv, RuleSet, RuleSubject, Shortfall,
};
use crate::schedule::{Schedule, ScheduleMiss};
use crate::targeting::ApplicableTo;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use std::sync::Arc;

/// What kind of redeemable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedeemableObject {
    Voucher,
    PromotionTier,
    PromotionStack,
}

impl RedeemableObject {
    pub fn as_str(self) -> &'static str {
        match self {
            RedeemableObject::Voucher => "voucher",
            RedeemableObject::PromotionTier => "promotion_tier",
            RedeemableObject::PromotionStack => "promotion_stack",
        }
    }
}

/// A category with its hierarchy (lower applies first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub hierarchy: i64,
    /// Shown in responses; the engine does not read it.
    pub created_at: Option<DateTime<Utc>>,
}

/// What a redeemable gives.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "boxing the discount scattered candidates in memory and slowed qualification (measured)"
)]
pub enum Benefit {
    Discount(Discount),
    /// A gift card worth `amount` minor units; what was spent is a counter.
    Gift {
        amount: i64,
    },
    /// A loyalty card: no effect on the order here.
    LoyaltyCard {
        points: i64,
    },
}

/// A voucher or a promotion tier, compiled and ready to evaluate.
#[derive(Debug, Clone)]
pub struct Redeemable {
    /// What the client sends: the voucher code, or the tier id.
    pub id: String,
    pub object: RedeemableObject,
    /// Stable id for counters (`v_…` / `promo_…`).
    pub counter_id: String,
    pub name: Option<String>,
    pub campaign_id: Option<String>,
    pub campaign_name: Option<String>,
    pub active: bool,
    pub campaign_active: bool,
    pub schedule: Schedule,
    pub campaign_schedule: Schedule,
    pub categories: Vec<Category>,
    pub benefit: Benefit,
    pub rules: Option<Arc<RuleSet>>,
    /// `redemption.quantity`: most redemptions allowed, `None` = unlimited.
    pub quantity: Option<i64>,
    pub holder_id: Option<String>,
    /// Tier hierarchy within its campaign (lower applies first / wins).
    pub hierarchy: i64,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub publish_count: i64,
    pub publication_metadata: Option<Metadata>,
    /// The campaign's guardrails (stock, shipping, tax, margin floor).
    pub guardrails: Guardrails,
}

impl Redeemable {
    /// The products its UNIT discount gives (none for other benefits).
    pub fn unit_products(&self) -> impl Iterator<Item = &crate::cart::AddedProduct> {
        let units = match &self.benefit {
            Benefit::Discount(d) => d.units.as_slice(),
            _ => &[],
        };
        units.iter().map(|u| &u.product)
    }

    /// A minimal active redeemable; fill in the rest with struct update syntax.
    pub fn new(id: impl Into<String>, object: RedeemableObject, benefit: Benefit) -> Self {
        let id = id.into();
        Redeemable {
            counter_id: id.clone(),
            id,
            object,
            name: None,
            campaign_id: None,
            campaign_name: None,
            active: true,
            campaign_active: true,
            schedule: Schedule::default(),
            campaign_schedule: Schedule::default(),
            categories: Vec::new(),
            benefit,
            rules: None,
            quantity: None,
            holder_id: None,
            hierarchy: 0,
            metadata: Metadata::new(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            publish_count: 0,
            publication_metadata: None,
            guardrails: Guardrails::default(),
        }
    }

    /// The discount, if the redeemable gives one.
    pub fn discount(&self) -> Option<&Discount> {
        match &self.benefit {
            Benefit::Discount(d) => Some(d),
            _ => None,
        }
    }

    /// The effect in force, for discounts.
    pub fn effect(&self) -> Option<Effect> {
        self.discount().map(|d| d.effective_effect(self.rules.as_ref().and_then(|r| r.applicable_to.as_ref())))
    }

    fn redeemed_key(&self) -> CounterKey {
        CounterKey::voucher_quantity(&self.counter_id)
    }

    fn gift_spent_key(&self) -> CounterKey {
        CounterKey { metric: CounterMetric::DiscountedAmount, ..CounterKey::voucher_quantity(&self.counter_id) }
    }
}

/// Request-wide facts for evaluating redeemables.
#[derive(Clone, Copy)]
pub struct Environment<'e> {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub catalog: &'e Catalog,
    pub customer: Option<&'e Customer>,
    pub redemption_metadata: &'e Metadata,
    pub custom_event_metadata: Option<&'e Metadata>,
    pub counters: &'e dyn CounterSource,
    pub api_key: Option<&'e str>,
    pub user_login: Option<&'e str>,
    /// Collect every failed rule instead of stopping at the first.
    pub explain: bool,
    /// Skip counter-based rules and quantity limits (qualifications).
    pub ignore_counters: bool,
    /// Check only audience (customer) rules.
    pub audience_only: bool,
    /// A cart without a complete bundle still qualifies (the `PRODUCTS` qualification
    /// scenarios): the answer shows what is missing.
    pub bundles_optional: bool,
}

impl<'e> Environment<'e> {
    /// An environment with no customer, no metadata and no counters.
    pub fn new(
        now: DateTime<Utc>,
        tz: Tz,
        catalog: &'e Catalog,
        counters: &'e dyn CounterSource,
        empty: &'e Metadata,
    ) -> Self {
        Environment {
            now,
            tz,
            catalog,
            customer: None,
            redemption_metadata: empty,
            custom_event_metadata: None,
            counters,
            api_key: None,
            user_login: None,
            explain: true,
            ignore_counters: false,
            audience_only: false,
            bundles_optional: false,
        }
    }

    pub fn clock(&self) -> Clock {
        Clock { now: self.now, tz: self.tz }
    }
}

/// Per-redeemable request options (gift credits, loyalty points).
#[derive(Debug, Clone, Copy, Default)]
pub struct RedeemOptions {
    pub gift_credits: Option<i64>,
    pub points: Option<i64>,
}

/// Why a redeemable cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub key: ErrorKey,
    pub details: String,
    /// The custom validation-rule message, if any.
    pub rule_message: Option<String>,
    pub failures: Vec<Failure>,
    /// What the cart holds of the redeemable's bundle, when its rules have one (boxed: rarely
    /// there, and a rejection travels in every `Result`).
    pub bundle: Option<Box<BundleMatch>>,
}

impl Rejection {
    /// The rejection of a redeemable whose counter `key` had no room left when the store claimed
    /// it (another checkout took the last unit between evaluation and write): a voucher's own
    /// quantity is `quantity_exceeded`, any other limit `redemption_rules_violated`.
    pub fn exhausted(key: &crate::rules::CounterKey, redeemable_id: &str) -> Rejection {
        let quantity = key.is_voucher_quantity();
        Rejection {
            key: if quantity { ErrorKey::QuantityExceeded } else { ErrorKey::RedemptionRulesViolated },
            details: if quantity { redeemable_id.to_owned() } else { format!("Limit {key} reached") },
            rule_message: None,
            failures: Vec::new(),
            bundle: None,
        }
    }
}

/// What an applicable redeemable gives (before stacking limits).
#[derive(Debug, Clone, PartialEq)]
pub struct Acceptance {
    pub proposal: Proposal,
    pub claims: Vec<CounterClaim>,
    /// Gift credits used and the balance left after them.
    pub gift: Option<(i64, i64)>,
    /// The complete bundles that multiplied the discount, when the rules have a bundle (boxed:
    /// rare, and results are moved around by the thousand in qualifications).
    pub bundle: Option<Box<BundleMatch>>,
}

fn reject(key: ErrorKey, details: String) -> Rejection {
    Rejection { key, details, rule_message: None, failures: Vec::new(), bundle: None }
}

fn schedule_key(r: &Redeemable, miss: ScheduleMiss) -> ErrorKey {
    match (r.object, miss) {
        (RedeemableObject::Voucher, ScheduleMiss::NotStarted) => ErrorKey::VoucherNotActive,
        (RedeemableObject::Voucher, ScheduleMiss::Expired) => ErrorKey::VoucherExpired,
        (RedeemableObject::Voucher, ScheduleMiss::NotNow) => ErrorKey::VoucherNotActiveNow,
        _ => ErrorKey::PromotionNotActiveNow,
    }
}

/// Checks one redeemable against the running cart and computes what it would give.
pub fn check(
    r: &Redeemable,
    cart: &Cart<'_>,
    env: &Environment<'_>,
    opts: RedeemOptions,
    mode: CalculationMode,
) -> Result<Acceptance, Rejection> {
    let is_tier = r.object == RedeemableObject::PromotionTier;
    if !r.active || !r.campaign_active {
        return Err(if is_tier {
            reject(ErrorKey::PromotionInactive, format!("Promotion Tier with id: {} is disabled.", r.id))
        } else {
            reject(ErrorKey::VoucherDisabled, r.id.clone())
        });
    }
    for s in [&r.campaign_schedule, &r.schedule] {
        if let Err(miss) = s.check(env.now, env.tz) {
            return Err(reject(schedule_key(r, miss), r.id.clone()));
        }
    }
    let mut claims = Vec::new();
    // The counter key is only built when something reads it (quantity limit, formulas).
    let reads_redeemed = r.quantity.is_some() || r.discount().is_some_and(Discount::is_dynamic);
    let redeemed = if reads_redeemed { env.counters.get(&r.redeemed_key()) } else { 0 };
    if let Some(q) = r.quantity {
        if !env.ignore_counters && redeemed.saturating_add(1) > q {
            return Err(reject(ErrorKey::QuantityExceeded, r.id.clone()));
        }
        claims.push(CounterClaim { key: r.redeemed_key(), delta: 1, limit: Some(q) });
    }
    let rule_env = |discount: Decimal| RuleEnv {
        clock: env.clock(),
        catalog: env.catalog,
        customer: env.customer,
        redemption_metadata: env.redemption_metadata,
        custom_event_metadata: env.custom_event_metadata,
        counters: env.counters,
        api_key: env.api_key,
        user_login: env.user_login,
        gift_credits: opts.gift_credits,
        points: opts.points,
        subject: RuleSubject {
            redeemable_id: &r.counter_id,
            campaign_id: r.campaign_id.as_deref(),
            holder_id: r.holder_id.as_deref(),
        },
        discount,
        audience_only: env.audience_only,
        ignore_counters: env.ignore_counters,
        explain: env.explain,
    };
    let run_rules = |discount: Decimal, claims: &mut Vec<CounterClaim>| -> Result<(), Rejection> {
        let Some(rules) = &r.rules else { return Ok(()) };
        let outcome = rules.evaluate(cart, &rule_env(discount));
        if outcome.passed {
            claims.extend(outcome.claims);
            return Ok(());
        }
        let first = outcome.failures.first();
        let key = first.map_or(ErrorKey::OrderRulesViolated, |f| f.key);
        let kind = if is_tier { "Promotion Tier" } else { "Discount Coupon" };
        let details = match key {
            ErrorKey::CustomerRulesViolated | ErrorKey::OrderRulesViolated | ErrorKey::RedemptionRulesViolated => {
                format!(
                    "{kind} cannot be redeemed because of violated validation rules: {}",
                    rules.id.as_deref().unwrap_or("rules")
                )
            }
            _ => r.id.clone(),
        };
        Err(Rejection {
            key,
            details,
            rule_message: first.and_then(|f| f.message.clone()),
            failures: outcome.failures,
            bundle: None,
        })
    };
    let needs_discount = r.rules.as_ref().is_some_and(|s| s.needs_discount);
    if !needs_discount {
        run_rules(Decimal::ZERO, &mut claims)?;
    }
    let bundle_rules = r.rules.as_ref().and_then(|s| s.bundle.as_ref().map(|b| (s, b)));
    let bundle = match bundle_rules {
        Some((_, b)) if !env.audience_only => Some(Box::new(b.identify(cart, env.catalog))),
        _ => None,
    };
    if let (Some((rules, b)), Some(found)) = (bundle_rules, &bundle)
        && found.quantity == 0
        && !env.bundles_optional
    {
        return Err(bundle_missed(r, rules, b, found));
    }
    let bundles = bundle.as_ref().map_or(1, |b| b.quantity.max(1));
    let facts = FormulaFacts {
        cart,
        customer: env.customer,
        redemption_metadata: env.redemption_metadata,
        redeemable_metadata: Some(&r.metadata),
        publication_metadata: r.publication_metadata.as_ref(),
        voucher: VoucherFacts {
            quantity: r.quantity,
            redeemed,
            publish_count: r.publish_count,
            start_date: r.schedule.start,
            expiration_date: r.schedule.expiration,
        },
        is_tier,
        now: env.now,
        bundles,
    };
    let mut gift = None;
    let proposal = match &r.benefit {
        Benefit::Discount(d) => {
            let applicable = r.rules.as_ref().and_then(|s| s.applicable_to.as_ref());
            let priced_bundle = bundle.as_ref().filter(|b| {
                b.quantity > 0
                    && d.kind == DiscountKind::Fixed
                    && d.effective_effect(applicable) == Effect::ApplyToItems
                    && !applicable.is_some_and(ApplicableTo::is_scoping)
            });
            let terms = Terms { mode, guardrails: &r.guardrails };
            if let Some(found) = priced_bundle {
                bundle_price(d, cart, found, &r.guardrails, &facts)
            } else if bundles > 1 {
                let (d, scaled) = d.for_bundles(bundles, applicable);
                propose(&d, cart, scaled.as_ref().or(applicable), env.catalog, terms, &facts)
            } else {
                propose(d, cart, applicable, env.catalog, terms, &facts)
            }
        }
        Benefit::Gift { amount } => {
            let spent = env.counters.get(&r.gift_spent_key());
            let balance = (amount - spent).max(0);
            let wanted = match opts.gift_credits {
                Some(c) if c < 0 => return Err(reject(ErrorKey::InvalidGift, r.id.clone())),
                Some(c) if c > balance => {
                    return Err(reject(ErrorKey::GiftAmountExceeded, r.id.clone()));
                }
                Some(c) => c,
                None => balance,
            };
            let credits = from_wire(wanted).min(cart.net_total());
            let used = to_wire(credits);
            gift = Some((used, balance - used));
            if used > 0 {
                claims.push(CounterClaim { key: r.gift_spent_key(), delta: used, limit: Some(*amount) });
            }
            Proposal { order_level: credits, items: Vec::new(), notes: Vec::new() }
        }
        Benefit::LoyaltyCard { .. } => Proposal::default(),
    };
    if needs_discount {
        run_rules(proposal.total(), &mut claims)?;
    }
    Ok(Acceptance { proposal, claims, gift, bundle })
}

/// The rejection of a cart that does not hold one complete bundle: fixable by adding the
/// missing units, so qualifications list it as a near miss.
fn bundle_missed(r: &Redeemable, rules: &RuleSet, b: &BundleRules, found: &BundleMatch) -> Rejection {
    let kind = if r.object == RedeemableObject::PromotionTier { "Promotion Tier" } else { "Discount Coupon" };
    let first_short = found.missing.first().map(|m| &b.components[m.component]);
    let message = first_short.and_then(|c| c.message.clone()).or_else(|| rules.message.clone());
    let failure = Failure {
        rule_key: first_short.map_or_else(String::new, |c| format!("bundle_rules.{}", c.key)),
        rule: "bundle_rules".into(),
        key: ErrorKey::OrderRulesViolated,
        message: message.clone(),
        shortfall: found.missing.first().map(|m| Shortfall {
            metric: "order.items.quantity".into(),
            target: Some(m.id.clone()),
            needed: found.missing.iter().map(|m| m.item_quantity).sum(),
        }),
    };
    Rejection {
        key: ErrorKey::OrderRulesViolated,
        details: format!(
            "{kind} cannot be redeemed because of violated validation rules: {}",
            rules.id.as_deref().unwrap_or("rules")
        ),
        rule_message: message,
        failures: vec![failure],
        bundle: Some(Box::new(found.clone())),
    }
}
