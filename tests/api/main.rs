//! Integration tests: each starts the real server on 127.0.0.1:0 with its own database and talks HTTP and WebSocket to it.

mod accounts;
mod cli;
mod http;
mod notifications;
mod redis;
mod sessions;
mod support;
mod two_factor;
mod verification;
mod websocket;
