//! A database of a test's own: created on the tests' PostgreSQL server (found like the service
//! finds it: `DATABASE_URL`'s server, else 127.0.0.1:5432, else the private cluster), migrated,
//! and dropped by [`FreshDb::finish`]. One a test fails to finish is dropped by a later run
//! after an hour.

use promo_api::config::Config;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::OnceCell;

const PREFIX: &str = "promo_store_test_";

pub struct FreshDb {
    pub pool: promo_store::PgPool,
    server: String,
    name: String,
}

/// The server, and stale databases of earlier runs dropped (once per run).
async fn server() -> &'static str {
    static SERVER: OnceCell<String> = OnceCell::const_new();
    SERVER
        .get_or_init(|| async {
            let config = Config {
                database_url: std::env::var("DATABASE_URL").ok(),
                ..Config::for_tests((String::new(), String::new()))
            };
            let server = promo_api::postgres_setup::server_url(&config).await.expect("a PostgreSQL server");
            promo_store::drop_stale_databases(&server, PREFIX, now(), 3600).await.expect("drop stale databases");
            server
        })
        .await
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl FreshDb {
    pub async fn new() -> FreshDb {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let server = server().await.to_owned();
        // the unix time last: `drop_stale_databases` reads it from there
        let name = format!("{PREFIX}{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst), now());
        promo_store::ensure_database(&server, &name).await.expect("create the database");
        let pool = promo_store::connect(&format!("{server}/{name}"), 4).await.expect("connect");
        promo_store::migrate(&pool).await.expect("migrate");
        FreshDb { pool, server, name }
    }

    /// Drops the database, ending its connections (a test may still hold one: waiting for the
    /// pool to close would wait for it).
    pub async fn finish(self) {
        promo_store::drop_database(&self.server, &self.name).await.expect("drop the database");
    }
}
