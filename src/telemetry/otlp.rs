//! OpenTelemetry traces exported over OTLP/HTTP (protobuf) when FUNDI_OTLP_ENDPOINT is set, with span
//! values redacted before they leave, and the W3C `traceparent` of incoming requests continued.

use super::redact;
use axum::http::HeaderMap;
use bytes::Bytes;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Context, Value};
use opentelemetry_http::{HeaderExtractor, HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, SdkTracerProvider, Span, SpanData, SpanProcessor,
};
use std::borrow::Cow;
use std::time::Duration;
use tracing::{Level, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::dynamic_filter_fn;
use tracing_subscriber::registry::LookupSpan;

/// Longest wait for the collector to take one batch.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The OTLP/HTTP URL spans are posted to: the endpoint's `/v1/traces`, as the OTLP specification names it.
pub fn traces_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim_end_matches('/');
    if endpoint.ends_with("/v1/traces") {
        endpoint.to_string()
    } else {
        format!("{endpoint}/v1/traces")
    }
}

/// A tracer provider batching spans to `endpoint` over HTTP/protobuf. Must be called on the Tokio
/// runtime: exports run on it through the HTTP client the rest of the server already uses.
pub fn provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let client = TokioReqwest {
        client: reqwest::Client::builder().timeout(EXPORT_TIMEOUT).build()?,
        runtime: tokio::runtime::Handle::current(),
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces_url(endpoint))
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    let processor = Redacting(BatchSpanProcessor::builder(exporter).build());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(
            Resource::builder()
                .with_service_name("fundi")
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.version",
                    env!("CARGO_PKG_VERSION"),
                ))
                .build(),
        )
        .build())
}

/// The layer turning tracing spans into OpenTelemetry spans. Log events stay out of traces (they
/// are in the log), and database statement spans are kept only inside a traced operation, so the
/// background workers' polling does not become a stream of one-statement traces.
pub fn layer<S>(provider: &SdkTracerProvider) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let filter = dynamic_filter_fn(|meta, cx| {
        if meta.is_event() || *meta.level() > Level::INFO {
            return false;
        }
        !meta.target().starts_with("sea_orm") || cx.lookup_current().is_some()
    });
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("fundi"))
        .with_filter(filter)
        .boxed()
}

/// Makes `span` a child of the trace named by the request's `traceparent`, when there is one and
/// tracing is on; otherwise it stays a root.
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent: Context = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    // Fails only when no OpenTelemetry layer is installed, i.e. tracing is off.
    let _ = span.set_parent(parent);
}

/// Sends the exporter's requests with the server's reqwest client on the Tokio runtime. The batch
/// processor exports from a thread of its own, outside the runtime, so the request is spawned onto
/// the runtime and awaited from there.
#[derive(Debug)]
struct TokioReqwest {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for TokioReqwest {
    async fn send_bytes(
        &self,
        request: axum::http::Request<Bytes>,
    ) -> Result<axum::http::Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let request = reqwest::Request::try_from(request)?;
        let answered = self
            .runtime
            .spawn(async move {
                let response = client.execute(request).await?;
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.bytes().await?;
                let mut answer = axum::http::Response::new(body);
                *answer.status_mut() = status;
                *answer.headers_mut() = headers;
                Ok::<_, reqwest::Error>(answer)
            })
            .await?;
        Ok(answered?)
    }
}

/// Redacts every string a span carries (name and attributes) before the next processor exports it.
#[derive(Debug)]
struct Redacting<P>(P);

impl<P: SpanProcessor> SpanProcessor for Redacting<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        if let Cow::Owned(name) = redact::text(&span.name) {
            span.name = Cow::Owned(name);
        }
        for attribute in &mut span.attributes {
            if let Value::String(value) = &attribute.value
                && let Cow::Owned(clean) = redact::text(value.as_str())
            {
                attribute.value = Value::String(clean.into());
            }
        }
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_go_to_the_endpoints_v1_traces() {
        for (endpoint, url) in [
            ("http://collector:4318", "http://collector:4318/v1/traces"),
            ("http://collector:4318/", "http://collector:4318/v1/traces"),
            (
                "https://otel.example.com/v1/traces",
                "https://otel.example.com/v1/traces",
            ),
        ] {
            assert_eq!(traces_url(endpoint), url);
        }
    }
}
