//! Quotes: a technician's itemised price for a booking under way (labour, materials, fees), which the
//! customer accepts or rejects; an accepted quote becomes the booking's agreed price.
//!
//! This also covers a vehicle-service analysis report with a price quote: the findings go in the
//! line items' descriptions and the note, the price in the items themselves.

use crate::db::batch;
use crate::db::begin_write;
use crate::db::bookings::access::by_id as booking_by_id;
use crate::db::bookings::quotes::{self as rows, Response};
use crate::db::entities::{booking, quote};
use crate::domain::booking_state::{Role as ActorRole, Status};
use crate::domain::money::{Currency, Money};
use crate::domain::pricing::price_for_base;
use crate::domain::quotes::{LineKind, QuoteStatus};
use crate::error::{AppError, AppResult};
use crate::services::bookings::access::{actor_role, visible as visible_booking};
use crate::services::bookings::events::{self, ChangeKind};
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

pub const MAX_LINE_ITEMS: usize = 50;
pub const MAX_QUANTITY: i32 = 1000;

/// One priced line as stored (JSON in `quotes.line_items`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub kind: LineKind,
    pub description: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
}

impl LineItem {
    pub fn total_minor(&self) -> i64 {
        self.unit_price_minor.saturating_mul(self.quantity as i64)
    }
}

/// One line as the technician sent it, before checks; the unit price carries its currency.
pub struct LineItemInput {
    pub kind: LineKind,
    pub description: String,
    pub quantity: i32,
    pub unit_price: Money,
}

pub struct NewQuote {
    pub line_items: Vec<LineItemInput>,
    pub valid_until: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Reject,
}

/// The quote's stored lines. Lines that do not read (an unknown kind, say) are an error naming the
/// quote, not an empty list.
pub fn line_items(quote: &quote::Model) -> AppResult<Vec<LineItem>> {
    serde_json::from_str(&quote.line_items).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "the line items stored on quote {} do not read: {e}",
            quote.id
        ))
    })
}

fn note(value: Option<&str>, field: &str) -> AppResult<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > 2000 {
        return Err(AppError::bad_input(
            field,
            format!("{field} must be at most 2000 characters"),
        ));
    }
    Ok(Some(v.to_string()))
}

/// Checks every line and returns them with the subtotal; all amounts must be in the booking's currency.
fn checked_items(items: Vec<LineItemInput>, currency: Currency) -> AppResult<(Vec<LineItem>, i64)> {
    if items.is_empty() || items.len() > MAX_LINE_ITEMS {
        return Err(AppError::bad_input(
            "lineItems",
            format!("a quote has 1 to {MAX_LINE_ITEMS} line items"),
        ));
    }
    let mut subtotal: i64 = 0;
    let mut checked = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let field = |name: &str| format!("lineItems[{i}].{name}");
        let description = item.description.trim();
        if description.is_empty() || description.chars().count() > 300 {
            return Err(AppError::bad_input(
                field("description"),
                "description must be 1 to 300 characters",
            ));
        }
        if !(1..=MAX_QUANTITY).contains(&item.quantity) {
            return Err(AppError::bad_input(
                field("quantity"),
                format!("quantity must be 1 to {MAX_QUANTITY}"),
            ));
        }
        let amount = item.unit_price.amount_minor;
        if item.unit_price.currency != currency {
            return Err(AppError::bad_input(
                field("unitPrice.currency"),
                format!("every price must be in the booking's currency, {currency}"),
            ));
        }
        if amount < 0 {
            return Err(AppError::bad_input(
                field("unitPrice.amountMinor"),
                "a unit price cannot be negative",
            ));
        }
        let line = LineItem {
            kind: item.kind,
            description: description.to_string(),
            quantity: item.quantity,
            unit_price_minor: amount,
        };
        // Checked, so an absurd quote is refused rather than wrapped round to a small price.
        subtotal = amount
            .checked_mul(line.quantity as i64)
            .and_then(|total| subtotal.checked_add(total))
            .ok_or_else(|| {
                AppError::bad_input(
                    field("unitPrice.amountMinor"),
                    "the quote total is too large",
                )
            })?;
        checked.push(line);
    }
    Ok((checked, subtotal))
}

