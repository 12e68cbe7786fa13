//! Conditions (`{"$more_than": [5000]}`) compiled once, tested many times, and able to say how
//! far a failing numeric value is from passing.

use crate::error::{DefinitionError, DefinitionErrorKind};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::Value;
use std::borrow::Cow;
use std::str::FromStr;

/// A condition operator (reference §9.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Is,
    IsNot,
    In,
    NotIn,
    LessThan,
    LessThanOrEqual,
    MoreThan,
    MoreThanOrEqual,
    StartsWith,
    EndsWith,
    Contains,
    NotContain,
    HasValue,
    IsUnknown,
    Before,
    After,
    From,
    Timeframe,
    TimeframeDailyHours,
    Dow,
    Count,
    CountMore,
    CountLess,
    NotDiffer,
    NotIntersect,
    MoreThanAgo,
    LessThanAgo,
    IsDaysAgo,
    MoreThanFuture,
    LessThanFuture,
    IsDaysInFuture,
}

impl Op {
    /// Parses `$more_than` and friends, including the spellings the list filters use.
    pub fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "$is" => Op::Is,
            "$is_not" => Op::IsNot,
            "$in" | "$one_of_voucherify_conditions" => Op::In,
            "$not_in" => Op::NotIn,
            "$less_than" => Op::LessThan,
            "$less_than_or_equal" | "$less_than_equal" => Op::LessThanOrEqual,
            "$more_than" | "$greater_than" => Op::MoreThan,
            "$more_than_or_equal" | "$more_than_equal" | "$greater_than_or_equal" => Op::MoreThanOrEqual,
            "$starts_with" => Op::StartsWith,
            "$ends_with" => Op::EndsWith,
            "$contains" => Op::Contains,
            "$not_contain" => Op::NotContain,
            "$has_value" => Op::HasValue,
            "$is_unknown" => Op::IsUnknown,
            "$before" => Op::Before,
            "$after" => Op::After,
            "$from" => Op::From,
            "$timeframe" | "$timeframe_absolute" => Op::Timeframe,
            "$timeframe_daily_hours" => Op::TimeframeDailyHours,
            "$dow" => Op::Dow,
            "$count" => Op::Count,
            "$count_more" => Op::CountMore,
            "$count_less" => Op::CountLess,
            "$not_differ" => Op::NotDiffer,
            "$not_intersect" => Op::NotIntersect,
            "$more_than_ago" => Op::MoreThanAgo,
            "$less_than_ago" => Op::LessThanAgo,
            "$is_days_ago" => Op::IsDaysAgo,
            "$more_than_future" => Op::MoreThanFuture,
            "$less_than_future" => Op::LessThanFuture,
            "$is_days_in_future" => Op::IsDaysInFuture,
            _ => return None,
        })
    }

    fn needs_number(self) -> bool {
        matches!(
            self,
            Op::LessThan
                | Op::LessThanOrEqual
                | Op::MoreThan
                | Op::MoreThanOrEqual
                | Op::Count
                | Op::CountMore
                | Op::CountLess
                | Op::MoreThanAgo
                | Op::LessThanAgo
                | Op::IsDaysAgo
                | Op::MoreThanFuture
                | Op::LessThanFuture
                | Op::IsDaysInFuture
        )
    }

    fn needs_date(self) -> bool {
        matches!(self, Op::Before | Op::After | Op::From | Op::Timeframe)
    }
}

/// One value of a condition, pre-parsed in every form it may be compared in.
#[derive(Debug, Clone, PartialEq)]
pub struct CondValue {
    pub raw: Value,
    pub text: String,
    pub num: Option<Decimal>,
    pub date: Option<DateTime<Utc>>,
}

impl CondValue {
    fn new(raw: &Value) -> Self {
        let text = match raw {
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("id")
                .and_then(Value::as_str)
                .or_else(|| o.get("source_id").and_then(Value::as_str))
                .unwrap_or_default()
                .to_owned(),
            other => other.to_string(),
        };
        let num = match raw {
            Value::Number(n) => {
                Decimal::from_str(&n.to_string()).ok().or_else(|| n.as_f64().and_then(|f| Decimal::try_from(f).ok()))
            }
            Value::String(s) => Decimal::from_str(s.trim()).ok(),
            _ => None,
        };
        let date = match raw {
            Value::String(s) => parse_date(s),
            _ => None,
        };
        Self { raw: raw.clone(), text, num, date }
    }
}

/// Parses RFC 3339 timestamps and plain `YYYY-MM-DD` dates (as midnight UTC).
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s.trim()) {
        return Some(d.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| Utc.from_utc_datetime(&dt))
}

