//! Postgres persistence for the promotion engine, through sqlx.
//!
//! Free functions grouped by aggregate; the first argument is the executor, the second the
//! project. Every query against tenant data is scoped by `project_id`. Callers own
//! transactions ([`begin`]), so no `sqlx::Error` reaches the API crate: everything arrives as
//! [`StoreError`]. Must not depend on axum, utoipa or HTTP types.

pub mod activity;
pub mod analytics;
pub mod async_actions;
pub mod audiences;
pub mod audit;
pub mod campaigns;
pub mod categories;
pub mod customers;
pub mod definitions;
pub mod documents;
pub mod exports;
mod json;
pub mod ledger;
pub mod lockout;
pub mod management;
pub mod products;
mod project_id;
pub mod projects;
pub mod publications;
pub mod validation_rules;
pub mod webhooks;

pub use json::Json;
pub use project_id::ProjectId;
pub use sqlx::postgres::PgPool;
pub use sqlx::{Error as SqlxError, PgConnection, PgExecutor, Postgres, Transaction};

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use std::str::FromStr;
use std::time::Duration;

/// The schema migrations, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// A persistence failure, in the store's words.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint `{constraint}` violated")]
    UniqueViolation {
        constraint: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("foreign key `{constraint}` violated")]
    ForeignKeyViolation {
        constraint: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("migration failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// A transient failure (see [`is_transient`]): retryable.
    #[error("database unavailable")]
    Busy(#[source] sqlx::Error),
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            let constraint = db.constraint().unwrap_or_default().to_owned();
            if db.is_unique_violation() {
                return StoreError::UniqueViolation { constraint, source: e };
            }
            if db.is_foreign_key_violation() {
                return StoreError::ForeignKeyViolation { constraint, source: e };
            }
        }
        if is_transient(&e) {
            return StoreError::Busy(e);
        }
        StoreError::Database(e)
    }
}

/// A failure that says nothing about the request and may pass if it is sent again: no
/// connection in time, the server unreachable or restarting, a backend terminated, a lock wait
/// over its timeout, a serialization failure or deadlock. A transaction that failed so rolled
/// back, except when the connection dropped during the commit or an autocommitted write: then the
/// outcome is unknown, which is why writes that matter (redemptions, rollbacks) take an
/// `Idempotency-Key` that makes the retry return the first outcome.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| transient_sqlstate(&code)),
        _ => false,
    }
}

/// A transient failure that says the database itself is unusable now (unreachable, restarting,
/// out of connections, a backend killed) rather than one statement losing a race.
pub fn is_outage(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("53") || code.starts_with("57P"))
        }
        // a pool without a free connection in time is busy, not down
        sqlx::Error::PoolTimedOut => false,
        other => is_transient(other),
    }
}

/// SQLSTATEs of transient conditions: connection exceptions (class 08), operator intervention
/// (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now), insufficient resources
/// (53xxx: too many connections, out of memory or disk), serialization failure and deadlock
/// (40001, 40P01), lock not available (55P03, `lock_timeout`).
fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(code, "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "55P03")
}

impl StoreError {
    /// The violated constraint, for unique and foreign-key violations.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            StoreError::UniqueViolation { constraint, .. } | StoreError::ForeignKeyViolation { constraint, .. } => {
                Some(constraint)
            }
            _ => None,
        }
    }
}

/// `id = $2`, or when `$2` is null the row of `table` whose `key` is `$3` (`$1` the project): one
/// or two unique-index probes whatever the plan. `id = $2 or key = $3` was a bitmap scan at best,
/// and in a cached generic plan could scan the project's rows. A literal, for `concat!`.
macro_rules! id_or_key {
    ($table:literal, $id:literal, $key:literal) => {
        concat!(
            $id,
            " = coalesce($2, (select k.",
            $id,
            " from ",
            $table,
            " k where k.project_id = $1 and k.",
            $key,
            " = $3))"
        )
    };
}
pub(crate) use id_or_key;

