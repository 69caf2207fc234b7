//! One tracing span per GraphQL operation, named as OpenTelemetry's conventions ask ("query Bookings"),
//! around its execution, so database spans nest under the operation that caused them.

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Response, ServerResult, Variables};
use std::sync::{Arc, Mutex, PoisonError};
use tracing::Instrument;

/// Adds the operation span to every request the schema runs.
pub struct OperationSpans;

impl ExtensionFactory for OperationSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationSpan {
            operations: Mutex::default(),
        })
    }
}

/// The span starts at execution, once the document is parsed and the operation chosen: an
/// OpenTelemetry span's name is fixed when it starts, and the name is the operation's.
struct OperationSpan {
    /// The document's operations (name, type), known once it is parsed.
    operations: Mutex<Vec<(Option<String>, OperationType)>>,
}

#[async_trait::async_trait]
impl Extension for OperationSpan {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let found = document
            .operations
            .iter()
            .map(|(name, op)| (name.map(|n| n.to_string()), op.node.ty))
            .collect();
        *self
            .operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = found;
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let chosen = {
            let operations = self
                .operations
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            operations
                .iter()
                .find(|(name, _)| operation_name.is_none() || name.as_deref() == operation_name)
                .cloned()
        };
        let Some((name, ty)) = chosen else {
            return next.run(ctx, operation_name).await;
        };
        let ty = match ty {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
        let span_name = match &name {
            Some(name) => format!("{ty} {name}"),
            None => ty.to_string(),
        };
        let span = tracing::info_span!(
            "graphql.operation",
            otel.name = span_name.as_str(),
            graphql.operation.type = ty,
            graphql.operation.name = name.as_deref().unwrap_or(""),
        );
        next.run(ctx, operation_name).instrument(span).await
    }
}
