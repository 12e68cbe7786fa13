//! Prometheus metrics at `/metrics`: requests and latency per route and status, the database
//! pool, redemption outcomes, and the backlogs of async actions and webhook deliveries.

use crate::error::ApiError;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use std::time::Instant;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    redemptions: IntCounterVec,
    pool: IntGaugeVec,
    connections: IntGauge,
    backlog: IntGaugeVec,
    audit_lost: prometheus::IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("promo_http_requests_total", "HTTP requests answered, by route, method and status"),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("promo_http_request_duration_seconds", "Time to answer, by route, method and status")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let redemptions = IntCounterVec::new(
            Opts::new("promo_redemptions_total", "Redemption requests by outcome (SUCCESS, FAILURE, ERROR)"),
            &["outcome"],
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(Opts::new("promo_db_pool_connections", "Database pool connections"), &["state"])
            .expect("valid metric");
        let connections = IntGauge::new("promo_open_connections", "Client connections open now").expect("valid metric");
        let backlog = IntGaugeVec::new(
            Opts::new("promo_backlog", "Work waiting: async actions not finished, webhook events not delivered"),
            &["queue"],
        )
        .expect("valid metric");
        let audit_lost = prometheus::IntCounter::new(
            "promo_audit_entries_lost_total",
            "Admin writes that succeeded but whose audit entry could not be written",
        )
        .expect("valid metric");
        for m in [
            Box::new(audit_lost.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(redemptions.clone()),
            Box::new(pool.clone()),
            Box::new(connections.clone()),
            Box::new(backlog.clone()),
        ] {
            registry.register(m).expect("metric names are unique");
        }
        Metrics { registry, requests, latency, redemptions, pool, connections, backlog, audit_lost }
    }

    pub fn redemption(&self, outcome: &str) {
        self.redemptions.with_label_values(&[outcome]).inc();
    }

    pub fn audit_entry_lost(&self) {
        self.audit_lost.inc();
    }

    pub fn connection_opened(&self) {
        self.connections.inc();
    }

    pub fn connection_closed(&self) {
        self.connections.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Counts and times a request under its route template (never the raw path: ids would make
    /// a series each).
    pub fn request(&self, route: &str, method: &str, status: &str, started: Instant) {
        let labels = [route, method, status];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(started.elapsed().as_secs_f64());
    }
}

impl Metrics {
    /// The registry in Prometheus' text format, with the pool and backlog gauges read now.
    pub async fn scrape(&self, db: &promo_store::PgPool) -> Result<Vec<u8>, ApiError> {
        let m = self;
        let idle = db.num_idle() as i64;
        m.pool.with_label_values(&["open"]).set(i64::from(db.size()));
        m.pool.with_label_values(&["idle"]).set(idle);
        m.pool.with_label_values(&["max"]).set(i64::from(db.options().get_max_connections()));
        // The backlogs are read when scraped; an unreachable database leaves the last values.
        if let Ok((actions, events)) = promo_store::backlogs(db).await {
            m.backlog.with_label_values(&["async_actions"]).set(actions);
            m.backlog.with_label_values(&["webhook_events"]).set(events);
        }
        let mut out = Vec::new();
        prometheus::TextEncoder::new().encode(&m.registry.gather(), &mut out).map_err(ApiError::internal)?;
        Ok(out)
    }
}