/// The two statements of a list endpoint: `rows` takes the filter's parameters, then `limit` and
/// `offset`; `count` takes the filter's parameters alone. Connections use generic plans (see
/// [`connect_warm`]) and the generic plan of `($2 is null or col = $2)` cannot use `col`'s
/// index, so a list whose filters are optional has one `ListSql` per combination of given
/// filters, each a static string with a plan of its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListSql {
    pub rows: &'static str,
    pub count: &'static str,
}

/// Parameters bound once and shared by a list's two statements.
#[derive(Debug, Default, Clone)]
pub(crate) struct Binds(sqlx::postgres::PgArguments);

impl Binds {
    pub fn with<'q, T>(mut self, value: T) -> Result<Self, StoreError>
    where
        T: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
    {
        sqlx::Arguments::add(&mut self.0, value).map_err(sqlx::Error::Encode)?;
        Ok(self)
    }
}

/// A page of rows and how many rows the filter matches in all, in two statements whatever the
/// page size (the statements test counts them).
pub(crate) async fn page_and_total<R>(
    db: &mut PgConnection,
    sql: ListSql,
    filter: Binds,
    page: Page,
) -> Result<(Vec<R>, i64), StoreError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let rows_args = filter.clone().with(page.limit)?.with(page.offset)?;
    let rows = sqlx::query_as_with(sql.rows, rows_args.0).fetch_all(&mut *db).await?;
    let total = sqlx::query_scalar_with(sql.count, filter.0).fetch_one(&mut *db).await?;
    Ok((rows, total))
}

/// [`page_and_total`] for a list whose filters are written only when given (too many
/// combinations for a static string each): `matching(head)` starts a statement with `head`
/// (`select <columns>` or `select count(*)`) and adds the `from` and the given filters, binding
/// their values; the rows statement then takes `order_by`, `limit` and `offset`.
pub(crate) async fn built_page_and_total<'a, R>(
    db: &mut PgConnection,
    matching: impl Fn(&'static str) -> sqlx::QueryBuilder<'a, Postgres>,
    (columns, order_by): (&'static str, &str),
    page: Page,
) -> Result<(Vec<R>, i64), StoreError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut rows = matching(columns);
    rows.push(" order by ").push(order_by);
    rows.push(" limit ").push_bind(page.limit).push(" offset ").push_bind(page.offset);
    let rows = rows.build_query_as::<R>().fetch_all(&mut *db).await?;
    let total = matching("select count(*)").build_query_scalar().fetch_one(&mut *db).await?;
    Ok((rows, total))
}

/// Opens a pool. `acquire_timeout` bounds how long a request waits for a connection.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    connect_warm(url, max_connections, 0).await
}

/// A pool that keeps `min_connections` open from the start: opening a connection (a backend
/// fork, catalog caches, plan caches) under load stalled a benchmark for most of a second.
pub async fn connect_warm(url: &str, max_connections: u32, min_connections: u32) -> Result<PgPool, StoreError> {
    // Plan each prepared statement once per connection. Under `auto`, PostgreSQL kept planning
    // the checkout statements on every execution (their array parameters make a custom plan look
    // cheaper than the generic one): a third of its CPU under redemption load. Statements whose
    // best plan depends on which filters are given are written per combination (`ListSql`).
    // Lock waits are bounded on every connection (a stuck holder gives a retryable `Busy`, never
    // an endless queue); set at connect time, it costs nothing per statement.
    let options = sqlx::postgres::PgConnectOptions::from_str(url)?
        .options([("plan_cache_mode", "force_generic_plan"), ("lock_timeout", "5s")]);
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(min_connections.min(max_connections))
        .acquire_timeout(Duration::from_secs(3))
        // No ping before every use: it doubled the round trips of the checkout hot path. A
        // connection that died is found by the query itself, which fails (and is not retried,
        // so nothing runs twice); idle connections are recycled after a while.
        .test_before_acquire(false)
        .idle_timeout(Duration::from_secs(60))
        .connect_with(options)
        .await?)
}

/// Applies pending migrations.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await.map_err(StoreError::Migration)
}

