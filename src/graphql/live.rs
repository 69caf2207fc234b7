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

/// What gives the viewer the right to a subscription's events.
pub enum Right {
    /// Taking part in one booking (its customer, its current technician) or being staff. Lost when
    /// the booking changes hands, e.g. when its technician rejects or is replaced.
    Booking(Uuid),
    /// Events addressed to the viewer's own account (their notifications, their offers). The right
    /// is the session itself: the connection is bound to it and closes when it ends or expires.
    Own,
}

/// A subscription's events as delivered: checked one by one against a [`Right`].
pub struct Live<T>(BoxStream<'static, Result<T>>);

impl<T: Send + 'static> Live<T> {
    pub fn new(
        ctx: &Context<'_>,
        viewer: Viewer,
        right: Right,
        events: impl Stream<Item = Result<T>> + Send + 'static,
    ) -> Live<T> {
        Live::with_receipt(ctx, viewer, right, events, |_| {})
    }

    /// Like `new`, calling `receipt` for each event only once it has passed the check, for effects
    /// of delivery (a chat message counts as delivered to whoever receives it).
    pub fn with_receipt(
        ctx: &Context<'_>,
        viewer: Viewer,
        right: Right,
        events: impl Stream<Item = Result<T>> + Send + 'static,
        receipt: impl FnMut(&T) + Send + 'static,
    ) -> Live<T> {
        match right {
            Right::Own => Live(events.map(with(receipt)).boxed()),
            Right::Booking(booking_id) => {
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
    events: BoxStream<'static, Result<T>>,
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
                    if let Err(refusal) = self.check().await {
                        return Some(Err(refusal));
                    }
                }
                event = self.events.next() => {
                    let event = event?;
                    return Some(match self.check().await {
                        Ok(()) => event,
                        Err(refusal) => Err(refusal),
                    });
                }
            }
        }
    }

    /// Ok while the viewer may see the booking; otherwise the error that ends the stream.
    async fn check(&mut self) -> Result<(), async_graphql::Error> {
        let refusal =
            match live_access::may_watch(&self.services, &self.viewer, self.booking_id).await {
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
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/graphql");
        let mut fields = 0;
        for entry in std::fs::read_dir(dir).expect("graphql sources") {
            let path = entry.expect("entry").path();
            if path.ends_with("live.rs") {
                continue;
            }
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
