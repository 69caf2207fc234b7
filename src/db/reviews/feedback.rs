//! What others do with a review: helpful votes and reports (once per person, unique indexes), and
//! staff's moderation log.

use crate::db::entities::{review_moderation, review_report, review_vote};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Records a vote unless the voter already voted on the review; rows inserted.
pub async fn insert_vote_if_new(
    db: &impl ConnectionTrait,
    row: review_vote::Model,
) -> Result<u64, DbErr> {
    review_vote::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([review_vote::Column::ReviewId, review_vote::Column::VoterId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
}

/// Which of `reviews` `voter` voted helpful.
pub async fn voted_by(
    db: &impl ConnectionTrait,
    voter: Uuid,
    reviews: &[Uuid],
) -> Result<HashSet<Uuid>, DbErr> {
    if reviews.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<Uuid> = review_vote::Entity::find()
        .select_only()
        .column(review_vote::Column::ReviewId)
        .filter(review_vote::Column::VoterId.eq(voter))
        .filter(review_vote::Column::ReviewId.is_in(reviews.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Records a report unless the reporter already reported the review; rows inserted.
pub async fn insert_report_if_new(
    db: &impl ConnectionTrait,
    row: review_report::Model,
) -> Result<u64, DbErr> {
    review_report::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([
                review_report::Column::ReviewId,
                review_report::Column::ReporterId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await
}

fn reports(open_only: bool) -> Select<review_report::Entity> {
    let query = review_report::Entity::find();
    if open_only {
        query.filter(review_report::Column::ResolvedAt.is_null())
    } else {
        query
    }
}

/// Up to `limit` reports (only unresolved ones when `open_only`) with ids below `after`, newest first.
pub async fn list_reports(
    db: &impl ConnectionTrait,
    open_only: bool,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<review_report::Model>, DbErr> {
    let mut query = reports(open_only);
    if let Some(after) = after {
        query = query.filter(review_report::Column::Id.lt(after));
    }
    query
        .order_by_desc(review_report::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many reports [`list_reports`] pages through.
pub async fn count_reports(db: &impl ConnectionTrait, open_only: bool) -> Result<u64, DbErr> {
    reports(open_only).count(db).await
}

/// Resolves a review's open reports: staff acted on it.
pub async fn resolve_reports(
    db: &impl ConnectionTrait,
    review: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let resolved = review_report::Entity::update_many()
        .col_expr(review_report::Column::ResolvedAt, Expr::value(now))
        .col_expr(review_report::Column::ResolvedBy, Expr::value(by))
        .col_expr(review_report::Column::UpdatedAt, Expr::value(now))
        .filter(review_report::Column::ReviewId.eq(review))
        .filter(review_report::Column::ResolvedAt.is_null())
        .exec(db)
        .await?;
    Ok(resolved.rows_affected)
}

/// Appends a line to a review's moderation log.
pub async fn insert_moderation(
    db: &impl ConnectionTrait,
    row: review_moderation::Model,
) -> Result<(), DbErr> {
    review_moderation::Entity::insert(row.into_active_model())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The moderation logs of several reviews, oldest first.
pub async fn moderation_of(
    db: &impl ConnectionTrait,
    reviews: &[Uuid],
) -> Result<HashMap<Uuid, Vec<review_moderation::Model>>, DbErr> {
    let mut found: HashMap<Uuid, Vec<review_moderation::Model>> = HashMap::new();
    if reviews.is_empty() {
        return Ok(found);
    }
    let rows = review_moderation::Entity::find()
        .filter(review_moderation::Column::ReviewId.is_in(reviews.iter().copied()))
        .order_by_asc(review_moderation::Column::Id)
        .all(db)
        .await?;
    for row in rows {
        found.entry(row.review_id).or_default().push(row);
    }
    Ok(found)
}
