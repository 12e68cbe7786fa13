//! Projects (tenants), their application keys and their stacking rules.

use crate::{Json, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A project row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRow {
    pub project_id: crate::ProjectId,
    pub name: String,
    pub description: Option<String>,
    pub timezone: String,
    pub currency: String,
    pub case_sensitive_codes: bool,
    pub client_trusted_domains: Vec<String>,
    pub client_redeem_enabled: bool,
    pub stacking_rules: Option<Json<serde_json::Value>>,
    pub stacking_rules_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped (by triggers) on every write to something the engine compiles.
    pub definitions_version: i64,
    #[sqlx(flatten)]
    pub rate_limits: RateLimits,
    /// What per-customer limits count by (`customer`, `email`, `phone`, `metadata.<key>`).
    pub customer_identity: String,
    /// Code-guessing lock-out `{failures, window_minutes, block_minutes}`; None: off.
    pub lockout: Option<Json<serde_json::Value>>,
}

/// A project's own rate limits; `None` keeps the service's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct RateLimits {
    #[sqlx(rename = "rate_limit_server_per_second")]
    pub server_per_second: Option<i32>,
    #[sqlx(rename = "rate_limit_client_ip_per_second")]
    pub client_ip_per_second: Option<i32>,
    #[sqlx(rename = "rate_limit_unknown_codes_per_minute")]
    pub unknown_codes_per_minute: Option<i32>,
}

/// The settings of a project (create and update).
#[derive(Debug, Clone)]
pub struct ProjectSettings {
    pub name: String,
    pub description: Option<String>,
    pub timezone: String,
    pub currency: String,
    pub case_sensitive_codes: bool,
    pub client_trusted_domains: Vec<String>,
    pub client_redeem_enabled: bool,
    pub rate_limits: RateLimits,
    pub customer_identity: String,
    pub lockout: Option<serde_json::Value>,
}

/// Kind of application key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Server,
    Client,
}

impl KeyKind {
    fn as_str(self) -> &'static str {
        match self {
            KeyKind::Server => "server",
            KeyKind::Client => "client",
        }
    }
}

/// A key to store: its public id and the hash of its token.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub app_id: String,
    pub kind: KeyKind,
    pub token_hash: Vec<u8>,
}

/// The columns of [`ProjectRow`] (a literal, for `concat!`).
macro_rules! project_columns {
    () => {
        "project_id, name, description, timezone, currency, case_sensitive_codes, client_trusted_domains, client_redeem_enabled, stacking_rules, stacking_rules_id, created_at, updated_at, definitions_version, rate_limit_server_per_second, rate_limit_client_ip_per_second, rate_limit_unknown_codes_per_minute, customer_identity, lockout"
    };
}

/// Creates a project with its keys (in the caller's transaction).
pub async fn insert(
    db: &mut PgConnection,
    id: crate::ProjectId,
    s: &ProjectSettings,
    keys: &[NewKey],
) -> Result<ProjectRow, StoreError> {
    let row = sqlx::query_as::<_, ProjectRow>(concat!(
        "insert into project (project_id, name, description, timezone, currency, case_sensitive_codes,
             client_trusted_domains, client_redeem_enabled, rate_limit_server_per_second,
             rate_limit_client_ip_per_second, rate_limit_unknown_codes_per_minute, customer_identity, lockout)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning ",
        project_columns!()
    ))
    .bind(id)
    .bind(&s.name)
    .bind(&s.description)
    .bind(&s.timezone)
    .bind(&s.currency)
    .bind(s.case_sensitive_codes)
    .bind(&s.client_trusted_domains)
    .bind(s.client_redeem_enabled)
    .bind(s.rate_limits.server_per_second)
    .bind(s.rate_limits.client_ip_per_second)
    .bind(s.rate_limits.unknown_codes_per_minute)
    .bind(&s.customer_identity)
    .bind(s.lockout.as_ref().map(Json))
    .fetch_one(&mut *db)
    .await?;
    for k in keys {
        sqlx::query("insert into api_key (project_id, app_id, kind, token_hash) values ($1, $2, $3, $4)")
            .bind(id)
            .bind(&k.app_id)
            .bind(k.kind.as_str())
            .bind(&k.token_hash)
            .execute(&mut *db)
            .await?;
    }
    Ok(row)
}

