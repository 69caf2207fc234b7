//! Booking chat: one conversation per booking with its message counter, the messages, and each
//! participant's delivered/read high-water marks.

use crate::columns::{entity_table, index, owned_by};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `id` is the booking's id: a booking has exactly one conversation.
        manager
            .create_table(
                entity_table("conversations")
                    .col(big_integer("last_seq"))
                    .foreign_key(&mut owned_by("conversations", "id", "bookings"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                entity_table("messages")
                    .col(uuid("booking_id"))
                    .col(big_integer("seq"))
                    .col(uuid_null("sender_id"))
                    .col(string("sender_role"))
                    .col(string("kind"))
                    .col(text_null("body"))
                    .col(double_null("lat"))
                    .col(double_null("lng"))
                    .col(string_null("attachment_key"))
                    .col(string_null("attachment_type"))
                    .col(big_integer_null("attachment_size"))
                    .col(string_null("client_message_id"))
                    .foreign_key(&mut owned_by("messages", "booking_id", "bookings"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("messages", &["booking_id", "seq"], true))
            .await?;
        manager
            .create_index(index(
                "messages",
                &["booking_id", "sender_id", "client_message_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index("messages", &["created_at"], false))
            .await?;
        manager
            .create_table(
                entity_table("chat_receipts")
                    .col(uuid("booking_id"))
                    .col(uuid("user_id"))
                    .col(big_integer("delivered_seq"))
                    .col(big_integer("read_seq"))
                    .foreign_key(&mut owned_by("chat_receipts", "booking_id", "bookings"))
                    .foreign_key(&mut owned_by("chat_receipts", "user_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("chat_receipts", &["booking_id", "user_id"], true))
            .await?;
        manager
            .create_index(index("chat_receipts", &["user_id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["chat_receipts", "messages", "conversations"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
