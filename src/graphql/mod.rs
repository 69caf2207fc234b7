//! The GraphQL schema: one part per area merged into the roots, with limits, extensions and per-request context.

pub mod accounts;
pub mod bookings;
pub mod chat;
pub mod common;
pub mod context;
pub mod ids;
pub mod live;
pub mod loaders;
pub mod matching;
pub mod money;
pub mod node;
pub mod notifications;
pub mod pipeline;
pub mod reviews;
pub mod technicians;
pub mod tracking;
pub mod uploads;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::services::Services;
use async_graphql::{MergedObject, MergedSubscription, Schema};
use pipeline::limits::Limits;
use pipeline::persisted_queries::PersistedQueries;
use std::sync::Arc;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    accounts::operations::AccountQuery,
    notifications::operations::NotificationQuery,
    technicians::kyc::KycQuery,
    technicians::operations::TechnicianQuery,
    matching::operations::MatchingQuery,
    bookings::operations::BookingQuery,
    bookings::extras_operations::BookingExtrasQuery,
    chat::operations::ChatQuery,
    money::invoices::InvoiceQuery,
    money::earnings::EarningsQuery,
    money::ledger::LedgerQuery,
    money::withdrawals::WithdrawalQuery,
    money::unmatched_receipts::UnmatchedReceiptQuery,
    reviews::operations::ReviewQuery,
    node::NodeQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    accounts::operations::AccountMutation,
    notifications::operations::NotificationMutation,
    technicians::kyc::KycMutation,
    technicians::operations::TechnicianMutation,
    matching::operations::MatchingMutation,
    bookings::operations::BookingMutation,
    bookings::extras_operations::BookingExtrasMutation,
    chat::operations::ChatMutation,
    money::payments::PaymentMutation,
    tracking::operations::TrackingMutation,
    money::withdrawals::WithdrawalMutation,
    money::unmatched_receipts::UnmatchedReceiptMutation,
    reviews::operations::ReviewMutation,
);

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(
    notifications::operations::NotificationSubscription,
    bookings::operations::BookingSubscription,
    chat::operations::ChatSubscription,
    tracking::operations::TrackingSubscription,
);

pub type FundiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

pub fn build_schema(
    services: Option<Services>,
    metrics: Option<Metrics>,
    config: &Config,
) -> FundiSchema {
    let bus = services.as_ref().map(|s| s.bus.clone());
    let persisted = Arc::new(PersistedQueries::new(config.persisted_queries, bus));
    build_schema_with(services, metrics, config, persisted)
}

/// The schema with its limits and pipeline; `persisted` is shared with the HTTP layer, which
/// resolves persisted queries sent over GET before it decides whether they may run there.
pub fn build_schema_with(
    services: Option<Services>,
    metrics: Option<Metrics>,
    config: &Config,
    persisted: Arc<PersistedQueries>,
) -> FundiSchema {
    let limits = Limits {
        max_selections: config.max_query_selections,
        max_depth: u32::try_from(config.max_query_depth).unwrap_or(u32::MAX),
    };
    // Depth is limited by the pipeline, which measures introspection against its own cap; the
    // engine's depth limit would refuse the standard introspection query.
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_complexity(config.max_query_complexity)
    .limit_recursive_depth(32)
    .limit_directives(20)
    .extension(crate::telemetry::graphql::OperationSpans)
    .extension(pipeline::extensions::Pipeline::new(
        metrics.clone(),
        limits,
        persisted,
    ))
    .extension(accounts::password_guard::PerOperationBudget)
    .extension(pipeline::input_rules::InputRules);
    if !config.introspection {
        builder = builder.disable_introspection();
        if config.is_production() {
            builder = builder.disable_suggestions();
        }
    }
    if let Some(metrics) = metrics {
        builder = builder.data(metrics);
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
