//! The wire types: request bodies and responses with their OpenAPI schemas. Services build the
//! `…Out` types and routes return them; `…In` and `…Schema` types that are not yet parsed into
//! (their handlers still read a checked JSON document) document the body, and the HTTP tests
//! check every response against the served document (`tests/api/conformance.rs`).

pub mod admin;
pub mod campaigns;
pub mod catalog;
pub mod checkout;
pub mod common;
pub mod management;
