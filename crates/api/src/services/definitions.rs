//! A project's compiled definitions (campaigns, tiers, stacks, rules, categories, collections,
//! segments), cached in memory per project and definitions version. Every write to a definition
//! bumps the version in the database (triggers), and the authentication read already returns
//! it, so a checkout request knows whether its cached copy is current without an extra query.
//! Vouchers are not cached (there can be millions): one point read per code per request.

use crate::error::ApiError;
use crate::ids;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use promo_engine::condition::{Clock, Filter, Operand};
use promo_engine::redeemable::{Benefit, Category, Redeemable, RedeemableObject};
use promo_engine::rules::{RuleSet, ValidationRuleDef};
use promo_engine::schedule::{Schedule, ScheduleDef};
use promo_engine::{Catalog, Discount, DiscountDef, ItemRef, Metadata, QualificationIndex, StackingRules};
use promo_store::campaigns::VoucherRow;
use promo_store::definitions::DefinitionRows;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use uuid::Uuid;

const SCHEDULE_FIELDS: &[&str] =
    &["start_date", "expiration_date", "validity_timeframe", "validity_day_of_week", "validity_hours"];

/// A campaign as redeemables need it.
#[derive(Debug, Clone)]
pub struct CampaignDef {
    pub id: Uuid,
    pub wire_id: String,
    pub name: String,
    pub campaign_type: String,
    pub active: bool,
    pub schedule: Schedule,
    pub categories: Vec<Category>,
    pub rules: Option<Arc<RuleSet>>,
    pub guardrails: promo_engine::guardrails::Guardrails,
    /// What a tier's embedded `campaign` shows: the schedule as written and `category_id`
    /// (null where not set).
    pub wire_fields: Map<String, Value>,
}

/// A tier with what responses show of it.
#[derive(Debug, Clone)]
pub struct TierDef {
    pub redeemable: Arc<Redeemable>,
    pub doc: Value,
    pub updated_at: Option<DateTime<Utc>>,
    /// Its qualification entry without the order, rendered on first use (the same for every
    /// cart at this definitions version).
    pub entry_fields: OnceLock<RenderedFields>,
}

/// A JSON object's fields, each already rendered to JSON text.
pub type RenderedFields = Arc<[(String, Box<serde_json::value::RawValue>)]>;

#[derive(Debug, Clone)]
pub struct StackDef {
    pub wire_id: String,
    pub name: String,
    pub campaign_id: Uuid,
    pub tiers: Vec<Uuid>,
    pub categories: Vec<Category>,
    pub created_at: DateTime<Utc>,
}

/// Compiled validation rules and which objects they are assigned to.
#[derive(Default)]
struct RuleAssignments {
    rules: HashMap<Uuid, Arc<RuleSet>>,
    /// Rule ids by the object's wire id, in assignment order.
    by_object: HashMap<String, Vec<Uuid>>,
}

impl RuleAssignments {
    /// The first rule assigned to the object (a voucher or tier uses its own, else its campaign's).
    fn first(&self, object_id: &str) -> Option<Arc<RuleSet>> {
        self.by_object.get(object_id)?.iter().find_map(|id| self.rules.get(id)).cloned()
    }
}

#[derive(Debug, Clone)]
struct AutoSegment {
    wire_id: String,
    filter: Filter,
}

/// Everything compiled for one project at one definitions version.
pub struct Definitions {
    pub version: i64,
    pub tz: Tz,
    pub stacking: StackingRules,
    /// `stacking` as responses show it, rendered once.
    pub stacking_json: Value,
    pub catalog: Catalog,
    /// Categories by wire id.
    pub categories: HashMap<String, Category>,
    pub campaigns: HashMap<Uuid, CampaignDef>,
    pub tiers: HashMap<Uuid, TierDef>,
    pub stacks: HashMap<Uuid, StackDef>,
    rules: RuleAssignments,
    auto_segments: Vec<AutoSegment>,
    /// Tiers for qualification, indexed by what they need in a cart.
    pub index: QualificationIndex,
    /// Whether an active webhook endpoint listens to the project's events.
    pub webhooks: bool,
    /// Whether the project has products: checkouts then resolve carts against them.
    pub has_catalog: bool,
    /// The products the tiers' UNIT discounts give (read with a cart's products).
    pub unit_products: Vec<promo_engine::cart::AddedProduct>,
    /// Whether an auto-update segment or a rule (`customer.orders.count`) reads the customer's
    /// summary: only then does a checkout count the customer's orders and redemptions.
    pub segments_read_summary: bool,
    /// Whether the project has static segments (members listed, not a filter): only then does a
    /// checkout read the customer's memberships.
    pub static_segments: bool,
}

