//! Tables that hold a wire document keyed by `(project_id, id)`, with a unique `source_id` and
//! a few columns derived from the document (customers, products, SKUs).

use crate::ProjectId;
use crate::{Binds, Json, ListSql, Page, StoreError, page_and_total};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// The statements of a document table, written out by [`doc_table!`] from its layout (every
/// name a constant of this crate, never input).
#[derive(Debug, Clone, Copy)]
pub struct DocTable {
    pub(crate) insert: &'static str,
    pub(crate) get: &'static str,
    pub(crate) all: &'static str,
    pub(crate) list: ListSql,
    /// Listing within a parent (SKUs of a product), for a table with a parent key.
    pub(crate) list_in_parent: Option<ListSql>,
    pub(crate) update: &'static str,
    pub(crate) delete: &'static str,
}

/// A [`DocTable`] of `table` keyed by `(project_id, id)`; `source: yes` when it has a unique
/// `source_id` column; `parent` a parent key column (or `none`); `derived` the columns kept in
/// step with the document (`$4::jsonb` in their expressions).
macro_rules! doc_table {
    (
        table: $t:literal, id: $id:literal, source: $source:ident, parent: $parent:tt,
        derived: [$(($col:literal, $expr:literal)),* $(,)?] $(,)?
    ) => {{
        macro_rules! select {
            () => {
                concat!($id, " as id, ", $crate::documents::doc_table!(@source_select $source), " as source_id, ", $crate::documents::doc_table!(@parent_select $parent),
                        " as parent_id, doc, created_at, updated_at")
            };
        }
        $crate::documents::DocTable {
            insert: concat!(
                "insert into ", $t, " (project_id, ", $id, $crate::documents::doc_table!(@source_col $source), ", doc"
                $(, ", ", $col)*, $crate::documents::doc_table!(@parent_col $parent), ") select $1, $2",
                $crate::documents::doc_table!(@source_val $source), ", $4" $(, ", ", $expr)*, $crate::documents::doc_table!(@parent_val $parent),
                // $3 (the source id) is bound either way; this types it when there is no column
                " where $3::text is null or true returning ", select!()
            ),
            get: concat!(
                "select ", select!(), " from ", $t, " where project_id = $1 and ", $crate::documents::doc_table!(@find $source, $t, $id)
            ),
            all: concat!("select ", select!(), " from ", $t, " where project_id = $1 order by created_at, ", $id),
            list: $crate::ListSql {
                rows: concat!(
                    "select ", select!(), " from ", $t, " where project_id = $1 order by created_at desc, ", $id,
                    " desc limit $2 offset $3"
                ),
                count: concat!("select count(*) from ", $t, " where project_id = $1"),
            },
            list_in_parent: $crate::documents::doc_table!(@in_parent $parent, $t, $id),
            update: concat!(
                "update ", $t, " set ", $crate::documents::doc_table!(@source_set $source), "doc = $4" $(, ", ", $col, " = ", $expr)*,
                ", updated_at = now() where project_id = $1 and ", $id,
                " = $2 and ($3::text is null or true) returning ", select!()
            ),
            delete: concat!("delete from ", $t, " where project_id = $1 and ", $id, " = $2"),
        }
    }};
    (@source_select yes) => { "source_id" };
    (@source_select no) => { "null::text" };
    (@parent_select none) => { "null::uuid" };
    (@parent_select $p:literal) => { $p };
    (@source_col yes) => { ", source_id" };
    (@source_col no) => { "" };
    (@source_val yes) => { ", $3" };
    (@source_val no) => { "" };
    (@source_set yes) => { "source_id = $3, " };
    (@source_set no) => { "" };
    (@parent_col none) => { "" };
    (@parent_col $p:literal) => { concat!(", ", $p) };
    (@parent_val none) => { "" };
    (@parent_val $p:literal) => { ", $5" };
    (@find yes, $t:literal, $id:literal) => { $crate::id_or_key!($t, $id, "source_id") };
    (@find no, $t:literal, $id:literal) => { concat!($id, " = $2 and ($3::text is null or true)") };
    (@in_parent none, $t:literal, $id:literal) => { None };
    (@in_parent $p:literal, $t:literal, $id:literal) => {
        Some($crate::ListSql {
            rows: concat!(
                "select ", select!(), " from ", $t, " where project_id = $1 and ", $p, " = $2 order by created_at desc, ",
                $id, " desc limit $3 offset $4"
            ),
            count: concat!("select count(*) from ", $t, " where project_id = $1 and ", $p, " = $2"),
        })
    };
}
pub(crate) use doc_table;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocRow {
    pub id: Uuid,
    pub source_id: Option<String>,
    pub parent_id: Option<Uuid>,
    pub doc: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl DocTable {
    pub async fn insert(
        &self,
        db: impl PgExecutor<'_>,
        project: ProjectId,
        id: Uuid,
        parent: Option<Uuid>,
        source_id: Option<&str>,
        doc: &serde_json::Value,
    ) -> Result<DocRow, StoreError> {
        let q = sqlx::query_as::<_, DocRow>(self.insert).bind(project).bind(id).bind(source_id).bind(Json(doc));
        let q = if self.list_in_parent.is_some() { q.bind(parent) } else { q };
        Ok(q.fetch_one(db).await?)
    }

    /// By id, or (when `by_source` is set) by source id.
    pub async fn get(
        &self,
        db: impl PgExecutor<'_>,
        project: ProjectId,
        id: Option<Uuid>,
        by_source: Option<&str>,
    ) -> Result<Option<DocRow>, StoreError> {
        Ok(sqlx::query_as::<_, DocRow>(self.get).bind(project).bind(id).bind(by_source).fetch_optional(db).await?)
    }

    /// Every row of the project, oldest first (small definition tables only).
    pub async fn all(&self, db: impl PgExecutor<'_>, project: ProjectId) -> Result<Vec<DocRow>, StoreError> {
        Ok(sqlx::query_as::<_, DocRow>(self.all).bind(project).fetch_all(db).await?)
    }

    /// Newest first (optionally within a parent), and how many there are.
    pub async fn list(
        &self,
        db: &mut PgConnection,
        project: ProjectId,
        parent: Option<Uuid>,
        page: Page,
    ) -> Result<(Vec<DocRow>, i64), StoreError> {
        let binds = Binds::default().with(project)?;
        match (parent, self.list_in_parent) {
            (None, _) => page_and_total(db, self.list, binds, page).await,
            (Some(p), Some(sql)) => page_and_total(db, sql, binds.with(p)?, page).await,
            // a table without parents has nothing under one
            (Some(_), None) => Ok((Vec::new(), 0)),
        }
    }

    pub async fn update(
        &self,
        db: impl PgExecutor<'_>,
        project: ProjectId,
        id: Uuid,
        source_id: Option<&str>,
        doc: &serde_json::Value,
    ) -> Result<Option<DocRow>, StoreError> {
        Ok(sqlx::query_as::<_, DocRow>(self.update)
            .bind(project)
            .bind(id)
            .bind(source_id)
            .bind(Json(doc))
            .fetch_optional(db)
            .await?)
    }

    pub async fn delete(&self, db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
        Ok(sqlx::query(self.delete).bind(project).bind(id).execute(db).await?.rows_affected() == 1)
    }
}
