//! Per-request GraphQL context: the presented credentials, the client's address, and the viewer resolved at most once.

use crate::error::{AppError, AppResult};
use crate::services::accounts::sessions::ClientInfo;
use crate::services::accounts::tokens::{Claims, TokenError};
use crate::services::{Services, Viewer};
use async_graphql::Context;
use tokio::sync::OnceCell;

/// What the request carried: no token, a verified one, or one that was refused (and why).
#[derive(Debug, Clone)]
pub enum Credentials {
    Anonymous,
    Token(Claims),
    Refused(TokenError),
}

pub struct RequestAuth {
    pub credentials: Credentials,
    pub client: ClientInfo,
    viewer: OnceCell<Viewer>,
}

impl RequestAuth {
    pub fn new(credentials: Credentials, client: ClientInfo) -> Self {
        RequestAuth {
            credentials,
            client,
            viewer: OnceCell::new(),
        }
    }

    /// A connection whose token was verified and whose viewer was already resolved (WebSockets do
    /// both when the connection opens).
    pub fn signed_in(claims: Claims, viewer: Viewer, client: ClientInfo) -> Self {
        RequestAuth {
            credentials: Credentials::Token(claims),
            client,
            viewer: OnceCell::new_with(Some(viewer)),
        }
    }

    /// Reads `Bearer <token>` and verifies it; an absent header is anonymous, a bad one is refused.
    pub fn from_bearer(header: Option<&str>, services: &Services, client: ClientInfo) -> Self {
        let credentials = match header.map(str::trim).filter(|h| !h.is_empty()) {
            None => Credentials::Anonymous,
            Some(value) => match value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
            {
                Some(token) => match services.tokens.verify(token.trim(), services.clock.now()) {
                    Ok(claims) => Credentials::Token(claims),
                    Err(e) => Credentials::Refused(e),
                },
                None => Credentials::Refused(TokenError::Invalid),
            },
        };
        RequestAuth::new(credentials, client)
    }
}

pub fn services<'a>(ctx: &Context<'a>) -> &'a Services {
    ctx.data_unchecked::<Services>()
}

pub fn request_auth<'a>(ctx: &Context<'a>) -> Option<&'a RequestAuth> {
    ctx.data_opt::<RequestAuth>()
}

pub fn client_info(ctx: &Context<'_>) -> ClientInfo {
    request_auth(ctx)
        .map(|a| a.client.clone())
        .unwrap_or_default()
}

/// The signed-in viewer, or UNAUTHENTICATED. Resolved once per request (or per WebSocket connection).
pub async fn viewer(ctx: &Context<'_>) -> AppResult<Viewer> {
    let auth = request_auth(ctx).ok_or_else(AppError::unauthenticated)?;
    let claims = match &auth.credentials {
        Credentials::Anonymous => return Err(AppError::unauthenticated()),
        Credentials::Refused(e) => return Err(AppError::Unauthenticated(e.message().into())),
        Credentials::Token(claims) => claims,
    };
    let services = services(ctx);
    auth.viewer
        .get_or_try_init(|| crate::services::accounts::viewer::resolve(services, claims))
        .await
        .cloned()
}
