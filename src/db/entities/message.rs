//! The `messages` table: chat messages, numbered per booking by `seq`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub booking_id: Uuid,
    pub seq: i64,
    pub sender_id: Option<Uuid>,
    pub sender_role: String,
    pub kind: String,
    pub body: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub attachment_key: Option<String>,
    pub attachment_type: Option<String>,
    pub attachment_size: Option<i64>,
    pub client_message_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
