//! Matching: who is found, how they are scored and ordered, and the weights behind the score.

use crate::fixtures::*;
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn only_approved_available_skilled_reachable_unblocked_technicians_are_matched() {
    let s = TestServer::start().await;
    let customer = s.register("customer@example.com").await;
    let good = ready(&s, "good@example.com", north_of(NAIROBI, 1.0), json!({})).await;
    let unapproved = technician(&s, "unapproved@example.com", Some(NAIROBI), json!({})).await;
    let offline = ready(&s, "offline@example.com", NAIROBI, json!({})).await;
    set_available(&s, &offline, false).await;
    let nowhere = technician(&s, "nowhere@example.com", None, json!({})).await;
    approve(&s, &nowhere).await;
    set_available(&s, &nowhere, true).await;
    let far = ready(&s, "far@example.com", north_of(NAIROBI, 30.0), json!({})).await;
    let short_reach = ready(
        &s,
        "short@example.com",
        north_of(NAIROBI, 6.0),
        json!({"serviceRadiusKm": 5.0}),
    )
    .await;
    let electrician = ready(
        &s,
        "sparks@example.com",
        NAIROBI,
        json!({"skills": [{"category": "electrical", "years": 3}]}),
    )
    .await;
    let blocked = ready(&s, "blocked@example.com", NAIROBI, json!({})).await;
    s.ok(
        customer.token(),
        "mutation($t: ID!) { blockTechnician(technicianId: $t) }",
        json!({"t": blocked.id}),
    )
    .await;

    let found = ids(&matches(&s, &customer, NAIROBI, json!({})).await);
    assert_eq!(
        found,
        vec![good.id.clone()],
        "only the good technician is matched"
    );
    for excluded in [
        &unapproved,
        &offline,
        &nowhere,
        &far,
        &short_reach,
        &electrician,
        &blocked,
    ] {
        assert!(!found.contains(&excluded.id));
    }
    s.ok(
        customer.token(),
        "mutation($t: ID!) { unblockTechnician(technicianId: $t) }",
        json!({"t": blocked.id}),
    )
    .await;
    let found = ids(&matches(&s, &customer, NAIROBI, json!({})).await);
    assert_eq!(
        found.first(),
        Some(&blocked.id),
        "unblocked, and nearer, so first"
    );

    // The directory a replica loads at start-up (the database filters the rows) holds exactly the
    // technicians the running one was kept current with: the approved, available ones with a
    // position, whatever their distance, reach or skill.
    let live = s
        .services()
        .matching
        .ids()
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>();
    let loaded = fundi::services::matching::search::load_index(&s.services().db)
        .await
        .unwrap();
    let loaded = loaded
        .ids()
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(loaded, live);
    assert_eq!(
        loaded.len(),
        5,
        "good, far, short reach, electrician, blocked"
    );
}

#[tokio::test]
async fn a_stale_live_position_falls_back_to_the_base_location() {
    let s = TestServer::start().await;
    let customer = s.register("c@example.com").await;
    let tech = ready(
        &s,
        "mover@example.com",
        north_of(NAIROBI, 40.0),
        json!({"serviceRadiusKm": 50.0}),
    )
    .await;
    assert!(
        matches(&s, &customer, NAIROBI, json!({})).await.is_empty(),
        "40 km away at base"
    );
    let moved = "mutation($lat: Float!, $lng: Float!) { updateLocation(lat: $lat, lng: $lng, accuracyM: 12, headingDeg: 90, speedKmh: 30) { lastPosition { lat } } }";
    s.ok(
        tech.session.token(),
        moved,
        json!({"lat": NAIROBI.0, "lng": NAIROBI.1}),
    )
    .await;
    let found = matches(&s, &customer, NAIROBI, json!({})).await;
    assert_eq!(
        ids(&found),
        vec![tech.id.clone()],
        "found at its live position"
    );
    assert_eq!(found[0]["distanceKm"], 0.0);
    s.advance_clock(chrono::Duration::minutes(16));
    // Access tokens last 15 minutes too: sign in again.
    let customer =
        Session::from_payload(&s.login("c@example.com", PASSWORD).await["data"]["login"]);
    assert!(
        matches(&s, &customer, NAIROBI, json!({})).await.is_empty(),
        "the live position went stale; back at base"
    );
}

