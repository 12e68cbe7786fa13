//! Checkout: validations, redemptions, rollbacks, sessions and qualifications.
//!
//! The engine decides; this module loads what it needs (compiled definitions from the cache,
//! vouchers, the customer, the stored order, counter values), calls it, and persists the
//! outcome. A redemption is one transaction: ledger rows, the order, and a guarded claim of every
//! counter the engine says it consumes (see `promo_store::ledger`); a claim over its limit rolls
//! the effects back and the redemption is recorded as a failure instead.

pub mod catalog;
pub mod qualification;
pub mod render;
pub mod request;
pub mod rollback;

use crate::error::invalid;
use crate::error::{ApiError, ErrorKey, REQUEST_ID};
use crate::ids;
use crate::services::customers::into_doc;
use crate::services::definitions::Definitions;
use crate::state::AppState;
use crate::types::catalog::CustomerIn;
use chrono::{DateTime, Utc};
use promo_engine::rules::{CounterKey, CounterSource};
use promo_engine::stacking::{Outcome, RequestError, Requested, StackOptions, StackedEvaluation, evaluate_stack};
use promo_engine::{Customer, Environment, ErrorKey as EngineKey, Order, RedeemOptions, Redeemable};
use promo_store::audiences::ORDERS;
use promo_store::campaigns::VoucherRow;
use promo_store::customers::CUSTOMERS;
use promo_store::documents::DocRow;
use promo_store::ledger::{self, Claim, VoucherLookup};
use promo_store::projects::ProjectRow;
use promo_store::{PgConnection, StoreError};
use render::OrderIdentity;
use request::{ObjectKind, RedeemableIn, StackRequest};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

pub const REDEMPTION: &str = "r_";
pub const FAILED_REDEMPTION: &str = "rf_";
pub const ROLLBACK: &str = "rr_";

fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

// ---------- customers and orders ----------

/// The request's customer, resolved against the stored one.
#[derive(Debug, Clone, Default)]
pub struct CustomerCtx {
    pub engine: Option<Customer>,
    pub id: Option<Uuid>,
    pub source_id: Option<String>,
    /// `{id, name, email, source_id, metadata, object}` as redemptions show it.
    pub summary: Option<Value>,
    /// The project's definitions version, read with the customer.
    pub definitions_version: Option<i64>,
    /// The hashed source id (`track_…`).
    pub tracking_id: Option<String>,
    /// Whether a stored customer holds any code, where its read asked.
    pub holds_vouchers: Option<bool>,
}

impl CustomerCtx {
    pub fn wire_id(&self) -> Option<String> {
        self.id.map(|c| ids::wire(ids::CUSTOMER, c))
    }

    pub fn tracking_id_of(source_id: Option<&String>) -> Option<String> {
        source_id.map(|s| {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(s.as_bytes());
            format!("track_{}", digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>())
        })
    }
}

impl CustomerCtx {
    /// Per-customer limits count the person the project's `customer_identity` names (one e-mail
    /// behind two accounts counts once); a metadata identity (a device id) counts even an
    /// anonymous shopper.
    fn count_as_person(&mut self, project: &ProjectRow, metadata: &promo_engine::Metadata) {
        let rule = promo_engine::identity::IdentityRule::parse(&project.customer_identity).unwrap_or_default();
        if let Some(identity) = rule.identity_of(self.engine.as_ref(), metadata) {
            self.engine.get_or_insert_with(Customer::default).identity = Some(identity);
        }
    }
}

/// An order in another currency than the project's would get a discount computed in the wrong
/// unit (amounts are never converted): refused.
pub(crate) fn check_currency(project: &ProjectRow, order: Option<&Order>) -> Result<(), ApiError> {
    match order.and_then(|o| o.currency.as_deref()) {
        Some(c) if !c.eq_ignore_ascii_case(&project.currency) => Err(invalid(format!(
            "Property .order.currency `{c}` is not the project's currency ({}): amounts are never converted",
            project.currency
        ))),
        _ => Ok(()),
    }
}

/// The request's customer: how it is named and what it says of itself.
pub struct RequestCustomer {
    given_id: Option<String>,
    source_id: Option<String>,
    doc: Value,
}

impl RequestCustomer {
    pub fn parse(raw: Option<&Value>) -> Result<Option<Self>, ApiError> {
        let Some(raw) = raw else { return Ok(None) };
        let mut fields = raw.as_object().cloned().unwrap_or_default();
        let given_id = fields.remove("id").and_then(|v| v.as_str().map(str::to_owned));
        for ignored in ["object", "summary", "created_at", "updated_at", "loyalty", "referrals"] {
            fields.remove(ignored);
        }
        let incoming: CustomerIn = serde_path_to_error::deserialize(Value::Object(fields))
            .map_err(|e| invalid(format!("Property .customer.{}: {}", e.path(), e.inner())))?;
        let (source_id, doc) = into_doc(incoming).map_err(|_| invalid("Property .customer is malformed"))?;
        Ok(Some(RequestCustomer { given_id, source_id, doc }))
    }

    /// The stored customer to read: by id (or a source id sent as `id`), else by `source_id`;
    /// with its static segments when the project has any.
    pub fn lookup(&self, defs: &Definitions) -> Option<ledger::CustomerLookup<'_>> {
        let (id, source_id) = match &self.given_id {
            Some(id) => {
                let uuid = ids::try_parse(ids::CUSTOMER, id);
                (uuid, if uuid.is_none() { Some(id.as_str()) } else { None })
            }
            None => (None, Some(self.source_id.as_deref()?)),
        };
        Some(ledger::CustomerLookup { id, source_id, segments: defs.static_segments })
    }

    /// What was read for [`Self::lookup`]: a customer named by `id` must exist.
    fn found(&self, read: Option<ledger::CheckoutCustomer>) -> Result<Option<ledger::CheckoutCustomer>, ApiError> {
        match (&self.given_id, read) {
            (Some(id), None) => Err(ApiError::not_found("customer", id)),
            (_, read) => Ok(read),
        }
    }
}

/// Finds the customer (by `id`, else `source_id`) with its static segments; with `upsert`,
/// creates or updates it by `source_id` as a redemption does.
pub async fn resolve_customer(
    conn: &mut PgConnection,
    project: promo_store::ProjectId,
    defs: &Definitions,
    raw: Option<&Value>,
    upsert: bool,
    now: DateTime<Utc>,
) -> Result<CustomerCtx, ApiError> {
    let Some(request) = RequestCustomer::parse(raw)? else { return Ok(CustomerCtx::default()) };
    let read = match request.lookup(defs) {
        Some(lookup) => ledger::checkout_customer(&mut *conn, project, lookup).await?,
        None => None,
    };
    resolve_read_customer(conn, project, defs, &request, read, upsert, now).await
}

