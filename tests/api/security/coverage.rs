//! Which of the victim's objects each ID argument names, which id-taking operations are exempt and
//! why, and the plan built from the schema, which fails when an operation is neither mapped nor exempt.

use super::schema::{IdPath, Operation, Schema, dotted, named};

/// An object that belongs to the victims: the victim customer, or the victim technician working for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fixture {
    /// The customer's job in progress with the technician: deposit paid, a quote open, chat and a route.
    ActiveBooking,
    /// The customer's job that was paid, invoiced and then disputed.
    DisputedBooking,
    /// The technician's open quote on the active job.
    Quote,
    /// The customer's message on the active job.
    Message,
    /// The customer's deposit on the active job.
    Payment,
    /// One of the customer's unread notifications.
    Notification,
    /// One of the customer's sign-ins.
    LoginEvent,
    /// The customer's saved address.
    Address,
    /// The customer's account.
    User,
    /// The technician (a `Technician` id).
    Technician,
    /// The technician's approved KYC submission and one of its documents.
    KycSubmission,
    KycDocument,
    /// The technician's day off.
    AvailabilityException,
    /// The technician's pending withdrawal.
    Withdrawal,
    /// A catalogue category (public, but only staff change it).
    ServiceCategory,
    /// The technician's published review of the customer on a paid job: read only by the two of
    /// them and staff.
    Review,
}

use Fixture::*;

impl Fixture {
    /// The object an `id` argument names when the operation returns (or `node` resolves to) `type_name`.
    fn of_type(type_name: &str) -> Option<Fixture> {
        Some(match type_name {
            "Booking" => ActiveBooking,
            "Quote" => Quote,
            "Message" => Message,
            "Payment" => Payment,
            "Notification" => Notification,
            "LoginEvent" => LoginEvent,
            "Address" => Address,
            "User" => User,
            "Technician" => Technician,
            "KycSubmission" => KycSubmission,
            "KycDocument" => KycDocument,
            "AvailabilityException" => AvailabilityException,
            "Withdrawal" => Withdrawal,
            "ServiceCategory" => ServiceCategory,
            "Review" => Review,
            _ => return None,
        })
    }
}

/// ID arguments and input fields by name, wherever they appear.
const BY_NAME: &[(&str, Fixture)] = &[
    ("bookingId", ActiveBooking),
    ("quoteId", Quote),
    ("messageId", Message),
    ("upToMessageId", Message),
    ("paymentId", Payment),
    ("notificationId", Notification),
    ("userId", User),
    ("technicianId", Technician),
    ("withdrawalId", Withdrawal),
    ("categoryId", ServiceCategory),
    ("documentId", KycDocument),
    ("addressId", Address),
    ("reviewId", Review),
];

/// Where the name (or, for `id`, the result type) does not say: operation, argument path, object.
const BY_OPERATION: &[(&str, &str, Fixture)] = &[
    ("removeAvailabilityException", "id", AvailabilityException),
    ("bookingUpdated", "id", ActiveBooking),
    ("markNotificationsRead", "ids", Notification),
    ("processWithdrawals", "ids", Withdrawal),
    // Only the settled job has an invoice and a dispute to read or settle.
    ("invoice", "bookingId", DisputedBooking),
    ("bookingDispute", "bookingId", DisputedBooking),
    ("resolveDispute", "bookingId", DisputedBooking),
];

/// Id-taking operations that are not the victims' to protect, and why.
pub const EXEMPT: &[(&str, &str)] = &[
    (
        "technician",
        "an approved technician's public profile; its private fields are checked separately",
    ),
    (
        "technicianWorksAt",
        "an approved technician's timetable is public, so customers can pick a time",
    ),
    (
        "createServiceRequest",
        "`technicianId` picks a public technician for the viewer's own new job",
    ),
    (
        "blockTechnician",
        "the block list is the viewer's own; the id names a public technician",
    ),
    (
        "unblockTechnician",
        "the block list is the viewer's own; the id names a public technician",
    ),
    (
        "reviews",
        "a technician's published reviews from customers are public, like their profile",
    ),
    (
        "attachUnmatchedReceipt",
        "ADMIN only; an unmatched receipt is money that belongs to no user yet, and non-staff \
         callers are refused in tests/api/unmatched.rs",
    ),
    (
        "refundUnmatchedReceipt",
        "ADMIN only; an unmatched receipt is money that belongs to no user yet, and non-staff \
         callers are refused in tests/api/unmatched.rs",
    ),
];

/// Types behind an interface (`node(id)`) that anyone may fetch, and why.
pub const PUBLIC_TYPES: &[(&str, &str)] = &[
    (
        "Technician",
        "the public profile, as `technician(id)` gives it",
    ),
    ("ServiceCategory", "the catalogue is public"),
];

