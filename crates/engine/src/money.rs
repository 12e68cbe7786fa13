//! Money: amounts are `Decimal` minor units (cents) inside, `i64` minor units at the edge.
//!
//! One rounding rule everywhere: half away from zero at the minor unit ([`round_minor`]).
//! Splitting an amount across items uses the largest-remainder method ([`allocate`]) so the
//! parts always add up exactly to the whole.

use rust_decimal::{Decimal, RoundingStrategy};

/// The one rounding rule of the engine: half away from zero, to a whole minor unit.
pub fn round_minor(value: Decimal) -> Decimal {
    // Most values are already whole minor units (scale 0); skip the rescale for them.
    if value.scale() == 0 { value } else { value.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero) }
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
    // At scale 0 the mantissa is the value itself.
    let whole = if rounded.scale() == 0 { rounded.mantissa() } else { rounded.trunc().mantissa() };
    i64::try_from(whole).unwrap_or(if whole < 0 { i64::MIN } else { i64::MAX })
}

/// Converts a wire integer (minor units) to the inside representation.
pub fn from_wire(value: i64) -> Decimal {
    Decimal::from(value)
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
/// splitting by cap. Whole-unit weights (the usual case) are split with exact integer
/// arithmetic; fractional weights with `Decimal`.
pub fn allocate(total: Decimal, shares: &[Share<'_>]) -> Vec<Decimal> {
    let whole_total = whole(round_minor(total));
    let weights: Option<Vec<i128>> = shares.iter().map(|s| whole(s.weight)).collect();
    let caps: Option<Vec<i128>> = shares.iter().map(|s| whole(round_minor(s.cap))).collect();
    match (whole_total, weights, caps) {
        (Some(t), Some(w), Some(c)) => allocate_whole(t, &w, &c, shares).into_iter().map(Decimal::from).collect(),
        _ => allocate_decimal(total, shares),
    }
}

/// The value as an integer when it is one.
fn whole(d: Decimal) -> Option<i128> {
    if d.scale() == 0 {
        Some(d.mantissa())
    } else if d.fract().is_zero() {
        Some(d.trunc().mantissa())
    } else {
        None
    }
}

/// [`allocate`] in exact integers. Amounts are bounded by [`MAX_MINOR`] × items, so every
/// product stays far inside `i128`.
fn allocate_whole(total: i128, weights: &[i128], caps: &[i128], shares: &[Share<'_>]) -> Vec<i128> {
    let n = shares.len();
    let caps: Vec<i128> = caps.iter().map(|c| (*c).max(0)).collect();
    let total = total.max(0).min(caps.iter().sum());
    let mut out = vec![0i128; n];
    if total == 0 {
        return out;
    }
    let mut weights: Vec<i128> = weights.iter().map(|w| (*w).max(0)).collect();
    let mut pinned = vec![false; n];
    let mut remaining = total;
    let mut rems = vec![0i128; n];
    loop {
        let mut open_weight: i128 = (0..n).filter(|&i| !pinned[i]).map(|i| weights[i]).sum();
        if open_weight == 0 {
            // What is left goes to shares without weight: split it by their room (caps).
            for i in (0..n).filter(|&i| !pinned[i]) {
                weights[i] = caps[i];
            }
            open_weight = (0..n).filter(|&i| !pinned[i]).map(|i| weights[i]).sum();
            if open_weight == 0 {
                break;
            }
        }
        let mut pinned_any = false;
        for i in 0..n {
            if !pinned[i] && remaining * weights[i] > caps[i] * open_weight {
                pinned[i] = true;
                pinned_any = true;
                out[i] = caps[i];
            }
        }
        if pinned_any {
            remaining = total - (0..n).filter(|&i| pinned[i]).map(|i| caps[i]).sum::<i128>();
            continue;
        }
        for i in (0..n).filter(|&i| !pinned[i]) {
            out[i] = remaining * weights[i] / open_weight;
            // Every open share's remainder is over the same `open_weight`, so the numerators
            // compare directly.
            rems[i] = remaining * weights[i] % open_weight;
        }
        break;
    }
    let mut leftover = total - out.iter().sum::<i128>();
    let rank = |a: &usize, b: &usize| {
        rems[*b]
            .cmp(&rems[*a])
            .then(weights[*b].cmp(&weights[*a]))
            .then_with(|| shares[*a].tie_key.cmp(shares[*b].tie_key))
            .then(a.cmp(b))
    };
    // Normally the leftover is below the number of open shares (each floor lost less than one
    // unit) and one round settles it: one unit each to the best-ranked open shares, selected in
    // linear time. Further rounds only run if shares fill up.
    while leftover > 0 {
        let mut open: Vec<usize> = (0..n).filter(|&i| out[i] < caps[i]).collect();
        if open.is_empty() {
            break;
        }
        let k = usize::try_from(leftover).unwrap_or(usize::MAX).min(open.len());
        if k < open.len() {
            open.select_nth_unstable_by(k - 1, rank);
        }
        for &i in &open[..k] {
            out[i] += 1;
        }
        leftover -= k as i128;
    }
    out
}

/// [`allocate`] for fractional weights or caps.
fn allocate_decimal(total: Decimal, shares: &[Share<'_>]) -> Vec<Decimal> {
    let n = shares.len();
    let caps: Vec<Decimal> = shares.iter().map(|s| round_minor(s.cap).max(Decimal::ZERO).trunc()).collect();
    let total = round_minor(total).max(Decimal::ZERO).min(caps.iter().copied().sum());
    if total.is_zero() || n == 0 {
        return vec![Decimal::ZERO; n];
    }
    let weights: Vec<Decimal> = if shares.iter().any(|s| s.weight > Decimal::ZERO) {
        shares.iter().map(|s| s.weight.max(Decimal::ZERO)).collect()
    } else {
        caps.clone()
    };
    let (mut out, remainders, weights) = split_decimal(total, &weights, &caps);
    let mut leftover = total - out.iter().copied().sum::<Decimal>();
    if leftover > Decimal::ZERO {
        let mut order: Vec<usize> = (0..n).filter(|&i| out[i] < caps[i]).collect();
        order.sort_by(|&a, &b| {
            remainders[b]
                .cmp(&remainders[a])
                .then_with(|| weights[b].cmp(&weights[a]))
                .then_with(|| shares[a].tie_key.cmp(shares[b].tie_key))
                .then(a.cmp(&b))
        });
        for i in order.into_iter().cycle().take(n * 2) {
            if leftover.is_zero() {
                break;
            }
            if out[i] < caps[i] {
                out[i] += Decimal::ONE;
                leftover -= Decimal::ONE;
            }
        }
    }
    out
}

/// Water filling in `Decimal`: floors, remainders, and the weights in force at the end.
fn split_decimal(total: Decimal, weights: &[Decimal], caps: &[Decimal]) -> (Vec<Decimal>, Vec<Decimal>, Vec<Decimal>) {
    let n = weights.len();
    let mut weights = weights.to_vec();
    let mut pinned = vec![false; n];
    let mut remaining = total;
    let mut exact = vec![Decimal::ZERO; n];
    loop {
        let open: Vec<usize> = (0..n).filter(|&i| !pinned[i]).collect();
        let mut open_weight: Decimal = open.iter().map(|&i| weights[i]).sum();
        if open_weight.is_zero() {
            // What is left goes to shares without weight: split it by their room (caps).
            for &i in &open {
                weights[i] = caps[i];
            }
            open_weight = open.iter().map(|&i| weights[i]).sum();
            if open_weight.is_zero() {
                break;
            }
        }
        // Divide first: weight / open_weight ≤ 1, so the product cannot overflow.
        let part = |i: usize| remaining * (weights[i] / open_weight);
        let over: Vec<usize> = open.iter().copied().filter(|&i| part(i) > caps[i]).collect();
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
    let floors: Vec<Decimal> = exact.iter().zip(caps).map(|(e, c)| e.floor().min(*c)).collect();
    let rems = exact.iter().zip(&floors).map(|(e, f)| e - f).collect();
    (floors, rems, weights)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn shares(weights: &[Decimal]) -> Vec<Share<'static>> {
        weights.iter().map(|w| Share { weight: *w, cap: Decimal::MAX / dec!(4), tie_key: "" }).collect()
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
        assert_eq!(allocate(dec!(1000), &shares(&[dec!(2000), dec!(1000)])), vec![dec!(667), dec!(333)]);
    }

    #[test]
    fn ten_dollars_split_by_quantity_one_to_six_gives_143_and_857() {
        assert_eq!(allocate(dec!(1000), &shares(&[dec!(1), dec!(6)])), vec![dec!(143), dec!(857)]);
    }

    #[test]
    fn equal_weights_break_ties_by_key_not_position() {
        let a = [
            Share { weight: dec!(1), cap: dec!(100), tie_key: "b" },
            Share { weight: dec!(1), cap: dec!(100), tie_key: "a" },
        ];
        assert_eq!(allocate(dec!(1), &a), vec![dec!(0), dec!(1)]);
    }

    #[test]
    fn caps_are_respected_and_excess_goes_to_the_others() {
        let s = [
            Share { weight: dec!(1), cap: dec!(10), tie_key: "a" },
            Share { weight: dec!(1), cap: dec!(1000), tie_key: "b" },
        ];
        assert_eq!(allocate(dec!(100), &s), vec![dec!(10), dec!(90)]);
    }

    proptest::proptest! {
        #[test]
        fn integer_and_decimal_paths_agree_and_sum_exactly(
            total in 0i64..1_000_000,
            shares in proptest::collection::vec((0i64..100_000, 0i64..200_000, 0u8..4), 1..12),
        ) {
            let keys = ["a", "b", "c", "d"];
            let s: Vec<Share<'_>> = shares.iter().map(|(w, c, k)| Share { weight: Decimal::from(*w), cap: Decimal::from(*c), tie_key: keys[*k as usize] }).collect();
            let fast = allocate(Decimal::from(total), &s);
            let slow = allocate_decimal(Decimal::from(total), &s);
            proptest::prop_assert_eq!(&fast, &slow);
            let cap_sum: i64 = shares.iter().map(|(_, c, _)| c).sum();
            proptest::prop_assert_eq!(fast.iter().copied().sum::<Decimal>(), Decimal::from(total.min(cap_sum)));
            for (part, (_, cap, _)) in fast.iter().zip(&shares) {
                proptest::prop_assert!(*part >= Decimal::ZERO && *part <= Decimal::from(*cap));
            }
        }
    }

    #[test]
    fn shares_without_weight_take_what_weighted_shares_cannot() {
        // The weighted share has no room; the unweighted one takes the whole (capped) total.
        let s = [
            Share { weight: dec!(0), cap: dec!(2), tie_key: "a" },
            Share { weight: dec!(1), cap: dec!(0), tie_key: "b" },
        ];
        assert_eq!(allocate(dec!(746832), &s), vec![dec!(2), dec!(0)]);
    }

    #[test]
    fn total_above_caps_is_cut_to_the_caps() {
        let s = [
            Share { weight: dec!(1), cap: dec!(10), tie_key: "a" },
            Share { weight: dec!(1), cap: dec!(5), tie_key: "b" },
        ];
        assert_eq!(allocate(dec!(100), &s), vec![dec!(10), dec!(5)]);
    }
}
