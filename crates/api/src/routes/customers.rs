//! Customers, by id (`cust_…`) or `source_id`.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::state::AppState;
use crate::types::catalog::CustomerIn;
use crate::types::catalog::{CustomerOut, CustomersList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Create a customer.
#[utoipa::path(post, path = "/v1/customers", tag = "customers", request_body = CustomerIn,
    responses((status = 200, body = CustomerOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_customer(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CustomerIn>,
) -> Result<Json<CustomerOut>, ApiError> {
    Ok(Json(crate::services::customers::create_customer(&app, &tenant, body).await?))
}

/// Get a customer by id or source id.
#[utoipa::path(get, path = "/v1/customers/{customerId}", tag = "customers", params(("customerId" = String, Path)),
    responses((status = 200, body = CustomerOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_customer(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<CustomerOut>, ApiError> {
    Ok(Json(crate::services::customers::get_customer(&app, &tenant, &raw).await?))
}

/// List customers, newest first.
#[utoipa::path(get, path = "/v1/customers", tag = "customers", params(PageQuery),
    responses((status = 200, body = CustomersList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_customers(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<CustomersList>, ApiError> {
    Ok(Json(crate::services::customers::list_customers(&app, &tenant, q.page()?).await?))
}

/// Update a customer (given fields replace theirs).
#[utoipa::path(put, path = "/v1/customers/{customerId}", tag = "customers", params(("customerId" = String, Path)), request_body = CustomerIn,
    responses((status = 200, body = CustomerOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_customer(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<CustomerIn>,
) -> Result<Json<CustomerOut>, ApiError> {
    Ok(Json(crate::services::customers::update_customer(&app, &tenant, &raw, body).await?))
}

/// Delete a customer.
#[utoipa::path(delete, path = "/v1/customers/{customerId}", tag = "customers", params(("customerId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_customer(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::customers::delete_customer(&app, &tenant, &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}
