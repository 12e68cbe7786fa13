//! Blocks raised by the code-guessing lock-out.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a block stops: a customer (as checkouts name it: id or source id) or an IP.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockSubject {
    /// `customer` or `ip`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// A block: checkouts naming its subject answer 403 `blocked` while it is in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockOut {
    /// `blk_…`
    pub id: String,
    pub object: &'static str,
    pub subject: BlockSubject,
    /// Failed attempts within one window that raised it.
    pub failures: i32,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it ends; null: until lifted.
    #[schema(format = DateTime)]
    pub until: Option<String>,
    /// In force now.
    pub active: bool,
}

/// `GET /v1/blocks`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlocksList {
    pub object: &'static str,
    pub data_ref: &'static str,
    pub data: Vec<BlockOut>,
    pub total: i64,
}

/// `GET /v1/blocks` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlocksQuery {
    /// Only blocks in force now (default false: every block, newest first).
    pub active: Option<bool>,
    #[param(minimum = 1, maximum = 100, default = 10)]
    pub limit: Option<i64>,
}