#[tokio::test]
async fn scores_bands_and_etas_follow_the_rules() {
    let s = TestServer::start().await;
    let customer = s.register("score@example.com").await;
    // At the customer's door: skill 100, distance 100, availability 100, rating neutral 60,
    // experience 100, price 100 (no budget), response 60, completion 60, preference 60:
    // 25 + 20 + 15 + 9 + 10 + 5 + 3 + 1.8 + 1.2 = 90.0
    let near = ready(&s, "near@example.com", NAIROBI, json!({})).await;
    // Five km into a 10 km radius: distance scores 50, so 10 points fewer.
    let mid = ready(&s, "mid@example.com", north_of(NAIROBI, 5.0), json!({})).await;
    let found = matches(&s, &customer, NAIROBI, json!({})).await;
    assert_eq!(ids(&found), vec![near.id.clone(), mid.id.clone()]);
    assert_eq!(found[0]["score"], 90.0);
    assert_eq!(found[0]["band"], "EXCELLENT");
    assert_eq!(found[0]["etaMinutes"], 5, "never under five minutes");
    assert_eq!(found[1]["score"], 80.0);
    assert_eq!(found[1]["band"], "VERY_GOOD");
    assert_eq!(found[1]["etaMinutes"], 15, "three minutes a km");
    let factors = found[0]["factors"].as_array().unwrap();
    assert_eq!(factors.len(), 9);
    let weights: i64 = factors.iter().map(|f| f["weight"].as_i64().unwrap()).sum();
    assert_eq!(weights, 100);
    let rating = factors.iter().find(|f| f["factor"] == "RATING").unwrap();
    assert_eq!(rating["score"], 60.0, "no ratings yet: neutral, not zero");
    assert!(!rating["explanation"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn urgent_requests_quote_the_surged_rate() {
    let s = TestServer::start().await;
    let customer = s.register("urgent@example.com").await;
    ready(&s, "rate@example.com", NAIROBI, json!({})).await;
    let normal = matches(&s, &customer, NAIROBI, json!({"priority": "MEDIUM"})).await;
    let urgent = matches(&s, &customer, NAIROBI, json!({"priority": "URGENT"})).await;
    assert_eq!(normal[0]["quotedHourlyRate"]["amountMinor"], 100000);
    assert_eq!(urgent[0]["quotedHourlyRate"]["amountMinor"], 120000);
    assert_eq!(urgent[0]["quotedHourlyRate"]["formatted"], "KSh 1,200.00");
}

#[tokio::test]
async fn weights_must_add_up_to_one_hundred_and_change_the_score() {
    let s = TestServer::start().await;
    let admin_email = "weights-admin@example.com";
    fundi::services::accounts::account::create_staff(
        s.services(),
        admin_email,
        PASSWORD,
        "Admin",
        fundi::domain::account::Role::Admin,
    )
    .await
    .unwrap();
    let admin = Session::from_payload(&s.login(admin_email, PASSWORD).await["data"]["login"]);
    let customer = s.register("prefs@example.com").await;
    ready(&s, "w@example.com", north_of(NAIROBI, 5.0), json!({})).await;
    let update =
        "mutation($w: MatchingWeightsInput!) { updateMatchingWeights(input: $w) { distance } }";
    let all_distance = json!({"skill": 0, "distance": 100, "availability": 0, "rating": 0, "experience": 0,
        "priceVsBudget": 0, "responseTime": 0, "completionRate": 0, "customerPreference": 0});
    let mut too_much = all_distance.clone();
    too_much["skill"] = json!(10);
    let error = s.err(admin.token(), update, json!({"w": too_much})).await;
    assert_eq!(
        (code(&error), error["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("weights"))
    );
    assert_eq!(
        code(
            &s.err(customer.token(), update, json!({"w": all_distance}))
                .await
        ),
        "FORBIDDEN"
    );
    s.ok(admin.token(), update, json!({"w": all_distance}))
        .await;
    assert_eq!(
        matches(&s, &customer, NAIROBI, json!({})).await[0]["score"],
        50.0,
        "only distance counts now"
    );
    let mut all_skill = all_distance.clone();
    all_skill["distance"] = json!(0);
    all_skill["skill"] = json!(100);
    s.ok(
        customer.token(),
        "mutation($w: MatchingWeightsInput) { setMatchingPreferences(weights: $w) { skill } }",
        json!({"w": all_skill}),
    )
    .await;
    assert_eq!(
        matches(&s, &customer, NAIROBI, json!({})).await[0]["score"],
        100.0,
        "the customer's own weights win"
    );
}

#[tokio::test]
async fn bad_match_input_is_refused_and_technicians_cannot_search() {
    let s = TestServer::start().await;
    let customer = s.register("bad-match@example.com").await;
    let cases = [
        (
            json!({"category": "plumbing", "location": {"lat": 95.0, "lng": 0.0}}),
            "location.lat",
        ),
        (
            json!({"category": "plumbing", "location": {"lat": 0.0, "lng": 181.0}}),
            "location.lng",
        ),
        (
            json!({"category": "plumbing", "location": {"lat": 0.0, "lng": 0.0}, "radiusKm": 0.0}),
            "radiusKm",
        ),
        (
            json!({"category": "plumbing", "location": {"lat": 0.0, "lng": 0.0}, "radiusKm": 51.0}),
            "radiusKm",
        ),
        (
            json!({"category": "astrology", "location": {"lat": 0.0, "lng": 0.0}}),
            "category",
        ),
        (
            json!({"category": "plumbing", "location": {"lat": 0.0, "lng": 0.0}, "first": 0}),
            "first",
        ),
        (
            json!({"category": "plumbing", "location": {"lat": 0.0, "lng": 0.0}, "budget": {"amountMinor": -1, "currency": "KES"}}),
            "budget.amountMinor",
        ),
    ];
    for (input, field) in cases {
        let error = s
            .err(customer.token(), MATCH, json!({"input": input}))
            .await;
        assert_eq!(
            (code(&error), error["extensions"]["field"].as_str()),
            ("BAD_USER_INPUT", Some(field)),
            "{input}"
        );
    }
    let tech = technician(&s, "searcher@example.com", Some(NAIROBI), json!({})).await;
    let error = s
        .err(
            tech.session.token(),
            MATCH,
            json!({"input": {"category": "plumbing", "location": {"lat": 0.0, "lng": 0.0}}}),
        )
        .await;
    assert_eq!(code(&error), "FORBIDDEN");
}