/// [`resolve_customer`] once its stored row has been read.
async fn resolve_read_customer(
    conn: &mut PgConnection,
    project: promo_store::ProjectId,
    defs: &Definitions,
    request: &RequestCustomer,
    read: Option<ledger::CheckoutCustomer>,
    upsert: bool,
    now: DateTime<Utc>,
) -> Result<CustomerCtx, ApiError> {
    let found = request.found(read)?;
    let source_id = request.source_id.clone();
    let incoming_doc = &request.doc;
    let static_segments = found.as_ref().map(|c| c.segments.clone()).unwrap_or_default();
    let definitions_version = found.as_ref().map(|c| c.definitions_version);
    let holds_vouchers = found.as_ref().and_then(|c| c.holds_vouchers);
    let mut stored: Option<DocRow> = found.map(|c| c.row);
    let has_fields = incoming_doc.as_object().is_some_and(|o| o.keys().any(|k| k != "metadata"))
        || incoming_doc.get("metadata").and_then(Value::as_object).is_some_and(|m| !m.is_empty());
    if upsert {
        match &stored {
            None if source_id.is_some() => {
                let id = promo_store::new_id();
                let inserted =
                    CUSTOMERS.insert(&mut *conn, project, id, None, source_id.as_deref(), incoming_doc).await;
                stored = Some(match inserted {
                    Ok(row) => row,
                    // a concurrent redemption created it first
                    Err(StoreError::UniqueViolation { .. }) => CUSTOMERS
                        .get(&mut *conn, project, None, source_id.as_deref())
                        .await?
                        .ok_or_else(|| ApiError::not_found("customer", source_id.as_deref().unwrap_or("")))?,
                    Err(e) => return Err(e.into()),
                });
            }
            Some(row) if has_fields => {
                let mut doc = row.doc.0.as_object().cloned().unwrap_or_default();
                let before = doc.clone();
                for (k, v) in incoming_doc.as_object().cloned().unwrap_or_default() {
                    if k == "metadata" {
                        let m = doc.entry("metadata").or_insert_with(|| json!({}));
                        if let (Some(m), Value::Object(new)) = (m.as_object_mut(), v) {
                            m.extend(new);
                        }
                    } else {
                        doc.insert(k, v);
                    }
                }
                if doc != before {
                    let (id, source) = (row.id, row.source_id.clone());
                    stored = CUSTOMERS.update(&mut *conn, project, id, source.as_deref(), &Value::Object(doc)).await?;
                }
            }
            _ => {}
        }
    }
    let (id, source_id, doc) = match &stored {
        Some(row) => (Some(row.id), row.source_id.clone(), row.doc.0.clone()),
        None => (None, source_id, incoming_doc.clone()),
    };
    let mut segments: Vec<String> = static_segments.into_iter().map(|s| ids::wire(ids::SEGMENT, s)).collect();
    let mut facts = doc.clone();
    // a segment of first-time buyers or big spenders reads the summary, counted from the ledger
    let summary = match (defs.segments_read_summary, id) {
        (false, _) => None,
        (true, Some(c)) => Some(ledger::customer_ledger(&mut *conn, project, c).await?),
        (true, None) => Some(ledger::CustomerLedger::default()),
    };
    if let Some(o) = facts.as_object_mut() {
        o.insert("source_id".into(), json!(source_id));
        o.insert("id".into(), json!(id.map(|c| ids::wire(ids::CUSTOMER, c))));
        if let Some(l) = &summary {
            let s = crate::services::customers::summary_from(l);
            o.insert("summary".into(), serde_json::to_value(&s).unwrap_or_default());
        }
    }
    segments.extend(defs.auto_segments_of(&facts, now));
    let mut engine: Customer = serde_json::from_value(doc.clone()).unwrap_or_default();
    engine.id = id.map(|c| ids::wire(ids::CUSTOMER, c));
    engine.source_id = source_id.clone();
    engine.segments = segments;
    engine.orders_count = summary.as_ref().map(|l| l.orders);
    // anniversaries count from the day the customer's record was made, in the project's zone; a
    // named shopper not stored yet joins today, as the redemption that stores them will say
    let joined = match &stored {
        Some(r) => Some(r.created_at),
        None => source_id.is_some().then_some(now),
    };
    engine.joined_on = joined.map(|t| t.with_timezone(&defs.tz).date_naive());
    // documented nulls: a customer without a name or e-mail answers them as null
    let summary = json!({
        "id": engine.id, "source_id": source_id, "name": doc.get("name"), "email": doc.get("email"),
        "metadata": doc.get("metadata").cloned().unwrap_or_else(|| json!({})), "object": "customer",
    });
    let tracking_id = CustomerCtx::tracking_id_of(source_id.as_ref());
    Ok(CustomerCtx {
        engine: Some(engine),
        id,
        source_id,
        summary: Some(summary),
        definitions_version,
        tracking_id,
        holds_vouchers,
    })
}

/// The request's order; an existing one (by id or source id) lends its stored items when the
/// request sends none.
pub async fn resolve_order(
    conn: &mut PgConnection,
    project: promo_store::ProjectId,
    order: Option<&Order>,
) -> Result<(Order, Option<DocRow>), ApiError> {
    let mut order = order.cloned().unwrap_or_default();
    let stored = match (&order.id, &order.source_id) {
        (Some(id), _) => {
            let uuid = ids::try_parse(ids::ORDER, id);
            let row = ORDERS.get(&mut *conn, project, uuid, if uuid.is_none() { Some(id) } else { None }).await?;
            Some(row.ok_or_else(|| ApiError::not_found("order", id))?)
        }
        (None, Some(s)) => ORDERS.get(&mut *conn, project, None, Some(s)).await?,
        _ => None,
    };
    if let Some(row) = &stored
        && order.items.is_empty()
        && order.amount.is_none()
        && let Ok(previous) = serde_json::from_value::<Order>(row.doc.0.clone())
    {
        let metadata = std::mem::take(&mut order.metadata);
        order = Order {
            id: order.id.take(),
            source_id: order.source_id.take().or(previous.source_id.clone()),
            status: order.status.take().or(previous.status.clone()),
            metadata: if metadata.is_empty() { previous.metadata.clone() } else { metadata },
            ..previous
        };
    }
    Ok((order, stored))
}

// ---------- redeemables ----------

/// One requested redeemable, resolved.
pub enum Slot {
    Voucher { redeemable: Box<Redeemable>, row: VoucherRow, options: RedeemOptions },
    Tier { redeemable: Arc<Redeemable>, options: RedeemOptions },
    Stack { id: String, stack: Uuid },
    Missing { id: String, object: promo_engine::redeemable::RedeemableObject },
}

/// Prefix and suffix of a voucher's quantity counter key around its wire id (the engine's
/// `CounterKey::voucher_quantity`, as the store's statements write it).
const QUANTITY_KEY: (&str, &str) = promo_store::campaigns::VOUCHER_QUANTITY_KEY;

/// The requested redeemables, the quantity counters of the vouchers among them and the
/// definitions version (both read in the same round trip as the vouchers).
pub struct Resolved {
    pub slots: Vec<Slot>,
    pub counters: HashMap<String, i64>,
    pub definitions_version: Option<i64>,
}

/// The vouchers among the requested redeemables, to read.
fn voucher_lookup(
    project: &ProjectRow,
    entries: &[(ObjectKind, &RedeemableIn)],
    session: Option<&str>,
) -> VoucherLookup {
    let mut lookup =
        VoucherLookup { counter_key: QUANTITY_KEY, session: session.map(str::to_owned), ..Default::default() };
    for (kind, r) in entries {
        if *kind == ObjectKind::Voucher {
            let id = r.id.as_deref().unwrap_or_default();
            match ids::try_parse(ids::VOUCHER, id) {
                Some(u) => lookup.ids.push(u),
                None => lookup.code_keys.push(crate::wire::code_key(id, project.case_sensitive_codes)),
            }
        }
    }
    lookup
}

