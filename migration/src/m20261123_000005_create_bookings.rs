//! Bookings: service requests and their state, the transition log, job offers, quotes and disputes.

use crate::columns::{entity_table, index, owned_by};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A reference that must not dangle but must not take history with it when the target goes.
fn refers_to(
    table: &'static str,
    column: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                entity_table("bookings")
                    .col(uuid("customer_id"))
                    .col(uuid_null("technician_id"))
                    .col(uuid("category_id"))
                    .col(string("title"))
                    .col(text("description"))
                    .col(text("address"))
                    .col(double("lat"))
                    .col(double("lng"))
                    .col(string("priority"))
                    .col(big_integer("budget_min_minor"))
                    .col(big_integer("budget_max_minor"))
                    .col(string("currency"))
                    .col(timestamp_with_time_zone_null("scheduled_start"))
                    .col(integer("estimated_duration_minutes"))
                    .col(string("status"))
                    .col(integer("version"))
                    .col(string("start_code"))
                    .col(string("dispatch_mode"))
                    .col(big_integer("price_base"))
                    .col(big_integer("price_surge"))
                    .col(big_integer("price_platform_fee"))
                    .col(big_integer("price_tax"))
                    .col(big_integer("price_total"))
                    .col(big_integer("price_deposit"))
                    .col(big_integer_null("cancellation_fee_minor"))
                    .col(text_null("cancellation_reason"))
                    .col(string("idempotency_key"))
                    .col(timestamp_with_time_zone("status_changed_at"))
                    .col(timestamp_with_time_zone_null("accepted_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .col(timestamp_with_time_zone_null("paid_at"))
                    .foreign_key(&mut refers_to("bookings", "customer_id", "users"))
                    .foreign_key(&mut refers_to("bookings", "technician_id", "users"))
                    .foreign_key(&mut refers_to(
                        "bookings",
                        "category_id",
                        "service_categories",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("bookings", &["customer_id", "idempotency_key"], true))
            .await?;
        manager
            .create_index(index("bookings", &["customer_id", "id"], false))
            .await?;
        manager
            .create_index(index("bookings", &["technician_id", "status"], false))
            .await?;
        manager
            .create_index(index("bookings", &["status", "completed_at"], false))
            .await?;

        manager
            .create_table(
                entity_table("booking_events")
                    .col(uuid("booking_id"))
                    .col(string_null("from_status"))
                    .col(string("to_status"))
                    .col(uuid_null("actor_id"))
                    .col(string("actor_role"))
                    .col(text_null("reason"))
                    .foreign_key(&mut owned_by("booking_events", "booking_id", "bookings"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("booking_events", &["booking_id", "id"], false))
            .await?;

        manager
            .create_table(
                entity_table("job_offers")
                    .col(uuid("booking_id"))
                    .col(uuid("technician_id"))
                    .col(integer("rank"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone_null("offered_at"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("responded_at"))
                    .foreign_key(&mut owned_by("job_offers", "booking_id", "bookings"))
                    .foreign_key(&mut owned_by("job_offers", "technician_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("job_offers", &["booking_id", "technician_id"], true))
            .await?;
        manager
            .create_index(index("job_offers", &["technician_id", "status"], false))
            .await?;
        manager
            .create_index(index("job_offers", &["status", "expires_at"], false))
            .await?;

        manager
            .create_table(
                entity_table("quotes")
                    .col(uuid("booking_id"))
                    .col(uuid("technician_id"))
                    .col(string("status"))
                    .col(text("line_items"))
                    .col(big_integer("subtotal_minor"))
                    .col(string("currency"))
                    .col(timestamp_with_time_zone("valid_until"))
                    .col(text_null("note"))
                    .col(timestamp_with_time_zone_null("responded_at"))
                    .col(text_null("response_note"))
                    .foreign_key(&mut owned_by("quotes", "booking_id", "bookings"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("quotes", &["booking_id", "status"], false))
            .await?;

        manager
            .create_table(
                entity_table("disputes")
                    .col(uuid("booking_id"))
                    .col(uuid("opened_by"))
                    .col(string("reason"))
                    .col(text("details"))
                    .col(string("status"))
                    .col(string_null("outcome"))
                    .col(integer_null("customer_refund_percent"))
                    .col(text_null("resolution_note"))
                    .col(uuid_null("resolved_by"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .foreign_key(&mut owned_by("disputes", "booking_id", "bookings"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("disputes", &["booking_id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "disputes",
            "quotes",
            "job_offers",
            "booking_events",
            "bookings",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
