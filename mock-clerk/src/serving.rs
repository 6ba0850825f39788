//! Connections: accepted, told TLS from plain HTTP by their first byte (with `--tls`), served over HTTP/1.1 by
//! hyper with the application (`server::app`'s service, without the router around it), and shut down gracefully
//! (a request under way is answered, idle keep-alive connections are closed).
//!
//! Two ways to run it: [`serve`] on the caller's runtime (the library's `MockClerk`, inside a test's runtime), and
//! [`serve_on_threads`], as nginx serves: one thread per core, each with its own single-threaded runtime, so that a
//! connection lives on one thread (no wake-ups across threads, no work stealing); one task accepts and hands each
//! connection to the thread with the fewest open connections, so that a burst of new connections is spread evenly
//! (threads accepting from a shared socket would let the first one awake take them all).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tower::Service;

use crate::server::Front;
use crate::state::AppState;
use crate::tls::TlsIdentity;

/// The first byte of a TLS ClientHello record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// How long a client may take to send its first byte and finish the TLS handshake (with `--tls`).
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait before accepting again after an accept failed (out of file descriptors, say).
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// What serves a connection: the application and, with `--tls`, the TLS acceptor.
#[derive(Clone)]
struct Connections {
    app: Front,
    tls: Option<TlsAcceptor>,
}

impl Connections {
    fn new(state: AppState, tls: Option<&TlsIdentity>) -> Self {
        Self { app: Front::new(state), tls: tls.map(|identity| identity.acceptor().clone()) }
    }

    /// Serves one connection until it closes, or until shutdown once its request under way is answered.
    async fn serve(self, stream: TcpStream, peer: SocketAddr, watcher: Watcher) {
        // One write per answer already (head and body together): nothing to gain from Nagle's delay.
        let _ = stream.set_nodelay(true);
        let Self { app, tls } = self;
        let Some(acceptor) = tls else {
            return serve_io(stream, peer, app, watcher).await;
        };
        match sniff(stream, acceptor).await {
            Ok(Sniffed::Tls(tls)) => serve_io(tls, peer, app, watcher).await,
            Ok(Sniffed::Plain(plain)) => serve_io(plain, peer, app, watcher).await,
            Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        }
    }
}

/// A connection after its first byte was seen.
enum Sniffed {
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    Plain(TcpStream),
}

/// Waits for the connection's first byte (as long as it takes: a browser may open a connection well before its
/// first request), then makes the TLS handshake (within [`TLS_HANDSHAKE_TIMEOUT`]) if it starts one.
async fn sniff(stream: TcpStream, acceptor: TlsAcceptor) -> std::io::Result<Sniffed> {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 1 && first[0] == TLS_HANDSHAKE_RECORD {
        let tls = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no TLS handshake in time"))??;
        Ok(Sniffed::Tls(Box::new(tls)))
    } else {
        Ok(Sniffed::Plain(stream))
    }
}

/// HTTP/1.1 on `io`, each request with the peer's address (`ConnectInfo`, for the control API's loopback check).
async fn serve_io<I: AsyncRead + AsyncWrite + Unpin + Send + 'static>(io: I, peer: SocketAddr, app: Front, watcher: Watcher) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().call(req.map(Body::new))
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Serves on the caller's runtime until `shutdown` resolves, then lets the connections finish.
pub async fn serve(listener: TcpListener, state: AppState, tls: Option<&TlsIdentity>, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let connections = Connections::new(state, tls);
    let graceful = GracefulShutdown::new();
    accept_until(&listener, shutdown, |stream, peer| {
        tokio::spawn(connections.clone().serve(stream, peer, graceful.watcher()));
    })
    .await;
    graceful.shutdown().await;
    Ok(())
}

/// Accepts connections and gives each to `take` until `shutdown` resolves.
async fn accept_until(listener: &TcpListener, shutdown: impl Future<Output = ()>, mut take: impl FnMut(TcpStream, SocketAddr)) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => take(stream, peer),
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                }
            },
            () = &mut shutdown => return,
        }
    }
}

/// One serving thread: where to send it connections, and how many it has open.
struct Worker {
    connections: mpsc::UnboundedSender<(std::net::TcpStream, SocketAddr)>,
    open: Arc<AtomicUsize>,
    thread: std::thread::JoinHandle<()>,
}

impl Worker {
    fn spawn(index: usize, serving: Connections) -> std::io::Result<Self> {
        let (connections, mut handed) = mpsc::unbounded_channel::<(std::net::TcpStream, SocketAddr)>();
        let open = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let count = open.clone();
        let thread = std::thread::Builder::new().name(format!("mock-clerk-http-{index}")).spawn(move || {
            runtime.block_on(async move {
                let graceful = GracefulShutdown::new();
                // Until the acceptor is gone (shutdown).
                while let Some((stream, peer)) = handed.recv().await {
                    let Ok(stream) = TcpStream::from_std(stream) else {
                        count.fetch_sub(1, Ordering::Relaxed);
                        continue;
                    };
                    let (serving, watcher, count) = (serving.clone(), graceful.watcher(), count.clone());
                    tokio::spawn(async move {
                        serving.serve(stream, peer, watcher).await;
                        count.fetch_sub(1, Ordering::Relaxed);
                    });
                }
                graceful.shutdown().await;
            });
        })?;
        Ok(Self { connections, open, thread })
    }
}

/// Serves on `threads` threads (see the module's documentation) until `shutdown` resolves, then lets every
/// connection finish and the threads end.
pub async fn serve_on_threads(
    listener: TcpListener,
    state: AppState,
    tls: Option<&TlsIdentity>,
    threads: usize,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let serving = Connections::new(state, tls);
    let workers = (0..threads.max(1)).map(|i| Worker::spawn(i, serving.clone())).collect::<std::io::Result<Vec<_>>>()?;
    accept_until(&listener, shutdown, |stream, peer| {
        let Some(worker) = workers.iter().min_by_key(|w| w.open.load(Ordering::Relaxed)) else { return };
        let Ok(stream) = stream.into_std() else { return };
        worker.open.fetch_add(1, Ordering::Relaxed);
        if worker.connections.send((stream, peer)).is_err() {
            worker.open.fetch_sub(1, Ordering::Relaxed);
        }
    })
    .await;
    let threads: Vec<_> = workers.into_iter().map(|Worker { thread, .. }| thread).collect();
    tokio::task::spawn_blocking(move || {
        for thread in threads {
            let _ = thread.join();
        }
    })
    .await
    .map_err(std::io::Error::other)
}
