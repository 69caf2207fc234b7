//! Technicians: the catalogue, profile validation and privacy, availability, working hours and positions.

use crate::fixtures::*;
use crate::support::*;
use serde_json::json;

async fn admin(s: &TestServer, email: &str) -> Session {
    fundi::services::accounts::account::create_staff(
        s.services(),
        email,
        PASSWORD,
        "Admin",
        fundi::domain::account::Role::Admin,
    )
    .await
    .unwrap();
    Session::from_payload(&s.login(email, PASSWORD).await["data"]["login"])
}

#[tokio::test]
async fn the_catalogue_is_seeded_and_admins_manage_it() {
    let s = TestServer::start().await;
    let list = s
        .ok(
            None,
            "{ serviceCategories { slug name active defaultHourlyRate { amountMinor currency } } }",
            json!({}),
        )
        .await;
    let slugs: Vec<&str> = list["serviceCategories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    for slug in [
        "plumbing",
        "electrical",
        "carpentry",
        "masonry",
        "painting",
        "hvac",
        "appliance-repair",
        "cleaning",
        "pest-control",
        "vehicle-service",
    ] {
        assert!(slugs.contains(&slug), "{slug} missing");
    }
    let boss = admin(&s, "cat-admin@example.com").await;
    let customer = s.register("cat-customer@example.com").await;
    let create = "mutation($input: ServiceCategoryInput!) { createServiceCategory(input: $input) { id slug active } }";
    let input = json!({"input": {"slug": "roofing", "name": "Roofing", "defaultHourlyRate": {"amountMinor": 170000, "currency": "KES"}}});
    assert_eq!(
        code(&s.err(customer.token(), create, input.clone()).await),
        "FORBIDDEN"
    );
    let created = s.ok(boss.token(), create, input.clone()).await;
    let duplicate = s.err(boss.token(), create, input).await;
    assert_eq!(duplicate["extensions"]["field"], "slug");
    let bad_slug = s
        .err(
            boss.token(),
            create,
            json!({"input": {"slug": "Roof ing!", "name": "x"}}),
        )
        .await;
    assert_eq!(bad_slug["extensions"]["field"], "slug");
    let id = created["createServiceCategory"]["id"].clone();
    let update = "mutation($id: ID!, $input: ServiceCategoryInput!) { updateServiceCategory(id: $id, input: $input) { active } }";
    s.ok(
        boss.token(),
        update,
        json!({"id": id, "input": {"active": false}}),
    )
    .await;
    let visible = s
        .ok(None, "{ serviceCategories { slug } }", json!({}))
        .await;
    assert!(
        !visible.to_string().contains("roofing"),
        "inactive categories are hidden"
    );
    let tech = s.register_as("roofer@example.com", "TECHNICIAN").await;
    let refused = s
        .err(
            tech.token(),
            UPDATE_PROFILE,
            json!({"input": {"skills": [{"category": "roofing", "years": 2}]}}),
        )
        .await;
    assert_eq!(
        refused["extensions"]["field"], "skills[0].category",
        "no new skills in an inactive category"
    );
}

#[tokio::test]
async fn every_profile_field_is_validated_and_nothing_is_half_written() {
    let s = TestServer::start().await;
    let tech = technician(&s, "validate@example.com", Some(NAIROBI), json!({})).await;
    let cases = [
        (json!({"bio": "x".repeat(601)}), "bio"),
        (json!({"yearsOfExperience": 61}), "yearsOfExperience"),
        (json!({"yearsOfExperience": -1}), "yearsOfExperience"),
        (
            json!({"hourlyRate": {"amountMinor": -5, "currency": "KES"}}),
            "hourlyRate.amountMinor",
        ),
        (
            json!({"hourlyRate": {"amountMinor": 5, "currency": "KE"}}),
            "hourlyRate.currency",
        ),
        (json!({"serviceRadiusKm": 0.5}), "serviceRadiusKm"),
        (json!({"serviceRadiusKm": 51.0}), "serviceRadiusKm"),
        (json!({"skills": []}), "skills"),
        (
            json!({"skills": [{"category": "juggling", "years": 1}]}),
            "skills[0].category",
        ),
        (
            json!({"skills": [{"category": "plumbing", "years": 1}, {"category": "plumbing", "years": 2}]}),
            "skills[1].category",
        ),
        (
            json!({"skills": [{"category": "plumbing", "years": 70}]}),
            "skills[0].years",
        ),
        (
            json!({"certifications": vec![json!({"name": "A", "issuer": "B"}); 11]}),
            "certifications",
        ),
        (
            json!({"certifications": [{"name": "Gas safe", "issuer": "NITA", "year": 1900}]}),
            "certifications[0].year",
        ),
        (
            json!({"certifications": [{"name": "", "issuer": "NITA"}]}),
            "certifications[0].name",
        ),
        (
            json!({"baseLocation": {"lat": 91.0, "lng": 0.0}}),
            "baseLocation.lat",
        ),
        (
            json!({"baseLocation": {"lat": 0.0, "lng": -181.0}}),
            "baseLocation.lng",
        ),
        (json!({"timeZone": "Mars/Olympus_Mons"}), "timeZone"),
    ];
    for (input, field) in cases {
        let mut with_bio = input.clone();
        with_bio["bio"] = with_bio.get("bio").cloned().unwrap_or(json!("Changed bio"));
        let error = s
            .err(
                tech.session.token(),
                UPDATE_PROFILE,
                json!({"input": with_bio}),
            )
            .await;
        assert_eq!(
            (code(&error), error["extensions"]["field"].as_str()),
            ("BAD_USER_INPUT", Some(field)),
            "{input}"
        );
    }
    let me = s
        .ok(
            tech.session.token(),
            "{ myTechnicianProfile { bio } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["myTechnicianProfile"]["bio"], "Fixes leaks fast",
        "refused updates changed nothing"
    );
    let customer = s.register("not-a-tech@example.com").await;
    let error = s
        .err(
            customer.token(),
            UPDATE_PROFILE,
            json!({"input": {"bio": "hi"}}),
        )
        .await;
    assert_eq!(code(&error), "FORBIDDEN");
}

