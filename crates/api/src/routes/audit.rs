//! The audit log of admin writes.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::types::audit::{AuditLogList, AuditLogQuery};
use axum::Json;
use axum::extract::State;

/// The project's audit log: every admin write that succeeded (campaigns, codes, tiers, rules,
/// catalog, customers, exports, webhooks, project settings…), which credential made it, when,
/// and the object as its GET answered before and after. Newest first; filter by object, object
/// type, credential type, action and time.
#[utoipa::path(get, path = "/v1/audit-log", tag = "audit", params(AuditLogQuery),
    responses((status = 200, body = AuditLogList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_audit_log(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<AuditLogQuery>,
) -> Result<Json<AuditLogList>, ApiError> {
    Ok(Json(crate::services::audit::list(&app, tenant.id(), q).await?))
}
