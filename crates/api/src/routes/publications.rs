//! Publications (handing codes to customers) and the customer wallet.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::state::AppState;
use crate::types::admin::{PublicationsQuery, PublishQuery};
use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

/// Publish codes to a customer: `{"voucher": "CODE"}`, or `{"campaign": {"name": …, "count": 1..50}}`
/// (a campaign's free codes, oldest first; an AUTO_UPDATE campaign makes fresh ones when none is
/// left). The customer (by `id` or `source_id`, created when new) becomes the holder of a
/// campaign's codes; a standalone code stays shared. The same `source_id` returns the same
/// publication.
#[utoipa::path(post, path = "/v1/publications", tag = "publications", params(PublishQuery), request_body = crate::types::admin::PublicationIn,
    responses((status = 200, body = crate::types::admin::PublicationOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_publication(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PublishQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::publications::create_publication(&app, &tenant, q, body).await?))
}

/// List publications, newest first.
#[utoipa::path(get, path = "/v1/publications", tag = "publications", params(PublicationsQuery),
    responses((status = 200, body = crate::types::admin::PublicationsList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_publications(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PublicationsQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::publications::list_publications(&app, &tenant, q).await?))
}

/// A voucher's publications: the URL its `publish.url` prints.
#[utoipa::path(get, path = "/v1/vouchers/{code}/publications", tag = "vouchers",
    params(("code" = String, Path), PageQuery),
    responses((status = 200, body = crate::types::admin::PublicationsList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn voucher_publications(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::publications::voucher_publications(&app, &tenant, &code, (q.limit, q.page)).await?))
}

/// The customer wallet: codes the customer holds, newest first.
#[utoipa::path(get, path = "/v1/customers/{customerId}/redeemables", tag = "customers",
    params(("customerId" = String, Path), PageQuery),
    responses((status = 200, body = crate::types::admin::CustomerRedeemablesList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn customer_redeemables(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::services::publications::customer_redeemables(&app, &tenant, &raw, q.page()?).await?))
}
