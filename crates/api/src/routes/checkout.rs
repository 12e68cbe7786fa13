//! Checkout endpoints: validations, qualifications, redemptions, rollbacks, sessions, and the
//! redemption ledger's listings. The work is in `crate::services::checkout`.

use crate::auth::{CachedTenant, ClientTenant, ClientTenantConn, Tenant, TenantConn, app_ids};
use crate::error::{ApiError, ErrorKey};
use crate::extract::{ApiJson, ApiQuery};
use crate::ids;
use crate::services::checkout::rollback::{RollbackInput, RollbackKind};
use crate::services::checkout::{self, FAILED_REDEMPTION, REDEMPTION, Reply};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use promo_store::ledger::{RedemptionFilter, RedemptionOrder, RedemptionRow};
use promo_store::projects::ProjectRow;
use serde_json::{Value, json};

fn idempotency_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok())
}

/// Did a redemption fail because its code does not exist (code guessing counts those)?
pub fn names_unknown_code(outcome: &Result<Reply, ApiError>) -> bool {
    let status = match outcome {
        Ok(r) => StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK),
        Err(e) => e.key().status(),
    };
    status == StatusCode::NOT_FOUND
}

/// Counts a redemption request's outcome for the metrics.
pub fn count_redemption(app: &AppState, outcome: &Result<Reply, ApiError>) {
    let label = match outcome {
        Ok(r) if r.status < 300 => "SUCCESS",
        Ok(r) if r.status < 500 => "FAILURE",
        Err(e) if e.key().status().is_client_error() => "FAILURE",
        _ => "ERROR",
    };
    app.metrics.redemption(label);
}

fn reply(r: Reply) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], r.body).into_response();
    if r.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// A body the checkout serialized itself.
