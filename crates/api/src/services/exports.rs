//! Exports (Voucherify's Exports API): an export is scheduled, a worker renders its object's
//! rows exactly as the list endpoints show them, keeps those the filters pass and writes the
//! chosen fields as CSV into chunks in the database; the download streams the chunks, on any
//! server, authorized by a short-lived token signed with the export's own secret.

use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::tenant::Tenant;
use crate::types::exports::{ExportIn, ExportOut, ExportParameters, ExportResult, ExportsList};
use crate::wire::timestamp;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use promo_engine::condition::{Clock, Filter, Operand};
use promo_store::exports::{self as store, Batch, ExportRow, Source};
use promo_store::{PgPool, ProjectId};
use serde_json::Value;
#[cfg(test)]
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;
use uuid::Uuid;

/// Rows rendered at a time (the list endpoints' work per batch).
const BATCH: usize = 500;
/// Bytes of CSV per stored chunk.
const CHUNK_BYTES: usize = 1 << 20;
/// Distinct metadata keys an export expands into columns at most.
const MAX_METADATA_COLUMNS: usize = 500;

/// An exported object: where its rows come from and what the reference documents for it.
struct ObjectSpec {
    name: &'static str,
    source: Source,
    /// Fields and where each is read in the object as the list endpoint shows it (the first
    /// path with a value).
    fields: &'static [(&'static str, &'static [&'static str])],
    defaults: &'static [&'static str],
    orders: &'static [&'static str],
    /// Filter fields besides the exported ones (`metadata.` always).
    filter_prefixes: &'static [&'static str],
}

