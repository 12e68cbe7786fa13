//! Qualification: which of a project's active redeemables a cart qualifies for, with their
//! discounts, and the near misses with what is missing.
//!
//! Redeemables are indexed by the products, SKUs and collections their rules require, so a
//! cart only evaluates the candidates it can reach plus the untargeted ones.

use crate::cart::{Cart, Proposal};
use crate::catalog::IdIndex;
use crate::discount::CalculationMode;
use crate::error::OrderError;
use crate::model::Order;
use crate::money::to_wire;
use crate::redeemable::{Environment, RedeemOptions, Redeemable, check};
use crate::rules::{Failure, RuleSet};
use std::collections::HashMap;
use std::sync::Arc;

/// How qualified redeemables are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QualificationSorting {
    /// Newest first (`created_at` descending).
    #[default]
    Default,
    /// Biggest discount first.
    BestDeal,
    /// Smallest discount first.
    LeastDeal,
}

impl QualificationSorting {
    /// `DEFAULT`, `BEST_DEAL` or `LEAST_DEAL`.
    pub fn parse(name: &str) -> Option<QualificationSorting> {
        Some(match name {
            "DEFAULT" => QualificationSorting::Default,
            "BEST_DEAL" => QualificationSorting::BestDeal,
            "LEAST_DEAL" => QualificationSorting::LeastDeal,
            _ => return None,
        })
    }

    /// The order of a qualification page: by deal (when asked), then newest first, then by id
    /// (so equal entries keep one order from page to page).
    pub fn compare(self, a: PageKey<'_>, b: PageKey<'_>) -> std::cmp::Ordering {
        let by_deal = match self {
            QualificationSorting::BestDeal => b.discount.cmp(&a.discount),
            QualificationSorting::LeastDeal => a.discount.cmp(&b.discount),
            QualificationSorting::Default => std::cmp::Ordering::Equal,
        };
        by_deal.then(b.created_at.cmp(&a.created_at)).then_with(|| a.id.cmp(b.id))
    }
}

/// What orders one qualification entry among others.
#[derive(Debug, Clone, Copy)]
pub struct PageKey<'a> {
    /// The discount the entry gives this cart, in minor units.
    pub discount: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub id: &'a str,
}

/// What a qualification looks at (Voucherify's `scenario`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// Promotion tiers and the customer's codes.
    #[default]
    All,
    /// The customer's codes only.
    CustomerWallet,
    /// Tiers and codes whose audience rules the customer meets (other rules ignored).
    AudienceOnly,
    /// Tiers scoped to products (by `applicable_to` or by item rules).
    Products,
    /// Tiers whose discount is scoped to products.
    ProductsDiscount,
    /// Promotion stacks.
    PromotionStacks,
    ProductsByCustomer,
    ProductsDiscountByCustomer,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::All,
        Scenario::CustomerWallet,
        Scenario::AudienceOnly,
        Scenario::Products,
        Scenario::ProductsDiscount,
        Scenario::PromotionStacks,
        Scenario::ProductsByCustomer,
        Scenario::ProductsDiscountByCustomer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::All => "ALL",
            Scenario::CustomerWallet => "CUSTOMER_WALLET",
            Scenario::AudienceOnly => "AUDIENCE_ONLY",
            Scenario::Products => "PRODUCTS",
            Scenario::ProductsDiscount => "PRODUCTS_DISCOUNT",
            Scenario::PromotionStacks => "PROMOTION_STACKS",
            Scenario::ProductsByCustomer => "PRODUCTS_BY_CUSTOMER",
            Scenario::ProductsDiscountByCustomer => "PRODUCTS_DISCOUNT_BY_CUSTOMER",
        }
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Only audience rules count (the rest of a validation rule is not checked).
    pub fn audience_only(self) -> bool {
        self == Scenario::AudienceOnly
    }

    /// A cart without a complete bundle still qualifies (Voucherify: not required for
    /// `AUDIENCE_ONLY`, `PRODUCTS`, `PRODUCTS_BY_CUSTOMER`).
    pub fn bundles_optional(self) -> bool {
        matches!(self, Scenario::AudienceOnly | Scenario::Products | Scenario::ProductsByCustomer)
    }

    /// Promotion tiers are candidates.
    pub fn wants_tiers(self) -> bool {
        !matches!(self, Scenario::PromotionStacks | Scenario::CustomerWallet)
    }

    /// The customer's codes are candidates.
    pub fn wants_wallet(self) -> bool {
        matches!(self, Scenario::All | Scenario::CustomerWallet | Scenario::AudienceOnly)
    }

    /// Promotion stacks are candidates.
    pub fn wants_stacks(self) -> bool {
        self == Scenario::PromotionStacks
    }

    /// Whether a qualified tier belongs in this scenario's answer.
    pub fn keeps(self, r: &Redeemable) -> bool {
        let scoped = |with_rules: bool| {
            let Some(rules) = &r.rules else { return false };
            rules.applicable_to.as_ref().is_some_and(|a| a.is_scoping())
                || (with_rules && !rules.required_refs().is_empty())
        };
        match self {
            Scenario::Products | Scenario::ProductsByCustomer => scoped(true),
            Scenario::ProductsDiscount | Scenario::ProductsDiscountByCustomer => scoped(false),
            _ => true,
        }
    }
}

