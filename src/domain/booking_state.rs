//! The booking state machine: statuses, who may move a booking between them, and timed moves.
//!
//! The allowed moves are one data table, [`TRANSITIONS`]; everything else (what a viewer may do
//! next, whether a request is valid) is derived from it, so the rules live in one place.

use std::fmt;

// Short names keep the transition table readable as a table.
use Role::{Admin, Customer, System, Technician};
use Status::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Pending,
    Matching,
    Assigned,
    Accepted,
    Rejected,
    EnRoute,
    Arrived,
    InProgress,
    Paused,
    Completed,
    Verified,
    PaymentPending,
    Paid,
    Disputed,
    Refunded,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 16] = [
        Status::Pending,
        Status::Matching,
        Status::Assigned,
        Status::Accepted,
        Status::Rejected,
        Status::EnRoute,
        Status::Arrived,
        Status::InProgress,
        Status::Paused,
        Status::Completed,
        Status::Verified,
        Status::PaymentPending,
        Status::Paid,
        Status::Disputed,
        Status::Refunded,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Matching => "MATCHING",
            Status::Assigned => "ASSIGNED",
            Status::Accepted => "ACCEPTED",
            Status::Rejected => "REJECTED",
            Status::EnRoute => "EN_ROUTE",
            Status::Arrived => "ARRIVED",
            Status::InProgress => "IN_PROGRESS",
            Status::Paused => "PAUSED",
            Status::Completed => "COMPLETED",
            Status::Verified => "VERIFIED",
            Status::PaymentPending => "PAYMENT_PENDING",
            Status::Paid => "PAID",
            Status::Disputed => "DISPUTED",
            Status::Refunded => "REFUNDED",
            Status::Cancelled => "CANCELLED",
        }
    }

    /// Parses the exact SCREAMING_SNAKE name, as stored and as sent over the API.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Nothing can happen to the booking any more.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Cancelled | Status::Refunded)
    }

    /// The job is over: paid, refunded or cancelled. A paid job may still be disputed for a while,
    /// which is why the periods that start here (chat closing, trail retention) outlast that window.
    pub fn job_is_over(self) -> bool {
        matches!(self, Status::Paid | Status::Refunded | Status::Cancelled)
    }

    /// The assigned technician is committed to this job and should not be offered another.
    pub fn technician_is_busy(self) -> bool {
        matches!(
            self,
            Status::Accepted
                | Status::EnRoute
                | Status::Arrived
                | Status::InProgress
                | Status::Paused
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is asking for a move. `System` is the platform itself: matching, timers, payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Customer,
    Technician,
    Admin,
    Support,
    System,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Customer,
        Role::Technician,
        Role::Admin,
        Role::Support,
        Role::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "CUSTOMER",
            Role::Technician => "TECHNICIAN",
            Role::Admin => "ADMIN",
            Role::Support => "SUPPORT",
            Role::System => "SYSTEM",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An extra condition a move must meet beyond the actor's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    None,
    /// Work starts only once the customer has handed over their start code, proving both
    /// parties are at the same door.
    StartCode,
    /// A paid booking can be disputed only within [`DISPUTE_WINDOW_SECS`] of payment.
    DisputeWindow,
}

/// One allowed move and the roles that may make it in their own right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: Status,
    pub to: Status,
    pub roles: &'static [Role],
    pub guard: Guard,
}

const fn t(from: Status, to: Status, roles: &'static [Role]) -> Transition {
    Transition {
        from,
        to,
        roles,
        guard: Guard::None,
    }
}

const fn guarded(from: Status, to: Status, roles: &'static [Role], guard: Guard) -> Transition {
    Transition {
        from,
        to,
        roles,
        guard,
    }
}

