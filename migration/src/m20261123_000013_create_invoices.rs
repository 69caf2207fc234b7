//! Invoices and credit notes, numbered without gaps per year from one counter row per year.

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
                Table::create()
                    .table("invoice_sequences")
                    .col(integer("year").primary_key())
                    .col(big_integer("last_number"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                entity_table("invoices")
                    .col(string("number"))
                    .col(string("kind"))
                    // What the document is for ("invoice:<booking>", "credit:<payment>:<n>"), so a
                    // retried settlement never issues a second one.
                    .col(string("source_key"))
                    .col(uuid("booking_id"))
                    .col(uuid_null("payment_id"))
                    .col(uuid_null("seller_id"))
                    .col(uuid("buyer_id"))
                    .col(string("currency"))
                    .col(text("lines"))
                    .col(big_integer("subtotal_minor"))
                    .col(big_integer("tax_minor"))
                    .col(big_integer("total_minor"))
                    .col(integer("tax_bp"))
                    .col(timestamp_with_time_zone("issued_at"))
                    .foreign_key(&mut owned_by("invoices", "booking_id", "bookings"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("invoices", &["number"], true))
            .await?;
        manager
            .create_index(index("invoices", &["source_key"], true))
            .await?;
        manager
            .create_index(index("invoices", &["booking_id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["invoices", "invoice_sequences"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
