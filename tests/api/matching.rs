//! Matching: who is found, how they are scored and ordered, and the weights behind the score.

use crate::fixtures::*;
use crate::support::*;
use sea_orm::EntityTrait;
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
    let loaded = fundi::services::matching::loading::load_index(&s.services().db)
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

/// The search a customer's app runs most: what the performance budget below is measured on.
const BENCHMARK: &str = "query($input: MatchInput!) { matchTechnicians(input: $input) {
  technician { id fullName } distanceKm etaMinutes score quotedHourlyRate { amountMinor } } }";

fn benchmark_input(category: &str) -> serde_json::Value {
    json!({"input": {"category": category, "location": {"lat": NAIROBI.0, "lng": NAIROBI.1},
        "radiusKm": 10.0, "first": 20}})
}

async fn signed_in_admin(s: &TestServer, email: &str) -> Session {
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
async fn a_search_runs_at_most_one_statement_besides_the_session_check() {
    let s = TestServer::start().await;
    let customer = s.register("budget@example.com").await;
    let mut techs = Vec::new();
    for i in 0..4 {
        let email = format!("budget-{i}@example.com");
        techs.push(ready(&s, &email, north_of(NAIROBI, f64::from(i)), json!({})).await);
    }
    // Stored directly: blocking through the API would also send an event whose return over the bus
    // makes this replica forget the customer once more, at a moment the counts below cannot foresee.
    let now = s.services().clock.now();
    let row = fundi::db::entities::technician_block::Model {
        id: uuid::Uuid::now_v7(),
        customer_id: uuid_of(&customer.user_id),
        technician_id: techs[3].uuid,
        created_at: now,
        updated_at: now,
    };
    fundi::db::entities::technician_block::Entity::insert(
        fundi::db::entities::technician_block::ActiveModel::from(row),
    )
    .exec(&s.services().db)
    .await
    .unwrap();
    let token = customer.token();

    // The first search reads the customer's own weights and blocks (one statement), then the
    // matched technicians' names (one more).
    let (body, first) = counted(&s, token, BENCHMARK, benchmark_input("plumbing")).await;
    let found = body["data"]["matchTechnicians"].as_array().unwrap().clone();
    assert_eq!(
        ids(&found),
        vec![
            techs[0].id.clone(),
            techs[1].id.clone(),
            techs[2].id.clone()
        ],
        "{body}"
    );
    assert!(
        found
            .iter()
            .all(|m| m["technician"]["fullName"] == "Test Person")
    );
    assert!(first <= 3, "first search: {first} statements");

    // From then on the category, the weights and the blocks are in memory: the session check and
    // the technicians' names are all that is read.
    let (again, warm) = counted(&s, token, BENCHMARK, benchmark_input("plumbing")).await;
    assert_eq!(again, body, "the same answer from memory");
    assert!(warm <= 2, "later searches: {warm} statements");

    // Without the technicians, nothing but the session check; the reasons cost nothing either.
    let bare =
        "query($input: MatchInput!) { matchTechnicians(input: $input) { score distanceKm } }";
    let (_, scores_only) = counted(&s, token, bare, benchmark_input("plumbing")).await;
    assert!(scores_only <= 1, "scores only: {scores_only} statements");
    let explained = "query($input: MatchInput!) { matchTechnicians(input: $input) {
      score factors { factor weight score explanation } } }";
    let (body, with_reasons) = counted(&s, token, explained, benchmark_input("plumbing")).await;
    assert_eq!(with_reasons, scores_only, "{body}");
    assert_eq!(
        body["data"]["matchTechnicians"][0]["factors"]
            .as_array()
            .unwrap()
            .len(),
        9
    );

    // An unknown category is still refused, with its reason, from the database.
    let (body, _) = counted(&s, token, BENCHMARK, benchmark_input("astrology")).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "category",
        "{body}"
    );
}

