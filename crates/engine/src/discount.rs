//! Discounts (AMOUNT, PERCENT, FIXED, UNIT) and their effects on the running cart.

use crate::bundle::BundleMatch;
use crate::cart::{AddedProduct, Cart, ItemChange, LineRef, OrderBase, Proposal};
use crate::catalog::Catalog;
use crate::error::{DefinitionError, DefinitionErrorKind};
use crate::facts::{FormulaFacts, LineScope};
use crate::formula::{EvalError, Formula, FormulaEnv};
use crate::guardrails::{GuardNote, GuardReason, Guardrails};
use crate::model::null_as_default;
use crate::money::{MAX_MINOR, Share, allocate, clamp_money, from_wire, round_minor, to_wire};
use crate::targeting::{ApplicableTo, Reach, reach};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The product a UNIT discount gives, on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitProductDef {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub name: Option<String>,
    /// Unit price used when the product has to be added to the cart.
    pub price: Option<i64>,
}

/// One entry of `units` (ADD_MANY_ITEMS) on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitDef {
    pub unit_off: Option<i64>,
    pub unit_off_formula: Option<String>,
    pub unit_type: Option<String>,
    pub effect: Option<String>,
    pub product: Option<UnitProductDef>,
    pub sku: Option<UnitProductDef>,
}

/// A discount on the wire (reference §5.1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscountDef {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub effect: Option<String>,
    pub amount_off: Option<i64>,
    pub amount_off_formula: Option<String>,
    /// A JSON number only: `"10"` is refused, not read as 10.
    #[serde(
        default,
        serialize_with = "rust_decimal::serde::float_option::serialize",
        deserialize_with = "crate::model::number_option"
    )]
    pub percent_off: Option<Decimal>,
    pub percent_off_formula: Option<String>,
    pub amount_limit: Option<i64>,
    pub aggregated_amount_limit: Option<i64>,
    pub fixed_amount: Option<i64>,
    pub fixed_amount_formula: Option<String>,
    pub unit_off: Option<i64>,
    pub unit_off_formula: Option<String>,
    pub unit_type: Option<String>,
    pub product: Option<UnitProductDef>,
    pub sku: Option<UnitProductDef>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub units: Vec<UnitDef>,
    /// In answers; when written, it must agree with whether a formula decides the value.
    pub is_dynamic: Option<bool>,
}

impl DiscountDef {
    /// The fields set that a discount of this type would not read (nothing accepted and ignored).
    fn foreign_fields(&self, kind: DiscountKind) -> Vec<&'static str> {
        let set = [
            ("amount_off", self.amount_off.is_some()),
            ("amount_off_formula", self.amount_off_formula.is_some()),
            ("percent_off", self.percent_off.is_some()),
            ("percent_off_formula", self.percent_off_formula.is_some()),
            ("amount_limit", self.amount_limit.is_some()),
            ("fixed_amount", self.fixed_amount.is_some()),
            ("fixed_amount_formula", self.fixed_amount_formula.is_some()),
            ("unit_off", self.unit_off.is_some()),
            ("unit_off_formula", self.unit_off_formula.is_some()),
            ("unit_type", self.unit_type.is_some()),
            ("product", self.product.is_some()),
            ("sku", self.sku.is_some()),
            ("units", !self.units.is_empty()),
        ];
        let reads: &[&str] = match kind {
            DiscountKind::Amount => &["amount_off", "amount_off_formula"],
            DiscountKind::Percent => &["percent_off", "percent_off_formula", "amount_limit"],
            DiscountKind::Fixed => &["fixed_amount", "fixed_amount_formula"],
            DiscountKind::Unit => &["unit_off", "unit_off_formula", "unit_type", "product", "sku", "units"],
        };
        set.iter().filter(|(name, on)| *on && !reads.contains(name)).map(|(name, _)| *name).collect()
    }
}

/// Discount type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiscountKind {
    Amount,
    Percent,
    Fixed,
    Unit,
}

/// Discount effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Effect {
    ApplyToOrder,
    ApplyToItems,
    ApplyToItemsProportionally,
    ApplyToItemsProportionallyByQuantity,
    ApplyToItemsByQuantity,
    AddMissingItems,
    AddNewItems,
    AddManyItems,
}

impl DiscountKind {
    /// Every discount type, in the order the reference lists them.
    pub const ALL: [DiscountKind; 4] =
        [DiscountKind::Amount, DiscountKind::Percent, DiscountKind::Fixed, DiscountKind::Unit];

    /// From its wire name.
    pub fn parse(s: &str) -> Option<DiscountKind> {
        Some(match s {
            "AMOUNT" => DiscountKind::Amount,
            "PERCENT" => DiscountKind::Percent,
            "FIXED" => DiscountKind::Fixed,
            "UNIT" => DiscountKind::Unit,
            _ => return None,
        })
    }
}

