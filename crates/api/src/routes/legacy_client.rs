//! The two legacy client-side endpoints that Voucherify's browser widgets still call
//! (`voucherify.js`, `@voucherify/react-widget` through `@voucherify/sdk`):
//! `GET /client/v1/validate?code=…` with the cart in bracketed query parameters
//! (`item[0][product_id]`, `customer[source_id]`, `metadata[k]`, `order[metadata][k]`), and
//! `POST /client/v1/redeem?code=…`. Both run the stacked checkout with one voucher and answer in
//! the legacy shapes: an invalid code is a 200 with `valid: false` (the libraries treat any 4xx
//! as a transport error).

use crate::auth::{ClientTenant, ClientTenantConn, app_ids};
use crate::error::{ApiError, ErrorKey};
use crate::state::AppState;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// Cart fields that are integers on the wire (the query string carries them as text).
const INTEGER_FIELDS: &[&str] = &["amount", "quantity", "price", "discount_amount", "initial_amount"];

/// Parses `a[b][0][c]=v&…` into a JSON tree of strings (`qs`'s bracket notation; arrays are
/// objects keyed by index until [`arrays`] turns them into lists).
fn bracketed(query: &str) -> Result<Map<String, Value>, ApiError> {
    let mut root = Map::new();
    for (key, value) in form_pairs(query) {
        crate::hygiene::check_text(&key, &key)?;
        crate::hygiene::check_text(&key, &value)?;
        let mut parts = Vec::new();
        let (head, mut rest) = key.split_once('[').map_or((key.as_str(), ""), |(h, r)| (h, r));
        parts.push(head.to_owned());
        while !rest.is_empty() {
            let Some((inside, after)) = rest.split_once(']') else { break };
            parts.push(inside.to_owned());
            rest = after.strip_prefix('[').unwrap_or("");
        }
        if parts.len() > 6 || parts.iter().any(String::is_empty) {
            return Err(ApiError::new(ErrorKey::InvalidQueryParams)
                .details(format!("Query parameter `{key}` is not supported")));
        }
        let mut node = &mut root;
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                node.insert(part.clone(), Value::String(value.clone()));
            } else {
                let child = node.entry(part.clone()).or_insert_with(|| Value::Object(Map::new()));
                if !child.is_object() {
                    *child = Value::Object(Map::new());
                }
                node = child.as_object_mut().expect("made an object");
            }
        }
    }
    Ok(root)
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).is_some() && hex(bytes[i + 2]).is_some() => {
                out.push(hex(bytes[i + 1]).unwrap_or_default() * 16 + hex(bytes[i + 2]).unwrap_or_default());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Objects keyed `0, 1, …` become lists; integer fields become numbers.
fn normalize(v: Value, key: Option<&str>) -> Result<Value, ApiError> {
    match v {
        Value::Object(map) => {
            let indexed = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if indexed {
                let mut items: Vec<(usize, Value)> =
                    map.into_iter().map(|(k, v)| (k.parse::<usize>().unwrap_or_default(), v)).collect();
                items.sort_by_key(|(i, _)| *i);
                return items
                    .into_iter()
                    .map(|(_, v)| normalize(v, None))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array);
            }
            let mut out = Map::new();
            for (k, v) in map {
                let v = normalize(v, Some(&k))?;
                out.insert(k, v);
            }
            Ok(Value::Object(out))
        }
        Value::String(s) if key.is_some_and(|k| INTEGER_FIELDS.contains(&k)) => {
            if s.is_empty() {
                return Ok(Value::Null);
            }
            s.trim().parse::<i64>().map(Value::from).map_err(|_| {
                ApiError::new(ErrorKey::InvalidQueryParams)
                    .details(format!("Query parameter {} must be an integer", key.unwrap_or("")))
            })
        }
        other => Ok(other),
    }
}

