//! What the server writes to its log: never the M-Pesa callback token, user email addresses or phone numbers.

use crate::process::ServerProcess;
use crate::support::*;
use serde_json::json;
use std::time::Duration;

const TOKEN: &str = "cb-secret-token-0123456789";
const EMAIL: &str = "private.person@example.com";

fn env(backend: &Backend, format: &str) -> Vec<(String, String)> {
    [
        ("FUNDI_BIND", "127.0.0.1:0".to_string()),
        (
            "FUNDI_DATA_DIR",
            backend.data_dir.path().display().to_string(),
        ),
        ("FUNDI_DATABASE_URL", backend.database_url.clone()),
        ("FUNDI_JWT_SECRET", JWT_SECRET.to_string()),
        // Request spans and their events are logged at debug; the callback's own warning at info.
        ("FUNDI_LOG", "info,tower_http=debug,fundi=debug".to_string()),
        ("FUNDI_LOG_FORMAT", format.to_string()),
        ("FUNDI_MPESA_CONSUMER_KEY", "key".to_string()),
        ("FUNDI_MPESA_CONSUMER_SECRET", "secret".to_string()),
        ("FUNDI_MPESA_SHORTCODE", "174379".to_string()),
        ("FUNDI_MPESA_PASSKEY", "passkey".to_string()),
        ("FUNDI_MPESA_CALLBACK_TOKEN", TOKEN.to_string()),
        (
            "FUNDI_MPESA_CALLBACK_BASE_URL",
            "https://api.fundi.test".to_string(),
        ),
        // Never called: nothing in this test pays.
        ("FUNDI_MPESA_API_BASE", "http://127.0.0.1:9".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[tokio::test]
async fn logs_never_show_the_mpesa_callback_token_or_personal_data() {
    for format in ["text", "json"] {
        let backend = Backend::new().await;
        let server = ServerProcess::spawn(&env(&backend, format)).expect("server starts");
        let http = reqwest::Client::new();
        let registered: serde_json::Value = http
            .post(server.url("/graphql"))
            .json(&json!({
                "query": "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }",
                "variables": {"input": {"email": EMAIL, "password": PASSWORD, "fullName": "Private Person", "phone": "+254708374149"}},
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = registered["data"]["register"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("registered: {registered}"));
        let asked = http
            .post(server.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({"query": "mutation { requestEmailVerification }"}))
            .send()
            .await
            .unwrap();
        assert!(asked.status().is_success());
        for path in [
            format!("/webhooks/mpesa/{TOKEN}"),
            format!("/webhooks/mpesa/{TOKEN}/b2c/result"),
            "/webhooks/mpesa/some-wrong-token-value/b2c/timeout".to_string(),
        ] {
            http.post(server.url(&path))
                .body("not json")
                .send()
                .await
                .unwrap();
        }
        wait_until(Duration::from_secs(10), || {
            let log = server.stderr();
            log.contains("mail written")
                && log.contains("unreadable M-Pesa callback ignored")
                && log.contains("b2c/timeout")
        })
        .await;
        let log = server.stderr();
        for secret in [TOKEN, "some-wrong-token-value", EMAIL, "254708374149"] {
            assert!(!log.contains(secret), "{format} log shows {secret}:\n{log}");
        }
        assert!(
            log.contains("/webhooks/mpesa/[redacted]"),
            "{format} log keeps the route, without the token:\n{log}"
        );
    }
}
