//! The guard on every field that hashes or verifies a password or PIN (or checks a second factor):
//! one such field per HTTP request or WebSocket operation, and a per-address rate shared by replicas.
//!
//! Argon2 is meant to be slow, so a request that could name it many times (aliases, batches) would
//! let one anonymous client spend seconds of CPU per request.

use crate::error::AppError;
use crate::graphql::context::{client_info, services};
use crate::services::accounts::rate_limits::Action;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Context, Guard, Request, Result, ServerResult};
use std::any::TypeId;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The one password or PIN check a request may make. Shared by every operation of an HTTP batch.
#[derive(Clone, Default)]
pub struct HashingBudget(Arc<AtomicBool>);

impl HashingBudget {
    /// True the first time only, however many fields race for it.
    fn take(&self) -> bool {
        !self.0.swap(true, Ordering::SeqCst)
    }
}

/// Put on each field that runs Argon2 (or checks a PIN or second factor): `#[graphql(guard = "PasswordWork")]`.
pub struct PasswordWork;

impl Guard for PasswordWork {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        let spent = ctx
            .data_opt::<HashingBudget>()
            .is_none_or(|budget| !budget.take());
        if spent {
            return Err(AppError::RateLimited {
                message: "only one sign-in, password or PIN operation per request; send the others separately".into(),
                retry_after_secs: 1,
            }
            .into());
        }
        let client = client_info(ctx);
        services(ctx)
            .rate_limits
            .check(Action::PasswordCheck, client.ip.as_deref())
            .await?;
        Ok(())
    }
}

/// Gives each operation a budget of its own when its transport did not (WebSocket operations);
/// HTTP requests bring one shared by their whole batch.
pub struct PerOperationBudget;

impl ExtensionFactory for PerOperationBudget {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerOperationBudget)
    }
}

#[async_trait::async_trait]
impl Extension for PerOperationBudget {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if !request.data.contains_key(&TypeId::of::<HashingBudget>()) {
            request.data.insert(HashingBudget::default());
        }
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_spent_once_even_when_cloned() {
        let budget = HashingBudget::default();
        let other = budget.clone();
        assert!(budget.take());
        assert!(!other.take());
        assert!(!budget.take());
    }
}