/// The time-window fields of a campaign, voucher or tier document (what `ScheduleDef` reads).
pub fn schedule_fields(doc: &Map<String, Value>) -> Map<String, Value> {
    SCHEDULE_FIELDS
        .iter()
        .filter_map(|f| doc.get(*f).filter(|v| !v.is_null()).map(|v| ((*f).to_owned(), v.clone())))
        .collect()
}

fn schedule_of(doc: &Value, what: &str) -> Schedule {
    let fields = doc.as_object().map(schedule_fields).unwrap_or_default();
    let compiled = serde_json::from_value::<ScheduleDef>(Value::Object(fields))
        .map_err(|e| e.to_string())
        .and_then(|def| Schedule::compile(&def, "").map_err(|e| e.to_string()));
    compiled.unwrap_or_else(|e| {
        // Checked when written; a stored definition the engine now refuses never applies.
        tracing::warn!(what, error = %e, "stored schedule does not compile");
        let mut never = Schedule::default();
        never.start = Some(DateTime::<Utc>::MAX_UTC);
        never
    })
}

/// Compiles a stored discount; `None` (never applies) if it no longer compiles.
pub fn discount_of(v: Option<&Value>, what: &str) -> Option<Discount> {
    let compiled = v
        .ok_or_else(|| "missing".to_owned())
        .and_then(|v| serde_json::from_value::<DiscountDef>(v.clone()).map_err(|e| e.to_string()))
        .and_then(|def| Discount::compile(&def, "discount").map_err(|e| e.to_string()));
    match compiled {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(what, error = %e, "stored discount does not compile");
            None
        }
    }
}

fn metadata_of(doc: &Value) -> Metadata {
    doc.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default()
}

