//! Rating aggregates: what one published review adds to (or, hidden, takes from) a technician's
//! totals, and the figures shown and ranked on: the average, a Bayesian average, per-aspect averages
//! and the 1-5 star distribution.
//!
//! Totals are kept as whole sums and counts, so adding and removing a review is exact and the
//! averages are always computed from them, never nudged.

/// A review's effect on totals: its stars and, for a customer's review, its five aspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contribution {
    /// 1 to 5.
    pub rating: u8,
    /// Quality, punctuality, communication, value, professionalism.
    pub aspects: [u8; 5],
}

/// Adding (a review published or restored) or removing (a published review hidden).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Add,
    Remove,
}

impl Change {
    /// +1 or -1, the factor every sum and count moves by.
    pub fn sign(self) -> i64 {
        match self {
            Change::Add => 1,
            Change::Remove => -1,
        }
    }
}

/// A technician's rating totals, as stored on the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub count: i64,
    /// Sum of the stars of every counted review.
    pub sum: i64,
    /// Sums of each aspect, in [`Contribution::aspects`] order.
    pub aspect_sums: [i64; 5],
    /// How many counted reviews gave 1, 2, 3, 4 and 5 stars.
    pub stars: [i64; 5],
}

/// `sum / count`, or None when nothing is counted.
pub fn average(sum: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| sum as f64 / count as f64)
}

/// The Bayesian average ranking uses: the technician's reviews plus `prior_weight` imaginary reviews
/// at the platform's mean, `(C·m + sum) / (C + n)`. A technician with two five-star reviews does not
/// outrank one with a hundred at 4.8; as reviews accumulate it tends to the plain average. With no
/// platform mean yet (no reviews anywhere) or a weight of 0 it is the plain average; with no reviews
/// of their own it is None (ranking treats that as unknown, not as bad).
pub fn bayesian_average(
    sum: i64,
    count: i64,
    prior_mean: Option<f64>,
    prior_weight: u32,
) -> Option<f64> {
    if count <= 0 {
        return None;
    }
    let Some(mean) = prior_mean.filter(|_| prior_weight > 0) else {
        return average(sum, count);
    };
    let weight = f64::from(prior_weight);
    Some((weight * mean + sum as f64) / (weight + count as f64))
}

/// What a technician's profile shows of their ratings.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub count: i64,
    pub average: Option<f64>,
    pub bayesian_average: Option<f64>,
    /// Each aspect's average, in [`Contribution::aspects`] order; None without reviews.
    pub aspect_averages: [Option<f64>; 5],
    /// (stars, how many reviews gave them), from 5 down to 1.
    pub distribution: [(u8, i64); 5],
}

/// The profile's figures from its totals and stored Bayesian average.
pub fn summary(totals: &Totals, bayesian: Option<f64>) -> Summary {
    let count = totals.count.max(0);
    let aspect = |i: usize| average(totals.aspect_sums[i], count);
    Summary {
        count,
        average: average(totals.sum, count),
        bayesian_average: bayesian.filter(|_| count > 0),
        aspect_averages: [aspect(0), aspect(1), aspect(2), aspect(3), aspect(4)],
        distribution: [
            (5, totals.stars[4]),
            (4, totals.stars[3]),
            (3, totals.stars[2]),
            (2, totals.stars[1]),
            (1, totals.stars[0]),
        ],
    }
}

