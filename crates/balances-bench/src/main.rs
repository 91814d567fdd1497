//! Benchmarks of the facade and the command against the fake vendors on loopback, each
//! measured against a baseline in the same run. Prints one JSON report (`{"machine", "rows"}`)
//! on stdout; `cargo xtask bench` builds this in release, adds its own rows, checks every row
//! against its target, prints the table and writes `target/bench/report.json`.

#![forbid(unsafe_code)]

mod bare;
mod command;
mod decode;
mod exporter;
mod fanout;
mod history;
mod measure;
mod side;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use balances::{BalanceClient, Config};
use serde::Serialize;

use measure::{Machine, Stats};

/// What a row must stay within to be "met" (`cargo xtask bench` checks it; it also has
/// targets on a value itself, for its own rows).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", content = "limit", rename_all = "snake_case")]
pub(crate) enum Target {
    /// `value / baseline` at most this.
    RatioAtMost(f64),
}

/// The spread of a row's samples, value side and baseline side.
#[derive(Debug, Serialize)]
pub(crate) struct Spread {
    value: Stats,
    baseline: Option<Stats>,
}

/// One result: `value` (ours, the median of its samples) against `baseline` (the bare
/// alternative), lower is better. A row that cannot be measured here has no value and says
/// why in `reason`.
#[derive(Debug, Serialize)]
pub(crate) struct Row {
    name: String,
    value: Option<f64>,
    baseline: Option<f64>,
    ratio: Option<f64>,
    unit: &'static str,
    target: Option<Target>,
    spread: Option<Spread>,
    reason: Option<String>,
}

impl Row {
    /// A row from the samples of both sides; `None` samples (not measurable here) give a row
    /// without a value, with `unavailable` as its reason.
    pub(crate) fn from_samples(
        name: String,
        ours: Option<Vec<f64>>,
        theirs: Option<Vec<f64>>,
        unit: &'static str,
        target: Option<Target>,
        unavailable: &str,
    ) -> Self {
        let value_stats = ours.as_deref().and_then(Stats::of);
        let baseline_stats = theirs.as_deref().and_then(Stats::of);
        let value = value_stats.map(|s| s.median);
        let baseline = baseline_stats.map(|s| s.median);
        let ratio = value
            .zip(baseline)
            .filter(|(_, b)| *b > 0.0)
            .map(|(v, b)| v / b);
        Self {
            name,
            value,
            baseline,
            ratio,
            unit,
            target,
            spread: value_stats.map(|value| Spread {
                value,
                baseline: baseline_stats,
            }),
            reason: value.is_none().then(|| unavailable.to_owned()),
        }
    }
}

#[derive(Serialize)]
struct Report {
    machine: Machine,
    rows: Vec<Row>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("side") {
        return side::child_main(&args[1..]).await;
    }
    let args = parse_args(&args)?;
    let mut rows = Vec::new();
    if !args.only_history {
        // Every bare baseline sends valid requests, for every vendor, before anything is
        // timed.
        bare::check_reqwest().await?;
        rows.extend([call_overhead().await?, decode::row()]);
        rows.extend(fanout::rows().await?);
    }
    if let Some(bin) = &args.balances {
        if !args.only_history {
            rows.push(command::start(bin).await?);
            rows.push(command::against_curl_loop(bin).await?);
            rows.extend(exporter::rows(bin).await?);
        }
        rows.extend(history::rows(bin, args.history_accounts).await?);
    }
    let report = Report {
        machine: Machine::describe(),
        rows,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// How many accounts the 30-day history file holds unless `--history-accounts` says: small
/// enough that filling it takes seconds (1,000 accounts take about two minutes more).
const HISTORY_ACCOUNTS: usize = 100;

/// What to run: `balances-bench [BALANCES_BINARY] [--history-accounts N] [--only-history]`
/// (`--only-history`: the history rows alone, while working on them).
struct Args {
    balances: Option<PathBuf>,
    history_accounts: usize,
    only_history: bool,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut binary = None;
    let mut history_accounts = HISTORY_ACCOUNTS;
    let mut only_history = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--only-history" {
            only_history = true;
        } else if arg == "--history-accounts" {
            history_accounts = args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .ok_or("--history-accounts takes a number of accounts")?;
        } else if arg.starts_with('-') {
            return Err(format!(
                "unknown option `{arg}`; usage: balances-bench [BALANCES_BINARY] \
                 [--history-accounts N] [--only-history]"
            ));
        } else if binary.is_none() {
            binary = Some(PathBuf::from(arg));
        } else {
            return Err(format!("unexpected argument `{arg}`"));
        }
    }
    Ok(Args {
        balances: binary,
        history_accounts,
        only_history,
    })
}

/// One balance call through the facade vs the same request with a bare `reqwest::Client`
/// (one pooled connection each, body parsed as JSON), for one account of the baseline vendor
/// (the first registry vendor with the `bearer` scheme, see [`bare::baseline_vendor`]); the
/// bare request's method, path and auth header come from the registry. Interleaved blocks of
/// 50 calls; each block's median is a sample.
async fn call_overhead() -> Result<Row, Box<dyn std::error::Error>> {
    let server = bare::one_baseline_account().await?;
    let infos = server.accounts();
    let accounts =
        Config::from_toml_str(&fake_vendors::config_toml(&infos), |_| None)?.into_accounts();
    let (account, info) = (&accounts[0], &infos[0]);
    let facade = BalanceClient::builder().build()?;
    let bare = reqwest::Client::new();
    let target = bare::BareTarget::of(info)?;
    let nonces = bare::Nonces::default();
    let bare_call = || async {
        let response = target
            .request(&bare, &nonces)?
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
    for _ in 0..40 {
        let mut block = Vec::with_capacity(50);
        for _ in 0..50 {
            let started = Instant::now();
            facade.fetch(account).await?;
            block.push(started.elapsed());
        }
        ours.push(block_median(&mut block));
        block.clear();
        for _ in 0..50 {
            let started = Instant::now();
            bare_call().await?;
            block.push(started.elapsed());
        }
        theirs.push(block_median(&mut block));
    }
    Ok(Row::from_samples(
        "call overhead (median per call)".to_owned(),
        Some(ours),
        Some(theirs),
        "µs",
        Some(Target::RatioAtMost(1.03)),
        "",
    ))
}

fn block_median(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1e6)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments_name_the_binary_the_history_size_and_the_history_rows_alone() {
        let args = parse(&[
            "bin/balances",
            "--history-accounts",
            "1000",
            "--only-history",
        ])
        .unwrap();
        assert_eq!(args.balances, Some(PathBuf::from("bin/balances")));
        assert_eq!(args.history_accounts, 1000);
        assert!(args.only_history);
        let default = parse(&[]).unwrap();
        assert_eq!(
            (default.balances, default.history_accounts),
            (None, HISTORY_ACCOUNTS)
        );
        assert!(!default.only_history);
        for bad in [
            &["--history-accounts"][..],
            &["--history-accounts", "0"],
            &["--history-accounts", "many"],
            &["a", "b"],
            &["--help"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
