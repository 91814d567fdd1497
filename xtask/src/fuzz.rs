//! `cargo xtask fuzz <target> --seconds N`: runs one cargo-fuzz target for a bounded time.
//!
//! Works on the stable toolchain: cargo-fuzz's flags are unlocked with `RUSTC_BOOTSTRAP=1`
//! and no sanitizer is used (the workspace forbids `unsafe`, so the fuzzers hunt panics, hangs
//! and wrong results rather than memory errors). Crashes are written to
//! `fuzz/artifacts/<target>/`; keep each as a regression test.

use std::path::Path;
use std::process::Command;

/// The fuzz targets and the committed inputs each starts from, besides its own corpus.
pub const TARGETS: &[(&str, &[&str])] = &[(
    "spec_repair_validate",
    &[
        "specs/deepseek",
        "specs/geekai",
        "specs/eiotclub",
        "xtask/tests/fixtures",
        "xtask/tests/fixtures/defects",
    ],
)];

/// Runs `target` for `seconds`; returns an error message when it cannot run or finds a crash.
pub fn run(root: &Path, target: &str, seconds: u64) -> Result<(), String> {
    let Some((_, seeds)) = TARGETS.iter().find(|(name, _)| *name == target) else {
        let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
        return Err(format!(
            "unknown fuzz target {target:?}; known: {}",
            names.join(", ")
        ));
    };
    let corpus = root.join("fuzz").join("corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(root.join("fuzz"))
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "--sanitizer", "none", target])
        .arg(&corpus)
        .args(seeds.iter().map(|seed| root.join(seed)))
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ]);
    let status = command.status().map_err(|e| {
        format!("cannot run cargo fuzz ({e}); install it with `cargo install cargo-fuzz`")
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "fuzz target {target} failed ({status}); see fuzz/artifacts/{target}/"
        ))
    }
}
