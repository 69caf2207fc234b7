//! Booking moves by role: for every move in the state table, every person whose role may not make
//! it is refused through `transitionBooking` (and `cancelBooking`), and the booking stays as it was.

use crate::booking_fixtures::*;
use crate::fixtures::*;
use crate::support::*;
use fundi::domain::booking_state as table;
use serde_json::{Value, json};

/// Who may make a move in their own right, as the product rules say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Customer,
    Technician,
    Admin,
    System,
}
use By::*;

/// The product rules, written out again independently of `src/domain/booking_state.rs`:
/// from, to, who may make the move. Admins may also make any customer or technician move
/// (with a reason); SUPPORT has no moves. System marks arrival from the technician's location.
const RULES: &[(&str, &str, &[By])] = &[
    ("PENDING", "MATCHING", &[System]),
    ("PENDING", "ASSIGNED", &[System]),
    ("PENDING", "CANCELLED", &[Customer]),
    ("MATCHING", "ASSIGNED", &[System]),
    ("MATCHING", "CANCELLED", &[Customer, System]),
    ("ASSIGNED", "ACCEPTED", &[Technician]),
    ("ASSIGNED", "REJECTED", &[Technician, System]),
    ("ASSIGNED", "CANCELLED", &[Customer]),
    ("REJECTED", "MATCHING", &[System]),
    ("REJECTED", "CANCELLED", &[Customer, System]),
    ("ACCEPTED", "EN_ROUTE", &[Technician]),
    ("ACCEPTED", "REJECTED", &[Technician]),
    ("ACCEPTED", "CANCELLED", &[Customer]),
    ("EN_ROUTE", "ARRIVED", &[Technician, System]),
    ("EN_ROUTE", "CANCELLED", &[Customer]),
    ("ARRIVED", "IN_PROGRESS", &[Technician]),
    ("ARRIVED", "CANCELLED", &[Customer]),
    ("IN_PROGRESS", "PAUSED", &[Technician]),
    ("IN_PROGRESS", "COMPLETED", &[Technician]),
    ("IN_PROGRESS", "CANCELLED", &[Admin]),
    ("PAUSED", "IN_PROGRESS", &[Technician]),
    ("PAUSED", "CANCELLED", &[Admin]),
    ("COMPLETED", "VERIFIED", &[Customer, System]),
    ("COMPLETED", "DISPUTED", &[Customer]),
    ("VERIFIED", "PAYMENT_PENDING", &[System]),
    ("VERIFIED", "PAID", &[System]),
    ("PAYMENT_PENDING", "PAID", &[System]),
    ("PAYMENT_PENDING", "DISPUTED", &[Customer]),
    ("PAID", "DISPUTED", &[Customer]),
    ("DISPUTED", "PAID", &[Admin]),
    ("DISPUTED", "REFUNDED", &[Admin]),
];

/// The people who try every move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Person {
    /// The booking's customer.
    Owner,
    /// The booking's technician (when it has one).
    Assignee,
    /// A technician with nothing to do with this booking.
    OtherTechnician,
    /// A customer with nothing to do with this booking.
    Stranger,
    Support,
    Admin,
}

const PEOPLE: [Person; 6] = [
    Person::Owner,
    Person::Assignee,
    Person::OtherTechnician,
    Person::Stranger,
    Person::Support,
    Person::Admin,
];

/// How a person stands towards a booking: the role they act in, or None when it is not theirs to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Acts(By),
    Support,
    Outsider,
}

fn standing(person: Person, has_technician: bool) -> Standing {
    match person {
        Person::Owner => Standing::Acts(Customer),
        Person::Assignee if has_technician => Standing::Acts(Technician),
        Person::Assignee | Person::OtherTechnician | Person::Stranger => Standing::Outsider,
        Person::Support => Standing::Support,
        Person::Admin => Standing::Acts(Admin),
    }
}

/// Whether `role` may make `from -> to`: in its own right, or an admin acting for a customer or technician.
fn may(role: By, roles: &[By]) -> bool {
    roles.contains(&role)
        || (role == Admin && (roles.contains(&Customer) || roles.contains(&Technician)))
}

/// What `standing` may move a booking in `from` to, by the written rules, in table order.
fn expected_targets(from: &str, standing: Standing) -> Vec<String> {
    let Standing::Acts(role) = standing else {
        return vec![];
    };
    let mut targets: Vec<String> = Vec::new();
    for (_, to, roles) in RULES.iter().filter(|(f, _, _)| *f == from) {
        if may(role, roles) && !targets.iter().any(|t| t == to) {
            targets.push(to.to_string());
        }
    }
    targets
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("a list: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a name").to_string())
        .collect()
}

