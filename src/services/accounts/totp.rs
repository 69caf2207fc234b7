//! Time-based one-time passwords (RFC 6238) for two-factor sign-in: setup, enable, disable and single-use checks.

use crate::db::accounts::{account as db_account, totp as db_totp};
use crate::db::begin_write;
use crate::db::entities::user;
use crate::error::{AppError, AppResult};
use crate::services::accounts::vault::Vault;
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::{Effects, Services, Viewer, accounts::passwords};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

const STEP_SECS: u64 = 30;
const ISSUER: &str = "Fundi";

fn totp(secret_base32: &str, account: &str) -> AppResult<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS,
        bytes,
        Some(ISSUER.into()),
        account.to_string(),
    )
    .map_err(AppError::internal)
}

/// The time step a code belongs to, allowing one step of clock drift either side.
fn matching_step(totp: &TOTP, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let current = now.timestamp() / STEP_SECS as i64;
    (current - 1..=current + 1).find(|step| totp.generate((*step as u64) * STEP_SECS) == code)
}

/// Secrets are stored sealed with the payout details' key and scheme, bound to the account's id, so a
/// copy of the database is not a copy of everyone's second factor.
fn seal(vault: &Vault, owner: Uuid, secret: &str) -> AppResult<String> {
    vault.seal(owner, secret.as_bytes())
}

/// A stored secret as base32. One written before secrets were sealed is still plain until start-up
/// seals it (`seal_plain_secrets`), so a replica of the previous version cannot lock anyone out.
fn open(vault: &Vault, owner: Uuid, stored: &str) -> AppResult<String> {
    if !Vault::is_sealed(stored) {
        return Ok(stored.to_string());
    }
    String::from_utf8(vault.open(owner, stored)?).map_err(AppError::internal)
}

/// Seals every secret still stored in plain text; each row only if it has not changed meanwhile, so
/// replicas starting together do not seal one twice. Returns how many were sealed.
pub async fn seal_plain_secrets(db: &impl ConnectionTrait, vault: &Vault) -> AppResult<u64> {
    let plain = db_totp::with_plain_secrets(db).await?;
    let mut sealed = 0;
    for account in plain {
        for (slot, value) in [
            (db_totp::Slot::Enabled, &account.totp_secret),
            (db_totp::Slot::Pending, &account.totp_pending_secret),
        ] {
            let Some(value) = value.as_deref().filter(|v| !Vault::is_sealed(v)) else {
                continue;
            };
            let sealed_value = seal(vault, account.id, value)?;
            sealed += db_totp::replace_secret_if(db, account.id, slot, value, sealed_value).await?;
        }
    }
    Ok(sealed)
}

/// Accepts a code for the user's enabled secret once per time step: a replayed code is refused.
pub async fn accept_code(
    txn: &impl ConnectionTrait,
    vault: &Vault,
    account: &user::Model,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(stored) = &account.totp_secret else {
        return Ok(false);
    };
    let secret = open(vault, account.id, stored)?;
    let Some(step) = matching_step(&totp(&secret, &account.email)?, code, now) else {
        return Ok(false);
    };
    let claimed = db_totp::claim_step(txn, account.id, step).await?;
    Ok(claimed == 1)
}

pub struct TotpSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

pub async fn setup(services: &Services, viewer: &Viewer) -> AppResult<TotpSetup> {
    let account = load(services, viewer).await?;
    if account.totp_secret.is_some() {
        return Err(AppError::Conflict(
            "two-factor sign-in is already enabled".into(),
        ));
    }
    let secret = Secret::generate_secret().to_encoded().to_string();
    let uri = totp(&secret, &account.email)?.get_url();
    let sealed = seal(&services.vault, account.id, &secret)?;
    db_totp::set_pending(&services.db, account, sealed, services.clock.now()).await?;
    Ok(TotpSetup {
        secret,
        otpauth_uri: uri,
    })
}

pub async fn enable(services: &Services, viewer: &Viewer, code: &str) -> AppResult<()> {
    let now = services.clock.now();
    let account = load(services, viewer).await?;
    let stored = account
        .totp_pending_secret
        .clone()
        .ok_or_else(|| AppError::Conflict("call setupTotp first".into()))?;
    let pending = open(&services.vault, account.id, &stored)?;
    let step = matching_step(&totp(&pending, &account.email)?, code, now).ok_or_else(|| {
        AppError::bad_input(
            "code",
            "the code does not match; check the authenticator app's clock",
        )
    })?;
    let txn = begin_write(&services.db).await?;
    let mut effects = Effects::default();
    let sealed = seal(&services.vault, viewer.user_id, &pending)?;
    db_totp::enable(&txn, account, sealed, step, now).await?;
    let note = NewNotification::new(
        viewer.user_id,
        Kind::TwoFactorChanged,
        "Two-factor sign-in enabled",
        "Signing in now needs a code from your authenticator app.",
    );
    in_app::create(&txn, &mut effects, now, note).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(())
}

pub async fn disable(
    services: &Services,
    viewer: &Viewer,
    password: &str,
    code: &str,
) -> AppResult<()> {
    let now = services.clock.now();
    let account = load(services, viewer).await?;
    if account.totp_secret.is_none() {
        return Err(AppError::Conflict(
            "two-factor sign-in is not enabled".into(),
        ));
    }
    if !passwords::verify(password.to_string(), account.password_hash.clone())
        .await
        .map_err(AppError::internal)?
    {
        return Err(AppError::bad_input("password", "wrong password"));
    }
    let txn = begin_write(&services.db).await?;
    if !accept_code(&txn, &services.vault, &account, code, now).await? {
        return Err(AppError::bad_input(
            "code",
            "the code is wrong or was already used",
        ));
    }
    let mut effects = Effects::default();
    db_totp::disable(&txn, account, now).await?;
    let note = NewNotification::new(
        viewer.user_id,
        Kind::TwoFactorChanged,
        "Two-factor sign-in disabled",
        "If this was not you, change your password now.",
    );
    in_app::create(&txn, &mut effects, now, note).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(())
}

async fn load(services: &Services, viewer: &Viewer) -> AppResult<user::Model> {
    db_account::user_by_id(&services.db, viewer.user_id)
        .await?
        .ok_or_else(AppError::unauthenticated)
}

/// Test and CLI helper: the code an authenticator would show now for a base32 secret.
pub fn current_code(secret_base32: &str, now: DateTime<Utc>) -> AppResult<String> {
    Ok(totp(secret_base32, "user")?.generate(now.timestamp() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_with_one_step_of_drift() {
        let secret = Secret::generate_secret().to_encoded().to_string();
        let t = totp(&secret, "a@b.co").unwrap();
        let now = Utc::now();
        let step = now.timestamp() / 30;
        let code_now = t.generate(now.timestamp() as u64);
        assert_eq!(matching_step(&t, &code_now, now), Some(step));
        let previous = t.generate((now.timestamp() - 30) as u64);
        assert!(matching_step(&t, &previous, now).is_some());
        let old = t.generate((now.timestamp() - 120) as u64);
        if old != code_now && old != previous {
            assert_eq!(matching_step(&t, &old, now), None);
        }
        assert_eq!(matching_step(&t, "12ab56", now), None);
    }
}
