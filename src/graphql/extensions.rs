//! Schema extension that gives every error a code from the closed set, counts operations by name and
//! error code, and keeps the open-subscription gauge.

use crate::metrics::Metrics;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextRequest, NextSubscribe,
};
use async_graphql::{Response, ServerError};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::sync::Arc;

pub struct Observability {
    metrics: Metrics,
}

impl Observability {
    pub fn new(metrics: Metrics) -> Self {
        Observability { metrics }
    }
}

impl ExtensionFactory for Observability {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ObservabilityExtension {
            metrics: self.metrics.clone(),
        })
    }
}

struct ObservabilityExtension {
    metrics: Metrics,
}

fn error_code(error: &ServerError) -> String {
    error
        .extensions
        .as_ref()
        .and_then(|ext| ext.get("code"))
        .and_then(|value| match value {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "BAD_USER_INPUT".into())
}

/// Parse, validation and limit errors come from the GraphQL engine without a code; they are the
/// client's to fix, so they get BAD_USER_INPUT like every other bad input.
fn with_codes(mut response: Response) -> Response {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
    response
}

/// Decrements the gauge when the subscription stream is dropped, however it ends.
struct OpenSubscription(prometheus::IntGauge);

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[async_trait::async_trait]
impl Extension for ObservabilityExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        with_codes(next.run(ctx).await)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        let operation = operation_name.unwrap_or("anonymous");
        if response.errors.is_empty() {
            self.metrics
                .graphql_operations
                .with_label_values(&[operation, "OK"])
                .inc();
        }
        for error in &response.errors {
            self.metrics
                .graphql_operations
                .with_label_values(&[operation, error_code(error).as_str()])
                .inc();
        }
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let gauge = self.metrics.open_subscriptions.clone();
        gauge.inc();
        let guard = OpenSubscription(gauge);
        next.run(ctx, stream)
            .map(move |response| {
                let _keep = &guard;
                with_codes(response)
            })
            .boxed()
    }
}
