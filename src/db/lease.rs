//! Leases: a named duty (relaying the outbox, running timed jobs) held by one replica at a time.

use super::sql::stmt;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// Takes or renews the lease `name` for `holder` until `now + ttl`. True when `holder` has it.
pub async fn acquire(
    db: &impl ConnectionTrait,
    name: &str,
    holder: Uuid,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let until = now + ttl;
    let taken = db
        .execute_raw(stmt(
            backend,
            "UPDATE leases SET holder = $1, expires_at = $2 WHERE name = $3 AND (holder = $1 OR expires_at < $4)",
            [holder.into(), until.into(), name.into(), now.into()],
        ))
        .await?
        .rows_affected();
    if taken == 1 {
        return Ok(true);
    }
    // First use of this lease name: create it. A concurrent creator wins the unique key; we lose quietly.
    let created = db
        .execute_raw(stmt(
            backend,
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            [name.into(), holder.into(), until.into()],
        ))
        .await?
        .rows_affected();
    Ok(created == 1)
}
