//! Credentials: changing and resetting passwords, and proving ownership of an email address with a mailed code.

use crate::db::accounts::{account as db_account, credentials as db_credentials};
use crate::db::begin_write;
use crate::db::entities::user;
use crate::domain::account::{Email, check_password};
use crate::error::{AppError, AppResult};
use crate::gateways::mail::Mail;
use crate::services::accounts::codes::{self, Outcome, Purpose};
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::{Effects, Services, Viewer, accounts::passwords, accounts::sessions};

pub async fn change_password(
    services: &Services,
    viewer: &Viewer,
    current: &str,
    new: &str,
) -> AppResult<()> {
    let account = crate::services::accounts::account::me(services, viewer).await?;
    if !passwords::verify(current.to_string(), account.password_hash.clone())
        .await
        .map_err(AppError::internal)?
    {
        return Err(AppError::bad_input(
            "currentPassword",
            "the current password is wrong",
        ));
    }
    check_password(new, "newPassword")?;
    if current == new {
        return Err(AppError::bad_input(
            "newPassword",
            "the new password must differ from the current one",
        ));
    }
    let hash = passwords::hash(new.to_string())
        .await
        .map_err(AppError::internal)?;
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let mut effects = Effects::default();
    let email = account.email.clone();
    db_credentials::set_password(&txn, account, hash, now).await?;
    sessions::revoke_all(
        &txn,
        &mut effects,
        viewer.user_id,
        Some(viewer.session_id),
        "password changed",
        now,
    )
    .await?;
    password_changed(&txn, &mut effects, viewer.user_id, &email, now).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(())
}

async fn password_changed(
    txn: &impl sea_orm::ConnectionTrait,
    effects: &mut Effects,
    user_id: uuid::Uuid,
    email: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let body = "Your Fundi password was changed and your other sessions were signed out. If this was not you, reset your password now.";
    in_app::create(
        txn,
        effects,
        now,
        NewNotification::new(user_id, Kind::PasswordChanged, "Password changed", body),
    )
    .await?;
    effects.mail(Mail {
        to: email.into(),
        subject: "Your Fundi password was changed".into(),
        body: body.into(),
    });
    Ok(())
}

pub async fn request_email_verification(services: &Services, viewer: &Viewer) -> AppResult<()> {
    let account = crate::services::accounts::account::me(services, viewer).await?;
    if account.email_verified_at.is_some() {
        return Err(AppError::Conflict(
            "this email address is already verified".into(),
        ));
    }
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let code = codes::issue(
        &txn,
        services.config.jwt_secret_bytes(),
        account.id,
        Purpose::EmailVerification,
        now,
    )
    .await?;
    txn.commit().await?;
    let mut effects = Effects::default();
    effects.mail(Mail {
        to: account.email,
        subject: "Your Fundi verification code".into(),
        body: format!("Your Fundi verification code is {code}\n\nIt expires in 5 minutes. If you did not ask for it, ignore this message.\n"),
    });
    services.after_commit(effects);
    Ok(())
}

pub async fn verify_email(
    services: &Services,
    viewer: &Viewer,
    code: &str,
) -> AppResult<user::Model> {
    let now = services.clock.now();
    let account = crate::services::accounts::account::me(services, viewer).await?;
    if account.email_verified_at.is_some() {
        return Ok(account);
    }
    let txn = begin_write(&services.db).await?;
    if let Outcome::Refused(error) = codes::check(
        &txn,
        services.config.jwt_secret_bytes(),
        account.id,
        Purpose::EmailVerification,
        code,
        now,
    )
    .await?
    {
        txn.commit().await?;
        return Err(error);
    }
    let mut effects = Effects::default();
    let updated = db_credentials::mark_email_verified(&txn, account, now).await?;
    let note = NewNotification::new(
        viewer.user_id,
        Kind::EmailVerified,
        "Email verified",
        format!("{} is now verified.", updated.email),
    );
    in_app::create(&txn, &mut effects, now, note).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(updated)
}

/// Always answers the same, whether or not the account exists, so it cannot be used to probe for emails.
pub async fn request_password_reset(services: &Services, email: &str) -> AppResult<()> {
    let Ok(email) = Email::parse(email, "email") else {
        return Ok(());
    };
    let Some(account) = db_account::user_by_email(&services.db, email.as_str()).await? else {
        return Ok(());
    };
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let code = match codes::issue(
        &txn,
        services.config.jwt_secret_bytes(),
        account.id,
        Purpose::PasswordReset,
        now,
    )
    .await
    {
        Ok(code) => code,
        // A second request within the resend interval is quietly ignored: the first code still works.
        Err(AppError::RateLimited { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    txn.commit().await?;
    let mut effects = Effects::default();
    effects.mail(Mail {
        to: account.email,
        subject: "Reset your Fundi password".into(),
        body: format!("Your Fundi password reset code is {code}\n\nIt expires in 5 minutes. If you did not ask for it, ignore this message; your password is unchanged.\n"),
    });
    services.after_commit(effects);
    Ok(())
}

pub async fn reset_password(
    services: &Services,
    email: &str,
    code: &str,
    new_password: &str,
) -> AppResult<()> {
    check_password(new_password, "newPassword")?;
    let invalid = || {
        AppError::bad_input(
            "code",
            "the code is wrong or has expired; request a new one",
        )
    };
    let email = Email::parse(email, "email")?;
    let account = db_account::user_by_email(&services.db, email.as_str())
        .await?
        .ok_or_else(invalid)?;
    let hash = passwords::hash(new_password.to_string())
        .await
        .map_err(AppError::internal)?;
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    if let Outcome::Refused(error) = codes::check(
        &txn,
        services.config.jwt_secret_bytes(),
        account.id,
        Purpose::PasswordReset,
        code,
        now,
    )
    .await?
    {
        txn.commit().await?;
        return Err(error);
    }
    let mut effects = Effects::default();
    let user_id = account.id;
    let address = account.email.clone();
    db_credentials::reset_password(&txn, account, hash, now).await?;
    sessions::revoke_all(&txn, &mut effects, user_id, None, "password reset", now).await?;
    password_changed(&txn, &mut effects, user_id, &address, now).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(())
}