const TRY: &str = "mutation($id: ID!, $to: BookingStatus!, $reason: String, $code: String) {
  transitionBooking(id: $id, to: $to, reason: $reason, startCode: $code) { status } }";
const CANCEL: &str =
    "mutation($id: ID!) { cancelBooking(id: $id, reason: \"role check\") { status } }";
const SNAPSHOT: &str = "query($id: ID!) { booking(id: $id) { status version updatedAt
  cancellationFee { amountMinor } technician { id } events { from to role actorId reason at } } }";
const MINE: &str = "query($id: ID!) { booking(id: $id) { availableTransitions } }";

struct Cast {
    s: TestServer,
    owner: Session,
    assignee: Tech,
    other: Tech,
    stranger: Session,
    support: Session,
    admin: Session,
}

impl Cast {
    async fn new() -> Cast {
        let s = TestServer::start().await;
        let owner = s.register("roles-owner@example.com").await;
        let stranger = s.register("roles-stranger@example.com").await;
        let assignee = ready(&s, "roles-assignee@example.com", NAIROBI, json!({})).await;
        // Far enough away never to be matched to these bookings.
        let other = ready(
            &s,
            "roles-other@example.com",
            north_of(NAIROBI, 40.0),
            json!({}),
        )
        .await;
        let support = staff(
            &s,
            "roles-support@example.com",
            fundi::domain::account::Role::Support,
        )
        .await;
        let admin = staff(
            &s,
            "roles-admin@example.com",
            fundi::domain::account::Role::Admin,
        )
        .await;
        Cast {
            s,
            owner,
            assignee,
            other,
            stranger,
            support,
            admin,
        }
    }

    fn session(&self, person: Person) -> &Session {
        match person {
            Person::Owner => &self.owner,
            Person::Assignee => &self.assignee.session,
            Person::OtherTechnician => &self.other.session,
            Person::Stranger => &self.stranger,
            Person::Support => &self.support,
            Person::Admin => &self.admin,
        }
    }

    /// A scheduled job (its offer outlives the test) offered straight to the assignee: ASSIGNED.
    async fn booking(&self, key: &str) -> (Value, String) {
        let start = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
        let booking = create(
            &self.s,
            &self.owner,
            key,
            json!({"technicianId": self.assignee.id, "scheduledStart": start, "priority": "MEDIUM"}),
        )
        .await;
        assert_eq!(booking["status"], "ASSIGNED", "{booking}");
        let code = booking["startCode"].as_str().unwrap().to_string();
        (booking["id"].clone(), code)
    }

    /// Moves a booking along `path`, each step by the person entitled to it.
    async fn walk(&self, id: &Value, code: &str, path: &[&str]) {
        for &to in path {
            match to {
                "VERIFIED" => {
                    // Settlement follows at once: VERIFIED is left for PAYMENT_PENDING in the same request.
                    let answer = step(&self.s, &self.owner, id, to, None).await;
                    assert_eq!(
                        answer["data"]["transitionBooking"]["status"], "PAYMENT_PENDING",
                        "{answer}"
                    );
                }
                "DISPUTED" => {
                    self.s
                        .ok(
                            self.owner.token(),
                            "mutation($id: ID!) { openDispute(bookingId: $id, reason: \"leak is back\") { status } }",
                            json!({"id": id}),
                        )
                        .await;
                }
                "PAID" => {
                    self.s
                        .ok(
                            self.admin.token(),
                            "mutation($id: ID!) { resolveDispute(bookingId: $id, input: {outcome: RELEASE_TO_TECHNICIAN}) { status } }",
                            json!({"id": id}),
                        )
                        .await;
                }
                _ => {
                    let code = (to == "IN_PROGRESS").then_some(code);
                    ok_step(&self.s, &self.assignee.session, id, to, code).await;
                }
            }
        }
    }

    async fn snapshot(&self, id: &Value) -> Value {
        self.s
            .ok(self.admin.token(), SNAPSHOT, json!({"id": id}))
            .await["booking"]
            .clone()
    }

