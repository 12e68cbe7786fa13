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