/// Every allowed move. Admins may also make any Customer or Technician move on that person's
/// behalf (with a reason); Support has no moves of its own.
pub const TRANSITIONS: &[Transition] = &[
    t(Pending, Matching, &[System]),
    // A customer who asked for one technician by name skips matching.
    t(Pending, Assigned, &[System]),
    t(Pending, Cancelled, &[Customer]),
    t(Matching, Assigned, &[System]),
    // System cancels when matching finds nobody.
    t(Matching, Cancelled, &[Customer, System]),
    t(Assigned, Accepted, &[Technician]),
    // System rejects when the offer expires unanswered.
    t(Assigned, Rejected, &[Technician, System]),
    t(Assigned, Cancelled, &[Customer]),
    t(Rejected, Matching, &[System]),
    t(Rejected, Cancelled, &[Customer, System]),
    t(Accepted, EnRoute, &[Technician]),
    // The technician withdraws after accepting; the booking goes back to be re-matched.
    t(Accepted, Rejected, &[Technician]),
    t(Accepted, Cancelled, &[Customer]),
    // System marks arrival when the technician's location enters the geofence.
    t(EnRoute, Arrived, &[Technician, System]),
    t(EnRoute, Cancelled, &[Customer]),
    guarded(Arrived, InProgress, &[Technician], Guard::StartCode),
    t(Arrived, Cancelled, &[Customer]),
    t(InProgress, Paused, &[Technician]),
    t(InProgress, Completed, &[Technician]),
    // Once work has started only an admin can stop it, after hearing both sides.
    t(InProgress, Cancelled, &[Admin]),
    t(Paused, InProgress, &[Technician]),
    t(Paused, Cancelled, &[Admin]),
    // System verifies when the customer stays silent (see `Timeouts::auto_verify_secs`).
    t(Completed, Verified, &[Customer, System]),
    t(Completed, Disputed, &[Customer]),
    t(Verified, PaymentPending, &[System]),
    // Nothing left to pay when the deposit already covered the total.
    t(Verified, Paid, &[System]),
    t(PaymentPending, Paid, &[System]),
    t(PaymentPending, Disputed, &[Customer]),
    guarded(Paid, Disputed, &[Customer], Guard::DisputeWindow),
    t(Disputed, Paid, &[Admin]),
    t(Disputed, Refunded, &[Admin]),
];

/// How long after payment the customer may still dispute.
pub const DISPUTE_WINDOW_SECS: i64 = 7 * 24 * 60 * 60;

/// How a role is entitled to a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entitlement {
    Own,
    OnBehalf,
}

fn entitlement(rule: &Transition, role: Role) -> Option<Entitlement> {
    if rule.roles.contains(&role) {
        Some(Entitlement::Own)
    } else if role == Role::Admin
        && (rule.roles.contains(&Role::Customer) || rule.roles.contains(&Role::Technician))
    {
        Some(Entitlement::OnBehalf)
    } else {
        None
    }
}

/// Statuses `role` may move a booking to from `from`, in table order, ignoring guards.
/// This is what a viewer's `availableTransitions` shows.
pub fn allowed_targets(from: Status, role: Role) -> Vec<Status> {
    let mut targets = Vec::new();
    for rule in TRANSITIONS.iter().filter(|r| r.from == from) {
        if entitlement(rule, role).is_some() && !targets.contains(&rule.to) {
            targets.push(rule.to);
        }
    }
    targets
}

/// A request to move a booking, with the facts the guards need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionRequest<'a> {
    pub to: Status,
    pub role: Role,
    pub reason: Option<&'a str>,
    /// The customer's start code was presented and matched.
    pub start_code_ok: bool,
    /// Unix seconds.
    pub now: i64,
    /// When the booking was paid, unix seconds; needed to dispute a paid booking.
    pub paid_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// This role may not make this move from the current status; `allowed` lists what it may do.
    NotAllowed { allowed: Vec<Status> },
    /// An admin acting for a customer or technician must say why.
    ReasonRequired,
    /// The customer's start code was missing or did not match.
    StartCodeRequired,
    /// The booking was paid more than [`DISPUTE_WINDOW_SECS`] ago (or its payment time is unknown).
    DisputeWindowClosed,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransitionError::NotAllowed { allowed } if allowed.is_empty() => {
                f.write_str("this booking cannot be moved by you from its current status")
            }
            TransitionError::NotAllowed { allowed } => {
                let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
                write!(
                    f,
                    "not allowed; you may move this booking to {}",
                    names.join(", ")
                )
            }
            TransitionError::ReasonRequired => {
                f.write_str("a reason is required when acting for someone else")
            }
            TransitionError::StartCodeRequired => {
                f.write_str("the customer's start code is missing or wrong")
            }
            TransitionError::DisputeWindowClosed => {
                f.write_str("the time to dispute this payment has passed")
            }
        }
    }
}

