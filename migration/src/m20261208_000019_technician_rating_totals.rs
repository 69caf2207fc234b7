//! Rating totals on technician profiles (the sum behind `rating_average`, the Bayesian average,
//! per-aspect sums and the 1-5 star counts) and the platform's totals the Bayesian prior is taken
//! from, all moved in the transaction that publishes or hides a review. Averages stored before
//! (demo data) are carried over as sums.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The profile columns this migration adds, all whole counts starting at 0 but the average.
const COUNTERS: [&str; 11] = [
    "rating_sum",
    "quality_sum",
    "punctuality_sum",
    "communication_sum",
    "value_sum",
    "professionalism_sum",
    "stars_1",
    "stars_2",
    "stars_3",
    "stars_4",
    "stars_5",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in COUNTERS {
            manager
                .alter_table(
                    Table::alter()
                        .table("technician_profiles")
                        .add_column(big_integer(column).default(0))
                        .take(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("technician_profiles")
                    .add_column(double("rating_bayesian").default(0.0))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("rating_totals")
                    // Whose ratings: TECHNICIANS (customers' reviews of technicians).
                    .col(string("subject").primary_key())
                    .col(big_integer("review_count"))
                    .col(big_integer("star_sum"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;
        // Ratings stored before reviews existed (demo data) keep their average: the sum behind it,
        // the average as their Bayesian one, and their share of the platform's totals.
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE technician_profiles SET rating_sum = CAST(ROUND(rating_average * rating_count) AS BIGINT), \
               rating_bayesian = rating_average WHERE rating_count > 0",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO rating_totals (subject, review_count, star_sum, updated_at) \
             SELECT 'TECHNICIANS', COALESCE(SUM(rating_count), 0), COALESCE(SUM(rating_sum), 0), CURRENT_TIMESTAMP \
             FROM technician_profiles",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("rating_totals").take())
            .await?;
        for column in COUNTERS.into_iter().chain(["rating_bayesian"]) {
            manager
                .alter_table(
                    Table::alter()
                        .table("technician_profiles")
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
