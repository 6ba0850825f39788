//! `stack`: builds the Next.js fixture app if needed, starts mock-clerk, the app and the downstream double,
//! prints where they are, and either waits for Ctrl-C or runs a command against them; everything is stopped
//! on exit, also on failure.
//!
//! ```text
//! cargo run -p harness --bin stack -- --variant proxy --instance production
//! cargo run -p harness --bin stack -- --variant middleware -- cargo test --test conformance
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use harness::nextjs::Variant;
use harness::stack::{Stack, StackOptions};
use mock_clerk::InstanceKind;

/// Start mock-clerk + the Next.js fixture app + the downstream double.
#[derive(Debug, Parser)]
#[command(name = "stack")]
struct Args {
    /// Which build of the app: middleware (edge) or proxy (node).
    #[arg(long, env = "STACK_VARIANT", default_value = "middleware", value_parser = parse_variant)]
    variant: Variant,
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

fn parse_variant(text: &str) -> Result<Variant, String> {
    Variant::from_name(text).ok_or_else(|| format!("{text:?}: expected middleware or proxy"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let options = StackOptions {
        variant: args.variant,
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
    println!("app ({}):   {}", args.variant.name(), stack.app.url());
    println!("mock-clerk:  {}", stack.clerk.url());
    println!("downstream:  {}", stack.downstream.url());
    for (k, v) in stack.target_env() {
        if !k.contains("SECRET") {
            println!("{k}={v}");
        }
    }
    if args.command.is_empty() {
        println!("press Ctrl-C to stop");
        let _ = tokio::signal::ctrl_c().await;
        return ExitCode::SUCCESS;
    }
    let status = tokio::process::Command::new(&args.command[0]).args(&args.command[1..]).envs(stack.target_env()).status().await;
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
