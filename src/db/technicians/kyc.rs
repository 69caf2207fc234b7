//! KYC rows: the profile's KYC status, submissions, their documents and the history of changes.

use crate::db::entities::{kyc_document, kyc_event, kyc_submission, technician_profile};
use crate::domain::technician::KycStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// Moves the profile's KYC status to `to`, only while it still is `from`; returns rows affected.
pub async fn set_status_if(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
    from: KycStatus,
    to: KycStatus,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let moved = technician_profile::Entity::update_many()
        .col_expr(technician_profile::Column::KycStatus, Expr::value(to))
        .col_expr(technician_profile::Column::UpdatedAt, Expr::value(now))
        .filter(technician_profile::Column::Id.eq(technician_id))
        .filter(technician_profile::Column::KycStatus.eq(from))
        .exec(db)
        .await?;
    Ok(moved.rows_affected)
}

/// Stores a submission and returns it as stored.
pub async fn insert_submission(
    db: &impl ConnectionTrait,
    row: kyc_submission::Model,
) -> Result<kyc_submission::Model, DbErr> {
    kyc_submission::Entity::insert(kyc_submission::ActiveModel::from(row))
        .exec_with_returning(db)
        .await
}

pub async fn insert_document(
    db: &impl ConnectionTrait,
    row: kyc_document::Model,
) -> Result<(), DbErr> {
    kyc_document::Entity::insert(kyc_document::ActiveModel::from(row))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert_event(db: &impl ConnectionTrait, row: kyc_event::Model) -> Result<(), DbErr> {
    kyc_event::Entity::insert(kyc_event::ActiveModel::from(row))
        .exec(db)
        .await?;
    Ok(())
}

/// A technician's newest submission (UUIDv7 ids sort by creation time).
pub async fn latest_submission_of(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
) -> Result<Option<kyc_submission::Model>, DbErr> {
    kyc_submission::Entity::find()
        .filter(kyc_submission::Column::TechnicianId.eq(technician_id))
        .order_by_desc(kyc_submission::Column::Id)
        .one(db)
        .await
}

/// A decision as written to a submission.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub status: KycStatus,
    pub feedback: Option<String>,
    pub reviewed_by: Uuid,
}

/// Writes a decision to a submission, only while its status still is `from`; returns rows affected.
pub async fn decide_if(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: KycStatus,
    decision: DecisionRow,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let decided = kyc_submission::Entity::update_many()
        .col_expr(kyc_submission::Column::Status, Expr::value(decision.status))
        .col_expr(
            kyc_submission::Column::Feedback,
            Expr::value(decision.feedback),
        )
        .col_expr(
            kyc_submission::Column::ReviewedBy,
            Expr::value(decision.reviewed_by),
        )
        .col_expr(kyc_submission::Column::ReviewedAt, Expr::value(now))
        .col_expr(kyc_submission::Column::UpdatedAt, Expr::value(now))
        .filter(kyc_submission::Column::Id.eq(id))
        .filter(kyc_submission::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(decided.rows_affected)
}

pub async fn submission_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<kyc_submission::Model>, DbErr> {
    kyc_submission::Entity::find_by_id(id).one(db).await
}

/// Submissions with a status and ids above `after`, oldest first, at most `limit`.
pub async fn with_status(
    db: &impl ConnectionTrait,
    status: KycStatus,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<kyc_submission::Model>, DbErr> {
    let mut query =
        kyc_submission::Entity::find().filter(kyc_submission::Column::Status.eq(status));
    if let Some(after) = after {
        query = query.filter(kyc_submission::Column::Id.gt(after));
    }
    query
        .order_by_asc(kyc_submission::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many submissions have a status, in one statement.
pub async fn count_with_status(db: &impl ConnectionTrait, status: KycStatus) -> Result<u64, DbErr> {
    kyc_submission::Entity::find()
        .filter(kyc_submission::Column::Status.eq(status))
        .count(db)
        .await
}

/// Every KYC change of a technician, oldest first.
pub async fn events_of(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
) -> Result<Vec<kyc_event::Model>, DbErr> {
    kyc_event::Entity::find()
        .filter(kyc_event::Column::TechnicianId.eq(technician_id))
        .order_by_asc(kyc_event::Column::Id)
        .all(db)
        .await
}

pub async fn document_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<kyc_document::Model>, DbErr> {
    kyc_document::Entity::find_by_id(id).one(db).await
}

/// The documents of many submissions by id, in one statement.
pub async fn documents_of(
    db: &impl ConnectionTrait,
    submission_ids: Vec<Uuid>,
) -> Result<Vec<kyc_document::Model>, DbErr> {
    kyc_document::Entity::find()
        .filter(kyc_document::Column::SubmissionId.is_in(submission_ids))
        .order_by_asc(kyc_document::Column::Id)
        .all(db)
        .await
}
