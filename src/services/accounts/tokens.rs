//! Access tokens (JWT, HS256 only) and opaque refresh tokens stored as hashes.

use crate::error::{AppError, AppResult};
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const ISSUER: &str = "fundi";
pub const AUDIENCE: &str = "fundi-api";
pub const ACCESS_TOKEN_TYPE: &str = "access";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    /// The session (refresh-token family) this token belongs to; revoking the session revokes it.
    pub sid: Uuid,
    pub role: String,
    pub typ: String,
    pub iat: i64,
    pub exp: i64,
}

/// Why a presented access token was refused. The message is safe to show to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

impl TokenError {
    pub fn message(self) -> &'static str {
        match self {
            TokenError::Expired => "access token expired",
            TokenError::Invalid => "invalid access token",
        }
    }
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        // Pin the algorithm: a token claiming any other `alg` (none, RS256 with our secret as a key) is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Expiry is checked against the service clock below, so tests can move time.
        validation.validate_exp = false;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(
        &self,
        user: Uuid,
        session: Uuid,
        role: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> AppResult<(String, DateTime<Utc>)> {
        let expires = now + chrono::Duration::from_std(ttl).map_err(AppError::internal)?;
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user,
            sid: session,
            role: role.into(),
            typ: ACCESS_TOKEN_TYPE.into(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok((token, expires))
    }

    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        let claims = data.claims;
        if claims.typ != ACCESS_TOKEN_TYPE {
            return Err(TokenError::Invalid);
        }
        if claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// A fresh refresh token: 256 random bits, URL-safe.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Refresh tokens carry 256 bits of entropy, so a fast hash is enough to make a stolen table useless.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> TokenKeys {
        TokenKeys::new(SECRET)
    }

    #[test]
    fn issued_tokens_verify() {
        let now = Utc::now();
        let (token, _) = keys()
            .issue(
                Uuid::now_v7(),
                Uuid::now_v7(),
                "CUSTOMER",
                now,
                std::time::Duration::from_secs(900),
            )
            .unwrap();
        let claims = keys().verify(&token, now).unwrap();
        assert_eq!(claims.role, "CUSTOMER");
        assert_eq!(claims.typ, "access");
    }

    #[test]
    fn expired_tokens_are_refused() {
        let now = Utc::now();
        let (token, _) = keys()
            .issue(
                Uuid::now_v7(),
                Uuid::now_v7(),
                "CUSTOMER",
                now,
                std::time::Duration::from_secs(900),
            )
            .unwrap();
        assert_eq!(
            keys().verify(&token, now + chrono::Duration::seconds(901)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tokens_signed_with_another_secret_are_refused() {
        let now = Utc::now();
        let other = TokenKeys::new(b"another-secret-another-secret-xx");
        let (token, _) = other
            .issue(
                Uuid::now_v7(),
                Uuid::now_v7(),
                "ADMIN",
                now,
                std::time::Duration::from_secs(900),
            )
            .unwrap();
        assert_eq!(keys().verify(&token, now), Err(TokenError::Invalid));
    }

    #[test]
    fn alg_none_is_refused() {
        let now = Utc::now();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"none","typ":"JWT"}"#);
        let claims = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": Uuid::now_v7(), "sid": Uuid::now_v7(),
            "role": "ADMIN", "typ": "access", "iat": now.timestamp(), "exp": now.timestamp() + 600});
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
        assert_eq!(
            keys().verify(&format!("{header}.{body}."), now),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn wrong_audience_or_type_is_refused() {
        let now = Utc::now();
        for (aud, typ) in [("someone-else", "access"), (AUDIENCE, "refresh")] {
            let claims = Claims {
                iss: ISSUER.into(),
                aud: aud.into(),
                sub: Uuid::now_v7(),
                sid: Uuid::now_v7(),
                role: "CUSTOMER".into(),
                typ: typ.into(),
                iat: now.timestamp(),
                exp: now.timestamp() + 600,
            };
            let token = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(SECRET),
            )
            .unwrap();
            assert_eq!(
                keys().verify(&token, now),
                Err(TokenError::Invalid),
                "{aud}/{typ}"
            );
        }
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        assert_ne!(a, new_refresh_token());
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
