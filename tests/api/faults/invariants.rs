//! What must hold in the database after any fault: `fundi ledger verify` passes, each booking's event
//! log is a gap-free chain that its outbox sequence numbers match, and every effect happened once.

use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use serde_json::Value;
use std::process::Command;
use uuid::Uuid;

pub async fn connect(url: &str) -> DatabaseConnection {
    sea_orm::Database::connect(url)
        .await
        .expect("the test database answers")
}

async fn rows(db: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) -> Vec<QueryResult> {
    db.query_all_raw(fundi::db::sql::stmt(db.get_database_backend(), sql, values))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> T {
    row.try_get("", column)
        .unwrap_or_else(|e| panic!("column {column}: {e:?}"))
}

/// Runs `fundi ledger verify` against the database, as an operator would after an incident.
pub fn ledger_verify(env: &[(String, String)]) -> Result<String, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_fundi"))
        .args(["ledger", "verify"])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("fundi runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{}: {stdout}{stderr}", output.status))
    }
}

/// The booking's recorded moves form one unbroken chain from creation (each starts where the one
/// before ended) through exactly `expected` to its current status, and its outbox events are
/// numbered 1..n without a gap, the status changes among them in the same order.
pub async fn event_log_is_whole(
    db: &DatabaseConnection,
    booking: Uuid,
    expected: &[&str],
) -> Result<(), String> {
    let events = rows(
        db,
        "SELECT from_status, to_status FROM booking_events WHERE booking_id = $1 ORDER BY id",
        vec![booking.into()],
    )
    .await;
    let mut previous: Option<String> = None;
    let mut path = Vec::new();
    for event in &events {
        let from: Option<String> = get(event, "from_status");
        let to: String = get(event, "to_status");
        if from != previous {
            return Err(format!(
                "booking {booking}: a move from {from:?} follows one that ended at {previous:?} ({path:?})"
            ));
        }
        path.push(to.clone());
        previous = Some(to);
    }
    if path != expected {
        return Err(format!(
            "booking {booking}: moves {path:?}, expected {expected:?}"
        ));
    }
    let current: String = get(
        &rows(
            db,
            "SELECT status FROM bookings WHERE id = $1",
            vec![booking.into()],
        )
        .await[0],
        "status",
    );
    if previous.as_deref() != Some(current.as_str()) {
        return Err(format!(
            "booking {booking} is {current} but its log ends at {previous:?}"
        ));
    }
    outbox_is_whole(db, booking, &path[1..]).await
}

