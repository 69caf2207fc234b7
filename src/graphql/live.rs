//! The one way a subscription reaches its subscriber: every event is checked against the viewer's
//! current right to see it before it is delivered, and the stream ends with NOT_FOUND the moment
//! that right is gone. Every `#[Subscription]` field returns a [`Live`]; a test below holds them to it.

use super::context::services;
use crate::error::AppError;
use crate::realtime::{Subscription as BusSubscription, Topic};
use crate::services::{Services, Viewer, bookings::live_access};
use async_graphql::{Context, Result};
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use std::pin::Pin;
use std::task::Poll;
use uuid::Uuid;

/// One event of a booking's subscription, with the booking's version when the event was produced
/// (0 for one made here, such as a typing indicator lapsing). A replica whose copy of the booking is
/// older reads it again before judging the event: events on the booking's other topics can overtake
/// the change that took the viewer's part away.
pub struct BookingEvent<T> {
    pub booking_version: i32,
    pub event: T,
}

/// A subscription's events as delivered, checked one by one against the viewer's right to them.
pub struct Live<T>(BoxStream<'static, Result<T>>);

impl<T: Send + 'static> Live<T> {
    /// Events addressed to the viewer's own account (their notifications, their offers). The right
    /// is the session itself: the connection is bound to it and closes when it ends or expires.
    pub fn own(events: impl Stream<Item = Result<T>> + Send + 'static) -> Live<T> {
        Live(events.boxed())
    }

    /// One booking's events, for as long as the viewer takes part in it (its customer, its current
    /// technician) or is staff. The right is lost when the booking changes hands, e.g. when its
    /// technician rejects or is replaced.
    pub fn booking(
        ctx: &Context<'_>,
        viewer: Viewer,
        booking_id: Uuid,
        events: impl Stream<Item = Result<BookingEvent<T>>> + Send + 'static,
    ) -> Live<T> {
        Live::booking_with_receipt(ctx, viewer, booking_id, events, |_| {})
    }

    /// Like `booking`, calling `receipt` for each event only once it has passed the check, for
    /// effects of delivery (a chat message counts as delivered to whoever receives it).
    pub fn booking_with_receipt(
        ctx: &Context<'_>,
        viewer: Viewer,
        booking_id: Uuid,
        events: impl Stream<Item = Result<BookingEvent<T>>> + Send + 'static,
        receipt: impl FnMut(&T) + Send + 'static,
    ) -> Live<T> {
        let services = services(ctx).clone();
        let changes = services.bus.subscribe(&Topic::Booking(booking_id).key());
        let watch = Watch {
            services,
            viewer,
            booking_id,
            changes,
            events: events.boxed(),
            ended: false,
        };
        Live(watch.into_stream().map(with(receipt)).boxed())
    }
}

fn with<T>(mut receipt: impl FnMut(&T)) -> impl FnMut(Result<T>) -> Result<T> {
    move |item| {
        if let Ok(event) = &item {
            receipt(event);
        }
        item
    }
}

impl<T> Stream for Live<T> {
    type Item = Result<T>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        self.0.poll_next_unpin(cx)
    }
}

/// A booking-scoped subscription with the booking's change events beside it: a change is looked at
/// first (so a message published after the change that took the right away is never delivered), and
/// ends the stream at once when the viewer no longer takes part.
struct Watch<T> {
    services: Services,
    viewer: Viewer,
    booking_id: Uuid,
    changes: BusSubscription,
    events: BoxStream<'static, Result<BookingEvent<T>>>,
    ended: bool,
}

impl<T: Send + 'static> Watch<T> {
    fn into_stream(self) -> impl Stream<Item = Result<T>> + Send + 'static {
        futures_util::stream::unfold(self, |mut watch| async move {
            if watch.ended {
                return None;
            }
            let item = watch.next().await?;
            Some((item, watch))
        })
    }

    async fn next(&mut self) -> Option<Result<T>> {
        loop {
            tokio::select! {
                biased;
                change = self.changes.next() => {
                    if change.is_none() {
                        // The change feed ended after falling behind: follow it afresh.
                        self.changes = self.services.bus.subscribe(&Topic::Booking(self.booking_id).key());
                    }
                    // The cache saw this change too and reads the booking afresh.
                    if let Err(refusal) = self.check(0).await {
                        return Some(Err(refusal));
                    }
                }
                event = self.events.next() => {
                    return Some(match event? {
                        Ok(BookingEvent { booking_version, event }) => {
                            self.check(booking_version).await.map(|()| event)
                        }
                        Err(error) => self.check(0).await.and(Err(error)),
                    });
                }
            }
        }
    }

    /// Ok while the viewer may see the booking as of `event_version`; otherwise the error that
    /// ends the stream.
    async fn check(&mut self, event_version: i32) -> Result<(), async_graphql::Error> {
        let refusal = match live_access::may_watch(
            &self.services,
            &self.viewer,
            self.booking_id,
            event_version,
        )
        .await
        {
            Ok(true) => return Ok(()),
            Ok(false) => AppError::NotFound("booking".into()),
            Err(e) => e,
        };
        self.ended = true;
        Err(refusal.into())
    }
}

#[cfg(test)]
mod tests {
    /// Every subscription field in the schema's source returns `Live<…>`, so none can skip the
    /// per-event check, including ones added later.
    #[test]
    fn every_subscription_field_returns_live() {
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/graphql"
        ))];
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).expect("graphql sources") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if !path.ends_with("live.rs") {
                    files.push(path);
                }
            }
        }
        let mut fields = 0;
        for path in files {
            let source = std::fs::read_to_string(&path).expect("source");
            for block in source.split("#[Subscription]").skip(1) {
                let body = block.split("\n}\n").next().unwrap_or(block);
                for field in body.split("async fn ").skip(1) {
                    let signature = field.split(" {\n").next().unwrap_or(field);
                    assert!(
                        signature.contains("Result<Live<"),
                        "{}: subscription `{}` must return Result<Live<…>>",
                        path.display(),
                        signature.split('(').next().unwrap_or(signature)
                    );
                    fields += 1;
                }
            }
        }
        assert!(fields >= 6, "found only {fields} subscription fields");
    }
}
