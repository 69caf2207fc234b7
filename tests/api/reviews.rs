//! Reviews: the double-blind rule from every side and at the window's end, one review per side, no
//! review before payment or after the window, exact aggregates after publication, hiding and
//! restoring, helpful votes, reports and moderation by role, the one response, reminders, the
//! public list's orders and pages, `node(id)`, and the customer's rating on a job offer.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::payments::{completed, pay_input};
use crate::support::*;
use chrono::Duration;
use fundi::domain::account::Role;
use serde_json::{Value, json};

pub const SUBMIT: &str = "mutation($b: ID!, $input: ReviewInput!) {
  submitReview(bookingId: $b, input: $input) { id direction rating comment published
    aspects { quality punctuality communication value professionalism } } }";

const FIELDS: &str = "id direction rating comment published hidden hiddenReason helpfulCount
  viewerVotedHelpful authorName bookingId response { text }
  aspects { quality punctuality communication value professionalism }";

const SUMMARY: &str = "query($id: ID!) { technician(id: $id) { ratingAverage ratingCount badges
  ratingSummary { count average bayesianAverage
    aspects { quality punctuality communication value professionalism }
    distribution { stars count } } } }";

/// A direct job taken through to PAID: completed, balance paid, verified.
pub async fn paid_job(s: &TestServer, customer: &Session, tech: &Tech, key: &str) -> Value {
    let id = completed(s, customer, tech, key).await;
    let balance = pay_input(&id, "BALANCE", "SANDBOX", &format!("{key}-balance"), None);
    s.ok(customer.token(), PAY, balance).await;
    // Verifying a fully paid job settles it at once.
    step(s, customer, &id, "VERIFIED", None).await;
    let seen = s
        .ok(
            customer.token(),
            "query($id: ID!) { booking(id: $id) { status reviewsCloseAt } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(seen["booking"]["status"], "PAID", "{seen}");
    assert!(seen["booking"]["reviewsCloseAt"].is_string(), "{seen}");
    id
}

/// A customer's review: stars, the five aspects and a comment.
pub fn by_customer(rating: i64, aspects: [i64; 5], comment: &str) -> Value {
    json!({"rating": rating, "comment": comment, "aspects": {
        "quality": aspects[0], "punctuality": aspects[1], "communication": aspects[2],
        "value": aspects[3], "professionalism": aspects[4]}})
}

/// A technician's review of a customer: stars and a comment.
pub fn by_technician(rating: i64, comment: &str) -> Value {
    json!({"rating": rating, "comment": comment})
}

pub async fn submit(s: &TestServer, who: &Session, booking: &Value, input: Value) -> Value {
    s.gql(who.token(), SUBMIT, json!({"b": booking, "input": input}))
        .await
}

pub async fn ok_submit(s: &TestServer, who: &Session, booking: &Value, input: Value) -> Value {
    let body = submit(s, who, booking, input).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["submitReview"].clone()
}

/// The reviews of a booking that `who` may read.
async fn booking_reviews(s: &TestServer, who: &Session, booking: &Value) -> Vec<Value> {
    let query = format!("query($id: ID!) {{ booking(id: $id) {{ reviews {{ {FIELDS} }} }} }}");
    let data = s.ok(who.token(), &query, json!({"id": booking})).await;
    data["booking"]["reviews"].as_array().unwrap().clone()
}

/// A technician's public reviews as `token` reads them.
async fn public(s: &TestServer, token: Option<&str>, tech: &Tech, args: Value) -> Value {
    let query = format!(
        "query($t: ID!, $first: Int, $after: String, $order: ReviewOrder, $rating: Int) {{
           reviews(technicianId: $t, first: $first, after: $after, orderBy: $order, rating: $rating) {{
             totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {FIELDS} }} }} }} }}"
    );
    let mut variables = json!({"t": tech.id});
    for (k, v) in args.as_object().cloned().unwrap_or_default() {
        variables[k] = v;
    }
    let body = s.gql(token, &query, variables).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["reviews"].clone()
}

fn ratings_of(connection: &Value) -> Vec<i64> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["rating"].as_i64().unwrap())
        .collect()
}

