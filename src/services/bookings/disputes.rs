//! Disputes: a participant contests a finished job, and an admin resolves it by releasing the money to
//! the technician, refunding the customer, or splitting it (the money itself moves later, with payments).

use crate::db::batch;
use crate::db::begin_write;
use crate::db::bookings::disputes::{self as rows, Resolved};
use crate::db::bookings::flow::MoveColumn;
use crate::db::entities::{booking, dispute};
use crate::domain::account::Role;
use crate::domain::booking_state::{self, Role as ActorRole, Status, TransitionRequest};
use crate::domain::disputes::{DisputeStatus, Outcome};
use crate::error::{AppError, AppResult};
use crate::services::bookings::access::{actor_role, visible};
use crate::services::bookings::flow::{Actor, transition_error};
use crate::services::bookings::status_change;
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::platform::validation::text;
use crate::services::{Effects, Services, Viewer};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

pub struct Resolution {
    pub outcome: Outcome,
    pub customer_refund_percent: Option<i32>,
    pub note: Option<String>,
}

/// A participant disputes a completed (or recently paid) job.
///
/// The state table lets the customer dispute, so a technician's dispute is checked against the
/// customer's rule (same states, same 7-day window after payment) but recorded in the event log with
/// the technician's own id and role TECHNICIAN, so the history says who really raised it.
pub async fn open(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    reason: &str,
    details: Option<&str>,
) -> AppResult<booking::Model> {
    let booking = visible(services, viewer, booking_id).await?;
    // Every booking `visible` returns has a role for its viewer; refuse rather than panic if not.
    let role = actor_role(viewer, &booking).ok_or_else(AppError::forbidden)?;
    if !matches!(role, ActorRole::Customer | ActorRole::Technician) {
        return Err(AppError::Forbidden(
            "only the customer or the technician opens a dispute".into(),
        ));
    }
    let reason = text(reason, "reason", "reason", 3, 200)?;
    let details = text(details.unwrap_or(""), "details", "details", 0, 4000)?;
    let from = booking.status;
    let now = services.clock.now();
    let request = TransitionRequest {
        to: Status::Disputed,
        role: ActorRole::Customer,
        reason: Some(&reason),
        start_code_ok: false,
        now: now.timestamp(),
        paid_at: booking.paid_at.map(|t| t.timestamp()),
    };
    booking_state::apply(from, request).map_err(|e| transition_error(e, from))?;
    // One dispute per booking: a resolution is final, not the start of another round.
    let earlier = rows::count_for_booking(&services.db, booking.id).await?;
    if earlier > 0 {
        return Err(AppError::Conflict(
            "this booking has already been disputed".into(),
        ));
    }
    let txn = begin_write(&services.db).await?;
    let mut effects = Effects::default();
    let actor = Actor {
        user_id: Some(viewer.user_id),
        role,
    };
    let after = status_change::apply(
        &txn,
        &mut effects,
        now,
        &booking,
        Status::Disputed,
        actor,
        Some(&reason),
        vec![],
    )
    .await?;
    rows::insert(
        &txn,
        dispute::Model {
            id: Uuid::now_v7(),
            booking_id: booking.id,
            opened_by: viewer.user_id,
            reason,
            details,
            status: DisputeStatus::Open,
            outcome: None,
            customer_refund_percent: None,
            resolution_note: None,
            resolved_by: None,
            resolved_at: None,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(after)
}

/// An admin settles the open dispute; the booking moves to PAID or REFUNDED and the outcome is kept.
pub async fn resolve(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    resolution: Resolution,
) -> AppResult<booking::Model> {
    viewer.require_role(&[Role::Admin])?;
    let percent = match (resolution.outcome, resolution.customer_refund_percent) {
        (Outcome::Split, Some(p)) if (1..=99).contains(&p) => Some(p),
        (Outcome::Split, _) => {
            return Err(AppError::bad_input(
                "customerRefundPercent",
                "a split needs the customer's share, 1 to 99 percent",
            ));
        }
        (_, None) => None,
        (_, Some(_)) => {
            return Err(AppError::bad_input(
                "customerRefundPercent",
                "only a SPLIT takes a refund percent",
            ));
        }
    };
    let note = match resolution.note.as_deref() {
        Some(n) => Some(text(n, "note", "note", 0, 2000)?).filter(|n| !n.is_empty()),
        None => None,
    };
    let booking = visible(services, viewer, booking_id).await?;
    let from = booking.status;
    let to = resolution.outcome.target();
    let now = services.clock.now();
    let request = TransitionRequest {
        to,
        role: ActorRole::Admin,
        reason: note.as_deref(),
        start_code_ok: false,
        now: now.timestamp(),
        paid_at: None,
    };
    booking_state::apply(from, request).map_err(|e| transition_error(e, from))?;
    let open = rows::latest_in_status(&services.db, booking.id, DisputeStatus::Open)
        .await?
        .ok_or_else(|| AppError::Conflict("this booking has no open dispute".into()))?;
    let txn = begin_write(&services.db).await?;
    let mut effects = Effects::default();
    let changed = rows::resolve(
        &txn,
        open.id,
        DisputeStatus::Open,
        Resolved {
            status: DisputeStatus::Resolved,
            outcome: resolution.outcome,
            customer_refund_percent: percent,
            note: note.clone(),
            resolved_by: viewer.user_id,
            at: now,
        },
    )
    .await?;
    if changed != 1 {
        return Err(AppError::Conflict(
            "this dispute was resolved meanwhile".into(),
        ));
    }
    let extra = if to == Status::Paid {
        vec![MoveColumn::PaidAt(now)]
    } else {
        vec![]
    };
    let actor = Actor {
        user_id: Some(viewer.user_id),
        role: ActorRole::Admin,
    };
    let reason = note
        .clone()
        .unwrap_or_else(|| format!("dispute resolved: {}", resolution.outcome.as_str()));
    let after = status_change::apply(
        &txn,
        &mut effects,
        now,
        &booking,
        to,
        actor,
        Some(&reason),
        extra,
    )
    .await?;
    let refund_percent = match resolution.outcome {
        Outcome::RefundCustomer => 100,
        Outcome::ReleaseToTechnician => 0,
        Outcome::Split => i64::from(percent.unwrap_or(0)),
    };
    crate::services::money::settlement::on_dispute_resolved(
        &txn,
        services,
        now,
        &after,
        refund_percent,
    )
    .await?;
    if to == Status::Paid {
        crate::services::money::invoices::invoice_paid_booking(
            &txn,
            services,
            &mut effects,
            now,
            &after,
        )
        .await?;
    }
    // The state change notifies nobody for PAID or REFUNDED, but both sides are waiting on this answer.
    for recipient in [Some(booking.customer_id), booking.technician_id]
        .into_iter()
        .flatten()
    {
        let title = format!("Dispute resolved: {}", booking.title);
        let mut message = NewNotification::new(
            recipient,
            Kind::BookingUpdate,
            title,
            format!("Outcome: {}", resolution.outcome.as_str()),
        );
        message.data = Some(
            serde_json::json!({"bookingId": booking.id, "outcome": resolution.outcome.as_str(), "customerRefundPercent": percent}),
        );
        in_app::create(&txn, &mut effects, now, message).await?;
    }
    txn.commit().await?;
    services.after_commit(effects);
    Ok(after)
}

/// The booking's dispute, if it has one, for its participants and staff.
pub async fn for_booking(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
) -> AppResult<Option<dispute::Model>> {
    visible(services, viewer, booking_id).await?;
    Ok(rows::latest_for_booking(&services.db, booking_id).await?)
}

/// Each booking's latest dispute, for many bookings in one statement. Callers check access.
pub async fn latest_of_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> AppResult<HashMap<Uuid, dispute::Model>> {
    let disputes = rows::for_bookings(db, bookings).await?;
    // Ascending ids, so the newest dispute of each booking is the one kept.
    Ok(batch::index(disputes, |d| d.booking_id))
}
