//! Live tracking: each booking's thinned location trail and its head (the last accepted point,
//! which orders, rate-limits and thins the points of one booking across replicas).

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
                entity_table("tracking_points")
                    .col(uuid("booking_id"))
                    .col(uuid("technician_id"))
                    .col(double("lat"))
                    .col(double("lng"))
                    .col(double_null("accuracy_m"))
                    .col(double_null("heading_deg"))
                    .col(double_null("speed_kmh"))
                    .col(timestamp_with_time_zone("recorded_at"))
                    .foreign_key(&mut owned_by("tracking_points", "booking_id", "bookings"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "tracking_points",
                &["booking_id", "recorded_at"],
                false,
            ))
            .await?;

        // One row per booking, keyed by it. Times are unix milliseconds so that the compare-and-set
        // on them is an exact integer match on both SQLite and PostgreSQL.
        manager
            .create_table(
                Table::create()
                    .table("tracking_heads")
                    .col(pk_uuid("booking_id"))
                    .col(uuid("technician_id"))
                    .col(double("lat"))
                    .col(double("lng"))
                    .col(double_null("accuracy_m"))
                    .col(double_null("heading_deg"))
                    .col(double_null("speed_kmh"))
                    .col(big_integer("recorded_ms"))
                    .col(big_integer("accepted_ms"))
                    .col(big_integer("trail_ms"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut owned_by("tracking_heads", "booking_id", "bookings"))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("tracking_heads").take())
            .await?;
        manager
            .drop_table(Table::drop().table("tracking_points").take())
            .await?;
        Ok(())
    }
}