async fn outbox_is_whole(
    db: &DatabaseConnection,
    booking: Uuid,
    moves: &[String],
) -> Result<(), String> {
    let topic = format!("booking.{booking}");
    let events = rows(
        db,
        "SELECT seq, payload FROM outbox WHERE topic = $1 ORDER BY seq",
        vec![topic.clone().into()],
    )
    .await;
    let numbers: Vec<i64> = events.iter().map(|row| get(row, "seq")).collect();
    let whole: Vec<i64> = (1..=numbers.len() as i64).collect();
    if numbers != whole {
        return Err(format!("{topic}: sequence numbers {numbers:?}"));
    }
    let last: Vec<i64> = rows(
        db,
        "SELECT last_seq FROM topic_sequences WHERE topic = $1",
        vec![topic.clone().into()],
    )
    .await
    .iter()
    .map(|row| get(row, "last_seq"))
    .collect();
    if last != [numbers.len() as i64] {
        return Err(format!(
            "{topic}: the counter says {last:?}, the outbox holds {}",
            numbers.len()
        ));
    }
    let published: Vec<String> = events
        .iter()
        .map(|row| serde_json::from_str::<Value>(&get::<String>(row, "payload")).expect("JSON"))
        .filter(|payload| payload["kind"] == "STATUS")
        .map(|payload| {
            payload["booking"]["status"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    if published != moves {
        return Err(format!(
            "{topic}: status events {published:?}, moves {moves:?}"
        ));
    }
    Ok(())
}

/// `(kind, status)` of each of the booking's payments, oldest first.
pub async fn payments(db: &DatabaseConnection, booking: Uuid) -> Vec<(String, String)> {
    rows(
        db,
        "SELECT kind, status FROM payments WHERE booking_id = $1 ORDER BY id",
        vec![booking.into()],
    )
    .await
    .iter()
    .map(|row| (get(row, "kind"), get(row, "status")))
    .collect()
}

/// Each ledger entry kind about the booking with how often it was posted, by kind.
pub async fn entries_of_booking(db: &DatabaseConnection, booking: Uuid) -> Vec<(String, i64)> {
    rows(
        db,
        "SELECT kind, COUNT(*) AS n FROM ledger_transactions WHERE booking_id = $1 \
         GROUP BY kind ORDER BY kind",
        vec![booking.into()],
    )
    .await
    .iter()
    .map(|row| (get(row, "kind"), get(row, "n")))
    .collect()
}

/// Every payment that came in was booked exactly once, and what it says was refunded was refunded
/// in the ledger, no more.
pub async fn payments_booked_once(db: &DatabaseConnection) -> Result<(), String> {
    for row in rows(
        db,
        "SELECT id, status, amount_minor, refunded_minor FROM payments",
        vec![],
    )
    .await
    {
        let id: Uuid = get(&row, "id");
        let status: String = get(&row, "status");
        let came_in = matches!(
            status.as_str(),
            "SUCCEEDED" | "PARTIALLY_REFUNDED" | "REFUNDED"
        );
        let booked: i64 = get(
            &rows(
                db,
                "SELECT COUNT(*) AS n FROM ledger_transactions WHERE reference = $1",
                vec![format!("payment:{id}").into()],
            )
            .await[0],
            "n",
        );
        if booked != i64::from(came_in) {
            return Err(format!(
                "payment {id} ({status}) is booked {booked} time(s)"
            ));
        }
        let refunded: i64 = get(&row, "refunded_minor");
        let refund_entries: i64 = get(
            &rows(
                db,
                "SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS total \
                 FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id \
                 WHERE t.reference LIKE $1 AND p.amount_minor > 0",
                vec![format!("refund:{id}:%").into()],
            )
            .await[0],
            "total",
        );
        if refund_entries != refunded {
            return Err(format!(
                "payment {id} says {refunded} refunded, the ledger {refund_entries}"
            ));
        }
    }
    Ok(())
}

/// Each withdrawal set its money aside once and, once COMPLETED, paid it out once; what is still
/// on its way (PENDING or PROCESSING) is exactly what the technician's in-payout account holds.
pub async fn withdrawals_paid_once(
    db: &DatabaseConnection,
    technician: Uuid,
) -> Result<Vec<(Uuid, String)>, String> {
    let mut seen = Vec::new();
    let mut on_the_way = 0;
    for row in rows(
        db,
        "SELECT id, status, amount_minor FROM withdrawals WHERE technician_id = $1 ORDER BY id",
        vec![technician.into()],
    )
    .await
    {
        let id: Uuid = get(&row, "id");
        let status: String = get(&row, "status");
        let amount: i64 = get(&row, "amount_minor");
        for (suffix, expected) in [("requested", 1), ("paid", i64::from(status == "COMPLETED"))] {
            let n: i64 = get(
                &rows(
                    db,
                    "SELECT COUNT(*) AS n FROM ledger_transactions WHERE reference = $1",
                    vec![format!("withdrawal:{id}:{suffix}").into()],
                )
                .await[0],
                "n",
            );
            if n != expected {
                return Err(format!(
                    "withdrawal {id} ({status}) has {n} '{suffix}' entries"
                ));
            }
        }
        if matches!(status.as_str(), "PENDING" | "PROCESSING") {
            on_the_way += amount;
        }
        seen.push((id, status));
    }
    let in_flight = fundi::services::money::ledger::balance(
        db,
        &fundi::domain::ledger::AccountKey::payout_in_flight(
            technician,
            fundi::domain::money::Currency::KES,
        ),
    )
    .await
    .map_err(|e| e.message())?;
    if in_flight != on_the_way {
        return Err(format!(
            "in payout: the ledger holds {in_flight}, unfinished withdrawals add up to {on_the_way}"
        ));
    }
    Ok(seen)
}
