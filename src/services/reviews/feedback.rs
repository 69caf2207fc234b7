//! What others do with a review: the reviewed technician's one public response, helpful votes
//! (signed in, once each, never on your own review or one about you), and reports with a reason.

use crate::db::begin_write;
use crate::db::entities::{review, review_report, review_vote};
use crate::db::reviews::{feedback as db_feedback, review as rows};
use crate::domain::reviews::{
    FeedbackRefusal, MAX_REASON_CHARS, MAX_RESPONSE_CHARS, MIN_REASON_CHARS, Reader, may_respond,
    may_vote,
};
use crate::error::{AppError, AppResult};
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::platform::validation::text;
use crate::services::reviews::access;
use crate::services::{Effects, Services, Viewer};
use uuid::Uuid;

/// The client-facing error for a refused response or vote.
fn refused(refusal: FeedbackRefusal) -> AppError {
    let message = refusal.message().to_string();
    match refusal {
        FeedbackRefusal::NotTheirs | FeedbackRefusal::OwnReview => AppError::Forbidden(message),
        FeedbackRefusal::AlreadyAnswered => AppError::Conflict(message),
        FeedbackRefusal::CustomerReview | FeedbackRefusal::NotPublished => {
            AppError::InvalidTransition {
                message,
                allowed: vec![],
            }
        }
    }
}

/// The reviewed technician answers a published review of theirs, once; the author is told.
pub async fn respond(
    services: &Services,
    viewer: &Viewer,
    review_id: Uuid,
    response: &str,
) -> AppResult<review::Model> {
    let review = access::visible(&services.db, viewer, review_id).await?;
    let reader = access::reader(Some(viewer), &review);
    may_respond(reader, access::state(&review), review.response.is_some()).map_err(refused)?;
    let response = text(response, "response", "response", 1, MAX_RESPONSE_CHARS)?;
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let answered = rows::respond(&txn, review_id, &response, now)
        .await?
        .ok_or_else(|| refused(FeedbackRefusal::AlreadyAnswered))?;
    let mut effects = Effects::default();
    let mut note = NewNotification::new(
        answered.author_id,
        Kind::ReviewResponse,
        "Your review got a response",
        response.chars().take(200).collect::<String>(),
    );
    note.data = Some(serde_json::json!({
        "reviewId": answered.id,
        "bookingId": answered.booking_id,
    }));
    in_app::create(&txn, &mut effects, now, note).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(answered)
}

/// Votes a review helpful: once per person (CONFLICT the second time).
pub async fn vote_helpful(
    services: &Services,
    viewer: &Viewer,
    review_id: Uuid,
) -> AppResult<review::Model> {
    let review = access::visible(&services.db, viewer, review_id).await?;
    may_vote(
        access::reader(Some(viewer), &review),
        access::state(&review),
    )
    .map_err(refused)?;
    let now = services.clock.now();
    let vote = review_vote::Model {
        id: Uuid::now_v7(),
        review_id,
        voter_id: viewer.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = begin_write(&services.db).await?;
    if db_feedback::insert_vote_if_new(&txn, vote).await? == 0 {
        return Err(AppError::Conflict(
            "you have already voted this review helpful".into(),
        ));
    }
    let counted = rows::count_helpful(&txn, review_id)
        .await?
        .ok_or_else(|| AppError::NotFound("review".into()))?;
    txn.commit().await?;
    Ok(counted)
}

/// Reports a review to staff with a reason: anyone who may read it but its author, once each.
pub async fn report(
    services: &Services,
    viewer: &Viewer,
    review_id: Uuid,
    reason: &str,
) -> AppResult<review::Model> {
    let review = access::visible(&services.db, viewer, review_id).await?;
    if access::reader(Some(viewer), &review) == Reader::Author {
        return Err(AppError::Forbidden(
            "you cannot report your own review".into(),
        ));
    }
    let reason = text(
        reason,
        "reason",
        "reason",
        MIN_REASON_CHARS,
        MAX_REASON_CHARS,
    )?;
    let now = services.clock.now();
    let report = review_report::Model {
        id: Uuid::now_v7(),
        review_id,
        reporter_id: viewer.user_id,
        reason,
        resolved_at: None,
        resolved_by: None,
        created_at: now,
        updated_at: now,
    };
    let txn = begin_write(&services.db).await?;
    if db_feedback::insert_report_if_new(&txn, report).await? == 0 {
        return Err(AppError::Conflict(
            "you have already reported this review".into(),
        ));
    }
    txn.commit().await?;
    Ok(review)
}
