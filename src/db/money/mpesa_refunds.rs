//! mpesa_refunds: refunds sent back to the payer's phone with M-Pesa B2C, and where each is.

use crate::db::entities::mpesa_refund;
use crate::domain::payments::RefundTransferStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Inserts a refund and returns it as stored.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: mpesa_refund::Model,
) -> Result<mpesa_refund::Model, DbErr> {
    row.into_active_model().insert(db).await
}

/// Up to `limit` refunds in `status`, oldest first.
pub async fn in_status(
    db: &impl ConnectionTrait,
    status: RefundTransferStatus,
    limit: u64,
) -> Result<Vec<mpesa_refund::Model>, DbErr> {
    mpesa_refund::Entity::find()
        .filter(mpesa_refund::Column::Status.eq(status))
        .order_by_asc(mpesa_refund::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Moves the refund from `from` to `to`; rows affected.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: RefundTransferStatus,
    to: RefundTransferStatus,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(mpesa_refund::Entity::update_many()
        .col_expr(mpesa_refund::Column::Status, Expr::value(to))
        .col_expr(mpesa_refund::Column::UpdatedAt, Expr::value(now))
        .filter(mpesa_refund::Column::Id.eq(id))
        .filter(mpesa_refund::Column::Status.eq(from))
        .exec(db)
        .await?
        .rows_affected)
}

/// Records the gateway's reference on the refund while it is in `status`.
pub async fn set_gateway_reference(
    db: &impl ConnectionTrait,
    id: Uuid,
    reference: String,
    status: RefundTransferStatus,
) -> Result<(), DbErr> {
    mpesa_refund::Entity::update_many()
        .col_expr(
            mpesa_refund::Column::GatewayReference,
            Expr::value(reference),
        )
        .filter(mpesa_refund::Column::Id.eq(id))
        .filter(mpesa_refund::Column::Status.eq(status))
        .exec(db)
        .await?;
    Ok(())
}

/// The refund with this reference.
pub async fn by_reference(
    db: &impl ConnectionTrait,
    reference: &str,
) -> Result<Option<mpesa_refund::Model>, DbErr> {
    mpesa_refund::Entity::find()
        .filter(mpesa_refund::Column::Reference.eq(reference))
        .one(db)
        .await
}

/// How a refund ended: completed with the gateway's reference, or failed with a reason.
pub enum Ending {
    Completed {
        status: RefundTransferStatus,
        gateway_reference: String,
    },
    Failed {
        status: RefundTransferStatus,
        reason: String,
    },
}

/// Ends the refund if it is in `from`, stamping `processed_at`; rows affected.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: RefundTransferStatus,
    ending: Ending,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut update = mpesa_refund::Entity::update_many()
        .col_expr(mpesa_refund::Column::ProcessedAt, Expr::value(now))
        .col_expr(mpesa_refund::Column::UpdatedAt, Expr::value(now));
    update = match ending {
        Ending::Completed {
            status,
            gateway_reference,
        } => update
            .col_expr(mpesa_refund::Column::Status, Expr::value(status))
            .col_expr(
                mpesa_refund::Column::GatewayReference,
                Expr::value(gateway_reference),
            ),
        Ending::Failed { status, reason } => update
            .col_expr(mpesa_refund::Column::Status, Expr::value(status))
            .col_expr(mpesa_refund::Column::FailureReason, Expr::value(reason)),
    };
    Ok(update
        .filter(mpesa_refund::Column::Id.eq(id))
        .filter(mpesa_refund::Column::Status.eq(from))
        .exec(db)
        .await?
        .rows_affected)
}

/// Up to 50 refunds in `status` not touched since `before`, least recently touched first.
pub async fn stale(
    db: &impl ConnectionTrait,
    status: RefundTransferStatus,
    before: DateTime<Utc>,
) -> Result<Vec<mpesa_refund::Model>, DbErr> {
    mpesa_refund::Entity::find()
        .filter(mpesa_refund::Column::Status.eq(status))
        .filter(mpesa_refund::Column::UpdatedAt.lt(before))
        .order_by_asc(mpesa_refund::Column::UpdatedAt)
        .limit(50)
        .all(db)
        .await
}

/// Moves `updated_at` of the refund with this reference to `now` if it is in `status` and was
/// last touched before `before`; rows affected.
pub async fn touch_stale(
    db: &impl ConnectionTrait,
    reference: &str,
    status: RefundTransferStatus,
    now: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(mpesa_refund::Entity::update_many()
        .col_expr(mpesa_refund::Column::UpdatedAt, Expr::value(now))
        .filter(mpesa_refund::Column::Reference.eq(reference))
        .filter(mpesa_refund::Column::Status.eq(status))
        .filter(mpesa_refund::Column::UpdatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// Every refund of the given payments, oldest first.
pub async fn of_payments(
    db: &impl ConnectionTrait,
    payment_ids: &[Uuid],
) -> Result<Vec<mpesa_refund::Model>, DbErr> {
    mpesa_refund::Entity::find()
        .filter(mpesa_refund::Column::PaymentId.is_in(payment_ids.iter().copied()))
        .order_by_asc(mpesa_refund::Column::CreatedAt)
        .all(db)
        .await
}