impl Effect {
    /// Every effect.
    pub const ALL: [Effect; 8] = [
        Effect::ApplyToOrder,
        Effect::ApplyToItems,
        Effect::ApplyToItemsProportionally,
        Effect::ApplyToItemsProportionallyByQuantity,
        Effect::ApplyToItemsByQuantity,
        Effect::AddMissingItems,
        Effect::AddNewItems,
        Effect::AddManyItems,
    ];

    /// From its wire name.
    pub fn parse(s: &str) -> Option<Effect> {
        Some(match s {
            "APPLY_TO_ORDER" => Effect::ApplyToOrder,
            "APPLY_TO_ITEMS" => Effect::ApplyToItems,
            "APPLY_TO_ITEMS_PROPORTIONALLY" => Effect::ApplyToItemsProportionally,
            "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY" => Effect::ApplyToItemsProportionallyByQuantity,
            "APPLY_TO_ITEMS_BY_QUANTITY" => Effect::ApplyToItemsByQuantity,
            "ADD_MISSING_ITEMS" => Effect::AddMissingItems,
            "ADD_NEW_ITEMS" => Effect::AddNewItems,
            "ADD_MANY_ITEMS" => Effect::AddManyItems,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::ApplyToOrder => "APPLY_TO_ORDER",
            Effect::ApplyToItems => "APPLY_TO_ITEMS",
            Effect::ApplyToItemsProportionally => "APPLY_TO_ITEMS_PROPORTIONALLY",
            Effect::ApplyToItemsProportionallyByQuantity => "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY",
            Effect::ApplyToItemsByQuantity => "APPLY_TO_ITEMS_BY_QUANTITY",
            Effect::AddMissingItems => "ADD_MISSING_ITEMS",
            Effect::AddNewItems => "ADD_NEW_ITEMS",
            Effect::AddManyItems => "ADD_MANY_ITEMS",
        }
    }

    /// Does the effect discount items (as opposed to the order)?
    pub fn is_item_level(self) -> bool {
        !matches!(self, Effect::ApplyToOrder)
    }

    fn allowed_for(self, kind: DiscountKind) -> bool {
        match kind {
            DiscountKind::Amount => matches!(
                self,
                Effect::ApplyToOrder
                    | Effect::ApplyToItems
                    | Effect::ApplyToItemsProportionally
                    | Effect::ApplyToItemsProportionallyByQuantity
                    | Effect::ApplyToItemsByQuantity
            ),
            DiscountKind::Percent | DiscountKind::Fixed => {
                matches!(self, Effect::ApplyToOrder | Effect::ApplyToItems)
            }
            DiscountKind::Unit => matches!(self, Effect::AddMissingItems | Effect::AddNewItems | Effect::AddManyItems),
        }
    }
}

/// A static value with an optional formula that overrides it when it evaluates.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DynValue {
    pub fixed: Option<Decimal>,
    pub formula: Option<Formula>,
    /// The largest value a formula may give (a static value is checked when compiled); a result
    /// above it, or below zero, counts as a failed evaluation (the static value applies).
    pub max: Option<Decimal>,
    /// A multiplier applied to the result (complete bundles, see [`Discount::for_bundles`]).
    pub times: Option<Decimal>,
}

impl DynValue {
    fn compile(fixed: Option<Decimal>, formula: Option<&str>, path: &str) -> Result<Self, DefinitionError> {
        let formula = formula
            .filter(|f| !f.trim().is_empty())
            .map(|f| Formula::parse(f, &format!("{path}_formula")))
            .transpose()?;
        if fixed.is_none() && formula.is_none() {
            return Err(DefinitionError::new(path, DefinitionErrorKind::Missing));
        }
        Ok(DynValue { fixed, formula, max: None, times: None })
    }

    fn at_most(mut self, max: Decimal) -> Self {
        self.max = Some(max);
        self
    }

    /// The formula's value when it evaluates, else the static value, else zero; bounded to
    /// the engine's money range.
    pub fn resolve(&self, env: &dyn FormulaEnv) -> Decimal {
        let value = self.resolve_unbounded(env);
        clamp_money(match self.times {
            Some(t) => value.checked_mul(t).unwrap_or(if value < Decimal::ZERO { Decimal::MIN } else { Decimal::MAX }),
            None => value,
        })
    }

    fn resolve_unbounded(&self, env: &dyn FormulaEnv) -> Decimal {
        match &self.formula {
            Some(f) => match f.eval_number(env) {
                Ok(v) if self.max.is_none_or(|max| v >= Decimal::ZERO && v <= max) => v,
                Ok(_) => self.fixed.unwrap_or_default(),
                Err(EvalError::Missing | EvalError::Type | EvalError::Overflow | EvalError::DivisionByZero) => {
                    self.fixed.unwrap_or_default()
                }
            },
            None => self.fixed.unwrap_or_default(),
        }
    }

