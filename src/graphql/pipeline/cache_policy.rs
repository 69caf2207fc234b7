//! Which query results HTTP caches may keep, decided from the root fields a query touches: public
//! catalogue data for a while, anything that depends on who is asking never.

use async_graphql::CacheControl;
use async_graphql::parser::types::OperationType;

/// A root field whose whole answer is public, and for how long.
struct PublicField {
    name: &'static str,
    max_age_secs: i32,
    /// False when a signed-in viewer may see more than the public (a technician's own profile,
    /// staff): the answer is then public only for anonymous requests.
    same_for_everyone: bool,
}

const PUBLIC_FIELDS: &[PublicField] = &[
    PublicField {
        name: "serviceCategories",
        max_age_secs: 300,
        same_for_everyone: true,
    },
    PublicField {
        name: "technician",
        max_age_secs: 60,
        same_for_everyone: false,
    },
    PublicField {
        name: "reviews",
        max_age_secs: 60,
        same_for_everyone: false,
    },
    PublicField {
        name: "__typename",
        max_age_secs: 300,
        same_for_everyone: true,
    },
    PublicField {
        name: "__schema",
        max_age_secs: 300,
        same_for_everyone: true,
    },
    PublicField {
        name: "__type",
        max_age_secs: 300,
        same_for_everyone: true,
    },
];

/// Not to be stored anywhere: `private` with the engine's "no-cache" marker (max_age -1), which the
/// HTTP layer writes as `private, no-store`.
pub const PRIVATE: CacheControl = CacheControl {
    public: false,
    max_age: -1,
};

/// The policy for an operation selecting `root_fields`; public only when every one is.
pub fn for_operation(kind: OperationType, root_fields: &[&str], signed_in: bool) -> CacheControl {
    if kind != OperationType::Query || root_fields.is_empty() {
        return PRIVATE;
    }
    let mut max_age = i32::MAX;
    for name in root_fields {
        match PUBLIC_FIELDS.iter().find(|f| f.name == *name) {
            Some(field) if field.same_for_everyone || !signed_in => {
                max_age = max_age.min(field.max_age_secs)
            }
            _ => return PRIVATE,
        }
    }
    CacheControl {
        public: true,
        max_age,
    }
}

/// The `Cache-Control` header value for a policy.
pub fn header_value(policy: &CacheControl) -> String {
    if policy.public && policy.max_age > 0 {
        format!("public, max-age={}", policy.max_age)
    } else {
        "private, no-store".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_queries_of_public_fields_are_public() {
        use OperationType::*;
        let cases: &[(OperationType, &[&str], bool, &str)] = &[
            (Query, &["serviceCategories"], false, "public, max-age=300"),
            (Query, &["serviceCategories"], true, "public, max-age=300"),
            (Query, &["technician"], false, "public, max-age=60"),
            (
                Query,
                &["serviceCategories", "technician"],
                false,
                "public, max-age=60",
            ),
            (Query, &["technician"], true, "private, no-store"),
            (
                Query,
                &["serviceCategories", "me"],
                false,
                "private, no-store",
            ),
            (Query, &["booking"], true, "private, no-store"),
            (Query, &["__schema", "__type"], false, "public, max-age=300"),
            (Query, &[], false, "private, no-store"),
            (Mutation, &["serviceCategories"], false, "private, no-store"),
            (
                Subscription,
                &["serviceCategories"],
                false,
                "private, no-store",
            ),
        ];
        for (kind, fields, signed_in, expected) in cases {
            assert_eq!(
                header_value(&for_operation(*kind, fields, *signed_in)),
                *expected,
                "{kind:?} {fields:?} signed in: {signed_in}"
            );
        }
    }
}
