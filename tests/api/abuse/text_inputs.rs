//! Text a client sends may hold line breaks and tabs but no other control characters, and names may not
//! reverse their own direction; refusals name the field, on SQLite and PostgreSQL alike.

use crate::support::*;
use serde_json::json;

const UPDATE_ME: &str = "mutation($input: UpdateMeInput!) { updateMe(input: $input) { fullName addresses { line city } } }";
const REGISTER: &str =
    "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }";

fn addresses(line: &str) -> serde_json::Value {
    json!({"input": {"addresses": [
        {"label": "Home", "line": "12 Ngong Road", "city": "Nairobi"},
        {"label": "Office", "line": line, "city": "Nairobi"}
    ]}})
}

#[tokio::test]
async fn a_nul_in_any_text_variable_is_refused_naming_the_field() {
    let s = TestServer::start().await;
    let session = s.register("nul@example.com").await;
    for bad in ["Kenyatta\u{0}Ave", "bell\u{7}", "esc\u{1b}[2J", "c1\u{85}"] {
        let error = s.err(session.token(), UPDATE_ME, addresses(bad)).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{bad:?}: {error}");
        assert_eq!(error["extensions"]["field"], "addresses[1].line", "{error}");
    }
    let me = s
        .ok(session.token(), "{ me { addresses { line } } }", json!({}))
        .await;
    assert_eq!(me["me"]["addresses"], json!([]), "nothing was written");
}

#[tokio::test]
async fn a_control_character_written_into_the_document_is_refused_too() {
    let s = TestServer::start().await;
    let session = s.register("literal@example.com").await;
    let query = r#"mutation { updateMe(input: {addresses: [{label: "Home", line: "Ngong\u0000Road", city: "Nairobi"}]}) { fullName } }"#;
    let error = s.err(session.token(), query, json!({})).await;
    assert_eq!(code(&error), "BAD_USER_INPUT", "{error}");
    assert_eq!(error["extensions"]["field"], "addresses[0].line", "{error}");
}

#[tokio::test]
async fn line_breaks_and_tabs_are_text() {
    let s = TestServer::start().await;
    let session = s.register("tabs@example.com").await;
    let data = s
        .ok(
            session.token(),
            UPDATE_ME,
            addresses("Block A\tFlat 2\r\nGate B"),
        )
        .await;
    assert_eq!(
        data["updateMe"]["addresses"][1]["line"],
        "Block A\tFlat 2\r\nGate B"
    );
}

#[tokio::test]
async fn names_may_not_override_their_text_direction() {
    let s = TestServer::start().await;
    for (i, name) in ["Eve\u{202E}gpj.exe", "\u{2066}Mallory\u{2069}"]
        .iter()
        .enumerate()
    {
        let input = json!({"input": {"email": format!("rlo{i}@example.com"), "password": PASSWORD,
            "fullName": name, "role": "CUSTOMER"}});
        let error = s.err(None, REGISTER, input).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{error}");
        assert_eq!(error["extensions"]["field"], "fullName", "{error}");
    }
    let session = s.register("rename@example.com").await;
    let error = s
        .err(
            session.token(),
            UPDATE_ME,
            json!({"input": {"fullName": "Amina\u{202E}"}}),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "fullName", "{error}");
    let fine = s
        .ok(
            session.token(),
            UPDATE_ME,
            json!({"input": {"fullName": "عائشة Wanjiru"}}),
        )
        .await;
    assert_eq!(fine["updateMe"]["fullName"], "عائشة Wanjiru");
}
