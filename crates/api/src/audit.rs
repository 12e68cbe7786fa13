//! The audit layer: every admin write that succeeds is recorded with the credential that made
//! it and the object as its own GET answers it just before and just after the write.
//!
//! It wraps the whole router as a service (not a per-route layer) because it reads objects
//! through the router itself: the snapshots are exactly what a user reads back, for every kind
//! of object, with no second renderer to keep in step. Checkout calls (validations,
//! qualifications, redemptions, rollbacks, sessions, events) are not admin writes: the ledger
//! and the customer activity record them.

use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use promo_store::ProjectId;
use serde_json::Value;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Service, ServiceExt};

/// Marks the audit layer's own reads: they take no rate-limit token and count in no metric.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot;

/// A write response larger than this is passed on unrecorded (no admin write answers so much).
const MAX_RESPONSE_BYTES: usize = 16 << 20;
/// A snapshot larger than this is stored as its size only.
const MAX_SNAPSHOT_BYTES: usize = 64 << 10;
/// At most this many changed fields are listed per entry.
const MAX_CHANGED_FIELDS: usize = 200;
/// Keys whose values are never stored (webhook secrets, project keys).
const SECRET_KEYS: &[&str] = &["secret", "app_token", "token", "server_side_key", "client_side_key"];

/// Where the object a write changes is read from.
#[derive(Clone, Copy)]
enum Read {
    /// A GET path: `$1`, `$2` are the write path's captures, `$id` the created object's `id`,
    /// `$code` its `code`.
    Get(&'static str),
    /// No GET for it: the write's own answer is the after image.
    Answer,
}

/// One kind of admin write: method, path template (`*` matches one segment), the object it
/// changes and how to read that object back.
struct Route {
    method: Method,
    template: &'static str,
    object: &'static str,
    action: &'static str,
    read: Read,
}

const fn route(
    method: Method,
    template: &'static str,
    object: &'static str,
    action: &'static str,
    read: Read,
) -> Route {
    Route { method, template, object, action, read }
}

use Read::{Answer, Get};
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

static ROUTES: &[Route] = &[
    route(POST, "/v1/campaigns", "campaign", "create", Get("/v1/campaigns/$id")),
    route(PUT, "/v1/campaigns/*", "campaign", "update", Get("/v1/campaigns/$1")),
    route(DELETE, "/v1/campaigns/*", "campaign", "delete", Get("/v1/campaigns/$1")),
    route(POST, "/v1/campaigns/*/enable", "campaign", "enable", Get("/v1/campaigns/$1")),
    route(POST, "/v1/campaigns/*/disable", "campaign", "disable", Get("/v1/campaigns/$1")),
    route(POST, "/v1/campaigns/*/import", "campaign", "import", Get("/v1/campaigns/$1")),
    route(POST, "/v1/campaigns/*/importCSV", "campaign", "import", Get("/v1/campaigns/$1")),
    route(POST, "/v1/campaigns/*/vouchers", "campaign", "add_vouchers", Get("/v1/campaigns/$1")),
    route(POST, "/v1/campaigns/*/vouchers/*", "campaign", "add_vouchers", Get("/v1/campaigns/$1")),
    route(POST, "/v1/vouchers", "voucher", "create", Get("/v1/vouchers/$code")),
    route(POST, "/v1/vouchers/import", "async_action", "import_vouchers", Get("/v1/async-actions/$id")),
    route(POST, "/v1/vouchers/importCSV", "async_action", "import_vouchers", Get("/v1/async-actions/$id")),
    route(POST, "/v1/vouchers/*", "voucher", "create", Get("/v1/vouchers/$1")),
    route(PUT, "/v1/vouchers/*", "voucher", "update", Get("/v1/vouchers/$1")),
    route(DELETE, "/v1/vouchers/*", "voucher", "delete", Get("/v1/vouchers/$1")),
    route(POST, "/v1/vouchers/*/enable", "voucher", "enable", Get("/v1/vouchers/$1")),
    route(POST, "/v1/vouchers/*/disable", "voucher", "disable", Get("/v1/vouchers/$1")),
    route(POST, "/v1/promotions/*/tiers", "promotion_tier", "create", Get("/v1/promotions/tiers/$id")),
    route(PUT, "/v1/promotions/tiers/*", "promotion_tier", "update", Get("/v1/promotions/tiers/$1")),
    route(DELETE, "/v1/promotions/tiers/*", "promotion_tier", "delete", Get("/v1/promotions/tiers/$1")),
    route(POST, "/v1/promotions/tiers/*/enable", "promotion_tier", "enable", Get("/v1/promotions/tiers/$1")),
    route(POST, "/v1/promotions/tiers/*/disable", "promotion_tier", "disable", Get("/v1/promotions/tiers/$1")),
    route(POST, "/v1/promotions/*/stacks", "promotion_stack", "create", Get("/v1/promotions/$1/stacks/$id")),
    route(PUT, "/v1/promotions/*/stacks/*", "promotion_stack", "update", Get("/v1/promotions/$1/stacks/$2")),
    route(DELETE, "/v1/promotions/*/stacks/*", "promotion_stack", "delete", Get("/v1/promotions/$1/stacks/$2")),
    route(POST, "/v1/categories", "category", "create", Get("/v1/categories/$id")),
    route(PUT, "/v1/categories/*", "category", "update", Get("/v1/categories/$1")),
    route(DELETE, "/v1/categories/*", "category", "delete", Get("/v1/categories/$1")),
    route(DELETE, "/v1/blocks/*", "block", "lift", Get("/v1/blocks/$1")),
    route(POST, "/v1/customers", "customer", "create", Get("/v1/customers/$id")),
    route(PUT, "/v1/customers/*", "customer", "update", Get("/v1/customers/$1")),
    route(DELETE, "/v1/customers/*", "customer", "delete", Get("/v1/customers/$1")),
    route(POST, "/v1/products", "product", "create", Get("/v1/products/$id")),
    route(PUT, "/v1/products/*", "product", "update", Get("/v1/products/$1")),
    route(DELETE, "/v1/products/*", "product", "delete", Get("/v1/products/$1")),
    route(POST, "/v1/products/*/skus", "sku", "create", Get("/v1/skus/$id")),
    route(POST, "/v1/inventory", "inventory", "update", Answer),
    route(PUT, "/v1/products/*/skus/*", "sku", "update", Get("/v1/skus/$2")),
    route(DELETE, "/v1/products/*/skus/*", "sku", "delete", Get("/v1/skus/$2")),
    route(POST, "/v1/validation-rules", "validation_rules", "create", Get("/v1/validation-rules/$id")),
    route(PUT, "/v1/validation-rules/*", "validation_rules", "update", Get("/v1/validation-rules/$1")),
    route(DELETE, "/v1/validation-rules/*", "validation_rules", "delete", Get("/v1/validation-rules/$1")),
    route(
        POST,
        "/v1/validation-rules/*/assignments",
        "validation_rules",
        "assign",
        Get("/v1/validation-rules/$1/assignments?limit=100"),
    ),
    route(
        DELETE,
        "/v1/validation-rules/*/assignments/*",
        "validation_rules",
        "unassign",
        Get("/v1/validation-rules/$1/assignments?limit=100"),
    ),
    route(POST, "/v1/segments", "segment", "create", Get("/v1/segments/$id")),
    route(DELETE, "/v1/segments/*", "segment", "delete", Get("/v1/segments/$1")),
    route(POST, "/v1/product-collections", "products_collection", "create", Get("/v1/product-collections/$id")),
    route(DELETE, "/v1/product-collections/*", "products_collection", "delete", Get("/v1/product-collections/$1")),
    route(POST, "/v1/orders", "order", "create", Get("/v1/orders/$id")),
    route(PUT, "/v1/orders/*", "order", "update", Get("/v1/orders/$1")),
    route(POST, "/v1/publications", "publication", "create", Answer),
    route(POST, "/v1/exports", "export", "create", Get("/v1/exports/$id")),
    route(POST, "/v1/orders/export", "export", "create", Get("/v1/exports/$id")),
    route(DELETE, "/v1/exports/*", "export", "delete", Get("/v1/exports/$1")),
    route(POST, "/management/v1/projects", "project", "create", Get("/management/v1/projects/$id")),
    route(PUT, "/management/v1/projects/*", "project", "update", Get("/management/v1/projects/$1")),
    route(
        POST,
        "/management/v1/projects/*/stacking-rules",
        "stacking_rules",
        "create",
        Get("/management/v1/projects/$1/stacking-rules/$id"),
    ),
    route(
        PUT,
        "/management/v1/projects/*/stacking-rules/*",
        "stacking_rules",
        "update",
        Get("/management/v1/projects/$1/stacking-rules/$2"),
    ),
    route(
        DELETE,
        "/management/v1/projects/*/stacking-rules/*",
        "stacking_rules",
        "delete",
        Get("/management/v1/projects/$1/stacking-rules/$2"),
    ),
    route(
        POST,
        "/management/v1/projects/*/webhooks",
        "webhook",
        "create",
        Get("/management/v1/projects/$1/webhooks/$id"),
    ),
    route(
        PUT,
        "/management/v1/projects/*/webhooks/*",
        "webhook",
        "update",
        Get("/management/v1/projects/$1/webhooks/$2"),
    ),
    route(
        DELETE,
        "/management/v1/projects/*/webhooks/*",
        "webhook",
        "delete",
        Get("/management/v1/projects/$1/webhooks/$2"),
    ),
];

/// The kinds of object the log records (the `object_type` filter).
pub fn object_types() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = ROUTES.iter().map(|r| r.object).collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// The actions the log records (the `action` filter).
pub fn actions() -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = ROUTES.iter().map(|r| r.action).collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// The audited write a request is, with the path's captures. Checkout calls (most requests)
/// are told apart without allocating.
fn audited<'p>(method: &Method, path: &'p str) -> Option<(&'static Route, Vec<&'p str>)> {
    if !matches!(*method, Method::POST | Method::PUT | Method::DELETE)
        || NOT_AUDITED.iter().any(|p| path.starts_with(p))
    {
        return None;
    }
    let path = path.trim_end_matches('/');
    let matches = |template: &str| {
        let (mut t, mut s) = (template.split('/'), path.split('/'));
        loop {
            match (t.next(), s.next()) {
                (None, None) => return true,
                (Some("*"), Some(seg)) if !seg.is_empty() => {}
                (Some(a), Some(b)) if a == b => {}
                _ => return false,
            }
        }
    };
    let route = ROUTES.iter().find(|r| r.method == method && matches(r.template))?;
    let captures = route.template.split('/').zip(path.split('/')).filter(|(t, _)| *t == "*").map(|(_, s)| s).collect();
    Some((route, captures))
}