const OBJECTS: &[ObjectSpec] = &[
    ObjectSpec {
        name: "redemption",
        source: Source::Redemptions,
        fields: &[
            ("id", &["/id"]),
            ("object", &["/object"]),
            ("date", &["/date", "/created_at"]),
            ("voucher_code", &["/voucher/code", "/redemption/voucher/code"]),
            ("campaign", &["/voucher/campaign", "/promotion_tier/campaign/name"]),
            ("promotion_tier_id", &["/promotion_tier/id"]),
            ("customer_id", &["/customer_id", "/customer/id"]),
            ("customer_source_id", &["/customer/source_id"]),
            ("customer_name", &["/customer/name"]),
            ("tracking_id", &["/tracking_id"]),
            ("order_id", &["/order/id"]),
            ("order_amount", &["/order/amount"]),
            ("gift_amount", &["/gift/amount"]),
            ("loyalty_points", &["/loyalty_card/points"]),
            ("result", &["/result"]),
            ("failure_code", &["/failure_code"]),
            ("failure_message", &["/failure_message"]),
            ("metadata", &["/metadata"]),
        ],
        defaults: &["id", "object", "voucher_code", "customer_id", "date", "result"],
        orders: &["id", "voucher_code", "tracking_id", "customer_id", "created_at"],
        filter_prefixes: &["created_at", "status", "campaign_id"],
    },
    ObjectSpec {
        name: "voucher",
        source: Source::Vouchers,
        fields: &[
            ("code", &["/code"]),
            ("voucher_type", &["/type"]),
            (
                "value",
                &[
                    "/discount/amount_off",
                    "/discount/percent_off",
                    "/discount/unit_off",
                    "/discount/fixed_amount",
                    "/gift/balance",
                ],
            ),
            (
                "formula",
                &[
                    "/discount/amount_off_formula",
                    "/discount/percent_off_formula",
                    "/discount/unit_off_formula",
                    "/discount/fixed_amount_formula",
                ],
            ),
            ("discount_type", &["/discount/type"]),
            ("campaign", &["/campaign"]),
            ("category", &["/category"]),
            ("start_date", &["/start_date"]),
            ("expiration_date", &["/expiration_date"]),
            ("gift_balance", &["/gift/balance"]),
            ("loyalty_balance", &["/loyalty_card/balance"]),
            ("redemption_quantity", &["/redemption/quantity"]),
            ("redemption_count", &["/redemption/redeemed_quantity"]),
            ("active", &["/active"]),
            ("qr_code", &["/assets/qr/url"]),
            ("bar_code", &["/assets/barcode/url"]),
            ("metadata", &["/metadata"]),
            ("id", &["/id"]),
            ("is_referral_code", &["/is_referral_code"]),
            ("created_at", &["/created_at"]),
            ("updated_at", &["/updated_at"]),
            ("validity_timeframe_interval", &["/validity_timeframe/interval"]),
            ("validity_timeframe_duration", &["/validity_timeframe/duration"]),
            ("validity_day_of_week", &["/validity_day_of_week"]),
            ("discount_amount_limit", &["/discount/amount_limit"]),
            ("campaign_id", &["/campaign_id"]),
            ("additional_info", &["/additional_info"]),
            ("customer_id", &["/holder_id"]),
            ("discount_effect", &["/discount/effect"]),
            ("discount_unit_type", &["/discount/unit_type"]),
            ("discount_unit_effect", &["/discount/effect"]),
            ("validation_rules_id", &["/validation_rules_assignments/data/0/rule_id"]),
            ("customer_source_id", &["/holder/source_id"]),
        ],
        defaults: &["code", "voucher_type", "value", "discount_type"],
        orders: &["created_at", "updated_at", "code"],
        filter_prefixes: &["redemption.", "discount.", "type", "campaign_id"],
    },
    ObjectSpec {
        name: "customer",
        source: Source::Customers,
        fields: &[
            ("name", &["/name"]),
            ("id", &["/id"]),
            ("description", &["/description"]),
            ("email", &["/email"]),
            ("source_id", &["/source_id"]),
            ("created_at", &["/created_at"]),
            ("address_city", &["/address/city"]),
            ("address_state", &["/address/state"]),
            ("address_line_1", &["/address/line_1"]),
            ("address_line_2", &["/address/line_2"]),
            ("address_country", &["/address/country"]),
            ("address_postal_code", &["/address/postal_code"]),
            ("redemptions_total_redeemed", &["/summary/redemptions/total_redeemed"]),
            ("redemptions_total_failed", &["/summary/redemptions/total_failed"]),
            ("redemptions_total_succeeded", &["/summary/redemptions/total_succeeded"]),
            ("redemptions_total_rolled_back", &["/summary/redemptions/total_rolled_back"]),
            ("redemptions_total_rollback_failed", &["/summary/redemptions/total_rollback_failed"]),
            ("redemptions_total_rollback_succeeded", &["/summary/redemptions/total_rollback_succeeded"]),
            ("orders_total_amount", &["/summary/orders/total_amount"]),
            ("orders_total_count", &["/summary/orders/total_count"]),
            ("orders_average_amount", &["/summary/orders/average_amount"]),
            ("orders_last_order_amount", &["/summary/orders/last_order_amount"]),
            ("orders_last_order_date", &["/summary/orders/last_order_date"]),
            ("loyalty_points", &["/loyalty/points"]),
            ("loyalty_referred_customers", &["/loyalty/referred_customers"]),
            ("updated_at", &["/updated_at"]),
            ("phone", &["/phone"]),
            ("birthday", &["/birthday", "/birthdate"]),
            ("metadata", &["/metadata"]),
            ("birthdate", &["/birthdate"]),
        ],
        defaults: &["name", "source_id"],
        orders: &["name", "id", "email", "source_id", "created_at", "updated_at"],
        filter_prefixes: &["address.", "summary.", "loyalty."],
    },
    ObjectSpec {
        name: "publication",
        source: Source::Publications,
        fields: &[
            ("voucher_code", &["/voucher/code", "/voucher_code"]),
            ("customer_id", &["/customer_id", "/customer/id"]),
            ("customer_source_id", &["/customer/source_id"]),
            ("date", &["/created_at"]),
            ("channel", &["/channel"]),
            ("campaign", &["/voucher/campaign"]),
            ("is_winner", &["/is_winner"]),
            ("metadata", &["/metadata"]),
        ],
        defaults: &["voucher_code", "customer_id", "date", "channel"],
        orders: &["id", "voucher_code", "tracking_id", "customer_id", "created_at", "channel"],
        filter_prefixes: &["created_at", "source_id"],
    },
    ObjectSpec {
        name: "order",
        source: Source::Orders,
        fields: &[
            ("id", &["/id"]),
            ("source_id", &["/source_id"]),
            ("created_at", &["/created_at"]),
            ("updated_at", &["/updated_at"]),
            ("status", &["/status"]),
            ("amount", &["/amount"]),
            ("discount_amount", &["/discount_amount"]),
            ("items_discount_amount", &["/items_discount_amount"]),
            ("total_discount_amount", &["/total_discount_amount"]),
            ("total_amount", &["/total_amount"]),
            ("customer_id", &["/customer_id"]),
            ("referrer_id", &["/referrer_id"]),
            ("metadata", &["/metadata"]),
        ],
        defaults: &["id", "source_id", "status"],
        orders: &["created_at", "updated_at", "status"],
        filter_prefixes: &[],
    },
    ObjectSpec {
        name: "product",
        source: Source::Products,
        fields: &[
            ("id", &["/id"]),
            ("name", &["/name"]),
            ("price", &["/price"]),
            ("image_url", &["/image_url"]),
            ("source_id", &["/source_id"]),
            ("attributes", &["/attributes"]),
            ("created_at", &["/created_at"]),
            ("updated_at", &["/updated_at"]),
            ("metadata", &["/metadata"]),
        ],
        defaults: &["id", "name", "price", "image_url", "source_id", "attributes", "created_at"],
        orders: &["created_at", "updated_at", "id", "name", "source_id"],
        filter_prefixes: &[],
    },
    ObjectSpec {
        name: "sku",
        source: Source::Skus,
        fields: &[
            ("id", &["/id"]),
            ("sku", &["/sku"]),
            ("product_id", &["/product_id"]),
            ("currency", &["/currency"]),
            ("price", &["/price"]),
            ("image_url", &["/image_url"]),
            ("source_id", &["/source_id"]),
            ("attributes", &["/attributes"]),
            ("created_at", &["/created_at"]),
            ("updated_at", &["/updated_at"]),
            ("metadata", &["/metadata"]),
        ],
        defaults: &[
            "id",
            "sku",
            "product_id",
            "currency",
            "price",
            "image_url",
            "source_id",
            "attributes",
            "created_at",
        ],
        orders: &["created_at", "updated_at", "id", "source_id"],
        filter_prefixes: &[],
    },
];