    pub fn is_dynamic(&self) -> bool {
        self.formula.is_some()
    }

    fn per_line(&self) -> bool {
        self.formula.as_ref().is_some_and(Formula::uses_current_item)
    }
}

/// One kind of free unit a UNIT discount gives.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitSpec {
    pub count: DynValue,
    pub add_new: bool,
    pub product: AddedProduct,
    pub price: Option<Decimal>,
}

/// A compiled discount.
#[derive(Debug, Clone, PartialEq)]
pub struct Discount {
    pub kind: DiscountKind,
    /// `None`: the default effect, decided by whether `applicable_to` scopes items.
    pub effect: Option<Effect>,
    pub value: DynValue,
    pub amount_limit: Option<Decimal>,
    pub aggregated_amount_limit: Option<Decimal>,
    pub units: Vec<UnitSpec>,
    pub def: DiscountDef,
}

fn non_negative(v: Option<i64>, path: &str) -> Result<Option<Decimal>, DefinitionError> {
    match v {
        Some(n) if n < 0 => Err(DefinitionError::new(path, DefinitionErrorKind::NegativeAmount(n))),
        Some(n) if n > MAX_MINOR => {
            Err(DefinitionError::new(path, DefinitionErrorKind::Invalid(format!("must be at most {MAX_MINOR}"))))
        }
        other => Ok(other.map(from_wire)),
    }
}

fn unit_spec(
    unit_off: Option<i64>,
    formula: Option<&str>,
    unit_type: Option<&str>,
    effect: Option<&str>,
    product: Option<&UnitProductDef>,
    sku: Option<&UnitProductDef>,
    path: &str,
) -> Result<UnitSpec, DefinitionError> {
    if let Some(n) = unit_off.filter(|n| *n <= 0) {
        return Err(DefinitionError::new(format!("{path}.unit_off"), DefinitionErrorKind::NonPositiveQuantity(n)));
    }
    if unit_off.is_some_and(|n| n > 1_000_000) {
        return Err(DefinitionError::new(
            format!("{path}.unit_off"),
            DefinitionErrorKind::Invalid("must be at most 1000000".into()),
        ));
    }
    let count = DynValue::compile(unit_off.map(Decimal::from), formula, &format!("{path}.unit_off"))?;
    let add_new = match effect {
        None | Some("ADD_MISSING_ITEMS") => false,
        Some("ADD_NEW_ITEMS") => true,
        Some(other) => {
            return Err(DefinitionError::new(
                format!("{path}.effect"),
                DefinitionErrorKind::EffectNotAllowed { discount_type: "UNIT".into(), effect: other.into() },
            ));
        }
    };
    let unit_type = unit_type.filter(|t| !t.is_empty());
    let product_id =
        unit_type.filter(|t| !t.starts_with("sku_")).map(str::to_owned).or_else(|| product.and_then(|p| p.id.clone()));
    let sku_id =
        sku.and_then(|s| s.id.clone()).or_else(|| unit_type.filter(|t| t.starts_with("sku_")).map(str::to_owned));
    if product_id.is_none()
        && sku_id.is_none()
        && product.and_then(|p| p.source_id.as_ref()).is_none()
        && sku.and_then(|s| s.source_id.as_ref()).is_none()
    {
        return Err(DefinitionError::new(format!("{path}.unit_type"), DefinitionErrorKind::Missing));
    }
    let price =
        non_negative(sku.and_then(|s| s.price).or(product.and_then(|p| p.price)), &format!("{path}.product.price"))?;
    Ok(UnitSpec {
        count,
        add_new,
        product: AddedProduct {
            product_id,
            sku_id,
            product_source_id: product.and_then(|p| p.source_id.clone()),
            sku_source_id: sku.and_then(|s| s.source_id.clone()),
            name: sku.and_then(|s| s.name.clone()).or(product.and_then(|p| p.name.clone())),
        },
        price,
    })
}

