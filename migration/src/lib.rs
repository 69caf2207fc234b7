//! Database schema migrations for Fundi, one change per migration, runnable on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261123_000001_create_accounts;
mod m20261123_000002_create_notifications;
mod m20261123_000003_create_outbox;
mod m20261123_000004_create_technicians;
mod m20261123_000005_create_bookings;
mod m20261123_000006_outbox_sequence_keys;
mod m20261123_000007_create_chat;
mod m20261123_000008_create_tracking;
mod m20261123_000009_create_ledger;
mod m20261123_000010_create_payments;
mod m20261123_000011_payment_gateway_fields;
mod m20261123_000013_create_invoices;
mod m20261123_000014_create_withdrawals;
mod m20261123_000015_create_mpesa_refunds;
mod m20261206_000016_login_attempt_counter;
mod m20261207_000017_create_unmatched_receipts;
mod m20261208_000018_create_reviews;
mod m20261208_000019_technician_rating_totals;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_accounts::Migration),
            Box::new(m20261123_000002_create_notifications::Migration),
            Box::new(m20261123_000003_create_outbox::Migration),
            Box::new(m20261123_000004_create_technicians::Migration),
            Box::new(m20261123_000005_create_bookings::Migration),
            Box::new(m20261123_000006_outbox_sequence_keys::Migration),
            Box::new(m20261123_000007_create_chat::Migration),
            Box::new(m20261123_000008_create_tracking::Migration),
            Box::new(m20261123_000009_create_ledger::Migration),
            Box::new(m20261123_000010_create_payments::Migration),
            Box::new(m20261123_000011_payment_gateway_fields::Migration),
            Box::new(m20261123_000013_create_invoices::Migration),
            Box::new(m20261123_000014_create_withdrawals::Migration),
            Box::new(m20261123_000015_create_mpesa_refunds::Migration),
            Box::new(m20261206_000016_login_attempt_counter::Migration),
            Box::new(m20261207_000017_create_unmatched_receipts::Migration),
            Box::new(m20261208_000018_create_reviews::Migration),
            Box::new(m20261208_000019_technician_rating_totals::Migration),
        ]
    }
}
