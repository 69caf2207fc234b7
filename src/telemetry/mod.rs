//! Logs and traces: the process-wide subscriber built from the settings, with secrets and personal data redacted.

pub mod graphql;
pub mod otlp;
pub mod redact;
pub mod writer;

use crate::config::{Config, LogFormat};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};
use writer::Redacting;

/// What must outlive the server: the trace exporter, flushed by `shutdown`.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered. Blocks, so call it off the async threads.
    pub fn shutdown(self) {
        if let Some(provider) = self.traces
            && let Err(e) = provider.shutdown()
        {
            eprintln!("fundi: traces not flushed: {e}");
        }
    }
}

/// Installs the global subscriber: logs filtered by FUNDI_LOG in FUNDI_LOG_FORMAT on stderr, and
/// OpenTelemetry traces to FUNDI_OTLP_ENDPOINT when it is set. Call it on the Tokio runtime.
pub fn init(config: &Config) -> anyhow::Result<Telemetry> {
    let traces = match &config.otlp_endpoint {
        Some(endpoint) => Some(otlp::provider(endpoint)?),
        None => None,
    };
    tracing_subscriber::registry()
        .with(log_layer(config.log_format, std::io::stderr).with_filter(filter(&config.log_filter)))
        .with(traces.as_ref().map(otlp::layer))
        .init();
    Ok(Telemetry { traces })
}

fn filter(spec: &str) -> EnvFilter {
    EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The formatted log output, redacted line by line on its way to `writer`.
pub fn log_layer<S, W>(format: LogFormat, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer().with_writer(Redacting(writer));
    match format {
        LogFormat::Json => layer.json().boxed(),
        LogFormat::Text => layer.boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(format: LogFormat) -> String {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::registry()
            .with(filter("debug"))
            .with(log_layer(format, move || sink.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "request",
                path = "/webhooks/mpesa/cb-token-0123456789/b2c/result"
            );
            let _entered = span.enter();
            tracing::info!(to = %"jane@example.com", phone = "+254708374149", "mail written");
        });
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn log_lines_in_either_format_never_show_tokens_emails_or_phones() {
        for format in [LogFormat::Text, LogFormat::Json] {
            let out = logged(format);
            assert!(out.contains("mail written"), "{out}");
            for secret in ["cb-token-0123456789", "jane@example.com", "254708374149"] {
                assert!(!out.contains(secret), "{format:?} leaks {secret}: {out}");
            }
            assert!(
                out.contains("/webhooks/mpesa/[redacted]/b2c/result"),
                "{out}"
            );
            assert!(out.contains("[email]") && out.contains("[phone]"), "{out}");
        }
    }
}
