//! Shared application state.

use crate::auth::AuthCache;
use crate::checkout::HotKeys;
use crate::config::Config;
use crate::definitions::DefinitionsCache;
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
    /// Compiled definitions per project.
    pub definitions: Arc<DefinitionsCache>,
    /// Redemptions in flight per code, so a hot code refuses excess load fast.
    pub hot_keys: Arc<HotKeys>,
    /// Recently checked keys of the checkout reads.
    pub auth_cache: Arc<AuthCache>,
}

impl AppState {
    pub fn new(db: PgPool, config: Config, management: ManagementCredential) -> Self {
        AppState {
            db,
            config: Arc::new(config),
            management: Arc::new(management),
            definitions: Arc::default(),
            hot_keys: Arc::default(),
            auth_cache: Arc::default(),
        }
    }
}
