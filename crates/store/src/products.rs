//! Products and their SKUs (by id or `source_id`).

use crate::documents::{DocTable, doc_table};

pub const PRODUCTS: DocTable = doc_table! {
    table: "product", id: "product_id", source: yes, parent: none,
    derived: [("name", "($4::jsonb ->> 'name')"), ("price", "(($4::jsonb ->> 'price')::bigint)")],
};

pub const SKUS: DocTable = doc_table! {
    table: "sku", id: "sku_id", source: yes, parent: "product_id", derived: [],
};

/// The ids a checkout names products and SKUs by (product and SKU ids are the internal ones).
#[derive(Debug, Clone, Default)]
pub struct CatalogKeys {
    pub product_ids: Vec<uuid::Uuid>,
    pub product_source_ids: Vec<String>,
    pub sku_ids: Vec<uuid::Uuid>,
    pub sku_source_ids: Vec<String>,
}

impl CatalogKeys {
    pub fn is_empty(&self) -> bool {
        self.product_ids.is_empty()
            && self.product_source_ids.is_empty()
            && self.sku_ids.is_empty()
            && self.sku_source_ids.is_empty()
    }
}

/// A product, or a SKU with its product.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CatalogRow {
    pub product_id: uuid::Uuid,
    pub product_source_id: Option<String>,
    pub product_doc: crate::Json<serde_json::Value>,
    pub sku_id: Option<uuid::Uuid>,
    pub sku_source_id: Option<String>,
    pub sku_doc: Option<crate::Json<serde_json::Value>>,
}

/// Products named by id or source id, and SKUs (each with its product) named by id or source
/// id, in one round trip.
const CATALOG_ENTRIES: &str = "\
select p.product_id, p.source_id as product_source_id, p.doc as product_doc,
       null::uuid as sku_id, null::text as sku_source_id, null::jsonb as sku_doc
  from product p
 where p.project_id = $1 and (p.product_id = any($2) or p.source_id = any($3))
union all
select p.product_id, p.source_id, p.doc, s.sku_id, s.source_id, s.doc
  from sku s join product p on p.project_id = s.project_id and p.product_id = s.product_id
 where s.project_id = $1 and (s.sku_id = any($4) or s.source_id = any($5))";

pub async fn catalog_entries(
    db: &mut crate::PgConnection,
    project: crate::ProjectId,
    keys: &CatalogKeys,
) -> Result<Vec<CatalogRow>, crate::StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as::<_, CatalogRow>(CATALOG_ENTRIES)
        .bind(project)
        .bind(&keys.product_ids)
        .bind(&keys.product_source_ids)
        .bind(&keys.sku_ids)
        .bind(&keys.sku_source_ids)
        .fetch_all(db)
        .await?)
}

/// The SKUs of a page of products (at most `per_product` each, oldest first) and how many each
/// product has (products without SKUs are left out of both): two queries, each product's SKUs
/// read through its index.
pub async fn skus_of(
    db: &mut sqlx::PgConnection,
    project: crate::ProjectId,
    products: &[uuid::Uuid],
    per_product: i64,
) -> Result<(Vec<crate::documents::DocRow>, Vec<(uuid::Uuid, i64)>), crate::StoreError> {
    let rows = sqlx::query_as::<_, crate::documents::DocRow>(
        "select s.sku_id as id, s.source_id, s.product_id as parent_id, s.doc, s.created_at, s.updated_at
         from unnest($2::uuid[]) as p(id)
         cross join lateral (select * from sku where project_id = $1 and product_id = p.id
                             order by created_at, sku_id limit $3) s",
    )
    .bind(project)
    .bind(products)
    .bind(per_product)
    .fetch_all(&mut *db)
    .await?;
    let counts = sqlx::query_as::<_, (uuid::Uuid, i64)>(
        "select product_id, count(*) from sku where project_id = $1 and product_id = any($2) group by product_id",
    )
    .bind(project)
    .bind(products)
    .fetch_all(&mut *db)
    .await?;
    Ok((rows, counts))
}

/// How a stock update names a product or SKU.
#[derive(Debug, Clone)]
pub enum StockKey {
    Id(uuid::Uuid),
    SourceId(String),
}

/// One stock level to set.
#[derive(Debug, Clone)]
pub struct StockTarget {
    pub is_sku: bool,
    pub key: StockKey,
    pub stock: i64,
}

/// What [`set_stock`] did: all set, or the first entry it could not set (nothing is written
/// then; the caller rolls back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockOutcome {
    Done {
        products: i64,
        skus: i64,
    },
    /// No such product or SKU in the project.
    Missing(usize),
    /// The same product or SKU as an earlier entry.
    Twice(usize),
}

/// Sets stock levels inside the caller's transaction: the named rows are resolved and locked
/// in one read per table, then written in one statement per table.
pub async fn set_stock(
    tx: &mut crate::PgConnection,
    project: crate::ProjectId,
    targets: &[StockTarget],
) -> Result<StockOutcome, crate::StoreError> {
    let mut written = [0i64; 2];
    let mut resolved: Vec<Option<uuid::Uuid>> = vec![None; targets.len()];
    for (slot, (table, id_col)) in [("product", "product_id"), ("sku", "sku_id")].into_iter().enumerate() {
        let mine: Vec<usize> = (0..targets.len()).filter(|&i| targets[i].is_sku == (slot == 1)).collect();
        if mine.is_empty() {
            continue;
        }
        let ids: Vec<uuid::Uuid> =
            mine.iter().filter_map(|&i| if let StockKey::Id(u) = &targets[i].key { Some(*u) } else { None }).collect();
        let sources: Vec<&str> = mine
            .iter()
            .filter_map(|&i| if let StockKey::SourceId(s) = &targets[i].key { Some(s.as_str()) } else { None })
            .collect();
        let rows: Vec<(uuid::Uuid, Option<String>)> = sqlx::query_as(&format!(
            "select {id_col}, source_id from {table}
              where project_id = $1 and ({id_col} = any($2) or source_id = any($3)) for update"
        ))
        .bind(project)
        .bind(&ids)
        .bind(&sources)
        .fetch_all(&mut *tx)
        .await?;
        for &i in &mine {
            let found = rows.iter().find(|(id, source)| match &targets[i].key {
                StockKey::Id(u) => id == u,
                StockKey::SourceId(s) => source.as_deref() == Some(s.as_str()),
            });
            let Some((id, _)) = found else { return Ok(StockOutcome::Missing(i)) };
            if resolved.iter().enumerate().any(|(j, r)| *r == Some(*id) && targets[j].is_sku == targets[i].is_sku) {
                return Ok(StockOutcome::Twice(i));
            }
            resolved[i] = Some(*id);
        }
        let (ids, stocks): (Vec<uuid::Uuid>, Vec<i64>) =
            mine.iter().map(|&i| (resolved[i].unwrap_or_default(), targets[i].stock)).unzip();
        written[slot] = sqlx::query(&format!(
            "update {table} t set doc = jsonb_set(t.doc, '{{stock}}', to_jsonb(u.stock)), updated_at = now()
               from unnest($2::uuid[], $3::bigint[]) as u(id, stock)
              where t.project_id = $1 and t.{id_col} = u.id"
        ))
        .bind(project)
        .bind(&ids)
        .bind(&stocks)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
    }
    Ok(StockOutcome::Done { products: written[0], skus: written[1] })
}
