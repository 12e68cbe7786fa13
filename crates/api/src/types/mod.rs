//! The wire types: request bodies and responses with their OpenAPI schemas. Services build the
//! `…Out` types and routes return them; `…In` and `…Schema` types that are not yet parsed into
//! (their handlers still read a checked JSON document) document the body, and the HTTP tests
//! check every response against the served document (`tests/api/conformance.rs`).

pub mod admin;
pub mod analytics;
pub mod audit;
pub mod blocks;
pub mod campaigns;
pub mod catalog;
pub mod checkout;
pub mod common;
pub mod events;
pub mod exports;
pub mod management;

#[cfg(test)]
mod schema_tests {
    use serde_json::Value;

    fn props<T: utoipa::PartialSchema>() -> Vec<String> {
        let v = serde_json::to_value(T::schema()).unwrap_or_default();
        let mut k: Vec<String> = v["properties"].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        k.sort();
        k
    }

    fn keys(v: Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        k.sort();
        k
    }

    /// The documented discount and `applicable_to` schemas list exactly the fields the engine
    /// reads, so the document and the refusals of unread fields cannot drift apart.
    #[test]
    fn the_documented_schemas_are_the_fields_the_engine_reads() {
        use promo_engine::discount::{UnitDef, UnitProductDef};
        let json = |v: Result<Value, serde_json::Error>| v.unwrap_or_default();
        assert_eq!(
            props::<super::admin::ApplicableTargetSchema>(),
            keys(json(serde_json::to_value(promo_engine::targeting::ApplicableToEntryDef::default())))
        );
        assert_eq!(
            props::<super::common::DiscountSchema>(),
            keys(json(serde_json::to_value(promo_engine::DiscountDef::default())))
        );
        assert_eq!(props::<super::common::UnitSchema>(), keys(json(serde_json::to_value(UnitDef::default()))));
        assert_eq!(
            props::<super::common::UnitProductSchema>(),
            keys(json(serde_json::to_value(UnitProductDef::default())))
        );
    }
}
