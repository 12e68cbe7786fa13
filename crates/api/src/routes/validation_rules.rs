//! Validation rules and their assignments. Every rule is compiled by the engine when written.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::routes::ListOut;
use crate::state::AppState;
use crate::types::admin::{AssignmentIn, AssignmentsQuery, ValidationRuleIn, ValidationRuleOut};
use crate::types::common::AssignmentOut;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Create a validation rule.
#[utoipa::path(post, path = "/v1/validation-rules", tag = "validation rules", request_body = ValidationRuleIn,
    responses((status = 200, body = ValidationRuleOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_validation_rule(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<ValidationRuleIn>,
) -> Result<Json<ValidationRuleOut>, ApiError> {
    Ok(Json(crate::services::validation_rules::create_validation_rule(&app, &tenant, body).await?))
}

/// Get a validation rule.
#[utoipa::path(get, path = "/v1/validation-rules/{validationRuleId}", tag = "validation rules", params(("validationRuleId" = String, Path)),
    responses((status = 200, body = ValidationRuleOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_validation_rule(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<ValidationRuleOut>, ApiError> {
    Ok(Json(crate::services::validation_rules::get_validation_rule(&app, &tenant, &raw).await?))
}

/// List validation rules, newest first.
#[utoipa::path(get, path = "/v1/validation-rules", tag = "validation rules", params(PageQuery),
    responses((status = 200, body = ListOut<ValidationRuleOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_validation_rules(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<ValidationRuleOut>>, ApiError> {
    Ok(Json(crate::services::validation_rules::list_validation_rules(&app, &tenant, q.page()?).await?))
}

/// Update a validation rule (given fields replace theirs; the result is compiled again).
#[utoipa::path(put, path = "/v1/validation-rules/{validationRuleId}", tag = "validation rules", params(("validationRuleId" = String, Path)),
    request_body = ValidationRuleIn, responses((status = 200, body = ValidationRuleOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn update_validation_rule(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<ValidationRuleIn>,
) -> Result<Json<ValidationRuleOut>, ApiError> {
    Ok(Json(crate::services::validation_rules::update_validation_rule(&app, &tenant, &raw, body).await?))
}

/// Delete a validation rule (and its assignments).
#[utoipa::path(delete, path = "/v1/validation-rules/{validationRuleId}", tag = "validation rules", params(("validationRuleId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_validation_rule(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::validation_rules::delete_validation_rule(&app, &tenant, &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assign a validation rule to a voucher, campaign or tier.
#[utoipa::path(post, path = "/v1/validation-rules/{validationRuleId}/assignments", tag = "validation rules",
    params(("validationRuleId" = String, Path)), request_body = AssignmentIn,
    responses((status = 200, body = AssignmentOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn create_assignment(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<AssignmentIn>,
) -> Result<Json<AssignmentOut>, ApiError> {
    Ok(Json(crate::services::validation_rules::create_assignment(&app, &tenant, &raw, body).await?))
}

/// List the assignments of a validation rule.
#[utoipa::path(get, path = "/v1/validation-rules/{validationRuleId}/assignments", tag = "validation rules",
    params(("validationRuleId" = String, Path), PageQuery),
    responses((status = 200, body = ListOut<AssignmentOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_rule_assignments(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<AssignmentOut>>, ApiError> {
    Ok(Json(crate::services::validation_rules::list_rule_assignments(&app, &tenant, &raw, q.page()?).await?))
}

/// List assignments of the project, filtered by object or rule.
#[utoipa::path(get, path = "/v1/validation-rules-assignments", tag = "validation rules", params(AssignmentsQuery),
    responses((status = 200, body = ListOut<AssignmentOut>), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_assignments(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<AssignmentsQuery>,
) -> Result<Json<ListOut<AssignmentOut>>, ApiError> {
    Ok(Json(crate::services::validation_rules::list_assignments(&app, &tenant, q).await?))
}

/// Delete an assignment.
#[utoipa::path(delete, path = "/v1/validation-rules/{validationRuleId}/assignments/{assignmentId}", tag = "validation rules",
    params(("validationRuleId" = String, Path), ("assignmentId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn delete_assignment(
    State(app): State<AppState>,
    tenant: Tenant,
    Path((raw, assignment_raw)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    crate::services::validation_rules::delete_assignment(&app, &tenant, (&raw, &assignment_raw)).await?;
    Ok(StatusCode::NO_CONTENT)
}
