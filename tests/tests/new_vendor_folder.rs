//! The proof that a vendor is a folder: copy the workspace, add a vendor nobody designed for
//! (`tests/fixtures/new-vendor`, "Acme Cloud": an authored spec, a key in its own header,
//! wallets in a map keyed by currency or unit, a unit that is not money, a success flag, 409
//! meaning rate limited) as `specs/acme/`, then run, in the copy, `cargo xtask codegen`, the
//! conformance suite, and the real `balances` command against the fake vendors, and check
//! that no hand-written `.rs` file changed: codegen wrote the client crate and the registry,
//! nothing else.
//!
//! On the way it makes the mistakes README "Adding a vendor" warns about, each of which must
//! give the message the README shows: the authored spec's amounts not marked in an overlay,
//! an example key codegen does not read, a `code` on a kind that keeps none, and an example
//! edited after codegen ran (the conformance suite stops and says to run it).
//!
//! The copy builds in a target directory of its own, `target/new-vendor-proof/`: sharing
//! this build's would not be sound, because cargo names a workspace crate's artifacts by its
//! path relative to the workspace root, so the copy's registry crate (with the new vendor)
//! would replace this workspace's under the same name and look fresh to it. The directory
//! is kept between runs, so only the first run compiles the dependencies (minutes on two
//! cores); the test is `#[ignore]`d in the default run and `.ci/run` runs it:
//! `cargo test -p workspace-tests --test new_vendor_folder -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_owned()
}

/// The copy's own target directory, inside this build's (`target/debug/deps/<test>` →
/// `target/new-vendor-proof`), kept between runs.
fn target_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_exe()
            .expect("the test binary's path")
            .ancestors()
            .nth(3)
            .expect("target/<profile>/deps/<binary>")
            .to_owned(),
    };
    target.join("new-vendor-proof")
}

/// Runs `program` in `dir`; it must succeed, or fail when `succeeds` is false.
fn run_expecting(dir: &Path, program: &str, args: &[&str], succeeds: bool) -> Output {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert_eq!(
        output.status.success(),
        succeeds,
        "{program} {args:?}: {}:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn run(dir: &Path, program: &str, args: &[&str]) -> Output {
    run_expecting(dir, program, args, true)
}

fn cargo(dir: &Path, args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(dir, &cargo, args)
}

/// Runs cargo, which must fail; its stdout and stderr together.
fn cargo_failing(dir: &Path, args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = run_expecting(dir, &cargo, args, false);
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Replaces `from` with `to` in `file`, which must contain it.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    assert!(text.contains(from), "{} has no {from:?}", file.display());
    std::fs::write(file, text.replace(from, to)).expect("write");
}

/// The README's line that starts with `start`: the message it promises.
#[track_caller]
fn readme_line(readme: &str, start: &str) -> String {
    let mut lines = readme
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with(start));
    let line = lines
        .next()
        .unwrap_or_else(|| panic!("README.md shows no line starting {start:?}"));
    assert!(lines.next().is_none(), "README.md shows {start:?} twice");
    line.to_owned()
}

#[track_caller]
fn assert_says(output: &str, promised: &str) {
    assert!(
        output.contains(promised),
        "the README promises\n{promised}\nbut the output is:\n{output}"
    );
}

/// The workspace's files as git knows them (committed or not ignored), copied to `to`.
fn copy_workspace(to: &Path) {
    let root = workspace_root();
    let listed = run(
        &root,
        "git",
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    );
    for name in listed.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).expect("UTF-8 paths");
        let from = root.join(name);
        if !from.is_file() {
            continue; // listed but deleted in the working tree
        }
        let dest = to.join(name);
        std::fs::create_dir_all(dest.parent().expect("a parent")).expect("create dir");
        std::fs::copy(&from, &dest).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).expect("copy fixture file");
        }
    }
}

