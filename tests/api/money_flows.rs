//! Property tests of whole money flows: random interleavings of deposits, balances, tips,
//! cancellations at every fee tier, disputes with every outcome and admin refunds, run through the
//! real server on a fresh database, with the ledger verified after every step.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::payments::pay_input;
use crate::support::*;
use fundi::domain::account::Role;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// How many random histories one run tries; each starts its own server, so keep it modest.
const CASES: u32 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    ReleaseToTechnician,
    RefundCustomer,
    Split(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The customer creates the request and pays its deposit (always a booking's first step).
    Create,
    Accept,
    /// En route, arrived, started with the start code, completed.
    Work,
    Tip(i64),
    PayBalance,
    Verify,
    Cancel,
    OpenDispute,
    Resolve(Outcome),
    /// An admin refunds this percentage of what is left of the newest deposit or balance payment.
    AdminRefund(u8),
}

impl Step {
    /// Whether the plan only ever schedules this step where the rules allow it. The others may be
    /// refused (a sandbox amount ending in 13 fails; escrow may no longer hold a refund) and the
    /// ledger must stay sound either way.
    fn must_succeed(self) -> bool {
        matches!(
            self,
            Step::Create
                | Step::Accept
                | Step::Work
                | Step::Verify
                | Step::Cancel
                | Step::OpenDispute
                | Step::Resolve(_)
        )
    }
}

#[derive(Debug, Clone)]
struct BookingPlan {
    /// Hours from now to the scheduled start: 1, 3, 8 and 30 fall in the four cancellation tiers.
    start_in_hours: i64,
    steps: Vec<Step>,
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::ReleaseToTechnician),
        Just(Outcome::RefundCustomer),
        (1u8..=99).prop_map(Outcome::Split),
    ]
}

fn maybe_refund() -> impl Strategy<Value = Option<Step>> {
    prop::option::weighted(
        0.4,
        prop_oneof![1u8..=99, Just(100u8)].prop_map(Step::AdminRefund),
    )
}

fn tips() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec((1i64..=5_000).prop_map(Step::Tip), 0..=2)
}

/// One booking's life: cancelled before or after a technician accepts, or worked and then paid,
/// disputed (from COMPLETED, PAYMENT_PENDING or PAID) and resolved, with refunds sprinkled in.
fn booking_plan() -> impl Strategy<Value = BookingPlan> {
    let hours = prop_oneof![Just(1i64), Just(3), Just(8), Just(30)];
    let cancelled_early =
        maybe_refund().prop_map(|refund| [Some(Step::Create), refund, Some(Step::Cancel)].to_vec());
    let cancelled_late = maybe_refund().prop_map(|refund| {
        [
            Some(Step::Create),
            Some(Step::Accept),
            refund,
            Some(Step::Cancel),
        ]
        .to_vec()
    });
    // 0: paid without dispute, 1: disputed at COMPLETED, 2: at PAYMENT_PENDING, 3: after PAID.
    let worked = (
        maybe_refund(),
        tips(),
        0u8..4,
        any::<bool>(),
        outcome(),
        maybe_refund(),
        tips(),
    )
        .prop_map(
            |(early_refund, tips, dispute_at, balance_first, outcome, late_refund, late_tips)| {
                let mut steps = vec![Some(Step::Create), Some(Step::Accept), early_refund];
                steps.push(Some(Step::Work));
                steps.extend(tips.into_iter().map(Some));
                match dispute_at {
                    0 if balance_first => {
                        steps.extend([Some(Step::PayBalance), Some(Step::Verify)])
                    }
                    0 => steps.extend([Some(Step::Verify), Some(Step::PayBalance)]),
                    1 => steps.push(Some(Step::OpenDispute)),
                    2 => steps.extend([Some(Step::Verify), Some(Step::OpenDispute)]),
                    _ => steps.extend([
                        Some(Step::PayBalance),
                        Some(Step::Verify),
                        Some(Step::OpenDispute),
                    ]),
                }
                if dispute_at > 0 {
                    steps.push(Some(Step::Resolve(outcome)));
                }
                steps.push(late_refund);
                steps.extend(late_tips.into_iter().map(Some));
                steps
            },
        );
    (
        hours,
        prop_oneof![1 => cancelled_early, 1 => cancelled_late, 3 => worked],
    )
        .prop_map(|(start_in_hours, steps)| BookingPlan {
            start_in_hours,
            steps: steps.into_iter().flatten().collect(),
        })
}

