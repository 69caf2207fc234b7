//! Technicians: the service catalogue, profiles with skills and certifications, working hours, KYC
//! submissions and documents, customers' blocks, and matching settings. The default categories are
//! seeded by the application on start, not here, so ids and timestamps come from one place.

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
                entity_table("service_categories")
                    .col(string("slug"))
                    .col(string("name"))
                    .col(text("description"))
                    .col(boolean("active"))
                    .col(big_integer("default_hourly_rate_minor"))
                    .col(string("currency"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("service_categories", &["slug"], true))
            .await?;

        manager
            .create_table(
                entity_table("technician_profiles")
                    .col(text("bio"))
                    .col(integer("years_of_experience"))
                    .col(big_integer("hourly_rate_minor"))
                    .col(string("currency"))
                    .col(double("service_radius_km"))
                    .col(double_null("base_lat"))
                    .col(double_null("base_lng"))
                    .col(string("time_zone"))
                    .col(string("kyc_status"))
                    .col(string("availability"))
                    .col(double_null("live_lat"))
                    .col(double_null("live_lng"))
                    .col(double_null("live_accuracy_m"))
                    .col(double_null("live_heading_deg"))
                    .col(double_null("live_speed_kmh"))
                    .col(timestamp_with_time_zone_null("live_at"))
                    .col(double("rating_average"))
                    .col(integer("rating_count"))
                    .col(integer("jobs_completed"))
                    .col(integer("jobs_withdrawn"))
                    .col(integer("jobs_cancelled"))
                    .col(integer_null("median_response_secs"))
                    .foreign_key(&mut owned_by("technician_profiles", "id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "technician_profiles",
                &["kyc_status", "availability"],
                false,
            ))
            .await?;

        manager
            .create_table(
                entity_table("technician_skills")
                    .col(uuid("technician_id"))
                    .col(uuid("category_id"))
                    .col(integer("years"))
                    .foreign_key(&mut owned_by(
                        "technician_skills",
                        "technician_id",
                        "technician_profiles",
                    ))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .name("fk_technician_skills_category_id")
                            .from("technician_skills", "category_id")
                            .to("service_categories", "id")
                            .on_delete(ForeignKeyAction::Restrict)
                            .take(),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "technician_skills",
                &["technician_id", "category_id"],
                true,
            ))
            .await?;

        manager
            .create_table(
                entity_table("certifications")
                    .col(uuid("technician_id"))
                    .col(string("name"))
                    .col(string("issuer"))
                    .col(integer_null("year"))
                    .col(integer("position"))
                    .foreign_key(&mut owned_by(
                        "certifications",
                        "technician_id",
                        "technician_profiles",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("certifications", &["technician_id"], false))
            .await?;

        manager
            .create_table(
                entity_table("working_hours")
                    .col(uuid("technician_id"))
                    .col(integer("weekday"))
                    .col(integer("start_minute"))
                    .col(integer("end_minute"))
                    .foreign_key(&mut owned_by(
                        "working_hours",
                        "technician_id",
                        "technician_profiles",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("working_hours", &["technician_id"], false))
            .await?;

        manager
            .create_table(
                entity_table("availability_exceptions")
                    .col(uuid("technician_id"))
                    .col(string("date"))
                    .col(string("kind"))
                    .col(integer_null("start_minute"))
                    .col(integer_null("end_minute"))
                    .col(string_null("note"))
                    .foreign_key(&mut owned_by(
                        "availability_exceptions",
                        "technician_id",
                        "technician_profiles",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "availability_exceptions",
                &["technician_id", "date"],
                false,
            ))
            .await?;

        manager
            .create_table(
                entity_table("technician_blocks")
                    .col(uuid("customer_id"))
                    .col(uuid("technician_id"))
                    .foreign_key(&mut owned_by("technician_blocks", "customer_id", "users"))
                    .foreign_key(&mut owned_by("technician_blocks", "technician_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "technician_blocks",
                &["customer_id", "technician_id"],
                true,
            ))
            .await?;

        manager
            .create_table(
                entity_table("kyc_submissions")
                    .col(uuid("technician_id"))
                    .col(string("status"))
                    .col(text_null("feedback"))
                    .col(uuid_null("reviewed_by"))
                    .col(timestamp_with_time_zone_null("reviewed_at"))
                    .foreign_key(&mut owned_by(
                        "kyc_submissions",
                        "technician_id",
                        "technician_profiles",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("kyc_submissions", &["status", "created_at"], false))
            .await?;
        manager
            .create_index(index("kyc_submissions", &["technician_id"], false))
            .await?;

        manager
            .create_table(
                entity_table("kyc_documents")
                    .col(uuid("technician_id"))
                    .col(uuid("submission_id"))
                    .col(string("kind"))
                    .col(string("storage_key"))
                    .col(string("content_type"))
                    .col(big_integer("size_bytes"))
                    .col(string("sha256"))
                    .foreign_key(&mut owned_by(
                        "kyc_documents",
                        "technician_id",
                        "technician_profiles",
                    ))
                    .foreign_key(&mut owned_by(
                        "kyc_documents",
                        "submission_id",
                        "kyc_submissions",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("kyc_documents", &["submission_id"], false))
            .await?;

        manager
            .create_table(
                entity_table("kyc_events")
                    .col(uuid("technician_id"))
                    .col(string_null("from_status"))
                    .col(string("to_status"))
                    .col(uuid_null("actor_id"))
                    .col(text_null("note"))
                    .foreign_key(&mut owned_by(
                        "kyc_events",
                        "technician_id",
                        "technician_profiles",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("kyc_events", &["technician_id"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("settings")
                    .col(string("key").primary_key())
                    .col(text("value"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                entity_table("customer_preferences")
                    .col(text_null("matching_weights"))
                    .foreign_key(&mut owned_by("customer_preferences", "id", "users"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "customer_preferences",
            "settings",
            "kyc_events",
            "kyc_documents",
            "kyc_submissions",
            "technician_blocks",
            "availability_exceptions",
            "working_hours",
            "certifications",
            "technician_skills",
            "technician_profiles",
            "service_categories",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
