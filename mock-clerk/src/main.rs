//! `mock-clerk`: serve a local Clerk, print an app's env block, issue test tokens, print the JWKS.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use mock_clerk::control::ops::{self, MintRequest};
use mock_clerk::handle::default_secret_key;
use mock_clerk::{BrokenToken, InstanceKind, KeySource, MockClerkBuilder};
use serde_json::{Map, Value};

/// mimalloc rather than the system allocator: per request, mock-clerk allocates a little on every worker thread
/// (headers, the request-log entry, the response), where glibc's malloc showed as ~12 % of a JWKS profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A local Clerk issuer that the real, unmodified Clerk SDKs accept.
#[derive(Debug, Parser)]
#[command(name = "mock-clerk", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Backend API, Frontend API and control API.
    Serve(ServeArgs),
    /// Print the `.env.local` lines a Next.js app needs to use this mock-clerk.
    Env(InstanceArgs),
    /// Print a session JWT signed with the same key file `serve` uses.
    Token(TokenArgs),
    /// Print the JWKS of the key file.
    Jwks(InstanceArgs),
}

#[derive(Debug, Args, Clone)]
struct InstanceArgs {
    /// Address to listen on (and the host in the publishable key unless --frontend-host is given).
    #[arg(long, env = "MOCK_CLERK_ADDR", default_value = "127.0.0.1:4010")]
    addr: SocketAddr,
    /// Development (pk_test_) or production (pk_live_).
    #[arg(long, env = "MOCK_CLERK_INSTANCE", value_enum, default_value = "development")]
    instance: InstanceKind,
    /// The secret key apps must present (default: a fixed sk_test_/sk_live_ key).
    #[arg(long, env = "MOCK_CLERK_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Host:port in the publishable key, if not --addr (it must contain a dot: never localhost).
    #[arg(long, env = "MOCK_CLERK_FRONTEND_HOST")]
    frontend_host: Option<String>,
    /// Signing key file (PKCS#8 PEM), created on first use and reused.
    #[arg(long, env = "MOCK_CLERK_KEY_FILE", default_value = ".mock-clerk/keys.pem")]
    key_file: PathBuf,
    /// Use a fresh in-memory key instead of the key file (tokens die with the process).
    #[arg(long, conflicts_with = "key_file")]
    ephemeral_key: bool,
    /// Webhook signing secret, `whsec_<base64>` (default: a fixed one; `env` prints it as
    /// CLERK_WEBHOOK_SIGNING_SECRET).
    #[arg(long, env = "MOCK_CLERK_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    instance: InstanceArgs,
    /// Session-token lifetime in seconds (Clerk's default is 60).
    #[arg(long, env = "MOCK_CLERK_TOKEN_TTL", default_value_t = 60)]
    token_ttl: u64,
    /// Also answer TLS on the same port (self-signed certificate): the SDK's default https handshake URL then
    /// works with a plain publishable key, without NEXT_PUBLIC_CLERK_PROXY_URL.
    #[arg(long, env = "MOCK_CLERK_TLS")]
    tls: bool,
    /// With --tls, where to write the certificate (PEM) for browsers or NODE_EXTRA_CA_CERTS to trust.
    #[arg(long, env = "MOCK_CLERK_TLS_CERT_OUT", default_value = ".mock-clerk/tls-cert.pem")]
    tls_cert_out: PathBuf,
    /// How the handshake answers: as the SDK asks (auto), always a nonce, or always a signed token.
    #[arg(long, env = "MOCK_CLERK_HANDSHAKE_FORMAT", value_enum, default_value = "auto")]
    handshake_format: mock_clerk::fapi::handshake::HandshakeFormat,
    /// Open the control API (/__mock) to non-loopback callers presenting `Authorization: Bearer <token>`.
    #[arg(long, env = "MOCK_CLERK_CONTROL_TOKEN", hide_env_values = true)]
    control_token: Option<String>,
    /// Keep users, clients, sessions and dev browsers in this JSON file across restarts: loaded at start
    /// (created if missing), rewritten after every change. Without it they live in memory only and are gone
    /// when mock-clerk stops (signing keys persist through --key-file either way).
    #[arg(long, env = "MOCK_CLERK_STATE_FILE")]
    state_file: Option<PathBuf>,
    /// Deliver every webhook event to this URL (repeatable; comma-separated in the env variable). More
    /// endpoints, with event filters, through the control API (/__mock/webhooks/endpoints).
    #[arg(long = "webhook-url", env = "MOCK_CLERK_WEBHOOK_URL", value_delimiter = ',')]
    webhook_urls: Vec<String>,
    /// Multiply Svix's retry schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) by this: 0.001 for tests.
    #[arg(long, env = "MOCK_CLERK_WEBHOOK_RETRY_SCALE", default_value_t = 1.0)]
    webhook_retry_scale: f64,
    /// Timeout of one webhook delivery attempt, in seconds.
    #[arg(long, env = "MOCK_CLERK_WEBHOOK_TIMEOUT", default_value_t = 15)]
    webhook_timeout: u64,
    /// The node_modules directory holding @clerk/clerk-js and @clerk/ui, served under /npm/@clerk/… for the
    /// browser (default: fixtures/clerk-bundles/node_modules of this workspace; install it with
    /// `npm ci --prefix fixtures/clerk-bundles`).
    #[arg(long, env = "MOCK_CLERK_BUNDLE_DIR")]
    bundle_dir: Option<PathBuf>,
    /// Enable a social provider (google, github, microsoft, facebook, apple, gitlab, discord, linkedin_oidc;
    /// repeatable or comma-separated): `<SignIn/>` shows its button, and mock-clerk's own consent page
    /// (/oauth/consent) plays the provider, offline.
    #[arg(long = "oauth-provider", env = "MOCK_CLERK_OAUTH_PROVIDERS", value_delimiter = ',')]
    oauth_providers: Vec<String>,
    /// The app's sign-in page (absolute URL, e.g. http://127.0.0.1:3000/auth/sign-in): where the `url` of a
    /// sign-in or actor token sends the browser with `__clerk_ticket` (else the URL needs `redirect_url`).
    #[arg(long, env = "MOCK_CLERK_SIGN_IN_URL")]
    sign_in_url: Option<String>,
    /// Start with the users, roles, organizations, memberships, JWT templates, machines and API keys of this TOML
    /// file; see fixtures/seed.example.toml.
    /// An invalid file stops the start with its file, line and field. Not applied to a --state-file that
    /// already holds users.
    #[arg(long, env = "MOCK_CLERK_SEED")]
    seed: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct TokenArgs {
    #[command(flatten)]
    instance: InstanceArgs,
    /// `sub` claim (user id).
    #[arg(long, default_value = "user_mock")]
    sub: String,
    /// `sid` claim (session id).
    #[arg(long, default_value = "sess_mock")]
    sid: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 60)]
    ttl: u64,
    /// Extra claim `name=value` (value parsed as JSON when it is JSON, else a string); repeatable.
    #[arg(long = "claim", value_parser = parse_claim)]
    claims: Vec<(String, Value)>,
    /// Break the token on purpose.
    #[arg(long, value_enum)]
    broken: Option<BrokenToken>,
    /// Active organization (its slug): the token gets an `o` claim.
    #[arg(long = "org", value_name = "SLUG")]
    org: Option<String>,
    /// The active organization's id (with `--org`).
    #[arg(long = "org-id", default_value = "org_mock", requires = "org")]
    org_id: String,
    /// Role in the organization (with `--org`; default org:member).
    #[arg(long, requires = "org")]
    role: Option<String>,
    /// A permission of the role, `org:feature:action` (with `--org`); repeatable.
    #[arg(long = "permission", requires = "org")]
    permissions: Vec<String>,
    /// A feature (`fea`): `premium` or `o:reports`; repeatable.
    #[arg(long = "feature")]
    features: Vec<String>,
    /// A plan (`pla`): `pro` or `o:team`; repeatable.
    #[arg(long = "plan")]
    plans: Vec<String>,
    /// Impersonation: the acting user's id (`act.sub`).
    #[arg(long, value_name = "USER_ID")]
    actor: Option<String>,
    /// Print header and claims as JSON too.
    #[arg(long)]
    decode: bool,
    /// Mint a machine token JWT instead of a session token: `m2m` (`--sub mch_…`, default `mch_mock`; each
    /// `--scope` a machine it may talk to) or `oauth` (`typ: at+jwt`; `--sub user_…`; each `--scope` a granted
    /// scope). `--ttl` and `--claim` (M2M) apply.
    #[arg(long, value_enum)]
    machine: Option<mock_clerk::machines::MachineJwtKind>,
    /// A scope of the machine token (repeatable).
    #[arg(long = "scope", requires = "machine")]
    scopes: Vec<String>,
}