async fn node(s: &TestServer, who: Option<&str>, id: &Value) -> Value {
    s.gql(
        who,
        "query($id: ID!) { node(id: $id) { id ... on Review { rating published } } }",
        json!({"id": id}),
    )
    .await
}

async fn notifications(s: &TestServer, who: &Session, kind: &str) -> Vec<Value> {
    let data = s
        .ok(
            who.token(),
            "{ notifications(first: 50) { nodes { kind title body } } }",
            json!({}),
        )
        .await;
    data["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}

async fn summary(s: &TestServer, tech: &Tech) -> Value {
    s.ok(None, SUMMARY, json!({"id": tech.id})).await["technician"].clone()
}

/// Moves past the window and runs the timed work; access tokens expired meanwhile, so callers
/// sign in again.
async fn close_windows(s: &TestServer) {
    s.advance_clock(Duration::days(14) + Duration::minutes(1));
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
}

async fn again(s: &TestServer, email: &str) -> Session {
    Session::from_payload(&s.login(email, PASSWORD).await["data"]["login"])
}

fn close_to(value: &Value, want: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - want).abs() < 1e-9)
}

#[tokio::test]
async fn neither_side_reads_the_other_review_until_both_have_written() {
    let s = TestServer::start().await;
    let customer = s.register("blind-customer@example.com").await;
    let tech = ready(&s, "blind-tech@example.com", NAIROBI, json!({})).await;
    let stranger = s.register("blind-stranger@example.com").await;
    let support = staff(&s, "blind-support@example.com", Role::Support).await;
    let job = paid_job(&s, &customer, &tech, "blind-job").await;

    let mine = ok_submit(
        &s,
        &customer,
        &job,
        by_customer(4, [5, 4, 4, 3, 5], "Fixed the leak"),
    )
    .await;
    assert_eq!(mine["published"], false, "{mine}");
    assert_eq!(mine["direction"], "CUSTOMER_TO_TECHNICIAN");
    // The author reads their own; the other side, strangers and the public do not.
    let own = booking_reviews(&s, &customer, &job).await;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["comment"], "Fixed the leak");
    assert!(booking_reviews(&s, &tech.session, &job).await.is_empty());
    assert_eq!(
        code(&node(&s, tech.session.token(), &mine["id"]).await["errors"][0]),
        "NOT_FOUND"
    );
    assert_eq!(
        code(&node(&s, stranger.token(), &mine["id"]).await["errors"][0]),
        "NOT_FOUND"
    );
    assert_eq!(public(&s, None, &tech, json!({})).await["totalCount"], 0);
    // Staff read everything.
    assert_eq!(
        node(&s, support.token(), &mine["id"]).await["data"]["node"]["rating"],
        4
    );
    assert_eq!(
        summary(&s, &tech).await["ratingCount"],
        0,
        "nothing counted yet"
    );

    let theirs = ok_submit(
        &s,
        &tech.session,
        &job,
        by_technician(5, "Clear directions"),
    )
    .await;
    assert_eq!(
        theirs["published"], true,
        "the second review publishes both"
    );
    for who in [&customer, &tech.session] {
        let both = booking_reviews(&s, who, &job).await;
        assert_eq!(both.len(), 2, "{both:?}");
        assert!(both.iter().all(|r| r["published"] == true), "{both:?}");
    }
    // The customer's review of the technician is public; the technician's of the customer is not.
    let listed = public(&s, None, &tech, json!({})).await;
    assert_eq!(listed["totalCount"], 1);
    let shown = &listed["edges"][0]["node"];
    assert_eq!(shown["authorName"], "Test P.");
    assert_eq!(
        shown["bookingId"],
        Value::Null,
        "strangers are not told which job"
    );
    assert_eq!(
        node(&s, stranger.token(), &mine["id"]).await["data"]["node"]["published"],
        true
    );
    assert_eq!(
        code(&node(&s, stranger.token(), &theirs["id"]).await["errors"][0]),
        "NOT_FOUND"
    );
    assert_eq!(
        node(&s, customer.token(), &theirs["id"]).await["data"]["node"]["rating"],
        5
    );
    // Each side is told their review is out.
    assert_eq!(
        notifications(&s, &tech.session, "REVIEW_RECEIVED")
            .await
            .len(),
        1
    );
    assert_eq!(
        notifications(&s, &customer, "REVIEW_RECEIVED").await.len(),
        1
    );
    assert_eq!(summary(&s, &tech).await["ratingCount"], 1);
}

