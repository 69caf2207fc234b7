//! Use cases: load, decide with domain rules, persist in one transaction, commit, then publish and notify.

pub mod accounts;
pub mod booking_flow;
pub mod booking_worker;
pub mod bookings;
pub mod catalogue;
pub mod chat;
pub mod chat_delivery;
pub mod chat_history;
pub mod clock;
pub mod codes;
pub mod credentials;
pub mod dashboards;
pub mod demo;
pub mod dispatch;
pub mod disputes;
pub mod earnings;
pub mod invoice_pdf;
pub mod invoices;
pub mod kyc;
pub mod ledger;
pub mod live_access;
pub mod matching;
pub mod matching_index;
pub mod mpesa_checks;
pub mod mpesa_refunds;
pub mod notifications;
pub mod pagination;
pub mod passwords;
pub mod payments;
pub mod payout_checks;
pub mod payout_methods;
pub mod quotes;
pub mod rate_limits;
pub mod razorpay;
pub mod reschedule;
pub mod retention;
pub mod sessions;
pub mod settlement;
pub mod storage;
pub mod technician_index;
pub mod technician_profiles;
pub mod technicians;
pub mod tokens;
pub mod totp;
pub mod tracking;
pub mod validation;
pub mod vault;
pub mod viewer;
pub mod webhooks;
pub mod withdrawal_pins;
pub mod withdrawals;

use crate::config::Config;
use crate::gateways::mail::{Mail, Mailer};
use crate::realtime::{EventBus, outbox::OutboxRelay};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub use clock::Clock;
pub use viewer::Viewer;

/// Everything a use case needs, passed in rather than reached for.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub bus: EventBus,
    pub relay: OutboxRelay,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Clock,
    pub tokens: Arc<tokens::TokenKeys>,
    /// Uploaded files (KYC documents): a local directory or an S3-compatible bucket.
    pub storage: Arc<dyn object_store::ObjectStore>,
    /// This replica's in-memory directory of matchable technicians.
    pub matching: Arc<matching_index::MatchingIndex>,
    /// This replica's short-lived view of tracked bookings and their last accepted points.
    pub tracking: Arc<tracking::Tracker>,
    /// Chat deliveries seen by this replica's subscriptions, waiting to be recorded.
    pub deliveries: Arc<chat_delivery::DeliveryMarks>,
    /// The Daraja client when M-Pesa is configured; shared so its OAuth token is fetched once an hour.
    pub mpesa: Option<Arc<crate::gateways::mpesa::Mpesa>>,
    /// The B2C payout client when both M-Pesa and its B2C settings are configured.
    pub mpesa_b2c: Option<std::sync::Arc<crate::gateways::mpesa_b2c::MpesaB2c>>,
    /// Seals and opens payout account details with the key from settings.
    pub vault: Arc<vault::Vault>,
    /// Per-client-address allowances for password checks and sign-ups.
    pub rate_limits: Arc<rate_limits::RateLimits>,
}

/// Work that must wait until the transaction has committed.
#[derive(Default)]
pub struct Effects {
    durable_events: bool,
    mail: Vec<Mail>,
}

impl Effects {
    /// Something was written to the outbox; the relay should look now.
    pub fn event(&mut self) {
        self.durable_events = true;
    }

    pub fn mail(&mut self, mail: Mail) {
        self.mail.push(mail);
    }
}

impl Services {
    /// Runs effects in the one order used everywhere: publish (relay the outbox), then notify (mail).
    /// Mail goes out in the background: a slow mail server must not hold up the API.
    pub fn after_commit(&self, effects: Effects) {
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
