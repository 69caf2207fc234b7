//! One WebSocket connection's bookkeeping in front of the GraphQL engine: whom it belongs to, what it
//! has open, and what each client message may do before the engine sees it.

use super::accounts::{AccountSockets, SocketSlot};
use super::credentials::{Presented, presented};
use crate::error::AppError;
use crate::graphql::context::{Credentials, RequestAuth};
use crate::realtime::{Subscription as BusSubscription, SubscriptionItem, Topic};
use crate::services::accounts::sessions::{ClientInfo, SessionsEnded};
use crate::services::accounts::tokens::Claims;
use crate::services::{Services, Viewer};
use async_graphql::Data;
use async_graphql::http::WebSocketProtocols;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// Close codes this server uses, after graphql-transport-ws where it names one.
pub mod close {
    /// A token that is invalid, expired, or whose session has ended.
    pub const FORBIDDEN: u16 = 4403;
    /// No `connection_init` in time (graphql-transport-ws).
    pub const INIT_TIMEOUT: u16 = 4408;
    /// A second subscription under an id that is still open (graphql-transport-ws).
    pub const DUPLICATE_ID: u16 = 4409;
    /// An anonymous connection with nothing open once the init timeout has passed again: every
    /// subscription needs a signed-in viewer.
    pub const UNAUTHORIZED: u16 = 4401;
    /// Too many connections open for one account.
    pub const TOO_MANY: u16 = 4429;
    /// The server failed (a database outage while checking the token).
    pub const INTERNAL: u16 = 1011;
}

/// The account and session a connection is bound to, and the access token it currently holds.
#[derive(Debug, Clone)]
pub struct Binding {
    pub viewer: Viewer,
    pub claims: Claims,
}

impl Binding {
    /// When the current access token runs out; the socket closes then unless refreshed in-band.
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.claims.exp, 0).unwrap_or_default()
    }
}

/// Where a connection stands.
#[derive(Debug)]
pub enum Standing {
    /// No `connection_init` yet.
    Opened,
    Anonymous,
    SignedIn(Binding),
}

/// What to do with one client message.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Hand it to the engine as it came.
    Forward,
    /// Answer the client directly; the engine never sees it.
    Reply(Vec<String>),
    /// Close the socket with this code and reason.
    Close(u16, String),
}

/// The part of a client message this layer reads; the engine parses the whole of it again.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    payload: Option<serde_json::Value>,
}

pub struct Connection {
    services: Services,
    client: ClientInfo,
    pub protocol: WebSocketProtocols,
    pub standing: Standing,
    /// The engine's connection data, prepared when `connection_init` was accepted and taken by the
    /// engine's init callback.
    prepared: Arc<Mutex<Option<Data>>>,
    /// The account's session endings, followed from before the session was first checked.
    pub revocations: Option<BusSubscription>,
    /// Ids of the operations the engine is running for this connection.
    active: HashSet<String>,
    sockets: Arc<AccountSockets>,
    /// This connection's place among its account's sockets, held while it is open.
    slot: Option<SocketSlot>,
}

impl Connection {
    pub fn new(
        services: Services,
        sockets: Arc<AccountSockets>,
        client: ClientInfo,
        protocol: WebSocketProtocols,
    ) -> Self {
        Connection {
            services,
            client,
            protocol,
            standing: Standing::Opened,
            prepared: Arc::default(),
            revocations: None,
            active: HashSet::new(),
            sockets,
            slot: None,
        }
    }

    /// Operations open on this connection.
    pub fn open_operations(&self) -> usize {
        self.active.len()
    }

    /// Notes what the engine sends: a `complete` ends an operation.
    pub fn on_server(&mut self, text: &str) {
        // Only `complete` matters here, and the engine writes the type first: no parse per event.
        if !text.starts_with(r#"{"type":"complete""#) {
            return;
        }
        if let Ok(Envelope { id: Some(id), .. }) = serde_json::from_str::<Envelope>(text) {
            self.active.remove(&id);
        }
    }

    /// The slot the engine's `on_connection_init` takes its data from.
    pub fn prepared(&self) -> Arc<Mutex<Option<Data>>> {
        self.prepared.clone()
    }

    pub fn binding(&self) -> Option<&Binding> {
        match &self.standing {
            Standing::SignedIn(binding) => Some(binding),
            _ => None,
        }
    }

    pub async fn on_client(&mut self, bytes: &[u8]) -> Step {
        // What this layer cannot read goes to the engine, which answers malformed messages itself.
        let Ok(envelope) = serde_json::from_slice::<Envelope>(bytes) else {
            return Step::Forward;
        };
        match envelope.kind.as_str() {
            "connection_init" if matches!(self.standing, Standing::Opened) => {
                self.init(envelope.payload.unwrap_or_default()).await
            }
            "subscribe" | "start" if self.expired() => {
                Step::Close(close::FORBIDDEN, "access token expired".into())
            }
            "subscribe" | "start" if !matches!(self.standing, Standing::Opened) => {
                self.start(envelope.id.unwrap_or_default())
            }
            "complete" | "stop" => {
                if let Some(id) = &envelope.id {
                    self.active.remove(id);
                }
                Step::Forward
            }
            "ping" => match presented(&envelope.payload.unwrap_or_default()) {
                Presented::Absent => Step::Forward,
                Presented::Malformed => {
                    Step::Close(close::FORBIDDEN, "invalid access token".into())
                }
                Presented::Token(token) => self.refresh(&token).await,
            },
            _ => Step::Forward,
        }
    }