/// The stacked validation request a legacy query stands for.
fn validation_request(query: &str) -> Result<(String, Value), ApiError> {
    let q = bracketed(query)?;
    let q = match normalize(Value::Object(q), None)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let code: String = q.get("code").and_then(Value::as_str).unwrap_or_default().split_whitespace().collect();
    if code.is_empty() {
        return Err(ApiError::new(ErrorKey::InvalidQueryParams).details("Query parameter code is required"));
    }
    let mut order = q.get("order").and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(amount) = q.get("amount").filter(|a| !a.is_null()) {
        order.insert("amount".into(), amount.clone());
    }
    if let Some(items) = q.get("item").or_else(|| q.get("items")) {
        order.insert("items".into(), items.clone());
    }
    let mut body = json!({"redeemables": [{"object": "voucher", "id": code}], "order": order});
    let b = body.as_object_mut().expect("object");
    match q.get("customer") {
        Some(Value::String(id)) if !id.is_empty() => {
            b.insert("customer".into(), json!({"source_id": id}));
        }
        Some(c @ Value::Object(_)) => {
            b.insert("customer".into(), c.clone());
        }
        _ => {}
    }
    for key in ["metadata", "tracking_id"] {
        if let Some(v) = q.get(key) {
            b.insert(key.into(), v.clone());
        }
    }
    Ok((code, crate::wire::strip_nulls(body)))
}

/// The legacy validation shape of one stacked validation answer.
fn legacy_validation(code: &str, stacked: &Value) -> Value {
    let entry = ["redeemables", "inapplicable_redeemables", "skipped_redeemables"]
        .iter()
        .find_map(|list| stacked.get(*list).and_then(Value::as_array).and_then(|l| l.first()))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let tracking_id = stacked.get("tracking_id").cloned().unwrap_or(Value::Null);
    let metadata = entry.get("metadata").cloned().unwrap_or_else(|| json!({}));
    if stacked.get("valid").and_then(Value::as_bool) == Some(true) {
        let result = entry.get("result").cloned().unwrap_or_else(|| json!({}));
        let mut out = json!({
            "valid": true,
            "code": code,
            "applicable_to": entry.get("applicable_to").cloned().unwrap_or_else(|| json!({"object": "list", "data": [], "total": 0})),
            "inapplicable_to": entry.get("inapplicable_to").cloned().unwrap_or_else(|| json!({"object": "list", "data": [], "total": 0})),
            "order": entry.get("order").or_else(|| stacked.get("order")).cloned().unwrap_or_else(|| json!({})),
            "tracking_id": tracking_id,
            "metadata": metadata,
            "campaign": entry.get("campaign_name").cloned().unwrap_or(Value::Null),
            "campaign_id": entry.get("campaign_id").cloned().unwrap_or(Value::Null),
        });
        let o = out.as_object_mut().expect("object");
        for benefit in ["discount", "gift", "loyalty_card"] {
            if let Some(v) = result.get(benefit) {
                o.insert(benefit.into(), v.clone());
            }
        }
        if let Some(session) = stacked.get("session") {
            o.insert("session".into(), session.clone());
        }
        return out;
    }
    let error = entry.pointer("/result/error").cloned().unwrap_or(Value::Null);
    let reason = entry
        .pointer("/result/details/message")
        .or_else(|| entry.pointer("/result/error/message"))
        .cloned()
        .unwrap_or_else(|| json!("voucher not applicable"));
    json!({"valid": false, "code": code, "reason": reason, "error": error, "tracking_id": tracking_id, "metadata": metadata})
}

/// Validate one code (legacy, `voucherify.js` and the widgets). An invalid code is a 200 with
/// `valid: false` and a `reason`.
#[utoipa::path(get, path = "/client/v1/validate", tag = "checkout", operation_id = "validate_voucher_client_side_legacy",
    params(("code" = String, Query, description = "The code"),
           ("amount" = Option<i64>, Query, description = "Order amount, minor units"),
           ("tracking_id" = Option<String>, Query),
           ("customer" = Option<String>, Query, description = "Customer source id (or bracketed `customer[source_id]`)")),
    responses((status = 200, body = crate::types::checkout::LegacyValidationOut), (status = "4XX", body = crate::error::ErrorBody)), security(("client" = [])))]
