//! Configuration from environment variables (documented in the README).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Service configuration.
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`; when unset the service finds or starts a Postgres (see `postgres_setup`).
    pub database_url: Option<String>,
    /// `LISTEN_ADDR`, default `127.0.0.1:8080`.
    pub listen_addr: SocketAddr,
    /// `DB_MAX_CONNECTIONS`, default 10.
    pub db_max_connections: u32,
    /// `REQUEST_TIMEOUT_SECS`, default 30.
    pub request_timeout: Duration,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `PROMO_MANAGEMENT_ID` / `PROMO_MANAGEMENT_TOKEN`; generated and printed once when unset.
    pub management: Option<(String, String)>,
    /// `PROMO_DATA_DIR`, default `./.promo`: where a private Postgres cluster lives.
    pub data_dir: PathBuf,
    /// `PROMO_JOB_LEASE_SECS`, default 30: how long an async action stays with a server that
    /// stopped renewing it (died) before another takes it over.
    pub job_lease: Duration,
    /// Connections and their timeouts.
    pub transport: Transport,
    /// Default rate limits (a project may set its own).
    pub rate_limits: RateDefaults,
    /// `PROMO_CLIENT_IP_HEADER`: a header set by a trusted proxy that carries the client IP
    /// (its first address), e.g. `x-forwarded-for`; unset: the peer address.
    pub client_ip_header: Option<String>,
    /// `PROMO_METRICS_TOKEN`: when set, `/metrics` wants `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Projects whose compiled definitions are kept in memory (least recently used evicted).
    pub definitions_cache_projects: usize,
    /// `PROMO_PUBLIC_URL`: the service's address as clients reach it, for the download URL of an
    /// export (`result.url`); unset: from the request's `Host` header.
    pub public_url: Option<String>,
    /// `PROMO_EXPORT_TOKEN_TTL_SECS`, default 3600: how long an export's download URL works
    /// (each `GET` of the export gives a fresh one).
    pub export_token_ttl: Duration,
}

/// Limits on connections (see the README's configuration table).
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    /// `PROMO_MAX_CONNECTIONS`, default 4096: open connections beyond it are closed at once.
    pub max_connections: usize,
    /// `PROMO_HEADER_READ_TIMEOUT_SECS`, default 10: a connection that has not sent a whole
    /// request head by then (idle keep-alive included) is closed.
    pub header_read_timeout: Duration,
    /// `PROMO_MAX_HEADER_BYTES`, default 16384: the read buffer (and so the largest request head)
    /// of a connection.
    pub max_header_bytes: usize,
}

/// Default rate limits.
#[derive(Debug, Clone, Copy)]
pub struct RateDefaults {
    /// `PROMO_RATE_SERVER_PER_SECOND`, default 10000: requests per second per server-side key.
    pub server_per_second: u32,
    /// `PROMO_RATE_CLIENT_IP_PER_SECOND`, default 20: client-side requests per second per IP.
    pub client_ip_per_second: u32,
    /// `PROMO_RATE_UNKNOWN_CODES_PER_MINUTE`, default 20: client-side checkouts naming unknown
    /// codes per minute per IP before the IP is refused until the rate falls back.
    pub unknown_codes_per_minute: u32,
}

impl Default for Transport {
    fn default() -> Self {
        Transport { max_connections: 4096, header_read_timeout: Duration::from_secs(10), max_header_bytes: 16 * 1024 }
    }
}

impl Default for RateDefaults {
    fn default() -> Self {
        RateDefaults { server_per_second: 10_000, client_ip_per_second: 20, unknown_codes_per_minute: 20 }
    }
}

/// A variable with a value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e: T::Err| ConfigError { name, problem: format!("`{v}`: {e}") }),
    }
}

/// A setting that must be at least one.
fn positive<T: std::str::FromStr + PartialOrd + From<u8>>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let v = parsed(name, default)?;
    if v < T::from(1) {
        return Err(ConfigError { name, problem: "must be at least 1".into() });
    }
    Ok(v)
}

