//! Earnings periods and totals: where a technician's local day, week (Monday first) and month
//! begin, which periods a requested range covers, and how classified movements on the technician's
//! accounts add up per period. Pure: the time zone, the range and the movements are arguments.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// How long one bucket of an earnings series is, in the technician's own calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// From local midnight to the next local midnight (23 or 25 hours across a DST change).
    Day,
    /// Seven local days from Monday's midnight.
    Week,
    /// From midnight on the 1st to midnight on the next month's 1st.
    Month,
}

impl Period {
    /// The most buckets one request may ask for: a leap year of days, five years of weeks or of
    /// months. Keeps one query's work and answer bounded whatever range a client sends.
    pub fn max_buckets(self) -> usize {
        match self {
            Period::Day => 366,
            Period::Week => 262,
            Period::Month => 60,
        }
    }

    /// The local date on which the period containing `date` begins.
    pub fn first_day(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => date,
            Period::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
            Period::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The first local date of the period after the one beginning on `first`, or None past the
    /// end of the calendar chrono can represent.
    fn next_first_day(self, first: NaiveDate) -> Option<NaiveDate> {
        match self {
            Period::Day => first.checked_add_signed(Duration::days(1)),
            Period::Week => first.checked_add_signed(Duration::days(7)),
            Period::Month => first.checked_add_months(Months::new(1)),
        }
    }

    /// The instant the period containing `at` begins, in `tz`.
    pub fn start_containing(self, tz: Tz, at: DateTime<Utc>) -> DateTime<Utc> {
        start_of_day(tz, self.first_day(at.with_timezone(&tz).date_naive()))
    }
}

/// The instant a local date begins in `tz`: its midnight; where midnight happens twice, the first
/// one; where a DST change skips midnight (clocks jump from 00:00 to 01:00 in some zones), the
/// first local time that exists that day, so no instant of the day falls before its start.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A gap is at most a few hours; stepping a minute at a time finds its end.
    for minutes in 0..=24 * 60 {
        let local = midnight + Duration::minutes(minutes);
        if let Some(start) = tz.from_local_datetime(&local).earliest() {
            return start.with_timezone(&Utc);
        }
    }
    // Unreachable for real zones (no day is entirely skipped); UTC midnight keeps the answer total.
    Utc.from_utc_datetime(&midnight)
}

/// One period of a series: `start` inclusive, `end` exclusive (the next period's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Bucket {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

/// Why a requested range was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError {
    /// `to` is before `from`.
    Reversed,
    /// The range spans more buckets than [`Period::max_buckets`].
    TooLong { max: usize },
}

/// Every period from the one containing `from` to the one containing `to`, both included, in the
/// technician's zone. Whole periods: a range ending mid-week still gets that whole week's figures,
/// so a bucket always means the same thing whoever asks for it.
pub fn buckets(
    period: Period,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Bucket>, RangeError> {
    if to < from {
        return Err(RangeError::Reversed);
    }
    let max = period.max_buckets();
    let last = period.first_day(to.with_timezone(&tz).date_naive());
    let mut day = period.first_day(from.with_timezone(&tz).date_naive());
    let mut out = Vec::new();
    while day <= last {
        if out.len() == max {
            return Err(RangeError::TooLong { max });
        }
        let Some(next) = period.next_first_day(day) else {
            return Err(RangeError::TooLong { max });
        };
        out.push(Bucket {
            start: start_of_day(tz, day),
            end: start_of_day(tz, next),
        });
        day = next;
    }
    Ok(out)
}

/// What a movement on the technician's earnings was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Earning {
    /// A job's release from escrow: the movement is the technician's share, and the platform kept
    /// `platform_fee_minor` from the same release.
    Job {
        booking: Uuid,
        platform_fee_minor: i64,
    },
    /// A tip: all of it is the technician's.
    Tip,
    /// Anything else that changes what the technician has earned: a cancellation-fee share, a
    /// dispute's outcome or claw-back. Counted in net only.
    Adjustment,
}