#[tokio::test]
async fn category_weight_and_block_changes_reach_the_next_search() {
    let s = TestServer::start().await;
    let admin = signed_in_admin(&s, "cache-admin@example.com").await;
    let customer = s.register("cache-customer@example.com").await;
    let near = ready(&s, "cache-near@example.com", NAIROBI, json!({})).await;
    let mid = ready(
        &s,
        "cache-mid@example.com",
        north_of(NAIROBI, 5.0),
        json!({}),
    )
    .await;
    let search = async |category: &str| {
        s.gql(customer.token(), BENCHMARK, benchmark_input(category))
            .await
    };
    // Each technician's changes also come back over the bus; the directory settles on both.
    eventually("both technicians", async || {
        search("plumbing").await["data"]["matchTechnicians"]
            .as_array()
            .is_some_and(|found| found.len() == 2)
    })
    .await;
    assert_eq!(
        search("plumbing").await["data"]["matchTechnicians"][0]["score"],
        90.0
    );

    // A category taken out of service is refused at once, and offered again when it returns.
    let plumbing = category_id(&s, &admin, "plumbing").await;
    let update = "mutation($id: ID!, $input: ServiceCategoryInput!) {
      updateServiceCategory(id: $id, input: $input) { active } }";
    s.ok(
        admin.token(),
        update,
        json!({"id": plumbing, "input": {"active": false}}),
    )
    .await;
    let refused = search("plumbing").await;
    assert_eq!(
        (
            code(&refused["errors"][0]),
            refused["errors"][0]["message"].as_str()
        ),
        (
            "BAD_USER_INPUT",
            Some("category plumbing is not offered any more")
        ),
        "{refused}"
    );
    s.ok(
        admin.token(),
        update,
        json!({"id": plumbing, "input": {"active": true}}),
    )
    .await;
    let offered = search("plumbing").await;
    assert_eq!(
        ids(offered["data"]["matchTechnicians"].as_array().unwrap()).len(),
        2,
        "{offered}"
    );

    // A category added now can be searched by its new slug.
    s.ok(
        admin.token(),
        "mutation($input: ServiceCategoryInput!) { createServiceCategory(input: $input) { id } }",
        json!({"input": {"slug": "roofing", "name": "Roofing"}}),
    )
    .await;
    s.ok(
        mid.session.token(),
        UPDATE_PROFILE,
        json!({"input": {"skills": [{"category": "plumbing", "years": 5}, {"category": "roofing", "years": 1}]}}),
    )
    .await;
    let roofers = search("roofing").await;
    assert_eq!(
        ids(roofers["data"]["matchTechnicians"].as_array().unwrap()),
        vec![mid.id.clone()],
        "{roofers}"
    );

    // The platform's weights, then the customer's own, then a block: each seen by the next search.
    let weights = |distance: i64, skill: i64| {
        json!({"skill": skill, "distance": distance, "availability": 0, "rating": 0, "experience": 0,
            "priceVsBudget": 0, "responseTime": 0, "completionRate": 0, "customerPreference": 0})
    };
    s.ok(
        admin.token(),
        "mutation($w: MatchingWeightsInput!) { updateMatchingWeights(input: $w) { distance } }",
        json!({"w": weights(100, 0)}),
    )
    .await;
    let found = search("plumbing").await["data"]["matchTechnicians"].clone();
    assert_eq!(
        (found[0]["score"].clone(), found[1]["score"].clone()),
        (json!(100.0), json!(50.0))
    );
    s.ok(
        customer.token(),
        "mutation($w: MatchingWeightsInput) { setMatchingPreferences(weights: $w) { skill } }",
        json!({"w": weights(0, 100)}),
    )
    .await;
    let found = search("plumbing").await["data"]["matchTechnicians"].clone();
    assert_eq!(found[0]["score"], 100.0, "skill only now: {found}");
    block(&s, &customer, &near).await;
    let found = search("plumbing").await["data"]["matchTechnicians"].clone();
    assert_eq!(ids(found.as_array().unwrap()), vec![mid.id.clone()]);
    s.ok(
        customer.token(),
        "mutation($w: MatchingWeightsInput) { setMatchingPreferences(weights: $w) { skill } }",
        json!({"w": null}),
    )
    .await;
    let found = search("plumbing").await["data"]["matchTechnicians"].clone();
    assert_eq!(
        found[0]["score"], 50.0,
        "the platform's weights again: {found}"
    );
}

