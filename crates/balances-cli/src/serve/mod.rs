//! `balances serve`: a Prometheus exporter. A background loop refreshes every account every
//! interval; `/metrics`, `/balances` and `/healthz` answer from what the loop last saw.

mod http;
mod page;
mod recorder;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use balances::{Account, BalanceClient};
use futures::StreamExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::fetch::fetch_timed;
use crate::history::History;
use recorder::{Recorder, Refreshed};
use state::Exporter;

/// Refreshes start at the interval times a random factor in this range, so that exporters
/// started together (a fleet restart) drift apart instead of calling a vendor in lockstep.
const JITTER: std::ops::RangeInclusive<f64> = 0.9..=1.1;

/// Where the accounts come from, again on every SIGHUP.
pub type Loader = Box<dyn Fn() -> Result<Vec<Account>, String> + Send>;

/// How the exporter runs.
#[derive(Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub interval: Duration,
    /// Where refreshes are recorded; `None` when history is off.
    pub history: Option<History>,
}

/// Runs the exporter until SIGTERM or SIGINT. Errors are startup failures (the address is
/// taken, no signal handler), for the caller to report.
pub async fn run(
    settings: Settings,
    client: BalanceClient,
    accounts: Vec<Account>,
    reload: Loader,
) -> Result<(), String> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let mut signals = Signals::new()?;
    eprintln!(
        "balances: serving {} accounts on http://{address}/metrics, refreshing every {:?}",
        accounts.len(),
        settings.interval
    );

    let recorder = settings.history.map(Recorder::new);
    let exporter = Arc::new(Exporter::new(
        accounts,
        recorder.is_some(),
        settings.interval,
    ));
    let (stop, stopped) = watch::channel(false);
    let server = tokio::spawn(http::serve(listener, exporter.clone(), stopped));

    loop {
        let accounts = exporter.accounts();
        // A refresh is dropped mid-way by a reload or a stop: what it recorded so far stays.
        tokio::select! {
            () = refresh(&client, &exporter, &accounts, recorder.as_ref()) => {}
            signal = signals.next() => match signal {
                Signal::Reload => { reload_config(&exporter, &reload); continue; }
                Signal::Stop => break,
            },
        }
        let wait = settings.interval.mul_f64(rand::random_range(JITTER));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            signal = signals.next() => match signal {
                Signal::Reload => reload_config(&exporter, &reload),
                Signal::Stop => break,
            },
        }
    }
    eprintln!("balances: stopping");
    let _ = stop.send(true);
    // Connections close at once; a scrape in flight may be cut, which Prometheus retries.
    let _ = tokio::time::timeout(Duration::from_millis(500), server).await;
    Ok(())
}

async fn refresh(
    client: &BalanceClient,
    exporter: &Exporter,
    accounts: &[Account],
    recorder: Option<&Arc<Recorder>>,
) {
    let mut refreshed = Vec::new();
    let mut fetches = fetch_timed(client, accounts);
    while let Some(fetched) = fetches.next().await {
        match &fetched.result {
            // `Error`'s Display escapes control characters and never carries a credential.
            Err(error) => tracing::warn!(%error, "refresh failed; keeping the last balance"),
            Ok(balance) if recorder.is_some() => refreshed.push(Refreshed {
                index: fetched.index,
                finished_at: fetched.finished_at,
                balance: balance.clone(),
                threshold: accounts
                    .get(fetched.index)
                    .and_then(|a| a.alert_below().cloned()),
            }),
            Ok(_) => {}
        }
        exporter.record(fetched);
    }
    if let Some(recorder) = recorder {
        // SQLite blocks: off the async threads. Scrapes go on meanwhile.
        let recorder = recorder.clone();
        let recording = tokio::task::spawn_blocking(move || {
            recorder.record(&refreshed, std::time::SystemTime::now())
        })
        .await
        .unwrap_or(recorder::Recording::Failed);
        exporter.recorded(recording);
    }
}

fn reload_config(exporter: &Exporter, reload: &Loader) {
    match reload() {
        Ok(accounts) => {
            eprintln!("balances: reloaded the config: {} accounts", accounts.len());
            exporter.replace_accounts(accounts);
        }
        Err(error) => {
            eprintln!("balances: the new config is not used, the previous one stays: {error}");
            exporter.reload_failed();
        }
    }
}

enum Signal {
    Reload,
    Stop,
}

/// SIGHUP reloads; SIGTERM and SIGINT stop.
struct Signals {
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let handler = |kind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
            Ok(Self {
                hangup: handler(SignalKind::hangup())?,
                terminate: handler(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.hangup.recv() => Signal::Reload,
                _ = self.terminate.recv() => Signal::Stop,
                _ = tokio::signal::ctrl_c() => Signal::Stop,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Stop
        }
    }
}