    /// Tries every move out of `from` as every person whose role may not make it, and checks each
    /// refusal and that the booking did not change. Returns how many refusals were checked.
    async fn refuses_wrong_roles(&self, id: &Value, code: &str, from: &str) -> usize {
        let before = self.snapshot(id).await;
        assert_eq!(before["status"], from, "{before}");
        let has_technician = !before["technician"].is_null();
        let mut targets: Vec<&str> = Vec::new();
        for (_, to, _) in RULES.iter().filter(|(f, _, _)| *f == from) {
            if !targets.contains(to) {
                targets.push(to);
            }
        }
        assert!(!targets.is_empty(), "{from} has moves");
        let mut refusals = 0;
        for person in PEOPLE {
            let who = self.session(person);
            let standing = standing(person, has_technician);
            let allowed = expected_targets(from, standing);
            // What the viewer is offered matches the rules (and outsiders cannot see the booking).
            let mine = self.s.gql(who.token(), MINE, json!({"id": id})).await;
            if standing == Standing::Outsider {
                assert_eq!(code_of(&mine), "NOT_FOUND", "{from} {person:?}: {mine}");
            } else {
                assert_eq!(
                    sorted(strings(&mine["data"]["booking"]["availableTransitions"])),
                    sorted(allowed.clone()),
                    "availableTransitions from {from} for {person:?}"
                );
            }
            for &to in &targets {
                let roles = RULES
                    .iter()
                    .find(|(f, t, _)| *f == from && *t == to)
                    .map(|(_, _, roles)| *roles)
                    .unwrap();
                if let Standing::Acts(role) = standing
                    && may(role, roles)
                {
                    continue; // their move: not a wrong role
                }
                let case = format!("{from} -> {to} by {person:?}");
                // With a reason and the right start code, only the role can be the reason to refuse.
                let answer = self
                    .s
                    .gql(
                        who.token(),
                        TRY,
                        json!({"id": id, "to": to, "reason": "role check", "code": code}),
                    )
                    .await;
                self.assert_refused(&answer, standing, &allowed, &case);
                refusals += 1;
                assert_eq!(
                    self.snapshot(id).await,
                    before,
                    "{case} changed the booking"
                );
            }
            // cancelBooking is a second way to the same move: outsiders cannot see the booking,
            // technicians and support never cancel, and customers only where the rules let them.
            // (Admins may cancel from every state that has a CANCELLED move, so none is wrong here.)
            if targets.contains(&"CANCELLED") {
                let customer_may = RULES
                    .iter()
                    .any(|(f, t, r)| *f == from && *t == "CANCELLED" && r.contains(&Customer));
                let expected = match standing {
                    Standing::Outsider => Some("NOT_FOUND"),
                    Standing::Support | Standing::Acts(Technician) => Some("FORBIDDEN"),
                    Standing::Acts(Customer) if !customer_may => Some("INVALID_TRANSITION"),
                    _ => None,
                };
                if let Some(expected) = expected {
                    let case = format!("cancelBooking from {from} by {person:?}");
                    let answer = self.s.gql(who.token(), CANCEL, json!({"id": id})).await;
                    assert_eq!(code_of(&answer), expected, "{case}: {answer}");
                    assert!(answer["data"].is_null(), "{case}: {answer}");
                    refusals += 1;
                    assert_eq!(
                        self.snapshot(id).await,
                        before,
                        "{case} changed the booking"
                    );
                }
            }
        }
        refusals
    }

    fn assert_refused(&self, answer: &Value, standing: Standing, allowed: &[String], case: &str) {
        assert!(answer["data"].is_null(), "{case} was refused: {answer}");
        let error = &answer["errors"][0];
        match standing {
            Standing::Outsider => assert_eq!(code(error), "NOT_FOUND", "{case}: {answer}"),
            Standing::Acts(_) | Standing::Support => {
                assert_eq!(code(error), "INVALID_TRANSITION", "{case}: {answer}");
                assert_eq!(
                    sorted(strings(&error["extensions"]["allowed"])),
                    sorted(allowed.to_vec()),
                    "{case}: allowed targets in extensions"
                );
            }
        }
    }
}

fn code_of(answer: &Value) -> &str {
    code(&answer["errors"][0])
}

async fn staff(s: &TestServer, email: &str, role: fundi::domain::account::Role) -> Session {
    fundi::services::accounts::account::create_staff(
        s.services(),
        email,
        PASSWORD,
        "Staff Person",
        role,
    )
    .await
    .unwrap();
    Session::from_payload(&s.login(email, PASSWORD).await["data"]["login"])
}

/// Puts a booking straight into `status` in the database, for states that last only inside one
/// request (PENDING, MATCHING and REJECTED are left by dispatch, VERIFIED by settlement, before
/// the request that entered them commits). MATCHING has no technician yet.
async fn force_status(s: &TestServer, id: &Value, status: &str) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &s.services().db;
    let backend = db.get_database_backend();
    let clear = status == "MATCHING";
    let sql = match (backend, clear) {
        (sea_orm::DbBackend::Postgres, true) => {
            "UPDATE bookings SET status = $1, technician_id = NULL WHERE id = $2"
        }
        (sea_orm::DbBackend::Postgres, false) => "UPDATE bookings SET status = $1 WHERE id = $2",
        (_, true) => "UPDATE bookings SET status = ?, technician_id = NULL WHERE id = ?",
        (_, false) => "UPDATE bookings SET status = ? WHERE id = ?",
    };
    let uuid = uuid_of(id.as_str().unwrap());
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [status.into(), uuid.into()],
        ))
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
}

