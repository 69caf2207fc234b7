//! In-app notifications stored per user.

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
                entity_table("notifications")
                    .col(uuid("user_id"))
                    .col(string("kind"))
                    .col(string("title"))
                    .col(text("body"))
                    .col(text_null("data"))
                    .col(timestamp_with_time_zone_null("read_at"))
                    .foreign_key(&mut owned_by("notifications", "user_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("notifications", &["user_id", "id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("notifications").take())
            .await
    }
}
