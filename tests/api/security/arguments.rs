//! Turning a planned case into a request: the victim's ids where the plan puts them, and plausible
//! values generated from the argument types everywhere else (with a few overrides by name).

use super::coverage::{Case, Fixture};
use super::schema::{Schema, dotted, named};
use async_graphql::parser::types::{BaseType, Type};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// One request: its document, its variables and the root field whose answer is checked.
#[derive(Debug, Clone)]
pub struct Call {
    pub label: String,
    pub query: String,
    pub variables: Value,
    pub field: String,
}

/// Values no type can suggest: operation (or `*` for any), path, value. Optional fields are left
/// out unless listed here.
fn overrides(now: DateTime<Utc>) -> Vec<(&'static str, &'static str, Value)> {
    vec![
        // A TEXT message needs a body.
        ("sendMessage", "input.body", json!("security matrix")),
        // A customer's review rates the five aspects.
        (
            "submitReview",
            "input.aspects",
            json!({"quality": 5, "punctuality": 5, "communication": 5, "value": 5, "professionalism": 5}),
        ),
        // A reading may be at most two minutes ahead of the server's clock.
        ("*", "input.recordedAt", json!(now.to_rfc3339())),
    ]
}

/// Scalars whose meaning the field name gives, wherever they appear.
fn by_field_name(name: &str) -> Option<Value> {
    Some(match name {
        "lat" => json!(crate::fixtures::NAIROBI.0),
        "lng" => json!(crate::fixtures::NAIROBI.1),
        "currency" => json!("KES"),
        "amountMinor" => json!(100),
        "quantity" => json!(1),
        _ => return None,
    })
}

/// A value of a built-in or custom scalar that the server accepts.
fn scalar(name: &str, now: DateTime<Utc>) -> Option<Value> {
    Some(match name {
        // Letters and a dash: fits references and codes as well as free text.
        "String" => json!("security-matrix"),
        "Int" => json!(1),
        "Float" => json!(1.0),
        "Boolean" => json!(true),
        // In the future, within every bound the server sets on dates.
        "DateTime" => json!((now + chrono::Duration::days(1)).to_rfc3339()),
        "JSON" => json!({}),
        _ => return None,
    })
}

struct Generator<'a> {
    schema: &'a Schema,
    case: &'a Case,
    ids: &'a HashMap<Fixture, String>,
    now: DateTime<Utc>,
    overrides: Vec<(&'static str, &'static str, Value)>,
}

impl Generator<'_> {
    /// The value at `path` of type `ty`; None leaves an optional argument or field out.
    fn value(&self, path: &mut Vec<String>, ty: &Type) -> Option<Value> {
        let at = dotted(path);
        if let Some((_, _, value)) = self
            .overrides
            .iter()
            .find(|(op, p, _)| (*op == "*" || *op == self.case.operation.name) && *p == at)
        {
            return Some(value.clone());
        }
        if let Some((_, fixture)) = self.case.ids.iter().find(|(p, _)| *p == *path) {
            let id = json!(self.ids[fixture]);
            return Some(wrap_lists(ty, id));
        }
        if ty.nullable {
            return None;
        }
        Some(self.required(path, ty))
    }

    fn required(&self, path: &mut Vec<String>, ty: &Type) -> Value {
        let name = match &ty.base {
            BaseType::List(inner) => {
                let item = self.value(path, inner).unwrap_or(Value::Null);
                return json!([item]);
            }
            BaseType::Named(name) => name.as_str(),
        };
        if let Some(value) = path.last().and_then(|last| by_field_name(last)) {
            return value;
        }
        if let Some(value) = scalar(name, self.now) {
            return value;
        }
        if let Some(values) = self.schema.enum_values(name) {
            return json!(values[0]);
        }
        if let Some(fields) = self.schema.input_fields(name) {
            let mut object = Map::new();
            for field in fields {
                let field = &field.node;
                path.push(field.name.node.to_string());
                // Fields with a default keep it unless overridden.
                let value = if field.default_value.is_some() && !self.overridden(path) {
                    None
                } else {
                    self.value(path, &field.ty.node)
                };
                if let Some(value) = value {
                    object.insert(field.name.node.to_string(), value);
                }
                path.pop();
            }
            return Value::Object(object);
        }
        panic!(
            "{}: cannot make a `{name}` for `{}`; add an override in tests/api/security/arguments.rs",
            self.case.label,
            dotted(path)
        );
    }

    fn overridden(&self, path: &[String]) -> bool {
        let at = dotted(path);
        self.overrides
            .iter()
            .any(|(op, p, _)| (*op == "*" || *op == self.case.operation.name) && *p == at)
    }
}

/// The same id at every list level the type has: `[ID!]!` gets `[id]`.
fn wrap_lists(ty: &Type, id: Value) -> Value {
    match &ty.base {
        BaseType::List(inner) => json!([wrap_lists(inner, id)]),
        BaseType::Named(_) => id,
    }
}

/// The request for `case` with the victim objects `ids`, asking only for `__typename` of a
/// composite result: any data at all for the field is what a stranger must not get.
pub fn call(
    schema: &Schema,
    case: &Case,
    ids: &HashMap<Fixture, String>,
    now: DateTime<Utc>,
) -> Call {
    let generator = Generator {
        schema,
        case,
        ids,
        now,
        overrides: overrides(now),
    };
    let operation = &case.operation;
    let mut declarations = Vec::new();
    let mut arguments = Vec::new();
    let mut variables = Map::new();
    for argument in &operation.arguments {
        let name = argument.name.node.to_string();
        let mut path = vec![name.clone()];
        let Some(value) = generator.value(&mut path, &argument.ty.node) else {
            continue;
        };
        declarations.push(format!("${name}: {}", argument.ty.node));
        arguments.push(format!("{name}: ${name}"));
        variables.insert(name, value);
    }
    let declarations = if declarations.is_empty() {
        String::new()
    } else {
        format!("({})", declarations.join(", "))
    };
    let arguments = if arguments.is_empty() {
        String::new()
    } else {
        format!("({})", arguments.join(", "))
    };
    let selection = if schema.is_composite(named(&operation.returns)) {
        " { __typename }"
    } else {
        ""
    };
    Call {
        label: case.label.clone(),
        query: format!(
            "{} Matrix{declarations} {{ {}{arguments}{selection} }}",
            operation.root.keyword(),
            operation.name
        ),
        variables: Value::Object(variables),
        field: operation.name.clone(),
    }
}
