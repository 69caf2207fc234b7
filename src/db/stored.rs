//! Domain enums as column values: stored as their names in text columns, read back strictly. A
//! name the code does not know is an error naming the type, the value and the row, never a default.

/// Makes a domain enum with `as_str(self) -> &'static str` and `parse(&str) -> Option<Self>` usable
/// as an entity field, a filter value and an `ActiveModel` value. The domain stays free of sea-orm:
/// the impls live here, beside the entities.
macro_rules! stored_as_text {
    ($($ty:ty),+ $(,)?) => {$(
        impl From<$ty> for sea_orm::Value {
            fn from(value: $ty) -> Self {
                value.as_str().into()
            }
        }

        impl sea_orm::TryGetable for $ty {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, sea_orm::TryGetError> {
                let name = String::try_get_by(res, idx)?;
                <$ty>::parse(&name).ok_or_else(|| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type(
                        $crate::db::stored::unknown(stringify!($ty), &name, res),
                    ))
                })
            }
        }

        impl sea_orm::sea_query::ValueType for $ty {
            fn try_from(value: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let name = <String as sea_orm::sea_query::ValueType>::try_from(value)?;
                <$ty>::parse(&name).ok_or(sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($ty).to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::None)
            }
        }

        impl sea_orm::sea_query::Nullable for $ty {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(None)
            }
        }

        impl sea_orm::IntoActiveValue<$ty> for $ty {
            fn into_active_value(self) -> sea_orm::ActiveValue<$ty> {
                sea_orm::ActiveValue::Set(self)
            }
        }
    )+};
}

/// The message for a stored name no variant has: which type, which value, and which row (its `id`
/// column when the query selected one), so an operator can find and mend it.
pub fn unknown(type_name: &str, value: &str, row: &sea_orm::QueryResult) -> String {
    let id = row
        .try_get_by::<uuid::Uuid, _>("id")
        .map(|id| id.to_string())
        .or_else(|_| row.try_get_by::<String, _>("id"))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("unknown {type_name} {value:?} stored in the row with id {id}")
}

stored_as_text!(crate::domain::payouts::WithdrawalStatus);

#[cfg(test)]
mod tests {
    use crate::domain::payouts::WithdrawalStatus;
    use sea_orm::{ConnectionTrait, Database, Statement};

    /// Reads `status` from a one-row table holding `stored`, as an entity field would.
    async fn read(stored: &str) -> Result<WithdrawalStatus, String> {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let backend = db.get_database_backend();
        db.execute_unprepared("CREATE TABLE t (id TEXT, status TEXT)")
            .await
            .unwrap();
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO t VALUES ('0b6c7d2e-1f7a-4c1e-9a51-5d0e8f3b2a11', ?)",
            [stored.into()],
        ))
        .await
        .unwrap();
        let row = db
            .query_one_raw(Statement::from_string(backend, "SELECT id, status FROM t"))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<WithdrawalStatus>("", "status")
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn known_names_read_back_as_their_variant() {
        for status in WithdrawalStatus::ALL {
            assert_eq!(read(status.as_str()).await, Ok(status));
        }
    }

    #[tokio::test]
    async fn an_unknown_name_is_an_error_naming_the_value_and_the_row() {
        for stored in ["BOGUS", "completed", ""] {
            let error = read(stored).await.unwrap_err();
            assert!(error.contains(&format!("{stored:?}")), "{error}");
            assert!(
                error.contains("0b6c7d2e-1f7a-4c1e-9a51-5d0e8f3b2a11"),
                "{error}"
            );
            assert!(error.contains("WithdrawalStatus"), "{error}");
        }
    }
}
