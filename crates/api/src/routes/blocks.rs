//! Blocks raised by the code-guessing lock-out (our extension): list, read, lift.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::types::blocks::{BlockOut, BlocksList, BlocksQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// The project's blocks, newest first (`active=true`: only those in force).
#[utoipa::path(get, path = "/v1/blocks", tag = "blocks", params(BlocksQuery),
    responses((status = 200, body = BlocksList), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn list_blocks(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<BlocksQuery>,
) -> Result<Json<BlocksList>, ApiError> {
    Ok(Json(crate::services::lockout::list(&app, tenant.id(), q).await?))
}

/// A block.
#[utoipa::path(get, path = "/v1/blocks/{blockId}", tag = "blocks", params(("blockId" = String, Path)),
    responses((status = 200, body = BlockOut), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn get_block(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<Json<BlockOut>, ApiError> {
    Ok(Json(crate::services::lockout::get(&app, tenant.id(), &raw).await?))
}

/// Lift a block: its subject may check out again, with its failed attempts forgotten.
#[utoipa::path(delete, path = "/v1/blocks/{blockId}", tag = "blocks", params(("blockId" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn lift_block(
    State(app): State<AppState>,
    tenant: Tenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::lockout::lift(&app, tenant.id(), &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}