/// A value a condition is tested against.
#[derive(Debug, Clone)]
pub enum Operand<'a> {
    Missing,
    Num(Decimal),
    Text(Cow<'a, str>),
    Bool(bool),
    Date(DateTime<Utc>),
    List(Vec<Cow<'a, str>>),
}

impl<'a> Operand<'a> {
    /// Reads a JSON value (metadata) as an operand.
    pub fn from_json(v: Option<&'a Value>) -> Operand<'a> {
        match v {
            None | Some(Value::Null) => Operand::Missing,
            Some(Value::Bool(b)) => Operand::Bool(*b),
            Some(Value::Number(n)) => Decimal::from_str(&n.to_string()).map(Operand::Num).unwrap_or(Operand::Missing),
            Some(Value::String(s)) => Operand::Text(Cow::Borrowed(s.as_str())),
            Some(Value::Array(a)) => Operand::List(
                a.iter()
                    .map(|x| match x {
                        Value::String(s) => Cow::Borrowed(s.as_str()),
                        other => Cow::Owned(other.to_string()),
                    })
                    .collect(),
            ),
            Some(other @ Value::Object(_)) => Operand::Text(Cow::Owned(other.to_string())),
        }
    }

    fn as_num(&self) -> Option<Decimal> {
        match self {
            Operand::Num(n) => Some(*n),
            Operand::Text(t) => Decimal::from_str(t.trim()).ok(),
            Operand::List(l) => Some(Decimal::from(l.len())),
            _ => None,
        }
    }

    fn as_date(&self) -> Option<DateTime<Utc>> {
        match self {
            Operand::Date(d) => Some(*d),
            Operand::Text(t) => parse_date(t),
            _ => None,
        }
    }

    fn equals(&self, v: &CondValue) -> bool {
        match self {
            Operand::Missing => false,
            Operand::Num(n) => v.num == Some(*n),
            Operand::Bool(b) => matches!(v.raw, Value::Bool(x) if x == *b) || v.text == b.to_string(),
            Operand::Text(t) => t.as_ref() == v.text || (v.num.is_some() && Decimal::from_str(t.trim()).ok() == v.num),
            Operand::Date(d) => v.date == Some(*d),
            Operand::List(l) => l.iter().any(|x| x.as_ref() == v.text),
        }
    }

    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Operand::Text(t) => Some(Cow::Borrowed(t.as_ref())),
            Operand::Num(n) => Some(Cow::Owned(n.normalize().to_string())),
            Operand::Bool(b) => Some(Cow::Owned(b.to_string())),
            _ => None,
        }
    }

    pub fn is_present(&self) -> bool {
        match self {
            Operand::Missing => false,
            Operand::Text(t) => !t.is_empty(),
            Operand::List(l) => !l.is_empty(),
            _ => true,
        }
    }
}

/// Time facts a condition may need.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

/// One operator with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub op: Op,
    pub values: Vec<CondValue>,
}

impl Condition {
    fn first_num(&self) -> Option<Decimal> {
        self.values.first().and_then(|v| v.num)
    }

