//! Registration, sign-in, throttling, login history and profile updates.

use crate::support::*;
use serde_json::json;

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken accessTokenExpiresAt user { email role phone } } }";

fn registration(email: &str, password: &str, phone: Option<&str>) -> serde_json::Value {
    json!({"input": {"email": email, "password": password, "fullName": "Wanjiru Kamau", "phone": phone}})
}

#[tokio::test]
async fn register_normalises_the_email_and_signs_in() {
    let s = TestServer::start().await;
    let data = s
        .ok(
            None,
            REGISTER,
            registration("  Wanjiru@Example.COM ", PASSWORD, Some("+254 712 345 678")),
        )
        .await;
    let user = &data["register"]["user"];
    assert_eq!(user["email"], "wanjiru@example.com");
    assert_eq!(user["role"], "CUSTOMER");
    assert_eq!(user["phone"], "+254712345678");
    let token = data["register"]["accessToken"].as_str().unwrap();
    let me = s
        .ok(
            Some(token),
            "{ me { email emailVerified totpEnabled } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["email"], "wanjiru@example.com");
    assert_eq!(me["me"]["emailVerified"], false);
}

#[tokio::test]
async fn register_rejects_each_bad_field_naming_it() {
    let s = TestServer::start().await;
    let cases = [
        (registration("not-an-email", PASSWORD, None), "email"),
        (registration("a@example.com", "short", None), "password"),
        (
            registration("a@example.com", "password123", None),
            "password",
        ),
        (
            registration("a@example.com", PASSWORD, Some("0712345678")),
            "phone",
        ),
        (
            json!({"input": {"email": "a@example.com", "password": PASSWORD, "fullName": "   "}}),
            "fullName",
        ),
        (
            json!({"input": {"email": "a@example.com", "password": PASSWORD, "fullName": "Boss", "role": "ADMIN"}}),
            "role",
        ),
    ];
    for (variables, field) in cases {
        let error = s.err(None, REGISTER, variables.clone()).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{variables}");
        assert_eq!(error["extensions"]["field"], field, "{variables}");
    }
    // Nothing was written by the refused attempts: the email is still free.
    s.ok(
        None,
        REGISTER,
        registration("a@example.com", PASSWORD, None),
    )
    .await;
}

#[tokio::test]
async fn duplicate_email_or_phone_is_refused() {
    let s = TestServer::start().await;
    s.ok(
        None,
        REGISTER,
        registration("dup@example.com", PASSWORD, Some("+254700000001")),
    )
    .await;
    let error = s
        .err(
            None,
            REGISTER,
            registration("DUP@example.com", PASSWORD, None),
        )
        .await;
    assert_eq!(
        (code(&error), error["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("email"))
    );
    let error = s
        .err(
            None,
            REGISTER,
            registration("other@example.com", PASSWORD, Some("+254700000001")),
        )
        .await;
    assert_eq!(
        (code(&error), error["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("phone"))
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_error() {
    let s = TestServer::start().await;
    s.register("known@example.com").await;
    let wrong_password = s.login("known@example.com", "not the password").await;
    let unknown = s.login("nobody@example.com", PASSWORD).await;
    assert_eq!(code(&wrong_password["errors"][0]), "UNAUTHENTICATED");
    assert_eq!(
        wrong_password["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(code(&unknown["errors"][0]), "UNAUTHENTICATED");
    let ok = s.login("KNOWN@example.com", PASSWORD).await;
    assert!(ok["data"]["login"]["accessToken"].is_string(), "{ok}");
}

#[tokio::test]
async fn ten_failed_logins_throttle_the_account_for_fifteen_minutes() {
    let s = TestServer::start().await;
    s.register("target@example.com").await;
    for _ in 0..10 {
        let r = s.login("target@example.com", "wrong password!").await;
        assert_eq!(code(&r["errors"][0]), "UNAUTHENTICATED");
    }
    let throttled = s.login("target@example.com", PASSWORD).await;
    assert_eq!(
        code(&throttled["errors"][0]),
        "RATE_LIMITED",
        "even the right password waits: {throttled}"
    );
    s.advance_clock(chrono::Duration::minutes(14));
    assert_eq!(
        code(&s.login("target@example.com", PASSWORD).await["errors"][0]),
        "RATE_LIMITED"
    );
    s.advance_clock(chrono::Duration::minutes(2));
    let ok = s.login("target@example.com", PASSWORD).await;
    assert!(ok["data"]["login"]["accessToken"].is_string(), "{ok}");
}

#[tokio::test]
async fn nine_failures_do_not_throttle() {
    let s = TestServer::start().await;
    s.register("nine@example.com").await;
    for _ in 0..9 {
        s.login("nine@example.com", "wrong password!").await;
    }
    assert!(s.login("nine@example.com", PASSWORD).await["data"]["login"].is_object());
}

#[tokio::test]
async fn login_history_records_each_attempt_with_client_details() {
    let s = TestServer::start().await;
    let session = s.register("history@example.com").await;
    s.login("history@example.com", "wrong password!").await;
    s.login("history@example.com", PASSWORD).await;
    let data = s
        .ok(session.token(), "{ loginHistory(first: 10) { edges { node { success failureReason ip } } pageInfo { hasNextPage } } }", json!({}))
        .await;
    let edges = data["loginHistory"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 3, "registration, failure and success: {data}");
    assert_eq!(edges[0]["node"]["success"], true);
    assert_eq!(edges[1]["node"]["success"], false);
    assert_eq!(edges[1]["node"]["failureReason"], "wrong password");
    assert_eq!(edges[0]["node"]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn me_needs_a_token() {
    let s = TestServer::start().await;
    let error = s.err(None, "{ me { id } }", json!({})).await;
    assert_eq!(code(&error), "UNAUTHENTICATED");
}

#[tokio::test]
async fn update_me_changes_name_phone_and_addresses() {
    let s = TestServer::start().await;
    let session = s.register("profile@example.com").await;
    let mutation = "mutation($input: UpdateMeInput!) { updateMe(input: $input) { fullName phone addresses { label city isDefault location { lat lng } } } }";
    let data = s
        .ok(
            session.token(),
            mutation,
            json!({"input": {"fullName": "Amina Otieno", "phone": "+254711000111", "addresses": [
                {"label": "Home", "line": "12 Ngong Road", "city": "Nairobi", "location": {"lat": -1.2921, "lng": 36.8219}},
                {"label": "Office", "line": "Kenyatta Ave", "city": "Nairobi", "isDefault": true}
            ]}}),
        )
        .await;
    let me = &data["updateMe"];
    assert_eq!(me["fullName"], "Amina Otieno");
    assert_eq!(me["phone"], "+254711000111");
    assert_eq!(me["addresses"][0]["location"]["lat"], -1.2921);
    assert_eq!(me["addresses"][1]["isDefault"], true);
    let cleared = s
        .ok(session.token(), mutation, json!({"input": {"phone": null}}))
        .await;
    assert_eq!(cleared["updateMe"]["phone"], serde_json::Value::Null);
    assert_eq!(
        cleared["updateMe"]["addresses"].as_array().unwrap().len(),
        2,
        "addresses untouched when left out"
    );
}

#[tokio::test]
async fn update_me_rejects_bad_addresses_and_writes_nothing() {
    let s = TestServer::start().await;
    let session = s.register("badaddr@example.com").await;
    let mutation = "mutation($input: UpdateMeInput!) { updateMe(input: $input) { fullName } }";
    let cases = [
        (
            json!([{"label": "Home", "line": "x", "city": "Nairobi", "location": {"lat": 91.0, "lng": 0.0}}]),
            "addresses[0].location.lat",
        ),
        (
            json!([{"label": "", "line": "x", "city": "Nairobi"}]),
            "addresses[0].label",
        ),
        (
            json!([{"label": "A", "line": "x", "city": "N", "isDefault": true}, {"label": "B", "line": "y", "city": "N", "isDefault": true}]),
            "addresses",
        ),
    ];
    for (addresses, field) in cases {
        let error = s
            .err(
                session.token(),
                mutation,
                json!({"input": {"fullName": "Changed", "addresses": addresses}}),
            )
            .await;
        assert_eq!(error["extensions"]["field"], field);
    }
    let me = s
        .ok(session.token(), "{ me { fullName } }", json!({}))
        .await;
    assert_eq!(
        me["me"]["fullName"], "Test Person",
        "a refused update leaves the name as it was"
    );
}

#[tokio::test]
async fn change_password_signs_out_other_sessions_only() {
    let s = TestServer::start().await;
    let first = s.register("change@example.com").await;
    let second = crate::support::Session::from_payload(
        &s.login("change@example.com", PASSWORD).await["data"]["login"],
    );
    let mutation = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
    let wrong = s
        .err(
            first.token(),
            mutation,
            json!({"c": "not my password", "n": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(wrong["extensions"]["field"], "currentPassword");
    s.ok(
        first.token(),
        mutation,
        json!({"c": PASSWORD, "n": "a brand new passphrase"}),
    )
    .await;
    assert!(
        s.ok(first.token(), "{ me { id } }", json!({})).await["me"]["id"].is_string(),
        "the session that changed it stays"
    );
    assert_eq!(
        code(&s.err(second.token(), "{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code(&s.login("change@example.com", PASSWORD).await["errors"][0]),
        "UNAUTHENTICATED"
    );
    assert!(
        s.login("change@example.com", "a brand new passphrase")
            .await["data"]["login"]
            .is_object()
    );
}