/// Path prefixes of the checkout calls, which are never admin writes.
const NOT_AUDITED: &[&str] =
    &["/v1/validations", "/v1/redemptions", "/v1/qualifications", "/v1/events", "/client/", "/v1/redeem"];

/// The router wrapped by the audit layer.
#[derive(Clone)]
pub struct Audited {
    inner: axum::Router,
    state: AppState,
}

impl Audited {
    pub fn new(inner: axum::Router, state: AppState) -> Self {
        Self { inner, state }
    }
}

impl Service<Request> for Audited {
    type Response = Response;
    type Error = Infallible;
    /// Checkout calls go straight through, unboxed.
    type Future = futures_util::future::Either<
        tower::util::Oneshot<axum::Router, Request>,
        Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>,
    >;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let inner = self.inner.clone();
        match audited(req.method(), req.uri().path()) {
            None => futures_util::future::Either::Left(inner.oneshot(req)),
            Some((route, captures)) => {
                let captures: Vec<String> = captures.into_iter().map(str::to_owned).collect();
                let state = self.state.clone();
                futures_util::future::Either::Right(Box::pin(async move {
                    Ok(record(state, inner, route, captures, req).await)
                }))
            }
        }
    }
}

/// Who made a write: the credential type and its public id (never the token).
fn credential(headers: &HeaderMap, path: &str) -> (&'static str, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    // the management credential also acts inside a project (`X-Project-Id`, no app key)
    let managing = headers.get("x-app-id").is_none() && headers.get("x-project-id").is_some();
    if path.starts_with("/management/") || managing {
        ("management", header("x-management-id"))
    } else {
        ("server_key", header("x-app-id"))
    }
}

