//! `stack`: sets a fixture app up if needed (e.g. builds the Next.js app), starts mock-clerk, the app and the
//! downstream double,
//! prints where they are, and either waits for Ctrl-C or runs a command against them; everything is stopped
//! on exit, also on failure.
//!
//! ```text
//! cargo run -p harness --bin stack -- --app proxy --instance production
//! cargo run -p harness --bin stack -- --app middleware -- cargo test --test conformance
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use harness::app::App;
use harness::stack::{Stack, StackOptions};
use mock_clerk::InstanceKind;

/// Start mock-clerk + a fixture app + the downstream double.
#[derive(Debug, Parser)]
#[command(name = "stack")]
struct Args {
    /// Which app: the Next.js app's middleware (edge) or proxy (node) build, the Express app or the Python app.
    #[arg(long, visible_alias = "variant", env = "STACK_APP", default_value = "middleware", value_parser = parse_app)]
    app: App,
    /// Development (pk_test_) or production (pk_live_) instance.
    #[arg(long, env = "STACK_INSTANCE", value_enum, default_value = "development")]
    instance: InstanceKind,
    /// Serve the Frontend API over TLS (plain publishable key, https handshake) instead of an http proxy URL.
    #[arg(long)]
    tls: bool,
    /// Address for mock-clerk.
    #[arg(long, default_value = "127.0.0.1:0")]
    mock_clerk_addr: SocketAddr,
    /// Address for the downstream double.
    #[arg(long, default_value = "127.0.0.1:0")]
    downstream_addr: SocketAddr,
    /// mock-clerk's session token lifetime in seconds (Clerk's default: 60). Short lifetimes make the browser
    /// token-refresh scenario quick: it stays on a page for two of them.
    #[arg(long, env = "STACK_TOKEN_TTL")]
    token_ttl: Option<u64>,
    /// A command to run with the stack's addresses in its environment; the stack stops when it exits.
    #[arg(last = true)]
    command: Vec<String>,
}

fn parse_app(text: &str) -> Result<App, String> {
    App::from_name(text).ok_or_else(|| format!("{text:?}: expected one of {}", App::names()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let options = StackOptions {
        app: args.app,
        kind: args.instance,
        tls: args.tls,
        mock_clerk_addr: args.mock_clerk_addr,
        downstream_addr: args.downstream_addr,
        extra_env: Vec::new(),
        token_lifetime: args.token_ttl.map(std::time::Duration::from_secs),
        ..StackOptions::default()
    };
    let stack = match Stack::start(options).await {
        Ok(stack) => stack,
        Err(e) => {
            eprintln!("stack: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("app ({}):   {}", args.app.name(), stack.app.url());
    println!("mock-clerk:  {}", stack.clerk.url());
    println!("downstream:  {}", stack.downstream.url());
    for (k, v) in stack.target_env() {
        if !k.contains("SECRET") {
            println!("{k}={v}");
        }
    }
    if args.command.is_empty() {
        println!("press Ctrl-C to stop");
        stop_signal().await;
        return ExitCode::SUCCESS;
    }
    let mut command = tokio::process::Command::new(&args.command[0]);
    command.args(&args.command[1..]).envs(stack.target_env()).kill_on_drop(true);
    let status = tokio::select! {
        status = command.status() => status,
        () = stop_signal() => {
            eprintln!("stack: stopped by a signal");
            return ExitCode::FAILURE;
        }
    };
    drop(stack);
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("stack: {} exited with {s}", args.command[0]);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("stack: cannot run {}: {e}", args.command[0]);
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C or SIGTERM: either way the stack is dropped, so the app's process group and mock-clerk stop with it.
async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        Some(()) = async { match term.as_mut() { Some(t) => t.recv().await, None => std::future::pending().await } } => {}
    }
}
