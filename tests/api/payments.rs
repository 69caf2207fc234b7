//! Money in: deposits before dispatch, the balance and the 85/15 release, PAYMENT_PENDING, holds,
//! tips, cash, cancellations, disputes, refunds and idempotent retries, checked against the ledger.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::support::*;
use fundi::domain::account::Role;
use fundi::domain::ledger::AccountKey;
use fundi::domain::money::Currency;
use serde_json::{Value, json};

pub const VIEW: &str = "query($id: ID!) { booking(id: $id) { status escrow { amountMinor } amountDue { amountMinor }
  cancellationFeeCharged { amountMinor }
  price { total { amountMinor } deposit { amountMinor } platformFee { amountMinor } tax { amountMinor } }
  payments { kind status amount { amountMinor } refunded { amountMinor } } } }";

pub async fn balance(s: &TestServer, account: AccountKey) -> i64 {
    fundi::services::money::ledger::balance(&s.services().db, &account)
        .await
        .unwrap()
}

pub async fn ledger_is_sound(s: &TestServer) {
    let verdict = fundi::services::money::ledger::verify(&s.services().db)
        .await
        .unwrap();
    assert!(verdict.is_ok(), "{:?}", verdict.err());
}

pub fn pay_input(
    booking: &Value,
    kind: &str,
    method: &str,
    key: &str,
    amount: Option<i64>,
) -> Value {
    let mut input =
        json!({"bookingId": booking, "kind": kind, "method": method, "idempotencyKey": key});
    if let Some(amount) = amount {
        input["amount"] = json!({"amountMinor": amount, "currency": "KES"});
    }
    json!({"input": input})
}

async fn pay(s: &TestServer, who: &Session, input: Value) -> Value {
    s.gql(who.token(), PAY, input).await
}

pub async fn view(s: &TestServer, who: &Session, id: &Value) -> Value {
    s.ok(who.token(), VIEW, json!({"id": id})).await["booking"].clone()
}

/// A direct booking taken through to COMPLETED, its deposit paid.
pub async fn completed(s: &TestServer, customer: &Session, tech: &Tech, key: &str) -> Value {
    let booking = direct(s, customer, tech, key).await;
    let id = booking["id"].clone();
    let code = booking["startCode"].as_str().unwrap().to_string();
    for to in [
        "ACCEPTED",
        "EN_ROUTE",
        "ARRIVED",
        "IN_PROGRESS",
        "COMPLETED",
    ] {
        let code = (to == "IN_PROGRESS").then_some(code.as_str());
        ok_step(s, &tech.session, &id, to, code).await;
    }
    id
}

fn technician(tech: &Tech) -> uuid::Uuid {
    tech.uuid
}

