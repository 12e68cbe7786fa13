//! JSON columns (`json` and `jsonb`) that always read back. PostgreSQL keeps numbers exactly,
//! so a number written before the API bounded them (or by hand) can be beyond what a double
//! holds (`1e400`); serde_json refuses such a document, and one row would take down every list
//! and checkout that reads it. Here such numbers read as `null`, with a warning (a decoder does
//! not know its row), so the object stays readable, fixable and deletable through the API.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

/// A JSON column; a drop-in for `sqlx::types::Json` with a tolerant decode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T> Type<Postgres> for Json<T> {
    fn type_info() -> PgTypeInfo {
        <sqlx::types::Json<T> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <sqlx::types::Json<T> as Type<Postgres>>::compatible(ty)
    }
}

impl<T> PgHasArrayType for Json<T> {
    fn array_type_info() -> PgTypeInfo {
        <sqlx::types::Json<T> as PgHasArrayType>::array_type_info()
    }

    fn array_compatible(ty: &PgTypeInfo) -> bool {
        <sqlx::types::Json<T> as PgHasArrayType>::array_compatible(ty)
    }
}

impl<'q, T: Serialize> Encode<'q, Postgres> for Json<T> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <sqlx::types::Json<&T> as Encode<'q, Postgres>>::encode_by_ref(&sqlx::types::Json(&self.0), buf)
    }
}

impl<'r, T: DeserializeOwned> Decode<'r, Postgres> for Json<T> {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let binary = value.format() == PgValueFormat::Binary;
        let mut text = value.as_bytes()?;
        // binary jsonb starts with its format version (1); JSON text never starts with byte 1
        if binary && let Some((1, rest)) = text.split_first() {
            text = rest;
        }
        match serde_json::from_slice(text) {
            Ok(v) => Ok(Json(v)),
            Err(first) => {
                let Some(repaired) = nulls_for_unreadable_numbers(text) else { return Err(first.into()) };
                tracing::warn!(error = %first, "a stored JSON document holds numbers beyond a double; they read as null");
                serde_json::from_slice(&repaired).map(Json).map_err(|_| first.into())
            }
        }
    }
}

/// The document with every number token serde_json cannot read replaced by `null`; `None` when
/// there is none.
fn nulls_for_unreadable_numbers(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut changed = false;
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
        } else if b == b'-' || b.is_ascii_digit() {
            let end = text[i..]
                .iter()
                .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .map_or(text.len(), |n| i + n);
            let token = std::str::from_utf8(&text[i..end]).unwrap_or_default();
            // serde_json's own reading decides (it refuses some integers a double could hold)
            if serde_json::from_str::<serde_json::Number>(token).is_ok() {
                out.extend_from_slice(&text[i..end]);
            } else {
                out.extend_from_slice(b"null");
                changed = true;
            }
            i = end;
            continue;
        }
        out.push(b);
        i += 1;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::nulls_for_unreadable_numbers;

    #[test]
    fn numbers_beyond_a_double_become_null_and_nothing_else_changes() {
        let text = br#"{"a": 1e400, "b": "1e400 \" 2e999", "c": [-1e999, 12.5, 3], "d": 179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000}"#;
        let fixed = String::from_utf8(nulls_for_unreadable_numbers(text).unwrap()).unwrap();
        assert!(fixed.starts_with(r#"{"a": null, "b": "1e400 \" 2e999", "c": [null, 12.5, 3], "d": "#), "{fixed}");
        assert!(fixed.ends_with(r#""d": null}"#), "serde_json refuses this 309-digit integer: {fixed}");
        let _: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        assert!(nulls_for_unreadable_numbers(br#"{"a": 1}"#).is_none());
    }
}
