//! Product references (`{"id": "prod_1", "object": "product"}`) and product collections.

use crate::condition::{Clock, Filter, Operand};
use crate::error::DefinitionError;
use rust_decimal::Decimal;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;

/// A reference to products in a cart: one product, one SKU, or a collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemRef {
    Product {
        id: Option<String>,
        source_id: Option<String>,
    },
    Sku {
        id: Option<String>,
        source_id: Option<String>,
    },
    Collection {
        id: String,
    },
}

impl ItemRef {
    /// Reads a reference from a rule value or an `applicable_to` entry: an object with
    /// `object`/`id`/`source_id`, or a bare id whose prefix tells the kind.
    pub fn from_json(v: &Value) -> Option<ItemRef> {
        match v {
            Value::String(s) => Some(Self::from_id(s)),
            Value::Object(o) => {
                let id = o.get("id").and_then(Value::as_str).map(str::to_owned);
                let source_id = o
                    .get("source_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                match o.get("object").and_then(Value::as_str) {
                    Some("sku") => Some(ItemRef::Sku { id, source_id }),
                    Some("products_collection") | Some("product_collection") => {
                        id.map(|id| ItemRef::Collection { id })
                    }
                    Some("product") => Some(ItemRef::Product { id, source_id }),
                    _ => match id {
                        Some(id) => Some(Self::from_id(&id)),
                        None => source_id.map(|s| ItemRef::Product {
                            id: None,
                            source_id: Some(s),
                        }),
                    },
                }
            }
            _ => None,
        }
    }

    fn from_id(s: &str) -> ItemRef {
        if s.starts_with("sku_") {
            ItemRef::Sku {
                id: Some(s.to_owned()),
                source_id: None,
            }
        } else if s.starts_with("pc_") {
            ItemRef::Collection { id: s.to_owned() }
        } else {
            ItemRef::Product {
                id: Some(s.to_owned()),
                source_id: None,
            }
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

    /// Keys under which a targeted promotion is indexed (see [`LineIdentity::index_keys`]).
    pub fn index_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        match self {
            ItemRef::Product { id, source_id } => {
                keys.extend(id.iter().map(|i| format!("p:{i}")));
                keys.extend(source_id.iter().map(|s| format!("ps:{s}")));
            }
            ItemRef::Sku { id, source_id } => {
                keys.extend(id.iter().map(|i| format!("s:{i}")));
                keys.extend(source_id.iter().map(|s| format!("ss:{s}")));
            }
            ItemRef::Collection { id } => keys.push(format!("c:{id}")),
        }
        keys
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
    pub collections: Vec<u32>,
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
            ItemRef::Sku { id, source_id } => {
                Self::eq(id, &self.sku_id) || Self::eq(source_id, &self.sku_source_id)
            }
            ItemRef::Collection { id } => catalog
                .position(id)
                .is_some_and(|p| self.collections.contains(&p)),
        }
    }

    /// The keys of this line in a promotion index (products, SKUs, collections).
    pub fn index_keys(&self, catalog: &Catalog, out: &mut Vec<String>) {
        out.extend(self.product_id.iter().map(|i| format!("p:{i}")));
        out.extend(self.product_source_id.iter().map(|i| format!("ps:{i}")));
        out.extend(self.sku_id.iter().map(|i| format!("s:{i}")));
        out.extend(self.sku_source_id.iter().map(|i| format!("ss:{i}")));
        out.extend(
            self.collections
                .iter()
                .map(|&c| format!("c:{}", catalog.collections[c as usize].id)),
        );
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

/// The project's product collections, so carts can tell which lines belong to which.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    collections: Vec<Collection>,
    by_id: HashMap<String, u32>,
}

impl Catalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a static collection.
    pub fn add_static(&mut self, id: impl Into<String>, members: Vec<ItemRef>) {
        self.push(Collection {
            id: id.into(),
            members: CollectionMembers::Static(members),
        });
    }

    /// Adds an auto-update collection from its wire filter.
    pub fn add_filter(
        &mut self,
        id: impl Into<String>,
        filter: &Value,
    ) -> Result<(), DefinitionError> {
        let filter = Filter::compile(filter, "filter")?;
        self.push(Collection {
            id: id.into(),
            members: CollectionMembers::Filter(filter),
        });
        Ok(())
    }

    fn push(&mut self, c: Collection) {
        let pos = self.collections.len() as u32;
        self.by_id.insert(c.id.clone(), pos);
        self.collections.push(c);
    }

    pub fn position(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.collections.is_empty()
    }

    /// Fills `identity.collections` with the collections the line belongs to.
    pub fn resolve(
        &self,
        identity: &mut LineIdentity<'_>,
        facts: &ProductFacts<'_>,
        clock: &Clock,
    ) {
        for (pos, c) in self.collections.iter().enumerate() {
            let member = match &c.members {
                CollectionMembers::Static(refs) => refs.iter().any(|r| identity.matches(r, self)),
                CollectionMembers::Filter(f) => {
                    f.matches(|field| product_field(facts, field), clock)
                }
            };
            if member {
                identity.collections.push(pos as u32);
            }
        }
    }
}

fn product_field<'a>(facts: &ProductFacts<'a>, field: &str) -> Operand<'a> {
    match field {
        "name" => facts
            .name
            .map_or(Operand::Missing, |n| Operand::Text(Cow::Borrowed(n))),
        "price" => facts.price.map_or(Operand::Missing, Operand::Num),
        "source_id" => facts
            .source_id
            .map_or(Operand::Missing, |n| Operand::Text(Cow::Borrowed(n))),
        "id" => facts
            .id
            .map_or(Operand::Missing, |n| Operand::Text(Cow::Borrowed(n))),
        other => match other.strip_prefix("metadata.") {
            Some(key) => Operand::from_json(facts.metadata.and_then(|m| m.get(key))),
            None => Operand::Missing,
        },
    }
}
