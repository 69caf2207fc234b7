//! Multipart uploads: files are counted before any is stored, so a request cannot make the server hold
//! thousands of temporary files.

use crate::support::*;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const SUBMIT: &str = "mutation($governmentId: Upload!, $selfie: Upload!) {
  submitKyc(governmentId: $governmentId, selfie: $selfie) { id status }
}";

fn jpeg() -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00,
    ];
    bytes.resize(512, 0x5A);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

fn image(name: String) -> Part {
    Part::bytes(jpeg())
        .file_name(name)
        .mime_str("image/jpeg")
        .unwrap()
}

async fn send(s: &TestServer, token: &str, form: Form) -> (u16, Value) {
    let response = s
        .http()
        .post(s.url("/graphql"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// A submitKyc request whose map names files 0 and 1, carrying `files` file parts in all.
fn submission(files: usize, map: Value) -> Form {
    let operations = json!({"query": SUBMIT, "variables": {"governmentId": null, "selfie": null}});
    let mut form = Form::new()
        .text("operations", operations.to_string())
        .text("map", map.to_string());
    for i in 0..files {
        form = form.part(i.to_string(), image(format!("{i}.jpg")));
    }
    form
}

fn usual_map() -> Value {
    json!({"0": ["variables.governmentId"], "1": ["variables.selfie"]})
}

async fn kyc_status(s: &TestServer, token: &str) -> String {
    let data = s.ok(Some(token), "{ myKyc { status } }", json!({})).await;
    data["myKyc"]["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_request_with_thousands_of_tiny_files_is_refused_before_any_is_stored() {
    let s = TestServer::start().await;
    let tech = s.register_as("parts@example.com", "TECHNICIAN").await;
    let (status, body) = send(&s, &tech.access, submission(4_000, usual_map())).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body["errors"][0]), "BAD_USER_INPUT", "{body}");
    assert_eq!(kyc_status(&s, &tech.access).await, "NOT_SUBMITTED");
}

#[tokio::test]
async fn submit_kyc_with_more_files_than_it_takes_is_refused() {
    let s = TestServer::start().await;
    let tech = s.register_as("six@example.com", "TECHNICIAN").await;
    let (status, body) = send(&s, &tech.access, submission(6, usual_map())).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body["errors"][0]), "BAD_USER_INPUT", "{body}");
    assert_eq!(kyc_status(&s, &tech.access).await, "NOT_SUBMITTED");

    let (status, body) = send(&s, &tech.access, submission(2, usual_map())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["submitKyc"]["status"], "UNDER_REVIEW",
        "{body}"
    );
}

#[tokio::test]
async fn each_place_a_file_is_used_counts_towards_the_limit() {
    let s = TestServer::start().await;
    let tech = s.register_as("reuse@example.com", "TECHNICIAN").await;
    let paths: Vec<String> = (0..500).map(|i| format!("variables.extra{i}")).collect();
    let mut uses = vec![
        "variables.governmentId".to_string(),
        "variables.selfie".into(),
    ];
    uses.extend(paths);
    let (status, body) = send(&s, &tech.access, submission(1, json!({ "0": uses }))).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body["errors"][0]), "BAD_USER_INPUT", "{body}");
    assert_eq!(kyc_status(&s, &tech.access).await, "NOT_SUBMITTED");
}
