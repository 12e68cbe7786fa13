//! Management API: projects (tenants) with their keys, and per-project stacking rules.

use crate::auth::Management;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::routes::ListOut;
use crate::state::AppState;
use crate::types::management::{ProjectIn, ProjectOut, StackingRulesOut};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Create a project.
///
/// Returns its server-side and client-side keys; the tokens are shown only here.
#[utoipa::path(post, path = "/management/v1/projects", tag = "management", request_body = ProjectIn,
    responses((status = 200, body = ProjectOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn create_project(
    State(app): State<AppState>,
    _: Management,
    ApiJson(body): ApiJson<ProjectIn>,
) -> Result<Json<ProjectOut>, ApiError> {
    Ok(Json(crate::services::projects::create_project(&app, body).await?))
}

/// Get a project.
#[utoipa::path(get, path = "/management/v1/projects/{projectId}", tag = "management",
    params(("projectId" = String, Path)), responses((status = 200, body = ProjectOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn get_project(
    State(app): State<AppState>,
    _: Management,
    Path(raw): Path<String>,
) -> Result<Json<ProjectOut>, ApiError> {
    Ok(Json(crate::services::projects::get_project(&app, &raw).await?))
}

/// List projects, newest first.
#[utoipa::path(get, path = "/management/v1/projects", tag = "management", params(PageQuery),
    responses((status = 200, body = ListOut<ProjectOut>), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn list_projects(
    State(app): State<AppState>,
    _: Management,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ListOut<ProjectOut>>, ApiError> {
    Ok(Json(crate::services::projects::list_projects(&app, q.page()?).await?))
}

/// Update a project's settings.
#[utoipa::path(put, path = "/management/v1/projects/{projectId}", tag = "management", request_body = ProjectIn,
    params(("projectId" = String, Path)), responses((status = 200, body = ProjectOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn update_project(
    State(app): State<AppState>,
    _: Management,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<ProjectIn>,
) -> Result<Json<ProjectOut>, ApiError> {
    Ok(Json(crate::services::projects::update_project(&app, &raw, body).await?))
}

/// Delete a project and everything in it.
#[utoipa::path(delete, path = "/management/v1/projects/{projectId}", tag = "management",
    params(("projectId" = String, Path)), responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn delete_project(
    State(app): State<AppState>,
    _: Management,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::projects::delete_project(&app, &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create the project's stacking rules (one object per project).
#[utoipa::path(post, path = "/management/v1/projects/{projectId}/stacking-rules", tag = "management",
    params(("projectId" = String, Path)), request_body = crate::types::checkout::StackingRulesIn,
    responses((status = 200, body = StackingRulesOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn create_stacking_rules(
    State(app): State<AppState>,
    _: Management,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<StackingRulesOut>, ApiError> {
    Ok(Json(crate::services::projects::create_stacking_rules(&app, &raw, body).await?))
}

/// List the project's stacking rules (at most one).
#[utoipa::path(get, path = "/management/v1/projects/{projectId}/stacking-rules", tag = "management",
    params(("projectId" = String, Path)), responses((status = 200, body = ListOut<StackingRulesOut>), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn list_stacking_rules(
    State(app): State<AppState>,
    _: Management,
    Path(raw): Path<String>,
) -> Result<Json<ListOut<StackingRulesOut>>, ApiError> {
    Ok(Json(crate::services::projects::list_stacking_rules(&app, &raw).await?))
}

/// Get the project's stacking rules.
#[utoipa::path(get, path = "/management/v1/projects/{projectId}/stacking-rules/{stackingRulesId}", tag = "management",
    params(("projectId" = String, Path), ("stackingRulesId" = String, Path)),
    responses((status = 200, body = StackingRulesOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn get_stacking_rules(
    State(app): State<AppState>,
    _: Management,
    Path((raw, rules_raw)): Path<(String, String)>,
) -> Result<Json<StackingRulesOut>, ApiError> {
    Ok(Json(crate::services::projects::get_stacking_rules(&app, (&raw, &rules_raw)).await?))
}

/// Update the project's stacking rules (fields given replace their values).
#[utoipa::path(put, path = "/management/v1/projects/{projectId}/stacking-rules/{stackingRulesId}", tag = "management",
    params(("projectId" = String, Path), ("stackingRulesId" = String, Path)), request_body = crate::types::checkout::StackingRulesIn,
    responses((status = 200, body = StackingRulesOut), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn update_stacking_rules(
    State(app): State<AppState>,
    _: Management,
    Path((raw, rules_raw)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<StackingRulesOut>, ApiError> {
    Ok(Json(crate::services::projects::update_stacking_rules(&app, (&raw, &rules_raw), body).await?))
}

/// Delete the project's stacking rules (the defaults apply again).
#[utoipa::path(delete, path = "/management/v1/projects/{projectId}/stacking-rules/{stackingRulesId}", tag = "management",
    params(("projectId" = String, Path), ("stackingRulesId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)),
    security(("management" = [])))]
pub async fn delete_stacking_rules(
    State(app): State<AppState>,
    _: Management,
    Path((raw, rules_raw)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    crate::services::projects::delete_stacking_rules(&app, (&raw, &rules_raw)).await?;
    Ok(StatusCode::NO_CONTENT)
}
