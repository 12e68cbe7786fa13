//! Tables that hold a wire document keyed by `(project_id, id)`, with a unique `source_id` and
//! a few columns derived from the document (customers, products, SKUs).

use crate::ProjectId;
use crate::{Json, Page, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// How a document table is laid out. Every name here is a constant of this crate, never input.
#[derive(Debug, Clone, Copy)]
pub struct DocTable {
    pub table: &'static str,
    pub id: &'static str,
    /// Columns kept in step with the document: `(column, expression over $doc)`.
    pub derived: &'static [(&'static str, &'static str)],
    /// A parent key column (SKUs belong to a product), filtered on when listing.
    pub parent: Option<&'static str>,
    /// Whether the table has a unique `source_id` column.
    pub has_source: bool,
}

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
    fn select(&self) -> String {
        format!(
            "{id} as id, {source} as source_id, {parent} as parent_id, doc, created_at, updated_at",
            id = self.id,
            source = if self.has_source { "source_id" } else { "null::text" },
            parent = self.parent.unwrap_or("null::uuid")
        )
    }

    fn derived_sets(&self, doc_param: &str) -> (String, String, String) {
        let cols: String = self.derived.iter().map(|(c, _)| format!(", {c}")).collect();
        let exprs: String = self.derived.iter().map(|(_, e)| format!(", {}", e.replace("$doc", doc_param))).collect();
        let sets: String =
            self.derived.iter().map(|(c, e)| format!(", {c} = {}", e.replace("$doc", doc_param))).collect();
        (cols, exprs, sets)
    }

    pub async fn insert(
        &self,
        db: impl PgExecutor<'_>,
        project: ProjectId,
        id: Uuid,
        parent: Option<Uuid>,
        source_id: Option<&str>,
        doc: &serde_json::Value,
    ) -> Result<DocRow, StoreError> {
        let (cols, exprs, _) = self.derived_sets("$4::jsonb");
        let (parent_col, parent_val) = match self.parent {
            Some(p) => (format!(", {p}"), ", $5".to_owned()),
            None => (String::new(), String::new()),
        };
        let (source_col, source_val) = if self.has_source { (", source_id", ", $3") } else { ("", "") };
        // $3 (the source id) is bound either way; the `where` clause types it when the table
        // has no source column.
        let sql = format!(
            "insert into {t} (project_id, {id}{source_col}, doc{cols}{parent_col}) select $1, $2{source_val}, $4{exprs}{parent_val} where $3::text is null or true
             returning {sel}",
            t = self.table,
            id = self.id,
            sel = self.select()
        );
        let q = sqlx::query_as::<_, DocRow>(&sql).bind(project).bind(id).bind(source_id).bind(Json(doc));
        let q = if self.parent.is_some() { q.bind(parent) } else { q };
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
        let wanted = if self.has_source {
            crate::id_or_key(self.table, self.id, "source_id")
        } else {
            format!("{} = $2 and ($3::text is null or true)", self.id)
        };
        let sql =
            format!("select {sel} from {t} where project_id = $1 and {wanted}", sel = self.select(), t = self.table);
        Ok(sqlx::query_as::<_, DocRow>(&sql).bind(project).bind(id).bind(by_source).fetch_optional(db).await?)
    }

    /// Every row of the project, oldest first (small definition tables only).
    pub async fn all(&self, db: impl PgExecutor<'_>, project: ProjectId) -> Result<Vec<DocRow>, StoreError> {
        let sql = format!(
            "select {sel} from {t} where project_id = $1 order by created_at, {id}",
            sel = self.select(),
            t = self.table,
            id = self.id
        );
        Ok(sqlx::query_as::<_, DocRow>(&sql).bind(project).fetch_all(db).await?)
    }

    /// Newest first (optionally within a parent), and how many there are.
    pub async fn list(
        &self,
        db: &mut PgConnection,
        project: ProjectId,
        parent: Option<Uuid>,
        page: Page,
    ) -> Result<(Vec<DocRow>, i64), StoreError> {
        let filter = match self.parent {
            Some(p) => {
                format!("project_id = $1 and {}", crate::optional(parent.is_some(), "$2::uuid", &format!("{p} = $2")))
            }
            None => "project_id = $1 and $2::uuid is null".to_owned(),
        };
        let rows = sqlx::query_as::<_, DocRow>(&format!(
            "select {sel} from {t} where {filter} order by created_at desc, {id} desc limit $3 offset $4",
            sel = self.select(),
            t = self.table,
            id = self.id
        ))
        .bind(project)
        .bind(parent)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&mut *db)
        .await?;
        let total = sqlx::query_scalar(&format!("select count(*) from {t} where {filter}", t = self.table))
            .bind(project)
            .bind(parent)
            .fetch_one(&mut *db)
            .await?;
        Ok((rows, total))
    }

    pub async fn update(
        &self,
        db: impl PgExecutor<'_>,
        project: ProjectId,
        id: Uuid,
        source_id: Option<&str>,
        doc: &serde_json::Value,
    ) -> Result<Option<DocRow>, StoreError> {
        let (_, _, sets) = self.derived_sets("$4::jsonb");
        let sql = format!(
            "update {t} set {source_set}doc = $4{sets}, updated_at = now() where project_id = $1 and {id} = $2 and ($3::text is null or true) returning {sel}",
            source_set = if self.has_source { "source_id = $3, " } else { "" },
            t = self.table,
            id = self.id,
            sel = self.select()
        );
        Ok(sqlx::query_as::<_, DocRow>(&sql)
            .bind(project)
            .bind(id)
            .bind(source_id)
            .bind(Json(doc))
            .fetch_optional(db)
            .await?)
    }

    pub async fn delete(&self, db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
        let sql = format!("delete from {t} where project_id = $1 and {id} = $2", t = self.table, id = self.id);
        Ok(sqlx::query(&sql).bind(project).bind(id).execute(db).await?.rows_affected() == 1)
    }
}
