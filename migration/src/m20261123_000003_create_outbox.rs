//! The transactional outbox for durable events, with a sequence counter per topic.

use crate::columns::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("topic_sequences")
                    .col(string("topic").primary_key())
                    .col(big_integer("last_seq"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(big_pk_auto("id"))
                    .col(string("topic"))
                    .col(big_integer("seq"))
                    .col(text("payload"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("outbox", &["topic", "seq"], true))
            .await?;
        manager
            .create_index(index("outbox", &["published_at", "id"], false))
            .await?;
        // One row per background duty that only one replica may perform at a time.
        manager
            .create_table(
                Table::create()
                    .table("leases")
                    .col(string("name").primary_key())
                    .col(uuid_null("holder"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("leases").take())
            .await?;
        manager
            .drop_table(Table::drop().table("outbox").take())
            .await?;
        manager
            .drop_table(Table::drop().table("topic_sequences").take())
            .await
    }
}
