//! Finds a database without configuration: `DATABASE_URL` if set; else a Postgres answering on
//! 127.0.0.1:5432 (database `promo`, user `postgres`); else a private cluster initialised and
//! started from the machine's PostgreSQL binaries in `$PROMO_DATA_DIR/pgdata` (default
//! `./.promo`), run as an unprivileged user when we are root (PostgreSQL refuses root).

use crate::config::Config;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Port of the private cluster.
pub const PRIVATE_PORT: u16 = 55432;
const DATABASE: &str = "promo";

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "no PostgreSQL binaries (initdb, pg_ctl) found on PATH or in /usr/lib/postgresql/*/bin; install PostgreSQL or set DATABASE_URL"
    )]
    NoBinaries,
    #[error("`{command}` failed: {output}")]
    Command { command: String, output: String },
    #[error("database: {0}")]
    Store(#[from] promo_store::StoreError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// The database URL to use, starting a private cluster if needed.
pub async fn database_url(config: &Config) -> Result<String, SetupError> {
    if let Some(url) = &config.database_url {
        return Ok(url.clone());
    }
    let server = server_url(config).await?;
    promo_store::ensure_database(&server, DATABASE).await?;
    Ok(format!("{server}/{DATABASE}"))
}

/// A server URL (no database) by the same rule: `DATABASE_URL`'s server, else 127.0.0.1:5432,
/// else the private cluster. Tests create their own databases there.
pub async fn server_url(config: &Config) -> Result<String, SetupError> {
    if let Some(url) = &config.database_url {
        let without_query = url.split('?').next().unwrap_or(url);
        let after_scheme = without_query.find("://").map_or(0, |i| i + 3);
        return Ok(match without_query[after_scheme..].find('/') {
            Some(slash) => without_query[..after_scheme + slash].to_owned(),
            None => without_query.to_owned(),
        });
    }
    if port_answers(5432).await {
        tracing::info!("using the PostgreSQL on 127.0.0.1:5432");
        return Ok("postgres://postgres@127.0.0.1:5432".to_owned());
    }
    if port_answers(PRIVATE_PORT).await {
        tracing::info!("using the private PostgreSQL cluster already running on 127.0.0.1:{PRIVATE_PORT}");
        return Ok(format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}"));
    }
    let data_dir = start_private_cluster(&config.data_dir).await?;
    tracing::info!(data_dir = %data_dir.display(), "using a private PostgreSQL cluster on 127.0.0.1:{PRIVATE_PORT}");
    Ok(format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}"))
}

async fn port_answers(port: u16) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(("127.0.0.1", port))).await,
        Ok(Ok(_))
    )
}

fn find_binary(name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let mut versions: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    versions.sort_by_key(|p| p.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u32>().ok()).unwrap_or(0));
    versions.into_iter().rev().map(|v| v.join("bin").join(name)).find(|p| p.is_file())
}

fn run(command: &mut Command) -> Result<String, SetupError> {
    let output = command.output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if output.status.success() {
        Ok(text)
    } else {
        Err(SetupError::Command { command: format!("{command:?}"), output: text })
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// A command, run as `user` when given (through `runuser`, else `su`).
fn as_user(user: Option<&str>, program: &Path, args: &[&str]) -> Command {
    match user {
        None => {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
        Some(user) if find_binary("runuser").is_some() => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program).args(args);
            c
        }
        Some(user) => {
            let line = std::iter::once(program.display().to_string())
                .chain(args.iter().map(|a| format!("'{a}'")))
                .collect::<Vec<_>>()
                .join(" ");
            let mut c = Command::new("su");
            c.args([user, "-s", "/bin/sh", "-c", &line]);
            c
        }
    }
}

async fn start_private_cluster(base: &Path) -> Result<PathBuf, SetupError> {
    let initdb = find_binary("initdb").ok_or(SetupError::NoBinaries)?;
    let pg_ctl = find_binary("pg_ctl").ok_or(SetupError::NoBinaries)?;
    let root = is_root();
    let user = if root {
        Some(if run(Command::new("id").arg("postgres")).is_ok() { "postgres" } else { "nobody" })
    } else {
        None
    };
    std::fs::create_dir_all(base)?;
    let mut base = base.canonicalize()?;
    // The unprivileged user must reach the directory (not the case under /root): fall back to
    // a directory of its own under the system temp dir.
    if let Some(u) = user
        && run(&mut as_user(Some(u), Path::new("/usr/bin/test"), &["-x", &base.display().to_string()])).is_err()
    {
        base = std::env::temp_dir().join(format!("promo-pg-{u}"));
        std::fs::create_dir_all(&base)?;
    }
    let data = base.join("pgdata");
    let sockets = base.join("run");
    std::fs::create_dir_all(&sockets)?;
    if let Some(u) = user {
        run(Command::new("chown").args([u]).arg(&base).arg(&sockets))?;
        if data.exists() {
            run(Command::new("chown").args(["-R", u]).arg(&data))?;
        }
    }
    let data_s = data.display().to_string();
    if !data.join("PG_VERSION").exists() {
        run(&mut as_user(
            user,
            &initdb,
            &["-D", &data_s, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale"],
        ))?;
    }
    if !port_answers(PRIVATE_PORT).await {
        let log = base.join("postgres.log").display().to_string();
        let options = format!("-p {PRIVATE_PORT} -c listen_addresses=127.0.0.1 -k {}", sockets.display());
        run(&mut as_user(user, &pg_ctl, &["-D", &data_s, "-l", &log, "-o", &options, "-w", "-t", "60", "start"]))?;
    }
    Ok(data)
}