    fn days_between(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> i64 {
        (to.with_timezone(&tz).date_naive() - from.with_timezone(&tz).date_naive()).num_days()
    }

    /// Does the operand satisfy this condition?
    pub fn holds(&self, x: &Operand<'_>, clock: &Clock) -> bool {
        let num = || x.as_num();
        match self.op {
            Op::Is | Op::In => self.values.iter().any(|v| x.equals(v)),
            // a list (the customer's segments) holds none of the values even when it is empty:
            // a customer in no segment is not in the wholesale segment
            Op::IsNot | Op::NotIn => {
                (x.is_present() || matches!(x, Operand::List(_))) && !self.values.iter().any(|v| x.equals(v))
            }
            Op::LessThan => matches!((num(), self.first_num()), (Some(a), Some(b)) if a < b),
            Op::LessThanOrEqual => {
                matches!((num(), self.first_num()), (Some(a), Some(b)) if a <= b)
            }
            Op::MoreThan => matches!((num(), self.first_num()), (Some(a), Some(b)) if a > b),
            Op::MoreThanOrEqual => {
                matches!((num(), self.first_num()), (Some(a), Some(b)) if a >= b)
            }
            Op::StartsWith => x.text().is_some_and(|t| self.values.iter().any(|v| t.starts_with(v.text.as_str()))),
            Op::EndsWith => x.text().is_some_and(|t| self.values.iter().any(|v| t.ends_with(v.text.as_str()))),
            Op::Contains => match x {
                Operand::List(l) => self.values.iter().any(|v| l.iter().any(|e| e.as_ref() == v.text)),
                _ => x.text().is_some_and(|t| self.values.iter().any(|v| t.contains(v.text.as_str()))),
            },
            Op::NotContain => match x {
                Operand::List(l) => !self.values.iter().any(|v| l.iter().any(|e| e.as_ref() == v.text)),
                _ => x.text().is_some_and(|t| !self.values.iter().any(|v| t.contains(v.text.as_str()))),
            },
            Op::HasValue => x.is_present(),
            Op::IsUnknown => !x.is_present(),
            Op::Before => {
                matches!((x.as_date(), self.values.first().and_then(|v| v.date)), (Some(a), Some(b)) if a < b)
            }
            Op::After => {
                matches!((x.as_date(), self.values.first().and_then(|v| v.date)), (Some(a), Some(b)) if a > b)
            }
            Op::From => {
                matches!((x.as_date(), self.values.first().and_then(|v| v.date)), (Some(a), Some(b)) if a >= b)
            }
            Op::Timeframe => {
                match (x.as_date(), self.values.first().and_then(|v| v.date), self.values.get(1).and_then(|v| v.date)) {
                    (Some(a), Some(from), Some(to)) => a >= from && a < to,
                    _ => false,
                }
            }
            Op::TimeframeDailyHours => {
                let local = x.as_date().unwrap_or(clock.now).with_timezone(&clock.tz).time();
                let parse =
                    |i: usize| self.values.get(i).and_then(|v| NaiveTime::parse_from_str(&v.text, "%H:%M").ok());
                match (parse(0), parse(1)) {
                    (Some(s), Some(e)) if s <= e => local >= s && local < e,
                    (Some(s), Some(e)) => local >= s || local < e,
                    _ => false,
                }
            }
            Op::Dow => {
                let day = x.as_date().unwrap_or(clock.now).with_timezone(&clock.tz).weekday().num_days_from_sunday();
                self.values.iter().any(|v| v.num == Some(Decimal::from(day)))
            }
            Op::Count | Op::CountMore | Op::CountLess => {
                let count = match x {
                    Operand::List(l) => Decimal::from(l.len()),
                    Operand::Missing => Decimal::ZERO,
                    _ => Decimal::ONE,
                };
                match (self.op, self.first_num()) {
                    (Op::Count, Some(n)) => count == n,
                    (Op::CountMore, Some(n)) => count > n,
                    (Op::CountLess, Some(n)) => count < n,
                    _ => false,
                }
            }
            Op::NotDiffer => match x {
                Operand::List(l) => {
                    l.len() == self.values.len() && self.values.iter().all(|v| l.iter().any(|e| e.as_ref() == v.text))
                }
                _ => self.values.len() == 1 && x.equals(&self.values[0]),
            },
            Op::NotIntersect => !self.values.iter().any(|v| x.equals(v)),
            Op::MoreThanAgo | Op::LessThanAgo | Op::IsDaysAgo => match (x.as_date(), self.first_num()) {
                (Some(d), Some(n)) => {
                    let ago = Decimal::from(Self::days_between(d, clock.now, clock.tz));
                    match self.op {
                        Op::MoreThanAgo => ago > n,
                        Op::LessThanAgo => ago < n && ago >= Decimal::ZERO,
                        _ => ago == n,
                    }
                }
                _ => false,
            },
            Op::MoreThanFuture | Op::LessThanFuture | Op::IsDaysInFuture => match (x.as_date(), self.first_num()) {
                (Some(d), Some(n)) => {
                    let ahead = Decimal::from(Self::days_between(clock.now, d, clock.tz));
                    match self.op {
                        Op::MoreThanFuture => ahead > n,
                        Op::LessThanFuture => ahead < n && ahead >= Decimal::ZERO,
                        _ => ahead == n,
                    }
                }
                _ => false,
            },
        }
    }

    /// For a failing lower bound (`$more_than`, `$more_than_or_equal`): how much the value must
    /// grow, in whole units. `None` when growing cannot satisfy the condition.
    pub fn shortfall(&self, x: &Operand<'_>) -> Option<Decimal> {
        let bound = self.first_num()?;
        let have = x.as_num().unwrap_or(Decimal::ZERO);
        match self.op {
            Op::MoreThan => Some((bound.floor() + Decimal::ONE - have).max(Decimal::ZERO).ceil()),
            Op::MoreThanOrEqual => Some((bound - have).max(Decimal::ZERO).ceil()),
            _ => None,
        }
    }

    /// The largest value allowed by an upper bound, for counters a redemption consumes.
    pub fn upper_limit(&self) -> Option<Decimal> {
        let bound = self.first_num()?;
        match self.op {
            Op::LessThan => Some(bound.ceil() - Decimal::ONE),
            Op::LessThanOrEqual | Op::Is => Some(bound.floor()),
            _ => None,
        }
    }
}

/// All the operators of one `conditions` object; every one must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conditions(pub Vec<Condition>);

impl Conditions {
    /// Compiles a `conditions` object; `path` names it in errors.
    pub fn compile(value: &Value, path: &str) -> Result<Self, DefinitionError> {
        let obj = value.as_object().ok_or_else(|| {
            DefinitionError::new(path, DefinitionErrorKind::Invalid("conditions must be an object".into()))
        })?;
        let mut out = Vec::with_capacity(obj.len());
        for (name, raw) in obj {
            let op_path = format!("{path}.{name}");
            let op = Op::parse(name)
                .ok_or_else(|| DefinitionError::new(&op_path, DefinitionErrorKind::UnknownCondition(name.clone())))?;
            let values: Vec<CondValue> = match raw {
                Value::Array(a) => a.iter().map(CondValue::new).collect(),
                Value::Null => Vec::new(),
                single => vec![CondValue::new(single)],
            };
            let bad = |problem: &str| {
                DefinitionError::new(
                    &op_path,
                    DefinitionErrorKind::BadConditionValue { op: name.clone(), problem: problem.into() },
                )
            };
            if values.is_empty() && !matches!(op, Op::HasValue | Op::IsUnknown | Op::Dow) {
                return Err(bad("needs at least one value"));
            }
            if op.needs_number() && values.first().and_then(|v| v.num).is_none() {
                return Err(bad("needs a number"));
            }
            if op.needs_date() && values.first().and_then(|v| v.date).is_none() {
                return Err(bad("needs a date"));
            }
            if op == Op::Timeframe && values.get(1).and_then(|v| v.date).is_none() {
                return Err(bad("needs a start and an end date"));
            }
            out.push(Condition { op, values });
        }
        if out.is_empty() {
            return Err(DefinitionError::new(path, DefinitionErrorKind::NoConditions));
        }
        Ok(Conditions(out))
    }

