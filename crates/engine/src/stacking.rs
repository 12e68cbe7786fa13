//! Stacking: several redeemables in one request, applied in sequence on the already-discounted
//! cart under the project's stacking rules (reference §4).

use crate::cart::{Cart, OrderTotals};
use crate::discount::{CalculationMode, Effect};
use crate::error::{DefinitionError, DefinitionErrorKind, OrderError};
use crate::model::Order;
use crate::money::to_wire;
use crate::redeemable::{Acceptance, Environment, RedeemOptions, Redeemable, RedeemableObject, Rejection, check};
use crate::rules::{CounterClaim, ErrorKey};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? } default $default:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)+
        }
        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }
        impl $name {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }
    };
}

wire_enum!(
    /// ALL: every redeemable must apply or nothing does; PARTIAL: the applicable ones apply.
    ApplicationMode { All = "ALL", Partial = "PARTIAL" } default Partial);
wire_enum!(
    /// Order of application.
    SortingRule { RequestedOrder = "REQUESTED_ORDER", CategoryHierarchy = "CATEGORY_HIERARCHY" } default RequestedOrder);
wire_enum!(
    /// STACK: several discounts may hit one product; ONCE: only the first.
    ProductsApplicationMode { Stack = "STACK", Once = "ONCE" } default Stack);
wire_enum!(
    /// What to do with a redeemable that changes nothing.
    NoEffectRule { RedeemAnyway = "REDEEM_ANYWAY", Skip = "SKIP" } default RedeemAnyway);
wire_enum!(
    /// Whether a rollback cancels the order.
    RollbackOrderMode { WithOrder = "WITH_ORDER", WithoutOrder = "WITHOUT_ORDER" } default WithOrder);
wire_enum!(
    /// Whether percent discounts read the discounted or the initial amounts.
    DiscountCalculationMode { DiscountedAmount = "DISCOUNTED_AMOUNT", InitialAmount = "INITIAL_AMOUNT" } default DiscountedAmount);

/// The stacking rules of a project, with Voucherify's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StackingRules {
    pub redeemables_limit: i64,
    pub applicable_redeemables_limit: i64,
    pub applicable_redeemables_per_category_limit: i64,
    pub applicable_redeemables_category_limits: BTreeMap<String, i64>,
    pub applicable_exclusive_redeemables_limit: i64,
    pub applicable_exclusive_redeemables_per_category_limit: i64,
    pub exclusive_categories: Vec<String>,
    pub joint_categories: Vec<String>,
    pub redeemables_application_mode: ApplicationMode,
    pub redeemables_sorting_rule: SortingRule,
    pub redeemables_products_application_mode: ProductsApplicationMode,
    pub redeemables_no_effect_rule: NoEffectRule,
    pub no_effect_skip_categories: Vec<String>,
    pub no_effect_redeem_anyway_categories: Vec<String>,
    pub redeemables_rollback_order_mode: RollbackOrderMode,
    pub grouped_redeemables_sorting_rule: String,
    pub discount_calculation_mode: DiscountCalculationMode,
    pub initial_amount_mode_categories: Vec<String>,
    pub discounted_amount_mode_categories: Vec<String>,
}

impl Default for StackingRules {
    fn default() -> Self {
        StackingRules {
            redeemables_limit: 30,
            applicable_redeemables_limit: 5,
            applicable_redeemables_per_category_limit: 1,
            applicable_redeemables_category_limits: BTreeMap::new(),
            applicable_exclusive_redeemables_limit: 1,
            applicable_exclusive_redeemables_per_category_limit: 1,
            exclusive_categories: Vec::new(),
            joint_categories: Vec::new(),
            redeemables_application_mode: ApplicationMode::default(),
            redeemables_sorting_rule: SortingRule::default(),
            redeemables_products_application_mode: ProductsApplicationMode::default(),
            redeemables_no_effect_rule: NoEffectRule::default(),
            no_effect_skip_categories: Vec::new(),
            no_effect_redeem_anyway_categories: Vec::new(),
            redeemables_rollback_order_mode: RollbackOrderMode::default(),
            grouped_redeemables_sorting_rule: "JOINT_ALWAYS_LAST".into(),
            discount_calculation_mode: DiscountCalculationMode::default(),
            initial_amount_mode_categories: Vec::new(),
            discounted_amount_mode_categories: Vec::new(),
        }
    }
}

