//! Technician earnings: per-day series that match the 85/15 release exactly, tips and claw-backs in
//! net, a statement that reconciles with the balances, the dashboard's figures, who may look, bad
//! ranges, and amounts formatted by each currency's convention.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::payments::{completed, pay_input, view};
use crate::support::*;
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use fundi::domain::account::Role;
use fundi::domain::ledger::{AccountKey, TransactionKind, entries};
use fundi::domain::money::Currency;
use fundi::services::money::ledger::{self, JournalEntry};
use serde_json::{Value, json};

const EARNINGS: &str = "query($period: EarningsPeriod!, $from: DateTime!, $to: DateTime!, $currency: String) {
  myEarnings(period: $period, from: $from, to: $to, currency: $currency) {
    currency timeZone
    available { amountMinor formatted } pending { amountMinor } inPayout { amountMinor }
    lifetime { amountMinor currency formatted }
    series { periodStart periodEnd jobs gross { amountMinor } platformFee { amountMinor } tips { amountMinor } net { amountMinor } } } }";

const STATEMENT: &str = "query($from: DateTime!, $to: DateTime!, $currency: String) {
  earningsStatement(from: $from, to: $to, currency: $currency) {
    currency openingBalance { amountMinor } closingBalance { amountMinor }
    lines { at kind bookingId account amount { amountMinor } balanceAfter { amountMinor } memo }
    totals { account opening { amountMinor } credits { amountMinor } debits { amountMinor } closing { amountMinor } } } }";

const DASHBOARD: &str = "{ technicianDashboard { netEarningsToday { amountMinor currency }
  netEarningsThisWeek { amountMinor } netEarningsThisMonth { amountMinor } } }";

const NAIROBI_TZ: chrono_tz::Tz = chrono_tz::Africa::Nairobi;

fn minor(v: &Value) -> i64 {
    v["amountMinor"].as_i64().expect("amountMinor")
}

async fn relogin(s: &TestServer, email: &str) -> Session {
    Session::from_payload(&s.login(email, PASSWORD).await["data"]["login"])
}