#[tokio::test]
async fn the_window_end_publishes_what_was_written_and_closes_reviews() {
    let s = TestServer::start().await;
    let customer = s.register("window-customer@example.com").await;
    let tech = ready(&s, "window-tech@example.com", NAIROBI, json!({})).await;
    let job = paid_job(&s, &customer, &tech, "window-job").await;
    let written = ok_submit(&s, &customer, &job, by_customer(5, [5, 5, 5, 5, 5], "")).await;
    assert_eq!(
        written["comment"],
        Value::Null,
        "an empty comment is no comment"
    );
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    assert_eq!(
        public(&s, None, &tech, json!({})).await["totalCount"],
        0,
        "still blind"
    );

    close_windows(&s).await;
    let tech_session = again(&s, "window-tech@example.com").await;
    let seen = booking_reviews(&s, &tech_session, &job).await;
    assert_eq!(seen.len(), 1, "published at the window's end: {seen:?}");
    assert_eq!(seen[0]["published"], true);
    assert_eq!(public(&s, None, &tech, json!({})).await["totalCount"], 1);
    assert_eq!(summary(&s, &tech).await["ratingCount"], 1);
    // Too late for the technician now.
    let late = submit(&s, &tech_session, &job, by_technician(4, "late")).await;
    assert_eq!(code(&late["errors"][0]), "INVALID_TRANSITION", "{late}");
    assert!(
        late["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("closed"),
        "{late}"
    );
}

#[tokio::test]
async fn each_side_reviews_once_and_only_after_payment() {
    let s = TestServer::start().await;
    let customer = s.register("once-customer@example.com").await;
    let tech = ready(&s, "once-tech@example.com", NAIROBI, json!({})).await;
    let support = staff(&s, "once-support@example.com", Role::Support).await;
    let stranger = s.register("once-stranger@example.com").await;

    let unpaid = completed(&s, &customer, &tech, "once-unpaid").await;
    let early = submit(&s, &customer, &unpaid, by_customer(5, [5; 5], "too soon")).await;
    assert_eq!(code(&early["errors"][0]), "INVALID_TRANSITION", "{early}");

    let job = paid_job(&s, &customer, &tech, "once-job").await;
    let cases = [
        (by_customer(0, [5; 5], ""), "rating"),
        (by_customer(6, [5; 5], ""), "rating"),
        (json!({"rating": 5}), "aspects"),
        (by_customer(5, [5, 5, 0, 5, 5], ""), "aspects.communication"),
        (by_customer(5, [5; 5], &"x".repeat(2_001)), "comment"),
    ];
    for (input, field) in cases {
        let refused = submit(&s, &customer, &job, input).await;
        let error = &refused["errors"][0];
        assert_eq!(code(error), "BAD_USER_INPUT", "{field}: {refused}");
        assert_eq!(error["extensions"]["field"], field, "{refused}");
    }
    let with_aspects = submit(&s, &tech.session, &job, by_customer(5, [5; 5], "")).await;
    assert_eq!(
        with_aspects["errors"][0]["extensions"]["field"], "aspects",
        "{with_aspects}"
    );
    assert_eq!(
        code(&submit(&s, &stranger, &job, by_customer(5, [5; 5], "")).await["errors"][0]),
        "NOT_FOUND"
    );
    assert_eq!(
        code(&submit(&s, &support, &job, by_technician(5, "")).await["errors"][0]),
        "FORBIDDEN"
    );
    let anonymous = s
        .gql(
            None,
            SUBMIT,
            json!({"b": job, "input": by_technician(5, "")}),
        )
        .await;
    assert_eq!(code(&anonymous["errors"][0]), "UNAUTHENTICATED");

    ok_submit(
        &s,
        &customer,
        &job,
        by_customer(5, [5, 5, 5, 5, 5], &"y".repeat(2_000)),
    )
    .await;
    let twice = submit(
        &s,
        &customer,
        &job,
        by_customer(1, [1; 5], "changed my mind"),
    )
    .await;
    assert_eq!(code(&twice["errors"][0]), "CONFLICT", "{twice}");
    let reviews = booking_reviews(&s, &customer, &job).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["rating"], 5, "the first review stands");
}