    pub fn holds(&self, x: &Operand<'_>, clock: &Clock) -> bool {
        self.0.iter().all(|c| c.holds(x, clock))
    }

    /// How much a numeric operand must grow for every failing lower bound to pass; `None` if
    /// some failing condition cannot be fixed by growing.
    pub fn shortfall(&self, x: &Operand<'_>, clock: &Clock) -> Option<Decimal> {
        let mut need = Decimal::ZERO;
        for c in self.0.iter().filter(|c| !c.holds(x, clock)) {
            need = need.max(c.shortfall(x)?);
        }
        Some(need)
    }

    /// Whether every condition says what the value is not (`$is_not`, `$not_in`): such a rule
    /// holds for a value that is absent, where that is what the rule means.
    pub fn only_negations(&self) -> bool {
        !self.0.is_empty() && self.0.iter().all(|c| matches!(c.op, Op::IsNot | Op::NotIn))
    }

    /// The tightest upper bound among the conditions.
    pub fn upper_limit(&self) -> Option<Decimal> {
        self.0.iter().filter_map(Condition::upper_limit).min()
    }
}

/// A list filter as used by auto-update segments and collections:
/// `{"junction": "and", "metadata.brand": {"conditions": {"$is": ["X"]}}}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub any: bool,
    pub fields: Vec<(String, Conditions)>,
}

impl Filter {
    /// Whether a written filter's `junction` (if any) is `and` or `or`, in any case: checked on
    /// write only, so filters stored before still compile.
    pub fn junction_known(value: &Value) -> bool {
        value
            .get("junction")
            .is_none_or(|j| j.as_str().is_some_and(|j| j.eq_ignore_ascii_case("and") || j.eq_ignore_ascii_case("or")))
    }

    pub fn compile(value: &Value, path: &str) -> Result<Self, DefinitionError> {
        let obj = value.as_object().ok_or_else(|| {
            DefinitionError::new(path, DefinitionErrorKind::Invalid("filter must be an object".into()))
        })?;
        let mut filter = Filter::default();
        for (field, spec) in obj {
            if field == "junction" {
                // anything but "or" joins with "and" (writes refuse other values: `junction_known`;
                // a stored filter still compiles as it always did)
                filter.any = spec.as_str().is_some_and(|j| j.eq_ignore_ascii_case("or"));
                continue;
            }
            let field_path = format!("{path}.{field}");
            if let Some(k) = spec.as_object().and_then(|o| o.keys().find(|k| *k != "conditions")) {
                return Err(DefinitionError::new(
                    format!("{field_path}.{k}"),
                    DefinitionErrorKind::Invalid("a filter field has conditions only".into()),
                ));
            }
            let conditions = spec.get("conditions").ok_or_else(|| {
                DefinitionError::new(format!("{field_path}.conditions"), DefinitionErrorKind::Missing)
            })?;
            filter.fields.push((field.clone(), Conditions::compile(conditions, &format!("{field_path}.conditions"))?));
        }
        Ok(filter)
    }

