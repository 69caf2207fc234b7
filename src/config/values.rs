//! How one setting's text becomes a value: clap value parsers whose error text is the message a bad value is refused with.

use super::{Environment, LogFormat, MIN_SECRET_BYTES};
use crate::domain::cancellation::{CancellationPolicy, FeeTier};
use crate::domain::client_address::TrustedProxies;
use base64::Engine;
use secrecy::SecretString;
use std::ops::RangeInclusive;
use std::path::PathBuf;

/// A whole number within `range`, e.g. `value_parser = whole(1..=1440)`.
pub fn whole(
    range: RangeInclusive<u64>,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |raw: &str| {
        let value: u64 = raw
            .trim()
            .parse()
            .map_err(|_| format!("expected a whole number, got {raw:?}"))?;
        if !range.contains(&value) {
            return Err(format!(
                "must be between {} and {}",
                range.start(),
                range.end()
            ));
        }
        Ok(value)
    }
}

/// On or off, spelt 1/true/on/yes or 0/false/off/no in any case.
pub fn switch(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" => Ok(false),
        other => Err(format!("expected true or false, got {other:?}")),
    }
}

pub fn environment(raw: &str) -> Result<Environment, String> {
    match raw {
        "development" | "dev" => Ok(Environment::Development),
        "production" | "prod" => Ok(Environment::Production),
        other => Err(format!("expected development or production, got {other:?}")),
    }
}

pub fn log_format(raw: &str) -> Result<LogFormat, String> {
    match raw {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("expected text or json, got {other:?}")),
    }
}

pub fn database_url(raw: &str) -> Result<String, String> {
    if ["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|scheme| raw.starts_with(scheme))
    {
        Ok(raw.to_string())
    } else {
        Err("expected a sqlite: or postgres:// URL".into())
    }
}

pub fn redis_url(raw: &str) -> Result<String, String> {
    if raw.starts_with("redis://") || raw.starts_with("rediss://") {
        Ok(raw.to_string())
    } else {
        Err("expected a redis:// or rediss:// URL".into())
    }
}

pub fn smtp_url(raw: &str) -> Result<SecretString, String> {
    if raw.starts_with("smtp://") || raw.starts_with("smtps://") {
        Ok(SecretString::from(raw))
    } else {
        Err("expected an smtp:// or smtps:// URL".into())
    }
}

/// The API's public origin, trimmed and without a trailing slash.
pub fn public_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else {
        Err("expected an http:// or https:// URL".into())
    }
}

pub fn otlp_endpoint(raw: &str) -> Result<String, String> {
    let endpoint = raw.trim();
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        Ok(endpoint.to_string())
    } else {
        Err("expected an http:// or https:// URL (OTLP over HTTP)".into())
    }
}

pub fn host_port(raw: &str) -> Result<String, String> {
    let bind = raw.trim();
    if bind.contains(':') {
        Ok(bind.to_string())
    } else {
        Err("expected host:port".into())
    }
}

pub fn metrics_token(raw: &str) -> Result<SecretString, String> {
    let token = raw.trim();
    if token.len() < 16 {
        return Err("must be at least 16 characters".into());
    }
    Ok(SecretString::from(token))
}

pub fn jwt_secret(raw: &str) -> Result<SecretString, String> {
    if raw.len() < MIN_SECRET_BYTES {
        return Err(format!("must be at least {MIN_SECRET_BYTES} bytes long"));
    }
    Ok(SecretString::from(raw))
}

/// 32 bytes, base64; kept as the (trimmed) base64 text the payout cipher decodes.
pub fn payout_key(raw: &str) -> Result<SecretString, String> {
    let key = raw.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| "expected base64".to_string())?;
    if decoded.len() != 32 {
        return Err("expected exactly 32 bytes once decoded".into());
    }
    Ok(SecretString::from(key))
}

/// A credential kept out of `Debug` output; its provider's group checks and trims it.
pub fn secret(raw: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(raw))
}

pub fn trimmed_path(raw: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(raw.trim()))
}

/// Comma-separated items, trimmed, empty ones dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommaList(pub Vec<String>);

pub fn comma_list(raw: &str) -> Result<CommaList, String> {
    Ok(CommaList(
        raw.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    ))
}

pub fn trusted_proxies(raw: &str) -> Result<TrustedProxies, String> {
    TrustedProxies::parse(raw)
}

/// `seconds:basis-points` pairs, longest notice first, the last one `0:bp` (the fee otherwise).
pub fn cancellation_tiers(raw: &str) -> Result<CancellationPolicy, String> {
    let bad = || "expected seconds:basis-points pairs, longest first, ending with 0:bp".to_string();
    let mut pairs = Vec::new();
    for part in raw.split(',') {
        let (secs, bp) = part.trim().split_once(':').ok_or_else(bad)?;
        pairs.push((
            secs.trim().parse::<i64>().map_err(|_| bad())?,
            bp.trim().parse::<u32>().map_err(|_| bad())?,
        ));
    }
    let (last_secs, otherwise) = pairs.pop().ok_or_else(bad)?;
    if last_secs != 0 {
        return Err(bad());
    }
    let policy = CancellationPolicy {
        tiers: pairs
            .into_iter()
            .map(|(more_than_secs, fee_bp)| FeeTier {
                more_than_secs,
                fee_bp,
            })
            .collect(),
        otherwise_fee_bp: otherwise,
    };
    policy.validate().map_err(|_| bad())?;
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_whole_and_within_their_range() {
        let minutes = whole(1..=1440);
        for (raw, expected) in [
            ("15", Ok(15)),
            (" 15 ", Ok(15)),
            ("0", Err("must be between 1 and 1440".to_string())),
            (
                "1.5",
                Err("expected a whole number, got \"1.5\"".to_string()),
            ),
            ("-1", Err("expected a whole number, got \"-1\"".to_string())),
        ] {
            assert_eq!(minutes(raw), expected, "{raw}");
        }
    }

    #[test]
    fn switches_take_the_usual_spellings() {
        for (raw, expected) in [
            ("TRUE", Ok(true)),
            ("on", Ok(true)),
            ("1", Ok(true)),
            ("No", Ok(false)),
            ("off", Ok(false)),
            (
                "maybe",
                Err("expected true or false, got \"maybe\"".to_string()),
            ),
        ] {
            assert_eq!(switch(raw), expected, "{raw}");
        }
    }

    #[test]
    fn the_documented_default_tiers_are_the_built_in_policy() {
        assert_eq!(
            cancellation_tiers("86400:0,21600:2500,7200:5000,0:7500"),
            Ok(CancellationPolicy::default())
        );
        for bad in ["", "3600:100", "60:100,3600:200,0:300", "x:1,0:2"] {
            assert!(cancellation_tiers(bad).is_err(), "{bad}");
        }
    }
}
