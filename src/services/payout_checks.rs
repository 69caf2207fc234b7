//! Asking the payout gateway about withdrawals whose result never came: M-Pesa B2C withdrawals
//! PROCESSING for longer than `payouts.query_after_secs`.

use super::Services;
use super::withdrawals::{PayoutResult, record_payout_result, stale_processing};
use crate::db::entities::withdrawal;
use crate::domain::payouts::WithdrawalStatus;
use crate::error::AppResult;
use crate::gateways::mpesa_b2c::NAME;
use crate::gateways::payouts::{PayoutGateway, PayoutQuery};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// Asks about each stale PROCESSING B2C withdrawal; returns how many were settled here. Daraja
/// answers B2C status queries by callback, so most rounds settle none and the callback does.
///
/// The worker runs every second, so each withdrawal is claimed first by moving its `updated_at`
/// forward with a conditional update: two replicas never ask about the same one in a round, and
/// one Daraja has not answered about is asked again only after another interval.
pub async fn run(services: &Services) -> AppResult<usize> {
    let Some(b2c) = services.mpesa_b2c.clone() else {
        return Ok(0);
    };
    let now = services.clock.now();
    let interval = chrono::Duration::seconds(services.config.payouts.query_after_secs.max(1));
    let references = stale_processing(services, NAME, now - interval).await?;
    let mut settled = 0;
    for reference in references {
        let claimed = withdrawal::Entity::update_many()
            .col_expr(withdrawal::Column::UpdatedAt, Expr::value(now))
            .filter(withdrawal::Column::Reference.eq(&reference))
            .filter(withdrawal::Column::Gateway.eq(NAME))
            .filter(withdrawal::Column::Status.eq(WithdrawalStatus::Processing.as_str()))
            .filter(withdrawal::Column::UpdatedAt.lt(now - interval))
            .exec(&services.db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let result = match b2c.query(&reference).await {
            Ok(PayoutQuery::Completed { gateway_reference }) => {
                PayoutResult::Completed { gateway_reference }
            }
            Ok(PayoutQuery::Failed { reason }) => PayoutResult::Failed { reason },
            Ok(PayoutQuery::StillProcessing) => {
                tracing::info!(reference = %reference, "M-Pesa B2C status asked; the answer comes by callback");
                continue;
            }
            Err(e) => {
                tracing::warn!(reference = %reference, error = %e, "M-Pesa B2C status query failed; will retry");
                continue;
            }
        };
        match record_payout_result(services, &reference, result).await {
            Ok(true) => settled += 1,
            Ok(false) => {}
            // One withdrawal that cannot be applied must not hold up the rest.
            Err(e) => {
                tracing::warn!(reference = %reference, error = ?e.message(), "M-Pesa B2C result not applied; will retry");
            }
        }
    }
    Ok(settled)
}
