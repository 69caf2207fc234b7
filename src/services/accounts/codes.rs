//! One-time codes sent by mail (email verification, password reset): issued, rate limited, checked and consumed.

use crate::db::accounts::codes as db_codes;
use crate::db::entities::one_time_code;
use crate::domain::account::CodePolicy;
use crate::error::{AppError, AppResult};
use crate::gateways::http::hmac_sha256;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use subtle::ConstantTimeEq;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    EmailVerification,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::EmailVerification => "EMAIL_VERIFICATION",
            Purpose::PasswordReset => "PASSWORD_RESET",
        }
    }
}

/// Codes are stored as a keyed hash: six digits are too few for a plain hash to hide them.
fn hash_code(key: &[u8], user_id: Uuid, purpose: Purpose, code: &str) -> String {
    let message = format!("otp|{}|{user_id}|{code}", purpose.as_str());
    hex::encode(hmac_sha256(key, &[message.as_bytes()]))
}

/// Issues a new code, replacing any earlier one. Refused within the resend interval of the last one.
pub async fn issue(
    txn: &impl ConnectionTrait,
    key: &[u8],
    user_id: Uuid,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let policy = CodePolicy::default();
    let latest = db_codes::latest(txn, user_id, purpose.as_str()).await?;
    if let Some(latest) = latest {
        let wait = policy.resend_after_secs - (now - latest.created_at).num_seconds();
        if wait > 0 {
            return Err(AppError::RateLimited {
                message: format!("a code was sent recently; try again in {wait} s"),
                retry_after_secs: wait,
            });
        }
    }
    db_codes::consume_all(txn, user_id, purpose.as_str(), now).await?;
    let code = format!(
        "{:0width$}",
        rand::random_range(0..10u32.pow(u32::try_from(policy.digits).map_err(AppError::internal)?)),
        width = policy.digits
    );
    let row = one_time_code::Model {
        id: Uuid::now_v7(),
        user_id,
        purpose: purpose.as_str().into(),
        code_hash: hash_code(key, user_id, purpose, &code),
        expires_at: now + chrono::Duration::seconds(policy.ttl_secs),
        attempts: 0,
        consumed_at: None,
        created_at: now,
        updated_at: now,
    };
    db_codes::insert(txn, row).await?;
    Ok(code)
}

/// The result of checking a code. A wrong guess must be committed even though the request fails.
#[derive(Debug)]
pub enum Outcome {
    Accepted,
    Refused(AppError),
}

/// Checks `code` and consumes it when right; a wrong one counts an attempt, and the fifth locks it.
pub async fn check(
    txn: &impl ConnectionTrait,
    key: &[u8],
    user_id: Uuid,
    purpose: Purpose,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let policy = CodePolicy::default();
    let invalid = || {
        AppError::bad_input(
            "code",
            "the code is wrong or has expired; request a new one",
        )
    };
    let Some(code) = policy.normalise(code) else {
        return Ok(Outcome::Refused(AppError::bad_input(
            "code",
            format!("the code has {} digits", policy.digits),
        )));
    };
    let current = db_codes::current(txn, user_id, purpose.as_str()).await?;
    let Some(current) = current.filter(|c| c.expires_at > now) else {
        return Ok(Outcome::Refused(invalid()));
    };
    if current.attempts >= policy.max_attempts {
        return Ok(Outcome::Refused(AppError::RateLimited {
            message: "too many wrong attempts; request a new code".into(),
            retry_after_secs: 0,
        }));
    }
    let expected = hash_code(key, user_id, purpose, &code);
    if bool::from(expected.as_bytes().ct_eq(current.code_hash.as_bytes())) {
        // Conditional: of two concurrent uses of one code, exactly one succeeds.
        let used = db_codes::consume(txn, current.id, now).await?;
        return Ok(if used == 1 {
            Outcome::Accepted
        } else {
            Outcome::Refused(invalid())
        });
    }
    db_codes::count_wrong_attempt(txn, current.id, policy.max_attempts).await?;
    Ok(Outcome::Refused(invalid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_hashes_depend_on_key_user_purpose_and_code() {
        let user = Uuid::now_v7();
        let base = hash_code(b"k1", user, Purpose::EmailVerification, "123456");
        assert_ne!(
            base,
            hash_code(b"k2", user, Purpose::EmailVerification, "123456")
        );
        assert_ne!(
            base,
            hash_code(b"k1", Uuid::now_v7(), Purpose::EmailVerification, "123456")
        );
        assert_ne!(
            base,
            hash_code(b"k1", user, Purpose::PasswordReset, "123456")
        );
        assert_ne!(
            base,
            hash_code(b"k1", user, Purpose::EmailVerification, "123457")
        );
        assert!(!base.contains("123456"));
    }
}
