//! Outbox sequence numbers may come from a finer key than the channel (one technician's directory
//! changes rather than all of them), so (topic, seq) is no longer unique; it stays indexed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Plain SQL that reads the same on SQLite and PostgreSQL, run as one batch on one connection.
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX ix_outbox_topic_seq; CREATE INDEX ix_outbox_topic_sequence ON outbox (topic, seq)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX ix_outbox_topic_sequence; CREATE UNIQUE INDEX ix_outbox_topic_seq ON outbox (topic, seq)",
            )
            .await?;
        Ok(())
    }
}
