//! Two-factor sign-in with TOTP: setup, enable, sign-in with a single-use code, disable.

use crate::support::*;
use serde_json::json;

async fn enable(s: &TestServer, session: &Session) -> String {
    let setup = s
        .ok(
            session.token(),
            "mutation { setupTotp { secret otpauthUri } }",
            json!({}),
        )
        .await;
    let secret = setup["setupTotp"]["secret"].as_str().unwrap().to_string();
    assert!(
        setup["setupTotp"]["otpauthUri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let code =
        fundi::services::accounts::totp::current_code(&secret, s.services().clock.now()).unwrap();
    s.ok(
        session.token(),
        "mutation($c: String!) { enableTotp(code: $c) }",
        json!({"c": code}),
    )
    .await;
    secret
}

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { accessToken } }";

#[tokio::test]
async fn once_enabled_login_needs_a_code_that_works_once_per_step() {
    let s = TestServer::start().await;
    let session = s.register("2fa@example.com").await;
    let secret = enable(&s, &session).await;
    let me = s
        .ok(session.token(), "{ me { totpEnabled } }", json!({}))
        .await;
    assert_eq!(me["me"]["totpEnabled"], true);

    let without = s
        .err(
            None,
            LOGIN,
            json!({"input": {"email": "2fa@example.com", "password": PASSWORD}}),
        )
        .await;
    assert_eq!(code(&without), "UNAUTHENTICATED");
    assert!(without["message"].as_str().unwrap().contains("two-factor"));

    // The code used to enable was for this step; move on a step so a fresh code exists.
    s.advance_clock(chrono::Duration::seconds(30));
    let fresh =
        fundi::services::accounts::totp::current_code(&secret, s.services().clock.now()).unwrap();
    let input =
        json!({"input": {"email": "2fa@example.com", "password": PASSWORD, "totpCode": fresh}});
    assert!(s.ok(None, LOGIN, input.clone()).await["login"]["accessToken"].is_string());
    let replay = s.err(None, LOGIN, input).await;
    assert_eq!(
        code(&replay),
        "UNAUTHENTICATED",
        "a code is accepted once per 30-second step"
    );
    let wrong = s.err(None, LOGIN, json!({"input": {"email": "2fa@example.com", "password": PASSWORD, "totpCode": "000000"}})).await;
    assert_eq!(code(&wrong), "UNAUTHENTICATED");
}

#[tokio::test]
async fn enabling_needs_a_valid_code_and_disabling_needs_password_and_code() {
    let s = TestServer::start().await;
    let session = s.register("2fa-off@example.com").await;
    s.ok(
        session.token(),
        "mutation { setupTotp { secret } }",
        json!({}),
    )
    .await;
    let bad = s
        .err(
            session.token(),
            "mutation { enableTotp(code: \"12345x\") }",
            json!({}),
        )
        .await;
    assert_eq!(bad["extensions"]["field"], "code");
    let secret = enable(&s, &session).await;
    s.advance_clock(chrono::Duration::seconds(30));
    let code_now =
        fundi::services::accounts::totp::current_code(&secret, s.services().clock.now()).unwrap();
    let disable = "mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }";
    let wrong_password = s
        .err(
            session.token(),
            disable,
            json!({"p": "not the password", "c": code_now}),
        )
        .await;
    assert_eq!(wrong_password["extensions"]["field"], "password");
    s.ok(
        session.token(),
        disable,
        json!({"p": PASSWORD, "c": code_now}),
    )
    .await;
    let login = s.login("2fa-off@example.com", PASSWORD).await;
    assert!(
        login["data"]["login"].is_object(),
        "no code needed once disabled: {login}"
    );
}
