//! What balance history costs (issue 23): recording a run of the one-shot command against
//! `--no-history`, on a fresh file and on a file already holding a week of samples (against
//! vendors answering at once, in 1 ms and in 20 ms); the file's size per 1,000 accounts
//! per day at a 5-minute refresh; and `balances history` over 30 days of samples against
//! one SQL scan of the same rows.
//!
//! Files are filled through [`Store::record_readings`], a 5-minute step at a time in time
//! order (as the command and the exporter write them), so their pages are laid out as a
//! real file's are; an hour of steps goes in one transaction, which only makes filling
//! faster.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use balances::Balance;
use balances_history::{Reading, Store, readings};
use fake_vendors::FakeVendors;
use rust_decimal::Decimal;

use crate::{Row, Target, set_private};

type BenchError = Box<dyn std::error::Error>;

/// The accounts the recording rows fetch: the target (≤ 1.10× `--no-history`) is about
/// 1,000.
const RECORDING_ACCOUNTS: usize = 1_000;
/// Interleaved runs per side against vendors answering at once, where a run is ~100 ms
/// and this machine's noise is several ms: two hours of 5-minute runs, so that thinning,
/// a batch moved and a new window start fall due as often as they would. The first round
/// (not counted) only warms the page cache.
const RECORDING_ROUNDS: usize = 24;
/// How long the fake vendors of the latency rows take to answer, and each row's rounds: with
/// the default concurrency of 8, a run for 1,000 accounts waits at least 125 answers in a
/// row. 1 ms is a vendor in the same data centre (tokio's timer makes it 1–2 ms); 20 ms a
/// fast answer over a network.
const VENDOR_LATENCIES: [(Duration, usize); 2] = [
    (Duration::from_millis(1), RECORDING_ROUNDS),
    (Duration::from_millis(20), 6),
];
const STEP_MS: i64 = 5 * 60 * 1_000;
const DAY_MS: i64 = 86_400_000;
/// Steps per transaction when filling a file.
const STEPS_PER_FILL_BATCH: i64 = 12;

/// Every row of this module; `read_accounts` is how many accounts the 30-day file holds
/// (`--history-accounts`).
pub async fn rows(balances: &Path, read_accounts: usize) -> Result<Vec<Row>, BenchError> {
    let server = FakeVendors::bulk(RECORDING_ACCOUNTS.max(read_accounts))
        .start()
        .await?;
    let infos = server.accounts();
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        fake_vendors::config_toml(&infos[..RECORDING_ACCOUNTS]),
    )?;
    set_private(&config)?;
    let series = fetched_readings(balances, &config)?;
    let now_ms = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;

    let mut rows = Vec::new();
    // (a) The first run, which creates the file: every run with history creates its own.
    // What recording costs from then on is the next row's; this one has no target.
    rows.push(recording_row(
        balances,
        &config,
        dir.path(),
        None,
        now_ms,
        RECORDING_ROUNDS,
        "history: first run, creating the file, 1,000 accounts (vs --no-history)",
    )?);
    // (a) Recording on a file holding the week before `now` at a 5-minute refresh.
    let week = dir.path().join("week.sqlite3");
    fill(
        &week,
        &series,
        now_ms - 7 * DAY_MS,
        now_ms - STEP_MS,
        STEP_MS,
    )?;
    rows.push(recording_row(
        balances,
        &config,
        dir.path(),
        Some(&week),
        now_ms,
        RECORDING_ROUNDS,
        "history: recording, 1,000 accounts, file with a week, vendors answering at once (vs --no-history)",
    )?);
    // The same against vendors that take a while to answer, as every vendor reached over a
    // network does: what recording costs a run in practice.
    for (latency, rounds) in VENDOR_LATENCIES {
        let slow_server = FakeVendors::bulk(RECORDING_ACCOUNTS)
            .latency(latency)
            .start()
            .await?;
        let slow_config = dir.path().join("slow-config.toml");
        std::fs::write(
            &slow_config,
            fake_vendors::config_toml(&slow_server.accounts()),
        )?;
        set_private(&slow_config)?;
        rows.push(recording_row(
            balances,
            &slow_config,
            dir.path(),
            Some(&week),
            now_ms,
            rounds,
            &format!(
                "history: recording, 1,000 accounts, file with a week, vendors answering in {} ms (vs --no-history)",
                latency.as_millis()
            ),
        )?);
    }
    std::fs::remove_file(&week)?;

    // (b) Size of one day at a 5-minute refresh, per 1,000 accounts, against the same
    // samples as lines of CSV text.
    let day = dir.path().join("day.sqlite3");
    fill(&day, &series, now_ms - DAY_MS + STEP_MS, now_ms, STEP_MS)?;
    let per_thousand = 1_000.0 / RECORDING_ACCOUNTS as f64 / 1_048_576.0;
    let size = file_size(&day)? as f64 * per_thousand;
    let csv = csv_bytes(&series, DAY_MS / STEP_MS) as f64 * per_thousand;
    std::fs::remove_file(&day)?;
    rows.push(Row::from_samples(
        "history: file size per 1,000 accounts per day, 5-min refresh (vs CSV)".to_owned(),
        Some(vec![size]),
        Some(vec![csv]),
        "MiB",
        None,
        "",
    ));

    // (c) `balances history --since 30d` over 30 days of samples.
    let read_series = if read_accounts <= RECORDING_ACCOUNTS {
        series
            .into_iter()
            .filter(|r| account_index(&r.key.account) < read_accounts)
            .collect()
    } else {
        let config = dir.path().join("read-config.toml");
        std::fs::write(&config, fake_vendors::config_toml(&infos[..read_accounts]))?;
        set_private(&config)?;
        fetched_readings(balances, &config)?
    };
    rows.extend(read_rows(balances, dir.path(), &read_series, now_ms)?);
    Ok(rows)
}

