//! Product references (`{"id": "prod_1", "object": "product"}`) and product collections.

use crate::condition::{Clock, Filter, Operand};
use crate::error::DefinitionError;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap as HashMap;
use serde_json::Value;
use smallvec::SmallVec;
use std::borrow::Cow;

/// A reference to products in a cart: one product, one SKU, or a collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemRef {
    Product { id: Option<String>, source_id: Option<String> },
    Sku { id: Option<String>, source_id: Option<String> },
    Collection { id: String },
}

impl ItemRef {
    /// Reads a reference from a rule value or an `applicable_to` entry: an object with
    /// `object`/`id`/`source_id`, or a bare id whose prefix tells the kind.
    pub fn from_json(v: &Value) -> Option<ItemRef> {
        match v {
            Value::String(s) => Some(Self::from_id(s)),
            Value::Object(o) => {
                let id = o.get("id").and_then(Value::as_str).map(str::to_owned);
                let source_id = o.get("source_id").and_then(Value::as_str).map(str::to_owned);
                match o.get("object").and_then(Value::as_str) {
                    Some("sku") => {
                        let source_id = source_id.or_else(|| id.clone().filter(|i| !is_our_id(i, "sku_")));
                        Some(ItemRef::Sku { id, source_id })
                    }
                    Some("products_collection") | Some("product_collection") => id.map(|id| ItemRef::Collection { id }),
                    Some("product") => {
                        let source_id = source_id.or_else(|| id.clone().filter(|i| !is_our_id(i, "prod_")));
                        Some(ItemRef::Product { id, source_id })
                    }
                    _ => match id {
                        Some(id) => Some(Self::from_id(&id)),
                        None => source_id.map(|s| ItemRef::Product { id: None, source_id: Some(s) }),
                    },
                }
            }
            _ => None,
        }
    }

    /// A bare id: its prefix tells the kind. An id that is not one of our product ids names a
    /// product by the storefront's id, which is its source id when the catalog holds it, so it
    /// matches either.
    fn from_id(s: &str) -> ItemRef {
        if s.starts_with("sku_") {
            ItemRef::Sku { id: Some(s.to_owned()), source_id: None }
        } else if s.starts_with("pc_") {
            ItemRef::Collection { id: s.to_owned() }
        } else if is_our_id(s, "prod_") {
            ItemRef::Product { id: Some(s.to_owned()), source_id: None }
        } else {
            ItemRef::Product { id: Some(s.to_owned()), source_id: Some(s.to_owned()) }
        }
    }

    /// A short human label: the id, else the source id.
    pub fn label(&self) -> &str {
        match self {
            ItemRef::Product { id, source_id } | ItemRef::Sku { id, source_id } => {
                id.as_deref().or(source_id.as_deref()).unwrap_or("")
            }
            ItemRef::Collection { id } => id,
        }
    }

    /// The wire `object` name.
    pub fn object(&self) -> &'static str {
        match self {
            ItemRef::Product { .. } => "product",
            ItemRef::Sku { .. } => "sku",
            ItemRef::Collection { .. } => "products_collection",
        }
    }
}

/// The identity of an order line, for matching references.
#[derive(Debug, Clone, Default)]
pub struct LineIdentity<'a> {
    pub product_id: Option<Cow<'a, str>>,
    pub product_source_id: Option<Cow<'a, str>>,
    pub sku_id: Option<Cow<'a, str>>,
    pub sku_source_id: Option<Cow<'a, str>>,
    /// Positions of the collections (in the [`Catalog`]) this line belongs to.
    pub collections: SmallVec<[u32; 4]>,
}

