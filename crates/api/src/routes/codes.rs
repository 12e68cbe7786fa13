//! Codes at scale: adding codes to a campaign, imports (JSON and CSV), and the async actions
//! that run them.

use crate::auth::Tenant;
use crate::codes::{CodeConfig, MAX_ASYNC_CODES, check_code, code_key};
use crate::error::{ApiError, ErrorKey};
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::ids;
use crate::jobs;
use crate::routes::campaigns::{find_campaign, invalid, object, voucher_doc, voucher_response};
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use promo_store::async_actions;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

/// Most rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Largest import body (100,000 rows with their fields).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

fn accepted(id: uuid::Uuid) -> Response {
    (StatusCode::ACCEPTED, Json(json!({"async_action_id": ids::wire(ids::ASYNC_ACTION, id)}))).into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AddVouchersQuery {
    /// How many codes (default 1). More than one runs as an async action (202).
    pub vouchers_count: Option<i64>,
}

/// Add codes to a campaign: one now (200 with the voucher), or many as an async action (202).
/// The body may set `code` (one code), `code_config`, `metadata`, `redemption`,
/// `additional_info`, `start_date`, `expiration_date`.
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/vouchers", tag = "campaigns",
    params(("campaignId" = String, Path), AddVouchersQuery), request_body = Object,
    responses((status = 200, body = Object), (status = 202, body = Object), (status = "4XX", body = crate::error::ErrorBody)),
    security(("app" = [])))]
pub async fn add_vouchers(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<AddVouchersQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let count = q.vouchers_count.unwrap_or(1);
    if !(1..=MAX_ASYNC_CODES).contains(&count) {
        return Err(invalid(format!("Query parameter vouchers_count must be within 1..={MAX_ASYNC_CODES}")));
    }
    let body = object(body);
    let mut tx = promo_store::begin(&app.db).await?;
    let campaign = find_campaign(&mut tx, tenant.id(), &raw).await?;
    let Some(mut template) = campaign.doc.0.get("voucher").and_then(Value::as_object).cloned() else {
        return Err(invalid(format!("Campaign {raw} has no codes (a {} campaign)", campaign.campaign_type)));
    };
    let stored_config = template.remove("code_config");
    for (k, v) in &body {
        if !["code", "code_config", "category", "category_id"].contains(&k.as_str()) {
            template.insert(k.clone(), v.clone());
        }
    }
    let doc = voucher_doc(&template, "")?;
    let config = CodeConfig::parse(body.get("code_config").or(stored_config.as_ref()), "code_config")?;
    let cs = tenant.project.case_sensitive_codes;
    if count > 1 {
        if body.contains_key("code") {
            return Err(invalid("Property .code names one code; vouchers_count must then be 1"));
        }
        config.check_room(count, cs, "code_config")?;
        let id = jobs::enqueue_generation(&mut tx, &tenant, campaign.campaign_id, &config, count, &Value::Object(doc))
            .await?;
        promo_store::commit(tx).await?;
        return Ok(accepted(id));
    }
    let doc = Value::Object(doc);
    let key = match body.get("code").and_then(Value::as_str) {
        Some(code) => {
            check_code(code)?;
            let ids = [promo_store::new_id()];
            let (codes, keys) = ([code.to_owned()], [code_key(code, cs)]);
            let new = promo_store::campaigns::NewCodes {
                ids: &ids,
                codes: &codes,
                keys: &keys,
                docs: std::slice::from_ref(&doc),
                active: &[],
            };
            promo_store::campaigns::insert_codes(&mut *tx, tenant.id(), Some(campaign.campaign_id), None, new)
                .await?
                .pop()
                .ok_or_else(|| {
                    ApiError::new(ErrorKey::DuplicateFound)
                        .details(format!("A voucher with code {code} already exists"))
                })?
        }
        None => {
            let made =
                crate::codes::generate_now(&mut tx, tenant.id(), campaign.campaign_id, None, (&config, cs), 1, &doc)
                    .await?;
            made.into_iter().next().ok_or_else(|| invalid("No code could be generated"))?
        }
    };
    let row = promo_store::campaigns::get_voucher(&mut *tx, tenant.id(), None, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("voucher", &key))?;
    let out = voucher_response(&mut tx, &tenant, row).await?;
    promo_store::commit(tx).await?;
    Ok(out.into_response())
}

/// The rows of a JSON import: an array, or `{"vouchers": [...]}`.
fn json_rows(body: Value) -> Result<Vec<Value>, ApiError> {
    let rows = match body {
        Value::Array(rows) => rows,
        Value::Object(mut o) => match o.remove("vouchers") {
            Some(Value::Array(rows)) => rows,
            _ => return Err(invalid("The body must be an array of vouchers (or {\"vouchers\": [...]})")),
        },
        _ => return Err(invalid("The body must be an array of vouchers")),
    };
    check_row_count(rows.len())?;
    Ok(rows)
}