/// A change to what the technician has earned (their pending plus available earnings), signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub at: DateTime<Utc>,
    pub amount_minor: i64,
    pub earning: Earning,
}

/// One bucket's figures, in minor units of one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Bookings whose first job release happened in this period.
    pub jobs: i64,
    /// What released jobs paid technician and platform together, tax excluded.
    pub gross_minor: i64,
    /// The platform's share of those releases.
    pub platform_fee_minor: i64,
    pub tips_minor: i64,
    /// Every movement into (or out of) the technician's earnings in the period.
    pub net_minor: i64,
}

/// Adds `movements` up per bucket (`buckets` sorted and contiguous, as [`buckets`] makes them).
/// A booking counts as a job once, in the bucket of its first release among `movements`, so a
/// dispute that releases the rest of a job later does not count it again; pass every movement,
/// not only the range's, for that to hold.
pub fn summarize(buckets: &[Bucket], movements: &[Movement]) -> Vec<Totals> {
    let mut first_release: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for m in movements {
        if let Earning::Job { booking, .. } = m.earning {
            first_release
                .entry(booking)
                .and_modify(|at| *at = (*at).min(m.at))
                .or_insert(m.at);
        }
    }
    let mut totals = vec![Totals::default(); buckets.len()];
    let mut counted: HashSet<Uuid> = HashSet::new();
    for m in movements {
        let index = buckets.partition_point(|b| b.end <= m.at);
        if !buckets.get(index).is_some_and(|b| b.contains(m.at)) {
            continue;
        }
        let t = &mut totals[index];
        t.net_minor = t.net_minor.saturating_add(m.amount_minor);
        match m.earning {
            Earning::Job {
                booking,
                platform_fee_minor,
            } => {
                t.gross_minor = t
                    .gross_minor
                    .saturating_add(m.amount_minor.saturating_add(platform_fee_minor));
                t.platform_fee_minor = t.platform_fee_minor.saturating_add(platform_fee_minor);
                if first_release.get(&booking) == Some(&m.at) && counted.insert(booking) {
                    t.jobs += 1;
                }
            }
            Earning::Tip => t.tips_minor = t.tips_minor.saturating_add(m.amount_minor),
            Earning::Adjustment => {}
        }
    }
    totals
}

