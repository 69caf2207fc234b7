//! The `reviews` table.

use crate::domain::reviews::Direction;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub booking_id: Uuid,
    pub author_id: Uuid,
    pub subject_id: Uuid,
    pub technician_id: Uuid,
    pub direction: Direction,
    pub rating: i32,
    pub quality: Option<i32>,
    pub punctuality: Option<i32>,
    pub communication: Option<i32>,
    pub value: Option<i32>,
    pub professionalism: Option<i32>,
    pub comment: Option<String>,
    pub published_at: Option<DateTimeUtc>,
    pub hidden_at: Option<DateTimeUtc>,
    pub hidden_reason: Option<String>,
    pub response: Option<String>,
    pub responded_at: Option<DateTimeUtc>,
    pub helpful_count: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
