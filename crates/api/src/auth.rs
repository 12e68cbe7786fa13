//! Credentials: server-side app keys, client-side keys, management keys. The project always comes
//! from the credential, never from the path or body.

use crate::error::{ApiError, ErrorKey};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use promo_store::projects::{KeyKind, ProjectRow};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The project of the request, from `X-App-Id` / `X-App-Token`.
pub struct Tenant {
    pub project: ProjectRow,
}

impl Tenant {
    pub fn id(&self) -> Uuid {
        self.project.project_id
    }
}

/// The project of a client-side request, from `X-Client-Application-Id` / `X-Client-Token`
/// and the origin allow-list.
pub struct ClientTenant {
    pub project: ProjectRow,
    /// The storefront shopper's IP (rate limits, code guessing).
    pub ip: std::net::IpAddr,
}

/// A request authenticated with the management credential.
pub struct Management;

const CLIENT_PREFIX: &str = "client-";

/// Public ids of a project's keys: the server app id is the project id; the client one is
/// prefixed. Both embed the project id so authentication is a point lookup.
pub fn app_ids(project: Uuid) -> (String, String) {
    (project.hyphenated().to_string(), format!("{CLIENT_PREFIX}{}", project.hyphenated()))
}

/// A fresh secret token (256 bits from two random UUIDs).
pub fn new_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

fn header<'p>(parts: &'p Parts, name: &str) -> Option<&'p str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
}

fn unauthorized() -> ApiError {
    ApiError::new(ErrorKey::Unauthorized).details(
        "Missing or invalid credentials: send X-App-Id and X-App-Token (server side), \
         X-Client-Application-Id and X-Client-Token (client side) or X-Management-Id and X-Management-Token",
    )
}

async fn authenticate(state: &AppState, app_id: &str, token: &str, kind: KeyKind) -> Result<ProjectRow, ApiError> {
    authenticate_on(&state.db, app_id, token, kind).await
}

async fn authenticate_on(
    db: impl promo_store::PgExecutor<'_>,
    app_id: &str,
    token: &str,
    kind: KeyKind,
) -> Result<ProjectRow, ApiError> {
    let project_part =
        if kind == KeyKind::Client { app_id.strip_prefix(CLIENT_PREFIX).ok_or_else(unauthorized)? } else { app_id };
    let project_id = Uuid::try_parse(project_part).map_err(|_| unauthorized())?;
    let token_hash = promo_store::hash_token(token);
    let project = promo_store::projects::authenticate(db, project_id, app_id, kind, &token_hash)
        .await?
        .ok_or_else(unauthorized)?;
    record_project(&project);
    Ok(project)
}

/// The request's log span names its project.
fn record_project(project: &ProjectRow) {
    tracing::Span::current().record("project_id", tracing::field::display(project.project_id));
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (Some(app_id), Some(token)) = (header(parts, "x-app-id"), header(parts, "x-app-token")) else {
            return Err(unauthorized());
        };
        let project = authenticate(state, app_id, token, KeyKind::Server).await?;
        state.limits.server_request(&project)?;
        Ok(Tenant { project })
    }
}

impl FromRequestParts<AppState> for ClientTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (app_id, token) = client_credentials(parts)?;
        let project = authenticate_cached(state, &state.db, app_id, token, KeyKind::Client).await?;
        check_origin(parts, &project)?;
        let ip = crate::edge::client_ip(parts, state.config.client_ip_header.as_deref());
        state.limits.client_request(&project, ip)?;
        Ok(ClientTenant { project, ip })
    }
}

/// A server-side key checked through the one-second key cache (see [`AuthCache`]) without
/// holding a connection: redemptions take theirs only once a hot code lets them in, and a
/// cached key spares them a pooled round trip (and the check sqlx runs on every release).
pub struct CachedTenant {
    pub project: ProjectRow,
}

impl FromRequestParts<AppState> for CachedTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (Some(app_id), Some(token)) = (header(parts, "x-app-id"), header(parts, "x-app-token")) else {
            return Err(unauthorized());
        };
        let project = authenticate_cached(state, &state.db, app_id, token, KeyKind::Server).await?;
        state.limits.server_request(&project)?;
        Ok(CachedTenant { project })
    }
}

fn client_credentials(parts: &Parts) -> Result<(&str, &str), ApiError> {
    match (header(parts, "x-client-application-id"), header(parts, "x-client-token")) {
        (Some(app_id), Some(token)) => Ok((app_id, token)),
        _ => Err(unauthorized()),
    }
}