impl Config {
    /// Reads the configuration; fails fast naming the variable.
    pub fn from_env() -> Result<Config, ConfigError> {
        let log_format = var("LOG_FORMAT").unwrap_or_else(|| "text".into());
        if log_format != "text" && log_format != "json" {
            return Err(ConfigError { name: "LOG_FORMAT", problem: format!("`{log_format}` is not `text` or `json`") });
        }
        let management = match (var("PROMO_MANAGEMENT_ID"), var("PROMO_MANAGEMENT_TOKEN")) {
            (Some(id), Some(token)) => Some((id, token)),
            (None, None) => None,
            _ => {
                return Err(ConfigError {
                    name: "PROMO_MANAGEMENT_TOKEN",
                    problem: "set both PROMO_MANAGEMENT_ID and PROMO_MANAGEMENT_TOKEN, or neither".into(),
                });
            }
        };
        Ok(Config {
            database_url: var("DATABASE_URL"),
            listen_addr: parsed("LISTEN_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            db_max_connections: parsed("DB_MAX_CONNECTIONS", 10)?,
            request_timeout: Duration::from_secs(parsed("REQUEST_TIMEOUT_SECS", 30)?),
            log_json: log_format == "json",
            management,
            data_dir: var("PROMO_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".promo")),
            job_lease: Duration::from_secs(parsed("PROMO_JOB_LEASE_SECS", 30)?),
            transport: Transport {
                max_connections: positive("PROMO_MAX_CONNECTIONS", Transport::default().max_connections)?,
                header_read_timeout: Duration::from_secs(positive("PROMO_HEADER_READ_TIMEOUT_SECS", 10)?),
                max_header_bytes: positive("PROMO_MAX_HEADER_BYTES", Transport::default().max_header_bytes)?.max(8192),
            },
            rate_limits: RateDefaults {
                server_per_second: positive("PROMO_RATE_SERVER_PER_SECOND", RateDefaults::default().server_per_second)?,
                client_ip_per_second: positive(
                    "PROMO_RATE_CLIENT_IP_PER_SECOND",
                    RateDefaults::default().client_ip_per_second,
                )?,
                unknown_codes_per_minute: positive(
                    "PROMO_RATE_UNKNOWN_CODES_PER_MINUTE",
                    RateDefaults::default().unknown_codes_per_minute,
                )?,
            },
            client_ip_header: var("PROMO_CLIENT_IP_HEADER").map(|h| h.to_ascii_lowercase()),
            metrics_token: var("PROMO_METRICS_TOKEN"),
            definitions_cache_projects: positive(
                "PROMO_DEFINITIONS_CACHE_PROJECTS",
                crate::services::definitions::DEFAULT_CACHE_PROJECTS,
            )?,
            public_url: var("PROMO_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
            export_token_ttl: Duration::from_secs(positive("PROMO_EXPORT_TOKEN_TTL_SECS", 3600)?),
        })
    }

    /// A configuration for tests: the given management credential, defaults elsewhere.
    pub fn for_tests(management: (String, String)) -> Config {
        Config {
            database_url: None,
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            db_max_connections: 5,
            request_timeout: Duration::from_secs(30),
            log_json: false,
            management: Some(management),
            data_dir: PathBuf::from(".promo"),
            job_lease: Duration::from_secs(30),
            transport: Transport::default(),
            rate_limits: RateDefaults::default(),
            client_ip_header: None,
            metrics_token: None,
            definitions_cache_projects: crate::services::definitions::DEFAULT_CACHE_PROJECTS,
            public_url: None,
            export_token_ttl: Duration::from_secs(3600),
        }
    }
}

impl std::fmt::Debug for Config {
    // Hand-written so secrets never reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url.as_ref().map(|u| redact_url(u)))
            .field("listen_addr", &self.listen_addr)
            .field("db_max_connections", &self.db_max_connections)
            .field("request_timeout", &self.request_timeout)
            .field("log_json", &self.log_json)
            .field("management_id", &self.management.as_ref().map(|(id, _)| id))
            .field("data_dir", &self.data_dir)
            .field("transport", &self.transport)
            .field("rate_limits", &self.rate_limits)
            .field("client_ip_header", &self.client_ip_header)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("definitions_cache_projects", &self.definitions_cache_projects)
            .field("public_url", &self.public_url)
            .field("export_token_ttl", &self.export_token_ttl)
            .finish()
    }
}

/// The URL with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
