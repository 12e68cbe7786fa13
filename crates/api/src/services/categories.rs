//! Categories.

use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::campaigns::{CategoryIn, CategoryOut};
use crate::types::common::ListOut;
use crate::wire::timestamp;
use promo_store::categories::CategoryRow;

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
pub(crate) async fn create_category(
    app: &AppState,
    tenant: &Tenant,
    body: CategoryIn,
) -> Result<CategoryOut, ApiError> {
    let (name, hierarchy) = checked(body.name, body.hierarchy)?;
    let row = promo_store::categories::insert(&app.db, tenant.id(), promo_store::new_id(), &name, hierarchy).await?;
    Ok(row.into())
}

/// Get a category.
pub(crate) async fn get_category(app: &AppState, tenant: &Tenant, raw: &str) -> Result<CategoryOut, ApiError> {
    let id = ids::parse(ids::CATEGORY, "category", raw)?;
    let row = promo_store::categories::get(&app.db, tenant.id(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("category", raw))?;
    Ok(row.into())
}

/// List categories by hierarchy.
pub(crate) async fn list_categories(
    app: &AppState,
    tenant: &Tenant,
    page: promo_store::Page,
) -> Result<ListOut<CategoryOut>, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = promo_store::categories::list(&mut conn, tenant.id(), page).await?;
    Ok(ListOut::new(rows.into_iter().map(CategoryOut::from).collect(), total))
}

/// Update a category.
pub(crate) async fn update_category(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    body: CategoryIn,
) -> Result<CategoryOut, ApiError> {
    let id = ids::parse(ids::CATEGORY, "category", raw)?;
    let current = promo_store::categories::get(&app.db, tenant.id(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("category", raw))?;
    let (name, hierarchy) =
        checked(body.name.or(Some(current.name)), body.hierarchy.or(Some(i64::from(current.hierarchy))))?;
    let row = promo_store::categories::update(&app.db, tenant.id(), id, &name, hierarchy)
        .await?
        .ok_or_else(|| ApiError::not_found("category", raw))?;
    Ok(row.into())
}

/// Delete a category.
pub(crate) async fn delete_category(app: &AppState, tenant: &Tenant, raw: &str) -> Result<(), ApiError> {
    let id = ids::parse(ids::CATEGORY, "category", raw)?;
    if promo_store::categories::delete(&app.db, tenant.id(), id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("category", raw))
    }
}
