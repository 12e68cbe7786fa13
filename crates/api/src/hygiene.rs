//! Input hygiene at the edge: what a request may carry, so that everything stored reads back
//! exactly. Checked on every JSON body before a handler sees it (paths and query strings are
//! checked for NUL by `edge`). A refusal is a 400 naming the property; nothing is written.
//!
//! - No NUL character in any string or key (PostgreSQL text cannot hold it).
//! - Numbers: integers within 64 bits; other numbers finite, at most 2^53 in magnitude and, if
//!   not zero, at least 1e-9 (what PostgreSQL's `numeric` and a client's double both read back).
//! - Nesting at most [`MAX_DEPTH`] levels.
//! - Every `metadata` object: at most [`METADATA_MAX_KEYS`] keys per object, keys of at most
//!   [`METADATA_MAX_KEY_CHARS`] characters, strings of at most [`METADATA_MAX_STRING_CHARS`],
//!   arrays of at most [`METADATA_MAX_KEYS`] elements, [`METADATA_MAX_DEPTH`] levels and
//!   [`METADATA_MAX_BYTES`] in all.

use crate::error::{ApiError, ErrorKey};
use serde_json::Value;

pub const MAX_DEPTH: usize = 32;
pub const METADATA_MAX_KEYS: usize = 100;
pub const METADATA_MAX_KEY_CHARS: usize = 100;
pub const METADATA_MAX_STRING_CHARS: usize = 5_000;
pub const METADATA_MAX_DEPTH: usize = 5;
pub const METADATA_MAX_BYTES: usize = 16 * 1024;
/// 2^53: the largest magnitude up to which every integer is a double.
pub const MAX_FRACTIONAL_MAGNITUDE: f64 = 9_007_199_254_740_992.0;
pub const MIN_FRACTIONAL_MAGNITUDE: f64 = 1e-9;

/// One step of a property path.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn render(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                out.push('.');
                out.push_str(&k.replace('\0', "\\u0000"));
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() { ".".to_owned() } else { out }
}

fn refuse(path: &[Step<'_>], problem: &str) -> ApiError {
    ApiError::new(ErrorKey::InvalidPayload).details(format!("Property {} {problem}", render(path)))
}

/// Checks a parsed JSON body.
pub fn check_body(value: &Value) -> Result<(), ApiError> {
    let mut path = Vec::new();
    walk(value, &mut path, None)
}

/// Checks one text field (a CSV cell, a path segment).
pub fn check_text(field: &str, text: &str) -> Result<(), ApiError> {
    if text.contains('\0') {
        return Err(ApiError::new(ErrorKey::InvalidPayload)
            .details(format!("Property {field} must not contain NUL characters")));
    }
    Ok(())
}

/// The JSON type a property must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Bool,
    Integer,
    Object,
    Array,
}