const PROFILE: &str = "query($id: ID!) { technician(id: $id) { fullName bio hourlyRate { formatted } skills { category { slug } years }
  badges kycStatus email phone baseLocation { lat } lastPosition { lat } availabilityExceptions { date } } }";

#[tokio::test]
async fn the_public_profile_hides_contact_position_and_kyc() {
    let s = TestServer::start().await;
    let tech = ready(
        &s,
        "private@example.com",
        NAIROBI,
        json!({"serviceRadiusKm": 20.0, "yearsOfExperience": 6}),
    )
    .await;
    let stranger = s.register("stranger@example.com").await;
    let public = s
        .ok(stranger.token(), PROFILE, json!({"id": tech.id}))
        .await;
    let t = &public["technician"];
    assert_eq!(t["bio"], "Fixes leaks fast");
    assert_eq!(t["hourlyRate"]["formatted"], "KSh 1,000.00");
    assert_eq!(t["skills"][0]["category"]["slug"], "plumbing");
    assert_eq!(t["badges"], json!(["EXPERT", "CITY_WIDE"]));
    for hidden in [
        "kycStatus",
        "email",
        "phone",
        "baseLocation",
        "lastPosition",
        "availabilityExceptions",
    ] {
        assert!(t[hidden].is_null(), "{hidden} must be hidden from others");
    }
    let anonymous = s.ok(None, PROFILE, json!({"id": tech.id})).await;
    assert!(anonymous["technician"]["email"].is_null());
    let own = s
        .ok(tech.session.token(), PROFILE, json!({"id": tech.id}))
        .await;
    assert_eq!(own["technician"]["kycStatus"], "APPROVED");
    assert_eq!(own["technician"]["email"], "private@example.com");
    assert_eq!(own["technician"]["baseLocation"]["lat"], NAIROBI.0);
}

#[tokio::test]
async fn technicians_not_yet_approved_are_not_public() {
    let s = TestServer::start().await;
    let tech = technician(&s, "pending@example.com", Some(NAIROBI), json!({})).await;
    let stranger = s.register("looker@example.com").await;
    assert_eq!(
        code(
            &s.err(stranger.token(), PROFILE, json!({"id": tech.id}))
                .await
        ),
        "NOT_FOUND"
    );
    let own = s
        .ok(tech.session.token(), PROFILE, json!({"id": tech.id}))
        .await;
    assert_eq!(own["technician"]["kycStatus"], "NOT_SUBMITTED");
}

