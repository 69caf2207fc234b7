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

/// What kind of thing happened; clients switch on it to pick an icon or a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EmailVerified,
    PasswordChanged,
    NewSignIn,
    TwoFactorChanged,
    KycSubmitted,
    KycApproved,
    KycRejected,
    BookingUpdate,
    QuoteUpdate,
    PayoutMethodChanged,
    WithdrawalUpdate,
    RefundUpdate,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::EmailVerified => "EMAIL_VERIFIED",
            Kind::PasswordChanged => "PASSWORD_CHANGED",
            Kind::NewSignIn => "NEW_SIGN_IN",
            Kind::TwoFactorChanged => "TWO_FACTOR_CHANGED",
            Kind::KycSubmitted => "KYC_SUBMITTED",
            Kind::KycApproved => "KYC_APPROVED",
            Kind::KycRejected => "KYC_REJECTED",
            Kind::BookingUpdate => "BOOKING_UPDATE",
            Kind::QuoteUpdate => "QUOTE_UPDATE",
            Kind::PayoutMethodChanged => "PAYOUT_METHOD_CHANGED",
            Kind::WithdrawalUpdate => "WITHDRAWAL_UPDATE",
            Kind::RefundUpdate => "REFUND_UPDATE",
        }
    }
}

/// A notification as db_notifications and as carried on the bus.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotificationView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
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
        kind: new.kind.as_str().into(),
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
