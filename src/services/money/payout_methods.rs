//! A technician's payout method: checked, sealed at rest, shown masked, and held for a while after
//! a change so a stolen session cannot redirect earnings and withdraw them at once.

use crate::db::entities::payout_method;
use crate::db::money::payout_methods as store;
use crate::domain::account::Role;
use crate::domain::payouts::{PayoutDetails, PayoutDetailsInput, PayoutKind, check_details};
use crate::error::{AppError, AppResult};
use crate::gateways::mail::Mail;
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// A payout method as its owner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PayoutMethodView {
    pub kind: PayoutKind,
    pub masked: String,
    /// Withdrawals are refused until then; None when there is no hold.
    pub hold_until: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

fn view(model: &payout_method::Model) -> PayoutMethodView {
    PayoutMethodView {
        kind: model.kind,
        masked: model.masked.clone(),
        hold_until: model.hold_until,
        updated_at: model.updated_at,
    }
}

/// Sets (or replaces) the viewer's payout method. The first one applies at once; a change starts
/// the hold (FUNDI_PAYOUT_METHOD_HOLD_HOURS) and tells the technician by email and in the app, so
/// a change they did not make is noticed before any money can follow it.
pub async fn set(
    services: &Services,
    viewer: &Viewer,
    kind: PayoutKind,
    input: &PayoutDetailsInput,
) -> AppResult<PayoutMethodView> {
    viewer.require_role(&[Role::Technician])?;
    let details =
        check_details(kind, input).map_err(|r| AppError::bad_input(r.field, r.message))?;
    let plaintext = serde_json::to_vec(&details).map_err(AppError::internal)?;
    let sealed = services.vault.seal(viewer.user_id, &plaintext)?;
    let now = services.clock.now();
    let hold_secs = services.config.payouts.method_hold_secs;

    let txn = crate::db::begin_write(&services.db).await?;
    let existing = store::by_id(&txn, viewer.user_id).await?;
    let mut effects = Effects::default();
    let model = match existing {
        None => {
            store::insert(
                &txn,
                payout_method::Model {
                    id: viewer.user_id,
                    kind,
                    details_sealed: sealed,
                    masked: details.masked(),
                    hold_until: None,
                    created_at: now,
                    updated_at: now,
                },
            )
            .await?
        }
        Some(old) => {
            let hold_until = (hold_secs > 0).then(|| now + chrono::Duration::seconds(hold_secs));
            let changed = store::replace(
                &txn,
                viewer.user_id,
                store::Replacement {
                    kind,
                    details_sealed: sealed,
                    masked: details.masked(),
                    hold_until,
                },
                now,
            )
            .await?;
            tell_about_change(&txn, &mut effects, now, viewer.user_id, &old, &changed).await?;
            changed
        }
    };
    txn.commit().await?;
    services.after_commit(effects);
    Ok(view(&model))
}

async fn tell_about_change(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    user_id: Uuid,
    old: &payout_method::Model,
    new: &payout_method::Model,
) -> AppResult<()> {
    let until = new
        .hold_until
        .map(|t| {
            format!(
                " Withdrawals are paused until {} UTC.",
                t.format("%Y-%m-%d %H:%M")
            )
        })
        .unwrap_or_default();
    let body = format!(
        "Your payout method changed from {} to {}.{until} If you did not do this, contact support now.",
        old.masked, new.masked
    );
    in_app::create(
        txn,
        effects,
        now,
        NewNotification::new(
            user_id,
            Kind::PayoutMethodChanged,
            "Payout method changed",
            &body,
        ),
    )
    .await?;
    if let Some(owner) = crate::db::accounts::account::user_by_id(txn, user_id).await? {
        effects.mail(Mail {
            to: owner.email,
            subject: "Your Fundi payout method was changed".into(),
            body: format!("Hello {},\n\n{body}\n", owner.full_name),
        });
    }
    Ok(())
}

/// The viewer's payout method, if they set one.
pub async fn mine(services: &Services, viewer: &Viewer) -> AppResult<Option<PayoutMethodView>> {
    viewer.require_role(&[Role::Technician])?;
    Ok(store::by_id(&services.db, viewer.user_id)
        .await?
        .as_ref()
        .map(view))
}

/// The technician's current method with its details opened, for snapshotting into a withdrawal.
pub async fn current(
    db: &impl ConnectionTrait,
    services: &Services,
    technician: Uuid,
) -> AppResult<Option<(payout_method::Model, PayoutDetails)>> {
    let Some(model) = store::by_id(db, technician).await? else {
        return Ok(None);
    };
    let details = open(services, technician, &model.details_sealed)?;
    Ok(Some((model, details)))
}

/// Opens sealed details of `owner`.
pub fn open(services: &Services, owner: Uuid, sealed: &str) -> AppResult<PayoutDetails> {
    let plaintext = services.vault.open(owner, sealed)?;
    serde_json::from_slice(&plaintext).map_err(AppError::internal)
}
