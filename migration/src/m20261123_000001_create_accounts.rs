//! Accounts: users, their addresses, sessions with rotating refresh tokens, login history and one-time codes.

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
                entity_table("users")
                    .col(string("email"))
                    .col(string_null("phone"))
                    .col(string("password_hash"))
                    .col(string("full_name"))
                    .col(string("role"))
                    .col(timestamp_with_time_zone_null("email_verified_at"))
                    .col(string_null("totp_secret"))
                    .col(string_null("totp_pending_secret"))
                    .col(big_integer_null("totp_last_step"))
                    .col(timestamp_with_time_zone_null("login_locked_until"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("users", &["email"], true))
            .await?;
        manager
            .create_index(index("users", &["phone"], true))
            .await?;

        manager
            .create_table(
                entity_table("addresses")
                    .col(uuid("user_id"))
                    .col(string("label"))
                    .col(string("line"))
                    .col(string("city"))
                    .col(string_null("region"))
                    .col(string_null("postal_code"))
                    .col(double_null("lat"))
                    .col(double_null("lng"))
                    .col(boolean("is_default"))
                    .col(integer("position"))
                    .foreign_key(&mut owned_by("addresses", "user_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("addresses", &["user_id"], false))
            .await?;

        manager
            .create_table(
                entity_table("sessions")
                    .col(uuid("user_id"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .col(string_null("revoked_reason"))
                    .col(string_null("ip"))
                    .col(string_null("user_agent"))
                    .foreign_key(&mut owned_by("sessions", "user_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("sessions", &["user_id"], false))
            .await?;

        manager
            .create_table(
                entity_table("refresh_tokens")
                    .col(uuid("session_id"))
                    .col(string("token_hash"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("rotated_at"))
                    .foreign_key(&mut owned_by("refresh_tokens", "session_id", "sessions"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("refresh_tokens", &["token_hash"], true))
            .await?;
        manager
            .create_index(index("refresh_tokens", &["session_id"], false))
            .await?;

        manager
            .create_table(
                entity_table("login_attempts")
                    .col(uuid_null("user_id"))
                    .col(string("email"))
                    .col(boolean("success"))
                    .col(string_null("failure_reason"))
                    .col(string_null("ip"))
                    .col(string_null("user_agent"))
                    .foreign_key(&mut owned_by("login_attempts", "user_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("login_attempts", &["user_id", "created_at"], false))
            .await?;

        manager
            .create_table(
                entity_table("one_time_codes")
                    .col(uuid("user_id"))
                    .col(string("purpose"))
                    .col(string("code_hash"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone_null("consumed_at"))
                    .foreign_key(&mut owned_by("one_time_codes", "user_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "one_time_codes",
                &["user_id", "purpose", "created_at"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "one_time_codes",
            "login_attempts",
            "refresh_tokens",
            "sessions",
            "addresses",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
