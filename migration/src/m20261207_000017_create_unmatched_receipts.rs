//! Unmatched receipts: money a provider reported that matches no payment, kept for staff to attach
//! to a booking or refund. Unique per (provider, provider_reference), so a replayed callback or
//! webhook records it once.
//!
//! No foreign keys on purpose: a receipt is a record of money received and must outlive whatever
//! it names (a deleted account's booking, payment or staff member), where a cascade would drop it.

use crate::columns::{entity_table, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                entity_table("unmatched_receipts")
                    // MPESA, STRIPE or RAZORPAY.
                    .col(string("provider"))
                    // The M-Pesa receipt number, the Stripe payment intent or the Razorpay payment id.
                    .col(string("provider_reference"))
                    .col(string_null("phone"))
                    .col(big_integer("amount_minor"))
                    .col(string("currency"))
                    // The payment the event was nearest to, e.g. the FAILED one its CheckoutRequestID names.
                    .col(uuid_null("near_payment_id"))
                    // What the provider said, for staff reading the queue.
                    .col(string_null("detail"))
                    .col(timestamp_with_time_zone("received_at"))
                    .col(string("status"))
                    .col(uuid_null("resolved_by"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .col(uuid_null("attached_booking_id"))
                    .col(uuid_null("attached_payment_id"))
                    // What staff must still do by hand, e.g. send an M-Pesa refund.
                    .col(string_null("next_action"))
                    .col(string_null("note"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "unmatched_receipts",
                &["provider", "provider_reference"],
                true,
            ))
            .await?;
        manager
            .create_index(index("unmatched_receipts", &["status", "id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("unmatched_receipts").take())
            .await
    }
}
