//! Categories.

use crate::error::{ApiError, ErrorKey};
use crate::ids;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::campaigns::{CampaignOut, CategoryRef, TierOut, VoucherOut};
use crate::types::campaigns::{CategoryIn, CategoryOut};
use crate::types::common::ListOut;
use crate::wire::timestamp;
use promo_store::PgConnection;
use promo_store::categories::CategoryRow;
use std::collections::HashMap;
use uuid::Uuid;

/// The categories a page of campaigns, tiers or codes names (by `category_id`), read in one
/// query: each object then lists its category in `categories` as checkouts apply it.
pub(crate) struct PageCategories(HashMap<Uuid, CategoryRow>);

impl PageCategories {
    pub(crate) async fn load<'a>(
        db: &mut PgConnection,
        project: promo_store::ProjectId,
        wire_ids: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Result<Self, ApiError> {
        let mut wanted: Vec<Uuid> =
            wire_ids.into_iter().flatten().filter_map(|w| ids::try_parse(ids::CATEGORY, w)).collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(PageCategories(HashMap::new()));
        }
        let rows = promo_store::categories::get_many(&mut *db, project, &wanted).await?;
        Ok(PageCategories(rows.into_iter().map(|c| (c.category_id, c)).collect()))
    }

    /// The category named (if it exists) as a list of one, and its name.
    fn of(&self, wire_id: Option<&str>) -> (Vec<CategoryRef>, Option<String>) {
        let Some(c) = wire_id.and_then(|w| ids::try_parse(ids::CATEGORY, w)).and_then(|id| self.0.get(&id)) else {
            return (Vec::new(), None);
        };
        let entry = CategoryRef {
            id: ids::wire(ids::CATEGORY, c.category_id),
            name: c.name.clone(),
            hierarchy: i64::from(c.hierarchy),
            object: "category".into(),
            created_at: Some(timestamp(c.created_at)),
            stacking_rules_type: None,
        };
        (vec![entry], Some(c.name.clone()))
    }

    /// A tier's own category, else its campaign's (as checkouts apply them).
    fn tier_category(t: &TierOut) -> Option<&str> {
        t.category_id.as_deref().or(t.campaign.category_id.as_deref())
    }

    pub(crate) fn fill_tier(&self, t: &mut TierOut) {
        t.categories = self.of(Self::tier_category(t)).0;
    }

    pub(crate) fn fill_campaign(&self, c: &mut CampaignOut) {
        (c.categories, c.category) = self.of(c.category_id.as_deref());
        for t in c.promotion.iter_mut().flat_map(|p| p.tiers.iter_mut()) {
            self.fill_tier(t);
        }
    }

    /// A code's own category (a standalone code's), else its campaign's (`campaign_category`).
    pub(crate) fn fill_voucher(&self, v: &mut VoucherOut, campaign_category: Option<&str>) {
        (v.categories, v.category) = self.of(v.category_id.as_deref().or(campaign_category));
    }

    /// The wire ids a page of campaigns names (tiers included).
    pub(crate) fn named_by_campaigns(list: &[CampaignOut]) -> Vec<Option<&str>> {
        let mut out = Vec::new();
        for c in list {
            out.push(c.category_id.as_deref());
            out.extend(c.promotion.iter().flat_map(|p| p.tiers.iter()).map(Self::tier_category));
        }
        out
    }

    pub(crate) fn named_by_tiers(list: &[TierOut]) -> Vec<Option<&str>> {
        list.iter().map(Self::tier_category).collect()
    }
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

/// Delete a category; campaigns, tiers and codes that named it are left without one.
pub(crate) async fn delete_category(app: &AppState, tenant: &Tenant, raw: &str) -> Result<(), ApiError> {
    let id = ids::parse(ids::CATEGORY, "category", raw)?;
    let mut tx = promo_store::begin(&app.db).await?;
    if !promo_store::categories::delete(&mut tx, tenant.id(), id, &ids::wire(ids::CATEGORY, id)).await? {
        return Err(ApiError::not_found("category", raw));
    }
    promo_store::commit(tx).await?;
    Ok(())
}
