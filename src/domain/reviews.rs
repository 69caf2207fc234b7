//! Reviews of a finished job: when each side may write one and until when, what a review holds, who
//! may read it (the double-blind rule), and what may happen to it after (a response, votes, reports,
//! hiding by staff).
//!
//! A booking is open for reviews from the moment it is PAID (or REFUNDED, after a dispute) for a
//! window of days; each side writes one review. Neither side reads the other's until both have
//! written or the window has closed; then both are published together and stay as written.

use crate::domain::booking_state::Status;
use crate::domain::refusal::{Refusal, refuse};
use crate::domain::text;
use chrono::{DateTime, Duration, Utc};

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;
/// Longest public response by the reviewed technician, in characters.
pub const MAX_RESPONSE_CHARS: usize = 1_000;
/// Reasons given for a report or a moderation action: at least this many characters...
pub const MIN_REASON_CHARS: usize = 3;
/// ...and at most this many.
pub const MAX_REASON_CHARS: usize = 500;
/// Lowest and highest star rating.
pub const STARS: std::ops::RangeInclusive<i32> = 1..=5;

/// Who reviews whom on a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The customer rates the technician: stars, five aspects and a comment. Public once published.
    CustomerToTechnician,
    /// The technician rates the customer: stars and a comment. Read only by the two of them and
    /// staff; other technicians see the customer's average on a job offer.
    TechnicianToCustomer,
}

impl Direction {
    pub const ALL: [Direction; 2] = [
        Direction::CustomerToTechnician,
        Direction::TechnicianToCustomer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::CustomerToTechnician => "CUSTOMER_TO_TECHNICIAN",
            Direction::TechnicianToCustomer => "TECHNICIAN_TO_CUSTOMER",
        }
    }

    pub fn parse(name: &str) -> Option<Direction> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// What staff do to a review; each action is recorded with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModerationAction {
    /// Takes a review out of sight and out of the technician's aggregates.
    Hide,
    /// Brings a hidden review back, and into the aggregates again once published.
    Restore,
}

impl ModerationAction {
    pub const ALL: [ModerationAction; 2] = [ModerationAction::Hide, ModerationAction::Restore];

    pub fn as_str(self) -> &'static str {
        match self {
            ModerationAction::Hide => "HIDE",
            ModerationAction::Restore => "RESTORE",
        }
    }

    pub fn parse(name: &str) -> Option<ModerationAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// The five aspects a customer rates, in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Aspects {
    pub quality: u8,
    pub punctuality: u8,
    pub communication: u8,
    pub value: u8,
    pub professionalism: u8,
}

impl Aspects {
    /// The field names clients use, in [`Aspects::stars`] order.
    pub const NAMES: [&'static str; 5] = [
        "quality",
        "punctuality",
        "communication",
        "value",
        "professionalism",
    ];

    /// Each aspect's stars, in [`Aspects::NAMES`] order.
    pub fn stars(&self) -> [u8; 5] {
        [
            self.quality,
            self.punctuality,
            self.communication,
            self.value,
            self.professionalism,
        ]
    }
}

/// Aspects as a client sent them: any whole numbers, checked by [`check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AspectsDraft {
    pub quality: i32,
    pub punctuality: i32,
    pub communication: i32,
    pub value: i32,
    pub professionalism: i32,
}

/// A review as the client wrote it.
#[derive(Debug, Clone, Copy)]
pub struct ReviewDraft<'a> {
    pub rating: i32,
    pub aspects: Option<AspectsDraft>,
    pub comment: Option<&'a str>,
}

/// A review that passed [`check`]: stars in range, aspects exactly when the customer writes, the
/// comment trimmed (None when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedReview {
    pub rating: u8,
    pub aspects: Option<Aspects>,
    pub comment: Option<String>,
}

/// A star rating sent as `field`: 1 to 5.
pub fn stars(value: i32, field: &'static str) -> Result<u8, Refusal> {
    u8::try_from(value)
        .ok()
        .filter(|_| STARS.contains(&value))
        .ok_or_else(|| refuse(field, format!("{field} must be 1 to 5 stars")))
}

