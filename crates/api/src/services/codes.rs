//! Codes: `code_config` patterns, bulk generation and imports. Large jobs run as async actions
//! (see `jobs`), a batch per transaction, so memory stays constant and a restart resumes.

use crate::error::ApiError;
use crate::error::invalid;
use crate::wire::code_key;
use serde_json::{Value, json};
use uuid::Uuid;

/// Most codes generated in the request that asks for them; more run as an async action.
pub const MAX_SYNC_CODES: i64 = 1000;
/// Most codes one async generation makes.
pub const MAX_ASYNC_CODES: i64 = 10_000_000;
const DEFAULT_CHARSET: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// A `code_config`, checked, with Voucherify's defaults filled in.
#[derive(Debug, Clone)]
pub struct CodeConfig {
    charset: Vec<char>,
    prefix: String,
    postfix: String,
    pattern: String,
}

impl CodeConfig {
    pub fn parse(v: Option<&Value>, path: &str) -> Result<CodeConfig, ApiError> {
        let get = |k: &str| v.and_then(|c| c.get(k));
        let text = |k: &str| get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut charset: Vec<char> =
            get("charset").and_then(Value::as_str).unwrap_or(DEFAULT_CHARSET).chars().collect();
        charset.sort_unstable();
        charset.dedup();
        if charset.is_empty() || charset.iter().any(|c| c.is_whitespace() || *c == '#') {
            return Err(invalid(format!("Property .{path}.charset must hold printable characters other than #")));
        }
        let length = get("length").map(|l| {
            l.as_i64()
                .filter(|l| (1..=64).contains(l))
                .ok_or_else(|| invalid(format!("Property .{path}.length must be within 1..=64")))
        });
        let pattern = match (get("pattern").and_then(Value::as_str), length.transpose()?) {
            (Some(p), _) if p.contains('#') && p.len() <= 100 => p.to_owned(),
            (Some(_), _) => {
                return Err(invalid(format!("Property .{path}.pattern must contain # and be at most 100 characters")));
            }
            (None, Some(l)) => "#".repeat(l as usize),
            (None, None) => "#".repeat(8),
        };
        Ok(CodeConfig { charset, prefix: text("prefix"), postfix: text("postfix"), pattern })
    }

    /// How many different codes the pattern can make (saturating): as the project compares
    /// codes, so `a` and `A` are one character unless codes are case sensitive.
    pub fn space(&self, case_sensitive: bool) -> u128 {
        let slots = self.pattern.chars().filter(|c| *c == '#').count() as u32;
        let mut distinct: Vec<String> = self
            .charset
            .iter()
            .map(|c| if case_sensitive { c.to_string() } else { c.to_uppercase().collect() })
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        (distinct.len() as u128).checked_pow(slots).unwrap_or(u128::MAX)
    }

    /// Refuses a count the pattern cannot make comfortably: random codes need a space at least
    /// twice the count, or the last ones would take ever more attempts.
    pub fn check_room(&self, count: i64, case_sensitive: bool, path: &str) -> Result<(), ApiError> {
        let space = self.space(case_sensitive);
        if space < u128::from(count.unsigned_abs()) * 2 {
            return Err(invalid(format!(
                "Property .{path} can make only {space} different codes; {count} were asked for (the pattern needs room for at least twice as many)"
            )));
        }
        Ok(())
    }

    pub fn generate(&self) -> String {
        let mut bytes = Vec::new();
        self.generate_with(&mut bytes)
    }

    /// A random code; `bytes` is a pool of random bytes refilled as needed.
    pub fn generate_with(&self, bytes: &mut Vec<u8>) -> String {
        let mut out = self.prefix.clone();
        for c in self.pattern.chars() {
            if c != '#' {
                out.push(c);
                continue;
            }
            // Rejection sampling keeps every character equally likely.
            let n = self.charset.len();
            let limit = 256 - 256 % n;
            loop {
                if bytes.is_empty() {
                    for _ in 0..4 {
                        bytes.extend_from_slice(&Uuid::new_v4().into_bytes());
                    }
                }
                let b = usize::from(bytes.pop().unwrap_or(0));
                if b < limit {
                    out.push(self.charset[b % n]);
                    break;
                }
            }
        }
        out.push_str(&self.postfix);
        out
    }

    pub fn to_json(&self) -> Value {
        json!({"charset": self.charset.iter().collect::<String>(), "prefix": self.prefix, "postfix": self.postfix, "pattern": self.pattern,
               "length": self.pattern.chars().filter(|c| *c == '#').count()})
    }
}