/// Moves the server's clock to 10:00 tomorrow in Nairobi, so a day's work cannot straddle midnight.
fn to_ten_tomorrow(s: &TestServer) -> DateTime<Utc> {
    let now = s.services().clock.now();
    let tomorrow = now.with_timezone(&NAIROBI_TZ).date_naive() + Duration::days(1);
    let ten = NAIROBI_TZ
        .from_local_datetime(&tomorrow.and_hms_opt(10, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc);
    s.advance_clock(ten - now);
    ten
}

/// A completed direct job, its balance paid and verified: released 85/15. Returns the booking's
/// global id, its total and its platform fee.
async fn paid_job(s: &TestServer, customer: &Session, tech: &Tech, key: &str) -> (Value, i64, i64) {
    let id = completed(s, customer, tech, key).await;
    s.ok(
        customer.token(),
        PAY,
        pay_input(&id, "BALANCE", "SANDBOX", &format!("{key}-balance"), None),
    )
    .await;
    // Verifying a fully paid job settles it at once: the answer is already PAID.
    step(s, customer, &id, "VERIFIED", None).await;
    let seen = view(s, customer, &id).await;
    assert_eq!(seen["status"], "PAID", "{seen}");
    assert_eq!(seen["price"]["tax"]["amountMinor"], 0, "no tax by default");
    let total = minor(&seen["price"]["total"]);
    let fee = minor(&seen["price"]["platformFee"]);
    // 15% of the job price, rounded half up.
    assert_eq!(fee, (total * 15 + 50) / 100, "{seen}");
    (id, total, fee)
}

async fn balance(s: &TestServer, account: AccountKey) -> i64 {
    ledger::balance(&s.services().db, &account).await.unwrap()
}

#[tokio::test]
async fn daily_earnings_match_the_85_15_split_and_the_statement_reconciles() {
    let s = TestServer::start().await;
    let customer_email = "earn-customer@example.com";
    let tech_email = "earn-tech@example.com";
    s.register(customer_email).await;
    let tech = ready(&s, tech_email, NAIROBI, json!({})).await;
    let other = ready(&s, "earn-other@example.com", NAIROBI, json!({})).await;
    staff(&s, "earn-admin@example.com", Role::Admin).await;
    let day0 = to_ten_tomorrow(&s);
    // Tokens expire by the server's clock: sign in again after moving it.
    let mut customer = relogin(&s, customer_email).await;
    let mut tech = Tech {
        session: relogin(&s, tech_email).await,
        ..tech
    };

    // Day 0: one job and a tip on it.
    let (job1, total1, fee1) = paid_job(&s, &customer, &tech, "earn-job-01").await;
    let tipped = s
        .ok(
            customer.token(),
            PAY,
            pay_input(&job1, "TIP", "SANDBOX", "earn-tip-job-01", Some(50_000)),
        )
        .await;
    assert_eq!(tipped["payBooking"]["status"], "SUCCEEDED");

    // Day 1: two jobs.
    s.advance_clock(Duration::days(1));
    customer = relogin(&s, customer_email).await;
    tech = Tech {
        session: relogin(&s, tech_email).await,
        ..tech
    };
    let (_, total2, fee2) = paid_job(&s, &customer, &tech, "earn-job-02").await;
    let (job3, total3, fee3) = paid_job(&s, &customer, &tech, "earn-job-03").await;

    // Day 2: job 3 is disputed and refunded in full; the technician's share is taken back.
    s.advance_clock(Duration::days(1));
    customer = relogin(&s, customer_email).await;
    let admin = relogin(&s, "earn-admin@example.com").await;
    s.ok(
        customer.token(),
        "mutation($id: ID!) { openDispute(bookingId: $id, reason: \"Still leaking\", details: \"Water everywhere\") { status } }",
        json!({"id": job3}),
    )
    .await;
    s.ok(
        admin.token(),
        "mutation($id: ID!, $input: DisputeResolutionInput!) { resolveDispute(bookingId: $id, input: $input) { status } }",
        json!({"id": job3, "input": {"outcome": "REFUND_CUSTOMER"}}),
    )
    .await;

    // Day 4: the hold is over for everything left; it becomes available (an internal move).
    s.advance_clock(Duration::hours(49));
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    let tech = Tech {
        session: relogin(&s, tech_email).await,
        ..tech
    };
    // Day 4: one withdrawal paid out and one still waiting. Neither is an earning: they only move
    // money from available to in payout and on to the technician.
    let admin = relogin(&s, "earn-admin@example.com").await;
    let (paid_out, waiting) = (20_000, 10_000);
    s.ok(
        tech.session.token(),
        crate::withdrawals::SET_PIN,
        json!({"pin": crate::withdrawals::PIN, "password": PASSWORD}),
    )
    .await;
    s.ok(
        tech.session.token(),
        crate::withdrawals::SET_METHOD,
        json!({"input": {"kind": "MPESA", "mpesaPhone": "+254712345678"}}),
    )
    .await;
    let request = crate::withdrawals::request_mutation();
    let first = s
        .ok(
            tech.session.token(),
            &request,
            crate::withdrawals::withdrawal_input(paid_out, "earn-payout-1"),
        )
        .await;
    let processed = s
        .ok(
            admin.token(),
            "mutation($id: ID!) { processWithdrawal(id: $id) { status } }",
            json!({"id": first["requestWithdrawal"]["id"]}),
        )
        .await;
    assert_eq!(processed["processWithdrawal"]["status"], "COMPLETED");
    s.ok(
        tech.session.token(),
        &request,
        crate::withdrawals::withdrawal_input(waiting, "earn-payout-2"),
    )
    .await;
    let now = s.services().clock.now();

    let from = day0 - Duration::hours(1);
    let data = s
        .ok(
            tech.session.token(),
            EARNINGS,
            json!({"period": "DAY", "from": from.to_rfc3339(), "to": now.to_rfc3339()}),
        )
        .await;
    let e = &data["myEarnings"];
    assert_eq!(e["currency"], "KES");
    assert_eq!(e["timeZone"], "Africa/Nairobi");
    let series = e["series"].as_array().unwrap();
    assert_eq!(series.len(), 5, "{e}");
    let start0: DateTime<Utc> = series[0]["periodStart"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        start0,
        day0 - Duration::hours(10),
        "days start at Nairobi midnight"
    );
    let day = |i: usize| {
        let b = &series[i];
        (
            b["jobs"].as_i64().unwrap(),
            minor(&b["gross"]),
            minor(&b["platformFee"]),
            minor(&b["tips"]),
            minor(&b["net"]),
        )
    };
    assert_eq!(
        day(0),
        (1, total1, fee1, 50_000, total1 - fee1 + 50_000),
        "{e}"
    );
    assert_eq!(
        day(1),
        (
            2,
            total2 + total3,
            fee2 + fee3,
            0,
            total2 - fee2 + total3 - fee3
        ),
        "{e}"
    );
    assert_eq!(day(2), (0, 0, 0, 0, -(total3 - fee3)), "the claw-back");
    assert_eq!(day(3), (0, 0, 0, 0, 0));
    assert_eq!(day(4), (0, 0, 0, 0, 0), "the hold ending is no earning");
    let sum_net: i64 = (0..5).map(|i| day(i).4).sum();
    assert_eq!(minor(&e["lifetime"]), sum_net);
    assert_eq!(sum_net, total1 - fee1 + 50_000 + total2 - fee2);

    // The balances are the ledger's.
    let (pending, available, in_payout) = (
        balance(&s, AccountKey::technician_pending(tech.uuid, Currency::KES)).await,
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES),
        )
        .await,
        balance(&s, AccountKey::payout_in_flight(tech.uuid, Currency::KES)).await,
    );
    assert_eq!(minor(&e["pending"]), pending);
    assert_eq!(minor(&e["available"]), available);
    assert_eq!(minor(&e["inPayout"]), in_payout);
    assert_eq!(pending, 0, "everything left is past the hold");
    assert_eq!(in_payout, waiting);
    assert_eq!(
        available + in_payout + paid_out,
        sum_net,
        "what was earned is available, on its way, or paid out"
    );

    // The whole history: opening zero, every line reconciles, closing equals the balances.
    let data = s
        .ok(
            tech.session.token(),
            STATEMENT,
            json!({"from": from.to_rfc3339(), "to": (now + Duration::minutes(1)).to_rfc3339()}),
        )
        .await;
    let st = &data["earningsStatement"];
    assert_eq!(minor(&st["openingBalance"]), 0);
    assert_eq!(
        minor(&st["closingBalance"]),
        pending + available + in_payout
    );
    reconciles(st);
    let closing = |account: &str| {
        st["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["account"] == account)
            .map(|t| minor(&t["closing"]))
            .unwrap()
    };
    assert_eq!(closing("PENDING"), pending);
    assert_eq!(closing("AVAILABLE"), available);
    assert_eq!(closing("IN_PAYOUT"), in_payout);
    let lines = st["lines"].as_array().unwrap();
    let first = &lines[0];
    assert_eq!(first["kind"], "RELEASE");
    assert_eq!(first["bookingId"], job1, "the Booking's global id");
    assert_eq!(first["account"], "PENDING");
    assert_eq!(minor(&first["amount"]), total1 - fee1);
    for kind in [
        "TIP",
        "DISPUTE",
        "EARNINGS_AVAILABLE",
        "WITHDRAWAL",
        "PAYOUT",
    ] {
        assert!(lines.iter().any(|l| l["kind"] == kind), "{kind}: {st}");
    }

    // Day 1 alone: it opens with day 0's earnings still pending.
    let data = s
        .ok(
            tech.session.token(),
            STATEMENT,
            json!({"from": series[1]["periodStart"], "to": series[1]["periodEnd"]}),
        )
        .await;
    let st = &data["earningsStatement"];
    assert_eq!(minor(&st["openingBalance"]), total1 - fee1 + 50_000);
    assert_eq!(
        minor(&st["closingBalance"]),
        total1 - fee1 + 50_000 + total2 - fee2 + total3 - fee3
    );
    assert_eq!(st["lines"].as_array().unwrap().len(), 2);
    reconciles(st);

    // The dashboard counts the same way, in local day, week and month.
    let dash = s.ok(tech.session.token(), DASHBOARD, json!({})).await;
    let d = &dash["technicianDashboard"];
    let local_today = now.with_timezone(&NAIROBI_TZ).date_naive();
    let week_start =
        local_today - Duration::days(local_today.weekday().num_days_from_monday() as i64);
    let month_start = local_today.with_day(1).unwrap();
    let net_since = |first: chrono::NaiveDate| -> i64 {
        let since = NAIROBI_TZ
            .from_local_datetime(&first.and_hms_opt(0, 0, 0).unwrap())
            .single()
            .unwrap()
            .with_timezone(&Utc);
        series
            .iter()
            .filter(|b| {
                b["periodStart"]
                    .as_str()
                    .unwrap()
                    .parse::<DateTime<Utc>>()
                    .unwrap()
                    >= since
            })
            .map(|b| minor(&b["net"]))
            .sum()
    };
    assert_eq!(d["netEarningsToday"]["currency"], "KES");
    assert_eq!(minor(&d["netEarningsToday"]), 0);
    assert_eq!(minor(&d["netEarningsThisWeek"]), net_since(week_start));
    assert_eq!(minor(&d["netEarningsThisMonth"]), net_since(month_start));

    // Another technician sees only their own (nothing).
    let other = Tech {
        session: relogin(&s, "earn-other@example.com").await,
        ..other
    };
    let theirs = s
        .ok(
            other.session.token(),
            EARNINGS,
            json!({"period": "MONTH", "from": from.to_rfc3339(), "to": now.to_rfc3339()}),
        )
        .await;
    assert_eq!(minor(&theirs["myEarnings"]["lifetime"]), 0);
    assert_eq!(minor(&theirs["myEarnings"]["available"]), 0);
    let theirs = s
        .ok(
            other.session.token(),
            STATEMENT,
            json!({"from": from.to_rfc3339(), "to": now.to_rfc3339()}),
        )
        .await;
    assert_eq!(theirs["earningsStatement"]["lines"], json!([]));
    crate::payments::ledger_is_sound(&s).await;
}

