//! The rules across settings, from a test's own variables: defaults, refusals, all-or-nothing providers.

use super::*;
use base64::Engine;
use std::collections::HashMap;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(move |name| map.get(name).cloned())
}

const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn defaults_apply_when_nothing_is_set() {
    let dir = std::env::temp_dir().join(format!("fundi-config-{}", uuid::Uuid::now_v7()));
    let c = config(&[("FUNDI_DATA_DIR", dir.to_str().unwrap())]).unwrap();
    assert_eq!(c.bind, "127.0.0.1:8080");
    assert!(c.database_url.starts_with("sqlite://"));
    assert!(c.redis_url.is_none());
    assert!(c.introspection);
    assert_eq!(c.jwt_secret_source, SecretSource::Generated);
    assert_eq!(c.access_token_ttl, Duration::from_secs(900));
    assert_eq!(
        c.database_max_connections, None,
        "the backend's own default"
    );
    assert_eq!(c.session_cache_entries, 100_000);
    let again = config(&[("FUNDI_DATA_DIR", dir.to_str().unwrap())]).unwrap();
    assert_eq!(
        c.jwt_secret.expose_secret(),
        again.jwt_secret.expose_secret(),
        "generated secret survives restarts"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn short_jwt_secret_is_refused_naming_the_variable() {
    let e = config(&[("FUNDI_JWT_SECRET", "short")]).unwrap_err();
    assert_eq!(e.var, "FUNDI_JWT_SECRET");
}

#[test]
fn production_refuses_a_generated_secret() {
    let e = config(&[("FUNDI_ENV", "production")]).unwrap_err();
    assert_eq!(e.var, "FUNDI_JWT_SECRET");
    let with_jwt = [("FUNDI_ENV", "production"), ("FUNDI_JWT_SECRET", SECRET)];
    let e = config(&with_jwt).unwrap_err();
    assert_eq!(e.var, "FUNDI_PAYOUT_ENCRYPTION_KEY");
    let key = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
    let complete = [
        ("FUNDI_ENV", "production"),
        ("FUNDI_JWT_SECRET", SECRET),
        ("FUNDI_PAYOUT_ENCRYPTION_KEY", key.as_str()),
    ];
    assert!(config(&complete).is_ok());
}

/// 32 bytes of 3, base64.
const PAYOUT_KEY: &str = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";

fn production(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
    let mut vars = vec![
        ("FUNDI_ENV", "production"),
        ("FUNDI_JWT_SECRET", SECRET),
        ("FUNDI_PAYOUT_ENCRYPTION_KEY", PAYOUT_KEY),
    ];
    vars.extend_from_slice(extra);
    config(&vars)
}

#[test]
fn production_hides_the_schema_unless_introspection_is_asked_for() {
    assert!(!production(&[]).unwrap().introspection);
    assert!(
        production(&[("FUNDI_INTROSPECTION", "true")])
            .unwrap()
            .introspection
    );
    let dir = std::env::temp_dir().join(format!("fundi-config-{}", uuid::Uuid::now_v7()));
    let development = config(&[
        ("FUNDI_JWT_SECRET", SECRET),
        ("FUNDI_DATA_DIR", dir.to_str().unwrap()),
    ])
    .unwrap();
    assert!(development.introspection);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn production_replicas_need_shared_upload_storage() {
    let redis = ("FUNDI_REDIS_URL", "redis://cache:6379");
    let e = production(&[redis]).unwrap_err();
    assert_eq!(e.var, "FUNDI_S3_BUCKET");
    assert!(e.message.contains("FUNDI_DATA_DIR_SHARED"), "{e}");
    assert!(production(&[redis, ("FUNDI_S3_BUCKET", "uploads")]).is_ok());
    assert!(production(&[redis, ("FUNDI_DATA_DIR_SHARED", "true")]).is_ok());
    assert!(
        production(&[]).is_ok(),
        "one server without Redis keeps local uploads"
    );
    let development = config(&[("FUNDI_JWT_SECRET", SECRET), redis]).unwrap();
    assert!(
        development.uploads_split_across_replicas(),
        "development starts, and warns"
    );
}

#[test]
fn metrics_settings_are_checked() {
    let base = ("FUNDI_JWT_SECRET", SECRET);
    for (var, value) in [
        ("FUNDI_METRICS_BIND", "9090"),
        ("FUNDI_METRICS_BIND", "127.0.0.1:8080"),
        ("FUNDI_METRICS_TOKEN", "short"),
    ] {
        assert_eq!(
            config(&[base, (var, value)]).unwrap_err().var,
            var,
            "{value}"
        );
    }
    let c = config(&[
        base,
        ("FUNDI_METRICS_BIND", "0.0.0.0:9090"),
        ("FUNDI_METRICS_TOKEN", "scrape-token-0123456789"),
    ])
    .unwrap();
    assert_eq!(c.metrics_bind.as_deref(), Some("0.0.0.0:9090"));
    assert!(c.metrics_token.is_some());
}

#[test]
fn server_timing_is_on_in_development_and_off_in_production_unless_set() {
    assert!(
        config(&[("FUNDI_JWT_SECRET", SECRET)])
            .unwrap()
            .server_timing
    );
    let key = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
    let production = [
        ("FUNDI_ENV", "production"),
        ("FUNDI_JWT_SECRET", SECRET),
        ("FUNDI_PAYOUT_ENCRYPTION_KEY", key.as_str()),
    ];
    assert!(!config(&production).unwrap().server_timing);
    let mut asked = production.to_vec();
    asked.push(("FUNDI_SERVER_TIMING", "true"));
    assert!(config(&asked).unwrap().server_timing);
    let off = [("FUNDI_JWT_SECRET", SECRET), ("FUNDI_SERVER_TIMING", "off")];
    assert!(!config(&off).unwrap().server_timing);
}

#[test]
fn the_payout_key_must_be_32_bytes_of_base64() {
    for bad in ["not base64!", "c2hvcnQ="] {
        let e = config(&[
            ("FUNDI_JWT_SECRET", SECRET),
            ("FUNDI_PAYOUT_ENCRYPTION_KEY", bad),
        ])
        .unwrap_err();
        assert_eq!(e.var, "FUNDI_PAYOUT_ENCRYPTION_KEY", "{bad}");
    }
}

#[test]
fn b2c_payouts_need_the_mpesa_app_and_their_credentials() {
    let e = config(&[
        ("FUNDI_JWT_SECRET", SECRET),
        ("FUNDI_MPESA_B2C_SHORTCODE", "600000"),
    ])
    .unwrap_err();
    assert_eq!(e.var, "FUNDI_MPESA_B2C_SHORTCODE");
    assert!(
        config(&[("FUNDI_JWT_SECRET", SECRET)])
            .unwrap()
            .mpesa_b2c
            .is_none()
    );
}

#[test]
fn bad_values_name_their_variable() {
    for (var, value) in [
        ("FUNDI_ENV", "staging"),
        ("FUNDI_LOG_FORMAT", "xml"),
        ("FUNDI_INTROSPECTION", "maybe"),
        ("FUNDI_DATABASE_URL", "mysql://x"),
        ("FUNDI_REDIS_URL", "http://x"),
        ("FUNDI_SMTP_URL", "http://x"),
        ("FUNDI_ACCESS_TOKEN_MINUTES", "0"),
        ("FUNDI_DATABASE_MAX_CONNECTIONS", "0"),
        ("FUNDI_DATABASE_MAX_CONNECTIONS", "1001"),
        ("FUNDI_DATABASE_MAX_CONNECTIONS", "twenty"),
        ("FUNDI_SESSION_CACHE_ENTRIES", "-1"),
    ] {
        let e = config(&[("FUNDI_JWT_SECRET", SECRET), (var, value)]).unwrap_err();
        assert_eq!(e.var, var, "{var}={value}");
    }
}

#[test]
fn s3_settings_need_a_bucket_and_paired_keys() {
    let base = [("FUNDI_JWT_SECRET", SECRET)];
    assert!(config(&base).unwrap().s3.is_none());
    let s3 = config(&[
        base[0],
        ("FUNDI_S3_BUCKET", "kyc"),
        ("FUNDI_S3_ENDPOINT", "http://127.0.0.1:9000"),
        ("FUNDI_S3_ACCESS_KEY_ID", "id"),
        ("FUNDI_S3_SECRET_ACCESS_KEY", "secret"),
    ])
    .unwrap()
    .s3
    .unwrap();
    assert_eq!(
        (s3.bucket.as_str(), s3.region.as_str()),
        ("kyc", "us-east-1")
    );
    let e = config(&[
        base[0],
        ("FUNDI_S3_BUCKET", "kyc"),
        ("FUNDI_S3_ACCESS_KEY_ID", "id"),
    ])
    .unwrap_err();
    assert_eq!(e.var, "FUNDI_S3_SECRET_ACCESS_KEY");
    let e = config(&[
        base[0],
        ("FUNDI_S3_BUCKET", "kyc"),
        ("FUNDI_S3_ENDPOINT", "minio:9000"),
    ])
    .unwrap_err();
    assert_eq!(e.var, "FUNDI_S3_ENDPOINT");
    let e = config(&[base[0], ("FUNDI_S3_ENDPOINT", "http://127.0.0.1:9000")]).unwrap_err();
    assert_eq!(e.var, "FUNDI_S3_BUCKET");
}

#[test]
fn stripe_needs_its_key_and_webhook_secret_together() {
    let base = [("FUNDI_JWT_SECRET", SECRET)];
    assert!(config(&base).unwrap().stripe.is_none());
    let stripe = config(&[
        base[0],
        ("FUNDI_STRIPE_SECRET_KEY", "sk_test_1"),
        ("FUNDI_STRIPE_WEBHOOK_SECRET", "whsec_1"),
    ])
    .unwrap()
    .stripe
    .unwrap();
    assert_eq!(stripe.api_base, "https://api.stripe.com");
    let e = config(&[base[0], ("FUNDI_STRIPE_SECRET_KEY", "sk_test_1")]).unwrap_err();
    assert_eq!(e.var, "FUNDI_STRIPE_WEBHOOK_SECRET");
    let e = config(&[base[0], ("FUNDI_STRIPE_WEBHOOK_SECRET", "whsec_1")]).unwrap_err();
    assert_eq!(e.var, "FUNDI_STRIPE_SECRET_KEY");
    let e = config(&[
        base[0],
        ("FUNDI_STRIPE_SECRET_KEY", "sk_test_1"),
        ("FUNDI_STRIPE_WEBHOOK_SECRET", "whsec_1"),
        ("FUNDI_STRIPE_API_BASE", "api.stripe.com"),
    ])
    .unwrap_err();
    assert_eq!(e.var, "FUNDI_STRIPE_API_BASE");
}

#[test]
fn razorpay_needs_its_key_pair_and_webhook_secret_together() {
    let base = [("FUNDI_JWT_SECRET", SECRET)];
    assert!(config(&base).unwrap().razorpay.is_none());
    let full = [
        base[0],
        ("FUNDI_RAZORPAY_KEY_ID", "rzp_test_1"),
        ("FUNDI_RAZORPAY_KEY_SECRET", "secret"),
        ("FUNDI_RAZORPAY_WEBHOOK_SECRET", "whsecret"),
    ];
    let razorpay = config(&full).unwrap().razorpay.unwrap();
    assert_eq!(razorpay.api_base, "https://api.razorpay.com");
    assert_eq!(razorpay.key_id, "rzp_test_1");
    assert_eq!(
        config(&full[..2]).unwrap_err().var,
        "FUNDI_RAZORPAY_KEY_SECRET"
    );
    assert_eq!(
        config(&full[..3]).unwrap_err().var,
        "FUNDI_RAZORPAY_WEBHOOK_SECRET"
    );
    assert_eq!(
        config(&[base[0], full[3]]).unwrap_err().var,
        "FUNDI_RAZORPAY_KEY_ID"
    );
    let mut bad_base = full.to_vec();
    bad_base.push(("FUNDI_RAZORPAY_API_BASE", "api.razorpay.com"));
    assert_eq!(
        config(&bad_base).unwrap_err().var,
        "FUNDI_RAZORPAY_API_BASE"
    );
}

#[test]
fn mpesa_settings_are_all_or_nothing() {
    let base = [("FUNDI_JWT_SECRET", SECRET)];
    assert!(config(&base).unwrap().mpesa.is_none());
    let full = [
        base[0],
        ("FUNDI_MPESA_CONSUMER_KEY", "key"),
        ("FUNDI_MPESA_CONSUMER_SECRET", "secret"),
        ("FUNDI_MPESA_SHORTCODE", "174379"),
        ("FUNDI_MPESA_PASSKEY", "passkey"),
        ("FUNDI_MPESA_CALLBACK_TOKEN", "0123456789abcdef"),
        ("FUNDI_MPESA_CALLBACK_BASE_URL", "https://api.example.com/"),
    ];
    let mpesa = config(&full).unwrap().mpesa.unwrap();
    assert_eq!(mpesa.api_base, "https://sandbox.safaricom.co.ke");
    assert_eq!(mpesa.callback_base_url, "https://api.example.com");
    let e = config(&full[..3]).unwrap_err();
    assert_eq!(e.var, "FUNDI_MPESA_SHORTCODE");
    let mut short_token = full;
    short_token[5].1 = "short";
    assert_eq!(
        config(&short_token).unwrap_err().var,
        "FUNDI_MPESA_CALLBACK_TOKEN"
    );
}

#[test]
fn a_redis_root_certificate_needs_a_tls_url_and_a_certificate_file() {
    let dir = tempfile_dir();
    let pem = dir.join("ca.pem");
    // Any certificate will do for parsing; this one is a self-signed test CA.
    std::fs::write(&pem, TEST_CA_PEM).unwrap();
    let not_pem = dir.join("key.txt");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let garbled = dir.join("garbled.pem");
    let body = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    std::fs::write(&garbled, body).unwrap();
    let (pem, not_pem) = (pem.to_str().unwrap(), not_pem.to_str().unwrap());
    let garbled = garbled.to_str().unwrap();
    let base = ("FUNDI_JWT_SECRET", SECRET);
    let tls = ("FUNDI_REDIS_URL", "rediss://cache.internal:6380");
    let c = config(&[base, tls, ("FUNDI_REDIS_ROOT_CERT", pem)]).unwrap();
    assert_eq!(c.redis_root_cert.unwrap().pem, TEST_CA_PEM.as_bytes());
    for vars in [
        vec![base, ("FUNDI_REDIS_ROOT_CERT", pem)],
        vec![
            base,
            ("FUNDI_REDIS_URL", "redis://cache.internal:6379"),
            ("FUNDI_REDIS_ROOT_CERT", pem),
        ],
        vec![base, tls, ("FUNDI_REDIS_ROOT_CERT", not_pem)],
        vec![base, tls, ("FUNDI_REDIS_ROOT_CERT", garbled)],
        vec![base, tls, ("FUNDI_REDIS_ROOT_CERT", "/nonexistent/ca.pem")],
    ] {
        let e = config(&vars).unwrap_err();
        assert_eq!(e.var, "FUNDI_REDIS_ROOT_CERT", "{vars:?}: {e}");
    }
    assert!(config(&[base, tls]).unwrap().redis_root_cert.is_none());
    std::fs::remove_dir_all(dir).ok();
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fundi-config-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A self-signed certificate authority made for these tests (P-256).
const TEST_CA_PEM: &str = "\
-----BEGIN CERTIFICATE-----
MIIBhTCCASugAwIBAgIUKEQPtLE1oPortuYb3gfbJW8ODvIwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNRnVuZGkgdGVzdCBDQTAeFw0yNjEyMDcwMTQ5MjVaFw0zNjEy
MDQwMTQ5MjVaMBgxFjAUBgNVBAMMDUZ1bmRpIHRlc3QgQ0EwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAT0uU6PAZhf5iZBoqL/nqRosmIm1eXnGb9V4bT79VZQtdH5
YOOKmpJaVHdJKyqr2xU0hODCsXUTg/DlFSwhRRM0o1MwUTAdBgNVHQ4EFgQUICv6
HiL7OSG/qYkooa9L+xnCGX4wHwYDVR0jBBgwFoAUICv6HiL7OSG/qYkooa9L+xnC
GX4wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAhM2MwKp6p9oo
cI2RYSmCDfB6ByDYss0bivxt76R/cEACIC03b+/FmxACHpF2OcyaPlVj9kgqWwhq
By915ofb3+1f
-----END CERTIFICATE-----
";

#[test]
fn the_pool_size_is_a_setting_within_bounds() {
    let set = |value| {
        config(&[
            ("FUNDI_JWT_SECRET", SECRET),
            ("FUNDI_DATABASE_MAX_CONNECTIONS", value),
        ])
    };
    assert_eq!(set("50").unwrap().database_max_connections, Some(50));
    let e = set("5000").unwrap_err().to_string();
    assert!(
        e.contains("FUNDI_DATABASE_MAX_CONNECTIONS") && e.contains("between 1 and 1000"),
        "{e}"
    );
}

#[test]
fn review_settings_default_to_14_days_a_24_hour_reminder_and_5_prior_reviews() {
    let dir = std::env::temp_dir().join(format!("fundi-config-{}", uuid::Uuid::now_v7()));
    let data_dir = ("FUNDI_DATA_DIR", dir.to_str().unwrap());
    let c = config(&[data_dir, ("FUNDI_JWT_SECRET", SECRET)]).unwrap();
    assert_eq!(c.reviews.window_secs, 14 * 86_400);
    assert_eq!(c.reviews.reminder_secs, 24 * 3_600);
    assert_eq!(c.reviews.prior_weight, 5);
    let e = config(&[
        data_dir,
        ("FUNDI_JWT_SECRET", SECRET),
        ("FUNDI_REVIEW_WINDOW_DAYS", "1"),
        ("FUNDI_REVIEW_REMINDER_HOURS", "24"),
    ])
    .unwrap_err();
    assert_eq!(e.var, "FUNDI_REVIEW_REMINDER_HOURS", "{e}");
    let plain = config(&[
        data_dir,
        ("FUNDI_JWT_SECRET", SECRET),
        ("FUNDI_RATING_PRIOR_REVIEWS", "0"),
    ])
    .unwrap();
    assert_eq!(plain.reviews.prior_weight, 0);
    std::fs::remove_dir_all(dir).ok();
}
