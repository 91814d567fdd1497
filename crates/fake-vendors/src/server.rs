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
use crate::state::{AccountControl, AccountInfo, AccountSeed, Shared};
use crate::{DeepSeekBalance, FakeVendor, GeekAiBalance, presets};

/// The default window for EIOTClub timestamps: requests more than 300 s from now are rejected.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(300);

/// Entry point: `FakeVendors::builder()`, `FakeVendors::demo()`, `FakeVendors::bulk(n)`.
#[derive(Debug, Clone, Copy)]
pub struct FakeVendors;

impl FakeVendors {
    /// An empty server: add accounts, then [`start`](FakeVendorsBuilder::start).
    pub fn builder() -> FakeVendorsBuilder {
        FakeVendorsBuilder::default()
    }

    /// The demo preset (see [`presets::demo`]).
    pub fn demo() -> FakeVendorsBuilder {
        presets::demo()
    }

    /// `n` working accounts spread over the three vendors (see [`presets::bulk`]).
    pub fn bulk(n: usize) -> FakeVendorsBuilder {
        presets::bulk(n)
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
    /// A DeepSeek account answering `balance` for `Authorization: Bearer <key>`.
    /// Named `deepseek-<n>`; use [`account`](Self::account) to choose the name.
    #[must_use]
    pub fn deepseek_account(self, key: impl Into<String>, balance: DeepSeekBalance) -> Self {
        let name = self.default_name(FakeVendor::DeepSeek);
        self.account(AccountSeed::deepseek(name, key, balance))
    }

    /// A GeekAI account answering `{"balance":<coins>}` (coins written verbatim) for
    /// `Authorization: Bearer <key>`. Pass a [`GeekAiBalance`] for the wrapped shape.
    #[must_use]
    pub fn geekai_account(self, key: impl Into<String>, coins: impl Into<GeekAiBalance>) -> Self {
        let name = self.default_name(FakeVendor::GeekAi);
        self.account(AccountSeed::geekai(name, key, coins))
    }

    /// An EIOTClub account: requests signed with `secret` for `appkey` get `balance` in
    /// `currency`.
    #[must_use]
    pub fn eiotclub_account(
        self,
        appkey: impl Into<String>,
        secret: impl Into<String>,
        balance: impl Into<String>,
        currency: impl Into<String>,
    ) -> Self {
        let name = self.default_name(FakeVendor::Eiotclub);
        self.account(AccountSeed::eiotclub(
            name, appkey, secret, balance, currency,
        ))
    }

    /// Any account, with a name, a steady fault, latency and a note. A later seed with the same
    /// vendor and credential replaces an earlier one.
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

    /// How far an EIOTClub `timestamp` may be from now (default [`DEFAULT_MAX_SKEW`], 300 s).
    #[must_use]
    pub fn eiotclub_max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = max_skew;
        self
    }

    /// The seeds added so far.
    pub fn seeds(&self) -> &[AccountSeed] {
        &self.seeds
    }

    fn default_name(&self, vendor: FakeVendor) -> String {
        let n = self.seeds.iter().filter(|s| s.vendor() == vendor).count() + 1;
        format!("{vendor}-{n}")
    }

    /// Bind `127.0.0.1:<port>` and serve in the background on the current tokio runtime until
    /// the handle is dropped or [`shut down`](FakeVendorsHandle::shutdown).
    ///
    /// # Errors
    ///
    /// If the port cannot be bound.
    pub async fn start(self) -> std::io::Result<FakeVendorsHandle> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(self.latency, self.max_skew));
        for seed in self.seeds {
            shared.insert(seed);
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            listener,
            router(Arc::clone(&shared)),
            shutdown_rx,
        ));
        info!(%addr, "fake vendors listening");
        Ok(FakeVendorsHandle {
            addr,
            urls: FakeVendor::ALL.map(|v| format!("http://{addr}{}", v.path_prefix())),
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
    addr: SocketAddr,
    urls: [String; 3],
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for FakeVendorsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeVendorsHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeVendorsHandle {
    /// The listening address (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give `vendor`'s client, without a trailing slash:
    /// `http://127.0.0.1:PORT/deepseek`, `…/geekai/api`, `…/eiotclub`.
    pub fn base_url(&self, vendor: FakeVendor) -> &str {
        &self.urls[vendor.index()]
    }

    /// `http://127.0.0.1:PORT/deepseek`.
    pub fn deepseek_url(&self) -> &str {
        self.base_url(FakeVendor::DeepSeek)
    }

    /// `http://127.0.0.1:PORT/geekai/api`.
    pub fn geekai_url(&self) -> &str {
        self.base_url(FakeVendor::GeekAi)
    }

    /// `http://127.0.0.1:PORT/eiotclub`.
    pub fn eiotclub_url(&self) -> &str {
        self.base_url(FakeVendor::Eiotclub)
    }

    /// The full URL of `vendor`'s balance endpoint (base URL + documented path).
    pub fn balance_url(&self, vendor: FakeVendor) -> String {
        format!("{}{}", self.base_url(vendor), vendor.balance_path())
    }

    /// Every seeded account, in seeding order, with its base URL.
    pub fn accounts(&self) -> Vec<AccountInfo> {
        self.shared.infos(|v| self.base_url(v).to_owned())
    }

    /// The seeded account called `name`, if any.
    pub fn account_info(&self, name: &str) -> Option<AccountInfo> {
        self.accounts().into_iter().find(|a| a.name == name)
    }

    /// Control of the account with this credential (key or appkey), if it exists.
    pub fn account(&self, vendor: FakeVendor, credential: &str) -> Option<AccountControl> {
        self.shared
            .lookup(vendor, credential)
            .map(|account| AccountControl { account })
    }

    /// Control of the DeepSeek account with this key.
    ///
    /// # Panics
    ///
    /// If there is no such account (a mistake in the test).
    pub fn deepseek(&self, key: &str) -> AccountControl {
        self.expect_account(FakeVendor::DeepSeek, key)
    }

    /// Control of the GeekAI account with this key.
    ///
    /// # Panics
    ///
    /// If there is no such account.
    pub fn geekai(&self, key: &str) -> AccountControl {
        self.expect_account(FakeVendor::GeekAi, key)
    }

    /// Control of the EIOTClub account with this appkey.
    ///
    /// # Panics
    ///
    /// If there is no such account.
    pub fn eiotclub(&self, appkey: &str) -> AccountControl {
        self.expect_account(FakeVendor::Eiotclub, appkey)
    }

    fn expect_account(&self, vendor: FakeVendor, credential: &str) -> AccountControl {
        match self.account(vendor, credential) {
            Some(control) => control,
            None => panic!("fake-vendors: no {vendor} account with that credential was seeded"),
        }
    }

    /// Add (or replace) an account while the server runs.
    pub fn add_account(&self, seed: AccountSeed) -> AccountControl {
        AccountControl {
            account: self.shared.insert(seed),
        }
    }

    /// Every request that reached `vendor`'s route, including unknown credentials and
    /// malformed requests.
    pub fn requests(&self, vendor: FakeVendor) -> u64 {
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

    /// How far an EIOTClub `timestamp` may be from now.
    pub fn set_eiotclub_max_skew(&self, max_skew: Duration) {
        self.shared.set_max_skew(max_skew);
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
