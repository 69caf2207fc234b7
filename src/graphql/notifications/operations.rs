//! Notification queries, mutations and the `notificationAdded` subscription.

use crate::error::AppError;
use crate::graphql::common::{Counted, TotalCount, connection};
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::live::Live;
use crate::realtime::{SubscriptionItem, Topic};
use crate::services::notifications::in_app::{self as notification_service, NotificationView};
use crate::services::platform::pagination::Page;
use async_graphql::{Context, ID, Json, Object, Result, Subscription};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;

pub struct Notification(pub NotificationView);

#[Object]
impl Notification {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Notification, self.0.id)
    }
    /// What happened, e.g. EMAIL_VERIFIED, PASSWORD_CHANGED, NEW_SIGN_IN.
    async fn kind(&self) -> &str {
        self.0.kind.as_str()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Extra structured detail for the client, such as the id of the object concerned.
    async fn data(&self) -> Option<Json<serde_json::Value>> {
        self.0.data.clone().map(Json)
    }
    async fn read(&self) -> bool {
        self.0.read_at.is_some()
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The viewer's notifications, newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        unread_only: Option<bool>,
    ) -> Result<Counted<Notification>> {
        let viewer = viewer(ctx).await?;
        let page = Page::parse(first, after.as_deref())?;
        let unread_only = unread_only.unwrap_or(false);
        let db = services(ctx).db.clone();
        let slice = notification_service::list(&db, viewer.user_id, page, unread_only).await?;
        let total = TotalCount::new(move || {
            let db = db.clone();
            async move { notification_service::count(&db, viewer.user_id, unread_only).await }
        });
        Ok(connection(
            slice,
            page.after.is_some(),
            total,
            |n| n.id,
            Notification,
        ))
    }

    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let viewer = viewer(ctx).await?;
        Ok(notification_service::unread_count(&services(ctx).db, viewer.user_id).await?)
    }
}

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks the viewer's notifications read and returns how many changed; others' ids are ignored.
    async fn mark_notifications_read(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<u64> {
        let viewer = viewer(ctx).await?;
        if ids.len() > 100 {
            return Err(AppError::bad_input("ids", "at most 100 ids at once").into());
        }
        let uuids = ids
            .iter()
            .map(|id| ids::decode(Kind::Notification, id, "ids"))
            .collect::<Result<Vec<_>, _>>()?;
        let services = services(ctx);
        Ok(notification_service::mark_read(
            &services.db,
            viewer.user_id,
            &uuids,
            services.clock.now(),
        )
        .await?)
    }
}

#[derive(Default)]
pub struct NotificationSubscription;

#[Subscription]
impl NotificationSubscription {
    /// New notifications for the viewer, as they are created.
    async fn notification_added(&self, ctx: &Context<'_>) -> Result<Live<Notification>> {
        let viewer = viewer(ctx).await?;
        let subscription = services(ctx)
            .bus
            .subscribe(&Topic::UserNotifications(viewer.user_id).key());
        let added = subscription.map(|item| match item {
            SubscriptionItem::Message(message) => {
                serde_json::from_value::<NotificationView>(message.payload.clone())
                    .map(Notification)
                    .map_err(|e| AppError::internal(e).into())
            }
            SubscriptionItem::Lagged { missed } => Err(lagged(missed)),
        });
        Ok(Live::own(added))
    }
}

/// Told to a subscriber that fell behind: it should resubscribe and refetch with a query.
pub fn lagged(missed: u64) -> async_graphql::Error {
    AppError::RateLimited {
        message: format!("subscriber fell behind by {missed} events; resubscribe and refetch"),
        retry_after_secs: 0,
    }
    .into()
}