impl LineIdentity<'_> {
    fn eq(a: &Option<String>, b: &Option<Cow<'_, str>>) -> bool {
        matches!((a, b), (Some(x), Some(y)) if x.as_str() == y.as_ref())
    }

    /// Does this line match the reference?
    pub fn matches(&self, r: &ItemRef, catalog: &Catalog) -> bool {
        match r {
            ItemRef::Product { id, source_id } => {
                Self::eq(id, &self.product_id) || Self::eq(source_id, &self.product_source_id)
            }
            ItemRef::Sku { id, source_id } => Self::eq(id, &self.sku_id) || Self::eq(source_id, &self.sku_source_id),
            ItemRef::Collection { id } => catalog.position(id).is_some_and(|p| self.collections.contains(&p)),
        }
    }

    /// A stable key for tie-breaks: the most specific id the line has.
    pub fn tie_key(&self) -> &str {
        self.sku_id
            .as_deref()
            .or(self.sku_source_id.as_deref())
            .or(self.product_id.as_deref())
            .or(self.product_source_id.as_deref())
            .unwrap_or("")
    }
}

/// What a collection contains.
#[derive(Debug, Clone)]
pub enum CollectionMembers {
    /// A fixed list of products and SKUs.
    Static(Vec<ItemRef>),
    /// Products whose attributes pass a filter (`price`, `name`, `metadata.*`, ...).
    Filter(Filter),
}

/// A product collection.
#[derive(Debug, Clone)]
pub struct Collection {
    pub id: String,
    pub members: CollectionMembers,
}

/// The product facts a collection filter reads.
#[derive(Debug, Clone, Copy)]
pub struct ProductFacts<'a> {
    pub name: Option<&'a str>,
    pub price: Option<Decimal>,
    pub source_id: Option<&'a str>,
    pub id: Option<&'a str>,
    pub metadata: Option<&'a crate::model::Metadata>,
}

/// Which id of a product or SKU a reference or a line carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    Product,
    ProductSource,
    Sku,
    SkuSource,
    Collection,
}

impl ItemRef {
    /// Calls `f` with every (kind, id) this reference matches by.
    pub fn for_each_id(&self, mut f: impl FnMut(IdKind, &str)) {
        match self {
            ItemRef::Product { id, source_id } => {
                id.iter().for_each(|i| f(IdKind::Product, i));
                source_id.iter().for_each(|i| f(IdKind::ProductSource, i));
            }
            ItemRef::Sku { id, source_id } => {
                id.iter().for_each(|i| f(IdKind::Sku, i));
                source_id.iter().for_each(|i| f(IdKind::SkuSource, i));
            }
            ItemRef::Collection { id } => f(IdKind::Collection, id),
        }
    }
}

impl LineIdentity<'_> {
    /// Calls `f` with every (kind, id) of the line, collections included.
    pub fn for_each_id(&self, catalog: &Catalog, mut f: impl FnMut(IdKind, &str)) {
        self.product_id.iter().for_each(|i| f(IdKind::Product, i));
        self.product_source_id.iter().for_each(|i| f(IdKind::ProductSource, i));
        self.sku_id.iter().for_each(|i| f(IdKind::Sku, i));
        self.sku_source_id.iter().for_each(|i| f(IdKind::SkuSource, i));
        for &c in &self.collections {
            f(IdKind::Collection, &catalog.collections[c as usize].id);
        }
    }
}

/// A reference resolved against the catalog once, to test many lines quickly.
#[derive(Debug, Clone, Copy)]
pub enum Matcher<'r> {
    Item(&'r ItemRef),
    /// A collection by position (`None`: unknown collection, matches nothing).
    Collection(Option<u32>),
}

impl Matcher<'_> {
    pub fn matches(&self, line: &LineIdentity<'_>, catalog: &Catalog) -> bool {
        match self {
            Matcher::Item(r) => line.matches(r, catalog),
            Matcher::Collection(p) => p.is_some_and(|p| line.collections.contains(&p)),
        }
    }
}

/// A map from ids, one per [`IdKind`], looked up by `&str` without building keys.
#[derive(Debug, Clone, Default)]
pub struct IdIndex<T> {
    maps: [HashMap<String, Vec<T>>; 5],
}

impl<T: Copy + PartialEq> IdIndex<T> {
    fn slot(kind: IdKind) -> usize {
        kind as usize
    }

