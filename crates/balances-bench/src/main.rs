//! Benchmarks of the facade and the command against the fake vendors on loopback, each
//! measured against a baseline in the same run. Prints one JSON array of rows
//! (`{"name", "value", "baseline", "ratio", "unit"}`) on stdout; `cargo xtask bench` builds
//! this in release, adds its own rows, prints the table and writes `target/bench/report.json`.

#![forbid(unsafe_code)]

mod exporter;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use balances::{Account, BalanceClient, Config};
use fake_vendors::{AccountInfo, AccountSeed, DeepSeekBalance, FakeVendor, FakeVendors};
use futures::StreamExt;
use serde::Serialize;

/// One result: `value` (ours) against `baseline` (the bare alternative), lower is better.
#[derive(Debug, Serialize)]
pub(crate) struct Row {
    name: &'static str,
    value: f64,
    baseline: f64,
    ratio: f64,
    unit: &'static str,
}

impl Row {
    pub(crate) fn new(name: &'static str, value: f64, baseline: f64, unit: &'static str) -> Self {
        let ratio = if baseline > 0.0 {
            value / baseline
        } else {
            f64::NAN
        };
        Self {
            name,
            value,
            baseline,
            ratio,
            unit,
        }
    }
}

const FAN_OUT_ACCOUNTS: usize = 1_000;
const FAN_OUT_CONCURRENCY: usize = 64;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let balances_bin = std::env::args().nth(1).map(PathBuf::from);
    let mut rows = Vec::new();
    rows.push(call_overhead().await?);
    rows.extend(fan_out().await?);
    if let Some(bin) = balances_bin {
        rows.push(command_start(&bin).await?);
        rows.extend(exporter::rows(&bin).await?);
    }
    println!("{}", serde_json::to_string_pretty(&rows)?);
    Ok(())
}

fn accounts_of(infos: &[AccountInfo]) -> Result<Vec<Account>, balances::ConfigError> {
    Ok(Config::from_toml_str(&fake_vendors::config_toml(infos), |_| None)?.into_accounts())
}

/// A server with one DeepSeek account, `bench`, whose key is `sk-bench`.
async fn one_deepseek_account() -> std::io::Result<fake_vendors::FakeVendorsHandle> {
    FakeVendors::builder()
        .account(AccountSeed::deepseek(
            "bench",
            "sk-bench",
            DeepSeekBalance::cny("110.00", "10.00", "100.00"),
        ))
        .start()
        .await
}

