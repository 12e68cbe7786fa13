//! Bundles (`bundle_rules` of a validation rule): how many complete bundles a cart holds, which
//! of its lines make them up, and what is missing for the first one.
//!
//! A bundle is a list of components, each "k units of any of these products, SKUs or
//! collections". A cart unit counts towards one component of one bundle only, so the number of
//! bundles is the largest `q` for which every component can get `k × q` distinct units — a
//! transportation problem, solved exactly with a max flow (a greedy pass can miss bundles when
//! a line could feed two components). The count, capped by `limit`, multiplies the discount.

use crate::cart::Cart;
use crate::catalog::{Catalog, ItemRef};
use crate::error::{DefinitionError, DefinitionErrorKind};
use crate::logic::Logic;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::VecDeque;

/// Most bundles counted in one order (Voucherify's maximum `limit`).
pub const MAX_BUNDLES: i64 = 100;
/// Most components in one bundle.
pub const MAX_COMPONENTS: usize = 20;
/// Most units of one component in one bundle.
pub const MAX_COMPONENT_QUANTITY: i64 = 1000;

/// One component: `quantity` units of any of `refs`.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleComponent {
    /// The rule's key (`"1"`).
    pub key: String,
    pub refs: Vec<ItemRef>,
    pub quantity: i64,
    pub message: Option<String>,
}

/// A compiled `bundle_rules`.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleRules {
    pub components: Vec<BundleComponent>,
    /// The most bundles counted (`null`: up to [`MAX_BUNDLES`]).
    pub limit: Option<i64>,
}

/// A cart line that makes up the bundles found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleItem {
    /// Position of the line in the cart.
    #[serde(skip)]
    pub line: usize,
    pub id: String,
    pub object: &'static str,
    pub item_index: usize,
    pub item_quantity: i64,
}

/// A component the cart lacks for its first bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleMissing {
    /// Position of the component in [`BundleRules::components`].
    #[serde(skip)]
    pub component: usize,
    pub id: String,
    pub object: &'static str,
    pub item_quantity: i64,
}

/// What a cart holds of a bundle (Voucherify's `result.bundle`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleMatch {
    /// Complete bundles found, at most the limit: the discount's multiplier.
    pub quantity: i64,
    pub limit: Option<i64>,
    pub identified: Vec<BundleItem>,
    /// Empty once a bundle is complete.
    pub missing: Vec<BundleMissing>,
}

fn invalid(path: impl Into<String>, problem: impl Into<String>) -> DefinitionError {
    DefinitionError::new(path, DefinitionErrorKind::Invalid(problem.into()))
}

fn only_fields(obj: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<(), DefinitionError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(format!("{path}.{k}"), format!("is not read here (one of {})", allowed.join(", ")))),
        None => Ok(()),
    }
}

/// `1 and 2 and …` over every key, in any order and grouping: the only logic bundles have.
fn conjunction_of_all(l: &Logic, n: usize) -> bool {
    fn only_and(l: &Logic) -> bool {
        match l {
            Logic::Rule(_) => true,
            Logic::And(parts) => parts.iter().all(only_and),
            Logic::Or(parts) => parts.len() == 1 && only_and(&parts[0]),
            Logic::Not(_) => false,
        }
    }
    let mut seen = Vec::new();
    l.required(&mut seen);
    seen.sort_unstable();
    seen.dedup();
    only_and(l) && seen == (0..n).collect::<Vec<_>>()
}

fn one_positive_integer(v: &Value, path: &str) -> Result<i64, DefinitionError> {
    let n = match v {
        Value::Array(a) if a.len() == 1 => a[0].as_i64(),
        other => other.as_i64(),
    };
    n.filter(|n| (1..=MAX_COMPONENT_QUANTITY).contains(n)).ok_or_else(|| {
        invalid(path, format!("must be one whole number of units between 1 and {MAX_COMPONENT_QUANTITY}"))
    })
}

