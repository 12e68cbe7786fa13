//! Rate limits (GCRA, through `governor`): requests per second per server-side key, client-side
//! requests per second per client IP, and code guessing — a client IP whose checkouts keep
//! naming unknown codes is refused for a while. Limits come from the project when it sets its
//! own, else from the configuration. State lives in this process (each instance limits what it
//! serves) and is bounded: idle buckets are dropped when the table is full.

use crate::config::RateDefaults;
use crate::error::{ApiError, ErrorKey};
use axum::http::{HeaderName, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use promo_store::projects::ProjectRow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Bucket {
    ServerKey(promo_store::ProjectId),
    ClientIp(promo_store::ProjectId, IpAddr),
    UnknownCodes(promo_store::ProjectId, IpAddr),
}

struct Entry {
    /// The quota the limiter was built with (a project may change its own).
    per_period: u32,
    limiter: Limiter,
    used: Instant,
    /// Code guessing: refused until then.
    blocked_until: Option<Instant>,
}

/// Buckets kept at most; beyond it idle ones are dropped.
const MAX_BUCKETS: usize = 100_000;
const IDLE: Duration = Duration::from_secs(120);

pub struct Limits {
    defaults: RateDefaults,
    clock: DefaultClock,
    buckets: Mutex<HashMap<Bucket, Entry>>,
}

fn quota(per_period: u32, period: Duration) -> Quota {
    let n = NonZeroU32::new(per_period.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period / n.get()).unwrap_or_else(|| Quota::per_second(n)).allow_burst(n)
}

fn limited(per_period: u32, period: Duration, wait: Duration, what: &str) -> ApiError {
    let reset = wait.as_secs_f64().ceil().max(1.0) as u64;
    ApiError::new(ErrorKey::TooManyRequests)
        .details(format!("Rate limit of {per_period} {what} exceeded; retry after {reset} s"))
        .retry_after(wait)
        .header(HeaderName::from_static("ratelimit-limit"), HeaderValue::from(per_period))
        .header(HeaderName::from_static("ratelimit-remaining"), HeaderValue::from(0))
        .header(HeaderName::from_static("ratelimit-reset"), HeaderValue::from(reset))
        .header(
            HeaderName::from_static("ratelimit-policy"),
            HeaderValue::from_str(&format!("{per_period};w={}", period.as_secs().max(1)))
                .unwrap_or(HeaderValue::from_static("")),
        )
}

fn positive(v: Option<i32>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0)
}

impl Limits {
    pub fn new(defaults: RateDefaults) -> Self {
        Limits { defaults, clock: DefaultClock::default(), buckets: Mutex::default() }
    }

    fn take(&self, bucket: Bucket, per_period: u32, period: Duration, what: &str) -> Result<(), ApiError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&bucket) {
            // a full table drops idle buckets, then any but live lock-outs (a client rotating
            // addresses must not be able to lift other IPs' code-guessing lock-outs)
            let now = Instant::now();
            let locked = |e: &Entry| e.blocked_until.is_some_and(|until| until > now);
            buckets.retain(|_, e| e.used.elapsed() < IDLE || locked(e));
            if buckets.len() >= MAX_BUCKETS {
                buckets.retain(|_, e| locked(e));
            }
        }
        let entry = buckets.entry(bucket).or_insert_with(|| Entry {
            per_period,
            limiter: RateLimiter::direct(quota(per_period, period)).with_middleware(),
            used: Instant::now(),
            blocked_until: None,
        });
        if entry.per_period != per_period {
            entry.per_period = per_period;
            entry.limiter = RateLimiter::direct(quota(per_period, period)).with_middleware();
        }
        entry.used = Instant::now();
        match entry.limiter.check() {
            Ok(_) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                if matches!(bucket, Bucket::UnknownCodes(..)) {
                    entry.blocked_until = Some(Instant::now() + wait.max(Duration::from_secs(1)));
                }
                Err(limited(per_period, period, wait, what))
            }
        }
    }

    /// A request with a server-side key.
    pub fn server_request(&self, project: &ProjectRow) -> Result<(), ApiError> {
        let n = positive(project.rate_limits.server_per_second).unwrap_or(self.defaults.server_per_second);
        self.take(Bucket::ServerKey(project.project_id), n, Duration::from_secs(1), "requests per second per key")
    }

    /// A client-side request from `ip`; refused while the IP is locked out for code guessing.
    pub fn client_request(&self, project: &ProjectRow, ip: IpAddr) -> Result<(), ApiError> {
        self.guessing_lockout(project, ip)?;
        let n = positive(project.rate_limits.client_ip_per_second).unwrap_or(self.defaults.client_ip_per_second);
        self.take(
            Bucket::ClientIp(project.project_id, ip),
            n,
            Duration::from_secs(1),
            "client-side requests per second per IP",
        )
    }

    fn guessing_lockout(&self, project: &ProjectRow, ip: IpAddr) -> Result<(), ApiError> {
        let buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(until) = buckets.get(&Bucket::UnknownCodes(project.project_id, ip)).and_then(|e| e.blocked_until)
        else {
            return Ok(());
        };
        let now = Instant::now();
        if until <= now {
            return Ok(());
        }
        let n = self.unknown_codes_per_minute(project);
        Err(limited(n, Duration::from_secs(60), until - now, "unknown codes per minute per IP")
            .message("Too many unknown codes"))
    }

    fn unknown_codes_per_minute(&self, project: &ProjectRow) -> u32 {
        positive(project.rate_limits.unknown_codes_per_minute).unwrap_or(self.defaults.unknown_codes_per_minute)
    }

    /// A client-side checkout named `count` codes that do not exist: each takes one from the
    /// IP's allowance. A checkout that goes over it is refused with 429 (its answer would tell
    /// which guesses exist), and the IP is refused until one more unknown code would be allowed
    /// (60 s / the allowance, at least a second).
    pub fn unknown_codes(&self, project: &ProjectRow, ip: IpAddr, count: usize) -> Result<(), ApiError> {
        let n = self.unknown_codes_per_minute(project);
        for _ in 0..count {
            let bucket = Bucket::UnknownCodes(project.project_id, ip);
            self.take(bucket, n, Duration::from_secs(60), "unknown codes per minute per IP")
                .map_err(|e| e.message("Too many unknown codes"))?;
        }
        Ok(())
    }
}

