//! DataLoaders, created per request, so relation fields on a page of results cost a fixed number of queries.

use crate::error::AppError;
use crate::services::Services;
use crate::services::technician_profiles::{self, TechnicianRecord};
use async_graphql::dataloader::{DataLoader, Loader};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

pub struct TechnicianLoader {
    services: Services,
}

impl Loader<Uuid> for TechnicianLoader {
    type Value = Arc<TechnicianRecord>;
    type Error = Arc<AppErrorMessage>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let found = technician_profiles::load_many(&self.services.db, keys)
            .await
            .map_err(|e| Arc::new(AppErrorMessage::from(e)))?;
        Ok(found
            .into_iter()
            .map(|(id, record)| (id, Arc::new(record)))
            .collect())
    }
}

/// A loader error as a cloneable value (DataLoader shares one error among every waiting field).
#[derive(Debug)]
pub struct AppErrorMessage(pub String);

impl From<AppError> for AppErrorMessage {
    fn from(e: AppError) -> Self {
        let graphql: async_graphql::Error = e.into();
        AppErrorMessage(graphql.message)
    }
}

impl std::fmt::Display for AppErrorMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Adds this request's loaders. Over a WebSocket the same data lives as long as the connection, so
/// caching is off there: every event must see current rows.
pub fn attach(request: async_graphql::Request, services: &Services) -> async_graphql::Request {
    request.data(technician_loader(services, true))
}

pub fn technician_loader(services: &Services, cache: bool) -> DataLoader<TechnicianLoader> {
    let loader = DataLoader::new(
        TechnicianLoader {
            services: services.clone(),
        },
        tokio::spawn,
    );
    loader.enable_all_cache(cache);
    loader
}

pub fn technicians<'a>(ctx: &async_graphql::Context<'a>) -> &'a DataLoader<TechnicianLoader> {
    ctx.data_unchecked::<DataLoader<TechnicianLoader>>()
}
