//! Price rules: from a rate and a duration to the breakdown a customer pays, in minor units.
//!
//! Shape of a price:
//! - `base`      = hourly rate x minutes / 60
//! - `surge`     = a percentage of `base` set by the request's priority
//! - `job_price` = `base + surge`, what the work itself costs
//! - `platform_fee` + `technician_share` = `job_price`: the fee is the platform's cut of the job
//!   price, not an extra charge on top, so the customer never sees it added to the total
//! - `tax`       = the tax rate applied to `job_price`
//! - `total`     = `job_price + tax`, what the customer pays
//! - `deposit` + `balance_due` = `total`; the deposit is held in escrow when booking
//!
//! Percentages are basis points (1 bp = 0.01%). Every division rounds in one way, half up (see
//! [`div_round_half_up`]), and each pair of parts is built as "round one, the other is the
//! remainder", so parts always add up to the whole to the last minor unit.

use std::fmt;

/// Basis points in 100%.
pub const BP_PER_WHOLE: u32 = 10_000;

/// How urgent a request is; drives surge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "LOW",
            Priority::Medium => "MEDIUM",
            Priority::High => "HIGH",
            Priority::Urgent => "URGENT",
        }
    }

    pub fn parse(name: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// Pricing percentages in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingPolicy {
    pub high_surge_bp: u32,
    pub urgent_surge_bp: u32,
    /// The platform's share of the job price; the technician gets the rest.
    pub platform_fee_bp: u32,
    /// GST/VAT on the job price; 0 where the platform does not charge it.
    pub tax_bp: u32,
    /// Share of the total taken up front and held in escrow.
    pub deposit_bp: u32,
}

impl Default for PricingPolicy {
    fn default() -> Self {
        PricingPolicy {
            high_surge_bp: 1_000,
            urgent_surge_bp: 2_000,
            platform_fee_bp: 1_500,
            tax_bp: 0,
            deposit_bp: 2_000,
        }
    }
}

impl PricingPolicy {
    /// Surge for a priority; low and medium requests pay none.
    pub fn surge_bp(&self, priority: Priority) -> u32 {
        match priority {
            Priority::Low | Priority::Medium => 0,
            Priority::High => self.high_surge_bp,
            Priority::Urgent => self.urgent_surge_bp,
        }
    }

    /// A fee or deposit above 100% would make the technician's share or the balance negative.
    pub fn validate(&self) -> Result<(), PricingError> {
        for (field, bp) in [
            ("platform_fee_bp", self.platform_fee_bp),
            ("deposit_bp", self.deposit_bp),
        ] {
            if bp > BP_PER_WHOLE {
                return Err(PricingError::ShareOver100Percent { field });
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PricingError {
    /// Rates and prices cannot be negative; refunds are separate postings, not negative prices.
    NegativeAmount,
    /// The amount does not fit in 64-bit minor units.
    TooLarge,
    ShareOver100Percent {
        field: &'static str,
    },
}

impl fmt::Display for PricingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PricingError::NegativeAmount => f.write_str("amount must not be negative"),
            PricingError::TooLarge => f.write_str("amount is too large"),
            PricingError::ShareOver100Percent { field } => {
                write!(f, "{field} must not exceed 10000 basis points")
            }
        }
    }
}

impl std::error::Error for PricingError {}

/// Every part of a price, in minor units of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriceBreakdown {
    pub base: i64,
    pub surge: i64,
    pub job_price: i64,
    pub platform_fee: i64,
    pub technician_share: i64,
    pub tax: i64,
    pub total: i64,
    pub deposit: i64,
    pub balance_due: i64,
}

/// `numerator / denominator` rounded to the nearest integer, halves away from zero (half up for
/// the non-negative amounts prices use). The one rounding rule for money in this module.
/// `denominator` must be positive.
pub fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let half = denominator / 2;
    if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        -((-numerator + half) / denominator)
    }
}

fn to_i64(value: i128) -> Result<i64, PricingError> {
    i64::try_from(value).map_err(|_| PricingError::TooLarge)
}

/// `amount x bp / 10000`, rounded half up.
pub fn apply_bp(amount_minor: i64, bp: u32) -> Result<i64, PricingError> {
    to_i64(div_round_half_up(
        i128::from(amount_minor) * i128::from(bp),
        i128::from(BP_PER_WHOLE),
    ))
}

