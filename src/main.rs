//! The `refund-eligibility` command: `serve` (the default) runs the gRPC server.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use refund_eligibility::server::{self, ServerConfig};

#[derive(Parser, Debug)]
#[command(
    name = "refund-eligibility",
    version,
    about = "Decides refund claims under compiled-in merchant policies, over gRPC"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve gRPC (the default when no subcommand is given).
    Serve(ServeArgs),
}

#[derive(clap::Args, Debug, Clone)]
struct ServeArgs {
    /// Address the gRPC server listens on.
    #[arg(long, env = "REFUND_ELIGIBILITY_LISTEN", default_value = "0.0.0.0:50051")]
    listen: SocketAddr,
    /// Seconds in-flight calls get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "REFUND_ELIGIBILITY_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    shutdown_grace_secs: u64,
    /// Largest request message accepted, in bytes.
    #[arg(long, env = "REFUND_ELIGIBILITY_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    max_message_bytes: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => cli.serve,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("refund-eligibility: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refund-eligibility: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!("refund-eligibility: serving gRPC on {}", listener.local_addr()?);
    let config = ServerConfig {
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        max_message_bytes: args.max_message_bytes,
        ..ServerConfig::default()
    };
    server::run(listener, shutdown_signal(), config).await?;
    eprintln!("refund-eligibility: drained, exiting");
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
}
