//! Analytics (our extension; not in Voucherify's API): series and comparisons, JSON or CSV.

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::services::analytics::{self as service, Window};
use crate::state::AppState;
use crate::types::analytics::{ComparisonOut, ComparisonQuery, SeriesOut, SeriesQuery, WindowQuery};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

fn csv(body: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")),
        ],
        body,
    )
        .into_response()
}

/// A campaign's, tier's or code's figures by day or hour in the project's time zone:
/// validations, redemptions, rollbacks, order amounts, discount cost, revenue, average order
/// value with and without the discount, and failed redemptions by reason.
#[utoipa::path(get, path = "/v1/analytics/series", tag = "analytics", params(SeriesQuery, WindowQuery),
    responses((status = 200, description = "The series (`format=csv`: as CSV)",
        content((SeriesOut = "application/json"), (String = "text/csv"))),
        (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn series(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(object): ApiQuery<SeriesQuery>,
    ApiQuery(window): ApiQuery<WindowQuery>,
) -> Result<Response, ApiError> {
    let w = Window::parse(&tenant, &window, chrono::Utc::now())?;
    let s = service::series(&app, &tenant, &object.object_id, &w).await?;
    if w.csv {
        return Ok(csv(service::series_csv(&s)?, &s.object_id));
    }
    Ok(Json(s).into_response())
}

/// Campaigns compared over the same window, period by period.
#[utoipa::path(get, path = "/v1/analytics/campaigns", tag = "analytics", params(ComparisonQuery, WindowQuery),
    responses((status = 200, description = "The comparison (`format=csv`: as CSV)",
        content((ComparisonOut = "application/json"), (String = "text/csv"))),
        (status = "4XX", body = crate::error::ErrorBody)), security(("app" = [])))]
pub async fn compare(
    State(app): State<AppState>,
    tenant: Tenant,
    ApiQuery(list): ApiQuery<ComparisonQuery>,
    ApiQuery(window): ApiQuery<WindowQuery>,
) -> Result<Response, ApiError> {
    let w = Window::parse(&tenant, &window, chrono::Utc::now())?;
    let c = service::compare(&app, &tenant, &list.campaigns, &w).await?;
    if w.csv {
        return Ok(csv(service::comparison_csv(&c)?, "campaigns"));
    }
    Ok(Json(c).into_response())
}