impl Discount {
    /// Compiles and checks a discount; `path` prefixes error paths (e.g. `voucher.discount`).
    pub fn compile(def: &DiscountDef, path: &str) -> Result<Discount, DefinitionError> {
        let kind = match def.kind.as_deref() {
            None => {
                return Err(DefinitionError::new(format!("{path}.type"), DefinitionErrorKind::Missing));
            }
            Some(s) => DiscountKind::parse(s).ok_or_else(|| {
                DefinitionError::new(
                    format!("{path}.type"),
                    DefinitionErrorKind::Invalid(format!("unknown discount type `{s}`")),
                )
            })?,
        };
        if let Some(field) = def.foreign_fields(kind).first() {
            return Err(DefinitionError::new(
                format!("{path}.{field}"),
                DefinitionErrorKind::Invalid(format!(
                    "is not read by a {} discount",
                    format!("{kind:?}").to_uppercase()
                )),
            ));
        }
        let effect = match def.effect.as_deref() {
            None => None,
            Some(s) => {
                let e = Effect::parse(s).filter(|e| e.allowed_for(kind)).ok_or_else(|| {
                    DefinitionError::new(
                        format!("{path}.effect"),
                        DefinitionErrorKind::EffectNotAllowed {
                            discount_type: format!("{kind:?}").to_uppercase(),
                            effect: s.into(),
                        },
                    )
                })?;
                Some(e)
            }
        };
        let amount_limit = non_negative(def.amount_limit, &format!("{path}.amount_limit"))?;
        let aggregated_amount_limit =
            non_negative(def.aggregated_amount_limit, &format!("{path}.aggregated_amount_limit"))?;
        let mut units = Vec::new();
        let value = match kind {
            DiscountKind::Amount => DynValue::compile(
                non_negative(def.amount_off, &format!("{path}.amount_off"))?,
                def.amount_off_formula.as_deref(),
                &format!("{path}.amount_off"),
            )?,
            DiscountKind::Percent => {
                if let Some(p) = def.percent_off.filter(|p| *p < Decimal::ZERO || *p > Decimal::ONE_HUNDRED) {
                    return Err(DefinitionError::new(
                        format!("{path}.percent_off"),
                        DefinitionErrorKind::PercentOutOfRange(p.to_string()),
                    ));
                }
                DynValue::compile(def.percent_off, def.percent_off_formula.as_deref(), &format!("{path}.percent_off"))?
                    .at_most(Decimal::ONE_HUNDRED)
            }
            DiscountKind::Fixed => DynValue::compile(
                non_negative(def.fixed_amount, &format!("{path}.fixed_amount"))?,
                def.fixed_amount_formula.as_deref(),
                &format!("{path}.fixed_amount"),
            )?,
            DiscountKind::Unit => {
                if effect == Some(Effect::AddManyItems) || (!def.units.is_empty() && def.unit_type.is_none()) {
                    if def.units.is_empty() {
                        return Err(DefinitionError::new(format!("{path}.units"), DefinitionErrorKind::Missing));
                    }
                    for (i, u) in def.units.iter().enumerate() {
                        units.push(unit_spec(
                            u.unit_off,
                            u.unit_off_formula.as_deref(),
                            u.unit_type.as_deref(),
                            u.effect.as_deref(),
                            u.product.as_ref(),
                            u.sku.as_ref(),
                            &format!("{path}.units[{i}]"),
                        )?);
                    }
                } else {
                    units.push(unit_spec(
                        def.unit_off,
                        def.unit_off_formula.as_deref(),
                        def.unit_type.as_deref(),
                        def.effect.as_deref(),
                        def.product.as_ref(),
                        def.sku.as_ref(),
                        path,
                    )?);
                }
                DynValue::default()
            }
        };
        let d = Discount { kind, effect, value, amount_limit, aggregated_amount_limit, units, def: def.clone() };
        if let Some(claimed) = def.is_dynamic.filter(|c| *c != d.is_dynamic()) {
            return Err(DefinitionError::new(
                format!("{path}.is_dynamic"),
                DefinitionErrorKind::Invalid(format!(
                    "is {claimed}, but the discount {}",
                    if claimed { "has no formula" } else { "has a formula" }
                )),
            ));
        }
        Ok(d)
    }

    /// The effect in force: the explicit one, else AMOUNT/PERCENT apply to items when
    /// `applicable_to` scopes items and to the order otherwise; FIXED to the order; UNIT adds
    /// missing items.
    pub fn effective_effect(&self, applicable: Option<&ApplicableTo>) -> Effect {
        self.effect.unwrap_or(match self.kind {
            DiscountKind::Amount | DiscountKind::Percent if applicable.is_some_and(ApplicableTo::is_scoping) => {
                Effect::ApplyToItems
            }
            DiscountKind::Unit if self.units.len() > 1 => Effect::AddManyItems,
            DiscountKind::Unit if self.units.first().is_some_and(|u| u.add_new) => Effect::AddNewItems,
            DiscountKind::Unit => Effect::AddMissingItems,
            _ => Effect::ApplyToOrder,
        })
    }

