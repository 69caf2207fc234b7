//! The explainable match score: nine weighted factors, each scored 0-100 with a plain reason.
//!
//! Scores are computed from facts the caller gathers (distance, rating, history, ...); nothing
//! here looks anything up. Every factor score is rounded to one decimal before weighting, and the
//! total is computed from those rounded scores in integer tenths, so anyone reading the reasons
//! can reproduce the total by hand and the band always agrees with the total shown.

use std::fmt;

/// Score given when a fact is unknown (new technician, no history): unknown is not bad, but it
/// should not outrank a proven record either.
pub const NEUTRAL_SCORE: f64 = 60.0;

/// The nine factors, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    Skill,
    Distance,
    Availability,
    Rating,
    Experience,
    PriceVsBudget,
    ResponseTime,
    CompletionRate,
    CustomerPreference,
}

impl Factor {
    pub const ALL: [Factor; 9] = [
        Factor::Skill,
        Factor::Distance,
        Factor::Availability,
        Factor::Rating,
        Factor::Experience,
        Factor::PriceVsBudget,
        Factor::ResponseTime,
        Factor::CompletionRate,
        Factor::CustomerPreference,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Skill => "SKILL",
            Factor::Distance => "DISTANCE",
            Factor::Availability => "AVAILABILITY",
            Factor::Rating => "RATING",
            Factor::Experience => "EXPERIENCE",
            Factor::PriceVsBudget => "PRICE_VS_BUDGET",
            Factor::ResponseTime => "RESPONSE_TIME",
            Factor::CompletionRate => "COMPLETION_RATE",
            Factor::CustomerPreference => "CUSTOMER_PREFERENCE",
        }
    }
}

/// How much each factor counts, in percent. Must add up to 100 (see [`Weights::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub skill: u32,
    pub distance: u32,
    pub availability: u32,
    pub rating: u32,
    pub experience: u32,
    pub price_vs_budget: u32,
    pub response_time: u32,
    pub completion_rate: u32,
    pub customer_preference: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            skill: 25,
            distance: 20,
            availability: 15,
            rating: 15,
            experience: 10,
            price_vs_budget: 5,
            response_time: 5,
            completion_rate: 3,
            customer_preference: 2,
        }
    }
}

/// Weights that do not add up to 100 would let totals leave the 0-100 scale the bands assume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightsError {
    pub sum: u32,
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "matching weights must add up to 100, they add up to {}",
            self.sum
        )
    }
}

impl std::error::Error for WeightsError {}

impl Weights {
    pub fn get(&self, factor: Factor) -> u32 {
        match factor {
            Factor::Skill => self.skill,
            Factor::Distance => self.distance,
            Factor::Availability => self.availability,
            Factor::Rating => self.rating,
            Factor::Experience => self.experience,
            Factor::PriceVsBudget => self.price_vs_budget,
            Factor::ResponseTime => self.response_time,
            Factor::CompletionRate => self.completion_rate,
            Factor::CustomerPreference => self.customer_preference,
        }
    }

    pub fn sum(&self) -> u32 {
        Factor::ALL.iter().map(|&f| self.get(f)).sum()
    }

    pub fn validate(&self) -> Result<(), WeightsError> {
        match self.sum() {
            100 => Ok(()),
            sum => Err(WeightsError { sum }),
        }
    }
}

/// Raw facts about one technician for one request. The caller converts units first: the budget
/// is what the customer will pay for one hour, in the same currency as the hourly rate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchFacts {
    /// Whether the technician offers the requested category at all.
    pub has_skill: bool,
    /// Years the technician has worked in the requested category.
    pub years_in_category: u32,
    pub distance_km: f64,
    pub service_radius_km: f64,
    pub available_now: bool,
    /// `None` when the customer wants someone as soon as possible (no preferred start).
    pub works_at_preferred_start: Option<bool>,
    /// Average of 0-5 star ratings; ignored when `rating_count` is 0.
    pub rating_average: f64,
    pub rating_count: u32,
    /// Years of trade experience overall.
    pub years_of_experience: u32,
    pub hourly_rate_minor: i64,
    /// Customer's budget for one hour, minor units; `None` when they gave none.
    pub budget_minor: Option<i64>,
    /// Median seconds to answer a job offer; `None` before the first offer.
    pub median_response_seconds: Option<u32>,
    /// Share of accepted jobs completed, 0..=1; `None` before the first accepted job.
    pub completion_rate: Option<f64>,
    pub hired_before: bool,
    pub favourited: bool,
}

