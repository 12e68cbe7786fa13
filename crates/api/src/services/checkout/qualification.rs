//! `POST /v1/qualifications` (reference §3.6): which promotions, stacks and wallet codes a cart
//! qualifies for, from the cached qualification index, plus the near misses ("spend 1250 more")
//! as an extension field (`near_misses`) that the SDKs ignore.
//!
//! As in Voucherify, counter-based limits are not checked here (a qualification is advice; the
//! redemption enforces them).

use super::{CustomerCtx, invalid, render};
use crate::error::ApiError;
use crate::ids;
use crate::services::definitions::{Definitions, RenderedFields};
use crate::state::AppState;
use crate::wire::strip_nulls;
use crate::wire::timestamp;
use chrono::{DateTime, Timelike, Utc};
use promo_engine::qualify::{PageKey, QualificationSorting, Scenario};
use promo_engine::redeemable::{Category, Redeemable};
use promo_engine::stacking::{Outcome, Requested, StackOptions, evaluate_stack};
use promo_engine::{Environment, NoCounters, Order, QualifyOptions, RedeemOptions};
use promo_store::projects::ProjectRow;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;

const MAX_LIMIT: i64 = 50;
const WALLET_SIZE: i64 = 200;

/// One qualifying redeemable before paging. Borrows from the definitions: a cart qualifies for
/// up to every active tier, and only a page of them is rendered.
struct Candidate<'a> {
    object: &'static str,
    id: &'a str,
    redeemable: Option<&'a Redeemable>,
    stack: Option<uuid::Uuid>,
    discount: i64,
    created_at: DateTime<Utc>,
    campaign_id: Option<&'a str>,
    categories: &'a [Category],
    campaign_type: Option<&'a str>,
}

fn values_of(c: &Value) -> Vec<String> {
    match c {
        Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `options.filters`: `{junction, <field>: {conditions: {$is|$is_not|$in|$not_in: [...]}}}`.
fn filter_matches(filters: Option<&Value>, c: &Candidate<'_>) -> Result<bool, ApiError> {
    let Some(Value::Object(f)) = filters else { return Ok(true) };
    let any = f.get("junction").and_then(Value::as_str).is_some_and(|j| j.eq_ignore_ascii_case("or"));
    let mut results = Vec::new();
    for (field, spec) in f {
        if field == "junction" {
            continue;
        }
        let text = |s: &str| std::borrow::Cow::Owned(s.to_owned());
        let have: Vec<std::borrow::Cow<'_, str>> = match field.as_str() {
            "resource_type" => vec![c.object.into()],
            "resource_id" | "code" => vec![c.id.into()],
            "campaign_id" => c.campaign_id.into_iter().map(Into::into).collect(),
            "category_id" => c.categories.iter().map(|k| k.id.as_str().into()).collect(),
            "campaign_type" => c.campaign_type.into_iter().map(Into::into).collect(),
            "voucher_type" => {
                if c.object == "voucher" {
                    vec!["DISCOUNT_VOUCHER".into()]
                } else {
                    Vec::new()
                }
            }
            "holder_role" => Vec::new(),
            other => match other.strip_prefix("metadata.").filter(|k| !k.is_empty()) {
                // the tier's or code's own metadata (a stack has none)
                Some(key) => match c.redeemable.and_then(|r| r.metadata.get(key)) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::String(s)) => vec![text(s)],
                    Some(Value::Array(a)) => {
                        a.iter().map(|v| text(&v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect()
                    }
                    Some(v) => vec![text(&v.to_string())],
                },
                None => {
                    return Err(invalid(format!("Property .options.filters.{other} is not a supported filter")));
                }
            },
        };
        let conditions = spec
            .get("conditions")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid(format!("Property .options.filters.{field}.conditions must be an object")))?;
        let mut ok = true;
        for (op, v) in conditions {
            let want = values_of(v);
            let hit = have.iter().any(|h| want.iter().any(|w| w == h.as_ref()));
            ok &= match op.as_str() {
                "$is" | "$in" => hit,
                "$is_not" | "$not_in" => !hit,
                "$has_value" => !have.is_empty(),
                "$is_unknown" => have.is_empty(),
                other => {
                    return Err(invalid(format!(
                        "Property .options.filters.{field}.conditions.{other} is not supported"
                    )));
                }
            };
        }
        results.push(ok);
    }
    Ok(if any { results.iter().any(|x| *x) || results.is_empty() } else { results.iter().all(|x| *x) })
}

