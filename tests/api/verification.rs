//! Email verification and password reset with mailed one-time codes.

use crate::support::*;
use serde_json::json;

const REQUEST: &str = "mutation { requestEmailVerification }";
const VERIFY: &str = "mutation($code: String!) { verifyEmail(code: $code) { emailVerified } }";
const SUBJECT: &str = "verification code";

fn wrong(code: &str) -> String {
    // A different 6-digit code: same length, never equal.
    code.chars()
        .map(|c| {
            if c == '9' {
                '0'
            } else {
                char::from(c as u8 + 1)
            }
        })
        .collect()
}

#[tokio::test]
async fn a_mailed_code_verifies_the_email_and_notifies() {
    let s = TestServer::start().await;
    let session = s.register("verify@example.com").await;
    s.ok(session.token(), REQUEST, json!({})).await;
    let code = s.mailed_code("verify@example.com", SUBJECT).await;
    let data = s.ok(session.token(), VERIFY, json!({"code": code})).await;
    assert_eq!(data["verifyEmail"]["emailVerified"], true);
    let notes = s
        .ok(
            session.token(),
            "{ notifications(first: 5) { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        notes["notifications"]["edges"][0]["node"]["kind"],
        "EMAIL_VERIFIED"
    );
}

#[tokio::test]
async fn a_used_code_cannot_be_used_again() {
    let s = TestServer::start().await;
    let session = s.register("reuse-code@example.com").await;
    s.ok(session.token(), REQUEST, json!({})).await;
    let code = s.mailed_code("reuse-code@example.com", SUBJECT).await;
    s.ok(session.token(), VERIFY, json!({"code": code})).await;
    let other = s.register("reuse-code-2@example.com").await;
    let error = s.err(other.token(), VERIFY, json!({"code": code})).await;
    assert_eq!(
        code_of(&error),
        "BAD_USER_INPUT",
        "a code belongs to one account"
    );
}

fn code_of(error: &serde_json::Value) -> &str {
    crate::support::code(error)
}

#[tokio::test]
async fn codes_expire_after_five_minutes() {
    let s = TestServer::start().await;
    let session = s.register("expire@example.com").await;
    s.ok(session.token(), REQUEST, json!({})).await;
    let code = s.mailed_code("expire@example.com", SUBJECT).await;
    s.advance_clock(chrono::Duration::seconds(301));
    let error = s.err(session.token(), VERIFY, json!({"code": code})).await;
    assert_eq!(
        (code_of(&error), error["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("code"))
    );
}

#[tokio::test]
async fn five_wrong_attempts_lock_the_code() {
    let s = TestServer::start().await;
    let session = s.register("lock@example.com").await;
    s.ok(session.token(), REQUEST, json!({})).await;
    let code = s.mailed_code("lock@example.com", SUBJECT).await;
    for _ in 0..5 {
        let error = s
            .err(session.token(), VERIFY, json!({"code": wrong(&code)}))
            .await;
        assert_eq!(code_of(&error), "BAD_USER_INPUT");
    }
    let locked = s.err(session.token(), VERIFY, json!({"code": code})).await;
    assert_eq!(
        code_of(&locked),
        "RATE_LIMITED",
        "the right code no longer works after five wrong ones"
    );
    s.advance_clock(chrono::Duration::seconds(61));
    s.ok(session.token(), REQUEST, json!({})).await;
    let fresh = s.mailed_code("lock@example.com", SUBJECT).await;
    if fresh != code {
        s.ok(session.token(), VERIFY, json!({"code": fresh})).await;
    }
}

#[tokio::test]
async fn a_new_code_waits_sixty_seconds() {
    let s = TestServer::start().await;
    let session = s.register("resend@example.com").await;
    s.ok(session.token(), REQUEST, json!({})).await;
    let error = s.err(session.token(), REQUEST, json!({})).await;
    assert_eq!(code_of(&error), "RATE_LIMITED");
    assert!(error["extensions"]["retryAfterSeconds"].as_i64().unwrap() > 0);
    s.advance_clock(chrono::Duration::seconds(61));
    s.ok(session.token(), REQUEST, json!({})).await;
}

#[tokio::test]
async fn malformed_codes_are_bad_input() {
    let s = TestServer::start().await;
    let session = s.register("malformed@example.com").await;
    s.ok(session.token(), REQUEST, json!({})).await;
    for bad in ["12345", "abcdef", ""] {
        let error = s.err(session.token(), VERIFY, json!({"code": bad})).await;
        assert_eq!(error["extensions"]["field"], "code", "{bad}");
    }
}

const RESET_REQUEST: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";
const RESET: &str = "mutation($input: ResetPasswordInput!) { resetPassword(input: $input) }";

#[tokio::test]
async fn password_reset_answers_the_same_for_unknown_emails() {
    let s = TestServer::start().await;
    s.register("exists@example.com").await;
    let known = s
        .gql(None, RESET_REQUEST, json!({"e": "exists@example.com"}))
        .await;
    let unknown = s
        .gql(None, RESET_REQUEST, json!({"e": "ghost@example.com"}))
        .await;
    assert_eq!(known, unknown);
    let again = s
        .gql(None, RESET_REQUEST, json!({"e": "exists@example.com"}))
        .await;
    assert_eq!(
        again, known,
        "a second request inside a minute looks the same too"
    );
}

#[tokio::test]
async fn reset_password_sets_the_new_one_and_signs_out_everywhere() {
    let s = TestServer::start().await;
    let session = s.register("forgot@example.com").await;
    s.ok(None, RESET_REQUEST, json!({"e": "forgot@example.com"}))
        .await;
    let code = s
        .mailed_code("forgot@example.com", "Reset your Fundi password")
        .await;
    let weak = s
        .err(
            None,
            RESET,
            json!({"input": {"email": "forgot@example.com", "code": code, "newPassword": "short"}}),
        )
        .await;
    assert_eq!(weak["extensions"]["field"], "newPassword");
    s.ok(None, RESET, json!({"input": {"email": "forgot@example.com", "code": code, "newPassword": "a fresh long passphrase"}})).await;
    assert_eq!(
        code_of(&s.err(session.token(), "{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code_of(&s.login("forgot@example.com", PASSWORD).await["errors"][0]),
        "UNAUTHENTICATED"
    );
    assert!(
        s.login("forgot@example.com", "a fresh long passphrase")
            .await["data"]["login"]
            .is_object()
    );
    let reused = s.err(None, RESET, json!({"input": {"email": "forgot@example.com", "code": code, "newPassword": "yet another passphrase"}})).await;
    assert_eq!(reused["extensions"]["field"], "code");
}
