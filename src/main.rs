//! The `refund-eligibility` command: `serve` (the default) runs the gRPC
//! server; `evaluate`, `quote` and `policies` answer offline on the same engine.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use refund_eligibility::cli::{self, EvaluateArgs, InputArgs, PoliciesArgs, ReplayArgs};
use refund_eligibility::config::ServeArgs;
use refund_eligibility::jsonl;
use refund_eligibility::logging;
use refund_eligibility::metrics::{self, Metrics};
use refund_eligibility::otel;
use refund_eligibility::server;

/// mimalloc instead of glibc's malloc: a served call allocates a few dozen
/// small blocks, which mimalloc's per-thread free lists hand out in fewer
/// instructions (measured in BENCHMARKS.md). Built with `no_thp`, so its
/// arenas stay off transparent huge pages and the idle RSS stays near that of
/// glibc's malloc. The library sets no allocator;
/// the property tests install this one too, so the engine runs under it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "refund-eligibility",
    version,
    about = "Decides refund claims under compiled-in merchant policies, over gRPC",
    long_about = "Decides refund claims under compiled-in merchant policies, over gRPC.\n\n\
                  Without a subcommand it serves (see `serve --help`); every serve flag \
                  also reads the REFUND_ELIGIBILITY_* variable shown beside it.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve gRPC and the metrics endpoint (the default when no subcommand is given).
    Serve(Box<ServeArgs>),
    /// Decide one claim offline: an EvaluateClaimRequest as proto3 JSON in,
    /// the EvaluateClaimResponse as JSON out (`--explain`: with the rule trace).
    Evaluate(EvaluateArgs),
    /// Quote a refund offline: a QuoteRefundRequest as proto3 JSON in, the
    /// QuoteRefundResponse as JSON out.
    Quote(InputArgs),
    /// Print the policy catalog (the ListPolicies answer) as JSON.
    Policies(PoliciesArgs),
    /// Re-decide stored decisions (JSON lines of request and response) and
    /// report each as `same` or `changed`; exit code 0 when all are the same,
    /// 1 when some changed, 2 when a line cannot be read.
    Replay(ReplayArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let offline = match cli.command {
        None => return serve_main(cli.serve),
        Some(Command::Serve(args)) => return serve_main(*args),
        Some(Command::Evaluate(EvaluateArgs {
            input: InputArgs {
                jsonl: Some(path),
                jobs,
                ..
            },
            ..
        })) => return jsonl_main(jsonl::Kind::Evaluate, &path, jobs),
        Some(Command::Quote(InputArgs {
            jsonl: Some(path),
            jobs,
            ..
        })) => return jsonl_main(jsonl::Kind::Quote, &path, jobs),
        Some(Command::Evaluate(args)) => cli::evaluate(&args),
        Some(Command::Quote(input)) => cli::quote(&input),
        Some(Command::Policies(args)) => cli::policies(&args),
        Some(Command::Replay(args)) => return replay_main(&args),
    };
    match offline {
        Ok(json) => {
            use std::io::Write;
            // `| head` closing the pipe early is not an error worth a panic.
            match writeln!(std::io::stdout().lock(), "{json}") {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("refund-eligibility: cannot write the response: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("refund-eligibility: {}", e.one_line());
            ExitCode::FAILURE
        }
    }
}

fn replay_main(args: &ReplayArgs) -> ExitCode {
    use std::io::Write;
    match cli::replay(args) {
        Ok(report) => {
            // `| head` closing the pipe early is not an error worth a panic.
            match std::io::stdout().lock().write_all(report.text.as_bytes()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => {
                    eprintln!("refund-eligibility: cannot write the report: {e}");
                    return ExitCode::from(2);
                }
            }
            ExitCode::from(if report.all_same { 0 } else { 1 })
        }
        Err(e) => {
            eprintln!("refund-eligibility: {}", e.one_line());
            ExitCode::from(2)
        }
    }
}

/// `evaluate --jsonl`, `quote --jsonl`: 1 when a line failed, 2 when the
/// input or output did.
fn jsonl_main(kind: jsonl::Kind, path: &std::path::Path, jobs: Option<std::num::NonZeroUsize>) -> ExitCode {
    match jsonl::run(kind, path, jobs, std::io::stdout()) {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(summary) => {
            eprintln!(
                "refund-eligibility: {} of {} lines failed",
                summary.failed, summary.lines
            );
            ExitCode::FAILURE
        }
        Err(jsonl::JsonlError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refund-eligibility: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve_main(args: ServeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("refund-eligibility: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The OTLP exporter's channel lives on the runtime that serves.
    let tracing = match args.otlp_endpoint.as_deref().map(|endpoint| {
        let _inside = runtime.enter();
        otel::Tracing::otlp(endpoint)
    }) {
        None => None,
        Some(Ok(tracing)) => Some(tracing),
        Some(Err(e)) => {
            eprintln!("refund-eligibility: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tracer = tracing.as_ref().map(otel::Tracing::tracer);
    if let Err(e) = logging::init_logging_traced(&args.log_level, args.log_format, std::io::stdout, tracer) {
        eprintln!("refund-eligibility: {e}");
        return ExitCode::FAILURE;
    }
    let served = runtime.block_on(serve(args));
    // After the drain, with the runtime still up: the last spans go out.
    if let Some(tracing) = tracing {
        if let Err(e) = tracing.shutdown() {
            tracing::warn!(error = %e, "spans not exported at shutdown");
        }
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "exiting");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let metrics = args.metrics_listen.0.map(|_| Arc::new(Metrics::new()));
    let config = args.server_config(metrics.clone())?;
    let listener = server::bind(args.listen)?;
    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics_task = match (args.metrics_listen.0, metrics) {
        (Some(addr), Some(metrics)) => {
            let metrics_listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(address = %metrics_listener.local_addr()?, "serving metrics at /metrics");
            let stopped = async {
                let _ = metrics_stopped.await;
            };
            Some(tokio::spawn(metrics::serve(metrics_listener, metrics, stopped)))
        }
        _ => None,
    };
    tracing::info!(
        address = %listener.local_addr()?,
        tls = config.tls.is_some(),
        client_auth = config.tls.as_ref().is_some_and(|t| t.client_ca_pem.is_some()),
        version = env!("CARGO_PKG_VERSION"),
        otlp_endpoint = args.otlp_endpoint.as_deref().unwrap_or("-"),
        "serving gRPC"
    );
    let served = server::run(listener, shutdown_signal(), config).await;
    // Metrics stay up through the drain, so the last scrape sees it.
    let _ = stop_metrics.send(());
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    served?;
    tracing::info!("drained, exiting");
    Ok(())
}

/// Completes on SIGTERM (Kubernetes) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested, draining");
}
