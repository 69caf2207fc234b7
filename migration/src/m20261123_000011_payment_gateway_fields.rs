//! What card gateways need: the client secret a customer's app confirms a payment with, and the
//! provider events already applied, so a redelivered webhook changes nothing.

use crate::columns::{entity_table, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("payments")
                    .add_column(string_null("client_secret"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                entity_table("webhook_events")
                    .col(string("provider"))
                    .col(string("event_id"))
                    .col(timestamp_with_time_zone("received_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("webhook_events", &["provider", "event_id"], true))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("webhook_events").take())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("payments")
                    .drop_column("client_secret")
                    .take(),
            )
            .await
    }
}