    /// This discount for `bundles` complete bundles (Voucherify's bundle multiplication):
    /// AMOUNT and PERCENT values and UNIT counts are multiplied (a percentage stops at 100); a
    /// FIXED price and an amount off each unit keep their value and reach `bundles` times the
    /// units instead — the `applicable_to` unit limits are multiplied, given back when they
    /// change. A value whose formula reads the bundle count already scales: not multiplied again.
    pub fn for_bundles(&self, bundles: i64, applicable: Option<&ApplicableTo>) -> (Discount, Option<ApplicableTo>) {
        let mut d = self.clone();
        let times = Decimal::from(bundles);
        let scale = |v: &mut DynValue| {
            if !v.formula.as_ref().is_some_and(Formula::uses_bundle_quantity) {
                v.times = Some(times);
            }
        };
        let per_unit = match d.kind {
            DiscountKind::Fixed => true,
            DiscountKind::Amount => self.effective_effect(applicable) == Effect::ApplyToItemsByQuantity,
            DiscountKind::Percent | DiscountKind::Unit => false,
        };
        if per_unit {
            return (d, applicable.map(|a| a.for_bundles(bundles)));
        }
        match d.kind {
            DiscountKind::Amount | DiscountKind::Percent => scale(&mut d.value),
            DiscountKind::Unit => d.units.iter_mut().for_each(|u| scale(&mut u.count)),
            DiscountKind::Fixed => {}
        }
        (d, None)
    }

    /// Is any value computed by a formula?
    pub fn is_dynamic(&self) -> bool {
        self.value.is_dynamic() || self.units.iter().any(|u| u.count.is_dynamic())
    }
}

/// How percent discounts read amounts while stacking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CalculationMode {
    /// From what is left after earlier discounts.
    #[default]
    DiscountedAmount,
    /// From the amounts before any discount.
    InitialAmount,
}

/// How a discount is computed: the stacking's calculation mode and the campaign's guardrails.
#[derive(Debug, Clone, Copy)]
pub struct Terms<'g> {
    pub mode: CalculationMode,
    pub guardrails: &'g Guardrails,
}

/// Computes what the discount would do to the cart.
pub fn propose(
    discount: &Discount,
    cart: &Cart<'_>,
    applicable: Option<&ApplicableTo>,
    catalog: &Catalog,
    terms: Terms<'_>,
    env: &FormulaFacts<'_>,
) -> Proposal {
    let effect = discount.effective_effect(applicable);
    match effect {
        Effect::ApplyToOrder => order_level(discount, cart, terms, env),
        Effect::AddMissingItems | Effect::AddNewItems | Effect::AddManyItems => {
            unit_items(discount, cart, terms.guardrails, env)
        }
        _ => item_level(discount, effect, cart, applicable, catalog, terms, env),
    }
}

fn order_level(d: &Discount, cart: &Cart<'_>, terms: Terms<'_>, env: &FormulaFacts<'_>) -> Proposal {
    let OrderBase { base, initial_base, cap, notes: exclusions } = cart.order_base(terms.guardrails);
    let value = d.value.resolve(&LineScope { facts: env, line: None });
    let raw = match d.kind {
        DiscountKind::Amount => value,
        DiscountKind::Percent => {
            let base = if terms.mode == CalculationMode::InitialAmount { initial_base } else { base };
            let pct = value.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
            let mut amount = round_minor(base * pct / Decimal::ONE_HUNDRED);
            if let Some(limit) = d.amount_limit {
                amount = amount.min(limit);
            }
            amount
        }
        DiscountKind::Fixed => base - value,
        DiscountKind::Unit => Decimal::ZERO,
    };
    let wanted = round_minor(raw).max(Decimal::ZERO);
    // An amount off only meets the exclusions when it is larger than what they leave.
    let mut notes = if d.kind != DiscountKind::Amount || wanted > base { exclusions } else { Vec::new() };
    let mut amount = wanted.min(base);
    if amount > cap {
        notes.push(GuardNote { reason: GuardReason::MarginFloor, line: None, amount: Some(to_wire(amount - cap)) });
        amount = cap;
    }
    if let Some(limit) = d.aggregated_amount_limit {
        amount = amount.min(limit);
    }
    Proposal { order_level: amount, items: Vec::new(), notes }
}

