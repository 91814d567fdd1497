//! The real-world spec corpus (`xtask/tests/corpus/`): its manifest and every document's
//! checksum are checked on every `cargo test`; the full run, which compiles a crate per spec
//! (minutes), is `#[ignore]`d: `cargo test -p xtask --test corpus -- --ignored` (CI runs it),
//! or `cargo xtask corpus` for the table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use xtask::corpus::{self, Outcome};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent folder")
        .to_owned()
}

#[test]
fn the_manifest_names_every_document_with_its_checksum_and_a_varied_origin() {
    let entries = corpus::manifest(&workspace_root()).unwrap_or_else(|e| panic!("{e}"));
    assert!(entries.len() >= 27, "{} specs", entries.len());
    let origins: BTreeSet<&str> = entries.iter().map(|e| e.origin.as_str()).collect();
    assert!(origins.len() >= 8, "{origins:?}");
    let versions = |prefix: &str| {
        entries
            .iter()
            .filter(|e| e.openapi.starts_with(prefix))
            .count()
    };
    assert!(versions("3.0") >= 5 && versions("3.1") >= 5 && versions("2.0") >= 4);
    assert!(entries.iter().any(|e| e.bytes < 5_000));
    assert!(entries.iter().any(|e| e.bytes > 2_500_000));
    for entry in &entries {
        assert_eq!(entry.commit.len(), 40, "{}: a full commit id", entry.name);
        assert_eq!(entry.sha256.len(), 64, "{}: a sha256", entry.name);
    }
}

/// The documents are not in this repository (see `corpus.rs`): each must be in the documents
/// folder, byte for byte what the manifest records. Where the folder or a document is missing
/// the test says which and how to get it; with `CI` set (as `.ci/run` does) that fails.
#[test]
fn every_document_is_present_and_byte_for_byte_what_the_manifest_records() {
    let root = workspace_root();
    let entries = corpus::manifest(&root).unwrap_or_else(|e| panic!("{e}"));
    let missing = corpus::missing_documents(&root, &entries);
    for entry in &entries {
        if !missing.iter().any(|m| m.name == entry.name) {
            corpus::verify(&root, entry).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    if missing.is_empty() {
        return;
    }
    let why = format!(
        "{} of {} corpus documents are not in {} (set CORPUS_SPECS_DIR; see \
         xtask/tests/corpus/README.md):\n{}",
        missing.len(),
        entries.len(),
        corpus::documents_dir(&root).display(),
        missing
            .iter()
            .map(|entry| format!("  {}", corpus::where_to_get(entry)))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Documents asked for but not yet in the shared folder are reported, never a failure.
    if std::env::var_os("CI").is_some() && missing.iter().any(|entry| !entry.awaiting_shared) {
        panic!("{why}");
    }
    eprintln!("skipped: {why}");
}

#[test]
#[ignore = "compiles a crate per spec, minutes: run with --ignored or `cargo xtask corpus`"]
fn the_pipeline_compiles_at_least_90_percent_and_fails_clearly_on_the_rest() {
    let rows = corpus::run(&workspace_root(), None).unwrap_or_else(|e| panic!("{e}"));
    println!("{}", corpus::table(&rows));
    let compiles = rows
        .iter()
        .filter(|r| r.pipeline == Outcome::Compiles)
        .count();
    assert!(
        compiles * 100 >= rows.len() * 90,
        "{compiles} of {} compile",
        rows.len()
    );
    for row in &rows {
        match &row.pipeline {
            Outcome::Compiles => {}
            Outcome::FailsClearly(message) => {
                assert!(
                    message.starts_with(&format!("{}: ", row.name)) && message.contains(" at $"),
                    "{}: names the vendor, the file and the JSON path: {message}",
                    row.name
                );
                assert!(
                    message.contains("overlay") || message.contains("convert"),
                    "{}: says what to do: {message}",
                    row.name
                );
                for internal in [
                    "panicked",
                    "unreachable",
                    "not yet implemented",
                    ".cargo",
                    "registry/src",
                ] {
                    assert!(
                        !message.contains(internal),
                        "{}: no panic text or build-machine path: {message}",
                        row.name
                    );
                }
            }
            other => panic!("{}: {other:?}", row.name),
        }
    }
}