#[tokio::test]
async fn aggregates_and_the_distribution_are_exact_after_publication_hiding_and_restoring() {
    let s = TestServer::start().await;
    let customer = s.register("agg-customer@example.com").await;
    let a = ready(&s, "agg-a@example.com", NAIROBI, json!({})).await;
    let b = ready(&s, "agg-b@example.com", north_of(NAIROBI, 1.0), json!({})).await;
    // Published in this order when the windows close: b's first, so a's figures are computed with
    // the whole platform's mean.
    let job_b = paid_job(&s, &customer, &b, "aggregates-b1").await;
    ok_submit(&s, &customer, &job_b, by_customer(1, [1; 5], "No show")).await;
    let mut a_jobs = Vec::new();
    for (i, (rating, aspects)) in [
        (5, [5, 5, 4, 5, 5]),
        (4, [4, 3, 4, 4, 5]),
        (2, [2, 1, 3, 2, 2]),
    ]
    .into_iter()
    .enumerate()
    {
        let job = paid_job(&s, &customer, &a, &format!("aggregates-a{i}")).await;
        let review = ok_submit(&s, &customer, &job, by_customer(rating, aspects, "")).await;
        a_jobs.push(review["id"].clone());
    }
    close_windows(&s).await;

    // a: 5, 4 and 2 stars; the platform: those and b's 1 star, a mean of 12 / 4 = 3. With 5 prior
    // reviews at that mean: (5 x 3 + 11) / (5 + 3) = 3.25.
    let seen = summary(&s, &a).await;
    let sum = &seen["ratingSummary"];
    assert_eq!(sum["count"], 3, "{seen}");
    assert_eq!(seen["ratingCount"], 3);
    assert!(close_to(&sum["average"], 11.0 / 3.0), "{seen}");
    assert!(close_to(&seen["ratingAverage"], 11.0 / 3.0), "{seen}");
    assert!(close_to(&sum["bayesianAverage"], 3.25), "{seen}");
    let aspects = &sum["aspects"];
    for (name, want) in [
        ("quality", 11.0 / 3.0),
        ("punctuality", 3.0),
        ("communication", 11.0 / 3.0),
        ("value", 11.0 / 3.0),
        ("professionalism", 4.0),
    ] {
        assert!(close_to(&aspects[name], want), "{name}: {seen}");
    }
    assert_eq!(
        sum["distribution"],
        json!([{"stars": 5, "count": 1}, {"stars": 4, "count": 1}, {"stars": 3, "count": 0},
               {"stars": 2, "count": 1}, {"stars": 1, "count": 0}])
    );
    // b: one 1-star review, published first against a platform mean of 1: (5 x 1 + 1) / 6 = 1.
    let b_seen = summary(&s, &b).await;
    assert!(
        close_to(&b_seen["ratingSummary"]["bayesianAverage"], 1.0),
        "{b_seen}"
    );

    // Hiding the 2-star review takes it out: a has 5 and 4 (4.5), the platform 5, 4 and 1 (10 / 3):
    // (5 x 10/3 + 9) / 7 = 11 / 3.
    let admin = staff(&s, "agg-admin@example.com", Role::Admin).await;
    let hide = "mutation($r: ID!, $a: ReviewModerationAction!) {
      moderateReview(reviewId: $r, action: $a, reason: \"Abusive language\") { hidden hiddenReason } }";
    let hidden = s
        .ok(admin.token(), hide, json!({"r": a_jobs[2], "a": "HIDE"}))
        .await;
    assert_eq!(hidden["moderateReview"]["hidden"], true);
    assert_eq!(hidden["moderateReview"]["hiddenReason"], "Abusive language");
    let seen = summary(&s, &a).await;
    let sum = &seen["ratingSummary"];
    assert_eq!(sum["count"], 2, "{seen}");
    assert!(close_to(&sum["average"], 4.5), "{seen}");
    assert!(close_to(&sum["bayesianAverage"], 11.0 / 3.0), "{seen}");
    assert!(close_to(&sum["aspects"]["punctuality"], 4.0), "{seen}");
    assert!(close_to(&sum["aspects"]["professionalism"], 5.0), "{seen}");
    assert_eq!(sum["distribution"][3], json!({"stars": 2, "count": 0}));
    assert_eq!(public(&s, None, &a, json!({})).await["totalCount"], 2);

    // Restoring brings it back exactly.
    s.ok(admin.token(), hide, json!({"r": a_jobs[2], "a": "RESTORE"}))
        .await;
    let seen = summary(&s, &a).await;
    assert_eq!(seen["ratingSummary"]["count"], 3);
    assert!(
        close_to(&seen["ratingSummary"]["average"], 11.0 / 3.0),
        "{seen}"
    );
    assert!(
        close_to(&seen["ratingSummary"]["bayesianAverage"], 3.25),
        "{seen}"
    );
    assert_eq!(
        seen["ratingSummary"]["distribution"][3],
        json!({"stars": 2, "count": 1})
    );
}

#[tokio::test]
async fn helpful_votes_are_once_per_person_and_never_on_your_own() {
    let s = TestServer::start().await;
    let customer = s.register("vote-customer@example.com").await;
    let tech = ready(&s, "vote-tech@example.com", NAIROBI, json!({})).await;
    let reader = s.register("vote-reader@example.com").await;
    let job = paid_job(&s, &customer, &tech, "vote-job").await;
    let review = ok_submit(&s, &customer, &job, by_customer(5, [5; 5], "Great")).await;
    let vote =
        "mutation($r: ID!) { voteReviewHelpful(reviewId: $r) { helpfulCount viewerVotedHelpful } }";
    let early = s
        .gql(reader.token(), vote, json!({"r": review["id"]}))
        .await;
    assert_eq!(
        code(&early["errors"][0]),
        "NOT_FOUND",
        "blind: nobody else reads it yet"
    );
    let theirs = ok_submit(&s, &tech.session, &job, by_technician(5, "")).await;

    let voted = s.ok(reader.token(), vote, json!({"r": review["id"]})).await;
    assert_eq!(voted["voteReviewHelpful"]["helpfulCount"], 1);
    assert_eq!(voted["voteReviewHelpful"]["viewerVotedHelpful"], true);
    let twice = s
        .gql(reader.token(), vote, json!({"r": review["id"]}))
        .await;
    assert_eq!(code(&twice["errors"][0]), "CONFLICT", "{twice}");
    for own in [&customer, &tech.session] {
        let refused = s.gql(own.token(), vote, json!({"r": review["id"]})).await;
        assert_eq!(code(&refused["errors"][0]), "FORBIDDEN", "{refused}");
    }
    let anonymous = s.gql(None, vote, json!({"r": review["id"]})).await;
    assert_eq!(code(&anonymous["errors"][0]), "UNAUTHENTICATED");
    // A technician's review of a customer is not public, and takes no votes.
    let customer_review = s
        .gql(customer.token(), vote, json!({"r": theirs["id"]}))
        .await;
    assert_eq!(
        code(&customer_review["errors"][0]),
        "INVALID_TRANSITION",
        "{customer_review}"
    );
    let listed = public(&s, reader.token(), &tech, json!({})).await;
    assert_eq!(listed["edges"][0]["node"]["helpfulCount"], 1);
    assert_eq!(listed["edges"][0]["node"]["viewerVotedHelpful"], true);
    let anonymous_view = public(&s, None, &tech, json!({})).await;
    assert_eq!(
        anonymous_view["edges"][0]["node"]["viewerVotedHelpful"],
        false
    );
}

#[tokio::test]
async fn reports_and_moderation_by_role() {
    let s = TestServer::start().await;
    let customer = s.register("mod-customer@example.com").await;
    let tech = ready(&s, "mod-tech@example.com", NAIROBI, json!({})).await;
    let reader = s.register("mod-reader@example.com").await;
    let support = staff(&s, "mod-support@example.com", Role::Support).await;
    let admin = staff(&s, "mod-admin@example.com", Role::Admin).await;
    let job = paid_job(&s, &customer, &tech, "moderation-job").await;
    let review = ok_submit(&s, &customer, &job, by_customer(1, [1; 5], "Terrible")).await;
    ok_submit(&s, &tech.session, &job, by_technician(3, "")).await;
    let id = &review["id"];

    let report = "mutation($r: ID!, $reason: String!) { reportReview(reviewId: $r, reason: $reason) { id } }";
    let short = s
        .gql(reader.token(), report, json!({"r": id, "reason": "no"}))
        .await;
    assert_eq!(
        short["errors"][0]["extensions"]["field"], "reason",
        "{short}"
    );
    s.ok(
        tech.session.token(),
        report,
        json!({"r": id, "reason": "Not what happened"}),
    )
    .await;
    s.ok(reader.token(), report, json!({"r": id, "reason": "Rude"}))
        .await;
    let twice = s
        .gql(reader.token(), report, json!({"r": id, "reason": "Rude"}))
        .await;
    assert_eq!(code(&twice["errors"][0]), "CONFLICT", "{twice}");
    let own = s
        .gql(
            customer.token(),
            report,
            json!({"r": id, "reason": "Oops, typo"}),
        )
        .await;
    assert_eq!(code(&own["errors"][0]), "FORBIDDEN", "{own}");

    let queue = "query($open: Boolean) { reviewReports(first: 10, openOnly: $open) {
      totalCount nodes { reason resolvedAt review { id rating } } } }";
    for outsider in [&customer, &tech.session, &reader] {
        let refused = s.gql(outsider.token(), queue, json!({})).await;
        assert_eq!(code(&refused["errors"][0]), "FORBIDDEN", "{refused}");
    }
    let open = s.ok(support.token(), queue, json!({})).await;
    assert_eq!(open["reviewReports"]["totalCount"], 2, "{open}");
    assert_eq!(open["reviewReports"]["nodes"][0]["review"]["id"], *id);

    let moderate = "mutation($r: ID!, $a: ReviewModerationAction!, $reason: String!) {
      moderateReview(reviewId: $r, action: $a, reason: $reason) { hidden
        moderationLog { action reason actorId } } }";
    for outsider in [&customer, &tech.session, &reader] {
        let refused = s
            .gql(
                outsider.token(),
                moderate,
                json!({"r": id, "a": "HIDE", "reason": "Spam spam"}),
            )
            .await;
        assert_eq!(code(&refused["errors"][0]), "FORBIDDEN", "{refused}");
    }
    let no_reason = s
        .gql(
            support.token(),
            moderate,
            json!({"r": id, "a": "HIDE", "reason": " "}),
        )
        .await;
    assert_eq!(
        no_reason["errors"][0]["extensions"]["field"], "reason",
        "{no_reason}"
    );
    let hidden = s
        .ok(
            support.token(),
            moderate,
            json!({"r": id, "a": "HIDE", "reason": "Personal attack"}),
        )
        .await;
    assert_eq!(hidden["moderateReview"]["hidden"], true);
    assert_eq!(
        hidden["moderateReview"]["moderationLog"][0]["action"],
        "HIDE"
    );
    assert_eq!(
        hidden["moderateReview"]["moderationLog"][0]["reason"],
        "Personal attack"
    );
    let again = s
        .gql(
            support.token(),
            moderate,
            json!({"r": id, "a": "HIDE", "reason": "Again please"}),
        )
        .await;
    assert_eq!(code(&again["errors"][0]), "INVALID_TRANSITION", "{again}");
    // Out of the public list and out of the technician's sight; its author still reads it.
    assert_eq!(public(&s, None, &tech, json!({})).await["totalCount"], 0);
    assert_eq!(
        code(&node(&s, tech.session.token(), id).await["errors"][0]),
        "NOT_FOUND"
    );
    let authored = booking_reviews(&s, &customer, &job).await;
    let mine = authored.iter().find(|r| r["id"] == *id).unwrap();
    assert_eq!(mine["hidden"], true);
    assert_eq!(mine["hiddenReason"], "Personal attack");
    assert_eq!(summary(&s, &tech).await["ratingCount"], 0);
    // Acting resolved the reports.
    let open = s.ok(support.token(), queue, json!({})).await;
    assert_eq!(open["reviewReports"]["totalCount"], 0, "{open}");
    let all = s.ok(support.token(), queue, json!({"open": false})).await;
    assert_eq!(all["reviewReports"]["totalCount"], 2);
    assert!(all["reviewReports"]["nodes"][0]["resolvedAt"].is_string());

    let restored = s
        .ok(
            admin.token(),
            moderate,
            json!({"r": id, "a": "RESTORE", "reason": "Appeal upheld"}),
        )
        .await;
    assert_eq!(restored["moderateReview"]["hidden"], false);
    let log = &restored["moderateReview"]["moderationLog"];
    assert_eq!(
        log.as_array().unwrap().len(),
        2,
        "each action is recorded: {log}"
    );
    assert_eq!(log[1]["action"], "RESTORE");
    assert_eq!(summary(&s, &tech).await["ratingCount"], 1);
    // Only staff read the log.
    let listed = s
        .gql(
            reader.token(),
            "query($t: ID!) { reviews(technicianId: $t) { nodes { moderationLog { action } hiddenReason } } }",
            json!({"t": tech.id}),
        )
        .await;
    assert_eq!(
        listed["data"]["reviews"]["nodes"][0]["moderationLog"],
        Value::Null,
        "{listed}"
    );
}

