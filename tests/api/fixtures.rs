//! Technician fixtures: sign-up, a complete profile, approval and availability, for tests that need matchable technicians.

use crate::support::*;
use base64::Engine;
use serde_json::{Value, json};

pub const NAIROBI: (f64, f64) = (-1.2921, 36.8219);

pub struct Tech {
    pub session: Session,
    /// The global `Technician` id.
    pub id: String,
    pub uuid: uuid::Uuid,
}

pub fn uuid_of(global_id: &str) -> uuid::Uuid {
    let text = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(global_id)
            .unwrap(),
    )
    .unwrap();
    uuid::Uuid::parse_str(text.split_once(':').unwrap().1).unwrap()
}

pub const UPDATE_PROFILE: &str =
    "mutation($input: TechnicianProfileInput!) { updateTechnicianProfile(input: $input) { id } }";

/// A technician with one plumbing skill (5 years), 10 years' experience, KES 1,000/h, based at `base`.
pub async fn technician(
    s: &TestServer,
    email: &str,
    base: Option<(f64, f64)>,
    overrides: Value,
) -> Tech {
    let session = s.register_as(email, "TECHNICIAN").await;
    let mut input = json!({
        "bio": "Fixes leaks fast",
        "yearsOfExperience": 10,
        "hourlyRate": {"amountMinor": 100000, "currency": "KES"},
        "serviceRadiusKm": 10.0,
        "skills": [{"category": "plumbing", "years": 5}],
        "timeZone": "Africa/Nairobi",
    });
    if let Some((lat, lng)) = base {
        input["baseLocation"] = json!({"lat": lat, "lng": lng});
    }
    for (key, value) in overrides.as_object().cloned().unwrap_or_default() {
        input[key] = value;
    }
    let data = s
        .ok(session.token(), UPDATE_PROFILE, json!({"input": input}))
        .await;
    let id = data["updateTechnicianProfile"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let uuid = uuid_of(&id);
    Tech { session, id, uuid }
}

/// Marks a technician's KYC approved directly in the database (the KYC tests cover the real review).
pub async fn approve(s: &TestServer, tech: &Tech) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &s.services().db;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE technician_profiles SET kyc_status = 'APPROVED' WHERE id = $1"
        }
        _ => "UPDATE technician_profiles SET kyc_status = 'APPROVED' WHERE id = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [tech.uuid.into()],
    ))
    .await
    .unwrap();
    fundi::services::matching::search::refresh_local(s.services(), tech.uuid)
        .await
        .unwrap();
}

pub async fn set_available(s: &TestServer, tech: &Tech, available: bool) -> Value {
    let status = if available { "AVAILABLE" } else { "OFFLINE" };
    s.gql(
        tech.session.token(),
        "mutation($s: AvailabilityStatus!) { setAvailability(status: $s) { availability } }",
        json!({"s": status}),
    )
    .await
}

/// Approved, available and based at `base`: matchable.
pub async fn ready(s: &TestServer, email: &str, base: (f64, f64), overrides: Value) -> Tech {
    let tech = technician(s, email, Some(base), overrides).await;
    approve(s, &tech).await;
    let answer = set_available(s, &tech, true).await;
    assert_eq!(
        answer["data"]["setAvailability"]["availability"], "AVAILABLE",
        "{answer}"
    );
    tech
}

/// A point `km` kilometres north of `from`.
pub fn north_of(from: (f64, f64), km: f64) -> (f64, f64) {
    (from.0 + km / 111.195, from.1)
}

pub const MATCH: &str = "query($input: MatchInput!) { matchTechnicians(input: $input) {
  technician { id fullName } score band distanceKm etaMinutes quotedHourlyRate { amountMinor formatted }
  factors { factor weight score explanation } } }";

pub async fn matches(
    s: &TestServer,
    customer: &Session,
    at: (f64, f64),
    extra: Value,
) -> Vec<Value> {
    let mut input =
        json!({"category": "plumbing", "location": {"lat": at.0, "lng": at.1}, "radiusKm": 20.0});
    for (key, value) in extra.as_object().cloned().unwrap_or_default() {
        input[key] = value;
    }
    let data = s.ok(customer.token(), MATCH, json!({"input": input})).await;
    data["matchTechnicians"].as_array().unwrap().clone()
}

pub fn ids(found: &[Value]) -> Vec<String> {
    found
        .iter()
        .map(|m| m["technician"]["id"].as_str().unwrap().to_string())
        .collect()
}