// ---------- hot codes ----------

const HOT_SHARDS: usize = 4096;
/// Redemptions of one code that may run at once (its counter row serialises them anyway);
/// more wait briefly, then get 429 — fast refusals instead of a queue on the row lock.
const HOT_PERMITS: usize = 4;
const HOT_WAIT: Duration = Duration::from_millis(25);

/// Limits redemptions in flight per code: a hot code's row lock serialises them anyway, so
/// excess callers are refused fast instead of queueing on the database. Sharded by hash, so
/// memory stays bounded whatever the number of codes.
pub struct HotKeys {
    shards: Vec<Arc<Semaphore>>,
}

impl Default for HotKeys {
    fn default() -> Self {
        HotKeys { shards: (0..HOT_SHARDS).map(|_| Arc::new(Semaphore::new(HOT_PERMITS))).collect() }
    }
}

impl HotKeys {
    /// A slot for the code whose key (as the project compares codes) is `code_key`.
    pub async fn enter(
        &self,
        project: promo_store::ProjectId,
        code_key: &str,
    ) -> Result<OwnedSemaphorePermit, ApiError> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        project.hash(&mut h);
        code_key.hash(&mut h);
        let shard = self.shards[(h.finish() as usize) % HOT_SHARDS].clone();
        match tokio::time::timeout(HOT_WAIT, shard.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::new(ErrorKey::TooManyRequests)
                .details(format!("Too many concurrent redemptions of {code_key}; retry shortly"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> ProjectRow {
        ProjectRow {
            project_id: promo_store::ProjectId(uuid::Uuid::new_v4()),
            name: "p".into(),
            description: None,
            timezone: "UTC".into(),
            currency: "USD".into(),
            case_sensitive_codes: false,
            client_trusted_domains: vec![],
            client_redeem_enabled: false,
            stacking_rules: None,
            stacking_rules_id: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
            definitions_version: 0,
            rate_limits: Default::default(),
            customer_identity: "customer".into(),
            lockout: None,
        }
    }

    fn defaults() -> RateDefaults {
        RateDefaults { server_per_second: 5, client_ip_per_second: 3, unknown_codes_per_minute: 2 }
    }

    #[test]
    fn a_key_gets_its_burst_then_429_with_retry_after() {
        let limits = Limits::new(defaults());
        let p = project();
        for _ in 0..5 {
            limits.server_request(&p).unwrap();
        }
        let e = limits.server_request(&p).unwrap_err();
        assert_eq!(e.key(), ErrorKey::TooManyRequests);
        // another project has its own bucket
        limits.server_request(&project()).unwrap();
    }

    #[test]
    fn a_project_limit_overrides_the_default() {
        let limits = Limits::new(defaults());
        let mut p = project();
        p.rate_limits.client_ip_per_second = Some(1);
        let ip: IpAddr = [10, 0, 0, 1].into();
        limits.client_request(&p, ip).unwrap();
        assert!(limits.client_request(&p, ip).is_err());
        limits.client_request(&p, [10, 0, 0, 2].into()).unwrap();
    }

    #[test]
    fn guessing_codes_locks_the_ip_out() {
        let limits = Limits::new(RateDefaults { client_ip_per_second: 1000, ..defaults() });
        let p = project();
        let ip: IpAddr = [10, 0, 0, 3].into();
        limits.unknown_codes(&p, ip, 2).unwrap();
        limits.client_request(&p, ip).unwrap();
        // the checkout that goes over the allowance is refused itself
        assert!(limits.unknown_codes(&p, ip, 1).is_err());
        let e = limits.client_request(&p, ip).unwrap_err();
        assert!(e.details_text().starts_with("Rate limit of 2 unknown codes per minute per IP exceeded"));
        limits.client_request(&p, [10, 0, 0, 4].into()).unwrap();
        // one checkout naming many guesses at once is refused as a whole
        let other: IpAddr = [10, 0, 0, 5].into();
        assert!(limits.unknown_codes(&p, other, 29).is_err());
        assert!(limits.client_request(&p, other).is_err());
    }
}