/// All-time net: every movement added up.
pub fn net(movements: &[Movement]) -> i64 {
    movements
        .iter()
        .fold(0i64, |sum, m| sum.saturating_add(m.amount_minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const NAIROBI: Tz = chrono_tz::Africa::Nairobi;
    const KOLKATA: Tz = chrono_tz::Asia::Kolkata;
    const LONDON: Tz = chrono_tz::Europe::London;
    const SAO_PAULO: Tz = chrono_tz::America::Sao_Paulo;

    #[test]
    fn periods_start_at_local_midnight_on_the_day_the_monday_or_the_first() {
        // (period, zone, instant, start of its period)
        let cases = [
            // Nairobi is UTC+03:00 all year.
            (
                Period::Day,
                NAIROBI,
                "2026-11-23T20:59:59Z",
                "2026-11-22T21:00:00Z",
            ),
            (
                Period::Day,
                NAIROBI,
                "2026-11-23T21:00:00Z",
                "2026-11-23T21:00:00Z",
            ),
            // Kolkata is UTC+05:30: its midnight is at 18:30 UTC.
            (
                Period::Day,
                KOLKATA,
                "2026-03-10T18:29:59Z",
                "2026-03-09T18:30:00Z",
            ),
            (
                Period::Day,
                KOLKATA,
                "2026-03-10T18:30:00Z",
                "2026-03-10T18:30:00Z",
            ),
            // 2026-11-23 is a Monday; Sunday night still belongs to the week before.
            (
                Period::Week,
                NAIROBI,
                "2026-11-29T20:59:59Z",
                "2026-11-22T21:00:00Z",
            ),
            (
                Period::Week,
                NAIROBI,
                "2026-11-29T21:00:00Z",
                "2026-11-29T21:00:00Z",
            ),
            (
                Period::Week,
                NAIROBI,
                "2026-11-25T12:00:00Z",
                "2026-11-22T21:00:00Z",
            ),
            (
                Period::Week,
                KOLKATA,
                "2026-11-22T18:30:00Z",
                "2026-11-22T18:30:00Z",
            ),
            // A week that starts in one year and ends in the next.
            (
                Period::Week,
                KOLKATA,
                "2027-01-01T00:00:00Z",
                "2026-12-27T18:30:00Z",
            ),
            (
                Period::Month,
                NAIROBI,
                "2026-02-28T20:59:59Z",
                "2026-01-31T21:00:00Z",
            ),
            (
                Period::Month,
                NAIROBI,
                "2026-02-28T21:00:00Z",
                "2026-02-28T21:00:00Z",
            ),
            (
                Period::Month,
                KOLKATA,
                "2028-02-29T12:00:00Z",
                "2028-01-31T18:30:00Z",
            ),
            (
                Period::Month,
                KOLKATA,
                "2026-12-31T18:29:59Z",
                "2026-11-30T18:30:00Z",
            ),
            (
                Period::Month,
                KOLKATA,
                "2026-12-31T18:30:00Z",
                "2026-12-31T18:30:00Z",
            ),
            // London is UTC+00:00 in winter and UTC+01:00 in summer.
            (
                Period::Day,
                LONDON,
                "2026-07-01T23:00:00Z",
                "2026-07-01T23:00:00Z",
            ),
            (
                Period::Day,
                LONDON,
                "2026-01-01T23:00:00Z",
                "2026-01-01T00:00:00Z",
            ),
            (
                Period::Month,
                LONDON,
                "2026-07-15T00:00:00Z",
                "2026-06-30T23:00:00Z",
            ),
            // Sao Paulo skipped midnight on 2018-11-04 (00:00 became 01:00): that day began at 01:00.
            (
                Period::Day,
                SAO_PAULO,
                "2018-11-04T03:00:00Z",
                "2018-11-04T03:00:00Z",
            ),
            (
                Period::Day,
                SAO_PAULO,
                "2018-11-04T02:59:59Z",
                "2018-11-03T03:00:00Z",
            ),
        ];
        for (period, tz, at, start) in cases {
            assert_eq!(
                period.start_containing(tz, utc(at)),
                utc(start),
                "{period:?} {tz} {at}"
            );
        }
    }

    #[test]
    fn days_across_a_dst_change_are_23_or_25_hours_long() {
        let spring = buckets(
            Period::Day,
            LONDON,
            utc("2026-03-29T12:00:00Z"),
            utc("2026-03-29T12:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            spring,
            vec![Bucket {
                start: utc("2026-03-29T00:00:00Z"),
                end: utc("2026-03-29T23:00:00Z"),
            }]
        );
        let autumn = buckets(
            Period::Day,
            LONDON,
            utc("2026-10-25T12:00:00Z"),
            utc("2026-10-25T12:00:00Z"),
        )
        .unwrap();
        assert_eq!(autumn[0].end - autumn[0].start, Duration::hours(25));
        assert_eq!(autumn[0].start, utc("2026-10-24T23:00:00Z"));
        let week = buckets(
            Period::Week,
            LONDON,
            utc("2026-03-25T12:00:00Z"),
            utc("2026-03-25T12:00:00Z"),
        )
        .unwrap();
        assert_eq!(week[0].end - week[0].start, Duration::hours(7 * 24 - 1));
    }

    #[test]
    fn a_range_covers_every_period_it_touches_and_no_more() {
        // (period, zone, from, to, bucket count)
        let cases = [
            (
                Period::Day,
                NAIROBI,
                "2026-11-23T08:00:00Z",
                "2026-11-23T09:00:00Z",
                1,
            ),
            (
                Period::Day,
                NAIROBI,
                "2026-11-23T08:00:00Z",
                "2026-11-23T21:00:00Z",
                2,
            ),
            (
                Period::Day,
                NAIROBI,
                "2026-11-01T00:00:00Z",
                "2026-11-30T00:00:00Z",
                30,
            ),
            (
                Period::Day,
                KOLKATA,
                "2028-01-01T00:00:00Z",
                "2028-12-31T18:00:00Z",
                366,
            ),
            (
                Period::Week,
                NAIROBI,
                "2026-11-22T20:00:00Z",
                "2026-11-23T10:00:00Z",
                2,
            ),
            (
                Period::Month,
                KOLKATA,
                "2026-01-15T00:00:00Z",
                "2026-12-15T00:00:00Z",
                12,
            ),
            (
                Period::Month,
                NAIROBI,
                "2022-01-01T00:00:00Z",
                "2026-12-01T00:00:00Z",
                60,
            ),
        ];
        for (period, tz, from, to, count) in cases {
            let got = buckets(period, tz, utc(from), utc(to)).unwrap();
            assert_eq!(got.len(), count, "{period:?} {tz} {from}..{to}");
            assert!(got[0].contains(utc(from)));
            assert!(got[count - 1].contains(utc(to)));
            for pair in got.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "buckets are contiguous");
            }
        }
    }

    #[test]
    fn reversed_and_overlong_ranges_are_refused() {
        let from = utc("2026-11-23T00:00:00Z");
        assert_eq!(
            buckets(Period::Day, NAIROBI, from, from - Duration::seconds(1)),
            Err(RangeError::Reversed)
        );
        assert_eq!(
            buckets(Period::Day, NAIROBI, from, from + Duration::days(366)),
            Err(RangeError::TooLong { max: 366 })
        );
        assert_eq!(
            buckets(Period::Month, NAIROBI, from, from + Duration::days(5 * 366)),
            Err(RangeError::TooLong { max: 60 })
        );
        assert!(buckets(Period::Week, NAIROBI, from, from + Duration::days(5 * 365)).is_ok());
        assert!(buckets(Period::Day, NAIROBI, from, utc("9999-12-31T23:59:59Z")).is_err());
    }

    #[test]
    fn movements_add_up_per_bucket_and_a_job_counts_once() {
        let days = buckets(
            Period::Day,
            NAIROBI,
            utc("2026-11-23T00:00:00Z"),
            utc("2026-11-25T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(days.len(), 3);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let job = |at: &str, booking: Uuid, share: i64, fee: i64| Movement {
            at: utc(at),
            amount_minor: share,
            earning: Earning::Job {
                booking,
                platform_fee_minor: fee,
            },
        };
        let other = |at: &str, amount: i64, earning: Earning| Movement {
            at: utc(at),
            amount_minor: amount,
            earning,
        };
        let movements = vec![
            // Before the range: counts in lifetime only.
            job("2026-11-20T10:00:00Z", Uuid::from_u128(9), 850, 150),
            job("2026-11-23T10:00:00Z", a, 8_500, 1_500),
            other("2026-11-23T11:00:00Z", 500, Earning::Tip),
            job("2026-11-23T22:00:00Z", b, 17_000, 3_000),
            // A dispute takes b back, then releases part of it again: still one job.
            other("2026-11-24T09:00:00Z", -17_000, Earning::Adjustment),
            job("2026-11-24T10:00:00Z", b, 5_100, 900),
            other("2026-11-24T12:00:00Z", 2_125, Earning::Adjustment),
        ];
        let totals = summarize(&days, &movements);
        assert_eq!(
            totals[0],
            Totals {
                jobs: 1,
                gross_minor: 10_000,
                platform_fee_minor: 1_500,
                tips_minor: 500,
                net_minor: 9_000,
            }
        );
        assert_eq!(
            totals[1],
            Totals {
                jobs: 1,
                gross_minor: 26_000,
                platform_fee_minor: 3_900,
                tips_minor: 0,
                net_minor: 7_225,
            }
        );
        assert_eq!(totals[2], Totals::default());
        assert_eq!(net(&movements), 850 + 9_000 + 7_225);
    }
}
