//! Engine behaviour tests: the discount-effects seed vectors, the reference's stacking example,
//! BOGO and tiers, every stacking key, rules and explanations, and property tests.

// test code: a failed unwrap is a failed test, with its message
#![allow(clippy::unwrap_used)]

mod support;

mod bundles;
mod effects;
mod explanations;
mod guardrails;
mod properties;
mod qualification;
mod stacking;