impl Kind {
    fn holds(self, v: &Value) -> bool {
        match self {
            Kind::String => v.is_string(),
            Kind::Bool => v.is_boolean(),
            Kind::Integer => v.is_i64(),
            Kind::Object => v.is_object(),
            Kind::Array => v.is_array(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::String => "a string",
            Kind::Bool => "a boolean",
            Kind::Integer => "an integer",
            Kind::Object => "an object",
            Kind::Array => "an array",
        }
    }
}

/// Checks the types of the properties a body-as-`Value` handler reads (`prefix` names where the
/// object sits, e.g. `voucher.`), so a wrong type is a 400 rather than a default taken silently.
pub fn expect_types(
    body: &serde_json::Map<String, Value>,
    prefix: &str,
    fields: &[(&str, Kind)],
) -> Result<(), ApiError> {
    for (name, kind) in fields {
        if let Some(v) = body.get(*name)
            && !v.is_null()
            && !kind.holds(v)
        {
            return Err(ApiError::new(ErrorKey::InvalidPayload)
                .details(format!("Property .{prefix}{name} must be {}", kind.name())));
        }
    }
    Ok(())
}

/// Refuses a property that none of `lists` names: a field the handler does not read would be
/// accepted and ignored (`prefix` names where the object sits, e.g. `voucher.`).
pub fn only_known(
    body: &serde_json::Map<String, Value>,
    prefix: &str,
    lists: &[&[(&str, Kind)]],
) -> Result<(), ApiError> {
    match body.keys().find(|k| !lists.iter().any(|l| l.iter().any(|(name, _)| name == k))) {
        None => Ok(()),
        Some(k) => Err(ApiError::new(ErrorKey::InvalidPayload)
            .details(format!("Property .{prefix}{k} is not read here (nothing is accepted and ignored)"))),
    }
}

/// Schedule properties shared by campaigns, vouchers and tiers.
pub const SCHEDULE_TYPES: &[(&str, Kind)] = &[
    ("start_date", Kind::String),
    ("expiration_date", Kind::String),
    ("validity_timeframe", Kind::Object),
    ("validity_day_of_week", Kind::Array),
    ("validity_hours", Kind::Object),
];

/// `metadata_depth`: levels inside the nearest `metadata` object, when within one.
fn walk<'a>(value: &'a Value, path: &mut Vec<Step<'a>>, metadata_depth: Option<usize>) -> Result<(), ApiError> {
    if path.len() > MAX_DEPTH {
        return Err(refuse(path, &format!("is nested deeper than {MAX_DEPTH} levels")));
    }
    if metadata_depth.is_some_and(|d| d > METADATA_MAX_DEPTH) {
        return Err(refuse(path, &format!("is nested deeper than {METADATA_MAX_DEPTH} levels in metadata")));
    }
    match value {
        Value::String(s) => {
            if s.contains('\0') {
                return Err(refuse(path, "must not contain NUL characters"));
            }
            if metadata_depth.is_some() && s.chars().count() > METADATA_MAX_STRING_CHARS {
                return Err(refuse(path, &format!("is longer than {METADATA_MAX_STRING_CHARS} characters")));
            }
        }
        Value::Number(n) => check_number(n).map_err(|problem| refuse(path, problem))?,
        Value::Array(items) => {
            if metadata_depth.is_some() && items.len() > METADATA_MAX_KEYS {
                return Err(refuse(path, &format!("has more than {METADATA_MAX_KEYS} elements")));
            }
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                walk(item, path, metadata_depth.map(|d| d + 1))?;
                path.pop();
            }
        }
        Value::Object(map) => {
            if metadata_depth.is_some() && map.len() > METADATA_MAX_KEYS {
                return Err(refuse(path, &format!("has more than {METADATA_MAX_KEYS} keys")));
            }
            for (key, item) in map {
                path.push(Step::Key(key));
                if key.contains('\0') {
                    return Err(refuse(path, "must not contain NUL characters in its name"));
                }
                if metadata_depth.is_some() && key.chars().count() > METADATA_MAX_KEY_CHARS {
                    return Err(refuse(path, &format!("has a name longer than {METADATA_MAX_KEY_CHARS} characters")));
                }
                let inner = match metadata_depth {
                    Some(d) => Some(d + 1),
                    None if key == "metadata" && item.is_object() => {
                        let size = serde_json::to_vec(item).map(|b| b.len()).unwrap_or(usize::MAX);
                        if size > METADATA_MAX_BYTES {
                            return Err(refuse(path, &format!("is larger than {METADATA_MAX_BYTES} bytes")));
                        }
                        Some(0)
                    }
                    None => None,
                };
                walk(item, path, inner)?;
                path.pop();
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
    Ok(())
}

fn check_number(n: &serde_json::Number) -> Result<(), &'static str> {
    if n.is_i64() || n.is_u64() {
        return Ok(());
    }
    match n.as_f64() {
        Some(0.0) => Ok(()),
        Some(f) if f.is_finite() && (MIN_FRACTIONAL_MAGNITUDE..=MAX_FRACTIONAL_MAGNITUDE).contains(&f.abs()) => Ok(()),
        _ => Err("must be a number between 1e-9 and 2^53 in magnitude, or an integer within 64 bits"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn details(v: Value) -> String {
        check_body(&v).unwrap_err().details_text()
    }

    #[test]
    fn nul_characters_are_refused_with_their_path() {
        assert_eq!(
            details(json!({"customer": {"source_id": "a\u{0}b"}})),
            "Property .customer.source_id must not contain NUL characters"
        );
        assert!(details(json!({"items": [{"x": 1}, {"k\u{0}": 1}]})).starts_with("Property .items[1].k\\u0000"));
    }

    #[test]
    fn numbers_that_do_not_read_back_are_refused() {
        assert!(
            details(json!({"metadata": {"x": 1.7976931348623157e308}})).starts_with("Property .metadata.x must be")
        );
        assert!(check_body(&json!({"a": 9_223_372_036_854_775_807_i64, "b": 12.5, "c": 0.0, "d": -3})).is_ok());
        assert!(check_body(&json!({"a": 1e-12})).is_err());
        assert!(check_body(&json!({"a": 1e16})).is_err());
    }

    #[test]
    fn metadata_has_limits() {
        let many: serde_json::Map<String, Value> =
            (0..=METADATA_MAX_KEYS).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(details(json!({"metadata": many})).contains("more than 100 keys"));
        assert!(details(json!({"order": {"metadata": {"x": "y".repeat(5001)}}})).contains("longer than 5000"));
        assert!(details(json!({"metadata": {"a": {"b": {"c": {"d": {"e": {"f": {}}}}}}}})).contains("deeper"));
        assert!(details(json!({"metadata": {"d": [[[[[[[1]]]]]]]}})).contains("deeper"));
        assert!(check_body(&json!({"metadata": {"d": [[[[1]]]]}})).is_ok());
        let big: serde_json::Map<String, Value> = (0..10).map(|i| (format!("k{i}"), json!("x".repeat(2000)))).collect();
        assert!(details(json!({"metadata": big})).contains("larger than 16384 bytes"));
        // outside metadata, names and strings are not held to these limits
        assert!(check_body(&json!({"name": "y".repeat(6000)})).is_ok());
    }
}
