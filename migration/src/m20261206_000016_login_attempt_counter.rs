//! A per-account count of sign-in attempts in the current throttle window, so an attempt is counted
//! with one conditional update before its password is checked, however many arrive at once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(integer("login_failures").default(0))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(timestamp_with_time_zone_null("login_window_started_at"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .drop_column("login_window_started_at")
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .drop_column("login_failures")
                    .take(),
            )
            .await
    }
}
