//! The `serve` settings: every one a flag with a `REFUND_ELIGIBILITY_*`
//! environment fallback and a default that works with no configuration.
//! Durations carry their unit (`500ms`, `10s`, `5m`, `1h`); `off` (or `0`)
//! turns an optional limit off.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::grpc::stream::StreamLimits;
use crate::logging::LogFormat;
use crate::metrics::Metrics;
use crate::server::{ServerConfig, TlsConfig};

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address the gRPC server listens on.
    #[arg(long, env = "REFUND_ELIGIBILITY_LISTEN", default_value = "0.0.0.0:50051")]
    pub listen: SocketAddr,

    /// Address of the Prometheus endpoint (`GET /metrics`); `off` disables it.
    #[arg(long, env = "REFUND_ELIGIBILITY_METRICS_LISTEN", default_value = "0.0.0.0:9090", value_parser = parse_endpoint)]
    pub metrics_listen: Endpoint,

    /// Log level (`error`, `warn`, `info`, `debug`, `trace`), or comma-separated
    /// `target=level` directives such as `info,h2=warn`.
    #[arg(long, env = "REFUND_ELIGIBILITY_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Log line format: human-readable `text` or one JSON object per line.
    #[arg(long, env = "REFUND_ELIGIBILITY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Time in-flight calls get to finish after SIGTERM or Ctrl-C, e.g. `10s`.
    /// Keep Kubernetes' terminationGracePeriodSeconds above it.
    #[arg(long, env = "REFUND_ELIGIBILITY_SHUTDOWN_GRACE", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// Largest request message accepted, in bytes; larger ones are refused with OUT_OF_RANGE.
    #[arg(long, env = "REFUND_ELIGIBILITY_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub max_message_bytes: usize,

    /// Calls one connection may have in progress at once; further calls are
    /// refused at once with RESOURCE_EXHAUSTED, not queued. `0`: no limit.
    #[arg(
        long,
        env = "REFUND_ELIGIBILITY_CONCURRENCY_LIMIT_PER_CONNECTION",
        default_value_t = 64
    )]
    pub concurrency_limit_per_connection: usize,

    /// Longest a call may run before it is answered with CANCELLED (a shorter
    /// client deadline wins); `off` disables it.
    #[arg(long, env = "REFUND_ELIGIBILITY_REQUEST_TIMEOUT", default_value = "5s", value_parser = parse_limit)]
    pub request_timeout: Limit,

    /// Age at which a connection is sent GOAWAY so that clients reconnect and
    /// load rebalances across pods; `off` keeps connections forever.
    #[arg(long, env = "REFUND_ELIGIBILITY_MAX_CONNECTION_AGE", default_value = "5m", value_parser = parse_limit)]
    pub max_connection_age: Limit,

    /// Time after the GOAWAY before a connection that is still open is cut;
    /// `off` never cuts it.
    #[arg(long, env = "REFUND_ELIGIBILITY_MAX_CONNECTION_AGE_GRACE", default_value = "15s", value_parser = parse_limit)]
    pub max_connection_age_grace: Limit,

    /// Connections open at once; a connection beyond it is closed as soon as
    /// it is accepted, open ones are unaffected. `0`: no cap.
    #[arg(long, env = "REFUND_ELIGIBILITY_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Interval of the HTTP/2 PINGs sent on every connection; one not
    /// acknowledged within 20 s closes the connection. `off`: no PINGs.
    #[arg(long, env = "REFUND_ELIGIBILITY_HTTP2_KEEPALIVE_INTERVAL", default_value = "60s", value_parser = parse_limit)]
    pub http2_keepalive_interval: Limit,

    /// A connection silent this long with no call in progress, or without its
    /// HTTP/2 preface this long after it opened, is closed. `off`: never.
    #[arg(long, env = "REFUND_ELIGIBILITY_IDLE_TIMEOUT", default_value = "2m", value_parser = parse_limit)]
    pub idle_timeout: Limit,

    /// PEM certificate chain: serve TLS instead of plaintext (needs --tls-key).
    #[arg(long, env = "REFUND_ELIGIBILITY_TLS_CERT", requires = "tls_key", value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "REFUND_ELIGIBILITY_TLS_KEY", requires = "tls_cert", value_name = "PATH")]
    pub tls_key: Option<PathBuf>,

    /// PEM CA certificates: require every client to present a certificate
    /// issued by one of them (mutual TLS); others are refused in the handshake.
    #[arg(
        long,
        env = "REFUND_ELIGIBILITY_TLS_CLIENT_CA",
        requires = "tls_cert",
        value_name = "PATH"
    )]
    pub tls_client_ca: Option<PathBuf>,

    /// OpenTelemetry collector to export each call's server span to, over
    /// OTLP/gRPC in batches (`http://otel-collector:4317`); unset: no export.
    #[arg(long, env = "REFUND_ELIGIBILITY_OTLP_ENDPOINT", value_name = "URL", value_parser = parse_otlp_endpoint)]
    pub otlp_endpoint: Option<String>,

    /// EvaluateClaims: answers the server computes ahead of a client that
    /// reads slowly; past it the server stops reading the stream (at least 1).
    #[arg(long, env = "REFUND_ELIGIBILITY_STREAM_WINDOW", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub stream_window: u64,

    /// EvaluateClaims: requests one stream may carry; the next one ends the
    /// stream with RESOURCE_EXHAUSTED after the last answered item.
    #[arg(long, env = "REFUND_ELIGIBILITY_MAX_STREAM_ITEMS", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_stream_items: u64,

    /// `on`: each EvaluateClaim decision is logged as one decision line
    /// (decision id, policy, rules edition, decision, amount, reason codes)
    /// instead of its access line; `off`: the access line, as for other calls.
    #[arg(long, env = "REFUND_ELIGIBILITY_DECISION_LOG", default_value = "on", value_parser = parse_switch)]
    pub decision_log: Switch,
}

