//! What a GraphQL document costs before the engine validates or runs it: fields selected once every
//! fragment is expanded, and nesting depth, each fragment measured once however often it is spread.
//!
//! The engine's own checks walk fragment spreads without remembering what they found, so a document
//! whose fragments each spread the previous one twice costs 2^n to inspect. Measuring with one
//! entry per fragment keeps this pass linear in the size of the document, and it runs first.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned};
use std::collections::HashMap;

/// Root fields that answer from the schema itself. Their subtree is measured against its own depth
/// cap: graphql-js's standard introspection query nests `ofType` nine levels deep, deeper than any
/// ordinary query needs to be.
const INTROSPECTION_ROOTS: [&str; 2] = ["__schema", "__type"];

/// Deepest introspection selection allowed. graphql-js's `getIntrospectionQuery()` reaches 15.
pub const MAX_INTROSPECTION_DEPTH: u32 = 16;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most fields selected in the whole document once fragments are expanded.
    pub max_selections: u64,
    /// Deepest ordinary (non-introspection) selection.
    pub max_depth: u32,
}

/// The measured cost of a document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    pub selections: u64,
    pub depth: u32,
    pub introspection_depth: u32,
}

impl Cost {
    fn add(self, other: Cost) -> Cost {
        Cost {
            selections: self.selections.saturating_add(other.selections),
            depth: self.depth.max(other.depth),
            introspection_depth: self.introspection_depth.max(other.introspection_depth),
        }
    }
}

/// Why a document is refused before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    TooManySelections { selections: u64, limit: u64 },
    TooDeep { depth: u32, limit: u32 },
    IntrospectionTooDeep { depth: u32, limit: u32 },
    FragmentCycle { fragment: String },
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::TooManySelections { selections, limit } => format!(
                "the query selects {selections} fields once its fragments are expanded; at most {limit} are allowed"
            ),
            Refusal::TooDeep { depth, limit } => {
                format!("Query is nested too deep: depth {depth}, at most {limit} allowed")
            }
            Refusal::IntrospectionTooDeep { depth, limit } => format!(
                "the introspection query is nested too deep: depth {depth}, at most {limit} allowed"
            ),
            Refusal::FragmentCycle { fragment } => {
                format!("fragment \"{fragment}\" spreads itself")
            }
        }
    }
}

/// Measures the document and checks it against the limits.
pub fn check(document: &ExecutableDocument, limits: Limits) -> Result<Cost, Refusal> {
    let cost = measure(document)?;
    if cost.selections > limits.max_selections {
        return Err(Refusal::TooManySelections {
            selections: cost.selections,
            limit: limits.max_selections,
        });
    }
    if cost.depth > limits.max_depth {
        return Err(Refusal::TooDeep {
            depth: cost.depth,
            limit: limits.max_depth,
        });
    }
    if cost.introspection_depth > MAX_INTROSPECTION_DEPTH {
        return Err(Refusal::IntrospectionTooDeep {
            depth: cost.introspection_depth,
            limit: MAX_INTROSPECTION_DEPTH,
        });
    }
    Ok(cost)
}

/// Selections summed over every operation and every fragment definition (validation visits each of
/// them with its spreads expanded); depths are the deepest of any operation.
pub fn measure(document: &ExecutableDocument) -> Result<Cost, Refusal> {
    let mut walker = Walker {
        document,
        memo: HashMap::new(),
    };
    let mut total = Cost::default();
    for (_, operation) in document.operations.iter() {
        total = total.add(walker.selection_set(&operation.node.selection_set, true)?);
    }
    for fragment in document.fragments.values() {
        let cost = walker.selection_set(&fragment.node.selection_set, false)?;
        total.selections = total.selections.saturating_add(cost.selections);
    }
    Ok(total)
}

/// A fragment's cost, or a marker that it is being measured (a spread that meets it is a cycle).
#[derive(Clone, Copy)]
enum Entry {
    Measuring,
    Done(Cost),
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    /// Keyed by fragment and whether it was spread at the operation's root, where introspection
    /// fields may appear.
    memo: HashMap<(&'a Name, bool), Entry>,
}

impl<'a> Walker<'a> {
    fn selection_set(
        &mut self,
        set: &'a Positioned<SelectionSet>,
        at_root: bool,
    ) -> Result<Cost, Refusal> {
        let mut cost = Cost::default();
        for selection in &set.node.items {
            let next = match &selection.node {
                Selection::Field(field) => {
                    let inner = self.selection_set(&field.node.selection_set, false)?;
                    let introspection =
                        at_root && INTROSPECTION_ROOTS.contains(&field.node.name.node.as_str());
                    let below = inner.depth.max(inner.introspection_depth);
                    Cost {
                        selections: inner.selections.saturating_add(1),
                        depth: if introspection { 0 } else { below + 1 },
                        introspection_depth: if introspection { below + 1 } else { 0 },
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set, at_root)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, at_root)?
                }
            };
            cost = cost.add(next);
        }
        Ok(cost)
    }

