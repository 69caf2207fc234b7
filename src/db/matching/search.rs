//! Search's queries: the platform's and customers' stored matching weights, and customers' blocks.

use crate::db::entities::{customer_preference, technician_block};
use crate::db::sql::stmt;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// A platform setting's stored value.
pub async fn setting(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT value FROM settings WHERE key = $1",
            [key.into()],
        ))
        .await?;
    row.map(|r| r.try_get("", "value")).transpose()
}

/// Stores a platform setting, creating or replacing it.
pub async fn put_setting(
    db: &impl ConnectionTrait,
    key: &str,
    value: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db.get_database_backend(),
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = $3",
        [key.into(), value.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Stores a customer's matching weights (NULL clears them), creating their preferences row.
pub async fn put_customer_weights(
    db: &impl ConnectionTrait,
    customer: Uuid,
    weights: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db.get_database_backend(),
        "INSERT INTO customer_preferences (id, matching_weights, created_at, updated_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (id) DO UPDATE SET matching_weights = $2, updated_at = $3",
        [customer.into(), weights.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// A customer's preferences row.
pub async fn customer_preference(
    db: &impl ConnectionTrait,
    customer: Uuid,
) -> Result<Option<customer_preference::Model>, DbErr> {
    customer_preference::Entity::find_by_id(customer)
        .one(db)
        .await
}

/// The technicians a customer blocked.
pub async fn blocks_of(
    db: &impl ConnectionTrait,
    customer: Uuid,
) -> Result<Vec<technician_block::Model>, DbErr> {
    technician_block::Entity::find()
        .filter(technician_block::Column::CustomerId.eq(customer))
        .all(db)
        .await
}