pub async fn get(db: impl PgExecutor<'_>, id: crate::ProjectId) -> Result<Option<ProjectRow>, StoreError> {
    Ok(sqlx::query_as::<_, ProjectRow>(concat!("select ", project_columns!(), " from project where project_id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// All projects, newest first, and how many there are.
pub async fn list(db: &mut PgConnection, page: crate::Page) -> Result<(Vec<ProjectRow>, i64), StoreError> {
    const PROJECTS: crate::ListSql = crate::ListSql {
        rows: concat!(
            "select ",
            project_columns!(),
            " from project order by created_at desc, project_id desc limit $1 offset $2"
        ),
        count: "select count(*) from project",
    };
    crate::page_and_total(db, PROJECTS, crate::Binds::default(), page).await
}

pub async fn update(
    db: impl PgExecutor<'_>,
    id: crate::ProjectId,
    s: &ProjectSettings,
) -> Result<Option<ProjectRow>, StoreError> {
    Ok(sqlx::query_as::<_, ProjectRow>(concat!(
        "update project set name = $2, description = $3, timezone = $4, currency = $5, case_sensitive_codes = $6,
             client_trusted_domains = $7, client_redeem_enabled = $8, rate_limit_server_per_second = $9,
             rate_limit_client_ip_per_second = $10, rate_limit_unknown_codes_per_minute = $11,
             customer_identity = $12, lockout = $13
         where project_id = $1 returning ",
        project_columns!()
    ))
    .bind(id)
    .bind(&s.name)
    .bind(&s.description)
    .bind(&s.timezone)
    .bind(&s.currency)
    .bind(s.case_sensitive_codes)
    .bind(&s.client_trusted_domains)
    .bind(s.client_redeem_enabled)
    .bind(s.rate_limits.server_per_second)
    .bind(s.rate_limits.client_ip_per_second)
    .bind(s.rate_limits.unknown_codes_per_minute)
    .bind(&s.customer_identity)
    .bind(s.lockout.as_ref().map(Json))
    .fetch_optional(db)
    .await?)
}

/// Deletes a project and everything in it.
pub async fn delete(db: impl PgExecutor<'_>, id: crate::ProjectId) -> Result<bool, StoreError> {
    Ok(sqlx::query("delete from project where project_id = $1").bind(id).execute(db).await?.rows_affected() == 1)
}

/// The project of an application key whose token matches; `None` for any mismatch.
pub async fn authenticate(
    db: impl PgExecutor<'_>,
    project_id: crate::ProjectId,
    app_id: &str,
    kind: KeyKind,
    token_hash: &[u8],
) -> Result<Option<ProjectRow>, StoreError> {
    Ok(sqlx::query_as::<_, ProjectRow>(concat!(
        "select p.* from (select ",
        project_columns!(),
        " from project) p join api_key k using (project_id)
         where k.project_id = $1 and k.app_id = $2 and k.kind = $3 and k.token_hash = $4"
    ))
    .bind(project_id)
    .bind(app_id)
    .bind(kind.as_str())
    .bind(token_hash)
    .fetch_optional(db)
    .await?)
}

/// Sets (or clears, with `None`) the project's stacking rules.
pub async fn set_stacking_rules(
    db: impl PgExecutor<'_>,
    project_id: crate::ProjectId,
    rules: Option<(Uuid, &serde_json::Value)>,
) -> Result<Option<ProjectRow>, StoreError> {
    Ok(sqlx::query_as::<_, ProjectRow>(concat!(
        "update project set stacking_rules = $2, stacking_rules_id = $3 where project_id = $1 returning ",
        project_columns!()
    ))
    .bind(project_id)
    .bind(rules.map(|(_, r)| Json(r)))
    .bind(rules.map(|(id, _)| id))
    .fetch_optional(db)
    .await?)
}