fn spec(object: &str) -> Option<&'static ObjectSpec> {
    OBJECTS.iter().find(|o| o.name == object)
}

fn invalid(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKey::InvalidPayload).details(details)
}

impl ObjectSpec {
    fn paths(&self, field: &str) -> Option<&'static [&'static str]> {
        self.fields.iter().find(|(f, _)| *f == field).map(|(_, p)| *p)
    }

    /// A field's value in a rendered object: an exported field, `metadata.<key>`, or a dotted
    /// path (`summary.orders.total_count`).
    fn value<'v>(&self, field: &str, object: &'v Value) -> Option<&'v Value> {
        if let Some(paths) = self.paths(field) {
            return paths.iter().filter_map(|p| object.pointer(p)).find(|v| !v.is_null());
        }
        let pointer = format!("/{}", field.replace('.', "/"));
        object.pointer(&pointer).filter(|v| !v.is_null())
    }
}

/// The export's columns: a field, or one metadata key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Field(&'static str),
    Metadata(String),
}

impl Column {
    fn header(&self) -> String {
        match self {
            // display names: `voucher_code` → `Voucher Code`
            Column::Field(f) => f
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map(|h| h.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" "),
            Column::Metadata(k) => format!("Metadata {k}"),
        }
    }
}

/// A cell: text as is, numbers and booleans as written, lists joined by commas, objects as JSON.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            a.iter().map(|x| cell(Some(x))).collect::<Vec<_>>().join(",")
        }
        Some(other) => other.to_string(),
    }
}

/// The checked request: object, fields (defaults filled in), filter and order.
struct Checked {
    spec: &'static ObjectSpec,
    fields: Vec<String>,
    filter: Option<Filter>,
    order: (String, bool),
}