#[test]
fn the_written_rules_name_the_same_moves_and_people_as_the_domain_table() {
    let person_roles = |roles: &[table::Role]| -> Vec<&'static str> {
        let mut names: Vec<&str> = roles
            .iter()
            .filter(|r| **r != table::Role::System)
            .map(|r| r.as_str())
            .collect();
        names.sort();
        names
    };
    let written: Vec<(String, String, Vec<&str>)> = RULES
        .iter()
        .map(|(from, to, roles)| {
            let mut names: Vec<&str> = roles
                .iter()
                .filter(|r| **r != System)
                .map(|r| match r {
                    Customer => "CUSTOMER",
                    Technician => "TECHNICIAN",
                    Admin => "ADMIN",
                    System => unreachable!(),
                })
                .collect();
            names.sort();
            (from.to_string(), to.to_string(), names)
        })
        .collect();
    let domain: Vec<(String, String, Vec<&str>)> = table::TRANSITIONS
        .iter()
        .map(|t| {
            (
                t.from.as_str().to_string(),
                t.to.as_str().to_string(),
                person_roles(t.roles),
            )
        })
        .collect();
    assert_eq!(written, domain);
}

#[tokio::test]
async fn every_move_is_refused_to_every_person_whose_role_may_not_make_it() {
    let cast = Cast::new().await;
    // Each state reached through the API, and the path from ASSIGNED that gets there.
    let states: [(&str, &[&str]); 10] = [
        ("ASSIGNED", &[]),
        ("ACCEPTED", &["ACCEPTED"]),
        ("EN_ROUTE", &["ACCEPTED", "EN_ROUTE"]),
        ("ARRIVED", &["ACCEPTED", "EN_ROUTE", "ARRIVED"]),
        (
            "IN_PROGRESS",
            &["ACCEPTED", "EN_ROUTE", "ARRIVED", "IN_PROGRESS"],
        ),
        (
            "PAUSED",
            &["ACCEPTED", "EN_ROUTE", "ARRIVED", "IN_PROGRESS", "PAUSED"],
        ),
        (
            "COMPLETED",
            &[
                "ACCEPTED",
                "EN_ROUTE",
                "ARRIVED",
                "IN_PROGRESS",
                "COMPLETED",
            ],
        ),
        (
            "PAYMENT_PENDING",
            &[
                "ACCEPTED",
                "EN_ROUTE",
                "ARRIVED",
                "IN_PROGRESS",
                "COMPLETED",
                "VERIFIED",
            ],
        ),
        (
            "DISPUTED",
            &[
                "ACCEPTED",
                "EN_ROUTE",
                "ARRIVED",
                "IN_PROGRESS",
                "COMPLETED",
                "DISPUTED",
            ],
        ),
        (
            "PAID",
            &[
                "ACCEPTED",
                "EN_ROUTE",
                "ARRIVED",
                "IN_PROGRESS",
                "COMPLETED",
                "DISPUTED",
                "PAID",
            ],
        ),
    ];
    let mut refusals = 0;
    for (i, (state, path)) in states.into_iter().enumerate() {
        let (id, code) = cast.booking(&format!("roles-state-{i:02}")).await;
        cast.walk(&id, &code, path).await;
        refusals += cast.refuses_wrong_roles(&id, &code, state).await;
    }
    // Counted by hand from RULES (cancelBooking included): ASSIGNED 16, ACCEPTED 16, EN_ROUTE 12,
    // ARRIVED 12, IN_PROGRESS 18, PAUSED 14, COMPLETED 8, PAYMENT_PENDING 10, DISPUTED 10, PAID 4.
    assert_eq!(refusals, 120);
}

#[tokio::test]
async fn moves_out_of_passing_states_are_refused_to_every_person_whose_role_may_not_make_them() {
    let cast = Cast::new().await;
    // These states are entered and left within one request, so the booking is put there directly.
    let mut refusals = 0;
    for (i, state) in ["PENDING", "MATCHING", "REJECTED", "VERIFIED"]
        .into_iter()
        .enumerate()
    {
        let (id, code) = cast.booking(&format!("roles-pass-{i:02}")).await;
        force_status(&cast.s, &id, state).await;
        refusals += cast.refuses_wrong_roles(&id, &code, state).await;
    }
    // PENDING 20, MATCHING 14, REJECTED 14, VERIFIED 12 (cancelBooking included).
    assert_eq!(refusals, 60);
}
