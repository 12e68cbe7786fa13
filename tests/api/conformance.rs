//! Every response the HTTP tests see is checked against the served OpenAPI document: a 2xx JSON
//! body must match the schema documented for its operation and status — types, required
//! properties, enums, date-time formats, and no property the schema does not list (a generated client would not
//! see it). The checker knows the subset of JSON Schema utoipa emits.

use serde_json::{Map, Value};
use std::sync::OnceLock;

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(promo_api::openapi()).expect("openapi as json"))
}

/// The documented operation for a concrete path: literal segments beat templated ones.
fn operation<'d>(doc: &'d Value, method: &str, path: &str) -> Option<(&'d str, &'d Value)> {
    let segments: Vec<&str> = path.split('?').next().unwrap_or(path).trim_end_matches('/').split('/').collect();
    let mut best: Option<(usize, &str, &Value)> = None;
    for (template, item) in doc["paths"].as_object()? {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let matches = parts.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') {
                true
            } else {
                literal += 1;
                t == s
            }
        });
        let Some(op) = item.get(method.to_ascii_lowercase()) else { continue };
        if matches && best.is_none_or(|(l, _, _)| literal > l) {
            best = Some((literal, template.as_str(), op));
        }
    }
    best.map(|(_, t, op)| (t, op))
}

/// Checks a response; returns the mismatches (empty when it conforms or is not a documented
/// JSON 2xx).
pub fn check(method: &str, path: &str, status: u16, content_type: Option<&str>, body: &[u8]) -> Vec<String> {
    if !(200..300).contains(&status) || !content_type.is_some_and(|c| c.starts_with("application/json")) {
        return Vec::new();
    }
    let doc = document();
    let Some((template, op)) = operation(doc, method, path) else {
        // the document itself and the docs page are not operations of the API
        let bare_path = path.split('?').next().unwrap_or(path);
        if ["/openapi.json", "/docs", "/metrics"].contains(&bare_path) {
            return Vec::new();
        }
        return vec![format!("{method} {path}: no documented operation")];
    };
    let Some(schema) = op["responses"][status.to_string()]["content"]["application/json"].get("schema") else {
        return vec![format!("{method} {template}: status {status} with a JSON body is not documented")];
    };
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return vec![format!("{method} {template}: the body is not JSON")];
    };
    let mut errors = Vec::new();
    validate(doc, schema, &value, "$", &mut errors);
    errors.into_iter().map(|e| format!("{method} {template} {status}: {e}")).collect()
}

fn resolve<'d>(doc: &'d Value, schema: &'d Value) -> &'d Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

