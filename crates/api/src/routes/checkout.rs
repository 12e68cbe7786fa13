//! Checkout endpoints: validations, qualifications, redemptions, rollbacks, sessions, and the
//! redemption ledger's listings. The work is in `crate::services::checkout`.

use crate::auth::{CachedTenant, ClientTenant, ClientTenantConn, Tenant, TenantConn, app_ids};
use crate::error::{ApiError, ErrorKey};
use crate::extract::{ApiJson, ApiQuery};
use crate::services::checkout::rollback::{RollbackInput, RollbackKind};
use crate::services::checkout::{self, Reply};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use promo_store::projects::ProjectRow;
use serde_json::Value;

fn idempotency_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok())
}

pub use crate::services::checkout::names_unknown_code;

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
    let validated = crate::services::lockout::validate(&app, &t.project, &mut t.conn, &t.app_id, body).await?;
    Ok(json_bytes(validated.body))
}

/// A storefront's request with the shopper's IP as the service saw it in `metadata.ip` (what
/// per-IP limits count): a browser's own claim is replaced, never trusted.
pub(crate) fn with_shopper_ip(mut body: Value, ip: std::net::IpAddr) -> Value {
    if let Some(o) = body.as_object_mut() {
        let metadata = o.entry("metadata").or_insert_with(|| Value::Object(Default::default()));
        if let Some(m) = metadata.as_object_mut() {
            m.insert("ip".into(), Value::String(ip.to_string()));
        }
    }
    body
}

/// Validate from a storefront (client-side key).
#[utoipa::path(post, path = "/client/v1/validations", tag = "checkout", request_body = crate::types::checkout::CheckoutIn,
    responses((status = 200, body = crate::types::checkout::ValidationsOut), (status = "4XX", body = crate::error::ErrorBody)), security(("client" = [])))]
pub async fn validate_client_side(
    State(app): State<AppState>,
    ClientTenantConn(mut t): ClientTenantConn,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let body = match t.client_ip {
        Some(ip) => with_shopper_ip(body, ip),
        None => body,
    };
    let validated = crate::services::lockout::validate(&app, &t.project, &mut t.conn, &t.app_id, body).await?;
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
    let outcome =
        crate::services::lockout::redeem(&app, &tenant.project, &app_id, body, idempotency_key(&headers)).await;
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
    let body = with_shopper_ip(body, tenant.ip);
    let outcome =
        crate::services::lockout::redeem(&app, &tenant.project, &app_id, body, idempotency_key(&headers)).await;
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
