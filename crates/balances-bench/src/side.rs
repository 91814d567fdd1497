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

/// One account of the config as a bare client sees it.
#[derive(Debug, Deserialize)]
struct BareAccount {
    vendor: String,
    base_url: String,
    api_key: Option<String>,
    appkey: Option<String>,
    secret: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BareConfig {
    accounts: Vec<BareAccount>,
}

async fn bare(config: &str, concurrency: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let accounts = toml::from_str::<BareConfig>(config)?.accounts;
    let client = reqwest::Client::new();
    let used_nonces = std::sync::Mutex::new(std::collections::HashSet::new());
    warm_then_timed("bare", || async {
        // Kept, as `fetch_all` keeps its results, so both sides hold the same work.
        let results: Vec<_> = futures::stream::iter(&accounts)
            .map(|account| bare_fetch(&client, account, &used_nonces))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        results.iter().filter(|r| r.is_err()).count()
    })
    .await
}

/// What a careful bare client does per request: the balance operation's method and path, a
/// bearer key or, for an appkey account, a signed body that never reuses an (appkey,
/// timestamp, nonce) triple, as the facade guarantees.
async fn bare_fetch(
    client: &reqwest::Client,
    account: &BareAccount,
    used_nonces: &std::sync::Mutex<std::collections::HashSet<(String, i64, u32)>>,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    // Where a hand-written client would send it: the vendor's balance operation.
    let entry = balances::balances_registry::find(&account.vendor)
        .ok_or_else(|| format!("no vendor {} in the registry", account.vendor))?;
    let request = client.request(
        reqwest::Method::from_bytes(entry.method.as_bytes())?,
        format!("{}{}", account.base_url, entry.path),
    );
    let request = if account.appkey.is_none() {
        request.bearer_auth(account.api_key.as_deref().unwrap_or_default())
    } else {
        let appkey = account.appkey.as_deref().unwrap_or_default();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as i64;
        let nonce = loop {
            let nonce = rand::random_range(10_000..=99_999);
            let fresh = used_nonces
                .lock()
                .map_err(|_| "nonce set poisoned")?
                .insert((appkey.to_owned(), timestamp, nonce));
            if fresh {
                break nonce;
            }
        };
        let body = fake_vendors::sign::signed_body(
            appkey,
            account.secret.as_deref().unwrap_or_default(),
            timestamp,
            nonce,
            &serde_json::Map::new(),
        );
        request.json(&body)
    };
    let bytes = request.send().await?.error_for_status()?.bytes().await?;
    Ok(serde_json::from_slice(&bytes)?)
}
