//! Codes at scale: adding codes to a campaign, imports (JSON and CSV), and the async actions
//! that run them.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::error::invalid;
use crate::extract::{ApiJson, ApiJsonRows, ApiQuery, PageQuery};
use crate::ids;
use crate::services::campaigns::find_campaign;
use crate::services::jobs;
use crate::state::AppState;
use crate::types::admin::{AsyncActionOut, AsyncActionsList};
use crate::types::common::AcceptedOut;
use crate::wire::object;
use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use promo_store::async_actions;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

/// Most rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Largest import body (100,000 rows with their fields).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

fn accepted(id: uuid::Uuid) -> Response {
    (StatusCode::ACCEPTED, Json(AcceptedOut { async_action_id: ids::wire(ids::ASYNC_ACTION, id) })).into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddVouchersQuery {
    /// How many codes (default 1). More than one runs as an async action (202).
    pub vouchers_count: Option<i64>,
}

/// Add codes to a campaign: one now (200 with the voucher), or many as an async action (202).
/// The body may set `code` (one code), `code_config`, `metadata`, `redemption`,
/// `additional_info`, `start_date`, `expiration_date`.
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/vouchers", tag = "campaigns",
    params(("campaignId" = String, Path), AddVouchersQuery), request_body = crate::types::campaigns::VoucherIn,
    responses((status = 200, body = crate::types::campaigns::VoucherOut), (status = 202, body = AcceptedOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("app" = [])))]
pub async fn add_vouchers(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<AddVouchersQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let added =
        crate::services::campaigns::add_to_campaign(&app, &tenant, &raw, q.vouchers_count.unwrap_or(1), object(body))
            .await?;
    Ok(match added {
        crate::services::campaigns::Added::Voucher(v) => Json(v).into_response(),
        crate::services::campaigns::Added::Action(id) => accepted(id),
    })
}

/// Add a code with the given code to a campaign (Voucherify's "add voucher with specific code to
/// campaign"); the body as for `POST /v1/campaigns/{campaignId}/vouchers`, without `code`.
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/vouchers/{code}", tag = "campaigns",
    params(("campaignId" = String, Path), ("code" = String, Path)), request_body = crate::types::campaigns::VoucherIn,
    responses((status = 200, body = crate::types::campaigns::VoucherOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("app" = [])))]
pub async fn add_voucher_with_code(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((raw, code)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let mut body = object(body);
    if body.get("code").is_some_and(|c| c.as_str() != Some(code.as_str())) {
        return Err(invalid("Property .code differs from the code in the path"));
    }
    body.insert("code".into(), Value::String(code));
    match crate::services::campaigns::add_to_campaign(&app, &tenant, &raw, 1, body).await? {
        crate::services::campaigns::Added::Voucher(v) => Ok(Json(v).into_response()),
        crate::services::campaigns::Added::Action(id) => Ok(accepted(id)),
    }
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
    let rows = crate::services::codes::csv_rows(&bytes).map_err(invalid)?;
    check_row_count(rows.len())?;
    Ok(rows)
}

/// Import codes into a campaign (JSON): all rows or none, reported per row in the async action.
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/import", tag = "campaigns", params(("campaignId" = String, Path)),
    request_body = crate::types::campaigns::VouchersImportIn, responses((status = 202, body = AcceptedOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("app" = [])))]
pub async fn import_campaign(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJsonRows(body): ApiJsonRows,
) -> Result<Response, ApiError> {
    enqueue_campaign_import(&app, &tenant, &raw, jobs::CAMPAIGN_IMPORT, json_rows(body)?).await
}

/// Import codes into a campaign from a CSV file (multipart `file`, or a `text/csv` body).
#[utoipa::path(post, path = "/v1/campaigns/{campaignId}/importCSV", tag = "campaigns", params(("campaignId" = String, Path)),
    request_body(content = String, content_type = "text/csv", description = "The CSV (or a multipart form with it as `file`)"),
    responses((status = 202, body = AcceptedOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
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
#[utoipa::path(post, path = "/v1/vouchers/import", tag = "vouchers", request_body = crate::types::campaigns::VouchersImportIn,
    responses((status = 202, body = AcceptedOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn import_vouchers(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJsonRows(body): ApiJsonRows,
) -> Result<Response, ApiError> {
    let rows = json_rows(body)?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let id = jobs::enqueue_import(&mut conn, &tenant, jobs::VOUCHERS_IMPORT, None, rows).await?;
    Ok(accepted(id))
}

/// Import standalone codes from a CSV file (`discount_type` and `value` columns give each
/// its discount).
#[utoipa::path(post, path = "/v1/vouchers/importCSV", tag = "vouchers",
    request_body(content = String, content_type = "text/csv", description = "The CSV (or a multipart form with it as `file`)"),
    responses((status = 202, body = AcceptedOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
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
    responses((status = 200, body = AsyncActionOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_async_action(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<AsyncActionOut>, ApiError> {
    let id = ids::parse(ids::ASYNC_ACTION, "async_action", &raw)?;
    let row =
        async_actions::get(&app.db, tenant.id(), id).await?.ok_or_else(|| ApiError::not_found("async_action", &raw))?;
    Ok(Json(jobs::render(&row)))
}

/// List async actions, newest first.
#[utoipa::path(get, path = "/v1/async-actions", tag = "async actions", params(PageQuery),
    responses((status = 200, body = AsyncActionsList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_async_actions(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<AsyncActionsList>, ApiError> {
    let page = q.page()?;
    let rows = async_actions::list(&app.db, tenant.id(), page).await?;
    let async_actions = rows.iter().map(jobs::render).collect();
    Ok(Json(AsyncActionsList { object: "list", data_ref: "async_actions", async_actions }))
}
