//! Moving money out of escrow: the release of a verified job (technician share, platform fee, tax),
//! earnings held before they become available, what a cancellation keeps and refunds, dispute
//! outcomes, and refunds through each payment's own gateway.

use crate::db::begin_write;
use crate::db::entities::{booking, earnings_hold, payment};
use crate::domain::booking_state::Status;
use crate::domain::ledger::{AccountKey, Posting, split_release};
use crate::domain::payments::{
    Method, PaymentKind, PaymentStatus, cancellation_split, percent_of, tax_share,
};
use crate::error::{AppError, AppResult};
use crate::gateways::payments::RefundOutcome;
use crate::services::bookings::flow::{self, Actor, status_of};
use crate::services::money::ledger::{self, JournalEntry};
use crate::services::money::payments::{self, gateway_for};
use crate::services::{Effects, Services};
use crate::services::{money::invoices, money::mpesa_refunds};
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

/// Postings without the zero lines (a tax of 0 is no movement).
fn nonzero(postings: Vec<Posting>) -> Vec<Posting> {
    postings
        .into_iter()
        .filter(|p| p.amount_minor != 0)
        .collect()
}

/// Settles a verified booking: when escrow holds the agreed total it is released in one ledger
/// transaction and the booking becomes PAID; until then it waits in PAYMENT_PENDING.
pub async fn settle(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
) -> AppResult<booking::Model> {
    let escrow = ledger::balance(txn, &AccountKey::escrow(booking.id, &booking.currency)).await?;
    if escrow < booking.price_total {
        if status_of(booking) == Status::Verified {
            return flow::apply(
                txn,
                effects,
                now,
                booking,
                Status::PaymentPending,
                Actor::system(),
                None,
                vec![],
            )
            .await;
        }
        return Ok(booking.clone());
    }
    release(txn, services, now, booking, booking.price_total).await?;
    let paid = flow::apply(
        txn,
        effects,
        now,
        booking,
        Status::Paid,
        Actor::system(),
        None,
        vec![(booking::Column::PaidAt, Expr::value(now))],
    )
    .await?;
    invoices::invoice_paid_booking(txn, services, effects, now, &paid).await?;
    Ok(paid)
}

