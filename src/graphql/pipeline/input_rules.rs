//! Rules every input obeys before anything runs, in variables or written into the document, so a new
//! field is covered without remembering to check it: strings are plain text (no control characters
//! but line breaks and tabs), and every `MoneyInput` is within its currency's bound.

use crate::domain::bounds::{self, OutOfBounds};
use crate::domain::money::Currency;
use crate::domain::text::{self, TextProblem};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Pos, Positioned, ServerError, ServerResult, Value, Variables};
use std::sync::Arc;

pub struct InputRules;

impl ExtensionFactory for InputRules {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(InputRules)
    }
}

#[async_trait::async_trait]
impl Extension for InputRules {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        for (name, value) in variables.iter() {
            check_value(value, &top_path(name, value), None)?;
        }
        for (_, operation) in document.operations.iter() {
            check_selections(&operation.node.selection_set)?;
        }
        for fragment in document.fragments.values() {
            check_selections(&fragment.node.selection_set)?;
        }
        Ok(document)
    }
}

/// Fields are named as services name them: an input object's own name (`input`) is left out, so a
/// bad `input.fullName` is reported as `fullName`, and list items as `addresses[2].city`.
fn top_path(name: &Name, value: &Value) -> String {
    match value {
        Value::Object(_) => String::new(),
        _ => name.to_string(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A `MoneyInput` is the only input object made of exactly `amountMinor` and `currency`.
fn check_money(fields: &IndexMap<Name, Value>, path: &str, pos: Option<Pos>) -> ServerResult<()> {
    if fields.len() != 2 {
        return Ok(());
    }
    let (Some(Value::Number(amount)), Some(Value::String(currency))) =
        (fields.get("amountMinor"), fields.get("currency"))
    else {
        return Ok(());
    };
    // A currency that is not one is refused by the service, with its own field.
    let (Some(amount), Ok(currency)) = (amount.as_i64(), Currency::parse(currency)) else {
        return Ok(());
    };
    match bounds::check_amount(amount, currency) {
        // Negative amounts are each service's to explain in its own terms.
        Ok(()) | Err(OutOfBounds::AmountNegative) => Ok(()),
        Err(too_large) => {
            let field = join(path, "amountMinor");
            Err(bad_input(
                &field,
                format!("{field} {}", too_large.message()),
                pos,
            ))
        }
    }
}

fn check_value(value: &Value, path: &str, pos: Option<Pos>) -> ServerResult<()> {
    if let Value::Object(fields) = value {
        check_money(fields, path, pos)?;
    }
    match value {
        Value::String(s) => text::check_plain(s).map_err(|problem| refusal(path, problem, pos)),
        Value::List(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_value(item, &format!("{path}[{i}]"), pos)),
        Value::Object(fields) => fields
            .iter()
            .try_for_each(|(key, item)| check_value(item, &join(path, key), pos)),
        _ => Ok(()),
    }
}

fn check_selections(set: &Positioned<SelectionSet>) -> ServerResult<()> {
    for selection in &set.node.items {
        match &selection.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    // Variables in the document were checked with the variables themselves.
                    let Ok(literal) = value.node.clone().into_const_with(|_| Err(())) else {
                        continue;
                    };
                    check_value(&literal, &top_path(&name.node, &literal), Some(value.pos))?;
                }
                check_selections(&field.node.selection_set)?;
            }
            Selection::InlineFragment(fragment) => {
                check_selections(&fragment.node.selection_set)?;
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

fn refusal(path: &str, problem: TextProblem, pos: Option<Pos>) -> ServerError {
    let field = if path.is_empty() { "input" } else { path };
    bad_input(field, format!("{field} {}", problem.message()), pos)
}

fn bad_input(field: &str, message: String, pos: Option<Pos>) -> ServerError {
    let mut error = ServerError::new(message, pos);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "BAD_USER_INPUT");
    extensions.set("field", field);
    error.extensions = Some(extensions);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_strings_are_named_by_their_path() {
        let value = Value::from_json(serde_json::json!({
            "fullName": "Amina",
            "addresses": [{"city": "Nairobi"}, {"city": "Mom\u{0}basa"}]
        }))
        .unwrap();
        let error = check_value(&value, "", None).unwrap_err();
        let extensions = serde_json::to_value(error.extensions.unwrap()).unwrap();
        assert_eq!(extensions["field"], "addresses[1].city");
        assert_eq!(extensions["code"], "BAD_USER_INPUT");
        let fine = Value::from_json(serde_json::json!({"body": "two\nlines\tok"})).unwrap();
        assert!(check_value(&fine, "", None).is_ok());
    }

    #[test]
    fn money_inputs_are_bounded_by_their_currency() {
        let value = Value::from_json(serde_json::json!({
            "budgetMin": {"amountMinor": 1000, "currency": "KES"},
            "budgetMax": {"amountMinor": i64::MAX, "currency": "KES"}
        }))
        .unwrap();
        let error = check_value(&value, "", None).unwrap_err();
        let extensions = serde_json::to_value(error.extensions.unwrap()).unwrap();
        assert_eq!(extensions["field"], "budgetMax.amountMinor");
        let negative =
            Value::from_json(serde_json::json!({"amountMinor": -5, "currency": "KES"})).unwrap();
        assert!(check_value(&negative, "amount", None).is_ok());
    }
}