/// Starts a transaction.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    Ok(pool.begin().await?)
}

/// Commits a transaction.
pub async fn commit(tx: Transaction<'static, Postgres>) -> Result<(), StoreError> {
    Ok(tx.commit().await?)
}

/// Is the database reachable?
/// A connection of the pool, held for a whole request. Every release costs a round trip (sqlx
/// checks the connection), so a request that takes one and runs all its queries on it saves
/// one per query.
pub type PoolConnection = sqlx::pool::PoolConnection<Postgres>;

pub async fn acquire(pool: &PgPool) -> Result<PoolConnection, StoreError> {
    Ok(pool.acquire().await?)
}

/// A transaction on a held connection (a savepoint if one is already open).
pub async fn begin_on(conn: &mut PgConnection) -> Result<Transaction<'_, Postgres>, StoreError> {
    Ok(sqlx::Connection::begin(conn).await?)
}

pub async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    if pool.is_closed() {
        return Err(StoreError::Busy(sqlx::Error::PoolClosed));
    }
    sqlx::query("select 1").execute(pool).await?;
    Ok(())
}

/// Is the database reachable, asked on a connection of its own? After an outage the pool
/// retries its connects with a backoff; this says at once whether the database is back.
pub async fn ping_fresh(pool: &PgPool) -> Result<(), StoreError> {
    if pool.is_closed() {
        return Err(StoreError::Busy(sqlx::Error::PoolClosed));
    }
    let mut conn = sqlx::ConnectOptions::connect(&*pool.connect_options()).await?;
    sqlx::query("select 1").execute(&mut conn).await?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(())
}

/// Work waiting across all projects, for the operator's metrics: async actions not finished and
/// webhook events not yet delivered (or given up).
pub async fn backlogs(pool: &PgPool) -> Result<(i64, i64), StoreError> {
    Ok(sqlx::query_as(
        "select (select count(*) from async_action where status in ('ENQUEUED', 'IN_PROGRESS')),
                (select count(*) from webhook_outbox where delivered_at is null)",
    )
    .fetch_one(pool)
    .await?)
}

/// A new time-ordered id.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// SHA-256 of a secret token: only hashes are stored.
pub fn hash_token(token: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).to_vec()
}

/// Page of a list: `limit` rows from `offset`, newest first.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// Creates database `name` on the server at `server_url` (a URL without a database) unless it
/// exists. Used by the zero-config start.
pub async fn ensure_database(server_url: &str, name: &str) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&format!("{server_url}/postgres")).await?;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        // Identifiers cannot be bound; `name` is a constant of the caller.
        match sqlx::query(&format!("create database \"{}\"", name.replace('"', ""))).execute(&mut conn).await {
            Ok(_) => {}
            // Another process created it meanwhile.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Drops database `name` (a test's own) on the server at `server_url`, closing its connections.
pub async fn drop_database(server_url: &str, name: &str) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&format!("{server_url}/postgres")).await?;
    // Identifiers cannot be bound; `name` is a constant of the caller.
    sqlx::query(&format!("drop database if exists \"{}\" with (force)", name.replace('"', "")))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Drops databases whose names start with `prefix` and end in a unix time older than
/// `older_than_secs` (test databases left by earlier runs).
pub async fn drop_stale_databases(
    server_url: &str,
    prefix: &str,
    now_secs: i64,
    older_than_secs: i64,
) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&format!("{server_url}/postgres")).await?;
    let names: Vec<String> = sqlx::query_scalar("select datname from pg_database where datname like $1 || '%'")
        .bind(prefix)
        .fetch_all(&mut conn)
        .await?;
    for name in names {
        let stamp = name.rsplit('_').next().and_then(|s| s.parse::<i64>().ok()).unwrap_or(now_secs);
        if now_secs - stamp > older_than_secs {
            let _ = sqlx::query(&format!("drop database if exists \"{}\" with (force)", name.replace('"', "")))
                .execute(&mut conn)
                .await;
        }
    }
    Ok(())
}