impl StackingRules {
    /// Checks ranges and consistency (SPEC min/max), naming the field in errors.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        let range = |field: &str, v: i64, min: i64, max: i64| {
            if v < min || v > max {
                Err(DefinitionError::new(
                    field,
                    DefinitionErrorKind::Invalid(format!("must be within {min}..={max}, got {v}")),
                ))
            } else {
                Ok(())
            }
        };
        range("redeemables_limit", self.redeemables_limit, 1, 30)?;
        range("applicable_redeemables_limit", self.applicable_redeemables_limit, 1, self.redeemables_limit.min(30))?;
        range(
            "applicable_redeemables_per_category_limit",
            self.applicable_redeemables_per_category_limit,
            1,
            self.applicable_redeemables_limit.min(30),
        )?;
        range("applicable_exclusive_redeemables_limit", self.applicable_exclusive_redeemables_limit, 1, 5)?;
        range(
            "applicable_exclusive_redeemables_per_category_limit",
            self.applicable_exclusive_redeemables_per_category_limit,
            1,
            self.applicable_exclusive_redeemables_limit.min(5),
        )?;
        if self.applicable_redeemables_category_limits.len() > 10 {
            return Err(DefinitionError::new(
                "applicable_redeemables_category_limits",
                DefinitionErrorKind::Invalid("at most 10 categories".into()),
            ));
        }
        for (cat, limit) in &self.applicable_redeemables_category_limits {
            range(&format!("applicable_redeemables_category_limits.{cat}"), *limit, 1, 30)?;
        }
        if let Some(c) = self.exclusive_categories.iter().find(|c| self.joint_categories.contains(c)) {
            return Err(DefinitionError::new(
                "joint_categories",
                DefinitionErrorKind::Invalid(format!("{c} is also exclusive")),
            ));
        }
        if let Some(c) =
            self.no_effect_skip_categories.iter().find(|c| self.no_effect_redeem_anyway_categories.contains(c))
        {
            return Err(DefinitionError::new(
                "no_effect_redeem_anyway_categories",
                DefinitionErrorKind::Invalid(format!("{c} is also in no_effect_skip_categories")),
            ));
        }
        if let Some(c) =
            self.initial_amount_mode_categories.iter().find(|c| self.discounted_amount_mode_categories.contains(c))
        {
            return Err(DefinitionError::new(
                "discounted_amount_mode_categories",
                DefinitionErrorKind::Invalid(format!("{c} is also in initial_amount_mode_categories")),
            ));
        }
        if self.grouped_redeemables_sorting_rule != "JOINT_ALWAYS_LAST" {
            return Err(DefinitionError::new(
                "grouped_redeemables_sorting_rule",
                DefinitionErrorKind::Invalid("only JOINT_ALWAYS_LAST is supported".into()),
            ));
        }
        Ok(())
    }

    fn category_limit(&self, category: &str) -> i64 {
        self.applicable_redeemables_category_limits
            .get(category)
            .copied()
            .unwrap_or(self.applicable_redeemables_per_category_limit)
    }
}

/// How a redeemable relates to others through its categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StackingType {
    /// "Never stackable": blocks common redeemables.
    Exclusive,
    /// "Always stackable".
    Joint,
    Common,
}

fn stacking_type(r: &Redeemable, rules: &StackingRules) -> StackingType {
    if r.categories.iter().any(|c| rules.exclusive_categories.contains(&c.id)) {
        StackingType::Exclusive
    } else if r.categories.iter().any(|c| rules.joint_categories.contains(&c.id)) {
        StackingType::Joint
    } else {
        StackingType::Common
    }
}

/// A redeemable as requested, resolved by the caller.
#[derive(Debug, Clone)]
pub enum Requested<'r> {
    Found {
        redeemable: &'r Redeemable,
        options: RedeemOptions,
    },
    NotFound {
        id: String,
        object: RedeemableObject,
    },
    /// A promotion stack, expanded to its tiers in the stack's order.
    Stack {
        id: String,
        tiers: Vec<&'r Redeemable>,
    },
}

impl Requested<'_> {
    fn identity(&self) -> (RedeemableObject, &str) {
        match self {
            Requested::Found { redeemable, .. } => (redeemable.object, redeemable.id.as_str()),
            Requested::NotFound { id, object } => (*object, id.as_str()),
            Requested::Stack { id, .. } => (RedeemableObject::PromotionStack, id.as_str()),
        }
    }
}