/// The assigned technician quotes while on the job; the newest open quote is the only one that counts.
pub async fn submit(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    new: NewQuote,
) -> AppResult<quote::Model> {
    let booking = visible_booking(services, viewer, booking_id).await?;
    if actor_role(viewer, &booking) != Some(ActorRole::Technician) {
        return Err(AppError::Forbidden(
            "only the booking's technician can quote".into(),
        ));
    }
    if !matches!(
        booking.status,
        Status::Accepted | Status::Arrived | Status::InProgress
    ) {
        return Err(AppError::Conflict(format!(
            "a quote can be given while the booking is ACCEPTED, ARRIVED or IN_PROGRESS, not {}",
            booking.status
        )));
    }
    let now = services.clock.now();
    if new.valid_until <= now {
        return Err(AppError::bad_input(
            "validUntil",
            "validUntil must be in the future",
        ));
    }
    crate::services::platform::validation::not_too_far(new.valid_until, "validUntil", now)?;
    let (items, subtotal) = checked_items(new.line_items, booking.currency)?;
    let note = note(new.note.as_deref(), "note")?;
    let model = quote::Model {
        id: Uuid::now_v7(),
        booking_id: booking.id,
        technician_id: viewer.user_id,
        status: QuoteStatus::Open,
        line_items: serde_json::to_string(&items).map_err(AppError::internal)?,
        subtotal_minor: subtotal,
        currency: booking.currency,
        valid_until: new.valid_until,
        note,
        responded_at: None,
        response_note: None,
        created_at: now,
        updated_at: now,
    };
    let txn = begin_write(&services.db).await?;
    let mut effects = Effects::default();
    rows::set_status_for_booking(
        &txn,
        booking.id,
        QuoteStatus::Open,
        QuoteStatus::Superseded,
        now,
    )
    .await?;
    rows::insert(&txn, model.clone()).await?;
    events::publish(&txn, &mut effects, &booking, ChangeKind::Quote).await?;
    let headline = format!("New quote for {}", booking.title);
    notify(
        &txn,
        &mut effects,
        now,
        booking.customer_id,
        headline,
        &model,
    )
    .await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(model)
}

/// The customer answers the open quote; accepting makes its subtotal the booking's base price.
pub async fn respond(
    services: &Services,
    viewer: &Viewer,
    quote_id: Uuid,
    decision: Decision,
    response: Option<&str>,
) -> AppResult<quote::Model> {
    let quote = visible(services, viewer, quote_id).await?;
    let booking = visible_booking(services, viewer, quote.booking_id).await?;
    if actor_role(viewer, &booking) != Some(ActorRole::Customer) {
        return Err(AppError::Forbidden(
            "only the booking's customer answers a quote".into(),
        ));
    }
    let response = note(response, "note")?;
    if quote.status != QuoteStatus::Open {
        return Err(AppError::Conflict(format!(
            "this quote is {} and can no longer be answered",
            quote.status.as_str()
        )));
    }
    let now = services.clock.now();
    if quote.valid_until < now {
        // Recorded so both sides see why it cannot be accepted; the answer is still a refusal.
        set_status(&services.db, &quote, QuoteStatus::Expired, now, None).await?;
        return Err(AppError::Conflict(
            "this quote has expired; ask the technician for a new one".into(),
        ));
    }
    if decision == Decision::Accept && !booking.status.technician_is_busy() {
        return Err(AppError::Conflict(format!(
            "the booking is {}; a quote can be accepted only while the job is under way",
            booking.status
        )));
    }
    let txn = begin_write(&services.db).await?;
    let mut effects = Effects::default();
    let to = if decision == Decision::Accept {
        QuoteStatus::Accepted
    } else {
        QuoteStatus::Rejected
    };
    set_status(&txn, &quote, to, now, response.clone()).await?;
    let mut after = booking.clone();
    if decision == Decision::Accept {
        after = agree_price(&txn, services, now, &booking, quote.subtotal_minor).await?;
    }
    events::publish(&txn, &mut effects, &after, ChangeKind::Quote).await?;
    let verb = if decision == Decision::Accept {
        "accepted"
    } else {
        "rejected"
    };
    let updated = quote::Model {
        status: to,
        responded_at: Some(now),
        response_note: response,
        updated_at: now,
        ..quote
    };
    notify(
        &txn,
        &mut effects,
        now,
        quote.technician_id,
        format!("Quote {verb}: {}", booking.title),
        &updated,
    )
    .await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(updated)
}

