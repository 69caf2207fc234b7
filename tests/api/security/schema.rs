//! The served schema read as data: its root operations, the ID arguments each takes (directly or
//! inside input objects, at any depth) and the types behind interfaces such as `Node`.

use async_graphql::parser::types::{
    BaseType, InputValueDefinition, Type, TypeDefinition, TypeKind, TypeSystemDefinition,
};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Query,
    Mutation,
    Subscription,
}

impl Root {
    pub fn keyword(self) -> &'static str {
        match self {
            Root::Query => "query",
            Root::Mutation => "mutation",
            Root::Subscription => "subscription",
        }
    }
}

/// One root field: a query, a mutation or a subscription.
#[derive(Debug, Clone)]
pub struct Operation {
    pub root: Root,
    pub name: String,
    pub arguments: Vec<InputValueDefinition>,
    pub returns: Type,
}

/// Where an ID sits in an operation's arguments, e.g. `["input", "bookingId"]`.
pub type IdPath = Vec<String>;

pub fn dotted(path: &[String]) -> String {
    path.join(".")
}

pub struct Schema {
    types: HashMap<String, TypeDefinition>,
    pub operations: Vec<Operation>,
}

/// The named type under any list and non-null wrappers.
pub fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

impl Schema {
    /// Reads SDL as `fundi schema` prints it (or a snippet of the same shape).
    pub fn parse(sdl: &str) -> Schema {
        let document = async_graphql::parser::parse_schema(sdl).expect("the SDL parses");
        let mut types = HashMap::new();
        let mut roots = vec![
            (Root::Query, "Query".to_string()),
            (Root::Mutation, "Mutation".to_string()),
            (Root::Subscription, "Subscription".to_string()),
        ];
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Type(ty) => {
                    types.insert(ty.node.name.node.to_string(), ty.node);
                }
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    roots = [
                        (Root::Query, schema.query),
                        (Root::Mutation, schema.mutation),
                        (Root::Subscription, schema.subscription),
                    ]
                    .into_iter()
                    .filter_map(|(root, name)| name.map(|n| (root, n.node.to_string())))
                    .collect();
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        let mut operations = Vec::new();
        for (root, type_name) in roots {
            let Some(TypeKind::Object(object)) = types.get(&type_name).map(|t| &t.kind) else {
                continue;
            };
            for field in &object.fields {
                operations.push(Operation {
                    root,
                    name: field.node.name.node.to_string(),
                    arguments: field
                        .node
                        .arguments
                        .iter()
                        .map(|a| a.node.clone())
                        .collect(),
                    returns: field.node.ty.node.clone(),
                });
            }
        }
        Schema { types, operations }
    }

    /// The schema the server runs.
    pub fn served() -> Schema {
        Schema::parse(&fundi::graphql::sdl())
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.name == name)
    }

    fn kind(&self, name: &str) -> Option<&TypeKind> {
        self.types.get(name).map(|t| &t.kind)
    }

    /// The fields of an input object type; None for anything else.
    pub fn input_fields(
        &self,
        name: &str,
    ) -> Option<&[async_graphql::Positioned<InputValueDefinition>]> {
        match self.kind(name)? {
            TypeKind::InputObject(input) => Some(&input.fields),
            _ => None,
        }
    }

    /// The values of an enum type, in schema order; None for anything else.
    pub fn enum_values(&self, name: &str) -> Option<Vec<String>> {
        match self.kind(name)? {
            TypeKind::Enum(values) => Some(
                values
                    .values
                    .iter()
                    .map(|v| v.node.value.node.to_string())
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Whether a result of this type needs a selection set.
    pub fn is_composite(&self, name: &str) -> bool {
        matches!(
            self.kind(name),
            Some(TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_))
        )
    }

    pub fn is_interface(&self, name: &str) -> bool {
        matches!(self.kind(name), Some(TypeKind::Interface(_)))
    }

    /// The object types implementing `interface`, in name order.
    pub fn implementors(&self, interface: &str) -> Vec<String> {
        let mut found: Vec<String> = self
            .types
            .values()
            .filter_map(|t| match &t.kind {
                TypeKind::Object(object)
                    if object
                        .implements
                        .iter()
                        .any(|i| i.node.as_str() == interface) =>
                {
                    Some(t.name.node.to_string())
                }
                _ => None,
            })
            .collect();
        found.sort();
        found
    }

    /// Every path from the operation's arguments to a value of type `ID`, through input objects and
    /// lists of them at any depth.
    pub fn id_paths(&self, operation: &Operation) -> Vec<IdPath> {
        let mut found = Vec::new();
        for argument in &operation.arguments {
            let mut path = vec![argument.name.node.to_string()];
            self.collect_ids(&argument.ty.node, &mut path, &mut Vec::new(), &mut found);
        }
        found
    }

    fn collect_ids(
        &self,
        ty: &Type,
        path: &mut Vec<String>,
        visiting: &mut Vec<String>,
        found: &mut Vec<IdPath>,
    ) {
        let name = named(ty);
        if name == "ID" {
            found.push(path.clone());
            return;
        }
        // An input type may contain itself (through a nullable field or a list); one level is enough.
        let Some(fields) = self.input_fields(name) else {
            return;
        };
        if visiting.iter().any(|v| v == name) {
            return;
        }
        visiting.push(name.to_string());
        for field in fields {
            path.push(field.node.name.node.to_string());
            self.collect_ids(&field.node.ty.node, path, visiting, found);
            path.pop();
        }
        visiting.pop();
    }
}
