//! `promo-api`: the promotion engine service.

use promo_api::config::{Config, redact_url};
use promo_api::state::AppState;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    promo_api::telemetry::init(config.log_json);
    let url = promo_api::postgres_setup::database_url(&config).await?;
    tracing::info!(database = %redact_url(&url), "connecting");
    let db = promo_store::connect_warm(&url, config.db_max_connections, config.db_max_connections).await?;
    promo_store::migrate(&db).await?;
    let management = promo_api::management_credential(&config, &db).await?;
    let listener = listen(config.listen_addr)?;
    let addr = listener.local_addr()?;
    println!("promo-api listening on http://{addr} (API docs: http://{addr}/docs)");
    println!(
        "Create a project: curl -s -X POST http://{addr}/management/v1/projects -H 'X-Management-Id: {}' -H 'X-Management-Token: <token>' -H 'Content-Type: application/json' -d '{{\"name\": \"My shop\"}}'",
        management.id
    );
    // Idempotency keys are kept 7 days (at least the 24 h clients may retry in), then dropped.
    let janitor_db = db.clone();
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(e) = promo_store::ledger::expire_idempotency_keys(&janitor_db, 7).await {
                tracing::warn!(error = %e, "expiring idempotency keys failed");
            }
            // Delivered webhook events and their attempts are kept 30 days.
            if let Err(e) = promo_store::webhooks::expire_delivered(&janitor_db, 30).await {
                tracing::warn!(error = %e, "expiring delivered webhook events failed");
            }
        }
    });
    // Redemption figures: deltas folded into one row per object, so summaries stay quick.
    let folder_db = db.clone();
    tokio::spawn(async move {
        loop {
            match promo_store::ledger::fold_redemption_stats(&folder_db, 10_000).await {
                Ok(n) if n >= 10_000 => continue,
                Ok(_) => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "folding redemption figures failed");
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                }
            }
        }
    });
    // Code generation and imports; webhook deliveries. Both resume after a restart.
    promo_api::services::jobs::spawn(db.clone(), config.job_lease);
    promo_api::services::webhooks::spawn(db.clone(), promo_api::services::webhooks::RetryPolicy::default());
    let state = AppState::new(db.clone(), config, management);
    promo_api::services::tally::spawn(db.clone(), state.validations.clone());
    let validations = state.validations.clone();
    promo_api::serve(listener, state, promo_api::shutdown_signal()).await?;
    // what was counted since the last flush
    if let Err(e) = validations.flush(&db).await {
        tracing::warn!(error = %e, "writing validation counts at shutdown failed");
    }
    db.close().await;
    Ok(())
}

/// The listening socket, with a deep accept queue: tokio's default of 1,024 overflowed when a
/// burst of new clients arrived under load, and each dropped connection attempt waited out a
/// TCP retransmission (seconds) in a benchmark.
fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(8192)
}