fn check_row_count(n: usize) -> Result<(), ApiError> {
    if n == 0 || n > MAX_IMPORT_ROWS {
        return Err(invalid(format!("An import takes 1 to {MAX_IMPORT_ROWS} rows; this one has {n}")));
    }
    Ok(())
}

/// The rows of a CSV import: a multipart upload (the first file part), or a `text/csv` body.
async fn csv_upload(req: Request) -> Result<Vec<Value>, ApiError> {
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bad = |e: &dyn std::fmt::Display| invalid(format!("The upload cannot be read: {e}"));
    let bytes = if is_multipart {
        let mut parts = Multipart::from_request(req, &()).await.map_err(|e| bad(&e))?;
        let mut file = None;
        while let Some(field) = parts.next_field().await.map_err(|e| bad(&e))? {
            if field.file_name().is_some() || field.name() == Some("file") {
                file = Some(field.bytes().await.map_err(|e| bad(&e))?);
                break;
            }
        }
        file.ok_or_else(|| invalid("The multipart body needs a `file` part holding the CSV"))?
    } else {
        axum::body::Bytes::from_request(req, &()).await.map_err(|e| bad(&e))?
    };
    let rows = crate::codes::csv_rows(&bytes).map_err(invalid)?;
    check_row_count(rows.len())?;
    Ok(rows)
}

/// Import codes into a campaign (JSON): all rows or none, reported per row in the async action.
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/import", tag = "campaigns", params(("campaignId" = String, Path)),
    request_body = Object, responses((status = 202, body = Object), (status = "4XX", body = crate::error::ErrorBody)),
    security(("app" = [])))]
pub async fn import_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    enqueue_campaign_import(&app, &tenant, &raw, jobs::CAMPAIGN_IMPORT, json_rows(body)?).await
}

/// Import codes into a campaign from a CSV file (multipart `file`, or a `text/csv` body).
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/importCSV", tag = "campaigns", params(("campaignId" = String, Path)),
    responses((status = 202, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn import_campaign_csv(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let rows = csv_upload(req).await?;
    enqueue_campaign_import(&app, &tenant, &raw, jobs::CAMPAIGN_IMPORT_CSV, rows).await
}

async fn enqueue_campaign_import(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    kind: &str,
    rows: Vec<Value>,
) -> Result<Response, ApiError> {
    let mut tx = promo_store::begin(&app.db).await?;
    let campaign = find_campaign(&mut tx, tenant.id(), raw).await?;
    if campaign.doc.0.get("voucher").is_none() {
        return Err(invalid(format!("Campaign {raw} has no codes (a {} campaign)", campaign.campaign_type)));
    }
    let id = jobs::enqueue_import(&mut tx, tenant, kind, Some(campaign.campaign_id), rows).await?;
    promo_store::commit(tx).await?;
    Ok(accepted(id))
}

/// Import standalone codes (JSON; each row with its `discount`).
#[utoipa::path(post, path = "/v1/vouchers/import", tag = "vouchers", request_body = Object,
    responses((status = 202, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn import_vouchers(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let rows = json_rows(body)?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let id = jobs::enqueue_import(&mut conn, &tenant, jobs::VOUCHERS_IMPORT, None, rows).await?;
    Ok(accepted(id))
}

/// Import standalone codes from a CSV file (`discount_type` and `value` columns give each
/// its discount).
#[utoipa::path(post, path = "/v1/vouchers/importCSV", tag = "vouchers",
    responses((status = 202, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn import_vouchers_csv(
    State(app): State<AppState>,
    tenant: Tenant,
    req: Request,
) -> Result<Response, ApiError> {
    let rows = csv_upload(req).await?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let id = jobs::enqueue_import(&mut conn, &tenant, jobs::VOUCHERS_IMPORT_CSV, None, rows).await?;
    Ok(accepted(id))
}

/// Get an async action: `status`, `progress` 0–100 and, when done, `result`.
#[utoipa::path(get, path = "/v1/async-actions/{asyncActionId}", tag = "async actions",
    params(("asyncActionId" = String, Path)),
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_async_action(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ids::parse(ids::ASYNC_ACTION, "async_action", &raw)?;
    let row =
        async_actions::get(&app.db, tenant.id(), id).await?.ok_or_else(|| ApiError::not_found("async_action", &raw))?;
    Ok(Json(jobs::render(&row)))
}

/// List async actions, newest first.
#[utoipa::path(get, path = "/v1/async-actions", tag = "async actions", params(PageQuery),
    responses((status = 200, body = Object), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_async_actions(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = q.page()?;
    let rows = async_actions::list(&app.db, tenant.id(), page).await?;
    let data: Vec<Value> = rows.iter().map(jobs::render).collect();
    Ok(Json(json!({"object": "list", "data_ref": "async_actions", "async_actions": data})))
}
