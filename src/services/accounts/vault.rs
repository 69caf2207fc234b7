//! Application-level encryption of payout details: AES-256-GCM with a key from settings, bound to
//! the owner's id so a sealed value copied onto another row does not open.

use crate::error::{AppError, AppResult};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// Sealed values start with this, so a future key or algorithm can sit beside it.
const VERSION: &str = "v1:";

pub struct Vault {
    cipher: Aes256Gcm,
}

impl Vault {
    /// `key` is 32 bytes in standard base64, as settings check at start-up.
    pub fn new(key: &SecretString) -> anyhow::Result<Vault> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(key.expose_secret())?;
        let cipher = Aes256Gcm::new_from_slice(&bytes)
            .map_err(|_| anyhow::anyhow!("the payout key must be 32 bytes"))?;
        Ok(Vault { cipher })
    }

    /// Whether a stored value was sealed here (plain values from before sealing have no prefix).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(VERSION)
    }

    pub fn seal(&self, owner: Uuid, plaintext: &[u8]) -> AppResult<String> {
        let mut nonce = [0u8; 12];
        rand::fill(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal(anyhow::anyhow!("sealing payout details failed")))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!(
            "{VERSION}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        ))
    }

    pub fn open(&self, owner: Uuid, sealed: &str) -> AppResult<Vec<u8>> {
        let broken = || {
            AppError::internal(anyhow::anyhow!(
                "sealed payout details of {owner} do not open with this key"
            ))
        };
        let raw = sealed.strip_prefix(VERSION).ok_or_else(broken)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| broken())?;
        if bytes.len() < 12 {
            return Err(broken());
        }
        let (nonce, body) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| broken())?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| broken())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        Vault::new(&SecretString::from(key)).unwrap()
    }

    #[test]
    fn sealed_details_open_for_their_owner_only() {
        let vault = vault();
        let owner = Uuid::now_v7();
        let sealed = vault.seal(owner, b"123456789012").unwrap();
        assert!(!sealed.contains("123456789012"));
        assert_eq!(vault.open(owner, &sealed).unwrap(), b"123456789012");
        assert!(vault.open(Uuid::now_v7(), &sealed).is_err());
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let vault = vault();
        let owner = Uuid::now_v7();
        assert_ne!(
            vault.seal(owner, b"same").unwrap(),
            vault.seal(owner, b"same").unwrap()
        );
    }

    #[test]
    fn another_key_or_a_tampered_value_does_not_open() {
        let owner = Uuid::now_v7();
        let sealed = vault().seal(owner, b"secret").unwrap();
        let other = Vault::new(&SecretString::from(
            base64::engine::general_purpose::STANDARD.encode([9u8; 32]),
        ))
        .unwrap();
        assert!(other.open(owner, &sealed).is_err());
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            vault()
                .open(owner, &String::from_utf8(tampered).unwrap())
                .is_err()
        );
    }
}