fn item_level(
    d: &Discount,
    effect: Effect,
    cart: &Cart<'_>,
    applicable: Option<&ApplicableTo>,
    catalog: &Catalog,
    terms: Terms<'_>,
    env: &FormulaFacts<'_>,
) -> Proposal {
    let (mode, g) = (terms.mode, terms.guardrails);
    let mut notes = Vec::new();
    let mut reaches = reach(cart, applicable, catalog);
    // Out of stock, or shipping no entry named: not this discount's.
    reaches.retain(|r| {
        let line = &cart.lines[r.line];
        let keep = line.discountable(g, r.target.is_some());
        if !keep {
            let reason = if line.out_of_stock { GuardReason::OutOfStock } else { GuardReason::ShippingExcluded };
            // what the guardrail kept out of reach: the line's amount still to pay
            notes.push(GuardNote { reason, line: Some(r.line), amount: Some(to_wire(line.net())) });
        }
        keep
    });
    if reaches.is_empty() {
        return Proposal { notes, ..Proposal::default() };
    }
    let target_of = |r: &Reach| r.target.and_then(|t| applicable.map(|a| &a.included[t]));
    let per_line = d.value.per_line();
    let order_value = if per_line { Decimal::ZERO } else { d.value.resolve(&LineScope { facts: env, line: None }) };
    // Per reach: `base` is the net value of the reached units, `cap` the most it may be
    // discounted (the base, lowered by the entry's per-line `amount_limit`).
    let mut slots: Vec<Slot> = reaches
        .iter()
        .map(|r| {
            let line = &cart.lines[r.line];
            let base = if r.units >= line.quantity {
                line.net()
            } else {
                round_minor(line.unit_net() * Decimal::from(r.units))
            };
            let cap = target_of(r).and_then(|t| t.amount_limit).map_or(base, |l| base.min(l));
            let room = line.room_above_floor(g, r.units);
            let value =
                if per_line { d.value.resolve(&LineScope { facts: env, line: Some(r.line) }) } else { order_value };
            Slot { base, cap: cap.min(room), value, part: Decimal::ZERO, floored: room < cap }
        })
        .collect();
    let units = |k: usize| Decimal::from(reaches[k].units);
    match (d.kind, effect) {
        (DiscountKind::Amount, Effect::ApplyToItemsProportionally | Effect::ApplyToItemsProportionallyByQuantity) => {
            let shares: Vec<Share<'_>> = slots
                .iter()
                .enumerate()
                .map(|(k, s)| Share {
                    weight: if effect == Effect::ApplyToItemsProportionally { s.base } else { units(k) },
                    cap: s.cap,
                    tie_key: cart.lines[reaches[k].line].identity.tie_key(),
                })
                .collect();
            for (s, part) in slots.iter_mut().zip(allocate(order_value.max(Decimal::ZERO), &shares)) {
                s.part = part;
            }
        }
        (DiscountKind::Amount, Effect::ApplyToItemsByQuantity) => {
            for (k, s) in slots.iter_mut().enumerate() {
                s.part = round_minor(s.value.max(Decimal::ZERO) * units(k)).min(s.cap);
            }
        }
        (DiscountKind::Amount, _) => {
            for s in &mut slots {
                s.part = round_minor(s.value.max(Decimal::ZERO)).min(s.cap);
            }
        }
        (DiscountKind::Percent, _) => {
            for (k, s) in slots.iter_mut().enumerate() {
                let line = &cart.lines[reaches[k].line];
                let base = if mode == CalculationMode::InitialAmount {
                    line.initial_amount.max(line.amount) * units(k) / Decimal::from(line.quantity.max(1))
                } else {
                    s.base
                };
                let pct = s.value.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
                s.part = round_minor(base * pct / Decimal::ONE_HUNDRED).min(s.cap);
            }
        }
        (DiscountKind::Fixed, _) => {
            for (k, s) in slots.iter_mut().enumerate() {
                let r = &reaches[k];
                let target = target_of(r);
                let new_price = match target.and_then(|t| t.price_formula.as_ref()) {
                    Some(f) => f
                        .eval_number(&LineScope { facts: env, line: Some(r.line) })
                        .ok()
                        .or(target.and_then(|t| t.price)),
                    None => target.and_then(|t| t.price),
                }
                .unwrap_or(s.value);
                s.part =
                    round_minor((cart.lines[r.line].unit_net() - new_price).max(Decimal::ZERO) * units(k)).min(s.cap);
            }
        }
        (DiscountKind::Unit, _) => {}
    }
    for (r, s) in reaches.iter().zip(&slots) {
        if s.floored && s.part == s.cap {
            notes.push(GuardNote { reason: GuardReason::MarginFloor, line: Some(r.line), amount: None });
        }
    }
    let mut parts: Vec<Decimal> = slots.iter().map(|s| s.part).collect();

    // Aggregated caps: per applicable_to entry, then for the whole discount.
    if let Some(a) = applicable {
        for (t_index, t) in a.included.iter().enumerate() {
            if let Some(limit) = t.aggregated_amount_limit {
                let members: Vec<usize> = (0..reaches.len()).filter(|&i| reaches[i].target == Some(t_index)).collect();
                cap_group(&mut parts, &members, limit, &reaches, cart);
            }
        }
    }
    let total_limit = match (d.kind, d.amount_limit, d.aggregated_amount_limit) {
        (DiscountKind::Percent, Some(a), Some(b)) => Some(a.min(b)),
        (DiscountKind::Percent, Some(a), None) => Some(a),
        (_, _, b) => b,
    };
    // Never more than is left to pay for the whole order above its floors (order-level
    // discounts included).
    let room = cart.room_above_floors(g);
    let limit = total_limit.map_or(room, |l| l.min(room));
    let all: Vec<usize> = (0..reaches.len()).collect();
    cap_group(&mut parts, &all, limit, &reaches, cart);
    Proposal {
        items: reaches
            .iter()
            .zip(parts)
            .filter(|(_, p)| *p > Decimal::ZERO)
            .map(|(r, p)| ItemChange {
                line: LineRef::Existing(r.line),
                add_units: 0,
                free_units: 0,
                discount: p,
                target: r.target,
                units: r.units,
            })
            .collect(),
        order_level: Decimal::ZERO,
        notes,
    }
}

