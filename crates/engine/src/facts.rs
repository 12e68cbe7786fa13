//! The facts formulas read: the running cart, the customer, metadata, voucher counters, time.

use crate::cart::Cart;
use crate::condition::parse_date;
use crate::formula::{FValue, FormulaEnv, ItemPick, ItemVar, Var};
use crate::model::{Customer, Metadata};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// Voucher facts for `VOUCHER_*` operands.
#[derive(Debug, Clone, Copy, Default)]
pub struct VoucherFacts {
    pub quantity: Option<i64>,
    pub redeemed: i64,
    pub publish_count: i64,
    pub start_date: Option<DateTime<Utc>>,
    pub expiration_date: Option<DateTime<Utc>>,
}

/// Everything a formula may read, for one redeemable on one cart.
#[derive(Clone, Copy)]
pub struct FormulaFacts<'x> {
    pub cart: &'x Cart<'x>,
    pub customer: Option<&'x Customer>,
    pub redemption_metadata: &'x Metadata,
    pub redeemable_metadata: Option<&'x Metadata>,
    pub publication_metadata: Option<&'x Metadata>,
    pub voucher: VoucherFacts,
    pub is_tier: bool,
    pub now: DateTime<Utc>,
    /// Complete bundles found by the redeemable's bundle rules (1 without them).
    pub bundles: i64,
}

/// [`FormulaFacts`] seen from one order line (`ORDER_ITEM_*`), or from the order.
pub struct LineScope<'f, 'x> {
    pub facts: &'f FormulaFacts<'x>,
    pub line: Option<usize>,
}

fn json_value(v: Option<&Value>) -> Option<FValue> {
    match v? {
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok().map(FValue::Num),
        Value::String(s) => Some(FValue::Text(s.clone())),
        Value::Bool(b) => Some(FValue::Bool(*b)),
        _ => None,
    }
}

fn num(d: Decimal) -> Option<FValue> {
    Some(FValue::Num(d))
}

impl LineScope<'_, '_> {
    fn pick(&self, pick: ItemPick) -> Option<usize> {
        let lines = &self.facts.cart.lines;
        let by_price = |a: &usize, b: &usize| lines[*a].price.cmp(&lines[*b].price).then(a.cmp(b));
        match pick {
            ItemPick::Current => self.line,
            ItemPick::Cheapest => (0..lines.len()).min_by(by_price),
            ItemPick::MostExpensive => (0..lines.len()).max_by(|a, b| by_price(a, b).then(b.cmp(a))),
        }
    }
}

impl FormulaEnv for LineScope<'_, '_> {
    fn var(&self, var: Var, key: Option<&str>) -> Option<FValue> {
        let f = self.facts;
        let meta = |m: Option<&Metadata>| json_value(m.and_then(|m| key.and_then(|k| m.get(k))));
        match var {
            Var::OrderAmount => num(f.cart.net_total()),
            Var::OrderItemsQuantity => num(Decimal::from(f.cart.lines.len())),
            Var::OrderUnitsQuantity => num(Decimal::from(f.cart.units())),
            Var::OrderMetadata => meta(Some(f.cart.metadata())),
            Var::CustomerMetadata => meta(f.customer.map(|c| &c.metadata)),
            Var::RedemptionMetadata => meta(Some(f.redemption_metadata)),
            Var::PublicationMetadata => meta(f.publication_metadata),
            Var::RedeemableMetadata => meta(f.redeemable_metadata),
            Var::Item(what, pick) => {
                let i = self.pick(pick)?;
                let line = &f.cart.lines[i];
                match what {
                    ItemVar::Price => num(line.price),
                    ItemVar::Amount => num(line.amount),
                    ItemVar::Subtotal => num(line.net()),
                    ItemVar::UnitsQuantity => num(Decimal::from(line.quantity)),
                    ItemVar::Metadata => meta(f.cart.item(i).map(|it| &it.metadata)),
                    ItemVar::ProductMetadata => {
                        meta(f.cart.item(i).and_then(|it| it.product.as_ref()).map(|p| &p.metadata))
                    }
                }
            }
            Var::VoucherRedemptionQuantity => f.voucher.quantity.and_then(|q| num(Decimal::from(q))),
            Var::VoucherRedeemedQuantity => num(Decimal::from(f.voucher.redeemed)),
            Var::VoucherPublishCount => num(Decimal::from(f.voucher.publish_count)),
            Var::VoucherStartDate if !f.is_tier => f.voucher.start_date.map(FValue::Date),
            Var::VoucherExpirationDate if !f.is_tier => f.voucher.expiration_date.map(FValue::Date),
            Var::PromotionTierStartDate if f.is_tier => f.voucher.start_date.map(FValue::Date),
            Var::PromotionTierExpirationDate if f.is_tier => f.voucher.expiration_date.map(FValue::Date),
            Var::BundleQuantity => num(Decimal::from(f.bundles)),
            Var::CustomerBirthdate => {
                f.customer.and_then(|c| c.birthdate.as_deref()).and_then(parse_date).map(FValue::Date)
            }
            _ => None,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.facts.now
    }
}
