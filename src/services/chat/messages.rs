//! Booking chat: sending messages (idempotent by client id, persisted before they are published),
//! the SYSTEM timeline lines, typing, attachments and retention. Who takes part is `conversation`'s.

use crate::db::chat::messages as rows;
use crate::db::entities::{booking, message};
use crate::db::{begin_write, is_unique_violation};
use crate::domain::booking_state::{Role as ActorRole, Status};
use crate::domain::chat::{self as rules, MessageDraft, MessageKind};
use crate::domain::geo::LatLng;
use crate::error::{AppError, AppResult};
use crate::realtime::{BusMessage, Topic, outbox};
use crate::services::chat::conversation::{Conversation, conversation};
use crate::services::chat::events::{ChatBusEvent, ChatEvent};
use crate::services::chat::history;
use crate::services::platform::storage::{self, LinkKind};
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use object_store::path::Path as StorePath;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

fn close_after(services: &Services) -> chrono::Duration {
    chrono::Duration::days(services.config.realtime.chat_close_after_days)
}

/// Whether the booking's conversation takes new messages now.
pub fn accepts_messages(services: &Services, booking: &booking::Model) -> AppResult<()> {
    rules::accepts_messages(
        booking.status,
        booking.technician_id.is_some(),
        booking.status_changed_at,
        services.clock.now(),
        close_after(services),
    )
    .map_err(|closed| AppError::Forbidden(closed.message().into()))
}

/// When a finished job's conversation stops taking messages; None while the job goes on.
pub fn closes_at(services: &Services, booking: &booking::Model) -> Option<DateTime<Utc>> {
    booking
        .status
        .job_is_over()
        .then(|| booking.status_changed_at + close_after(services))
}

/// A message as a client sends it, before any check.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub kind: MessageKind,
    pub body: Option<String>,
    pub image: Option<Vec<u8>>,
    pub location: Option<LatLng>,
    pub client_message_id: Option<String>,
}