/// An `http://host:port` URL. Plaintext only: the exporter is built without
/// TLS roots, so an `https://` collector is refused at startup, not at the
/// first export.
fn parse_otlp_endpoint(text: &str) -> Result<String, String> {
    let bad = || format!("expected a URL such as http://otel-collector:4317; got {text:?}");
    let uri: http::Uri = text.trim().parse().map_err(|_| bad())?;
    if uri.scheme_str() != Some("http") || uri.host().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(text.trim().to_owned())
}

/// An on/off setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch(pub bool);

fn parse_switch(text: &str) -> Result<Switch, String> {
    match text.trim() {
        "on" => Ok(Switch(true)),
        "off" => Ok(Switch(false)),
        _ => Err(format!("expected on or off; got {text:?}")),
    }
}

/// A listen address, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint(pub Option<SocketAddr>);

/// An optional time limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(pub Option<Duration>);

fn parse_endpoint(text: &str) -> Result<Endpoint, String> {
    if is_off(text) {
        return Ok(Endpoint(None));
    }
    text.parse()
        .map(|addr| Endpoint(Some(addr)))
        .map_err(|_| format!("expected an address such as 0.0.0.0:9090, or off; got {text:?}"))
}

fn is_off(text: &str) -> bool {
    matches!(text.trim(), "off" | "0")
}

fn parse_limit(text: &str) -> Result<Limit, String> {
    if is_off(text) {
        return Ok(Limit(None));
    }
    match parse_duration(text)? {
        d if d.is_zero() => Ok(Limit(None)),
        d => Ok(Limit(Some(d))),
    }
}

/// `<whole number><unit>` with unit `ms`, `s`, `m` or `h`: `500ms`, `10s`, `5m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || format!("expected a duration such as 500ms, 10s, 5m or 1h; got {text:?}");
    let n: u64 = number.parse().map_err(|_| bad())?;
    let seconds = |factor: u64| n.checked_mul(factor).map(Duration::from_secs).ok_or_else(bad);
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        _ => Err(bad()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {what} {path:?}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn read(what: &'static str, path: &PathBuf) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Read {
        what,
        path: path.clone(),
        source,
    })
}

