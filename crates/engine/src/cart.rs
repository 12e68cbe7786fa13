//! The running cart: the order as discounts are applied one redeemable after another.
//!
//! Every money value here is a whole number of minor units held as `Decimal` (discounts are
//! rounded when computed), except unit prices derived from `amount / quantity`.

use crate::catalog::{Catalog, ItemRef, LineIdentity, Matcher, ProductFacts};
use crate::condition::Clock;
use crate::error::OrderError;
use crate::guardrails::{GuardNote, GuardReason, Guardrails, MarginFloor};
use crate::model::{Metadata, Order, OrderItem};
use crate::money::{MAX_MINOR, MAX_QUANTITY, Share, allocate, from_wire, round_minor, to_wire};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::Serialize;
use smallvec::SmallVec;
use std::borrow::Cow;

/// Orders may carry at most this many items (Voucherify's limit).
pub const MAX_ITEMS: usize = 500;

/// A product a discount adds to the cart when it is not there yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddedProduct {
    pub product_id: Option<String>,
    pub sku_id: Option<String>,
    pub product_source_id: Option<String>,
    pub sku_source_id: Option<String>,
    pub name: Option<String>,
}

/// One order line and what has been applied to it so far.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub identity: LineIdentity<'a>,
    /// Position in the request's `order.items`; `None` for a line a discount added.
    pub request_index: Option<usize>,
    pub added: Option<AddedProduct>,
    pub price: Decimal,
    pub quantity: i64,
    pub initial_quantity: i64,
    pub amount: Decimal,
    pub initial_amount: Decimal,
    /// Item-level discount so far, including discounts the order came with.
    pub item_discount: Decimal,
    pub applied_item_discount: Decimal,
    /// The share of order-level discounts spread onto this line (see [`Cart::spread_order_levels`]).
    pub order_alloc: Decimal,
    pub discount_quantity: i64,
    pub applied_discount_quantity: i64,
    /// Set when products application mode is ONCE and a discount already touched this line.
    pub once_taken: bool,
    /// What the catalog says of the line's product or SKU: out of stock, lowest unit price a
    /// discount may leave, unit cost.
    pub out_of_stock: bool,
    pub floor_price: Option<Decimal>,
    pub cost: Option<Decimal>,
    /// The line is shipping (Voucherify's shipping product, `prod_5h1pp1ng` / `5h1pp1ng`).
    pub is_shipping: bool,
}

impl Line<'_> {
    /// The line's subtotal: its amount less item-level discounts. Order-level discounts are
    /// not attributed to lines while stacking (Voucherify's model); what is left to pay for the
    /// whole order is [`Cart::net_total`], which item-level discounts also respect.
    pub fn net(&self) -> Decimal {
        (self.amount - self.item_discount).max(Decimal::ZERO)
    }

    /// What is left to pay per unit.
    pub fn unit_net(&self) -> Decimal {
        if self.quantity > 0 { self.net() / Decimal::from(self.quantity) } else { Decimal::ZERO }
    }

    /// May a discount under these guardrails touch the line at all? Shipping lines are only
    /// excluded from discounts that did not name them (`named`).
    pub fn discountable(&self, g: &Guardrails, named: bool) -> bool {
        let stock_ok = !self.out_of_stock || g.discount_out_of_stock;
        let shipping_ok = !self.is_shipping || named || g.discount_shipping;
        stock_ok && shipping_ok
    }

    /// The lowest unit price the guardrails leave.
    pub fn unit_floor(&self, g: &Guardrails) -> Decimal {
        g.margin_floor.unit_floor(self.floor_price, self.cost)
    }

    /// The most `units` of the line may still be discounted before they reach the floor.
    pub fn room_above_floor(&self, g: &Guardrails, units: i64) -> Decimal {
        let floor = self.unit_floor(g);
        if floor.is_zero() {
            return self.net();
        }
        let net = if units >= self.quantity { self.net() } else { round_minor(self.unit_net() * Decimal::from(units)) };
        (net - floor * Decimal::from(units.min(self.quantity))).max(Decimal::ZERO)
    }
}

/// Voucherify's shipping product: a line for it is shipping.
pub const SHIPPING_PRODUCT_ID: &str = "prod_5h1pp1ng";
pub const SHIPPING_PRODUCT_SOURCE_ID: &str = "5h1pp1ng";