    pub fn insert(&mut self, kind: IdKind, id: &str, value: T) {
        let list = self.maps[Self::slot(kind)].entry(id.to_owned()).or_default();
        if list.last() != Some(&value) {
            list.push(value);
        }
    }

    pub fn get(&self, kind: IdKind, id: &str) -> &[T] {
        let map = &self.maps[Self::slot(kind)];
        // Most kinds are empty in a given project (few use source ids): skip hashing then.
        if map.is_empty() { &[] } else { map.get(id).map_or(&[], Vec::as_slice) }
    }
}

/// The project's product collections, so carts can tell which lines belong to which.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    collections: Vec<Collection>,
    by_id: HashMap<String, u32>,
    /// Static members by id, so a line finds its collections with a few lookups.
    static_members: IdIndex<u32>,
    filtered: Vec<u32>,
}

impl Catalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a static collection.
    pub fn add_static(&mut self, id: impl Into<String>, members: Vec<ItemRef>) {
        self.push(Collection { id: id.into(), members: CollectionMembers::Static(members) });
    }

    /// Adds an auto-update collection from its wire filter.
    pub fn add_filter(&mut self, id: impl Into<String>, filter: &Value) -> Result<(), DefinitionError> {
        let filter = Filter::compile(filter, "filter")?;
        self.push(Collection { id: id.into(), members: CollectionMembers::Filter(filter) });
        Ok(())
    }

    fn push(&mut self, c: Collection) {
        let pos = self.collections.len() as u32;
        self.by_id.insert(c.id.clone(), pos);
        match &c.members {
            CollectionMembers::Static(refs) => {
                for r in refs {
                    r.for_each_id(|kind, id| self.static_members.insert(kind, id, pos));
                }
            }
            CollectionMembers::Filter(_) => self.filtered.push(pos),
        }
        self.collections.push(c);
    }

    /// Resolves a reference once for matching many lines.
    pub fn matcher<'r>(&self, r: &'r ItemRef) -> Matcher<'r> {
        match r {
            ItemRef::Collection { id } => Matcher::Collection(self.position(id)),
            other => Matcher::Item(other),
        }
    }

    pub fn position(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.collections.is_empty()
    }

    /// Fills `identity.collections` (ascending) with the collections the line belongs to.
    pub fn resolve(&self, identity: &mut LineIdentity<'_>, facts: &ProductFacts<'_>, clock: &Clock) {
        let mut found: SmallVec<[u32; 4]> = SmallVec::new();
        let ids = [
            (IdKind::Product, &identity.product_id),
            (IdKind::ProductSource, &identity.product_source_id),
            (IdKind::Sku, &identity.sku_id),
            (IdKind::SkuSource, &identity.sku_source_id),
        ];
        for (kind, id) in ids {
            if let Some(id) = id {
                found.extend_from_slice(self.static_members.get(kind, id));
            }
        }
        for &pos in &self.filtered {
            if let CollectionMembers::Filter(f) = &self.collections[pos as usize].members
                && f.matches(|field| product_field(facts, field), clock)
            {
                found.push(pos);
            }
        }
        found.sort_unstable();
        found.dedup();
        identity.collections = found;
    }
}

fn product_field<'a>(facts: &ProductFacts<'a>, field: &str) -> Operand<'a> {
    match field {
        "name" => facts.name.map_or(Operand::Missing, |n| Operand::Text(Cow::Borrowed(n))),
        "price" => facts.price.map_or(Operand::Missing, Operand::Num),
        "source_id" => facts.source_id.map_or(Operand::Missing, |n| Operand::Text(Cow::Borrowed(n))),
        "id" => facts.id.map_or(Operand::Missing, |n| Operand::Text(Cow::Borrowed(n))),
        other => match other.strip_prefix("metadata.") {
            Some(key) => Operand::from_json(facts.metadata.and_then(|m| m.get(key))),
            None => Operand::Missing,
        },
    }
}