/// Operations that skip ids the viewer has no right to instead of refusing, and what a signed-in
/// stranger gets back (anonymous callers are still refused).
pub const IGNORES_OTHERS: &[(&str, i64, &str)] = &[(
    "markNotificationsRead",
    0,
    "marks only the viewer's own notifications and counts them",
)];

/// What a stranger's call must come to.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// No data for the field, and NOT_FOUND, FORBIDDEN or UNAUTHENTICATED.
    Refused,
    /// Signed in: this answer and no error, the victim's objects untouched. Anonymous: refused.
    Ignored(i64),
}

/// One generated call: an operation with the victim's objects in its ID arguments.
#[derive(Debug, Clone)]
pub struct Case {
    pub operation: Operation,
    /// Each ID argument's path and the victim object it gets.
    pub ids: Vec<(IdPath, Fixture)>,
    /// The operation, and for an interface result the type the id is of: `node(Booking)`.
    pub label: String,
    pub expect: Expect,
}

/// The object an ID at `path` in `operation` names, by the tables above.
fn fixture_for(operation: &Operation, path: &IdPath) -> Option<Fixture> {
    let joined = dotted(path);
    if let Some((_, _, fixture)) = BY_OPERATION
        .iter()
        .find(|(op, at, _)| *op == operation.name && *at == joined)
    {
        return Some(*fixture);
    }
    let last = path.last()?.as_str();
    if let Some((_, fixture)) = BY_NAME.iter().find(|(name, _)| *name == last) {
        return Some(*fixture);
    }
    if path.len() == 1 && last == "id" {
        return Fixture::of_type(named(&operation.returns));
    }
    None
}

/// Every (operation × victim object) call the matrix makes, or every problem that keeps it from being
/// complete: an ID argument nobody mapped, or a table entry the schema no longer has a use for.
pub fn plan(schema: &Schema) -> Result<Vec<Case>, Vec<String>> {
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for operation in &schema.operations {
        let paths = schema.id_paths(operation);
        if paths.is_empty() || EXEMPT.iter().any(|(name, _)| *name == operation.name) {
            continue;
        }
        let expect = IGNORES_OTHERS
            .iter()
            .find(|(name, _, _)| *name == operation.name)
            .map_or(Expect::Refused, |(_, answer, _)| Expect::Ignored(*answer));
        let result = named(&operation.returns);
        if schema.is_interface(result) && paths == [vec!["id".to_string()]] {
            interface_cases(schema, operation, result, &mut cases, &mut problems);
            continue;
        }
        let mut ids = Vec::new();
        for path in paths {
            match fixture_for(operation, &path) {
                Some(fixture) => ids.push((path, fixture)),
                None => problems.push(format!(
                    "{}: no victim object for ID argument `{}`; map it in BY_NAME or BY_OPERATION \
                     (tests/api/security/coverage.rs) or exempt the operation with a reason",
                    operation.name,
                    dotted(&path)
                )),
            }
        }
        cases.push(Case {
            operation: operation.clone(),
            ids,
            label: operation.name.clone(),
            expect,
        });
    }
    problems.extend(stale_entries(schema));
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(problems)
    }
}

/// `node(id)` and the like: one case per type behind the interface, public types left out.
fn interface_cases(
    schema: &Schema,
    operation: &Operation,
    interface: &str,
    cases: &mut Vec<Case>,
    problems: &mut Vec<String>,
) {
    for type_name in schema.implementors(interface) {
        if PUBLIC_TYPES.iter().any(|(name, _)| *name == type_name) {
            continue;
        }
        match Fixture::of_type(&type_name) {
            Some(fixture) => cases.push(Case {
                operation: operation.clone(),
                ids: vec![(vec!["id".to_string()], fixture)],
                label: format!("{}({type_name})", operation.name),
                expect: Expect::Refused,
            }),
            None => problems.push(format!(
                "{}: no victim object of type {type_name}; add it to Fixture::of_type \
                 (tests/api/security/coverage.rs) or to PUBLIC_TYPES with a reason",
                operation.name
            )),
        }
    }
}