/// Where a qualification page starts: entries created before `at`, and those created at `at`
/// but the first `seen` of them (by id). On the wire a date-time (clients parse it as one):
/// `at` to the microsecond, with `seen` in the nanosecond digits. A client that keeps only
/// microseconds sends `seen` 0 and gets those entries again: a page may repeat an entry,
/// never skip one.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    at: DateTime<Utc>,
    seen: usize,
}

impl Cursor {
    fn parse(s: &str) -> Result<Cursor, ApiError> {
        let t = DateTime::parse_from_rfc3339(s)
            .map_err(|_| invalid("Property .options.starting_after must be a date-time"))?
            .with_timezone(&Utc);
        let nanos = t.timestamp_subsec_nanos();
        let at = t.with_nanosecond(nanos - nanos % 1000).unwrap_or(t);
        Ok(Cursor { at, seen: (nanos % 1000) as usize })
    }

    /// The cursor after a page whose last entry was created at `at`.
    fn after(at: DateTime<Utc>, page: &[&Candidate<'_>], previous: Option<&Cursor>) -> Cursor {
        let on_page = page.iter().filter(|c| c.created_at == at).count();
        let before = previous.filter(|p| p.at == at).map_or(0, |p| p.seen);
        Cursor { at, seen: (before + on_page).min(999) }
    }

    fn render(&self) -> String {
        let at = self.at.with_nanosecond(self.at.timestamp_subsec_nanos() + self.seen as u32).unwrap_or(self.at);
        at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    }
}

/// `POST /v1/qualifications`.
pub async fn qualify(
    app: &AppState,
    project: &ProjectRow,
    conn: &mut promo_store::PgConnection,
    body: Value,
) -> Result<Vec<u8>, ApiError> {
    let req = super::StackRequest::parse(body)?;
    req.refuse_unread(true)?;
    let scenario = match req.scenario.as_deref() {
        None => Scenario::All,
        Some(name) => Scenario::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
            invalid(format!("Property .scenario must be one of {}", names.join(", ")))
        })?,
    };
    let limit = req.options.limit.unwrap_or(5);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid(format!("Property .options.limit must be within 1..={MAX_LIMIT}")));
    }
    let sorting = match req.options.sorting_rule.as_deref() {
        None => QualificationSorting::Default,
        Some(name) => QualificationSorting::parse(name).ok_or_else(|| {
            invalid(format!("Property .options.sorting_rule `{name}` must be DEFAULT, BEST_DEAL or LEAST_DEAL"))
        })?,
    };
    let starting_after = match &req.options.starting_after {
        Some(s) => Some(Cursor::parse(s)?),
        None => None,
    };
    let now = Utc::now();
    let super::Context { defs, customer, order, .. } = super::load_context(
        app,
        &mut *conn,
        project,
        &req,
        super::Wants { upsert_customer: false, redeemables: false, session: None },
        now,
    )
    .await?;
    let wallet = wallet(&mut *conn, project, &defs, &customer, scenario).await?;
    let env = Environment {
        customer: customer.engine.as_ref(),
        ignore_counters: true,
        audience_only: scenario.audience_only(),
        bundles_optional: scenario.bundles_optional(),
        ..Environment::new(now, defs.tz, &defs.catalog, &NoCounters, &req.metadata)
    };

    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    let mut near = Vec::new();
    if scenario.wants_tiers() {
        // `limit: Some(0)`: no order from the engine; the page is chosen below, among wallet codes too
        let options = QualifyOptions { sorting, near_misses: true, best_tier_per_campaign: false, limit: Some(0) };
        let q = promo_engine::qualify(&defs.index, &order, &env, options)
            .map_err(|e| invalid(format!("Property .order: {e}")))?;
        for hit in q.qualified {
            let r = hit.redeemable;
            if scenario.keeps(r) {
                candidates.push(candidate(&defs, r, hit.discount));
            }
        }
        near = q
            .near_misses
            .into_iter()
            .filter(|n| scenario.keeps(n.redeemable))
            .map(|n| (n.redeemable, n.missing, n.bundle))
            .collect();
    }
    for r in &wallet {
        if let Some(discount) = applies_alone(r, &order, &defs, &env) {
            candidates.push(candidate(&defs, r, discount));
        }
    }
    if scenario.wants_stacks() {
        for (id, stack) in &defs.stacks {
            let tiers: Vec<&Redeemable> =
                stack.tiers.iter().filter_map(|t| defs.tiers.get(t)).map(|t| &*t.redeemable).collect();
            let requested = [Requested::Stack { id: stack.wire_id.clone(), tiers }];
            let Ok(eval) = evaluate_stack(&requested, &order, &defs.stacking, &env, StackOptions::default()) else {
                continue;
            };
            if eval.valid && eval.order.total_applied_discount_amount > 0 {
                let campaign = defs.campaigns.get(&stack.campaign_id);
                candidates.push(Candidate {
                    object: "promotion_stack",
                    id: &stack.wire_id,
                    redeemable: None,
                    stack: Some(*id),
                    discount: eval.order.total_applied_discount_amount,
                    created_at: stack.created_at,
                    campaign_id: campaign.map(|c| c.wire_id.as_str()),
                    categories: &stack.categories,
                    campaign_type: campaign.map(|c| c.campaign_type.as_str()),
                });
            }
        }
    }
    let filters = req.options.filters.as_ref();
    let mut kept = Vec::new();
    for c in candidates {
        if filter_matches(filters, &c)? {
            kept.push(c);
        }
    }
    if let Some(cursor) = &starting_after {
        // entries created at the cursor's instant, in page order (by id): the first `seen` of
        // them were on earlier pages
        let mut tied: Vec<&str> = kept.iter().filter(|c| c.created_at == cursor.at).map(|c| c.id).collect();
        tied.sort_unstable();
        let seen: std::collections::HashSet<&str> = tied.into_iter().take(cursor.seen).collect();
        kept.retain(|c| c.created_at < cursor.at || (c.created_at == cursor.at && !seen.contains(c.id)));
    }
    fn key<'c>(c: &'c Candidate<'_>) -> PageKey<'c> {
        PageKey { discount: c.discount, created_at: c.created_at, id: c.id }
    }
    let order_of = |a: &Candidate<'_>, b: &Candidate<'_>| sorting.compare(key(a), key(b));
    // only the page needs an order: bring it to the front, then sort it
    let page_len = kept.len().min(limit as usize);
    if page_len > 0 && page_len < kept.len() {
        kept.select_nth_unstable_by(page_len - 1, order_of);
    }
    kept[..page_len].sort_by(order_of);
    let total = kept.len();
    let page: Vec<&Candidate<'_>> = kept.iter().take(page_len).collect();
    let identity = render::OrderIdentity { customer_id: customer.wire_id(), ..Default::default() };
    let data: Vec<EntryOut<'_>> = page.iter().map(|c| entry(c, &defs, &order, &env, &identity)).collect();
    // near misses answer to the same filters as the entries
    let mut near_kept = Vec::new();
    for (r, missing, bundle) in &near {
        if filter_matches(filters, &candidate(&defs, r, 0))? {
            near_kept.push((r, missing, bundle));
        }
    }
    let near_misses: Vec<Value> = near_kept
        .into_iter()
        .take(limit as usize)
        .map(|(r, missing, bundle)| {
            let tier = ids::try_parse(ids::TIER, &r.id).and_then(|t| defs.tiers.get(&t)).map(|t| &t.doc);
            strip_nulls(json!({
                "id": r.id, "object": r.object.as_str(), "name": r.name, "campaign_id": r.campaign_id,
                "campaign_name": r.campaign_name, "banner": tier.and_then(|d| d.get("banner")),
                "discount": tier.and_then(|d| d.pointer("/action/discount")), "metadata": r.metadata,
                "missing": render::failures(missing),
                "bundle": bundle.as_deref().map(render::bundle),
            }))
        })
        .collect();
    let base = promo_engine::Cart::new(&order, &defs.catalog, &env.clock())
        .map_err(|e| invalid(format!("Property .order: {e}")))?
        .totals();
    let out = QualificationOut {
        redeemables: RedeemablesOut {
            object: "list",
            data_ref: "data",
            data,
            total,
            has_more: total > page.len(),
            more_starting_after: if total > page.len() {
                page.last().map(|last| Cursor::after(last.created_at, &page, starting_after.as_ref()).render())
            } else {
                None
            },
        },
        tracking_id: customer.tracking_id.clone().or(req.tracking_id.clone()),
        order: render::OrderOut {
            order: &order,
            totals: &base,
            identity: &identity,
            redemptions: render::OrderRedemptions::None,
        },
        stacking_rules: &defs.stacking_json,
        near_misses,
    };
    serde_json::to_vec(&out).map_err(ApiError::internal)
}