/// The requested redeemables, given the vouchers read for [`voucher_lookup`].
fn resolve_redeemables(
    project: &ProjectRow,
    defs: &Definitions,
    entries: &[(ObjectKind, &RedeemableIn)],
    vouchers: Vec<ledger::CheckoutVoucher>,
) -> Resolved {
    use promo_engine::redeemable::RedeemableObject as O;
    let code_key = |code: &str| crate::wire::code_key(code, project.case_sensitive_codes);
    let definitions_version = vouchers.iter().map(|v| v.definitions_version).max();
    let mut counters = HashMap::new();
    for v in &vouchers {
        let key = CounterKey::voucher_quantity(&ids::wire(ids::VOUCHER, v.row.voucher_id));
        counters.insert(key.to_string(), v.redeemed);
    }
    let mut out = Vec::new();
    for &(kind, r) in entries {
        let id = r.id.clone().unwrap_or_default();
        let options = RedeemOptions {
            gift_credits: r.gift.as_ref().and_then(|g| g.credits),
            points: r.reward.as_ref().and_then(|g| g.points),
        };
        let slot = match kind {
            ObjectKind::Voucher => {
                let by_id = ids::try_parse(ids::VOUCHER, &id);
                let key = code_key(&id);
                let row = vouchers.iter().find(|v| match by_id {
                    Some(u) => v.row.voucher_id == u,
                    None => code_key(&v.row.code) == key,
                });
                match row.and_then(|v| defs.voucher(&v.row, by_id.is_none()).map(|r| (r, v.row.clone()))) {
                    Some((redeemable, row)) => Slot::Voucher { redeemable: Box::new(redeemable), row, options },
                    None => Slot::Missing { id, object: O::Voucher },
                }
            }
            ObjectKind::PromotionTier => match ids::try_parse(ids::TIER, &id).and_then(|t| defs.tiers.get(&t)) {
                Some(t) => Slot::Tier { redeemable: t.redeemable.clone(), options },
                None => Slot::Missing { id, object: O::PromotionTier },
            },
            ObjectKind::PromotionStack => {
                match ids::try_parse(ids::STACK, &id).filter(|s| defs.stacks.contains_key(s)) {
                    Some(stack) => Slot::Stack { id, stack },
                    None => Slot::Missing { id, object: O::PromotionStack },
                }
            }
        };
        out.push(slot);
    }
    Resolved { slots: out, counters, definitions_version }
}

/// What a checkout request reads before the engine runs.
pub struct Context {
    pub defs: Arc<Definitions>,
    pub customer: CustomerCtx,
    pub order: Order,
    pub stored_order: Option<DocRow>,
    pub resolved: Resolved,
}

/// Reads the customer, the order and (with `redeemables`) the redeemables, against compiled
/// definitions at least as new as the database's: the reads carry the definitions version, and
/// on a mismatch (a write since the cached copy, even through another server) they run once
/// more on freshly compiled ones. A request that reads neither customer nor vouchers asks for
/// the version on its own.
/// What [`load_context`] reads besides the customer and the order.
#[derive(Debug, Clone, Copy)]
pub struct Wants<'a> {
    /// Create or update the customer by `source_id` (redemptions).
    pub upsert_customer: bool,
    pub redeemables: bool,
    /// The LOCK session whose own reservations do not count against it.
    pub session: Option<&'a str>,
}

pub async fn load_context(
    app: &AppState,
    conn: &mut PgConnection,
    project: &ProjectRow,
    req: &StackRequest,
    wants: Wants<'_>,
    now: DateTime<Utc>,
) -> Result<Context, ApiError> {
    let request_customer = RequestCustomer::parse(req.customer.as_ref())?;
    check_currency(project, req.order.as_ref())?;
    // validated once; an empty list when the request redeems nothing (a qualification)
    let entries = if wants.redeemables { req.redeemables()? } else { Vec::new() };
    let vouchers_named = voucher_lookup(project, &entries, wants.session);
    let mut min_version = project.definitions_version;
    loop {
        let defs = app.definitions.get(&mut *conn, project.project_id, min_version).await?;
        let p = project.project_id;
        // a static segment created since `defs` makes the read below newer: read again then
        let customer_lookup = request_customer.as_ref().and_then(|c| c.lookup(&defs));
        // the customer and the vouchers in one round trip when both are named
        let (read_customer, vouchers) = match (customer_lookup, vouchers_named.is_empty()) {
            (Some(c), false) => ledger::checkout_reads(&mut *conn, p, c, &vouchers_named).await?,
            (Some(c), true) => (ledger::checkout_customer(&mut *conn, p, c).await?, Vec::new()),
            (None, false) => (None, ledger::checkout_vouchers(&mut *conn, p, &vouchers_named).await?),
            (None, true) => (None, Vec::new()),
        };
        let mut customer = match &request_customer {
            Some(r) => {
                resolve_read_customer(&mut *conn, p, &defs, r, read_customer, wants.upsert_customer, now).await?
            }
            None => CustomerCtx::default(),
        };
        customer.count_as_person(project, &req.metadata);
        let (mut order, stored_order) = resolve_order(&mut *conn, p, req.order.as_ref()).await?;
        let resolved = if wants.redeemables {
            resolve_redeemables(project, &defs, &entries, vouchers)
        } else {
            Resolved { slots: Vec::new(), counters: HashMap::new(), definitions_version: None }
        };
        let named_vouchers = resolved.slots.iter().filter_map(|s| match s {
            Slot::Voucher { redeemable, .. } => Some(&**redeemable),
            _ => None,
        });
        catalog::resolve(&mut *conn, p, &defs, &mut order, named_vouchers).await?;
        let seen = match customer.definitions_version.max(resolved.definitions_version) {
            Some(v) => v,
            None => ledger::definitions_version(&mut *conn, project.project_id).await?.unwrap_or(defs.version),
        };
        if seen <= defs.version {
            return Ok(Context { defs, customer, order, stored_order, resolved });
        }
        min_version = seen;
    }
}

pub fn requested<'r>(slots: &'r [Slot], defs: &'r Definitions) -> Vec<Requested<'r>> {
    slots
        .iter()
        .map(|s| match s {
            Slot::Voucher { redeemable, options, .. } => Requested::Found { redeemable, options: *options },
            Slot::Tier { redeemable, options } => Requested::Found { redeemable, options: *options },
            Slot::Stack { id, stack } => Requested::Stack {
                id: id.clone(),
                tiers: defs.stacks[stack]
                    .tiers
                    .iter()
                    .filter_map(|t| defs.tiers.get(t))
                    .map(|t| &*t.redeemable)
                    .collect(),
            },
            Slot::Missing { id, object } => Requested::NotFound { id: id.clone(), object: *object },
        })
        .collect()
}

