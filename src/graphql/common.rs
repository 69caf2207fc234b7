//! Shared GraphQL inputs and helpers: coordinates, money and Relay connections.

use crate::services::pagination::{Slice, encode_cursor};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{InputObject, OutputType, SimpleObject};
use uuid::Uuid;

#[derive(InputObject, Clone, Copy, Debug)]
pub struct LatLngInput {
    pub lat: f64,
    pub lng: f64,
}

#[derive(InputObject, Clone, Debug)]
pub struct MoneyInput {
    pub amount_minor: i64,
    pub currency: String,
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
    pub fn new(amount_minor: i64, currency: &str) -> Money {
        Money {
            amount_minor,
            currency: currency.to_string(),
            formatted: crate::domain::money::format(amount_minor, currency),
        }
    }
}

/// Builds a Relay connection from a keyset page; each node's cursor is its own id.
pub fn connection<T, N>(
    slice: Slice<T>,
    had_cursor: bool,
    id: impl Fn(&T) -> Uuid,
    node: impl Fn(T) -> N,
) -> Connection<String, N>
where
    N: OutputType,
{
    let mut connection = Connection::new(had_cursor, slice.has_next);
    connection.edges.extend(
        slice
            .items
            .into_iter()
            .map(|item| Edge::new(encode_cursor(id(&item)), node(item))),
    );
    connection
}
