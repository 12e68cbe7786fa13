//! Money: amounts are `Decimal` minor units (cents) inside, `i64` minor units at the edge.
//!
//! One rounding rule everywhere: half away from zero at the minor unit ([`round_minor`]).
//! Splitting an amount across items uses the largest-remainder method ([`allocate`]) so the
//! parts always add up exactly to the whole.

use rust_decimal::{Decimal, RoundingStrategy};

/// The one rounding rule of the engine: half away from zero, to a whole minor unit.
pub fn round_minor(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
}

/// The largest amount, in minor units, the engine accepts anywhere (10^15: ten trillion in a
/// two-decimal currency). Bounding inputs keeps every product of two amounts far from
/// `Decimal`'s range, so arithmetic cannot overflow.
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

/// The largest quantity accepted on an order line.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// Clamps a computed value into `-MAX_MINOR..=MAX_MINOR`.
pub fn clamp_money(value: Decimal) -> Decimal {
    value.clamp(Decimal::from(-MAX_MINOR), Decimal::from(MAX_MINOR))
}

/// Converts a minor-unit decimal to the wire integer, rounding with [`round_minor`].
/// Values outside `i64` saturate (they cannot come from `i64` inputs and bounded arithmetic).
pub fn to_wire(value: Decimal) -> i64 {
    let rounded = round_minor(value);
    i64::try_from(rounded).unwrap_or(if rounded.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// Converts a wire integer (minor units) to the inside representation.
pub fn from_wire(value: i64) -> Decimal {
    Decimal::from(value)
}

/// Clamps to `0..=max` (and to 0 when `max` is negative).
pub fn clamp_non_negative(value: Decimal, max: Decimal) -> Decimal {
    value.max(Decimal::ZERO).min(max.max(Decimal::ZERO))
}

/// One share to distribute: its weight, the most it may receive, and a stable key that breaks
/// ties so the result does not depend on the order of the shares.
#[derive(Debug, Clone)]
pub struct Share<'a> {
    pub weight: Decimal,
    pub cap: Decimal,
    pub tie_key: &'a str,
}

/// Splits `total` whole minor units across `shares` in proportion to their weights, never giving
/// a share more than its cap, so that the parts sum exactly to `min(total, Σ caps)`.
///
/// Shares whose proportional part exceeds their cap get the cap and the rest is redistributed
/// (water filling); the fractional parts are then settled by largest remainder, ties broken by
/// larger weight, then by `tie_key`, then by position. Zero total weight falls back to
/// splitting by cap.
pub fn allocate(total: Decimal, shares: &[Share<'_>]) -> Vec<Decimal> {
    let n = shares.len();
    let mut out = vec![Decimal::ZERO; n];
    let caps: Vec<Decimal> = shares
        .iter()
        .map(|s| round_minor(s.cap).max(Decimal::ZERO).trunc())
        .collect();
    let cap_sum: Decimal = caps.iter().copied().sum();
    let total = round_minor(total).max(Decimal::ZERO).min(cap_sum);
    if total.is_zero() || n == 0 {
        return out;
    }
    let use_caps_as_weights = shares
        .iter()
        .filter(|s| s.weight > Decimal::ZERO)
        .map(|s| s.weight)
        .sum::<Decimal>()
        .is_zero();
    let weight = |i: usize| {
        if use_caps_as_weights {
            caps[i]
        } else {
            shares[i].weight.max(Decimal::ZERO)
        }
    };

    // Water filling: pin shares whose exact part would exceed their cap.
    let mut pinned = vec![false; n];
    let mut remaining = total;
    let mut exact = vec![Decimal::ZERO; n];
    loop {
        let open: Vec<usize> = (0..n).filter(|&i| !pinned[i]).collect();
        let open_weight: Decimal = open.iter().map(|&i| weight(i)).sum();
        if open_weight.is_zero() {
            break;
        }
        // Divide first: weight / open_weight ≤ 1, so the product cannot overflow.
        let part = |i: usize| remaining * (weight(i) / open_weight);
        let over: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&i| part(i) > caps[i])
            .collect();
        if over.is_empty() {
            for &i in &open {
                exact[i] = part(i);
            }
            break;
        }
        for i in over {
            pinned[i] = true;
            exact[i] = caps[i];
            remaining -= caps[i];
        }
    }

    // Largest remainder over the floors.
    let mut floor_sum = Decimal::ZERO;
    for i in 0..n {
        out[i] = exact[i].floor().min(caps[i]);
        floor_sum += out[i];
    }
    let mut leftover = total - floor_sum;
    if leftover > Decimal::ZERO {
        let mut order: Vec<usize> = (0..n).filter(|&i| out[i] < caps[i]).collect();
        order.sort_by(|&a, &b| {
            let ra = exact[a] - exact[a].floor();
            let rb = exact[b] - exact[b].floor();
            rb.cmp(&ra)
                .then_with(|| weight(b).cmp(&weight(a)))
                .then_with(|| shares[a].tie_key.cmp(shares[b].tie_key))
                .then(a.cmp(&b))
        });
        // Each pass hands out at most one unit per share; the loop ends because the leftover is
        // at most Σ(caps − floors) by construction.
        while leftover > Decimal::ZERO {
            let mut gave = false;
            for &i in &order {
                if leftover.is_zero() {
                    break;
                }
                if out[i] < caps[i] {
                    out[i] += Decimal::ONE;
                    leftover -= Decimal::ONE;
                    gave = true;
                }
            }
            if !gave {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn shares(weights: &[Decimal]) -> Vec<Share<'static>> {
        weights
            .iter()
            .map(|w| Share {
                weight: *w,
                cap: Decimal::MAX / dec!(4),
                tie_key: "",
            })
            .collect()
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_minor(dec!(0.5)), dec!(1));
        assert_eq!(round_minor(dec!(1.5)), dec!(2));
        assert_eq!(round_minor(dec!(2.5)), dec!(3));
        assert_eq!(round_minor(dec!(-2.5)), dec!(-3));
        assert_eq!(round_minor(dec!(2.49)), dec!(2));
    }

    #[test]
    fn ten_dollars_split_by_amount_gives_667_and_333() {
        assert_eq!(
            allocate(dec!(1000), &shares(&[dec!(2000), dec!(1000)])),
            vec![dec!(667), dec!(333)]
        );
    }

    #[test]
    fn ten_dollars_split_by_quantity_one_to_six_gives_143_and_857() {
        assert_eq!(
            allocate(dec!(1000), &shares(&[dec!(1), dec!(6)])),
            vec![dec!(143), dec!(857)]
        );
    }

    #[test]
    fn equal_weights_break_ties_by_key_not_position() {
        let a = [
            Share {
                weight: dec!(1),
                cap: dec!(100),
                tie_key: "b",
            },
            Share {
                weight: dec!(1),
                cap: dec!(100),
                tie_key: "a",
            },
        ];
        assert_eq!(allocate(dec!(1), &a), vec![dec!(0), dec!(1)]);
    }

    #[test]
    fn caps_are_respected_and_excess_goes_to_the_others() {
        let s = [
            Share {
                weight: dec!(1),
                cap: dec!(10),
                tie_key: "a",
            },
            Share {
                weight: dec!(1),
                cap: dec!(1000),
                tie_key: "b",
            },
        ];
        assert_eq!(allocate(dec!(100), &s), vec![dec!(10), dec!(90)]);
    }

    #[test]
    fn total_above_caps_is_cut_to_the_caps() {
        let s = [
            Share {
                weight: dec!(1),
                cap: dec!(10),
                tie_key: "a",
            },
            Share {
                weight: dec!(1),
                cap: dec!(5),
                tie_key: "b",
            },
        ];
        assert_eq!(allocate(dec!(100), &s), vec![dec!(10), dec!(5)]);
    }
}
