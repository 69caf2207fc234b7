//! Where WebSocket clients put their access token: the keys accepted in `connection_init` and in-band
//! refresh payloads, with or without the `Bearer ` prefix.

use serde_json::Value;

/// What a payload says about the token.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented {
    /// No token at all: an anonymous connection.
    Absent,
    /// A token (the prefix removed), still to be verified.
    Token(String),
    /// Something under a token key that cannot be a token (a number, an object, `Basic …`).
    Malformed,
}

/// Keys read at the top level, in this order; `authorization` matches in any letter case, as HTTP
/// header names do. Clients differ: Apollo and urql examples use `authorization` or `Authorization`,
/// others `authToken` or `token`, and some copy their HTTP headers under `headers`.
const TOP_LEVEL: [&str; 2] = ["authToken", "token"];

pub fn presented(payload: &Value) -> Presented {
    let Some(object) = payload.as_object() else {
        return Presented::Absent;
    };
    let authorization = |map: &serde_json::Map<String, Value>| {
        map.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.clone())
    };
    let found = authorization(object)
        .or_else(|| {
            object
                .get("headers")
                .and_then(Value::as_object)
                .and_then(authorization)
        })
        .or_else(|| TOP_LEVEL.iter().find_map(|key| object.get(*key).cloned()));
    match found {
        None | Some(Value::Null) => Presented::Absent,
        Some(Value::String(text)) => from_text(&text),
        Some(_) => Presented::Malformed,
    }
}

fn from_text(text: &str) -> Presented {
    let text = text.trim();
    if text.is_empty() {
        return Presented::Absent;
    }
    if text.eq_ignore_ascii_case("bearer") {
        return Presented::Malformed;
    }
    let token = match text.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return Presented::Malformed,
        None => text,
    };
    if token.is_empty() {
        Presented::Malformed
    } else {
        Presented::Token(token.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_documented_key_carries_the_token_with_or_without_the_prefix() {
        let cases = [
            json!({"authorization": "Bearer abc"}),
            json!({"Authorization": "Bearer abc"}),
            json!({"AUTHORIZATION": "bearer abc"}),
            json!({"headers": {"Authorization": "Bearer abc"}}),
            json!({"headers": {"authorization": "abc"}}),
            json!({"authToken": "abc"}),
            json!({"authToken": "Bearer abc"}),
            json!({"token": "abc"}),
            json!({"token": "  Bearer   abc "}),
        ];
        for payload in cases {
            assert_eq!(
                presented(&payload),
                Presented::Token("abc".into()),
                "{payload}"
            );
        }
    }

    #[test]
    fn no_token_is_anonymous_and_a_wrong_shape_is_malformed() {
        for payload in [
            json!({}),
            json!(null),
            json!("x"),
            json!({"token": null}),
            json!({"token": ""}),
        ] {
            assert_eq!(presented(&payload), Presented::Absent, "{payload}");
        }
        for payload in [
            json!({"token": 42}),
            json!({"authorization": {"a": 1}}),
            json!({"authorization": "Basic dXNlcjpwdw=="}),
            json!({"authorization": "Bearer "}),
        ] {
            assert_eq!(presented(&payload), Presented::Malformed, "{payload}");
        }
    }

    #[test]
    fn the_authorization_key_wins_over_the_others() {
        let payload = json!({"token": "second", "Authorization": "Bearer first"});
        assert_eq!(presented(&payload), Presented::Token("first".into()));
    }
}