fn check(object: &str, p: &ExportParameters) -> Result<Checked, ApiError> {
    let spec = spec(object).ok_or_else(|| {
        let known: Vec<&str> = OBJECTS.iter().map(|o| o.name).collect();
        invalid(format!("Property .exported_object `{object}` must be one of {}", known.join(", ")))
    })?;
    let fields: Vec<String> = match &p.fields {
        None => spec.defaults.iter().map(|f| (*f).to_owned()).collect(),
        Some(f) if f.is_empty() => spec.defaults.iter().map(|f| (*f).to_owned()).collect(),
        Some(f) => f.clone(),
    };
    let unknown: Vec<&str> = fields
        .iter()
        .map(String::as_str)
        .filter(|f| spec.paths(f).is_none() && f.strip_prefix("metadata.").is_none_or(|k| k.is_empty()))
        .collect();
    if !unknown.is_empty() {
        let allowed: Vec<&str> = spec.fields.iter().map(|(f, _)| *f).collect();
        return Err(ApiError::new(ErrorKey::InvalidExportFields).details(format!(
            "Fields {} cannot be exported for {}; allowed fields: {} (and metadata.<key>)",
            unknown.join(", "),
            spec.name,
            allowed.join(", ")
        )));
    }
    let mut seen = BTreeSet::new();
    if let Some(dup) = fields.iter().find(|f| !seen.insert(f.as_str())) {
        return Err(ApiError::new(ErrorKey::InvalidExportFields).details(format!("Field {dup} is listed twice")));
    }
    let filter = match &p.filters {
        None | Some(Value::Null) => None,
        Some(f) => {
            if !Filter::junction_known(f) {
                return Err(invalid("Property .parameters.filters.junction must be `and` or `or`"));
            }
            let filter = Filter::compile(f, "parameters.filters").map_err(|e| invalid(format!("Property .{e}")))?;
            for field in filter.fields() {
                let known = spec.paths(field).is_some()
                    || field.strip_prefix("metadata.").is_some_and(|k| !k.is_empty())
                    || spec.filter_prefixes.iter().any(|p| field == *p || (p.ends_with('.') && field.starts_with(p)));
                if !known {
                    return Err(invalid(format!(
                        "Property .parameters.filters.{field} is not a field of {} (its exported fields, metadata.<key>{})",
                        spec.name,
                        spec.filter_prefixes.iter().map(|p| format!(", {p}")).collect::<String>()
                    )));
                }
            }
            Some(filter)
        }
    };
    let order = match p.order.as_deref() {
        None => ("created_at".to_owned(), true),
        Some(o) => {
            let (desc, name) = o.strip_prefix('-').map_or((false, o), |n| (true, n));
            if !spec.orders.contains(&name) {
                return Err(invalid(format!(
                    "Property .parameters.order `{o}` must be one of {} (with `-` for descending)",
                    spec.orders.join(", ")
                )));
            }
            (name.to_owned(), desc)
        }
    };
    Ok(Checked { spec, fields, filter, order })
}

/// The parameters as stored and answered: what the export will do, defaults filled in.
fn normalized(c: &Checked, p: &ExportParameters) -> ExportParameters {
    let (name, desc) = &c.order;
    ExportParameters {
        order: Some(format!("{}{name}", if *desc { "-" } else { "" })),
        fields: Some(c.fields.clone()),
        filters: p.filters.clone().filter(|f| !f.is_null()),
    }
}

/// Schedule an export.
pub(crate) async fn create_export(
    app: &crate::state::AppState,
    tenant: &Tenant,
    body: ExportIn,
) -> Result<ExportOut, ApiError> {
    let object = body.exported_object.ok_or_else(|| invalid("Property .exported_object is required"))?;
    let params = body.parameters.unwrap_or_default();
    let checked = check(&object, &params)?;
    let stored = serde_json::to_value(normalized(&checked, &params)).map_err(ApiError::internal)?;
    let secret: Vec<u8> = Uuid::new_v4().as_bytes().iter().chain(Uuid::new_v4().as_bytes()).copied().collect();
    let row = store::create(&app.db, tenant.id(), promo_store::new_id(), checked.spec.name, &stored, &secret).await?;
    render(&row, None)
}

fn export_id(raw: &str) -> Result<Uuid, ApiError> {
    ids::parse(ids::EXPORT, "export", raw)
}

/// Where this service is reached: `PROMO_PUBLIC_URL`, else the request's host.
pub(crate) fn public_base(config: &crate::config::Config, host: Option<&str>) -> String {
    match (&config.public_url, host) {
        (Some(u), _) => u.clone(),
        (None, Some(h)) => format!("http://{h}"),
        (None, None) => format!("http://{}", config.listen_addr),
    }
}

