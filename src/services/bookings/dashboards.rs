//! Dashboards: counts and totals a customer or a technician sees at a glance, computed from their bookings and offers.

use crate::db::bookings::dashboards as rows;
use crate::db::entities::booking;
use crate::domain::account::Role;
use crate::domain::booking_state::Status;
use crate::domain::dispatch::OfferStatus;
use crate::domain::money::Currency;
use crate::error::AppResult;
use crate::services::{Services, Viewer};
use chrono::Duration;
use std::collections::HashMap;

/// The currency shown when a customer has no bookings yet: the marketplace's home currency.
pub const DEFAULT_CURRENCY: Currency = Currency::KES;

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerDashboard {
    pub active: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub total_spent_minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TechnicianDashboard {
    pub offers_waiting: i64,
    pub active_jobs: i64,
    pub completed_this_week: i64,
    pub completed_this_month: i64,
    /// Accepted / answered (accepted, rejected or expired); None until an offer has been answered.
    pub acceptance_rate: Option<f64>,
    pub median_response_seconds: Option<i64>,
    /// Net earnings in the technician's local day, week and month so far (see `earnings`).
    pub net_earnings: crate::services::money::earnings::CurrentNet,
}

/// Work done, whether or not it has been paid for yet.
fn is_completed(status: Status) -> bool {
    matches!(
        status,
        Status::Completed | Status::Verified | Status::PaymentPending | Status::Paid
    )
}

pub async fn customer(services: &Services, viewer: &Viewer) -> AppResult<CustomerDashboard> {
    viewer.require_role(&[Role::Customer])?;
    let bookings = rows::for_customer(&services.db, viewer.user_id).await?;
    Ok(customer_summary(&bookings))
}

fn customer_summary(rows: &[booking::Model]) -> CustomerDashboard {
    let (mut active, mut completed, mut cancelled) = (0, 0, 0);
    let mut uses: HashMap<Currency, i64> = HashMap::new();
    for row in rows {
        let status = row.status;
        if status == Status::Cancelled {
            cancelled += 1;
        } else if is_completed(status) {
            completed += 1;
        } else if !status.is_final() {
            active += 1;
        }
        *uses.entry(row.currency).or_default() += 1;
    }
    // Totals in different currencies cannot be added, so show the one the customer uses most
    // (ties broken alphabetically so the answer does not change between calls).
    let currency = uses
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(c, _)| c)
        .unwrap_or(DEFAULT_CURRENCY);
    let total_spent_minor = rows
        .iter()
        .filter(|r| r.status == Status::Paid && r.currency == currency)
        .map(|r| r.price_total)
        .fold(0i64, i64::saturating_add);
    CustomerDashboard {
        active,
        completed,
        cancelled,
        total_spent_minor,
        currency,
    }
}

pub async fn technician(services: &Services, viewer: &Viewer) -> AppResult<TechnicianDashboard> {
    viewer.require_role(&[Role::Technician])?;
    let db = &services.db;
    let now = services.clock.now();
    let offers_waiting = rows::count_offers(db, viewer.user_id, OfferStatus::Offered).await? as i64;
    let jobs = rows::for_technician(db, viewer.user_id).await?;
    let active_jobs = jobs
        .iter()
        .filter(|b| b.status.technician_is_busy())
        .count() as i64;
    let completed_since = |days: i64| {
        jobs.iter()
            .filter(|b| {
                b.completed_at
                    .is_some_and(|at| at >= now - Duration::days(days))
            })
            .count() as i64
    };
    let answered = rows::offers_in_statuses(
        db,
        viewer.user_id,
        &[
            OfferStatus::Accepted,
            OfferStatus::Rejected,
            OfferStatus::Expired,
        ],
    )
    .await?;
    let accepted = answered
        .iter()
        .filter(|o| o.status == OfferStatus::Accepted)
        .count();
    let acceptance_rate = (!answered.is_empty()).then(|| accepted as f64 / answered.len() as f64);
    // Expired offers were never answered, so they say nothing about how fast the technician responds.
    let seconds: Vec<i64> = answered
        .iter()
        .filter(|o| o.status != OfferStatus::Expired)
        .filter_map(|o| Some((o.responded_at? - o.offered_at?).num_seconds()))
        .collect();
    Ok(TechnicianDashboard {
        offers_waiting,
        active_jobs,
        completed_this_week: completed_since(7),
        completed_this_month: completed_since(30),
        acceptance_rate,
        median_response_seconds: median(seconds),
        net_earnings: crate::services::money::earnings::current_net(db, viewer.user_id, now)
            .await?,
    })
}

/// The middle value; for an even count, the mean of the two middle values rounded down.
pub fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]).div_euclid(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![30, 10, 20]), Some(20));
        assert_eq!(median(vec![40, 10, 20, 30]), Some(25));
    }
}
