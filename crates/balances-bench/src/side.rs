//! One side of a fan-out comparison in a process of its own, so that its peak memory and
//! CPU time are its own: `balances-bench side <facade|bare> <config.toml> <concurrency>`.
//! The child fetches every account of the config twice (a warm-up round that opens the
//! connections, then the timed round) and prints a [`SideReport`] as JSON.
//!
//! `BALANCES_BENCH_BALLAST_MIB=<n>` makes the facade side hold `n` MiB more: the self-test
//! that shows the peak-RSS row can move.

use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::bare::{BareTarget, Nonces};
use crate::measure::{Usage, own_usage};

/// What a side process reports.
#[derive(Debug, Serialize, Deserialize)]
pub struct SideReport {
    pub timed_round_ms: f64,
    pub usage: Usage,
}

/// Which client fetches.
#[derive(Debug, Clone, Copy)]
pub enum Side {
    Facade,
    Bare,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Facade => "facade",
            Side::Bare => "bare",
        }
    }
}

/// Runs one side in a child process and returns what it reports.
pub fn run_child(
    side: Side,
    config: &Path,
    concurrency: usize,
    ballast_mib: Option<usize>,
) -> Result<SideReport, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = std::process::Command::new(exe);
    command
        .arg("side")
        .arg(side.as_str())
        .arg(config)
        .arg(concurrency.to_string())
        .env_remove("BALANCES_BENCH_BALLAST_MIB");
    if let Some(mib) = ballast_mib {
        command.env("BALANCES_BENCH_BALLAST_MIB", mib.to_string());
    }
    let output = command.output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "the {} side failed: {}",
            side.as_str(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("no side report: {e}"))
}

/// The child's entry point.
pub async fn child_main(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [side, config, concurrency] = args else {
        return Err("usage: balances-bench side <facade|bare> <config.toml> <concurrency>".into());
    };
    let concurrency: usize = concurrency.parse()?;
    let text = std::fs::read_to_string(config)?;
    let ballast = match std::env::var("BALANCES_BENCH_BALLAST_MIB") {
        Ok(mib) if side == "facade" => touched(mib.parse::<usize>()? << 20),
        _ => Vec::new(),
    };
    let timed = match side.as_str() {
        "facade" => facade(&text, concurrency).await?,
        "bare" => bare(&text, concurrency).await?,
        other => return Err(format!("unknown side {other}").into()),
    };
    std::hint::black_box(&ballast);
    let report = SideReport {
        timed_round_ms: timed.as_secs_f64() * 1e3,
        usage: own_usage(),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// `bytes` of memory, every page written so it is resident.
fn touched(bytes: usize) -> Vec<u8> {
    let mut ballast = vec![0_u8; bytes];
    for page in ballast.chunks_mut(4096) {
        page[0] = 1;
    }
    ballast
}

async fn facade(config: &str, concurrency: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let accounts = balances::Config::from_toml_str(config, |_| None)?.into_accounts();
    let client = balances::BalanceClient::builder()
        .concurrency(concurrency)
        .build()?;
    warm_then_timed("facade", || async {
        client
            .fetch_all(&accounts)
            .await
            .iter()
            .filter(|r| r.is_err())
            .count()
    })
    .await
}

/// Runs `round` (which returns how many fetches failed) once to open the connections, then
/// once timed. Any failure is an error: a fast round that failed measures nothing.
async fn warm_then_timed<F, R>(side: &str, round: F) -> Result<Duration, Box<dyn std::error::Error>>
where
    F: Fn() -> R,
    R: std::future::Future<Output = usize>,
{
    let mut elapsed = Duration::ZERO;
    for timed in [false, true] {
        let started = Instant::now();
        let failed = round().await;
        if failed > 0 {
            return Err(format!("{failed} {side} fetches failed").into());
        }
        if timed {
            elapsed = started.elapsed();
        }
    }
    Ok(elapsed)
}

/// One account of the config as a bare client sees it: its vendor, base URL and every other
/// field (the credentials among them, under the names of the vendor's credential fields).
#[derive(Debug, Deserialize)]
struct BareAccount {
    vendor: String,
    base_url: String,
    #[serde(flatten)]
    fields: toml::Table,
}

#[derive(Debug, Deserialize)]
struct BareConfig {
    accounts: Vec<BareAccount>,
}

/// What a careful bare client does: each account's request built once from the registry
/// (the balance operation's method and path, the credentials where the vendor's auth scheme
/// puts them), then per request a signed body, for a signature-scheme account, that never
/// reuses an (appkey, timestamp, nonce) triple, as the facade guarantees.
async fn bare(config: &str, concurrency: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let targets = toml::from_str::<BareConfig>(config)?
        .accounts
        .iter()
        .map(|account| {
            BareTarget::new(&account.vendor, &account.base_url, |field| {
                account.fields.get(field)?.as_str().map(str::to_owned)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let client = reqwest::Client::new();
    let nonces = Nonces::default();
    warm_then_timed("bare", || async {
        // Kept, as `fetch_all` keeps its results, so both sides hold the same work.
        let results: Vec<_> = futures::stream::iter(&targets)
            .map(|target| bare_fetch(&client, target, &nonces))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        results.iter().filter(|r| r.is_err()).count()
    })
    .await
}

/// One request: sent, its status checked and its body parsed as JSON.
async fn bare_fetch(
    client: &reqwest::Client,
    target: &BareTarget,
    nonces: &Nonces,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let bytes = target
        .request(client, nonces)?
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(serde_json::from_slice(&bytes)?)
}
