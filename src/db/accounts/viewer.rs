//! The viewer's check on every authenticated request: a live session and its user's role, in one query.

use crate::db::sql::stmt;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// The role (as stored) of `user_id` when `session_id` is theirs, unrevoked and unexpired at `now`;
/// None otherwise.
pub async fn live_session_role(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(stmt(
            backend,
            "SELECT u.role AS role FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3",
            [session_id.into(), user_id.into(), now.into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "role")).transpose()
}
