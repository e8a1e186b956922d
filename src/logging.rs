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
    let direct_enabled = filter.would_enable(DECISION_TARGET, &tracing::Level::INFO);
    let writer = Shared(std::sync::Arc::new(writer));
    let direct = Direct {
        format,
        enabled: direct_enabled,
        sink: Box::new(writer.clone()),
    };
    let lines = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .event_format(TextLine::default())
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
        .map_err(|_| LogInitError::AlreadyInstalled)?;
    // Installed with the subscriber, once per process.
    DIRECT.set(direct).map_err(|_| LogInitError::AlreadyInstalled)
}

/// The decision line's target (`--decision-log`, one line per decision).
pub const DECISION_TARGET: &str = "refund_eligibility::decision";

/// The writer the log layer was given, shared with [`write_decision_line`].
struct Shared<W>(std::sync::Arc<W>);

impl<W> Clone for Shared<W> {
    fn clone(&self) -> Self {
        Shared(std::sync::Arc::clone(&self.0))
    }
}

impl<'a, W: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a> for Shared<W> {
    type Writer = W::Writer;

    fn make_writer(&'a self) -> Self::Writer {
        self.0.make_writer()
    }
}

/// Where [`write_decision_line`] writes: the log layer's writer.
trait LineSink: Send + Sync {
    fn write_line(&self, line: &[u8]);
}

impl<W> LineSink for Shared<W>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync,
{
    fn write_line(&self, line: &[u8]) {
        use std::io::Write as _;
        // As the log layer does: a line that cannot be written is dropped.
        let _ = self.0.make_writer().write_all(line);
    }
}

/// The decision line's own path, set up by [`init_logging_traced`].
struct Direct {
    format: LogFormat,
    /// Whether the level filter lets the decision line through.
    enabled: bool,
    sink: Box<dyn LineSink>,
}

static DIRECT: std::sync::OnceLock<Direct> = std::sync::OnceLock::new();

/// A field value of a line written by [`write_decision_line`].
#[derive(Clone, Copy, Debug)]
pub enum LineValue<'a> {
    /// Text: as is in the text format, a JSON string in JSON (what a `%`
    /// field of a tracing event gives).
    Text(&'a str),
    /// A number.
    Number(u64),
}

