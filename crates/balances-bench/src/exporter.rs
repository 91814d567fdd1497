//! `balances serve` with 1,000 accounts: memory after an hour's worth of refreshes, CPU per
//! refresh, and `/metrics` latency. Linux only (`/proc`); elsewhere the rows are left out
//! with a message on stderr.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_vendors::FakeVendors;

use crate::{Row, median, set_private};

const ACCOUNTS: usize = 1_000;
/// An hour of refreshes at `--interval 60`; run back to back here.
const REFRESHES: u64 = 60;

type BenchError = Box<dyn std::error::Error>;

struct Exporter {
    child: Child,
    address: String,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(balances: &Path, config: &Path, interval: &str) -> Result<Exporter, BenchError> {
    let mut child = Command::new(balances)
        .arg("serve")
        .arg("--config")
        .arg(config)
        .args(["--listen", "127.0.0.1:0", "--interval", interval])
        .args(["--concurrency", "64"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .ok_or("balances serve exited before listening")??;
        if let Some(rest) = line.split("on http://").nth(1) {
            break rest.split('/').next().unwrap_or_default().to_owned();
        }
    };
    // Keep draining stderr so the exporter never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Exporter { child, address })
}

async fn get(
    client: &reqwest::Client,
    exporter: &Exporter,
    path: &str,
) -> Result<String, BenchError> {
    let url = format!("http://{}{path}", exporter.address);
    Ok(client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?)
}

/// Successful and failed fetches so far, summed over every account.
fn fetch_counts(metrics: &str) -> (u64, u64) {
    let mut counts = (0, 0);
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("balances_fetches_total{"))
    {
        let value: u64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if line.contains("result=\"success\"") {
            counts.0 += value;
        } else {
            counts.1 += value;
        }
    }
    counts
}

async fn wait_for_fetches(
    client: &reqwest::Client,
    exporter: &Exporter,
    at_least: u64,
) -> Result<(), BenchError> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (successes, failures) = fetch_counts(&get(client, exporter, "/metrics").await?);
        if failures > 0 {
            return Err(format!("{failures} exporter fetches failed").into());
        }
        if successes >= at_least {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("only {successes} of {at_least} fetches in 10 minutes").into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Field `n` (1-based, as `man proc` numbers them) of `/proc/<pid>/stat`, after the
/// parenthesised command name, which may contain spaces.
fn stat_field(stat: &str, n: usize) -> Option<u64> {
    let after_name = stat.rsplit_once(')')?.1;
    after_name.split_whitespace().nth(n - 3)?.parse().ok()
}

/// CPU time (user + system) of a process, and of its waited-for children.
fn cpu(pid: u32) -> Option<(Duration, Duration)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Clock ticks; 100 per second on every Linux this runs on (USER_HZ).
    let ticks = |a, b| {
        Some(Duration::from_millis(
            (stat_field(&stat, a)? + stat_field(&stat, b)?) * 10,
        ))
    };
    Some((ticks(14, 15)?, ticks(16, 17)?))
}

fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// CPU time of one `balances --format prometheus` run over the same accounts: the shell
/// waits for it, then reads its own children's CPU time.
fn one_shot_cpu(balances: &Path, config: &Path) -> Result<Duration, BenchError> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" --config "$1" --concurrency 64 --format prometheus >/dev/null; cat /proc/$$/stat"#)
        .arg(balances)
        .arg(config)
        .output()?;
    let stat = String::from_utf8(output.stdout)?;
    let children = stat_field(&stat, 16)
        .zip(stat_field(&stat, 17))
        .ok_or("no /proc stat")?;
    Ok(Duration::from_millis((children.0 + children.1) * 10))
}

pub async fn rows(balances: &Path) -> Result<Vec<Row>, BenchError> {
    if !Path::new("/proc/self/stat").exists() {
        eprintln!("exporter rows skipped: they read /proc, which this system does not have");
        return Ok(Vec::new());
    }
    let server = FakeVendors::bulk(ACCOUNTS).start().await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(&config, fake_vendors::config_toml(&server.accounts()))?;
    set_private(&config)?;
    let client = reqwest::Client::new();
    let accounts = ACCOUNTS as u64;

    // Memory and CPU: refresh back to back, compare after the first and after the last.
    let busy = start(balances, &config, "0.01")?;
    let pid = busy.child.id();
    wait_for_fetches(&client, &busy, accounts).await?;
    let (rss_first, (cpu_first, _)) = (rss_mib(pid).ok_or("no VmRSS")?, cpu(pid).ok_or("no stat")?);
    wait_for_fetches(&client, &busy, REFRESHES * accounts).await?;
    let (rss_last, (cpu_last, _)) = (rss_mib(pid).ok_or("no VmRSS")?, cpu(pid).ok_or("no stat")?);
    let (successes, _) = fetch_counts(&get(&client, &busy, "/metrics").await?);
    drop(busy);
    let refreshes_measured = (successes / accounts).saturating_sub(1).max(1) as u32;
    let cpu_per_refresh = (cpu_last.saturating_sub(cpu_first)) / refreshes_measured;
    let mut one_shot: Vec<Duration> = (0..3)
        .map(|_| one_shot_cpu(balances, &config))
        .collect::<Result<_, _>>()?;

    // Latency: an exporter that refreshed once and is idle, so scrapes are all it does.
    let idle = start(balances, &config, "86400")?;
    wait_for_fetches(&client, &idle, accounts).await?;
    let (mut metrics, mut health) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        let started = Instant::now();
        get(&client, &idle, "/metrics").await?;
        metrics.push(started.elapsed());
        let started = Instant::now();
        get(&client, &idle, "/healthz").await?;
        health.push(started.elapsed());
    }
    let millis = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(vec![
        Row::new(
            "exporter RSS, 1000 accounts, after 60 refreshes (vs after 1)",
            rss_last,
            rss_first,
            "MiB",
        ),
        Row::new(
            "exporter CPU per refresh of 1000 accounts (vs one-shot command)",
            millis(cpu_per_refresh),
            millis(median(&mut one_shot)),
            "ms",
        ),
        Row::new(
            "exporter /metrics latency, 1000 accounts (vs /healthz)",
            millis(median(&mut metrics)),
            millis(median(&mut health)),
            "ms",
        ),
    ])
}