/// Checks a review for its direction: 1-5 stars; from a customer, all five aspects at 1-5 stars;
/// from a technician, no aspects; a comment of at most 2,000 characters of plain text.
pub fn check(direction: Direction, draft: &ReviewDraft<'_>) -> Result<CheckedReview, Refusal> {
    let rating = stars(draft.rating, "rating")?;
    let aspects = match (direction, draft.aspects) {
        (Direction::CustomerToTechnician, None) => {
            return Err(refuse(
                "aspects",
                "rate the quality, punctuality, communication, value and professionalism",
            ));
        }
        (Direction::CustomerToTechnician, Some(a)) => Some(Aspects {
            quality: stars(a.quality, "aspects.quality")?,
            punctuality: stars(a.punctuality, "aspects.punctuality")?,
            communication: stars(a.communication, "aspects.communication")?,
            value: stars(a.value, "aspects.value")?,
            professionalism: stars(a.professionalism, "aspects.professionalism")?,
        }),
        (Direction::TechnicianToCustomer, Some(_)) => {
            return Err(refuse(
                "aspects",
                "aspects are rated by customers only; a technician gives stars and a comment",
            ));
        }
        (Direction::TechnicianToCustomer, None) => None,
    };
    let comment = match draft.comment {
        None => None,
        Some(raw) => {
            let comment = text::bounded(raw, 0, MAX_COMMENT_CHARS)
                .map_err(|r| refuse("comment", r.message("comment")))?;
            (!comment.is_empty()).then_some(comment)
        }
    };
    Ok(CheckedReview {
        rating,
        aspects,
        comment,
    })
}

/// The time a booking is open for reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

/// Why a review cannot be written now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRefusal {
    /// The job is not paid (or its dispute not settled) yet.
    NotYet,
    /// The window closed at this time.
    Closed(DateTime<Utc>),
}

impl WindowRefusal {
    pub fn message(self) -> String {
        match self {
            WindowRefusal::NotYet => {
                "reviews open once the job is paid (or its dispute is resolved)".into()
            }
            WindowRefusal::Closed(at) => format!(
                "reviews for this job closed at {}",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        }
    }
}

/// The review window of a booking in `status` since `since` (when it reached that status): PAID, or
/// REFUNDED (only a resolved dispute ends there), open for `length`. None in any other status.
pub fn window(status: Status, since: DateTime<Utc>, length: Duration) -> Option<Window> {
    matches!(status, Status::Paid | Status::Refunded).then(|| Window {
        opens_at: since,
        closes_at: since + length,
    })
}

/// The window if a review may be written at `now`, or why not.
pub fn open_window(
    status: Status,
    since: DateTime<Utc>,
    length: Duration,
    now: DateTime<Utc>,
) -> Result<Window, WindowRefusal> {
    let window = window(status, since, length).ok_or(WindowRefusal::NotYet)?;
    if now >= window.closes_at {
        return Err(WindowRefusal::Closed(window.closes_at));
    }
    Ok(window)
}

/// Who is reading a review, as the double-blind rule sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The one who wrote it.
    Author,
    /// The one it is about.
    Subject,
    /// ADMIN or SUPPORT.
    Staff,
    /// Anyone else, signed in or not.
    Other,
}

impl Reader {
    /// How `user` (None when nobody is signed in) stands to a review by `author` about `subject`.
    pub fn of(
        user: Option<uuid::Uuid>,
        staff: bool,
        author: uuid::Uuid,
        subject: uuid::Uuid,
    ) -> Reader {
        match user {
            _ if staff => Reader::Staff,
            Some(id) if id == author => Reader::Author,
            Some(id) if id == subject => Reader::Subject,
            _ => Reader::Other,
        }
    }
}

/// Where a review is, as the rules below need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub direction: Direction,
    pub published: bool,
    pub hidden: bool,
}

/// The double-blind rule: its author and staff always read a review; until it is published nobody
/// else does, not even the other side of the job. Once published (and not hidden), the reviewed
/// person reads it, and a review of a technician is public.
pub fn may_read(reader: Reader, review: State) -> bool {
    match reader {
        Reader::Author | Reader::Staff => true,
        Reader::Subject => review.published && !review.hidden,
        Reader::Other => {
            review.published
                && !review.hidden
                && review.direction == Direction::CustomerToTechnician
        }
    }
}

/// Why a response or a vote is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackRefusal {
    /// A technician's review of a customer takes no responses or votes: it is not public.
    CustomerReview,
    /// Only the reviewed technician responds.
    NotTheirs,
    /// A response waits until the review is published.
    NotPublished,
    /// There is already a response; a response is not edited.
    AlreadyAnswered,
    /// Nobody votes on their own review or one about themselves.
    OwnReview,
}

impl FeedbackRefusal {
    pub fn message(self) -> &'static str {
        match self {
            FeedbackRefusal::CustomerReview => {
                "a technician's review of a customer takes no responses or votes"
            }
            FeedbackRefusal::NotTheirs => "only the reviewed technician may respond to a review",
            FeedbackRefusal::NotPublished => {
                "a review can be answered or voted on once it is published"
            }
            FeedbackRefusal::AlreadyAnswered => {
                "this review already has a response, and a response cannot be changed"
            }
            FeedbackRefusal::OwnReview => {
                "you cannot vote on a review you wrote or one written about you"
            }
        }
    }
}