/// Where an item change lands: an existing line or a line the change creates.
#[derive(Debug, Clone, PartialEq)]
pub enum LineRef {
    Existing(usize),
    New { product: AddedProduct, price: Decimal },
}

/// A change to one line proposed by a discount.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemChange {
    pub line: LineRef,
    pub add_units: i64,
    pub free_units: i64,
    pub discount: Decimal,
    /// The `applicable_to` entry that reached the line (`None`: no entry named it).
    pub target: Option<usize>,
    /// Units of the line the discount reached.
    pub units: i64,
}

/// What one redeemable would do to the cart, computed without changing it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Proposal {
    /// Order-level discount.
    pub order_level: Decimal,
    pub items: Vec<ItemChange>,
    /// The guardrails that made it smaller.
    pub notes: Vec<GuardNote>,
}

impl Proposal {
    /// Total discount of the redeemable.
    pub fn total(&self) -> Decimal {
        self.order_level + self.items.iter().map(|c| c.discount).sum::<Decimal>()
    }

    /// Does it change anything at all (a discount, or free units added)?
    pub fn has_effect(&self) -> bool {
        self.total() > Decimal::ZERO || self.items.iter().any(|c| c.add_units > 0)
    }
}

/// The cart being discounted.
#[derive(Debug, Clone)]
pub struct Cart<'a> {
    pub order: &'a Order,
    pub lines: Vec<Line<'a>>,
    /// `order.amount − Σ item amounts`: shipping, fees or whatever the shop did not itemise.
    pub unitemized_amount: Decimal,
    pub unitemized_alloc: Decimal,
    /// The order-level discount the order came with.
    pub prior_order_discount: Decimal,
    /// The shipping and tax within `unitemized_amount` (`order.shipping_amount`, `.tax_amount`).
    pub shipping_amount: Decimal,
    pub tax_amount: Decimal,
    pub initial_amount: Decimal,
    /// Order-level discount so far, including what the order came with.
    pub order_discount: Decimal,
    pub applied_order_discount: Decimal,
    amount_total: Decimal,
    items_discount_total: Decimal,
    /// `0..lines.len()`, kept so rules can take every line as their scope without allocating.
    all_lines: Vec<usize>,
    /// Whether anything here is for guardrails to protect (a line out of stock, with a floor or
    /// cost, or shipping; shipping or tax amounts): when nothing is, they cost nothing.
    guarded: bool,
    index: LineIndex<'a>,
}

/// The request's lines by product/SKU id and by collection, with keys borrowed from the order,
/// so a reference finds its lines by lookup instead of scanning the cart.
#[derive(Debug, Clone, Default)]
struct LineIndex<'a> {
    by_id: [FxHashMap<&'a str, SmallVec<[usize; 2]>>; 4],
    by_collection: FxHashMap<u32, SmallVec<[usize; 4]>>,
    /// Lines below this position are indexed; later ones were added by discounts.
    indexed: usize,
}

