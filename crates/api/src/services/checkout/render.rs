//! Wire shapes of checkout responses (reference §2.4, §3.2–§3.6, §11.1).

use crate::wire::strip_nulls;
use promo_engine::ItemRef;
use promo_engine::bundle::BundleMatch;
use promo_engine::cart::{ItemTotals, OrderTotals};
use promo_engine::redeemable::{Benefit, Category, Redeemable, Rejection};
use promo_engine::rules::Failure;
use promo_engine::stacking::{Applied, Outcome, RedeemableResult};
use promo_engine::{Order, StackingRules};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value, json};

/// `OrderCalculated`: the request's order with the engine's totals, as a JSON value.
pub fn order(order: &Order, totals: &OrderTotals, identity: &OrderIdentity) -> Value {
    serde_json::to_value(OrderOut { order, totals, identity, redemptions: OrderRedemptions::None }).unwrap_or_default()
}

/// A value's JSON text, to store and to answer with (serialized once, never parsed back).
pub fn raw<T: Serialize + ?Sized>(v: &T) -> Box<serde_json::value::RawValue> {
    serde_json::value::to_raw_value(v).expect("documents serialize: string keys, finite numbers")
}

/// A redemption object: its fields and its order (serialized in one pass).
#[derive(serde::Serialize)]
pub struct WithOrder<'a, F: Serialize + ?Sized> {
    #[serde(flatten)]
    pub fields: &'a F,
    pub order: &'a serde_json::value::RawValue,
}

/// `OrderCalculated`, serialized straight from the request and the totals: responses that carry
/// many orders (a qualification's entries) skip building a JSON tree for each. Absent fields
/// are left out, as everywhere in responses.
pub struct OrderOut<'a> {
    pub order: &'a Order,
    pub totals: &'a OrderTotals,
    pub identity: &'a OrderIdentity,
    pub redemptions: OrderRedemptions<'a>,
}

/// An order's map of the redemptions that used it, as a response shows it.
#[derive(Clone, Copy)]
pub enum OrderRedemptions<'a> {
    /// An order not stored (a validation's, a qualification's): `null`.
    None,
    /// A redemption's own order: left out, as the map grows with every reuse of the order (the
    /// response's top-level order and the stored order carry it).
    LeftOut,
    Map(&'a Map<String, Value>),
}

impl Serialize for OrderOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (order, t, identity) = (self.order, self.totals, self.identity);
        let mut m = s.serialize_map(None)?;
        let text = [
            ("id", identity.id.as_ref()),
            ("source_id", identity.source_id.as_ref().or(order.source_id.as_ref())),
            ("status", identity.status.as_ref().or(order.status.as_ref())),
        ];
        // documented nulls: an order not stored (a validation's) has no id or dates
        for (k, v) in text {
            m.serialize_entry(k, &v)?;
        }
        m.serialize_entry("created_at", &identity.created_at)?;
        m.serialize_entry("updated_at", &None::<String>)?;
        for (k, v) in [
            ("amount", t.amount),
            ("initial_amount", t.initial_amount),
            ("discount_amount", t.discount_amount),
            ("items_discount_amount", t.items_discount_amount),
            ("total_discount_amount", t.total_discount_amount),
            ("total_amount", t.total_amount),
            ("applied_discount_amount", t.applied_discount_amount),
            ("items_applied_discount_amount", t.items_applied_discount_amount),
            ("total_applied_discount_amount", t.total_applied_discount_amount),
        ] {
            m.serialize_entry(k, &v)?;
        }
        // our extension, when the order carries them
        for (k, v) in [("shipping_amount", order.shipping_amount), ("tax_amount", order.tax_amount)] {
            if let Some(v) = v {
                m.serialize_entry(k, &v)?;
            }
        }
        m.serialize_entry("items", &ItemsOut { order, items: &t.items })?;
        m.serialize_entry("metadata", &order.metadata)?;
        if let Some(c) = &identity.customer_id {
            m.serialize_entry("customer_id", c)?;
            m.serialize_entry("customer", &json!({"id": c, "object": "customer"}))?;
        }
        match self.redemptions {
            OrderRedemptions::None => m.serialize_entry("redemptions", &())?,
            OrderRedemptions::LeftOut => {}
            OrderRedemptions::Map(map) => m.serialize_entry("redemptions", map)?,
        }
        m.serialize_entry("object", "order")?;
        m.end()
    }
}

struct ItemsOut<'a> {
    order: &'a Order,
    items: &'a [promo_engine::cart::ItemTotals],
}

impl Serialize for ItemsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.items.len()))?;
        for t in self.items {
            seq.serialize_element(&ItemOut { order: self.order, t })?;
        }
        seq.end()
    }
}

struct ItemOut<'a> {
    order: &'a Order,
    t: &'a promo_engine::cart::ItemTotals,
}