/// Whether `reader` may post the one public response to a review that has `answered` one or not.
pub fn may_respond(reader: Reader, review: State, answered: bool) -> Result<(), FeedbackRefusal> {
    if review.direction != Direction::CustomerToTechnician {
        return Err(FeedbackRefusal::CustomerReview);
    }
    if reader != Reader::Subject {
        return Err(FeedbackRefusal::NotTheirs);
    }
    if !review.published || review.hidden {
        return Err(FeedbackRefusal::NotPublished);
    }
    if answered {
        return Err(FeedbackRefusal::AlreadyAnswered);
    }
    Ok(())
}

/// Whether `reader` may vote a review helpful: a published review of a technician, by anyone
/// signed in but its author and the technician it is about.
pub fn may_vote(reader: Reader, review: State) -> Result<(), FeedbackRefusal> {
    if review.direction != Direction::CustomerToTechnician {
        return Err(FeedbackRefusal::CustomerReview);
    }
    if !review.published || review.hidden {
        return Err(FeedbackRefusal::NotPublished);
    }
    match reader {
        Reader::Author | Reader::Subject => Err(FeedbackRefusal::OwnReview),
        Reader::Staff | Reader::Other => Ok(()),
    }
}

/// Whether a moderation action applies to a review that is `hidden` or not: hide what is visible,
/// restore what is hidden. The refusal says what the review already is.
pub fn check_moderation(action: ModerationAction, hidden: bool) -> Result<(), &'static str> {
    match (action, hidden) {
        (ModerationAction::Hide, false) | (ModerationAction::Restore, true) => Ok(()),
        (ModerationAction::Hide, true) => Err("this review is already hidden"),
        (ModerationAction::Restore, false) => Err("this review is not hidden"),
    }
}

