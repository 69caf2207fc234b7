//! The `messages` table: chat messages, numbered per booking by `seq`.

use crate::domain::booking_state::Role;
use crate::domain::chat::MessageKind;
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
    #[serde(with = "crate::db::stored::by_name")]
    pub sender_role: Role,
    #[serde(with = "crate::db::stored::by_name")]
    pub kind: MessageKind,
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
