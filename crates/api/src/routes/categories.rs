//! Categories.

use crate::auth::Tenant;
use crate::error::{ApiError, ErrorKey};
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::ids;
use crate::routes::ListOut;
use crate::state::AppState;
use crate::wire::timestamp;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use promo_store::categories::CategoryRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CategoryIn {
    pub name: Option<String>,
    /// Lower applies first; 0 or more.
    pub hierarchy: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryOut {
    pub id: String,
    pub name: String,
    pub hierarchy: i32,
    pub object: &'static str,
    pub created_at: String,
    pub updated_at: Option<String>,
}

impl From<CategoryRow> for CategoryOut {
    fn from(c: CategoryRow) -> Self {
        CategoryOut {
            id: ids::wire(ids::CATEGORY, c.category_id),
            name: c.name,
            hierarchy: c.hierarchy,
            object: "category",
            created_at: timestamp(c.created_at),
            updated_at: c.updated_at.map(timestamp),
        }
    }
}

fn checked(name: Option<String>, hierarchy: Option<i64>) -> Result<(String, i32), ApiError> {
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty() && n.chars().count() <= 200);
    let name = name.ok_or_else(|| {
        ApiError::new(ErrorKey::InvalidPayload)
            .details("Property .name must be a non-empty string of at most 200 characters")
    })?;
    let hierarchy = hierarchy.unwrap_or(1);
    let hierarchy = i32::try_from(hierarchy).ok().filter(|h| *h >= 0).ok_or_else(|| {
        ApiError::new(ErrorKey::InvalidPayload).details("Property .hierarchy must be an integer of at least 0")
    })?;
    Ok((name, hierarchy))
}

/// Create a category.
#[utoipa::path(post, path = "/v1/categories", tag = "categories", request_body = CategoryIn,
    responses((status = 200, body = CategoryOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_category(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CategoryIn>,
) -> Result<Json<CategoryOut>, ApiError> {
    let (name, hierarchy) = checked(body.name, body.hierarchy)?;
    let row = promo_store::categories::insert(&app.db, tenant.id(), promo_store::new_id(), &name, hierarchy).await?;
    Ok(Json(row.into()))
}

/// Get a category.
#[utoipa::path(get, path = "/v1/categories/{categoryId}", tag = "categories", params(("categoryId" = String, Path)),
    responses((status = 200, body = CategoryOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_category(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<CategoryOut>, ApiError> {
    let id = ids::parse(ids::CATEGORY, "category", &raw)?;
    let row = promo_store::categories::get(&app.db, tenant.id(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("category", &raw))?;
    Ok(Json(row.into()))
}

/// List categories by hierarchy.
#[utoipa::path(get, path = "/v1/categories", tag = "categories", params(PageQuery),
    responses((status = 200, body = ListOut<CategoryOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_categories(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<CategoryOut>>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = promo_store::categories::list(&mut conn, tenant.id(), q.page()?).await?;
    Ok(Json(ListOut::new(rows.into_iter().map(CategoryOut::from).collect(), total)))
}

/// Update a category.
#[utoipa::path(put, path = "/v1/categories/{categoryId}", tag = "categories", params(("categoryId" = String, Path)), request_body = CategoryIn,
    responses((status = 200, body = CategoryOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_category(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<CategoryIn>,
) -> Result<Json<CategoryOut>, ApiError> {
    let id = ids::parse(ids::CATEGORY, "category", &raw)?;
    let current = promo_store::categories::get(&app.db, tenant.id(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("category", &raw))?;
    let (name, hierarchy) =
        checked(body.name.or(Some(current.name)), body.hierarchy.or(Some(i64::from(current.hierarchy))))?;
    let row = promo_store::categories::update(&app.db, tenant.id(), id, &name, hierarchy)
        .await?
        .ok_or_else(|| ApiError::not_found("category", &raw))?;
    Ok(Json(row.into()))
}

/// Delete a category.
#[utoipa::path(delete, path = "/v1/categories/{categoryId}", tag = "categories", params(("categoryId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_category(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = ids::parse(ids::CATEGORY, "category", &raw)?;
    if promo_store::categories::delete(&app.db, tenant.id(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("category", &raw))
    }
}