/// A message that passed every check, ready to store.
struct CheckedMessage {
    kind: MessageKind,
    body: Option<String>,
    image: Option<(Vec<u8>, &'static str)>,
    location: Option<LatLng>,
    client_message_id: Option<String>,
}

/// The kind's rules (`domain::chat::check_message`), then the image's bytes (`storage::check_image`).
fn check(input: NewMessage) -> AppResult<CheckedMessage> {
    let checked = rules::check_message(MessageDraft {
        kind: input.kind,
        body: input.body,
        attachment: input.image,
        location: input.location,
        client_message_id: input.client_message_id,
    })?;
    let image = checked
        .attachment
        .map(|bytes| storage::check_image("attachment", &bytes).map(|kind| (bytes, kind)))
        .transpose()?;
    Ok(CheckedMessage {
        kind: checked.kind,
        body: checked.body,
        image,
        location: checked.location,
        client_message_id: checked.client_message_id,
    })
}

/// Sends a message. A resend with the same clientMessageId returns the first message unchanged.
/// Returns the conversation as the viewer may use it beside the message, so the caller need not
/// read the booking again.
pub async fn send(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    input: NewMessage,
) -> AppResult<(Conversation, message::Model)> {
    let conversation = conversation(services, viewer, booking_id).await?;
    let message = send_in(services, viewer, &conversation, input).await?;
    Ok((conversation, message))
}

async fn send_in(
    services: &Services,
    viewer: &Viewer,
    conversation: &Conversation,
    input: NewMessage,
) -> AppResult<message::Model> {
    let booking_id = conversation.id();
    let checked = check(input)?;
    if let Some(existing) = find_resend(
        &services.db,
        booking_id,
        viewer.user_id,
        &checked.client_message_id,
    )
    .await?
    {
        return Ok(existing);
    }
    accepts_messages(services, &conversation.booking)?;
    let now = services.clock.now();
    let id = Uuid::now_v7();
    let attachment = match &checked.image {
        Some((bytes, content_type)) => {
            Some(store_image(services, booking_id, id, bytes, content_type).await?)
        }
        None => None,
    };
    let row = message::Model {
        id,
        booking_id,
        seq: 0,
        sender_id: Some(viewer.user_id),
        sender_role: conversation.viewer_role,
        kind: checked.kind,
        body: checked.body,
        lat: checked.location.map(LatLng::lat),
        lng: checked.location.map(LatLng::lng),
        attachment_key: attachment.clone(),
        attachment_type: checked.image.as_ref().map(|i| i.1.to_string()),
        attachment_size: checked.image.as_ref().map(|i| i.0.len() as i64),
        client_message_id: checked.client_message_id.clone(),
        created_at: now,
        updated_at: now,
    };
    let mut effects = Effects::default();
    let stored = async {
        let txn = begin_write(&services.db).await?;
        let stored = insert(&txn, &mut effects, conversation.booking.version, row).await?;
        // The sender has seen what they wrote.
        history::advance_own(&txn, booking_id, viewer.user_id, stored.seq, now).await?;
        txn.commit().await?;
        Ok::<_, AppError>(stored)
    }
    .await;
    match stored {
        Ok(stored) => {
            services.after_commit(effects);
            Ok(stored)
        }
        Err(e) => {
            if let Some(key) = &attachment {
                let _ = services
                    .storage
                    .delete(&StorePath::from(key.as_str()))
                    .await;
            }
            // Two resends raced; the loser returns the winner's message.
            if let AppError::Internal(inner) = &e
                && inner
                    .downcast_ref::<sea_orm::DbErr>()
                    .is_some_and(is_unique_violation)
                && let Some(existing) = find_resend(
                    &services.db,
                    booking_id,
                    viewer.user_id,
                    &checked.client_message_id,
                )
                .await?
            {
                return Ok(existing);
            }
            Err(e)
        }
    }
}

async fn find_resend(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    sender: Uuid,
    client_message_id: &Option<String>,
) -> AppResult<Option<message::Model>> {
    let Some(client_id) = client_message_id else {
        return Ok(None);
    };
    Ok(rows::by_client_id(db, booking_id, sender, client_id).await?)
}

async fn store_image(
    services: &Services,
    booking_id: Uuid,
    message_id: Uuid,
    bytes: &[u8],
    content_type: &str,
) -> AppResult<String> {
    let extension = content_type.trim_start_matches("image/");
    let key = format!("chat/{booking_id}/{message_id}.{extension}");
    services
        .storage
        .put(
            &StorePath::from(key.as_str()),
            bytes::Bytes::copy_from_slice(bytes).into(),
        )
        .await
        .map_err(AppError::internal)?;
    Ok(key)
}

/// Numbers `row` as the conversation's next message, stores it and queues its event, stamped with
/// the booking's version the message was accepted under.
async fn insert(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    booking_version: i32,
    mut row: message::Model,
) -> AppResult<message::Model> {
    // The counter's upsert takes the conversation's row lock, so messages are numbered in commit order.
    row.seq = rows::next_seq(txn, row.booking_id, row.created_at)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("message counter returned no row")))?;
    rows::insert(txn, row.clone()).await?;
    outbox::enqueue(
        txn,
        Topic::Chat(row.booking_id),
        &ChatBusEvent::message_added(booking_version, &row).to_payload()?,
    )
    .await?;
    effects.event();
    Ok(row)
}

/// Adds the SYSTEM line for a status change, once the booking has a technician to talk to.
pub async fn record_status(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
    to: Status,
) -> AppResult<()> {
    if booking.technician_id.is_none() {
        return Ok(());
    }
    let row = message::Model {
        id: Uuid::now_v7(),
        booking_id: booking.id,
        seq: 0,
        sender_id: None,
        sender_role: ActorRole::System,
        kind: MessageKind::System,
        body: Some(rules::timeline_text(to).into()),
        lat: None,
        lng: None,
        attachment_key: None,
        attachment_type: None,
        attachment_size: None,
        client_message_id: None,
        created_at: now,
        updated_at: now,
    };
    insert(txn, effects, booking.version, row).await?;
    Ok(())
}

/// Tells the other side the viewer is (or stopped) typing. Nothing is stored; subscribers drop the
/// indicator when it is not renewed within five seconds.
pub async fn set_typing(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    typing: bool,
) -> AppResult<bool> {
    let conversation = conversation(services, viewer, booking_id).await?;
    accepts_messages(services, &conversation.booking)?;
    let event = ChatEvent::Typing {
        user_id: viewer.user_id,
        typing,
    };
    let message = BusMessage::new(
        Topic::Chat(booking_id).key(),
        None,
        ChatBusEvent::new(conversation.booking.version, event).to_payload()?,
    );
    services.bus.publish(message).await.map_err(|e| {
        tracing::warn!(error = %e, "typing indicator not published");
        AppError::internal(e)
    })?;
    Ok(typing)
}