/// How an author is named beside a public review: the first name and the initial of the last
/// ("Wanjiku K."), so a review never carries a customer's full name.
pub fn display_name(full_name: &str) -> String {
    let mut words = full_name.split_whitespace();
    let Some(first) = words.next() else {
        return "Anonymous".to_string();
    };
    match words.last().and_then(|last| last.chars().next()) {
        Some(initial) => format!("{first} {}.", initial.to_uppercase()),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn aspects(value: i32) -> AspectsDraft {
        AspectsDraft {
            quality: value,
            punctuality: value,
            communication: value,
            value,
            professionalism: value,
        }
    }

    fn draft(rating: i32, aspects: Option<AspectsDraft>, comment: Option<&str>) -> ReviewDraft<'_> {
        ReviewDraft {
            rating,
            aspects,
            comment,
        }
    }

    #[test]
    fn names_round_trip() {
        for d in Direction::ALL {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
        for a in ModerationAction::ALL {
            assert_eq!(ModerationAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(Direction::parse("customer_to_technician"), None);
        assert_eq!(ModerationAction::parse("DELETE"), None);
    }

    #[test]
    fn a_review_is_checked_for_its_direction() {
        use Direction::*;
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        let longest = "y".repeat(MAX_COMMENT_CHARS);
        let cases: Vec<(&str, Direction, ReviewDraft<'_>, Result<(), &str>)> = vec![
            (
                "full customer review",
                CustomerToTechnician,
                draft(5, Some(aspects(4)), Some("Great")),
                Ok(()),
            ),
            (
                "no comment",
                CustomerToTechnician,
                draft(1, Some(aspects(1)), None),
                Ok(()),
            ),
            (
                "0 stars",
                CustomerToTechnician,
                draft(0, Some(aspects(4)), None),
                Err("rating"),
            ),
            (
                "6 stars",
                TechnicianToCustomer,
                draft(6, None, None),
                Err("rating"),
            ),
            (
                "negative",
                TechnicianToCustomer,
                draft(-1, None, None),
                Err("rating"),
            ),
            (
                "customer without aspects",
                CustomerToTechnician,
                draft(4, None, None),
                Err("aspects"),
            ),
            (
                "an aspect out of range",
                CustomerToTechnician,
                draft(
                    4,
                    Some(AspectsDraft {
                        value: 0,
                        ..aspects(4)
                    }),
                    None,
                ),
                Err("aspects.value"),
            ),
            (
                "the last aspect out of range",
                CustomerToTechnician,
                draft(
                    4,
                    Some(AspectsDraft {
                        professionalism: 9,
                        ..aspects(4)
                    }),
                    None,
                ),
                Err("aspects.professionalism"),
            ),
            (
                "technician with aspects",
                TechnicianToCustomer,
                draft(4, Some(aspects(4)), None),
                Err("aspects"),
            ),
            (
                "technician stars and comment",
                TechnicianToCustomer,
                draft(3, None, Some("Paid on time")),
                Ok(()),
            ),
            (
                "2,000 characters",
                CustomerToTechnician,
                draft(5, Some(aspects(5)), Some(&longest)),
                Ok(()),
            ),
            (
                "2,001 characters",
                CustomerToTechnician,
                draft(5, Some(aspects(5)), Some(&long)),
                Err("comment"),
            ),
            (
                "a control character",
                TechnicianToCustomer,
                draft(5, None, Some("a\u{0}b")),
                Err("comment"),
            ),
        ];
        for (name, direction, draft, want) in cases {
            let got = check(direction, &draft).map(|_| ()).map_err(|r| r.field);
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_checked_review_keeps_its_stars_and_a_trimmed_comment() {
        let checked = check(
            Direction::CustomerToTechnician,
            &draft(
                4,
                Some(AspectsDraft {
                    quality: 5,
                    punctuality: 4,
                    communication: 3,
                    value: 2,
                    professionalism: 1,
                }),
                Some("  Fixed it fast \n"),
            ),
        )
        .unwrap();
        assert_eq!(checked.rating, 4);
        assert_eq!(checked.aspects.unwrap().stars(), [5, 4, 3, 2, 1]);
        assert_eq!(checked.comment.as_deref(), Some("Fixed it fast"));
        let blank = check(
            Direction::TechnicianToCustomer,
            &draft(5, None, Some("   ")),
        )
        .unwrap();
        assert_eq!(blank.comment, None, "an empty comment is no comment");
    }

    #[test]
    fn reviews_open_when_paid_or_refunded_and_close_after_the_window() {
        let days14 = Duration::days(14);
        let paid = at(0);
        let cases = [
            ("paid, at once", Status::Paid, at(0), Ok(())),
            ("paid, a day later", Status::Paid, at(86_400), Ok(())),
            (
                "paid, a second before the end",
                Status::Paid,
                at(14 * 86_400 - 1),
                Ok(()),
            ),
            (
                "paid, at the end",
                Status::Paid,
                at(14 * 86_400),
                Err(WindowRefusal::Closed(at(14 * 86_400))),
            ),
            (
                "refunded after a dispute",
                Status::Refunded,
                at(3_600),
                Ok(()),
            ),
            (
                "completed",
                Status::Completed,
                at(0),
                Err(WindowRefusal::NotYet),
            ),
            (
                "verified",
                Status::Verified,
                at(0),
                Err(WindowRefusal::NotYet),
            ),
            (
                "payment pending",
                Status::PaymentPending,
                at(0),
                Err(WindowRefusal::NotYet),
            ),
            (
                "disputed",
                Status::Disputed,
                at(0),
                Err(WindowRefusal::NotYet),
            ),
            (
                "cancelled",
                Status::Cancelled,
                at(0),
                Err(WindowRefusal::NotYet),
            ),
        ];
        for (name, status, now, want) in cases {
            assert_eq!(
                open_window(status, paid, days14, now).map(|_| ()),
                want,
                "{name}"
            );
        }
        for status in Status::ALL {
            let open = window(status, paid, days14).is_some();
            assert_eq!(
                open,
                matches!(status, Status::Paid | Status::Refunded),
                "{status}"
            );
        }
        assert_eq!(
            window(Status::Paid, paid, days14),
            Some(Window {
                opens_at: paid,
                closes_at: at(14 * 86_400)
            })
        );
    }

    #[test]
    fn the_double_blind_rule_from_every_side() {
        use Direction::*;
        use Reader::*;
        let state = |direction, published, hidden| State {
            direction,
            published,
            hidden,
        };
        // (reader, direction, published, hidden, may read)
        let cases = [
            (Author, CustomerToTechnician, false, false, true),
            (Subject, CustomerToTechnician, false, false, false),
            (Staff, CustomerToTechnician, false, false, true),
            (Other, CustomerToTechnician, false, false, false),
            (Author, CustomerToTechnician, true, false, true),
            (Subject, CustomerToTechnician, true, false, true),
            (Staff, CustomerToTechnician, true, false, true),
            (Other, CustomerToTechnician, true, false, true),
            (Author, CustomerToTechnician, true, true, true),
            (Subject, CustomerToTechnician, true, true, false),
            (Staff, CustomerToTechnician, true, true, true),
            (Other, CustomerToTechnician, true, true, false),
            (Author, TechnicianToCustomer, false, false, true),
            (Subject, TechnicianToCustomer, false, false, false),
            (Staff, TechnicianToCustomer, false, false, true),
            (Other, TechnicianToCustomer, false, false, false),
            (Author, TechnicianToCustomer, true, false, true),
            (Subject, TechnicianToCustomer, true, false, true),
            (Staff, TechnicianToCustomer, true, false, true),
            (Other, TechnicianToCustomer, true, false, false),
            (Subject, TechnicianToCustomer, true, true, false),
        ];
        for (reader, direction, published, hidden, want) in cases {
            assert_eq!(
                may_read(reader, state(direction, published, hidden)),
                want,
                "{reader:?} {direction:?} published={published} hidden={hidden}"
            );
        }
    }

    #[test]
    fn readers_are_told_apart_by_id_and_role() {
        let (author, subject, other) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        assert_eq!(
            Reader::of(Some(author), false, author, subject),
            Reader::Author
        );
        assert_eq!(
            Reader::of(Some(subject), false, author, subject),
            Reader::Subject
        );
        assert_eq!(
            Reader::of(Some(other), false, author, subject),
            Reader::Other
        );
        assert_eq!(Reader::of(None, false, author, subject), Reader::Other);
        assert_eq!(
            Reader::of(Some(other), true, author, subject),
            Reader::Staff
        );
    }

    #[test]
    fn only_the_reviewed_technician_responds_once_to_a_published_review() {
        use Direction::*;
        use FeedbackRefusal::*;
        let published = State {
            direction: CustomerToTechnician,
            published: true,
            hidden: false,
        };
        let cases = [
            ("the technician", Reader::Subject, published, false, Ok(())),
            (
                "a second response",
                Reader::Subject,
                published,
                true,
                Err(AlreadyAnswered),
            ),
            (
                "the author",
                Reader::Author,
                published,
                false,
                Err(NotTheirs),
            ),
            ("staff", Reader::Staff, published, false, Err(NotTheirs)),
            (
                "someone else",
                Reader::Other,
                published,
                false,
                Err(NotTheirs),
            ),
            (
                "not yet published",
                Reader::Subject,
                State {
                    published: false,
                    ..published
                },
                false,
                Err(NotPublished),
            ),
            (
                "hidden",
                Reader::Subject,
                State {
                    hidden: true,
                    ..published
                },
                false,
                Err(NotPublished),
            ),
            (
                "a review of a customer",
                Reader::Subject,
                State {
                    direction: TechnicianToCustomer,
                    ..published
                },
                false,
                Err(CustomerReview),
            ),
        ];
        for (name, reader, state, answered, want) in cases {
            assert_eq!(may_respond(reader, state, answered), want, "{name}");
        }
    }

    #[test]
    fn nobody_votes_on_their_own_review_or_one_about_them() {
        use FeedbackRefusal::*;
        let published = State {
            direction: Direction::CustomerToTechnician,
            published: true,
            hidden: false,
        };
        let cases = [
            (Reader::Author, published, Err(OwnReview)),
            (Reader::Subject, published, Err(OwnReview)),
            (Reader::Other, published, Ok(())),
            (Reader::Staff, published, Ok(())),
            (
                Reader::Other,
                State {
                    published: false,
                    ..published
                },
                Err(NotPublished),
            ),
            (
                Reader::Other,
                State {
                    hidden: true,
                    ..published
                },
                Err(NotPublished),
            ),
            (
                Reader::Staff,
                State {
                    direction: Direction::TechnicianToCustomer,
                    ..published
                },
                Err(CustomerReview),
            ),
        ];
        for (reader, state, want) in cases {
            assert_eq!(may_vote(reader, state), want, "{reader:?} {state:?}");
        }
    }

    #[test]
    fn staff_hide_what_shows_and_restore_what_is_hidden() {
        use ModerationAction::*;
        assert_eq!(check_moderation(Hide, false), Ok(()));
        assert_eq!(check_moderation(Restore, true), Ok(()));
        assert!(check_moderation(Hide, true).is_err());
        assert!(check_moderation(Restore, false).is_err());
    }

    #[test]
    fn authors_are_shown_by_first_name_and_initial() {
        let cases = [
            ("Wanjiku Kamau", "Wanjiku K."),
            ("  amina   wa  njeri ", "amina N."),
            ("Otieno", "Otieno"),
            ("", "Anonymous"),
            ("   ", "Anonymous"),
            ("Łukasz Żak", "Łukasz Ż."),
        ];
        for (full, shown) in cases {
            assert_eq!(display_name(full), shown, "{full:?}");
        }
    }
}