/// Pays `amount` of escrow out as a job: the technician's share (held), the platform fee and the
/// tax in the same proportions as the booking's price.
async fn release(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
    amount: i64,
) -> AppResult<()> {
    if amount <= 0 {
        return Ok(());
    }
    let tax = tax_share(booking.price_tax, booking.price_total, amount);
    let split = split_release(
        amount,
        tax,
        services.config.bookings.pricing.platform_fee_bp,
    );
    let currency = &booking.currency;
    let technician = booking.technician_id;
    let (to_technician, to_platform) = match technician {
        Some(_) => (split.technician, split.platform),
        None => (0, split.technician + split.platform),
    };
    let mut postings = vec![
        Posting {
            account: AccountKey::escrow(booking.id, currency),
            amount_minor: -amount,
        },
        Posting {
            account: AccountKey::platform_revenue(currency),
            amount_minor: to_platform,
        },
        Posting {
            account: AccountKey::tax_collected(currency),
            amount_minor: split.tax,
        },
    ];
    if let Some(technician) = technician {
        postings.push(Posting {
            account: AccountKey::technician_pending(technician, currency),
            amount_minor: to_technician,
        });
    }
    ledger::post(
        txn,
        now,
        JournalEntry {
            kind: "RELEASE".into(),
            booking_id: Some(booking.id),
            reference: Some(format!("release:{}:{}", booking.id, booking.version)),
            memo: None,
            postings: nonzero(postings),
        },
    )
    .await?;
    if let Some(technician) = technician {
        hold(txn, services, now, booking, technician, to_technician).await?;
    }
    Ok(())
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

/// What a cancellation does to the money: the fee (capped at what escrow holds) is kept and split
/// like a job, and the rest goes back to the customer through the gateways it came from.
pub async fn on_cancelled(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
) -> AppResult<()> {
    let escrow = ledger::balance(txn, &AccountKey::escrow(booking.id, &booking.currency)).await?;
    let fee = booking.cancellation_fee_minor.unwrap_or(0);
    let (kept, refund) = cancellation_split(fee, escrow);
    release(txn, services, now, booking, kept).await?;
    refund_escrow(txn, services, now, booking, refund).await
}

/// Settles a resolved dispute: RELEASE_TO_TECHNICIAN pays out what escrow holds (or lets frozen
/// earnings go on), REFUND_CUSTOMER returns everything the customer paid in, SPLIT refunds the
/// customer's percentage of it and pays the rest out as a job. Money already released is taken back from the
/// technician's frozen earnings and the platform before it is refunded.
pub async fn on_dispute_resolved(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
    customer_refund_percent: i64,
) -> AppResult<()> {
    let escrow_key = AccountKey::escrow(booking.id, &booking.currency);
    // The customer gets their share of what they actually paid in, not of the price.
    let paid_in = payments::net_paid_in(txn, booking.id).await?;
    let refund_total = percent_of(paid_in, customer_refund_percent);
    if refund_total > 0 {
        let escrow = ledger::balance(txn, &escrow_key).await?;
        if escrow < refund_total {
            claw_back(txn, now, booking, refund_total - escrow).await?;
        }
        refund_escrow(txn, services, now, booking, refund_total).await?;
    }
    let remaining = ledger::balance(txn, &escrow_key).await?;
    release(txn, services, now, booking, remaining).await?;
    // Whatever was frozen and not taken back goes on toward availability.
    earnings_hold::Entity::update_many()
        .col_expr(
            earnings_hold::Column::Status,
            Expr::value(hold_status::HELD),
        )
        .col_expr(earnings_hold::Column::UpdatedAt, Expr::value(now))
        .filter(earnings_hold::Column::BookingId.eq(booking.id))
        .filter(earnings_hold::Column::Status.eq(hold_status::FROZEN))
        .exec(txn)
        .await?;
    Ok(())
}

/// Moves `amount` of an already released job back into escrow: from the technician's frozen
/// earnings first, then from platform revenue and tax in the release's proportions.
async fn claw_back(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    booking: &booking::Model,
    amount: i64,
) -> AppResult<()> {
    let currency = &booking.currency;
    let frozen = earnings_hold::Entity::find()
        .filter(earnings_hold::Column::BookingId.eq(booking.id))
        .filter(earnings_hold::Column::Status.eq(hold_status::FROZEN))
        .all(txn)
        .await?;
    let mut postings = vec![Posting {
        account: AccountKey::escrow(booking.id, currency),
        amount_minor: amount,
    }];
    let mut left = amount;
    for held in &frozen {
        let take = held.amount_minor.min(left);
        if take <= 0 {
            break;
        }
        postings.push(Posting {
            account: AccountKey::technician_pending(held.technician_id, currency),
            amount_minor: -take,
        });
        let rest = held.amount_minor - take;
        let mut active: earnings_hold::ActiveModel = held.clone().into();
        active.amount_minor = Set(rest);
        if rest == 0 {
            active.status = Set(hold_status::REVERSED.into());
        }
        active.updated_at = Set(now);
        sea_orm::ActiveModelTrait::update(active, txn).await?;
        left -= take;
    }
    if left > 0 {
        let tax = ledger::balance(txn, &AccountKey::tax_collected(currency)).await?;
        let from_tax = left.min(booking.price_tax).min(tax).max(0);
        postings.push(Posting {
            account: AccountKey::tax_collected(currency),
            amount_minor: -from_tax,
        });
        postings.push(Posting {
            account: AccountKey::platform_revenue(currency),
            amount_minor: -(left - from_tax),
        });
    }
    ledger::post(
        txn,
        now,
        JournalEntry {
            kind: "DISPUTE".into(),
            booking_id: Some(booking.id),
            reference: Some(format!("clawback:{}:{}", booking.id, booking.version)),
            memo: None,
            postings: nonzero(postings),
        },
    )
    .await?;
    Ok(())
}

/// Returns `amount` of escrow to the customer, newest payment first, each through its own gateway.
pub async fn refund_escrow(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
    amount: i64,
) -> AppResult<()> {
    if amount <= 0 {
        return Ok(());
    }
    let paid = payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking.id))
        .filter(payment::Column::Kind.ne(PaymentKind::Tip.as_str()))
        .filter(payment::Column::Status.is_in([
            PaymentStatus::Succeeded.as_str(),
            PaymentStatus::PartiallyRefunded.as_str(),
        ]))
        .order_by_desc(payment::Column::Id)
        .all(txn)
        .await?;
    let mut left = amount;
    for p in paid {
        let take = (p.amount_minor - p.refunded_minor).min(left);
        if take <= 0 {
            continue;
        }
        refund_payment(txn, services, now, &p, take).await?;
        left -= take;
        if left == 0 {
            break;
        }
    }
    if left > 0 {
        return Err(AppError::internal(anyhow::anyhow!(
            "escrow of booking {} holds {left} more than its payments can refund",
            booking.id
        )));
    }
    Ok(())
}

/// Refunds `amount` of one payment from escrow through the payment's gateway.
pub async fn refund_payment(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    paid: &payment::Model,
    amount: i64,
) -> AppResult<()> {
    let method = Method::parse(&paid.method).unwrap_or(Method::Sandbox);
    let gateway = gateway_for(services, method)?;
    let reference = paid.gateway_reference.clone().unwrap_or_default();
    // M-Pesa has no refund call; with B2C configured the money is sent back to the paying phone
    // after this commits, and only a refund M-Pesa refuses falls to staff.
    let sent_back_by_b2c =
        method == Method::Mpesa && mpesa_refunds::queue(txn, services, now, paid, amount).await?;
    let staff_action = if sent_back_by_b2c {
        None
    } else {
        match gateway
            .refund(&reference, amount)
            .await
            .map_err(AppError::internal)?
        {
            RefundOutcome::Refunded { .. } => None,
            RefundOutcome::Manual { instructions } => {
                tracing::warn!(payment = %paid.id, amount, "refund booked; staff must send it by hand");
                Some(instructions)
            }
            RefundOutcome::Failed { reason } => {
                return Err(AppError::Conflict(format!(
                    "the gateway refused the refund: {reason}"
                )));
            }
        }
    };
    ledger::post(
        txn,
        now,
        JournalEntry {
            kind: "REFUND".into(),
            booking_id: Some(paid.booking_id),
            reference: Some(format!("refund:{}:{}", paid.id, paid.refunded_minor)),
            memo: None,
            postings: vec![
                Posting {
                    account: AccountKey::escrow(paid.booking_id, &paid.currency),
                    amount_minor: -amount,
                },
                Posting {
                    account: AccountKey::clearing(&paid.method, &paid.currency),
                    amount_minor: amount,
                },
            ],
        },
    )
    .await?;
    invoices::credit_refund(txn, services, now, paid, amount).await?;
    payments::mark_refunded(txn, now, paid, amount, staff_action).await
}