/// Get an export; once it is done, its download URL with a fresh token.
pub(crate) async fn get_export(
    app: &crate::state::AppState,
    tenant: &Tenant,
    raw: &str,
    base: &str,
) -> Result<ExportOut, ApiError> {
    let row =
        store::get(&app.db, tenant.id(), export_id(raw)?).await?.ok_or_else(|| ApiError::not_found("export", raw))?;
    let link = (row.status == "DONE").then(|| {
        let expires = Utc::now() + chrono::Duration::from_std(app.config.export_token_ttl).unwrap_or_default();
        format!("{base}/v1/exports/{}?token={}", ids::wire(ids::EXPORT, row.export_id), token(&row, expires))
    });
    render(&row, link)
}

fn render(row: &ExportRow, url: Option<String>) -> Result<ExportOut, ApiError> {
    let parameters: ExportParameters = serde_json::from_value(row.parameters.0.clone()).unwrap_or_default();
    Ok(ExportOut {
        id: ids::wire(ids::EXPORT, row.export_id),
        object: "export",
        created_at: timestamp(row.created_at),
        status: row.status.clone(),
        channel: row.channel.clone(),
        result: url.map(|url| ExportResult { url }),
        user_id: None,
        exported_object: row.exported_object.clone(),
        parameters,
        rows: row.rows_written,
        error: row.error.as_ref().map(|e| e.0.clone()),
    })
}

/// List exports (newest first by default; `order`: `created_at`, `status`, `-` for descending).
pub(crate) async fn list_exports(
    app: &crate::state::AppState,
    tenant: &Tenant,
    page: promo_store::Page,
    order: Option<&str>,
) -> Result<ExportsList, ApiError> {
    let (by_status, desc) = match order {
        None | Some("-created_at") => (false, true),
        Some("created_at") => (false, false),
        Some("status") => (true, false),
        Some("-status") => (true, true),
        Some(o) => {
            return Err(ApiError::new(ErrorKey::InvalidQueryParams)
                .details(format!("order `{o}` must be one of created_at, -created_at, status, -status")));
        }
    };
    let (rows, total) = store::list(&app.db, tenant.id(), page, by_status, desc).await?;
    let exports = rows.iter().map(|r| render(r, None)).collect::<Result<Vec<_>, _>>()?;
    Ok(ExportsList { object: "list", data_ref: "exports", exports, total })
}

/// Delete an export and its file.
pub(crate) async fn delete_export(app: &crate::state::AppState, tenant: &Tenant, raw: &str) -> Result<(), ApiError> {
    if store::delete(&app.db, tenant.id(), export_id(raw)?).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("export", raw))
    }
}

// ---- download tokens ----

/// `<project>.<expiry>.<mac>`: the project to look in, when it stops working, and an HMAC of
/// both and the export id under the export's secret (so it opens this export only).
fn token(row: &ExportRow, expires: DateTime<Utc>) -> String {
    let project = row.project_id.uuid().simple().to_string();
    let expiry = expires.timestamp();
    format!("{project}.{expiry}.{}", mac_hex(&row.secret, &project, row.export_id, expiry))
}