impl<'a> LineIndex<'a> {
    fn build(lines: &[Line<'a>]) -> Self {
        let mut index = LineIndex { indexed: lines.len(), ..Default::default() };
        index.by_id[0].reserve(lines.len());
        for (i, l) in lines.iter().enumerate() {
            let ids =
                [&l.identity.product_id, &l.identity.product_source_id, &l.identity.sku_id, &l.identity.sku_source_id];
            for (slot, id) in ids.into_iter().enumerate() {
                // Request lines borrow their ids from the order.
                if let Some(Cow::Borrowed(id)) = id {
                    index.by_id[slot].entry(*id).or_default().push(i);
                }
            }
            for &c in &l.identity.collections {
                index.by_collection.entry(c).or_default().push(i);
            }
        }
        index
    }
}

/// Merges two ascending position lists without duplicates (borrowing when one is empty).
fn merge<'x>(a: &'x [usize], b: &'x [usize]) -> Cow<'x, [usize]> {
    if b.is_empty() {
        return Cow::Borrowed(a);
    }
    if a.is_empty() {
        return Cow::Borrowed(b);
    }
    let mut out: Vec<usize> = a.iter().chain(b).copied().collect();
    out.sort_unstable();
    out.dedup();
    Cow::Owned(out)
}

fn cow(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

impl<'a> Cart<'a> {
    /// Builds the cart from a request order, resolving collection membership.
    pub fn new(order: &'a Order, catalog: &Catalog, clock: &Clock) -> Result<Self, OrderError> {
        if order.items.len() > MAX_ITEMS {
            return Err(OrderError::TooManyItems(MAX_ITEMS));
        }
        let mut lines = Vec::with_capacity(order.items.len());
        let mut items_sum = Decimal::ZERO;
        for (index, item) in order.items.iter().enumerate() {
            let line = Self::line(index, item, catalog, clock)?;
            items_sum += line.amount;
            lines.push(line);
        }
        let charge = |v: Option<i64>| match v {
            Some(c) if c < 0 => Err(OrderError::NegativeCharges),
            Some(c) if c > MAX_MINOR => Err(OrderError::AmountTooLarge),
            c => Ok(from_wire(c.unwrap_or(0))),
        };
        let (shipping_amount, tax_amount) = (charge(order.shipping_amount)?, charge(order.tax_amount)?);
        let amount = match order.amount {
            Some(a) if a < 0 => return Err(OrderError::NegativeAmount),
            Some(a) if a > MAX_MINOR => return Err(OrderError::AmountTooLarge),
            Some(a) => from_wire(a),
            // shipping and tax are in the amount; without one, they are added to the items
            None => items_sum + shipping_amount + tax_amount,
        };
        if items_sum > Decimal::from(MAX_MINOR) || amount > Decimal::from(MAX_MINOR) {
            return Err(OrderError::AmountTooLarge);
        }
        if amount < items_sum {
            return Err(OrderError::AmountBelowItems { amount: to_wire(amount), items: to_wire(items_sum) });
        }
        if shipping_amount + tax_amount > amount - items_sum {
            return Err(OrderError::ChargesAboveUnitemized {
                charges: to_wire(shipping_amount + tax_amount),
                unitemized: to_wire(amount - items_sum),
            });
        }
        let items_discount_total = lines.iter().map(|l| l.item_discount).sum();
        let index = LineIndex::build(&lines);
        let mut cart = Cart {
            order,
            lines,
            unitemized_amount: amount - items_sum,
            unitemized_alloc: Decimal::ZERO,
            prior_order_discount: Decimal::ZERO,
            shipping_amount,
            tax_amount,
            initial_amount: order.initial_amount.map(from_wire).unwrap_or(amount),
            order_discount: Decimal::ZERO,
            applied_order_discount: Decimal::ZERO,
            amount_total: amount,
            items_discount_total,
            all_lines: (0..order.items.len()).collect(),
            guarded: false,
            index,
        };
        cart.order_discount =
            order.discount_amount.map(from_wire).unwrap_or_default().max(Decimal::ZERO).min(cart.net_total());
        cart.prior_order_discount = cart.order_discount;
        cart.guarded = cart.shipping_amount > Decimal::ZERO
            || cart.tax_amount > Decimal::ZERO
            || cart
                .lines
                .iter()
                .any(|l| l.out_of_stock || l.is_shipping || l.floor_price.is_some() || l.cost.is_some());
        Ok(cart)
    }

    fn line(index: usize, item: &'a OrderItem, catalog: &Catalog, clock: &Clock) -> Result<Line<'a>, OrderError> {
        let quantity = item.quantity.unwrap_or(1);
        if quantity <= 0 {
            return Err(OrderError::NonPositiveQuantity { index });
        }
        let too_large = |v: Option<i64>| v.is_some_and(|v| v > MAX_MINOR);
        if quantity > MAX_QUANTITY || too_large(item.price) || too_large(item.amount) || too_large(item.discount_amount)
        {
            return Err(OrderError::ItemTooLarge { index });
        }
        let catalog_price = item.sku.as_ref().and_then(|s| s.price).or(item.product.as_ref().and_then(|p| p.price));
        let price = match (item.price.or(catalog_price), item.amount) {
            (Some(p), _) => from_wire(p),
            (None, Some(a)) => from_wire(a) / Decimal::from(quantity),
            (None, None) => Decimal::ZERO,
        };
        if price < Decimal::ZERO || item.amount.is_some_and(|a| a < 0) {
            return Err(OrderError::NegativeItemAmount { index });
        }
        let amount = item.amount.map(from_wire).unwrap_or(price * Decimal::from(quantity));
        if amount > Decimal::from(MAX_MINOR) {
            return Err(OrderError::ItemTooLarge { index });
        }
        let is_sku = item.related_object.as_deref() == Some("sku");
        let mut identity = LineIdentity {
            product_id: cow(&item.product_id).or_else(|| item.product.as_ref().and_then(|p| cow(&p.id))),
            product_source_id: item
                .product
                .as_ref()
                .and_then(|p| cow(&p.source_id))
                .or_else(|| if is_sku { None } else { cow(&item.source_id) }),
            sku_id: cow(&item.sku_id).or_else(|| item.sku.as_ref().and_then(|s| cow(&s.id))),
            sku_source_id: item
                .sku
                .as_ref()
                .and_then(|s| cow(&s.source_id))
                .or_else(|| if is_sku { cow(&item.source_id) } else { None }),
            collections: SmallVec::new(),
        };
        if !catalog.is_empty() {
            let facts = ProductFacts {
                name: item.product.as_ref().and_then(|p| p.name.as_deref()),
                price: Some(price),
                source_id: item.product.as_ref().and_then(|p| p.source_id.as_deref()).or(if is_sku {
                    None
                } else {
                    item.source_id.as_deref()
                }),
                id: item.product_id.as_deref().or(item.product.as_ref().and_then(|p| p.id.as_deref())),
                metadata: item.product.as_ref().map(|p| &p.metadata),
            };
            catalog.resolve(&mut identity, &facts, clock);
        }
        let prior = item.discount_amount.map(from_wire).unwrap_or_default().max(Decimal::ZERO).min(amount);
        // the catalog's facts (a cart cannot send them): the SKU's, else the product's
        let (sku, product) = (item.sku.as_ref(), item.product.as_ref());
        let fact = |s: Option<i64>, p: Option<i64>| s.or(p);
        let stock = fact(sku.and_then(|s| s.stock), product.and_then(|p| p.stock));
        let floor_price = fact(sku.and_then(|s| s.floor_price), product.and_then(|p| p.floor_price)).map(from_wire);
        let cost = fact(sku.and_then(|s| s.cost), product.and_then(|p| p.cost)).map(from_wire);
        let is_shipping = identity.product_id.as_deref() == Some(SHIPPING_PRODUCT_ID)
            || identity.product_source_id.as_deref() == Some(SHIPPING_PRODUCT_SOURCE_ID);
        Ok(Line {
            identity,
            request_index: Some(index),
            added: None,
            price,
            quantity,
            initial_quantity: quantity,
            amount,
            initial_amount: amount,
            item_discount: prior,
            applied_item_discount: Decimal::ZERO,
            order_alloc: Decimal::ZERO,
            discount_quantity: 0,
            applied_discount_quantity: 0,
            once_taken: false,
            out_of_stock: stock.is_some_and(|n| n <= 0),
            floor_price,
            cost,
            is_shipping,
        })
    }

    /// Order amount before discounts (grows when discounts add items).
    pub fn amount(&self) -> Decimal {
        self.amount_total
    }

    /// What is left to pay: amount minus every discount so far.
    pub fn net_total(&self) -> Decimal {
        (self.amount_total - self.order_discount - self.items_discount_total).max(Decimal::ZERO)
    }

    /// What an order-level discount under `g` is computed on (`base`: what is left to pay,
    /// less what the guardrails keep out) and the most it may take (`cap`: the base less the
    /// floors of the lines in it), with a note for each exclusion. Excluded amounts are taken
    /// as not yet discounted at order level, so the base is never overstated.
    pub fn order_base(&self, g: &Guardrails) -> OrderBase {
        if !self.guarded {
            let base = self.net_total();
            return OrderBase { base, initial_base: self.initial_amount, cap: base, notes: Vec::new() };
        }
        let mut notes = Vec::new();
        let mut excluded = Decimal::ZERO;
        let mut floors = Decimal::ZERO;
        for (i, l) in self.lines.iter().enumerate() {
            if l.discountable(g, false) {
                floors += (l.unit_floor(g) * Decimal::from(l.quantity)).min(l.net());
                continue;
            }
            excluded += l.net();
            let reason = if l.out_of_stock { GuardReason::OutOfStock } else { GuardReason::ShippingExcluded };
            notes.push(GuardNote { reason, line: Some(i), amount: Some(to_wire(l.net())) });
        }
        for (on, amount, reason) in [
            (!g.discount_shipping, self.shipping_amount, GuardReason::ShippingExcluded),
            (!g.discount_tax, self.tax_amount, GuardReason::TaxExcluded),
        ] {
            if on && amount > Decimal::ZERO {
                excluded += amount;
                notes.push(GuardNote { reason, line: None, amount: Some(to_wire(amount)) });
            }
        }
        let base = (self.net_total() - excluded).max(Decimal::ZERO);
        OrderBase {
            base,
            initial_base: (self.initial_amount - excluded).max(Decimal::ZERO),
            cap: (base - floors).max(Decimal::ZERO),
            notes,
        }
    }

    /// What is left to pay above what `g` protects — every line's floor, lines out of stock,
    /// shipping and tax amounts: the most any further discount may take (order-level discounts
    /// are not on lines while stacking, so protection stands against the whole order).
    pub fn room_above_floors(&self, g: &Guardrails) -> Decimal {
        if !self.guarded {
            return self.net_total();
        }
        let mut kept = Decimal::ZERO;
        for l in &self.lines {
            kept += if l.out_of_stock && !g.discount_out_of_stock {
                l.net()
            } else {
                (l.unit_floor(g) * Decimal::from(l.quantity)).min(l.net())
            };
        }
        if !g.discount_shipping {
            kept += self.shipping_amount;
        }
        if !g.discount_tax {
            kept += self.tax_amount;
        }
        (self.net_total() - kept).max(Decimal::ZERO)
    }

    /// Positions of the lines a reference matches, ascending.
    pub fn lines_matching(&self, m: &Matcher<'_>, catalog: &Catalog) -> Cow<'_, [usize]> {
        let get = |slot: usize, id: &Option<String>| -> &[usize] {
            id.as_deref().and_then(|id| self.index.by_id[slot].get(id)).map_or(&[], |v| v.as_slice())
        };
        let mut out: Cow<'_, [usize]> = match m {
            Matcher::Item(ItemRef::Product { id, source_id }) => merge(get(0, id), get(1, source_id)),
            Matcher::Item(ItemRef::Sku { id, source_id }) => merge(get(2, id), get(3, source_id)),
            Matcher::Item(r @ ItemRef::Collection { .. }) => {
                Cow::Owned((0..self.index.indexed).filter(|&i| self.lines[i].identity.matches(r, catalog)).collect())
            }
            Matcher::Collection(p) => {
                Cow::Borrowed(p.and_then(|p| self.index.by_collection.get(&p)).map_or(&[][..], |v| v.as_slice()))
            }
        };
        // Lines added by discounts are few and not indexed.
        for i in self.index.indexed..self.lines.len() {
            if m.matches(&self.lines[i].identity, catalog) {
                out.to_mut().push(i);
            }
        }
        out
    }

    /// Every line position, ascending.
    pub fn all_lines(&self) -> &[usize] {
        &self.all_lines
    }

    /// Total units in the cart.
    pub fn units(&self) -> i64 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    /// Item metadata of a line (empty for added lines).
    pub fn item(&self, line: usize) -> Option<&'a OrderItem> {
        self.lines[line].request_index.map(|i| &self.order.items[i])
    }

    /// Metadata of the order.
    pub fn metadata(&self) -> &'a Metadata {
        &self.order.metadata
    }

    /// Spreads one order-level discount over what is left of the lines and of the unitemized
    /// amount, and records it there: only over what the discount's guardrails let it touch,
    /// above the floors (unless another discount's lack of guardrails already took that room).
    fn spread_order_level(&mut self, discount: Decimal, g: &Guardrails) -> (Vec<(usize, Decimal)>, Decimal) {
        let unitemized_net = (self.unitemized_amount - self.unitemized_alloc).max(Decimal::ZERO);
        let mut charges = Decimal::ZERO;
        if !g.discount_shipping {
            charges += self.shipping_amount;
        }
        if !g.discount_tax {
            charges += self.tax_amount;
        }
        let guarded = |l: &Line<'_>, left: Decimal| {
            if !l.discountable(g, false) {
                return Decimal::ZERO;
            }
            let floor = l.unit_floor(g) * Decimal::from(l.quantity);
            // the floor stands against what the line costs after every discount
            (left - (floor - (l.net() - left)).max(Decimal::ZERO)).max(Decimal::ZERO)
        };
        let shares_of = |guard: bool| -> Vec<Share<'_>> {
            let mut shares: Vec<Share<'_>> = self
                .lines
                .iter()
                .map(|l| {
                    let left = (l.net() - l.order_alloc).max(Decimal::ZERO);
                    let cap = if guard { guarded(l, left) } else { left };
                    Share { weight: cap, cap, tie_key: l.identity.tie_key() }
                })
                .collect();
            let rest = if guard { (unitemized_net - charges).max(Decimal::ZERO) } else { unitemized_net };
            shares.push(Share { weight: rest, cap: rest, tie_key: "" });
            shares
        };
        let mut shares = shares_of(true);
        if shares.iter().map(|s| s.cap).sum::<Decimal>() < discount {
            shares = shares_of(false);
        }
        let parts = allocate(discount, &shares);
        let rest = parts[self.lines.len()];
        let mut allocs = Vec::new();
        for (i, p) in parts[..self.lines.len()].iter().enumerate() {
            if !p.is_zero() {
                self.lines[i].order_alloc += *p;
                allocs.push((i, *p));
            }
        }
        self.unitemized_alloc += rest;
        (allocs, rest)
    }

    /// Spreads the order-level discounts of a request over the lines (for returns), in the
    /// order they were applied, after the discounts the order came with. It always fits:
    /// order-level discounts never exceed what the items left to pay plus the unitemized amount.
    pub fn spread_order_levels(
        &mut self,
        discounts: &[(Decimal, Guardrails)],
    ) -> Vec<(Vec<(usize, Decimal)>, Decimal)> {
        if self.prior_order_discount > Decimal::ZERO {
            let everything = Guardrails {
                discount_out_of_stock: true,
                discount_shipping: true,
                discount_tax: true,
                margin_floor: MarginFloor::None,
            };
            self.spread_order_level(self.prior_order_discount, &everything);
        }
        discounts
            .iter()
            .map(|(d, g)| if d.is_zero() { (Vec::new(), Decimal::ZERO) } else { self.spread_order_level(*d, g) })
            .collect()
    }

    /// Applies a proposal; returns the lines its item changes landed on (new lines included).
    pub fn apply(&mut self, p: &Proposal, mark_once: bool) -> Vec<usize> {
        self.order_discount += p.order_level;
        self.applied_order_discount += p.order_level;
        let mut touched = Vec::with_capacity(p.items.len());
        for change in &p.items {
            let index = match &change.line {
                LineRef::Existing(i) => *i,
                LineRef::New { product, price } => {
                    self.lines.push(Line {
                        identity: LineIdentity {
                            product_id: product.product_id.clone().map(Cow::Owned),
                            product_source_id: product.product_source_id.clone().map(Cow::Owned),
                            sku_id: product.sku_id.clone().map(Cow::Owned),
                            sku_source_id: product.sku_source_id.clone().map(Cow::Owned),
                            collections: SmallVec::new(),
                        },
                        request_index: None,
                        added: Some(product.clone()),
                        price: *price,
                        quantity: 0,
                        initial_quantity: 0,
                        amount: Decimal::ZERO,
                        initial_amount: Decimal::ZERO,
                        item_discount: Decimal::ZERO,
                        applied_item_discount: Decimal::ZERO,
                        order_alloc: Decimal::ZERO,
                        discount_quantity: 0,
                        applied_discount_quantity: 0,
                        once_taken: false,
                        // a discount never adds what is out of stock; its floor is the catalog's
                        out_of_stock: false,
                        floor_price: None,
                        cost: None,
                        is_shipping: product.product_id.as_deref() == Some(SHIPPING_PRODUCT_ID),
                    });
                    self.guarded |= self.lines.last().is_some_and(|l| l.is_shipping);
                    self.all_lines.push(self.lines.len() - 1);
                    self.lines.len() - 1
                }
            };
            let line = &mut self.lines[index];
            if change.add_units > 0 {
                let added = line.price * Decimal::from(change.add_units);
                line.quantity += change.add_units;
                line.amount += added;
                self.amount_total += added;
            }
            line.item_discount += change.discount;
            line.applied_item_discount += change.discount;
            line.discount_quantity += change.free_units;
            line.applied_discount_quantity += change.free_units;
            if mark_once && (change.discount > Decimal::ZERO || change.free_units > 0) {
                line.once_taken = true;
            }
            self.items_discount_total += change.discount;
            touched.push(index);
        }
        touched
    }

    /// The order totals in the wire's terms (reference §3.2).
    pub fn totals(&self) -> OrderTotals {
        let discount_amount = to_wire(self.order_discount);
        let items_discount_amount = to_wire(self.items_discount_total);
        let applied = to_wire(self.applied_order_discount);
        let items_applied: i64 = self.lines.iter().map(|l| to_wire(l.applied_item_discount)).sum();
        let amount = to_wire(self.amount_total);
        OrderTotals {
            amount,
            initial_amount: to_wire(self.initial_amount),
            discount_amount,
            items_discount_amount,
            total_discount_amount: discount_amount + items_discount_amount,
            total_amount: (amount - discount_amount - items_discount_amount).max(0),
            applied_discount_amount: applied,
            items_applied_discount_amount: items_applied,
            total_applied_discount_amount: applied + items_applied,
            items: self
                .lines
                .iter()
                .map(|l| ItemTotals {
                    request_index: l.request_index,
                    added: l.added.clone(),
                    quantity: l.quantity,
                    initial_quantity: l.initial_quantity,
                    discount_quantity: l.discount_quantity,
                    applied_discount_quantity: l.applied_discount_quantity,
                    price: to_wire(l.price),
                    amount: to_wire(l.amount),
                    initial_amount: to_wire(l.initial_amount),
                    discount_amount: to_wire(l.item_discount),
                    applied_discount_amount: to_wire(l.applied_item_discount),
                    subtotal_amount: to_wire(l.amount - l.item_discount),
                })
                .collect(),
        }
    }
}