pub(crate) fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// One DeepSeek balance call through the facade vs the same request with a bare
/// `reqwest::Client` (one pooled connection each, body parsed as JSON), median per call.
async fn call_overhead() -> Result<Row, Box<dyn std::error::Error>> {
    let server = one_deepseek_account().await?;
    let accounts = accounts_of(&server.accounts())?;
    let account = &accounts[0];
    let facade = BalanceClient::builder().build()?;
    let bare = reqwest::Client::new();
    let url = format!("{}/user/balance", server.deepseek_url());
    let bare_call = || async {
        let response = bare
            .get(&url)
            .header(reqwest::header::AUTHORIZATION, "Bearer sk-bench")
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?;
        let bytes = response.bytes().await?;
        Ok::<_, Box<dyn std::error::Error>>(serde_json::from_slice::<serde_json::Value>(&bytes)?)
    };
    for _ in 0..300 {
        facade.fetch(account).await?;
        bare_call().await?;
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    // Interleaved blocks, so drift in machine load hits both sides alike.
    for _ in 0..40 {
        for _ in 0..50 {
            let started = Instant::now();
            facade.fetch(account).await?;
            ours.push(started.elapsed());
        }
        for _ in 0..50 {
            let started = Instant::now();
            bare_call().await?;
            theirs.push(started.elapsed());
        }
    }
    Ok(Row::new(
        "call overhead (median per call)",
        micros(median(&mut ours)),
        micros(median(&mut theirs)),
        "µs",
    ))
}

/// 1,000 accounts over the three vendors at concurrency 64: `fetch_all` vs a bare reqwest
/// loop with the same bound (signing EIOTClub bodies too). Median wall time of 9 rounds each,
/// and the peak resident memory of each side (the fake server runs in this process too).
async fn fan_out() -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    // Each side gets its own accounts (the same vendor mix: 1,002 is a multiple of 3), so the
    // two never sign for the same EIOTClub appkey in the same second, which the vendor (and
    // the fake) would reject as a replay if the random nonces happened to match.
    const SECOND_HALF: usize = FAN_OUT_ACCOUNTS + 2;
    let server = FakeVendors::bulk(SECOND_HALF + FAN_OUT_ACCOUNTS)
        .start()
        .await?;
    let all = server.accounts();
    let accounts = accounts_of(&all[..FAN_OUT_ACCOUNTS])?;
    let infos = &all[SECOND_HALF..];
    let used_nonces = std::sync::Mutex::new(std::collections::HashSet::new());
    let facade = BalanceClient::builder()
        .concurrency(FAN_OUT_CONCURRENCY)
        .build()?;
    let bare = reqwest::Client::new();

    let run_facade = || async {
        let results = facade.fetch_all(&accounts).await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        if failed > 0 {
            return Err(format!("{failed} facade fetches failed").into());
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    };
    let run_bare = || async {
        let results: Vec<Result<serde_json::Value, Box<dyn std::error::Error>>> =
            futures::stream::iter(infos)
                .map(|info| bare_fetch(&bare, info, &used_nonces))
                .buffer_unordered(FAN_OUT_CONCURRENCY)
                .collect()
                .await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        if failed > 0 {
            return Err(format!("{failed} bare fetches failed").into());
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    };
    run_facade().await?;
    run_bare().await?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut our_peak, mut their_peak) = (0_u64, 0_u64);
    for _ in 0..9 {
        reset_peak_rss();
        let started = Instant::now();
        run_facade().await?;
        ours.push(started.elapsed());
        our_peak = our_peak.max(peak_rss_kib());

        reset_peak_rss();
        let started = Instant::now();
        run_bare().await?;
        theirs.push(started.elapsed());
        their_peak = their_peak.max(peak_rss_kib());
    }
    let millis = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(vec![
        Row::new(
            "fan-out 1000 accounts, concurrency 64 (median wall)",
            millis(median(&mut ours)),
            millis(median(&mut theirs)),
            "ms",
        ),
        Row::new(
            "fan-out peak RSS (whole process, server included)",
            our_peak as f64 / 1024.0,
            their_peak as f64 / 1024.0,
            "MiB",
        ),
    ])
}

/// What a careful bare client does per request; for EIOTClub that includes never reusing an
/// (appkey, timestamp, nonce) triple, as the facade guarantees.
async fn bare_fetch(
    client: &reqwest::Client,
    info: &AccountInfo,
    used_nonces: &std::sync::Mutex<std::collections::HashSet<(String, i64, u32)>>,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let request = match info.vendor {
        FakeVendor::DeepSeek => client.get(format!("{}/user/balance", info.base_url)),
        FakeVendor::GeekAi => client.get(format!("{}/credit/balance", info.base_url)),
        FakeVendor::Eiotclub => {
            let timestamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs() as i64;
            let nonce = loop {
                let nonce = rand::random_range(10_000..=99_999);
                let fresh = used_nonces
                    .lock()
                    .map_err(|_| "nonce set poisoned")?
                    .insert((info.credential.clone(), timestamp, nonce));
                if fresh {
                    break nonce;
                }
            };
            let secret = info.secret.as_deref().unwrap_or_default();
            let body = fake_vendors::sign::signed_body(
                &info.credential,
                secret,
                timestamp,
                nonce,
                &serde_json::Map::new(),
            );
            client
                .post(format!("{}/api/v3/agent/balance", info.base_url))
                .json(&body)
        }
    };
    let request = match info.vendor {
        FakeVendor::Eiotclub => request,
        _ => request.bearer_auth(&info.credential),
    };
    let bytes = request.send().await?.error_for_status()?.bytes().await?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// `balances --format json` for one account vs `curl` for the same request: median wall time
/// of 20 runs each, interleaved.
async fn command_start(balances_bin: &std::path::Path) -> Result<Row, Box<dyn std::error::Error>> {
    let server = one_deepseek_account().await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(&config, fake_vendors::config_toml(&server.accounts()))?;
    set_private(&config)?;
    let url = format!("{}/user/balance", server.deepseek_url());
    let mut ours_command = Command::new(balances_bin);
    ours_command
        .arg("--config")
        .arg(&config)
        .args(["--format", "json"]);
    let mut curl_command = Command::new("curl");
    curl_command.args([
        "-sS",
        "-f",
        "-H",
        "Authorization: Bearer sk-bench",
        "-H",
        "Accept: application/json",
        &url,
    ]);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..22 {
        let our_time = time_command(&mut ours_command).await?;
        let their_time = time_command(&mut curl_command).await?;
        // The first two rounds warm the page cache.
        if round >= 2 {
            ours.push(our_time);
            theirs.push(their_time);
        }
    }
    Ok(Row::new(
        "command start (balances --format json vs curl)",
        micros(median(&mut ours)) / 1e3,
        micros(median(&mut theirs)) / 1e3,
        "ms",
    ))
}

async fn time_command(command: &mut Command) -> Result<Duration, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let output = tokio::task::block_in_place(|| command.output())?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(elapsed)
}

#[cfg(unix)]
pub(crate) fn set_private(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
pub(crate) fn set_private(_: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}

/// Linux: writing 5 to clear_refs resets the peak RSS counter (VmHWM) of this process.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Linux: VmHWM, the peak resident set size, in KiB (0 where unavailable).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