/// The active redeemables of a project, indexed for qualification. Build once per change of
/// definitions and share across requests.
#[derive(Debug, Clone, Default)]
pub struct QualificationIndex {
    redeemables: Vec<Arc<Redeemable>>,
    targeted: IdIndex<u32>,
    untargeted: Vec<u32>,
}

impl QualificationIndex {
    pub fn new(redeemables: Vec<Arc<Redeemable>>) -> Self {
        let mut targeted = IdIndex::default();
        let mut untargeted = Vec::new();
        for (i, r) in redeemables.iter().enumerate() {
            let refs = r.rules.as_deref().map(RuleSet::required_refs).unwrap_or_default();
            if refs.is_empty() {
                untargeted.push(i as u32);
            }
            for item in &refs {
                item.for_each_id(|kind, id| targeted.insert(kind, id, i as u32));
            }
        }
        QualificationIndex { redeemables, targeted, untargeted }
    }

    pub fn len(&self) -> usize {
        self.redeemables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.redeemables.is_empty()
    }

    pub fn redeemables(&self) -> &[Arc<Redeemable>] {
        &self.redeemables
    }

    /// Positions of the redeemables worth evaluating for this cart, ascending.
    pub fn candidates(&self, cart: &Cart<'_>, env: &Environment<'_>) -> Vec<u32> {
        let mut out = self.untargeted.clone();
        for line in &cart.lines {
            line.identity.for_each_id(env.catalog, |kind, id| out.extend_from_slice(self.targeted.get(kind, id)));
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// A redeemable the cart qualifies for.
#[derive(Debug, Clone)]
pub struct Qualified<'r> {
    pub redeemable: &'r Redeemable,
    /// Its discount on this cart alone, minor units.
    pub discount: i64,
    pub proposal: Proposal,
    /// What the cart holds of the redeemable's bundle.
    pub bundle: Option<Box<crate::bundle::BundleMatch>>,
}

/// A redeemable the cart misses only by amounts or quantities it could add.
#[derive(Debug, Clone)]
pub struct NearMiss<'r> {
    pub redeemable: &'r Redeemable,
    pub missing: Vec<Failure>,
    /// What the cart holds of the bundle, when a missing bundle is what keeps it out.
    pub bundle: Option<Box<crate::bundle::BundleMatch>>,
}

/// Qualification results.
#[derive(Debug, Clone, Default)]
pub struct Qualification<'r> {
    pub qualified: Vec<Qualified<'r>>,
    pub near_misses: Vec<NearMiss<'r>>,
    /// How many candidates were evaluated (out of the index's size).
    pub evaluated: usize,
}

/// Options of a qualification.
#[derive(Debug, Clone, Copy, Default)]
pub struct QualifyOptions {
    pub sorting: QualificationSorting,
    /// Report near misses (costs an explanation per failing candidate).
    pub near_misses: bool,
    /// Keep only the best tier (lowest hierarchy) of each promotion campaign.
    pub best_tier_per_campaign: bool,
    /// Sort only the first `limit` results (a response page); the rest stay counted, unordered.
    pub limit: Option<usize>,
}