/// A request that cannot be evaluated at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("at least one redeemable is required")]
    Empty,
    #[error("at most {0} redeemables are allowed")]
    TooMany(i64),
    #[error("Duplicated redeemables detected")]
    Duplicated,
    #[error("Promotion Stack cannot be use with other redeemables")]
    StackWithOthers,
    #[error(transparent)]
    Order(#[from] OrderError),
}

/// Why an applicable redeemable was skipped (reference §2.4, exact keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    ApplicableRedeemablesLimitExceeded,
    ApplicableRedeemablesPerCategoryLimitExceeded,
    ApplicableExclusiveRedeemablesLimitExceeded,
    ApplicableExclusiveRedeemablesPerCategoryLimitExceeded,
    ExclusionRulesNotMet,
    PrecedingValidationFailed,
    NoEffect,
    /// ALL mode: this one was fine, but the request failed, so nothing was applied (`result: {}`).
    RequestFailed,
}

impl SkipReason {
    /// `result.details.key`; `None` for an empty result.
    pub fn key(self) -> Option<&'static str> {
        Some(match self {
            SkipReason::ApplicableRedeemablesLimitExceeded => "applicable_redeemables_limit_exceeded",
            SkipReason::ApplicableRedeemablesPerCategoryLimitExceeded => {
                "applicable_redeemables_per_category_limit_exceeded"
            }
            SkipReason::ApplicableExclusiveRedeemablesLimitExceeded => {
                "applicable_exclusive_redeemables_limit_exceeded"
            }
            SkipReason::ApplicableExclusiveRedeemablesPerCategoryLimitExceeded => {
                "applicable_exclusive_redeemables_per_category_limit_exceeded"
            }
            SkipReason::ExclusionRulesNotMet => "exclusion_rules_not_met",
            SkipReason::PrecedingValidationFailed => "preceding_validation_failed",
            SkipReason::NoEffect => "no_effect",
            SkipReason::RequestFailed => return None,
        })
    }

    /// `result.details.message`.
    pub fn message(self) -> Option<&'static str> {
        Some(match self {
            SkipReason::ApplicableRedeemablesLimitExceeded => "Applicable redeemables limit exceeded",
            SkipReason::ApplicableRedeemablesPerCategoryLimitExceeded => {
                "Applicable redeemables limit per category exceeded"
            }
            SkipReason::ApplicableExclusiveRedeemablesLimitExceeded => {
                "Applicable exclusive redeemables limit exceeded"
            }
            SkipReason::ApplicableExclusiveRedeemablesPerCategoryLimitExceeded => {
                "Applicable exclusive redeemables limit per category exceeded"
            }
            SkipReason::ExclusionRulesNotMet => "Redeemable cannot be applied due to exclusion rules",
            SkipReason::PrecedingValidationFailed => "Redeemable cannot be applied due to preceding validation failure",
            SkipReason::NoEffect => "Redeemable cannot be applied due to no effect",
            SkipReason::RequestFailed => return None,
        })
    }
}

/// The status of one redeemable in a stacked response.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Applicable(Applied),
    Inapplicable(Rejection),
    Skipped(SkipReason),
}

impl Outcome {
    /// `APPLICABLE`, `INAPPLICABLE` or `SKIPPED`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Applicable(_) => "APPLICABLE",
            Outcome::Inapplicable(_) => "INAPPLICABLE",
            Outcome::Skipped(_) => "SKIPPED",
        }
    }
}

/// What an applied redeemable did.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// Total discount of this redeemable, minor units.
    pub discount: i64,
    /// Its order-level part.
    pub order_discount: i64,
    /// Item-level parts by line position in the final order items.
    pub item_discounts: Vec<LineAmount>,
    /// The order-level part spread over lines (for returns); sums with `unitemized` to
    /// `order_discount`. Filled when [`StackOptions::allocations`] is set.
    pub order_allocations: Vec<LineAmount>,
    pub unitemized: i64,
    pub gift: Option<(i64, i64)>,
    pub claims: Vec<CounterClaim>,
    /// The cumulative order after this redeemable (when snapshots were asked for).
    pub order: Option<OrderTotals>,
    /// The complete bundles that multiplied the discount.
    pub bundle: Option<Box<crate::bundle::BundleMatch>>,
    /// The guardrails that made the discount smaller (lines are cart lines).
    pub guardrails: Vec<crate::guardrails::GuardNote>,
}

