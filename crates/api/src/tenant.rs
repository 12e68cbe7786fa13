//! The tenant of a request (its project, from the credential) and the cache of recently checked
//! keys. The extractors that fill them are in `auth`.

use promo_store::projects::{KeyKind, ProjectRow};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub(crate) const CLIENT_PREFIX: &str = "client-";

/// Public ids of a project's keys: the server app id is the project id; the client one is
/// prefixed. Both embed the project id so authentication is a point lookup.
pub fn app_ids(project: promo_store::ProjectId) -> (String, String) {
    let id = project.uuid().hyphenated();
    (id.to_string(), format!("{CLIENT_PREFIX}{id}"))
}

/// A fresh secret token (256 bits from two random UUIDs).
pub fn new_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// The project of the request, from `X-App-Id` / `X-App-Token`.
pub struct Tenant {
    pub project: ProjectRow,
}

impl Tenant {
    pub fn id(&self) -> promo_store::ProjectId {
        self.project.project_id
    }
}

/// Keys checked in the last second, for checkout requests (validations, qualifications,
/// redemptions, client-side calls): they skip the key lookup. A revoked key or a changed project
/// setting reaches them within a second; compiled definitions stay exact (the checkout reads
/// carry their version).
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<CachedKey, (ProjectRow, Instant)>>,
}

/// The kind of key, its application id and the hash of its token (a client key must never pass
/// as a server key through the cache).
type CachedKey = (bool, String, Vec<u8>);

const AUTH_CACHE_TTL: Duration = Duration::from_secs(1);
const AUTH_CACHE_MAX: usize = 10_000;

impl AuthCache {
    pub(crate) fn get(&self, kind: KeyKind, app_id: &str, token_hash: &[u8]) -> Option<ProjectRow> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (project, at) = entries.get(&(kind == KeyKind::Server, app_id.to_owned(), token_hash.to_vec()))?;
        (at.elapsed() < AUTH_CACHE_TTL).then(|| project.clone())
    }

    /// Drops a project's keys after a management write to it, so this server sees the change at
    /// once (other servers within the cache's second).
    pub fn forget(&self, project: promo_store::ProjectId) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, (row, _)| row.project_id != project);
    }

    pub(crate) fn put(&self, kind: KeyKind, app_id: &str, token_hash: Vec<u8>, project: &ProjectRow) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= AUTH_CACHE_MAX {
            entries.retain(|_, (_, at)| at.elapsed() < AUTH_CACHE_TTL);
            if entries.len() >= AUTH_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert((kind == KeyKind::Server, app_id.to_owned(), token_hash), (project.clone(), Instant::now()));
    }
}