impl Serialize for ItemOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.t;
        let mut m = s.serialize_map(None)?;
        match t.request_index.and_then(|i| self.order.items.get(i)) {
            Some(item) => {
                for (k, v) in [
                    ("sku_id", &item.sku_id),
                    ("product_id", &item.product_id),
                    ("source_id", &item.source_id),
                    ("related_object", &item.related_object),
                ] {
                    m.serialize_entry(k, v)?;
                }
                m.serialize_entry("product", &item.product)?;
                m.serialize_entry("sku", &item.sku)?;
                m.serialize_entry("metadata", &item.metadata)?;
            }
            None => {
                let added = t.added.as_ref();
                m.serialize_entry("product_id", &added.and_then(|a| a.product_id.as_ref()))?;
                m.serialize_entry("sku_id", &added.and_then(|a| a.sku_id.as_ref()))?;
                m.serialize_entry("source_id", &None::<String>)?;
                let related = if added.is_some_and(|a| a.sku_id.is_some()) { "sku" } else { "product" };
                m.serialize_entry("related_object", related)?;
                let product = added.and_then(|a| a.name.as_ref()).map(|name| json!({"name": name}));
                m.serialize_entry("product", &product)?;
                m.serialize_entry("sku", &None::<Value>)?;
            }
        }
        for (k, v) in [
            ("quantity", t.quantity),
            ("initial_quantity", t.initial_quantity),
            ("discount_quantity", t.discount_quantity),
            ("applied_discount_quantity", t.applied_discount_quantity),
            ("price", t.price),
            ("amount", t.amount),
            ("initial_amount", t.initial_amount),
            ("discount_amount", t.discount_amount),
            ("applied_discount_amount", t.applied_discount_amount),
            ("subtotal_amount", t.subtotal_amount),
        ] {
            m.serialize_entry(k, &v)?;
        }
        // what a unit discount added to (or took from) the line; null when it changed nothing
        let changed = t.initial_quantity != t.quantity;
        m.serialize_entry("applied_quantity", &changed.then(|| t.quantity - t.initial_quantity))?;
        let applied_amount = changed.then(|| t.amount - t.initial_amount);
        m.serialize_entry("applied_quantity_amount", &applied_amount)?;
        // lines are not stored as objects of their own: they have no id
        m.serialize_entry("id", &None::<String>)?;
        m.serialize_entry("object", "order_item")?;
        m.end()
    }
}

/// What is known of an order beyond the request: its stored id, status, customer.
#[derive(Debug, Clone, Default)]
pub struct OrderIdentity {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub status: Option<String>,
    pub customer_id: Option<String>,
    /// When a stored order was first written (none for a validation's order).
    pub created_at: Option<String>,
}

pub fn categories(list: &[Category], rules: &StackingRules) -> Value {
    Value::Array(
        list.iter()
            .map(|c| {
                let kind = if rules.exclusive_categories.contains(&c.id) {
                    Some("EXCLUSIVE")
                } else if rules.joint_categories.contains(&c.id) {
                    Some("JOINT")
                } else {
                    None
                };
                strip_nulls(json!({"id": c.id, "name": c.name, "hierarchy": c.hierarchy, "object": "category",
                                   "created_at": c.created_at.map(crate::wire::timestamp),
                                   "stacking_rules_type": kind}))
            })
            .collect(),
    )
}

/// A list object as `applicable_to` answers it.
pub fn list(data: Vec<Value>) -> Value {
    json!({"total": data.len(), "data": data, "data_ref": "data", "object": "list"})
}

fn item_ref_fields(r: &ItemRef) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("object".into(), json!(r.object()));
    match r {
        ItemRef::Product { id, source_id } | ItemRef::Sku { id, source_id } => {
            if let Some(id) = id {
                o.insert("id".into(), json!(id));
            }
            if let Some(s) = source_id {
                o.insert("source_id".into(), json!(s));
            }
        }
        ItemRef::Collection { id } => {
            o.insert("id".into(), json!(id));
        }
    }
    o
}