    fn fragment(&mut self, name: &'a Name, at_root: bool) -> Result<Cost, Refusal> {
        match self.memo.get(&(name, at_root)) {
            Some(Entry::Done(cost)) => return Ok(*cost),
            Some(Entry::Measuring) => {
                return Err(Refusal::FragmentCycle {
                    fragment: name.to_string(),
                });
            }
            None => {}
        }
        // An unknown fragment costs nothing here; validation names it.
        let Some(definition) = self.document.fragments.get(name) else {
            return Ok(Cost::default());
        };
        self.memo.insert((name, at_root), Entry::Measuring);
        let cost = self.selection_set(&definition.node.selection_set, at_root)?;
        self.memo.insert((name, at_root), Entry::Done(cost));
        Ok(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn cost(query: &str) -> Result<Cost, Refusal> {
        measure(&parse_query(query).unwrap())
    }

    /// `fragment F<n> on QueryRoot { ...F<n-1> a: __typename ...F<n-1> }`, the shape that doubles per level.
    fn doubling_fragments(levels: u32) -> String {
        let mut query = String::from("query { ...F");
        query.push_str(&levels.to_string());
        query.push_str(" }\nfragment F0 on QueryRoot { __typename }\n");
        for n in 1..=levels {
            query.push_str(&format!(
                "fragment F{n} on QueryRoot {{ ...F{p} a: __typename ...F{p} }}\n",
                p = n - 1
            ));
        }
        query
    }

    #[test]
    fn costs_of_plain_documents() {
        let cases = [
            ("{ __typename }", 1, 1, 0),
            ("{ me { id email } }", 3, 2, 0),
            ("{ a { b { c { d } } } e }", 5, 4, 0),
            ("{ ...on QueryRoot { me { id } } }", 2, 2, 0),
            ("{ __schema { types { name } } }", 3, 0, 3),
            (
                "{ __type(name: \"X\") { fields { type { ofType { name } } } } me { id } }",
                7,
                2,
                5,
            ),
            ("query A { me { id } } query B { x { y { z } } }", 5, 3, 0),
        ];
        for (query, selections, depth, introspection_depth) in cases {
            assert_eq!(
                cost(query).unwrap(),
                Cost {
                    selections,
                    depth,
                    introspection_depth
                },
                "{query}"
            );
        }
    }

    #[test]
    fn fragments_count_once_per_spread_and_are_measured_once() {
        let query = "{ me { ...U } other: me { ...U } } fragment U on User { id email }";
        // Two spreads of two fields each, two parents, and the definition itself.
        assert_eq!(cost(query).unwrap().selections, 2 + 2 * 2 + 2);
        assert_eq!(cost(query).unwrap().depth, 2);
    }

    #[test]
    fn doubling_fragments_are_measured_in_linear_time_and_refused() {
        // 2^29 expanded selections: measured instantly, far over any limit.
        let query = doubling_fragments(29);
        let measured = cost(&query).unwrap();
        assert!(measured.selections > 1 << 29, "{measured:?}");
        let limits = Limits {
            max_selections: 2_000,
            max_depth: 12,
        };
        assert!(matches!(
            check(&parse_query(&query).unwrap(), limits),
            Err(Refusal::TooManySelections { .. })
        ));
        // A handful of levels stays well inside the limit.
        assert!(check(&parse_query(doubling_fragments(3)).unwrap(), limits).is_ok());
    }

    #[test]
    fn depth_is_limited_for_ordinary_fields_only() {
        let limits = Limits {
            max_selections: 2_000,
            max_depth: 3,
        };
        let deep = parse_query("{ a { b { c { d } } } }").unwrap();
        assert_eq!(
            check(&deep, limits),
            Err(Refusal::TooDeep { depth: 4, limit: 3 })
        );
        let introspection = parse_query(
            "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }",
        )
        .unwrap();
        assert!(check(&introspection, limits).is_ok());
        let too_deep_introspection = format!(
            "{{ __schema {{ types {{ {}name{} }} }} }}",
            "ofType { ".repeat(20),
            " }".repeat(20)
        );
        assert!(matches!(
            check(&parse_query(too_deep_introspection).unwrap(), limits),
            Err(Refusal::IntrospectionTooDeep { .. })
        ));
    }

    #[test]
    fn introspection_fields_count_only_at_the_root() {
        // A nested field named __schema is an ordinary field (validation refuses it later).
        let measured = cost("{ me { __schema { x } } }").unwrap();
        assert_eq!((measured.depth, measured.introspection_depth), (3, 0));
        // Spread at the root through a fragment, it is still introspection.
        let measured =
            cost("{ ...S } fragment S on QueryRoot { __schema { types { name } } }").unwrap();
        assert_eq!((measured.depth, measured.introspection_depth), (0, 3));
    }

    #[test]
    fn fragment_cycles_are_refused_without_recursing_forever() {
        let refused =
            cost("{ ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }");
        assert!(matches!(refused, Err(Refusal::FragmentCycle { .. })));
    }
}
