//! Staff moderation: hiding a review (out of sight and out of the technician's aggregates, in the
//! same transaction) or restoring it, each with a reason, each recorded; and the queue of reports.

use crate::db::begin_write;
use crate::db::entities::{review, review_moderation, review_report};
use crate::db::reviews::{feedback as db_feedback, review as rows};
use crate::domain::account::Role;
use crate::domain::ratings::Change;
use crate::domain::reviews::{
    MAX_REASON_CHARS, MIN_REASON_CHARS, ModerationAction, check_moderation,
};
use crate::error::{AppError, AppResult};
use crate::services::platform::pagination::{Page, Slice};
use crate::services::platform::validation::text;
use crate::services::reviews::ratings;
use crate::services::{Effects, Services, Viewer};
use uuid::Uuid;

const STAFF: [Role; 2] = [Role::Admin, Role::Support];

/// ADMIN or SUPPORT hides or restores a review with a reason. Open reports about it are resolved.
pub async fn moderate(
    services: &Services,
    viewer: &Viewer,
    review_id: Uuid,
    action: ModerationAction,
    reason: &str,
) -> AppResult<review::Model> {
    viewer.require_role(&STAFF)?;
    let reason = text(
        reason,
        "reason",
        "reason",
        MIN_REASON_CHARS,
        MAX_REASON_CHARS,
    )?;
    let review = rows::by_id(&services.db, review_id)
        .await?
        .ok_or_else(|| AppError::NotFound("review".into()))?;
    let invalid = |message: &str| AppError::InvalidTransition {
        message: message.to_string(),
        allowed: vec![],
    };
    check_moderation(action, review.hidden_at.is_some()).map_err(invalid)?;
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let moved = match action {
        ModerationAction::Hide => rows::hide(&txn, review_id, &reason, now).await?,
        ModerationAction::Restore => rows::restore(&txn, review_id, now).await?,
    }
    .ok_or_else(|| AppError::Conflict("this review was moderated meanwhile; reload it".into()))?;
    let mut effects = Effects::default();
    // A published review leaves the aggregates when hidden and comes back when restored; one not
    // yet published is counted (or not) when it is.
    if moved.published_at.is_some() {
        let change = match action {
            ModerationAction::Hide => Change::Remove,
            ModerationAction::Restore => Change::Add,
        };
        ratings::apply(&txn, services, &mut effects, &moved, change, now).await?;
    }
    db_feedback::insert_moderation(
        &txn,
        review_moderation::Model {
            id: Uuid::now_v7(),
            review_id,
            actor_id: viewer.user_id,
            action,
            reason,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    db_feedback::resolve_reports(&txn, review_id, viewer.user_id, now).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(moved)
}

/// Reports for staff, newest first; only unresolved ones when `open_only`.
pub async fn reports(
    services: &Services,
    viewer: &Viewer,
    open_only: bool,
    page: Page,
) -> AppResult<Slice<review_report::Model>> {
    viewer.require_role(&STAFF)?;
    let rows =
        db_feedback::list_reports(&services.db, open_only, page.after, page.limit + 1).await?;
    Ok(Slice::from_probe(rows, page.limit))
}

/// How many reports [`reports`] pages through.
pub async fn count_reports(
    services: &Services,
    viewer: &Viewer,
    open_only: bool,
) -> AppResult<u64> {
    viewer.require_role(&STAFF)?;
    Ok(db_feedback::count_reports(&services.db, open_only).await?)
}
