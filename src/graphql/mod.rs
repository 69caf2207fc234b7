//! The GraphQL schema: one part per area merged into the roots, with limits, extensions and per-request context.

pub mod account_types;
pub mod accounts;
pub mod booking_extras;
pub mod booking_types;
pub mod bookings;
pub mod chat;
pub mod chat_types;
pub mod common;
pub mod context;
pub mod earnings;
pub mod extensions;
pub mod ids;
pub mod invoices;
pub mod kyc;
pub mod ledger;
pub mod loaders;
pub mod matching;
pub mod node;
pub mod notifications;
pub mod payments;
pub mod technician_types;
pub mod technicians;
pub mod tracking;
pub mod withdrawals;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::services::Services;
use async_graphql::{MergedObject, MergedSubscription, Schema};

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    accounts::AccountQuery,
    notifications::NotificationQuery,
    kyc::KycQuery,
    technicians::TechnicianQuery,
    matching::MatchingQuery,
    bookings::BookingQuery,
    booking_extras::BookingExtrasQuery,
    chat::ChatQuery,
    invoices::InvoiceQuery,
    earnings::EarningsQuery,
    ledger::LedgerQuery,
    withdrawals::WithdrawalQuery,
    node::NodeQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    accounts::AccountMutation,
    notifications::NotificationMutation,
    kyc::KycMutation,
    technicians::TechnicianMutation,
    matching::MatchingMutation,
    bookings::BookingMutation,
    booking_extras::BookingExtrasMutation,
    chat::ChatMutation,
    payments::PaymentMutation,
    tracking::TrackingMutation,
    withdrawals::WithdrawalMutation,
);

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(
    notifications::NotificationSubscription,
    bookings::BookingSubscription,
    chat::ChatSubscription,
    tracking::TrackingSubscription,
);

pub type FundiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

pub fn build_schema(
    services: Option<Services>,
    metrics: Option<Metrics>,
    config: &Config,
) -> FundiSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(config.max_query_depth)
    .limit_complexity(config.max_query_complexity)
    .limit_recursive_depth(32)
    .limit_directives(20)
    .extension(crate::telemetry::graphql::OperationSpans);
    if !config.introspection {
        builder = builder.disable_introspection();
        if config.is_production() {
            builder = builder.disable_suggestions();
        }
    }
    if let Some(metrics) = metrics {
        builder = builder
            .extension(extensions::Observability::new(metrics.clone()))
            .data(metrics);
    }
    if let Some(services) = services {
        builder = builder.data(services);
    }
    builder.finish()
}

/// The SDL clients build against; `schema.graphql` at the repository root must equal it.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}
