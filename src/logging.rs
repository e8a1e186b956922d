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
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter: tracing_subscriber::filter::Targets = level
        .parse()
        .map_err(|e: tracing_subscriber::filter::ParseError| LogInitError::Level(level.to_owned(), e.to_string()))?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(writer))
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init(),
    };
    result.map_err(|_| LogInitError::AlreadyInstalled)
}