fn parse_claim(text: &str) -> Result<(String, Value), String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("expected name=value, got {text:?}"))?;
    if name.is_empty() {
        return Err("the claim name is empty".into());
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((name.to_owned(), value))
}

impl InstanceArgs {
    fn key_source(&self) -> KeySource {
        if self.ephemeral_key { KeySource::Ephemeral } else { KeySource::File(self.key_file.clone()) }
    }

    fn builder(&self) -> MockClerkBuilder {
        let mut b = mock_clerk::MockClerk::builder()
            .kind(self.instance)
            .addr(self.addr)
            .secret_key(self.secret_key.clone().unwrap_or_else(|| default_secret_key(self.instance)))
            .key(self.key_source());
        if let Some(host) = &self.frontend_host {
            b = b.frontend_host(host.clone());
        }
        if let Some(secret) = &self.webhook_secret {
            b = b.webhook_secret(secret.clone());
        }
        b
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A line per request at the default level: batched onto stderr by a background thread (see `logwriter`),
    // without colours when stderr is not a terminal.
    let (log_writer, flush_log) = mock_clerk::logwriter::batched_stderr();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("MOCK_CLERK_LOG").unwrap_or_else(|_| "mock_clerk=info".into()))
        .event_format(mock_clerk::logformat::LineFormat::new(std::io::stderr().is_terminal()))
        .with_writer(log_writer)
        .init();
    let result = run(cli.command);
    drop(flush_log);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-clerk: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Serve(args) => serve(args),
        Command::Env(args) => {
            let state = args.builder().state_for(args.addr)?;
            print!("{}", mock_clerk::env::env_file(state.instance(), &format!("http://{}", args.addr), true));
            Ok(())
        }
        Command::Jwks(args) => {
            let state = args.builder().state_for(args.addr)?;
            println!("{}", serde_json::to_string_pretty(&state.keys().jwks())?);
            Ok(())
        }
        Command::Token(args) => {
            let state = args.instance.builder().state_for(args.instance.addr)?;
            if let Some(kind) = args.machine {
                if args.broken.is_some() {
                    return Err("--broken applies to session tokens, not --machine".into());
                }
                let sub = (args.sub != "user_mock").then_some(args.sub.as_str());
                let claims = args.claims.into_iter().collect::<Map<_, _>>();
                let issuer = state.instance().issuer();
                let jwt = mock_clerk::machines::cli_machine_jwt(state.keys().active(), &issuer, kind, sub, &args.scopes, claims, args.ttl)?;
                println!("{jwt}");
                if args.decode {
                    let decoded = mock_clerk::tokens::decode_unverified(&jwt)?;
                    println!("{}", serde_json::to_string_pretty(&serde_json::json!({"header": decoded.header, "claims": decoded.claims}))?);
                }
                return Ok(());
            }
            let mut claims = mock_clerk::control::org_ops::ClaimArgs {
                org: args.org.map(|slug| (args.org_id, slug)),
                role: args.role,
                permissions: args.permissions,
                features: args.features,
                plans: args.plans,
                actor: args.actor,
            }
            .claims();
            claims.extend(args.claims);
            let minted = ops::mint(
                &state,
                MintRequest {
                    sub: Some(args.sub),
                    sid: Some(args.sid),
                    ttl_seconds: Some(args.ttl),
                    claims,
                    broken: args.broken,
                    ..MintRequest::default()
                },
            );
            println!("{}", minted.jwt);
            if args.decode {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"header": minted.header, "claims": minted.claims}))?);
            }
            Ok(())
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        // The key file is read and checked (every key parsed, RSA-2048, consistent) before the port is bound: a
        // bad key file stops the start with its error, nothing printed on stdout and nothing served.
        let keys = args.instance.key_source().load()?;
        // So is the seed file: an error names its file, line and field.
        let seed = args.seed.as_deref().map(mock_clerk::Seed::load).transpose()?;
        let mut builder = args.instance.builder().key(KeySource::Ring(keys)).token_lifetime(Duration::from_secs(args.token_ttl));
        if let Some(token) = &args.control_token {
            builder = builder.control_token(token.clone());
        }
        if let Some(path) = &args.state_file {
            builder = builder.state_file(path.clone());
        }
        if let Some(seed) = &seed {
            builder = builder.seed(seed.clone());
        }
        for url in &args.webhook_urls {
            builder = builder.webhook_url(url.clone());
        }
        for provider in &args.oauth_providers {
            builder = builder.oauth_provider(provider.clone());
        }
        builder = builder.webhook_retry_scale(args.webhook_retry_scale).webhook_timeout(Duration::from_secs(args.webhook_timeout));
        let listener = tokio::net::TcpListener::bind(args.instance.addr).await?;
        let addr = listener.local_addr()?;
        let state = builder.state_for(addr)?;
        state.webhooks().start();
        state.set_handshake_format(args.handshake_format);
        if let Some(dir) = &args.bundle_dir {
            state.fapi().set_bundle_dir(dir.clone());
        }
        state.fapi().set_sign_in_url(args.sign_in_url.clone());
        println!("clerk-js and Clerk's UI served from {}", state.fapi().bundle_dir().display());
        let base = format!("http://{addr}");
        let tls = if args.tls {
            let host = addr.ip().to_string();
            let identity = mock_clerk::tls::TlsIdentity::self_signed(&host)?;
            if let Some(dir) = args.tls_cert_out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&args.tls_cert_out, identity.cert_pem())?;
            Some(identity)
        } else {
            None
        };
        println!("mock-clerk listening on {base} ({:?} instance, kid {})", state.instance().kind(), state.keys().active().kid());
        let providers = state.fapi().oauth_providers();
        if !providers.is_empty() {
            println!("social sign-in: {} (consent page served by mock-clerk, offline)", providers.join(", "));
        }
        if let Some(path) = &args.state_file {
            println!("state file: {} (users and sessions survive restarts)", path.display());
        }
        if let (Some(path), Some(seed)) = (&args.seed, &seed) {
            println!("seed: {} from {}", seed.summary(), path.display());
        }
        for endpoint in state.webhooks().endpoints() {
            println!("webhooks: every event to {} ({})", endpoint.url, endpoint.id);
        }
        if tls.is_some() {
            println!("TLS on the same port: https://{addr} (certificate: {})", args.tls_cert_out.display());
        }
        println!("# .env.local for your app:");
        print!("{}", mock_clerk::env::env_file(state.instance(), &base, tls.is_none()));
        use std::io::Write;
        std::io::stdout().flush()?;
        // Off the start-up path: the first token does not pay for seeding aws-lc's RNG (see `SigningKey::warm_up`).
        let active = state.keys().active().clone();
        std::thread::spawn(move || active.warm_up());
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        // A thread per core, as nginx: see `mock_clerk::serving`.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        mock_clerk::serving::serve_on_threads(listener, state, tls.as_ref(), threads, shutdown).await?;
        Ok(())
    })
}
