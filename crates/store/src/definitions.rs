//! Everything the engine compiles for a project, read in one consistent snapshot together with
//! the definitions version it belongs to (the API caches the compiled result per version).

use crate::ProjectId;
use crate::audiences::{COLLECTIONS, SEGMENTS};
use crate::campaigns::{CampaignRow, STACKS, TierRow};
use crate::categories::CategoryRow;
use crate::documents::DocRow;
use crate::{Json, PgConnection, StoreError};
use sqlx::Connection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RuleRow {
    pub rule_id: Uuid,
    pub doc: Json<serde_json::Value>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssignmentRef {
    pub rule_id: Uuid,
    pub related_object_id: String,
}

/// The raw definitions of a project.
#[derive(Debug, Clone)]
pub struct DefinitionRows {
    pub version: i64,
    /// Whether an active webhook endpoint listens (redemption statements then enqueue events).
    pub webhooks: bool,
    pub timezone: String,
    /// Whether the project has products (checkouts then read the ones a cart names).
    pub has_catalog: bool,
    pub stacking_rules: Option<Json<serde_json::Value>>,
    pub campaigns: Vec<CampaignRow>,
    pub tiers: Vec<TierRow>,
    pub stacks: Vec<DocRow>,
    pub rules: Vec<RuleRow>,
    pub assignments: Vec<AssignmentRef>,
    pub categories: Vec<CategoryRow>,
    pub collections: Vec<DocRow>,
    pub segments: Vec<DocRow>,
}

/// Reads every definition in one repeatable-read snapshot, so the version matches the rows.
pub async fn load(conn: &mut PgConnection, project: ProjectId) -> Result<Option<DefinitionRows>, StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *tx).await?;
    let project_row: Option<(i64, String, bool, Option<Json<serde_json::Value>>)> = sqlx::query_as(
        "select definitions_version, timezone, has_catalog, stacking_rules from project where project_id = $1",
    )
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((version, timezone, has_catalog, stacking_rules)) = project_row else {
        return Ok(None);
    };
    let webhooks: bool =
        sqlx::query_scalar("select exists (select 1 from webhook_endpoint where project_id = $1 and active)")
            .bind(project)
            .fetch_one(&mut *tx)
            .await?;
    let campaigns = sqlx::query_as::<_, CampaignRow>(
        "select campaign_id, name, campaign_type, type as type_, active, category_id, doc, created_at, updated_at,
                0::bigint as vouchers_count, vouchers_generation_status
         from campaign where project_id = $1 and deleted_at is null order by created_at, campaign_id",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let tiers = sqlx::query_as::<_, TierRow>(
        "select tier_id, campaign_id, hierarchy, active, doc, created_at, updated_at
         from promotion_tier where project_id = $1
           and exists (select 1 from campaign c where c.project_id = promotion_tier.project_id and c.campaign_id = promotion_tier.campaign_id and c.deleted_at is null)
         order by campaign_id, hierarchy, created_at",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let rules = sqlx::query_as::<_, RuleRow>("select rule_id, doc from validation_rule where project_id = $1")
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
    let assignments = sqlx::query_as::<_, AssignmentRef>(
        "select rule_id, related_object_id from validation_rule_assignment where project_id = $1
         order by created_at, assignment_id",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let categories = sqlx::query_as::<_, CategoryRow>(
        "select category_id, name, hierarchy, created_at, updated_at from category where project_id = $1",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let stacks = STACKS.all(&mut *tx, project).await?;
    let collections = COLLECTIONS.all(&mut *tx, project).await?;
    let segments = SEGMENTS.all(&mut *tx, project).await?;
    tx.commit().await?;
    Ok(Some(DefinitionRows {
        version,
        webhooks,
        timezone,
        has_catalog,
        stacking_rules,
        campaigns,
        tiers,
        stacks,
        rules,
        assignments,
        categories,
        collections,
        segments,
    }))
}