fn request_error(e: RequestError) -> ApiError {
    match e {
        RequestError::Empty | RequestError::TooMany(_) => invalid(e.to_string()),
        RequestError::Duplicated => ApiError::new(ErrorKey::DuplicatedRedeemables),
        RequestError::StackWithOthers => ApiError::new(ErrorKey::InvalidRedeemables).message(e.to_string()),
        RequestError::Order(o) => invalid(format!("Property .order: {o}")),
    }
}

// ---------- evaluation ----------

/// Counter values read so far; asks for the ones it does not have.
struct Recorder<'a> {
    values: &'a HashMap<String, i64>,
    fetched: &'a HashSet<String>,
    missing: RefCell<Vec<String>>,
}

impl CounterSource for Recorder<'_> {
    fn get(&self, key: &CounterKey) -> i64 {
        let k = key.to_string();
        if let Some(v) = self.values.get(&k) {
            return *v;
        }
        if !self.fetched.contains(&k) {
            self.missing.borrow_mut().push(k);
        }
        0
    }
}

/// What an evaluation needs besides the redeemables.
pub struct EvalInput<'a> {
    pub defs: &'a Definitions,
    /// Counter values already read (the vouchers' quantity counters).
    pub prefetched: &'a HashMap<String, i64>,
    pub order: &'a Order,
    pub customer: Option<&'a Customer>,
    pub metadata: &'a promo_engine::Metadata,
    pub now: DateTime<Utc>,
    pub api_key: &'a str,
    pub session: Option<&'a str>,
    pub options: StackOptions,
}

/// Evaluates the stack, reading the counters it asks for (a second pass once they are known).
pub async fn evaluate<'r>(
    conn: &mut PgConnection,
    project: promo_store::ProjectId,
    requested: &[Requested<'r>],
    input: &EvalInput<'_>,
) -> Result<StackedEvaluation<'r>, ApiError> {
    let mut values = input.prefetched.clone();
    let mut fetched: HashSet<String> = values.keys().cloned().collect();
    for round in 0.. {
        // the environment borrows a non-Sync counter source: keep it out of the awaits
        let (eval, mut missing) = {
            let recorder = Recorder { values: &values, fetched: &fetched, missing: RefCell::new(Vec::new()) };
            let env = Environment {
                customer: input.customer,
                api_key: Some(input.api_key),
                ..Environment::new(input.now, input.defs.tz, &input.defs.catalog, &recorder, input.metadata)
            };
            let eval = evaluate_stack(requested, input.order, &input.defs.stacking, &env, input.options)
                .map_err(request_error)?;
            (eval, recorder.missing.into_inner())
        };
        if missing.is_empty() || round == 3 {
            return Ok(eval);
        }
        missing.sort_unstable();
        missing.dedup();
        values.extend(ledger::counter_values(&mut *conn, project, &missing, input.session).await?);
        fetched.extend(missing);
    }
    unreachable!("the loop returns by its fourth round")
}

pub fn claims_of(eval: &StackedEvaluation<'_>) -> Vec<Claim> {
    eval.claims.iter().map(|c| Claim { key: c.key.to_string(), delta: c.delta, limit: c.limit }).collect()
}

/// Marks the redeemable that claimed counter `index` inapplicable (its limit ran out).
fn mark_exhausted(eval: &mut StackedEvaluation<'_>, index: usize) {
    let Some(claim) = eval.claims.get(index).cloned() else { return };
    for r in &mut eval.results {
        let hit = matches!(&r.outcome, Outcome::Applicable(a) if a.claims.iter().any(|c| c.key == claim.key));
        if hit {
            r.outcome = Outcome::Inapplicable(promo_engine::redeemable::Rejection::exhausted(&claim.key, &r.id));
        }
    }
    eval.valid = false;
}

// ---------- responses ----------

/// Did a redemption fail because its code does not exist (code guessing counts those)?
pub fn names_unknown_code(outcome: &Result<Reply, ApiError>) -> bool {
    let status = match outcome {
        Ok(r) => axum::http::StatusCode::from_u16(r.status).unwrap_or(axum::http::StatusCode::OK),
        Err(e) => e.key().status(),
    };
    status == axum::http::StatusCode::NOT_FOUND
}

/// A response body with its status, as stored for idempotent replays.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub replayed: bool,
}

impl Reply {
    fn json(status: u16, v: &Value) -> Self {
        Reply { status, body: serde_json::to_vec(v).unwrap_or_default(), replayed: false }
    }
}

fn error_reply(e: ApiError) -> Reply {
    let status = e.key().status().as_u16();
    Reply::json(status, &e.body_value())
}

struct Lists {
    redeemables: Vec<Value>,
    inapplicable: Vec<Value>,
    skipped: Vec<Value>,
}

/// Which redeemables [`redeemable_lists`] renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    /// All of them (a validation's `redeemables` too).
    All,
    /// Only the inapplicable and skipped ones (a redemption shows the applied ones as its
    /// redemption objects).
    NotApplied,
}

fn redeemable_lists(
    eval: &StackedEvaluation<'_>,
    req: &StackRequest,
    defs: &Definitions,
    order: &Order,
    identity: &OrderIdentity,
    listing: Listing,
) -> Lists {
    let partial = defs.stacking.redeemables_application_mode == promo_engine::stacking::ApplicationMode::Partial;
    let rid = request_id();
    let mut lists = Lists { redeemables: Vec::new(), inapplicable: Vec::new(), skipped: Vec::new() };
    for r in &eval.results {
        if listing == Listing::NotApplied && matches!(r.outcome, Outcome::Applicable(_)) {
            continue;
        }
        let expand_order = match &r.outcome {
            Outcome::Applicable(a) if req.expands("order") => {
                a.order.as_ref().map(|t| render::order(order, t, identity))
            }
            _ => None,
        };
        let v = render::redeemable(render::RedeemableView {
            result: r,
            order,
            items: &eval.order.items,
            rules: &defs.stacking,
            request_id: rid.as_deref(),
            expand_order,
        });
        match &r.outcome {
            Outcome::Applicable(_) => lists.redeemables.push(v),
            Outcome::Inapplicable(_) => {
                if !partial {
                    lists.redeemables.push(v.clone());
                }
                lists.inapplicable.push(v);
            }
            Outcome::Skipped(_) => {
                if !partial {
                    lists.redeemables.push(v.clone());
                }
                lists.skipped.push(v);
            }
        }
    }
    lists
}

// ---------- validation ----------

