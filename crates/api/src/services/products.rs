//! Products and SKUs, by id (`prod_…`, `sku_…`) or `source_id`.

use crate::error::ApiError;
use crate::error::invalid;
use crate::ids;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::types::admin::{ProductIn, SkuIn};
use crate::types::catalog::{CatalogFields, CatalogItemOut, ProductSkus, ProductsList, SkusList};
use crate::wire::metadata;
use crate::wire::strip_nulls;
use crate::wire::timestamp;
use promo_store::documents::DocRow;
use promo_store::products::{PRODUCTS, SKUS};
use serde_json::{Value, json};

pub(crate) fn out(r: DocRow, prefix: &str, object: &'static str) -> CatalogItemOut {
    // a stored document that no longer reads is shown without its fields, not refused
    let mut fields: CatalogFields = crate::wire::lenient(crate::wire::object(r.doc.0), object);
    // attributes as documented (names, or values by name): values stored before that was checked
    // are shown as their JSON text; anything else a row holds is left out
    fields.attributes = fields.attributes.and_then(|a| match a {
        Value::Array(names) if names.iter().all(Value::is_string) => Some(Value::Array(names)),
        Value::Object(values) => Some(Value::Object(
            values
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(_) => (k, v),
                    other => (k, Value::String(other.to_string())),
                })
                .collect(),
        )),
        _ => None,
    });
    let skus = (object == "product").then(|| {
        fields.attributes.get_or_insert_with(|| json!([]));
        ProductSkus { object: "list", data_ref: "data", data: Vec::new(), total: 0 }
    });
    CatalogItemOut {
        skus,
        id: ids::wire(prefix, r.id),
        source_id: r.source_id,
        product_id: r.parent_id.map(|p| ids::wire(ids::PRODUCT, p)),
        fields,
        created_at: timestamp(r.created_at),
        updated_at: r.updated_at.map(timestamp),
        object,
    }
}

/// The most units a stock level may say (either way: oversold stock is negative).
const MAX_STOCK: i64 = 1_000_000_000_000;

fn check_common(
    source_id: &Option<String>,
    money: [(&str, Option<i64>); 3],
    stock: Option<i64>,
) -> Result<(), ApiError> {
    if source_id.as_ref().is_some_and(|s| s.trim().is_empty() || s.len() > 200) {
        return Err(invalid("Property .source_id must be a non-empty string of at most 200 characters"));
    }
    for (name, v) in money {
        if v.is_some_and(|p| !(0..=promo_engine::money::MAX_MINOR).contains(&p)) {
            return Err(invalid(format!("Property .{name} must be a non-negative integer in minor units")));
        }
    }
    check_stock(stock, "stock")
}

fn check_stock(stock: Option<i64>, path: &str) -> Result<(), ApiError> {
    if stock.is_some_and(|n| !(-MAX_STOCK..=MAX_STOCK).contains(&n)) {
        return Err(invalid(format!("Property .{path} must be an integer within ±{MAX_STOCK}")));
    }
    Ok(())
}

fn product_doc(p: ProductIn) -> Result<(Option<String>, Value), ApiError> {
    check_common(&p.source_id, [("price", p.price), ("cost", p.cost), ("floor_price", p.floor_price)], p.stock)?;
    let doc = json!({"name": p.name, "price": p.price, "attributes": p.attributes, "image_url": p.image_url,
        "metadata": metadata(p.metadata)?, "stock": p.stock, "cost": p.cost, "floor_price": p.floor_price});
    Ok((p.source_id, strip_nulls(doc)))
}

fn sku_doc(s: SkuIn) -> Result<(Option<String>, Value), ApiError> {
    check_common(&s.source_id, [("price", s.price), ("cost", s.cost), ("floor_price", s.floor_price)], s.stock)?;
    if s.currency.as_ref().is_some_and(|c| c.len() != 3) {
        return Err(invalid("Property .currency must be an ISO 4217 code"));
    }
    let doc = json!({"sku": s.sku, "price": s.price, "currency": s.currency, "attributes": s.attributes,
        "image_url": s.image_url, "metadata": metadata(s.metadata)?, "stock": s.stock, "cost": s.cost,
        "floor_price": s.floor_price});
    Ok((s.source_id, strip_nulls(doc)))
}

