//! The builder, the accept loop and the handle of a running server.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info};

use crate::handlers::{ConnectionControl, router};
use crate::seed::{AccountInfo, AccountSeed};
use crate::state::{AccountControl, Shared};
use crate::{FakeVendorsError, demo};

/// The default window for signature-scheme timestamps: requests more than 300 s from now are
/// rejected.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(300);

/// Entry point: `FakeVendors::builder()`, `FakeVendors::demo()`, `FakeVendors::bulk(n)`.
#[derive(Debug, Clone, Copy)]
pub struct FakeVendors;

impl FakeVendors {
    /// An empty server: add accounts, then [`start`](FakeVendorsBuilder::start).
    pub fn builder() -> FakeVendorsBuilder {
        FakeVendorsBuilder::default()
    }

    /// One account per registry vendor, each answering its default example (see
    /// [`demo::demo`](crate::demo::demo)).
    pub fn demo() -> FakeVendorsBuilder {
        demo::demo()
    }

    /// `n` working accounts spread over every registry vendor (see
    /// [`demo::bulk`](crate::demo::bulk)).
    pub fn bulk(n: usize) -> FakeVendorsBuilder {
        demo::bulk(n)
    }
}

/// Seeds accounts and settings, then starts the server on `127.0.0.1`.
#[derive(Debug, Clone)]
pub struct FakeVendorsBuilder {
    seeds: Vec<AccountSeed>,
    port: u16,
    latency: Duration,
    max_skew: Duration,
}

impl Default for FakeVendorsBuilder {
    fn default() -> Self {
        FakeVendorsBuilder {
            seeds: Vec::new(),
            port: 0,
            latency: Duration::ZERO,
            max_skew: DEFAULT_MAX_SKEW,
        }
    }
}

impl FakeVendorsBuilder {
    /// One account. A later seed with the same first credential replaces an earlier one,
    /// whatever its vendor.
    #[must_use]
    pub fn account(mut self, seed: AccountSeed) -> Self {
        self.seeds.push(seed);
        self
    }

    /// Several accounts.
    #[must_use]
    pub fn accounts(mut self, seeds: impl IntoIterator<Item = AccountSeed>) -> Self {
        self.seeds.extend(seeds);
        self
    }

    /// Listen on this port of 127.0.0.1 (default 0: any free port).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Latency added to every answer of every account (default none).
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// How far a signature-scheme `timestamp` may be from now (default
    /// [`DEFAULT_MAX_SKEW`], 300 s).
    #[must_use]
    pub fn max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = max_skew;
        self
    }

    /// The seeds added so far.
    pub fn seeds(&self) -> &[AccountSeed] {
        &self.seeds
    }

    /// Check every seed against the registry, bind `127.0.0.1:<port>` and serve in the
    /// background on the current tokio runtime until the handle is dropped or
    /// [`shut down`](FakeVendorsHandle::shutdown).
    ///
    /// # Errors
    ///
    /// The first seed naming an unknown vendor, region or example, or lacking a credential
    /// ([`FakeVendorsError`]); or [`FakeVendorsError::Io`] if the port cannot be bound.
    pub async fn start(self) -> Result<FakeVendorsHandle, FakeVendorsError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(addr, self.latency, self.max_skew));
        for seed in self.seeds {
            shared.insert(seed)?;
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            listener,
            router(Arc::clone(&shared)),
            shutdown_rx,
        ));
        info!(%addr, "fake vendors listening");
        Ok(FakeVendorsHandle {
            shared,
            shutdown,
            task: Some(task),
        })
    }
}

async fn accept_loop(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, router.clone(), shutdown.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    debug!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
    debug!("accept loop stopped");
}

/// Serve one keep-alive HTTP/1.1 connection until the client closes it, a handler asks for it
/// to be dropped ([`Fault::DropConnection`](crate::Fault::DropConnection)), or the server stops.
async fn serve_connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    // Small answers: do not let Nagle's algorithm hold them back.
    let _ = stream.set_nodelay(true);
    let control = ConnectionControl::default();
    let service = {
        let control = control.clone();
        let inner = TowerToHyperService::new(router);
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(control.clone());
            inner.call(req)
        })
    };
    let connection = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                debug!(%error, "connection ended with an error");
            }
        }
        () = control.aborted() => debug!("connection dropped on purpose"),
        _ = shutdown.changed() => {}
    }
}

