//! In-app notifications: written with the change that caused them, published through the outbox, listed and marked read.

use crate::db::entities::notification;
use crate::db::notifications::in_app as db_notifications;
use crate::error::{AppError, AppResult};
use crate::realtime::{Topic, outbox};
use crate::services::platform::pagination::{Page, Slice};
use crate::services::{Effects, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// Every service that notifies names the kind from here, beside `create`.
pub use crate::domain::notifications::Kind;

/// A notification as db_notifications and as carried on the bus.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotificationView {
    pub id: Uuid,
    pub user_id: Uuid,
    #[serde(with = "crate::db::stored::by_name")]
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub data: Option<serde_json::Value>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<notification::Model> for NotificationView {
    fn from(m: notification::Model) -> Self {
        NotificationView {
            id: m.id,
            user_id: m.user_id,
            kind: m.kind,
            title: m.title,
            body: m.body,
            data: m.data.and_then(|d| serde_json::from_str(&d).ok()),
            read_at: m.read_at,
            created_at: m.created_at,
        }
    }
}

pub struct NewNotification {
    pub user_id: Uuid,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub data: Option<serde_json::Value>,
}

impl NewNotification {
    pub fn new(
        user_id: Uuid,
        kind: Kind,
        title: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        NewNotification {
            user_id,
            kind,
            title: title.into(),
            body: body.into(),
            data: None,
        }
    }
}

/// Stores a notification and its `notificationAdded` event in the caller's transaction.
pub async fn create(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    new: NewNotification,
) -> AppResult<NotificationView> {
    let user_id = new.user_id;
    let row = notification::Model {
        id: Uuid::now_v7(),
        user_id,
        kind: new.kind,
        title: new.title,
        body: new.body,
        data: new.data.map(|d| d.to_string()),
        read_at: None,
        created_at: now,
        updated_at: now,
    };
    let view = NotificationView::from(db_notifications::insert(txn, row).await?);
    outbox::enqueue(
        txn,
        Topic::UserNotifications(user_id),
        &serde_json::to_value(&view).map_err(AppError::internal)?,
    )
    .await?;
    effects.event();
    Ok(view)
}

/// The viewer's notifications, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    page: Page,
    unread_only: bool,
) -> AppResult<Slice<NotificationView>> {
    let rows =
        db_notifications::list_for_user(db, user_id, unread_only, page.after, page.limit + 1)
            .await?;
    Ok(Slice::from_probe(
        rows.into_iter().map(Into::into).collect(),
        page.limit,
    ))
}

/// How many notifications `list` pages through, in one statement.
pub async fn count(db: &impl ConnectionTrait, user_id: Uuid, unread_only: bool) -> AppResult<u64> {
    Ok(db_notifications::count_for_user(db, user_id, unread_only).await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<NotificationView>> {
    Ok(db_notifications::by_id(db, id).await?.map(Into::into))
}

/// A notification of the viewer's own (staff see only theirs too); None when missing or not theirs.
pub async fn visible(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<NotificationView>> {
    Ok(find(db, id).await?.filter(|n| n.user_id == viewer.user_id))
}

/// Marks the given notifications read; ids that are not the viewer's are ignored. Returns how many changed.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(db_notifications::mark_read(db, user_id, ids, now).await?)
}

pub async fn unread_count(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<u64> {
    Ok(db_notifications::count_unread(db, user_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A `notificationAdded` payload as the release before the kind was an enum wrote it.
    fn recorded() -> serde_json::Value {
        json!({
            "id": "01966a4e-0000-7000-8000-000000000101",
            "user_id": "01966a4e-0000-7000-8000-0000000000c1",
            "kind": "KYC_APPROVED",
            "title": "Identity verified",
            "body": "Your documents were approved. Customers can now be matched with you.",
            "data": { "kycStatus": "APPROVED" },
            "read_at": null,
            "created_at": "2026-11-02T09:30:00Z"
        })
    }

    #[test]
    fn a_notification_on_the_bus_is_written_and_read_as_before() {
        let view = NotificationView {
            id: "01966a4e-0000-7000-8000-000000000101".parse().unwrap(),
            user_id: "01966a4e-0000-7000-8000-0000000000c1".parse().unwrap(),
            kind: Kind::KycApproved,
            title: "Identity verified".into(),
            body: "Your documents were approved. Customers can now be matched with you.".into(),
            data: Some(json!({ "kycStatus": "APPROVED" })),
            read_at: None,
            created_at: "2026-11-02T09:30:00Z".parse().unwrap(),
        };
        assert_eq!(serde_json::to_value(&view).unwrap(), recorded());
        assert_eq!(
            serde_json::from_value::<NotificationView>(recorded()).unwrap(),
            view
        );
    }

    #[test]
    fn a_notification_of_an_unknown_kind_is_not_read() {
        let mut payload = recorded();
        payload["kind"] = json!("KYC_PENDING");
        let error = serde_json::from_value::<NotificationView>(payload)
            .unwrap_err()
            .to_string();
        assert!(error.contains("\"KYC_PENDING\""), "{error}");
    }
}
