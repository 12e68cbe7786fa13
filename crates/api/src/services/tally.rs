//! Validations counted without a write each: every server tallies them in memory per object
//! (campaign, tier, code) and local day, and adds the tally to `validation_stats` every few
//! seconds in one statement. A server killed between two flushes loses at most those seconds
//! of validation counts (never a redemption: those are the ledger).

use promo_store::{PgPool, ProjectId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How often the tally is written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);

type Key = (ProjectId, String, chrono::NaiveDate);

#[derive(Default)]
pub struct ValidationTally {
    counts: Mutex<HashMap<Key, (i64, i64)>>,
}

impl ValidationTally {
    /// Counts one validated redeemable for each of its objects.
    pub fn add(&self, project: ProjectId, objects: &[&str], day: chrono::NaiveDate, ok: bool) {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for object in objects {
            let c = counts.entry((project, (*object).to_owned(), day)).or_default();
            if ok { c.0 += 1 } else { c.1 += 1 }
        }
    }

    fn take(&self) -> HashMap<Key, (i64, i64)> {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    fn give_back(&self, taken: HashMap<Key, (i64, i64)>) {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (k, (ok, failed)) in taken {
            let c = counts.entry(k).or_default();
            c.0 += ok;
            c.1 += failed;
        }
    }

    /// Writes what was counted; on failure keeps it for the next flush.
    pub async fn flush(&self, db: &PgPool) -> Result<(), promo_store::StoreError> {
        let taken = self.take();
        if taken.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = taken.iter().map(|((p, o, d), (ok, failed))| (*p, o.clone(), *d, *ok, *failed)).collect();
        match promo_store::ledger::add_validation_counts(db, &rows).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.give_back(taken);
                Err(e)
            }
        }
    }
}

/// Flushes the tally every [`FLUSH_EVERY`].
pub fn spawn(db: PgPool, tally: std::sync::Arc<ValidationTally>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(FLUSH_EVERY).await;
            if let Err(e) = tally.flush(&db).await {
                tracing::warn!(error = %e, "writing validation counts failed; kept for the next try");
            }
        }
    })
}