/// The key a code is unique by in the project.
pub fn check_code(code: &str) -> Result<(), ApiError> {
    if code.is_empty()
        || code.chars().count() > 100
        || code.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err(invalid("Property .code must be 1 to 100 characters without spaces or slashes"));
    }
    Ok(())
}

/// Codes a generation or import writes per transaction.
pub const BATCH: usize = 5_000;

/// A batch of `n` fresh random codes, distinct within the batch (the database decides against
/// existing codes).
pub fn generate_batch(config: &CodeConfig, n: usize, case_sensitive: bool) -> (Vec<String>, Vec<String>) {
    let mut bytes = Vec::with_capacity(64);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let (mut codes, mut keys) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // Bounded: a space twice the count (checked up front) makes repeats rare.
    for _ in 0..n * 4 {
        if codes.len() == n {
            break;
        }
        let code = config.generate_with(&mut bytes);
        let key = code_key(&code, case_sensitive);
        if seen.insert(key.clone()) {
            codes.push(code);
            keys.push(key);
        }
    }
    (codes, keys)
}

/// One row of an import, as checked: the code and the voucher document it gets.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// 1-based position in the file.
    pub row: usize,
    pub code: String,
    pub key: String,
    pub active: bool,
    pub doc: Value,
}

/// A row that cannot be imported, 1-based as a person counts rows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RowError {
    pub row: usize,
    pub code: Option<String>,
    pub message: String,
}

/// Checks import rows against a voucher template (a campaign's, or none for standalone
/// codes): codes well formed and unique within the file, fields valid. Duplicates of existing
/// codes are found by the job against the database.
pub fn check_import_rows(
    rows: &[Value],
    template: Option<&serde_json::Map<String, Value>>,
    case_sensitive: bool,
) -> (Vec<ImportRow>, Vec<RowError>) {
    let mut ok = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    let mut first_row_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, raw) in rows.iter().enumerate() {
        let n = i + 1;
        let fields = match raw {
            Value::Object(m) => m,
            _ => {
                errors.push(RowError { row: n, code: None, message: "a row must be an object".into() });
                continue;
            }
        };
        let code = fields.get("code").and_then(Value::as_str).map(str::to_owned);
        let fail = |message: String| RowError { row: n, code: code.clone(), message };
        if let Some(e) = fields.get("__error").and_then(Value::as_str) {
            errors.push(fail(e.to_owned()));
            continue;
        }
        let Some(code_text) = code.clone() else {
            errors.push(fail("code is required".into()));
            continue;
        };
        if let Err(e) = check_code(&code_text) {
            errors.push(fail(e.details_text()));
            continue;
        }
        let key = code_key(&code_text, case_sensitive);
        if let Some(first) = first_row_of.get(&key) {
            errors.push(fail(format!("duplicates the code of row {first}")));
            continue;
        }
        first_row_of.insert(key.clone(), n);
        let mut merged = template.cloned().unwrap_or_default();
        merged.remove("code_config");
        for (k, v) in fields {
            if !["code", "active", "campaign", "campaign_id", "category", "category_id"].contains(&k.as_str()) {
                merged.insert(k.clone(), v.clone());
            }
        }
        let active = match fields.get("active") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                errors.push(fail("active must be a boolean".into()));
                continue;
            }
        };
        match crate::services::vouchers::voucher_doc(&merged, "") {
            Ok(doc) => ok.push(ImportRow { row: n, code: code_text, key, active, doc: Value::Object(doc) }),
            Err(e) => errors.push(fail(e.details_text())),
        }
    }
    (ok, errors)
}

/// Rows of a CSV import as JSON objects: columns named as Voucherify's export names them (case,
/// spaces and dashes ignored): `code`, `redemption_limit` / `redemption_quantity` / `quantity`,
/// `active`, `start_date`, `expiration_date`, `additional_info`, `discount_type` with `value`
/// (`amount_off`, `percent_off` or `fixed_amount` by type, minor units for money),
/// `amount_limit`, `effect`; `metadata.x` or any other column becomes metadata `x`. A malformed
/// record becomes a row that reports its error.
pub fn csv_rows(text: &[u8]) -> Result<Vec<Value>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("the CSV header cannot be read: {e}"))?
        .iter()
        .map(|h| h.trim().to_lowercase().replace([' ', '-'], "_"))
        .collect();
    if headers.iter().any(|h| h.contains('\0')) {
        return Err("the CSV header must not contain NUL characters".into());
    }
    if !headers.iter().any(|h| h == "code") {
        return Err("the CSV needs a `code` column".into());
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push(json!({"__error": format!("malformed CSV record: {e}")}));
                continue;
            }
        };
        let row = csv_row(&headers, &record);
        // the same edge checks as a JSON body (NUL characters, numbers, metadata limits)
        match crate::hygiene::check_body(&row) {
            Ok(()) => rows.push(row),
            Err(e) => rows.push(json!({"__error": e.details_text()})),
        }
    }
    Ok(rows)
}