fn json_bytes(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Validate redeemables together against a cart (stacking, per-redeemable status and order).
#[utoipa::path(post, path = "/v1/validations", tag = "checkout", request_body = crate::types::checkout::CheckoutIn,
    responses((status = 200, body = crate::types::checkout::ValidationsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn validate(
    State(app): State<AppState>,
    mut t: TenantConn,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let validated = checkout::validate(&app, &t.project, &mut t.conn, &t.app_id, body).await?;
    Ok(json_bytes(validated.body))
}

/// Validate from a storefront (client-side key).
#[utoipa::path(post, path = "/client/v1/validations", tag = "checkout", request_body = crate::types::checkout::CheckoutIn,
    responses((status = 200, body = crate::types::checkout::ValidationsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("client" = [])))]
pub async fn validate_client_side(
    State(app): State<AppState>,
    ClientTenantConn(mut t): ClientTenantConn,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let validated = checkout::validate(&app, &t.project, &mut t.conn, &t.app_id, body).await?;
    if let Some(ip) = t.client_ip {
        app.limits.unknown_codes(&t.project, ip, validated.unknown_codes)?;
    }
    Ok(json_bytes(validated.body))
}

/// What a cart and customer qualify for (promotion tiers, stacks, the customer's codes), with
/// near misses as an extension field.
#[utoipa::path(post, path = "/v1/qualifications", tag = "checkout", request_body = crate::types::checkout::CheckoutIn,
    responses((status = 200, body = crate::types::checkout::QualificationsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn qualify(
    State(app): State<AppState>,
    mut t: TenantConn,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let body = checkout::qualification::qualify(&app, &t.project, &mut t.conn, body).await?;
    Ok(json_bytes(body))
}

/// Qualifications from a storefront (client-side key).
#[utoipa::path(post, path = "/client/v1/qualifications", tag = "checkout", request_body = crate::types::checkout::CheckoutIn,
    responses((status = 200, body = crate::types::checkout::QualificationsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("client" = [])))]
pub async fn qualify_client_side(
    State(app): State<AppState>,
    ClientTenantConn(mut t): ClientTenantConn,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let body = checkout::qualification::qualify(&app, &t.project, &mut t.conn, body).await?;
    Ok(json_bytes(body))
}

/// Redeem redeemables together: one transaction, every limit enforced atomically. Honours
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/redemptions", tag = "checkout", request_body = crate::types::checkout::CheckoutIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    responses((status = 200, body = crate::types::checkout::RedemptionsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn redeem(
    State(app): State<AppState>,
    tenant: CachedTenant,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let app_id = app_ids(tenant.project.project_id).0;
    let outcome = checkout::redeem(&app, &tenant.project, &app_id, body, idempotency_key(&headers)).await;
    count_redemption(&app, &outcome);
    Ok(reply(outcome?))
}

/// Redeem from a storefront, where the project allows client-side redemptions.
#[utoipa::path(post, path = "/client/v1/redemptions", tag = "checkout", request_body = crate::types::checkout::CheckoutIn,
    responses((status = 200, body = crate::types::checkout::RedemptionsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("client" = [])))]
pub async fn redeem_client_side(
    State(app): State<AppState>,
    tenant: ClientTenant,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    if !tenant.project.client_redeem_enabled {
        return Err(ApiError::new(ErrorKey::Forbidden).details("Client-side redemptions are disabled for this project"));
    }
    let app_id = app_ids(tenant.project.project_id).1;
    let outcome = checkout::redeem(&app, &tenant.project, &app_id, body, idempotency_key(&headers)).await;
    count_redemption(&app, &outcome);
    if names_unknown_code(&outcome) {
        app.limits.unknown_codes(&tenant.project, tenant.ip, 1)?;
    }
    Ok(reply(outcome?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RollbackQuery {
    pub reason: Option<String>,
    pub tracking_id: Option<String>,
}

async fn rollback_with(
    app: &AppState,
    project: &ProjectRow,
    id: &str,
    kind: RollbackKind,
    q: RollbackQuery,
    headers: &HeaderMap,
    body: Value,
) -> Result<Response, ApiError> {
    let input = RollbackInput::parse(&body, q.reason, q.tracking_id)?;
    Ok(reply(checkout::rollback::rollback(app, project, id, kind, input, &body, idempotency_key(headers)).await?))
}

/// Roll back a single (not stacked) redemption. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/redemptions/{redemptionId}/rollback", tag = "checkout", request_body = crate::types::checkout::RollbackIn,
    params(("redemptionId" = String, Path), RollbackQuery),
    responses((status = 200, body = crate::types::checkout::RedemptionOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn rollback(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RollbackQuery>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    rollback_with(&app, &tenant.project, &id, RollbackKind::Single, q, &headers, body).await
}

/// Roll back a stacked redemption (the parent and all its children). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/redemptions/{parentRedemptionId}/rollbacks", tag = "checkout", request_body = crate::types::checkout::RollbackIn,
    params(("parentRedemptionId" = String, Path), RollbackQuery),
    responses((status = 200, body = crate::types::checkout::RollbacksOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn rollback_stacked(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RollbackQuery>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    rollback_with(&app, &tenant.project, &id, RollbackKind::Stacked, q, &headers, body).await
}

/// The stored redemption as the ledger shows it now (status, rollback).
async fn redemption_out(app: &AppState, project: promo_store::ProjectId, r: RedemptionRow) -> Result<Value, ApiError> {
    let rollbacks = rollbacks_of(app, project, std::slice::from_ref(&r)).await?;
    Ok(render_redemption(r, &rollbacks))
}

/// The rollbacks of the rolled-back redemptions among `rows`, read in one query.
async fn rollbacks_of(
    app: &AppState,
    project: promo_store::ProjectId,
    rows: &[RedemptionRow],
) -> Result<std::collections::HashMap<uuid::Uuid, Value>, ApiError> {
    let rolled_back: Vec<uuid::Uuid> =
        rows.iter().filter(|r| !r.is_rollback && r.status == "ROLLED_BACK").map(|r| r.redemption_id).collect();
    if rolled_back.is_empty() {
        return Ok(Default::default());
    }
    let found = promo_store::ledger::rollbacks_of(&app.db, project, &rolled_back).await?;
    Ok(found.into_iter().map(|b| (b.redemption_id, crate::services::checkout::rollback::rollback_ref(&b))).collect())
}

fn render_redemption(r: RedemptionRow, rollbacks: &std::collections::HashMap<uuid::Uuid, Value>) -> Value {
    if r.is_rollback {
        return r.doc.0;
    }
    let mut doc = r.doc.0;
    if let Some(o) = doc.as_object_mut() {
        o.insert("status".into(), json!(r.status));
        if r.status == "ROLLED_BACK"
            && let Some(entry) = rollbacks.get(&r.redemption_id)
        {
            o.insert("related_redemptions".into(), json!({"rollbacks": [entry], "redemptions": []}));
        }
    }
    doc
}

/// Get a redemption (`r_…`, or `rf_…` for a failed one).
#[utoipa::path(get, path = "/v1/redemptions/{redemptionId}", tag = "checkout", params(("redemptionId" = String, Path)),
    responses((status = 200, body = crate::types::checkout::RedemptionOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_redemption(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ids::try_parse(REDEMPTION, &raw)
        .or_else(|| ids::try_parse(FAILED_REDEMPTION, &raw))
        .ok_or_else(|| ApiError::not_found("redemption", &raw))?;
    let row = promo_store::ledger::get_redemption(&app.db, tenant.id(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("redemption", &raw))?;
    Ok(Json(redemption_out(&app, tenant.id(), row).await?))
}

fn query_error(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKey::InvalidQueryParams).details(details)
}

fn parse_time(field: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| query_error(format!("{field} must be a date or date-time")))
}

/// Filters, order (column, descending) and the customer named (id or source id).
type ListingQuery = (RedemptionFilter, (RedemptionOrder, bool), Option<String>);

/// Listing filters and order from the query.
fn redemption_filter(
    app_defs: &crate::services::definitions::Definitions,
    pairs: &[(String, String)],
) -> Result<ListingQuery, ApiError> {
    let mut f = RedemptionFilter::default();
    let mut order = (RedemptionOrder::CreatedAt, true);
    let mut customer = None;
    let mut campaign_name = None;
    for (k, v) in pairs {
        // filters[<field>][conditions][$is|$in] behave like the shortcut of the same field
        let field = k
            .strip_prefix("filters[")
            .and_then(|rest| rest.split(']').next())
            .filter(|_| k.contains("[conditions][$is]") || k.contains("[conditions][$in]"))
            .unwrap_or(k.as_str());
        match field {
            "limit" | "page" | "junction" => {}
            "result" => f.results.push(v.to_uppercase()),
            "campaign" | "campaign_name" => campaign_name = Some(v.clone()),
            "customer" | "customer_id" => customer = Some(v.clone()),
            "voucher_code" => f.voucher_code = Some(v.clone()),
            "related_object_id" => f.related_object_id = Some(v.clone()),
            "parent_redemption_id" => {
                f.parent_id = Some(
                    ids::try_parse(REDEMPTION, v)
                        .ok_or_else(|| query_error("parent_redemption_id is not a redemption id"))?,
                )
            }
            "failure_code" => f.failure_code = Some(v.clone()),
            "created_at[before]" => f.created_before = Some(parse_time(k, v)?),
            "created_at[after]" => f.created_after = Some(parse_time(k, v)?),
            "order" => {
                let (desc, name) = match v.strip_prefix('-') {
                    Some(n) => (true, n),
                    None => (false, v.as_str()),
                };
                let column = match name {
                    "created_at" => RedemptionOrder::CreatedAt,
                    "id" => RedemptionOrder::Id,
                    "voucher_code" => RedemptionOrder::VoucherCode,
                    "tracking_id" => RedemptionOrder::TrackingId,
                    "customer_id" => RedemptionOrder::CustomerId,
                    _ => return Err(query_error(format!("order `{v}` is not supported"))),
                };
                order = (column, desc);
            }
            other => return Err(query_error(format!("{other} is not a supported filter"))),
        }
    }
    for r in &f.results {
        if r != "SUCCESS" && r != "FAILURE" {
            return Err(query_error("result must be SUCCESS or FAILURE"));
        }
    }
    if let Some(name) = &campaign_name {
        // an unknown campaign matches nothing
        f.campaign_id =
            Some(app_defs.campaigns.values().find(|c| &c.name == name).map(|c| c.id).unwrap_or_else(uuid::Uuid::nil));
    }
    Ok((f, order, customer))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RedemptionsList {
    pub object: &'static str,
    pub data_ref: &'static str,
    #[schema(value_type = Vec<crate::types::checkout::RedemptionOut>)]
    pub redemptions: Vec<Value>,
    pub total: i64,
}

/// The filters of `GET /v1/redemptions` (read from the query pairs, in any combination; an
/// unknown one is a 400). Also accepted: Voucherify's `filters[field][conditions][$is|$in]=…`.
#[allow(dead_code)] // documents the query; the handler reads the pairs
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RedemptionFilters {
    /// `SUCCESS` or `FAILURE`; repeat it for both.
    #[param(style = Form, explode)]
    result: Option<Vec<String>>,
    /// A campaign name (or `campaign_name`).
    campaign: Option<String>,
    /// A customer id or source id (or `customer_id`).
    customer: Option<String>,
    voucher_code: Option<String>,
    /// A voucher or promotion tier id.
    related_object_id: Option<String>,
    /// The parent of stacked redemptions (`r_…`).
    parent_redemption_id: Option<String>,
    failure_code: Option<String>,
    /// RFC 3339.
    #[param(rename = "created_at[before]")]
    created_at_before: Option<String>,
    /// RFC 3339.
    #[param(rename = "created_at[after]")]
    created_at_after: Option<String>,
    /// `created_at`, `id`, `voucher_code`, `tracking_id` (`-` first: descending).
    order: Option<String>,
}

/// List redemptions, newest first, with Voucherify's filters (`result`, `campaign`,
/// `customer`, `voucher_code`, `related_object_id`, `parent_redemption_id`, `failure_code`,
/// `created_at[before|after]`, `order`).
#[utoipa::path(get, path = "/v1/redemptions", tag = "checkout", params(crate::extract::PageQuery, RedemptionFilters),
    responses((status = 200, body = RedemptionsList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_redemptions(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(page): ApiQuery<crate::extract::PageQuery>,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> Result<Json<RedemptionsList>, ApiError> {
    let page = page.page()?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let defs = app.definitions.get(&mut conn, tenant.id(), tenant.project.definitions_version).await?;
    let (mut filter, order, customer) = redemption_filter(&defs, &pairs)?;
    if let Some(c) = customer {
        let id = ids::try_parse(ids::CUSTOMER, &c);
        let row = promo_store::customers::CUSTOMERS
            .get(&mut *conn, tenant.id(), id, if id.is_none() { Some(&c) } else { None })
            .await?;
        filter.customer_id = Some(row.map(|r| r.id).unwrap_or_else(uuid::Uuid::nil));
    }
    let (rows, total) = promo_store::ledger::list_redemptions(&mut conn, tenant.id(), &filter, order, page).await?;
    drop(conn);
    let rollbacks = rollbacks_of(&app, tenant.id(), &rows).await?;
    let redemptions = rows.into_iter().map(|r| render_redemption(r, &rollbacks)).collect();
    Ok(Json(RedemptionsList { object: "list", data_ref: "redemptions", redemptions, total }))
}

/// A voucher's redemptions and its quantity figures.
#[utoipa::path(get, path = "/v1/vouchers/{code}/redemption", tag = "vouchers", params(("code" = String, Path), crate::extract::PageQuery),
    responses((status = 200, body = crate::types::checkout::VoucherRedemptionsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn voucher_redemptions(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(code): Path<String>,
    ApiQuery(page): ApiQuery<crate::extract::PageQuery>,
) -> Result<Json<crate::types::checkout::VoucherRedemptionsOut>, ApiError> {
    let page = page.page()?;
    let by_id = ids::try_parse(ids::VOUCHER, &code);
    let key = crate::wire::code_key(&code, tenant.project.case_sensitive_codes);
    let v = promo_store::campaigns::get_voucher(&app.db, tenant.id(), by_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("voucher", &code))?;
    let filter = RedemptionFilter {
        related_object_id: Some(ids::wire(ids::VOUCHER, v.voucher_id)),
        ..RedemptionFilter::default()
    };
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = promo_store::ledger::list_redemptions(
        &mut conn,
        tenant.id(),
        &filter,
        (RedemptionOrder::CreatedAt, true),
        page,
    )
    .await?;
    let redeemed = promo_store::ledger::counter_values(
        &mut *conn,
        tenant.id(),
        &[promo_engine::rules::CounterKey::voucher_quantity(&ids::wire(ids::VOUCHER, v.voucher_id)).to_string()],
        None,
    )
    .await?
    .into_values()
    .next()
    .unwrap_or(0);
    drop(conn);
    let rollbacks = rollbacks_of(&app, tenant.id(), &rows).await?;
    let entries = rows.into_iter().map(|r| render_redemption(r, &rollbacks)).collect();
    Ok(Json(crate::types::checkout::VoucherRedemptionsOut {
        quantity: v.doc.0.pointer("/redemption/quantity").and_then(Value::as_i64),
        redeemed_quantity: redeemed,
        object: "list",
        url: format!("/v1/vouchers/{}/redemption", v.code),
        data_ref: "redemption_entries",
        total,
        redemption_entries: entries,
    }))
}

/// Release a validation session's reservations (`204` whether or not it held any).
#[utoipa::path(delete, path = "/v1/vouchers/{code}/sessions/{sessionKey}", tag = "vouchers",
    params(("code" = String, Path), ("sessionKey" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn release_session(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((code, session)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let by_id = ids::try_parse(ids::VOUCHER, &code);
    let key = crate::wire::code_key(&code, tenant.project.case_sensitive_codes);
    promo_store::campaigns::get_voucher(&app.db, tenant.id(), by_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("voucher", &code))?;
    promo_store::ledger::release_session(&app.db, tenant.id(), &session).await?;
    Ok(StatusCode::NO_CONTENT)
}
