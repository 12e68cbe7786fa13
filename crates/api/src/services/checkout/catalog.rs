//! Cart lines and the products discounts add, resolved against the project's catalog: a
//! product or SKU named by id, by source id or nested meets every other way of naming it, and
//! stored prices and metadata fill what the cart omits (the engine merges; this reads).

use crate::error::ApiError;
use crate::ids;
use crate::services::definitions::Definitions;
use promo_engine::cart::AddedProduct;
use promo_engine::catalog::{CatalogEntries, CatalogEntry, NamedBy};
use promo_engine::model::{ProductInfo, SkuInfo};
use promo_engine::{Order, Redeemable};
use promo_store::PgConnection;
use promo_store::products::{CatalogKeys, CatalogRow, catalog_entries};
use serde_json::Value;

fn add_keys(keys: &mut CatalogKeys, named: &NamedBy<'_>) {
    if let Some(id) = named.product_id {
        match ids::try_parse(ids::PRODUCT, id) {
            Some(u) => keys.product_ids.push(u),
            // a storefront's own product id: it may be the product's source id
            None => keys.product_source_ids.push(id.to_owned()),
        }
    }
    if let Some(s) = named.product_source_id {
        keys.product_source_ids.push(s.to_owned());
    }
    if let Some(id) = named.sku_id {
        match ids::try_parse(ids::SKU, id) {
            Some(u) => keys.sku_ids.push(u),
            None => keys.sku_source_ids.push(id.to_owned()),
        }
    }
    if let Some(s) = named.sku_source_id {
        keys.sku_source_ids.push(s.to_owned());
    }
}

fn added_named(p: &AddedProduct) -> NamedBy<'_> {
    NamedBy {
        product_id: p.product_id.as_deref(),
        product_source_id: p.product_source_id.as_deref(),
        sku_id: p.sku_id.as_deref(),
        sku_source_id: p.sku_source_id.as_deref(),
    }
}

fn entry_of(row: CatalogRow) -> CatalogEntry {
    let text = |doc: &Value, k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    let int = |doc: &Value, k: &str| doc.get(k).and_then(Value::as_i64);
    let metadata = |doc: &Value| doc.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
    let p = &row.product_doc.0;
    CatalogEntry {
        product: ProductInfo {
            id: Some(ids::wire(ids::PRODUCT, row.product_id)),
            source_id: row.product_source_id.clone(),
            name: text(p, "name"),
            price: p.get("price").and_then(Value::as_i64),
            metadata: metadata(p),
            stock: int(p, "stock"),
            cost: int(p, "cost"),
            floor_price: int(p, "floor_price"),
        },
        sku: row.sku_id.map(|sku_id| {
            let s = row.sku_doc.as_ref().map(|d| &d.0).unwrap_or(&Value::Null);
            SkuInfo {
                id: Some(ids::wire(ids::SKU, sku_id)),
                source_id: row.sku_source_id.clone(),
                sku: text(s, "sku"),
                price: s.get("price").and_then(Value::as_i64),
                metadata: metadata(s),
                stock: int(s, "stock"),
                cost: int(s, "cost"),
                floor_price: int(s, "floor_price"),
            }
        }),
    }
}

/// Reads the catalog entries the order's items and the given redeemables' free products name
/// (with the project's promotion tiers' free products), and resolves the order against them.
/// Projects without products skip the read.
pub async fn resolve<'r>(
    conn: &mut PgConnection,
    project: promo_store::ProjectId,
    defs: &Definitions,
    order: &mut Order,
    redeemables: impl Iterator<Item = &'r Redeemable>,
) -> Result<(), ApiError> {
    if !defs.has_catalog {
        return Ok(());
    }
    let mut keys = item_keys(order);
    for p in &defs.unit_products {
        add_keys(&mut keys, &added_named(p));
    }
    for p in redeemables.flat_map(Redeemable::unit_products) {
        add_keys(&mut keys, &added_named(p));
    }
    resolve_with(conn, project, &keys, order).await
}

/// The keys the order's items name their products and SKUs by.
fn item_keys(order: &Order) -> CatalogKeys {
    let mut keys = CatalogKeys::default();
    for item in &order.items {
        add_keys(&mut keys, &NamedBy::item(item));
    }
    keys
}

/// Reads the catalog entries `keys` name and resolves the order against them.
async fn resolve_with(
    conn: &mut PgConnection,
    project: promo_store::ProjectId,
    keys: &CatalogKeys,
    order: &mut Order,
) -> Result<(), ApiError> {
    let rows = catalog_entries(conn, project, keys).await?;
    CatalogEntries::new(rows.into_iter().map(entry_of).collect()).resolve_order(order);
    Ok(())
}

/// Resolves an order's lines against the catalog (an admin order: no discounts, so no free
/// products to read).
pub async fn resolve_items(
    conn: &mut PgConnection,
    project: promo_store::ProjectId,
    order: &mut Order,
) -> Result<(), ApiError> {
    if order.items.is_empty() {
        return Ok(());
    }
    let keys = item_keys(order);
    resolve_with(conn, project, &keys, order).await
}
