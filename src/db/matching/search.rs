//! Search's queries: the platform's and customers' stored matching weights, and customers' blocks.

use crate::db::entities::customer_preference;
use crate::db::sql::stmt;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};
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

/// A customer's side of a search in one statement: their stored matching weights (`None` when they
/// saved none) and the technicians they blocked. Each block is a row with `technician_id` set; the
/// preferences row, if any, is the one row without.
pub async fn customer_facts(
    db: &impl ConnectionTrait,
    customer: Uuid,
) -> Result<(Option<String>, Vec<Uuid>), DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT technician_id, NULL AS matching_weights FROM technician_blocks WHERE customer_id = $1 \
             UNION ALL SELECT NULL, matching_weights FROM customer_preferences WHERE id = $1",
            [customer.into()],
        ))
        .await?;
    let mut weights = None;
    let mut blocked = Vec::new();
    for row in rows {
        match row.try_get::<Option<Uuid>>("", "technician_id")? {
            Some(technician) => blocked.push(technician),
            None => weights = row.try_get::<Option<String>>("", "matching_weights")?,
        }
    }
    Ok((weights, blocked))
}