/// The response, serialized straight to bytes: its orders (one per entry) never become JSON
/// trees (rendering them was a quarter of a qualification's CPU).
#[derive(Serialize)]
struct QualificationOut<'a> {
    redeemables: RedeemablesOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tracking_id: Option<String>,
    order: render::OrderOut<'a>,
    stacking_rules: &'a Value,
    near_misses: Vec<Value>,
}

#[derive(Serialize)]
struct RedeemablesOut<'a> {
    object: &'static str,
    data_ref: &'static str,
    data: Vec<EntryOut<'a>>,
    total: usize,
    has_more: bool,
    more_starting_after: Option<String>,
}

/// One entry: its fields, then the order as this redeemable alone would leave it.
struct EntryOut<'a> {
    fields: RenderedFields,
    /// `applicable_to` and `inapplicable_to`: what the discount reaches in this cart.
    reach: (Value, Value),
    /// What `result` gains from this cart: `bundle` (what it holds of the redeemable's bundle)
    /// and `guardrails` (what made the discount smaller).
    result_extras: serde_json::Map<String, Value>,
    totals: Option<promo_engine::cart::OrderTotals>,
    order: &'a Order,
    identity: &'a render::OrderIdentity,
}

impl Serialize for EntryOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.fields.iter() {
            match k.as_str() {
                // rendered once per tier; the extras are this cart's
                "result" if !self.result_extras.is_empty() => {
                    let mut result: Value = serde_json::from_str(v.get()).map_err(serde::ser::Error::custom)?;
                    if let Some(r) = result.as_object_mut() {
                        r.extend(self.result_extras.clone());
                    }
                    m.serialize_entry(k, &result)?;
                }
                _ => m.serialize_entry(k, v)?,
            }
        }
        m.serialize_entry("applicable_to", &self.reach.0)?;
        m.serialize_entry("inapplicable_to", &self.reach.1)?;
        if let Some(totals) = &self.totals {
            m.serialize_entry(
                "order",
                &render::OrderOut {
                    order: self.order,
                    totals,
                    identity: self.identity,
                    redemptions: render::OrderRedemptions::None,
                },
            )?;
        }
        m.end()
    }
}

