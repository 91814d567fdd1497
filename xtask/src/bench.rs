//! `cargo xtask bench`: builds the benchmark harness and the command in release, runs them
//! against the fake vendors on loopback, times `codegen --check`, prints a table and writes
//! `target/bench/report.json`. Every row is a ratio against a baseline measured in the same run.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// What a row must stay within.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "limit", rename_all = "snake_case")]
pub enum Target {
    /// `value / baseline` at most this.
    RatioAtMost(f64),
    /// `value` itself at most this, in the row's unit.
    ValueAtMost(f64),
}

/// Minimum, median and maximum of a row's samples.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

/// The spread of the value's samples and of the baseline's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Spread {
    pub value: Stats,
    pub baseline: Option<Stats>,
}

/// One benchmark result: `value` against `baseline` (medians of their samples), both in
/// `unit`; lower is better. `met` says whether the row is within its `target`; a row that
/// could not be measured here has no value and a `reason`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub name: String,
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    pub ratio: Option<f64>,
    pub unit: String,
    pub target: Option<Target>,
    #[serde(default)]
    pub met: Option<bool>,
    pub spread: Option<Spread>,
    pub reason: Option<String>,
}

impl Row {
    /// Whether the row is within its target; `None` without a target or a measurement.
    pub fn check(&self) -> Option<bool> {
        match self.target? {
            Target::RatioAtMost(limit) => self.ratio.map(|r| r <= limit),
            Target::ValueAtMost(limit) => self.value.map(|v| v <= limit),
        }
    }
}

/// The report `balances-bench` prints and `report.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub machine: serde_json::Value,
    pub rows: Vec<Row>,
}

/// Runs every benchmark; returns the report, also written to `target/bench/report.json`.
/// `history_accounts` is how many accounts the 30-day history file holds.
pub fn run(root: &Path, history_accounts: usize) -> Result<Report, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "balances-bench",
            "-p",
            "balances-cli",
            "-p",
            "xtask",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the benchmarks failed".to_owned());
    }
    let release = root.join("target").join("release");
    // The command records history by default: into a directory of the run's own, never the
    // user's state directory.
    let state = root.join("target").join("bench").join("state");
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state)
        .map_err(|e| format!("cannot create {}: {e}", state.display()))?;
    let output = Command::new(release.join("balances-bench"))
        .arg(release.join("balances"))
        .args(["--history-accounts", &history_accounts.to_string()])
        .env("XDG_STATE_HOME", &state)
        .output()
        .map_err(|e| format!("cannot run balances-bench: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "balances-bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut report: Report = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("balances-bench printed no report: {e}"))?;
    report
        .rows
        .push(codegen_check(root, &release.join("xtask"))?);
    for row in &mut report.rows {
        row.met = row.check();
    }
    if let Some(machine) = report.machine.as_object_mut() {
        let rustc = Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        machine.insert("rustc".into(), rustc.into());
    }

    let path = root.join("target").join("bench").join("report.json");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&path, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(report)
}

/// `codegen --check` for all vendors with the release xtask (`cargo xtask` itself is a debug
/// build), against the same binary starting and exiting (`--version`): what the pipeline
/// itself costs. 7 runs each, interleaved.
fn codegen_check(root: &Path, xtask: &Path) -> Result<Row, String> {
    let root_arg = root.to_string_lossy().into_owned();
    let check_args = ["codegen", "--check", "--root", root_arg.as_str()];
    let (mut ours, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        ours.push(time(xtask, &check_args)?.as_secs_f64() * 1e3);
        baseline.push(time(xtask, &["--version"])?.as_secs_f64() * 1e3);
    }
    let (value, base) = (stats(&ours), stats(&baseline));
    Ok(Row {
        name: "codegen --check, all vendors (vs xtask start)".to_owned(),
        value: value.map(|s| s.median),
        baseline: base.map(|s| s.median),
        ratio: value.zip(base).map(|(v, b)| v.median / b.median),
        unit: "ms".to_owned(),
        target: Some(Target::ValueAtMost(300.0)),
        met: None,
        spread: value.map(|value| Spread {
            value,
            baseline: base,
        }),
        reason: None,
    })
}

fn stats(samples: &[f64]) -> Option<Stats> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(Stats {
        min: *sorted.first()?,
        median: sorted[sorted.len() / 2],
        max: *sorted.last()?,
    })
}

fn time(program: &Path, args: &[&str]) -> Result<Duration, String> {
    let started = Instant::now();
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} {} failed: {}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stdout)
        ));
    }
    Ok(started.elapsed())
}

/// The report as an aligned table: each row's median with its spread, the baseline, the
/// ratio, the target and whether it is met.
pub fn table(report: &Report) -> String {
    let width = report
        .rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    let number = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
    let mut text = format!(
        "{:<width$}  {:>10}  {:>21}  {:>10}  {:>7}  {:>10}  {}\n",
        "benchmark", "value", "(min-max)", "baseline", "ratio", "target", "met"
    );
    for row in &report.rows {
        let range = row.spread.as_ref().map_or_else(String::new, |s| {
            format!("({:.2}-{:.2})", s.value.min, s.value.max)
        });
        let target = match row.target {
            Some(Target::RatioAtMost(limit)) => format!("≤ {limit}×"),
            Some(Target::ValueAtMost(limit)) => format!("≤ {limit} {}", row.unit),
            None => "-".to_owned(),
        };
        let met = match row.met {
            Some(true) => "yes".to_owned(),
            Some(false) => "NO".to_owned(),
            None => row.reason.clone().unwrap_or_else(|| "-".to_owned()),
        };
        text.push_str(&format!(
            "{:<width$}  {:>7} {:<3} {:>20}  {:>10}  {:>7}  {:>10}  {met}\n",
            row.name,
            number(row.value),
            row.unit,
            range,
            number(row.baseline),
            row.ratio
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.3}")),
            target,
        ));
    }
    text.push_str(&format!("machine: {}\n", report.machine));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ratio: Option<f64>, value: Option<f64>, target: Option<Target>) -> Row {
        Row {
            name: "r".into(),
            value,
            baseline: None,
            ratio,
            unit: "ms".into(),
            target,
            met: None,
            spread: None,
            reason: None,
        }
    }

    #[test]
    fn a_row_is_checked_against_its_kind_of_target() {
        assert_eq!(
            row(Some(1.02), None, Some(Target::RatioAtMost(1.03))).check(),
            Some(true)
        );
        assert_eq!(
            row(Some(1.04), None, Some(Target::RatioAtMost(1.03))).check(),
            Some(false)
        );
        assert_eq!(
            row(Some(9.0), Some(310.0), Some(Target::ValueAtMost(300.0))).check(),
            Some(false)
        );
        assert_eq!(
            row(Some(9.0), Some(250.0), Some(Target::ValueAtMost(300.0))).check(),
            Some(true)
        );
        assert_eq!(
            row(None, None, Some(Target::RatioAtMost(1.0))).check(),
            None,
            "not measured"
        );
        assert_eq!(row(Some(2.0), Some(1.0), None).check(), None, "no target");
    }
}
