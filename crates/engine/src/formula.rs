//! Dynamic discount formulas (`IF(ORDER_AMOUNT > 10000; 15; 10)`), parsed once and evaluated
//! safely: checked arithmetic, bounded size and depth, no panics. Money operands are minor units.

use crate::condition::parse_date;
use crate::error::{DefinitionError, DefinitionErrorKind};
use chrono::{DateTime, Datelike, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// Longest formula accepted, in bytes.
pub const MAX_FORMULA_LEN: usize = 2000;
/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 32;
/// Most nodes accepted, which bounds evaluation work.
pub const MAX_NODES: usize = 512;

/// Values a formula reads from the redemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    OrderAmount,
    OrderItemsQuantity,
    OrderUnitsQuantity,
    OrderMetadata,
    CustomerMetadata,
    RedemptionMetadata,
    PublicationMetadata,
    RedeemableMetadata,
    Item(ItemVar, ItemPick),
    VoucherRedemptionQuantity,
    VoucherRedeemedQuantity,
    VoucherPublishCount,
    VoucherStartDate,
    VoucherExpirationDate,
    PromotionTierStartDate,
    PromotionTierExpirationDate,
    CustomerBirthdate,
    /// Complete bundles in the order (`order.bundle.quantity`; 1 without bundle rules).
    BundleQuantity,
    Today,
    Now,
}

/// Which order item an `*ORDER_ITEM_*` operand reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemPick {
    Current,
    Cheapest,
    MostExpensive,
}

/// Which fact of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemVar {
    Price,
    Amount,
    Subtotal,
    UnitsQuantity,
    Metadata,
    ProductMetadata,
}

impl Var {
    fn parse(name: &str) -> Option<Var> {
        let item = |rest: &str, pick: ItemPick| {
            Some(Var::Item(
                match rest {
                    "PRICE" => ItemVar::Price,
                    "AMOUNT" => ItemVar::Amount,
                    "SUBTOTAL" => ItemVar::Subtotal,
                    "UNITS_QUANTITY" | "QUANTITY" => ItemVar::UnitsQuantity,
                    "METADATA" => ItemVar::Metadata,
                    "PRODUCT_METADATA" => ItemVar::ProductMetadata,
                    _ => return None,
                },
                pick,
            ))
        };
        if let Some(rest) = name.strip_prefix("CHEAPEST_ORDER_ITEM_") {
            return item(rest, ItemPick::Cheapest);
        }
        if let Some(rest) = name.strip_prefix("MOST_EXPENSIVE_ORDER_ITEM_") {
            return item(rest, ItemPick::MostExpensive);
        }
        if let Some(rest) = name.strip_prefix("ORDER_ITEM_") {
            return item(rest, ItemPick::Current);
        }
        Some(match name {
            "ORDER_AMOUNT" => Var::OrderAmount,
            "ORDER_ITEMS_QUANTITY" => Var::OrderItemsQuantity,
            "ORDER_UNITS_QUANTITY" => Var::OrderUnitsQuantity,
            "ORDER_METADATA" => Var::OrderMetadata,
            "CUSTOMER_METADATA" => Var::CustomerMetadata,
            "REDEMPTION_METADATA" => Var::RedemptionMetadata,
            "PUBLICATION_METADATA" => Var::PublicationMetadata,
            "REDEEMABLE_METADATA" => Var::RedeemableMetadata,
            "VOUCHER_REDEMPTION_QUANTITY" => Var::VoucherRedemptionQuantity,
            "VOUCHER_REDEEMED_QUANTITY" => Var::VoucherRedeemedQuantity,
            "VOUCHER_PUBLISH_COUNT" => Var::VoucherPublishCount,
            "VOUCHER_START_DATE" => Var::VoucherStartDate,
            "VOUCHER_EXPIRATION_DATE" => Var::VoucherExpirationDate,
            "PROMOTION_TIER_START_DATE" => Var::PromotionTierStartDate,
            "PROMOTION_TIER_EXPIRATION_DATE" => Var::PromotionTierExpirationDate,
            "CUSTOMER_BIRTHDATE" => Var::CustomerBirthdate,
            "ORDER.BUNDLE.QUANTITY" | "ORDER_BUNDLE_QUANTITY" => Var::BundleQuantity,
            "TODAY" => Var::Today,
            "NOW" => Var::Now,
            _ => return None,
        })
    }

