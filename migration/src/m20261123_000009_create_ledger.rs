//! The double-entry ledger: accounts with cached balances, and append-only transactions and postings.

use crate::columns::{entity_table, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // An account is unique by its computed `name` (kind, owner, gateway, currency), not by those
        // columns: owner and gateway are NULL for most kinds, and NULLs never collide in a unique
        // index on SQLite or PostgreSQL, so two racing first posts would create two accounts.
        // `balance_minor` caches the sum of the account's postings so that the overdraft check is
        // one conditional UPDATE on one row.
        manager
            .create_table(
                entity_table("ledger_accounts")
                    .col(string("name"))
                    .col(string("kind"))
                    .col(uuid_null("owner_id"))
                    .col(string_null("gateway"))
                    .col(string_len("currency", 3))
                    .col(big_integer("balance_minor"))
                    .col(boolean("may_go_negative"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ledger_accounts", &["name"], true))
            .await?;
        manager
            .create_index(index("ledger_accounts", &["owner_id"], false))
            .await?;
        manager
            .create_index(index("ledger_accounts", &["currency", "kind"], false))
            .await?;

        // Append-only: rows are never updated or deleted. `reference` makes posting idempotent;
        // NULL references do not collide, which is what entries without one want.
        manager
            .create_table(
                Table::create()
                    .table("ledger_transactions")
                    .col(pk_uuid("id"))
                    .col(string("kind"))
                    .col(uuid_null("booking_id"))
                    .col(string_null("reference"))
                    .col(text_null("memo"))
                    .col(timestamp_with_time_zone("created_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ledger_transactions", &["reference"], true))
            .await?;
        manager
            .create_index(index("ledger_transactions", &["booking_id"], false))
            .await?;

        // No cascading deletes: ledger rows outlive anything they mention.
        manager
            .create_table(
                Table::create()
                    .table("ledger_postings")
                    .col(pk_uuid("id"))
                    .col(uuid("transaction_id"))
                    .col(uuid("account_id"))
                    .col(big_integer("amount_minor"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ledger_postings_transaction_id")
                            .from("ledger_postings", "transaction_id")
                            .to("ledger_transactions", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ledger_postings_account_id")
                            .from("ledger_postings", "account_id")
                            .to("ledger_accounts", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ledger_postings", &["account_id"], false))
            .await?;
        manager
            .create_index(index("ledger_postings", &["transaction_id"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["ledger_postings", "ledger_transactions", "ledger_accounts"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
