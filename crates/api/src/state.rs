//! Shared application state.

use crate::config::Config;
use promo_store::PgPool;
use std::sync::Arc;

/// The management credential in force (only the token's hash is kept).
#[derive(Debug, Clone)]
pub struct ManagementCredential {
    pub id: String,
    pub token_hash: Vec<u8>,
}

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub management: Arc<ManagementCredential>,
}