/// A few bookings and the order their steps interleave in (each pick chooses among the bookings
/// that still have steps).
fn history() -> impl Strategy<Value = (Vec<BookingPlan>, Vec<u8>)> {
    (
        prop::collection::vec(booking_plan(), 1..=3),
        prop::collection::vec(any::<u8>(), 40),
    )
}

/// One booking as the test drives it.
struct Live {
    plan: BookingPlan,
    next: usize,
    tech: Tech,
    id: Value,
    start_code: String,
}

const CANCEL: &str =
    "mutation($id: ID!) { cancelBooking(id: $id, reason: \"plans changed\") { status } }";
const OPEN_DISPUTE: &str = "mutation($id: ID!) { openDispute(bookingId: $id, reason: \"The tap still leaks\") { status } }";
const RESOLVE: &str = "mutation($id: ID!, $input: DisputeResolutionInput!) { resolveDispute(bookingId: $id, input: $input) { status } }";
const REFUND: &str = "mutation($id: ID!, $amount: MoneyInput!) { refundPayment(paymentId: $id, amount: $amount, reason: \"goodwill\") { status } }";
const STATE: &str = "query($id: ID!) { booking(id: $id) { status escrow { amountMinor }
  payments { id kind status amount { amountMinor } refunded { amountMinor } } } }";

/// Refusals a step may meet without anything being wrong; an internal error never is one.
const ACCEPTABLE_REFUSALS: &[&str] = &[
    "BAD_USER_INPUT",
    "CONFLICT",
    "INVALID_TRANSITION",
    "FORBIDDEN",
];

/// Runs one step and returns the GraphQL errors it met (empty when it went through).
async fn run_step(
    s: &TestServer,
    customer: &Session,
    admin: &Session,
    live: &mut Live,
    step: Step,
    key: &str,
) -> Vec<Value> {
    let tech = &live.tech.session;
    let answers: Vec<Value> = match step {
        Step::Create => {
            let start = (chrono::Utc::now() + chrono::Duration::hours(live.plan.start_in_hours))
                .to_rfc3339();
            let booking = create(
                s,
                customer,
                key,
                json!({"technicianId": live.tech.id, "scheduledStart": start, "priority": "MEDIUM"}),
            )
            .await;
            assert_eq!(booking["status"], "ASSIGNED", "{booking}");
            live.id = booking["id"].clone();
            live.start_code = booking["startCode"].as_str().unwrap().to_string();
            vec![]
        }
        Step::Accept => vec![step_of(s, tech, &live.id, "ACCEPTED", None).await],
        Step::Work => {
            let mut answers = Vec::new();
            for to in ["EN_ROUTE", "ARRIVED", "IN_PROGRESS", "COMPLETED"] {
                let code = (to == "IN_PROGRESS").then_some(live.start_code.as_str());
                answers.push(step_of(s, tech, &live.id, to, code).await);
            }
            answers
        }
        Step::Tip(amount) => {
            vec![
                s.gql(
                    customer.token(),
                    PAY,
                    pay_input(&live.id, "TIP", "SANDBOX", key, Some(amount)),
                )
                .await,
            ]
        }
        Step::PayBalance => {
            vec![
                s.gql(
                    customer.token(),
                    PAY,
                    pay_input(&live.id, "BALANCE", "SANDBOX", key, None),
                )
                .await,
            ]
        }
        Step::Verify => vec![step_of(s, customer, &live.id, "VERIFIED", None).await],
        Step::Cancel => vec![
            s.gql(customer.token(), CANCEL, json!({"id": live.id}))
                .await,
        ],
        Step::OpenDispute => {
            vec![
                s.gql(customer.token(), OPEN_DISPUTE, json!({"id": live.id}))
                    .await,
            ]
        }
        Step::Resolve(outcome) => {
            let input = match outcome {
                Outcome::ReleaseToTechnician => json!({"outcome": "RELEASE_TO_TECHNICIAN"}),
                Outcome::RefundCustomer => json!({"outcome": "REFUND_CUSTOMER"}),
                Outcome::Split(percent) => {
                    json!({"outcome": "SPLIT", "customerRefundPercent": percent})
                }
            };
            vec![
                s.gql(
                    admin.token(),
                    RESOLVE,
                    json!({"id": live.id, "input": input}),
                )
                .await,
            ]
        }
        Step::AdminRefund(percent) => {
            let state = s.ok(customer.token(), STATE, json!({"id": live.id})).await;
            let refundable = state["booking"]["payments"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["kind"] != "TIP")
                .filter(|p| p["status"] == "SUCCEEDED" || p["status"] == "PARTIALLY_REFUNDED")
                .map(|p| {
                    let left = p["amount"]["amountMinor"].as_i64().unwrap()
                        - p["refunded"]["amountMinor"].as_i64().unwrap();
                    (p["id"].clone(), left)
                })
                .rfind(|(_, left)| *left > 0);
            match refundable {
                Some((payment, left)) => {
                    let amount = (left * i64::from(percent) / 100).max(1);
                    vec![
                        s.gql(
                            admin.token(),
                            REFUND,
                            json!({"id": payment, "amount": {"amountMinor": amount, "currency": "KES"}}),
                        )
                        .await,
                    ]
                }
                None => vec![],
            }
        }
    };
    answers
        .into_iter()
        .filter_map(|a| a.get("errors").map(|e| e[0].clone()))
        .collect()
}

