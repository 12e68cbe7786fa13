//! Validation rules and their assignments to vouchers, campaigns and tiers.

use crate::ProjectId;
use crate::{Binds, Json, ListSql, Page, StoreError, page_and_total};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ValidationRuleRow {
    pub rule_id: Uuid,
    pub name: String,
    pub doc: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub assignments_count: i64,
}

/// The columns of [`ValidationRuleRow`] (a literal, for `concat!`).
macro_rules! rule_columns {
    () => {
        "r.rule_id, r.name, r.doc, r.created_at, r.updated_at,
    (select count(*) from validation_rule_assignment a where a.project_id = r.project_id and a.rule_id = r.rule_id) as assignments_count"
    };
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    name: &str,
    doc: &serde_json::Value,
) -> Result<ValidationRuleRow, StoreError> {
    Ok(sqlx::query_as::<_, ValidationRuleRow>(concat!(
        "with r as (insert into validation_rule (project_id, rule_id, name, doc) values ($1, $2, $3, $4) returning *)
         select ",
        rule_columns!(),
        " from r"
    ))
    .bind(project)
    .bind(id)
    .bind(name)
    .bind(Json(doc))
    .fetch_one(db)
    .await?)
}

pub async fn get(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
) -> Result<Option<ValidationRuleRow>, StoreError> {
    Ok(sqlx::query_as::<_, ValidationRuleRow>(concat!(
        "select ",
        rule_columns!(),
        " from validation_rule r where r.project_id = $1 and r.rule_id = $2"
    ))
    .bind(project)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Newest first, and how many there are.
pub async fn list(
    db: &mut PgConnection,
    project: ProjectId,
    page: Page,
) -> Result<(Vec<ValidationRuleRow>, i64), StoreError> {
    const RULES: ListSql = ListSql {
        rows: concat!(
            "select ",
            rule_columns!(),
            " from validation_rule r where r.project_id = $1
             order by r.created_at desc, r.rule_id desc limit $2 offset $3"
        ),
        count: "select count(*) from validation_rule where project_id = $1",
    };
    page_and_total(db, RULES, Binds::default().with(project)?, page).await
}

pub async fn update(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    name: &str,
    doc: &serde_json::Value,
) -> Result<Option<ValidationRuleRow>, StoreError> {
    Ok(sqlx::query_as::<_, ValidationRuleRow>(concat!(
        "with r as (update validation_rule set name = $3, doc = $4, updated_at = now()
                    where project_id = $1 and rule_id = $2 returning *)
         select ",
        rule_columns!(),
        " from r"
    ))
    .bind(project)
    .bind(id)
    .bind(name)
    .bind(Json(doc))
    .fetch_optional(db)
    .await?)
}

pub async fn delete(db: impl PgExecutor<'_>, project: ProjectId, id: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query("delete from validation_rule where project_id = $1 and rule_id = $2")
        .bind(project)
        .bind(id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssignmentRow {
    pub assignment_id: Uuid,
    pub rule_id: Uuid,
    pub related_object_type: String,
    pub related_object_id: String,
    pub created_at: DateTime<Utc>,
}

/// The columns of [`AssignmentRow`] (a literal, for `concat!`).
macro_rules! assignment_columns {
    () => {
        "assignment_id, rule_id, related_object_type, related_object_id, created_at"
    };
}

pub async fn assign(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    id: Uuid,
    rule: Uuid,
    object_type: &str,
    object_id: &str,
) -> Result<AssignmentRow, StoreError> {
    Ok(sqlx::query_as::<_, AssignmentRow>(concat!("insert into validation_rule_assignment (project_id, assignment_id, rule_id, related_object_type, related_object_id)
         values ($1, $2, $3, $4, $5) returning ", assignment_columns!()))
    .bind(project)
    .bind(id)
    .bind(rule)
    .bind(object_type)
    .bind(object_id)
    .fetch_one(db)
    .await?)
}

/// The assignments of several objects at once (the lists a page of campaigns, tiers or vouchers
/// embeds), newest first.
pub async fn assignments_of(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    related_object_ids: &[String],
) -> Result<Vec<AssignmentRow>, StoreError> {
    Ok(sqlx::query_as::<_, AssignmentRow>(concat!(
        "select ",
        assignment_columns!(),
        " from validation_rule_assignment
         where project_id = $1 and related_object_id = any($2)
         order by created_at desc, assignment_id desc"
    ))
    .bind(project)
    .bind(related_object_ids)
    .fetch_all(db)
    .await?)
}

/// Assignments of one rule, or (with `rule = None`) of the whole project, newest first.
pub async fn list_assignments(
    db: &mut PgConnection,
    project: ProjectId,
    rule: Option<Uuid>,
    related_object_id: Option<&str>,
    page: Page,
) -> Result<(Vec<AssignmentRow>, i64), StoreError> {
    const ALL: ListSql = ListSql {
        rows: concat!(
            "select ",
            assignment_columns!(),
            " from validation_rule_assignment where project_id = $1
             order by created_at desc, assignment_id desc limit $2 offset $3"
        ),
        count: "select count(*) from validation_rule_assignment where project_id = $1",
    };
    const OF_RULE: ListSql = ListSql {
        rows: concat!(
            "select ",
            assignment_columns!(),
            " from validation_rule_assignment where project_id = $1 and rule_id = $2
             order by created_at desc, assignment_id desc limit $3 offset $4"
        ),
        count: "select count(*) from validation_rule_assignment where project_id = $1 and rule_id = $2",
    };
    const OF_OBJECT: ListSql = ListSql {
        rows: concat!(
            "select ",
            assignment_columns!(),
            " from validation_rule_assignment where project_id = $1 and related_object_id = $2
             order by created_at desc, assignment_id desc limit $3 offset $4"
        ),
        count: "select count(*) from validation_rule_assignment where project_id = $1 and related_object_id = $2",
    };
    const OF_RULE_AND_OBJECT: ListSql = ListSql {
        rows: concat!(
            "select ",
            assignment_columns!(),
            " from validation_rule_assignment where project_id = $1 and rule_id = $2 and related_object_id = $3
             order by created_at desc, assignment_id desc limit $4 offset $5"
        ),
        count: "select count(*) from validation_rule_assignment
                where project_id = $1 and rule_id = $2 and related_object_id = $3",
    };
    let binds = Binds::default().with(project)?;
    match (rule, related_object_id) {
        (None, None) => page_and_total(db, ALL, binds, page).await,
        (Some(r), None) => page_and_total(db, OF_RULE, binds.with(r)?, page).await,
        (None, Some(o)) => page_and_total(db, OF_OBJECT, binds.with(o)?, page).await,
        (Some(r), Some(o)) => page_and_total(db, OF_RULE_AND_OBJECT, binds.with(r)?.with(o)?, page).await,
    }
}

pub async fn unassign(
    db: impl PgExecutor<'_>,
    project: ProjectId,
    rule: Uuid,
    assignment: Uuid,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "delete from validation_rule_assignment where project_id = $1 and rule_id = $2 and assignment_id = $3",
    )
    .bind(project)
    .bind(rule)
    .bind(assignment)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}
