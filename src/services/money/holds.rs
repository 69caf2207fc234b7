//! A technician's earnings held before they become available: held when a job is paid out, frozen
//! while a dispute is open, and made available once the hold period is over.

use crate::db::begin_write;
use crate::db::entities::{booking, earnings_hold};
use crate::db::money::holds as store;
use crate::domain::holds::HoldStatus;
use crate::domain::ledger::{AccountKey, Posting, TransactionKind};
use crate::error::AppResult;
use crate::services::Services;
use crate::services::money::ledger::{self, JournalEntry};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Keeps a technician's new earnings pending for the hold period, so a dispute can still reverse them.
pub async fn hold(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
    technician: Uuid,
    amount: i64,
) -> AppResult<()> {
    if amount <= 0 {
        return Ok(());
    }
    let held = earnings_hold::Model {
        id: Uuid::now_v7(),
        technician_id: technician,
        booking_id: booking.id,
        amount_minor: amount,
        currency: booking.currency,
        status: HoldStatus::Held,
        available_at: now + chrono::Duration::seconds(services.config.bookings.earnings_hold_secs),
        created_at: now,
        updated_at: now,
    };
    store::insert(txn, held).await?;
    Ok(())
}

/// A dispute freezes the booking's pending earnings where they are.
pub async fn freeze(
    txn: &impl ConnectionTrait,
    booking_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    store::set_status_for_booking(txn, booking_id, HoldStatus::Held, HoldStatus::Frozen, now)
        .await?;
    Ok(())
}

/// When the first held share becomes available, so the worker knows when to look again.
pub async fn first_release(services: &Services) -> AppResult<Option<DateTime<Utc>>> {
    Ok(store::first_available_at(&services.db, HoldStatus::Held).await?)
}

/// Makes held earnings whose time has come available. Each hold is claimed with a conditional
/// update, so with several replicas running none is paid twice. Returns how many moved.
pub async fn release_due_holds(services: &Services) -> AppResult<usize> {
    let now = services.clock.now();
    let due = store::due(&services.db, HoldStatus::Held, now).await?;
    let mut moved = 0;
    for held in due {
        let txn = begin_write(&services.db).await?;
        let claimed =
            store::set_status(&txn, held.id, HoldStatus::Held, HoldStatus::Available, now).await?;
        if claimed != 1 {
            continue;
        }
        ledger::post(
            &txn,
            now,
            JournalEntry {
                kind: TransactionKind::EarningsAvailable,
                booking_id: Some(held.booking_id),
                reference: Some(format!("hold:{}", held.id)),
                memo: None,
                postings: vec![
                    Posting {
                        account: AccountKey::technician_pending(held.technician_id, held.currency),
                        amount_minor: -held.amount_minor,
                    },
                    Posting {
                        account: AccountKey::technician_available(
                            held.technician_id,
                            held.currency,
                        ),
                        amount_minor: held.amount_minor,
                    },
                ],
            },
        )
        .await?;
        txn.commit().await?;
        moved += 1;
    }
    Ok(moved)
}