fn merged(current: &Value, patch: Value) -> Value {
    let mut doc = current.clone();
    if let (Some(d), Value::Object(p)) = (doc.as_object_mut(), patch) {
        d.extend(p);
    }
    doc
}

async fn find_product(app: &AppState, project: promo_store::ProjectId, raw: &str) -> Result<DocRow, ApiError> {
    let id = ids::try_parse(ids::PRODUCT, raw);
    PRODUCTS
        .get(&app.db, project, id, if id.is_none() { Some(raw) } else { None })
        .await?
        .ok_or_else(|| ApiError::not_found("product", raw))
}

async fn find_sku(app: &AppState, project: promo_store::ProjectId, raw: &str) -> Result<DocRow, ApiError> {
    let id = ids::try_parse(ids::SKU, raw);
    SKUS.get(&app.db, project, id, if id.is_none() { Some(raw) } else { None })
        .await?
        .ok_or_else(|| ApiError::not_found("sku", raw))
}

/// Create a product.
pub(crate) async fn create_product(
    app: &AppState,
    tenant: &Tenant,
    body: ProductIn,
) -> Result<CatalogItemOut, ApiError> {
    let (source_id, doc) = product_doc(body)?;
    let row = PRODUCTS.insert(&app.db, tenant.id(), promo_store::new_id(), None, source_id.as_deref(), &doc).await?;
    Ok(out(row, ids::PRODUCT, "product"))
}

/// Get a product by id or source id.
pub(crate) async fn get_product(app: &AppState, tenant: &Tenant, raw: &str) -> Result<CatalogItemOut, ApiError> {
    let row = find_product(app, tenant.id(), raw).await?;
    let mut one = with_skus(&app.db, tenant.id(), vec![row], SKUS_OF_ONE).await?;
    one.pop().ok_or_else(|| ApiError::internal(promo_store::StoreError::Corrupt("product vanished".into())))
}

/// The SKUs a product lists inline (`skus.total` counts them all; `/v1/products/{id}/skus` pages
/// them): more for one product than for each of a page of products.
const SKUS_OF_ONE: i64 = 100;
pub(crate) const SKUS_IN_A_LIST: i64 = 10;

/// Products as answered, each with its first SKUs and their count.
pub(crate) async fn with_skus(
    db: &promo_store::PgPool,
    project: promo_store::ProjectId,
    rows: Vec<DocRow>,
    per_product: i64,
) -> Result<Vec<CatalogItemOut>, ApiError> {
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let mut conn = promo_store::acquire(db).await?;
    let (skus, counts) = promo_store::products::skus_of(&mut conn, project, &ids, per_product).await?;
    drop(conn);
    let mut by_product: std::collections::HashMap<uuid::Uuid, Vec<CatalogItemOut>> = std::collections::HashMap::new();
    for sku in skus {
        if let Some(parent) = sku.parent_id {
            by_product.entry(parent).or_default().push(out(sku, ids::SKU, "sku"));
        }
    }
    let counts: std::collections::HashMap<uuid::Uuid, i64> = counts.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let (data, total) = (by_product.remove(&r.id).unwrap_or_default(), counts.get(&r.id).copied().unwrap_or(0));
            let mut product = out(r, ids::PRODUCT, "product");
            if let Some(list) = product.skus.as_mut() {
                list.data = data;
                list.total = total;
            }
            product
        })
        .collect())
}

