//! Shared GraphQL inputs and helpers: coordinates, money and Relay connections.

use crate::domain::geo::LatLng;
use crate::domain::money::{self, Currency};
use crate::error::{AppError, AppResult};
use crate::services::platform::pagination::{Slice, encode_cursor};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{InputObject, Object, OutputType, SimpleObject};
use futures_util::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::OnceCell;
use uuid::Uuid;

#[derive(InputObject, Clone, Copy, Debug)]
pub struct LatLngInput {
    pub lat: f64,
    pub lng: f64,
}

impl LatLngInput {
    /// The point, parsed where it enters: off the globe is BAD_USER_INPUT at `<field>.lat` or
    /// `<field>.lng`.
    pub fn parse(self, field: &str) -> AppResult<LatLng> {
        LatLng::new(self.lat, self.lng)
            .map_err(|e| AppError::bad_input(format!("{field}.{}", e.field()), e.to_string()))
    }
}

#[derive(InputObject, Clone, Debug)]
pub struct MoneyInput {
    pub amount_minor: i64,
    pub currency: String,
}

impl MoneyInput {
    /// The amount in a currency ISO 4217 lists, parsed where it enters: any other code is
    /// BAD_USER_INPUT at `<field>.currency`. Whether the amount suits its use is the service's rule.
    pub fn parse(self, field: &str) -> AppResult<money::Money> {
        let currency = Currency::parse(&self.currency).map_err(|problem| {
            AppError::bad_input(
                format!("{field}.currency"),
                format!("currency {}", problem.message()),
            )
        })?;
        Ok(money::Money::new(self.amount_minor, currency))
    }
}

/// An amount in integer minor units of an ISO 4217 currency, with a display string.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
    /// For people, by the currency's convention: `KSh 1,234.00`, `₹1,23,456.00`.
    pub formatted: String,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Money {
        money::Money::new(amount_minor, currency).into()
    }
}

impl From<money::Money> for Money {
    fn from(money: money::Money) -> Money {
        Money {
            amount_minor: money.amount_minor,
            currency: money.currency.code().to_string(),
            formatted: money.format(),
        }
    }
}

/// A Relay connection with `totalCount` beside `edges` and `pageInfo`.
pub type Counted<N> = Connection<String, N, TotalCount>;

type Count = Arc<dyn Fn() -> BoxFuture<'static, AppResult<u64>> + Send + Sync>;

/// How many items a whole list holds. The count is one statement, run only when a client selects
/// `totalCount` (and once however often it is selected).
pub struct TotalCount {
    count: Count,
    counted: OnceCell<u64>,
}

impl TotalCount {
    /// `count` answers with the list's filters, ignoring the page window.
    pub fn new<F, Fut>(count: F) -> TotalCount
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<u64>> + Send + 'static,
    {
        TotalCount {
            count: Arc::new(move || Box::pin(count())),
            counted: OnceCell::new(),
        }
    }
}

#[Object]
impl TotalCount {
    /// How many items the whole list holds with the same filters, across all pages.
    async fn total_count(&self) -> async_graphql::Result<i32> {
        let count = self.counted.get_or_try_init(|| (self.count)()).await?;
        Ok(i32::try_from(*count).unwrap_or(i32::MAX))
    }
}

/// Builds a Relay connection from a keyset page; each node's cursor is its own id.
pub fn connection<T, N>(
    slice: Slice<T>,
    had_cursor: bool,
    total: TotalCount,
    id: impl Fn(&T) -> Uuid,
    node: impl Fn(T) -> N,
) -> Counted<N>
where
    N: OutputType,
{
    let mut connection = Connection::with_additional_fields(had_cursor, slice.has_next, total);
    connection.edges.extend(
        slice
            .items
            .into_iter()
            .map(|item| Edge::new(encode_cursor(id(&item)), node(item))),
    );
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: AppError) -> String {
        match error {
            AppError::BadInput { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn points_and_amounts_are_parsed_where_they_enter() {
        let point = LatLngInput {
            lat: -1.3,
            lng: 36.8,
        }
        .parse("location")
        .unwrap();
        assert_eq!((point.lat(), point.lng()), (-1.3, 36.8));
        let off = LatLngInput {
            lat: -1.3,
            lng: 200.0,
        }
        .parse("baseLocation");
        assert_eq!(field_of(off.unwrap_err()), "baseLocation.lng");
        let off = LatLngInput {
            lat: f64::NAN,
            lng: 0.0,
        }
        .parse("addresses[1].location");
        assert_eq!(field_of(off.unwrap_err()), "addresses[1].location.lat");

        let money = |currency: &str| MoneyInput {
            amount_minor: 1_250,
            currency: currency.into(),
        };
        let kes = money(" kes").parse("budgetMin").unwrap();
        assert_eq!((kes.amount_minor, kes.currency.code()), (1_250, "KES"));
        for bad in ["KE", "XYZ", "XAU", ""] {
            let refused = money(bad).parse("lineItems[2].unitPrice").unwrap_err();
            assert_eq!(
                field_of(refused),
                "lineItems[2].unitPrice.currency",
                "{bad:?}"
            );
        }
    }
}
