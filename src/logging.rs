//! The process-wide logger: level filter and text or JSON lines on stdout.
//! What a call's log line carries is decided by [`crate::telemetry`]; this
//! module only installs the writer.

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable `key=value` lines.
    Text,
    /// One JSON object per line, fields at the top level.
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum LogInitError {
    #[error("invalid log level {0:?}: {1}")]
    Level(String, String),
    #[error("a global logger is already installed")]
    AlreadyInstalled,
}

/// Installs the process-wide logger writing to stdout. `level` is a level
/// (`info`) or a comma-separated list of `target=level` directives
/// (`info,h2=warn`).
pub fn init_logging(level: &str, format: LogFormat) -> Result<(), LogInitError> {
    init_logging_to(level, format, std::io::stdout)
}

/// [`init_logging`] to another writer (tests capture the lines).
pub fn init_logging_to<W>(level: &str, format: LogFormat, writer: W) -> Result<(), LogInitError>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    init_logging_traced(level, format, writer, None)
}

/// [`init_logging_to`], and with `tracer` the layer that turns the call
/// spans of [`crate::otel::SPAN_TARGET`] into OpenTelemetry spans. Those
/// spans are the tracer's alone: the log level does not filter them and log
/// lines never show them.
pub fn init_logging_traced<W>(
    level: &str,
    format: LogFormat,
    writer: W,
    tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
) -> Result<(), LogInitError>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let filter: Targets = level
        .parse()
        .map_err(|e: tracing_subscriber::filter::ParseError| LogInitError::Level(level.to_owned(), e.to_string()))?;
    let filter = filter.with_target(crate::otel::SPAN_TARGET, LevelFilter::OFF);
    let lines = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
    };
    let mut layers = vec![lines];
    if let Some(tracer) = tracer {
        layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false)
                .with_filter(Targets::new().with_target(crate::otel::SPAN_TARGET, LevelFilter::INFO))
                .boxed(),
        );
    }
    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|_| LogInitError::AlreadyInstalled)
}
