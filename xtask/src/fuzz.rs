//! `cargo xtask fuzz <target> --seconds N`: runs one cargo-fuzz target for a bounded time.
//!
//! Works on the stable toolchain: cargo-fuzz's flags are unlocked with `RUSTC_BOOTSTRAP=1`
//! and no sanitizer is used (the workspace forbids `unsafe`, so the fuzzers hunt panics, hangs
//! and wrong results rather than memory errors). Crashes are written to
//! `fuzz/artifacts/<target>/`; keep each as a regression test.

use std::path::Path;
use std::process::Command;

/// The fuzz targets and the committed inputs each starts from, besides its own corpus. A
/// seed ending in `/*` stands for every folder in it (`specs/*`: every vendor folder).
pub const TARGETS: &[(&str, &[&str])] = &[
    (
        "spec_repair_validate",
        &[
            "specs/*",
            "xtask/tests/fixtures",
            "xtask/tests/fixtures/defects",
        ],
    ),
    // The facade's decoders; each seed is a selector byte (status), a vendor id line and a
    // body. Besides the committed seeds, every vendor folder's documented 2xx bodies
    // ([`vendor_example_seeds`]), so a new folder is fuzzed without a new file.
    ("facade_decode", &["fuzz/seeds/facade_decode"]),
];

/// Runs `target` for `seconds`; returns an error message when it cannot run or finds a crash.
pub fn run(root: &Path, target: &str, seconds: u64) -> Result<(), String> {
    let Some((_, seeds)) = TARGETS.iter().find(|(name, _)| *name == target) else {
        let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
        return Err(format!(
            "unknown fuzz target {target:?}; known: {}",
            names.join(", ")
        ));
    };
    let mut starts: Vec<_> = seeds
        .iter()
        .flat_map(|seed| seed_dirs(root, seed))
        .collect();
    if target == "facade_decode" {
        let generated = root.join("target/fuzz-seeds").join(target);
        vendor_example_seeds(&generated)
            .map_err(|e| format!("cannot write {}: {e}", generated.display()))?;
        starts.push(generated);
    }
    let corpus = root.join("fuzz").join("corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(root.join("fuzz"))
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "--sanitizer", "none", target])
        .arg(&corpus)
        .args(&starts)
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

/// Writes one `facade_decode` input per documented 2xx example of every vendor in the
/// registry into `dir` (emptied first): selector 0 (status 200), the vendor's id, a newline,
/// the body, as `fuzz_regressions/input.rs` reads them.
pub fn vendor_example_seeds(dir: &Path) -> std::io::Result<usize> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let mut written = 0;
    for vendor in balances_registry::vendors() {
        for example in vendor
            .examples
            .iter()
            .filter(|e| (200..300).contains(&e.status))
        {
            let mut input = vec![0_u8];
            input.extend_from_slice(vendor.id.as_bytes());
            input.push(b'\n');
            input.extend_from_slice(example.body.as_bytes());
            std::fs::write(dir.join(format!("{}_{}", vendor.id, example.name)), input)?;
            written += 1;
        }
    }
    Ok(written)
}

/// The folders a seed entry names: itself, or for `dir/*` every folder in `dir`, sorted.
fn seed_dirs(root: &Path, seed: &str) -> Vec<std::path::PathBuf> {
    match seed.strip_suffix("/*") {
        Some(parent) => {
            let mut dirs: Vec<_> = std::fs::read_dir(root.join(parent))
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.is_dir())
                .collect();
            dirs.sort();
            dirs
        }
        None => vec![root.join(seed)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every vendor in the registry seeds the facade's fuzzer with its documented bodies.
    #[test]
    fn every_vendor_seeds_the_decoder_fuzzer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let written = vendor_example_seeds(dir.path()).expect("seeds written");
        for vendor in balances_registry::vendors() {
            let prefix = format!("{}_", vendor.id);
            let seeds: Vec<_> = std::fs::read_dir(dir.path())
                .expect("seed dir")
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .collect();
            assert!(
                !seeds.is_empty(),
                "{}: no 2xx example to seed from",
                vendor.id
            );
            let input = std::fs::read(seeds[0].path()).expect("a seed");
            assert!(input[1..].starts_with(format!("{}\n", vendor.id).as_bytes()));
        }
        assert!(written >= balances_registry::vendors().len());
    }

    /// Every target is a `[[bin]]` of fuzz/Cargo.toml, and every seed directory exists and
    /// holds inputs, so `cargo xtask fuzz <target>` never starts from nothing.
    #[test]
    fn targets_and_seed_directories_exist() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).expect("manifest");
        for (target, seeds) in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target} is not a [[bin]] of fuzz/Cargo.toml"
            );
            assert!(
                root.join(format!("fuzz/fuzz_targets/{target}.rs"))
                    .is_file(),
                "{target}"
            );
            for seed in *seeds {
                let dirs = seed_dirs(&root, seed);
                assert!(!dirs.is_empty(), "{target}: {seed} names no folder");
                for dir in dirs {
                    let entries = std::fs::read_dir(&dir)
                        .unwrap_or_else(|e| panic!("{target}: {}: {e}", dir.display()))
                        .count();
                    assert!(entries > 0, "{target}: {} is empty", dir.display());
                }
            }
        }
    }
}
