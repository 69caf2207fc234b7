//! Technician badges and the record figures behind them (completion rate, median response time).

/// A badge shown on a technician's profile and in match results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Badge {
    TopRated,
    Popular,
    Expert,
    CityWide,
}

impl Badge {
    pub const ALL: [Badge; 4] = [
        Badge::TopRated,
        Badge::Popular,
        Badge::Expert,
        Badge::CityWide,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Badge::TopRated => "TOP_RATED",
            Badge::Popular => "POPULAR",
            Badge::Expert => "EXPERT",
            Badge::CityWide => "CITY_WIDE",
        }
    }
}

/// Thresholds for each badge; every one is inclusive ("at least").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BadgePolicy {
    pub top_rated_min_rating: f64,
    /// A handful of five-star reviews from friends should not make anyone top rated.
    pub top_rated_min_reviews: u32,
    pub popular_min_completed_jobs: u32,
    pub expert_min_years: u32,
    pub city_wide_min_radius_km: f64,
}

impl Default for BadgePolicy {
    fn default() -> Self {
        BadgePolicy {
            top_rated_min_rating: 4.6,
            top_rated_min_reviews: 10,
            popular_min_completed_jobs: 75,
            expert_min_years: 5,
            city_wide_min_radius_km: 15.0,
        }
    }
}

/// The facts a badge decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TechnicianRecord {
    pub rating_average: f64,
    pub rating_count: u32,
    pub completed_jobs: u32,
    pub years_of_experience: u32,
    pub service_radius_km: f64,
}

/// Averages are computed as `sum / count` and may land a hair under the exact value (4.6 as
/// 4.5999999999999996); this slack keeps "at least 4.6" meaning what it says.
const RATING_SLACK: f64 = 1e-9;

/// The badges a technician has earned, in [`Badge::ALL`] order.
pub fn badges(record: &TechnicianRecord, policy: &BadgePolicy) -> Vec<Badge> {
    Badge::ALL
        .into_iter()
        .filter(|&badge| match badge {
            Badge::TopRated => {
                record.rating_count >= policy.top_rated_min_reviews
                    && record.rating_average + RATING_SLACK >= policy.top_rated_min_rating
            }
            Badge::Popular => record.completed_jobs >= policy.popular_min_completed_jobs,
            Badge::Expert => record.years_of_experience >= policy.expert_min_years,
            Badge::CityWide => record.service_radius_km >= policy.city_wide_min_radius_km,
        })
        .collect()
}

/// Share of accepted jobs the technician finished, 0..=1.
///
/// Withdrawing after accepting and cancelling as the technician both count against the rate;
/// cancellations by the customer do not, since the technician could not prevent them.
/// `None` when there is nothing to judge yet, so a new technician is not shown as 0%.
pub fn completion_rate(
    completed: u32,
    withdrawn_after_accept: u32,
    cancelled_by_technician: u32,
) -> Option<f64> {
    let accepted = u64::from(completed)
        + u64::from(withdrawn_after_accept)
        + u64::from(cancelled_by_technician);
    if accepted == 0 {
        None
    } else {
        Some(completed as f64 / accepted as f64)
    }
}

