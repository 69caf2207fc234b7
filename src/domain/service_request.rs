//! What a customer's request for a job must say before it is priced and dispatched: its texts, a
//! budget in one currency, a start that is neither past nor too far ahead (or none, for urgent
//! work) and a plausible duration. Its point and amounts arrive parsed.

use super::bounds::check_not_too_far;
use super::geo::LatLng;
use super::money::Money;
use super::pricing::Priority;
use super::refusal::{Refusal, refuse};
use super::text::bounded;
use chrono::{DateTime, Utc};
use std::ops::RangeInclusive;

pub const TITLE_CHARS: RangeInclusive<usize> = 3..=120;
pub const DESCRIPTION_CHARS: RangeInclusive<usize> = 0..=2000;
pub const ADDRESS_CHARS: RangeInclusive<usize> = 3..=300;
/// A job shorter than a quarter hour is not worth a trip; longer than twelve hours is several jobs.
pub const DURATION_MINUTES: RangeInclusive<i32> = 15..=720;

/// A request as the customer sent it.
#[derive(Debug, Clone)]
pub struct RequestDraft<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub address: &'a str,
    pub location: LatLng,
    pub priority: Priority,
    pub budget_min: Money,
    pub budget_max: Money,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub estimated_duration_minutes: i32,
}

/// A request that passed every rule, its texts trimmed.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedRequest {
    pub title: String,
    pub description: String,
    pub address: String,
    pub location: LatLng,
    pub priority: Priority,
    pub budget_min: Money,
    pub budget_max: Money,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub estimated_duration_minutes: i32,
}

fn text(value: &str, field: &'static str, chars: RangeInclusive<usize>) -> Result<String, Refusal> {
    bounded(value, *chars.start(), *chars.end()).map_err(|r| refuse(field, r.message(field)))
}

/// Checks a request in the order a form reads: texts, budget, time, duration. The first rule
/// broken is the answer.
pub fn check(draft: &RequestDraft<'_>, now: DateTime<Utc>) -> Result<CheckedRequest, Refusal> {
    let title = text(draft.title, "title", TITLE_CHARS)?;
    let description = text(draft.description, "description", DESCRIPTION_CHARS)?;
    let address = text(draft.address, "address", ADDRESS_CHARS)?;
    let (min, max) = (draft.budget_min, draft.budget_max);
    if min.amount_minor < 0 {
        return Err(refuse("budgetMin.amountMinor", "budget cannot be negative"));
    }
    if min.currency != max.currency {
        return Err(refuse(
            "budgetMax.currency",
            "both budgets must be in one currency",
        ));
    }
    if min.amount_minor > max.amount_minor {
        return Err(refuse(
            "budgetMax.amountMinor",
            "budgetMin must not exceed budgetMax",
        ));
    }
    match draft.scheduled_start {
        Some(start) => {
            check_not_too_far(start, now)
                .map_err(|p| refuse("scheduledStart", format!("scheduledStart {}", p.message())))?;
            if start < now {
                return Err(refuse("scheduledStart", "the start cannot be in the past"));
            }
        }
        None if !matches!(draft.priority, Priority::High | Priority::Urgent) => {
            return Err(refuse(
                "scheduledStart",
                "as-soon-as-possible jobs must be HIGH or URGENT; otherwise give a start",
            ));
        }
        None => {}
    }
    if !DURATION_MINUTES.contains(&draft.estimated_duration_minutes) {
        return Err(refuse(
            "estimatedDurationMinutes",
            "duration must be 15 to 720 minutes",
        ));
    }
    Ok(CheckedRequest {
        title,
        description,
        address,
        location: draft.location,
        priority: draft.priority,
        budget_min: min,
        budget_max: max,
        scheduled_start: draft.scheduled_start,
        estimated_duration_minutes: draft.estimated_duration_minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        "2026-11-02T09:00:00Z".parse().unwrap()
    }

    fn kes(amount_minor: i64) -> Money {
        Money::new(amount_minor, Currency::parse("KES").unwrap())
    }

    fn draft() -> RequestDraft<'static> {
        RequestDraft {
            title: "  Kitchen sink leaking ",
            description: "",
            address: "Ngong Road 14",
            location: LatLng::new(-1.2999, 36.7828).unwrap(),
            priority: Priority::Medium,
            budget_min: kes(200_000),
            budget_max: kes(500_000),
            scheduled_start: Some(now() + Duration::hours(3)),
            estimated_duration_minutes: 90,
        }
    }

    #[test]
    fn a_good_request_is_trimmed_and_parsed() {
        let checked = check(&draft(), now()).unwrap();
        assert_eq!(checked.title, "Kitchen sink leaking");
        assert_eq!(checked.budget_min.currency.code(), "KES");
        assert_eq!(checked.budget_max.amount_minor, 500_000);
        assert_eq!(checked.location.lat(), -1.2999);
    }

    #[test]
    fn each_rule_names_the_field_it_refuses() {
        type Edit = fn(&mut RequestDraft<'static>);
        let cases: [(Edit, &str, &str); 12] = [
            (
                |d| d.title = "ab",
                "title",
                "title must be 3 to 120 characters",
            ),
            (
                |d| d.title = "Tap\0",
                "title",
                "title must not contain control characters",
            ),
            (
                |d| d.description = "\u{7}",
                "description",
                "description must not contain",
            ),
            (
                |d| d.address = " x ",
                "address",
                "address must be 3 to 300 characters",
            ),
            (
                |d| d.budget_min = kes(-1),
                "budgetMin.amountMinor",
                "budget cannot be negative",
            ),
            (
                |d| d.budget_max = Money::new(500_000, Currency::parse("INR").unwrap()),
                "budgetMax.currency",
                "both budgets must be in one currency",
            ),
            (
                |d| d.budget_min = kes(600_000),
                "budgetMax.amountMinor",
                "budgetMin must not exceed budgetMax",
            ),
            (
                |d| d.scheduled_start = Some(now() - Duration::minutes(1)),
                "scheduledStart",
                "the start cannot be in the past",
            ),
            (
                |d| d.scheduled_start = Some(now() + Duration::days(400)),
                "scheduledStart",
                "scheduledStart must be at most 366 days ahead",
            ),
            (
                |d| d.scheduled_start = None,
                "scheduledStart",
                "as-soon-as-possible jobs must be HIGH or URGENT",
            ),
            (
                |d| d.estimated_duration_minutes = 14,
                "estimatedDurationMinutes",
                "duration must be 15 to 720 minutes",
            ),
            (
                |d| d.estimated_duration_minutes = 721,
                "estimatedDurationMinutes",
                "duration must be 15 to 720 minutes",
            ),
        ];
        for (edit, field, message) in cases {
            let mut d = draft();
            edit(&mut d);
            let refusal = check(&d, now()).unwrap_err();
            assert_eq!(refusal.field, field, "{refusal:?}");
            assert!(refusal.message.starts_with(message), "{refusal:?}");
        }
    }

    #[test]
    fn urgent_work_may_start_as_soon_as_possible_and_edges_are_kept() {
        for priority in [Priority::High, Priority::Urgent] {
            let mut d = draft();
            (d.scheduled_start, d.priority) = (None, priority);
            assert!(check(&d, now()).is_ok(), "{priority:?}");
        }
        let mut d = draft();
        d.estimated_duration_minutes = 15;
        d.scheduled_start = Some(now());
        d.budget_min = kes(500_000);
        assert!(check(&d, now()).is_ok());
        d.estimated_duration_minutes = 720;
        assert!(check(&d, now()).is_ok());
    }
}
