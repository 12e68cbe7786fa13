//! Exports: schedule, list, read, delete, and download the CSV (`GET /v1/exports/{id}?token=…`).

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::services::exports as service;
use crate::state::AppState;
use crate::types::exports::{ExportDownloadQuery, ExportIn, ExportOut, ExportsList, ExportsQuery, OrdersExportIn};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Schedule an export of `redemption`, `voucher`, `customer`, `publication`, `order`,
/// `product` or `sku` rows (`parameters`: `fields`, `filters`, `order`); poll it with `GET`.
#[utoipa::path(post, path = "/v1/exports", tag = "exports", request_body = ExportIn,
    responses((status = 200, body = ExportOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_export(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<ExportIn>,
) -> Result<Json<ExportOut>, ApiError> {
    Ok(Json(service::create_export(&app, &tenant, body).await?))
}

/// Schedule an export of orders (`POST /v1/exports` with `exported_object: order`).
#[utoipa::path(post, path = "/v1/orders/export", tag = "exports", request_body = OrdersExportIn,
    responses((status = 200, body = ExportOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn export_orders(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<OrdersExportIn>,
) -> Result<Json<ExportOut>, ApiError> {
    let body = ExportIn { exported_object: Some("order".into()), parameters: body.parameters };
    Ok(Json(service::create_export(&app, &tenant, body).await?))
}

/// List exports, newest first (`order`: `created_at`, `status`, `-` for descending).
#[utoipa::path(get, path = "/v1/exports", tag = "exports", params(ExportsQuery),
    responses((status = 200, body = ExportsList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_exports(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<ExportsQuery>,
) -> Result<Json<ExportsList>, ApiError> {
    let page = crate::wire::page(q.limit, q.page, 10)?;
    Ok(Json(service::list_exports(&app, &tenant, page, q.order.as_deref().filter(|o| *o != "None")).await?))
}

/// Get an export (its `result.url` once `DONE`), or — with `?token=` — download its CSV
/// (`text/plain`, display-name headers, UTC ISO-8601 times). The token authorizes the download
/// by itself; a key sent with it must be the export's project's.
#[utoipa::path(get, path = "/v1/exports/{exportId}", tag = "exports",
    params(("exportId" = String, Path), ExportDownloadQuery),
    responses((status = 200, description = "The export, or its CSV with `?token=`",
        content((ExportOut = "application/json"), (String = "text/plain"))),
        (status = "4XX", body = crate::error::ErrorBody)), security(("app" = []), ()))]
pub async fn get_export(
    State(app): State<AppState>,
    mut parts: Parts,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<ExportDownloadQuery>,
) -> Result<Response, ApiError> {
    let Some(token) = q.token.filter(|t| !t.is_empty() && t != "None") else {
        let tenant = Tenant::from_request_parts(&mut parts, &app).await?;
        let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let base = service::public_base(&app.config, host);
        return Ok(Json(service::get_export(&app, &tenant, &raw, &base).await?).into_response());
    };
    let caller = if parts.headers.contains_key("x-app-id") {
        Some(Tenant::from_request_parts(&mut parts, &app).await?.id())
    } else {
        None
    };
    let row = service::authorize_download(&app.db, &raw, &token, caller, chrono::Utc::now()).await?;
    // one chunk in memory at a time, read as the client takes them
    let db = app.db.clone();
    let (project, id) = (row.project_id, row.export_id);
    let chunks = futures_util::stream::unfold(Some(0i32), move |seq| {
        let db = db.clone();
        async move {
            let seq = seq?;
            match promo_store::exports::chunk(&db, project, id, seq).await {
                Ok(Some(data)) => Some((Ok(Bytes::from(data)), Some(seq + 1))),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let filename = format!("attachment; filename=\"{raw}.csv\"");
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, filename)],
        Body::from_stream(chunks),
    )
        .into_response())
}

/// Delete an export and its file.
#[utoipa::path(delete, path = "/v1/exports/{exportId}", tag = "exports", params(("exportId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_export(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    service::delete_export(&app, &tenant, &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}
