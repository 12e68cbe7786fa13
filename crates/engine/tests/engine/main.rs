//! Engine behaviour tests: the discount-effects seed vectors, the reference's stacking example,
//! BOGO and tiers, every stacking key, rules and explanations, and property tests.

mod support;

mod effects;
mod explanations;
mod properties;
mod qualification;
mod stacking;
