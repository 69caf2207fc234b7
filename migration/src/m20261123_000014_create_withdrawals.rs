//! Money out: each technician's payout method (encrypted) and withdrawal PIN, and their withdrawals.

use crate::columns::{entity_table, index, owned_by};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                // One row per technician; `id` is the technician's user id.
                entity_table("payout_methods")
                    .col(string("kind"))
                    // AES-256-GCM of the details as JSON: nonce and ciphertext, base64.
                    .col(text("details_sealed"))
                    .col(string("masked"))
                    .col(timestamp_with_time_zone_null("hold_until"))
                    .foreign_key(&mut owned_by("payout_methods", "id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                entity_table("withdrawal_pins")
                    .col(string("pin_hash"))
                    .col(integer("failed_attempts"))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .foreign_key(&mut owned_by("withdrawal_pins", "id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                entity_table("withdrawals")
                    .col(uuid("technician_id"))
                    .col(big_integer("amount_minor"))
                    .col(string("currency"))
                    .col(string("status"))
                    .col(string("method_kind"))
                    .col(string("method_masked"))
                    // The payout details as they were when the withdrawal was asked for, sealed
                    // like the method's: a later change of method cannot redirect this money.
                    .col(text("destination_sealed"))
                    .col(string("gateway"))
                    .col(string("reference"))
                    .col(string_null("gateway_reference"))
                    .col(string_null("bank_reference"))
                    .col(string("idempotency_key"))
                    // What the request asked for, so a reused key with other input is a CONFLICT.
                    .col(string("request_fingerprint"))
                    .col(string_null("failure_reason"))
                    .col(timestamp_with_time_zone_null("processing_at"))
                    .col(timestamp_with_time_zone_null("processed_at"))
                    .foreign_key(&mut owned_by("withdrawals", "technician_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("withdrawals", &["reference"], true))
            .await?;
        manager
            .create_index(index(
                "withdrawals",
                &["technician_id", "idempotency_key"],
                true,
            ))
            .await?;
        manager
            .create_index(index("withdrawals", &["status", "created_at"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["withdrawals", "withdrawal_pins", "payout_methods"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
