//! Writing a review: the booking's customer or technician, once each, while the window is open.
//! The second review publishes both in the same transaction; the first stays blind.

use crate::db::begin_write;
use crate::db::entities::review;
use crate::db::reviews::{review as rows, windows as db_windows};
use crate::domain::account::Role;
use crate::domain::reviews::{AspectsDraft, Direction, ReviewDraft, check, open_window};
use crate::error::{AppError, AppResult};
use crate::services::bookings::access;
use crate::services::reviews::publication;
use crate::services::{Effects, Services, Viewer};
use uuid::Uuid;

/// A review as the client sent it.
pub struct NewReview {
    pub rating: i32,
    pub aspects: Option<AspectsDraft>,
    pub comment: Option<String>,
}

/// Writes the viewer's review of the other side of `booking_id`.
pub async fn submit(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    input: NewReview,
) -> AppResult<review::Model> {
    viewer.require_role(&[Role::Customer, Role::Technician])?;
    let booking = access::visible(services, viewer, booking_id).await?;
    let technician = booking
        .technician_id
        .ok_or_else(|| AppError::NotFound("booking".into()))?;
    // `visible` let in only this booking's own customer or technician.
    let (direction, subject) = if viewer.role == Role::Customer {
        (Direction::CustomerToTechnician, technician)
    } else {
        (Direction::TechnicianToCustomer, booking.customer_id)
    };
    let checked = check(
        direction,
        &ReviewDraft {
            rating: input.rating,
            aspects: input.aspects,
            comment: input.comment.as_deref(),
        },
    )?;
    let now = services.clock.now();
    let length = chrono::Duration::seconds(services.config.reviews.window_secs);
    let window =
        open_window(booking.status, booking.status_changed_at, length, now).map_err(|refusal| {
            AppError::InvalidTransition {
                message: refusal.message(),
                allowed: vec![],
            }
        })?;
    let aspect = |pick: fn(&crate::domain::reviews::Aspects) -> u8| {
        checked.aspects.as_ref().map(|a| i32::from(pick(a)))
    };
    let row = review::Model {
        id: Uuid::now_v7(),
        booking_id,
        author_id: viewer.user_id,
        subject_id: subject,
        technician_id: technician,
        direction,
        rating: i32::from(checked.rating),
        quality: aspect(|a| a.quality),
        punctuality: aspect(|a| a.punctuality),
        communication: aspect(|a| a.communication),
        value: aspect(|a| a.value),
        professionalism: aspect(|a| a.professionalism),
        comment: checked.comment.clone(),
        published_at: None,
        hidden_at: None,
        hidden_reason: None,
        response: None,
        responded_at: None,
        helpful_count: 0,
        created_at: now,
        updated_at: now,
    };
    let id = row.id;
    let txn = begin_write(&services.db).await?;
    if rows::insert_if_new(&txn, row).await? == 0 {
        return Err(AppError::Conflict(
            "you have already reviewed this job; a review cannot be changed".into(),
        ));
    }
    let counted = db_windows::count_review(&txn, booking_id, window.closes_at, now).await?;
    let mut effects = Effects::default();
    // Both sides have written, or the window closed on the other side's review: publish now.
    if counted.submitted >= 2 || counted.published {
        publication::publish_booking(&txn, services, &mut effects, booking_id, now).await?;
    }
    let written = rows::by_id(&txn, id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("review {id} vanished")))?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(written)
}