impl std::error::Error for TransitionError {}

/// Decides a move: returns the new status, or why it is refused. Checks in order: that the role
/// may make the move at all, that an admin acting for someone gave a reason, then the guard.
/// Guards bind whoever makes the move, admins included.
pub fn apply(current: Status, request: TransitionRequest<'_>) -> Result<Status, TransitionError> {
    let found = TRANSITIONS
        .iter()
        .filter(|r| r.from == current && r.to == request.to)
        .find_map(|r| entitlement(r, request.role).map(|e| (r, e)));
    let Some((rule, entitled)) = found else {
        return Err(TransitionError::NotAllowed {
            allowed: allowed_targets(current, request.role),
        });
    };
    if entitled == Entitlement::OnBehalf && request.reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(TransitionError::ReasonRequired);
    }
    match rule.guard {
        Guard::None => {}
        Guard::StartCode => {
            if !request.start_code_ok {
                return Err(TransitionError::StartCodeRequired);
            }
        }
        Guard::DisputeWindow => {
            // Without a payment time we cannot show the window is open, and money has moved,
            // so we refuse rather than guess.
            let open = request
                .paid_at
                .is_some_and(|paid| request.now <= paid.saturating_add(DISPUTE_WINDOW_SECS));
            if !open {
                return Err(TransitionError::DisputeWindowClosed);
            }
        }
    }
    Ok(rule.to)
}

/// How long the platform waits before making a move itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// An offer not answered within this time is rejected and the booking re-matched.
    pub offer_expiry_secs: i64,
    /// A completed job the customer neither verifies nor disputes is verified after this time.
    pub auto_verify_secs: i64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            // The as-soon-as-possible default; scheduled jobs wait longer (FUNDI_OFFER_EXPIRY_*).
            offer_expiry_secs: 2 * 60,
            auto_verify_secs: 48 * 60 * 60,
        }
    }
}

/// A move the platform will make by itself at `due_at` (unix seconds) unless someone acts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub to: Status,
    pub due_at: i64,
}