/// `POST /v1/validations`, on the request's connection.
pub async fn validate(
    app: &AppState,
    project: &ProjectRow,
    conn: &mut PgConnection,
    api_key: &str,
    body: Value,
) -> Result<Validated, ApiError> {
    let req = StackRequest::parse(body)?;
    req.refuse_unread(false)?;
    let lock = req.lock()?;
    let now = Utc::now();
    let session_key = lock.as_ref().map(|l| l.0.as_str());
    let Context { defs, customer, order, stored_order, resolved } = load_context(
        app,
        &mut *conn,
        project,
        &req,
        Wants { upsert_customer: false, redeemables: true, session: session_key },
        now,
    )
    .await?;
    let (slots, prefetched) = (resolved.slots, resolved.counters);
    let unknown_codes = slots
        .iter()
        .filter(|s| matches!(s, Slot::Missing { object: promo_engine::redeemable::RedeemableObject::Voucher, .. }))
        .count();
    let requested = requested(&slots, &defs);
    let input = EvalInput {
        defs: &defs,
        prefetched: &prefetched,
        order: &order,
        customer: customer.engine.as_ref(),
        metadata: &req.metadata,
        now,
        api_key,
        session: session_key,
        options: StackOptions { snapshots: req.expands("order"), allocations: false },
    };
    let mut eval = evaluate(&mut *conn, project.project_id, &requested, &input).await?;
    let mut session = Value::Null;
    if let Some((key, ttl, ttl_n, unit)) = &lock {
        if eval.valid {
            let claims = claims_of(&eval);
            let mut tx = promo_store::begin_on(&mut *conn).await?;
            match ledger::reserve(&mut tx, project.project_id, key, &claims, now + *ttl).await? {
                None => tx.commit().await.map_err(StoreError::from)?,
                Some(i) => {
                    drop(tx);
                    mark_exhausted(&mut eval, i);
                }
            }
        }
        session = json!({"key": key, "type": "LOCK", "ttl": ttl_n, "ttl_unit": unit});
    }
    count_validations(app, project.project_id, &eval, now);
    let identity = order_identity(stored_order.as_ref(), &order, &customer);
    let lists = redeemable_lists(&eval, &req, &defs, &order, &identity, Listing::All);
    let validation_id = Uuid::new_v4();
    if let (false, Some(customer_id)) = (eval.valid, customer.id) {
        app.validations.failed_for_customer(failed_validation(
            project.project_id,
            validation_id,
            customer_id,
            now,
            &lists,
            eval.order.amount,
        ));
    }
    let out = ValidationOut {
        id: format!("valid_{}", validation_id.simple()),
        valid: eval.valid,
        redeemables: lists.redeemables,
        skipped_redeemables: lists.skipped,
        inapplicable_redeemables: lists.inapplicable,
        order: render::OrderOut {
            order: &order,
            totals: &eval.order,
            identity: &identity,
            redemptions: render::OrderRedemptions::None,
        },
        tracking_id: customer.tracking_id.clone().or(req.tracking_id.clone()),
        session,
        stacking_rules: &defs.stacking_json,
    };
    Ok(Validated { body: serde_json::to_vec(&out).map_err(ApiError::internal)?, unknown_codes })
}

/// A failed validation as the customer's activity shows it: the validation's id, what was
/// refused and why, and the order's amount.
fn failed_validation(
    project: promo_store::ProjectId,
    id: Uuid,
    customer: Uuid,
    at: chrono::DateTime<Utc>,
    lists: &Lists,
    order_amount: i64,
) -> promo_store::activity::FailedValidation {
    use crate::types::events::{FailedValidationOrder, FailedValidationOut, RefusedRedeemable, RefusedResult};
    let text = |r: &Value, k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
    let brief = |r: &Value| RefusedRedeemable {
        object: text(r, "object"),
        id: text(r, "id"),
        status: text(r, "status"),
        result: RefusedResult { error: r.pointer("/result/error").cloned() },
    };
    let out = FailedValidationOut {
        id: format!("valid_{}", id.simple()),
        valid: false,
        inapplicable_redeemables: lists.inapplicable.iter().map(brief).collect(),
        skipped_redeemables: lists.skipped.iter().map(brief).collect(),
        order: FailedValidationOrder { amount: order_amount },
    };
    let data = json!({ "validation": out });
    promo_store::activity::FailedValidation {
        project,
        id,
        customer_wire_id: crate::ids::wire(crate::ids::CUSTOMER, customer),
        at,
        data,
    }
}

/// Tallies each validated redeemable (applicable: succeeded; inapplicable: failed) for itself
/// and its campaign, in memory (see `services::tally`). Unknown codes belong to no campaign.
fn count_validations(
    app: &AppState,
    project: promo_store::ProjectId,
    eval: &promo_engine::StackedEvaluation<'_>,
    at: chrono::DateTime<Utc>,
) {
    for r in &eval.results {
        let ok = match r.outcome {
            Outcome::Applicable(_) => true,
            Outcome::Inapplicable(_) => false,
            Outcome::Skipped(_) => continue,
        };
        let Some(red) = r.redeemable else { continue };
        match red.campaign_id.as_deref() {
            Some(campaign) => app.validations.add(project, &[red.counter_id.as_str(), campaign], at, ok),
            None => app.validations.add(project, &[red.counter_id.as_str()], at, ok),
        }
    }
}

/// A validation's response body and how many of the codes it named do not exist (code
/// guessing is limited on them).
pub struct Validated {
    pub body: Vec<u8>,
    pub unknown_codes: usize,
}

/// A validation response, serialized straight to bytes (no JSON tree for its order).
#[derive(serde::Serialize)]
struct ValidationOut<'a> {
    id: String,
    valid: bool,
    redeemables: Vec<Value>,
    skipped_redeemables: Vec<Value>,
    inapplicable_redeemables: Vec<Value>,
    order: render::OrderOut<'a>,
    // documented nulls: no tracking id, no LOCK session
    tracking_id: Option<String>,
    session: Value,
    stacking_rules: &'a Value,
}

fn order_identity(stored: Option<&DocRow>, order: &Order, customer: &CustomerCtx) -> OrderIdentity {
    OrderIdentity {
        id: stored.map(|r| ids::wire(ids::ORDER, r.id)),
        source_id: stored.and_then(|r| r.source_id.clone()).or_else(|| order.source_id.clone()),
        status: order.status.clone(),
        customer_id: customer.wire_id(),
        created_at: stored.map(|r| crate::wire::timestamp(r.created_at)),
    }
}

// ---------- redemption ----------

/// The request hash an idempotency key is bound to (the parsed body, canonically ordered).
pub fn request_hash(path: &str, body: &Value) -> Vec<u8> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(path.as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(body).unwrap_or_default());
    h.finalize().to_vec()
}

fn replay(stored: ledger::IdempotentResponse, hash: &[u8]) -> Result<Reply, ApiError> {
    if stored.request_hash != hash {
        return Err(ApiError::new(ErrorKey::IdempotencyKeyReused)
            .details("This Idempotency-Key was used with a different request"));
    }
    Ok(Reply {
        status: stored.status_code.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
        body: stored.response_body.unwrap_or_default(),
        replayed: true,
    })
}

/// Checks an idempotency key before any work: a completed key replays at once.
pub async fn early_replay(
    conn: &mut PgConnection,
    project: promo_store::ProjectId,
    key: Option<&str>,
    hash: &[u8],
) -> Result<Option<Reply>, ApiError> {
    let Some(key) = key else { return Ok(None) };
    if key.is_empty() || key.len() > 255 {
        return Err(invalid("Idempotency-Key must be 1 to 255 characters"));
    }
    match ledger::idempotent_response(&mut *conn, project, key).await? {
        Some(stored) => replay(stored, hash).map(Some),
        None => Ok(None),
    }
}