#[test]
#[ignore = "builds a copy of the workspace in its own target dir (minutes the first time); .ci/run runs it"]
fn a_new_vendor_is_one_folder_and_one_command() {
    let copy = tempfile::tempdir().expect("temp dir");
    let copy = copy.path();
    copy_workspace(copy);
    run(copy, "git", &["init", "-q"]);
    run(copy, "git", &["add", "-A"]);
    run(
        copy,
        "git",
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "base",
        ],
    );

    let readme = std::fs::read_to_string(copy.join("README.md")).expect("README.md");
    let acme = copy.join("specs/acme");
    copy_dir(&workspace_root().join("tests/fixtures/new-vendor"), &acme);

    // The mistakes "Adding a vendor" warns about, each refused with the message it shows.
    // An authored spec's amounts are marked `format: decimal` in the overlay, which codegen
    // asks for with the action to paste.
    let overlay = std::fs::read_to_string(acme.join("overlay.yaml")).expect("overlay");
    std::fs::remove_file(acme.join("overlay.yaml")).expect("remove overlay");
    assert_says(
        &cargo_failing(copy, &["xtask", "codegen"]),
        &readme_line(
            &readme,
            "error: acme: specs/acme/vendor.toml: balance.total: ",
        ),
    );
    std::fs::write(acme.join("overlay.yaml"), overlay).expect("restore overlay");
    // A key an example may not have, and a code on a kind that keeps none.
    let example = acme.join("examples/unknown_key.toml");
    edit(&example, "message_contains =", "message =");
    assert_says(
        &cargo_failing(copy, &["xtask", "codegen"]),
        &readme_line(
            &readme,
            "error: acme: specs/acme/examples/unknown_key.toml: expected.error.message: ",
        ),
    );
    edit(&example, "message =", "message_contains =");
    edit(
        &example,
        "kind = \"authentication\"",
        "kind = \"authentication\"\ncode = \"bad_key\"",
    );
    assert_says(
        &cargo_failing(copy, &["xtask", "codegen"]),
        &readme_line(
            &readme,
            "error: acme: specs/acme/examples/unknown_key.toml: expected.error.code: ",
        ),
    );
    edit(&example, "\ncode = \"bad_key\"", "");

    cargo(copy, &["xtask", "codegen"]);

    // Nothing hand-written changed: every changed or new `.rs` file is in the generated
    // client crate or the generated list of vendors (`balances-vendors`: its feature and
    // binding); the rest is the folder, the registry, the vendor lists of the JSON Schemas
    // (codegen keeps them) and the lock file.
    run(copy, "git", &["add", "-A"]);
    let changed = run(copy, "git", &["diff", "--cached", "--name-only"]);
    let changed = String::from_utf8(changed.stdout).expect("UTF-8");
    for file in changed.lines() {
        assert!(
            file.starts_with("specs/acme/")
                || file.starts_with("crates/acme-client/")
                || file.starts_with("crates/balances-vendors/")
                || file == "crates/balances-registry/registry.json"
                || file == "crates/balances/balance.schema.json"
                || file == "crates/balances-cli/output.schema.json"
                || file == "Cargo.lock",
            "codegen changed {file}, which a new vendor must not need"
        );
    }
    assert!(
        changed.contains("crates/acme-client/src/lib.rs"),
        "no client generated:\n{changed}"
    );
    let crate_readme =
        std::fs::read_to_string(copy.join("crates/acme-client/README.md")).expect("README.md");
    let crate_readme = crate_readme
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        crate_readme.contains("an OpenAPI document authored from the vendor's documentation"),
        "the crate says its spec is authored:\n{crate_readme}"
    );
    let schema = std::fs::read_to_string(copy.join("crates/balances/balance.schema.json"))
        .expect("the schema");
    assert!(
        schema.contains("\"acme\""),
        "the schema lists the new vendor"
    );

    cargo(copy, &["xtask", "codegen", "--check"]);
    let conformance = ["test", "-q", "-p", "balances", "--test", "conformance"];
    // An example edited after codegen ran: the suite stops and says to run it, naming the
    // file, rather than testing the example as it was.
    edit(
        &example,
        "message_contains = \"no such key\"",
        "message_contains = \"such key\"",
    );
    let stale = cargo_failing(copy, &conformance);
    assert_says(
        &stale,
        &readme_line(
            &readme,
            "registry.json was compiled before these changes under specs/",
        ),
    );
    assert_says(&stale, "specs/acme/examples/unknown_key.toml changed");
    cargo(copy, &["xtask", "codegen"]);
    let summary = cargo(copy, &conformance);
    let summary = String::from_utf8_lossy(&summary.stdout);
    assert!(summary.contains("5 passed"), "{summary}");

    // The real command, with one demo account per vendor served by the fake vendors from
    // the registry: Acme's account is there, read through its header scheme and map rows.
    let output = cargo(
        copy,
        &[
            "run",
            "-q",
            "-p",
            "balances-cli",
            "--features",
            "demo",
            "--",
            "--demo",
            "--format",
            "json",
        ],
    );
    let results: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("JSON from the command");
    let acme = results
        .as_array()
        .expect("one result per account")
        .iter()
        .find(|r| r["vendor"] == "acme")
        .unwrap_or_else(|| panic!("no acme account in the demo: {results}"));
    let balance = &acme["balance"];
    assert_eq!(balance["amounts"][0]["currency"], "EUR", "{acme}");
    assert_eq!(balance["amounts"][0]["total"], "12.50", "{acme}");
    assert_eq!(balance["units"][0]["unit"], "tokens", "{acme}");
    assert_eq!(balance["units"][0]["total"], "3000", "{acme}");
}
