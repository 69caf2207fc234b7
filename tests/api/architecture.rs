//! The shape of the code, checked: no module of `src/` imports itself round a loop, so every wing can
//! be read and changed from the bottom up; `graphql/` runs no SQL of its own; `services/` builds no
//! queries (they live in `db/<wing>/`); and `domain/` imports only pure crates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`services::bookings::flow`) of each source file under `src/`.
fn modules() -> BTreeMap<String, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).expect("under src");
                let mut parts: Vec<String> = relative
                    .with_extension("")
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                if relative == Path::new("main.rs") {
                    continue; // the binary, not part of the library's module tree
                }
                found.insert(parts.join("::"), path);
            }
        }
    }
    found
}

/// The code a module ships: comments and its `#[cfg(test)]` tail left out.
fn shipped_source(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a `use` tree names, braces expanded: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand_use(tree: &str) -> Vec<String> {
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some(open) = tree.find('{') else {
        let plain = tree.split(" as ").next().unwrap_or(&tree);
        return vec![plain.replace(' ', "")];
    };
    let prefix = tree[..open].replace(' ', "");
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .flat_map(|p| {
            expand_use(p)
                .into_iter()
                .map(|s| format!("{prefix}{s}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Turns a path as written in `module` into an absolute one from the crate root, or None when it
/// leaves the crate.
fn absolute(module: &str, path: &str) -> Option<Vec<String>> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(String::from).collect()
    };
    match segments.first().copied() {
        Some("crate") => {
            base.clear();
            segments.remove(0);
        }
        Some("super") => {
            while segments.first() == Some(&"super") {
                base.pop();
                segments.remove(0);
            }
        }
        Some("self") => {
            segments.remove(0);
        }
        _ => return None,
    }
    base.extend(segments.into_iter().map(String::from));
    Some(base)
}

/// The modules `module` imports: the longest known module named by each path it writes.
fn imports(module: &str, source: &str, known: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let mut paths = Vec::new();
    for statement in source.split(';') {
        let statement = statement.trim();
        let tree = statement
            .strip_prefix("pub use ")
            .or_else(|| statement.strip_prefix("pub(crate) use "))
            .or_else(|| statement.strip_prefix("use "));
        if let Some(tree) = tree {
            paths.extend(expand_use(tree));
        }
    }
    for word in source.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        if word.starts_with("crate::") || word.starts_with("super::") {
            paths.push(word.to_string());
        }
    }
    let own: Vec<&str> = module.split("::").collect();
    let mut targets = BTreeSet::new();
    for path in paths {
        let Some(mut segments) = absolute(module, &path) else {
            continue;
        };
        while !segments.is_empty() && !known.contains_key(&segments.join("::")) {
            segments.pop();
        }
        // A module may use what its ancestors declare (the shared vocabulary of its wing or
        // layer); that is not a loop, since the ancestor only declares it.
        let is_ancestor = segments.len() <= own.len() && own[..segments.len()] == segments[..];
        if !segments.is_empty() && !is_ancestor {
            targets.insert(segments.join("::"));
        }
    }
    targets
}

/// Groups of modules that import each other (strongly connected components of two or more).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(node) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut grouped = BTreeSet::new();
    let mut groups = Vec::new();
    for module in graph.keys() {
        if grouped.contains(module) || !reachable[module].contains(module) {
            continue;
        }
        let group: Vec<String> = reachable[module]
            .iter()
            .filter(|other| reachable.get(other).is_some_and(|r| r.contains(module)))
            .cloned()
            .collect();
        grouped.extend(group.iter().cloned());
        groups.push(group);
    }
    groups
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let known = modules();
    known
        .iter()
        .map(|(module, path)| {
            (
                module.clone(),
                imports(module, &shipped_source(path), &known),
            )
        })
        .collect()
}

#[test]
fn no_module_imports_itself_round_a_loop() {
    let graph = import_graph();
    let report: Vec<String> = cycles(&graph)
        .iter()
        .map(|group| {
            let edges: Vec<String> = group
                .iter()
                .flat_map(|from| {
                    graph[from]
                        .iter()
                        .filter(|to| group.contains(to))
                        .map(move |to| format!("    {from} → {to}"))
                })
                .collect();
            format!("  {}:\n{}", group.join(", "), edges.join("\n"))
        })
        .collect();
    assert!(
        report.is_empty(),
        "modules that import each other:\n{}",
        report.join("\n")
    );
}

/// What `graphql/` may name of the database layer. Resolvers call services; queries live in
/// `db/`. So a file under `src/graphql` never names `sea_orm` at all: no import,
/// no qualified path, hence no query builder, no `EntityTrait`/`ConnectionTrait` methods (a trait
/// method needs its trait in scope) and no raw statements. Of `crate::db` it may name only
/// `entities` (the row types its GraphQL objects wrap; without sea_orm's traits they cannot be
/// queried) and `stats` (the per-request statement counter its DataLoader batches carry along).
/// Passing `services.db` on to a service function is calling a service, not running SQL.
const GRAPHQL_MAY_NAME_OF_DB: &[&str] = &["crate::db::entities", "crate::db::stats"];

/// Whether a path (as written, `use` braces expanded) names what `graphql/` may not.
fn names_database_layer(path: &str) -> bool {
    let path = path.trim_start_matches("::");
    let of_db = path == "crate::db" || path.starts_with("crate::db::");
    let allowed = GRAPHQL_MAY_NAME_OF_DB
        .iter()
        .any(|ok| path == *ok || path.starts_with(&format!("{ok}::")));
    path == "sea_orm" || path.starts_with("sea_orm::") || (of_db && !allowed)
}

/// Every path written in `source`, sorted and once each: `use` trees expanded, then every other
/// path in the code (`booking::Entity::find`, `crate::db::begin_write`).
fn paths_named(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for statement in source.split(';') {
        let trimmed = statement.trim();
        let tree = trimmed
            .strip_prefix("pub use ")
            .or_else(|| trimmed.strip_prefix("pub(crate) use "))
            .or_else(|| trimmed.strip_prefix("use "));
        match tree {
            Some(tree) => names.extend(expand_use(tree)),
            None => names.extend(
                statement
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .filter(|word| !word.is_empty())
                    .map(str::to_string),
            ),
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Every path in `source` that names the database layer.
fn database_layer_names(source: &str) -> Vec<String> {
    paths_named(source)
        .into_iter()
        .filter(|p| names_database_layer(p))
        .collect()
}

#[test]
fn graphql_runs_no_sql_of_its_own() {
    let offenders: Vec<String> = modules()
        .into_iter()
        .filter(|(module, _)| module == "graphql" || module.starts_with("graphql::"))
        .filter_map(|(module, path)| {
            let names = database_layer_names(&shipped_source(&path));
            (!names.is_empty()).then(|| format!("  {module}: {}", names.join(", ")))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "graphql/ names the database layer; move the query into a service:\n{}",
        offenders.join("\n")
    );
}

/// What `domain/` may import besides itself: the standard library and crates that only compute
/// (dates and time zones, ids, the ISO 4217 list, network ranges). No I/O, database, GraphQL or runtime.
const DOMAIN_MAY_IMPORT: &[&str] = &[
    "std",
    "core",
    "chrono",
    "chrono_tz",
    "uuid",
    "iso_currency",
    "ipnet",
    "super",
    "self",
];

/// Every `use` path in `source` that reaches outside the domain and its pure crates. A path rooted
/// at a type (`use Status::*`) names the module's own items.
fn impure_imports(source: &str) -> Vec<String> {
    source
        .split(';')
        .filter_map(|statement| {
            let trimmed = statement.trim();
            trimmed
                .strip_prefix("pub use ")
                .or_else(|| trimmed.strip_prefix("use "))
                .map(expand_use)
        })
        .flatten()
        .filter(|path| {
            let root = path
                .trim_start_matches("::")
                .split("::")
                .next()
                .unwrap_or("");
            let own = path.starts_with("crate::domain") || root.starts_with(char::is_uppercase);
            !own && !DOMAIN_MAY_IMPORT.contains(&root)
        })
        .collect()
}

#[test]
fn domain_imports_only_pure_crates() {
    let offenders: Vec<String> = modules()
        .into_iter()
        .filter(|(module, _)| module.starts_with("domain::"))
        .flat_map(|(module, path)| {
            impure_imports(&shipped_source(&path))
                .into_iter()
                .map(move |path| format!("  {module}: {path}"))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "domain/ imports what is not a pure rule:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_domain_check_tells_pure_crates_from_the_rest() {
    let source = "use std::fmt;\nuse super::geo::LatLng;\nuse Status::*;\nuse crate::domain::money::Money;\n\
                  use iso_currency::Currency;\nuse sea_orm::Value;\nuse crate::services::Services;\n\
                  use tokio::{time, sync::Mutex};";
    assert_eq!(
        impure_imports(source),
        vec![
            "sea_orm::Value",
            "crate::services::Services",
            "tokio::time",
            "tokio::sync::Mutex"
        ]
    );
}

/// What a use case may name of sea-orm: connections and transactions, which it opens, passes on and
/// commits. Everything that builds or runs a query (entities' `Entity`/`Column`/`ActiveModel`,
/// query traits, `sea_query`, raw statements) lives in `db/`.
const SERVICES_MAY_NAME_OF_SEA_ORM: &[&str] = &[
    "sea_orm::ConnectionTrait",
    "sea_orm::TransactionTrait",
    "sea_orm::DatabaseConnection",
    "sea_orm::DatabaseTransaction",
    "sea_orm::DbErr",
    "sea_orm::TransactionError",
    "sea_orm::AccessMode",
    "sea_orm::IsolationLevel",
];

/// Every path in `source` that builds or runs a query: sea-orm beyond connections and transactions,
/// raw statements, and an entity's query handles.
fn query_names(source: &str) -> Vec<String> {
    paths_named(source)
        .into_iter()
        .filter(|path| {
            let path = path.trim_start_matches("::");
            let sea_orm = (path == "sea_orm" || path.starts_with("sea_orm::"))
                && !SERVICES_MAY_NAME_OF_SEA_ORM.contains(&path);
            let handle = path
                .split("::")
                .any(|part| matches!(part, "Entity" | "Column" | "ActiveModel" | "sea_query"));
            sea_orm || handle || path.starts_with("crate::db::sql")
        })
        .collect()
}

#[test]
fn services_build_no_queries_of_their_own() {
    let offenders: Vec<String> = modules()
        .into_iter()
        .filter(|(module, _)| module.starts_with("services::"))
        .filter_map(|(module, path)| {
            let names = query_names(&shipped_source(&path));
            (!names.is_empty()).then(|| format!("  {module}: {}", names.join(", ")))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "services/ builds queries; move them into db/<wing>/:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_query_check_tells_transactions_from_queries() {
    assert!(query_names("use sea_orm::{ConnectionTrait, TransactionTrait};").is_empty());
    assert!(query_names("let txn = crate::db::begin_write(&services.db).await?;").is_empty());
    assert!(
        query_names("use crate::db::entities::booking; let b: booking::Model = row;").is_empty()
    );
    assert_eq!(
        query_names("use sea_orm::{ConnectionTrait, EntityTrait, sea_query::Expr};"),
        vec!["sea_orm::EntityTrait", "sea_orm::sea_query::Expr"]
    );
    assert_eq!(
        query_names("let row = booking::Entity::find_by_id(id).one(db).await?;"),
        vec!["booking::Entity::find_by_id"]
    );
    assert_eq!(
        query_names("let s = crate::db::sql::stmt(backend, SQL, []);"),
        vec!["crate::db::sql::stmt"]
    );
}

#[test]
fn the_database_check_tells_row_types_from_queries() {
    let names = |source: &str| database_layer_names(source);
    assert!(names("use crate::db::entities::{booking, quote};").is_empty());
    assert!(names("let batch = crate::db::stats::carry(batch);").is_empty());
    assert_eq!(
        names("use sea_orm::EntityTrait;"),
        vec!["sea_orm::EntityTrait"]
    );
    assert_eq!(
        names("let txn = crate::db::begin_write(db).await?;"),
        vec!["crate::db::begin_write"]
    );
    assert_eq!(
        names("use crate::db::{entities::booking, sql::stmt};"),
        vec!["crate::db::sql::stmt"]
    );
    assert_eq!(
        names("let n = sea_orm::PaginatorTrait::count(q, db);"),
        vec!["sea_orm::PaginatorTrait::count"]
    );
}

#[test]
fn the_loop_finder_sees_a_loop_and_the_use_parser_expands_braces() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
    assert_eq!(
        expand_use("crate::wing::{Item, part::{one, two as alias}}"),
        vec![
            "crate::wing::Item",
            "crate::wing::part::one",
            "crate::wing::part::two"
        ]
    );
}