fn validate(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        // the parts together describe one object: merge their properties and requirements
        let mut merged = Map::new();
        let (mut properties, mut required) = (Map::new(), Vec::new());
        for part in all {
            let part = resolve(doc, part);
            if let Some(p) = part.get("properties").and_then(Value::as_object) {
                properties.extend(p.clone());
            }
            required.extend(part.get("required").and_then(Value::as_array).cloned().unwrap_or_default());
            if let Some(t) = part.get("type") {
                merged.insert("type".into(), t.clone());
            }
        }
        merged.insert("properties".into(), Value::Object(properties));
        merged.insert("required".into(), Value::Array(required));
        return validate(doc, &Value::Object(merged), v, at, errors);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fits = options.iter().any(|s| {
                let mut e = Vec::new();
                validate(doc, s, v, at, &mut e);
                e.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: {v} fits none of the {key} options"));
                return;
            }
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_matches(t, v) => {
            errors.push(format!("{at}: expected {t}, got {}", short(v)));
            return;
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| t.as_str().is_some_and(|t| type_matches(t, v))) => {
            errors.push(format!("{at}: expected one of {}, got {}", Value::Array(ts.clone()), short(v)));
            return;
        }
        _ => {}
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(v)
    {
        errors.push(format!("{at}: {} is not one of {}", short(v), Value::Array(options.clone())));
    }
    // a `date-time` reads as RFC 3339 (what a generated client parses it with)
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && let Some(text) = v.as_str()
        && chrono::DateTime::parse_from_rfc3339(text).is_err()
    {
        errors.push(format!("{at}: {} is not an RFC 3339 date-time", short(v)));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        errors.push(format!("{at}: {} is not {c}", short(v)));
    }
    if let (Some(items), Value::Array(values)) = (schema.get("items"), v) {
        for (i, item) in values.iter().enumerate() {
            validate(doc, items, item, &format!("{at}[{i}]"), errors);
        }
    }
    if let Value::Object(map) = v {
        object(doc, schema, map, at, errors);
    }
}

fn object(doc: &Value, schema: &Value, map: &Map<String, Value>, at: &str, errors: &mut Vec<String>) {
    let properties = schema.get("properties").and_then(Value::as_object);
    for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        if let Some(name) = name.as_str()
            && !map.contains_key(name)
        {
            errors.push(format!("{at}: required property `{name}` is missing"));
        }
    }
    let extra = schema.get("additionalProperties");
    // a schema that only combines others (allOf / oneOf) lets them judge the properties
    let combines = schema.get("allOf").is_some() || schema.get("oneOf").is_some() || schema.get("anyOf").is_some();
    for (name, value) in map {
        let path = format!("{at}.{name}");
        match (properties.and_then(|p| p.get(name)), extra) {
            (Some(s), _) => validate(doc, s, value, &path, errors),
            (None, Some(Value::Bool(false))) => errors.push(format!("{path}: not allowed")),
            (None, Some(s)) if s.is_object() => validate(doc, s, value, &path, errors),
            (None, Some(_)) => {}
            (None, None) if properties.is_some() && !combines => {
                errors.push(format!("{path}: undocumented property ({})", short(value)))
            }
            (None, None) => {}
        }
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 { format!("{}…", &s[..s.char_indices().nth(77).map_or(s.len(), |(i, _)| i)]) } else { s }
}

/// Panics on a response that does not match its documented schema.
#[track_caller]
pub fn assert_conforms(method: &str, path: &str, status: u16, content_type: Option<&str>, body: &[u8]) {
    if std::env::var_os("PROMO_SAMPLES").is_some() {
        return sample(method, path, status, "response", body);
    }
    let errors = check(method, path, status, content_type, body);
    assert!(
        errors.is_empty(),
        "the response does not match the served OpenAPI document:\n{}\nbody: {}",
        errors.join("\n"),
        String::from_utf8_lossy(body)
    );
}

#[test]
fn the_checker_finds_mismatches() {
    // guards the checker itself against a document it would wave through
    let ok = br#"{"status": "ok"}"#;
    assert!(check("GET", "/health/live", 200, Some("application/json"), ok).is_empty());
    let wrong_type = br#"{"status": 1}"#;
    assert!(!check("GET", "/health/live", 200, Some("application/json"), wrong_type).is_empty());
    let missing = br#"{}"#;
    assert!(!check("GET", "/health/live", 200, Some("application/json"), missing).is_empty());
    let extra = br#"{"status": "ok", "surprise": true}"#;
    assert!(!check("GET", "/health/live", 200, Some("application/json"), extra).is_empty());
    assert!(check("GET", "/health/live", 404, Some("application/json"), b"{}").is_empty());
}

/// What a generated client could not learn from the document: request bodies and 2xx responses
/// that are bare objects (no properties), their list items, and query parameters declared in the
/// path. Free-form objects are allowed only under the property names listed here.
const FREE_FORM: &[(&str, &str)] = &[
    ("metadata", "the marketer's own keys"),
    ("filter", "a segment or collection filter: a tree of conditions keyed by field names"),
    ("conditions", "rule conditions keyed by operator ($is, $more_than, ...)"),
    ("rules", "validation rules keyed by their position (\"1\", \"2\", ...)"),
    ("address", "a postal address as the shop sends it"),
    ("payload", "a webhook event's payload: the object the event is about"),
    ("filters", "qualification filters: a junction and fields with conditions, like `filter`"),
    ("before", "an audit entry's object as its GET answered before the write: any kind of object"),
    ("after", "an audit entry's object as its GET answered after the write: any kind of object"),
    ("bundle_rules", "bundle items keyed by their position (\"1\", \"2\", ...) and a limit, like `rules`"),
];

fn bare(doc: &Value, schema: &Value) -> bool {
    let s = resolve(doc, schema);
    let is_object =
        s.get("type").is_some_and(|t| t == "object" || t.as_array().is_some_and(|a| a.contains(&"object".into())));
    let described =
        ["properties", "additionalProperties", "allOf", "oneOf", "anyOf", "$ref"].iter().any(|k| s.get(*k).is_some());
    (is_object && !described) || s.as_object().is_some_and(Map::is_empty)
}

/// Bare schemas among a body's direct properties and list items.
fn bare_parts(doc: &Value, schema: &Value, at: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 3 {
        return;
    }
    let s = resolve(doc, schema);
    if bare(doc, s) {
        out.push(at.to_owned());
        return;
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for (i, part) in s.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            if !part.get("type").is_some_and(|t| t == "null") {
                bare_parts(doc, part, &format!("{at}<{key}{i}>"), out, depth + 1);
            }
        }
    }
    if let Some(items) = s.get("items") {
        bare_parts(doc, items, &format!("{at}[]"), out, depth + 1);
    }
    for (name, p) in s.get("properties").and_then(Value::as_object).into_iter().flatten() {
        if FREE_FORM.iter().any(|(n, _)| n == name) {
            continue;
        }
        bare_parts(doc, p, &format!("{at}.{name}"), out, depth + 1);
    }
}

#[test]
fn the_openapi_document_describes_every_body_and_parameter() {
    let doc = document();
    let mut offenders = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let name = format!("{} {path}", method.to_uppercase());
            for (ct, c) in op["requestBody"]["content"].as_object().into_iter().flatten() {
                if ct.contains("json") {
                    bare_parts(doc, &c["schema"], &format!("{name} request"), &mut offenders, 0);
                }
            }
            for (status, r) in op["responses"].as_object().into_iter().flatten() {
                if !status.starts_with('2') {
                    continue;
                }
                for (ct, c) in r["content"].as_object().into_iter().flatten() {
                    if ct.contains("json") {
                        bare_parts(doc, &c["schema"], &format!("{name} {status}"), &mut offenders, 0);
                    }
                }
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                let pname = p["name"].as_str().unwrap_or_default();
                if p["in"] == "path" && !path.contains(&format!("{{{pname}}}")) {
                    offenders
                        .push(format!("{name}: `{pname}` is declared in the path but the path has no such segment"));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "{} undescribed bodies or misplaced parameters:\n{}",
        offenders.len(),
        offenders.join("\n")
    );
}

/// With `PROMO_SAMPLES=file`, appends what the tests sent and got (one JSON line each), for
/// writing schemas from real traffic.
pub fn sample(method: &str, path: &str, status: u16, kind: &str, body: &[u8]) {
    let Ok(file) = std::env::var("PROMO_SAMPLES") else { return };
    let Some((template, _)) = operation(document(), method, path) else { return };
    let Ok(body) = serde_json::from_slice::<Value>(body) else { return };
    let line = serde_json::json!({"op": format!("{method} {template}"), "status": status, "kind": kind, "body": body});
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(file) {
        let _ = writeln!(f, "{line}");
    }
}