    /// Metadata operands take a key argument.
    fn takes_key(self) -> bool {
        matches!(
            self,
            Var::OrderMetadata
                | Var::CustomerMetadata
                | Var::RedemptionMetadata
                | Var::PublicationMetadata
                | Var::RedeemableMetadata
                | Var::Item(ItemVar::Metadata | ItemVar::ProductMetadata, _)
        )
    }
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum FValue {
    Num(Decimal),
    Text(String),
    Bool(bool),
    Date(DateTime<Utc>),
}

impl FValue {
    fn num(&self) -> Result<Decimal, EvalError> {
        match self {
            FValue::Num(n) => Ok(*n),
            FValue::Text(t) => Decimal::from_str(t.trim()).map_err(|_| EvalError::Type),
            FValue::Bool(b) => Ok(if *b { Decimal::ONE } else { Decimal::ZERO }),
            FValue::Date(_) => Err(EvalError::Type),
        }
    }

    fn truthy(&self) -> bool {
        match self {
            FValue::Bool(b) => *b,
            FValue::Num(n) => !n.is_zero(),
            FValue::Text(t) => !t.is_empty(),
            FValue::Date(_) => true,
        }
    }

    fn date(&self) -> Result<DateTime<Utc>, EvalError> {
        match self {
            FValue::Date(d) => Ok(*d),
            FValue::Text(t) => parse_date(t).ok_or(EvalError::Type),
            _ => Err(EvalError::Type),
        }
    }
}

/// Why a formula produced no value (the discount then falls back to its static value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    Missing,
    Type,
    Overflow,
    DivisionByZero,
}

/// Where formula operands come from.
pub trait FormulaEnv {
    /// Reads an operand; `key` is the metadata key for metadata operands.
    fn var(&self, var: Var, key: Option<&str>) -> Option<FValue>;
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Min,
    Max,
    Pow,
    If,
    DefaultTo,
    Round,
    Floor,
    Ceil,
    InArray,
    NotInArray,
    DayOfMonth,
    Month,
    Year,
    Date,
    Abs,
}