pub async fn validate(
    State(app): State<AppState>,
    ClientTenantConn(mut t): ClientTenantConn,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (code, body) = validation_request(query.as_deref().unwrap_or_default())?;
    let body = match t.client_ip {
        Some(ip) => crate::routes::checkout::with_shopper_ip(body, ip),
        None => body,
    };
    let validated = crate::services::lockout::validate(&app, &t.project, &mut t.conn, &t.app_id, body).await?;
    if let Some(ip) = t.client_ip {
        app.limits.unknown_codes(&t.project, ip, validated.unknown_codes)?;
    }
    let stacked: Value = serde_json::from_slice(&validated.body).map_err(ApiError::internal)?;
    Ok(Json(legacy_validation(&code, &stacked)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RedeemQuery {
    pub code: Option<String>,
}

/// Redeem one code (legacy). The body is the order, customer and metadata
/// (`{"order": {"amount": 2500}, "customer": {"source_id": "…"}}`); the answer is the redemption.
#[utoipa::path(post, path = "/client/v1/redeem", tag = "checkout", operation_id = "redeem_voucher_client_side_legacy", params(RedeemQuery), request_body = crate::types::checkout::CheckoutIn,
    responses((status = 200, body = crate::types::checkout::RedemptionOut), (status = "4XX", body = crate::error::ErrorBody)), security(("client" = [])))]
pub async fn redeem(
    State(app): State<AppState>,
    tenant: ClientTenant,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<RedeemQuery>,
    headers: HeaderMap,
    crate::extract::ApiJson(body): crate::extract::ApiJson<Value>,
) -> Result<Response, ApiError> {
    if !tenant.project.client_redeem_enabled {
        return Err(ApiError::new(ErrorKey::Forbidden).details("Client-side redemptions are disabled for this project"));
    }
    let code: String = q.code.unwrap_or_default().split_whitespace().collect();
    if code.is_empty() {
        return Err(ApiError::new(ErrorKey::InvalidQueryParams).details("Query parameter code is required"));
    }
    // `ApiJson` takes objects only
    let mut b = body.as_object().cloned().unwrap_or_default();
    b.insert("redeemables".into(), json!([{"object": "voucher", "id": code}]));
    let app_id = app_ids(tenant.project.project_id).1;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let body = crate::routes::checkout::with_shopper_ip(Value::Object(b), tenant.ip);
    let outcome = crate::services::lockout::redeem(&app, &tenant.project, &app_id, body, key).await;
    crate::routes::checkout::count_redemption(&app, &outcome);
    if crate::routes::checkout::names_unknown_code(&outcome) {
        app.limits.unknown_codes(&tenant.project, tenant.ip, 1)?;
    }
    let reply = outcome?;
    let stacked: Value = serde_json::from_slice(&reply.body).map_err(ApiError::internal)?;
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    if !status.is_success() {
        return Ok((status, Json(stacked)).into_response());
    }
    // the one redemption of the code, as the legacy endpoint answered it
    let single = stacked.pointer("/redemptions/0").cloned().unwrap_or_else(|| stacked.clone());
    Ok(Json(single).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_query_is_a_stacked_validation() {
        let (code, body) = validation_request(
            "&code=%20AB%20C&amount=2500&item[0][product_id]=prod_1&item[0][quantity]=2&item[0][price]=1250\
             &customer[source_id]=c%401&metadata[lang]=pl&order[metadata][channel]=web&tracking_id=t1",
        )
        .unwrap();
        assert_eq!(code, "ABC");
        assert_eq!(
            body,
            json!({
                "redeemables": [{"object": "voucher", "id": "ABC"}],
                "order": {"amount": 2500, "items": [{"product_id": "prod_1", "quantity": 2, "price": 1250}],
                          "metadata": {"channel": "web"}},
                "customer": {"source_id": "c@1"},
                "metadata": {"lang": "pl"},
                "tracking_id": "t1"
            })
        );
        let (_, body) = validation_request("code=X&customer=cust-7").unwrap();
        assert_eq!(body["customer"], json!({"source_id": "cust-7"}));
        assert!(validation_request("amount=1").is_err());
        assert!(validation_request("code=X&amount=ten").is_err());
    }
}
