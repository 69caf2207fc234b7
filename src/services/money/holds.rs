//! A technician's earnings held before they become available: held when a job is paid out, frozen
//! while a dispute is open, and made available once the hold period is over.

use crate::db::begin_write;
use crate::db::entities::{booking, earnings_hold};
use crate::domain::ledger::{AccountKey, Posting};
use crate::error::AppResult;
use crate::services::Services;
use crate::services::money::ledger::{self, JournalEntry};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

pub mod hold_status {
    pub const HELD: &str = "HELD";
    pub const FROZEN: &str = "FROZEN";
    pub const AVAILABLE: &str = "AVAILABLE";
    pub const REVERSED: &str = "REVERSED";
}

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
    let held = earnings_hold::ActiveModel {
        id: Set(Uuid::now_v7()),
        technician_id: Set(technician),
        booking_id: Set(booking.id),
        amount_minor: Set(amount),
        currency: Set(booking.currency.clone()),
        status: Set(hold_status::HELD.into()),
        available_at: Set(
            now + chrono::Duration::seconds(services.config.bookings.earnings_hold_secs)
        ),
        created_at: Set(now),
        updated_at: Set(now),
    };
    earnings_hold::Entity::insert(held).exec(txn).await?;
    Ok(())
}

/// A dispute freezes the booking's pending earnings where they are.
pub async fn freeze(
    txn: &impl ConnectionTrait,
    booking_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    earnings_hold::Entity::update_many()
        .col_expr(
            earnings_hold::Column::Status,
            Expr::value(hold_status::FROZEN),
        )
        .col_expr(earnings_hold::Column::UpdatedAt, Expr::value(now))
        .filter(earnings_hold::Column::BookingId.eq(booking_id))
        .filter(earnings_hold::Column::Status.eq(hold_status::HELD))
        .exec(txn)
        .await?;
    Ok(())
}

/// Makes held earnings whose time has come available. Each hold is claimed with a conditional
/// update, so with several replicas running none is paid twice. Returns how many moved.
pub async fn release_due_holds(services: &Services) -> AppResult<usize> {
    let now = services.clock.now();
    let due = earnings_hold::Entity::find()
        .filter(earnings_hold::Column::Status.eq(hold_status::HELD))
        .filter(earnings_hold::Column::AvailableAt.lte(now))
        .order_by_asc(earnings_hold::Column::AvailableAt)
        .limit(100)
        .all(&services.db)
        .await?;
    let mut moved = 0;
    for held in due {
        let txn = begin_write(&services.db).await?;
        let claimed = earnings_hold::Entity::update_many()
            .col_expr(
                earnings_hold::Column::Status,
                Expr::value(hold_status::AVAILABLE),
            )
            .col_expr(earnings_hold::Column::UpdatedAt, Expr::value(now))
            .filter(earnings_hold::Column::Id.eq(held.id))
            .filter(earnings_hold::Column::Status.eq(hold_status::HELD))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        ledger::post(
            &txn,
            now,
            JournalEntry {
                kind: "EARNINGS_AVAILABLE".into(),
                booking_id: Some(held.booking_id),
                reference: Some(format!("hold:{}", held.id)),
                memo: None,
                postings: vec![
                    Posting {
                        account: AccountKey::technician_pending(held.technician_id, &held.currency),
                        amount_minor: -held.amount_minor,
                    },
                    Posting {
                        account: AccountKey::technician_available(
                            held.technician_id,
                            &held.currency,
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
