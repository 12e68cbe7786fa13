//! The promotion engine's pure core: money, discounts and their effects, validation rules,
//! time windows, stacking and qualification.
//!
//! No IO, no async, no clock, no randomness: `now`, counter values and ids come in as
//! arguments, and the results say which counters a redemption consumes so the store can
//! enforce them atomically. Must not depend on tokio, sqlx, axum or tower, nor read the clock
//! (chrono is used without its `clock` feature).
//!
//! Money is `rust_decimal::Decimal` minor units inside and `i64` minor units on the wire, with
//! one rounding rule (half away from zero, [`money::round_minor`]) and largest-remainder
//! allocation ([`money::allocate`]).

pub mod bundle;
pub mod cart;
pub mod catalog;
pub mod condition;
pub mod discount;
pub mod error;
pub mod facts;
pub mod formula;
pub mod guardrails;
pub mod identity;
pub mod logic;
pub mod model;
pub mod money;
pub mod qualify;
pub mod redeemable;
pub mod rules;
pub mod schedule;
pub mod stacking;
pub mod targeting;

pub use cart::{Cart, ItemTotals, OrderTotals};
pub use catalog::{Catalog, ItemRef};
pub use discount::{Discount, DiscountDef};
pub use error::{DefinitionError, DefinitionErrorKind, OrderError};
pub use model::{Customer, Metadata, Order, OrderItem};
pub use qualify::{PageKey, QualificationIndex, QualificationSorting, QualifyOptions, Scenario, qualify};
pub use redeemable::{Benefit, Category, Environment, RedeemOptions, Redeemable, RedeemableObject};
pub use rules::{CounterClaim, CounterKey, CounterSource, ErrorKey, NoCounters, RuleSet, ValidationRuleDef};
pub use schedule::{Schedule, ScheduleDef};
pub use stacking::{Outcome, Requested, StackOptions, StackedEvaluation, StackingRules, evaluate_stack};