#[tokio::test]
async fn the_reviewed_technician_answers_once_in_public() {
    let s = TestServer::start().await;
    let customer = s.register("reply-customer@example.com").await;
    let tech = ready(&s, "reply-tech@example.com", NAIROBI, json!({})).await;
    let other = ready(&s, "reply-other@example.com", NAIROBI, json!({})).await;
    let job = paid_job(&s, &customer, &tech, "reply-job").await;
    let review = ok_submit(&s, &customer, &job, by_customer(3, [3; 5], "Late but good")).await;
    let respond =
        "mutation($r: ID!, $text: String!) { respondToReview(reviewId: $r, response: $text) {
      response { text } } }";
    let blind = s
        .gql(
            tech.session.token(),
            respond,
            json!({"r": review["id"], "text": "Thanks"}),
        )
        .await;
    assert_eq!(
        code(&blind["errors"][0]),
        "NOT_FOUND",
        "not readable before publication"
    );
    let theirs = ok_submit(&s, &tech.session, &job, by_technician(4, "")).await;

    for (who, want) in [(&customer, "FORBIDDEN"), (&other.session, "FORBIDDEN")] {
        let refused = s
            .gql(
                who.token(),
                respond,
                json!({"r": review["id"], "text": "Not mine"}),
            )
            .await;
        assert_eq!(code(&refused["errors"][0]), want, "{refused}");
    }
    let empty = s
        .gql(
            tech.session.token(),
            respond,
            json!({"r": review["id"], "text": "  "}),
        )
        .await;
    assert_eq!(
        empty["errors"][0]["extensions"]["field"], "response",
        "{empty}"
    );
    let answered = s
        .ok(
            tech.session.token(),
            respond,
            json!({"r": review["id"], "text": "Traffic on Ngong Road, sorry"}),
        )
        .await;
    assert_eq!(
        answered["respondToReview"]["response"]["text"],
        "Traffic on Ngong Road, sorry"
    );
    let twice = s
        .gql(
            tech.session.token(),
            respond,
            json!({"r": review["id"], "text": "Edited"}),
        )
        .await;
    assert_eq!(code(&twice["errors"][0]), "CONFLICT", "{twice}");
    let on_customer = s
        .gql(
            customer.token(),
            respond,
            json!({"r": theirs["id"], "text": "Thanks"}),
        )
        .await;
    assert_eq!(
        code(&on_customer["errors"][0]),
        "INVALID_TRANSITION",
        "{on_customer}"
    );
    let listed = public(&s, None, &tech, json!({})).await;
    assert_eq!(
        listed["edges"][0]["node"]["response"]["text"],
        "Traffic on Ngong Road, sorry"
    );
    let told = notifications(&s, &customer, "REVIEW_RESPONSE").await;
    assert_eq!(told.len(), 1, "{told:?}");
}

