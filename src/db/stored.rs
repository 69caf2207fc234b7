//! Domain enums and currencies as column values: stored as their names (a currency as its ISO 4217
//! code) in text columns, read back strictly. A name the code does not know is an error naming the
//! type, the value and the row, never a default.

/// Makes a domain enum with `as_str(self) -> &'static str` and `parse(&str) -> Option<Self>` usable
/// as an entity field, a filter value and an `ActiveModel` value. The domain stays free of sea-orm:
/// the impls live here, beside the entities.
macro_rules! stored_as_text {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::db::stored::Named for $ty {
            fn name(self) -> &'static str {
                self.as_str()
            }

            fn from_name(name: &str) -> Option<Self> {
                <$ty>::parse(name)
            }
        }

        stored_by_name!($ty);
    )+};
}

/// The sea-orm impls of a [`Named`] type: written as `name()`, read back through `from_name`.
macro_rules! stored_by_name {
    ($ty:ty) => {
        impl From<$ty> for sea_orm::Value {
            fn from(value: $ty) -> Self {
                $crate::db::stored::Named::name(value).into()
            }
        }

        impl sea_orm::TryGetable for $ty {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, sea_orm::TryGetError> {
                let name = String::try_get_by(res, idx)?;
                <$ty as $crate::db::stored::Named>::from_name(&name).ok_or_else(|| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type($crate::db::stored::unknown(
                        stringify!($ty),
                        &name,
                        res,
                    )))
                })
            }
        }

        impl sea_orm::sea_query::ValueType for $ty {
            fn try_from(value: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let name = <String as sea_orm::sea_query::ValueType>::try_from(value)?;
                <$ty as $crate::db::stored::Named>::from_name(&name)
                    .ok_or(sea_orm::sea_query::ValueTypeErr)
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
    };
}

/// A domain value that has a stored name: what `stored_as_text!` gives each of its types (and
/// [`Currency`](crate::domain::money::Currency) its code), so code generic over them (the serde
/// helpers below) can reach `as_str` and `parse`.
pub trait Named: Copy + Sized {
    fn name(self) -> &'static str;
    fn from_name(name: &str) -> Option<Self>;
}

/// `#[serde(with = "crate::db::stored::by_name")]` for a stored enum field of an entity that is also
/// serialised (onto the event bus): written as its name, exactly as before it was an enum, and read
/// back strictly, so an unknown name is an error rather than a default.
pub mod by_name {
    use super::Named;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<T: Named, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.name())
    }

    pub fn deserialize<'de, T: Named, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        let name = String::deserialize(deserializer)?;
        T::from_name(&name).ok_or_else(|| {
            D::Error::custom(format!("unknown {} {name:?}", std::any::type_name::<T>()))
        })
    }
}

/// The message for a stored name no variant has: which type, which value, and which row (its `id`
/// column when the query selected one), so an operator can find and mend it.
pub fn unknown(type_name: &str, value: &str, row: &sea_orm::QueryResult) -> String {
    let id = row
        .try_get_by::<uuid::Uuid, _>("id")
        .map(|id| id.to_string())
        .or_else(|_| row.try_get_by::<String, _>("id"))
        .unwrap_or_else(|_| "unknown".to_owned());
    unknown_in(type_name, value, id)
}

fn unknown_in(type_name: &str, value: &str, row_id: impl std::fmt::Display) -> String {
    format!("unknown {type_name} {value:?} stored in the row with id {row_id}")
}

/// Reads the stored name in `column` as a `T` when the row's own `id` column is not the row the
/// name belongs to (a join): an unknown name is an error naming the type, the value and `row_id`.
pub fn named_in<T: Named>(
    row: &sea_orm::QueryResult,
    column: &str,
    row_id: impl std::fmt::Display,
) -> Result<T, sea_orm::DbErr> {
    let name: String = row.try_get("", column)?;
    read_name(&name, row_id)
}

/// [`named_in`] for a column that may be NULL (an outer join's): NULL is `None`, an unknown name
/// is still an error naming the type, the value and `row_id`.
pub fn optional_named_in<T: Named>(
    row: &sea_orm::QueryResult,
    column: &str,
    row_id: impl std::fmt::Display,
) -> Result<Option<T>, sea_orm::DbErr> {
    let name: Option<String> = row.try_get("", column)?;
    name.map(|name| read_name(&name, row_id)).transpose()
}

fn read_name<T: Named>(name: &str, row_id: impl std::fmt::Display) -> Result<T, sea_orm::DbErr> {
    T::from_name(name)
        .ok_or_else(|| sea_orm::DbErr::Type(unknown_in(std::any::type_name::<T>(), name, row_id)))
}

