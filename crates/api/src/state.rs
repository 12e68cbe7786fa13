//! Shared application state.

use crate::config::Config;
use crate::limits::HotKeys;
use crate::services::definitions::DefinitionsCache;
use crate::tenant::AuthCache;
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
    /// Rate limits per key and client IP.
    pub limits: Arc<crate::limits::Limits>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// When requests last met the database unusable (readiness).
    pub outages: Arc<crate::outages::Outages>,
    /// Validations counted in memory, written every few seconds.
    pub validations: Arc<crate::services::tally::ValidationTally>,
    /// Active code-guessing blocks per project, read at most once a second.
    pub blocks: Arc<crate::services::block_cache::BlockCache>,
}

impl AppState {
    pub fn new(db: PgPool, config: Config, management: ManagementCredential) -> Self {
        AppState {
            db,
            limits: Arc::new(crate::limits::Limits::new(config.rate_limits)),
            metrics: Arc::default(),
            outages: Arc::default(),
            definitions: Arc::new(DefinitionsCache::with_capacity(config.definitions_cache_projects)),
            config: Arc::new(config),
            management: Arc::new(management),
            hot_keys: Arc::default(),
            auth_cache: Arc::default(),
            blocks: Arc::default(),
            validations: Arc::default(),
        }
    }
}
