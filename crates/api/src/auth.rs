//! Credentials: server-side app keys, client-side keys, management keys. The project always comes
//! from the credential, never from the path or body.

use crate::error::{ApiError, ErrorKey};
use crate::state::AppState;
pub use crate::tenant::Tenant;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use promo_store::projects::{KeyKind, ProjectRow};
use uuid::Uuid;

/// The project of a client-side request, from `X-Client-Application-Id` / `X-Client-Token`
/// and the origin allow-list.
pub struct ClientTenant {
    pub project: ProjectRow,
    /// The storefront shopper's IP (rate limits, code guessing).
    pub ip: std::net::IpAddr,
}

/// A request authenticated with the management credential.
pub struct Management;

use crate::tenant::CLIENT_PREFIX;
pub use crate::tenant::{app_ids, new_token};

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
    let project_id = promo_store::ProjectId(Uuid::try_parse(project_part).map_err(|_| unauthorized())?);
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

/// Whether the request uses the management credential inside one project (`X-Project-Id`
/// with `X-Management-Id`/`-Token`, and no app key): how operators sign in to the dashboard.
fn acts_for_project(parts: &Parts) -> bool {
    header(parts, "x-app-id").is_none() && header(parts, "x-project-id").is_some()
}

/// The project the management credential acts in, after checking the credential.
async fn managed_project(
    parts: &Parts,
    state: &AppState,
    db: impl promo_store::PgExecutor<'_>,
) -> Result<ProjectRow, ApiError> {
    check_management(parts, state)?;
    let raw = header(parts, "x-project-id").unwrap_or_default();
    let id = crate::ids::try_parse(crate::ids::PROJECT, raw).ok_or_else(unauthorized)?;
    let project = promo_store::projects::get(db, promo_store::ProjectId(id)).await?.ok_or_else(unauthorized)?;
    record_project(&project);
    Ok(project)
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if acts_for_project(parts) {
            let project = managed_project(parts, state, &state.db).await?;
            if parts.extensions.get::<crate::audit::Snapshot>().is_none() {
                state.limits.server_request(&project)?;
            }
            return Ok(Tenant { project });
        }
        let (Some(app_id), Some(token)) = (header(parts, "x-app-id"), header(parts, "x-app-token")) else {
            return Err(unauthorized());
        };
        let project = authenticate(state, app_id, token, KeyKind::Server).await?;
        // the audit layer's reads around a write are not the client's requests
        if parts.extensions.get::<crate::audit::Snapshot>().is_none() {
            state.limits.server_request(&project)?;
        }
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
        if acts_for_project(parts) {
            let project = managed_project(parts, state, &state.db).await?;
            state.limits.server_request(&project)?;
            return Ok(CachedTenant { project });
        }
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
    if project.client_trusted_domains.iter().any(|d| crate::origins::origin_matches(origin, d)) {
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
        if acts_for_project(parts) {
            // refused before a connection is taken
            check_management(parts, state)?;
            let mut conn = promo_store::acquire(&state.db).await?;
            let project = managed_project(parts, state, &mut *conn).await?;
            state.limits.server_request(&project)?;
            // the redemption's channel names the management credential
            let app_id = state.management.id.clone();
            return Ok(TenantConn { project, conn, app_id, client_ip: None });
        }
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
        check_management(parts, state)?;
        Ok(Management)
    }
}

/// The request carries the management credential.
fn check_management(parts: &Parts, state: &AppState) -> Result<(), ApiError> {
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
    Ok(())
}