/// The units a component needs per bundle, from its nested quantity rule (1 without one).
fn component_quantity(rules: Option<&Value>, path: &str) -> Result<i64, DefinitionError> {
    let Some(rules) = rules.filter(|r| !r.is_null()) else { return Ok(1) };
    let map = rules.as_object().ok_or_else(|| invalid(path, "must be an object"))?;
    let keys: Vec<&String> = map.keys().filter(|k| k.as_str() != "logic").collect();
    match map.get("logic") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if keys.len() == 1 && s.trim() == keys[0].as_str() => {}
        Some(_) => return Err(invalid(format!("{path}.logic"), "a bundle item has one quantity rule, so no logic")),
    }
    match keys.as_slice() {
        [] => Ok(1),
        [key] => {
            let rule_path = format!("{path}.{key}");
            let rule = map[key.as_str()].as_object().ok_or_else(|| invalid(&rule_path, "must be an object"))?;
            only_fields(rule, &["name", "conditions", "error"], &rule_path)?;
            match rule.get("name").and_then(Value::as_str) {
                Some("order.items.quantity" | "order.items.aggregated_quantity") => {}
                Some(other) => {
                    return Err(DefinitionError::new(
                        format!("{rule_path}.name"),
                        DefinitionErrorKind::Invalid(format!(
                            "`{other}` is not a bundle rule: a bundle item takes `order.items.quantity` only"
                        )),
                    ));
                }
                None => return Err(DefinitionError::new(format!("{rule_path}.name"), DefinitionErrorKind::Missing)),
            }
            let conditions = rule
                .get("conditions")
                .and_then(Value::as_object)
                .ok_or_else(|| DefinitionError::new(format!("{rule_path}.conditions"), DefinitionErrorKind::Missing))?;
            let mut entries = conditions.iter();
            match (entries.next(), entries.next()) {
                (Some((op, v)), None) => {
                    let cpath = format!("{rule_path}.conditions.{op}");
                    match op.as_str() {
                        "$is" | "$more_than_or_equal" => one_positive_integer(v, &cpath),
                        // more than n units: n + 1 per bundle
                        "$more_than" => {
                            match v.as_array().and_then(|a| a.first()).or(Some(v)).and_then(Value::as_i64) {
                                Some(0) => Ok(1),
                                _ => one_positive_integer(v, &cpath).map(|n| n + 1),
                            }
                        }
                        _ => Err(invalid(
                            &cpath,
                            "a bundle quantity takes `$is`, `$more_than_or_equal` or `$more_than` (units per bundle)",
                        )),
                    }
                }
                _ => Err(invalid(format!("{rule_path}.conditions"), "needs exactly one condition")),
            }
        }
        _ => Err(invalid(path, "a bundle item has one quantity rule")),
    }
}

fn component_refs(conditions: Option<&Value>, path: &str) -> Result<Vec<ItemRef>, DefinitionError> {
    let conditions = conditions
        .and_then(Value::as_object)
        .ok_or_else(|| DefinitionError::new(path, DefinitionErrorKind::Missing))?;
    only_fields(conditions, &["$is"], path)?;
    let list = conditions
        .get("$is")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid(format!("{path}.$is"), "must list the products, SKUs or collections of the item"))?;
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let p = format!("{path}.$is.{i}");
            let obj = v.as_object().ok_or_else(|| invalid(&p, "must be an object with id and object"))?;
            only_fields(obj, &["id", "source_id", "type", "object"], &p)?;
            let object = obj.get("object").and_then(Value::as_str);
            let kind_ok = matches!(
                (obj.get("type").and_then(Value::as_str), object),
                (None, _)
                    | (Some("product_or_sku"), Some("product" | "sku"))
                    | (Some("products_collection"), Some("products_collection"))
            );
            if !matches!(object, Some("product" | "sku" | "products_collection")) {
                return Err(invalid(format!("{p}.object"), "must be product, sku or products_collection"));
            }
            if !kind_ok {
                return Err(invalid(
                    format!("{p}.type"),
                    "must be product_or_sku for products and SKUs, products_collection for collections",
                ));
            }
            if obj.get("id").and_then(Value::as_str).is_none() && obj.get("source_id").and_then(Value::as_str).is_none()
            {
                return Err(DefinitionError::new(format!("{p}.id"), DefinitionErrorKind::Missing));
            }
            ItemRef::from_json(v).ok_or_else(|| DefinitionError::new(format!("{p}.id"), DefinitionErrorKind::Missing))
        })
        .collect()
}

