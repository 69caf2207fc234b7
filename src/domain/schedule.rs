//! Working hours: a weekly timetable in the technician's local time plus dated exceptions, and whether
//! a local moment falls inside them. Time-zone conversion happens before these rules are asked.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

pub const MINUTES_PER_DAY: u32 = 24 * 60;

/// One stretch of work on a weekday (1 = Monday .. 7 = Sunday), in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    pub weekday: u32,
    pub start_minute: u32,
    pub end_minute: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionKind {
    /// No work at all that day, whatever the timetable says.
    DayOff,
    /// Work between the given minutes that day, in addition to the timetable.
    ExtraHours { start_minute: u32, end_minute: u32 },
}

/// What a stored exception is, without its hours: the name in its `kind` column. Extra hours keep
/// their minutes in columns of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionType {
    DayOff,
    ExtraHours,
}

impl ExceptionType {
    pub const ALL: [ExceptionType; 2] = [ExceptionType::DayOff, ExceptionType::ExtraHours];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionType::DayOff => "DAY_OFF",
            ExceptionType::ExtraHours => "EXTRA_HOURS",
        }
    }

    pub fn parse(name: &str) -> Option<ExceptionType> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exception {
    pub date: NaiveDate,
    pub kind: ExceptionKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    Weekday { index: usize },
    Range { index: usize },
    Overlap { index: usize },
    TooMany,
}

impl ScheduleError {
    pub fn message(&self) -> String {
        match self {
            ScheduleError::Weekday { .. } => "weekday must be 1 (Monday) to 7 (Sunday)".into(),
            ScheduleError::Range { .. } => {
                "start must be before end, within one day (00:00 to 24:00)".into()
            }
            ScheduleError::Overlap { .. } => "intervals on the same day must not overlap".into(),
            ScheduleError::TooMany => "at most 21 intervals a week".into(),
        }
    }
}

/// Checks a weekly timetable: valid weekdays, start before end, no overlaps within a day.
pub fn validate_week(intervals: &[Interval]) -> Result<(), ScheduleError> {
    if intervals.len() > 21 {
        return Err(ScheduleError::TooMany);
    }
    for (index, interval) in intervals.iter().enumerate() {
        if !(1..=7).contains(&interval.weekday) {
            return Err(ScheduleError::Weekday { index });
        }
        if interval.start_minute >= interval.end_minute || interval.end_minute > MINUTES_PER_DAY {
            return Err(ScheduleError::Range { index });
        }
        let overlaps = intervals[..index].iter().any(|other| {
            other.weekday == interval.weekday
                && other.start_minute < interval.end_minute
                && interval.start_minute < other.end_minute
        });
        if overlaps {
            return Err(ScheduleError::Overlap { index });
        }
    }
    Ok(())
}

/// Whether the technician works at this local date and time. A day off wins over everything;
/// extra hours add to the timetable.
pub fn works_at(week: &[Interval], exceptions: &[Exception], local: NaiveDateTime) -> bool {
    let date = local.date();
    let minute = local.hour() * 60 + local.minute();
    let today: Vec<&Exception> = exceptions.iter().filter(|e| e.date == date).collect();
    if today.iter().any(|e| e.kind == ExceptionKind::DayOff) {
        return false;
    }
    let extra = today.iter().any(|e| match e.kind {
        ExceptionKind::ExtraHours {
            start_minute,
            end_minute,
        } => (start_minute..end_minute).contains(&minute),
        ExceptionKind::DayOff => false,
    });
    let weekday = date.weekday().number_from_monday();
    extra
        || week
            .iter()
            .any(|i| i.weekday == weekday && (i.start_minute..i.end_minute).contains(&minute))
}

/// Parses "HH:MM" (00:00 to 24:00) into minutes after midnight.
pub fn parse_clock(raw: &str) -> Option<u32> {
    let (h, m) = raw.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    let total = h * 60 + m;
    (m < 60 && total <= MINUTES_PER_DAY).then_some(total)
}

pub fn format_clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_types_round_trip_through_their_stored_names() {
        for kind in ExceptionType::ALL {
            assert_eq!(ExceptionType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ExceptionType::parse("HOLIDAY"), None);
        assert_eq!(ExceptionType::parse("day_off"), None);
    }

    fn at(date: &str, time: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M").unwrap()
    }

    fn weekdays_eight_to_five() -> Vec<Interval> {
        (1..=5)
            .map(|weekday| Interval {
                weekday,
                start_minute: 8 * 60,
                end_minute: 17 * 60,
            })
            .collect()
    }

    #[test]
    fn works_inside_the_weekly_timetable_only() {
        let week = weekdays_eight_to_five();
        // 2026-11-23 is a Monday.
        let cases = [
            ("2026-11-23", "08:00", true),
            ("2026-11-23", "07:59", false),
            ("2026-11-23", "16:59", true),
            ("2026-11-23", "17:00", false),
            ("2026-11-28", "10:00", false),
        ];
        for (date, time, expected) in cases {
            assert_eq!(
                works_at(&week, &[], at(date, time)),
                expected,
                "{date} {time}"
            );
        }
    }

    #[test]
    fn a_day_off_wins_and_extra_hours_add() {
        let week = weekdays_eight_to_five();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let saturday = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let exceptions = [
            Exception {
                date: monday,
                kind: ExceptionKind::DayOff,
            },
            Exception {
                date: saturday,
                kind: ExceptionKind::ExtraHours {
                    start_minute: 9 * 60,
                    end_minute: 12 * 60,
                },
            },
        ];
        assert!(!works_at(&week, &exceptions, at("2026-11-23", "10:00")));
        assert!(works_at(&week, &exceptions, at("2026-11-28", "09:30")));
        assert!(!works_at(&week, &exceptions, at("2026-11-28", "12:00")));
        assert!(
            works_at(&week, &exceptions, at("2026-11-24", "10:00")),
            "other days keep the timetable"
        );
    }

    #[test]
    fn timetables_are_validated() {
        let good = weekdays_eight_to_five();
        assert!(validate_week(&good).is_ok());
        let bad_day = [Interval {
            weekday: 8,
            start_minute: 0,
            end_minute: 60,
        }];
        assert_eq!(
            validate_week(&bad_day),
            Err(ScheduleError::Weekday { index: 0 })
        );
        let backwards = [Interval {
            weekday: 1,
            start_minute: 600,
            end_minute: 540,
        }];
        assert_eq!(
            validate_week(&backwards),
            Err(ScheduleError::Range { index: 0 })
        );
        let overlap = [
            Interval {
                weekday: 1,
                start_minute: 480,
                end_minute: 720,
            },
            Interval {
                weekday: 1,
                start_minute: 700,
                end_minute: 900,
            },
        ];
        assert_eq!(
            validate_week(&overlap),
            Err(ScheduleError::Overlap { index: 1 })
        );
        let split_shift = [
            Interval {
                weekday: 1,
                start_minute: 480,
                end_minute: 720,
            },
            Interval {
                weekday: 1,
                start_minute: 780,
                end_minute: 1020,
            },
        ];
        assert!(validate_week(&split_shift).is_ok());
    }

    #[test]
    fn clock_strings_parse_and_print() {
        assert_eq!(parse_clock("08:30"), Some(510));
        assert_eq!(parse_clock("24:00"), Some(1440));
        assert_eq!(parse_clock("24:01"), None);
        assert_eq!(parse_clock("8:30"), None);
        assert_eq!(parse_clock("08:60"), None);
        assert_eq!(format_clock(510), "08:30");
    }
}
