//! Reviews: one per side of a finished job, the window each booking's reviews are published
//! together at, helpful votes, reports and staff moderation. One review per side and one vote or
//! report per person are unique indexes, so concurrent requests cannot write two.

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
                entity_table("reviews")
                    .col(uuid("booking_id"))
                    .col(uuid("author_id"))
                    .col(uuid("subject_id"))
                    // The booking's technician: the subject of a customer's review, the author of
                    // a technician's.
                    .col(uuid("technician_id"))
                    // CUSTOMER_TO_TECHNICIAN or TECHNICIAN_TO_CUSTOMER.
                    .col(string("direction"))
                    .col(integer("rating"))
                    // The five aspects: set on a customer's review, NULL on a technician's.
                    .col(integer_null("quality"))
                    .col(integer_null("punctuality"))
                    .col(integer_null("communication"))
                    .col(integer_null("value"))
                    .col(integer_null("professionalism"))
                    .col(text_null("comment"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(timestamp_with_time_zone_null("hidden_at"))
                    .col(text_null("hidden_reason"))
                    .col(text_null("response"))
                    .col(timestamp_with_time_zone_null("responded_at"))
                    .col(integer("helpful_count").default(0))
                    .foreign_key(&mut owned_by("reviews", "booking_id", "bookings"))
                    .foreign_key(&mut owned_by("reviews", "author_id", "users"))
                    .foreign_key(&mut owned_by("reviews", "subject_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("reviews", &["booking_id", "author_id"], true))
            .await?;
        // A technician's public list and a customer's rating: by who the review is about.
        manager
            .create_index(index("reviews", &["subject_id", "id"], false))
            .await?;
        // What a searching customer wrote about each technician.
        manager
            .create_index(index("reviews", &["author_id", "subject_id"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("review_windows")
                    .col(pk_uuid("booking_id"))
                    // When the reviews written so far are published even if the other side never writes.
                    .col(timestamp_with_time_zone("closes_at"))
                    // Reviews written: both published together at the second.
                    .col(integer("submitted").default(0))
                    .col(timestamp_with_time_zone_null("reminded_at"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut owned_by("review_windows", "booking_id", "bookings"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "review_windows",
                &["published_at", "closes_at"],
                false,
            ))
            .await?;
        // Paid and refunded jobs by when they got there: the reminders' scan.
        manager
            .create_index(index("bookings", &["status", "status_changed_at"], false))
            .await?;

        manager
            .create_table(
                entity_table("review_votes")
                    .col(uuid("review_id"))
                    .col(uuid("voter_id"))
                    .foreign_key(&mut owned_by("review_votes", "review_id", "reviews"))
                    .foreign_key(&mut owned_by("review_votes", "voter_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("review_votes", &["review_id", "voter_id"], true))
            .await?;

        manager
            .create_table(
                entity_table("review_reports")
                    .col(uuid("review_id"))
                    .col(uuid("reporter_id"))
                    .col(text("reason"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .col(uuid_null("resolved_by"))
                    .foreign_key(&mut owned_by("review_reports", "review_id", "reviews"))
                    .foreign_key(&mut owned_by("review_reports", "reporter_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("review_reports", &["review_id", "reporter_id"], true))
            .await?;
        manager
            .create_index(index("review_reports", &["resolved_at", "id"], false))
            .await?;

        manager
            .create_table(
                entity_table("review_moderation")
                    .col(uuid("review_id"))
                    .col(uuid("actor_id"))
                    // HIDE or RESTORE.
                    .col(string("action"))
                    .col(text("reason"))
                    .foreign_key(&mut owned_by("review_moderation", "review_id", "reviews"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("review_moderation", &["review_id", "id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_bookings_status_status_changed_at")
                    .table("bookings")
                    .to_owned(),
            )
            .await?;
        for table in [
            "review_moderation",
            "review_reports",
            "review_votes",
            "review_windows",
            "reviews",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