/// `POST /v1/redemptions`. The database connection is taken only once the code's hot-key slot
/// is held, so callers queueing on a hot code never starve the pool.
pub async fn redeem(
    app: &AppState,
    project: &ProjectRow,
    api_key: &str,
    body: Value,
    idempotency_key: Option<&str>,
) -> Result<Reply, ApiError> {
    let hash = request_hash("redemptions", &body);
    let req = StackRequest::parse(body)?;
    req.refuse_unread(false)?;
    req.lock()?;
    // hold a slot per code, in a stable order
    let mut codes: Vec<String> = req
        .redeemables
        .iter()
        .filter(|r| r.object.as_deref() == Some("voucher"))
        .filter_map(|r| r.id.as_deref())
        .map(|code| crate::wire::code_key(code, project.case_sensitive_codes))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let mut _permits = Vec::new();
    for code in codes {
        _permits.push(app.hot_keys.enter(project.project_id, &code).await?);
    }
    let mut conn = promo_store::acquire(&app.db).await?;
    if let Some(r) = early_replay(&mut conn, project.project_id, idempotency_key, &hash).await? {
        return Ok(r);
    }

    let now = Utc::now();
    let session = req.session.as_ref().and_then(|s| s.key.clone());
    let Context { defs, customer, order, stored_order, resolved } = load_context(
        app,
        &mut conn,
        project,
        &req,
        Wants { upsert_customer: true, redeemables: true, session: session.as_deref() },
        now,
    )
    .await?;
    let (slots, prefetched) = (resolved.slots, resolved.counters);
    let requested = requested(&slots, &defs);

    let input = EvalInput {
        defs: &defs,
        prefetched: &prefetched,
        order: &order,
        customer: customer.engine.as_ref(),
        metadata: &req.metadata,
        now,
        api_key,
        session: session.as_deref(),
        options: StackOptions { snapshots: true, allocations: true },
    };
    let ctx = RedeemCtx {
        project: project.project_id,
        api_key,
        req: &req,
        defs: &defs,
        slots: &slots,
        order: &order,
        stored_order: stored_order.as_ref(),
        customer: &customer,
        session: session.as_deref(),
        now,
    };
    let Some(key) = idempotency_key else {
        // No key: one autocommit statement claims and records, or changes nothing; a failure is
        // then recorded on its own (it consumes nothing, so it needs no transaction with it).
        let mut eval = evaluate(&mut conn, project.project_id, &requested, &input).await?;
        if succeeds(&eval, &defs) {
            match persist_success(&mut conn, &ctx, &eval, Write::Atomic).await? {
                Ok(reply) => return Ok(reply),
                Err(failed_claim) => mark_exhausted(&mut eval, failed_claim),
            }
        }
        return persist_failure(&mut conn, &ctx, &eval).await;
    };
    let mut tx = promo_store::begin_on(&mut conn).await?;
    if let Some(stored) = ledger::claim_idempotency_key(&mut tx, project.project_id, key, &hash).await? {
        // a concurrent duplicate finished first
        return replay(stored, &hash);
    }
    let mut eval = evaluate(&mut tx, project.project_id, &requested, &input).await?;
    let reply = if succeeds(&eval, &defs) {
        // the claims go first and change nothing unless all of them fit; a failure is then
        // recorded in the same transaction
        match persist_success(&mut tx, &ctx, &eval, Write::InTransaction).await? {
            Ok(reply) => reply,
            Err(failed_claim) => {
                mark_exhausted(&mut eval, failed_claim);
                persist_failure(&mut tx, &ctx, &eval).await?
            }
        }
    } else {
        persist_failure(&mut tx, &ctx, &eval).await?
    };
    ledger::complete_idempotency_key(&mut tx, project.project_id, key, reply.status, &reply.body).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(reply)
}

/// Whether the evaluation lets the redemption go ahead (the engine decides: ALL or PARTIAL).
fn succeeds(eval: &StackedEvaluation<'_>, defs: &Definitions) -> bool {
    eval.goes_ahead(&defs.stacking)
}

struct RedeemCtx<'a> {
    project: promo_store::ProjectId,
    api_key: &'a str,
    req: &'a StackRequest,
    defs: &'a Definitions,
    slots: &'a [Slot],
    order: &'a Order,
    stored_order: Option<&'a DocRow>,
    customer: &'a CustomerCtx,
    session: Option<&'a str>,
    now: DateTime<Utc>,
}

impl RedeemCtx<'_> {
    fn voucher_row(&self, id: &str) -> Option<&VoucherRow> {
        self.slots.iter().find_map(|s| match s {
            Slot::Voucher { redeemable, row, .. } if redeemable.id == id => Some(row),
            _ => None,
        })
    }

    fn ledger_write(&self) -> ledger::LedgerWrite {
        ledger::LedgerWrite { project: self.project, at: self.now, webhooks: self.defs.webhooks }
    }

    /// The fields every redemption object of this request shares (its order aside).
    fn redemption_fields(&self, id: &str) -> Map<String, Value> {
        let v = json!({
            "id": id,
            "object": "redemption",
            "date": crate::wire::timestamp(self.now),
            "customer_id": self.customer.wire_id(),
            "tracking_id": self.customer.tracking_id.clone().or(self.req.tracking_id.clone()),
            "metadata": self.req.metadata,
            "amount": 0,
            "channel": {"channel_id": self.api_key, "channel_type": "API"},
            "customer": self.customer.summary,
            "session": self.session.map(|k| json!({"key": k})),
            // documented nulls (Voucherify sends them): a success has no failure, a redemption
            // no rollback reason, a voucher's redemption no tier and a tier's no voucher
            "failure_code": null, "failure_message": null, "reason": null, "redemption": null,
            "voucher": null, "promotion_tier": null, "related_redemptions": null,
            "gift": null, "loyalty_card": null, "reward": null,
        });
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// The voucher or tier a redemption names: what its ledger row records.
    fn related(&self, r: &Redeemable) -> Related {
        let campaign = r.campaign_id.as_deref().and_then(|c| ids::try_parse(ids::CAMPAIGN, c));
        match r.object {
            promo_engine::redeemable::RedeemableObject::Voucher => {
                let id = self.voucher_row(&r.id).map(|v| ids::wire(ids::VOUCHER, v.voucher_id));
                Related { object_type: "voucher", id: id.unwrap_or_else(|| r.id.clone()), campaign }
            }
            _ => Related { object_type: "promotion_tier", id: r.id.clone(), campaign },
        }
    }

    /// The voucher or tier object a successful redemption's document shows (under the field
    /// named by `related.object_type`): the object as `GET` answers it when the redemption was
    /// written, but its live counters and rule assignments (read those from the object).
    fn related_object(&self, r: &Redeemable, related: &Related) -> Value {
        let categories = render::categories(&r.categories, &self.defs.stacking);
        let category = r.categories.first().map(|c| c.name.clone());
        match r.object {
            promo_engine::redeemable::RedeemableObject::Voucher => {
                let mut v = match self.voucher_row(&r.id) {
                    Some(row) => serde_json::to_value(crate::services::vouchers::voucher_out(
                        row.clone(),
                        crate::types::common::ListOut::new(Vec::new(), 0),
                    ))
                    .unwrap_or_default(),
                    None => json!({"id": related.id, "code": r.id, "object": "voucher", "type": "DISCOUNT_VOUCHER"}),
                };
                if let Some(o) = v.as_object_mut() {
                    o.remove("validation_rules_assignments");
                    o.remove("redemption");
                    o.insert("categories".into(), categories);
                    o.insert("category".into(), json!(category));
                    o.insert("holder_id".into(), json!(r.holder_id));
                    o.insert("campaign".into(), json!(r.campaign_name));
                    o.insert("campaign_id".into(), json!(r.campaign_id));
                    o.insert("active".into(), json!(r.active));
                }
                v
            }
            _ => {
                let tier = ids::try_parse(ids::TIER, &r.id).and_then(|t| self.defs.tiers.get(&t));
                let doc = tier.map(|t| &t.doc);
                let field = |k: &str| doc.and_then(|d| d.get(k)).cloned().unwrap_or(Value::Null);
                let campaign_uuid = r.campaign_id.as_deref().and_then(|c| ids::try_parse(ids::CAMPAIGN, c));
                let mut campaign = json!({"id": r.campaign_id, "object": "campaign", "active": r.campaign_active});
                if let (Some(o), Some(c)) =
                    (campaign.as_object_mut(), campaign_uuid.and_then(|c| self.defs.campaigns.get(&c)))
                {
                    o.extend(c.wire_fields.clone());
                }
                let mut v = json!({
                    "id": r.id, "object": "promotion_tier", "name": r.name, "banner": field("banner"),
                    "action": field("action"), "metadata": r.metadata, "hierarchy": r.hierarchy,
                    "promotion_id": r.campaign_id, "campaign_id": r.campaign_id, "campaign": campaign,
                    "active": r.active, "created_at": crate::wire::timestamp(r.created_at),
                    "updated_at": tier.and_then(|t| t.updated_at).map(crate::wire::timestamp),
                    "category_id": field("category_id"), "categories": categories,
                });
                if let Some(o) = v.as_object_mut() {
                    for k in [
                        "start_date",
                        "expiration_date",
                        "validity_timeframe",
                        "validity_day_of_week",
                        "validity_hours",
                    ] {
                        o.insert(k.into(), field(k));
                    }
                }
                v
            }
        }
    }

    fn code_of(&self, r: &Redeemable) -> Option<String> {
        self.voucher_row(&r.id).map(|v| v.code.clone())
    }
}

