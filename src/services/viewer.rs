//! The viewer: who is making a request, resolved from a verified access token and a live session.

use crate::db::entities::{session, user};
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
use crate::services::Services;
use crate::services::tokens::Claims;
use sea_orm::EntityTrait;
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

    pub fn require_role(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }
}

/// Turns verified claims into a viewer, refusing a token whose session was revoked or whose user is gone.
pub async fn resolve(services: &Services, claims: &Claims) -> AppResult<Viewer> {
    let now = services.clock.now();
    let session = session::Entity::find_by_id(claims.sid)
        .one(&services.db)
        .await?;
    let live = session
        .is_some_and(|s| s.user_id == claims.sub && s.revoked_at.is_none() && s.expires_at > now);
    if !live {
        return Err(AppError::Unauthenticated(
            "session revoked or expired".into(),
        ));
    }
    let user = user::Entity::find_by_id(claims.sub)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("account no longer exists".into()))?;
    let role = Role::parse(&user.role)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown role {}", user.role)))?;
    Ok(Viewer {
        user_id: user.id,
        session_id: claims.sid,
        role,
    })
}