impl BundleRules {
    /// Compiles `bundle_rules`; `null` and `{}` mean no bundle. Errors name the path.
    pub fn compile(raw: Option<&Value>, path: &str) -> Result<Option<BundleRules>, DefinitionError> {
        let map = match raw {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(m)) if m.is_empty() => return Ok(None),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(invalid(path, "must be an object")),
        };
        let limit = match map.get("limit") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_i64().filter(|n| (1..=MAX_BUNDLES).contains(n)).ok_or_else(|| {
                invalid(format!("{path}.limit"), format!("must be a whole number between 1 and {MAX_BUNDLES}"))
            })?),
        };
        let mut keys: Vec<&String> = map.keys().filter(|k| !matches!(k.as_str(), "limit" | "logic")).collect();
        keys.sort_by_key(|k| (k.parse::<u64>().unwrap_or(u64::MAX), (*k).clone()));
        if keys.is_empty() {
            return Err(invalid(
                path,
                "needs at least one numbered bundle item (`\"1\": {\"name\": \"order.items.any\", …}`)",
            ));
        }
        if keys.len() > MAX_COMPONENTS {
            return Err(invalid(path, format!("has more than {MAX_COMPONENTS} bundle items")));
        }
        if let Some(k) = keys.iter().find(|k| k.parse::<u64>().is_err()) {
            return Err(invalid(format!("{path}.{k}"), "is not a bundle field (limit, logic, or a numbered item)"));
        }
        match map.get("logic") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                let l = Logic::parse(s, |k| keys.iter().position(|x| x.as_str() == k)).map_err(|problem| {
                    DefinitionError::new(
                        format!("{path}.logic"),
                        DefinitionErrorKind::MalformedLogic { logic: s.clone(), problem },
                    )
                })?;
                if !conjunction_of_all(&l, keys.len()) {
                    return Err(invalid(format!("{path}.logic"), "a bundle needs every item: only `1 and 2 and …`"));
                }
            }
            Some(_) => return Err(invalid(format!("{path}.logic"), "must be a string")),
        }
        let components = keys
            .iter()
            .map(|key| {
                let p = format!("{path}.{key}");
                let obj = map[key.as_str()].as_object().ok_or_else(|| invalid(&p, "must be an object"))?;
                only_fields(obj, &["name", "conditions", "rules", "error"], &p)?;
                match obj.get("name").and_then(Value::as_str) {
                    Some("order.items.any") => {}
                    Some(other) => {
                        return Err(invalid(
                            format!("{p}.name"),
                            format!("`{other}` is not a bundle rule: bundle items are `order.items.any`"),
                        ));
                    }
                    None => return Err(DefinitionError::new(format!("{p}.name"), DefinitionErrorKind::Missing)),
                }
                let message = match obj.get("error") {
                    None | Some(Value::Null) => None,
                    Some(Value::Object(e)) => {
                        only_fields(e, &["message"], &format!("{p}.error"))?;
                        e.get("message").and_then(Value::as_str).map(str::to_owned)
                    }
                    Some(_) => {
                        return Err(invalid(format!("{p}.error"), "must be an object like {\"message\": \"…\"}"));
                    }
                };
                Ok(BundleComponent {
                    key: (*key).clone(),
                    refs: component_refs(obj.get("conditions"), &format!("{p}.conditions"))?,
                    quantity: component_quantity(obj.get("rules"), &format!("{p}.rules"))?,
                    message,
                })
            })
            .collect::<Result<Vec<_>, DefinitionError>>()?;
        Ok(Some(BundleRules { components, limit }))
    }

    /// The most bundles that count.
    pub fn cap(&self) -> i64 {
        self.limit.unwrap_or(MAX_BUNDLES)
    }

    /// Finds the complete bundles in the lines the customer sent (units added by discounts do
    /// not make bundles).
    pub fn identify(&self, cart: &Cart<'_>, catalog: &Catalog) -> BundleMatch {
        // SKU components take their units first, then product ones, then collections.
        let rank = |c: &BundleComponent| {
            c.refs
                .iter()
                .map(|r| match r {
                    ItemRef::Sku { .. } => 0,
                    ItemRef::Product { .. } => 1,
                    ItemRef::Collection { .. } => 2,
                })
                .min()
                .unwrap_or(2)
        };
        let mut order: Vec<usize> = (0..self.components.len()).collect();
        order.sort_by_key(|&c| (rank(&self.components[c]), c));
        let mut lines: Vec<Supply> = cart
            .lines
            .iter()
            .enumerate()
            .filter_map(|(position, line)| {
                let index = line.request_index?;
                let feeds: Vec<usize> = order
                    .iter()
                    .copied()
                    .filter(|&c| self.components[c].refs.iter().any(|r| line.identity.matches(r, catalog)))
                    .collect();
                if feeds.is_empty() {
                    return None;
                }
                let (id, object) = match (&line.identity.sku_id, &line.identity.sku_source_id) {
                    (Some(id), _) | (None, Some(id)) => (id.to_string(), "sku"),
                    _ => (
                        line.identity
                            .product_id
                            .as_deref()
                            .or(line.identity.product_source_id.as_deref())
                            .unwrap_or_default()
                            .to_owned(),
                        "product",
                    ),
                };
                Some(Supply { line: position, index, units: line.initial_quantity, feeds, id, object })
            })
            .collect();
        // Dearer units are routed first, so a bundle price (FIXED) takes the units whose
        // regular price is highest — the shopper's best deal.
        lines.sort_by(|a, b| cart.lines[b.line].price.cmp(&cart.lines[a.line].price).then(a.index.cmp(&b.index)));
        // An upper bound: no component can be served more often than its matching units allow.
        let mut high = self.cap();
        for (c, comp) in self.components.iter().enumerate() {
            let available: i64 = lines.iter().filter(|l| l.feeds.contains(&c)).map(|l| l.units).sum();
            high = high.min(available / comp.quantity);
        }
        let mut low = 0;
        while low < high {
            let mid = low + (high - low + 1) / 2;
            if self.flow(&lines, mid).complete {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        let quantity = low;
        let shown = self.flow(&lines, quantity.max(1));
        let mut identified = Vec::new();
        let mut missing = Vec::new();
        if quantity > 0 {
            for (l, used) in lines.iter().zip(&shown.used) {
                if *used > 0 {
                    identified.push(BundleItem {
                        line: l.line,
                        id: l.id.clone(),
                        object: l.object,
                        item_index: l.index,
                        item_quantity: *used,
                    });
                }
            }
            identified.sort_by_key(|i| i.item_index);
        } else {
            for (component, (comp, got)) in self.components.iter().zip(&shown.served).enumerate() {
                let short = comp.quantity - got;
                if short > 0 {
                    let first = &comp.refs[0];
                    missing.push(BundleMissing {
                        component,
                        id: first.label().to_owned(),
                        object: first.object(),
                        item_quantity: short,
                    });
                }
            }
        }
        BundleMatch { quantity, limit: self.limit, identified, missing }
    }

    /// Routes units to `bundles` bundles' worth of every component, as far as they go.
    fn flow(&self, lines: &[Supply], bundles: i64) -> Routed {
        let n_lines = lines.len();
        let source = 0;
        let sink = n_lines + self.components.len() + 1;
        let mut net = Network::new(sink + 1);
        let mut supply_edges = Vec::with_capacity(n_lines);
        for (i, l) in lines.iter().enumerate() {
            supply_edges.push(net.edge(source, 1 + i, l.units));
            for &c in &l.feeds {
                net.edge(1 + i, 1 + n_lines + c, i64::MAX / 4);
            }
        }
        let demand_edges: Vec<usize> = self
            .components
            .iter()
            .enumerate()
            .map(|(c, comp)| net.edge(1 + n_lines + c, sink, comp.quantity * bundles))
            .collect();
        let total = net.max_flow(source, sink);
        let needed: i64 = self.components.iter().map(|c| c.quantity * bundles).sum();
        Routed {
            complete: total == needed,
            used: supply_edges.iter().map(|&e| net.flow(e)).collect(),
            served: demand_edges.iter().map(|&e| net.flow(e)).collect(),
        }
    }
}

/// A cart line that can feed components.
struct Supply {
    line: usize,
    index: usize,
    units: i64,
    /// Components it matches, most specific first.
    feeds: Vec<usize>,
    id: String,
    object: &'static str,
}

struct Routed {
    complete: bool,
    /// Units taken from each line.
    used: Vec<i64>,
    /// Units each component received.
    served: Vec<i64>,
}

/// A small max-flow network (Dinic's algorithm); edges come in pairs, forward then back.
struct Network {
    adj: Vec<Vec<usize>>,
    to: Vec<usize>,
    cap: Vec<i64>,
    initial: Vec<i64>,
}

impl Network {
    fn new(nodes: usize) -> Self {
        Network { adj: vec![Vec::new(); nodes], to: Vec::new(), cap: Vec::new(), initial: Vec::new() }
    }

    fn edge(&mut self, from: usize, to: usize, cap: i64) -> usize {
        let e = self.to.len();
        self.adj[from].push(e);
        self.to.push(to);
        self.cap.push(cap);
        self.initial.push(cap);
        self.adj[to].push(e + 1);
        self.to.push(from);
        self.cap.push(0);
        self.initial.push(0);
        e
    }

    fn flow(&self, e: usize) -> i64 {
        self.initial[e] - self.cap[e]
    }

    fn max_flow(&mut self, source: usize, sink: usize) -> i64 {
        let n = self.adj.len();
        let mut total = 0;
        loop {
            let mut level = vec![-1i64; n];
            level[source] = 0;
            let mut queue = VecDeque::from([source]);
            while let Some(v) = queue.pop_front() {
                for &e in &self.adj[v] {
                    if self.cap[e] > 0 && level[self.to[e]] < 0 {
                        level[self.to[e]] = level[v] + 1;
                        queue.push_back(self.to[e]);
                    }
                }
            }
            if level[sink] < 0 {
                return total;
            }
            let mut next = vec![0usize; n];
            loop {
                let pushed = self.push(source, sink, i64::MAX, &level, &mut next);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
    }

    fn push(&mut self, v: usize, sink: usize, limit: i64, level: &[i64], next: &mut [usize]) -> i64 {
        if v == sink {
            return limit;
        }
        while next[v] < self.adj[v].len() {
            let e = self.adj[v][next[v]];
            let w = self.to[e];
            if self.cap[e] > 0 && level[w] == level[v] + 1 {
                let pushed = self.push(w, sink, limit.min(self.cap[e]), level, next);
                if pushed > 0 {
                    self.cap[e] -= pushed;
                    self.cap[e ^ 1] += pushed;
                    return pushed;
                }
            }
            next[v] += 1;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_and_null_mean_no_bundle() {
        assert_eq!(BundleRules::compile(Some(&json!({})), "bundle_rules"), Ok(None));
        assert_eq!(BundleRules::compile(Some(&Value::Null), "bundle_rules"), Ok(None));
    }

    #[test]
    fn unread_fields_are_refused_with_their_path() {
        let e = BundleRules::compile(
            Some(&json!({"1": {"name": "order.items.any", "conditions": {"$in": [{"id": "prod_1", "object": "product"}]}}})),
            "bundle_rules",
        )
        .unwrap_err();
        assert_eq!(e.path, "bundle_rules.1.conditions.$in");
        let e = BundleRules::compile(
            Some(&json!({"1": {"name": "order.items.every", "conditions": {"$is": [{"id": "prod_1", "object": "product"}]}}})),
            "bundle_rules",
        )
        .unwrap_err();
        assert_eq!(e.path, "bundle_rules.1.name");
        let e = BundleRules::compile(
            Some(&json!({"limit": 0, "1": {"name": "order.items.any", "conditions": {"$is": ["prod_1"]}}})),
            "bundle_rules",
        )
        .unwrap_err();
        assert_eq!(e.path, "bundle_rules.limit");
        let e = BundleRules::compile(
            Some(&json!({"logic": "1 or 2",
                "1": {"name": "order.items.any", "conditions": {"$is": [{"id": "a", "object": "product"}]}},
                "2": {"name": "order.items.any", "conditions": {"$is": [{"id": "b", "object": "product"}]}}})),
            "bundle_rules",
        )
        .unwrap_err();
        assert_eq!(e.path, "bundle_rules.logic");
    }

    #[test]
    fn quantity_comes_from_the_nested_rule() {
        let b = BundleRules::compile(
            Some(&json!({"1": {"name": "order.items.any",
                "conditions": {"$is": [{"id": "prod_1", "type": "product_or_sku", "object": "product"}]},
                "rules": {"1": {"name": "order.items.quantity", "conditions": {"$more_than_or_equal": [3]}}}}})),
            "bundle_rules",
        )
        .unwrap()
        .unwrap();
        assert_eq!(b.components[0].quantity, 3);
    }

    #[test]
    fn the_flow_finds_bundles_a_greedy_pass_would_miss() {
        // Lines: A (feeds components 0 and 1), B (feeds 0 only). A greedy pass giving A to
        // component 0 leaves component 1 empty; the flow gives A to 1 and B to 0.
        let mut net = Network::new(6);
        let s = 0;
        let t = 5;
        net.edge(s, 1, 1);
        net.edge(s, 2, 1);
        net.edge(1, 3, 10);
        net.edge(1, 4, 10);
        net.edge(2, 3, 10);
        net.edge(3, t, 1);
        net.edge(4, t, 1);
        assert_eq!(net.max_flow(s, t), 2);
    }
}