/// The object a redemption names (a voucher or a promotion tier).
struct Related {
    object_type: &'static str,
    id: String,
    campaign: Option<Uuid>,
}

/// How a successful redemption reaches the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Inside the caller's transaction (which also holds the idempotency key).
    InTransaction,
    /// One autocommit statement: claims, order and ledger rows together, or nothing.
    Atomic,
}

/// Writes a successful redemption; `Err(i)` if claim `i` had no room (nothing was written).
/// Documents are serialized once: the same text goes to the database and into the answer.
async fn persist_success(
    conn: &mut PgConnection,
    ctx: &RedeemCtx<'_>,
    eval: &StackedEvaluation<'_>,
    write: Write,
) -> Result<Result<Reply, usize>, ApiError> {
    let claims = claims_of(eval);
    if write == Write::InTransaction
        && let Some(i) = ledger::apply_claims(&mut *conn, ctx.project, &claims, ctx.session, ctx.now).await?
    {
        return Ok(Err(i));
    }
    let applied: Vec<_> = eval
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Applicable(a) => r.redeemable.map(|red| (red, a, ctx.related(red))),
            _ => None,
        })
        .collect();
    let stacked = applied.len() > 1;
    let parent_uuid = promo_store::new_id();
    let parent_id = ids::wire(REDEMPTION, parent_uuid);
    let child_uuids: Vec<Uuid> = applied.iter().map(|_| promo_store::new_id()).collect();
    let child_ids: Vec<String> = child_uuids.iter().map(|u| ids::wire(REDEMPTION, *u)).collect();

    // the order: stored (reused) or new, with the discounts and the redemption map
    let order_uuid = ctx.stored_order.map(|o| o.id).unwrap_or_else(promo_store::new_id);
    let order_wire = ids::wire(ids::ORDER, order_uuid);
    let status = ctx.order.status.clone().unwrap_or_else(|| "PAID".into());
    let identity = OrderIdentity {
        id: Some(order_wire.clone()),
        source_id: ctx.stored_order.and_then(|o| o.source_id.clone()).or_else(|| ctx.order.source_id.clone()),
        status: Some(status.clone()),
        customer_id: ctx.customer.wire_id(),
        created_at: Some(crate::wire::timestamp(ctx.stored_order.map_or(ctx.now, |o| o.created_at))),
    };
    let mut redemptions_map = ctx
        .stored_order
        .and_then(|o| o.doc.0.get("redemptions").and_then(Value::as_object).cloned())
        .unwrap_or_default();
    let date = crate::wire::timestamp(ctx.now);
    if stacked {
        redemptions_map.insert(
            parent_id.clone(),
            json!({"date": date, "related_object_type": "redemption", "related_object_id": parent_id, "stacked": child_ids}),
        );
    } else if let Some((red, _, related)) = applied.first() {
        redemptions_map.insert(
            child_ids[0].clone(),
            crate::wire::strip_nulls(json!({"date": date, "related_object_type": red.object.as_str(),
                "related_object_id": related.id, "related_object_parent_id": related.campaign.map(|c| ids::wire(ids::CAMPAIGN, c))})),
        );
    }
    let order_doc = render::raw(&render::OrderOut {
        order: ctx.order,
        totals: &eval.order,
        identity: &identity,
        redemptions: render::OrderRedemptions::Map(&redemptions_map),
    });

    let claims_json: Value = claims.iter().map(|c| json!({"key": c.key, "delta": c.delta})).collect();
    let mut rows = Vec::new();
    for (i, (red, a, related)) in applied.into_iter().enumerate() {
        // a redemption shows the order after its own step (without the redemption map)
        let step_order = match &a.order {
            Some(t) => render::raw(&render::OrderOut {
                order: ctx.order,
                totals: t,
                identity: &identity,
                redemptions: render::OrderRedemptions::LeftOut,
            }),
            None => order_doc.clone(),
        };
        let mut fields = ctx.redemption_fields(&child_ids[i]);
        if stacked {
            fields.insert("redemption".into(), json!(parent_id));
        }
        fields.insert("result".into(), json!("SUCCESS"));
        fields.insert("status".into(), json!("SUCCEEDED"));
        fields.insert("related_object_type".into(), json!(related.object_type));
        fields.insert("related_object_id".into(), json!(related.id));
        if let Some((credits, _)) = a.gift {
            fields.insert("amount".into(), json!(credits));
            fields.insert("gift".into(), json!({"amount": credits}));
        }
        let voucher_code = ctx.code_of(red);
        // a campaign's tier or code counts in its and its campaign's figures
        let step_totals = a.order.as_ref().unwrap_or(&eval.order);
        let figures = related.campaign.map(|_| (step_totals.amount, a.discount));
        let cost_amount = related.campaign.and_then(|_| promo_engine::cart::order_cost(ctx.order, step_totals));
        fields.insert(related.object_type.into(), ctx.related_object(red, &related));
        let doc = render::raw(&render::WithOrder { fields: &fields, order: &step_order });
        rows.push(ledger::NewRedemption {
            id: child_uuids[i],
            parent_id: stacked.then_some(parent_uuid),
            success: true,
            related_object_type: related.object_type.into(),
            related_object_id: related.id,
            campaign_id: related.campaign,
            customer_id: ctx.customer.id,
            order_id: Some(order_uuid),
            amount: a.gift.map_or(0, |g| g.0),
            session_key: ctx.session.map(str::to_owned),
            failure_code: None,
            failure_message: None,
            claims: if stacked { json!([]) } else { claims_json.clone() },
            doc,
            voucher_code,
            tracking_id: ctx.customer.tracking_id.clone(),
            figures,
            cost_amount,
        });
    }
    if stacked {
        let mut fields = ctx.redemption_fields(&parent_id);
        fields.insert("result".into(), json!("SUCCESS"));
        fields.insert("status".into(), json!("SUCCEEDED"));
        fields.insert("related_object_type".into(), json!("redemption"));
        fields.insert("related_object_id".into(), json!(parent_id));
        fields.insert("amount".into(), json!(rows.iter().map(|r| r.amount).sum::<i64>()));
        let doc = render::raw(&render::WithOrder { fields: &fields, order: &order_doc });
        rows.insert(
            0,
            ledger::NewRedemption {
                id: parent_uuid,
                parent_id: None,
                success: true,
                related_object_type: "redemption".into(),
                related_object_id: parent_id.clone(),
                campaign_id: None,
                customer_id: ctx.customer.id,
                order_id: Some(order_uuid),
                amount: 0,
                session_key: ctx.session.map(str::to_owned),
                failure_code: None,
                failure_message: None,
                claims: claims_json,
                doc,
                voucher_code: None,
                tracking_id: ctx.customer.tracking_id.clone(),
                figures: None,
                cost_amount: None,
            },
        );
    }
    let order_source = ctx.stored_order.and_then(|o| o.source_id.as_deref()).or(ctx.order.source_id.as_deref());
    let order_write = ledger::OrderWrite {
        id: order_uuid,
        source_id: order_source,
        customer: ctx.customer.id,
        doc: &order_doc,
        stored: ctx.stored_order.is_some(),
    };
    match write {
        Write::InTransaction => ledger::record_success(&mut *conn, ctx.ledger_write(), &rows, order_write).await?,
        Write::Atomic => {
            let claimed = (claims.as_slice(), ctx.session);
            if let Some(i) =
                ledger::redeem_atomically(&mut *conn, ctx.ledger_write(), claimed, &rows, order_write).await?
            {
                return Ok(Err(i));
            }
        }
    }
    let lists = redeemable_lists(eval, ctx.req, ctx.defs, ctx.order, &identity, Listing::NotApplied);
    let (parent, children) = match stacked {
        true => (rows.first().map(|r| &*r.doc), &rows[1..]),
        false => (None, &rows[..]),
    };
    let body = Redeemed {
        redemptions: children.iter().map(|r| &*r.doc).collect(),
        parent_redemption: parent,
        order: &order_doc,
        inapplicable_redeemables: lists.inapplicable,
        skipped_redeemables: lists.skipped,
    };
    Ok(Ok(Reply { status: 200, body: serde_json::to_vec(&body).unwrap_or_default(), replayed: false }))
}