/// List products, newest first.
pub(crate) async fn list_products(
    app: &AppState,
    tenant: &Tenant,
    page: promo_store::Page,
) -> Result<ProductsList, ApiError> {
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = PRODUCTS.list(&mut conn, tenant.id(), None, page).await?;
    drop(conn);
    let products = with_skus(&app.db, tenant.id(), rows, SKUS_IN_A_LIST).await?;
    Ok(ProductsList { object: "list", data_ref: "products", products, total })
}

/// Update a product (given fields replace theirs).
pub(crate) async fn update_product(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    body: ProductIn,
) -> Result<CatalogItemOut, ApiError> {
    let current = find_product(app, tenant.id(), raw).await?;
    let source_id = body.source_id.clone().or(current.source_id.clone());
    let keep_metadata = body.metadata.is_none();
    let (_, mut patch) = product_doc(ProductIn { source_id: source_id.clone(), ..body })?;
    if keep_metadata {
        patch.as_object_mut().map(|p| p.remove("metadata"));
    }
    let doc = merged(&current.doc.0, patch);
    let row = PRODUCTS
        .update(&app.db, tenant.id(), current.id, source_id.as_deref(), &doc)
        .await?
        .ok_or_else(|| ApiError::not_found("product", raw))?;
    Ok(out(row, ids::PRODUCT, "product"))
}

/// Delete a product and its SKUs.
pub(crate) async fn delete_product(app: &AppState, tenant: &Tenant, raw: &str) -> Result<(), ApiError> {
    let current = find_product(app, tenant.id(), raw).await?;
    PRODUCTS.delete(&app.db, tenant.id(), current.id).await?;
    Ok(())
}

/// Create a SKU of a product.
pub(crate) async fn create_sku(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    body: SkuIn,
) -> Result<CatalogItemOut, ApiError> {
    let product = find_product(app, tenant.id(), raw).await?;
    let (source_id, doc) = sku_doc(body)?;
    let row =
        SKUS.insert(&app.db, tenant.id(), promo_store::new_id(), Some(product.id), source_id.as_deref(), &doc).await?;
    Ok(out(row, ids::SKU, "sku"))
}

/// Get a SKU by id or source id.
pub(crate) async fn get_sku(app: &AppState, tenant: &Tenant, raw: &str) -> Result<CatalogItemOut, ApiError> {
    Ok(out(find_sku(app, tenant.id(), raw).await?, ids::SKU, "sku"))
}

/// List the SKUs of a product.
pub(crate) async fn list_skus(
    app: &AppState,
    tenant: &Tenant,
    raw: &str,
    page: promo_store::Page,
) -> Result<SkusList, ApiError> {
    let product = find_product(app, tenant.id(), raw).await?;
    let mut conn = promo_store::acquire(&app.db).await?;
    let (rows, total) = SKUS.list(&mut conn, tenant.id(), Some(product.id), page).await?;
    Ok(SkusList {
        object: "list",
        data_ref: "skus",
        skus: rows.into_iter().map(|r| out(r, ids::SKU, "sku")).collect(),
        total,
    })
}

/// Update a SKU (given fields replace theirs).
pub(crate) async fn update_sku(
    app: &AppState,
    tenant: &Tenant,
    (product_raw, raw): (&str, &str),
    body: SkuIn,
) -> Result<CatalogItemOut, ApiError> {
    let product = find_product(app, tenant.id(), product_raw).await?;
    let current = find_sku(app, tenant.id(), raw).await?;
    if current.parent_id != Some(product.id) {
        return Err(ApiError::not_found("sku", raw));
    }
    let source_id = body.source_id.clone().or(current.source_id.clone());
    let keep_metadata = body.metadata.is_none();
    let (_, mut patch) = sku_doc(SkuIn { source_id: source_id.clone(), ..body })?;
    if keep_metadata {
        patch.as_object_mut().map(|p| p.remove("metadata"));
    }
    let doc = merged(&current.doc.0, patch);
    let row = SKUS
        .update(&app.db, tenant.id(), current.id, source_id.as_deref(), &doc)
        .await?
        .ok_or_else(|| ApiError::not_found("sku", raw))?;
    Ok(out(row, ids::SKU, "sku"))
}