async fn step_of(s: &TestServer, who: &Session, id: &Value, to: &str, code: Option<&str>) -> Value {
    step(s, who, id, to, code).await
}

/// Applies one random history and checks the ledger after every step.
async fn apply_history(plans: Vec<BookingPlan>, picks: Vec<u8>) -> Result<(), TestCaseError> {
    let s = TestServer::start().await;
    let customer = s.register("flows-customer@example.com").await;
    let admin = staff(&s, "flows-admin@example.com", Role::Admin).await;
    let mut live = Vec::new();
    for (n, plan) in plans.into_iter().enumerate() {
        // A technician per booking, so one job keeping someone BUSY never blocks another's offer.
        let tech = ready(
            &s,
            &format!("flows-tech-{n}@example.com"),
            NAIROBI,
            json!({}),
        )
        .await;
        live.push(Live {
            plan,
            next: 0,
            tech,
            id: Value::Null,
            start_code: String::new(),
        });
    }
    let mut log = Vec::new();
    let mut pick = picks.into_iter().cycle();
    let mut counter = 0;
    loop {
        let open: Vec<usize> = (0..live.len())
            .filter(|&i| live[i].next < live[i].plan.steps.len())
            .collect();
        if open.is_empty() {
            break;
        }
        let chosen = open[usize::from(pick.next().unwrap_or(0)) % open.len()];
        let booking = &mut live[chosen];
        let step = booking.plan.steps[booking.next];
        booking.next += 1;
        counter += 1;
        let key = format!("flows-{chosen}-{counter}");
        let errors = run_step(&s, &customer, &admin, booking, step, &key).await;
        log.push(format!("booking {chosen}: {step:?} -> {errors:?}"));
        for error in &errors {
            prop_assert!(
                ACCEPTABLE_REFUSALS.contains(&code(error)),
                "unexpected error after {log:#?}"
            );
        }
        prop_assert!(
            errors.is_empty() || !step.must_succeed(),
            "a step the rules allow was refused: {log:#?}"
        );
        let verdict = fundi::services::money::ledger::verify(&s.services().db)
            .await
            .unwrap();
        prop_assert!(verdict.is_ok(), "{:?} after {log:#?}", verdict.err());
    }
    for (n, booking) in live.iter().enumerate() {
        let state = s
            .ok(customer.token(), STATE, json!({"id": booking.id}))
            .await;
        let status = state["booking"]["status"].as_str().unwrap();
        let escrow = state["booking"]["escrow"]["amountMinor"].as_i64().unwrap();
        if matches!(status, "PAID" | "REFUNDED" | "CANCELLED") {
            prop_assert_eq!(escrow, 0, "booking {} ended {} after {:#?}", n, status, log);
        }
        prop_assert!(escrow >= 0);
    }
    s.stop().await;
    Ok(())
}

#[test]
fn every_step_of_random_money_flows_leaves_the_ledger_sound_and_settled_bookings_without_escrow() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        // Each case starts a server; a failure shrinks for a while, not for ever.
        max_shrink_iters: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&history(), |(plans, picks)| {
        runtime.block_on(apply_history(plans, picks))
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
