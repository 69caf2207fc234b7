//! What the payment providers' HTTP APIs share: one client with their timeouts, reading a refusal's
//! own explanation, and HMAC-SHA256 signatures.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::OnceLock;
use std::time::Duration;

/// One client for every provider call, so connections and TLS sessions are reused. Providers answer
/// within seconds; a hung call must not hold a customer's request open. The overall timeout here is
/// a backstop: Stripe and Razorpay set FUNDI_GATEWAY_TIMEOUT_SECONDS on each request, which wins.
pub fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        // Building fails only when the TLS backend cannot start, where `Client::new` panics too;
        // a process in that state cannot reach any provider.
        #[allow(clippy::expect_used)]
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .expect("a reqwest client with rustls builds")
    })
}

/// The provider's own explanation of a refusal, found at the JSON `pointer` of its answer, or the
/// HTTP status when the body has none.
pub fn refusal_message(
    body: &[u8],
    status: reqwest::StatusCode,
    provider: &str,
    pointer: &str,
) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer(pointer)
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("{provider} answered {status}"))
}

/// HMAC-SHA256 under `secret` of the parts, in order, as one message.
pub fn hmac_sha256(secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes a key of any length (a long one is hashed first); `new_from_slice` never fails.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_explained_in_the_providers_words_or_by_its_status() {
        let status = reqwest::StatusCode::PAYMENT_REQUIRED;
        let body = br#"{"error":{"message":"Your card was declined."}}"#;
        assert_eq!(
            refusal_message(body, status, "Stripe", "/error/message"),
            "Your card was declined."
        );
        assert_eq!(
            refusal_message(b"<html>", status, "Stripe", "/error/message"),
            "Stripe answered 402 Payment Required"
        );
    }

    #[test]
    fn a_message_in_parts_signs_like_the_whole() {
        // RFC 4231 test case 2.
        let whole = hmac_sha256(b"Jefe", &[b"what do ya want for nothing?"]);
        assert_eq!(
            hex::encode(&whole),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"]),
            whole
        );
    }
}