/// An amount on one line of the final order items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineAmount {
    pub line: usize,
    pub amount: i64,
    pub free_units: i64,
    pub added_units: i64,
    /// The `applicable_to` entry that reached the line, if one did.
    pub target: Option<usize>,
    /// Units of the line the discount reached.
    pub units: i64,
}

/// One redeemable in the response.
#[derive(Debug, Clone)]
pub struct RedeemableResult<'r> {
    /// Position in the request (tiers of a stack share the stack's position).
    pub request_index: usize,
    pub id: String,
    pub object: RedeemableObject,
    pub redeemable: Option<&'r Redeemable>,
    pub stacking: Option<StackingType>,
    pub outcome: Outcome,
}

/// The result of a stacked validation (or of the calculation behind a redemption).
#[derive(Debug, Clone)]
pub struct StackedEvaluation<'r> {
    pub valid: bool,
    /// In application order.
    pub results: Vec<RedeemableResult<'r>>,
    pub order: OrderTotals,
    /// Every counter the redemption consumes, merged per key and sorted (a stable lock order).
    pub claims: Vec<CounterClaim>,
}

impl StackedEvaluation<'_> {
    /// Whether a redemption of this evaluation goes ahead: every redeemable applies, or — in
    /// PARTIAL mode — at least one does (the others are answered as inapplicable or skipped).
    pub fn goes_ahead(&self, rules: &StackingRules) -> bool {
        self.valid
            || (rules.redeemables_application_mode == ApplicationMode::Partial
                && self.results.iter().any(|r| matches!(r.outcome, Outcome::Applicable(_))))
    }
}

/// Evaluation switches.
#[derive(Debug, Clone, Copy, Default)]
pub struct StackOptions {
    /// Compute the per-redeemable cumulative order snapshots (`options.expand: ["order"]`).
    pub snapshots: bool,
    /// Spread order-level discounts over the lines (what a redemption stores for returns).
    pub allocations: bool,
}

struct Entry<'r> {
    request_index: usize,
    requested: Option<(&'r Redeemable, RedeemOptions)>,
    missing: Option<(String, RedeemableObject)>,
}

