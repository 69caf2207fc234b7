//! Live tracking rules: sane position readings, ETA at a travel speed, the arrival geofence, which
//! points a booking accepts (order, rate, trail thinning) and when a finished job's trail expires.
//!
//! Times are unix milliseconds passed in by the caller; nothing here reads a clock.

use super::booking_state::Status;
use super::geo::{DEFAULT_MINUTES_PER_KM, eta_minutes};
use std::fmt;
use std::ops::RangeInclusive;

/// GPS accuracy radius a phone may report; beyond this the fix is useless anyway.
pub const ACCURACY_RANGE_M: RangeInclusive<f64> = 0.0..=10_000.0;
/// Compass heading, degrees clockwise from north (360 and 0 are both north).
pub const HEADING_RANGE_DEG: RangeInclusive<f64> = 0.0..=360.0;
/// Ground speed; anything faster is a bad fix, not a technician.
pub const SPEED_RANGE_KMH: RangeInclusive<f64> = 0.0..=300.0;

/// The optional parts of a reading that was out of range, named as the API field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadingError {
    pub field: &'static str,
    pub range: (f64, f64),
}

impl fmt::Display for ReadingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be between {} and {}",
            self.field, self.range.0, self.range.1
        )
    }
}

impl std::error::Error for ReadingError {}

/// Checks accuracy, heading and speed when given (coordinates are `geo::validate_lat_lng`'s job).
/// Shared by `updateLocation` and `shareLocation` so both accept exactly the same readings.
pub fn validate_motion(
    accuracy_m: Option<f64>,
    heading_deg: Option<f64>,
    speed_kmh: Option<f64>,
) -> Result<(), ReadingError> {
    let checks = [
        (accuracy_m, "accuracyM", ACCURACY_RANGE_M),
        (heading_deg, "headingDeg", HEADING_RANGE_DEG),
        (speed_kmh, "speedKmh", SPEED_RANGE_KMH),
    ];
    for (value, field, range) in checks {
        // `contains` is false for NaN, and infinities are out of range, so this also means "finite".
        if let Some(v) = value
            && !range.contains(&v)
        {
            return Err(ReadingError {
                field,
                range: (*range.start(), *range.end()),
            });
        }
    }
    Ok(())
}

/// Minutes to cover `distance_km` at `speed_kmh`: `max(5, round(60 / speed × km))`.
/// A speed that is not a positive number falls back to the default pace rather than dividing by zero.
pub fn eta_at_speed(distance_km: f64, speed_kmh: f64) -> u32 {
    let minutes_per_km = if speed_kmh.is_finite() && speed_kmh > 0.0 {
        60.0 / speed_kmh
    } else {
        DEFAULT_MINUTES_PER_KM
    };
    eta_minutes(distance_km, minutes_per_km)
}

/// Statuses in which the technician shares their position with the customer: from acceptance until
/// the work is under way. Paused work and everything after it is private again.
pub fn shares_location(status: Status) -> bool {
    matches!(
        status,
        Status::Accepted | Status::EnRoute | Status::Arrived | Status::InProgress
    )
}

/// The platform marks arrival for a technician en route whose reading is within the geofence.
pub fn arrives(status: Status, distance_km: f64, geofence_m: f64) -> bool {
    status == Status::EnRoute && distance_km * 1000.0 <= geofence_m
}

/// Limits on the points one booking accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointRules {
    /// At most one accepted point per this many milliseconds (server time).
    pub min_gap_ms: i64,
    /// A reading may claim to be this far in the future (clock skew), no more.
    pub max_ahead_ms: i64,
    /// At most one stored trail point per this many milliseconds of recorded time.
    pub trail_interval_ms: i64,
}

impl PointRules {
    pub fn new(trail_interval_secs: i64) -> PointRules {
        PointRules {
            min_gap_ms: 1_000,
            max_ahead_ms: 2 * 60 * 1_000,
            trail_interval_ms: trail_interval_secs.saturating_mul(1_000),
        }
    }
}

/// The last point a booking accepted: when it was recorded and accepted, and when the trail last kept one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub recorded_ms: i64,
    pub accepted_ms: i64,
    pub trail_ms: i64,
}

/// Why a point was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// recordedAt is further ahead of the server's clock than the rules allow.
    TooFarAhead,
    /// recordedAt is not after the last accepted point's.
    NotAfterLast,
    /// The previous point was accepted less than `min_gap_ms` ago.
    TooSoon { retry_after_ms: i64 },
}

/// An accepted point: the booking's new head and whether this point also goes into the trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub head: Head,
    pub keep_in_trail: bool,
}

