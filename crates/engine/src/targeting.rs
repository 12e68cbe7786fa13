//! `applicable_to` / `inapplicable_to`: which order lines (and how many of their units) an
//! item-level discount reaches, with per-line and aggregated limits.

use crate::cart::Cart;
use crate::catalog::{Catalog, ItemRef};
use crate::error::{DefinitionError, DefinitionErrorKind};
use crate::formula::Formula;
use crate::money::{MAX_MINOR, from_wire};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One `applicable_to.included` / `excluded` entry on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplicableToEntryDef {
    pub object: Option<String>,
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub product_id: Option<String>,
    pub product_source_id: Option<String>,
    pub price: Option<i64>,
    pub price_formula: Option<String>,
    pub effect: Option<String>,
    pub quantity_limit: Option<i64>,
    pub aggregated_quantity_limit: Option<i64>,
    pub amount_limit: Option<i64>,
    pub aggregated_amount_limit: Option<i64>,
    /// Every n-th unit (or item, with `target: ITEM`) of the matched lines, in the effect's order.
    pub repeat: Option<i64>,
    /// The first n units (or items) of the matched lines are not discounted.
    pub skip_initially: Option<i64>,
    /// What `repeat` and `skip_initially` count: `UNIT` (default) or `ITEM` (order lines).
    pub target: Option<String>,
    /// Sent by old clients; the reference says it has no effect.
    pub strict: Option<bool>,
}

/// `applicable_to` of a validation rule on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplicableToDef {
    #[serde(default, deserialize_with = "crate::model::null_as_default")]
    pub included: Vec<ApplicableToEntryDef>,
    #[serde(default, deserialize_with = "crate::model::null_as_default")]
    pub excluded: Vec<ApplicableToEntryDef>,
    #[serde(default, deserialize_with = "crate::model::null_as_default")]
    pub included_all: bool,
}