/// Polls `check` on a search until it holds, for changes that travel between replicas.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never reached the search"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one Redis"]
async fn changes_made_on_one_instance_reach_searches_on_another() {
    let (a, b) = replicas().await;
    let admin = signed_in_admin(&a, "replica-cache-admin@example.com").await;
    let customer = a.register("replica-cache@example.com").await;
    let near = ready(&a, "replica-cache-near@example.com", NAIROBI, json!({})).await;
    let mid = ready(
        &a,
        "replica-cache-mid@example.com",
        north_of(NAIROBI, 5.0),
        json!({}),
    )
    .await;
    let on_b = async || {
        b.gql(customer.token(), BENCHMARK, benchmark_input("plumbing"))
            .await
    };
    eventually("the technicians", async || {
        on_b().await["data"]["matchTechnicians"]
            .as_array()
            .is_some_and(|found| found.len() == 2)
    })
    .await;

    // B now holds the customer, the category and the weights in memory; each changes on A.
    block(&a, &customer, &near).await;
    eventually("the block", async || {
        on_b().await["data"]["matchTechnicians"]
            .as_array()
            .is_some_and(|found| ids(found) == vec![mid.id.clone()])
    })
    .await;
    let weights = json!({"skill": 0, "distance": 100, "availability": 0, "rating": 0, "experience": 0,
        "priceVsBudget": 0, "responseTime": 0, "completionRate": 0, "customerPreference": 0});
    a.ok(
        admin.token(),
        "mutation($w: MatchingWeightsInput!) { updateMatchingWeights(input: $w) { distance } }",
        json!({"w": weights}),
    )
    .await;
    eventually("the platform's weights", async || {
        on_b().await["data"]["matchTechnicians"][0]["score"] == 50.0
    })
    .await;
    let mut own = weights.clone();
    own["distance"] = json!(0);
    own["skill"] = json!(100);
    a.ok(
        customer.token(),
        "mutation($w: MatchingWeightsInput) { setMatchingPreferences(weights: $w) { skill } }",
        json!({"w": own}),
    )
    .await;
    eventually("the customer's weights", async || {
        on_b().await["data"]["matchTechnicians"][0]["score"] == 100.0
    })
    .await;
    let plumbing = category_id(&a, &admin, "plumbing").await;
    a.ok(
        admin.token(),
        "mutation($id: ID!) { updateServiceCategory(id: $id, input: {active: false}) { active } }",
        json!({"id": plumbing}),
    )
    .await;
    eventually("the category's end", async || {
        code(&on_b().await["errors"][0]) == "BAD_USER_INPUT"
    })
    .await;
}

async fn block(s: &TestServer, customer: &Session, tech: &Tech) {
    s.ok(
        customer.token(),
        "mutation($t: ID!) { blockTechnician(technicianId: $t) }",
        json!({"t": tech.id}),
    )
    .await;
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: one instance cut off from Redis through a local proxy, then restored"]
async fn an_instance_that_missed_changes_while_cut_off_from_redis_reads_them_again() {
    let redis = require_redis();
    let proxy = Proxy::to_test_redis().await;
    let backend = std::sync::Arc::new(Backend::new().await);
    let prefix = format!("fundi-test-{}", uuid::Uuid::now_v7().simple());
    let through_proxy = Options {
        redis_url: Some(format!("redis://{}", proxy.addr)),
        channel_prefix: prefix.clone(),
        extra: Vec::new(),
    };
    let a = TestServer::start_on(backend.clone(), through_proxy).await;
    let direct = Options {
        redis_url: Some(redis),
        channel_prefix: prefix,
        extra: Vec::new(),
    };
    let b = TestServer::start_on(backend, direct).await;
    let admin = signed_in_admin(&b, "cut-off-admin@example.com").await;
    let customer = b.register("cut-off@example.com").await;
    let near = ready(&b, "cut-off-near@example.com", NAIROBI, json!({})).await;
    let mid = ready(
        &b,
        "cut-off-mid@example.com",
        north_of(NAIROBI, 5.0),
        json!({}),
    )
    .await;
    let on_a = async || {
        a.gql(customer.token(), BENCHMARK, benchmark_input("plumbing"))
            .await["data"]["matchTechnicians"]
            .clone()
    };
    eventually("the technicians", async || {
        on_a()
            .await
            .as_array()
            .is_some_and(|found| found.len() == 2)
    })
    .await;

    proxy.cut();
    wait_until(std::time::Duration::from_secs(10), || {
        a.services().bus.is_redis_subscribed() == Some(false)
    })
    .await;
    let weights = json!({"skill": 0, "distance": 100, "availability": 0, "rating": 0, "experience": 0,
        "priceVsBudget": 0, "responseTime": 0, "completionRate": 0, "customerPreference": 0});
    b.ok(
        admin.token(),
        "mutation($w: MatchingWeightsInput!) { updateMatchingWeights(input: $w) { distance } }",
        json!({"w": weights}),
    )
    .await;
    block(&b, &customer, &mid).await;
    outbox_drained(&b).await;
    let stale = on_a().await;
    assert_eq!(
        (stale.as_array().unwrap().len(), stale[0]["score"].clone()),
        (2, json!(90.0)),
        "A missed both changes while away: {stale}"
    );

    proxy.restore();
    eventually("what was missed", async || {
        let found = on_a().await;
        found
            .as_array()
            .is_some_and(|f| ids(f) == vec![near.id.clone()])
            && found[0]["score"] == 100.0
    })
    .await;
}

/// The id of the category with `slug`, active or not, as staff see it.
async fn category_id(s: &TestServer, admin: &Session, slug: &str) -> serde_json::Value {
    let categories = s
        .ok(
            admin.token(),
            "{ serviceCategories(includeInactive: true) { id slug } }",
            json!({}),
        )
        .await;
    categories["serviceCategories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == slug)
        .unwrap()["id"]
        .clone()
}