/// Table entries that name operations or arguments the schema no longer has: kept tables stay honest.
fn stale_entries(schema: &Schema) -> Vec<String> {
    let takes_ids = |name: &str| {
        schema
            .operation(name)
            .is_some_and(|op| !schema.id_paths(op).is_empty())
    };
    let mut stale = Vec::new();
    for name in EXEMPT
        .iter()
        .map(|(name, _)| *name)
        .chain(IGNORES_OTHERS.iter().map(|(name, _, _)| *name))
    {
        if !takes_ids(name) {
            stale.push(format!(
                "{name}: listed in coverage.rs but takes no id (or is gone)"
            ));
        }
    }
    for (name, path, _) in BY_OPERATION {
        let present = schema
            .operation(name)
            .is_some_and(|op| schema.id_paths(op).iter().any(|p| dotted(p) == *path));
        if !present {
            stale.push(format!(
                "{name}.{path}: mapped in BY_OPERATION but not in the schema"
            ));
        }
    }
    stale
}

/// The served schema with `field` added to the root type `root` and `types` appended.
fn served_with(root: &str, field: &str, types: &str) -> Schema {
    let sdl = fundi::graphql::sdl();
    let opening = format!("type {root} {{\n");
    assert!(sdl.contains(&opening), "{root} is a root type");
    let sdl = sdl.replacen(&opening, &format!("{opening}\t{field}\n"), 1);
    Schema::parse(&format!("{sdl}\n{types}\n"))
}

fn problems(schema: &Schema) -> String {
    match plan(schema) {
        Ok(cases) => panic!("the check passed with {} cases", cases.len()),
        Err(problems) => problems.join("\n"),
    }
}

#[test]
fn every_operation_of_the_served_schema_that_takes_an_id_is_mapped_or_exempt() {
    let schema = Schema::served();
    let cases = plan(&schema).unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
    let labels: Vec<&str> = cases.iter().map(|c| c.label.as_str()).collect();
    for expected in [
        "booking",
        "messages",
        "transitionBooking",
        "payBooking",
        "cancelWithdrawal",
        "node(Booking)",
        "node(KycDocument)",
        "bookingUpdated",
        "technicianLocation",
    ] {
        assert!(labels.contains(&expected), "{expected} in {labels:?}");
    }
    for (exempt, _) in EXEMPT.iter().chain(PUBLIC_TYPES) {
        assert!(!labels.contains(exempt), "{exempt} is exempt");
    }
    let pay = cases.iter().find(|c| c.label == "payBooking").unwrap();
    assert_eq!(
        pay.ids,
        vec![(
            vec!["input".to_string(), "bookingId".to_string()],
            ActiveBooking
        )]
    );
}

#[test]
fn a_new_operation_with_an_unmapped_id_fails_the_check() {
    let schema = served_with("QueryRoot", "gadget(gadgetId: ID!): Boolean!", "");
    let problems = problems(&schema);
    assert!(problems.contains("gadget"), "{problems}");
    assert!(problems.contains("`gadgetId`"), "{problems}");
}

#[test]
fn an_id_deep_inside_input_objects_is_found() {
    let schema = served_with(
        "MutationRoot",
        "makeGadget(input: GadgetInput!): Boolean!",
        "input GadgetInput { name: String!, owner: GadgetOwnerInput! }
         input GadgetOwnerInput { partIds: [ID!], next: GadgetOwnerInput }",
    );
    let problems = problems(&schema);
    assert!(problems.contains("makeGadget"), "{problems}");
    assert!(problems.contains("`input.owner.partIds`"), "{problems}");
}

#[test]
fn a_new_operation_on_a_known_id_is_covered_without_touching_the_tables() {
    let schema = served_with(
        "SubscriptionRoot",
        "gadgetMoved(input: GadgetInput!): Boolean!",
        "input GadgetInput { bookingId: ID! }",
    );
    let cases = plan(&schema).unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
    let case = cases
        .iter()
        .find(|c| c.label == "gadgetMoved")
        .expect("planned");
    assert_eq!(
        case.ids,
        vec![(
            vec!["input".to_string(), "bookingId".to_string()],
            ActiveBooking
        )]
    );
    assert_eq!(case.expect, Expect::Refused);
}

#[test]
fn a_new_node_type_without_a_victim_object_fails_the_check() {
    let schema = served_with(
        "QueryRoot",
        "gadgets: [Gadget!]!",
        "type Gadget implements Node { id: ID! }",
    );
    let problems = problems(&schema);
    assert!(
        problems.contains("node: no victim object of type Gadget"),
        "{problems}"
    );
}

#[test]
fn an_exemption_the_schema_no_longer_needs_fails_the_check() {
    let sdl = fundi::graphql::sdl();
    let old = "technicianWorksAt(technicianId: ID!, at: DateTime!)";
    assert!(sdl.contains(old));
    let schema = Schema::parse(&sdl.replace(old, "technicianWorksAt(at: DateTime!)"));
    let problems = problems(&schema);
    assert!(problems.contains("technicianWorksAt: listed"), "{problems}");
}