/// One reached line while an item-level discount is computed.
struct Slot {
    base: Decimal,
    cap: Decimal,
    value: Decimal,
    part: Decimal,
    /// The line's margin floor lowered `cap`.
    floored: bool,
}

/// Scales a group of parts down to `limit`, keeping their proportions (largest remainder).
fn cap_group(parts: &mut [Decimal], members: &[usize], limit: Decimal, reaches: &[Reach], cart: &Cart<'_>) {
    let sum: Decimal = members.iter().map(|&i| parts[i]).sum();
    if sum <= limit {
        return;
    }
    let shares: Vec<Share<'_>> = members
        .iter()
        .map(|&i| Share { weight: parts[i], cap: parts[i], tie_key: cart.lines[reaches[i].line].identity.tie_key() })
        .collect();
    let capped = allocate(limit, &shares);
    for (k, &i) in members.iter().enumerate() {
        parts[i] = capped[k];
    }
}

/// A bundle price ("any 3 for £10"): the units that make up the complete bundles cost the
/// discount's value per bundle. The discount is what they cost above that, spread over their
/// lines by value; never below zero, never more than they cost.
pub fn bundle_price(
    d: &Discount,
    cart: &Cart<'_>,
    found: &BundleMatch,
    g: &Guardrails,
    env: &FormulaFacts<'_>,
) -> Proposal {
    let price = d.value.resolve(&LineScope { facts: env, line: None }).max(Decimal::ZERO);
    let bases: Vec<Decimal> = found
        .identified
        .iter()
        .map(|i| {
            let line = &cart.lines[i.line];
            if i.item_quantity >= line.quantity {
                line.net()
            } else {
                round_minor(line.unit_net() * Decimal::from(i.item_quantity))
            }
        })
        .collect();
    let regular: Decimal = bases.iter().copied().sum();
    // Out-of-stock units take no share, the others stop at their floor.
    let mut notes = Vec::new();
    let caps: Vec<Decimal> = found
        .identified
        .iter()
        .map(|i| {
            let line = &cart.lines[i.line];
            if !line.discountable(g, true) {
                notes.push(GuardNote {
                    reason: GuardReason::OutOfStock,
                    line: Some(i.line),
                    amount: Some(to_wire(line.net())),
                });
                return Decimal::ZERO;
            }
            line.room_above_floor(g, i.item_quantity)
        })
        .collect();
    let wanted =
        round_minor(regular - price * Decimal::from(found.quantity)).clamp(Decimal::ZERO, cart.room_above_floors(g));
    let room: Decimal = caps.iter().copied().sum();
    if wanted > room && notes.is_empty() {
        notes.push(GuardNote { reason: GuardReason::MarginFloor, line: None, amount: Some(to_wire(wanted - room)) });
    }
    let total = wanted.min(room);
    let shares: Vec<Share<'_>> = found
        .identified
        .iter()
        .zip(&bases)
        .zip(&caps)
        .map(|((i, base), cap)| Share { weight: *base, cap: *cap, tie_key: cart.lines[i.line].identity.tie_key() })
        .collect();
    Proposal {
        notes,
        items: found
            .identified
            .iter()
            .zip(allocate(total, &shares))
            .filter(|(_, part)| *part > Decimal::ZERO)
            .map(|(i, part)| ItemChange {
                line: LineRef::Existing(i.line),
                add_units: 0,
                free_units: 0,
                discount: part,
                target: None,
                units: i.item_quantity,
            })
            .collect(),
        order_level: Decimal::ZERO,
    }
}