/// `applicable_to` / `inapplicable_to` of an applied redeemable: what its discount reached —
/// each `applicable_to` entry that reached a line, with the request's line positions
/// (`order_item_indices`), and each line reached without an entry naming it (an item-level
/// discount over the whole cart, or a free item) — and the entries it excluded.
pub fn reach_entries(
    red: Option<&Redeemable>,
    applied: &Applied,
    order: &Order,
    items: &[ItemTotals],
) -> (Vec<Value>, Vec<Value>) {
    let targets = red.and_then(|r| r.rules.as_ref()).and_then(|s| s.applicable_to.as_ref());
    let reached = applied.item_discounts.iter().filter(|l| l.amount > 0 || l.free_units > 0);
    let mut by_target: Vec<(usize, Vec<i64>, i64)> = Vec::new();
    let mut data = Vec::new();
    for l in reached {
        let index = items.get(l.line).and_then(|i| i.request_index);
        match (l.target, targets) {
            (Some(t), Some(a)) if t < a.included.len() => match by_target.iter_mut().find(|(k, _, _)| *k == t) {
                Some((_, indices, units)) => {
                    indices.extend(index.map(|i| i as i64));
                    *units += l.units;
                }
                None => by_target.push((t, index.map(|i| i as i64).into_iter().collect(), l.units)),
            },
            _ => {
                // the line itself: its SKU, else its product
                let line = items.get(l.line);
                let request_item = index.and_then(|i| order.items.get(i));
                let added = line.and_then(|i| i.added.as_ref());
                let sku = request_item.and_then(|i| i.sku_id.clone()).or(added.and_then(|a| a.sku_id.clone()));
                let product =
                    request_item.and_then(|i| i.product_id.clone()).or(added.and_then(|a| a.product_id.clone()));
                let source = request_item
                    .and_then(|i| i.source_id.clone())
                    .or(added.and_then(|a| a.sku_source_id.clone().or(a.product_source_id.clone())));
                let mut o = Map::new();
                o.insert("object".into(), json!(if sku.is_some() { "sku" } else { "product" }));
                if let Some(id) = sku.clone().or(product.clone()) {
                    o.insert("id".into(), json!(id));
                }
                if let Some(s) = source {
                    o.insert("source_id".into(), json!(s));
                }
                if sku.is_some()
                    && let Some(p) = product
                {
                    o.insert("product_id".into(), json!(p));
                }
                o.insert("effect".into(), json!("APPLY_TO_EVERY"));
                o.insert("quantity_limit".into(), json!(l.units));
                o.insert("order_item_indices".into(), json!(index.into_iter().collect::<Vec<_>>()));
                data.push(Value::Object(o));
            }
        }
    }
    if let Some(a) = targets {
        by_target.sort_by_key(|(t, _, _)| *t);
        let entries = by_target.into_iter().map(|(t, mut indices, _)| {
            let target = &a.included[t];
            let mut o = item_ref_fields(&target.item);
            o.insert("effect".into(), json!(target.effect.as_str()));
            let limits = [
                ("quantity_limit", target.quantity_limit),
                ("aggregated_quantity_limit", target.aggregated_quantity_limit),
                ("amount_limit", target.amount_limit.map(promo_engine::money::to_wire)),
                ("aggregated_amount_limit", target.aggregated_amount_limit.map(promo_engine::money::to_wire)),
                ("price", target.price.map(promo_engine::money::to_wire)),
            ];
            for (k, v) in limits {
                if let Some(v) = v {
                    o.insert(k.into(), json!(v));
                }
            }
            if target.cadence != Default::default() {
                o.insert("repeat".into(), json!(target.cadence.repeat));
                o.insert("skip_initially".into(), json!(target.cadence.skip_initially));
                o.insert("target".into(), json!(if target.cadence.per_item { "ITEM" } else { "UNIT" }));
            }
            indices.sort_unstable();
            indices.dedup();
            o.insert("order_item_indices".into(), json!(indices));
            Value::Object(o)
        });
        data.splice(0..0, entries);
    }
    let excluded = targets
        .map(|a| {
            a.excluded
                .iter()
                .map(|r| {
                    let mut o = item_ref_fields(r);
                    o.insert("effect".into(), json!("APPLY_TO_EVERY"));
                    Value::Object(o)
                })
                .collect()
        })
        .unwrap_or_default();
    (data, excluded)
}

/// `result.discount` (or `gift`) of an applicable redeemable.
pub fn benefit(r: &Redeemable, gift: Option<(i64, i64)>) -> Value {
    match &r.benefit {
        Benefit::Discount(d) => {
            let mut v = strip_nulls(serde_json::to_value(&d.def).unwrap_or_default());
            if let Some(o) = v.as_object_mut() {
                if let Some(effect) = r.effect() {
                    o.entry("effect").or_insert_with(|| serde_json::to_value(effect).unwrap_or_default());
                }
                o.insert("is_dynamic".into(), json!(d.is_dynamic()));
            }
            json!({"discount": v})
        }
        Benefit::Gift { .. } => {
            let (credits, balance) = gift.unwrap_or_default();
            json!({"gift": {"credits": credits, "balance": balance}})
        }
        Benefit::LoyaltyCard { points } => json!({"loyalty_card": {"points": points}}),
    }
}

