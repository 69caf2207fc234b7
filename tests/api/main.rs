//! Integration tests: each starts the real server on 127.0.0.1:0 with its own database and talks HTTP and WebSocket to it.

mod accounts;
mod booking_extras;
mod booking_fixtures;
mod booking_roles;
mod bookings;
mod chat;
mod chat_replicas;
mod cli;
mod fixtures;
mod http;
mod kyc;
mod ledger;
mod matching;
mod mpesa;
mod notifications;
mod payments;
mod redis;
mod sessions;
mod stripe;
mod support;
mod technicians;
mod tracking;
mod two_factor;
mod verification;
mod websocket;