fn mac_hex(secret: &[u8], project: &str, export: Uuid, expiry: i64) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(format!("{project}.{}.{expiry}", export.simple()).as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a download is refused.
fn forbidden(details: &str) -> ApiError {
    ApiError::new(ErrorKey::Forbidden).details(details.to_owned())
}

/// Checks a download: the token's project (or the caller's key, when one is sent: another
/// project's key gets 404), its expiry and signature. Returns the export.
pub async fn authorize_download(
    db: &PgPool,
    raw: &str,
    token_text: &str,
    caller: Option<ProjectId>,
    now: DateTime<Utc>,
) -> Result<ExportRow, ApiError> {
    let id = export_id(raw)?;
    let mut parts = token_text.split('.');
    let (Some(project), Some(expiry), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(forbidden("The download token is malformed"));
    };
    let project_id = Uuid::try_parse(project).map_err(|_| forbidden("The download token is malformed"))?;
    let project_id = ProjectId::from(project_id);
    if caller.is_some_and(|c| c != project_id) {
        return Err(ApiError::not_found("export", raw));
    }
    let expiry: i64 = expiry.parse().map_err(|_| forbidden("The download token is malformed"))?;
    let row =
        store::get(db, caller.unwrap_or(project_id), id).await?.ok_or_else(|| ApiError::not_found("export", raw))?;
    let expected = mac_hex(&row.secret, project, row.export_id, expiry);
    // compare in constant time: the MAC is the secret part
    let same = expected.len() == mac.len() && expected.bytes().zip(mac.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
    if !same {
        return Err(forbidden("The download token does not open this export"));
    }
    if expiry < now.timestamp() {
        return Err(forbidden("The download token has expired: GET the export for a fresh URL"));
    }
    if row.status != "DONE" {
        return Err(ApiError::not_found("export", raw));
    }
    Ok(row)
}

// ---- the worker ----

/// Runs due exports (of one project, when given) until none is left; how many it ran.
pub async fn run_due(db: &PgPool, lease: Duration, project: Option<ProjectId>) -> Result<usize, ApiError> {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    let mut ran = 0;
    while let Some(row) = store::claim_due(db, lease_ms, project).await? {
        ran += 1;
        if let Err(e) = produce(db, &row, lease_ms).await {
            // left leased: retried when the lease expires (a database outage heals by itself)
            tracing::warn!(export = %row.export_id, error = ?e, "export failed; will retry");
            return Err(e);
        }
    }
    Ok(ran)
}

fn to_values<T: serde::Serialize>(v: Vec<T>) -> Result<Vec<Value>, ApiError> {
    v.into_iter().map(|x| serde_json::to_value(x).map_err(ApiError::internal)).collect()
}

/// The rows of a batch as the list endpoints show them.
async fn rendered(db: &PgPool, project: ProjectId, source: Source, batch: Batch) -> Result<Vec<Value>, ApiError> {
    Ok(match batch {
        Batch::Redemptions(rows) => crate::services::redemptions::as_listed(db, project, rows).await?,
        Batch::Vouchers(rows) => {
            let mut conn = promo_store::acquire(db).await?;
            to_values(crate::services::vouchers::vouchers_as_answered(&mut conn, project, rows).await?)?
        }
        Batch::Publications(rows) => rows.into_iter().map(|r| r.doc.0).collect(),
        Batch::Docs(rows) => match source {
            Source::Customers => {
                let mut conn = promo_store::acquire(db).await?;
                to_values(crate::services::customers::as_listed(&mut conn, project, rows).await?)?
            }
            Source::Orders => rows.into_iter().map(crate::services::audiences::order_out).collect(),
            Source::Products => to_values(
                crate::services::products::with_skus(db, project, rows, crate::services::products::SKUS_IN_A_LIST)
                    .await?,
            )?,
            _ => to_values(
                rows.into_iter().map(|r| crate::services::products::out(r, ids::SKU, "sku")).collect::<Vec<_>>(),
            )?,
        },
    })
}

/// Writes an export's file, chunk by chunk; marks it DONE (or ERROR when its request cannot be
/// read any more).
async fn produce(db: &PgPool, row: &ExportRow, lease_ms: i64) -> Result<(), ApiError> {
    let (project, id) = (row.project_id, row.export_id);
    let params: ExportParameters = serde_json::from_value(row.parameters.0.clone()).unwrap_or_default();
    let checked = match check(&row.exported_object, &params) {
        Ok(c) => c,
        Err(e) => {
            let body = e.body_value();
            // the documented fields of the error only (`ExportError`)
            let error: serde_json::Map<String, Value> = ["code", "key", "message", "details", "request_id"]
                .into_iter()
                .map(|k| (k.to_owned(), body.get(k).cloned().unwrap_or(Value::Null)))
                .collect();
            let error = Value::Object(error);
            store::finish(db, project, id, "ERROR", Some(&error)).await?;
            return Ok(());
        }
    };
    let spec = checked.spec;
    let clock = Clock { now: Utc::now(), tz: chrono_tz::UTC };
    let order_by = spec
        .source
        .order_by(&checked.order.0, checked.order.1)
        .ok_or_else(|| ApiError::internal(promo_store::StoreError::Corrupt("export order".into())))?;
    let sql = store::rows_sql(spec.source, &order_by);
    let passes = |v: &Value| {
        checked.filter.as_ref().is_none_or(|f| f.matches(|field| Operand::from_json(spec.value(field, v)), &clock))
    };
    // `metadata` expands to every key the exported rows carry: a first pass finds them
    let mut columns = Vec::new();
    for f in &checked.fields {
        match f.as_str() {
            "metadata" => {
                let mut keys = BTreeSet::new();
                let mut rows = store::ExportRows::open(db, &sql, project, spec.source);
                while keys.len() < MAX_METADATA_COLUMNS
                    && let Some(batch) = rows.next_batch(BATCH).await?
                {
                    for v in rendered(db, project, spec.source, batch).await? {
                        if passes(&v)
                            && let Some(m) = v.get("metadata").and_then(Value::as_object)
                        {
                            keys.extend(m.keys().take(MAX_METADATA_COLUMNS).cloned());
                        }
                    }
                }
                columns.extend(keys.into_iter().take(MAX_METADATA_COLUMNS).map(Column::Metadata));
            }
            other => match other.strip_prefix("metadata.") {
                Some(key) => columns.push(Column::Metadata(key.to_owned())),
                None => {
                    let name = spec.fields.iter().map(|(n, _)| *n).find(|n| *n == other).unwrap_or("id");
                    columns.push(Column::Field(name));
                }
            },
        }
    }
    let mut out = Sink { db, project, id, lease_ms, seq: 0, rows: 0, csv: csv::Writer::from_writer(Vec::new()) };
    out.csv.write_record(columns.iter().map(Column::header)).map_err(ApiError::internal)?;
    let mut alive = true;
    let mut rows = store::ExportRows::open(db, &sql, project, spec.source);
    while alive && let Some(batch) = rows.next_batch(BATCH).await? {
        for v in rendered(db, project, spec.source, batch).await? {
            if !passes(&v) {
                continue;
            }
            let record = columns.iter().map(|c| match c {
                Column::Field(f) => cell(spec.value(f, &v)),
                Column::Metadata(k) => cell(v.get("metadata").and_then(|m| m.get(k))),
            });
            out.csv.write_record(record).map_err(ApiError::internal)?;
            out.rows += 1;
        }
        alive = out.flush_if_full().await?;
    }
    drop(rows);
    if alive && out.flush().await? {
        store::finish(db, project, id, "DONE", None).await?;
    }
    Ok(())
}

/// Where the CSV goes: a buffer written to the database a chunk at a time.
struct Sink<'a> {
    db: &'a PgPool,
    project: ProjectId,
    id: Uuid,
    lease_ms: i64,
    seq: i32,
    rows: i64,
    csv: csv::Writer<Vec<u8>>,
}

impl Sink<'_> {
    async fn flush_if_full(&mut self) -> Result<bool, ApiError> {
        if self.csv.get_ref().len() >= CHUNK_BYTES { self.flush().await } else { Ok(true) }
    }

    /// Stores what is buffered; false when the export is gone (deleted while it ran).
    async fn flush(&mut self) -> Result<bool, ApiError> {
        self.csv.flush().map_err(ApiError::internal)?;
        let full = std::mem::replace(&mut self.csv, csv::Writer::from_writer(Vec::new()));
        let data = full.into_inner().map_err(|e| ApiError::internal(e.into_error()))?;
        let kept = store::append(self.db, self.project, self.id, self.seq, &data, self.rows, self.lease_ms).await?;
        self.seq += 1;
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_object_documents_its_defaults_and_orders_among_its_fields() {
        for o in OBJECTS {
            for f in o.defaults {
                assert!(o.paths(f).is_some(), "{}: default {f}", o.name);
            }
            for f in o.orders {
                assert!(o.source.order_by(f, true).is_some(), "{}: order {f}", o.name);
            }
        }
    }

    #[test]
    fn headers_are_display_names() {
        assert_eq!(Column::Field("voucher_code").header(), "Voucher Code");
        assert_eq!(Column::Metadata("colour".into()).header(), "Metadata colour");
    }

    #[test]
    fn cells_write_lists_joined_and_objects_as_json() {
        assert_eq!(cell(Some(&json!([1, 2, 3]))), "1,2,3");
        assert_eq!(cell(Some(&json!({"a": 1}))), "{\"a\":1}");
        assert_eq!(cell(Some(&json!(null))), "");
        assert_eq!(cell(Some(&json!(true))), "true");
    }
}