/// A currency is stored as its ISO 4217 code and read back strictly: exactly the upper-case code of
/// a currency money can be held in. Clients' codes are forgiving (`Currency::parse` trims and
/// upper-cases); a stored code that is not exactly one is data to mend, so an error naming the row.
impl Named for crate::domain::money::Currency {
    fn name(self) -> &'static str {
        self.code()
    }

    fn from_name(name: &str) -> Option<Self> {
        crate::domain::money::Currency::parse(name)
            .ok()
            .filter(|currency| currency.code() == name)
    }
}

stored_by_name!(crate::domain::money::Currency);

stored_as_text!(
    crate::domain::payouts::WithdrawalStatus,
    crate::domain::booking_state::Status,
    crate::domain::booking_state::Role,
    crate::domain::pricing::Priority,
    crate::domain::payments::PaymentKind,
    crate::domain::payments::Method,
    crate::domain::payments::PaymentStatus,
    crate::domain::chat::MessageKind,
    crate::domain::account::Role,
);

// Technicians and notifications: KYC, availability, schedule exceptions and in-app notifications.
stored_as_text!(
    crate::domain::technician::KycStatus,
    crate::domain::technician::DocumentKind,
    crate::domain::technician::Availability,
    crate::domain::schedule::ExceptionType,
    crate::domain::notifications::Kind,
);

// Bookings: dispatch, offers, quotes and disputes.
stored_as_text!(
    crate::domain::dispatch::DispatchMode,
    crate::domain::dispatch::OfferStatus,
    crate::domain::quotes::QuoteStatus,
    crate::domain::disputes::DisputeStatus,
    crate::domain::disputes::Outcome,
);

// Money: invoices, holds, refunds, payout methods, unmatched receipts and provider webhooks.
stored_as_text!(
    crate::domain::invoices::InvoiceKind,
    crate::domain::holds::HoldStatus,
    crate::domain::payments::RefundTransferStatus,
    crate::domain::payments::WebhookProvider,
    crate::domain::payouts::PayoutKind,
    crate::domain::payouts::Gateway,
    crate::domain::unmatched::Provider,
    crate::domain::unmatched::ReceiptStatus,
);

// Reviews: who reviewed whom, and what staff did.
stored_as_text!(
    crate::domain::reviews::Direction,
    crate::domain::reviews::ModerationAction,
);

// The ledger: what an account is for and what a transaction records.
stored_as_text!(
    crate::domain::ledger::AccountKind,
    crate::domain::ledger::TransactionKind,
);

#[cfg(test)]
mod tests {
    use crate::domain::payouts::WithdrawalStatus;
    use sea_orm::{ConnectionTrait, Database, Statement};

    /// Reads `status` from a one-row table holding `stored`, as an entity field would.
    async fn read(stored: &str) -> Result<WithdrawalStatus, String> {
        read_as(stored).await
    }

    async fn read_as<T: sea_orm::TryGetable>(stored: &str) -> Result<T, String> {
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
        row.try_get::<T>("", "status").map_err(|e| e.to_string())
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

    #[tokio::test]
    async fn a_stored_currency_is_read_strictly_and_a_bad_code_names_the_row() {
        use crate::domain::money::Currency;
        for code in ["KES", "INR", "UGX", "USD"] {
            let currency: Currency = read_as(code).await.unwrap();
            assert_eq!(currency.code(), code);
            assert_eq!(sea_orm::Value::from(currency), sea_orm::Value::from(code));
        }
        // What a client may send (lower case, spaces) is not what the code stores, nor are codes
        // that are not money or not ISO 4217 at all.
        for stored in ["kes", " KES", "XAU", "ZZZ", "KESH", ""] {
            let error = read_as::<Currency>(stored).await.unwrap_err();
            assert!(error.contains(&format!("{stored:?}")), "{error}");
            assert!(error.contains("Currency"), "{error}");
            assert!(
                error.contains("0b6c7d2e-1f7a-4c1e-9a51-5d0e8f3b2a11"),
                "{error}"
            );
        }
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Carried {
        #[serde(with = "super::by_name")]
        status: crate::domain::booking_state::Status,
    }

    #[test]
    fn a_serialised_field_is_its_name_and_an_unknown_name_does_not_deserialise() {
        use crate::domain::booking_state::Status;
        for status in Status::ALL {
            let json = serde_json::json!({ "status": status.as_str() });
            assert_eq!(serde_json::to_value(Carried { status }).unwrap(), json);
            assert_eq!(
                serde_json::from_value::<Carried>(json).unwrap().status,
                status
            );
        }
        let error = serde_json::from_value::<Carried>(serde_json::json!({ "status": "BOGUS" }))
            .unwrap_err()
            .to_string();
        assert!(error.contains("\"BOGUS\""), "{error}");
    }
}
