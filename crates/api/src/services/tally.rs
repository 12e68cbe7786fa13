//! Validations counted without a write each: every server tallies them in memory per object
//! (campaign, tier, code) and 15-minute bucket, and adds the tally to `validation_stats` every few
//! seconds in one statement. A server killed between two flushes loses at most those seconds
//! of validation counts (never a redemption: those are the ledger).

use promo_store::{PgPool, ProjectId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The 15-minute bucket an instant falls in (the analytics series' grid: whole quarter hours
/// of UTC, so a day or an hour of any time zone is made of whole buckets).
pub fn bucket_of(at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let secs = at.timestamp();
    chrono::DateTime::from_timestamp(secs - secs.rem_euclid(900), 0).unwrap_or(at)
}

/// How often the tally is written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);

type Key = (ProjectId, String, chrono::DateTime<chrono::Utc>);

/// At most this many failed validations wait for a flush; more are dropped from the customers'
/// activity (and counted in the log), so a flood of failures cannot grow memory.
const MAX_PENDING_FAILURES: usize = 20_000;

#[derive(Default)]
pub struct ValidationTally {
    counts: Mutex<HashMap<Key, (i64, i64)>>,
    failures: Mutex<Vec<promo_store::activity::FailedValidation>>,
    dropped: std::sync::atomic::AtomicU64,
}

impl ValidationTally {
    /// Counts one validated redeemable for each of its objects, in the 15-minute bucket of `at`.
    pub fn add(&self, project: ProjectId, objects: &[&str], at: chrono::DateTime<chrono::Utc>, ok: bool) {
        let bucket = bucket_of(at);
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for object in objects {
            let c = counts.entry((project, (*object).to_owned(), bucket)).or_default();
            if ok { c.0 += 1 } else { c.1 += 1 }
        }
    }

    /// Keeps a failed validation of a stored customer for the customer's activity.
    pub fn failed_for_customer(&self, failure: promo_store::activity::FailedValidation) {
        let mut pending = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pending.len() < MAX_PENDING_FAILURES {
            pending.push(failure);
        } else {
            self.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Writes the failed validations kept for customers' activity; on failure keeps them.
    async fn flush_failures(&self, db: &PgPool) -> Result<(), promo_store::StoreError> {
        let taken = std::mem::take(&mut *self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let dropped = self.dropped.swap(0, std::sync::atomic::Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(dropped, "failed validations not kept for customers' activity: too many between flushes");
        }
        if taken.is_empty() {
            return Ok(());
        }
        if let Err(e) = promo_store::activity::insert_failed_validations(db, &taken).await {
            let mut pending = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let room = MAX_PENDING_FAILURES.saturating_sub(pending.len());
            pending.extend(taken.into_iter().take(room));
            return Err(e);
        }
        Ok(())
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

    /// Writes what was counted and the failed validations of customers; on failure keeps them
    /// for the next flush.
    pub async fn flush(&self, db: &PgPool) -> Result<(), promo_store::StoreError> {
        let failures = self.flush_failures(db).await;
        self.flush_counts(db).await?;
        failures
    }

    async fn flush_counts(&self, db: &PgPool) -> Result<(), promo_store::StoreError> {
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
