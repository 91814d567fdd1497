//! `cargo xtask bench`: builds the benchmark harness and the command in release, runs them
//! against the fake vendors on loopback, times `codegen --check`, prints a table and writes
//! `target/bench/report.json`. Every row is a ratio against a baseline measured in the same run.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One benchmark result: `value` against `baseline`, both in `unit`; lower is better.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub name: String,
    pub value: f64,
    pub baseline: f64,
    pub ratio: f64,
    pub unit: String,
}

/// Runs every benchmark; returns the rows, also written to `target/bench/report.json`.
pub fn run(root: &Path) -> Result<Vec<Row>, String> {
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
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the benchmarks failed".to_owned());
    }
    let release = root.join("target").join("release");
    let output = Command::new(release.join("balances-bench"))
        .arg(release.join("balances"))
        .output()
        .map_err(|e| format!("cannot run balances-bench: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "balances-bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut rows: Vec<Row> = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("balances-bench printed no report: {e}"))?;
    rows.push(codegen_check(root)?);

    let report = root.join("target").join("bench").join("report.json");
    if let Some(dir) = report.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
    std::fs::write(&report, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", report.display()))?;
    Ok(rows)
}

/// `codegen --check` for all vendors with this xtask already built, against the same binary
/// starting and exiting (`--version`): what the pipeline itself costs. Median of 7 runs.
fn codegen_check(root: &Path) -> Result<Row, String> {
    let xtask =
        std::env::current_exe().map_err(|e| format!("cannot find the xtask binary: {e}"))?;
    let root_arg = root.to_string_lossy().into_owned();
    let check_args = ["codegen", "--check", "--root", root_arg.as_str()];
    let (mut ours, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        ours.push(time(&xtask, &check_args)?);
        baseline.push(time(&xtask, &["--version"])?);
    }
    let millis = |mut samples: Vec<Duration>| {
        samples.sort_unstable();
        samples[samples.len() / 2].as_secs_f64() * 1e3
    };
    let (value, baseline) = (millis(ours), millis(baseline));
    Ok(Row {
        name: "codegen --check, all vendors (vs xtask start)".to_owned(),
        value,
        baseline,
        ratio: value / baseline,
        unit: "ms".to_owned(),
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

/// The rows as an aligned table.
pub fn table(rows: &[Row]) -> String {
    let width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = format!(
        "{:<width$}  {:>12}  {:>12}  {:>7}\n",
        "benchmark", "value", "baseline", "ratio"
    );
    for row in rows {
        text.push_str(&format!(
            "{:<width$}  {:>9.2} {:<3}  {:>8.2} {:<3}  {:>7.3}\n",
            row.name, row.value, row.unit, row.baseline, row.unit, row.ratio
        ));
    }
    text
}