impl ApplicableToDef {
    /// What a write must not store, though stored definitions still compile with it (checked on
    /// write only): an entry whose `object` names no kind (it would be read as a product), and an
    /// exclusion with discount settings (an excluded line is never discounted).
    pub fn check_written(&self, path: &str) -> Result<(), DefinitionError> {
        let lists = [("included", &self.included), ("excluded", &self.excluded)];
        for (list, entries) in lists {
            for (i, e) in entries.iter().enumerate() {
                let at = format!("{path}.{list}[{i}]");
                if let Some(o) = &e.object
                    && !matches!(o.as_str(), "product" | "sku" | "products_collection" | "product_collection")
                {
                    return Err(DefinitionError::new(
                        format!("{at}.object"),
                        DefinitionErrorKind::Invalid("object must be product, sku or products_collection".into()),
                    ));
                }
                if list == "excluded" {
                    let discounting = [
                        ("price", e.price.is_some()),
                        ("price_formula", e.price_formula.is_some()),
                        ("quantity_limit", e.quantity_limit.is_some()),
                        ("aggregated_quantity_limit", e.aggregated_quantity_limit.is_some()),
                        ("amount_limit", e.amount_limit.is_some()),
                        ("aggregated_amount_limit", e.aggregated_amount_limit.is_some()),
                        ("repeat", e.repeat.is_some()),
                        ("skip_initially", e.skip_initially.is_some()),
                        ("target", e.target.is_some()),
                    ];
                    if let Some((field, _)) = discounting.iter().find(|(_, set)| *set) {
                        return Err(DefinitionError::new(
                            format!("{at}.{field}"),
                            DefinitionErrorKind::Invalid(
                                "an excluded entry is never discounted: it takes no discount settings".into(),
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Which units of the matched lines a target reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetEffect {
    ApplyToEvery,
    ApplyToCheapest,
    ApplyFromCheapest,
    ApplyToMostExpensive,
    ApplyFromMostExpensive,
}

impl TargetEffect {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "APPLY_TO_EVERY" => Self::ApplyToEvery,
            "APPLY_TO_CHEAPEST" => Self::ApplyToCheapest,
            "APPLY_FROM_CHEAPEST" => Self::ApplyFromCheapest,
            "APPLY_TO_MOST_EXPENSIVE" => Self::ApplyToMostExpensive,
            "APPLY_FROM_MOST_EXPENSIVE" => Self::ApplyFromMostExpensive,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApplyToEvery => "APPLY_TO_EVERY",
            Self::ApplyToCheapest => "APPLY_TO_CHEAPEST",
            Self::ApplyFromCheapest => "APPLY_FROM_CHEAPEST",
            Self::ApplyToMostExpensive => "APPLY_TO_MOST_EXPENSIVE",
            Self::ApplyFromMostExpensive => "APPLY_FROM_MOST_EXPENSIVE",
        }
    }
}

/// A compiled `applicable_to` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub item: ItemRef,
    pub effect: TargetEffect,
    pub quantity_limit: Option<i64>,
    pub aggregated_quantity_limit: Option<i64>,
    pub amount_limit: Option<Decimal>,
    pub aggregated_amount_limit: Option<Decimal>,
    pub price: Option<Decimal>,
    pub price_formula: Option<Formula>,
    /// Every `repeat`-th unit after the first `skip_initially` (see [`Cadence`]).
    pub cadence: Cadence,
}

/// Which units of a target's matched lines, taken in the effect's order, are discounted: after
/// the first `skip_initially`, every `repeat`-th. Counted in units, or in order lines with
/// `per_item` (a reached line then gets all its units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    pub repeat: i64,
    pub skip_initially: i64,
    pub per_item: bool,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence { repeat: 1, skip_initially: 0, per_item: false }
    }
}

impl Cadence {
    fn is_every(&self) -> bool {
        self.repeat == 1 && self.skip_initially == 0
    }

    /// How many of the positions `before + 1 ..= before + count` (1-based, over the whole
    /// sequence) are reached.
    pub fn reached(&self, before: i64, count: i64) -> i64 {
        // positions after the skipped ones
        let hi = before + count - self.skip_initially;
        let lo = (before + 1 - self.skip_initially).max(1);
        if hi < lo {
            return 0;
        }
        hi / self.repeat - (lo - 1) / self.repeat
    }
}

/// The largest `repeat` / `skip_initially` accepted (a count of units).
pub const MAX_CADENCE: i64 = crate::money::MAX_QUANTITY;

fn cadence(e: &ApplicableToEntryDef, p: &str) -> Result<Cadence, DefinitionError> {
    let repeat = match e.repeat {
        None => 1,
        Some(n) if (1..=MAX_CADENCE).contains(&n) => n,
        Some(n) => {
            return Err(DefinitionError::new(
                format!("{p}.repeat"),
                DefinitionErrorKind::Invalid(format!("must be between 1 and {MAX_CADENCE}, not {n}")),
            ));
        }
    };
    let skip_initially = match e.skip_initially {
        None => 0,
        Some(n) if (0..=MAX_CADENCE).contains(&n) => n,
        Some(n) => {
            return Err(DefinitionError::new(
                format!("{p}.skip_initially"),
                DefinitionErrorKind::Invalid(format!("must be between 0 and {MAX_CADENCE}, not {n}")),
            ));
        }
    };
    let per_item = match e.target.as_deref() {
        None | Some("UNIT") => false,
        Some("ITEM") => true,
        Some(other) => {
            return Err(DefinitionError::new(
                format!("{p}.target"),
                DefinitionErrorKind::Invalid(format!("must be UNIT or ITEM, not `{other}`")),
            ));
        }
    };
    Ok(Cadence { repeat, skip_initially, per_item })
}

/// Compiled `applicable_to`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApplicableTo {
    pub included: Vec<Target>,
    pub excluded: Vec<ItemRef>,
    pub included_all: bool,
}

fn entry_ref(e: &ApplicableToEntryDef, path: &str) -> Result<ItemRef, DefinitionError> {
    let mut obj = serde_json::Map::new();
    for (k, v) in [("object", &e.object), ("id", &e.id), ("source_id", &e.source_id)] {
        if let Some(v) = v {
            obj.insert(k.into(), Value::String(v.clone()));
        }
    }
    if e.id.is_none() && e.source_id.is_none() {
        return Err(DefinitionError::new(format!("{path}.id"), DefinitionErrorKind::Missing));
    }
    ItemRef::from_json(&Value::Object(obj)).ok_or_else(|| {
        DefinitionError::new(format!("{path}.object"), DefinitionErrorKind::Invalid("unknown object".into()))
    })
}

fn non_negative(v: Option<i64>, path: String) -> Result<Option<i64>, DefinitionError> {
    match v {
        Some(n) if n < 0 => Err(DefinitionError::new(path, DefinitionErrorKind::NegativeAmount(n))),
        Some(n) if n > MAX_MINOR => {
            Err(DefinitionError::new(path, DefinitionErrorKind::Invalid(format!("must be at most {MAX_MINOR}"))))
        }
        other => Ok(other),
    }
}

impl ApplicableTo {
    /// The same targets with their unit limits multiplied by `bundles` (see
    /// [`crate::discount::Discount::for_bundles`]).
    pub fn for_bundles(&self, bundles: i64) -> ApplicableTo {
        let mut a = self.clone();
        for t in &mut a.included {
            t.quantity_limit = t.quantity_limit.map(|l| l.saturating_mul(bundles));
            t.aggregated_quantity_limit = t.aggregated_quantity_limit.map(|l| l.saturating_mul(bundles));
        }
        a
    }

    /// Compiles the wire form; `path` prefixes error paths.
    pub fn compile(def: &ApplicableToDef, path: &str) -> Result<Self, DefinitionError> {
        let mut included = Vec::with_capacity(def.included.len());
        for (i, e) in def.included.iter().enumerate() {
            let p = format!("{path}.included[{i}]");
            let effect = match e.effect.as_deref() {
                None => TargetEffect::ApplyToEvery,
                Some(s) => TargetEffect::parse(s).ok_or_else(|| {
                    DefinitionError::new(
                        format!("{p}.effect"),
                        DefinitionErrorKind::Invalid(format!("unknown effect `{s}`")),
                    )
                })?,
            };
            if let Some(q) = e.quantity_limit.filter(|q| *q <= 0) {
                return Err(DefinitionError::new(
                    format!("{p}.quantity_limit"),
                    DefinitionErrorKind::NonPositiveQuantity(q),
                ));
            }
            if let Some(q) = e.aggregated_quantity_limit.filter(|q| *q <= 0) {
                return Err(DefinitionError::new(
                    format!("{p}.aggregated_quantity_limit"),
                    DefinitionErrorKind::NonPositiveQuantity(q),
                ));
            }
            included.push(Target {
                item: entry_ref(e, &p)?,
                effect,
                quantity_limit: e.quantity_limit,
                aggregated_quantity_limit: e.aggregated_quantity_limit,
                amount_limit: non_negative(e.amount_limit, format!("{p}.amount_limit"))?.map(from_wire),
                aggregated_amount_limit: non_negative(
                    e.aggregated_amount_limit,
                    format!("{p}.aggregated_amount_limit"),
                )?
                .map(from_wire),
                price: non_negative(e.price, format!("{p}.price"))?.map(from_wire),
                price_formula: e
                    .price_formula
                    .as_deref()
                    .map(|f| Formula::parse(f, &format!("{p}.price_formula")))
                    .transpose()?,
                cadence: cadence(e, &p)?,
            });
        }
        let excluded = def
            .excluded
            .iter()
            .enumerate()
            .map(|(i, e)| entry_ref(e, &format!("{path}.excluded[{i}]")))
            .collect::<Result<_, _>>()?;
        Ok(ApplicableTo { included, excluded, included_all: def.included_all })
    }

    /// Does it restrict items at all (so AMOUNT/PERCENT default to `APPLY_TO_ITEMS`)?
    pub fn is_scoping(&self) -> bool {
        !self.included.is_empty() || !self.excluded.is_empty()
    }
}

/// Units of one line reached by a discount, with the entry that reached it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    pub line: usize,
    pub units: i64,
    pub target: Option<usize>,
}

/// Works out which lines and units an item-level discount reaches. `None` for `applicable_to`
/// means every line. Lines already taken under products application mode ONCE are skipped.
pub fn reach(cart: &Cart<'_>, applicable: Option<&ApplicableTo>, catalog: &Catalog) -> Vec<Reach> {
    let open = |i: usize| !cart.lines[i].once_taken && cart.lines[i].quantity > 0;
    let excluded =
        |i: usize| applicable.is_some_and(|a| a.excluded.iter().any(|r| cart.lines[i].identity.matches(r, catalog)));
    let Some(a) = applicable.filter(|a| !a.included.is_empty() && !a.included_all) else {
        return (0..cart.lines.len())
            .filter(|&i| open(i) && !excluded(i))
            .map(|i| Reach { line: i, units: cart.lines[i].quantity, target: None })
            .collect();
    };
    // Lines already reached by an earlier entry (only tracked when there are several).
    let mut taken = if a.included.len() > 1 { vec![false; cart.lines.len()] } else { Vec::new() };
    let is_taken = |taken: &[bool], i: usize| taken.get(i).copied().unwrap_or(false);
    let mut out = Vec::new();
    for (t_index, t) in a.included.iter().enumerate() {
        let m = catalog.matcher(&t.item);
        let mut matched: Vec<usize> = cart
            .lines_matching(&m, catalog)
            .iter()
            .copied()
            .filter(|&i| !is_taken(&taken, i) && open(i) && !excluded(i))
            .collect();
        if matched.is_empty() {
            continue;
        }
        let by_price = |a: &usize, b: &usize| {
            cart.lines[*a]
                .unit_net()
                .cmp(&cart.lines[*b].unit_net())
                .then_with(|| cart.lines[*a].identity.tie_key().cmp(cart.lines[*b].identity.tie_key()))
                .then(a.cmp(b))
        };
        match t.effect {
            TargetEffect::ApplyToEvery => {}
            TargetEffect::ApplyFromCheapest | TargetEffect::ApplyToCheapest => matched.sort_by(by_price),
            TargetEffect::ApplyFromMostExpensive | TargetEffect::ApplyToMostExpensive => {
                matched.sort_by(|a, b| by_price(b, a))
            }
        }
        let single = matches!(t.effect, TargetEffect::ApplyToCheapest | TargetEffect::ApplyToMostExpensive);
        let mut budget = t.aggregated_quantity_limit.unwrap_or(i64::MAX);
        if t.cadence.is_every() {
            if single {
                matched.truncate(1);
            }
            for i in matched {
                if budget <= 0 {
                    break;
                }
                let default_units = if single { 1 } else { cart.lines[i].quantity };
                let units = cart.lines[i].quantity.min(t.quantity_limit.unwrap_or(default_units)).min(budget);
                budget -= units;
                if let Some(t) = taken.get_mut(i) {
                    *t = true;
                }
                out.push(Reach { line: i, units, target: Some(t_index) });
            }
        } else {
            // units (or items) counted in the effect's order across the matched lines
            let mut before = 0i64;
            for i in matched {
                if budget <= 0 {
                    break;
                }
                let quantity = cart.lines[i].quantity;
                let reached = if t.cadence.per_item {
                    if t.cadence.reached(before, 1) == 1 { quantity } else { 0 }
                } else {
                    t.cadence.reached(before, quantity)
                };
                before += if t.cadence.per_item { 1 } else { quantity };
                if reached == 0 {
                    continue;
                }
                let reached = if single { 1 } else { reached };
                let units = reached.min(t.quantity_limit.unwrap_or(reached)).min(budget);
                budget -= units;
                if let Some(t) = taken.get_mut(i) {
                    *t = true;
                }
                out.push(Reach { line: i, units, target: Some(t_index) });
                if single {
                    break;
                }
            }
        }
    }
    if a.included.len() > 1 {
        out.sort_by_key(|r| r.line);
    }
    out
}
