//! The code-guessing lock-out's blocks per project, in memory (see `services::lockout`); kept
//! apart so the application state does not depend on the service.

use chrono::{DateTime, Utc};
use promo_store::ProjectId;
use promo_store::lockout::BlockRow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Active blocks per project, read again at most once a second: a block raised or lifted on
/// another instance applies here within a second, one raised or lifted here at once. A checkout
/// from an unblocked shopper (nearly all) then costs no database read.
#[derive(Default)]
pub struct BlockCache(Mutex<HashMap<ProjectId, Cached>>);

struct Cached {
    read_at: Instant,
    /// Subject → (failures, until); `None` when the project has more active blocks than a
    /// cache should hold (then each checkout asks the database).
    blocks: Option<Arc<Blocked>>,
}

/// Active blocks by subject: (failures, until).
pub(crate) type Blocked = HashMap<String, (i32, Option<DateTime<Utc>>)>;

/// How long a read of the active blocks stands for all of them.
const FRESH: std::time::Duration = std::time::Duration::from_secs(1);
/// Most active blocks a project's cache holds.
pub(crate) const MAX_CACHED_BLOCKS: i64 = 100_000;
/// Most projects cached (beyond, the cache starts over).
const MAX_CACHED_PROJECTS: usize = 10_000;

impl BlockCache {
    pub(crate) fn fresh(&self, project: ProjectId) -> Option<Option<Arc<Blocked>>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&project).filter(|c| c.read_at.elapsed() < FRESH).map(|c| c.blocks.clone())
    }

    pub(crate) fn store(&self, project: ProjectId, read_at: Instant, rows: Option<Vec<BlockRow>>) {
        let blocks = rows.map(|rows| Arc::new(rows.into_iter().map(|b| (b.subject, (b.failures, b.until))).collect()));
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CACHED_PROJECTS {
            map.clear();
        }
        map.insert(project, Cached { read_at, blocks });
    }

    /// Forgets a project's blocks (one was raised or lifted here): the next checkout reads them.
    pub(crate) fn forget(&self, project: ProjectId) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&project);
    }
}
