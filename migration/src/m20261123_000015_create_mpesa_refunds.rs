//! M-Pesa refunds sent back to the payer's phone with B2C, one row per refund of a payment.

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
                entity_table("mpesa_refunds")
                    .col(uuid("payment_id"))
                    .col(big_integer("amount_minor"))
                    .col(string("currency"))
                    .col(string("phone"))
                    .col(string("status"))
                    // Ours (RF-...), sent as B2C's OriginatorConversationID so results find the row.
                    .col(string("reference"))
                    .col(string_null("gateway_reference"))
                    .col(string_null("failure_reason"))
                    .col(timestamp_with_time_zone_null("processed_at"))
                    .foreign_key(&mut owned_by("mpesa_refunds", "payment_id", "payments"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("mpesa_refunds", &["reference"], true))
            .await?;
        manager
            .create_index(index("mpesa_refunds", &["status", "updated_at"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("mpesa_refunds").take())
            .await
    }
}
