//! Categories (stacking order and exclusivity of redeemables).

use crate::ProjectId;
use crate::{Binds, ListSql, Page, StoreError, page_and_total};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub category_id: Uuid,
    pub name: String,
    pub hierarchy: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The columns of [`CategoryRow`] (a literal, for `concat!`).
macro_rules! category_columns {
    () => {
        "category_id, name, hierarchy, created_at, updated_at"
    };
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    name: &str,
    hierarchy: i32,
) -> Result<CategoryRow, StoreError> {
    Ok(sqlx::query_as::<_, CategoryRow>(concat!(
        "insert into category (project_id, category_id, name, hierarchy) values ($1, $2, $3, $4) returning ",
        category_columns!()
    ))
    .bind(project)
    .bind(id)
    .bind(name)
    .bind(hierarchy)
    .fetch_one(db)
    .await?)
}

pub async fn get(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<Option<CategoryRow>, StoreError> {
    Ok(sqlx::query_as::<_, CategoryRow>(concat!(
        "select ",
        category_columns!(),
        " from category where project_id = $1 and category_id = $2"
    ))
    .bind(project)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Whether the category exists, holding it until the caller's transaction ends: a delete
/// running meanwhile waits, then clears the reference the caller is writing.
pub async fn hold(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query("select 1 from category where project_id = $1 and category_id = $2 for share")
        .bind(project)
        .bind(id)
        .fetch_optional(db)
        .await?
        .is_some())
}

/// The categories among `ids` (a page of objects names them): one query.
pub async fn get_many(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    ids: &[Uuid],
) -> Result<Vec<CategoryRow>, StoreError> {
    Ok(sqlx::query_as::<_, CategoryRow>(concat!(
        "select ",
        category_columns!(),
        " from category where project_id = $1 and category_id = any($2)"
    ))
    .bind(project)
    .bind(ids)
    .fetch_all(db)
    .await?)
}

/// Categories by hierarchy, then name; and how many there are.
pub async fn list(
    db: &mut PgConnection,
    project: ProjectId,
    page: Page,
) -> Result<(Vec<CategoryRow>, i64), StoreError> {
    const CATEGORIES: ListSql = ListSql {
        rows: concat!(
            "select ",
            category_columns!(),
            " from category where project_id = $1 order by hierarchy, name limit $2 offset $3"
        ),
        count: "select count(*) from category where project_id = $1",
    };
    page_and_total(db, CATEGORIES, Binds::default().with(project)?, page).await
}

pub async fn update(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    name: &str,
    hierarchy: i32,
) -> Result<Option<CategoryRow>, StoreError> {
    Ok(sqlx::query_as::<_, CategoryRow>(concat!(
        "update category set name = $3, hierarchy = $4, updated_at = now()
         where project_id = $1 and category_id = $2 returning ",
        category_columns!()
    ))
    .bind(project)
    .bind(id)
    .bind(name)
    .bind(hierarchy)
    .fetch_optional(db)
    .await?)
}

/// Deletes a category and every reference to it — a campaign's, its code template's, a tier's, a
/// stack's and a code's — in the caller's transaction, so no object is left naming a category that cannot be
/// read (every later update of it would be refused). `wire_id` is the id as documents hold it.
pub async fn delete(db: &mut PgConnection, project: ProjectId, id: Uuid, wire_id: &str) -> Result<bool, StoreError> {
    let deleted = sqlx::query("delete from category where project_id = $1 and category_id = $2")
        .bind(project)
        .bind(id)
        .execute(&mut *db)
        .await?
        .rows_affected()
        == 1;
    if !deleted {
        return Ok(false);
    }
    sqlx::query(
        "update campaign set category_id = null, doc = doc - 'category_id', updated_at = now()
         where project_id = $1 and category_id = $2",
    )
    .bind(project)
    .bind(id)
    .execute(&mut *db)
    .await?;
    for statement in [
        "update campaign set doc = doc #- '{voucher,category_id}', updated_at = now()
         where project_id = $1 and lower(doc->'voucher'->>'category_id') = lower($2)",
        "update promotion_tier set doc = doc - 'category_id', updated_at = now()
         where project_id = $1 and lower(doc->>'category_id') = lower($2)",
        "update voucher set doc = doc - 'category_id', updated_at = now()
         where project_id = $1 and lower(doc->>'category_id') = lower($2)",
        "update promotion_stack set doc = doc - 'category_id'
         where project_id = $1 and lower(doc->>'category_id') = lower($2)",
    ] {
        sqlx::query(statement).bind(project).bind(wire_id).execute(&mut *db).await?;
    }
    Ok(true)
}