fn unit_items(d: &Discount, cart: &Cart<'_>, g: &Guardrails, env: &FormulaFacts<'_>) -> Proposal {
    let mut items: Vec<ItemChange> = Vec::new();
    let mut notes = Vec::new();
    // What is left to pay above the floors, growing with the units this discount adds.
    let mut room = cart.room_above_floors(g);
    for spec in &d.units {
        // At most a million free units: formulas cannot make the cart explode.
        let count = spec.count.resolve(&LineScope { facts: env, line: None }).floor().min(Decimal::from(1_000_000));
        let Ok(count) = i64::try_from(count) else {
            continue;
        };
        if count <= 0 {
            continue;
        }
        // the catalog completes the product's other ids, its name and price
        let stored = cart.order.known_products.complete(&spec.product);
        let p = stored.product;
        let same = |a: &Option<String>, b: &Option<std::borrow::Cow<'_, str>>| matches!((a, b), (Some(x), Some(y)) if x.as_str() == y.as_ref());
        let names_sku = p.sku_id.is_some() || p.sku_source_id.is_some();
        let existing = cart.lines.iter().position(|l| {
            !l.once_taken
                && if names_sku {
                    same(&p.sku_id, &l.identity.sku_id) || same(&p.sku_source_id, &l.identity.sku_source_id)
                } else {
                    same(&p.product_id, &l.identity.product_id)
                        || same(&p.product_source_id, &l.identity.product_source_id)
                }
        });
        let out_of_stock = existing.map_or(stored.out_of_stock, |i| cart.lines[i].out_of_stock);
        if out_of_stock && !g.discount_out_of_stock {
            notes.push(GuardNote { reason: GuardReason::OutOfStock, line: existing, amount: None });
            continue;
        }
        let (line_ref, have, price, net, floor) = match existing {
            Some(i) => {
                let l = &cart.lines[i];
                (LineRef::Existing(i), l.quantity, l.price, l.net(), l.unit_floor(g))
            }
            None => {
                let price = spec.price.or(stored.price.map(from_wire)).unwrap_or_default();
                let floor = from_wire(g.margin_floor.unit_floor(stored.floor_price, stored.cost));
                (LineRef::New { product: p, price }, 0, price, Decimal::ZERO, floor)
            }
        };
        let add_units = if spec.add_new { count } else { (count - have).max(0) };
        let net_after = net + price * Decimal::from(add_units);
        room += (price - floor).max(Decimal::ZERO) * Decimal::from(add_units);
        let full = round_minor(price * Decimal::from(count)).min(net_after).min(room).max(Decimal::ZERO);
        let above_floor = (net_after - floor * Decimal::from(have + add_units)).max(Decimal::ZERO);
        if above_floor < full {
            let line = existing;
            notes.push(GuardNote { reason: GuardReason::MarginFloor, line, amount: Some(to_wire(full - above_floor)) });
        }
        let discount = full.min(above_floor);
        room -= discount;
        items.push(ItemChange { line: line_ref, add_units, free_units: count, discount, target: None, units: count });
    }
    Proposal { items, notes, order_level: Decimal::ZERO }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(v: serde_json::Value) -> DiscountDef {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn percent_above_one_hundred_is_rejected_with_its_path() {
        let e = Discount::compile(&def(json!({"type": "PERCENT", "percent_off": 120})), "discount").unwrap_err();
        assert_eq!(e.path, "discount.percent_off");
        assert_eq!(e.kind, DefinitionErrorKind::PercentOutOfRange("120".into()));
    }

    #[test]
    fn negative_amount_is_rejected_with_its_path() {
        let e = Discount::compile(&def(json!({"type": "AMOUNT", "amount_off": -5})), "discount").unwrap_err();
        assert_eq!(e.path, "discount.amount_off");
        assert_eq!(e.kind, DefinitionErrorKind::NegativeAmount(-5));
    }

    #[test]
    fn formula_syntax_error_is_rejected_with_its_path() {
        let e = Discount::compile(&def(json!({"type": "AMOUNT", "amount_off_formula": "ORDER_AMOUNT *"})), "discount")
            .unwrap_err();
        assert_eq!(e.path, "discount.amount_off_formula");
        assert!(matches!(e.kind, DefinitionErrorKind::FormulaSyntax { .. }));
    }

    #[test]
    fn effect_must_suit_the_type() {
        let e = Discount::compile(
            &def(json!({"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ITEMS_BY_QUANTITY"})),
            "discount",
        )
        .unwrap_err();
        assert_eq!(e.path, "discount.effect");
    }

    #[test]
    fn fractional_percent_is_accepted() {
        let d = Discount::compile(&def(json!({"type": "PERCENT", "percent_off": 12.5})), "discount").unwrap();
        assert_eq!(d.value.fixed, Some(Decimal::new(125, 1)));
    }

    #[test]
    fn missing_value_is_rejected() {
        let e = Discount::compile(&def(json!({"type": "FIXED"})), "discount").unwrap_err();
        assert_eq!((e.path.as_str(), e.kind), ("discount.fixed_amount", DefinitionErrorKind::Missing));
    }
}
