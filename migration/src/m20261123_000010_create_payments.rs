//! Payments into escrow (deposits, balances, tips) and technicians' earnings held before they
//! become available.

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
                entity_table("payments")
                    .col(uuid("booking_id"))
                    .col(uuid("customer_id"))
                    .col(string("kind"))
                    .col(string("method"))
                    .col(string("status"))
                    .col(big_integer("amount_minor"))
                    .col(big_integer("refunded_minor"))
                    .col(string("currency"))
                    .col(string_null("gateway_reference"))
                    .col(string_null("next_action"))
                    .col(string_null("failure_reason"))
                    .col(string_null("phone"))
                    .col(string("idempotency_key"))
                    .col(string("fingerprint"))
                    .col(timestamp_with_time_zone_null("succeeded_at"))
                    .foreign_key(&mut owned_by("payments", "booking_id", "bookings"))
                    .foreign_key(&mut owned_by("payments", "customer_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("payments", &["customer_id", "idempotency_key"], true))
            .await?;
        manager
            .create_index(index("payments", &["booking_id", "kind"], false))
            .await?;
        manager
            .create_table(
                entity_table("earnings_holds")
                    .col(uuid("technician_id"))
                    .col(uuid("booking_id"))
                    .col(big_integer("amount_minor"))
                    .col(string("currency"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("available_at"))
                    .foreign_key(&mut owned_by("earnings_holds", "technician_id", "users"))
                    .foreign_key(&mut owned_by("earnings_holds", "booking_id", "bookings"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("earnings_holds", &["status", "available_at"], false))
            .await?;
        manager
            .create_index(index("earnings_holds", &["booking_id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["earnings_holds", "payments"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
