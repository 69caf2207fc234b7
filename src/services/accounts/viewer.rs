//! The viewer: who is making a request, resolved from a verified access token and a live session.

use crate::db::accounts::{account as db_account, sessions as db_sessions, viewer as db_viewer};
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
use crate::services::Services;
use crate::services::accounts::tokens::Claims;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub role: Role,
}

impl Viewer {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    /// Records that belong to one account (the account itself, its addresses, sign-ins and
    /// availability exceptions): their owner sees them, and so does staff.
    pub fn may_see_records_of(&self, owner: Uuid) -> bool {
        self.user_id == owner || self.is_staff()
    }

    pub fn require_role(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }
}

/// Turns verified claims into a viewer, refusing a token whose session was revoked or whose user is gone.
/// Every authenticated request comes through here: a session this replica has cached costs no query
/// (see `session_cache` for why a cached session is never one that ended); otherwise the live case is
/// one query (session and user together), and only a refusal looks again to say which it was.
pub async fn resolve(services: &Services, claims: &Claims) -> AppResult<Viewer> {
    let now = services.clock.now();
    let link = services.bus.link();
    let viewer = |role| Viewer {
        user_id: claims.sub,
        session_id: claims.sid,
        role,
    };
    let cache = &services.session_cache;
    if let Some(role) = cache.live_role(claims.sid, claims.sub, now, link) {
        return Ok(viewer(role));
    }
    // Taken before the read, so that an ending arriving while it runs keeps its answer out.
    let stamp = cache.stamp(claims.sub, link);
    let live = db_viewer::live_session(&services.db, claims.sid, claims.sub, now).await?;
    let Some(live) = live else {
        return Err(refusal(services, claims).await);
    };
    let role = live.role;
    if let Some(stamp) = stamp {
        cache.insert(claims.sid, claims.sub, role, live.expires_at, stamp);
    }
    Ok(viewer(role))
}

/// Why a token was refused: its session is gone or over, or its account is.
async fn refusal(services: &Services, claims: &Claims) -> AppError {
    let session = db_sessions::session_by_id(&services.db, claims.sid).await;
    let user = db_account::user_by_id(&services.db, claims.sub).await;
    match (session, user) {
        (Ok(Some(s)), Ok(None)) if s.user_id == claims.sub => {
            AppError::Unauthenticated("account no longer exists".into())
        }
        (Err(e), _) | (_, Err(e)) => e.into(),
        _ => AppError::Unauthenticated("session revoked or expired".into()),
    }
}