/// Writes the decision line, the service's one line per decided claim,
/// without going through the tracing subscriber: formatted into a reused
/// per-thread buffer and written with one call to the log writer. The bytes
/// are those the log layer writes for the same event (text or JSON; the
/// tests compare them), so a reader sees no difference. Returns `false`
/// when the process's logger was not set up by [`init_logging_traced`]:
/// the caller then emits the line as a tracing event.
pub fn write_decision_line(message: &str, fields: &[(&str, LineValue<'_>)]) -> bool {
    let Some(direct) = DIRECT.get() else {
        return false;
    };
    if direct.enabled {
        LINE.with_borrow_mut(|line| {
            line.clear();
            let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
            format_line(line, direct.format, &now, DECISION_TARGET, message, fields);
            direct.sink.write_line(line.as_bytes());
        });
    }
    true
}

thread_local! {
    /// The line being written, reused from line to line on a thread.
    static LINE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// One info-level line of `target` in `format`, as tracing-subscriber's
/// text (the default format) or JSON layer (flattened, no span) writes it.
pub(crate) fn format_line(
    line: &mut String,
    format: LogFormat,
    now: &chrono::DateTime<chrono::Utc>,
    target: &str,
    message: &str,
    fields: &[(&str, LineValue<'_>)],
) {
    use std::fmt::Write as _;
    match format {
        LogFormat::Text => {
            if write_timestamp(line, now).is_none() {
                let _ = write!(line, "{}", now.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
            }
            line.push_str("  INFO ");
            line.push_str(target);
            line.push_str(": ");
            line.push_str(message);
            for (name, value) in fields {
                line.push(' ');
                line.push_str(name);
                line.push('=');
                match value {
                    LineValue::Text(text) => line.push_str(text),
                    LineValue::Number(n) => {
                        let _ = write_u64(line, *n);
                    }
                }
            }
        }
        LogFormat::Json => {
            line.push_str("{\"timestamp\":\"");
            if write_timestamp(line, now).is_none() {
                let _ = write!(line, "{}", now.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
            }
            line.push_str("\",\"level\":\"INFO\",\"message\":");
            json_string(line, message);
            for (name, value) in fields {
                line.push(',');
                json_string(line, name);
                line.push(':');
                match value {
                    LineValue::Text(text) => json_string(line, text),
                    LineValue::Number(n) => {
                        let _ = write_u64(line, *n);
                    }
                }
            }
            line.push_str(",\"target\":");
            json_string(line, target);
            line.push('}');
        }
    }
    line.push('\n');
}

/// `text` as a JSON string, escaped as serde_json escapes it: `"`, `\\`
/// and the control characters (`\n`, `\r`, `\t`, `\b`, `\f` by name, the
/// others as `\u00XX`).
fn json_string(line: &mut String, text: &str) {
    use std::fmt::Write as _;
    line.push('"');
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
        line.push_str(rest.get(..at).unwrap_or_default());
        let c = rest.get(at..).and_then(|r| r.chars().next()).unwrap_or(' ');
        match c {
            '"' => line.push_str("\\\""),
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            '\u{8}' => line.push_str("\\b"),
            '\u{c}' => line.push_str("\\f"),
            other => {
                let _ = write!(line, "\\u{:04x}", u32::from(other));
            }
        }
        rest = rest.get(at + c.len_utf8()..).unwrap_or_default();
    }
    line.push_str(rest);
    line.push('"');
}

/// Targets whose lines [`TextLine`] writes itself: the per-call lines.
const HOT_TARGETS: [&str; 2] = ["refund_eligibility::decision", "refund_eligibility::rpc"];

/// The text line format: byte for byte tracing-subscriber's default
/// (`Format<Full, SystemTime>` without ANSI colours), but the per-call lines
/// (`refund_eligibility::decision`, `refund_eligibility::rpc`), which every
/// served call writes, are written directly: the timestamp digit by digit
/// instead of through `core::fmt` padding, and each field as three string
/// writes and its value, instead of one formatted write with a padded name.
/// Every other line, and a per-call line inside a span this layer shows,
/// goes through the default formatter. `tests` compares the two.
#[derive(Debug, Default)]
pub struct TextLine {
    full: tracing_subscriber::fmt::format::Format,
}

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for TextLine
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        if !HOT_TARGETS.contains(&meta.target()) || ctx.event_scope().is_some() {
            return self.full.format_event(ctx, writer, event);
        }
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        if write_timestamp(&mut writer, &now).is_none() {
            return self.full.format_event(ctx, writer, event);
        }
        writer.write_str(match *meta.level() {
            tracing::Level::TRACE => " TRACE ",
            tracing::Level::DEBUG => " DEBUG ",
            tracing::Level::INFO => "  INFO ",
            tracing::Level::WARN => "  WARN ",
            tracing::Level::ERROR => " ERROR ",
        })?;
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        let mut fields = Fields {
            out: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// "2026-12-02T22:35:08.123456Z", as tracing-subscriber writes it; `None`
/// (nothing written) for a year outside 0..=9999, left to the default.
fn write_timestamp(w: &mut impl std::fmt::Write, t: &chrono::DateTime<chrono::Utc>) -> Option<()> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let two = |n: u32| [digit(n / 10), digit(n)];
    let [mo1, mo0] = two(t.month());
    let [d1, d0] = two(t.day());
    let [h1, h0] = two(t.hour());
    let [mi1, mi0] = two(t.minute());
    // A leap second shows as :60, as chrono's nanosecond field carries it.
    let (second, nanos) = match t.nanosecond() {
        n if n >= 1_000_000_000 => (t.second() + 1, n - 1_000_000_000),
        n => (t.second(), n),
    };
    let [s1, s0] = two(second);
    let micros = nanos / 1_000;
    let bytes = [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        mo1,
        mo0,
        b'-',
        d1,
        d0,
        b'T',
        h1,
        h0,
        b':',
        mi1,
        mi0,
        b':',
        s1,
        s0,
        b'.',
        digit(micros / 100_000),
        digit(micros / 10_000),
        digit(micros / 1_000),
        digit(micros / 100),
        digit(micros / 10),
        digit(micros),
        b'Z',
    ];
    w.write_str(std::str::from_utf8(&bytes).ok()?).ok()
}

/// Writes an event's fields as tracing-subscriber's default visitor does:
/// the message first as it is, then ` name=value`, each value as its
/// `Debug` (strings quoted, `%`-fields their `Display`).
struct Fields<'a, W> {
    out: &'a mut W,
    first: bool,
    result: std::fmt::Result,
}

impl<W: std::fmt::Write> Fields<'_, W> {
    fn name(&mut self, name: &str) -> std::fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.out.write_char(' ')?;
        }
        if name == "message" {
            return Ok(());
        }
        self.out.write_str(name.strip_prefix("r#").unwrap_or(name))?;
        self.out.write_char('=')
    }
}

impl<W: std::fmt::Write> tracing::field::Visit for Fields<'_, W> {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if self.result.is_ok() {
            self.result = self.name(field.name()).and_then(|()| write_u64(self.out, value));
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if self.result.is_ok() {
            self.result = self.name(field.name()).and_then(|()| write!(self.out, "{value:?}"));
        }
    }
}

