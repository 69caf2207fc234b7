//! The viewer's check on a request the session cache cannot answer: a live session and its user's role, in one query.

use crate::db::sql::stmt;
use crate::db::stored::named_in;
use crate::domain::account::Role;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// A live session as the viewer check reads it.
pub struct LiveSession {
    /// The user's role.
    pub role: Role,
    /// When the session ends unless revoked first.
    pub expires_at: DateTime<Utc>,
}

/// The role of `user_id` and the session's end, when `session_id` is theirs, unrevoked and
/// unexpired at `now`; None otherwise. An unknown stored role is an error naming the user.
pub async fn live_session(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<LiveSession>, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(stmt(
            backend,
            "SELECT u.role AS role, s.expires_at AS expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3",
            [session_id.into(), user_id.into(), now.into()],
        ))
        .await?;
    row.map(|row| {
        Ok(LiveSession {
            role: named_in(&row, "role", user_id)?,
            expires_at: row.try_get("", "expires_at")?,
        })
    })
    .transpose()
}