/// Decides whether a booking whose last accepted point is `head` takes a point recorded at
/// `recorded_ms`, arriving at `now_ms`. Input faults (future, order) are reported before the rate,
/// so a client learns about a bad reading even when it also sends too fast.
pub fn admit(
    head: Option<&Head>,
    recorded_ms: i64,
    now_ms: i64,
    rules: &PointRules,
) -> Result<Admission, Refusal> {
    if recorded_ms > now_ms.saturating_add(rules.max_ahead_ms) {
        return Err(Refusal::TooFarAhead);
    }
    let Some(head) = head else {
        return Ok(Admission {
            head: Head {
                recorded_ms,
                accepted_ms: now_ms,
                trail_ms: recorded_ms,
            },
            keep_in_trail: true,
        });
    };
    if recorded_ms <= head.recorded_ms {
        return Err(Refusal::NotAfterLast);
    }
    let since = now_ms.saturating_sub(head.accepted_ms);
    if since < rules.min_gap_ms {
        return Err(Refusal::TooSoon {
            retry_after_ms: rules.min_gap_ms - since,
        });
    }
    let keep_in_trail = recorded_ms.saturating_sub(head.trail_ms) >= rules.trail_interval_ms;
    Ok(Admission {
        head: Head {
            recorded_ms,
            accepted_ms: now_ms,
            trail_ms: if keep_in_trail {
                recorded_ms
            } else {
                head.trail_ms
            },
        },
        keep_in_trail,
    })
}

/// Statuses after which a booking's trail starts its retention countdown: the job is over (a paid
/// job's dispute window is shorter than the retention period).
pub fn final_statuses() -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|s| s.job_is_over())
        .collect()
}

/// A finished booking's trail is deleted `retention_days` after it reached its final status;
/// anything that changed status before the returned instant (unix ms) is due.
pub fn trail_cutoff_ms(now_ms: i64, retention_days: i64) -> i64 {
    now_ms.saturating_sub(retention_days.saturating_mul(24 * 60 * 60 * 1_000))
}

