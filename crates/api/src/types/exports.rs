//! Exports (`/v1/exports`, `/v1/orders/export`): Voucherify's export object and its requests.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// What to export and how: `fields` (the CSV's columns, in order; `metadata` expands to one
/// column per key, `metadata.<key>` picks one), `filters` (a junction and fields with
/// conditions, on the exported fields and `metadata.*`) and `order` (`-` for descending).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportParameters {
    pub order: Option<String>,
    pub fields: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub filters: Option<Value>,
}

/// `POST /v1/exports`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportIn {
    /// `redemption`, `voucher`, `customer`, `publication`, `order`, `product` or `sku`.
    pub exported_object: Option<String>,
    pub parameters: Option<ExportParameters>,
}

/// `POST /v1/orders/export`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrdersExportIn {
    pub parameters: Option<ExportParameters>,
}

/// Where the file is: `GET` it (the token authorizes the download; it expires, and each `GET`
/// of the export gives a fresh one).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportResult {
    pub url: String,
}

/// An export.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportOut {
    pub id: String,
    pub object: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `SCHEDULED`, `IN_PROGRESS`, `DONE` or `ERROR`.
    pub status: String,
    pub channel: String,
    pub result: Option<ExportResult>,
    pub user_id: Option<String>,
    pub exported_object: String,
    pub parameters: ExportParameters,
    /// Rows in the file (our extension; grows while the export runs).
    pub rows: i64,
    /// Why an export failed (our extension).
    #[schema(value_type = Option<ExportError>)]
    pub error: Option<Value>,
}

/// `GET /v1/exports`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportsList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub exports: Vec<ExportOut>,
    pub total: i64,
}

/// `GET /v1/exports` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportsQuery {
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// `created_at`, `-created_at` (default), `status`, `-status`.
    pub order: Option<String>,
}

/// The download: `GET /v1/exports/{id}?token=…`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportDownloadQuery {
    pub token: Option<String>,
}

/// Why an export failed: the error it met, in Voucherify's error shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportError {
    pub code: i64,
    pub key: String,
    pub message: String,
    pub details: Option<String>,
    pub request_id: Option<String>,
}
