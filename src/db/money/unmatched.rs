//! unmatched_receipts: money a provider reported that matched no payment, kept for staff until
//! attached to a booking or refunded.

use crate::db::entities::unmatched_receipt;
use crate::domain::unmatched::ReceiptStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

/// Inserts a receipt unless one with its provider and reference is there (ON CONFLICT DO
/// NOTHING, so a PostgreSQL transaction is not aborted); rows inserted.
pub async fn insert_if_new(
    db: &impl ConnectionTrait,
    row: unmatched_receipt::Model,
) -> Result<u64, DbErr> {
    unmatched_receipt::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([
                unmatched_receipt::Column::Provider,
                unmatched_receipt::Column::ProviderReference,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await
}

/// The receipt with this id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<unmatched_receipt::Model>, DbErr> {
    unmatched_receipt::Entity::find_by_id(id).one(db).await
}

fn listed(status: Option<ReceiptStatus>) -> Select<unmatched_receipt::Entity> {
    let mut query = unmatched_receipt::Entity::find();
    if let Some(status) = status {
        query = query.filter(unmatched_receipt::Column::Status.eq(status));
    }
    query
}

/// Up to `limit` receipts, in one status when given, with ids below `after`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<ReceiptStatus>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<unmatched_receipt::Model>, DbErr> {
    let mut query = listed(status);
    if let Some(after) = after {
        query = query.filter(unmatched_receipt::Column::Id.lt(after));
    }
    query
        .order_by_desc(unmatched_receipt::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many receipts [`list`] pages through with the same filter.
pub async fn count(db: &impl ConnectionTrait, status: Option<ReceiptStatus>) -> Result<u64, DbErr> {
    listed(status).count(db).await
}

/// Who resolved a receipt and what to record with it.
pub struct Resolution {
    pub resolved_by: Uuid,
    pub resolved_at: DateTime<Utc>,
    /// Both set when the receipt is attached; left as stored otherwise.
    pub attached: Option<(Uuid, Uuid)>,
    pub note: Option<String>,
    pub now: DateTime<Utc>,
}

/// Moves the receipt from `from` to `to` with its resolution; rows affected.
pub async fn resolve(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: ReceiptStatus,
    to: ReceiptStatus,
    r: Resolution,
) -> Result<u64, DbErr> {
    let mut update = unmatched_receipt::Entity::update_many()
        .col_expr(unmatched_receipt::Column::Status, Expr::value(to))
        .col_expr(
            unmatched_receipt::Column::ResolvedBy,
            Expr::value(r.resolved_by),
        )
        .col_expr(
            unmatched_receipt::Column::ResolvedAt,
            Expr::value(r.resolved_at),
        );
    if let Some((booking_id, payment_id)) = r.attached {
        update = update
            .col_expr(
                unmatched_receipt::Column::AttachedBookingId,
                Expr::value(booking_id),
            )
            .col_expr(
                unmatched_receipt::Column::AttachedPaymentId,
                Expr::value(payment_id),
            );
    }
    let claimed = update
        .col_expr(unmatched_receipt::Column::Note, Expr::value(r.note))
        .col_expr(unmatched_receipt::Column::UpdatedAt, Expr::value(r.now))
        .filter(unmatched_receipt::Column::Id.eq(id))
        .filter(unmatched_receipt::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected)
}

/// Sets what staff must still do about the receipt.
pub async fn set_next_action(
    db: &impl ConnectionTrait,
    id: Uuid,
    action: String,
) -> Result<(), DbErr> {
    unmatched_receipt::Entity::update_many()
        .col_expr(unmatched_receipt::Column::NextAction, Expr::value(action))
        .filter(unmatched_receipt::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