/// Evaluates a cart against the index. The environment decides whether counters and
/// non-audience rules are checked.
pub fn qualify<'r>(
    index: &'r QualificationIndex,
    order: &Order,
    env: &Environment<'_>,
    options: QualifyOptions,
) -> Result<Qualification<'r>, OrderError> {
    let cart = Cart::new(order, env.catalog, &env.clock())?;
    let candidates = index.candidates(&cart, env);
    let env = Environment { explain: options.near_misses, ..*env };
    let mut result = Qualification { evaluated: candidates.len(), ..Default::default() };
    for i in candidates {
        let r: &Redeemable = &index.redeemables[i as usize];
        match check(r, &cart, &env, RedeemOptions::default(), CalculationMode::DiscountedAmount) {
            Ok(a) => result.qualified.push(Qualified {
                redeemable: r,
                discount: to_wire(a.proposal.total()),
                proposal: a.proposal,
                bundle: a.bundle,
            }),
            Err(rejection) => {
                let fixable =
                    !rejection.failures.is_empty() && rejection.failures.iter().all(|f| f.shortfall.is_some());
                if options.near_misses && fixable {
                    result.near_misses.push(NearMiss {
                        redeemable: r,
                        missing: rejection.failures,
                        bundle: rejection.bundle,
                    });
                }
            }
        }
    }
    if options.best_tier_per_campaign {
        keep_best_tier_per_campaign(&mut result.qualified);
    }
    sort_qualified(&mut result.qualified, options.sorting, options.limit);
    result.near_misses.sort_by_key(|n| {
        (n.missing.iter().filter_map(|f| f.shortfall.as_ref().map(|s| s.needed)).sum::<i64>(), n.redeemable.id.clone())
    });
    Ok(result)
}

/// Sorts qualified redeemables (or only the first `limit`); ties fall back to newest first,
/// then id.
pub fn sort_qualified(list: &mut [Qualified<'_>], sorting: QualificationSorting, limit: Option<usize>) {
    let order = |a: &Qualified<'_>, b: &Qualified<'_>| {
        let newest =
            b.redeemable.created_at.cmp(&a.redeemable.created_at).then_with(|| a.redeemable.id.cmp(&b.redeemable.id));
        match sorting {
            QualificationSorting::Default => newest,
            QualificationSorting::BestDeal => b.discount.cmp(&a.discount).then(newest),
            QualificationSorting::LeastDeal => a.discount.cmp(&b.discount).then(newest),
        }
    };
    match limit {
        // Bring the page to the front in linear time, then sort just the page.
        Some(k) if k < list.len() => {
            if k > 0 {
                list.select_nth_unstable_by(k - 1, order);
            }
            list[..k].sort_by(order);
        }
        _ => list.sort_by(order),
    }
}

/// Tiered promotions ("spend 50 → 5%, spend 100 → 10%"): of the qualifying tiers of one
/// campaign, keep the one highest in the hierarchy (lowest number).
pub fn keep_best_tier_per_campaign(list: &mut Vec<Qualified<'_>>) {
    let mut best: HashMap<&str, (i64, usize)> = HashMap::new();
    for (i, q) in list.iter().enumerate() {
        if let (crate::redeemable::RedeemableObject::PromotionTier, Some(c)) =
            (q.redeemable.object, q.redeemable.campaign_id.as_deref())
        {
            let h = q.redeemable.hierarchy;
            best.entry(c)
                .and_modify(|e| {
                    if h < e.0 {
                        *e = (h, i)
                    }
                })
                .or_insert((h, i));
        }
    }
    let keep: Vec<bool> = list
        .iter()
        .enumerate()
        .map(|(i, q)| match (q.redeemable.object, q.redeemable.campaign_id.as_deref()) {
            (crate::redeemable::RedeemableObject::PromotionTier, Some(c)) => best.get(c).is_some_and(|b| b.1 == i),
            _ => true,
        })
        .collect();
    let mut k = keep.iter();
    list.retain(|_| *k.next().unwrap_or(&true));
}