/// Delete a SKU.
pub(crate) async fn delete_sku(
    app: &AppState,
    tenant: &Tenant,
    (product_raw, raw): (&str, &str),
) -> Result<(), ApiError> {
    let product = find_product(app, tenant.id(), product_raw).await?;
    let current = find_sku(app, tenant.id(), raw).await?;
    if current.parent_id != Some(product.id) {
        return Err(ApiError::not_found("sku", raw));
    }
    SKUS.delete(&app.db, tenant.id(), current.id).await?;
    Ok(())
}

/// Most products and SKUs one stock update may name.
const MAX_INVENTORY_ITEMS: usize = 1000;

/// Sets stock levels from an inventory system, all or none: a product or SKU the project does
/// not hold is a 404 naming it, one named twice a 400, and then nothing changes.
pub(crate) async fn set_inventory(
    app: &AppState,
    tenant: &Tenant,
    body: crate::types::admin::InventoryIn,
) -> Result<crate::types::admin::InventoryOut, ApiError> {
    use promo_store::products::{StockKey, StockTarget};
    if body.items.is_empty() || body.items.len() > MAX_INVENTORY_ITEMS {
        return Err(invalid(format!("Property .items must hold 1 to {MAX_INVENTORY_ITEMS} entries")));
    }
    let mut targets = Vec::with_capacity(body.items.len());
    for (i, item) in body.items.iter().enumerate() {
        check_stock(Some(item.stock), &format!("items[{i}].stock"))?;
        let named = [&item.product_id, &item.sku_id, &item.source_id].iter().filter(|v| v.is_some()).count();
        if named != 1 {
            return Err(invalid(format!("Property .items[{i}] must name one of product_id, sku_id or source_id")));
        }
        let key = |prefix: &str, raw: &String| {
            ids::try_parse(prefix, raw).map_or(StockKey::SourceId(raw.clone()), StockKey::Id)
        };
        let (is_sku, key) = match (&item.product_id, &item.sku_id, &item.source_id, item.related_object.as_deref()) {
            (_, _, None, Some(_)) => {
                return Err(invalid(format!("Property .items[{i}].related_object only goes with source_id")));
            }
            (Some(id), _, _, _) => (false, key(ids::PRODUCT, id)),
            (_, Some(id), _, _) => (true, key(ids::SKU, id)),
            (_, _, Some(s), None | Some("product")) => (false, StockKey::SourceId(s.clone())),
            (_, _, Some(s), Some("sku")) => (true, StockKey::SourceId(s.clone())),
            (_, _, Some(_), Some(other)) => {
                return Err(invalid(format!(
                    "Property .items[{i}].related_object must be product or sku, not {other}"
                )));
            }
            (None, None, None, None) => return Err(invalid(format!("Property .items[{i}] names nothing"))),
        };
        targets.push(StockTarget { is_sku, key, stock: item.stock });
    }
    let mut tx = promo_store::begin(&app.db).await?;
    let outcome = promo_store::products::set_stock(&mut tx, tenant.id(), &targets).await?;
    match outcome {
        promo_store::products::StockOutcome::Missing(i) => {
            let item = &body.items[i];
            let raw = item.product_id.as_deref().or(item.sku_id.as_deref()).or(item.source_id.as_deref()).unwrap_or("");
            Err(ApiError::not_found(if targets[i].is_sku { "sku" } else { "product" }, raw))
        }
        promo_store::products::StockOutcome::Twice(i) => {
            Err(invalid(format!("Property .items[{i}] names a product or SKU an earlier entry names")))
        }
        promo_store::products::StockOutcome::Done { products, skus } => {
            tx.commit().await.map_err(promo_store::StoreError::from)?;
            Ok(crate::types::admin::InventoryOut { products, skus, object: "inventory" })
        }
    }
}