/// A product, or a SKU with its product, as the project's catalog stores it: what the caller
/// read for the ids a request names, so carts and definitions naming the same thing in
/// different ways meet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogEntry {
    pub product: crate::model::ProductInfo,
    pub sku: Option<crate::model::SkuInfo>,
}

/// The catalog entries read for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogEntries {
    entries: Vec<CatalogEntry>,
}

/// The ids something names a product or SKU by (any may be missing).
#[derive(Debug, Clone, Copy, Default)]
pub struct NamedBy<'a> {
    pub product_id: Option<&'a str>,
    pub product_source_id: Option<&'a str>,
    pub sku_id: Option<&'a str>,
    pub sku_source_id: Option<&'a str>,
}

impl NamedBy<'_> {
    /// How an order item names its product and SKU: top-level ids, the nested objects, and
    /// `source_id` read as the product's unless `related_object` says `sku`.
    pub fn item(item: &crate::model::OrderItem) -> NamedBy<'_> {
        let is_sku = item.related_object.as_deref() == Some("sku");
        let product = item.product.as_ref();
        let sku = item.sku.as_ref();
        NamedBy {
            product_id: item.product_id.as_deref().or(product.and_then(|p| p.id.as_deref())),
            product_source_id: product.and_then(|p| p.source_id.as_deref()).or(if is_sku {
                None
            } else {
                item.source_id.as_deref()
            }),
            sku_id: item.sku_id.as_deref().or(sku.and_then(|s| s.id.as_deref())),
            sku_source_id: sku.and_then(|s| s.source_id.as_deref()).or(if is_sku {
                item.source_id.as_deref()
            } else {
                None
            }),
        }
    }

    fn names_sku(&self) -> bool {
        self.sku_id.is_some() || self.sku_source_id.is_some()
    }
}

fn same(a: Option<&str>, b: &Option<String>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x == y)
}

/// Whether `id` is one of ours: the prefix and 32 hex digits (as the API writes ids). Anything
/// else (`tee`, or Stripe's `prod_Nxyz…`) is the storefront's own id.
pub fn is_our_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A storefront's own id: the source id, when the catalog holds it.
fn foreign<'a>(id: Option<&'a str>, prefix: &str) -> Option<&'a str> {
    id.filter(|i| !is_our_id(i, prefix))
}

/// Puts our id where the item or discount named the product or SKU by the storefront's id.
fn take_our_id(slot: &mut Option<String>, stored: &Option<String>, prefix: &str) {
    if foreign(slot.as_deref(), prefix).is_some() && stored.is_some() {
        slot.clone_from(stored);
    }
}

