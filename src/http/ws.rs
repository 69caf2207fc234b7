//! GraphQL over WebSocket (graphql-transport-ws and the legacy graphql-ws): token in connection_init,
//! a deadline for that init, and close code 1001 when the server shuts down so clients reconnect elsewhere.

use super::HttpState;
use super::graphql::client_info;
use crate::graphql::context::RequestAuth;
use crate::services::sessions::ClientInfo;
use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt, future};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A socket that has not sent connection_init by then is closed (4408, as graphql-transport-ws says).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes read from a socket at a time. tungstenite's default (128 KiB) is zero-filled on the first
/// read, so every idle socket held 128 KiB; GraphQL messages are small, and a larger frame still
/// gets a buffer of its own size. See benches/idle_subscriptions.rs.
pub const READ_BUFFER_SIZE: usize = 4 * 1024;

/// Largest message a client may send, the same cap as a JSON body over HTTP: GraphQL operations
/// are small, and the default (64 MiB) would let one socket hold a great deal of memory.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

pub async fn upgrade(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let client = client_info(&headers, peer, &state.config.abuse.trusted_proxies);
    let protocol = protocol(&headers);
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

/// Reads the token from the init payload: `{"authorization": "Bearer <token>"}` (any key case).
fn bearer_from_payload(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

struct OpenSocket(prometheus::IntGauge);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.dec();
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
    let (mut sink, stream) = socket.split();
    // Set when the client sent more than MAX_MESSAGE_BYTES: the socket is then closed with 1009.
    let too_big = Arc::new(AtomicBool::new(false));
    let input = stream
        .take_while({
            let too_big = too_big.clone();
            move |message| {
                if let Err(e) = message {
                    // axum does not expose tungstenite's error type; its capacity error reads
                    // "Space limit exceeded: Message too long: <size> > <max>".
                    let text = e.to_string();
                    if text.contains("too long") || text.contains("Space limit") {
                        too_big.store(true, Ordering::SeqCst);
                    }
                }
                future::ready(message.is_ok())
            }
        })
        .filter_map(|message| {
            future::ready(match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        });

    let initialised = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicBool::new(false));
    let on_init = {
        let (services, initialised, refused) =
            (state.services.clone(), initialised.clone(), refused.clone());
        move |payload: serde_json::Value| async move {
            let auth = RequestAuth::from_bearer(
                bearer_from_payload(&payload).as_deref(),
                &services,
                client,
            );
            if let crate::graphql::context::Credentials::Refused(reason) = &auth.credentials {
                refused.store(true, Ordering::SeqCst);
                return Err(async_graphql::Error::new(reason.message()));
            }
            initialised.store(true, Ordering::SeqCst);
            let mut data = Data::default();
            data.insert(auth);
            data.insert(crate::graphql::loaders::per_connection(&services));
            Ok(data)
        }
    };
    let mut output = async_graphql::http::WebSocket::new(state.schema.clone(), input, protocol)
        .on_connection_init(on_init)
        .keepalive_timeout(None);
    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(init_deadline);

    let close = |code: u16, reason: &str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_string().into(),
        }))
    };
    loop {
        tokio::select! {
            next = output.next() => match next {
                Some(WsMessage::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    // graphql-transport-ws names 4403 for a refused connection_init; the engine says 1002.
                    let code = if code == 1002 && refused.load(Ordering::SeqCst) { 4403 } else { code };
                    let _ = sink.send(close(code, &reason)).await;
                    break;
                }
                None => {
                    if too_big.load(Ordering::SeqCst) {
                        let _ = sink.send(close(1009, "message too big")).await;
                    }
                    break;
                }
            },
            _ = &mut init_deadline, if !initialised.load(Ordering::SeqCst) => {
                let _ = sink.send(close(4408, "Connection initialisation timeout")).await;
                break;
            }
            _ = state.shutdown.cancelled() => {
                let _ = sink.send(close(1001, "server shutting down")).await;
                break;
            }
        }
    }
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_init_payload_in_any_key_case() {
        for key in ["authorization", "Authorization", "AUTHORIZATION"] {
            let payload = serde_json::json!({ key: "Bearer abc" });
            assert_eq!(bearer_from_payload(&payload).as_deref(), Some("Bearer abc"));
        }
        assert_eq!(bearer_from_payload(&serde_json::json!({})), None);
        assert_eq!(bearer_from_payload(&serde_json::Value::Null), None);
    }
}
