//! End-to-end HTTP tests, driven in-process through the router (`tower::ServiceExt::oneshot`).
//! Postgres is found by the service's own rule; each run gets a fresh database, and each test
//! its own projects (which also exercises tenant isolation).

// test code: a failed unwrap is a failed test, with its message
#![allow(clippy::unwrap_used)]

mod helpers;

mod activity;
mod analytics;
mod audiences;
mod audit;
mod cache;
mod campaigns;
mod catalog;
mod checkout;
mod concurrency;
mod conformance;
mod distribution;
mod errors;
mod exports;
mod fields;
mod guardrails;
mod hardening;
mod management;
mod openapi;
mod parity;
mod resolution;
mod revenue;
mod rules;
mod store;
mod summaries;
