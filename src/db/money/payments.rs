//! payments: a customer's charges for a booking (deposit, balance, tip), their gateway outcomes
//! and how much of each was refunded.

use crate::db::entities::payment;
use crate::domain::payments::{PaymentKind, PaymentStatus};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// The payment with this id.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<payment::Model>, DbErr> {
    payment::Entity::find_by_id(id).one(db).await
}

/// The customer's payment with this idempotency key.
pub async fn by_key(
    db: &impl ConnectionTrait,
    customer: Uuid,
    key: &str,
) -> Result<Option<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::CustomerId.eq(customer))
        .filter(payment::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

/// One payment of the booking of `kind` in one of `statuses`, if any.
pub async fn one_of_kind_in(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    kind: PaymentKind,
    statuses: &[PaymentStatus],
) -> Result<Option<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking_id))
        .filter(payment::Column::Kind.eq(kind))
        .filter(payment::Column::Status.is_in(statuses.iter().copied()))
        .one(db)
        .await
}

/// The booking's payments not of `kind` in one of `statuses`, newest first.
pub async fn not_of_kind_in_newest_first(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    kind: PaymentKind,
    statuses: &[PaymentStatus],
) -> Result<Vec<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking_id))
        .filter(payment::Column::Kind.ne(kind))
        .filter(payment::Column::Status.is_in(statuses.iter().copied()))
        .order_by_desc(payment::Column::Id)
        .all(db)
        .await
}

/// Every payment of the given bookings, oldest first.
pub async fn of_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> Result<Vec<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::BookingId.is_in(bookings.iter().copied()))
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await
}

/// Inserts a payment; a unique violation (the idempotency key taken) comes back as the error.
pub async fn insert(db: &impl ConnectionTrait, row: payment::Model) -> Result<(), DbErr> {
    payment::Entity::insert(row.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}

/// A gateway's answer to record on a payment.
pub struct Outcome {
    pub status: PaymentStatus,
    pub next_action: Option<String>,
    pub failure_reason: Option<String>,
    /// Kept as stored when None.
    pub gateway_reference: Option<String>,
    /// Kept as stored when None.
    pub client_secret: Option<String>,
    /// Kept as stored when None.
    pub succeeded_at: Option<DateTime<Utc>>,
}

/// Records `outcome` on the payment if it is in one of `from`; rows affected.
pub async fn record_outcome(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: &[PaymentStatus],
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut update = payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(outcome.status))
        .col_expr(
            payment::Column::NextAction,
            Expr::value(outcome.next_action),
        )
        .col_expr(
            payment::Column::FailureReason,
            Expr::value(outcome.failure_reason),
        )
        .col_expr(payment::Column::UpdatedAt, Expr::value(now));
    if let Some(reference) = outcome.gateway_reference {
        update = update.col_expr(payment::Column::GatewayReference, Expr::value(reference));
    }
    if let Some(secret) = outcome.client_secret {
        update = update.col_expr(payment::Column::ClientSecret, Expr::value(secret));
    }
    if let Some(at) = outcome.succeeded_at {
        update = update.col_expr(payment::Column::SucceededAt, Expr::value(at));
    }
    Ok(update
        .filter(payment::Column::Id.eq(id))
        .filter(payment::Column::Status.is_in(from.iter().copied()))
        .exec(db)
        .await?
        .rows_affected)
}

/// Sets how much of the payment was refunded and its status, and its next action when given.
pub async fn set_refunded(
    db: &impl ConnectionTrait,
    paid: &payment::Model,
    refunded_minor: i64,
    status: PaymentStatus,
    next_action: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut active: payment::ActiveModel = paid.clone().into();
    active.refunded_minor = Set(refunded_minor);
    active.status = Set(status);
    if next_action.is_some() {
        active.next_action = Set(next_action);
    }
    active.updated_at = Set(now);
    sea_orm::ActiveModelTrait::update(active, db).await?;
    Ok(())
}

/// The booking's payments of `kind` in `status`, oldest first.
pub async fn of_kind_in_status(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    kind: PaymentKind,
    status: PaymentStatus,
) -> Result<Vec<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking_id))
        .filter(payment::Column::Kind.eq(kind))
        .filter(payment::Column::Status.eq(status))
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await
}

/// One payment through `method` whose gateway reference is `reference`, if any.
pub async fn by_method_and_reference(
    db: &impl ConnectionTrait,
    method: &str,
    reference: &str,
) -> Result<Option<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::Method.eq(method))
        .filter(payment::Column::GatewayReference.eq(reference))
        .one(db)
        .await
}

/// The payment with this id if it is through `method`.
pub async fn by_id_and_method(
    db: &impl ConnectionTrait,
    id: Uuid,
    method: &str,
) -> Result<Option<payment::Model>, DbErr> {
    payment::Entity::find_by_id(id)
        .filter(payment::Column::Method.eq(method))
        .one(db)
        .await
}

/// The newest payment through `method` in `status` without a gateway reference, from `phone`
/// for `amount_minor`.
pub async fn newest_unreferenced(
    db: &impl ConnectionTrait,
    method: &str,
    status: PaymentStatus,
    phone: &str,
    amount_minor: i64,
) -> Result<Option<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::Method.eq(method))
        .filter(payment::Column::Status.eq(status))
        .filter(payment::Column::GatewayReference.is_null())
        .filter(payment::Column::Phone.eq(phone))
        .filter(payment::Column::AmountMinor.eq(amount_minor))
        .order_by_desc(payment::Column::Id)
        .one(db)
        .await
}

/// Up to `limit` payments through `method` in `status` last touched before `before`.
pub async fn untouched_since(
    db: &impl ConnectionTrait,
    method: &str,
    status: PaymentStatus,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::Method.eq(method))
        .filter(payment::Column::Status.eq(status))
        .filter(payment::Column::UpdatedAt.lt(before))
        .limit(limit)
        .all(db)
        .await
}

/// Moves the payment's `updated_at` to `now` if it is still in `status` and untouched since
/// `seen_updated_at`; rows affected.
pub async fn touch_if_unchanged(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: PaymentStatus,
    seen_updated_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(payment::Entity::update_many()
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(id))
        .filter(payment::Column::Status.eq(status))
        .filter(payment::Column::UpdatedAt.eq(seen_updated_at))
        .exec(db)
        .await?
        .rows_affected)
}

/// One payment through `method` with gateway reference `reference` in one of `statuses`, if any.
pub async fn by_method_and_reference_in(
    db: &impl ConnectionTrait,
    method: &str,
    reference: &str,
    statuses: &[PaymentStatus],
) -> Result<Option<payment::Model>, DbErr> {
    payment::Entity::find()
        .filter(payment::Column::Method.eq(method))
        .filter(payment::Column::GatewayReference.eq(reference))
        .filter(payment::Column::Status.is_in(statuses.iter().copied()))
        .one(db)
        .await
}

/// Sets what staff must still do about the payment.
pub async fn set_next_action(
    db: &impl ConnectionTrait,
    id: Uuid,
    action: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    payment::Entity::update_many()
        .col_expr(payment::Column::NextAction, Expr::value(action))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
