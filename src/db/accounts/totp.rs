//! Two-factor secrets on the users table: pending and enabled secrets, the last accepted time step,
//! and sealing secrets stored before they were sealed.

use crate::db::entities::user;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};
use uuid::Uuid;

/// Which of a user's two secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The enabled secret (`totp_secret`).
    Enabled,
    /// The secret set up but not yet confirmed (`totp_pending_secret`).
    Pending,
}

impl Slot {
    fn column(self) -> user::Column {
        match self {
            Slot::Enabled => user::Column::TotpSecret,
            Slot::Pending => user::Column::TotpPendingSecret,
        }
    }
}

/// Users with a secret not in the sealed format (`v1:` prefix) in either slot.
pub async fn with_plain_secrets(db: &impl ConnectionTrait) -> Result<Vec<user::Model>, DbErr> {
    user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::TotpSecret.not_like("v1:%"))
                .add(user::Column::TotpPendingSecret.not_like("v1:%")),
        )
        .all(db)
        .await
}

/// Replaces a secret with `sealed`, only while it still is `expected`; returns rows affected.
pub async fn replace_secret_if(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    slot: Slot,
    expected: &str,
    sealed: String,
) -> Result<u64, DbErr> {
    let column = slot.column();
    let result = user::Entity::update_many()
        .col_expr(column, Expr::value(sealed))
        .filter(user::Column::Id.eq(user_id))
        .filter(column.eq(expected))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Records `step` as the last accepted time step, only if it is later than the one recorded;
/// returns rows affected (0 or 1).
pub async fn claim_step(db: &impl ConnectionTrait, user_id: Uuid, step: i64) -> Result<u64, DbErr> {
    let claimed = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(user_id))
        .filter(
            Condition::any()
                .add(user::Column::TotpLastStep.is_null())
                .add(user::Column::TotpLastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(claimed.rows_affected)
}

/// Stores a pending secret on `account`'s row.
pub async fn set_pending(
    db: &impl ConnectionTrait,
    account: user::Model,
    sealed: String,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    let mut active: user::ActiveModel = account.into();
    active.totp_pending_secret = Set(Some(sealed));
    active.updated_at = Set(now);
    active.update(db).await
}

/// Makes `sealed` the enabled secret, clears the pending one and records the step its code used.
pub async fn enable(
    db: &impl ConnectionTrait,
    account: user::Model,
    sealed: String,
    step: i64,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    let mut active: user::ActiveModel = account.into();
    active.totp_secret = Set(Some(sealed));
    active.totp_pending_secret = Set(None);
    active.totp_last_step = Set(Some(step));
    active.updated_at = Set(now);
    active.update(db).await
}

/// Clears both secrets.
pub async fn disable(
    db: &impl ConnectionTrait,
    account: user::Model,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    let mut active: user::ActiveModel = account.into();
    active.totp_secret = Set(None);
    active.totp_pending_secret = Set(None);
    active.updated_at = Set(now);
    active.update(db).await
}
