//! KYC: technicians submit an ID and a selfie as multipart uploads, staff review them, and documents
//! stay private behind short-lived signed links.

use crate::support::*;
use fundi::domain::account::Role;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const SUBMIT: &str = "mutation($governmentId: Upload!, $selfie: Upload!) {
  submitKyc(governmentId: $governmentId, selfie: $selfie) {
    id status feedback documents { id kind contentType sizeBytes sha256 downloadUrl expiresAt }
  }
}";
const REVIEW: &str = "mutation($technicianId: ID!, $decision: KycDecision!, $feedback: String) {
  reviewKyc(technicianId: $technicianId, decision: $decision, feedback: $feedback) { id status feedback reviewedAt }
}";
const MY_KYC: &str = "{ myKyc { status latestSubmission { id status feedback documents { id kind } } history { fromStatus toStatus note } } }";
const QUEUE: &str = "query($after: String) { kycQueue(first: 10, after: $after) {
  edges { cursor node { id status technician { id email } documents { kind contentType } } }
  pageInfo { hasNextPage endCursor }
} }";
const DOCUMENT: &str = "query($id: ID!) { kycDocument(id: $id) { id kind contentType sizeBytes sha256 downloadUrl expiresAt } }";

/// A small but genuine-looking JPEG: SOI, a JFIF APP0 segment, filler, EOI.
fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00,
    ];
    bytes.resize(len.saturating_sub(2).max(bytes.len()), 0x5A);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n".to_vec()
}

fn png() -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend_from_slice(&[
        0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
    ]);
    bytes
}

/// One uploaded file: its name, declared type and bytes (the server must trust only the bytes).
struct Upload {
    name: &'static str,
    mime: &'static str,
    bytes: Vec<u8>,
}

fn file(name: &'static str, mime: &'static str, bytes: Vec<u8>) -> Upload {
    Upload { name, mime, bytes }
}

fn id_card() -> Upload {
    file("id-card.jpg", "image/jpeg", jpeg(4096))
}

fn selfie_pdf() -> Upload {
    file("selfie.pdf", "application/pdf", pdf())
}

fn part(upload: Upload) -> Part {
    Part::bytes(upload.bytes)
        .file_name(upload.name)
        .mime_str(upload.mime)
        .expect("mime type")
}