#[tokio::test]
async fn whoever_has_not_reviewed_is_reminded_a_day_after_payment_once() {
    let s = TestServer::start().await;
    let customer = s.register("remind-customer@example.com").await;
    let tech = ready(&s, "remind-tech@example.com", NAIROBI, json!({})).await;
    let both = paid_job(&s, &customer, &tech, "remind-both").await;
    let one = paid_job(&s, &customer, &tech, "remind-one").await;
    ok_submit(&s, &customer, &one, by_customer(5, [5; 5], "")).await;
    let timers = || fundi::services::bookings::timers::run_due(s.services());
    timers().await.unwrap();
    assert!(
        notifications(&s, &customer, "REVIEW_REMINDER")
            .await
            .is_empty(),
        "not yet"
    );

    s.advance_clock(Duration::hours(24) + Duration::minutes(1));
    timers().await.unwrap();
    timers().await.unwrap();
    let customer = again(&s, "remind-customer@example.com").await;
    let tech_session = again(&s, "remind-tech@example.com").await;
    // The customer reviewed `one`, so they hear only about `both`; the technician about both jobs.
    assert_eq!(
        notifications(&s, &customer, "REVIEW_REMINDER").await.len(),
        1
    );
    assert_eq!(
        notifications(&s, &tech_session, "REVIEW_REMINDER")
            .await
            .len(),
        2
    );
    let _ = both;
}

