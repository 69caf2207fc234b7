//! Sessions: issuing token pairs, rotating refresh tokens with reuse detection, logout and revocation.

use crate::db::accounts::{account as db_account, sessions as db_sessions};
use crate::db::begin_write;
use crate::db::entities::{refresh_token, session, user};
use crate::error::{AppError, AppResult};
use crate::realtime::{BusMessage, EventBus, Topic, outbox};
use crate::services::accounts::tokens::{hash_refresh_token, new_refresh_token};
use crate::services::{Effects, Services};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
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
    let row = session::Model {
        id: session_id,
        user_id: account.id,
        expires_at: expires,
        revoked_at: None,
        revoked_reason: None,
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        created_at: now,
        updated_at: now,
    };
    db_sessions::insert_session(txn, row).await?;
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
    let row = refresh_token::Model {
        id: Uuid::now_v7(),
        session_id,
        token_hash: hash_refresh_token(&refresh),
        expires_at: now
            + chrono::Duration::from_std(services.config.refresh_token_ttl)
                .map_err(AppError::internal)?,
        rotated_at: None,
        created_at: now,
        updated_at: now,
    };
    db_sessions::insert_refresh_token(txn, row).await?;
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
    let token = db_sessions::refresh_token_by_hash(&txn, hash_refresh_token(presented))
        .await?
        .ok_or_else(refused)?;
    let session = db_sessions::session_by_id(&txn, token.session_id)
        .await?
        .ok_or_else(refused)?;
    if session.revoked_at.is_some() || session.expires_at <= now || token.expires_at <= now {
        return Err(refused());
    }
    let rotated = db_sessions::mark_rotated(&txn, token.id, now).await?;
    if rotated != 1 {
        let mut effects = Effects::default();
        revoke_session(&txn, &mut effects, session.id, "refresh token reused", now).await?;
        txn.commit().await?;
        services.after_commit(effects);
        tracing::warn!(session = %session.id, "refresh token reuse detected; session revoked");
        return Err(refused());
    }
    let account = db_account::user_by_id(&txn, session.user_id)
        .await?
        .ok_or_else(refused)?;
    let pair = issue_pair(&txn, services, &account, session.id, now).await?;
    txn.commit().await?;
    Ok((pair, account))
}

/// Ends the session a refresh token belongs to. Unknown tokens are not an error: the result is the same.
pub async fn logout(services: &Services, presented: &str) -> AppResult<()> {
    let token =
        db_sessions::refresh_token_by_hash(&services.db, hash_refresh_token(presented)).await?;
    if let Some(token) = token {
        let txn = begin_write(&services.db).await?;
        let mut effects = Effects::default();
        let now = services.clock.now();
        revoke_session(&txn, &mut effects, token.session_id, "logout", now).await?;
        txn.commit().await?;
        services.after_commit(effects);
    }
    Ok(())
}

/// Told to every replica when sessions end, so the WebSockets bound to them close and their session
/// caches forget them: through the outbox (durable), and straight after commit (at once).
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

/// Records that sessions ended, in the caller's transaction; `Services::after_commit` then evicts
/// them here and tells the other replicas.
async fn announce(
    db: &impl ConnectionTrait,
    effects: &mut Effects,
    user_id: Uuid,
    ended: SessionsEnded,
) -> AppResult<()> {
    let payload = serde_json::to_value(&ended).map_err(AppError::internal)?;
    outbox::enqueue(db, Topic::AccountSessions(user_id), &payload).await?;
    effects.event();
    effects.sessions_ended(user_id, ended);
    Ok(())
}

/// Tells every replica now that sessions ended, without waiting for the relay (whose lease may be on
/// another replica, polling); the outbox row still follows, so a publish lost here is only late.
pub async fn publish_ended(bus: &EventBus, user_id: Uuid, ended: &SessionsEnded) {
    let payload = match serde_json::to_value(ended) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::warn!(error = %e, "session ending not encoded; the outbox will carry it");
            return;
        }
    };
    let message = BusMessage::new(Topic::AccountSessions(user_id).key(), None, payload);
    if let Err(e) = bus.publish(message).await {
        tracing::warn!(error = %e, "session ending not published now; the outbox will carry it");
    }
}

/// Revokes one session, if it is live, in the caller's transaction; the caller runs `effects`
/// after commit.
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    effects: &mut Effects,
    session_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(row) = db_sessions::session_by_id(db, session_id).await? else {
        return Ok(());
    };
    let revoked = db_sessions::revoke(db, session_id, reason, now).await?;
    if revoked == 1 {
        announce(
            db,
            effects,
            row.user_id,
            SessionsEnded::One {
                session: session_id,
            },
        )
        .await?;
    }
    Ok(())
}

/// Revokes every live session of a user, except `keep` (the one making the change) when given, in the
/// caller's transaction; the caller runs `effects` after commit.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    effects: &mut Effects,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let revoked = db_sessions::revoke_all_of(db, user_id, keep, reason, now).await?;
    if revoked > 0 {
        announce(db, effects, user_id, SessionsEnded::AllBut { keep }).await?;
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
