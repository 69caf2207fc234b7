//! withdrawals: requests to pay out available earnings, their status changes (each conditional on
//! the current status) and the rows the payout jobs pick up.

use crate::db::entities::withdrawal;
use crate::db::sql::stmt;
use crate::domain::payouts::{Gateway, WithdrawalStatus};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Value,
};
use uuid::Uuid;

/// The withdrawal with this id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<withdrawal::Model>, DbErr> {
    withdrawal::Entity::find_by_id(id).one(db).await
}

/// The technician's withdrawal with this idempotency key.
pub async fn by_key(
    db: &impl ConnectionTrait,
    technician: Uuid,
    key: &str,
) -> Result<Option<withdrawal::Model>, DbErr> {
    withdrawal::Entity::find()
        .filter(withdrawal::Column::TechnicianId.eq(technician))
        .filter(withdrawal::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

/// The withdrawal with this reference.
pub async fn by_reference(
    db: &impl ConnectionTrait,
    reference: &str,
) -> Result<Option<withdrawal::Model>, DbErr> {
    withdrawal::Entity::find()
        .filter(withdrawal::Column::Reference.eq(reference))
        .one(db)
        .await
}

/// Inserts a withdrawal unless the technician already used its idempotency key (ON CONFLICT DO
/// NOTHING); rows affected. `updated_at` is set to `created_at`.
pub async fn insert(db: &impl ConnectionTrait, w: &withdrawal::Model) -> Result<u64, DbErr> {
    let inserted = db
        .execute_raw(stmt(
            db.get_database_backend(),
            "INSERT INTO withdrawals (id, technician_id, amount_minor, currency, status, method_kind, \
             method_masked, destination_sealed, gateway, reference, idempotency_key, \
             request_fingerprint, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
             ON CONFLICT (technician_id, idempotency_key) DO NOTHING",
            [
                w.id.into(),
                w.technician_id.into(),
                w.amount_minor.into(),
                w.currency.into(),
                w.status.into(),
                w.method_kind.into(),
                w.method_masked.clone().into(),
                w.destination_sealed.clone().into(),
                w.gateway.into(),
                w.reference.clone().into(),
                w.idempotency_key.clone().into(),
                w.request_fingerprint.clone().into(),
                w.created_at.into(),
            ],
        ))
        .await?;
    Ok(inserted.rows_affected())
}

fn listed(
    technician: Option<Uuid>,
    status: Option<WithdrawalStatus>,
) -> Select<withdrawal::Entity> {
    let mut query = withdrawal::Entity::find();
    if let Some(technician) = technician {
        query = query.filter(withdrawal::Column::TechnicianId.eq(technician));
    }
    if let Some(status) = status {
        query = query.filter(withdrawal::Column::Status.eq(status));
    }
    query
}

/// Up to `limit` withdrawals, of one technician when given and in one status when given, with
/// ids below `after`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    technician: Option<Uuid>,
    status: Option<WithdrawalStatus>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<withdrawal::Model>, DbErr> {
    let mut query = listed(technician, status);
    if let Some(after) = after {
        query = query.filter(withdrawal::Column::Id.lt(after));
    }
    query
        .order_by_desc(withdrawal::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many withdrawals [`list`] pages through with the same filters.
pub async fn count(
    db: &impl ConnectionTrait,
    technician: Option<Uuid>,
    status: Option<WithdrawalStatus>,
) -> Result<u64, DbErr> {
    listed(technician, status).count(db).await
}

/// Up to 50 withdrawals in `status` through `gateway`, moved to that status before `before` and
/// not touched since, least recently touched first.
pub async fn stale(
    db: &impl ConnectionTrait,
    status: WithdrawalStatus,
    gateway: Gateway,
    before: DateTime<Utc>,
) -> Result<Vec<withdrawal::Model>, DbErr> {
    withdrawal::Entity::find()
        .filter(withdrawal::Column::Status.eq(status))
        .filter(withdrawal::Column::Gateway.eq(gateway))
        .filter(withdrawal::Column::ProcessingAt.lt(before))
        .filter(withdrawal::Column::UpdatedAt.lt(before))
        .order_by_asc(withdrawal::Column::UpdatedAt)
        .limit(50)
        .all(db)
        .await
}

/// Up to 50 withdrawals in `status` below `max_minor` through one of `gateways`, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    status: WithdrawalStatus,
    max_minor: i64,
    gateways: Vec<Gateway>,
) -> Result<Vec<withdrawal::Model>, DbErr> {
    withdrawal::Entity::find()
        .filter(withdrawal::Column::Status.eq(status))
        .filter(withdrawal::Column::AmountMinor.lt(max_minor))
        .filter(withdrawal::Column::Gateway.is_in(gateways))
        .order_by_asc(withdrawal::Column::Id)
        .limit(50)
        .all(db)
        .await
}

/// Moves `updated_at` of the withdrawal with this reference through `gateway` to `now`, if it is
/// in `status` and was last touched before `before`; rows affected.
pub async fn touch_stale(
    db: &impl ConnectionTrait,
    reference: &str,
    gateway: Gateway,
    status: WithdrawalStatus,
    now: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let claimed = withdrawal::Entity::update_many()
        .col_expr(withdrawal::Column::UpdatedAt, Expr::value(now))
        .filter(withdrawal::Column::Reference.eq(reference))
        .filter(withdrawal::Column::Gateway.eq(gateway))
        .filter(withdrawal::Column::Status.eq(status))
        .filter(withdrawal::Column::UpdatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected)
}

/// Moves the withdrawal from `from` to `to`, stamping `processing_at`; rows affected.
pub async fn set_processing(
    db: &impl ConnectionTrait,
    id: Uuid,
    to: WithdrawalStatus,
    from: WithdrawalStatus,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let claimed = db
        .execute_raw(stmt(
            db.get_database_backend(),
            "UPDATE withdrawals SET status = $1, processing_at = $2, updated_at = $2 \
             WHERE id = $3 AND status = $4",
            [to.into(), now.into(), id.into(), from.into()],
        ))
        .await?;
    Ok(claimed.rows_affected())
}

/// Records the gateway's reference on the withdrawal while it is in `status`.
pub async fn set_gateway_reference(
    db: &impl ConnectionTrait,
    id: Uuid,
    reference: String,
    status: WithdrawalStatus,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db.get_database_backend(),
        "UPDATE withdrawals SET gateway_reference = $1 WHERE id = $2 AND status = $3",
        [reference.into(), id.into(), status.into()],
    ))
    .await?;
    Ok(())
}

/// A final status and what to record with it.
pub struct Finish {
    pub to: WithdrawalStatus,
    pub gateway_reference: Option<String>,
    pub bank_reference: Option<String>,
    pub failure_reason: Option<String>,
}

/// Moves the withdrawal to a final status if it is in one of `from`, stamping `processed_at`,
/// keeping stored references the change does not give; rows affected.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: &[WithdrawalStatus],
    change: Finish,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut values: Vec<Value> = vec![
        change.to.into(),
        now.into(),
        change.gateway_reference.into(),
        change.bank_reference.into(),
        change.failure_reason.into(),
        id.into(),
    ];
    let allowed: Vec<String> = from
        .iter()
        .map(|status| {
            values.push((*status).into());
            format!("${}", values.len())
        })
        .collect();
    let moved = db
        .execute_raw(stmt(
            db.get_database_backend(),
            &format!(
                "UPDATE withdrawals SET status = $1, processed_at = $2, updated_at = $2, \
                 gateway_reference = COALESCE($3, gateway_reference), \
                 bank_reference = COALESCE($4, bank_reference), failure_reason = $5 \
                 WHERE id = $6 AND status IN ({})",
                allowed.join(", ")
            ),
            values,
        ))
        .await?;
    Ok(moved.rows_affected())
}
