//! Sign-ups are limited per client address, which also limits probing for registered emails.

use crate::support::*;
use serde_json::json;

const REGISTER: &str =
    "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }";

fn sign_up(email: &str) -> serde_json::Value {
    json!({"input": {"email": email, "password": PASSWORD, "fullName": "Probe", "role": "CUSTOMER"}})
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited_including_probes_for_taken_emails() {
    let s = TestServer::start_with(vec![("FUNDI_SIGNUPS_PER_HOUR", "3".into())]).await;
    s.ok(None, REGISTER, sign_up("taken@example.com")).await;
    let taken = s.err(None, REGISTER, sign_up("taken@example.com")).await;
    assert_eq!(code(&taken), "BAD_USER_INPUT", "{taken}");
    s.ok(None, REGISTER, sign_up("second@example.com")).await;
    for email in ["taken@example.com", "fresh@example.com"] {
        let refused = s.err(None, REGISTER, sign_up(email)).await;
        assert_eq!(code(&refused), "RATE_LIMITED", "{refused}");
        let retry = refused["extensions"]["retryAfterSeconds"].as_i64().unwrap();
        assert!((1..=3600).contains(&retry), "{refused}");
    }
}