/// Moves an open quote on, refusing if someone answered or superseded it meanwhile.
async fn set_status(
    db: &impl ConnectionTrait,
    quote: &quote::Model,
    to: QuoteStatus,
    now: DateTime<Utc>,
    response: Option<String>,
) -> AppResult<()> {
    // An expired quote was never answered, so it records no response.
    let response = (to != QuoteStatus::Expired).then_some(Response { note: response });
    let changed = rows::set_status(db, quote.id, QuoteStatus::Open, to, now, response).await?;
    if changed != 1 {
        return Err(AppError::Conflict(
            "this quote changed meanwhile; reload it".into(),
        ));
    }
    Ok(())
}

/// Reprices the booking from the quote's subtotal with the usual surge, fee, tax and deposit rules,
/// on the version the customer saw.
async fn agree_price(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
    subtotal: i64,
) -> AppResult<booking::Model> {
    let price = price_for_base(
        subtotal,
        booking.priority,
        &services.config.bookings.pricing,
    )
    .map_err(|e| AppError::Conflict(format!("this quote cannot be priced: {e:?}")))?;
    let changed = rows::set_booking_price(txn, booking.id, booking.version, &price, now).await?;
    if changed != 1 {
        return Err(AppError::Conflict(
            "the booking changed meanwhile; reload it and try again".into(),
        ));
    }
    booking_by_id(txn, booking.id)
        .await?
        .ok_or_else(|| AppError::NotFound("booking".into()))
}

async fn notify(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    to: Uuid,
    title: String,
    quote: &quote::Model,
) -> AppResult<()> {
    let body = format!(
        "Quote {}: {}",
        quote.status.as_str(),
        Money::new(quote.subtotal_minor, quote.currency).format()
    );
    let mut note = NewNotification::new(to, Kind::QuoteUpdate, title, body);
    note.data = Some(
        serde_json::json!({"bookingId": quote.booking_id, "quoteId": quote.id, "status": quote.status.as_str()}),
    );
    in_app::create(txn, effects, now, note).await?;
    Ok(())
}

/// A quote whose booking the viewer may see; for anyone else it does not exist.
pub async fn visible(services: &Services, viewer: &Viewer, id: Uuid) -> AppResult<quote::Model> {
    let quote = rows::by_id(&services.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("quote".into()))?;
    match visible_booking(services, viewer, quote.booking_id).await {
        Ok(_) => Ok(quote),
        Err(AppError::NotFound(_)) => Err(AppError::NotFound("quote".into())),
        Err(e) => Err(e),
    }
}

/// Every quote on a booking, oldest first, for its participants and staff.
pub async fn for_booking(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
) -> AppResult<Vec<quote::Model>> {
    visible_booking(services, viewer, booking_id).await?;
    Ok(of_bookings(&services.db, &[booking_id])
        .await?
        .remove(&booking_id)
        .unwrap_or_default())
}

/// Each booking's quotes, oldest first, for many bookings in one statement. Callers check access.
pub async fn of_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<quote::Model>>> {
    let quotes = rows::for_bookings(db, bookings).await?;
    Ok(batch::group(quotes, |q| q.booking_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: i32, amount: i64, currency: &str) -> LineItemInput {
        LineItemInput {
            kind: LineKind::Labour,
            description: "Replace washer".into(),
            quantity,
            unit_price: Money::new(amount, Currency::parse(currency).unwrap()),
        }
    }

    #[test]
    fn the_subtotal_is_quantity_times_unit_price_summed() {
        let (items, subtotal) = checked_items(
            vec![line(2, 500, "KES"), line(1, 1000, "kes")],
            Currency::KES,
        )
        .unwrap();
        assert_eq!(subtotal, 2000);
        assert_eq!(items[0].total_minor(), 1000);
    }

    #[test]
    fn lines_in_another_currency_or_out_of_bounds_are_refused() {
        let field = |r: AppResult<(Vec<LineItem>, i64)>| match r {
            Err(AppError::BadInput { field, .. }) => field,
            other => panic!("expected bad input, got {other:?}"),
        };
        assert_eq!(
            field(checked_items(vec![line(1, 100, "USD")], Currency::KES)),
            "lineItems[0].unitPrice.currency"
        );
        assert_eq!(
            field(checked_items(vec![line(0, 100, "KES")], Currency::KES)),
            "lineItems[0].quantity"
        );
        assert_eq!(
            field(checked_items(vec![line(1, -1, "KES")], Currency::KES)),
            "lineItems[0].unitPrice.amountMinor"
        );
        assert_eq!(field(checked_items(vec![], Currency::KES)), "lineItems");
        assert_eq!(
            field(checked_items(
                vec![line(1000, i64::MAX / 10, "KES")],
                Currency::KES
            )),
            "lineItems[0].unitPrice.amountMinor"
        );
    }
}
