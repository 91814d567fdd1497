//! What balance history costs, measured against the fake vendors on loopback:
//!
//! 1. the one-shot command for 1,000 accounts with history vs `--no-history` (interleaved
//!    runs, medians), on an empty file and on a file already holding 7 days of 5-minute
//!    samples for the same accounts;
//! 2. the file's size per 1,000 accounts per day at a 5-minute refresh;
//! 3. `balances history --since 30d` over 30 days of 5-minute samples for 1,000 accounts.
//!
//! ```sh
//! cargo build --release -p balances-cli --example history_bench --bin balances
//! target/release/examples/history_bench target/release/balances
//! ```
//!
//! Not part of `cargo xtask bench` yet (the xtask is not this change's to edit); the README
//! quotes its output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use balances::Balance;
use balances_history::{Reading, Retention, Store, readings};
use fake_vendors::FakeVendors;

const ACCOUNTS: usize = 1_000;
const EVERY_MS: i64 = 5 * 60 * 1_000;
const DAY_MS: i64 = 86_400_000;
const SAMPLES: usize = 9;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let binary = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: history_bench BALANCES_BINARY")?,
    );
    // Filled files are kept here between runs: writing 30 days of samples takes minutes.
    let keep = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("history-bench");
    std::fs::create_dir_all(&keep)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let server = runtime.block_on(FakeVendors::bulk(ACCOUNTS).start())?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(&config, fake_vendors::config_toml(&server.accounts()))?;
    set_private(&config)?;

    // The balances the accounts really have, as the command reads them.
    let output = Command::new(&binary)
        .arg("--config")
        .arg(&config)
        .args(["--format", "json", "--no-history"])
        .output()?;
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout)?;
    let balances: Vec<Balance> = rows
        .iter()
        .filter_map(|row| serde_json::from_value(row["balance"].clone()).ok())
        .collect();
    let series: Vec<Reading> = balances.iter().flat_map(readings).collect();
    println!(
        "{} accounts fetched ({} with a balance, {} series)",
        rows.len(),
        balances.len(),
        series.len()
    );

    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;

    // 1. Recording cost.
    for (label, primed_days) in [("empty file", 0), ("7 days of samples", 7)] {
        let file = dir.path().join(format!("cost-{primed_days}.sqlite3"));
        if primed_days > 0 {
            let kept = keep.join("week.sqlite3");
            if !kept.exists() {
                fill(
                    &kept,
                    &series,
                    now_ms - primed_days * DAY_MS,
                    now_ms - EVERY_MS,
                    EVERY_MS,
                )?;
            }
            std::fs::copy(&kept, &file)?;
        }
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for round in 0..SAMPLES + 1 {
            let at = (now_ms / 1000 + round as i64 * 300).to_string();
            let t_without = time(Command::new(&binary).arg("--config").arg(&config).args([
                "--format",
                "json",
                "--no-history",
            ]))?;
            let t_with = time(
                Command::new(&binary)
                    .env("BALANCES_NOW", &at)
                    .arg("--config")
                    .arg(&config)
                    .args(["--format", "json", "--history"])
                    .arg(&file),
            )?;
            if round > 0 {
                with.push(t_with);
                without.push(t_without);
            }
        }
        let (w, wo) = (median(&mut with), median(&mut without));
        println!(
            "recording, 1,000 accounts, {label}: {:.1} ms with history vs {:.1} ms --no-history: ratio {:.3} (min-max with {:.1}-{:.1})",
            w,
            wo,
            w / wo,
            with.first().unwrap_or(&0.0),
            with.last().unwrap_or(&0.0)
        );
    }

    // 2. Size per day.
    let file = dir.path().join("size.sqlite3");
    fill(&file, &series, now_ms - DAY_MS, now_ms - EVERY_MS, EVERY_MS)?;
    let size = file_size(&file)?;
    println!(
        "size: one day at a 5-minute refresh (288 samples x {} series) = {:.1} MiB per 1,000 accounts per day ({} bytes per sample)",
        series.len(),
        size as f64 / 1_048_576.0,
        size / (288 * series.len() as u64)
    );

    // 3. `balances history` over 30 days.
    let file = dir.path().join("month.sqlite3");
    let started = Instant::now();
    fill(
        &file,
        &series,
        now_ms - 30 * DAY_MS,
        now_ms - EVERY_MS,
        EVERY_MS,
    )?;
    println!(
        "30 days of 5-minute samples written in {:.0} s: {:.0} MiB",
        started.elapsed().as_secs_f64(),
        file_size(&file)? as f64 / 1_048_576.0
    );
    for args in [
        vec!["history", "--since", "30d", "--format", "json"],
        vec!["history", "--since", "30d"],
        vec!["history", "--since", "30d", "--every", "1d"],
    ] {
        let mut times = Vec::new();
        for _ in 0..3 {
            times.push(time(
                Command::new(&binary)
                    .arg("--history")
                    .arg(&file)
                    .args(&args)
                    .stdout(std::process::Stdio::null()),
            )?);
        }
        println!(
            "balances {}: {:.0} ms (median of 3)",
            args.join(" "),
            median(&mut times)
        );
    }
    let mut store = Store::open(&file)?;
    let started = Instant::now();
    let deleted = store.thin(SystemTime::now(), &Retention::default())?;
    println!(
        "thinning 30 days to the default retention: {deleted} samples deleted in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(store);
    let mut times = Vec::new();
    for _ in 0..3 {
        times.push(time(
            Command::new(&binary)
                .arg("--history")
                .arg(&file)
                .args(["history", "--since", "30d", "--format", "json"])
                .stdout(std::process::Stdio::null()),
        )?);
    }
    println!(
        "balances history --since 30d --format json after thinning: {:.0} ms (median of 3)",
        median(&mut times)
    );
    Ok(())
}

/// Writes `series` every `every_ms` from `from_ms` to `to_ms`, spending a little each time.
fn fill(
    file: &Path,
    series: &[Reading],
    from_ms: i64,
    to_ms: i64,
    every_ms: i64,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut store = Store::open(file)?;
    let mut at = from_ms;
    let mut step = 0_i64;
    while at <= to_ms {
        let batch: Vec<(i64, Reading)> = series
            .iter()
            .map(|reading| {
                let mut reading = reading.clone();
                reading.total -= rust_decimal::Decimal::new(step, 2);
                (at, reading)
            })
            .collect();
        store.record_readings(&batch)?;
        at += every_ms;
        step += 1;
    }
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    Ok(())
}

fn file_size(file: &Path) -> Result<u64, std::io::Error> {
    let mut total = 0;
    for suffix in ["", "-wal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        total += std::fs::metadata(&name).map(|m| m.len()).unwrap_or(0);
    }
    Ok(total)
}

fn time(command: &mut Command) -> Result<f64, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let output = command.output()?;
    let elapsed = started.elapsed();
    if !output.status.success() && output.status.code() != Some(3) {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(millis(elapsed))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(unix)]
fn set_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