fn check_origin(parts: &Parts, project: &ProjectRow) -> Result<(), ApiError> {
    let origin = header(parts, "origin").unwrap_or_default();
    if project.client_trusted_domains.iter().any(|d| crate::edge::origin_matches(origin, d)) {
        Ok(())
    } else {
        Err(ApiError::origin_refused())
    }
}

/// A server- or client-side key's project with the pooled connection the key was checked on.
/// Checkout handlers run every query on it: each release of a pooled connection costs a round
/// trip, so one connection per request is the cheapest. Never take a second connection while
/// holding it (the pool could run dry under load).
pub struct TenantConn {
    pub project: ProjectRow,
    pub conn: promo_store::PoolConnection,
    /// The application id of the key (the redemption's channel).
    pub app_id: String,
    /// The shopper's IP, for client-side keys.
    pub client_ip: Option<std::net::IpAddr>,
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
    fn get(&self, kind: KeyKind, app_id: &str, token_hash: &[u8]) -> Option<ProjectRow> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (project, at) = entries.get(&(kind == KeyKind::Server, app_id.to_owned(), token_hash.to_vec()))?;
        (at.elapsed() < AUTH_CACHE_TTL).then(|| project.clone())
    }

    /// Drops a project's keys after a management write to it, so this server sees the change at
    /// once (other servers within the cache's second).
    pub fn forget(&self, project: Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, (row, _)| row.project_id != project);
    }

    fn put(&self, kind: KeyKind, app_id: &str, token_hash: Vec<u8>, project: &ProjectRow) {
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

async fn authenticate_cached(
    state: &AppState,
    db: impl promo_store::PgExecutor<'_>,
    app_id: &str,
    token: &str,
    kind: KeyKind,
) -> Result<ProjectRow, ApiError> {
    let hash = promo_store::hash_token(token);
    if let Some(project) = state.auth_cache.get(kind, app_id, &hash) {
        record_project(&project);
        return Ok(project);
    }
    let project = authenticate_on(db, app_id, token, kind).await?;
    state.auth_cache.put(kind, app_id, hash, &project);
    Ok(project)
}

/// Server-side keys (`X-App-Id`/`X-App-Token`).
impl FromRequestParts<AppState> for TenantConn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (Some(app_id), Some(token)) = (header(parts, "x-app-id"), header(parts, "x-app-token")) else {
            return Err(unauthorized());
        };
        let cached = state.auth_cache.get(KeyKind::Server, app_id, &promo_store::hash_token(token));
        if let Some(project) = &cached {
            record_project(project);
            // refused before a connection is taken
            state.limits.server_request(project)?;
        }
        let mut conn = promo_store::acquire(&state.db).await?;
        let project = match cached {
            Some(project) => project,
            None => {
                let project = authenticate_cached(state, &mut *conn, app_id, token, KeyKind::Server).await?;
                state.limits.server_request(&project)?;
                project
            }
        };
        Ok(TenantConn { project, conn, app_id: app_id.to_owned(), client_ip: None })
    }
}

/// Client-side keys from a trusted origin, with the connection they were checked on.
pub struct ClientTenantConn(pub TenantConn);

impl FromRequestParts<AppState> for ClientTenantConn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (app_id, token) = client_credentials(parts)?;
        let ip = crate::edge::client_ip(parts, state.config.client_ip_header.as_deref());
        let cached = state.auth_cache.get(KeyKind::Client, app_id, &promo_store::hash_token(token));
        if let Some(project) = &cached {
            record_project(project);
            // refused before a connection is taken
            check_origin(parts, project)?;
            state.limits.client_request(project, ip)?;
        }
        let mut conn = promo_store::acquire(&state.db).await?;
        let project = match cached {
            Some(project) => project,
            None => {
                let project = authenticate_cached(state, &mut *conn, app_id, token, KeyKind::Client).await?;
                check_origin(parts, &project)?;
                state.limits.client_request(&project, ip)?;
                project
            }
        };
        Ok(ClientTenantConn(TenantConn { project, conn, app_id: app_id.to_owned(), client_ip: Some(ip) }))
    }
}

impl FromRequestParts<AppState> for Management {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (Some(id), Some(token)) = (header(parts, "x-management-id"), header(parts, "x-management-token")) else {
            return Err(unauthorized());
        };
        let hash = promo_store::hash_token(token);
        // Compare every byte so timing says nothing about the token.
        let same_hash = hash.len() == state.management.token_hash.len()
            && hash.iter().zip(&state.management.token_hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if id != state.management.id || !same_hash {
            return Err(unauthorized());
        }
        Ok(Management)
    }
}