fn candidate<'a>(defs: &'a Definitions, r: &'a Redeemable, discount: i64) -> Candidate<'a> {
    let campaign =
        r.campaign_id.as_deref().and_then(|c| ids::try_parse(ids::CAMPAIGN, c)).and_then(|c| defs.campaigns.get(&c));
    Candidate {
        object: r.object.as_str(),
        id: &r.id,
        redeemable: Some(r),
        stack: None,
        discount,
        created_at: r.created_at,
        campaign_id: r.campaign_id.as_deref(),
        categories: &r.categories,
        campaign_type: campaign.map(|c| c.campaign_type.as_str()),
    }
}

/// Codes held by the customer, compiled (the wallet scenarios).
async fn wallet(
    conn: &mut promo_store::PgConnection,
    project: &ProjectRow,
    defs: &Definitions,
    customer: &CustomerCtx,
    scenario: Scenario,
) -> Result<Vec<Redeemable>, ApiError> {
    // read unless the customer is known to hold none
    let wanted = customer.holds_vouchers != Some(false) && scenario.wants_wallet();
    let (Some(id), true) = (customer.id, wanted) else {
        return Ok(Vec::new());
    };
    let rows = promo_store::ledger::held_vouchers(&mut *conn, project.project_id, id, WALLET_SIZE).await?;
    Ok(rows.iter().filter_map(|row| defs.voucher(row, true)).collect())
}

fn applies_alone(r: &Redeemable, order: &Order, defs: &Definitions, env: &Environment<'_>) -> Option<i64> {
    let requested = [Requested::Found { redeemable: r, options: RedeemOptions::default() }];
    let eval = evaluate_stack(&requested, order, &defs.stacking, env, StackOptions::default()).ok()?;
    eval.valid.then_some(eval.order.total_applied_discount_amount)
}

