//! Who may read a review: the double-blind rule (`domain::reviews::may_read`) applied to the viewer,
//! the one rule `node(id)`, `Booking.reviews`, the public list and every use case apply. For anyone
//! outside it a review does not exist (NOT_FOUND).

use crate::db::entities::{review, review_moderation};
use crate::db::reviews::{feedback as db_feedback, review as rows};
use crate::domain::reviews::{self, Reader, State};
use crate::error::{AppError, AppResult};
use crate::services::Viewer;
use sea_orm::ConnectionTrait;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// How the viewer (None: nobody signed in) stands to a review.
pub fn reader(viewer: Option<&Viewer>, review: &review::Model) -> Reader {
    Reader::of(
        viewer.map(|v| v.user_id),
        viewer.is_some_and(Viewer::is_staff),
        review.author_id,
        review.subject_id,
    )
}

/// Where a review is, as the rules need it.
pub fn state(review: &review::Model) -> State {
    State {
        direction: review.direction,
        published: review.published_at.is_some(),
        hidden: review.hidden_at.is_some(),
    }
}

/// Whether the viewer may read this review.
pub fn may_read(viewer: Option<&Viewer>, review: &review::Model) -> bool {
    reviews::may_read(reader(viewer, review), state(review))
}

/// A review the viewer may read, or None (missing or not theirs to read alike).
pub async fn find_visible(
    db: &impl ConnectionTrait,
    viewer: Option<&Viewer>,
    id: Uuid,
) -> AppResult<Option<review::Model>> {
    Ok(rows::by_id(db, id)
        .await?
        .filter(|review| may_read(viewer, review)))
}

/// A review the viewer may read; NOT_FOUND otherwise.
pub async fn visible(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<review::Model> {
    find_visible(db, Some(viewer), id)
        .await?
        .ok_or_else(|| AppError::NotFound("review".into()))
}

/// The reviews of several bookings, by booking (whoever may read them: filter with [`may_read`]).
pub async fn of_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<review::Model>>> {
    Ok(rows::of_bookings(db, bookings).await?)
}

/// Reviews by id (whoever may read them: filter with [`may_read`]).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, review::Model>> {
    Ok(rows::by_ids(db, ids).await?)
}

/// Which of `reviews` the voter voted helpful.
pub async fn voted_by(
    db: &impl ConnectionTrait,
    voter: Uuid,
    reviews: &[Uuid],
) -> AppResult<HashSet<Uuid>> {
    Ok(db_feedback::voted_by(db, voter, reviews).await?)
}

/// The moderation logs of several reviews (staff read them).
pub async fn moderation_of(
    db: &impl ConnectionTrait,
    reviews: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<review_moderation::Model>>> {
    Ok(db_feedback::moderation_of(db, reviews).await?)
}

/// A customer's rating from technicians' published reviews of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerRating {
    pub count: i64,
    pub average: Option<f64>,
}

/// Several customers' ratings; customers without published reviews are left out.
pub async fn customer_ratings(
    db: &impl ConnectionTrait,
    customers: &[Uuid],
) -> AppResult<HashMap<Uuid, CustomerRating>> {
    let found = rows::customer_ratings(db, customers).await?;
    Ok(found
        .into_iter()
        .map(|(customer, (count, stars))| {
            let rating = CustomerRating {
                count,
                average: crate::domain::ratings::average(stars, count),
            };
            (customer, rating)
        })
        .collect())
}
