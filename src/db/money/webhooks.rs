//! webhook_events: the provider events already applied, one row per provider and event id.

use crate::db::entities::webhook_event;
use crate::domain::payments::WebhookProvider;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter};

/// The record of this provider's event.
pub async fn find(
    db: &impl ConnectionTrait,
    provider: WebhookProvider,
    event_id: &str,
) -> Result<Option<webhook_event::Model>, DbErr> {
    webhook_event::Entity::find()
        .filter(webhook_event::Column::Provider.eq(provider))
        .filter(webhook_event::Column::EventId.eq(event_id))
        .one(db)
        .await
}

/// Records an event; a unique violation (the event already recorded) comes back as the error.
pub async fn insert(db: &impl ConnectionTrait, row: webhook_event::Model) -> Result<(), DbErr> {
    webhook_event::Entity::insert(row.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}