/// Sends submitKyc as a GraphQL multipart request and returns the status and body.
async fn submit_raw(
    s: &TestServer,
    token: Option<&str>,
    government_id: Upload,
    selfie: Upload,
) -> (u16, Value) {
    let operations = json!({"query": SUBMIT, "variables": {"governmentId": null, "selfie": null}});
    let map = json!({"0": ["variables.governmentId"], "1": ["variables.selfie"]});
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", map.to_string())
        .part("0", part(government_id))
        .part("1", part(selfie));
    let mut request = s.http().post(s.url("/graphql")).multipart(form);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

async fn submit(
    s: &TestServer,
    token: Option<&str>,
    government_id: Upload,
    selfie: Upload,
) -> Value {
    let (status, body) = submit_raw(s, token, government_id, selfie).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn submit_ok(s: &TestServer, token: Option<&str>) -> Value {
    let body = submit(s, token, id_card(), selfie_pdf()).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"]["submitKyc"].clone()
}

async fn staff(s: &TestServer, email: &str, role: Role) -> String {
    fundi::services::accounts::account::create_staff(
        s.services(),
        email,
        PASSWORD,
        "Staff Person",
        role,
    )
    .await
    .expect("staff account");
    let body = s.login(email, PASSWORD).await;
    body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("staff login: {body}"))
        .to_string()
}

async fn technician(s: &TestServer, email: &str) -> Session {
    s.register_as(email, "TECHNICIAN").await
}

async fn status_of(s: &TestServer, session: &Session) -> String {
    let data = s.ok(session.token(), MY_KYC, json!({})).await;
    data["myKyc"]["status"].as_str().unwrap().to_string()
}

async fn notification_kinds(s: &TestServer, session: &Session) -> Vec<String> {
    let data = s
        .ok(
            session.token(),
            "{ notifications(first: 20) { edges { node { kind body } } } }",
            json!({}),
        )
        .await;
    data["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Every file under the upload directory, to prove refusals store nothing.
fn stored_files(s: &TestServer) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() { count(&path) } else { 1 }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&s.mail_dir.parent().unwrap().join("uploads"))
}

async fn review(
    s: &TestServer,
    token: &str,
    technician_id: &str,
    decision: &str,
    feedback: Option<&str>,
) -> Value {
    s.gql(
        Some(token),
        REVIEW,
        json!({"technicianId": technician_id, "decision": decision, "feedback": feedback}),
    )
    .await
}

fn sha256_hex(bytes: &[u8]) -> String {
    fundi::services::platform::storage::sha256_hex(bytes)
}

#[tokio::test]
async fn a_technician_submits_documents_and_an_admin_approves_them() {
    let s = TestServer::start().await;
    let tech = technician(&s, "fundi@example.com").await;
    assert_eq!(status_of(&s, &tech).await, "NOT_SUBMITTED");

    let submission = submit_ok(&s, tech.token()).await;
    assert_eq!(submission["status"], "UNDER_REVIEW");
    let documents = submission["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0]["kind"], "GOVERNMENT_ID");
    assert_eq!(documents[0]["contentType"], "image/jpeg");
    assert_eq!(documents[0]["sizeBytes"], 4096);
    assert_eq!(documents[0]["sha256"], sha256_hex(&jpeg(4096)));
    assert_eq!(documents[1]["kind"], "SELFIE");
    assert_eq!(documents[1]["contentType"], "application/pdf");
    assert_eq!(documents[1]["sha256"], sha256_hex(&pdf()));
    assert_eq!(status_of(&s, &tech).await, "UNDER_REVIEW");
    assert_eq!(stored_files(&s), 2);

    let admin = staff(&s, "admin@example.com", Role::Admin).await;
    let queue = s.ok(Some(&admin), QUEUE, json!({})).await;
    let edges = queue["kycQueue"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["id"], submission["id"]);
    assert_eq!(edges[0]["node"]["technician"]["email"], "fundi@example.com");
    assert_eq!(
        edges[0]["node"]["documents"][1]["contentType"],
        "application/pdf"
    );

    let body = review(&s, &admin, &tech.user_id, "APPROVE", None).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["reviewKyc"]["status"], "APPROVED");
    assert!(body["data"]["reviewKyc"]["reviewedAt"].is_string());

    assert_eq!(status_of(&s, &tech).await, "APPROVED");
    let kinds = notification_kinds(&s, &tech).await;
    assert!(kinds.contains(&"KYC_SUBMITTED".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"KYC_APPROVED".to_string()), "{kinds:?}");
    let mine = s.ok(tech.token(), MY_KYC, json!({})).await;
    assert_eq!(
        mine["myKyc"]["history"],
        json!([
            {"fromStatus": "NOT_SUBMITTED", "toStatus": "UNDER_REVIEW", "note": null},
            {"fromStatus": "UNDER_REVIEW", "toStatus": "APPROVED", "note": null},
        ])
    );
    let queue = s.ok(Some(&admin), QUEUE, json!({})).await;
    assert!(queue["kycQueue"]["edges"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_queue_lists_oldest_first_across_pages() {
    let s = TestServer::start().await;
    let mut submitted = Vec::new();
    for i in 0..3 {
        let tech = technician(&s, &format!("queue{i}@example.com")).await;
        submitted.push(submit_ok(&s, tech.token()).await["id"].clone());
    }
    let support = staff(&s, "support@example.com", Role::Support).await;
    let first = "query($after: String) { kycQueue(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }";
    let page = s.ok(Some(&support), first, json!({})).await;
    let ids: Vec<Value> = page["kycQueue"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(ids, submitted[..2]);
    assert_eq!(page["kycQueue"]["pageInfo"]["hasNextPage"], true);
    let cursor = page["kycQueue"]["pageInfo"]["endCursor"].clone();
    let page = s.ok(Some(&support), first, json!({"after": cursor})).await;
    assert_eq!(page["kycQueue"]["edges"][0]["node"]["id"], submitted[2]);
    assert_eq!(page["kycQueue"]["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn a_document_over_five_megabytes_is_refused_naming_its_field() {
    let s = TestServer::start().await;
    let tech = technician(&s, "big@example.com").await;
    let too_big = file("id.jpg", "image/jpeg", jpeg(5 * 1024 * 1024 + 1));
    let body = submit(&s, tech.token(), too_big, selfie_pdf()).await;
    let error = &body["errors"][0];
    assert_eq!(code(error), "BAD_USER_INPUT", "{body}");
    assert_eq!(error["extensions"]["field"], "governmentId");
    assert_eq!(status_of(&s, &tech).await, "NOT_SUBMITTED");
    assert_eq!(stored_files(&s), 0);

    let at_limit = file("id.jpg", "image/jpeg", jpeg(5 * 1024 * 1024));
    let body = submit(&s, tech.token(), at_limit, selfie_pdf()).await;
    assert!(
        body.get("errors").is_none(),
        "exactly 5 MB is allowed: {body}"
    );
}

#[tokio::test]
async fn a_file_far_over_the_limit_is_refused_before_the_schema_runs() {
    let s = TestServer::start().await;
    let tech = technician(&s, "huge@example.com").await;
    let huge = file("id.jpg", "image/jpeg", jpeg(7 * 1024 * 1024));
    let (status, body) = submit_raw(&s, tech.token(), huge, selfie_pdf()).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body["errors"][0]), "BAD_USER_INPUT");
    assert_eq!(status_of(&s, &tech).await, "NOT_SUBMITTED");
}

#[tokio::test]
async fn a_multipart_request_without_its_map_is_a_400() {
    let s = TestServer::start().await;
    let tech = technician(&s, "malformed@example.com").await;
    let operations = json!({"query": SUBMIT, "variables": {"governmentId": null, "selfie": null}});
    let form = Form::new()
        .text("operations", operations.to_string())
        .part("0", part(id_card()));
    let response = s
        .http()
        .post(s.url("/graphql"))
        .bearer_auth(&tech.access)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body["errors"][0]), "BAD_USER_INPUT", "{body}");
    assert_eq!(stored_files(&s), 0);
}

#[tokio::test]
async fn files_are_judged_by_their_content_not_their_name_or_declared_type() {
    let s = TestServer::start().await;
    let tech = technician(&s, "types@example.com").await;
    let gif = file(
        "photo.jpg",
        "image/jpeg",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00;".to_vec(),
    );
    let body = submit(&s, tech.token(), id_card(), gif).await;
    assert_eq!(code(&body["errors"][0]), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "selfie");

    let text = file(
        "id.pdf",
        "application/pdf",
        b"definitely a passport, trust me".to_vec(),
    );
    let body = submit(&s, tech.token(), text, selfie_pdf()).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "governmentId",
        "{body}"
    );

    assert_eq!(status_of(&s, &tech).await, "NOT_SUBMITTED");
    assert_eq!(stored_files(&s), 0);

    // A real PNG declared as something else entirely is still a PNG.
    let disguised = file("notes.txt", "text/plain", png());
    let body = submit(&s, tech.token(), id_card(), disguised).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["submitKyc"]["documents"][1]["contentType"],
        "image/png"
    );
}

#[tokio::test]
async fn only_technicians_submit_kyc() {
    let s = TestServer::start().await;
    let customer = s.register("customer@example.com").await;
    let body = submit(&s, customer.token(), id_card(), selfie_pdf()).await;
    assert_eq!(code(&body["errors"][0]), "FORBIDDEN", "{body}");
    let body = submit(&s, None, id_card(), selfie_pdf()).await;
    assert_eq!(code(&body["errors"][0]), "UNAUTHENTICATED", "{body}");
    let error = s.err(customer.token(), MY_KYC, json!({})).await;
    assert_eq!(code(&error), "FORBIDDEN");
    assert_eq!(stored_files(&s), 0);
}

#[tokio::test]
async fn only_admins_decide_and_support_may_only_read() {
    let s = TestServer::start().await;
    let tech = technician(&s, "decide@example.com").await;
    submit_ok(&s, tech.token()).await;
    let other = technician(&s, "peer@example.com").await;
    let customer = s.register("c@example.com").await;
    let support = staff(&s, "support@example.com", Role::Support).await;
    for token in [
        other.access.as_str(),
        customer.access.as_str(),
        support.as_str(),
    ] {
        let body = review(&s, token, &tech.user_id, "APPROVE", None).await;
        assert_eq!(code(&body["errors"][0]), "FORBIDDEN", "{body}");
    }
    for token in [other.access.as_str(), customer.access.as_str()] {
        let error = s.err(Some(token), QUEUE, json!({})).await;
        assert_eq!(code(&error), "FORBIDDEN");
    }
    let queue = s.ok(Some(&support), QUEUE, json!({})).await;
    assert_eq!(queue["kycQueue"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(status_of(&s, &tech).await, "UNDER_REVIEW");
}

#[tokio::test]
async fn a_rejection_needs_feedback() {
    let s = TestServer::start().await;
    let tech = technician(&s, "nofeedback@example.com").await;
    submit_ok(&s, tech.token()).await;
    let admin = staff(&s, "admin@example.com", Role::Admin).await;
    for feedback in [None, Some("   ")] {
        let body = review(&s, &admin, &tech.user_id, "REJECT", feedback).await;
        let error = &body["errors"][0];
        assert_eq!(code(error), "BAD_USER_INPUT", "{body}");
        assert_eq!(error["extensions"]["field"], "feedback");
    }
    assert_eq!(status_of(&s, &tech).await, "UNDER_REVIEW");
}

#[tokio::test]
async fn a_rejected_technician_resubmits_and_returns_to_review() {
    let s = TestServer::start().await;
    let tech = technician(&s, "again@example.com").await;
    let first = submit_ok(&s, tech.token()).await;
    let admin = staff(&s, "admin@example.com", Role::Admin).await;
    let body = review(
        &s,
        &admin,
        &tech.user_id,
        "REJECT",
        Some("The ID photo is blurred"),
    )
    .await;
    assert_eq!(body["data"]["reviewKyc"]["status"], "REJECTED", "{body}");

    let mine = s.ok(tech.token(), MY_KYC, json!({})).await;
    assert_eq!(mine["myKyc"]["status"], "REJECTED");
    assert_eq!(
        mine["myKyc"]["latestSubmission"]["feedback"],
        "The ID photo is blurred"
    );
    assert!(
        notification_kinds(&s, &tech)
            .await
            .contains(&"KYC_REJECTED".to_string())
    );

    let second = submit_ok(&s, tech.token()).await;
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["status"], "UNDER_REVIEW");
    assert_eq!(status_of(&s, &tech).await, "UNDER_REVIEW");
    let queue = s.ok(Some(&admin), QUEUE, json!({})).await;
    let edges = queue["kycQueue"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["id"], second["id"]);
    let mine = s.ok(tech.token(), MY_KYC, json!({})).await;
    let history = mine["myKyc"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[1]["note"], "The ID photo is blurred");
    assert_eq!(history[2]["fromStatus"], "REJECTED");
}

#[tokio::test]
async fn submitting_under_review_or_after_approval_and_reviewing_twice_are_conflicts() {
    let s = TestServer::start().await;
    let tech = technician(&s, "twice@example.com").await;
    submit_ok(&s, tech.token()).await;
    let body = submit(&s, tech.token(), id_card(), selfie_pdf()).await;
    assert_eq!(code(&body["errors"][0]), "CONFLICT", "{body}");
    assert_eq!(stored_files(&s), 2, "the refused files were not kept");

    let admin = staff(&s, "admin@example.com", Role::Admin).await;
    let body = review(&s, &admin, &tech.user_id, "APPROVE", None).await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = review(&s, &admin, &tech.user_id, "REJECT", Some("changed my mind")).await;
    assert_eq!(code(&body["errors"][0]), "CONFLICT", "{body}");
    let body = submit(&s, tech.token(), id_card(), selfie_pdf()).await;
    assert_eq!(code(&body["errors"][0]), "CONFLICT", "{body}");

    let fresh = technician(&s, "fresh@example.com").await;
    let body = review(&s, &admin, &fresh.user_id, "APPROVE", None).await;
    assert_eq!(
        code(&body["errors"][0]),
        "CONFLICT",
        "nothing submitted: {body}"
    );
}

#[tokio::test]
async fn of_two_concurrent_reviews_exactly_one_wins() {
    let s = TestServer::start().await;
    let tech = technician(&s, "race@example.com").await;
    submit_ok(&s, tech.token()).await;
    let first = staff(&s, "first@example.com", Role::Admin).await;
    let second = staff(&s, "second@example.com", Role::Admin).await;
    let (a, b) = tokio::join!(
        review(&s, &first, &tech.user_id, "APPROVE", None),
        review(&s, &second, &tech.user_id, "REJECT", Some("not legible")),
    );
    let outcomes = [a, b];
    let wins = outcomes
        .iter()
        .filter(|b| b.get("errors").is_none())
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|b| code(&b["errors"][0]) == "CONFLICT")
        .count();
    assert_eq!((wins, conflicts), (1, 1), "{outcomes:?}");
    let mine = s.ok(tech.token(), MY_KYC, json!({})).await;
    assert_eq!(mine["myKyc"]["history"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn of_two_concurrent_submissions_one_wins_and_no_stray_files_remain() {
    let s = TestServer::start().await;
    let tech = technician(&s, "double@example.com").await;
    let (a, b) = tokio::join!(
        submit(&s, tech.token(), id_card(), selfie_pdf()),
        submit(&s, tech.token(), id_card(), selfie_pdf()),
    );
    let outcomes = [a, b];
    let wins = outcomes
        .iter()
        .filter(|b| b.get("errors").is_none())
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|b| code(&b["errors"][0]) == "CONFLICT")
        .count();
    assert_eq!((wins, conflicts), (1, 1), "{outcomes:?}");
    assert_eq!(
        stored_files(&s),
        2,
        "the losing submission's files were removed"
    );
    assert_eq!(status_of(&s, &tech).await, "UNDER_REVIEW");
}

async fn download(s: &TestServer, url: &str) -> reqwest::Response {
    s.http().get(s.url(url)).send().await.expect("download")
}

#[tokio::test]
async fn documents_are_private_to_their_technician_and_staff() {
    let s = TestServer::start().await;
    let tech = technician(&s, "owner@example.com").await;
    let submission = submit_ok(&s, tech.token()).await;
    let selfie_id = submission["documents"][1]["id"].clone();
    let admin = staff(&s, "admin@example.com", Role::Admin).await;
    let support = staff(&s, "support@example.com", Role::Support).await;

    for token in [tech.access.as_str(), admin.as_str(), support.as_str()] {
        let data = s.ok(Some(token), DOCUMENT, json!({"id": selfie_id})).await;
        let document = &data["kycDocument"];
        assert_eq!(document["kind"], "SELFIE");
        let response = download(&s, document["downloadUrl"].as_str().unwrap()).await;
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "application/pdf");
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment"),
            "{headers:?}"
        );
        assert_eq!(headers["cache-control"], "private, no-store");
        let bytes = response.bytes().await.unwrap();
        assert_eq!(bytes.as_ref(), pdf().as_slice());
        assert_eq!(document["sha256"], sha256_hex(&bytes));
    }

    let other = technician(&s, "nosy@example.com").await;
    let customer = s.register("customer@example.com").await;
    for session in [&other, &customer] {
        let error = s
            .err(session.token(), DOCUMENT, json!({"id": selfie_id}))
            .await;
        assert_eq!(code(&error), "FORBIDDEN", "{error}");
        let error = s
            .err(
                session.token(),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": selfie_id}),
            )
            .await;
        assert_eq!(code(&error), "NOT_FOUND", "{error}");
    }
    let node = s
        .ok(
            tech.token(),
            "query($id: ID!) { node(id: $id) { ... on KycSubmission { status documents { kind } } } }",
            json!({"id": submission["id"]}),
        )
        .await;
    assert_eq!(node["node"]["status"], "UNDER_REVIEW");
}

#[tokio::test]
async fn tampered_or_expired_download_links_get_403() {
    let s = TestServer::start().await;
    let tech = technician(&s, "links@example.com").await;
    let submission = submit_ok(&s, tech.token()).await;
    let url = submission["documents"][0]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(download(&s, &url).await.status(), 200);

    let (path, query) = url.split_once('?').unwrap();
    let mut expires = "";
    let mut sig = "";
    for pair in query.split('&') {
        match pair.split_once('=').unwrap() {
            ("expires", v) => expires = v,
            ("sig", v) => sig = v,
            _ => {}
        }
    }
    let flipped = format!(
        "{}{}",
        if sig.starts_with('0') { "1" } else { "0" },
        &sig[1..]
    );
    let later: i64 = expires.parse::<i64>().unwrap() + 3600;
    let other_doc = submission["documents"][1]["downloadUrl"].as_str().unwrap();
    let other_path = other_doc.split_once('?').unwrap().0;
    for forged in [
        format!("{path}?expires={expires}&sig={flipped}"),
        format!("{path}?expires={later}&sig={sig}"),
        format!("{other_path}?expires={expires}&sig={sig}"),
        format!("{path}?expires={expires}"),
        path.to_string(),
    ] {
        assert_eq!(download(&s, &forged).await.status(), 403, "{forged}");
    }

    s.advance_clock(chrono::Duration::minutes(6));
    let response = download(&s, &url).await;
    assert_eq!(response.status(), 403, "an expired link is refused");
}
