//! The async-action worker: code generation and imports, run in the service. An action is
//! leased while it runs and commits its progress with each batch, so a killed server loses at
//! most one uncommitted batch and whichever server sees the lease expire resumes the action.

use crate::error::ApiError;
use crate::ids;
use crate::services::codes::{self, BATCH, CodeConfig, RowError};
use crate::tenant::Tenant;
use crate::types::admin::AsyncActionOut;
use crate::wire::timestamp;
use promo_store::async_actions::{self, AsyncActionRow};
use promo_store::campaigns::{self, NewCodes};
use promo_store::{PgConnection, PgPool};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

/// How long a running action stays leased without progress before another worker takes it
/// (the service's `PROMO_JOB_LEASE_SECS`).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// Row errors an import reports at most (the count is always exact).
const MAX_REPORTED_ERRORS: usize = 1_000;

pub const GENERATE: &str = "CAMPAIGN.VOUCHERS_GENERATE";
pub const CAMPAIGN_IMPORT: &str = "CAMPAIGN.VOUCHERS_IMPORT";
pub const CAMPAIGN_IMPORT_CSV: &str = "CAMPAIGN.VOUCHERS_IMPORT_CSV";
pub const VOUCHERS_IMPORT: &str = "VOUCHERS.IMPORT";
pub const VOUCHERS_IMPORT_CSV: &str = "VOUCHERS.IMPORT_CSV";

/// Queues the generation of `count` codes into a campaign (marked `IN_PROGRESS` until done).
pub async fn enqueue_generation(
    db: &mut PgConnection,
    tenant: &Tenant,
    campaign: Uuid,
    config: &CodeConfig,
    count: i64,
    template: &Value,
) -> Result<Uuid, ApiError> {
    let id = promo_store::new_id();
    let request = json!({"campaign_id": campaign, "code_config": config.to_json(), "voucher": template,
                         "case_sensitive": tenant.project.case_sensitive_codes});
    async_actions::create(&mut *db, tenant.id(), id, GENERATE, &request, count).await?;
    campaigns::set_generation_status(&mut *db, tenant.id(), campaign, "IN_PROGRESS").await?;
    Ok(id)
}

/// Queues an import of rows (JSON objects; a CSV is converted row by row first).
pub async fn enqueue_import(
    db: &mut PgConnection,
    tenant: &Tenant,
    kind: &str,
    campaign: Option<Uuid>,
    rows: Vec<Value>,
) -> Result<Uuid, ApiError> {
    let id = promo_store::new_id();
    let total = rows.len() as i64;
    let request = json!({"campaign_id": campaign, "rows": rows, "case_sensitive": tenant.project.case_sensitive_codes});
    async_actions::create(&mut *db, tenant.id(), id, kind, &request, total).await?;
    Ok(id)
}

/// An async action as the API shows it.
pub fn render(a: &AsyncActionRow) -> AsyncActionOut {
    AsyncActionOut {
        id: ids::wire(ids::ASYNC_ACTION, a.async_action_id),
        kind: a.type_.clone(),
        status: a.status.clone(),
        operation_status: a.operation_status.clone().unwrap_or_else(|| "UNKNOWN".into()),
        result: a.result.as_ref().map(|r| r.0.clone()),
        progress: i64::from(a.progress),
        processing_time: a.completed_at.map(|c| (c - a.created_at).num_milliseconds()),
        created_at: timestamp(a.created_at),
        updated_at: timestamp(a.updated_at),
        request_id: None,
        object: "async_action",
    }
}

/// Starts the worker: polls for due actions (new ones, and ones whose server died) and runs them.
pub fn spawn(db: PgPool, lease: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let exports = crate::services::exports::run_due(&db, lease, None).await;
            if let Err(e) = &exports {
                tracing::warn!(error = ?e, "export worker");
            }
            match run_due(&db, lease, None, None).await {
                Ok(0) if exports.is_ok_and(|n| n == 0) => tokio::time::sleep(Duration::from_millis(250)).await,
                Ok(0) => {}
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = ?e, "async action worker");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })
}

