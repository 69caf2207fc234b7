//! Use cases: load, decide with domain rules, persist in one transaction, commit, then publish and notify.

pub mod accounts;
pub mod bookings;
pub mod catalogue;
pub mod chat;
pub mod matching;
pub mod money;
pub mod notifications;
pub mod platform;
pub mod reviews;
pub mod technicians;
pub mod tracking;

use crate::config::Config;
use crate::gateways::mail::{Mail, Mailer};
use crate::realtime::{EventBus, outbox::OutboxRelay};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub use accounts::viewer::Viewer;
pub use platform::clock::Clock;

/// Everything a use case needs, passed in rather than reached for.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub bus: EventBus,
    pub relay: OutboxRelay,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Clock,
    pub tokens: Arc<accounts::tokens::TokenKeys>,
    /// Uploaded files (KYC documents): a local directory or an S3-compatible bucket.
    pub storage: Arc<dyn object_store::ObjectStore>,
    /// This replica's in-memory directory of matchable technicians.
    pub matching: Arc<matching::directory::MatchingIndex>,
    /// This replica's copy of the active categories, by slug.
    pub active_categories: Arc<catalogue::active::ActiveCategories>,
    /// This replica's copy of what a search reads besides the directory and the categories: the
    /// platform's weights, searching customers' own weights and blocks.
    pub search_cache: Arc<matching::search_cache::SearchCache>,
    /// This replica's short-lived view of tracked bookings and their last accepted points.
    pub tracking: Arc<tracking::positions::Tracker>,
    /// Chat deliveries seen by this replica's subscriptions, waiting to be recorded.
    pub deliveries: Arc<chat::delivery::DeliveryMarks>,
    /// The Daraja client when M-Pesa is configured; shared so its OAuth token is fetched once an hour.
    pub mpesa: Option<Arc<crate::gateways::mpesa::Mpesa>>,
    /// The B2C payout client when both M-Pesa and its B2C settings are configured.
    pub mpesa_b2c: Option<std::sync::Arc<crate::gateways::mpesa_b2c::MpesaB2c>>,
    /// Seals and opens payout account details with the key from settings.
    pub vault: Arc<accounts::vault::Vault>,
    /// Per-client-address allowances for password checks and sign-ups.
    pub rate_limits: Arc<accounts::rate_limits::RateLimits>,
    /// This replica's live sessions, so most requests skip the database's session check.
    pub session_cache: Arc<accounts::session_cache::SessionCache>,
}

/// Work that must wait until the transaction has committed.
#[derive(Default)]
pub struct Effects {
    durable_events: bool,
    mail: Vec<Mail>,
    sessions_ended: Vec<(uuid::Uuid, accounts::sessions::SessionsEnded)>,
}

impl Effects {
    /// Something was written to the outbox; the relay should look now.
    pub fn event(&mut self) {
        self.durable_events = true;
    }

    pub fn mail(&mut self, mail: Mail) {
        self.mail.push(mail);
    }

    /// Sessions of `user` ended: every replica's session cache must forget them.
    pub fn sessions_ended(&mut self, user: uuid::Uuid, ended: accounts::sessions::SessionsEnded) {
        self.sessions_ended.push((user, ended));
    }
}

impl Services {
    /// Runs effects in the one order used everywhere: publish (relay the outbox), then notify (mail).
    /// Mail goes out in the background: a slow mail server must not hold up the API.
    pub fn after_commit(&self, effects: Effects) {
        // Ended sessions are refused by this replica before the caller is answered, and by the
        // others one publish later; the relay sends the same again, durably.
        for (user, ended) in effects.sessions_ended {
            self.session_cache.evict(user, &ended);
            let bus = self.bus.clone();
            tokio::spawn(async move {
                accounts::sessions::publish_ended(&bus, user, &ended).await;
            });
        }
        if effects.durable_events {
            self.relay.kick();
        }
        for mail in effects.mail {
            let mailer = self.mailer.clone();
            tokio::spawn(async move {
                let to = mail.to.clone();
                if let Err(e) = mailer.send(mail).await {
                    tracing::warn!(to = %to, error = %e, "mail not sent");
                }
            });
        }
    }
}