/// The timed move pending for a booking that entered `status` at `entered_at`, if any.
/// It is due once `now >= due_at`, and is made as [`Role::System`] through [`apply`].
pub fn timer(status: Status, entered_at: i64, timeouts: &Timeouts) -> Option<Timer> {
    let (to, after) = match status {
        Status::Assigned => (Status::Rejected, timeouts.offer_expiry_secs),
        Status::Completed => (Status::Verified, timeouts.auto_verify_secs),
        _ => return None,
    };
    Some(Timer {
        to,
        due_at: entered_at.saturating_add(after),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;
    const DAY: i64 = 24 * 60 * 60;

    /// The allowed moves written out again independently of `TRANSITIONS`:
    /// from, to, roles acting in their own right.
    const EXPECTED: &str = "
        PENDING          MATCHING         SYSTEM
        PENDING          ASSIGNED         SYSTEM
        PENDING          CANCELLED        CUSTOMER
        MATCHING         ASSIGNED         SYSTEM
        MATCHING         CANCELLED        CUSTOMER,SYSTEM
        ASSIGNED         ACCEPTED         TECHNICIAN
        ASSIGNED         REJECTED         TECHNICIAN,SYSTEM
        ASSIGNED         CANCELLED        CUSTOMER
        REJECTED         MATCHING         SYSTEM
        REJECTED         CANCELLED        CUSTOMER,SYSTEM
        ACCEPTED         EN_ROUTE         TECHNICIAN
        ACCEPTED         REJECTED         TECHNICIAN
        ACCEPTED         CANCELLED        CUSTOMER
        EN_ROUTE         ARRIVED          TECHNICIAN,SYSTEM
        EN_ROUTE         CANCELLED        CUSTOMER
        ARRIVED          IN_PROGRESS      TECHNICIAN
        ARRIVED          CANCELLED        CUSTOMER
        IN_PROGRESS      PAUSED           TECHNICIAN
        IN_PROGRESS      COMPLETED        TECHNICIAN
        IN_PROGRESS      CANCELLED        ADMIN
        PAUSED           IN_PROGRESS      TECHNICIAN
        PAUSED           CANCELLED        ADMIN
        COMPLETED        VERIFIED         CUSTOMER,SYSTEM
        COMPLETED        DISPUTED         CUSTOMER
        VERIFIED         PAYMENT_PENDING  SYSTEM
        VERIFIED         PAID             SYSTEM
        PAYMENT_PENDING  PAID             SYSTEM
        PAYMENT_PENDING  DISPUTED         CUSTOMER
        PAID             DISPUTED         CUSTOMER
        DISPUTED         PAID             ADMIN
        DISPUTED         REFUNDED         ADMIN
    ";

    /// Roles listed for (from, to) in `EXPECTED`, by name.
    fn expected_roles(from: Status, to: Status) -> Vec<&'static str> {
        EXPECTED
            .lines()
            .map(str::split_whitespace)
            .filter_map(|mut cols| Some((cols.next()?, cols.next()?, cols.next()?)))
            .filter(|&(f, t, _)| f == from.as_str() && t == to.as_str())
            .flat_map(|(_, _, roles)| roles.split(','))
            .collect()
    }

    /// A request meeting every guard, so only role rules decide.
    fn ok_request(to: Status, role: Role) -> TransitionRequest<'static> {
        TransitionRequest {
            to,
            role,
            reason: Some("customer asked by phone"),
            start_code_ok: true,
            now: NOW,
            paid_at: Some(NOW - DAY),
        }
    }

    fn request(to: Status, role: Role) -> TransitionRequest<'static> {
        TransitionRequest {
            reason: None,
            start_code_ok: false,
            paid_at: None,
            ..ok_request(to, role)
        }
    }

    #[test]
    fn every_state_target_and_role_follows_the_written_table() {
        let mut allowed_count = 0;
        for from in Status::ALL {
            for to in Status::ALL {
                let listed = expected_roles(from, to);
                for role in Role::ALL {
                    let own = listed.contains(&role.as_str());
                    let on_behalf = role == Role::Admin
                        && (listed.contains(&"CUSTOMER") || listed.contains(&"TECHNICIAN"));
                    let case = format!("{from} -> {to} by {role}");

                    let result = apply(from, ok_request(to, role));
                    if own || on_behalf {
                        allowed_count += 1;
                        assert_eq!(result, Ok(to), "{case}");
                        assert!(allowed_targets(from, role).contains(&to), "{case}");
                    } else {
                        let allowed = allowed_targets(from, role);
                        assert!(!allowed.contains(&to), "{case}");
                        assert_eq!(
                            result,
                            Err(TransitionError::NotAllowed { allowed }),
                            "{case}"
                        );
                    }

                    // Without a reason, only acting on someone's behalf is refused for it.
                    let no_reason = TransitionRequest {
                        reason: None,
                        ..ok_request(to, role)
                    };
                    if on_behalf && !own {
                        assert_eq!(
                            apply(from, no_reason),
                            Err(TransitionError::ReasonRequired),
                            "{case}"
                        );
                    } else if own {
                        assert_eq!(apply(from, no_reason), Ok(to), "{case}");
                    }
                }
            }
        }
        // 31 rows; admins add one move for each of the 20 rows a customer or technician owns.
        assert_eq!(
            EXPECTED.lines().filter(|l| !l.trim().is_empty()).count(),
            31
        );
        assert_eq!(TRANSITIONS.len(), 31);
        let own_moves: usize = TRANSITIONS.iter().map(|t| t.roles.len()).sum();
        assert_eq!(allowed_count, own_moves + 20);
    }

    #[test]
    fn customer_cannot_cancel_a_completed_booking() {
        let err = apply(Completed, request(Cancelled, Role::Customer)).unwrap_err();
        assert_eq!(
            err,
            TransitionError::NotAllowed {
                allowed: vec![Verified, Disputed]
            }
        );
    }

    #[test]
    fn customer_can_cancel_until_work_starts() {
        for from in [
            Pending, Matching, Assigned, Rejected, Accepted, EnRoute, Arrived,
        ] {
            assert_eq!(
                apply(from, request(Cancelled, Role::Customer)),
                Ok(Cancelled),
                "{from}"
            );
        }
        for from in [
            InProgress,
            Paused,
            Completed,
            Verified,
            PaymentPending,
            Paid,
        ] {
            assert!(
                apply(from, request(Cancelled, Role::Customer)).is_err(),
                "{from}"
            );
        }
    }

    #[test]
    fn only_an_admin_can_cancel_work_in_progress() {
        for from in [InProgress, Paused] {
            for role in [
                Role::Customer,
                Role::Technician,
                Role::Support,
                Role::System,
            ] {
                assert!(
                    apply(from, request(Cancelled, role)).is_err(),
                    "{from} by {role}"
                );
            }
            // An admin's own move needs no reason to be accepted here.
            assert_eq!(apply(from, request(Cancelled, Role::Admin)), Ok(Cancelled));
        }
    }

    #[test]
    fn technician_cannot_start_work_without_the_start_code() {
        let without = request(InProgress, Role::Technician);
        assert_eq!(
            apply(Arrived, without),
            Err(TransitionError::StartCodeRequired)
        );
        let with = TransitionRequest {
            start_code_ok: true,
            ..without
        };
        assert_eq!(apply(Arrived, with), Ok(InProgress));
    }

    #[test]
    fn resuming_paused_work_needs_no_start_code() {
        assert_eq!(
            apply(Paused, request(InProgress, Role::Technician)),
            Ok(InProgress)
        );
    }

    #[test]
    fn admin_starting_work_for_a_technician_still_needs_the_start_code() {
        let req = TransitionRequest {
            reason: Some("technician's phone died"),
            ..request(InProgress, Role::Admin)
        };
        assert_eq!(apply(Arrived, req), Err(TransitionError::StartCodeRequired));
    }

    #[test]
    fn admin_acting_for_a_customer_must_give_a_reason() {
        let cases = [
            (None, Err(TransitionError::ReasonRequired)),
            (Some(""), Err(TransitionError::ReasonRequired)),
            (Some("   "), Err(TransitionError::ReasonRequired)),
            (Some("customer called support"), Ok(Cancelled)),
        ];
        for (reason, want) in cases {
            let req = TransitionRequest {
                reason,
                ..request(Cancelled, Role::Admin)
            };
            assert_eq!(apply(Accepted, req), want, "{reason:?}");
        }
    }

    #[test]
    fn admin_resolves_disputes_without_a_stated_reason() {
        assert_eq!(
            apply(Disputed, request(Refunded, Role::Admin)),
            Ok(Refunded)
        );
        assert_eq!(apply(Disputed, request(Paid, Role::Admin)), Ok(Paid));
    }

    #[test]
    fn admin_cannot_make_moves_reserved_for_the_platform() {
        for (from, to) in [
            (Pending, Matching),
            (Verified, PaymentPending),
            (PaymentPending, Paid),
        ] {
            assert!(
                matches!(
                    apply(from, ok_request(to, Role::Admin)),
                    Err(TransitionError::NotAllowed { .. })
                ),
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn support_cannot_move_any_booking() {
        for from in Status::ALL {
            assert!(allowed_targets(from, Role::Support).is_empty(), "{from}");
        }
    }

    #[test]
    fn paid_booking_can_be_disputed_for_seven_days() {
        let paid = NOW - 10 * DAY;
        let cases = [
            ("a day after payment", Some(paid), paid + DAY, Ok(Disputed)),
            (
                "exactly seven days",
                Some(paid),
                paid + 7 * DAY,
                Ok(Disputed),
            ),
            (
                "one second later",
                Some(paid),
                paid + 7 * DAY + 1,
                Err(TransitionError::DisputeWindowClosed),
            ),
            (
                "payment time unknown",
                None,
                paid,
                Err(TransitionError::DisputeWindowClosed),
            ),
        ];
        for (name, paid_at, now, want) in cases {
            let req = TransitionRequest {
                paid_at,
                now,
                ..request(Disputed, Role::Customer)
            };
            assert_eq!(apply(Paid, req), want, "{name}");
        }
    }

    #[test]
    fn disputes_before_payment_have_no_time_limit() {
        for from in [Completed, PaymentPending] {
            assert_eq!(apply(from, request(Disputed, Role::Customer)), Ok(Disputed));
        }
    }

    #[test]
    fn cancelled_and_refunded_are_final() {
        for status in Status::ALL {
            let has_moves = TRANSITIONS.iter().any(|t| t.from == status);
            assert_eq!(status.is_final(), !has_moves, "{status}");
        }
        assert!(Cancelled.is_final() && Refunded.is_final());
        for role in Role::ALL {
            assert_eq!(
                apply(Cancelled, ok_request(Pending, role)),
                Err(TransitionError::NotAllowed { allowed: vec![] })
            );
        }
    }

    #[test]
    fn staying_in_the_same_status_is_not_a_move() {
        for status in Status::ALL {
            for role in Role::ALL {
                assert!(
                    apply(status, ok_request(status, role)).is_err(),
                    "{status} {role}"
                );
            }
        }
    }

    #[test]
    fn refusal_lists_what_the_role_may_do_instead() {
        let err = apply(Assigned, request(Completed, Role::Technician)).unwrap_err();
        assert_eq!(
            err,
            TransitionError::NotAllowed {
                allowed: vec![Accepted, Rejected]
            }
        );
        assert_eq!(
            err.to_string(),
            "not allowed; you may move this booking to ACCEPTED, REJECTED"
        );
    }

    #[test]
    fn admin_sees_own_and_on_behalf_moves_once_each() {
        assert_eq!(
            allowed_targets(Assigned, Role::Admin),
            vec![Accepted, Rejected, Cancelled]
        );
        assert_eq!(
            allowed_targets(InProgress, Role::Admin),
            vec![Paused, Completed, Cancelled]
        );
        assert_eq!(allowed_targets(Pending, Role::Admin), vec![Cancelled]);
    }

    #[test]
    fn technician_is_busy_from_acceptance_until_work_ends() {
        let busy = [Accepted, EnRoute, Arrived, InProgress, Paused];
        for status in Status::ALL {
            assert_eq!(
                status.technician_is_busy(),
                busy.contains(&status),
                "{status}"
            );
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_rejected() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for bad in ["", "pending", "EnRoute", "EN ROUTE", "DONE"] {
            assert_eq!(Status::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Role::parse("admin"), None);
        assert_eq!(EnRoute.to_string(), "EN_ROUTE");
    }

    #[test]
    fn unanswered_offer_expires_and_silent_customer_verifies_after_48_hours() {
        let t = Timeouts::default();
        assert_eq!(
            timer(Assigned, NOW, &t),
            Some(Timer {
                to: Rejected,
                due_at: NOW + 2 * 60
            })
        );
        assert_eq!(
            timer(Completed, NOW, &t),
            Some(Timer {
                to: Verified,
                due_at: NOW + 48 * 60 * 60
            })
        );
        for status in Status::ALL {
            if ![Assigned, Completed].contains(&status) {
                assert_eq!(timer(status, NOW, &t), None, "{status}");
            }
        }
    }

    #[test]
    fn timed_moves_are_ones_the_platform_may_make() {
        for from in [Assigned, Completed] {
            let due = timer(from, NOW, &Timeouts::default()).unwrap();
            assert_eq!(
                apply(from, request(due.to, Role::System)),
                Ok(due.to),
                "{from}"
            );
        }
    }
}