impl Definitions {
    fn compile(rows: DefinitionRows) -> Self {
        let tz: Tz = rows.timezone.parse().unwrap_or(chrono_tz::UTC);
        let stacking = rows
            .stacking_rules
            .as_ref()
            .and_then(|d| serde_json::from_value::<StackingRules>(d.0.clone()).ok())
            .unwrap_or_default();
        let categories: HashMap<Uuid, Category> = rows
            .categories
            .iter()
            .map(|c| {
                let cat = Category {
                    id: ids::wire(ids::CATEGORY, c.category_id),
                    name: c.name.clone(),
                    hierarchy: i64::from(c.hierarchy),
                    created_at: Some(c.created_at),
                };
                (c.category_id, cat)
            })
            .collect();
        let category_list = |id: Option<Uuid>| -> Vec<Category> {
            id.and_then(|id| categories.get(&id)).cloned().into_iter().collect()
        };
        let rules: HashMap<Uuid, Arc<RuleSet>> = rows
            .rules
            .iter()
            .map(|r| {
                let wire = ids::wire(ids::VALIDATION_RULE, r.rule_id);
                let compile = |doc: Value| {
                    serde_json::from_value::<ValidationRuleDef>(doc)
                        .map_err(|e| e.to_string())
                        .and_then(|def| RuleSet::compile(&def, Some(wire.clone())).map_err(|e| e.to_string()))
                };
                // an unreadable error message only loses the message; the rules still hold
                let compiled = compile(r.doc.0.clone()).or_else(|e| {
                    let mut without_message = r.doc.0.clone();
                    match without_message.as_object_mut().and_then(|d| d.remove("error")) {
                        Some(_) => compile(without_message),
                        None => Err(e),
                    }
                });
                match compiled {
                    Ok(set) => (r.rule_id, Arc::new(set)),
                    Err(e) => {
                        // fail closed: its redeemables apply to no cart, never to every cart
                        tracing::warn!(rule = wire, error = %e, "stored validation rule does not compile");
                        (r.rule_id, Arc::new(RuleSet::unusable(Some(wire))))
                    }
                }
            })
            .collect();
        let mut by_object: HashMap<String, Vec<Uuid>> = HashMap::new();
        for a in &rows.assignments {
            by_object.entry(a.related_object_id.clone()).or_default().push(a.rule_id);
        }
        let rules = RuleAssignments { rules, by_object };

        let mut campaigns = HashMap::new();
        for c in &rows.campaigns {
            let wire_id = ids::wire(ids::CAMPAIGN, c.campaign_id);
            campaigns.insert(
                c.campaign_id,
                CampaignDef {
                    id: c.campaign_id,
                    name: c.name.clone(),
                    campaign_type: c.campaign_type.clone(),
                    active: c.active,
                    schedule: schedule_of(&c.doc.0, &wire_id),
                    categories: category_list(c.category_id),
                    rules: rules.first(&wire_id),
                    // checked when written; a stored value that no longer reads protects fully
                    guardrails: c
                        .doc
                        .0
                        .get("guardrails")
                        .and_then(|g| serde_json::from_value(g.clone()).ok())
                        .unwrap_or_default(),
                    wire_fields: SCHEDULE_FIELDS
                        .iter()
                        .map(|f| (f.to_string(), c.doc.0.get(*f).cloned().unwrap_or(Value::Null)))
                        .chain([(
                            "category_id".to_owned(),
                            json!(c.category_id.map(|id| ids::wire(ids::CATEGORY, id))),
                        )])
                        .collect(),
                    wire_id,
                },
            );
        }

        let mut tiers = HashMap::new();
        for t in &rows.tiers {
            let Some(campaign) = campaigns.get(&t.campaign_id) else { continue };
            let wire_id = ids::wire(ids::TIER, t.tier_id);
            let doc = &t.doc.0;
            let Some(discount) = discount_of(doc.get("action").and_then(|a| a.get("discount")), &wire_id) else {
                continue;
            };
            let own_category =
                doc.get("category_id").and_then(Value::as_str).and_then(|c| ids::try_parse(ids::CATEGORY, c));
            let rule = rules.first(&wire_id).or_else(|| campaign.rules.clone());
            let redeemable = Redeemable {
                counter_id: wire_id.clone(),
                name: doc.get("name").and_then(Value::as_str).map(str::to_owned),
                campaign_id: Some(campaign.wire_id.clone()),
                campaign_name: Some(campaign.name.clone()),
                active: t.active,
                campaign_active: campaign.active,
                schedule: schedule_of(doc, &wire_id),
                campaign_schedule: campaign.schedule.clone(),
                categories: if own_category.is_some() {
                    category_list(own_category)
                } else {
                    campaign.categories.clone()
                },
                rules: rule,
                hierarchy: i64::from(t.hierarchy),
                metadata: metadata_of(doc),
                created_at: t.created_at,
                guardrails: campaign.guardrails,
                ..Redeemable::new(wire_id, RedeemableObject::PromotionTier, Benefit::Discount(discount))
            };
            tiers.insert(
                t.tier_id,
                TierDef {
                    redeemable: Arc::new(redeemable),
                    doc: doc.clone(),
                    updated_at: t.updated_at,
                    entry_fields: OnceLock::new(),
                },
            );
        }

        let stacks = rows
            .stacks
            .iter()
            .filter_map(|s| {
                let doc = &s.doc.0;
                let tiers: Vec<Uuid> = doc
                    .pointer("/tiers/ids")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|v| v.as_str()).filter_map(|t| ids::try_parse(ids::TIER, t)).collect())
                    .unwrap_or_default();
                let category =
                    doc.get("category_id").and_then(Value::as_str).and_then(|c| ids::try_parse(ids::CATEGORY, c));
                Some((
                    s.id,
                    StackDef {
                        wire_id: ids::wire(ids::STACK, s.id),
                        name: doc.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                        campaign_id: s.parent_id.or_else(|| {
                            doc.get("campaign_id")
                                .and_then(Value::as_str)
                                .and_then(|c| ids::try_parse(ids::CAMPAIGN, c))
                        })?,
                        tiers,
                        categories: category_list(category),
                        created_at: s.created_at,
                    },
                ))
            })
            .collect();

        let mut catalog = Catalog::new();
        for c in &rows.collections {
            let wire_id = ids::wire(ids::COLLECTION, c.id);
            let doc = &c.doc.0;
            if let Some(filter) = doc.get("filter") {
                if let Err(e) = catalog.add_filter(wire_id.clone(), filter) {
                    tracing::warn!(collection = wire_id, error = %e, "stored collection filter does not compile");
                }
            } else {
                let members = doc
                    .get("products")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(ItemRef::from_json).collect())
                    .unwrap_or_default();
                catalog.add_static(wire_id, members);
            }
        }

        let auto_segments: Vec<AutoSegment> = rows
            .segments
            .iter()
            .filter_map(|s| {
                let filter = Filter::compile(s.doc.0.get("filter")?, "filter").ok()?;
                Some(AutoSegment { wire_id: ids::wire(ids::SEGMENT, s.id), filter })
            })
            .collect();

        let index = QualificationIndex::new(tiers.values().map(|t| t.redeemable.clone()).collect());
        let unit_products = tiers.values().flat_map(|t| t.redeemable.unit_products().cloned()).collect();
        let segments_read_summary = auto_segments.iter().any(|s| s.filter.fields().any(|f| f.starts_with("summary.")))
            || rules.rules.values().any(|r| r.reads_customer_summary());
        let categories = categories.into_values().map(|c| (c.id.clone(), c)).collect();
        Definitions {
            categories,
            segments_read_summary,
            version: rows.version,
            webhooks: rows.webhooks,
            has_catalog: rows.has_catalog,
            unit_products,
            // a segment without a filter that compiles lists its members
            static_segments: rows.segments.len() > auto_segments.len(),
            tz,
            stacking_json: serde_json::to_value(&stacking).unwrap_or_default(),
            stacking,
            catalog,
            campaigns,
            tiers,
            stacks,
            rules,
            auto_segments,
            index,
        }
    }

    /// Compiles a voucher row into a redeemable; `None` if its stored discount no longer compiles.
    pub fn voucher(&self, v: &VoucherRow, redeemed_via_code: bool) -> Option<Redeemable> {
        let doc = &v.doc.0;
        let wire_id = ids::wire(ids::VOUCHER, v.voucher_id);
        let discount = discount_of(doc.get("discount"), &wire_id)?;
        let campaign = v.campaign_id.and_then(|c| self.campaigns.get(&c));
        let rule = self.rules.first(&wire_id).or_else(|| campaign.and_then(|c| c.rules.clone()));
        let quantity = doc.pointer("/redemption/quantity").and_then(Value::as_i64);
        let id = if redeemed_via_code { v.code.clone() } else { wire_id.clone() };
        let r = Redeemable {
            counter_id: wire_id,
            name: None,
            campaign_id: campaign.map(|c| c.wire_id.clone()),
            campaign_name: campaign.map(|c| c.name.clone()),
            active: v.active,
            campaign_active: campaign.is_none_or(|c| c.active),
            schedule: schedule_of(doc, &v.code),
            campaign_schedule: campaign.map(|c| c.schedule.clone()).unwrap_or_default(),
            categories: match doc.get("category_id").and_then(Value::as_str) {
                // its own category, looked up among the project's
                Some(c) => self.categories.get(c).cloned().into_iter().collect(),
                None => campaign.map(|c| c.categories.clone()).unwrap_or_default(),
            },
            rules: rule,
            quantity,
            holder_id: v.holder_id.map(|h| ids::wire(ids::CUSTOMER, h)),
            metadata: metadata_of(doc),
            created_at: v.created_at,
            guardrails: campaign.map(|c| c.guardrails).unwrap_or_default(),
            ..Redeemable::new(id, RedeemableObject::Voucher, Benefit::Discount(discount))
        };
        Some(r)
    }

    /// Auto-update segments whose filter the customer document matches.
    pub fn auto_segments_of(&self, customer: &Value, now: DateTime<Utc>) -> Vec<String> {
        let clock = Clock { now, tz: self.tz };
        let get = |path: &str| Operand::from_json(path.split('.').try_fold(customer, |v, k| v.get(k)));
        self.auto_segments.iter().filter(|s| s.filter.matches(get, &clock)).map(|s| s.wire_id.clone()).collect()
    }
}