/// One entry of the response, with the order as this redeemable alone would leave it.
fn entry<'a>(
    c: &Candidate<'_>,
    defs: &Definitions,
    order: &'a Order,
    env: &Environment<'_>,
    identity: &'a render::OrderIdentity,
) -> EntryOut<'a> {
    let evaluated = match (c.redeemable, c.stack) {
        (Some(r), _) => {
            let requested = [Requested::Found { redeemable: r, options: RedeemOptions::default() }];
            evaluate_stack(&requested, order, &defs.stacking, env, StackOptions::default()).ok()
        }
        (None, Some(s)) => {
            let stack = &defs.stacks[&s];
            let tiers = stack.tiers.iter().filter_map(|t| defs.tiers.get(t)).map(|t| &*t.redeemable).collect();
            let requested = [Requested::Stack { id: stack.wire_id.clone(), tiers }];
            evaluate_stack(&requested, order, &defs.stacking, env, StackOptions::default()).ok()
        }
        _ => None,
    };
    let gift = evaluated.as_ref().and_then(|e| e.results.first()).and_then(|x| match &x.outcome {
        Outcome::Applicable(a) => a.gift,
        _ => None,
    });
    let tier = c.redeemable.and_then(|r| ids::try_parse(ids::TIER, &r.id)).and_then(|t| defs.tiers.get(&t));
    let fields = match tier {
        // a tier's fields depend on nothing in the cart when it applies without a gift
        Some(t) if evaluated.is_some() && gift.is_none() => {
            t.entry_fields.get_or_init(|| entry_fields(c, defs, evaluated.is_some(), gift)).clone()
        }
        _ => entry_fields(c, defs, evaluated.is_some(), gift),
    };
    // what the redeemable (a stack: each of its tiers) reaches in this cart
    let (mut applicable, mut inapplicable) = (Vec::new(), Vec::new());
    if let Some(e) = &evaluated {
        for x in &e.results {
            if let Outcome::Applicable(a) = &x.outcome {
                let (ap, inap) = render::reach_entries(x.redeemable, a, order, &e.order.items);
                applicable.extend(ap);
                inapplicable.extend(inap);
            }
        }
    }
    let reach = (render::list(applicable), render::list(inapplicable));
    let mut result_extras = serde_json::Map::new();
    if let Some(e) = &evaluated
        && let Some(Outcome::Applicable(a)) = e.results.first().map(|x| &x.outcome)
    {
        if let Some(b) = a.bundle.as_deref() {
            result_extras.insert("bundle".into(), render::bundle(b));
        }
        if !a.guardrails.is_empty() {
            result_extras.insert("guardrails".into(), render::guardrails(&a.guardrails, &e.order.items));
        }
    }
    EntryOut { fields, reach, result_extras, totals: evaluated.map(|e| e.order), order, identity }
}

/// An entry's fields but its order.
fn entry_fields(c: &Candidate<'_>, defs: &Definitions, applicable: bool, gift: Option<(i64, i64)>) -> RenderedFields {
    let result = match c.redeemable {
        Some(r) if applicable => render::benefit(r, gift),
        _ => json!({}),
    };
    let mut v = json!({
        "id": c.id, "object": c.object, "created_at": timestamp(c.created_at), "result": result,
        "campaign_id": c.campaign_id,
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(r) = c.redeemable {
            o.insert("metadata".into(), Value::Object(r.metadata.clone()));
            o.insert("categories".into(), render::categories(&r.categories, &defs.stacking));
            o.insert("name".into(), json!(r.name));
            o.insert("campaign_name".into(), json!(r.campaign_name));
            o.insert("validation_rule_id".into(), json!(r.rules.as_ref().and_then(|s| s.id.clone())));
            if let Some(t) = ids::try_parse(ids::TIER, &r.id).and_then(|t| defs.tiers.get(&t)) {
                o.insert("banner".into(), t.doc.get("banner").cloned().unwrap_or(Value::Null));
            }
        }
        if let Some(s) = c.stack.and_then(|s| defs.stacks.get(&s)) {
            o.insert("name".into(), json!(s.name));
            o.insert("categories".into(), render::categories(&s.categories, &defs.stacking));
            let tiers: Vec<Value> = s
                .tiers
                .iter()
                .filter_map(|t| defs.tiers.get(t))
                .map(|t| json!({"id": t.redeemable.id, "object": "promotion_tier"}))
                .collect();
            o.insert("redeemables".into(), Value::Array(tiers));
        }
        // documented nulls: only a stack lists redeemables
        o.entry("redeemables").or_insert(Value::Null);
        o.entry("banner").or_insert(Value::Null);
    }
    let Value::Object(fields) = v else { return Arc::from([]) };
    fields.into_iter().filter_map(|(k, v)| Some((k, serde_json::value::to_raw_value(&v).ok()?))).collect()
}
