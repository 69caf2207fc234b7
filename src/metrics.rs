//! Prometheus metrics kept per server instance (no global registry, so several servers can share a process).

use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_latency: HistogramVec,
    /// One series per root field of the schema, never per client-chosen operation name.
    pub graphql_fields: IntCounterVec,
    /// Errors by code, a closed set.
    pub graphql_errors: IntCounterVec,
    pub open_subscriptions: IntGauge,
    pub open_websockets: IntGauge,
}

impl Metrics {
    /// Fails only on a malformed or repeated metric definition below, which every test run would show.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "fundi_http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )?;
        let http_latency = HistogramVec::new(
            HistogramOpts::new(
                "fundi_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route"],
        )?;
        let graphql_fields = IntCounterVec::new(
            Opts::new(
                "fundi_graphql_operations_total",
                "GraphQL operations by operation type, root field (none when the request named none the \
                 schema knows) and result (ok, parse_failed, validation_failed, \
                 persisted_query_not_found, error)",
            ),
            &["type", "field", "result"],
        )?;
        let graphql_errors = IntCounterVec::new(
            Opts::new(
                "fundi_graphql_errors_total",
                "GraphQL errors returned, by extensions.code",
            ),
            &["code"],
        )?;
        let open_subscriptions = IntGauge::new(
            "fundi_graphql_open_subscriptions",
            "GraphQL subscriptions currently open",
        )?;
        let open_websockets = IntGauge::new(
            "fundi_websocket_connections",
            "WebSocket connections currently open",
        )?;
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_latency.clone()),
            Box::new(graphql_fields.clone()),
            Box::new(graphql_errors.clone()),
            Box::new(open_subscriptions.clone()),
            Box::new(open_websockets.clone()),
        ] {
            registry.register(collector)?;
        }
        Ok(Metrics {
            registry,
            http_requests,
            http_latency,
            graphql_fields,
            graphql_errors,
            open_subscriptions,
            open_websockets,
        })
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        TextEncoder::new().encode_to_string(&self.registry.gather())
    }
}