    /// Admits an operation within the connection's cap; ids must be unique while open.
    fn start(&mut self, id: String) -> Step {
        if self.active.contains(&id) {
            if self.protocol == WebSocketProtocols::GraphQLWS {
                return Step::Close(
                    close::DUPLICATE_ID,
                    format!("Subscriber for {id} already exists"),
                );
            }
            // The legacy protocol replaces the running operation; the count does not change.
            return Step::Forward;
        }
        let max = self.services.config.realtime.ws_max_subscriptions;
        if self.active.len() >= max {
            return Step::Reply(self.refused(&id, max));
        }
        self.active.insert(id);
        Step::Forward
    }

    /// The operation's only result, an error, then its end, as the engine reports a failed one.
    fn refused(&self, id: &str, max: usize) -> Vec<String> {
        let error = async_graphql::Error::from(AppError::RateLimited {
            message: format!(
                "at most {max} operations at once on one connection; complete one first"
            ),
            retry_after_secs: 0,
        });
        let response = async_graphql::Response::from_errors(vec![
            error.into_server_error(async_graphql::Pos::default()),
        ]);
        let next = if self.protocol == WebSocketProtocols::GraphQLWS {
            "next"
        } else {
            "data"
        };
        vec![
            serde_json::json!({"id": id, "type": next, "payload": response}).to_string(),
            serde_json::json!({"id": id, "type": "complete"}).to_string(),
        ]
    }

    fn expired(&self) -> bool {
        self.binding()
            .is_some_and(|b| b.expires_at() <= self.services.clock.now())
    }

    /// In-band refresh: a `ping` carrying a newer access token of the same session extends the
    /// connection's life to that token's expiry. Anything else under a token key closes it.
    async fn refresh(&mut self, token: &str) -> Step {
        let Standing::SignedIn(binding) = &self.standing else {
            return Step::Close(
                close::FORBIDDEN,
                "send the token in connection_init to sign in".into(),
            );
        };
        let claims = match self
            .services
            .tokens
            .verify(token, self.services.clock.now())
        {
            Ok(claims) => claims,
            Err(e) => return Step::Close(close::FORBIDDEN, e.message().into()),
        };
        if claims.sid != binding.viewer.session_id || claims.sub != binding.viewer.user_id {
            return Step::Close(
                close::FORBIDDEN,
                "the token belongs to another session".into(),
            );
        }
        let viewer = match crate::services::accounts::viewer::resolve(&self.services, &claims).await
        {
            Ok(viewer) => viewer,
            Err(e) => return refusal(e),
        };
        self.standing = Standing::SignedIn(Binding { viewer, claims });
        Step::Reply(vec![serde_json::json!({"type": "pong"}).to_string()])
    }

    /// Whether what arrived on the account's sessions topic ends this connection's session. When the
    /// topic fell behind or went away, the database decides, and the topic is followed afresh.
    pub async fn session_ended(&mut self, item: Option<SubscriptionItem>) -> bool {
        let Some(binding) = self.binding().cloned() else {
            return false;
        };
        match item {
            Some(SubscriptionItem::Message(message)) => SessionsEnded::from_bus(&message)
                .is_some_and(|ended| ended.includes(binding.viewer.session_id)),
            _ => {
                let topic = Topic::AccountSessions(binding.viewer.user_id).key();
                self.revocations = Some(self.services.bus.subscribe(&topic));
                crate::services::accounts::viewer::resolve(&self.services, &binding.claims)
                    .await
                    .is_err()
            }
        }
    }

    /// Checks the token before the engine acknowledges: a token that is present but bad closes the
    /// socket with 4403 on both protocols, before any subscription.
    async fn init(&mut self, payload: serde_json::Value) -> Step {
        let (auth, standing) = match presented(&payload) {
            Presented::Absent => (
                RequestAuth::new(Credentials::Anonymous, self.client.clone()),
                Standing::Anonymous,
            ),
            Presented::Malformed => {
                return Step::Close(close::FORBIDDEN, "invalid access token".into());
            }
            Presented::Token(token) => match self.sign_in(&token).await {
                Ok((auth, binding, revocations)) => {
                    let max = self.services.config.realtime.ws_max_sockets_per_account;
                    let Some(slot) = self.sockets.claim(binding.viewer.user_id, max) else {
                        return Step::Close(
                            close::TOO_MANY,
                            format!("at most {max} connections per account"),
                        );
                    };
                    self.slot = Some(slot);
                    self.revocations = Some(revocations);
                    (auth, Standing::SignedIn(binding))
                }
                Err(step) => return step,
            },
        };
        let mut data = Data::default();
        data.insert(auth);
        data.insert(crate::graphql::loaders::per_connection(&self.services));
        *self.prepared.lock().unwrap_or_else(PoisonError::into_inner) = Some(data);
        self.standing = standing;
        Step::Forward
    }

    /// Verifies a token and the session behind it, following the account's session endings from
    /// before the check so that none is missed in between.
    async fn sign_in(&self, token: &str) -> Result<(RequestAuth, Binding, BusSubscription), Step> {
        let services = &self.services;
        let claims = services
            .tokens
            .verify(token, services.clock.now())
            .map_err(|e| Step::Close(close::FORBIDDEN, e.message().into()))?;
        let revocations = services
            .bus
            .subscribe(&Topic::AccountSessions(claims.sub).key());
        let viewer = crate::services::accounts::viewer::resolve(services, &claims)
            .await
            .map_err(refusal)?;
        let binding = Binding {
            viewer: viewer.clone(),
            claims: claims.clone(),
        };
        Ok((
            RequestAuth::signed_in(claims, viewer, self.client.clone()),
            binding,
            revocations,
        ))
    }
}

fn refusal(error: AppError) -> Step {
    match error {
        AppError::Unauthenticated(reason) => Step::Close(close::FORBIDDEN, reason),
        other => {
            tracing::warn!(error = ?other.message(), "websocket sign-in failed");
            Step::Close(close::INTERNAL, "internal error".into())
        }
    }
}