/// Price of `duration_minutes` at `hourly_rate_minor`, rounded half up to a minor unit.
pub fn base_for_duration(
    hourly_rate_minor: i64,
    duration_minutes: u32,
) -> Result<i64, PricingError> {
    if hourly_rate_minor < 0 {
        return Err(PricingError::NegativeAmount);
    }
    to_i64(div_round_half_up(
        i128::from(hourly_rate_minor) * i128::from(duration_minutes),
        60,
    ))
}

/// Full breakdown for a job priced by the hour.
pub fn price_for_duration(
    hourly_rate_minor: i64,
    duration_minutes: u32,
    priority: Priority,
    policy: &PricingPolicy,
) -> Result<PriceBreakdown, PricingError> {
    let base = base_for_duration(hourly_rate_minor, duration_minutes)?;
    price_for_base(base, priority, policy)
}

/// Full breakdown from a base price (an hourly estimate or a technician's fixed quote).
pub fn price_for_base(
    base: i64,
    priority: Priority,
    policy: &PricingPolicy,
) -> Result<PriceBreakdown, PricingError> {
    if base < 0 {
        return Err(PricingError::NegativeAmount);
    }
    policy.validate()?;
    let surge = apply_bp(base, policy.surge_bp(priority))?;
    let job_price = base.checked_add(surge).ok_or(PricingError::TooLarge)?;
    let platform_fee = apply_bp(job_price, policy.platform_fee_bp)?;
    // The technician gets the remainder, so fee + share is the job price exactly.
    let technician_share = job_price - platform_fee;
    let tax = apply_bp(job_price, policy.tax_bp)?;
    let total = job_price.checked_add(tax).ok_or(PricingError::TooLarge)?;
    let deposit = apply_bp(total, policy.deposit_bp)?;
    Ok(PriceBreakdown {
        base,
        surge,
        job_price,
        platform_fee,
        technician_share,
        tax,
        total,
        deposit,
        balance_due: total - deposit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_tax(tax_bp: u32) -> PricingPolicy {
        PricingPolicy {
            tax_bp,
            ..PricingPolicy::default()
        }
    }

    #[test]
    fn high_priority_ninety_minute_job_breaks_down_as_hand_computed() {
        let p = price_for_duration(150_000, 90, Priority::High, &PricingPolicy::default());
        assert_eq!(
            p,
            Ok(PriceBreakdown {
                base: 225_000,
                surge: 22_500,
                job_price: 247_500,
                platform_fee: 37_125,
                technician_share: 210_375,
                tax: 0,
                total: 247_500,
                deposit: 49_500,
                balance_due: 198_000,
            })
        );
    }

    #[test]
    fn tax_is_charged_on_the_job_price_and_the_fee_is_not_added_to_the_total() {
        let p = price_for_duration(120_000, 60, Priority::Urgent, &with_tax(1_600));
        assert_eq!(
            p,
            Ok(PriceBreakdown {
                base: 120_000,
                surge: 24_000,
                job_price: 144_000,
                platform_fee: 21_600,
                technician_share: 122_400,
                tax: 23_040,
                total: 167_040,
                deposit: 33_408,
                balance_due: 133_632,
            })
        );
    }

    #[test]
    fn surge_is_ten_percent_for_high_and_twenty_for_urgent() {
        let cases = [
            (Priority::Low, 0),
            (Priority::Medium, 0),
            (Priority::High, 100),
            (Priority::Urgent, 200),
        ];
        for (priority, surge) in cases {
            let p = price_for_base(1_000, priority, &PricingPolicy::default()).unwrap();
            assert_eq!(p.surge, surge, "{}", priority.as_str());
        }
    }

    #[test]
    fn technician_gets_85_percent_and_the_platform_15() {
        let p = price_for_base(10_000, Priority::Medium, &PricingPolicy::default()).unwrap();
        assert_eq!((p.technician_share, p.platform_fee), (8_500, 1_500));
    }

    #[test]
    fn deposit_is_20_percent_of_the_total() {
        let p = price_for_base(10_000, Priority::Medium, &with_tax(1_600)).unwrap();
        assert_eq!((p.total, p.deposit, p.balance_due), (11_600, 2_320, 9_280));
    }

    #[test]
    fn rounding_is_half_up_everywhere() {
        let base_cases = [
            (1_001, 30, 501), // 500.5
            (1, 30, 1),       // 0.5
            (1, 29, 0),       // 0.483
            (1, 31, 1),       // 0.517
            (100, 0, 0),
            (0, 90, 0),
        ];
        for (rate, minutes, want) in base_cases {
            assert_eq!(
                base_for_duration(rate, minutes),
                Ok(want),
                "{rate} x {minutes} min"
            );
        }
        let bp_cases = [
            (10, 1_500, 2), // 1.5
            (3, 1_500, 0),  // 0.45
            (5, 1_000, 1),  // 0.5
            (4, 1_000, 0),  // 0.4
            (-5, 1_000, -1),
            (7, 0, 0),
            (7, 10_000, 7),
        ];
        for (amount, bp, want) in bp_cases {
            assert_eq!(apply_bp(amount, bp), Ok(want), "{amount} at {bp} bp");
        }
    }

    #[test]
    fn parts_always_add_up_exactly() {
        for tax_bp in [0, 1_600, 1_800, 333] {
            let policy = with_tax(tax_bp);
            for priority in Priority::ALL {
                for base in 0..10_000 {
                    let p = price_for_base(base, priority, &policy).unwrap();
                    let case = format!("base {base}, {}, tax {tax_bp}", priority.as_str());
                    assert_eq!(p.base + p.surge, p.job_price, "{case}");
                    assert_eq!(p.technician_share + p.platform_fee, p.job_price, "{case}");
                    assert_eq!(p.job_price + p.tax, p.total, "{case}");
                    assert_eq!(p.deposit + p.balance_due, p.total, "{case}");
                    assert!(p.platform_fee >= 0 && p.technician_share >= 0, "{case}");
                    assert!(p.deposit >= 0 && p.balance_due >= 0, "{case}");
                }
            }
        }
    }

    #[test]
    fn zero_price_is_all_zeros() {
        let p = price_for_duration(0, 120, Priority::Urgent, &with_tax(1_600)).unwrap();
        assert_eq!(p, PriceBreakdown::default());
    }

    #[test]
    fn negative_rates_and_prices_are_refused() {
        let policy = PricingPolicy::default();
        assert_eq!(
            price_for_duration(-1, 60, Priority::Low, &policy),
            Err(PricingError::NegativeAmount)
        );
        assert_eq!(
            price_for_base(-1, Priority::Low, &policy),
            Err(PricingError::NegativeAmount)
        );
    }

    #[test]
    fn amounts_too_large_for_64_bits_are_refused_not_wrapped() {
        let policy = PricingPolicy::default();
        assert_eq!(
            price_for_duration(i64::MAX, 120, Priority::Low, &policy),
            Err(PricingError::TooLarge)
        );
        assert_eq!(
            price_for_base(i64::MAX, Priority::Urgent, &policy),
            Err(PricingError::TooLarge)
        );
        // Big but representable amounts still work.
        let p = price_for_base(i64::MAX / 2, Priority::Low, &policy).unwrap();
        assert_eq!(p.technician_share + p.platform_fee, p.job_price);
    }

    #[test]
    fn fee_or_deposit_over_100_percent_is_an_invalid_policy() {
        let cases = [
            (PricingPolicy::default(), Ok(())),
            (
                PricingPolicy {
                    platform_fee_bp: 10_000,
                    deposit_bp: 10_000,
                    ..PricingPolicy::default()
                },
                Ok(()),
            ),
            (
                PricingPolicy {
                    platform_fee_bp: 10_001,
                    ..PricingPolicy::default()
                },
                Err(PricingError::ShareOver100Percent {
                    field: "platform_fee_bp",
                }),
            ),
            (
                PricingPolicy {
                    deposit_bp: 10_001,
                    ..PricingPolicy::default()
                },
                Err(PricingError::ShareOver100Percent {
                    field: "deposit_bp",
                }),
            ),
        ];
        for (policy, want) in cases {
            assert_eq!(policy.validate(), want, "{policy:?}");
            if let Err(e) = want {
                assert_eq!(price_for_base(100, Priority::Low, &policy), Err(e));
            }
        }
    }

    #[test]
    fn priority_names_round_trip() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
        }
        assert_eq!(Priority::parse("urgent"), None);
        assert_eq!(Priority::default(), Priority::Medium);
    }
}
