//! The pipeline every GraphQL operation passes, on every transport: persisted queries, parsing and
//! cost limits before the engine validates anything, one closed set of error codes, responses in the
//! order the query asked for, HTTP cacheability, and metrics per root field.

use crate::graphql::context::{Credentials, RequestAuth};
use crate::graphql::pipeline::cache_policy;
use crate::graphql::pipeline::field_order;
use crate::graphql::pipeline::limits::{self, Limits};
use crate::graphql::pipeline::persisted_queries::{PersistedQueries, PersistedQueryError};
use crate::metrics::Metrics;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextRequest, NextSubscribe, NextValidation,
};
use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::registry::Registry;
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Variables};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// Request-level codes, beside the domain codes of `AppError`.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";

/// Set by the pipeline when a request runs a mutation, so a transport that gives up waiting knows
/// the work must be left to finish rather than cut off halfway.
#[derive(Default)]
pub struct WritesStarted(AtomicBool);

impl WritesStarted {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct Pipeline {
    metrics: Option<Metrics>,
    limits: Limits,
    persisted: Arc<PersistedQueries>,
    documents: Arc<SharedDocuments>,
}

/// Query texts of subscriptions shared at most; past that, a subscription keeps its own document.
const SHARED_DOCUMENTS: usize = 1024;
/// Longer texts are not shared, so the texts remembered stay small.
const SHARED_DOCUMENT_TEXT: usize = 4 * 1024;

/// The parsed documents of the subscriptions running now, one per query text. The pipeline keeps
/// an operation's document for as long as it runs, which for a subscription is as long as the
/// client stays: subscriptions sent with the same text share one copy instead of holding one each.
#[derive(Default)]
struct SharedDocuments(Mutex<HashMap<String, Weak<ExecutableDocument>>>);

impl SharedDocuments {
    /// The running copy of `query`'s document if there is one, else `parsed`, remembered for the
    /// next subscription with the same text while any holds it.
    fn share(&self, query: &str, parsed: Arc<ExecutableDocument>) -> Arc<ExecutableDocument> {
        if query.len() > SHARED_DOCUMENT_TEXT {
            return parsed;
        }
        let mut documents = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(running) = documents.get(query).and_then(Weak::upgrade) {
            return running;
        }
        if documents.len() >= SHARED_DOCUMENTS {
            documents.retain(|_, document| document.strong_count() > 0);
        }
        if documents.len() < SHARED_DOCUMENTS || documents.contains_key(query) {
            documents.insert(query.to_string(), Arc::downgrade(&parsed));
        }
        parsed
    }
}

impl Pipeline {
    pub fn new(metrics: Option<Metrics>, limits: Limits, persisted: Arc<PersistedQueries>) -> Self {
        Pipeline {
            metrics,
            limits,
            persisted,
            documents: Arc::default(),
        }
    }
}

impl ExtensionFactory for Pipeline {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PipelineExtension {
            metrics: self.metrics.clone(),
            limits: self.limits,
            persisted: self.persisted.clone(),
            documents: self.documents.clone(),
            state: Arc::default(),
        })
    }
}

/// How far a request got, for its result label.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ran,
    ParseFailed,
    ValidationFailed,
    PersistedQueryNotFound,
}

impl Outcome {
    fn label(self, response: &Response) -> &'static str {
        match self {
            Outcome::ParseFailed => "parse_failed",
            Outcome::ValidationFailed => "validation_failed",
            Outcome::PersistedQueryNotFound => "persisted_query_not_found",
            Outcome::Ran if response.errors.is_empty() => "ok",
            Outcome::Ran => "error",
        }
    }
}

/// What the pipeline learnt about one request while preparing it.
struct Prepared {
    document: Arc<ExecutableDocument>,
    operation_name: Option<String>,
    kind: OperationType,
    /// Root fields the schema knows, each once: bounded label values.
    root_fields: Vec<String>,
}

struct State {
    outcome: Outcome,
    prepared: Option<Prepared>,
}

impl Default for State {
    fn default() -> Self {
        State {
            outcome: Outcome::Ran,
            prepared: None,
        }
    }
}

struct PipelineExtension {
    metrics: Option<Metrics>,
    limits: Limits,
    persisted: Arc<PersistedQueries>,
    documents: Arc<SharedDocuments>,
    state: Arc<Mutex<State>>,
}

fn coded(message: impl Into<String>, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

fn code_of(error: &ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code.as_str()),
        _ => None,
    }
}

