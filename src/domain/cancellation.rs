//! Cancellation fee rules: what share of the booking total a customer forfeits by cancelling.
//!
//! The answer is a rate in basis points (1 bp = 0.01%); the caller applies it to the booking
//! total with the pricing module's rounding, so money is rounded by one rule only.

use std::fmt;

const HOUR: i64 = 60 * 60;

/// Basis points in 100%.
const BP_PER_WHOLE: u32 = 10_000;

/// Cancelling with more than `more_than_secs` left before the scheduled start costs `fee_bp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeTier {
    pub more_than_secs: i64,
    pub fee_bp: u32,
}

/// Fee tiers checked in order (longest notice first); the first whose threshold the time left
/// exceeds applies, and `otherwise_fee_bp` applies when none does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationPolicy {
    pub tiers: Vec<FeeTier>,
    pub otherwise_fee_bp: u32,
}

impl Default for CancellationPolicy {
    /// The later the notice, the more of the technician's day is lost: free with more than
    /// 24 h, then 25% (more than 6 h), 50% (more than 2 h), otherwise 75%.
    fn default() -> Self {
        CancellationPolicy {
            tiers: vec![
                FeeTier {
                    more_than_secs: 24 * HOUR,
                    fee_bp: 0,
                },
                FeeTier {
                    more_than_secs: 6 * HOUR,
                    fee_bp: 2_500,
                },
                FeeTier {
                    more_than_secs: 2 * HOUR,
                    fee_bp: 5_000,
                },
            ],
            otherwise_fee_bp: 7_500,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancellationPolicyError {
    /// Tier thresholds must strictly decrease, or a later tier could never apply.
    TiersOutOfOrder { index: usize },
    /// A fee above 100% of the total is never meant.
    FeeOver100Percent { fee_bp: u32 },
}

impl fmt::Display for CancellationPolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancellationPolicyError::TiersOutOfOrder { index } => write!(
                f,
                "cancellation tier {index} must have a shorter notice than the one before it"
            ),
            CancellationPolicyError::FeeOver100Percent { fee_bp } => {
                write!(f, "cancellation fee {fee_bp} bp is more than 100%")
            }
        }
    }
}

impl std::error::Error for CancellationPolicyError {}

impl CancellationPolicy {
    pub fn validate(&self) -> Result<(), CancellationPolicyError> {
        for (index, pair) in self.tiers.windows(2).enumerate() {
            if pair[1].more_than_secs >= pair[0].more_than_secs {
                return Err(CancellationPolicyError::TiersOutOfOrder { index: index + 1 });
            }
        }
        let fees = self.tiers.iter().map(|t| t.fee_bp);
        if let Some(fee_bp) = fees
            .chain([self.otherwise_fee_bp])
            .find(|&bp| bp > BP_PER_WHOLE)
        {
            return Err(CancellationPolicyError::FeeOver100Percent { fee_bp });
        }
        Ok(())
    }
}

/// Seconds left before the scheduled start. A request for "as soon as possible" has no
/// scheduled start and counts as starting now; a start already passed gives a negative value.
pub fn time_left_secs(scheduled_start: Option<i64>, now: i64) -> i64 {
    scheduled_start.map_or(0, |start| start.saturating_sub(now))
}