    /// The fields the filter reads.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(f, _)| f.as_str())
    }

    /// Tests the filter, reading each field through `get`.
    pub fn matches<'a>(&self, get: impl Fn(&str) -> Operand<'a>, clock: &Clock) -> bool {
        if self.fields.is_empty() {
            return true;
        }
        let mut results = self.fields.iter().map(|(field, c)| c.holds(&get(field), clock));
        if self.any { results.any(|r| r) } else { results.all(|r| r) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn clock() -> Clock {
        Clock { now: Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(), tz: chrono_tz::UTC }
    }

    #[test]
    fn more_than_or_equal_reports_the_missing_amount() {
        let c = Conditions::compile(&json!({"$more_than_or_equal": [5000]}), "c").unwrap();
        let x = Operand::Num(dec!(3750));
        assert!(!c.holds(&x, &clock()));
        assert_eq!(c.shortfall(&x, &clock()), Some(dec!(1250)));
    }

    #[test]
    fn more_than_needs_one_unit_above_the_bound() {
        let c = Conditions::compile(&json!({"$more_than": [2]}), "c").unwrap();
        assert_eq!(c.shortfall(&Operand::Num(dec!(2)), &clock()), Some(dec!(1)));
    }

    #[test]
    fn less_than_gives_an_upper_limit_one_below() {
        let c = Conditions::compile(&json!({"$less_than": [3]}), "c").unwrap();
        assert_eq!(c.upper_limit(), Some(dec!(2)));
    }

    #[test]
    fn unknown_operator_is_rejected_with_its_path() {
        let err = Conditions::compile(&json!({"$bigger": [1]}), "rules.1.conditions").unwrap_err();
        assert_eq!(err.path, "rules.1.conditions.$bigger");
        assert_eq!(err.kind, DefinitionErrorKind::UnknownCondition("$bigger".into()));
    }

    #[test]
    fn numeric_operator_without_a_number_is_rejected() {
        assert!(Conditions::compile(&json!({"$more_than": ["abc"]}), "c").is_err());
    }

    #[test]
    fn is_matches_any_listed_value_and_lists_by_membership() {
        let c = Conditions::compile(&json!({"$is": ["seg_a", "seg_b"]}), "c").unwrap();
        assert!(c.holds(&Operand::List(vec!["seg_x".into(), "seg_b".into()]), &clock()));
        assert!(!c.holds(&Operand::List(vec!["seg_x".into()]), &clock()));
        let not = Conditions::compile(&json!({"$is_not": ["seg_a"]}), "c").unwrap();
        assert!(not.holds(&Operand::List(vec![]), &clock()), "in no segment: not in seg_a");
        assert!(!not.holds(&Operand::List(vec!["seg_a".into()]), &clock()));
        assert!(!not.holds(&Operand::Missing, &clock()), "a value that is absent is not a list");
    }

    #[test]
    fn an_unknown_junction_is_refused_on_write_but_a_stored_one_still_compiles() {
        let stored = json!({"junction": "banana", "price": {"conditions": {"$more_than": [5000]}}});
        assert!(!Filter::junction_known(&stored));
        let f = Filter::compile(&stored, "f").expect("a stored filter compiles as it always did");
        assert!(!f.any, "joined with and");
        for ok in [json!({"junction": "OR"}), json!({"junction": "and"}), json!({})] {
            assert!(Filter::junction_known(&ok), "{ok}");
        }
    }

    #[test]
    fn filter_with_or_junction_needs_one_field() {
        let f = Filter::compile(&json!({"junction": "or", "price": {"conditions": {"$more_than": [5000]}}, "name": {"conditions": {"$is": ["Mug"]}}}), "f").unwrap();
        assert!(
            f.matches(|k| if k == "name" { Operand::Text("Mug".into()) } else { Operand::Num(dec!(10)) }, &clock())
        );
        assert!(
            !f.matches(|k| if k == "name" { Operand::Text("Cup".into()) } else { Operand::Num(dec!(10)) }, &clock())
        );
    }
}