/// Quality band shown next to the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Band {
    Poor,
    Fair,
    Good,
    VeryGood,
    Excellent,
}

impl Band {
    /// Band for a total on the 0-100 scale, judged on the total rounded to one decimal (as shown).
    pub fn for_total(total: f64) -> Band {
        Band::for_tenths(super::whole::saturating_i64((total * 10.0).round()))
    }

    fn for_tenths(tenths: i64) -> Band {
        match tenths {
            900.. => Band::Excellent,
            750.. => Band::VeryGood,
            600.. => Band::Good,
            400.. => Band::Fair,
            _ => Band::Poor,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Excellent => "EXCELLENT",
            Band::VeryGood => "VERY_GOOD",
            Band::Good => "GOOD",
            Band::Fair => "FAIR",
            Band::Poor => "POOR",
        }
    }
}

/// One factor's contribution, with the reason shown to the customer.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorScore {
    pub factor: Factor,
    pub weight: u32,
    /// 0-100, one decimal.
    pub score: f64,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchScore {
    /// 0-100, one decimal: sum of weight x score over 100.
    pub total: f64,
    pub band: Band,
    /// All nine factors, in [`Factor::ALL`] order.
    pub factors: Vec<FactorScore>,
}

/// A score's total and band without its reasons: what ranking needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Total {
    /// 0-100, one decimal: sum of weight x score over 100.
    pub total: f64,
    pub band: Band,
}

/// Scores one technician, with the reason for every factor. `weights` should have passed
/// [`Weights::validate`]; the total is divided by 100, not by the weight sum, so a bad
/// configuration shows up rather than hides.
pub fn score(facts: &MatchFacts, weights: &Weights) -> MatchScore {
    let Total { total, band } = total(facts, weights);
    MatchScore {
        total,
        band,
        factors: explain(facts, weights),
    }
}

/// The total and band [`score`] gives, without writing any reasons: ranking scores every nearby
/// technician, and only the few it returns are ever explained.
pub fn total(facts: &MatchFacts, weights: &Weights) -> Total {
    let weighted_tenths: i64 = Factor::ALL
        .iter()
        .map(|&factor| i64::from(weights.get(factor)) * tenths(factor_value(factor, facts)))
        .sum();
    // weight (percent) x score (tenths) / 100 = total in tenths; round half up.
    let total_tenths = (weighted_tenths + 50).div_euclid(100);
    Total {
        total: total_tenths as f64 / 10.0,
        band: Band::for_tenths(total_tenths),
    }
}

/// Every factor's weight, score and reason, in [`Factor::ALL`] order.
pub fn explain(facts: &MatchFacts, weights: &Weights) -> Vec<FactorScore> {
    Factor::ALL
        .iter()
        .map(|&factor| FactorScore {
            factor,
            weight: weights.get(factor),
            score: tenths(factor_value(factor, facts)) as f64 / 10.0,
            explanation: factor_reason(factor, facts),
        })
        .collect()
}

/// A 0-100 score as whole tenths, clamped so a bad fact cannot leave the scale.
fn tenths(score: f64) -> i64 {
    if score.is_nan() {
        return 0;
    }
    super::whole::saturating_i64((score.clamp(0.0, 100.0) * 10.0).round())
}

/// One factor's raw 0-100 score (before rounding to tenths).
fn factor_value(factor: Factor, f: &MatchFacts) -> f64 {
    match factor {
        Factor::Skill => skill_value(f.has_skill, f.years_in_category),
        Factor::Distance => distance_value(f.distance_km, f.service_radius_km),
        Factor::Availability => availability_value(f.available_now, f.works_at_preferred_start),
        Factor::Rating => rating_value(f.rating_average, f.rating_count),
        Factor::Experience => experience_value(f.years_of_experience),
        Factor::PriceVsBudget => price_value(f.hourly_rate_minor, f.budget_minor),
        Factor::ResponseTime => response_value(f.median_response_seconds),
        Factor::CompletionRate => completion_value(f.completion_rate),
        Factor::CustomerPreference => preference_value(f.hired_before, f.favourited),
    }
}