async fn record(
    state: AppState,
    inner: axum::Router,
    route: &'static Route,
    captures: Vec<String>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let read_path = |created: Option<&Value>| -> Option<String> {
        let Get(template) = route.read else { return None };
        let mut p = template.to_owned();
        for (i, c) in captures.iter().enumerate().rev() {
            p = p.replace(&format!("${}", i + 1), &encode(c));
        }
        for field in ["$code", "$id"] {
            if p.contains(field) {
                let v = created?.get(&field[1..])?.as_str()?;
                p = p.replace(field, &encode(v));
            }
        }
        Some(p)
    };
    // `None` for a create that names no path key ($id/$code come from the answer)
    let existing = read_path(None);
    let before = match &existing {
        Some(p) => snapshot(&inner, &headers, p).await,
        None => None,
    };
    let response = match inner.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_RESPONSE_BYTES).await else {
        tracing::warn!(%path, "audit: the write's answer was too large to record");
        return Response::from_parts(parts, Body::empty());
    };
    let answer: Option<Value> = serde_json::from_slice(&bytes).ok();
    let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let after_path = existing.clone().or_else(|| read_path(answer.as_ref()));
    let after = match (route.read, &after_path) {
        (Answer, _) => answer.clone(),
        (Get(_), Some(p)) => snapshot(&inner, &headers, p).await,
        (Get(_), None) => None,
    };
    let (credential_type, credential_id) = credential(&headers, &path);
    // the management API names the project in its path (`proj_…`); a server key is its project
    let project = if credential_type == "management" && !path.starts_with("/management/") {
        let raw = headers.get("x-project-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
        crate::ids::try_parse(crate::ids::PROJECT, raw)
    } else if credential_type == "management" {
        captures
            .first()
            .map(String::as_str)
            .or_else(|| answer.as_ref()?.get("id")?.as_str())
            .and_then(|p| crate::ids::try_parse(crate::ids::PROJECT, p))
    } else {
        uuid::Uuid::try_parse(&credential_id).ok()
    };
    let Some(project) = project.map(ProjectId) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    // an assignment's entry belongs to its rule (the snapshots are the rule's assignments)
    let object_id = if matches!(route.action, "assign" | "unassign") {
        captures.first().cloned()
    } else {
        [&after, &before, &answer].into_iter().find_map(|o| o.as_ref()?.get("id")?.as_str().map(str::to_owned))
    };
    // the object's own key as its snapshot holds it (a code as created, not as a path spelled it),
    // else the path's
    let natural = match route.object {
        "voucher" => Some("code"),
        "campaign" => Some("name"),
        "customer" | "product" | "sku" => Some("source_id"),
        _ => None,
    };
    let snapshot_key = natural.and_then(|field| {
        [&after, &before, &answer].into_iter().find_map(|o| o.as_ref()?.get(field)?.as_str().map(str::to_owned))
    });
    let object_key = match route.read {
        _ if route.action == "unassign" => captures.get(1).cloned(),
        _ if snapshot_key.is_some() => snapshot_key,
        // the capture the object's own GET path ends with (not a parent's: a tier's campaign)
        Get(template) => template
            .split('?')
            .next()
            .and_then(|t| t.rsplit('/').next())
            .and_then(|last| last.strip_prefix('$')?.parse::<usize>().ok())
            .and_then(|n| captures.get(n - 1))
            .filter(|k| Some(*k) != object_id.as_ref())
            .cloned(),
        Answer => None,
    };
    let before = before.map(stored);
    let after = after.map(stored);
    let mut changed_fields = Vec::new();
    if let (Some(b), Some(a)) = (&before, &after) {
        diff(b, a, "", &mut changed_fields);
    }
    let entry = promo_store::audit::NewEntry {
        entry_id: uuid::Uuid::now_v7(),
        request_id,
        credential_type,
        credential_id,
        method,
        path,
        action: route.action.to_owned(),
        object_type: route.object,
        object_id,
        object_key,
        changed_fields,
        before,
        after,
    };
    // The write is done and answered either way: a lost entry is logged, never turned into an
    // error the client would retry (and so repeat the write).
    if let Err(e) = promo_store::audit::insert_entry(&state.db, project, &entry).await {
        tracing::error!(error = %e, path = %entry.path, "audit: entry not recorded");
        state.metrics.audit_entry_lost();
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The object at `path` as its GET answers it with the writer's credential; `None` when there is
/// none (before a create, after a delete).
async fn snapshot(inner: &axum::Router, headers: &HeaderMap, path: &str) -> Option<Value> {
    let mut req = Request::get(path).body(Body::empty()).ok()?;
    for name in ["x-app-id", "x-app-token", "x-management-id", "x-management-token", "x-project-id"] {
        if let Some(v) = headers.get(name) {
            req.headers_mut().insert(name, v.clone());
        }
    }
    req.extensions_mut().insert(Snapshot);
    // its own span: the write's span keeps the write's request id
    let span =
        tracing::info_span!("audit_read", request_id = tracing::field::Empty, project_id = tracing::field::Empty);
    let response = match tracing::Instrument::instrument(inner.clone().oneshot(req), span).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    if response.status() != StatusCode::OK {
        return None;
    }
    let bytes: Bytes = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What is kept of a snapshot: secrets masked, and only the size of a very large one.
fn stored(mut v: Value) -> Value {
    mask_secrets(&mut v);
    let size = serde_json::to_vec(&v).map_or(usize::MAX, |b| b.len());
    if size > MAX_SNAPSHOT_BYTES { serde_json::json!({"truncated": true, "size_bytes": size}) } else { v }
}

fn mask_secrets(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if SECRET_KEYS.contains(&k.as_str()) && !v.is_null() {
                    *v = Value::String("[redacted]".into());
                } else {
                    mask_secrets(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

/// The dotted paths where `a` and `b` differ (an array counts as one value).
fn diff(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_CHANGED_FIELDS || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort_unstable();
            keys.dedup();
            for k in keys {
                let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                diff(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), &path, out);
            }
        }
        _ => out.push(at.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_matched_to_their_object_and_checkout_calls_are_not() {
        let (r, c) = audited(&Method::PUT, "/v1/promotions/tiers/promo_1").expect("tier update");
        assert_eq!((r.object, r.action, c), ("promotion_tier", "update", vec!["promo_1"]));
        let (r, c) = audited(&Method::POST, "/v1/promotions/camp_1/tiers").expect("tier create");
        assert_eq!((r.object, r.action, c), ("promotion_tier", "create", vec!["camp_1"]));
        let (r, _) = audited(&Method::POST, "/v1/vouchers/import").expect("import");
        assert_eq!(r.object, "async_action");
        let (r, c) = audited(&Method::POST, "/v1/vouchers/SUMMER").expect("voucher with code");
        assert_eq!((r.object, r.action, c), ("voucher", "create", vec!["SUMMER"]));
        for (m, p) in [
            (Method::POST, "/v1/validations"),
            (Method::POST, "/v1/redemptions"),
            (Method::POST, "/v1/redemptions/r_1/rollback"),
            (Method::POST, "/v1/qualifications"),
            (Method::POST, "/v1/events"),
            (Method::DELETE, "/v1/vouchers/A/sessions/k"),
            (Method::GET, "/v1/campaigns/camp_1"),
            (Method::POST, "/client/v1/validations"),
        ] {
            assert!(audited(&m, p).is_none(), "{m} {p}");
        }
    }

    #[test]
    fn changed_fields_name_the_leaves_that_differ() {
        let a = serde_json::json!({"name": "A", "discount": {"type": "PERCENT", "percent_off": 10}, "tags": [1]});
        let b = serde_json::json!({"name": "A", "discount": {"type": "PERCENT", "percent_off": 20}, "tags": [1, 2], "x": 1});
        let mut out = Vec::new();
        diff(&a, &b, "", &mut out);
        assert_eq!(out, vec!["discount.percent_off", "tags", "x"]);
    }

    #[test]
    fn secrets_are_never_stored() {
        let v = stored(serde_json::json!({"id": "wh_1", "secret": "whsec_x", "nested": [{"app_token": "t"}]}));
        assert_eq!(
            v,
            serde_json::json!({"id": "wh_1", "secret": "[redacted]", "nested": [{"app_token": "[redacted]"}]})
        );
    }
}
