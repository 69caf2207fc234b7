//! Sessions: issuing token pairs, rotating refresh tokens with reuse detection, logout and revocation.

use crate::db::begin_write;
use crate::db::entities::{refresh_token, session, user};
use crate::error::{AppError, AppResult};
use crate::realtime::{BusMessage, Topic, outbox};
use crate::services::Services;
use crate::services::accounts::tokens::{hash_refresh_token, new_refresh_token};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a request came from, recorded with sessions and sign-ins.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct TokenPair {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
}

/// Opens a session for `account` and returns its first token pair.
pub async fn start(
    txn: &impl ConnectionTrait,
    services: &Services,
    account: &user::Model,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    let session_id = Uuid::now_v7();
    let expires = now
        + chrono::Duration::from_std(services.config.refresh_token_ttl)
            .map_err(AppError::internal)?;
    session::Entity::insert(session::ActiveModel {
        id: Set(session_id),
        user_id: Set(account.id),
        expires_at: Set(expires),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        ip: Set(client.ip.clone()),
        user_agent: Set(client.user_agent.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(txn)
    .await?;
    issue_pair(txn, services, account, session_id, now).await
}

async fn issue_pair(
    txn: &impl ConnectionTrait,
    services: &Services,
    account: &user::Model,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    let refresh = new_refresh_token();
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        token_hash: Set(hash_refresh_token(&refresh)),
        expires_at: Set(now
            + chrono::Duration::from_std(services.config.refresh_token_ttl)
                .map_err(AppError::internal)?),
        rotated_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(txn)
    .await?;
    let (access, expires) = services.tokens.issue(
        account.id,
        session_id,
        account.role.as_str(),
        now,
        services.config.access_token_ttl,
    )?;
    Ok(TokenPair {
        access_token: access,
        access_token_expires_at: expires,
        refresh_token: refresh,
    })
}

fn refused() -> AppError {
    AppError::Unauthenticated("invalid or expired refresh token".into())
}

/// Swaps a refresh token for a new pair. A token that was already swapped means it leaked (or a client
/// raced itself): the whole session is revoked, so the newest token stops working too.
pub async fn refresh(services: &Services, presented: &str) -> AppResult<(TokenPair, user::Model)> {
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let token = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_refresh_token(presented)))
        .one(&txn)
        .await?
        .ok_or_else(refused)?;
    let session = session::Entity::find_by_id(token.session_id)
        .one(&txn)
        .await?
        .ok_or_else(refused)?;
    if session.revoked_at.is_some() || session.expires_at <= now || token.expires_at <= now {
        return Err(refused());
    }
    let rotated = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .exec(&txn)
        .await?;
    if rotated.rows_affected != 1 {
        revoke_session(&txn, session.id, "refresh token reused", now).await?;
        txn.commit().await?;
        services.relay.kick();
        tracing::warn!(session = %session.id, "refresh token reuse detected; session revoked");
        return Err(refused());
    }
    let account = user::Entity::find_by_id(session.user_id)
        .one(&txn)
        .await?
        .ok_or_else(refused)?;
    let pair = issue_pair(&txn, services, &account, session.id, now).await?;
    txn.commit().await?;
    Ok((pair, account))
}

/// Ends the session a refresh token belongs to. Unknown tokens are not an error: the result is the same.
pub async fn logout(services: &Services, presented: &str) -> AppResult<()> {
    let token = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_refresh_token(presented)))
        .one(&services.db)
        .await?;
    if let Some(token) = token {
        let txn = begin_write(&services.db).await?;
        revoke_session(&txn, token.session_id, "logout", services.clock.now()).await?;
        txn.commit().await?;
        services.relay.kick();
    }
    Ok(())
}

/// Told to every replica (through the outbox) when sessions end, so the WebSockets bound to them close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ended", rename_all = "camelCase")]
pub enum SessionsEnded {
    /// One session: logout, or its refresh token was reused.
    One { session: Uuid },
    /// Every session of the account but `keep` (the one that changed the password), or all.
    AllBut { keep: Option<Uuid> },
}

impl SessionsEnded {
    pub fn includes(&self, session: Uuid) -> bool {
        match self {
            SessionsEnded::One { session: ended } => *ended == session,
            SessionsEnded::AllBut { keep } => *keep != Some(session),
        }
    }

    /// The event as it arrives on the account's sessions topic; None if it is not one.
    pub fn from_bus(message: &BusMessage) -> Option<std::sync::Arc<SessionsEnded>> {
        message.decode::<SessionsEnded>()
    }
}

/// Records that sessions ended, in the caller's transaction; the caller kicks the relay after commit.
async fn announce(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ended: &SessionsEnded,
) -> AppResult<()> {
    let payload = serde_json::to_value(ended).map_err(AppError::internal)?;
    outbox::enqueue(db, Topic::AccountSessions(user_id), &payload).await?;
    Ok(())
}

pub async fn revoke_session(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(row) = session::Entity::find_by_id(session_id).one(db).await? else {
        return Ok(());
    };
    let revoked = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if revoked.rows_affected == 1 {
        announce(
            db,
            row.user_id,
            &SessionsEnded::One {
                session: session_id,
            },
        )
        .await?;
    }
    Ok(())
}

/// Revokes every live session of a user, except `keep` (the one making the change) when given.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    let revoked = update.exec(db).await?.rows_affected;
    if revoked > 0 {
        announce(db, user_id, &SessionsEnded::AllBut { keep }).await?;
    }
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ending_names_exactly_the_sessions_it_ends() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(SessionsEnded::One { session: a }.includes(a));
        assert!(!SessionsEnded::One { session: a }.includes(b));
        assert!(SessionsEnded::AllBut { keep: None }.includes(a));
        assert!(!SessionsEnded::AllBut { keep: Some(a) }.includes(a));
        assert!(SessionsEnded::AllBut { keep: Some(a) }.includes(b));
        let wire = serde_json::to_value(SessionsEnded::AllBut { keep: Some(a) }).unwrap();
        assert_eq!(wire["ended"], "allBut");
        assert_eq!(
            serde_json::from_value::<SessionsEnded>(wire).unwrap(),
            SessionsEnded::AllBut { keep: Some(a) }
        );
    }
}