/// Median of response times in seconds; for an even count, the mean of the middle two rounded
/// half up. The median, not the mean, so one offer answered the next morning does not sink an
/// otherwise quick technician. `None` when there are no responses yet.
pub fn median_response_seconds(response_seconds: &[u32]) -> Option<u32> {
    if response_seconds.is_empty() {
        return None;
    }
    let mut sorted = response_seconds.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        Some(sorted[mid])
    } else {
        let sum = u64::from(sorted[mid - 1]) + u64::from(sorted[mid]);
        // The mean of two u32 values always fits in a u32, so this never saturates.
        Some(u32::try_from(sum.div_ceil(2)).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(record: TechnicianRecord, badge: Badge) -> bool {
        badges(&record, &BadgePolicy::default()).contains(&badge)
    }

    #[test]
    fn top_rated_needs_4_6_stars_from_at_least_10_reviews() {
        let cases = [
            (4.6, 10, true),
            (46.0 / 10.0, 10, true),
            (4.599, 10, false),
            (5.0, 10, true),
            (4.6, 9, false),
            (5.0, 9, false),
            (4.6, 500, true),
            (0.0, 0, false),
        ];
        for (rating_average, rating_count, want) in cases {
            let record = TechnicianRecord {
                rating_average,
                rating_count,
                ..TechnicianRecord::default()
            };
            assert_eq!(
                has(record, Badge::TopRated),
                want,
                "{rating_average} from {rating_count}"
            );
        }
    }

    #[test]
    fn rating_average_computed_from_a_sum_still_reaches_the_threshold() {
        // 33 five-star and 22 four-star reviews average exactly 4.6, but a running mean over
        // them lands on 4.599999999999999.
        let stars = std::iter::repeat_n(5.0, 33).chain(std::iter::repeat_n(4.0, 22));
        let mut mean = 0.0_f64;
        for (i, s) in stars.enumerate() {
            mean += (s - mean) / (i + 1) as f64;
        }
        assert!(mean < 4.6, "this case should exercise the float shortfall");
        let record = TechnicianRecord {
            rating_average: mean,
            rating_count: 55,
            ..TechnicianRecord::default()
        };
        assert!(has(record, Badge::TopRated), "average {mean}");
    }

    #[test]
    fn popular_from_75_completed_jobs() {
        for (completed_jobs, want) in [(74, false), (75, true), (76, true), (0, false)] {
            let record = TechnicianRecord {
                completed_jobs,
                ..TechnicianRecord::default()
            };
            assert_eq!(has(record, Badge::Popular), want, "{completed_jobs} jobs");
        }
    }

    #[test]
    fn expert_from_5_years_of_experience() {
        for (years_of_experience, want) in [(4, false), (5, true), (30, true), (0, false)] {
            let record = TechnicianRecord {
                years_of_experience,
                ..TechnicianRecord::default()
            };
            assert_eq!(
                has(record, Badge::Expert),
                want,
                "{years_of_experience} years"
            );
        }
    }

    #[test]
    fn city_wide_from_a_15_km_service_radius() {
        for (service_radius_km, want) in [(14.9, false), (15.0, true), (40.0, true), (0.0, false)] {
            let record = TechnicianRecord {
                service_radius_km,
                ..TechnicianRecord::default()
            };
            assert_eq!(has(record, Badge::CityWide), want, "{service_radius_km} km");
        }
    }

    #[test]
    fn a_technician_can_hold_every_badge_listed_in_a_fixed_order() {
        let record = TechnicianRecord {
            rating_average: 4.9,
            rating_count: 120,
            completed_jobs: 130,
            years_of_experience: 12,
            service_radius_km: 25.0,
        };
        assert_eq!(
            badges(&record, &BadgePolicy::default()),
            Badge::ALL.to_vec()
        );
        let names: Vec<&str> = Badge::ALL.iter().map(|b| b.as_str()).collect();
        assert_eq!(names, vec!["TOP_RATED", "POPULAR", "EXPERT", "CITY_WIDE"]);
    }

    #[test]
    fn a_new_technician_has_no_badges() {
        assert!(badges(&TechnicianRecord::default(), &BadgePolicy::default()).is_empty());
    }

    #[test]
    fn badge_thresholds_come_from_the_policy() {
        let strict = BadgePolicy {
            popular_min_completed_jobs: 200,
            ..BadgePolicy::default()
        };
        let record = TechnicianRecord {
            completed_jobs: 150,
            ..TechnicianRecord::default()
        };
        assert!(badges(&record, &strict).is_empty());
    }

    #[test]
    fn completion_rate_counts_withdrawals_and_technician_cancellations_against_it() {
        let cases = [
            (0, 0, 0, None),
            (10, 0, 0, Some(1.0)),
            (0, 1, 0, Some(0.0)),
            (0, 0, 1, Some(0.0)),
            (8, 1, 1, Some(0.8)),
            (3, 1, 0, Some(0.75)),
            (u32::MAX, u32::MAX, 0, Some(0.5)),
        ];
        for (completed, withdrawn, cancelled, want) in cases {
            assert_eq!(
                completion_rate(completed, withdrawn, cancelled),
                want,
                "{completed}/{withdrawn}/{cancelled}"
            );
        }
    }

    #[test]
    fn median_response_ignores_one_slow_outlier() {
        let cases: [(&[u32], Option<u32>); 7] = [
            (&[], None),
            (&[42], Some(42)),
            (&[60, 120], Some(90)),
            (&[60, 121], Some(91)), // 90.5 rounds half up
            (&[300, 30, 90], Some(90)),
            (&[30, 60, 90, 86_400], Some(75)),
            (&[u32::MAX, u32::MAX], Some(u32::MAX)),
        ];
        for (times, want) in cases {
            assert_eq!(median_response_seconds(times), want, "{times:?}");
        }
    }
}