/// The plain reason shown beside one factor's score.
fn factor_reason(factor: Factor, f: &MatchFacts) -> String {
    match factor {
        Factor::Skill => skill_reason(f.has_skill, f.years_in_category),
        Factor::Distance => distance_reason(f.distance_km, f.service_radius_km),
        Factor::Availability => availability_reason(f.available_now, f.works_at_preferred_start),
        Factor::Rating => rating_reason(f.rating_average, f.rating_count),
        Factor::Experience => experience_reason(f.years_of_experience),
        Factor::PriceVsBudget => price_reason(f.hourly_rate_minor, f.budget_minor),
        Factor::ResponseTime => response_reason(f.median_response_seconds),
        Factor::CompletionRate => completion_reason(f.completion_rate),
        Factor::CustomerPreference => preference_reason(f.hired_before, f.favourited),
    }
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Skill: 0 without the skill; offering it at all earns 60, plus 8 per year in the category,
/// reaching 100 at 5 years (depth in the exact trade matters more than general experience).
fn skill_value(has_skill: bool, years_in_category: u32) -> f64 {
    if !has_skill {
        return 0.0;
    }
    (60.0 + 8.0 * f64::from(years_in_category)).min(100.0)
}

fn skill_reason(has_skill: bool, years_in_category: u32) -> String {
    if !has_skill {
        "Does not offer this service".to_string()
    } else if years_in_category == 0 {
        "Offers this service, new to it".to_string()
    } else {
        format!(
            "{} doing this kind of work",
            plural(years_in_category, "year", "years")
        )
    }
}

/// Distance: 100 on the doorstep, falling linearly to 0 at the technician's own service radius.
fn distance_value(distance_km: f64, radius_km: f64) -> f64 {
    let within = distance_km <= radius_km;
    if !within || distance_km.is_nan() {
        0.0
    } else if radius_km <= 0.0 {
        100.0
    } else {
        100.0 * (1.0 - distance_km.max(0.0) / radius_km)
    }
}

fn distance_reason(distance_km: f64, radius_km: f64) -> String {
    if distance_km <= radius_km {
        format!("{distance_km:.1} km away, within their {radius_km:.0} km radius")
    } else {
        format!("{distance_km:.1} km away, outside their {radius_km:.0} km radius")
    }
}

/// Availability: for "as soon as possible" only being available now counts. For a scheduled
/// start, working at that time matters most (100, or 80 if offline right now); a technician who
/// is online but does not work at that time gets 40, and one who is neither gets 0.
fn availability_value(available_now: bool, at_preferred_start: Option<bool>) -> f64 {
    match (at_preferred_start, available_now) {
        (None, true) | (Some(true), true) => 100.0,
        (Some(true), false) => 80.0,
        (Some(false), true) => 40.0,
        (None, false) | (Some(false), false) => 0.0,
    }
}

fn availability_reason(available_now: bool, at_preferred_start: Option<bool>) -> String {
    match (at_preferred_start, available_now) {
        (None, true) => "Available now",
        (None, false) => "Not available right now",
        (Some(true), true) => "Available now and at your preferred time",
        (Some(true), false) => "Works at your preferred time",
        (Some(false), true) => "Available now, but not at your preferred time",
        (Some(false), false) => "Not available at your preferred time",
    }
    .to_string()
}

/// Rating: stars x 20 (4.8 stars is 96); no ratings yet is neutral, not zero, so new
/// technicians can still be matched.
fn rating_value(average: f64, count: u32) -> f64 {
    if count == 0 {
        return NEUTRAL_SCORE;
    }
    average * 20.0
}

fn rating_reason(average: f64, count: u32) -> String {
    if count == 0 {
        return "New technician, no ratings yet".to_string();
    }
    format!(
        "Rated {average:.1} from {}",
        plural(count, "review", "reviews")
    )
}

/// Experience: 10 per year of trade experience, reaching 100 at 10 years.
fn experience_value(years: u32) -> f64 {
    (10.0 * f64::from(years)).min(100.0)
}

fn experience_reason(years: u32) -> String {
    if years == 0 {
        "Less than a year of experience".to_string()
    } else {
        format!("{} of experience", plural(years, "year", "years"))
    }
}

/// Price: 100 at or under budget, falling linearly to 0 at 50% over budget. No budget means
/// any price is acceptable to the customer, so it scores 100.
fn price_value(rate_minor: i64, budget_minor: Option<i64>) -> f64 {
    let Some(budget) = budget_minor else {
        return 100.0;
    };
    if rate_minor <= budget {
        return 100.0;
    }
    if budget <= 0 {
        return 0.0;
    }
    // 100 - 200 x (rate - budget) / budget, kept in integers until the final division.
    let (rate, budget) = (i128::from(rate_minor), i128::from(budget));
    (300 * budget - 200 * rate) as f64 / budget as f64
}

fn price_reason(rate_minor: i64, budget_minor: Option<i64>) -> String {
    let Some(budget) = budget_minor else {
        return "No budget given".to_string();
    };
    if rate_minor <= budget {
        return "Rate within your budget".to_string();
    }
    if budget <= 0 {
        return "Rate above your budget".to_string();
    }
    let (rate, budget) = (i128::from(rate_minor), i128::from(budget));
    let over_percent = ((rate - budget) * 100 + budget / 2) / budget;
    format!("Rate {over_percent}% over your budget")
}

/// Seconds at or under which a reply counts as instant.
const FAST_REPLY_SECONDS: u32 = 5 * 60;
/// Seconds at or over which a reply earns nothing.
const SLOW_REPLY_SECONDS: u32 = 60 * 60;

/// Response time: 100 for a median reply within 5 minutes, falling linearly to 0 at an hour;
/// neutral without history.
fn response_value(median_seconds: Option<u32>) -> f64 {
    let Some(seconds) = median_seconds else {
        return NEUTRAL_SCORE;
    };
    if seconds <= FAST_REPLY_SECONDS {
        100.0
    } else if seconds >= SLOW_REPLY_SECONDS {
        0.0
    } else {
        100.0 * f64::from(SLOW_REPLY_SECONDS - seconds)
            / f64::from(SLOW_REPLY_SECONDS - FAST_REPLY_SECONDS)
    }
}

fn response_reason(median_seconds: Option<u32>) -> String {
    let Some(seconds) = median_seconds else {
        return "No response history yet".to_string();
    };
    let minutes = seconds.div_ceil(60).max(1);
    format!(
        "Usually replies within {}",
        plural(minutes, "minute", "minutes")
    )
}

/// Completion rate: the share of accepted jobs completed, as a percentage; neutral when new.
fn completion_value(rate: Option<f64>) -> f64 {
    rate.map_or(NEUTRAL_SCORE, |rate| rate * 100.0)
}

fn completion_reason(rate: Option<f64>) -> String {
    match rate {
        None => "No accepted jobs yet".to_string(),
        Some(rate) => format!("Completes {:.0}% of accepted jobs", rate * 100.0),
    }
}

/// Customer's past preference: a favourite scores 100, someone hired before 80, and no shared
/// history is neutral (blocked technicians never reach scoring).
fn preference_value(hired_before: bool, favourited: bool) -> f64 {
    if favourited {
        100.0
    } else if hired_before {
        80.0
    } else {
        NEUTRAL_SCORE
    }
}

fn preference_reason(hired_before: bool, favourited: bool) -> String {
    if favourited {
        "One of your favourites"
    } else if hired_before {
        "You have hired them before"
    } else {
        "No history with you yet"
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seasoned technician the customer has used before.
    fn seasoned() -> MatchFacts {
        MatchFacts {
            has_skill: true,
            years_in_category: 3,
            distance_km: 2.5,
            service_radius_km: 10.0,
            available_now: true,
            works_at_preferred_start: None,
            rating_average: 4.8,
            rating_count: 23,
            years_of_experience: 6,
            hourly_rate_minor: 150_000,
            budget_minor: Some(200_000),
            median_response_seconds: Some(300),
            completion_rate: Some(0.95),
            hired_before: true,
            favourited: false,
        }
    }

    /// A technician who just joined: skill but no record.
    fn newcomer() -> MatchFacts {
        MatchFacts {
            has_skill: true,
            service_radius_km: 10.0,
            available_now: true,
            hourly_rate_minor: 100_000,
            ..MatchFacts::default()
        }
    }

    /// Everything as good as it gets.
    fn perfect() -> MatchFacts {
        MatchFacts {
            has_skill: true,
            years_in_category: 5,
            distance_km: 0.0,
            service_radius_km: 10.0,
            available_now: true,
            works_at_preferred_start: None,
            rating_average: 5.0,
            rating_count: 50,
            years_of_experience: 10,
            hourly_rate_minor: 100_000,
            budget_minor: Some(100_000),
            median_response_seconds: Some(60),
            completion_rate: Some(1.0),
            hired_before: true,
            favourited: true,
        }
    }

    fn scores_of(m: &MatchScore) -> Vec<f64> {
        m.factors.iter().map(|f| f.score).collect()
    }

    #[test]
    fn default_weights_are_the_published_ones_and_add_up_to_100() {
        let w = Weights::default();
        let listed: Vec<u32> = Factor::ALL.iter().map(|&f| w.get(f)).collect();
        assert_eq!(listed, vec![25, 20, 15, 15, 10, 5, 5, 3, 2]);
        assert_eq!(w.validate(), Ok(()));
    }

    #[test]
    fn weights_must_add_up_to_exactly_100() {
        let d = Weights::default();
        let cases = [
            ("defaults", d, Ok(())),
            (
                "one short",
                Weights { skill: 24, ..d },
                Err(WeightsError { sum: 99 }),
            ),
            (
                "one over",
                Weights { skill: 26, ..d },
                Err(WeightsError { sum: 101 }),
            ),
            (
                "all zero",
                Weights {
                    skill: 0,
                    distance: 0,
                    availability: 0,
                    rating: 0,
                    experience: 0,
                    price_vs_budget: 0,
                    response_time: 0,
                    completion_rate: 0,
                    customer_preference: 0,
                },
                Err(WeightsError { sum: 0 }),
            ),
            (
                "moved between factors",
                Weights {
                    skill: 20,
                    distance: 25,
                    ..d
                },
                Ok(()),
            ),
        ];
        for (name, weights, want) in cases {
            assert_eq!(weights.validate(), want, "{name}");
        }
    }

    #[test]
    fn seasoned_technician_scores_hand_computed_total() {
        let m = score(&seasoned(), &Weights::default());
        // skill 60+3x8, distance 2.5 of 10 km, available, 4.8 stars, 6 years, under budget,
        // 5-minute replies, 95% completion, hired before.
        assert_eq!(
            scores_of(&m),
            vec![84.0, 75.0, 100.0, 96.0, 60.0, 100.0, 100.0, 95.0, 80.0]
        );
        // (25x84 + 20x75 + 15x100 + 15x96 + 10x60 + 5x100 + 5x100 + 3x95 + 2x80) / 100 = 85.85,
        // which rounds half up to 85.9.
        assert_eq!(m.total, 85.9);
        assert_eq!(m.band, Band::VeryGood);
    }

    #[test]
    fn new_technician_gets_neutral_scores_not_zero_for_missing_history() {
        let m = score(&newcomer(), &Weights::default());
        let by_factor = |f: Factor| m.factors.iter().find(|s| s.factor == f).unwrap().score;
        assert_eq!(by_factor(Factor::Rating), NEUTRAL_SCORE);
        assert_eq!(by_factor(Factor::ResponseTime), NEUTRAL_SCORE);
        assert_eq!(by_factor(Factor::CompletionRate), NEUTRAL_SCORE);
        assert_eq!(by_factor(Factor::CustomerPreference), NEUTRAL_SCORE);
        assert_eq!(
            scores_of(&m),
            vec![60.0, 100.0, 100.0, 60.0, 0.0, 100.0, 60.0, 60.0, 60.0]
        );
        // 1500 + 2000 + 1500 + 900 + 0 + 500 + 300 + 180 + 120 = 7000
        assert_eq!(m.total, 70.0);
        assert_eq!(m.band, Band::Good);
    }

    #[test]
    fn perfect_technician_scores_100() {
        let m = score(&perfect(), &Weights::default());
        assert!(m.factors.iter().all(|f| f.score == 100.0), "{m:?}");
        assert_eq!(m.total, 100.0);
        assert_eq!(m.band, Band::Excellent);
    }

    #[test]
    fn total_on_a_band_boundary_lands_in_the_higher_band() {
        let cases = [
            // perfect except distance: halfway to the radius costs 20 x 50 / 100 = 10 points.
            (5.0, 90.0, Band::Excellent),
            // distance score 49.5 costs 10.1 points.
            (5.05, 89.9, Band::VeryGood),
        ];
        for (km, total, band) in cases {
            let facts = MatchFacts {
                distance_km: km,
                ..perfect()
            };
            let m = score(&facts, &Weights::default());
            assert_eq!((m.total, m.band), (total, band), "{km} km");
        }
    }

    #[test]
    fn bands_start_at_90_75_60_and_40() {
        let cases = [
            (100.0, Band::Excellent),
            (90.0, Band::Excellent),
            (89.9, Band::VeryGood),
            (89.96, Band::Excellent), // shown as 90.0
            (75.0, Band::VeryGood),
            (74.9, Band::Good),
            (60.0, Band::Good),
            (59.9, Band::Fair),
            (40.0, Band::Fair),
            (39.9, Band::Poor),
            (0.0, Band::Poor),
        ];
        for (total, band) in cases {
            assert_eq!(Band::for_total(total), band, "{total}");
        }
    }

    #[test]
    fn band_names_are_screaming_snake_case() {
        let names: Vec<&str> = [
            Band::Excellent,
            Band::VeryGood,
            Band::Good,
            Band::Fair,
            Band::Poor,
        ]
        .iter()
        .map(|b| b.as_str())
        .collect();
        assert_eq!(
            names,
            vec!["EXCELLENT", "VERY_GOOD", "GOOD", "FAIR", "POOR"]
        );
    }

    /// A curve's raw score as shown: rounded to one decimal.
    fn shown(raw: f64) -> f64 {
        tenths(raw) as f64 / 10.0
    }

    #[test]
    fn skill_scores_60_for_offering_it_rising_to_100_at_five_years() {
        let cases = [
            (false, 0, 0.0),
            (false, 9, 0.0),
            (true, 0, 60.0),
            (true, 1, 68.0),
            (true, 4, 92.0),
            (true, 5, 100.0),
            (true, 20, 100.0),
        ];
        for (has_skill, years, want) in cases {
            assert_eq!(
                shown(skill_value(has_skill, years)),
                want,
                "{has_skill} {years}"
            );
        }
    }

    #[test]
    fn distance_scores_100_at_the_door_falling_to_0_at_the_service_radius() {
        let cases = [
            (0.0, 10.0, 100.0),
            (2.5, 10.0, 75.0),
            (5.0, 15.0, 66.7),
            (9.99, 10.0, 0.1),
            (10.0, 10.0, 0.0),
            (12.0, 10.0, 0.0),
            (0.0, 0.0, 100.0),
            (0.1, 0.0, 0.0),
            (f64::NAN, 10.0, 0.0),
        ];
        for (km, radius, want) in cases {
            assert_eq!(shown(distance_value(km, radius)), want, "{km} of {radius}");
        }
    }

    #[test]
    fn availability_at_the_preferred_start_matters_more_than_being_online_now() {
        let cases = [
            (true, None, 100.0),
            (false, None, 0.0),
            (true, Some(true), 100.0),
            (false, Some(true), 80.0),
            (true, Some(false), 40.0),
            (false, Some(false), 0.0),
        ];
        for (now, at_start, want) in cases {
            assert_eq!(
                shown(availability_value(now, at_start)),
                want,
                "{now} {at_start:?}"
            );
        }
    }

    #[test]
    fn rating_scores_20_per_star_and_neutral_without_ratings() {
        let cases = [
            (5.0, 40, 100.0),
            (4.8, 23, 96.0),
            (1.0, 1, 20.0),
            (0.0, 3, 0.0),
            (0.0, 0, NEUTRAL_SCORE),
            (5.0, 0, NEUTRAL_SCORE),
        ];
        for (average, count, want) in cases {
            assert_eq!(
                shown(rating_value(average, count)),
                want,
                "{average} x {count}"
            );
        }
    }

    #[test]
    fn experience_scores_10_per_year_up_to_10_years() {
        for (years, want) in [(0, 0.0), (1, 10.0), (7, 70.0), (10, 100.0), (25, 100.0)] {
            assert_eq!(shown(experience_value(years)), want, "{years} years");
        }
    }

    #[test]
    fn price_scores_100_within_budget_falling_to_0_at_half_again_over() {
        let cases = [
            (150_000, Some(200_000), 100.0),
            (200_000, Some(200_000), 100.0),
            (240_000, Some(200_000), 60.0),
            (300_000, Some(200_000), 0.0),
            (400_000, Some(200_000), 0.0),
            (1, Some(0), 0.0),
            (0, Some(0), 100.0),
            (999_999, None, 100.0),
        ];
        for (rate, budget, want) in cases {
            assert_eq!(
                shown(price_value(rate, budget)),
                want,
                "{rate} vs {budget:?}"
            );
        }
    }

    #[test]
    fn replies_within_5_minutes_score_100_falling_to_0_at_an_hour() {
        let cases = [
            (Some(0), 100.0),
            (Some(300), 100.0),
            (Some(301), 100.0), // 99.97 shows as 100.0
            (Some(1_950), 50.0),
            (Some(3_599), 0.0),
            (Some(3_600), 0.0),
            (Some(86_400), 0.0),
            (None, NEUTRAL_SCORE),
        ];
        for (seconds, want) in cases {
            assert_eq!(shown(response_value(seconds)), want, "{seconds:?}");
        }
    }

    #[test]
    fn completion_rate_scores_its_percentage_and_neutral_when_new() {
        let cases = [
            (Some(1.0), 100.0),
            (Some(0.95), 95.0),
            (Some(0.0), 0.0),
            (None, NEUTRAL_SCORE),
        ];
        for (rate, want) in cases {
            assert_eq!(shown(completion_value(rate)), want, "{rate:?}");
        }
    }

    #[test]
    fn favourites_score_100_past_hires_80_and_strangers_neutral() {
        let cases = [
            (false, true, 100.0),
            (true, true, 100.0),
            (true, false, 80.0),
            (false, false, NEUTRAL_SCORE),
        ];
        for (hired_before, favourited, want) in cases {
            assert_eq!(
                shown(preference_value(hired_before, favourited)),
                want,
                "{hired_before} {favourited}"
            );
        }
    }

    #[test]
    fn scores_stay_on_the_0_to_100_scale_for_nonsense_facts() {
        let facts = MatchFacts {
            rating_average: 7.5,
            rating_count: 2,
            completion_rate: Some(1.4),
            distance_km: -3.0,
            ..seasoned()
        };
        let m = score(&facts, &Weights::default());
        assert!(
            m.factors.iter().all(|f| (0.0..=100.0).contains(&f.score)),
            "{m:?}"
        );
        assert!((0.0..=100.0).contains(&m.total));
    }

    #[test]
    fn custom_weights_change_the_total() {
        let skill_only = Weights {
            skill: 100,
            distance: 0,
            availability: 0,
            rating: 0,
            experience: 0,
            price_vs_budget: 0,
            response_time: 0,
            completion_rate: 0,
            customer_preference: 0,
        };
        assert_eq!(skill_only.validate(), Ok(()));
        let m = score(&seasoned(), &skill_only);
        assert_eq!(m.total, 84.0);
        assert_eq!(m.factors[0].weight, 100);
    }

    #[test]
    fn every_factor_is_explained_in_words() {
        let m = score(&seasoned(), &Weights::default());
        let texts: Vec<&str> = m.factors.iter().map(|f| f.explanation.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "3 years doing this kind of work",
                "2.5 km away, within their 10 km radius",
                "Available now",
                "Rated 4.8 from 23 reviews",
                "6 years of experience",
                "Rate within your budget",
                "Usually replies within 5 minutes",
                "Completes 95% of accepted jobs",
                "You have hired them before",
            ]
        );
        let over = score(
            &MatchFacts {
                hourly_rate_minor: 240_000,
                distance_km: 11.0,
                ..newcomer()
            },
            &Weights::default(),
        );
        let texts: Vec<&str> = over
            .factors
            .iter()
            .map(|f| f.explanation.as_str())
            .collect();
        assert_eq!(texts[0], "Offers this service, new to it");
        assert_eq!(texts[1], "11.0 km away, outside their 10 km radius");
        assert_eq!(texts[3], "New technician, no ratings yet");
        assert_eq!(texts[5], "No budget given");
        assert_eq!(texts[6], "No response history yet");
    }

    #[test]
    fn price_explanation_says_how_far_over_budget() {
        let facts = MatchFacts {
            hourly_rate_minor: 240_000,
            ..seasoned()
        };
        let m = score(&facts, &Weights::default());
        assert_eq!(m.factors[5].explanation, "Rate 20% over your budget");
    }

    fn any_facts() -> impl proptest::strategy::Strategy<Value = MatchFacts> {
        use proptest::prelude::*;
        (
            (
                any::<bool>(),
                0u32..30,
                -1.0f64..60.0,
                0.0f64..50.0,
                any::<bool>(),
            ),
            (
                proptest::option::of(any::<bool>()),
                0.0f64..6.0,
                0u32..200,
                0u32..40,
            ),
            (0i64..1_000_000, proptest::option::of(-10i64..1_000_000)),
            (
                proptest::option::of(0u32..10_000),
                proptest::option::of(0.0f64..1.2),
            ),
            (any::<bool>(), any::<bool>()),
        )
            .prop_map(|(a, b, c, d, e)| MatchFacts {
                has_skill: a.0,
                years_in_category: a.1,
                distance_km: a.2,
                service_radius_km: a.3,
                available_now: a.4,
                works_at_preferred_start: b.0,
                rating_average: b.1,
                rating_count: b.2,
                years_of_experience: b.3,
                hourly_rate_minor: c.0,
                budget_minor: c.1,
                median_response_seconds: d.0,
                completion_rate: d.1,
                hired_before: e.0,
                favourited: e.1,
            })
    }

    proptest::proptest! {
        /// Ranking uses `total` alone; the reasons shown for the few returned must add up to it.
        #[test]
        fn the_total_is_what_the_explained_factors_add_up_to(
            facts in any_facts(),
            split in proptest::collection::vec(0u32..=100, 8),
        ) {
            let mut weights = [0u32; 9];
            let mut left = 100u32;
            for (slot, share) in weights.iter_mut().zip(&split) {
                *slot = share * left / 100;
                left -= *slot;
            }
            weights[8] = left;
            let weights = Weights {
                skill: weights[0],
                distance: weights[1],
                availability: weights[2],
                rating: weights[3],
                experience: weights[4],
                price_vs_budget: weights[5],
                response_time: weights[6],
                completion_rate: weights[7],
                customer_preference: weights[8],
            };
            proptest::prop_assert_eq!(weights.validate(), Ok(()));
            let ranked = total(&facts, &weights);
            let shown = score(&facts, &weights);
            proptest::prop_assert_eq!(ranked.total, shown.total);
            proptest::prop_assert_eq!(ranked.band, shown.band);
            let by_hand: f64 = explain(&facts, &weights)
                .iter()
                .map(|f| f64::from(f.weight) * f.score)
                .sum::<f64>()
                / 100.0;
            proptest::prop_assert!((by_hand - ranked.total).abs() <= 0.05 + 1e-9, "{} vs {}", by_hand, ranked.total);
        }
    }
}
