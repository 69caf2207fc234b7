//! payout_methods: a technician's sealed payout details, one row per technician.

use crate::db::entities::payout_method;
use crate::domain::payouts::PayoutKind;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel};
use uuid::Uuid;

/// The technician's payout method.
pub async fn by_id(
    db: &impl ConnectionTrait,
    technician: Uuid,
) -> Result<Option<payout_method::Model>, DbErr> {
    payout_method::Entity::find_by_id(technician).one(db).await
}

/// Inserts a payout method and returns it as stored.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: payout_method::Model,
) -> Result<payout_method::Model, DbErr> {
    payout_method::Entity::insert(row.into_active_model())
        .exec_with_returning(db)
        .await
}

/// What replaces a technician's payout method.
pub struct Replacement {
    pub kind: PayoutKind,
    pub details_sealed: String,
    pub masked: String,
    pub hold_until: Option<DateTime<Utc>>,
}

/// Replaces the technician's payout method (created_at kept) and returns it as stored.
pub async fn replace(
    db: &impl ConnectionTrait,
    technician: Uuid,
    new: Replacement,
    now: DateTime<Utc>,
) -> Result<payout_method::Model, DbErr> {
    payout_method::Entity::update(payout_method::ActiveModel {
        id: Set(technician),
        kind: Set(new.kind),
        details_sealed: Set(new.details_sealed),
        masked: Set(new.masked),
        hold_until: Set(new.hold_until),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await
}
