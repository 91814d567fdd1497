//! `balances serve` with 1,000 accounts (round-robin over every registry vendor): memory
//! after an hour's worth of refreshes, CPU per refresh, and `/metrics` latency. Memory and
//! CPU are read from `/proc`; elsewhere those rows have no value and say why.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_vendors::FakeVendors;

use crate::measure::{process_cpu_ms, rss_mib, stat_field};
use crate::{Row, Target, set_private};

const ACCOUNTS: usize = 1_000;
/// An hour of refreshes at `--interval 60`; run back to back here.
const REFRESHES: u64 = 60;
/// Runs of the one-shot command the CPU row compares with.
const ONE_SHOTS: usize = 3;

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

/// CPU time (ms) of one `balances --format prometheus` run over the same accounts: the
/// shell waits for it, then reads its own children's CPU time from `/proc`.
fn one_shot_cpu_ms(balances: &Path, config: &Path) -> Option<f64> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" --config "$1" --concurrency 64 --format prometheus >/dev/null; cat /proc/$$/stat"#)
        .arg(balances)
        .arg(config)
        .output()
        .ok()?;
    let stat = String::from_utf8(output.stdout).ok()?;
    let ticks = stat_field(&stat, 16)? + stat_field(&stat, 17)?;
    Some(ticks as f64 * 10.0)
}

pub async fn rows(balances: &Path) -> Result<Vec<Row>, BenchError> {
    // Accounts round-robin over every registry vendor. Each process that fetches (the busy
    // exporter, each one-shot run, the idle exporter) gets accounts of its own, so no
    // signature nonce can repeat across processes (the fake vendor would call it a replay).
    let server = FakeVendors::bulk(ACCOUNTS * (2 + ONE_SHOTS))
        .start()
        .await?;
    let infos = server.accounts();
    let dir = tempfile::tempdir()?;
    let mut configs = Vec::new();
    for (i, chunk) in infos.chunks(ACCOUNTS).enumerate() {
        let config = dir.path().join(format!("config-{i}.toml"));
        std::fs::write(&config, fake_vendors::config_toml(chunk))?;
        set_private(&config)?;
        configs.push(config);
    }
    let [busy_config, one_shot_configs @ .., idle_config] = configs.as_slice() else {
        return Err("fewer bulk accounts than processes".into());
    };
    let client = reqwest::Client::new();
    let accounts = ACCOUNTS as u64;
    let no_proc = "no /proc on this system";

    // Memory and CPU: refresh back to back, compare after the first and after the last.
    let busy = start(balances, busy_config, "0.01")?;
    let pid = busy.child.id();
    wait_for_fetches(&client, &busy, accounts).await?;
    let (rss_first, cpu_first) = (rss_mib(pid), process_cpu_ms(pid));
    wait_for_fetches(&client, &busy, REFRESHES * accounts).await?;
    let (rss_last, cpu_last) = (rss_mib(pid), process_cpu_ms(pid));
    let (successes, _) = fetch_counts(&get(&client, &busy, "/metrics").await?);
    drop(busy);
    let refreshes_measured = (successes / accounts).saturating_sub(1).max(1) as f64;
    let cpu_per_refresh = cpu_first
        .zip(cpu_last)
        .map(|(first, last)| (last - first) / refreshes_measured);
    let one_shot: Option<Vec<f64>> = one_shot_configs
        .iter()
        .map(|config| one_shot_cpu_ms(balances, config))
        .collect();

    // Latency: an exporter that refreshed once and is idle, so scrapes are all it does.
    let idle = start(balances, idle_config, "86400")?;
    wait_for_fetches(&client, &idle, accounts).await?;
    let (mut metrics, mut health) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        let started = Instant::now();
        get(&client, &idle, "/metrics").await?;
        metrics.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        get(&client, &idle, "/healthz").await?;
        health.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(vec![
        Row::from_samples(
            format!("exporter RSS, {ACCOUNTS} accounts, after {REFRESHES} refreshes (vs after 1)"),
            rss_last.map(|v| vec![v]),
            rss_first.map(|v| vec![v]),
            "MiB",
            Some(Target::RatioAtMost(1.25)),
            no_proc,
        ),
        Row::from_samples(
            format!("exporter CPU per refresh of {ACCOUNTS} accounts (vs one-shot command)"),
            cpu_per_refresh.map(|v| vec![v]),
            one_shot,
            "ms",
            Some(Target::RatioAtMost(1.0)),
            no_proc,
        ),
        Row::from_samples(
            format!("exporter /metrics latency, {ACCOUNTS} accounts (vs /healthz)"),
            Some(metrics),
            Some(health),
            "ms",
            None,
            "",
        ),
    ])
}