impl Func {
    fn parse(name: &str) -> Option<(Func, usize, usize)> {
        Some(match name {
            "MIN" => (Func::Min, 1, 64),
            "MAX" => (Func::Max, 1, 64),
            "POW" => (Func::Pow, 2, 2),
            "IF" => (Func::If, 3, 3),
            "DEFAULT_TO" => (Func::DefaultTo, 2, 2),
            "ROUND" => (Func::Round, 1, 2),
            "FLOOR" => (Func::Floor, 1, 2),
            "CEIL" => (Func::Ceil, 1, 2),
            "IN_ARRAY" => (Func::InArray, 2, 64),
            "NOT_IN_ARRAY" => (Func::NotInArray, 2, 64),
            "DAY_OF_MONTH" => (Func::DayOfMonth, 1, 1),
            "MONTH" => (Func::Month, 1, 1),
            "YEAR" => (Func::Year, 1, 1),
            "DATE" | "DATE_TIME" => (Func::Date, 1, 1),
            "ABS" => (Func::Abs, 1, 1),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Num(Decimal),
    Text(String),
    Var(Var, Option<String>),
    Neg(Box<Node>),
    Not(Box<Node>),
    Bin(BinOp, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
}

/// A compiled formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    source: String,
    root: Node,
    uses_current_item: bool,
    uses_bundle_quantity: bool,
}

impl Formula {
    /// Parses a formula; errors carry the byte position.
    pub fn parse(source: &str, path: &str) -> Result<Formula, DefinitionError> {
        let err = |position: usize, problem: String| {
            DefinitionError::new(path, DefinitionErrorKind::FormulaSyntax { position, problem })
        };
        if source.len() > MAX_FORMULA_LEN {
            return Err(err(MAX_FORMULA_LEN, format!("longer than {MAX_FORMULA_LEN} bytes")));
        }
        let tokens = lex(source).map_err(|(p, m)| err(p, m))?;
        let mut parser = Parser { tokens, pos: 0, nodes: 0, source_len: source.len() };
        let root = parser.expr(0).map_err(|(p, m)| err(p, m))?;
        if let Some((p, t)) = parser.tokens.get(parser.pos) {
            return Err(err(*p, format!("unexpected `{t:?}`")));
        }
        let uses_current_item = reads(&root, &|v| matches!(v, Var::Item(_, ItemPick::Current)));
        let uses_bundle_quantity = reads(&root, &|v| v == Var::BundleQuantity);
        Ok(Formula { source: source.to_owned(), root, uses_current_item, uses_bundle_quantity })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Does the formula read the current order item (so it is evaluated per line)?
    pub fn uses_current_item(&self) -> bool {
        self.uses_current_item
    }

    /// Does the formula read the bundle count (so it scales with bundles by itself)?
    pub fn uses_bundle_quantity(&self) -> bool {
        self.uses_bundle_quantity
    }

    /// Evaluates to a number.
    pub fn eval_number(&self, env: &dyn FormulaEnv) -> Result<Decimal, EvalError> {
        eval(&self.root, env)?.num()
    }
}

fn reads(n: &Node, var: &dyn Fn(Var) -> bool) -> bool {
    match n {
        Node::Var(v, _) => var(*v),
        Node::Neg(a) | Node::Not(a) => reads(a, var),
        Node::Bin(_, a, b) => reads(a, var) || reads(b, var),
        Node::Call(_, args) => args.iter().any(|a| reads(a, var)),
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Decimal),
    Text(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Sep,
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, (usize, String)> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '0'..='9' | '.' => {
                let start = i;
                while i < chars.len() && (chars[i].1.is_ascii_digit() || chars[i].1 == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().map(|(_, c)| c).collect();
                let n = Decimal::from_str(&text).map_err(|_| (pos, format!("bad number `{text}`")))?;
                out.push((pos, Tok::Num(n)));
            }
            '"' | '\'' => {
                let quote = c;
                let start = i + 1;
                i += 1;
                while i < chars.len() && chars[i].1 != quote {
                    i += 1;
                }
                if i >= chars.len() {
                    return Err((pos, "unterminated string".into()));
                }
                out.push((pos, Tok::Text(chars[start..i].iter().map(|(_, c)| c).collect())));
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                // a dot joins words of one name (`order.bundle.quantity`), never a number
                while i < chars.len()
                    && (chars[i].1.is_ascii_alphanumeric()
                        || chars[i].1 == '_'
                        || (chars[i].1 == '.' && chars.get(i + 1).is_some_and(|(_, c)| c.is_ascii_alphabetic())))
                {
                    i += 1;
                }
                out.push((pos, Tok::Ident(chars[start..i].iter().map(|(_, c)| c.to_ascii_uppercase()).collect())));
            }
            '(' => {
                out.push((pos, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((pos, Tok::RParen));
                i += 1;
            }
            ';' | ',' => {
                out.push((pos, Tok::Sep));
                i += 1;
            }
            _ => {
                let next = chars.get(i + 1).map(|(_, c)| *c);
                let (op, len): (&'static str, usize) = match (c, next) {
                    ('>', Some('=')) => (">=", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('<', Some('>')) | ('!', Some('=')) => ("!=", 2),
                    ('=', Some('=')) => ("=", 2),
                    ('&', Some('&')) => ("AND", 2),
                    ('|', Some('|')) => ("OR", 2),
                    ('>', _) => (">", 1),
                    ('<', _) => ("<", 1),
                    ('=', _) => ("=", 1),
                    ('+', _) => ("+", 1),
                    ('-', _) => ("-", 1),
                    ('*', _) | ('×', _) => ("*", 1),
                    ('/', _) | ('÷', _) => ("/", 1),
                    ('%', _) => ("%", 1),
                    ('!', _) => ("NOT", 1),
                    _ => return Err((pos, format!("unexpected character `{c}`"))),
                };
                out.push((pos, Tok::Op(op)));
                i += len;
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(usize, Tok)>,
    pos: usize,
    nodes: usize,
    source_len: usize,
}

type PResult = Result<Node, (usize, String)>;

impl Parser {
    fn here(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.source_len, |(p, _)| *p)
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn count(&mut self) -> Result<(), (usize, String)> {
        self.nodes += 1;
        if self.nodes > MAX_NODES { Err((self.here(), format!("more than {MAX_NODES} nodes"))) } else { Ok(()) }
    }

    fn binop(t: Option<&Tok>) -> Option<(BinOp, u8)> {
        let op = match t {
            Some(Tok::Op(o)) => *o,
            Some(Tok::Ident(i)) if i == "AND" => "AND",
            Some(Tok::Ident(i)) if i == "OR" => "OR",
            _ => return None,
        };
        Some(match op {
            "OR" => (BinOp::Or, 1),
            "AND" => (BinOp::And, 2),
            "=" => (BinOp::Eq, 3),
            "!=" => (BinOp::Ne, 3),
            ">" => (BinOp::Gt, 3),
            ">=" => (BinOp::Ge, 3),
            "<" => (BinOp::Lt, 3),
            "<=" => (BinOp::Le, 3),
            "+" => (BinOp::Add, 4),
            "-" => (BinOp::Sub, 4),
            "*" => (BinOp::Mul, 5),
            "/" => (BinOp::Div, 5),
            "%" => (BinOp::Rem, 5),
            _ => return None,
        })
    }

    /// Precedence climbing; `depth` bounds recursion.
    fn expr(&mut self, depth: usize) -> PResult {
        self.binary(0, depth)
    }

    fn binary(&mut self, min_prec: u8, depth: usize) -> PResult {
        if depth > MAX_DEPTH {
            return Err((self.here(), format!("nesting deeper than {MAX_DEPTH}")));
        }
        let mut lhs = self.unary(depth + 1)?;
        while let Some((op, prec)) = Self::binop(self.peek()) {
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            let rhs = self.binary(prec + 1, depth + 1)?;
            self.count()?;
            lhs = Node::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self, depth: usize) -> PResult {
        if depth > MAX_DEPTH {
            return Err((self.here(), format!("nesting deeper than {MAX_DEPTH}")));
        }
        match self.peek() {
            Some(Tok::Op("-")) => {
                self.pos += 1;
                self.count()?;
                Ok(Node::Neg(Box::new(self.unary(depth + 1)?)))
            }
            Some(Tok::Op("+")) => {
                self.pos += 1;
                self.unary(depth + 1)
            }
            Some(Tok::Op("NOT")) => {
                self.pos += 1;
                self.count()?;
                Ok(Node::Not(Box::new(self.unary(depth + 1)?)))
            }
            Some(Tok::Ident(i)) if i == "NOT" => {
                self.pos += 1;
                self.count()?;
                Ok(Node::Not(Box::new(self.unary(depth + 1)?)))
            }
            _ => self.primary(depth),
        }
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), (usize, String)> {
        if self.peek() == Some(want) {
            self.pos += 1;
            Ok(())
        } else {
            Err((self.here(), format!("expected {what}")))
        }
    }

    fn primary(&mut self, depth: usize) -> PResult {
        let at = self.here();
        self.count()?;
        let tok = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        match tok {
            Some(Tok::Num(n)) => Ok(Node::Num(n)),
            Some(Tok::Text(t)) => Ok(Node::Text(t)),
            Some(Tok::LParen) => {
                let e = self.expr(depth + 1)?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(e)
            }
            Some(Tok::Ident(name)) => {
                if name == "TRUE" || name == "FALSE" {
                    return Ok(Node::Num(if name == "TRUE" { Decimal::ONE } else { Decimal::ZERO }));
                }
                if let Some(var) = Var::parse(&name) {
                    if var.takes_key() {
                        self.expect(&Tok::LParen, &format!("`(` with a key after {name}"))?;
                        let key = match self.tokens.get(self.pos).map(|(_, t)| t.clone()) {
                            Some(Tok::Text(k)) => k,
                            _ => return Err((self.here(), format!("{name} needs a quoted key"))),
                        };
                        self.pos += 1;
                        self.expect(&Tok::RParen, "`)`")?;
                        return Ok(Node::Var(var, Some(key)));
                    }
                    return Ok(Node::Var(var, None));
                }
                let (func, min, max) = Func::parse(&name).ok_or((at, format!("unknown name `{name}`")))?;
                self.expect(&Tok::LParen, &format!("`(` after {name}"))?;
                let mut args = Vec::new();
                if self.peek() != Some(&Tok::RParen) {
                    loop {
                        args.push(self.expr(depth + 1)?);
                        if self.peek() == Some(&Tok::Sep) {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                self.expect(&Tok::RParen, "`)`")?;
                if args.len() < min || args.len() > max {
                    return Err((at, format!("{name} takes {min}..={max} arguments, got {}", args.len())));
                }
                Ok(Node::Call(func, args))
            }
            Some(t) => Err((at, format!("unexpected `{t:?}`"))),
            None => Err((at, "unexpected end of formula".into())),
        }
    }
}

fn scale(p: Option<&FValue>) -> Result<u32, EvalError> {
    match p {
        None => Ok(0),
        Some(v) => {
            let n = v.num()?;
            if n < Decimal::ZERO || n > Decimal::from(10) {
                Err(EvalError::Type)
            } else {
                u32::try_from(n.trunc()).map_err(|_| EvalError::Type)
            }
        }
    }
}

fn round_with(x: Decimal, dp: u32, strategy: RoundingStrategy) -> Decimal {
    x.round_dp_with_strategy(dp, strategy)
}

fn compare(a: &FValue, b: &FValue) -> Result<std::cmp::Ordering, EvalError> {
    match (a, b) {
        (FValue::Date(x), _) => Ok(x.cmp(&b.date()?)),
        (_, FValue::Date(y)) => Ok(a.date()?.cmp(y)),
        (FValue::Text(x), FValue::Text(y)) => Ok(match (Decimal::from_str(x), Decimal::from_str(y)) {
            (Ok(p), Ok(q)) => p.cmp(&q),
            _ => x.cmp(y),
        }),
        _ => Ok(a.num()?.cmp(&b.num()?)),
    }
}

fn eval(n: &Node, env: &dyn FormulaEnv) -> Result<FValue, EvalError> {
    Ok(match n {
        Node::Num(x) => FValue::Num(*x),
        Node::Text(t) => FValue::Text(t.clone()),
        Node::Var(v, key) => match v {
            Var::Now => FValue::Date(env.now()),
            Var::Today => {
                FValue::Date(env.now().date_naive().and_hms_opt(0, 0, 0).map(|d| d.and_utc()).ok_or(EvalError::Type)?)
            }
            _ => env.var(*v, key.as_deref()).ok_or(EvalError::Missing)?,
        },
        Node::Neg(a) => FValue::Num(-eval(a, env)?.num()?),
        Node::Not(a) => FValue::Bool(!eval(a, env)?.truthy()),
        Node::Bin(op, a, b) => {
            if *op == BinOp::And {
                return Ok(FValue::Bool(eval(a, env)?.truthy() && eval(b, env)?.truthy()));
            }
            if *op == BinOp::Or {
                return Ok(FValue::Bool(eval(a, env)?.truthy() || eval(b, env)?.truthy()));
            }
            let (x, y) = (eval(a, env)?, eval(b, env)?);
            use std::cmp::Ordering::*;
            match op {
                BinOp::Gt => FValue::Bool(compare(&x, &y)? == Greater),
                BinOp::Ge => FValue::Bool(compare(&x, &y)? != Less),
                BinOp::Lt => FValue::Bool(compare(&x, &y)? == Less),
                BinOp::Le => FValue::Bool(compare(&x, &y)? != Greater),
                BinOp::Eq => FValue::Bool(compare(&x, &y).map(|o| o == Equal).unwrap_or(x == y)),
                BinOp::Ne => FValue::Bool(!compare(&x, &y).map(|o| o == Equal).unwrap_or(x == y)),
                _ => {
                    let (p, q) = (x.num()?, y.num()?);
                    FValue::Num(match op {
                        BinOp::Add => p.checked_add(q).ok_or(EvalError::Overflow)?,
                        BinOp::Sub => p.checked_sub(q).ok_or(EvalError::Overflow)?,
                        BinOp::Mul => p.checked_mul(q).ok_or(EvalError::Overflow)?,
                        BinOp::Div if q.is_zero() => return Err(EvalError::DivisionByZero),
                        BinOp::Div => p.checked_div(q).ok_or(EvalError::Overflow)?,
                        BinOp::Rem if q.is_zero() => return Err(EvalError::DivisionByZero),
                        BinOp::Rem => p.checked_rem(q).ok_or(EvalError::Overflow)?,
                        _ => return Err(EvalError::Type),
                    })
                }
            }
        }
        Node::Call(f, args) => match f {
            Func::If => {
                if eval(&args[0], env)?.truthy() {
                    eval(&args[1], env)?
                } else {
                    eval(&args[2], env)?
                }
            }
            Func::DefaultTo => eval(&args[0], env).or_else(|_| eval(&args[1], env))?,
            Func::Min | Func::Max => {
                let mut best: Option<Decimal> = None;
                for a in args {
                    let v = eval(a, env)?.num()?;
                    best = Some(match (best, f) {
                        (None, _) => v,
                        (Some(b), Func::Min) => b.min(v),
                        (Some(b), _) => b.max(v),
                    });
                }
                FValue::Num(best.ok_or(EvalError::Missing)?)
            }
            Func::Pow => {
                let base = eval(&args[0], env)?.num()?;
                let exp = eval(&args[1], env)?.num()?;
                if exp.fract() != Decimal::ZERO || exp.abs() > Decimal::from(64) {
                    return Err(EvalError::Type);
                }
                let n = i64::try_from(exp.abs()).map_err(|_| EvalError::Type)?;
                let mut acc = Decimal::ONE;
                for _ in 0..n {
                    acc = acc.checked_mul(base).ok_or(EvalError::Overflow)?;
                }
                if exp < Decimal::ZERO {
                    if acc.is_zero() {
                        return Err(EvalError::DivisionByZero);
                    }
                    acc = Decimal::ONE.checked_div(acc).ok_or(EvalError::Overflow)?;
                }
                FValue::Num(acc)
            }
            Func::Round | Func::Floor | Func::Ceil => {
                let x = eval(&args[0], env)?.num()?;
                let p = args.get(1).map(|a| eval(a, env)).transpose()?;
                let dp = scale(p.as_ref())?;
                FValue::Num(match f {
                    Func::Round => round_with(x, dp, RoundingStrategy::MidpointAwayFromZero),
                    Func::Floor => round_with(x, dp, RoundingStrategy::ToNegativeInfinity),
                    _ => round_with(x, dp, RoundingStrategy::ToPositiveInfinity),
                })
            }
            Func::Abs => FValue::Num(eval(&args[0], env)?.num()?.abs()),
            Func::InArray | Func::NotInArray => {
                let needle = eval(&args[0], env)?;
                let mut found = false;
                for a in &args[1..] {
                    let v = eval(a, env)?;
                    if compare(&needle, &v).map(|o| o == std::cmp::Ordering::Equal).unwrap_or(needle == v) {
                        found = true;
                        break;
                    }
                }
                FValue::Bool(found == (*f == Func::InArray))
            }
            Func::DayOfMonth => FValue::Num(Decimal::from(eval(&args[0], env)?.date()?.day())),
            Func::Month => FValue::Num(Decimal::from(eval(&args[0], env)?.date()?.month())),
            Func::Year => FValue::Num(Decimal::from(eval(&args[0], env)?.date()?.year())),
            Func::Date => FValue::Date(eval(&args[0], env)?.date()?),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    struct Env;
    impl FormulaEnv for Env {
        fn var(&self, var: Var, key: Option<&str>) -> Option<FValue> {
            match (var, key) {
                (Var::OrderAmount, _) => Some(FValue::Num(dec!(60000))),
                (Var::OrderUnitsQuantity, _) => Some(FValue::Num(dec!(7))),
                (Var::OrderMetadata, Some("tier")) => Some(FValue::Text("gold".into())),
                _ => None,
            }
        }
        fn now(&self) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
        }
    }

    fn eval_str(s: &str) -> Result<Decimal, EvalError> {
        Formula::parse(s, "f").unwrap().eval_number(&Env)
    }

    #[test]
    fn documented_examples_evaluate() {
        assert_eq!(eval_str("IF(ORDER_UNITS_QUANTITY > 5;FLOOR(ORDER_UNITS_QUANTITY / 3;0);1)"), Ok(dec!(2)));
        assert_eq!(
            eval_str("IF(ORDER_AMOUNT > 500;ROUND(ORDER_AMOUNT * 1.5;0);ROUND(ORDER_AMOUNT;0))"),
            Ok(dec!(90000))
        );
    }

    #[test]
    fn precedence_and_functions() {
        assert_eq!(eval_str("1 + 2 * 3"), Ok(dec!(7)));
        assert_eq!(eval_str("(1 + 2) * 3"), Ok(dec!(9)));
        assert_eq!(eval_str("MIN(5; 3; 9) + MAX(1, 2)"), Ok(dec!(5)));
        assert_eq!(eval_str("POW(2; 10)"), Ok(dec!(1024)));
        assert_eq!(eval_str("ROUND(2.5)"), Ok(dec!(3)));
        assert_eq!(eval_str("IF(ORDER_METADATA(\"tier\") = \"gold\"; 20; 10)"), Ok(dec!(20)));
        assert_eq!(eval_str("-3 + 10 % 4"), Ok(dec!(-1)));
    }

    #[test]
    fn failures_are_errors_not_panics() {
        assert_eq!(eval_str("1 / 0"), Err(EvalError::DivisionByZero));
        assert_eq!(eval_str("POW(79228162514264337593543950335; 2)"), Err(EvalError::Overflow));
        assert_eq!(eval_str("CUSTOMER_METADATA(\"x\")"), Err(EvalError::Missing));
        assert_eq!(eval_str("DEFAULT_TO(CUSTOMER_METADATA(\"x\"); 7)"), Ok(dec!(7)));
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let e = Formula::parse("1 + * 2", "discount.amount_off_formula").unwrap_err();
        assert_eq!(e.path, "discount.amount_off_formula");
        assert!(matches!(e.kind, DefinitionErrorKind::FormulaSyntax { position: 4, .. }), "{e:?}");
        assert!(Formula::parse("FOO(1)", "f").is_err());
        assert!(Formula::parse("IF(1;2)", "f").is_err());
        assert!(Formula::parse("(((1)", "f").is_err());
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert!(Formula::parse(&deep, "f").is_err());
    }
}