/// A short-lived link to a message's image, for someone who may read the conversation.
pub fn attachment_link(
    services: &Services,
    message: &message::Model,
) -> Option<storage::SignedLink> {
    message.attachment_key.as_ref()?;
    Some(storage::download_link(
        services.config.jwt_secret_bytes(),
        LinkKind::ChatAttachment,
        message.id,
        services.clock.now(),
    ))
}

/// Opens a message's image for a signed link; the link is the permission.
pub async fn open_attachment(
    services: &Services,
    message_id: Uuid,
    expires: i64,
    sig: &str,
) -> AppResult<storage::Download> {
    let now = services.clock.now();
    if !storage::link_is_valid(
        services.config.jwt_secret_bytes(),
        LinkKind::ChatAttachment,
        message_id,
        expires,
        sig,
        now,
    ) {
        return Err(AppError::Forbidden(
            "this download link is invalid or has expired".into(),
        ));
    }
    let row = rows::by_id(&services.db, message_id).await?;
    let (Some(key), Some(content_type)) = (
        row.as_ref().and_then(|r| r.attachment_key.clone()),
        row.as_ref().and_then(|r| r.attachment_type.clone()),
    ) else {
        return Err(AppError::NotFound("attachment".into()));
    };
    let filename = format!("image.{}", content_type.trim_start_matches("image/"));
    storage::open(
        services.storage.as_ref(),
        &key,
        content_type,
        filename,
        "attachment",
    )
    .await
}

/// Deletes messages older than the retention period, their images first; returns how many went.
pub async fn purge_expired(services: &Services) -> AppResult<usize> {
    let cutoff =
        services.clock.now() - chrono::Duration::days(services.config.realtime.chat_retention_days);
    let mut purged = 0;
    loop {
        let batch = rows::created_before(&services.db, cutoff, 500).await?;
        if batch.is_empty() {
            return Ok(purged);
        }
        for key in batch.iter().filter_map(|m| m.attachment_key.as_deref()) {
            match services.storage.delete(&StorePath::from(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(AppError::internal(e)),
            }
        }
        let ids: Vec<Uuid> = batch.iter().map(|m| m.id).collect();
        let txn = services.db.begin().await?;
        rows::delete(&txn, ids).await?;
        txn.commit().await?;
        purged += batch.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: MessageKind) -> NewMessage {
        NewMessage {
            kind,
            body: None,
            image: None,
            location: None,
            client_message_id: None,
        }
    }

    fn field_of(result: AppResult<CheckedMessage>) -> String {
        match result {
            Err(AppError::BadInput { field, .. }) => field,
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => "accepted".into(),
        }
    }

    #[test]
    fn each_kind_carries_what_it_needs_and_nothing_else() {
        let png = vec![
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
        ];
        let text = |body: &str| NewMessage {
            body: Some(body.into()),
            ..input(MessageKind::Text)
        };
        let cases: Vec<(&str, NewMessage, &str)> = vec![
            ("text", text("On my way"), "accepted"),
            ("empty text", text("   "), "body"),
            ("text at limit", text(&"x".repeat(4000)), "accepted"),
            ("text too long", text(&"x".repeat(4001)), "body"),
            (
                "text with location",
                NewMessage {
                    location: LatLng::new(0.0, 0.0).ok(),
                    ..text("hi")
                },
                "location",
            ),
            (
                "image without file",
                input(MessageKind::Image),
                "attachment",
            ),
            (
                "image",
                NewMessage {
                    image: Some(png.clone()),
                    ..input(MessageKind::Image)
                },
                "accepted",
            ),
            (
                "image that is text",
                NewMessage {
                    image: Some(b"hello there, not an image".to_vec()),
                    ..input(MessageKind::Image)
                },
                "attachment",
            ),
            (
                "location",
                NewMessage {
                    location: LatLng::new(-1.29, 36.82).ok(),
                    ..input(MessageKind::Location)
                },
                "accepted",
            ),
            ("location missing", input(MessageKind::Location), "location"),
            ("system", input(MessageKind::System), "kind"),
            (
                "blank client id",
                NewMessage {
                    client_message_id: Some(" ".into()),
                    ..text("hi")
                },
                "clientMessageId",
            ),
        ];
        for (name, message, expected) in cases {
            assert_eq!(field_of(check(message)), expected, "{name}");
        }
    }
}