/// The stacked error object of an inapplicable redeemable (reference §2.4).
pub fn rejection_error(id: &str, object: &str, rejection: &Rejection, request_id: Option<&str>) -> Value {
    let key = rejection.key;
    let not_found = key == promo_engine::ErrorKey::NotFound;
    strip_nulls(json!({
        "code": key.code(),
        "key": key.as_str(),
        "message": key.message(),
        "details": if not_found { format!("Cannot find {object} with id {id}") } else { rejection.details.clone() },
        "request_id": request_id,
        "resource_id": id,
        "resource_type": object,
        "error": rejection.rule_message.as_ref().map(|m| json!({"message": m})),
    }))
}

/// What the cart holds of a bundle (Voucherify's `Bundle`); `missing` only while no bundle is
/// complete, as documented.
pub fn bundle(b: &BundleMatch) -> Value {
    let mut out = json!({"quantity": b.quantity, "limit": b.limit, "identified": b.identified});
    if !b.missing.is_empty() {
        out["missing"] = json!(b.missing);
    }
    out
}

/// The guardrails that made a discount smaller, with the request's item they concern.
pub fn guardrails(notes: &[promo_engine::guardrails::GuardNote], items: &[ItemTotals]) -> Value {
    Value::Array(
        notes
            .iter()
            .map(|n| {
                strip_nulls(json!({
                    "reason": n.reason,
                    "order_item_index": n.line.and_then(|l| items.get(l)).and_then(|t| t.request_index),
                    "amount": n.amount,
                }))
            })
            .collect(),
    )
}

/// What is missing for a rule to pass ("order.amount needs +1250").
pub fn failures(list: &[Failure]) -> Value {
    Value::Array(
        list.iter()
            .map(|f| {
                strip_nulls(json!({
                    "rule": f.rule_key,
                    "name": f.rule,
                    "key": f.key.as_str(),
                    "message": f.message,
                    "missing": f.shortfall.as_ref().map(|s| json!({
                        "metric": s.metric, "target": s.target, "needed": s.needed, "text": s.to_string()
                    })),
                }))
            })
            .collect(),
    )
}

/// One redeemable of a validation or redemption response.
pub struct RedeemableView<'a> {
    pub result: &'a RedeemableResult<'a>,
    /// The request's order and the evaluation's final items (to say which lines a discount reached).
    pub order: &'a Order,
    pub items: &'a [ItemTotals],
    pub rules: &'a StackingRules,
    pub request_id: Option<&'a str>,
    pub expand_order: Option<Value>,
}

pub fn redeemable(v: RedeemableView<'_>) -> Value {
    let r = v.result;
    let object = r.object.as_str();
    let mut out = json!({"status": r.outcome.status(), "id": r.id, "object": object});
    let o = out.as_object_mut().expect("object");
    match &r.outcome {
        Outcome::Applicable(applied) => {
            if let Some(order) = v.expand_order {
                o.insert("order".into(), order);
            }
            let (applicable, inapplicable) = reach_entries(r.redeemable, applied, v.order, v.items);
            o.insert("applicable_to".into(), list(applicable));
            o.insert("inapplicable_to".into(), list(inapplicable));
            let mut result = r.redeemable.map(|red| benefit(red, applied.gift)).unwrap_or_else(|| json!({}));
            if let (Some(b), Some(res)) = (&applied.bundle, result.as_object_mut()) {
                res.insert("bundle".into(), bundle(b));
            }
            if let (false, Some(res)) = (applied.guardrails.is_empty(), result.as_object_mut()) {
                res.insert("guardrails".into(), guardrails(&applied.guardrails, v.items));
            }
            o.insert("result".into(), result);
        }
        Outcome::Inapplicable(rejection) => {
            let error = rejection_error(&r.id, object, rejection, v.request_id);
            let message = rejection.rule_message.clone().unwrap_or_else(|| rejection.key.message().to_owned());
            let mut result = json!({"error": error, "details": {"key": rejection.key.as_str(), "message": message},
                   "failures": failures(&rejection.failures)});
            if let Some(b) = rejection.bundle.as_deref() {
                result["bundle"] = bundle(b);
            }
            o.insert("result".into(), result);
        }
        Outcome::Skipped(reason) => {
            let result = match (reason.key(), reason.message()) {
                (Some(k), Some(m)) => json!({"details": {"key": k, "message": m}}),
                _ => json!({}),
            };
            o.insert("result".into(), result);
        }
    }
    let (metadata, categories_v) = match r.redeemable {
        Some(red) => (Value::Object(red.metadata.clone()), categories(&red.categories, v.rules)),
        None => (json!({}), json!([])),
    };
    o.insert("metadata".into(), metadata);
    o.insert("categories".into(), categories_v);
    // always (Voucherify documents them; it sends them with `expand: ["redeemable"]`)
    if let Some(red) = r.redeemable {
        o.insert("campaign_name".into(), json!(red.campaign_name));
        o.insert("campaign_id".into(), json!(red.campaign_id));
        o.insert("name".into(), json!(red.name));
    }
    out
}
