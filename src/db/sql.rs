//! Hand-written SQL that runs unchanged on SQLite and PostgreSQL.

use sea_orm::{DbBackend, Statement, Value};

/// Builds a statement from SQL written with PostgreSQL's `$1` placeholders; SQLite gets `?1`, which it
/// reads as the same numbered parameter.
pub fn stmt(backend: DbBackend, sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    let sql = match backend {
        DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_string(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_gets_numbered_question_marks() {
        let s = stmt(
            DbBackend::Sqlite,
            "SELECT $1, $2",
            [1i64.into(), 2i64.into()],
        );
        assert_eq!(s.sql, "SELECT ?1, ?2");
        let p = stmt(
            DbBackend::Postgres,
            "SELECT $1, $2",
            [1i64.into(), 2i64.into()],
        );
        assert_eq!(p.sql, "SELECT $1, $2");
    }
}