/// The totals after a change: what the database's conditional update does, as a pure rule to test
/// the database against and to reason with.
pub fn apply(totals: &Totals, change: Change, review: Contribution) -> Totals {
    let sign = change.sign();
    let mut next = *totals;
    next.count += sign;
    next.sum += sign * i64::from(review.rating);
    for (sum, stars) in next.aspect_sums.iter_mut().zip(review.aspects) {
        *sum += sign * i64::from(stars);
    }
    if let Some(slot) = usize::from(review.rating)
        .checked_sub(1)
        .and_then(|i| next.stars.get_mut(i))
    {
        *slot += sign;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(rating: u8, aspects: [u8; 5]) -> Contribution {
        Contribution { rating, aspects }
    }

    #[test]
    fn averages_are_sum_over_count_and_none_when_empty() {
        let cases = [
            (0, 0, None),
            (5, 1, Some(5.0)),
            (9, 2, Some(4.5)),
            (46, 10, Some(4.6)),
            (7, 3, Some(7.0 / 3.0)),
        ];
        for (sum, count, want) in cases {
            assert_eq!(average(sum, count), want, "{sum}/{count}");
        }
    }

    #[test]
    fn the_bayesian_average_pulls_few_reviews_towards_the_platform_mean() {
        // (sum, count, platform mean, weight, want)
        let cases = [
            // two five-star reviews against a 4.0 platform with weight 5: (20 + 10) / 7
            (10, 2, Some(4.0), 5, Some(30.0 / 7.0)),
            // a hundred at 4.8 barely move: (20 + 480) / 105
            (480, 100, Some(4.0), 5, Some(500.0 / 105.0)),
            // no reviews of their own: unknown
            (0, 0, Some(4.0), 5, None),
            // no platform mean yet, or weight 0: the plain average
            (9, 2, None, 5, Some(4.5)),
            (9, 2, Some(3.0), 0, Some(4.5)),
            // one 1-star review against a 4.5 platform with weight 10: (45 + 1) / 11
            (1, 1, Some(4.5), 10, Some(46.0 / 11.0)),
        ];
        for (sum, count, mean, weight, want) in cases {
            let got = bayesian_average(sum, count, mean, weight);
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{sum}/{count}: {g} vs {w}"),
                _ => assert_eq!(got, want, "{sum}/{count}"),
            }
        }
        let few = bayesian_average(10, 2, Some(4.0), 5).unwrap();
        let many = bayesian_average(480, 100, Some(4.0), 5).unwrap();
        assert!(
            many > few,
            "a long record at 4.8 outranks two five-star reviews"
        );
    }

    #[test]
    fn adding_and_removing_a_review_is_exact() {
        let a = review(5, [5, 4, 5, 3, 5]);
        let b = review(2, [1, 2, 3, 2, 2]);
        let none = Totals::default();
        let one = apply(&none, Change::Add, a);
        assert_eq!(
            one,
            Totals {
                count: 1,
                sum: 5,
                aspect_sums: [5, 4, 5, 3, 5],
                stars: [0, 0, 0, 0, 1],
            }
        );
        let two = apply(&one, Change::Add, b);
        assert_eq!(two.count, 2);
        assert_eq!(two.sum, 7);
        assert_eq!(two.aspect_sums, [6, 6, 8, 5, 7]);
        assert_eq!(two.stars, [0, 1, 0, 0, 1]);
        assert_eq!(
            apply(&two, Change::Remove, b),
            one,
            "hiding b takes exactly b away"
        );
        assert_eq!(apply(&one, Change::Remove, a), none);
    }

    #[test]
    fn the_summary_lists_stars_from_five_down_and_averages_each_aspect() {
        let mut totals = Totals::default();
        for r in [
            review(5, [5, 5, 4, 5, 5]),
            review(4, [4, 3, 4, 4, 5]),
            review(4, [3, 4, 4, 4, 4]),
        ] {
            totals = apply(&totals, Change::Add, r);
        }
        let s = summary(&totals, Some(4.2));
        assert_eq!(s.count, 3);
        assert_eq!(s.average, Some(13.0 / 3.0));
        assert_eq!(s.bayesian_average, Some(4.2));
        assert_eq!(
            s.aspect_averages,
            [
                Some(4.0),
                Some(4.0),
                Some(4.0),
                Some(13.0 / 3.0),
                Some(14.0 / 3.0)
            ]
        );
        assert_eq!(s.distribution, [(5, 1), (4, 2), (3, 0), (2, 0), (1, 0)]);
        let empty = summary(&Totals::default(), Some(3.0));
        assert_eq!(empty.average, None);
        assert_eq!(
            empty.bayesian_average, None,
            "no reviews: nothing to rank on"
        );
        assert_eq!(empty.aspect_averages, [None; 5]);
        assert_eq!(empty.distribution, [(5, 0), (4, 0), (3, 0), (2, 0), (1, 0)]);
    }
}
