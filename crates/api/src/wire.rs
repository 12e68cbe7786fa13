//! Wire helpers shared by every layer: timestamps, JSON shaping, code keys, metadata.

use crate::error::invalid;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// Voucherify's timestamps: RFC 3339, UTC, milliseconds.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// How a code is looked up: as written in case-sensitive projects, else upper-cased.
pub fn code_key(code: &str, case_sensitive: bool) -> String {
    if case_sensitive { code.to_owned() } else { code.to_uppercase() }
}

/// An object body without its `null` members (absent and `null` mean the same).
pub fn object(v: Value) -> Map<String, Value> {
    match strip_nulls(v) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Metadata objects: absent means empty.
pub fn metadata(v: Option<Value>) -> Result<Map<String, Value>, crate::error::ApiError> {
    match v {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(invalid("Property .metadata must be an object")),
    }
}

/// Removes `null` members from objects, recursively.
pub fn strip_nulls(mut v: serde_json::Value) -> serde_json::Value {
    strip_nulls_in_place(&mut v);
    v
}

/// The same, without rebuilding any map (responses are big; rebuilding them showed in profiles).
pub fn strip_nulls_in_place(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            map.values_mut().for_each(strip_nulls_in_place);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls_in_place),
        _ => {}
    }
}

/// Removes `null` members of an object only at its top level (its parts already stripped).
pub fn strip_top_nulls(mut v: serde_json::Value) -> serde_json::Value {
    if let serde_json::Value::Object(map) = &mut v {
        map.retain(|_, x| !x.is_null());
    }
    v
}