/// Fee rate in basis points for a customer cancelling at `now` (unix seconds).
///
/// Free while no technician has accepted: nobody has set time aside yet.
pub fn cancellation_fee_bp(
    technician_accepted: bool,
    scheduled_start: Option<i64>,
    now: i64,
    policy: &CancellationPolicy,
) -> u32 {
    if !technician_accepted {
        return 0;
    }
    let left = time_left_secs(scheduled_start, now);
    policy
        .tiers
        .iter()
        .find(|tier| left > tier.more_than_secs)
        .map_or(policy.otherwise_fee_bp, |tier| tier.fee_bp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;

    fn fee_with_time_left(secs: i64) -> u32 {
        cancellation_fee_bp(true, Some(NOW + secs), NOW, &CancellationPolicy::default())
    }

    #[test]
    fn accepted_booking_fee_steps_up_at_24_6_and_2_hours() {
        let cases = [
            ("thirty days ahead", 30 * 24 * HOUR, 0),
            ("24 h and a second", 24 * HOUR + 1, 0),
            ("exactly 24 h", 24 * HOUR, 2_500),
            ("6 h and a second", 6 * HOUR + 1, 2_500),
            ("exactly 6 h", 6 * HOUR, 5_000),
            ("2 h and a second", 2 * HOUR + 1, 5_000),
            ("exactly 2 h", 2 * HOUR, 7_500),
            ("one second", 1, 7_500),
            ("at the start time", 0, 7_500),
            ("after the start time", -HOUR, 7_500),
        ];
        for (name, secs, want) in cases {
            assert_eq!(fee_with_time_left(secs), want, "{name}");
        }
    }

    #[test]
    fn cancelling_is_free_while_no_technician_has_accepted() {
        let policy = CancellationPolicy::default();
        for start in [
            None,
            Some(NOW - HOUR),
            Some(NOW),
            Some(NOW + HOUR),
            Some(NOW + 48 * HOUR),
        ] {
            assert_eq!(
                cancellation_fee_bp(false, start, NOW, &policy),
                0,
                "{start:?}"
            );
        }
    }

    #[test]
    fn as_soon_as_possible_booking_counts_as_no_time_left() {
        assert_eq!(time_left_secs(None, NOW), 0);
        assert_eq!(
            cancellation_fee_bp(true, None, NOW, &CancellationPolicy::default()),
            7_500
        );
    }

    #[test]
    fn time_left_does_not_overflow_at_extreme_times() {
        assert_eq!(time_left_secs(Some(i64::MIN), i64::MAX), i64::MIN);
        assert_eq!(time_left_secs(Some(i64::MAX), i64::MIN), i64::MAX);
    }

    #[test]
    fn tiers_come_from_the_policy() {
        let lenient = CancellationPolicy {
            tiers: vec![FeeTier {
                more_than_secs: HOUR,
                fee_bp: 0,
            }],
            otherwise_fee_bp: 1_000,
        };
        assert_eq!(lenient.validate(), Ok(()));
        let cases = [(HOUR + 1, 0), (HOUR, 1_000), (0, 1_000)];
        for (secs, want) in cases {
            assert_eq!(
                cancellation_fee_bp(true, Some(NOW + secs), NOW, &lenient),
                want
            );
        }
        let flat = CancellationPolicy {
            tiers: vec![],
            otherwise_fee_bp: 500,
        };
        assert_eq!(flat.validate(), Ok(()));
        assert_eq!(
            cancellation_fee_bp(true, Some(NOW + 100 * HOUR), NOW, &flat),
            500
        );
    }

    #[test]
    fn default_policy_is_valid_and_bad_ones_are_named() {
        let d = CancellationPolicy::default();
        let mut swapped = d.clone();
        swapped.tiers.swap(1, 2);
        let mut duplicate = d.clone();
        duplicate.tiers[2].more_than_secs = duplicate.tiers[1].more_than_secs;
        let mut greedy = d.clone();
        greedy.otherwise_fee_bp = 10_001;
        let mut greedy_tier = d.clone();
        greedy_tier.tiers[1].fee_bp = 20_000;
        let mut everything = d.clone();
        everything.otherwise_fee_bp = 10_000;
        let cases = [
            ("defaults", d, Ok(())),
            (
                "tiers out of order",
                swapped,
                Err(CancellationPolicyError::TiersOutOfOrder { index: 2 }),
            ),
            (
                "two tiers with the same notice",
                duplicate,
                Err(CancellationPolicyError::TiersOutOfOrder { index: 2 }),
            ),
            (
                "otherwise over 100%",
                greedy,
                Err(CancellationPolicyError::FeeOver100Percent { fee_bp: 10_001 }),
            ),
            (
                "tier over 100%",
                greedy_tier,
                Err(CancellationPolicyError::FeeOver100Percent { fee_bp: 20_000 }),
            ),
            ("exactly 100%", everything, Ok(())),
        ];
        for (name, policy, want) in cases {
            assert_eq!(policy.validate(), want, "{name}");
        }
    }
}