/// Runs due actions (of one project, when given) until none is left, or until `max_batches`
/// batches have been committed (tests stop there to stand for a crash). Returns how many
/// actions it worked on.
pub async fn run_due(
    db: &PgPool,
    lease: Duration,
    project: Option<promo_store::ProjectId>,
    max_batches: Option<usize>,
) -> Result<usize, ApiError> {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    let mut budget = max_batches;
    let mut worked = 0;
    while budget != Some(0) {
        let Some(action) = async_actions::claim_due(db, lease_ms, project).await? else { break };
        worked += 1;
        let outcome = match action.type_.as_str() {
            GENERATE => generate(db, &action, lease_ms, &mut budget).await,
            CAMPAIGN_IMPORT | CAMPAIGN_IMPORT_CSV | VOUCHERS_IMPORT | VOUCHERS_IMPORT_CSV => {
                import(db, &action, lease_ms).await.map(|()| true)
            }
            other => {
                let result = json!({"message": format!("unknown action type {other}")});
                async_actions::finish(db, action.project_id, action.async_action_id, "FAILED", &result).await?;
                Ok(true)
            }
        };
        if let Err(e) = outcome {
            // Left leased: retried when the lease expires (a database outage heals by itself).
            tracing::warn!(action = %action.async_action_id, error = ?e, "async action failed; will retry");
            return Err(e);
        }
    }
    Ok(worked)
}

/// Generates the remaining codes of a generation action, one committed batch at a time.
/// Returns whether it finished.
async fn generate(
    db: &PgPool,
    a: &AsyncActionRow,
    lease_ms: i64,
    budget: &mut Option<usize>,
) -> Result<bool, ApiError> {
    let (project, id) = (a.project_id, a.async_action_id);
    let req = &a.request.0;
    let campaign: Option<Uuid> = req.get("campaign_id").and_then(|c| serde_json::from_value(c.clone()).ok());
    let config = CodeConfig::parse(req.get("code_config"), "code_config");
    let (Some(campaign), Ok(config)) = (campaign, config) else {
        let result = json!({"message": "the action's request is malformed"});
        async_actions::finish(db, project, id, "FAILED", &result).await?;
        return Ok(true);
    };
    let case_sensitive = req.get("case_sensitive").and_then(Value::as_bool).unwrap_or(false);
    let template = req.get("voucher").cloned().unwrap_or_else(|| json!({}));
    let mut processed = a.processed;
    let mut fruitless = 0;
    while processed < a.total {
        if *budget == Some(0) {
            return Ok(false);
        }
        let mut tx = promo_store::begin(db).await?;
        if !campaigns::campaign_is_live(&mut *tx, project, campaign).await? {
            let result = json!({"message": "the campaign was deleted", "count": processed});
            async_actions::finish(&mut *tx, project, id, "FAILED", &result).await?;
            promo_store::commit(tx).await?;
            return Ok(true);
        }
        let n = BATCH.min((a.total - processed) as usize);
        let made = codes::insert_generated(&mut tx, project, campaign, None, (&config, case_sensitive), n, &template)
            .await?
            .len();
        processed += made as i64;
        async_actions::advance(&mut *tx, project, id, processed, lease_ms).await?;
        promo_store::commit(tx).await?;
        *budget = budget.map(|b| b.saturating_sub(1));
        fruitless = if made == 0 { fruitless + 1 } else { 0 };
        if fruitless >= 20 {
            let result = json!({"message": "the code pattern has no room left for new codes", "count": processed});
            let mut tx = promo_store::begin(db).await?;
            async_actions::finish(&mut *tx, project, id, "FAILED", &result).await?;
            campaigns::set_generation_status(&mut *tx, project, campaign, "FAILED").await?;
            promo_store::commit(tx).await?;
            return Ok(true);
        }
    }
    let mut tx = promo_store::begin(db).await?;
    let result = json!({"message": format!("{processed} voucher(s) generated successfully"), "count": processed,
                        "campaign_id": ids::wire(ids::CAMPAIGN, campaign)});
    async_actions::finish(&mut *tx, project, id, "SUCCESS", &result).await?;
    campaigns::set_generation_status(&mut *tx, project, campaign, "DONE").await?;
    promo_store::commit(tx).await?;
    Ok(true)
}