/// An integer in decimal, without `core::fmt`.
fn write_u64(w: &mut impl std::fmt::Write, mut n: u64) -> std::fmt::Result {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    match buf.get(i..).map(std::str::from_utf8) {
        Some(Ok(text)) => w.write_str(text),
        _ => Err(std::fmt::Error),
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().map(|b| b.clone()).unwrap_or_default()).unwrap_or_default()
        }
    }

    /// The same events through the default formatter and through
    /// [`TextLine`], timestamps cut off.
    fn both(emit: impl Fn()) -> (String, String) {
        let (default, fast) = (Buffer::default(), Buffer::default());
        let (d, f) = (default.clone(), fast.clone());
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(move || d.clone()))
            .with(
                tracing_subscriber::fmt::layer()
                    .event_format(TextLine::default())
                    .with_writer(move || f.clone()),
            );
        tracing::subscriber::with_default(subscriber, emit);
        let cut = |text: String| -> String {
            text.lines()
                .map(|l| {
                    let (time, rest) = l.split_at(27);
                    assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{l}");
                    rest.to_owned()
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        (cut(default.text()), cut(fast.text()))
    }

    #[test]
    fn per_call_lines_are_written_as_the_default_formatter_writes_them() {
        let (default, fast) = both(|| {
            tracing::info!(
                target: "refund_eligibility::decision",
                grpc_code = %"OK",
                latency_us = 1234_u64,
                request_id = %"req-1",
                decision_id = %"ab12",
                amount = %"29.99",
                trace_id = %"-",
                "decision"
            );
            tracing::info!(
                target: "refund_eligibility::rpc",
                grpc_service = "refund.eligibility.v1.EligibilityService",
                grpc_method = "QuoteRefund",
                items = 0_u64,
                latency_ms = 0.25_f64,
                negative = -3_i64,
                ok = true,
                "rpc"
            );
            tracing::warn!(target: "refund_eligibility::rpc", text = "quote \" and \\ and\nnewline", "rpc");
            tracing::debug!(target: "refund_eligibility::rpc", r#type = 7_u64, "rpc");
            tracing::info!(target: "refund_eligibility::server", addr = %"127.0.0.1:1", "serving gRPC");
            let span = tracing::info_span!("call", id = 3_u64);
            let _inside = span.enter();
            tracing::info!(target: "refund_eligibility::decision", grpc_code = %"OK", "decision");
        });
        assert_eq!(fast, default);
        assert_eq!(fast.lines().count(), 6, "{fast}");
        assert!(fast.contains("  INFO refund_eligibility::decision: decision grpc_code=OK latency_us=1234"));
    }

    #[test]
    fn timestamps_are_written_as_the_default_formatter_writes_them() {
        use chrono::TimeZone;
        for (secs, nanos) in [
            (0, 0),
            (1_767_225_600, 123_456_789),
            (4_102_444_799, 999_999_999),
            (951_782_400, 7_000),
        ] {
            let t = chrono::Utc.timestamp_opt(secs, nanos).single().unwrap_or_default();
            let mut fast = String::new();
            assert!(write_timestamp(&mut fast, &t).is_some());
            assert_eq!(fast, t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
        }
        let mut out = String::new();
        for n in [0, 7, 10, 99, 1234, u64::MAX] {
            out.clear();
            assert!(write_u64(&mut out, n).is_ok());
            assert_eq!(out, n.to_string());
        }
    }
}
