//! The real `xtask codegen` binary on a temporary copy of the workspace (`--root`): `--check`
//! passes on a clean tree, fails with a unified diff on a touched generated file or a touched
//! upstream spec, and `codegen` repairs both; two runs in a row change nothing.

use std::fs;
use std::io::Write;

use crate::support::{codegen_bin, hash_tree, sha256_hex, temp_workspace, vendors};

fn append(path: &std::path::Path, text: &str) {
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    file.write_all(text.as_bytes()).expect("append");
}

#[track_caller]
/// The run reported `expected` for those vendors and `unchanged` for every other folder.
fn assert_states(run: &crate::support::Run, expected: &[(&str, &str)]) {
    let states = run.vendor_states();
    let mut wanted: std::collections::BTreeMap<String, String> = vendors()
        .into_iter()
        .map(|vendor| (vendor, "unchanged".to_owned()))
        .collect();
    for (vendor, state) in expected {
        wanted.insert((*vendor).to_owned(), (*state).to_owned());
    }
    assert_eq!(states, wanted, "stdout:\n{}", run.stdout);
}

#[track_caller]
fn assert_total_line(run: &crate::support::Run, vendors: usize) {
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("codegen: {vendors} vendor(s) in ")),
        "last line {last:?} of\n{}",
        run.stdout
    );
}

#[test]
fn check_passes_clean_fails_on_a_touched_generated_file_and_codegen_repairs_it() {
    let temp = temp_workspace();
    let root = temp.path();
    let lib_rs = root.join("crates/geekai-client/src/lib.rs");
    let original = fs::read(&lib_rs).expect("read lib.rs");

    let clean = codegen_bin(root, &["--check"]);
    clean.assert_success();
    assert_states(
        &clean,
        &[
            ("deepseek", "unchanged"),
            ("eiotclub", "unchanged"),
            ("geekai", "unchanged"),
        ],
    );

    append(&lib_rs, "// a hand edit\n");
    let stale = codegen_bin(root, &["--check"]);
    stale.assert_failure();
    assert_states(
        &stale,
        &[
            ("deepseek", "unchanged"),
            ("eiotclub", "unchanged"),
            ("geekai", "STALE"),
        ],
    );
    assert!(
        stale
            .stdout
            .contains("--- a/crates/geekai-client/src/lib.rs")
            && stale
                .stdout
                .contains("+++ b/crates/geekai-client/src/lib.rs"),
        "a unified diff naming the file:\n{}",
        stale.stdout
    );
    assert!(
        stale.stdout.lines().any(|line| line == "-// a hand edit"),
        "the diff removes the hand edit:\n{}",
        stale.stdout
    );
    assert!(
        stale.stdout.contains("@@ "),
        "hunk header:\n{}",
        stale.stdout
    );
    assert!(
        stale.stderr.contains("out of date") && stale.stderr.contains("cargo xtask codegen"),
        "stderr says what to run: {}",
        stale.stderr
    );
    assert_eq!(
        fs::read(&lib_rs).expect("read"),
        [original.as_slice(), b"// a hand edit\n"].concat(),
        "--check writes nothing"
    );

    let fixed = codegen_bin(root, &[]);
    fixed.assert_success();
    assert_states(
        &fixed,
        &[
            ("deepseek", "unchanged"),
            ("eiotclub", "unchanged"),
            ("geekai", "updated"),
        ],
    );
    assert_eq!(fs::read(&lib_rs).expect("read"), original);
    codegen_bin(root, &["--check"]).assert_success();
}

#[test]
fn a_touched_upstream_spec_makes_the_recorded_checksum_stale_until_codegen_runs() {
    let temp = temp_workspace();
    let root = temp.path();
    let upstream = root.join("specs/deepseek/upstream.yaml");
    let source_toml = root.join("specs/deepseek/source.toml");
    let old_sha = sha256_hex(&fs::read(&upstream).expect("read"));
    assert!(
        fs::read_to_string(&source_toml)
            .expect("read")
            .contains(&format!("sha256 = \"{old_sha}\"")),
        "the vendored checksum is recorded"
    );

    append(&upstream, "# a comment added by hand\n");
    let new_sha = sha256_hex(&fs::read(&upstream).expect("read"));
    let stale = codegen_bin(root, &["--check"]);
    stale.assert_failure();
    assert_states(
        &stale,
        &[
            ("deepseek", "STALE"),
            ("eiotclub", "unchanged"),
            ("geekai", "unchanged"),
        ],
    );
    let diff = &stale.stdout;
    assert!(diff.contains("--- a/specs/deepseek/source.toml"), "{diff}");
    assert!(
        diff.lines()
            .any(|l| l == format!("-sha256 = \"{old_sha}\""))
            && diff
                .lines()
                .any(|l| l == format!("+sha256 = \"{new_sha}\"")),
        "the diff shows the stale and the actual sha256:\n{diff}"
    );
    // The checksum is also in every generated file's header.
    assert!(
        diff.contains("--- a/crates/deepseek-client/src/lib.rs"),
        "{diff}"
    );
    assert!(
        diff.contains("--- a/crates/deepseek-client/Cargo.toml"),
        "{diff}"
    );

    let fixed = codegen_bin(root, &[]);
    fixed.assert_success();
    assert_states(
        &fixed,
        &[
            ("deepseek", "updated"),
            ("eiotclub", "unchanged"),
            ("geekai", "unchanged"),
        ],
    );
    let source = fs::read_to_string(&source_toml).expect("read");
    assert!(
        source.contains(&format!("sha256 = \"{new_sha}\"")),
        "{source}"
    );
    assert!(
        fs::read_to_string(&upstream)
            .expect("read")
            .ends_with("# a comment added by hand\n"),
        "codegen never edits the vendored spec"
    );
    codegen_bin(root, &["--check"]).assert_success();
}

#[test]
fn codegen_twice_in_a_row_leaves_every_file_byte_identical() {
    let temp = temp_workspace();
    let root = temp.path();
    let before = hash_tree(root);

    let first = codegen_bin(root, &[]);
    first.assert_success();
    let after_first = hash_tree(root);
    let second = codegen_bin(root, &[]);
    second.assert_success();
    let after_second = hash_tree(root);

    assert_eq!(after_first, after_second, "the second run changed files");
    assert_eq!(
        before, after_first,
        "the checked-in files are what codegen writes"
    );
    for run in [&first, &second] {
        let vendors = vendors();
        let unchanged: Vec<(&str, &str)> =
            vendors.iter().map(|v| (v.as_str(), "unchanged")).collect();
        assert_states(run, &unchanged);
        assert_eq!(
            run.stdout.lines().count(),
            vendors.len() + 2,
            "one line per vendor, the registry and a total:\n{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("registry     unchanged crates/balances-registry/registry.json"),
            "{}",
            run.stdout
        );
        assert_total_line(run, vendors.len());
    }
}

#[test]
fn only_runs_one_vendor() {
    let temp = temp_workspace();
    let run = codegen_bin(temp.path(), &["--check", "--only", "geekai"]);
    run.assert_success();
    let states = run.vendor_states();
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        [("geekai".to_owned(), "unchanged".to_owned())],
        "{}",
        run.stdout
    );
    assert_total_line(&run, 1);
}
