//! Amounts stay within a sane bound for their currency and dates within a year, field by field.

use crate::booking_fixtures::*;
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn absurd_budgets_and_far_future_starts_are_refused_naming_the_field() {
    let s = TestServer::start().await;
    let customer = s.register("bounds@example.com").await;
    let far = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    let cases = [
        (
            json!({"budgetMax": {"amountMinor": i64::MAX, "currency": "KES"}}),
            "budgetMax.amountMinor",
        ),
        (
            json!({"budgetMax": {"amountMinor": 200_000_000, "currency": "USD"},
                   "budgetMin": {"amountMinor": 100, "currency": "USD"}}),
            "budgetMax.amountMinor",
        ),
        (
            json!({"scheduledStart": "9999-12-31T23:59:59Z", "priority": "LOW"}),
            "scheduledStart",
        ),
        (
            json!({"scheduledStart": far, "priority": "LOW"}),
            "scheduledStart",
        ),
    ];
    for (i, (extra, field)) in cases.into_iter().enumerate() {
        let error = s
            .err(
                customer.token(),
                CREATE,
                request(&format!("bounds-key-{i:04}"), extra.clone()),
            )
            .await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{extra}: {error}");
        assert_eq!(error["extensions"]["field"], field, "{extra}: {error}");
    }
    // Inside the bounds the same request goes through.
    let soon = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let body = s
        .gql(
            customer.token(),
            CREATE,
            request(
                "bounds-key-ok01",
                json!({"scheduledStart": soon, "priority": "LOW",
                       "budgetMax": {"amountMinor": 10_000_000_000i64, "currency": "KES"}}),
            ),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}