#[tokio::test]
async fn the_public_list_orders_filters_and_pages_with_a_total() {
    let s = TestServer::start().await;
    let customer = s.register("list-customer@example.com").await;
    let reader = s.register("list-reader@example.com").await;
    let tech = ready(&s, "list-tech@example.com", NAIROBI, json!({})).await;
    let mut ids = Vec::new();
    for (i, rating) in [4, 5, 2, 5].into_iter().enumerate() {
        let job = paid_job(&s, &customer, &tech, &format!("listing-{i}")).await;
        let review = ok_submit(&s, &customer, &job, by_customer(rating, [rating; 5], "")).await;
        ok_submit(&s, &tech.session, &job, by_technician(5, "")).await;
        ids.push(review["id"].clone());
    }
    // One helpful vote for the 2-star review.
    s.ok(
        reader.token(),
        "mutation($r: ID!) { voteReviewHelpful(reviewId: $r) { id } }",
        json!({"r": ids[2]}),
    )
    .await;

    let cases = [
        ("NEWEST", vec![5, 2, 5, 4]),
        ("HIGHEST", vec![5, 5, 4, 2]),
        ("LOWEST", vec![2, 4, 5, 5]),
        ("MOST_HELPFUL", vec![2, 5, 5, 4]),
    ];
    for (order, want) in cases {
        let all = public(&s, None, &tech, json!({"order": order})).await;
        assert_eq!(ratings_of(&all), want, "{order}");
        // One at a time, the cursors walk the same order.
        let mut walked = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = public(
                &s,
                None,
                &tech,
                json!({"order": order, "first": 1, "after": after}),
            )
            .await;
            assert_eq!(page["totalCount"], 4);
            walked.extend(ratings_of(&page));
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(walked, want, "{order}, a page at a time");
    }
    let fives = public(&s, None, &tech, json!({"rating": 5})).await;
    assert_eq!(fives["totalCount"], 2);
    assert_eq!(ratings_of(&fives), vec![5, 5]);
    let bad = s
        .gql(
            None,
            "query($t: ID!) { reviews(technicianId: $t, rating: 9) { totalCount } }",
            json!({"t": tech.id}),
        )
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "rating", "{bad}");
}

#[tokio::test]
async fn a_technician_sees_the_customer_rating_on_a_job_offer() {
    let s = TestServer::start().await;
    let customer = s.register("rated-customer@example.com").await;
    let first = ready(&s, "rated-first@example.com", NAIROBI, json!({})).await;
    let second = ready(&s, "rated-second@example.com", NAIROBI, json!({})).await;
    let job = paid_job(&s, &customer, &first, "rated-job").await;
    ok_submit(&s, &customer, &job, by_customer(5, [5; 5], "")).await;
    ok_submit(
        &s,
        &first.session,
        &job,
        by_technician(4, "Friendly, paid at once"),
    )
    .await;

    direct(&s, &customer, &second, "rated-offer").await;
    let offers = s
        .ok(
            second.session.token(),
            "{ jobOffers { customerRating { count average } booking { customer { fullName } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        offers["jobOffers"][0]["customerRating"],
        json!({"count": 1, "average": 4.0}),
        "{offers}"
    );
}