impl ServeArgs {
    /// The server configuration these settings describe; reads the TLS files.
    pub fn server_config(&self, metrics: Option<Arc<Metrics>>) -> Result<ServerConfig, ConfigError> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsConfig {
                cert_pem: read("TLS certificate", cert)?,
                key_pem: read("TLS key", key)?,
                client_ca_pem: self
                    .tls_client_ca
                    .as_ref()
                    .map(|ca| read("TLS client CA", ca))
                    .transpose()?,
            }),
            _ => None,
        };
        Ok(ServerConfig {
            shutdown_grace: self.shutdown_grace,
            max_message_bytes: self.max_message_bytes,
            concurrency_limit_per_connection: (self.concurrency_limit_per_connection > 0)
                .then_some(self.concurrency_limit_per_connection),
            request_timeout: self.request_timeout.0,
            max_connection_age: self.max_connection_age.0,
            max_connection_age_grace: self.max_connection_age_grace.0,
            max_connections: (self.max_connections > 0).then_some(self.max_connections),
            http2_keepalive_interval: self.http2_keepalive_interval.0,
            idle_timeout: self.idle_timeout.0,
            http2_keepalive_timeout: ServerConfig::default().http2_keepalive_timeout,
            tls,
            metrics,
            stream_limits: StreamLimits {
                window: usize::try_from(self.stream_window).unwrap_or(usize::MAX),
                max_items: self.max_stream_items,
            },
            decision_log: self.decision_log.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches, Parser};

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    /// Parses as `serve` does, with the environment lookup of every setting
    /// turned off: a `REFUND_ELIGIBILITY_*` variable in the shell that runs
    /// the tests cannot change their outcome. The fallback to the variables
    /// is tested on the binary, with an environment of its own
    /// (`tests/ops_cli.rs`), never by changing this process's environment.
    fn parse(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        let matches = Cli::command()
            .mut_args(|a| a.env(None::<&'static str>))
            .try_get_matches_from(std::iter::once("refund-eligibility").chain(args.iter().copied()))?;
        Cli::from_arg_matches(&matches).map(|c| c.serve)
    }

    #[test]
    fn durations_carry_their_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("1.5s").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
        assert_eq!(parse_limit("off"), Ok(Limit(None)));
        assert_eq!(parse_limit("0s"), Ok(Limit(None)));
        assert_eq!(parse_endpoint("off"), Ok(Endpoint(None)));
    }

    #[test]
    fn defaults_and_flags() {
        let defaults = parse(&[]).unwrap_or_else(|e| panic!("{e}"));
        let config = defaults.server_config(None).unwrap_or_else(|e| panic!("{e}"));
        let expected = ServerConfig::default();
        assert_eq!(
            defaults.listen,
            "0.0.0.0:50051".parse().unwrap_or_else(|e| panic!("{e}"))
        );
        assert_eq!(defaults.metrics_listen.0, "0.0.0.0:9090".parse().ok());
        assert_eq!(defaults.log_format, LogFormat::Text);
        assert_eq!(config.shutdown_grace, expected.shutdown_grace);
        assert_eq!(config.max_message_bytes, 65536);
        assert_eq!(
            config.concurrency_limit_per_connection,
            expected.concurrency_limit_per_connection
        );
        assert_eq!(config.request_timeout, expected.request_timeout);
        assert_eq!(config.max_connection_age, expected.max_connection_age);
        assert_eq!(config.max_connection_age_grace, expected.max_connection_age_grace);
        assert_eq!(config.max_connections, expected.max_connections);
        assert_eq!(config.http2_keepalive_interval, expected.http2_keepalive_interval);
        assert_eq!(config.idle_timeout, expected.idle_timeout);
        assert!(config.tls.is_none());
        assert_eq!(config.stream_limits, expected.stream_limits);
        assert_eq!(config.stream_limits.window, 256);
        assert_eq!(config.stream_limits.max_items, 1_000_000);
        assert!(
            parse(&["--stream-window", "0"]).is_err(),
            "a window holds one answer at least"
        );
        assert_eq!(config.decision_log, expected.decision_log);
        assert!(config.decision_log, "decisions are logged by default");

        let set = parse(&[
            "--request-timeout",
            "off",
            "--max-connection-age",
            "30s",
            "--concurrency-limit-per-connection",
            "0",
            "--log-format",
            "json",
            "--metrics-listen",
            "off",
            "--max-connections",
            "0",
            "--http2-keepalive-interval",
            "off",
            "--idle-timeout",
            "30s",
            "--decision-log",
            "off",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let config = set.server_config(None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.request_timeout, None);
        assert_eq!(config.max_connection_age, Some(Duration::from_secs(30)));
        assert_eq!(config.concurrency_limit_per_connection, None);
        assert_eq!(set.log_format, LogFormat::Json);
        assert_eq!(set.metrics_listen, Endpoint(None));
        assert_eq!(config.max_connections, None);
        assert_eq!(config.http2_keepalive_interval, None);
        assert_eq!(config.idle_timeout, Some(Duration::from_secs(30)));
        assert!(!config.decision_log);
        assert!(parse(&["--decision-log", "yes"]).is_err(), "on or off");

        assert!(
            parse(&["--tls-cert", "cert.pem"]).is_err(),
            "a certificate needs its key"
        );
        assert!(parse(&["--tls-client-ca", "ca.pem"]).is_err(), "client auth needs TLS");
        assert!(parse(&["--shutdown-grace", "10"]).is_err(), "a duration needs its unit");

        assert_eq!(defaults.otlp_endpoint, None, "no export unless asked");
        let traced = parse(&["--otlp-endpoint", "http://127.0.0.1:4317"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(traced.otlp_endpoint.as_deref(), Some("http://127.0.0.1:4317"));
        for bad in ["127.0.0.1:4317", "https://collector:4317", "http://", "not a url"] {
            assert!(parse(&["--otlp-endpoint", bad]).is_err(), "{bad}");
        }
    }
}