impl Cart<'_> {
    /// Totals right after applying `p`, with the `applied_*` fields describing `p` alone (the
    /// per-redeemable snapshot of a stacked response).
    pub fn snapshot(&self, p: &Proposal, touched: &[usize]) -> OrderTotals {
        let mut t = self.totals();
        for item in &mut t.items {
            item.applied_discount_amount = 0;
            item.applied_discount_quantity = 0;
        }
        for (change, &line) in p.items.iter().zip(touched) {
            t.items[line].applied_discount_amount += to_wire(change.discount);
            t.items[line].applied_discount_quantity += change.free_units;
        }
        t.applied_discount_amount = to_wire(p.order_level);
        t.items_applied_discount_amount = t.items.iter().map(|i| i.applied_discount_amount).sum();
        t.total_applied_discount_amount = t.applied_discount_amount + t.items_applied_discount_amount;
        t
    }
}

/// What an order's lines cost the shop, when the catalog knows every line's unit cost (the
/// SKU's, else the product's; for units a discount added, the catalog entry of what it added):
/// `None` when any line's cost is unknown.
pub fn order_cost(order: &Order, totals: &OrderTotals) -> Option<i64> {
    if totals.items.is_empty() {
        return None;
    }
    totals.items.iter().try_fold(0i64, |sum, t| {
        let unit = match t.request_index {
            Some(i) => {
                let item = order.items.get(i)?;
                item.sku.as_ref().and_then(|s| s.cost).or(item.product.as_ref().and_then(|p| p.cost))
            }
            None => order.known_products.complete(t.added.as_ref()?).cost,
        }?;
        sum.checked_add(unit.checked_mul(t.quantity)?)
    })
}

/// See [`Cart::order_base`].
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBase {
    pub base: Decimal,
    /// The base in `INITIAL_AMOUNT` mode: the initial amount less the excluded amounts.
    pub initial_base: Decimal,
    pub cap: Decimal,
    pub notes: Vec<GuardNote>,
}

/// Order totals (`OrderCalculated` money fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderTotals {
    pub amount: i64,
    pub initial_amount: i64,
    pub discount_amount: i64,
    pub items_discount_amount: i64,
    pub total_discount_amount: i64,
    pub total_amount: i64,
    pub applied_discount_amount: i64,
    pub items_applied_discount_amount: i64,
    pub total_applied_discount_amount: i64,
    pub items: Vec<ItemTotals>,
}

/// Per-line totals (`OrderCalculatedItem` money fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemTotals {
    /// Position in the request's items; `None` for a line a discount added.
    pub request_index: Option<usize>,
    pub added: Option<AddedProduct>,
    pub quantity: i64,
    pub initial_quantity: i64,
    pub discount_quantity: i64,
    pub applied_discount_quantity: i64,
    pub price: i64,
    pub amount: i64,
    pub initial_amount: i64,
    pub discount_amount: i64,
    pub applied_discount_amount: i64,
    pub subtotal_amount: i64,
}