#[tokio::test]
async fn only_approved_technicians_can_become_available() {
    let s = TestServer::start().await;
    let tech = technician(&s, "avail@example.com", Some(NAIROBI), json!({})).await;
    let refused = set_available(&s, &tech, true).await;
    assert_eq!(code(&refused["errors"][0]), "FORBIDDEN");
    assert_eq!(
        set_available(&s, &tech, false).await["data"]["setAvailability"]["availability"],
        "OFFLINE"
    );
    approve(&s, &tech).await;
    assert_eq!(
        set_available(&s, &tech, true).await["data"]["setAvailability"]["availability"],
        "AVAILABLE"
    );
    let customer = s.register("avail-customer@example.com").await;
    let answer = s
        .gql(
            customer.token(),
            "mutation { setAvailability(status: AVAILABLE) { availability } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&answer["errors"][0]), "FORBIDDEN");
}

#[tokio::test]
async fn working_hours_and_exceptions_decide_when_a_technician_works() {
    let s = TestServer::start().await;
    // Kolkata is UTC+05:30, which makes local and UTC hours visibly different.
    let tech = ready(
        &s,
        "hours@example.com",
        NAIROBI,
        json!({"timeZone": "Asia/Kolkata"}),
    )
    .await;
    let set =
        "mutation($h: [WorkingHoursInput!]!) { setWorkingHours(hours: $h) { weekday start end } }";
    let hours: Vec<_> = (1..=5)
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
    let saved = s.ok(tech.session.token(), set, json!({"h": hours})).await;
    assert_eq!(saved["setWorkingHours"].as_array().unwrap().len(), 5);
    let works = "query($id: ID!, $at: DateTime!) { technicianWorksAt(technicianId: $id, at: $at) }";
    let ask = |at: &'static str| json!({"id": tech.id, "at": at});
    // Monday 2026-11-23 09:00 in Kolkata is 03:30 UTC.
    assert_eq!(
        s.ok(None, works, ask("2026-11-23T03:30:00Z")).await["technicianWorksAt"],
        true
    );
    assert_eq!(
        s.ok(None, works, ask("2026-11-23T03:29:00Z")).await["technicianWorksAt"],
        false
    );
    assert_eq!(
        s.ok(None, works, ask("2026-11-28T05:00:00Z")).await["technicianWorksAt"],
        false,
        "Saturday"
    );
    let add = "mutation($input: AvailabilityExceptionInput!) { addAvailabilityException(input: $input) { id date dayOff } }";
    let day_off = s
        .ok(
            tech.session.token(),
            add,
            json!({"input": {"date": "2026-11-23", "dayOff": true}}),
        )
        .await;
    assert_eq!(
        s.ok(None, works, ask("2026-11-23T05:00:00Z")).await["technicianWorksAt"],
        false,
        "day off"
    );
    s.ok(
        tech.session.token(),
        add,
        json!({"input": {"date": "2026-11-28", "dayOff": false, "start": "10:00", "end": "12:00"}}),
    )
    .await;
    assert_eq!(
        s.ok(None, works, ask("2026-11-28T05:00:00Z")).await["technicianWorksAt"],
        true,
        "extra hours on Saturday"
    );
    let remove = "mutation($id: ID!) { removeAvailabilityException(id: $id) }";
    s.ok(
        tech.session.token(),
        remove,
        json!({"id": day_off["addAvailabilityException"]["id"]}),
    )
    .await;
    assert_eq!(
        s.ok(None, works, ask("2026-11-23T05:00:00Z")).await["technicianWorksAt"],
        true
    );

    let bad = [
        (
            json!([{"weekday": 8, "start": "09:00", "end": "10:00"}]),
            "hours[0].weekday",
        ),
        (
            json!([{"weekday": 1, "start": "9am", "end": "10:00"}]),
            "hours[0].start",
        ),
        (
            json!([{"weekday": 1, "start": "11:00", "end": "10:00"}]),
            "hours[0]",
        ),
        (
            json!([{"weekday": 1, "start": "09:00", "end": "12:00"}, {"weekday": 1, "start": "11:00", "end": "13:00"}]),
            "hours[1]",
        ),
    ];
    for (hours, field) in bad {
        let error = s.err(tech.session.token(), set, json!({"h": hours})).await;
        assert_eq!(error["extensions"]["field"], field, "{hours}");
    }
    let bad_date = s
        .err(
            tech.session.token(),
            add,
            json!({"input": {"date": "23/11/2026", "dayOff": true}}),
        )
        .await;
    assert_eq!(bad_date["extensions"]["field"], "date");
}

#[tokio::test]
async fn location_updates_are_validated_and_kept() {
    let s = TestServer::start().await;
    let tech = technician(&s, "gps@example.com", Some(NAIROBI), json!({})).await;
    let update = "mutation($lat: Float!, $lng: Float!, $acc: Float, $heading: Float, $speed: Float) {
      updateLocation(lat: $lat, lng: $lng, accuracyM: $acc, headingDeg: $heading, speedKmh: $speed) { lastPosition { lat lng headingDeg recordedAt } } }";
    let cases = [
        (json!({"lat": -90.1, "lng": 0.0}), "lat"),
        (json!({"lat": 0.0, "lng": 180.5}), "lng"),
        (json!({"lat": 0.0, "lng": 0.0, "acc": -1.0}), "accuracyM"),
        (
            json!({"lat": 0.0, "lng": 0.0, "heading": 361.0}),
            "headingDeg",
        ),
        (json!({"lat": 0.0, "lng": 0.0, "speed": -3.0}), "speedKmh"),
    ];
    for (variables, field) in cases {
        let error = s.err(tech.session.token(), update, variables.clone()).await;
        assert_eq!(error["extensions"]["field"], field, "{variables}");
    }
    let kept = s
        .ok(
            tech.session.token(),
            update,
            json!({"lat": -1.3, "lng": 36.8, "acc": 5.0, "heading": 180.0, "speed": 20.0}),
        )
        .await;
    let position = &kept["updateLocation"]["lastPosition"];
    assert_eq!(position["lat"], -1.3);
    assert_eq!(position["headingDeg"], 180.0);
    assert!(position["recordedAt"].is_string());
    let customer = s.register("gps-customer@example.com").await;
    assert_eq!(
        code(
            &s.err(customer.token(), update, json!({"lat": 0.0, "lng": 0.0}))
                .await
        ),
        "FORBIDDEN"
    );
}