/// A running server. Dropping it stops the server and closes its connections.
pub struct FakeVendorsHandle {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for FakeVendorsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeVendorsHandle")
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}

impl FakeVendorsHandle {
    /// The listening address (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The base URL to give the client of the vendor `vendor` (a registry id), without a
    /// trailing slash: `http://127.0.0.1:PORT/<vendor>`, or for a vendor with regions its
    /// default region's, `http://127.0.0.1:PORT/<vendor>/<region>`.
    ///
    /// # Errors
    ///
    /// [`FakeVendorsError::UnknownVendor`].
    pub fn base_url(&self, vendor: &str) -> Result<String, FakeVendorsError> {
        self.shared.checked_base_url(vendor, None)
    }

    /// The base URL of `vendor` in its region `region`: `http://127.0.0.1:PORT/<vendor>/<region>`.
    ///
    /// # Errors
    ///
    /// [`FakeVendorsError::UnknownVendor`] or [`FakeVendorsError::UnknownRegion`].
    pub fn region_base_url(&self, vendor: &str, region: &str) -> Result<String, FakeVendorsError> {
        self.shared.checked_base_url(vendor, Some(region))
    }

    /// The full URL of `vendor`'s balance operation in its default region: the base URL then
    /// the spec's path.
    ///
    /// # Errors
    ///
    /// [`FakeVendorsError::UnknownVendor`].
    pub fn balance_url(&self, vendor: &str) -> Result<String, FakeVendorsError> {
        let base = self.base_url(vendor)?;
        let path = crate::catalog::vendor(vendor)?.path.as_str();
        Ok(format!("{base}{path}"))
    }

    /// Every seeded account, in seeding order, with its base URL.
    pub fn accounts(&self) -> Vec<AccountInfo> {
        self.shared.infos()
    }

    /// The seeded account called `name`, if any.
    pub fn account_info(&self, name: &str) -> Option<AccountInfo> {
        self.accounts().into_iter().find(|a| a.name == name)
    }

    /// Control of the account whose first credential (the key, or the appkey) is `key`.
    ///
    /// # Panics
    ///
    /// If no account has that credential: a mistake in the test. Use
    /// [`find_account`](Self::find_account) to ask.
    pub fn account(&self, key: &str) -> AccountControl {
        match self.find_account(key) {
            Some(control) => control,
            None => panic!("fake-vendors: no account with that credential was seeded"),
        }
    }

    /// Control of the account whose first credential is `key`, if there is one.
    pub fn find_account(&self, key: &str) -> Option<AccountControl> {
        self.shared
            .find(key)
            .map(|account| AccountControl { account })
    }

    /// Add (or replace) an account while the server runs.
    ///
    /// # Errors
    ///
    /// As [`FakeVendorsBuilder::start`] for a seed; nothing is added then.
    pub fn add_account(&self, seed: AccountSeed) -> Result<AccountControl, FakeVendorsError> {
        Ok(AccountControl {
            account: self.shared.insert(seed)?,
        })
    }

    /// Every request that reached `vendor`'s routes with its method, including unknown
    /// credentials and malformed requests.
    ///
    /// # Errors
    ///
    /// [`FakeVendorsError::UnknownVendor`].
    pub fn requests(&self, vendor: &str) -> Result<u64, FakeVendorsError> {
        self.shared.total(vendor)
    }

    /// Reset every counter: per vendor and per account.
    pub fn reset_counters(&self) {
        self.shared.reset_counters();
    }

    /// Latency added to every answer of every account.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.set_latency(latency);
    }

    /// How far a signature-scheme `timestamp` may be from now.
    pub fn set_max_skew(&self, max_skew: Duration) {
        self.shared.set_max_skew(max_skew);
    }

    /// Moves the server's clock `seconds` ahead of the machine's (negative: behind) for the
    /// signature schemes' timestamp checks, so a client that signs with the machine's time
    /// looks as a client with a wrong clock does to the real vendor: its signatures are
    /// refused as stale (the cloud schemes beyond each vendor's window, the
    /// `eiotclub-signature` scheme beyond `max_skew`). 0 by default.
    pub fn set_clock_offset(&self, seconds: i64) {
        self.shared.set_clock_offset(seconds);
    }

    /// Stop accepting, close every connection, and wait for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeVendorsHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
