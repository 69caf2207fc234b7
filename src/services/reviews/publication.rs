//! Publishing a booking's reviews together: when the second side writes, or when the window closes
//! with only one written. In the caller's transaction each review is claimed once (a conditional
//! update), counted into its technician's totals unless staff hid it, and its subject notified.

use crate::db::entities::review;
use crate::db::reviews::{review as rows, windows as db_windows};
use crate::domain::ratings::Change;
use crate::domain::reviews::Direction;
use crate::error::AppResult;
use crate::services::bookings::access;
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::reviews::ratings;
use crate::services::{Effects, Services};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Publishes every unpublished review of `booking` at `now`; how many this call published (a
/// review another call published first is skipped, so none is counted twice).
pub async fn publish_booking(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    booking: Uuid,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    db_windows::claim_publication(txn, booking, now).await?;
    let waiting: Vec<review::Model> = rows::of_booking(txn, booking)
        .await?
        .into_iter()
        .filter(|r| r.published_at.is_none())
        .collect();
    if waiting.is_empty() {
        return Ok(0);
    }
    let title = access::load(txn, booking).await?.title;
    let mut published = 0;
    for review in waiting {
        // The claim: of two publishers (the second review, the window's end) exactly one moves it.
        let Some(review) = rows::publish(txn, review.id, now).await? else {
            continue;
        };
        published += 1;
        if review.hidden_at.is_some() {
            continue;
        }
        ratings::apply(txn, services, effects, &review, Change::Add, now).await?;
        notify_subject(txn, effects, now, &review, &title).await?;
    }
    Ok(published)
}

/// Tells the reviewed person their review is out.
async fn notify_subject(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    review: &review::Model,
    title: &str,
) -> AppResult<()> {
    let from = match review.direction {
        Direction::CustomerToTechnician => "your customer",
        Direction::TechnicianToCustomer => "your technician",
    };
    let mut note = NewNotification::new(
        review.subject_id,
        Kind::ReviewReceived,
        format!("New review: {title}"),
        format!("{} stars from {from}", review.rating),
    );
    note.data = Some(serde_json::json!({
        "reviewId": review.id,
        "bookingId": review.booking_id,
        "rating": review.rating,
    }));
    in_app::create(txn, effects, now, note).await?;
    Ok(())
}