/// Whether a booking in `status` since `status_changed_ms` has outlived its trail.
pub fn trail_expired(
    status: Status,
    status_changed_ms: i64,
    now_ms: i64,
    retention_days: i64,
) -> bool {
    status.job_is_over() && status_changed_ms < trail_cutoff_ms(now_ms, retention_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000_000;
    const DAY_MS: i64 = 24 * 60 * 60 * 1_000;

    fn rules() -> PointRules {
        PointRules::new(15)
    }

    fn head(recorded_ms: i64, accepted_ms: i64, trail_ms: i64) -> Head {
        Head {
            recorded_ms,
            accepted_ms,
            trail_ms,
        }
    }

    #[test]
    fn readings_in_range_are_accepted() {
        let cases = [
            (None, None, None),
            (Some(0.0), Some(0.0), Some(0.0)),
            (Some(10_000.0), Some(360.0), Some(300.0)),
            (Some(4.5), Some(271.0), Some(38.2)),
        ];
        for (accuracy, heading, speed) in cases {
            assert_eq!(
                validate_motion(accuracy, heading, speed),
                Ok(()),
                "{accuracy:?} {heading:?} {speed:?}"
            );
        }
    }

    #[test]
    fn bad_readings_name_the_field_at_fault() {
        let cases = [
            (Some(-0.1), None, None, "accuracyM"),
            (Some(10_000.1), None, None, "accuracyM"),
            (Some(f64::NAN), None, None, "accuracyM"),
            (None, Some(-1.0), None, "headingDeg"),
            (None, Some(360.5), None, "headingDeg"),
            (None, Some(f64::INFINITY), None, "headingDeg"),
            (None, None, Some(-3.0), "speedKmh"),
            (None, None, Some(301.0), "speedKmh"),
            // Accuracy is checked first.
            (Some(-1.0), Some(-1.0), Some(-1.0), "accuracyM"),
        ];
        for (accuracy, heading, speed, field) in cases {
            let err = validate_motion(accuracy, heading, speed).expect_err("refused");
            assert_eq!(err.field, field, "{accuracy:?} {heading:?} {speed:?}");
        }
        assert_eq!(
            validate_motion(None, None, Some(500.0))
                .unwrap_err()
                .to_string(),
            "speedKmh must be between 0 and 300"
        );
    }

    #[test]
    fn eta_is_sixty_over_speed_minutes_per_km_but_never_under_five() {
        let cases = [
            // (km, speed km/h, minutes)
            (0.0, 20.0, 5),
            (1.0, 20.0, 5), // 3 rounds to 3, raised to 5
            (2.0, 20.0, 6),
            (3.2, 20.0, 10), // 9.6
            (10.0, 20.0, 30),
            (10.0, 40.0, 15),
            (10.0, 60.0, 10),
            (7.0, 30.0, 14),
            (0.1, 1.0, 6),
            (10.0, 0.0, 30),      // no speed: the default pace of 3 min/km
            (10.0, -5.0, 30),     // nonsense speed: the default pace
            (10.0, f64::NAN, 30), // likewise
            (f64::NAN, 20.0, 5),  // nonsense distance: the minimum
            (-2.0, 20.0, 5),      // likewise
        ];
        for (km, speed, minutes) in cases {
            assert_eq!(eta_at_speed(km, speed), minutes, "{km} km at {speed} km/h");
        }
    }

    #[test]
    fn location_is_shared_from_acceptance_until_work_is_under_way() {
        let shared = [
            Status::Accepted,
            Status::EnRoute,
            Status::Arrived,
            Status::InProgress,
        ];
        for status in Status::ALL {
            assert_eq!(
                shares_location(status),
                shared.contains(&status),
                "{status}"
            );
        }
    }

    #[test]
    fn arrival_needs_en_route_and_the_geofence() {
        let cases = [
            (Status::EnRoute, 0.0, true),
            (Status::EnRoute, 0.099, true),
            (Status::EnRoute, 0.1, true), // exactly on the fence counts
            (Status::EnRoute, 0.101, false),
            (Status::EnRoute, 5.0, false),
            (Status::Accepted, 0.0, false),
            (Status::Arrived, 0.0, false),
            (Status::InProgress, 0.05, false),
        ];
        for (status, km, want) in cases {
            assert_eq!(arrives(status, km, 100.0), want, "{status} at {km} km");
        }
    }

    /// A case name, the booking's head, the new point's recordedAt, and whether it is kept in the trail.
    type Case = (&'static str, Option<Head>, i64, Result<bool, Refusal>);

    #[test]
    fn admission_follows_order_rate_and_clock_rules() {
        let last = Some(head(NOW - 5_000, NOW - 2_000, NOW - 10_000));
        let just_accepted = Some(head(NOW - 5_000, NOW - 400, NOW - 5_000));
        let cases: [Case; 10] = [
            ("first point is kept", None, NOW, Ok(true)),
            ("first point from the past", None, NOW - 60_000, Ok(true)),
            ("two minutes ahead is skew", None, NOW + 120_000, Ok(true)),
            (
                "beyond two minutes ahead",
                None,
                NOW + 120_001,
                Err(Refusal::TooFarAhead),
            ),
            (
                "after the last, inside the trail interval",
                last,
                NOW - 4_999,
                Ok(false),
            ),
            (
                "15 s after the last trail point",
                last,
                NOW + 5_000,
                Ok(true),
            ),
            (
                "same recordedAt as the last",
                last,
                NOW - 5_000,
                Err(Refusal::NotAfterLast),
            ),
            (
                "older than the last",
                last,
                NOW - 9_000,
                Err(Refusal::NotAfterLast),
            ),
            (
                "under a second since the last",
                just_accepted,
                NOW,
                Err(Refusal::TooSoon {
                    retry_after_ms: 600,
                }),
            ),
            (
                "order is judged before rate",
                just_accepted,
                NOW - 6_000,
                Err(Refusal::NotAfterLast),
            ),
        ];
        for (name, head, recorded, want) in cases {
            let got = admit(head.as_ref(), recorded, NOW, &rules()).map(|a| a.keep_in_trail);
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_second_apart_is_exactly_allowed() {
        let last = head(NOW - 10_000, NOW - 1_000, NOW - 10_000);
        assert!(admit(Some(&last), NOW, NOW, &rules()).is_ok());
        let last = head(NOW - 10_000, NOW - 999, NOW - 10_000);
        assert_eq!(
            admit(Some(&last), NOW, NOW, &rules()),
            Err(Refusal::TooSoon { retry_after_ms: 1 })
        );
    }

    #[test]
    fn the_trail_keeps_at_most_one_point_per_interval() {
        // Points every 5 s of recorded time, one per second of server time.
        let mut head = None;
        let mut kept = vec![];
        for i in 0..10 {
            let recorded = NOW + i * 5_000;
            let admission = admit(head.as_ref(), recorded, NOW + i * 1_000, &rules()).unwrap();
            if admission.keep_in_trail {
                kept.push(i * 5);
            }
            head = Some(admission.head);
        }
        assert_eq!(kept, vec![0, 15, 30, 45]);
    }

    #[test]
    fn accepted_points_advance_the_head() {
        let first = admit(None, NOW - 1_000, NOW, &rules()).unwrap().head;
        assert_eq!(first, head(NOW - 1_000, NOW, NOW - 1_000));
        let second = admit(Some(&first), NOW + 500, NOW + 1_000, &rules())
            .unwrap()
            .head;
        assert_eq!(second, head(NOW + 500, NOW + 1_000, NOW - 1_000));
    }

    #[test]
    fn only_finished_jobs_lose_their_trail_after_the_retention_period() {
        let cases = [
            (Status::Cancelled, NOW - 31 * DAY_MS, true),
            (Status::Refunded, NOW - 30 * DAY_MS - 1, true),
            (Status::Cancelled, NOW - 30 * DAY_MS, false), // exactly 30 days: not yet
            (Status::Cancelled, NOW - DAY_MS, false),
            (Status::Paid, NOW - 31 * DAY_MS, true),
            (Status::Disputed, NOW - 365 * DAY_MS, false),
            (Status::InProgress, NOW - 365 * DAY_MS, false),
        ];
        for (status, changed, want) in cases {
            assert_eq!(trail_expired(status, changed, NOW, 30), want, "{status}");
        }
        assert_eq!(
            final_statuses(),
            vec![Status::Paid, Status::Refunded, Status::Cancelled]
        );
    }
}
