//! The instance's outage clock: when a request last met the database unusable. Errors record
//! into it; readiness reads it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

tokio::task_local! {
    /// The serving instance's outage clock (see [`Outages`]), set for each request.
    pub static OUTAGES: std::sync::Arc<Outages>;
}

/// When a request of this instance last met the database unusable (see `now_ms`; 0: never).
#[derive(Debug, Default)]
pub struct Outages {
    last_ms: AtomicU64,
}

/// How long after a request met an outage readiness stays 503 (a probe's own ping can succeed on
/// a fresh connection while backends are still being killed); short enough that readiness is
/// back within a second of recovery.
const OUTAGE_MEMORY: Duration = Duration::from_millis(500);

/// How long after an outage the probe opens its own connection.
const RECOVERY_WATCH: Duration = Duration::from_secs(30);

/// Milliseconds on a monotonic clock (a wall clock stepped back would keep readiness down), from
/// one second after the process's first use of it (0 means "never").
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1000
}

impl Outages {
    fn since_last(&self) -> u64 {
        now_ms().saturating_sub(self.last_ms.load(Ordering::Relaxed))
    }

    /// A request met the database unusable within the last half second.
    pub fn recent(&self) -> bool {
        self.since_last() < OUTAGE_MEMORY.as_millis() as u64
    }

    /// Within a while of an outage (the readiness probe then asks on a connection of its own).
    pub fn recovering(&self) -> bool {
        self.since_last() < RECOVERY_WATCH.as_millis() as u64
    }
}

/// Called for every transient database failure a request met.
pub fn note_database_failure(e: &(dyn std::error::Error + 'static)) {
    let outage = e.downcast_ref::<promo_store::SqlxError>().is_none_or(promo_store::is_outage);
    if outage {
        let _ = OUTAGES.try_with(|o| o.last_ms.store(now_ms(), Ordering::Relaxed));
    }
}