/// Every error leaves with a code. One the engine raised while coercing an argument is the
/// client's to fix; anything else without a code is ours.
fn with_codes(errors: &mut [ServerError]) {
    for error in errors {
        if code_of(error).is_some() {
            continue;
        }
        let code = if error.message.starts_with("Failed to parse \"") {
            "BAD_USER_INPUT"
        } else {
            INTERNAL
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}

/// The parser draws the offending line with an arrow; the error's `locations` already say where,
/// so the message keeps only what was expected.
fn syntax_message(raw: &str) -> String {
    match raw.rsplit_once("\n  = ") {
        Some((_, expected)) => format!("syntax error: {}", expected.trim()),
        None => format!("syntax error: {}", raw.trim()),
    }
}

fn with_code(mut errors: Vec<ServerError>, code: &str) -> Vec<ServerError> {
    for error in &mut errors {
        if code_of(error).is_none() {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code);
        }
    }
    errors
}

/// Root field names of the operation that the schema knows (aliases and fragments resolved).
fn root_fields(
    registry: &Registry,
    document: &ExecutableDocument,
    kind: OperationType,
    set: &SelectionSet,
) -> Vec<String> {
    let root_type = match kind {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => registry.subscription_type.as_deref(),
    };
    let Some(root) = root_type.and_then(|name| registry.types.get(name)) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let mut pending = vec![set];
    // Fragments at the root are expanded at most once each: the limits pass already bounded them.
    let mut seen_fragments = std::collections::HashSet::new();
    while let Some(set) = pending.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let known = name.starts_with("__") || root.field_by_name(name).is_some();
                    if known && !names.iter().any(|n| n == name) {
                        names.push(name.to_string());
                    }
                }
                Selection::InlineFragment(fragment) => {
                    pending.push(&fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if seen_fragments.insert(name.clone())
                        && let Some(definition) = document.fragments.get(name)
                    {
                        pending.push(&definition.node.selection_set.node);
                    }
                }
            }
        }
    }
    names.sort();
    names
}

/// A required variable (non-null, no default) that the request did not send, as a sentence.
fn missing_variable(operation: &OperationDefinition, variables: &Variables) -> Option<String> {
    operation
        .variable_definitions
        .iter()
        .find_map(|definition| {
            let definition = &definition.node;
            let name = &definition.name.node;
            let absent = matches!(variables.get(name), None | Some(async_graphql::Value::Null));
            (absent && !definition.var_type.node.nullable && definition.default_value.is_none())
                .then(|| {
                    format!(
                        "variable ${name} of type {} was not provided",
                        definition.var_type.node
                    )
                })
        })
}

fn kind_label(kind: OperationType) -> &'static str {
    match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

impl PipelineExtension {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn fail(&self, outcome: Outcome, error: ServerError) -> ServerError {
        self.state().outcome = outcome;
        error
    }

    /// Persisted query, parse, limits and operation choice: everything decided from the document alone.
    async fn admit(
        &self,
        ctx: &ExtensionContext<'_>,
        request: &mut Request,
    ) -> ServerResult<Prepared> {
        if let Err(refusal) = self.persisted.resolve(request).await {
            let outcome = match refusal {
                PersistedQueryError::NotFound => Outcome::PersistedQueryNotFound,
                _ => Outcome::ValidationFailed,
            };
            return Err(self.fail(outcome, coded(refusal.message(), refusal.code())));
        }
        if request.query.trim().is_empty() {
            return Err(self.fail(
                Outcome::ParseFailed,
                coded("the request has no query", PARSE_FAILED),
            ));
        }
        let operation_name = request.operation_name.clone();
        let writes = request
            .data
            .get(&TypeId::of::<Arc<WritesStarted>>())
            .and_then(|d| d.downcast_ref::<Arc<WritesStarted>>())
            .cloned();
        let document = match request.parsed_query() {
            Ok(document) => Arc::new(document.clone()),
            Err(mut error) => {
                error.message = syntax_message(&error.message);
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", PARSE_FAILED);
                return Err(self.fail(Outcome::ParseFailed, error));
            }
        };
        if let Err(refusal) = limits::check(&document, self.limits) {
            return Err(self.fail(
                Outcome::ValidationFailed,
                coded(refusal.message(), VALIDATION_FAILED),
            ));
        }
        let Some(operation) = field_order::operation(&document, operation_name.as_deref()) else {
            let message = match &operation_name {
                Some(name) => format!("the document has no operation named \"{name}\""),
                None => "the document has several operations: name the one to run in operationName"
                    .to_string(),
            };
            return Err(self.fail(Outcome::ValidationFailed, coded(message, VALIDATION_FAILED)));
        };
        if let Some(missing) = missing_variable(&operation.node, &request.variables) {
            return Err(self.fail(Outcome::ValidationFailed, coded(missing, VALIDATION_FAILED)));
        }
        let kind = operation.node.ty;
        let root_fields = root_fields(
            &ctx.schema_env.registry,
            &document,
            kind,
            &operation.node.selection_set.node,
        );
        if kind == OperationType::Mutation
            && let Some(flag) = writes
        {
            flag.0.store(true, Ordering::SeqCst);
        }
        let document = if kind == OperationType::Subscription {
            self.documents.share(&request.query, document)
        } else {
            document
        };
        Ok(Prepared {
            document,
            operation_name,
            kind,
            root_fields,
        })
    }

