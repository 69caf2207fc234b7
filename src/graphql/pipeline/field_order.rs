//! Puts every object of a response in the order its fields were asked for, as the GraphQL
//! specification requires. The engine resolves sibling fields concurrently and records each as it
//! finishes, so a field that waits on the database can come back after the ones that did not.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Value};
use std::collections::HashMap;

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// The operation a request runs: the named one, or the only one.
pub fn operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    let mut operations = document.operations.iter();
    match name {
        Some(name) => operations
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name))
            .map(|(_, op)| op),
        None => {
            let first = operations.next()?;
            operations.next().is_none().then_some(first.1)
        }
    }
}

/// Reorders `data` (the response's `data`) to follow the operation's selections.
pub fn reorder(data: &mut Value, document: &ExecutableDocument, operation_name: Option<&str>) {
    if let Some(op) = operation(document, operation_name) {
        order(data, &[&op.node.selection_set.node], &document.fragments);
    }
}

fn order(value: &mut Value, sets: &[&SelectionSet], fragments: &Fragments) {
    match value {
        Value::List(items) => {
            for item in items {
                order(item, sets, fragments);
            }
        }
        Value::Object(map) => {
            let mut wanted: IndexMap<&Name, Vec<&SelectionSet>> = IndexMap::new();
            for set in sets {
                collect(set, fragments, &mut wanted);
            }
            let in_order = map.len() == wanted.len()
                && map
                    .keys()
                    .zip(wanted.keys())
                    .all(|(have, want)| have == *want);
            if !in_order {
                let mut rest = std::mem::take(map);
                for key in wanted.keys() {
                    if let Some((name, value)) = rest.shift_remove_entry(*key) {
                        map.insert(name, value);
                    }
                }
                // Anything not named by the selections (nothing, after validation) keeps its place at the end.
                map.extend(rest);
            }
            for (key, child) in map.iter_mut() {
                if let Some(child_sets) = wanted.get(key)
                    && !child_sets.is_empty()
                {
                    order(child, child_sets, fragments);
                }
            }
        }
        _ => {}
    }
}

/// Response keys in the order they are first selected, each with the sub-selections merged under it.
fn collect<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    wanted: &mut IndexMap<&'a Name, Vec<&'a SelectionSet>>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = &field.node.response_key().node;
                let children = wanted.entry(key).or_default();
                if !field.node.selection_set.node.items.is_empty() {
                    children.push(&field.node.selection_set.node);
                }
            }
            Selection::InlineFragment(fragment) => {
                collect(&fragment.node.selection_set.node, fragments, wanted)
            }
            Selection::FragmentSpread(spread) => {
                if let Some(definition) = fragments.get(&spread.node.fragment_name.node) {
                    collect(&definition.node.selection_set.node, fragments, wanted);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => vec![],
        }
    }

    fn reordered(query: &str, data: serde_json::Value) -> Value {
        let mut data = Value::from_json(data).unwrap();
        reorder(&mut data, &parse_query(query).unwrap(), None);
        data
    }

    #[test]
    fn fields_follow_the_query_at_every_level() {
        let data = reordered(
            "{ matches { technician { id fullName } score distanceKm } count }",
            serde_json::json!({
                "count": 1,
                "matches": [
                    {"distanceKm": 1.0, "score": 90.0, "technician": {"fullName": "A", "id": "1"}},
                    {"score": 80.0, "technician": {"id": "2", "fullName": "B"}, "distanceKm": 2.0},
                ],
            }),
        );
        assert_eq!(keys(&data), ["matches", "count"]);
        let Value::Object(root) = &data else { panic!() };
        let Value::List(matches) = &root["matches"] else {
            panic!()
        };
        for item in matches {
            assert_eq!(keys(item), ["technician", "score", "distanceKm"]);
            let Value::Object(fields) = item else {
                panic!()
            };
            assert_eq!(keys(&fields["technician"]), ["id", "fullName"]);
        }
    }

    #[test]
    fn aliases_fragments_and_repeated_fields_are_placed_at_their_first_selection() {
        let data = reordered(
            "query Q { b: me { ...F } a: me { id } me { email } }
             fragment F on User { email ... on User { id } }
             query Other { x }",
            serde_json::json!({"me": {"email": "e"}, "a": {"id": "1"}, "b": {"id": "1", "email": "e"}}),
        );
        // Two operations and no name: nothing is chosen, nothing moves (the input's keys are sorted).
        assert_eq!(keys(&data), ["a", "b", "me"]);

        let mut data = Value::from_json(
            serde_json::json!({"me": {"email": "e"}, "a": {"id": "1"}, "b": {"id": "1", "email": "e"}}),
        )
        .unwrap();
        let document = parse_query(
            "query Q { b: me { ...F } a: me { id } me { email } }
             fragment F on User { email ... on User { id } }
             query Other { x }",
        )
        .unwrap();
        reorder(&mut data, &document, Some("Q"));
        assert_eq!(keys(&data), ["b", "a", "me"]);
        let Value::Object(root) = &data else { panic!() };
        assert_eq!(keys(&root["b"]), ["email", "id"]);
    }

    #[test]
    fn null_and_scalar_data_are_left_alone() {
        assert_eq!(reordered("{ a }", serde_json::json!(null)), Value::Null);
        let data = reordered("{ a b }", serde_json::json!({"b": null, "a": [1, 2]}));
        assert_eq!(keys(&data), ["a", "b"]);
    }
}
