//! The audit log of admin writes on the wire.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Who made a write.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditCredential {
    /// `server_key` (a project's server-side key) or `management` (the management credential).
    #[serde(rename = "type")]
    pub kind: String,
    /// The key's public id (`X-App-Id` or `X-Management-Id`); never its token.
    pub id: String,
}

/// The object a write changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditResource {
    /// `campaign`, `voucher`, `promotion_tier`, `validation_rules`, … (see the `object_type` filter).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id as its GET answers it; for `assign`/`unassign`, the validation rule's.
    pub id: Option<String>,
    /// The key the write's path named when it is not the id (a code, a source id, an assignment).
    pub key: Option<String>,
}

/// One admin write.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryOut {
    /// `audit_…`
    pub id: String,
    /// Always `audit_entry`.
    pub object: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The write's `x-request-id`.
    pub request_id: Option<String>,
    pub credential: AuditCredential,
    /// `create`, `update`, `delete`, `enable`, `disable`, `import`, `add_vouchers`,
    /// `import_vouchers`, `assign`, `unassign`.
    pub action: String,
    pub method: String,
    pub path: String,
    pub resource: AuditResource,
    /// Dotted paths of the fields that differ between `before` and `after` (arrays count as one
    /// field); empty for a create or a delete.
    pub changed_fields: Vec<String>,
    /// The object as its GET answered just before the write (`null` before a create); secrets
    /// show as `[redacted]`, and an object over 64 KiB as `{"truncated": true, "size_bytes": n}`.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The object as its GET answered just after the write (`null` after a delete).
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

/// `GET /v1/audit-log`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub data: Vec<AuditEntryOut>,
    pub has_more: bool,
    /// Pass as `starting_after_id` for the next page.
    pub more_starting_after: Option<String>,
}

/// `GET /v1/audit-log` query: every filter is optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditLogQuery {
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
    /// The id of the last entry of the previous page.
    pub starting_after_id: Option<String>,
    /// One kind of object (`campaign`, `voucher`, …).
    pub object_type: Option<String>,
    /// One object: its id, or the key a write's path named (a code, a source id).
    pub object_id: Option<String>,
    /// `server_key` or `management`.
    pub credential_type: Option<String>,
    /// One action (`create`, `update`, …).
    pub action: Option<String>,
    /// Entries at or after this date or date-time.
    #[param(format = DateTime)]
    pub start_date: Option<String>,
    /// Entries before this date or date-time.
    #[param(format = DateTime)]
    pub end_date: Option<String>,
}