    fn record(&self, response: &Response) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        let state = self.state();
        let result = state.outcome.label(response);
        match &state.prepared {
            Some(prepared) if !prepared.root_fields.is_empty() => {
                for field in &prepared.root_fields {
                    metrics
                        .graphql_fields
                        .with_label_values(&[kind_label(prepared.kind), field.as_str(), result])
                        .inc();
                }
            }
            Some(prepared) => metrics
                .graphql_fields
                .with_label_values(&[kind_label(prepared.kind), "none", result])
                .inc(),
            None => metrics
                .graphql_fields
                .with_label_values(&["unknown", "none", result])
                .inc(),
        }
        for error in &response.errors {
            metrics
                .graphql_errors
                .with_label_values(&[code_of(error).unwrap_or(INTERNAL)])
                .inc();
        }
    }

    /// Reorders the data to follow the query.
    fn in_query_order(&self, mut response: Response) -> Response {
        let state = self.state();
        if let Some(prepared) = &state.prepared {
            field_order::reorder(
                &mut response.data,
                &prepared.document,
                prepared.operation_name.as_deref(),
            );
        }
        response
    }
}

#[async_trait::async_trait]
impl Extension for PipelineExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        with_codes(&mut response.errors);
        self.record(&response);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let gauge = self.metrics.as_ref().map(|m| m.open_subscriptions.clone());
        let guard = gauge.map(OpenSubscription::new);
        let this = PipelineExtension {
            metrics: self.metrics.clone(),
            limits: self.limits,
            persisted: self.persisted.clone(),
            documents: self.documents.clone(),
            state: self.state.clone(),
        };
        let mut first = true;
        next.run(ctx, stream)
            .map(move |response| {
                let _keep = &guard;
                let mut response = this.in_query_order(response);
                with_codes(&mut response.errors);
                if std::mem::take(&mut first) {
                    this.record(&response);
                }
                response
            })
            .boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let prepared = self.admit(ctx, &mut request).await?;
        self.state().prepared = Some(prepared);
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // The text was parsed while admitting it; what fails here is the engine's own limits.
        // Inner checks that refuse an input say so with their own code.
        next.run(ctx, query, variables).await.map_err(|mut error| {
            if code_of(&error).is_some() {
                return error;
            }
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", VALIDATION_FAILED);
            self.fail(Outcome::ValidationFailed, error)
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            self.state().outcome = Outcome::ValidationFailed;
            with_code(errors, VALIDATION_FAILED)
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = self.in_query_order(next.run(ctx, operation_name).await);
        let signed_in = ctx
            .data_opt::<RequestAuth>()
            .is_some_and(|auth| !matches!(auth.credentials, Credentials::Anonymous));
        let state = self.state();
        if let Some(prepared) = &state.prepared {
            let fields: Vec<&str> = prepared.root_fields.iter().map(String::as_str).collect();
            response.cache_control = cache_policy::for_operation(prepared.kind, &fields, signed_in);
        }
        drop(state);
        response
    }
}

/// Decrements the gauge when the subscription stream is dropped, however it ends.
struct OpenSubscription(prometheus::IntGauge);

impl OpenSubscription {
    fn new(gauge: prometheus::IntGauge) -> Self {
        gauge.inc();
        OpenSubscription(gauge)
    }
}

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(query: &str) -> Arc<ExecutableDocument> {
        Arc::new(async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn subscriptions_with_the_same_text_share_one_document_while_one_runs() {
        let shared = SharedDocuments::default();
        let text = "subscription { notificationAdded { id } }";
        let first = shared.share(text, parsed(text));
        let second = shared.share(text, parsed(text));
        assert!(Arc::ptr_eq(&first, &second));
        let other = "subscription { notificationAdded { id title } }";
        assert!(!Arc::ptr_eq(&first, &shared.share(other, parsed(other))));
        drop((first, second));
        let third = shared.share(text, parsed(text));
        assert_eq!(Arc::strong_count(&third), 1, "a fresh copy once none ran");
        assert!(Arc::ptr_eq(&third, &shared.share(text, parsed(text))));
    }

    #[test]
    fn long_texts_are_not_shared() {
        let shared = SharedDocuments::default();
        let text = format!(
            "subscription {{ notificationAdded {{ id }} }}{}",
            " ".repeat(SHARED_DOCUMENT_TEXT)
        );
        let first = shared.share(&text, parsed(&text));
        assert!(!Arc::ptr_eq(&first, &shared.share(&text, parsed(&text))));
    }

    #[test]
    fn errors_without_a_code_are_internal_unless_the_engine_refused_an_argument() {
        let mut errors = vec![
            ServerError::new("boom", None),
            ServerError::new("Failed to parse \"Int\": not an integer", None),
            coded("not yours", "FORBIDDEN"),
        ];
        with_codes(&mut errors);
        let codes: Vec<_> = errors.iter().map(|e| code_of(e).unwrap()).collect();
        assert_eq!(codes, [INTERNAL, "BAD_USER_INPUT", "FORBIDDEN"]);
    }

    #[test]
    fn syntax_errors_say_what_was_expected_without_drawing_the_line() {
        let raw = " --> 1:11\n  |\n1 | { a { b } \n  |           ^---\n  |\n  = expected selection";
        assert_eq!(syntax_message(raw), "syntax error: expected selection");
        assert_eq!(
            syntax_message("unexpected end"),
            "syntax error: unexpected end"
        );
    }
}