/// Imports all rows or none: every row is checked (format, fields, duplicates in the file and
/// in the project) before anything is written, and the write is one transaction.
async fn import(db: &PgPool, a: &AsyncActionRow, lease_ms: i64) -> Result<(), ApiError> {
    let (project, id) = (a.project_id, a.async_action_id);
    let req = &a.request.0;
    let campaign: Option<Uuid> = req.get("campaign_id").and_then(|c| serde_json::from_value(c.clone()).ok());
    let case_sensitive = req.get("case_sensitive").and_then(Value::as_bool).unwrap_or(false);
    let rows = req.get("rows").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut conn = promo_store::acquire(db).await?;
    let template = match campaign {
        Some(c) => match campaigns::get_campaign(&mut *conn, project, Some(c), None).await? {
            Some(row) => row.doc.0.get("voucher").and_then(Value::as_object).cloned(),
            None => {
                let result = json!({"message": "the campaign was deleted", "imported": 0});
                async_actions::finish(&mut *conn, project, id, "FAILED", &result).await?;
                return Ok(());
            }
        },
        None => None,
    };
    let (ok, mut errors) = codes::check_import_rows(rows, template.as_ref(), case_sensitive);
    for chunk in ok.chunks(BATCH) {
        let keys: Vec<String> = chunk.iter().map(|r| r.key.clone()).collect();
        let taken: std::collections::HashSet<String> =
            campaigns::taken_codes(&mut *conn, project, &keys).await?.into_iter().collect();
        errors.extend(chunk.iter().filter(|r| taken.contains(&r.key)).map(code_taken));
    }
    if !errors.is_empty() {
        return fail_import(&mut conn, a, errors).await;
    }
    let mut tx = promo_store::begin_on(&mut conn).await?;
    let mut written = 0;
    for chunk in ok.chunks(BATCH) {
        let ids: Vec<Uuid> = chunk.iter().map(|_| promo_store::new_id()).collect();
        let codes: Vec<String> = chunk.iter().map(|r| r.code.clone()).collect();
        let keys: Vec<String> = chunk.iter().map(|r| r.key.clone()).collect();
        let docs: Vec<Value> = chunk.iter().map(|r| r.doc.clone()).collect();
        let active: Vec<bool> = chunk.iter().map(|r| r.active).collect();
        let new = NewCodes { ids: &ids, codes: &codes, keys: &keys, docs: &docs, active: &active };
        let inserted: std::collections::HashSet<String> =
            campaigns::insert_codes(&mut *tx, project, campaign, None, new).await?.into_iter().collect();
        if inserted.len() < chunk.len() {
            // Taken by a write that raced the check: nothing of this import is kept.
            drop(tx);
            let raced = chunk.iter().filter(|r| !inserted.contains(&r.key)).map(code_taken);
            return fail_import(&mut conn, a, raced.collect()).await;
        }
        written += chunk.len();
        async_actions::advance(&mut *tx, project, id, written as i64, lease_ms).await?;
    }
    let result = json!({"message": format!("{written} voucher(s) imported successfully"), "imported": written,
                        "failed": 0, "errors": []});
    async_actions::finish(&mut *tx, project, id, "SUCCESS", &result).await?;
    tx.commit().await.map_err(promo_store::StoreError::from)?;
    Ok(())
}

fn code_taken(r: &codes::ImportRow) -> RowError {
    RowError { row: r.row, code: Some(r.code.clone()), message: "a voucher with this code already exists".into() }
}

async fn fail_import(conn: &mut PgConnection, a: &AsyncActionRow, mut errors: Vec<RowError>) -> Result<(), ApiError> {
    errors.sort_by_key(|e| e.row);
    let failed = errors.len();
    errors.truncate(MAX_REPORTED_ERRORS);
    let result = json!({"message": format!("{failed} row(s) cannot be imported; nothing was imported"),
                        "imported": 0, "failed": failed, "errors": errors});
    async_actions::finish(&mut *conn, a.project_id, a.async_action_id, "FAILED", &result).await?;
    Ok(())
}

#[cfg(test)]
mod kind_tests {
    use crate::types::admin::AsyncActionKind as K;

    #[test]
    fn the_documented_action_kinds_are_the_ones_run() {
        let documented = [
            K::CampaignVouchersGenerate,
            K::CampaignVouchersImport,
            K::CampaignVouchersImportCsv,
            K::VouchersImport,
            K::VouchersImportCsv,
        ];
        let names: Vec<String> = documented
            .iter()
            .map(|k| serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            [
                super::GENERATE,
                super::CAMPAIGN_IMPORT,
                super::CAMPAIGN_IMPORT_CSV,
                super::VOUCHERS_IMPORT,
                super::VOUCHERS_IMPORT_CSV
            ]
        );
    }
}
