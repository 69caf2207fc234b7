//! GraphQL over WebSocket (graphql-transport-ws and the legacy graphql-ws) at /graphql and /graphql/ws:
//! the socket loop between the client, the connection's own checks (token and session, expiry, limits)
//! and the GraphQL engine, and the close codes that end it (1001 when the server shuts down, so
//! clients reconnect elsewhere).

mod accounts;
mod connection;
mod credentials;
mod watchdog;

pub use accounts::AccountSockets;

use super::HttpState;
use super::graphql::client_info;
use crate::realtime::{Subscription as BusSubscription, SubscriptionItem};
use crate::services::accounts::sessions::ClientInfo;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use connection::{Connection, Step, close};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::PoisonError;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use watchdog::Watchdog;

/// A socket that has not sent connection_init by then is closed (4408, as graphql-transport-ws says).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes read from a socket at a time, and the read buffer every socket holds while idle.
/// tungstenite zero-fills the whole buffer on the first read, so its default (128 KiB) cost every
/// idle socket 128 KiB, and 4 KiB still cost 3 KB more per socket than this. The messages a
/// client sends (`connection_init` with a token, `subscribe`, `ping`) mostly fit in one read; a
/// larger frame still gets a buffer of its own size (up to `MAX_MESSAGE_BYTES`), read in pieces
/// of this size. See benches/idle_subscriptions.rs.
pub const READ_BUFFER_SIZE: usize = 1024;

/// Largest message a client may send, the same cap as a JSON body over HTTP: GraphQL operations
/// are small, and the default (64 MiB) would let one socket hold a great deal of memory.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// GET /graphql/ws: always a WebSocket upgrade.
pub async fn upgrade(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    accept(state, peer, &headers, ws)
}

/// GET /graphql: a WebSocket upgrade when the client asks for one (clients configured with one URL
/// for HTTP and subscriptions), otherwise the HTTP GET handler, untouched.
pub async fn graphql_get(State(state): State<HttpState>, request: Request) -> Response {
    if !asks_for_websocket(request.headers()) {
        return super::graphql::get_graphql.call(request, state).await;
    }
    let (mut parts, _) = request.into_parts();
    // The server is always served with connect info; a router used without it cannot upgrade.
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied() else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => accept(state, peer, &parts.headers, ws),
        Err(rejection) => rejection.into_response(),
    }
}

/// `Upgrade: websocket` (HTTP/1.1; HTTP/2's extended CONNECT never reaches a GET route).
fn asks_for_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn accept(
    state: HttpState,
    peer: SocketAddr,
    headers: &HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let client = client_info(headers, peer, &state.config.abuse.trusted_proxies);
    let protocol = protocol(headers);
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(READ_BUFFER_SIZE)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve(state, socket, protocol, client))
}

/// The first subprotocol offered that we speak; graphql-transport-ws when the client names none.
fn protocol(headers: &HeaderMap) -> WebSocketProtocols {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        })
        .unwrap_or(WebSocketProtocols::GraphQLWS)
}

struct OpenSocket(prometheus::IntGauge);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Client messages waiting for the engine; while it is full the socket is not read (backpressure).
const ENGINE_QUEUE: usize = 16;

fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_string().into(),
    }))
}

/// The next event on the connection's session topic; never, before the connection is signed in.
async fn next_revocation(revocations: &mut Option<BusSubscription>) -> Option<SubscriptionItem> {
    match revocations {
        Some(subscription) => subscription.next().await,
        None => std::future::pending().await,
    }
}

async fn serve(
    state: HttpState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    client: ClientInfo,
) {
    state.metrics.open_websockets.inc();
    let _open = OpenSocket(state.metrics.open_websockets.clone());
    let (mut sink, mut frames) = socket.split();
    let mut connection = Connection::new(
        state.services.clone(),
        state.sockets.clone(),
        client,
        protocol,
    );

    // The engine reads what this layer lets through; its connection data is what `connection_init`
    // prepared after checking the token.
    let (feed, engine_input) = mpsc::channel::<Vec<u8>>(ENGINE_QUEUE);
    let on_init = {
        let prepared = connection.prepared();
        move |_payload: serde_json::Value| async move {
            prepared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or_else(|| async_graphql::Error::new("connection not initialised"))
        }
    };
    let mut output = async_graphql::http::WebSocket::new(
        state.schema.clone(),
        ReceiverStream::new(engine_input),
        protocol,
    )
    .on_connection_init(on_init)
    .keepalive_timeout(None);
    let mut watchdog = Watchdog::new(state.services.clock.clone());

    let closing: Option<(u16, String)> = loop {
        let open_operations = connection.open_operations();
        tokio::select! {
            biased;
            _ = state.shutdown.cancelled() => break Some((1001, "server shutting down".into())),
            // A place in the engine's queue first: while it is full the socket is not read, and
            // the engine freeing a place wakes this branch again.
            next = async {
                let permit = feed.reserve().await.ok()?;
                Some((permit, frames.next().await))
            } => {
                let Some((permit, frame)) = next else { break None };
                let bytes = match frame {
                    Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
                    Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Ok(_)) => continue,
                    // axum does not expose tungstenite's error type; its capacity error reads
                    // "Space limit exceeded: Message too long: <size> > <max>".
                    Some(Err(e)) => {
                        let text = e.to_string();
                        if text.contains("too long") || text.contains("Space limit") {
                            break Some((1009, "message too big".into()));
                        }
                        break None;
                    }
                };
                match connection.on_client(&bytes).await {
                    Step::Forward => permit.send(bytes),
                    Step::Reply(messages) => {
                        for text in messages {
                            if sink.send(Message::Text(text.into())).await.is_err() {
                                break;
                            }
                        }
                    }
                    Step::Close(code, reason) => break Some((code, reason)),
                }
                watchdog.follow(&connection);
            },
            item = next_revocation(&mut connection.revocations) => {
                if connection.session_ended(item).await {
                    break Some((close::FORBIDDEN, "session ended".into()));
                }
            },
            reason = watchdog.fired(open_operations) => break Some(reason),
            next = output.next() => match next {
                Some(WsMessage::Text(text)) => {
                    connection.on_server(&text);
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break None;
                    }
                }
                Some(WsMessage::Close(code, reason)) => break Some((code, reason)),
                None => break None,
            },
        }
    };
    if let Some((code, reason)) = closing {
        let _ = sink.send(close_frame(code, &reason)).await;
    }
    let _ = sink.close().await;
}
