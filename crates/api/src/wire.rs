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

/// A stored document read as `T`, field by field: a field that no longer reads (written before
/// its type was checked, or damaged in the database) is left out and logged, and the rest of the
/// document still shows.
pub fn lenient<T: serde::de::DeserializeOwned + Default>(doc: Map<String, Value>, what: &str) -> T {
    let whole = Value::Object(doc);
    if let Ok(t) = serde_json::from_value(whole.clone()) {
        return t;
    }
    let Value::Object(doc) = whole else { return T::default() };
    let readable: Map<String, Value> = doc
        .into_iter()
        .filter(|(key, value)| {
            let alone = Value::Object(Map::from_iter([(key.clone(), value.clone())]));
            let ok = serde_json::from_value::<T>(alone).is_ok();
            if !ok {
                tracing::warn!(document = what, field = %key, "a stored field does not read; it is left out");
            }
            ok
        })
        .collect();
    serde_json::from_value(Value::Object(readable)).unwrap_or_default()
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

/// A list page from `limit` (1..=100, `default_limit` when absent) and `page` (1..=1000,
/// default 1), or the 400 that names what is out of range.
pub fn page(
    limit: Option<i64>,
    page: Option<i64>,
    default_limit: i64,
) -> Result<promo_store::Page, crate::error::ApiError> {
    use crate::error::{ApiError, ErrorKey};
    let limit = limit.unwrap_or(default_limit);
    let page = page.unwrap_or(1);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(ErrorKey::InvalidQueryParams).details("limit must be within 1..=100"));
    }
    if page < 1 {
        return Err(ApiError::new(ErrorKey::InvalidQueryParams).details("page must be at least 1"));
    }
    if page > 1000 {
        return Err(
            ApiError::new(ErrorKey::InvalidQueryParams).details("Listing resource above 1000 page is not supported")
        );
    }
    Ok(promo_store::Page { limit, offset: (page - 1) * limit })
}

#[cfg(test)]
mod tests {
    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(default)]
    struct Doc {
        name: Option<String>,
        banner: Option<String>,
    }

    #[test]
    fn a_field_that_no_longer_reads_leaves_the_rest_of_the_document() {
        let doc = serde_json::json!({"name": "Autumn", "banner": 5, "other": true});
        let serde_json::Value::Object(doc) = doc else { unreachable!() };
        let read: Doc = super::lenient(doc, "test");
        assert_eq!(read, Doc { name: Some("Autumn".into()), banner: None });
    }
}

/// A code or id as one URL path segment (codes may hold `/`, `?`, spaces, anything).
pub fn path_segment(s: &str) -> String {
    // RFC 3986 unreserved characters stay as they are
    const SEGMENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// Reads `v` as `T` and refuses any field `T` does not read, at any depth (nothing accepted
/// and ignored): what `T` writes back must hold every key `v` has. `path` names `v` in errors.
/// `T` must write every field it reads (no `skip_serializing_if`), and free-form parts (maps,
/// `Value`s) come back whole.
pub fn read_strictly<T: serde::de::DeserializeOwned + serde::Serialize>(
    v: &Value,
    path: &str,
) -> Result<T, crate::error::ApiError> {
    let parsed: T = serde_path_to_error::deserialize(v)
        .map_err(|e| invalid(format!("Property .{path}.{}: {}", e.path(), e.inner())))?;
    let read = serde_json::to_value(&parsed).unwrap_or_default();
    match first_unread(v, &read, path) {
        Some(field) => Err(invalid(format!("Property .{field} is not supported"))),
        None => Ok(parsed),
    }
}

/// The path of the first key of `given` that `read` lacks.
fn first_unread(given: &Value, read: &Value, path: &str) -> Option<String> {
    match (given, read) {
        (Value::Object(g), Value::Object(r)) => g.iter().find_map(|(k, v)| {
            let here = format!("{path}.{k}");
            match r.get(k) {
                None => Some(here),
                Some(rv) => first_unread(v, rv, &here),
            }
        }),
        (Value::Array(g), Value::Array(r)) => {
            g.iter().zip(r).enumerate().find_map(|(i, (gv, rv))| first_unread(gv, rv, &format!("{path}[{i}]")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod strict_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_field_the_type_does_not_read_is_named() {
        let ok: promo_engine::DiscountDef =
            read_strictly(&json!({"type": "AMOUNT", "amount_off": 5, "units": null}), "discount").unwrap();
        assert_eq!(ok.amount_off, Some(5));
        let e = read_strictly::<promo_engine::DiscountDef>(
            &json!({"type": "UNIT", "units": [{"unit_off": 1, "product": {"id": "p", "colour": "red"}}]}),
            "discount",
        )
        .unwrap_err();
        assert!(e.details_text().contains(".discount.units[0].product.colour"), "{}", e.details_text());
    }
}

/// An ISO 8601 duration of weeks, days, hours, minutes and seconds (`P24D`, `PT1H30M`,
/// `P1DT12H`, `P2W`); years and months are refused, as their length depends on the date.
pub fn iso_duration(s: &str) -> Option<chrono::Duration> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total = chrono::Duration::zero();
    let mut any = false;
    let mut read = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut number = String::new();
        let mut allowed = units;
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let at = allowed.iter().position(|(u, _)| *u == c)?;
            let n: i64 = number.parse().ok().filter(|_| number.len() <= 9)?;
            total = total.checked_add(&chrono::Duration::seconds(n.checked_mul(allowed[at].1)?))?;
            allowed = &allowed[at + 1..];
            number.clear();
            any = true;
        }
        number.is_empty().then_some(())
    };
    read(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    if let Some(t) = time {
        read(t, &[('H', 3_600), ('M', 60), ('S', 1)])?;
    }
    (any && total > chrono::Duration::zero()).then_some(total)
}

#[cfg(test)]
mod duration_tests {
    use super::iso_duration;

    #[test]
    fn iso_durations() {
        let secs = |s: &str| iso_duration(s).map(|d| d.num_seconds());
        assert_eq!(secs("P24D"), Some(24 * 86_400));
        assert_eq!(secs("PT1H30M"), Some(5_400));
        assert_eq!(secs("P1DT12H"), Some(129_600));
        assert_eq!(secs("P2W"), Some(14 * 86_400));
        for bad in ["", "P", "PT", "P1Y", "P1M", "24D", "P1H", "PT1D", "P1D2W", "P-1D", "P0D", "P9999999999D"] {
            assert_eq!(secs(bad), None, "{bad}");
        }
    }
}