impl CatalogEntries {
    pub fn new(entries: Vec<CatalogEntry>) -> Self {
        CatalogEntries { entries }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry for what `named` names: its SKU when it names one (by id or source id), else
    /// its product.
    pub fn find(&self, named: &NamedBy<'_>) -> Option<&CatalogEntry> {
        if named.names_sku() {
            let sku = self.entries.iter().find(|e| {
                e.sku.as_ref().is_some_and(|s| {
                    same(named.sku_id, &s.id)
                        || same(named.sku_source_id, &s.source_id)
                        || same(foreign(named.sku_id, "sku_"), &s.source_id)
                })
            });
            if sku.is_some() {
                return sku;
            }
        }
        self.entries.iter().find(|e| {
            e.sku.is_none()
                && (same(named.product_id, &e.product.id)
                    || same(named.product_source_id, &e.product.source_id)
                    || same(foreign(named.product_id, "prod_"), &e.product.source_id))
        })
    }

    /// Fills what each order item omits from the catalog: the other ids of its product and
    /// SKU, their names, prices and metadata. The cart's own values win: a stored price is used
    /// only when the item carries no price or amount at all, and stored metadata keys only
    /// where the item's product or SKU lacks them. Items the catalog does not know stay as sent.
    pub fn resolve_order(self, order: &mut crate::model::Order) {
        if self.entries.is_empty() {
            return;
        }
        for item in &mut order.items {
            let Some(entry) = self.find(&NamedBy::item(item)) else { continue };
            let priced = item.price.is_some()
                || item.amount.is_some()
                || item.product.as_ref().is_some_and(|p| p.price.is_some())
                || item.sku.as_ref().is_some_and(|s| s.price.is_some());
            if item.product_id.is_none() {
                item.product_id = entry.product.id.clone();
            }
            take_our_id(&mut item.product_id, &entry.product.id, "prod_");
            let p = item.product.get_or_insert_with(Default::default);
            fill(&mut p.id, &entry.product.id);
            fill(&mut p.source_id, &entry.product.source_id);
            fill(&mut p.name, &entry.product.name);
            if !priced && entry.sku.as_ref().is_none_or(|s| s.price.is_none()) {
                fill(&mut p.price, &entry.product.price);
            }
            merge_metadata(&mut p.metadata, &entry.product.metadata);
            (p.stock, p.cost, p.floor_price) = (entry.product.stock, entry.product.cost, entry.product.floor_price);
            if let Some(stored) = &entry.sku {
                if item.sku_id.is_none() {
                    item.sku_id = stored.id.clone();
                }
                take_our_id(&mut item.sku_id, &stored.id, "sku_");
                let s = item.sku.get_or_insert_with(Default::default);
                fill(&mut s.id, &stored.id);
                fill(&mut s.source_id, &stored.source_id);
                fill(&mut s.sku, &stored.sku);
                if !priced {
                    fill(&mut s.price, &stored.price);
                }
                merge_metadata(&mut s.metadata, &stored.metadata);
                (s.stock, s.cost, s.floor_price) = (stored.stock, stored.cost, stored.floor_price);
            }
        }
        order.known_products = self;
    }

    /// A product a discount adds, with the ids, name, price, stock and floors the catalog knows
    /// for it (the SKU's, else the product's).
    pub fn complete(&self, added: &crate::cart::AddedProduct) -> Completed {
        let named = NamedBy {
            product_id: added.product_id.as_deref(),
            product_source_id: added.product_source_id.as_deref(),
            sku_id: added.sku_id.as_deref(),
            sku_source_id: added.sku_source_id.as_deref(),
        };
        let mut out = added.clone();
        let Some(entry) = self.find(&named) else { return Completed { product: out, ..Completed::default() } };
        let (p, sku) = (&entry.product, entry.sku.as_ref());
        let stock = sku.and_then(|s| s.stock).or(p.stock);
        let floor_price = sku.and_then(|s| s.floor_price).or(p.floor_price);
        let cost = sku.and_then(|s| s.cost).or(p.cost);
        take_our_id(&mut out.product_id, &entry.product.id, "prod_");
        fill(&mut out.product_id, &entry.product.id);
        fill(&mut out.product_source_id, &entry.product.source_id);
        let mut price = entry.product.price;
        match &entry.sku {
            Some(s) => {
                take_our_id(&mut out.sku_id, &s.id, "sku_");
                fill(&mut out.sku_id, &s.id);
                fill(&mut out.sku_source_id, &s.source_id);
                fill(&mut out.name, &s.sku);
                price = s.price.or(price);
            }
            None => fill(&mut out.name, &entry.product.name),
        }
        Completed { product: out, price, out_of_stock: stock.is_some_and(|n| n <= 0), floor_price, cost }
    }
}

/// See [`CatalogEntries::complete`].
#[derive(Debug, Clone, Default)]
pub struct Completed {
    pub product: crate::cart::AddedProduct,
    pub price: Option<i64>,
    pub out_of_stock: bool,
    pub floor_price: Option<i64>,
    pub cost: Option<i64>,
}

fn fill<T: Clone>(slot: &mut Option<T>, stored: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(stored);
    }
}

fn merge_metadata(cart: &mut crate::model::Metadata, stored: &crate::model::Metadata) {
    for (k, v) in stored {
        if !cart.contains_key(k) {
            cart.insert(k.clone(), v.clone());
        }
    }
}