/// Per account: opening plus every line is closing, each line's balance follows the previous one,
/// and credits and debits add up to the lines.
fn reconciles(st: &Value) {
    let lines = st["lines"].as_array().unwrap();
    let mut opening_sum = 0;
    let mut closing_sum = 0;
    for total in st["totals"].as_array().unwrap() {
        let account = total["account"].as_str().unwrap();
        let mut running = minor(&total["opening"]);
        let (mut credits, mut debits) = (0, 0);
        for line in lines.iter().filter(|l| l["account"] == account) {
            let amount = minor(&line["amount"]);
            running += amount;
            if amount >= 0 {
                credits += amount;
            } else {
                debits += amount;
            }
            assert_eq!(minor(&line["balanceAfter"]), running, "{line}");
        }
        assert_eq!(running, minor(&total["closing"]), "{account}: {st}");
        assert_eq!(credits, minor(&total["credits"]));
        assert_eq!(debits, minor(&total["debits"]));
        opening_sum += minor(&total["opening"]);
        closing_sum += minor(&total["closing"]);
    }
    assert_eq!(opening_sum, minor(&st["openingBalance"]));
    assert_eq!(closing_sum, minor(&st["closingBalance"]));
}

#[tokio::test]
async fn only_technicians_see_earnings_and_bad_ranges_name_the_field() {
    let s = TestServer::start().await;
    let customer = s.register("earn-refused@example.com").await;
    let tech = technician(&s, "earn-ranges@example.com", None, json!({})).await;
    let now = Utc::now();
    let range = |from: DateTime<Utc>, to: DateTime<Utc>| json!({"period": "DAY", "from": from.to_rfc3339(), "to": to.to_rfc3339()});
    let ok_range = range(now - Duration::days(7), now);

    let refused = s.err(customer.token(), EARNINGS, ok_range.clone()).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let refused = s
        .err(
            customer.token(),
            STATEMENT,
            json!({"from": now.to_rfc3339(), "to": now.to_rfc3339()}),
        )
        .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let anonymous = s.err(None, EARNINGS, ok_range.clone()).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");

    let token = tech.session.token();
    let reversed = s
        .err(token, EARNINGS, range(now, now - Duration::seconds(1)))
        .await;
    assert_eq!(code(&reversed), "BAD_USER_INPUT");
    assert_eq!(reversed["extensions"]["field"], "to");
    let too_many_days = s
        .err(token, EARNINGS, range(now - Duration::days(400), now))
        .await;
    assert_eq!(code(&too_many_days), "BAD_USER_INPUT");
    assert_eq!(too_many_days["extensions"]["field"], "to");
    let years =
        json!({"period": "MONTH", "from": "2022-01-15T00:00:00Z", "to": "2025-12-15T00:00:00Z"});
    let fine = s.ok(token, EARNINGS, years).await;
    assert_eq!(fine["myEarnings"]["series"].as_array().unwrap().len(), 48);
    let decades = json!({"period": "MONTH", "from": (now - Duration::days(10 * 365)).to_rfc3339(), "to": now.to_rfc3339()});
    assert_eq!(
        s.err(token, EARNINGS, decades).await["extensions"]["field"],
        "to"
    );
    let bad_currency = json!({"period": "DAY", "from": now.to_rfc3339(), "to": now.to_rfc3339(), "currency": "shillings"});
    assert_eq!(
        s.err(token, EARNINGS, bad_currency).await["extensions"]["field"],
        "currency"
    );
    let long_statement = s
        .err(
            token,
            STATEMENT,
            json!({"from": (now - Duration::days(400)).to_rfc3339(), "to": now.to_rfc3339()}),
        )
        .await;
    assert_eq!(code(&long_statement), "BAD_USER_INPUT");
    assert_eq!(long_statement["extensions"]["field"], "to");
    let reversed = s
        .err(
            token,
            STATEMENT,
            json!({"from": now.to_rfc3339(), "to": (now - Duration::days(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!(reversed["extensions"]["field"], "to");

    // A technician with nothing yet sees zeros in their rate currency.
    let empty = s.ok(token, EARNINGS, ok_range).await;
    assert_eq!(empty["myEarnings"]["currency"], "KES");
    assert_eq!(empty["myEarnings"]["series"].as_array().unwrap().len(), 8);
    assert_eq!(empty["myEarnings"]["lifetime"]["formatted"], "KSh 0.00");
}

#[tokio::test]
async fn earnings_are_formatted_by_their_currency_and_default_to_the_rate_currency() {
    let s = TestServer::start().await;
    let tech = technician(
        &s,
        "earn-inr@example.com",
        None,
        json!({"hourlyRate": {"amountMinor": 50_000, "currency": "INR"}, "timeZone": "Asia/Kolkata"}),
    )
    .await;
    let db = &s.services().db;
    let now = s.services().clock.now();
    for (i, (currency, amount)) in [("INR", 12_345_600), ("KES", 123_400), ("USD", 1_250)]
        .into_iter()
        .enumerate()
    {
        let txn = fundi::db::begin_write(db).await.unwrap();
        ledger::post(
            &txn,
            now,
            JournalEntry {
                kind: TransactionKind::Tip,
                booking_id: None,
                reference: Some(format!("earn-fmt-{i}")),
                memo: None,
                postings: entries::tip(
                    "SANDBOX",
                    tech.uuid,
                    Currency::parse(currency).unwrap(),
                    amount,
                ),
            },
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
    }
    let ask = |currency: Option<&str>| json!({"period": "WEEK", "from": now.to_rfc3339(), "to": now.to_rfc3339(), "currency": currency});
    let token = tech.session.token();
    for (currency, formatted) in [
        (Some("INR"), "₹1,23,456.00"),
        (Some("kes"), "KSh 1,234.00"),
        (Some("USD"), "$12.50"),
        (None, "₹1,23,456.00"),
    ] {
        let data = s.ok(token, EARNINGS, ask(currency)).await;
        let e = &data["myEarnings"];
        assert_eq!(e["lifetime"]["formatted"], formatted, "{e}");
        assert_eq!(e["timeZone"], "Asia/Kolkata");
        assert_eq!(e["series"][0]["tips"], e["series"][0]["net"]);
        let start: DateTime<Utc> = e["series"][0]["periodStart"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let local = start.with_timezone(&chrono_tz::Asia::Kolkata);
        assert_eq!(
            local.weekday(),
            chrono::Weekday::Mon,
            "weeks start on Monday"
        );
        assert_eq!(local.format("%H:%M").to_string(), "00:00");
    }
    let dash = s.ok(token, DASHBOARD, json!({})).await;
    assert_eq!(
        dash["technicianDashboard"]["netEarningsToday"],
        json!({"amountMinor": 12_345_600, "currency": "INR"})
    );
}