/// The readings the command records for the accounts of `config`, from one `--no-history`
/// run: the balances the fake vendors really answer.
fn fetched_readings(balances: &Path, config: &Path) -> Result<Vec<Reading>, BenchError> {
    let output = Command::new(balances)
        .arg("--config")
        .arg(config)
        .args(["--format", "json", "--no-history"])
        .stdin(Stdio::null())
        .output()?;
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout)?;
    let balances: Vec<Balance> = rows
        .iter()
        .filter_map(|row| serde_json::from_value(row["balance"].clone()).ok())
        .collect();
    if balances.len() < rows.len() * 9 / 10 {
        return Err(format!(
            "only {} of {} bench accounts fetched",
            balances.len(),
            rows.len()
        )
        .into());
    }
    Ok(balances.iter().flat_map(readings).collect())
}

/// `bulk-00042` is account 42.
fn account_index(account: &str) -> usize {
    account
        .strip_prefix("bulk-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

/// The one-shot command for 1,000 accounts with history (into a fresh file each run, or a
/// copy of `primed`) against `--no-history`, interleaved `rounds` times from `now_ms`, each
/// round's pair in the other order than the round before; each run with history is 5
/// minutes after the one before (`BALANCES_NOW`), as under a 5-minute timer, so that
/// hourly thinning falls due once every 12 runs as it would.
fn recording_row(
    balances: &Path,
    config: &Path,
    dir: &Path,
    primed: Option<&Path>,
    now_ms: i64,
    rounds: usize,
    name: &str,
) -> Result<Row, BenchError> {
    let file = dir.join("recording.sqlite3");
    if let Some(primed) = primed {
        remove_database(&file)?;
        std::fs::copy(primed, &file)?;
    }
    // The target is about what recording costs run after run, on a file that has history.
    let target = primed.map(|_| Target::RatioAtMost(1.10));
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 0..=rounds {
        if primed.is_none() {
            remove_database(&file)?;
        }
        let at_s = (now_ms + i64::try_from(round)? * STEP_MS) / 1_000;
        let mut plain = Command::new(balances);
        plain
            .arg("--config")
            .arg(config)
            .args(["--format", "json", "--no-history"]);
        let mut recording = Command::new(balances);
        recording
            .env("BALANCES_NOW", at_s.to_string())
            .arg("--config")
            .arg(config)
            .args(["--format", "json", "--history"])
            .arg(&file);
        let (t_plain, t_recording) = if round % 2 == 0 {
            (run(&mut plain)?, run(&mut recording)?)
        } else {
            let t_recording = run(&mut recording)?;
            (run(&mut plain)?, t_recording)
        };
        if round > 0 {
            without.push(millis(t_plain));
            with.push(millis(t_recording));
        }
    }
    remove_database(&file)?;
    Ok(Row::from_samples(
        name.to_owned(),
        Some(with),
        Some(without),
        "ms",
        target,
        "",
    ))
}

/// `balances history --since 30d` (JSON, then the plain table) over 30 days of 5-minute
/// samples of `series`, against the floor of any reader: one SQL scan of the same rows and
/// columns, in this process.
fn read_rows(
    balances: &Path,
    dir: &Path,
    series: &[Reading],
    now_ms: i64,
) -> Result<Vec<Row>, BenchError> {
    let accounts = {
        let mut names: Vec<&str> = series.iter().map(|r| r.key.account.as_str()).collect();
        names.dedup();
        names.len()
    };
    let file = dir.join("month.sqlite3");
    fill(
        &file,
        series,
        now_ms - 30 * DAY_MS + STEP_MS,
        now_ms,
        STEP_MS,
    )?;
    let since_ms = now_ms - 30 * DAY_MS;
    let mut scans = Vec::new();
    let mut samples = 0;
    for _ in 0..3 {
        let started = Instant::now();
        samples = scan(&file, since_ms)?;
        scans.push(millis(started.elapsed()));
    }
    let mut rows = Vec::new();
    for (label, format) in [("JSON", "json"), ("table", "table")] {
        let mut times = Vec::new();
        for _ in 0..3 {
            let mut command = Command::new(balances);
            command
                .env("BALANCES_NOW", (now_ms / 1_000).to_string())
                .arg("--history")
                .arg(&file)
                .args(["history", "--since", "30d", "--format", format]);
            times.push(millis(run(&mut command)?));
        }
        rows.push(Row::from_samples(
            format!(
                "history: `balances history --since 30d` {label}, {accounts} accounts, {:.1} M samples (vs SQL scan)",
                samples as f64 / 1e6
            ),
            Some(times),
            Some(scans.clone()),
            "ms",
            None,
            "",
        ));
    }
    remove_database(&file)?;
    Ok(rows)
}

/// Reads every sample at or after `since_ms` with its series' names, as the command must,
/// and returns how many there were.
fn scan(file: &Path, since_ms: i64) -> Result<usize, BenchError> {
    let store = Store::open_existing(file)?;
    let mut statement = store.connection().prepare(
        "SELECT s.account, s.vendor, s.code, p.at_ms, p.total, p.granted, p.topped_up
         FROM series s JOIN samples p ON p.series = s.id
         WHERE p.at_ms >= ?1 ORDER BY s.account, s.vendor, s.measure, s.code, p.at_ms",
    )?;
    let mut rows = statement.query([since_ms])?;
    let (mut count, mut bytes) = (0, 0);
    while let Some(row) = rows.next()? {
        count += 1;
        bytes += row.get_ref(4)?.as_str()?.len();
    }
    std::hint::black_box(bytes);
    Ok(count)
}

/// Records `series` at every step from `from_ms` to `to_ms`, the total falling a cent a
/// step, then checkpoints, so that the file alone holds everything.
fn fill(
    file: &Path,
    series: &[Reading],
    from_ms: i64,
    to_ms: i64,
    step_ms: i64,
) -> Result<(), BenchError> {
    let mut store = Store::open(file)?;
    // Filling is not what is measured: a large page cache only makes it faster.
    store
        .connection()
        .execute_batch("PRAGMA cache_size = -262144")?;
    let mut batch = Vec::with_capacity(series.len() * STEPS_PER_FILL_BATCH as usize);
    let mut at_ms = from_ms;
    let mut step = 0;
    while at_ms <= to_ms {
        for reading in series {
            let mut reading = reading.clone();
            reading.total -= Decimal::new(step, 2);
            batch.push((at_ms, reading));
        }
        at_ms += step_ms;
        step += 1;
        if step % STEPS_PER_FILL_BATCH == 0 || at_ms > to_ms {
            store.record_readings(&batch)?;
            batch.clear();
        }
    }
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    Ok(())
}

/// The same samples as lines of `account,vendor,code,at_ms,total,granted,topped_up`.
fn csv_bytes(series: &[Reading], steps: i64) -> u64 {
    let optional = |amount: Option<Decimal>| amount.map_or(0, |a| a.to_string().len());
    let per_step: usize = series
        .iter()
        .map(|r| {
            r.key.account.len()
                + r.key.vendor.len()
                + r.key.code.len()
                + 13
                + r.total.to_string().len()
                + optional(r.granted)
                + optional(r.topped_up)
                + 7
        })
        .sum();
    per_step as u64 * steps.unsigned_abs()
}

/// The database file and its WAL.
fn file_size(file: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for suffix in ["", "-wal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        total += std::fs::metadata(&name).map_or(0, |m| m.len());
    }
    Ok(total)
}

fn remove_database(file: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Runs `command` with its output discarded; exit 3 (an account not fetched: a signature
/// nonce the fake vendor had seen, by chance) still counts as a run.
fn run(command: &mut Command) -> Result<Duration, BenchError> {
    let started = Instant::now();
    let status = tokio::task::block_in_place(|| {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
    })?;
    let elapsed = started.elapsed();
    if !status.status.success() && status.status.code() != Some(3) {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&status.stderr)
        )
        .into());
    }
    if !status.stderr.is_empty() && String::from_utf8_lossy(&status.stderr).contains("history") {
        return Err(format!("{command:?}: {}", String::from_utf8_lossy(&status.stderr)).into());
    }
    Ok(elapsed)
}