/// Validates a request's redeemables together.
pub fn evaluate_stack<'r>(
    requested: &[Requested<'r>],
    order: &Order,
    rules: &StackingRules,
    env: &Environment<'_>,
    options: StackOptions,
) -> Result<StackedEvaluation<'r>, RequestError> {
    if requested.is_empty() {
        return Err(RequestError::Empty);
    }
    if requested.len() as i64 > rules.redeemables_limit {
        return Err(RequestError::TooMany(rules.redeemables_limit));
    }
    if requested.len() > 1 && requested.iter().any(|r| matches!(r, Requested::Stack { .. })) {
        return Err(RequestError::StackWithOthers);
    }
    let mut seen = HashSet::new();
    if !requested.iter().all(|r| seen.insert(r.identity())) {
        return Err(RequestError::Duplicated);
    }
    let mut cart = Cart::new(order, env.catalog, &env.clock())?;

    let mut entries: Vec<Entry<'r>> = Vec::new();
    for (i, r) in requested.iter().enumerate() {
        match r {
            Requested::Found { redeemable, options } => {
                entries.push(Entry { request_index: i, requested: Some((*redeemable, *options)), missing: None })
            }
            Requested::NotFound { id, object } => {
                entries.push(Entry { request_index: i, requested: None, missing: Some((id.clone(), *object)) })
            }
            Requested::Stack { tiers, .. } => {
                entries.extend(tiers.iter().map(|t| Entry {
                    request_index: i,
                    requested: Some((*t, RedeemOptions::default())),
                    missing: None,
                }));
            }
        }
    }
    let kind = |e: &Entry<'_>| e.requested.map(|(r, _)| stacking_type(r, rules));
    let hierarchy = |e: &Entry<'_>| {
        e.requested.and_then(|(r, _)| r.categories.iter().map(|c| c.hierarchy).min()).unwrap_or(i64::MAX)
    };
    // Sorting: by category hierarchy if asked; then exclusive first and joint last
    // (JOINT_ALWAYS_LAST). The sort is stable, so ties keep the requested order.
    if rules.redeemables_sorting_rule == SortingRule::CategoryHierarchy {
        entries.sort_by_key(|e| hierarchy(e));
    }
    entries.sort_by_key(|e| match kind(e) {
        Some(StackingType::Exclusive) => 0,
        Some(StackingType::Joint) => 2,
        _ => 1,
    });

    let all_mode = rules.redeemables_application_mode == ApplicationMode::All;
    let once = rules.redeemables_products_application_mode == ProductsApplicationMode::Once;
    let mut results: Vec<RedeemableResult<'r>> = Vec::with_capacity(entries.len());
    let mut failed = false;
    let mut applied_total = 0i64;
    let mut applied_exclusive = 0i64;
    let mut per_category: HashMap<&str, i64> = HashMap::new();
    let mut per_category_exclusive: HashMap<&str, i64> = HashMap::new();

    for e in &entries {
        let (id, object, redeemable) = match (&e.requested, &e.missing) {
            (Some((r, _)), _) => (r.id.clone(), r.object, Some(*r)),
            (None, Some((id, object))) => (id.clone(), *object, None),
            (None, None) => continue,
        };
        let stacking = kind(e);
        let mut push = |outcome: Outcome| {
            results.push(RedeemableResult {
                request_index: e.request_index,
                id: id.clone(),
                object,
                redeemable,
                stacking,
                outcome,
            })
        };
        if all_mode && failed {
            push(Outcome::Skipped(SkipReason::PrecedingValidationFailed));
            continue;
        }
        let Some((r, opts)) = e.requested else {
            failed = true;
            let what = object.as_str().replace('_', " ");
            push(Outcome::Inapplicable(Rejection {
                key: ErrorKey::NotFound,
                details: format!("Cannot find {what} with id {id}"),
                rule_message: None,
                failures: Vec::new(),
                bundle: None,
            }));
            continue;
        };
        let stacking = stacking.unwrap_or(StackingType::Common);
        if stacking == StackingType::Common && applied_exclusive > 0 {
            push(Outcome::Skipped(SkipReason::ExclusionRulesNotMet));
            continue;
        }
        let mode = calculation_mode(r, rules);
        let accepted: Acceptance = match check(r, &cart, env, opts, mode) {
            Ok(a) => a,
            Err(rejection) => {
                failed = true;
                push(Outcome::Inapplicable(rejection));
                continue;
            }
        };
        if let Some(skip) =
            limit_reached(r, stacking, rules, applied_total, applied_exclusive, &per_category, &per_category_exclusive)
        {
            push(Outcome::Skipped(skip));
            continue;
        }
        if !accepted.proposal.has_effect() && skips_without_effect(r, rules) {
            push(Outcome::Skipped(SkipReason::NoEffect));
            continue;
        }
        let item_level = r.effect().is_some_and(Effect::is_item_level);
        let touched = cart.apply(&accepted.proposal, once && item_level);
        applied_total += 1;
        for c in &r.categories {
            *per_category.entry(c.id.as_str()).or_default() += 1;
            if stacking == StackingType::Exclusive {
                *per_category_exclusive.entry(c.id.as_str()).or_default() += 1;
            }
        }
        if stacking == StackingType::Exclusive {
            applied_exclusive += 1;
        }
        let p = &accepted.proposal;
        push(Outcome::Applicable(Applied {
            discount: to_wire(p.total()),
            order_discount: to_wire(p.order_level),
            item_discounts: p
                .items
                .iter()
                .zip(&touched)
                .map(|(c, &line)| LineAmount {
                    line,
                    amount: to_wire(c.discount),
                    free_units: c.free_units,
                    added_units: c.add_units,
                    target: c.target,
                    units: c.units,
                })
                .collect(),
            order_allocations: Vec::new(),
            unitemized: 0,
            gift: accepted.gift,
            claims: accepted.claims,
            order: options.snapshots.then(|| cart.snapshot(p, &touched)),
            bundle: accepted.bundle,
            guardrails: p.notes.clone(),
        }));
    }

    let any_inapplicable = results.iter().any(|r| matches!(r.outcome, Outcome::Inapplicable(_)));
    let any_applicable = results.iter().any(|r| matches!(r.outcome, Outcome::Applicable(_)));
    if all_mode && any_inapplicable {
        // ALL: nothing applies when one fails.
        for r in &mut results {
            if matches!(r.outcome, Outcome::Applicable(_)) {
                r.outcome = Outcome::Skipped(SkipReason::RequestFailed);
            }
        }
        cart = Cart::new(order, env.catalog, &env.clock())?;
    }
    if options.allocations {
        let order_levels: Vec<(rust_decimal::Decimal, crate::guardrails::Guardrails)> = results
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Applicable(a) => Some((
                    rust_decimal::Decimal::from(a.order_discount),
                    r.redeemable.map(|red| red.guardrails).unwrap_or_default(),
                )),
                _ => None,
            })
            .collect();
        let mut spreads = cart.spread_order_levels(&order_levels).into_iter();
        for r in &mut results {
            if let (Outcome::Applicable(a), Some((allocs, rest))) = (&mut r.outcome, spreads.next()) {
                a.order_allocations = allocs
                    .into_iter()
                    .map(|(line, amount)| LineAmount {
                        line,
                        amount: to_wire(amount),
                        free_units: 0,
                        added_units: 0,
                        target: None,
                        units: 0,
                    })
                    .collect();
                a.unitemized = to_wire(rest);
            }
        }
    }
    let valid = if all_mode { !any_inapplicable } else { any_applicable };
    let claims = merge_claims(results.iter().filter_map(|r| match &r.outcome {
        Outcome::Applicable(a) => Some(a.claims.iter()),
        _ => None,
    }));
    Ok(StackedEvaluation { valid, results, order: cart.totals(), claims })
}

