//! The other party as bookings, messages and invoices show them: an id and a name, nothing private.

use crate::graphql::ids::{self, Kind};
use crate::graphql::loaders::{self, UserById};
use async_graphql::{Context, ID, Result, SimpleObject};

/// The other party as a booking shows them.
#[derive(SimpleObject)]
pub struct Person {
    pub id: ID,
    pub full_name: String,
}

impl Person {
    /// A user as another party sees them, read through the request's loader.
    pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Option<Person>> {
        let user = loaders::one(ctx, UserById(id)).await?;
        Ok(user.map(|u| Person {
            id: ids::encode(Kind::User, u.id),
            full_name: u.full_name,
        }))
    }
}