/// The answer to a successful redemption.
#[derive(serde::Serialize)]
struct Redeemed<'a> {
    redemptions: Vec<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_redemption: Option<&'a RawValue>,
    order: &'a RawValue,
    inapplicable_redeemables: Vec<Value>,
    skipped_redeemables: Vec<Value>,
}

/// Records the failure of a redemption (one `FAILURE` row per inapplicable redeemable, nothing
/// consumed) and answers with the first one's error.
async fn persist_failure(
    conn: &mut PgConnection,
    ctx: &RedeemCtx<'_>,
    eval: &StackedEvaluation<'_>,
) -> Result<Reply, ApiError> {
    let mut rows = Vec::new();
    let mut first: Option<ApiError> = None;
    let order_doc = render::order(
        ctx.order,
        &eval.order,
        &OrderIdentity { customer_id: ctx.customer.wire_id(), ..OrderIdentity::default() },
    );
    for r in &eval.results {
        let Outcome::Inapplicable(rejection) = &r.outcome else { continue };
        let uuid = promo_store::new_id();
        let id = ids::wire(FAILED_REDEMPTION, uuid);
        let mut embedded = None;
        let (object_type, related_id, campaign, code) = match r.redeemable {
            Some(red) => {
                let related = ctx.related(red);
                // the code or tier that failed, as a successful redemption shows it
                embedded = Some((related.object_type, ctx.related_object(red, &related)));
                (related.object_type, related.id, related.campaign, ctx.code_of(red))
            }
            None => {
                (r.object.as_str(), r.id.clone(), None, Some(r.id.clone()).filter(|_| r.object.as_str() == "voucher"))
            }
        };
        let mut doc = ctx.redemption_fields(&id);
        doc.insert("order".into(), order_doc.clone());
        doc.insert("result".into(), json!("FAILURE"));
        doc.insert("status".into(), json!("FAILED"));
        doc.insert("failure_code".into(), json!(rejection.key.as_str()));
        doc.insert("failure_message".into(), json!(rejection.key.message()));
        doc.insert(
            "related_object_type".into(),
            json!(if object_type == "promotion_stack" { "promotion_tier" } else { object_type }),
        );
        doc.insert("related_object_id".into(), json!(related_id));
        if let Some((field, object)) = embedded {
            doc.insert(field.into(), object);
        }
        rows.push(ledger::NewRedemption {
            id: uuid,
            parent_id: None,
            success: false,
            related_object_type: object_type.into(),
            related_object_id: related_id,
            campaign_id: campaign,
            customer_id: ctx.customer.id,
            order_id: None,
            amount: 0,
            session_key: ctx.session.map(str::to_owned),
            failure_code: Some(rejection.key.as_str().into()),
            failure_message: Some(rejection.key.message().into()),
            claims: json!([]),
            doc: render::raw(&doc),
            voucher_code: code,
            tracking_id: ctx.customer.tracking_id.clone(),
            figures: None,
            cost_amount: None,
        });
        if first.is_none() {
            let details = if rejection.key == EngineKey::NotFound {
                format!("Cannot find {} with id {}", r.object.as_str(), r.id)
            } else {
                rejection.details.clone()
            };
            first = Some(
                ApiError::new(ErrorKey::Redeemable(rejection.key))
                    .details(details)
                    .resource(id.clone(), "redemption")
                    .custom_message(rejection.rule_message.clone()),
            );
        }
    }
    ledger::insert_redemptions(&mut *conn, ctx.ledger_write(), &rows).await?;
    let err = first.unwrap_or_else(|| invalid("No redeemable could be applied").resource(String::new(), "redemption"));
    Ok(error_reply(err))
}

#[cfg(test)]
mod counter_key_tests {
    use super::*;

    #[test]
    fn the_stores_voucher_counter_key_is_the_engines() {
        let id =
            crate::ids::wire(crate::ids::VOUCHER, uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0));
        let hex = id.strip_prefix("v_").expect("a voucher's wire id starts with v_");
        assert_eq!(
            format!("{}{hex}{}", QUANTITY_KEY.0, QUANTITY_KEY.1),
            promo_engine::CounterKey::voucher_quantity(&id).to_string()
        );
    }
}