#[tokio::test]
async fn a_paid_job_releases_exactly_85_15_and_the_earnings_become_available_after_the_hold() {
    let s = TestServer::start().await;
    let customer = s.register("pay-full@example.com").await;
    let tech = ready(&s, "pay-full-tech@example.com", NAIROBI, json!({})).await;
    // Before the deposit, nothing is dispatched.
    let waiting = create_unpaid(
        &s,
        &customer,
        "pay-full-waiting",
        json!({"technicianId": tech.id}),
    )
    .await;
    assert_eq!(waiting["status"], "PENDING");
    let id = completed(&s, &customer, &tech, "pay-full-01").await;
    let before = view(&s, &customer, &id).await;
    let total = before["price"]["total"]["amountMinor"].as_i64().unwrap();
    let deposit = before["price"]["deposit"]["amountMinor"].as_i64().unwrap();
    let fee = before["price"]["platformFee"]["amountMinor"]
        .as_i64()
        .unwrap();
    assert_eq!(before["escrow"]["amountMinor"], deposit);
    assert_eq!(before["amountDue"]["amountMinor"], total - deposit);

    // Verified without the balance: it waits in PAYMENT_PENDING.
    step(&s, &customer, &id, "VERIFIED", None).await;
    assert_eq!(view(&s, &customer, &id).await["status"], "PAYMENT_PENDING");
    let paid = pay(
        &s,
        &customer,
        pay_input(&id, "BALANCE", "SANDBOX", "pay-full-balance", None),
    )
    .await;
    let payment = &paid["data"]["payBooking"];
    assert_eq!(payment["status"], "SUCCEEDED", "{paid}");
    assert_eq!(payment["amount"]["amountMinor"], total - deposit);
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["status"], "PAID", "{after}");
    assert_eq!(after["escrow"]["amountMinor"], 0);

    let uuid = uuid_of(id.as_str().unwrap());
    assert_eq!(
        balance(&s, AccountKey::escrow(uuid, Currency::KES)).await,
        0
    );
    assert_eq!(
        balance(&s, AccountKey::platform_revenue(Currency::KES)).await,
        fee
    );
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_pending(technician(&tech), Currency::KES)
        )
        .await,
        total - fee,
        "85% of the job price"
    );
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(technician(&tech), Currency::KES)
        )
        .await,
        0
    );

    s.advance_clock(chrono::Duration::hours(47));
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(technician(&tech), Currency::KES)
        )
        .await,
        0
    );
    s.advance_clock(chrono::Duration::hours(2));
    // Three replicas' workers race to release the hold: it becomes available once.
    let moved = futures_util::future::join_all(
        (0..3).map(|_| fundi::services::money::holds::release_due_holds(s.services())),
    )
    .await;
    assert_eq!(moved.into_iter().map(Result::unwrap).sum::<usize>(), 1);
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(technician(&tech), Currency::KES)
        )
        .await,
        total - fee
    );
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_pending(technician(&tech), Currency::KES)
        )
        .await,
        0
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn tips_go_wholly_to_the_technician_and_the_sandbox_declines_amounts_ending_in_13() {
    let s = TestServer::start().await;
    let customer = s.register("pay-tip@example.com").await;
    let tech = ready(&s, "pay-tip-tech@example.com", NAIROBI, json!({})).await;
    let id = completed(&s, &customer, &tech, "pay-tip-01").await;
    let declined = pay(
        &s,
        &customer,
        pay_input(&id, "TIP", "SANDBOX", "pay-tip-declined", Some(50_013)),
    )
    .await;
    assert_eq!(
        declined["data"]["payBooking"]["status"], "FAILED",
        "{declined}"
    );
    assert!(declined["data"]["payBooking"]["failureReason"].is_string());
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_pending(technician(&tech), Currency::KES)
        )
        .await,
        0
    );
    let tipped = pay(
        &s,
        &customer,
        pay_input(&id, "TIP", "SANDBOX", "pay-tip-given", Some(50_000)),
    )
    .await;
    assert_eq!(
        tipped["data"]["payBooking"]["status"], "SUCCEEDED",
        "{tipped}"
    );
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_pending(technician(&tech), Currency::KES)
        )
        .await,
        50_000
    );
    // The server computes every amount but a tip's.
    let sent_amount = pay(
        &s,
        &customer,
        pay_input(&id, "BALANCE", "SANDBOX", "pay-tip-amount", Some(1)),
    )
    .await;
    assert_eq!(code(&sent_amount["errors"][0]), "BAD_USER_INPUT");
    assert_eq!(sent_amount["errors"][0]["extensions"]["field"], "amount");
    let early = direct(&s, &customer, &tech, "pay-tip-02").await;
    let too_soon = pay(
        &s,
        &customer,
        pay_input(&early["id"], "TIP", "SANDBOX", "pay-tip-early", Some(100)),
    )
    .await;
    assert_eq!(too_soon["errors"][0]["extensions"]["field"], "kind");
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn cash_is_confirmed_by_the_technician() {
    let s = TestServer::start().await;
    let customer = s.register("pay-cash@example.com").await;
    let tech = ready(&s, "pay-cash-tech@example.com", NAIROBI, json!({})).await;
    let id = completed(&s, &customer, &tech, "pay-cash-01").await;
    let cash = pay(
        &s,
        &customer,
        pay_input(&id, "BALANCE", "CASH", "pay-cash-balance", None),
    )
    .await;
    let payment = cash["data"]["payBooking"].clone();
    assert_eq!(payment["status"], "PENDING", "{cash}");
    assert_eq!(payment["nextAction"], "PAY_TECHNICIAN_IN_CASH");
    let confirm = "mutation($id: ID!) { confirmCashPayment(paymentId: $id) { status } }";
    let by_customer = s
        .gql(customer.token(), confirm, json!({"id": payment["id"]}))
        .await;
    assert_eq!(code(&by_customer["errors"][0]), "FORBIDDEN");
    let confirmed = s
        .ok(tech.session.token(), confirm, json!({"id": payment["id"]}))
        .await;
    assert_eq!(confirmed["confirmCashPayment"]["status"], "SUCCEEDED");
    step(&s, &customer, &id, "VERIFIED", None).await;
    assert_eq!(view(&s, &customer, &id).await["status"], "PAID");
    let notes = s
        .ok(
            customer.token(),
            "{ notifications(first: 20) { edges { node { title } } } }",
            json!({}),
        )
        .await;
    assert!(
        notes.to_string().contains("Cash payment confirmed"),
        "{notes}"
    );
    let deposit_in_cash = pay(
        &s,
        &customer,
        pay_input(&id, "DEPOSIT", "CASH", "pay-cash-deposit", None),
    )
    .await;
    assert_eq!(
        deposit_in_cash["errors"][0]["extensions"]["field"],
        "method"
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn cancelling_keeps_the_fee_from_escrow_and_refunds_the_rest() {
    let s = TestServer::start().await;
    let customer = s.register("pay-cancel@example.com").await;
    let tech = ready(&s, "pay-cancel-tech@example.com", NAIROBI, json!({})).await;
    let cancel = "mutation($id: ID!) { cancelBooking(id: $id, reason: \"plans changed\") { status cancellationFee { amountMinor } } }";
    // More than 24 hours ahead: free, so the deposit comes back whole.
    let free = accepted_booking(
        &s,
        &customer,
        &tech,
        "pay-cancel-free",
        chrono::Duration::days(2),
    )
    .await;
    s.ok(customer.token(), cancel, json!({"id": free["id"]}))
        .await;
    let seen = view(&s, &customer, &free["id"]).await;
    assert_eq!(seen["escrow"]["amountMinor"], 0);
    assert_eq!(seen["payments"][0]["status"], "REFUNDED", "{seen}");
    // Under 2 hours: 75% of the total, capped at the 20% deposit escrow holds; nothing comes back.
    let late = accepted_booking(
        &s,
        &customer,
        &tech,
        "pay-cancel-late",
        chrono::Duration::hours(1),
    )
    .await;
    let answer = s
        .ok(customer.token(), cancel, json!({"id": late["id"]}))
        .await;
    let fee = answer["cancelBooking"]["cancellationFee"]["amountMinor"]
        .as_i64()
        .unwrap();
    let seen = view(&s, &customer, &late["id"]).await;
    let deposit = seen["price"]["deposit"]["amountMinor"].as_i64().unwrap();
    assert!(fee > deposit);
    assert_eq!(
        seen["cancellationFeeCharged"]["amountMinor"], deposit,
        "what it cost is capped at what escrow held: {seen}"
    );
    assert_eq!(seen["escrow"]["amountMinor"], 0);
    assert_eq!(
        seen["payments"][0]["status"], "SUCCEEDED",
        "kept in full: {seen}"
    );
    // What was kept is split like a job.
    let platform = balance(&s, AccountKey::platform_revenue(Currency::KES)).await;
    let technician_share = balance(
        &s,
        AccountKey::technician_pending(technician(&tech), Currency::KES),
    )
    .await;
    assert_eq!(
        platform + technician_share,
        deposit,
        "the kept deposit is split like a job"
    );
    assert_eq!(
        platform,
        fundi::domain::pricing::apply_bp(deposit, 1500).unwrap(),
        "15% to the platform"
    );
    // Nobody available: the deposit is refunded as soon as dispatch gives up.
    let lonely = create(
        &s,
        &customer,
        "pay-cancel-lonely",
        json!({"location": {"lat": 10.0, "lng": 10.0}}),
    )
    .await;
    assert_eq!(lonely["status"], "CANCELLED");
    let seen = view(&s, &customer, &lonely["id"]).await;
    assert_eq!(seen["payments"][0]["status"], "REFUNDED", "{seen}");
    ledger_is_sound(&s).await;
}

/// Every tier of the default policy, with a 60% deposit so that the 25% and 50% fees leave
/// something to give back: the fee is kept and split like a job, the rest is refunded and escrow
/// ends empty; above the deposit, the fee is capped at what escrow held.
#[tokio::test]
async fn each_cancellation_tier_keeps_its_fee_and_refunds_the_rest() {
    let s = TestServer::start_with(vec![("FUNDI_DEPOSIT_BP", "6000".to_string())]).await;
    let customer = s.register("pay-tiers@example.com").await;
    let tech = ready(&s, "pay-tiers-tech@example.com", NAIROBI, json!({})).await;
    let cancel = "mutation($id: ID!) { cancelBooking(id: $id, reason: \"plans changed\") { cancellationFee { amountMinor } } }";
    let pending = AccountKey::technician_pending(technician(&tech), Currency::KES);
    let platform = AccountKey::platform_revenue(Currency::KES);
    let hours = chrono::Duration::hours;
    // (tier, starts in, fee by policy in basis points of the total, the deposit's status after)
    let tiers = [
        ("more than 24 h ahead", hours(30), 0, "REFUNDED"),
        ("6 to 24 h ahead", hours(12), 2_500, "PARTIALLY_REFUNDED"),
        ("2 to 6 h ahead", hours(4), 5_000, "PARTIALLY_REFUNDED"),
        ("under 2 h, above the deposit", hours(1), 7_500, "SUCCEEDED"),
    ];
    for (i, (tier, starts_in, fee_bp, status)) in tiers.into_iter().enumerate() {
        let booking =
            accepted_booking(&s, &customer, &tech, &format!("pay-tier-{i}"), starts_in).await;
        let tech_before = balance(&s, pending.clone()).await;
        let platform_before = balance(&s, platform.clone()).await;
        let answer = s
            .ok(customer.token(), cancel, json!({"id": booking["id"]}))
            .await;
        let seen = view(&s, &customer, &booking["id"]).await;
        let total = seen["price"]["total"]["amountMinor"].as_i64().unwrap();
        let deposit = seen["price"]["deposit"]["amountMinor"].as_i64().unwrap();
        assert_eq!(
            deposit,
            fundi::domain::pricing::apply_bp(total, 6_000).unwrap()
        );
        let fee = fundi::domain::pricing::apply_bp(total, fee_bp).unwrap();
        let kept = fee.min(deposit);
        assert_eq!(
            answer["cancelBooking"]["cancellationFee"]["amountMinor"], fee,
            "{tier}"
        );
        assert_eq!(
            seen["cancellationFeeCharged"]["amountMinor"], kept,
            "{tier}: {seen}"
        );
        assert_eq!(seen["escrow"]["amountMinor"], 0, "{tier}: {seen}");
        assert_eq!(seen["payments"][0]["status"], status, "{tier}: {seen}");
        assert_eq!(
            seen["payments"][0]["refunded"]["amountMinor"],
            deposit - kept,
            "{tier}: the rest goes back"
        );
        let technician_gain = balance(&s, pending.clone()).await - tech_before;
        let platform_gain = balance(&s, platform.clone()).await - platform_before;
        assert_eq!(technician_gain + platform_gain, kept, "{tier}");
        assert_eq!(
            platform_gain,
            fundi::domain::pricing::apply_bp(kept, 1500).unwrap(),
            "{tier}: 15% of the fee to the platform"
        );
    }
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn dispute_outcomes_move_the_money_as_decided() {
    let s = TestServer::start().await;
    let customer = s.register("pay-dispute@example.com").await;
    let tech = ready(&s, "pay-dispute-tech@example.com", NAIROBI, json!({})).await;
    staff(&s, "pay-dispute-admin@example.com", Role::Admin).await;
    let open = "mutation($id: ID!) { openDispute(bookingId: $id, reason: \"Still leaking\", details: \"Water everywhere\") { status } }";
    let resolve = "mutation($id: ID!, $input: DisputeResolutionInput!) { resolveDispute(bookingId: $id, input: $input) { status } }";

    // A paid job refunded in full: the technician's frozen earnings and the fee come back.
    let id = completed(&s, &customer, &tech, "pay-dispute-01").await;
    pay(
        &s,
        &customer,
        pay_input(&id, "BALANCE", "SANDBOX", "pay-dispute-bal-1", None),
    )
    .await;
    step(&s, &customer, &id, "VERIFIED", None).await;
    assert_eq!(view(&s, &customer, &id).await["status"], "PAID");
    s.ok(customer.token(), open, json!({"id": id})).await;
    // Frozen: the hold period passing changes nothing.
    s.advance_clock(chrono::Duration::hours(49));
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(technician(&tech), Currency::KES)
        )
        .await,
        0
    );
    let admin = Session::from_payload(
        &s.login("pay-dispute-admin@example.com", PASSWORD).await["data"]["login"],
    );
    let customer =
        Session::from_payload(&s.login("pay-dispute@example.com", PASSWORD).await["data"]["login"]);
    s.ok(
        admin.token(),
        resolve,
        json!({"id": id, "input": {"outcome": "REFUND_CUSTOMER"}}),
    )
    .await;
    let seen = view(&s, &customer, &id).await;
    assert_eq!(seen["status"], "REFUNDED");
    assert!(
        seen["payments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "REFUNDED"),
        "{seen}"
    );
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_pending(technician(&tech), Currency::KES)
        )
        .await,
        0
    );
    assert_eq!(
        balance(&s, AccountKey::platform_revenue(Currency::KES)).await,
        0
    );

    // A completed job split 30/70: 30% of what was paid back, the rest released as a job.
    let tech_session = Session::from_payload(
        &s.login("pay-dispute-tech@example.com", PASSWORD).await["data"]["login"],
    );
    let tech = Tech {
        session: tech_session,
        ..tech
    };
    let id = completed(&s, &customer, &tech, "pay-dispute-02").await;
    pay(
        &s,
        &customer,
        pay_input(&id, "BALANCE", "SANDBOX", "pay-dispute-bal-2", None),
    )
    .await;
    let total = view(&s, &customer, &id).await["price"]["total"]["amountMinor"]
        .as_i64()
        .unwrap();
    s.ok(customer.token(), open, json!({"id": id})).await;
    s.ok(
        admin.token(),
        resolve,
        json!({"id": id, "input": {"outcome": "SPLIT", "customerRefundPercent": 30}}),
    )
    .await;
    let seen = view(&s, &customer, &id).await;
    assert_eq!(seen["status"], "PAID");
    assert_eq!(seen["escrow"]["amountMinor"], 0);
    let refunded: i64 = seen["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["refunded"]["amountMinor"].as_i64().unwrap())
        .sum();
    assert_eq!(refunded, total * 30 / 100);
    let released = total - refunded;
    let platform = balance(&s, AccountKey::platform_revenue(Currency::KES)).await;
    let technician_share = balance(
        &s,
        AccountKey::technician_pending(technician(&tech), Currency::KES),
    )
    .await;
    assert_eq!(platform + technician_share, released);
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn retries_with_one_key_pay_once_and_only_the_customer_pays() {
    let s = TestServer::start().await;
    let customer = s.register("pay-retry@example.com").await;
    let tech = ready(&s, "pay-retry-tech@example.com", NAIROBI, json!({})).await;
    let booking = create_unpaid(
        &s,
        &customer,
        "pay-retry-01",
        json!({"technicianId": tech.id}),
    )
    .await;
    let id = booking["id"].clone();
    let input = pay_input(&id, "DEPOSIT", "SANDBOX", "pay-retry-key", None);
    let answers =
        futures_util::future::join_all((0..20).map(|_| pay(&s, &customer, input.clone()))).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|a| {
            a["data"]["payBooking"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("every retry is answered with the payment: {a}"))
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    let seen = view(&s, &customer, &id).await;
    assert_eq!(seen["payments"].as_array().unwrap().len(), 1);
    assert_eq!(
        seen["escrow"]["amountMinor"],
        seen["price"]["deposit"]["amountMinor"]
    );
    assert_eq!(seen["status"], "ASSIGNED", "the deposit started dispatch");
    let again = pay(&s, &customer, input.clone()).await;
    assert_eq!(again["data"]["payBooking"]["status"], "SUCCEEDED");
    let other = pay(
        &s,
        &customer,
        pay_input(&id, "DEPOSIT", "CASH", "pay-retry-key", None),
    )
    .await;
    assert_eq!(code(&other["errors"][0]), "CONFLICT", "{other}");

    let stranger = s.register("pay-retry-stranger@example.com").await;
    let refused = pay(
        &s,
        &stranger,
        pay_input(&id, "DEPOSIT", "SANDBOX", "pay-retry-stranger", None),
    )
    .await;
    assert_eq!(code(&refused["errors"][0]), "NOT_FOUND");
    let by_tech = pay(
        &s,
        &tech.session,
        pay_input(&id, "DEPOSIT", "SANDBOX", "pay-retry-tech", None),
    )
    .await;
    assert_eq!(code(&by_tech["errors"][0]), "FORBIDDEN");
    let unset = pay(
        &s,
        &customer,
        pay_input(&id, "DEPOSIT", "MPESA", "pay-retry-mpesa", None),
    )
    .await;
    assert_eq!(unset["errors"][0]["extensions"]["field"], "method");
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn an_admin_refunds_part_of_a_payment_from_escrow() {
    let s = TestServer::start().await;
    let customer = s.register("pay-refund@example.com").await;
    let tech = ready(&s, "pay-refund-tech@example.com", NAIROBI, json!({})).await;
    let booking = direct(&s, &customer, &tech, "pay-refund-01").await;
    let seen = view(&s, &customer, &booking["id"]).await;
    let payment_id = s
        .ok(
            customer.token(),
            "query($id: ID!) { booking(id: $id) { payments { id } } }",
            json!({"id": booking["id"]}),
        )
        .await["booking"]["payments"][0]["id"]
        .clone();
    let deposit = seen["price"]["deposit"]["amountMinor"].as_i64().unwrap();
    let refund = "mutation($id: ID!, $amount: MoneyInput!) { refundPayment(paymentId: $id, amount: $amount, reason: \"goodwill\") { status refunded { amountMinor } } }";
    let by_customer = s
        .gql(
            customer.token(),
            refund,
            json!({"id": payment_id, "amount": {"amountMinor": 100, "currency": "KES"}}),
        )
        .await;
    assert_eq!(code(&by_customer["errors"][0]), "FORBIDDEN");
    let admin = staff(&s, "pay-refund-admin@example.com", Role::Admin).await;
    let too_much = s
        .gql(
            admin.token(),
            refund,
            json!({"id": payment_id, "amount": {"amountMinor": deposit + 1, "currency": "KES"}}),
        )
        .await;
    assert_eq!(too_much["errors"][0]["extensions"]["field"], "amount");
    let partial = s
        .ok(
            admin.token(),
            refund,
            json!({"id": payment_id, "amount": {"amountMinor": 5_000, "currency": "KES"}}),
        )
        .await;
    assert_eq!(partial["refundPayment"]["status"], "PARTIALLY_REFUNDED");
    assert_eq!(partial["refundPayment"]["refunded"]["amountMinor"], 5_000);
    assert_eq!(
        view(&s, &customer, &booking["id"]).await["escrow"]["amountMinor"],
        deposit - 5_000
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn disputing_through_transition_booking_takes_the_dispute_path_and_its_money() {
    let s = TestServer::start().await;
    let customer = s.register("pay-via-move@example.com").await;
    let tech = ready(&s, "pay-via-move-tech@example.com", NAIROBI, json!({})).await;
    let admin = staff(&s, "pay-via-move-admin@example.com", Role::Admin).await;
    let id = completed(&s, &customer, &tech, "pay-via-move-01").await;
    let moved = step(&s, &customer, &id, "DISPUTED", None).await;
    assert_eq!(
        moved["data"]["transitionBooking"]["status"], "DISPUTED",
        "{moved}"
    );
    let dispute = s
        .ok(
            customer.token(),
            "query($id: ID!) { bookingDispute(bookingId: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        dispute["bookingDispute"]["status"], "OPEN",
        "a dispute record exists"
    );
    let again = step(&s, &customer, &id, "DISPUTED", None).await;
    assert!(again["errors"].is_array(), "one dispute at a time: {again}");
    let refunded = s
        .gql(
            admin.token(),
            MOVE,
            json!({"id": id, "to": "REFUNDED", "reason": "work not done"}),
        )
        .await;
    assert_eq!(
        refunded["data"]["transitionBooking"]["status"], "REFUNDED",
        "{refunded}"
    );
    let dispute = s
        .ok(
            customer.token(),
            "query($id: ID!) { bookingDispute(bookingId: $id) { status outcome } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(dispute["bookingDispute"]["outcome"], "REFUND_CUSTOMER");
    let seen = view(&s, &customer, &id).await;
    assert_eq!(seen["escrow"]["amountMinor"], 0);
    assert_eq!(seen["payments"][0]["status"], "REFUNDED", "{seen}");
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn the_sandbox_is_refused_in_production() {
    let s = TestServer::start_with(vec![
        ("FUNDI_ENV", "production".to_string()),
        // Production refuses a generated payout key; any 32 bytes do here.
        (
            "FUNDI_PAYOUT_ENCRYPTION_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_string(),
        ),
        // On the Redis run this is a replica; its uploads directory is the test's own.
        ("FUNDI_DATA_DIR_SHARED", "true".to_string()),
    ])
    .await;
    let customer = s.register("pay-production@example.com").await;
    let booking = create_unpaid(&s, &customer, "pay-production-01", json!({})).await;
    assert_eq!(booking["status"], "PENDING");
    let refused = pay(
        &s,
        &customer,
        pay_input(
            &booking["id"],
            "DEPOSIT",
            "SANDBOX",
            "pay-production-key",
            None,
        ),
    )
    .await;
    assert_eq!(code(&refused["errors"][0]), "BAD_USER_INPUT", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "method");
    let seen = view(&s, &customer, &booking["id"]).await;
    assert!(seen["payments"].as_array().unwrap().is_empty(), "{seen}");
}

#[tokio::test]
async fn providers_without_keys_are_refused_and_their_webhooks_are_not_there() {
    let s = TestServer::start().await;
    let customer = s.register("pay-no-keys@example.com").await;
    let booking = create_unpaid(&s, &customer, "pay-no-keys-01", json!({})).await;
    for (method, webhook) in [
        ("STRIPE", "/webhooks/stripe"),
        ("RAZORPAY", "/webhooks/razorpay"),
        ("MPESA", "/webhooks/mpesa/some-callback-token"),
    ] {
        let mut input = pay_input(
            &booking["id"],
            "DEPOSIT",
            method,
            &format!("no-keys-{method}"),
            None,
        );
        input["input"]["phone"] = json!("+254712345678");
        let answer = pay(&s, &customer, input).await;
        assert_eq!(
            code(&answer["errors"][0]),
            "BAD_USER_INPUT",
            "{method}: {answer}"
        );
        assert_eq!(
            answer["errors"][0]["extensions"]["field"], "method",
            "{method}"
        );
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("not set up"),
            "{method}: {answer}"
        );
        let delivered = s
            .http()
            .post(s.url(webhook))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(delivered.status(), 404, "{webhook}");
    }
}

#[tokio::test]
async fn a_payment_stored_in_an_unknown_currency_is_an_error_naming_it_not_shown_in_that_code() {
    use fundi::db::entities::payment::{Column, Entity};
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
    const SHOWN: &str = "query($id: ID!) { booking(id: $id) { payments { amount { amountMinor currency formatted } } } }";
    let s = TestServer::start().await;
    let customer = s.register("pay-currency@example.com").await;
    let tech = ready(&s, "pay-currency-tech@example.com", NAIROBI, json!({})).await;
    let id = completed(&s, &customer, &tech, "pay-currency-01").await;
    let shown = s.ok(customer.token(), SHOWN, json!({"id": id})).await;
    assert_eq!(shown["booking"]["payments"][0]["amount"]["currency"], "KES");

    let db = &s.services().db;
    let booking = uuid_of(id.as_str().unwrap());
    // The deposit, the booking's only payment; its id read alone, since the whole row will not read.
    let payment: uuid::Uuid = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::BookingId.eq(booking))
        .into_tuple()
        .one(db)
        .await
        .unwrap()
        .unwrap();
    // Written by hand, as an operator's mistake would be: not an ISO 4217 code.
    let written = db
        .execute_raw(fundi::db::sql::stmt(
            db.get_database_backend(),
            "UPDATE payments SET currency = $1 WHERE id = $2",
            ["KSH".into(), payment.into()],
        ))
        .await
        .unwrap();
    assert_eq!(written.rows_affected(), 1);

    let error = Entity::find_by_id(payment)
        .one(db)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("Currency"), "{error}");
    assert!(error.contains("\"KSH\""), "{error}");
    assert!(error.contains(&payment.to_string()), "{error}");
    // The customer is told something is wrong, not shown the money in a code that is not one.
    let refused = s.err(customer.token(), SHOWN, json!({"id": id})).await;
    assert_eq!(code(&refused), "INTERNAL_SERVER_ERROR", "{refused}");
    assert!(!refused.to_string().contains("KSH"), "{refused}");
}