fn csv_row(headers: &[String], record: &csv::StringRecord) -> Value {
    let mut row = serde_json::Map::new();
    let mut metadata = serde_json::Map::new();
    let mut discount = serde_json::Map::new();
    let mut value = None;
    let number = |s: &str| -> Value {
        s.parse::<i64>()
            .map(Value::from)
            .or_else(|_| s.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(s.to_owned()))
    };
    for (h, cell) in headers.iter().zip(record.iter()) {
        if cell.is_empty() {
            continue;
        }
        match h.as_str() {
            "code" | "start_date" | "expiration_date" | "additional_info" => {
                row.insert(h.clone(), json!(cell));
            }
            "redemption_limit" | "redemption_quantity" | "quantity" => {
                row.insert("redemption".into(), json!({"quantity": number(cell)}));
            }
            "active" => {
                let b = match cell.to_lowercase().as_str() {
                    "true" | "1" | "yes" => json!(true),
                    "false" | "0" | "no" => json!(false),
                    _ => json!(cell),
                };
                row.insert("active".into(), b);
            }
            "discount_type" | "type" => {
                discount.insert("type".into(), json!(cell.to_uppercase()));
            }
            "value" | "discount_value" => value = Some(number(cell)),
            "amount_limit" | "discount_amount_limit" => {
                discount.insert("amount_limit".into(), number(cell));
            }
            "effect" | "discount_effect" => {
                discount.insert("effect".into(), json!(cell));
            }
            other => {
                metadata.insert(other.strip_prefix("metadata.").unwrap_or(other).to_owned(), json!(cell));
            }
        }
    }
    if let Some(v) = value {
        let field = match discount.get("type").and_then(Value::as_str) {
            Some("PERCENT") => "percent_off",
            Some("FIXED") => "fixed_amount",
            Some("UNIT") => "unit_off",
            _ => "amount_off",
        };
        discount.entry("type").or_insert(json!("AMOUNT"));
        discount.insert(field.into(), v);
    }
    if !discount.is_empty() {
        row.insert("discount".into(), Value::Object(discount));
    }
    if !metadata.is_empty() {
        row.insert("metadata".into(), Value::Object(metadata));
    }
    Value::Object(row)
}

/// Generates up to `n` codes into the campaign in one statement; returns how many were new (a
/// code that exists in the project is skipped, and the caller asks again for the rest).
pub async fn insert_generated(
    db: &mut promo_store::PgConnection,
    project: promo_store::ProjectId,
    campaign: Uuid,
    holder: Option<Uuid>,
    (config, case_sensitive): (&CodeConfig, bool),
    n: usize,
    doc: &Value,
) -> Result<Vec<String>, ApiError> {
    let (codes, keys) = generate_batch(config, n, case_sensitive);
    let ids: Vec<Uuid> = codes.iter().map(|_| promo_store::new_id()).collect();
    let docs = std::slice::from_ref(doc);
    let new = promo_store::campaigns::NewCodes { ids: &ids, codes: &codes, keys: &keys, docs, active: &[] };
    Ok(promo_store::campaigns::insert_codes(&mut *db, project, Some(campaign), holder, new).await?)
}

/// Generates exactly `count` codes now (a request's worth, up to [`MAX_SYNC_CODES`]).
pub async fn generate_now(
    db: &mut promo_store::PgConnection,
    project: promo_store::ProjectId,
    campaign: Uuid,
    holder: Option<Uuid>,
    config: (&CodeConfig, bool),
    count: usize,
    doc: &Value,
) -> Result<Vec<String>, ApiError> {
    let mut made = Vec::with_capacity(count);
    // Each round fills most of what is left (the space is at least twice the count). Codes that
    // exist already may fill most of the space: with 9 of 10 taken a round finds the last free
    // one 1 time in 10, so 64 rounds failed about once in 900 runs; 256 fail once in 10^11.
    for _ in 0..256 {
        if made.len() >= count {
            return Ok(made);
        }
        made.extend(insert_generated(&mut *db, project, campaign, holder, config, count - made.len(), doc).await?);
    }
    Err(invalid("Property .code_config makes too many codes that already exist; widen its pattern"))
}