/// Compiled definitions per project, replaced when the project's version moves on. Bounded: at
/// most `capacity` projects are kept (the least recently used goes first), and a project whose
/// definitions are missing or stale is loaded by one request at a time — the others wait for it
/// and use what it compiled (a burst after a change compiles once, not once per request); other
/// projects never wait for it.
pub struct DefinitionsCache {
    projects: RwLock<HashMap<promo_store::ProjectId, Cached>>,
    capacity: usize,
    /// A lock per project while it loads (entries live only as long as a load).
    loading: std::sync::Mutex<HashMap<promo_store::ProjectId, Arc<tokio::sync::Mutex<()>>>>,
    clock: std::time::Instant,
    loads: std::sync::atomic::AtomicU64,
}

struct Cached {
    definitions: Arc<Definitions>,
    /// Milliseconds since `clock` when last used.
    used_ms: std::sync::atomic::AtomicU64,
}

/// Projects kept by default (`PROMO_DEFINITIONS_CACHE_PROJECTS`).
pub const DEFAULT_CACHE_PROJECTS: usize = 10_000;

impl Default for DefinitionsCache {
    fn default() -> Self {
        DefinitionsCache::with_capacity(DEFAULT_CACHE_PROJECTS)
    }
}

impl DefinitionsCache {
    pub fn with_capacity(capacity: usize) -> Self {
        DefinitionsCache {
            projects: RwLock::default(),
            capacity: capacity.max(1),
            loading: std::sync::Mutex::default(),
            clock: std::time::Instant::now(),
            loads: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The project's definitions at version `min_version` or newer.
    pub async fn get(
        &self,
        conn: &mut promo_store::PgConnection,
        project: promo_store::ProjectId,
        min_version: i64,
    ) -> Result<Arc<Definitions>, ApiError> {
        if let Some(d) = self.cached(project, min_version) {
            return Ok(d);
        }
        let lock = {
            let mut loading = self.loading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            loading.entry(project).or_default().clone()
        };
        let guard = lock.lock().await;
        // another request may have loaded it while this one waited
        if let Some(d) = self.cached(project, min_version) {
            return Ok(d);
        }
        let loaded = promo_store::definitions::load(conn, project).await;
        drop(guard);
        {
            // the last one out removes the project's lock (the map holds one reference, `lock` another)
            let mut loading = self.loading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if Arc::strong_count(&lock) <= 2 {
                loading.remove(&project);
            }
        }
        let rows = loaded?.ok_or_else(|| ApiError::not_found("project", &project.to_string()))?;
        self.loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let compiled = Arc::new(Definitions::compile(rows));
        let mut map = self.projects.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let keep = map.get(&project).is_some_and(|c| c.definitions.version > compiled.version);
        if !keep {
            if map.len() >= self.capacity && !map.contains_key(&project) {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, c)| c.used_ms.load(std::sync::atomic::Ordering::Relaxed))
                    .map(|(id, _)| *id);
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
            map.insert(project, Cached { definitions: compiled.clone(), used_ms: self.now_ms().into() });
        }
        Ok(compiled)
    }

    fn now_ms(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64
    }

    fn cached(&self, project: promo_store::ProjectId, min_version: i64) -> Option<Arc<Definitions>> {
        let map = self.projects.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let c = map.get(&project).filter(|c| c.definitions.version >= min_version)?;
        c.used_ms.store(self.now_ms(), std::sync::atomic::Ordering::Relaxed);
        Some(c.definitions.clone())
    }

    /// Projects held now.
    pub fn len(&self) -> usize {
        self.projects.read().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Loads from the database since start (a burst after a change should add one).
    pub fn loads(&self) -> u64 {
        self.loads.load(std::sync::atomic::Ordering::Relaxed)
    }
}