fn calculation_mode(r: &Redeemable, rules: &StackingRules) -> CalculationMode {
    let in_any = |list: &[String]| r.categories.iter().any(|c| list.contains(&c.id));
    if in_any(&rules.initial_amount_mode_categories) {
        CalculationMode::InitialAmount
    } else if in_any(&rules.discounted_amount_mode_categories) {
        CalculationMode::DiscountedAmount
    } else if rules.discount_calculation_mode == DiscountCalculationMode::InitialAmount {
        CalculationMode::InitialAmount
    } else {
        CalculationMode::DiscountedAmount
    }
}

fn skips_without_effect(r: &Redeemable, rules: &StackingRules) -> bool {
    let in_any = |list: &[String]| r.categories.iter().any(|c| list.contains(&c.id));
    if in_any(&rules.no_effect_skip_categories) {
        true
    } else if in_any(&rules.no_effect_redeem_anyway_categories) {
        false
    } else {
        rules.redeemables_no_effect_rule == NoEffectRule::Skip
    }
}

/// Joint ("always stackable") redeemables are exempt from per-category limits; every
/// applied redeemable counts towards the total limit.
fn limit_reached(
    r: &Redeemable,
    stacking: StackingType,
    rules: &StackingRules,
    applied_total: i64,
    applied_exclusive: i64,
    per_category: &HashMap<&str, i64>,
    per_category_exclusive: &HashMap<&str, i64>,
) -> Option<SkipReason> {
    if stacking == StackingType::Exclusive {
        if applied_exclusive >= rules.applicable_exclusive_redeemables_limit {
            return Some(SkipReason::ApplicableExclusiveRedeemablesLimitExceeded);
        }
        if r.categories.iter().any(|c| {
            per_category_exclusive.get(c.id.as_str()).copied().unwrap_or(0)
                >= rules.applicable_exclusive_redeemables_per_category_limit
        }) {
            return Some(SkipReason::ApplicableExclusiveRedeemablesPerCategoryLimitExceeded);
        }
    }
    if applied_total >= rules.applicable_redeemables_limit {
        return Some(SkipReason::ApplicableRedeemablesLimitExceeded);
    }
    if stacking != StackingType::Joint
        && r.categories
            .iter()
            .any(|c| per_category.get(c.id.as_str()).copied().unwrap_or(0) >= rules.category_limit(&c.id))
    {
        return Some(SkipReason::ApplicableRedeemablesPerCategoryLimitExceeded);
    }
    None
}

/// Merges claims on the same counter (summing deltas, keeping the tightest limit) and sorts
/// them by key, the order in which the store must lock counters.
pub fn merge_claims<'c>(groups: impl Iterator<Item = std::slice::Iter<'c, CounterClaim>>) -> Vec<CounterClaim> {
    let mut merged: BTreeMap<crate::rules::CounterKey, CounterClaim> = BTreeMap::new();
    for claim in groups.flatten() {
        merged
            .entry(claim.key.clone())
            .and_modify(|m| {
                m.delta += claim.delta;
                m.limit = match (m.limit, claim.limit) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            })
            .or_insert_with(|| claim.clone());
    }
    merged.into_values().collect()
}
