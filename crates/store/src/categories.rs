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

pub async fn delete(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query("delete from category where project_id = $1 and category_id = $2")
        .bind(project)
        .bind(id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}
