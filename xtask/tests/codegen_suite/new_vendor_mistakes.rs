//! The mistakes README "Adding a vendor" warns about, made on the made-up vendor of the
//! new-vendor proof (`tests/fixtures/new-vendor`, an authored spec), each refused with the
//! message the README shows: a key an example may not have, a `code` on a kind that keeps
//! none, and an authored spec's money left unmarked. In-process and without compiling, so
//! cheap; the proof (`tests/tests/new_vendor_folder.rs`) makes the same mistakes in a copy of
//! the workspace with the real commands.

use std::fs;
use std::path::Path;

use tempfile::TempDir;
use xtask::codegen::{CodegenError, Generated, generate_vendor};

use crate::support::{copy_dir, workspace_root};

/// `specs/acme/` in a temporary root: the fixture, then `change` applied to it.
fn acme_with(change: impl FnOnce(&Path)) -> (TempDir, Result<Generated, CodegenError>) {
    let temp = tempfile::tempdir().expect("temporary folder");
    let acme = temp.path().join("specs/acme");
    copy_dir(&workspace_root().join("tests/fixtures/new-vendor"), &acme);
    change(&acme);
    let generated = generate_vendor(temp.path(), "acme");
    (temp, generated)
}

fn refused(change: impl FnOnce(&Path)) -> String {
    match acme_with(change).1 {
        Ok(_) => panic!("codegen accepted the mistake"),
        Err(error) => error.to_string(),
    }
}

/// `cargo xtask codegen` prints an error as `error: <it>`; README shows that line.
#[track_caller]
fn assert_readme_shows(shown: &str) {
    let readme = fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    let line = format!("error: {shown}");
    assert!(
        readme.contains(&line),
        "README.md does not show the message codegen gives:\n{line}"
    );
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(file).expect("read fixture file");
    assert!(text.contains(from), "{} has no {from:?}", file.display());
    fs::write(file, text.replace(from, to)).expect("write fixture file");
}

#[test]
fn the_fixture_compiles_records_its_files_and_its_crate_says_the_spec_is_authored() {
    let (_temp, generated) = acme_with(|_| {});
    let generated = generated.unwrap_or_else(|e| panic!("{e}"));
    let entry = generated.entry.expect("a registry entry");
    assert_eq!(
        entry.folder_sha256.keys().collect::<Vec<_>>(),
        [
            "examples/busy.toml",
            "examples/unknown_key.toml",
            "examples/wallets.toml",
            "overlay.yaml",
            "source.toml",
            "upstream.yaml",
            "vendor.toml",
        ]
    );
    let readme = generated
        .files
        .iter()
        .find(|file| file.relative.ends_with("README.md"))
        .expect("the crate's README");
    let words = readme
        .contents
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("an OpenAPI document authored from the vendor's documentation"),
        "{}",
        readme.contents
    );
    assert!(
        !readme.contents.contains("published OpenAPI document"),
        "{}",
        readme.contents
    );
}

#[test]
fn an_example_key_codegen_does_not_read_is_refused_naming_file_and_key() {
    let shown = refused(|acme| {
        edit(
            &acme.join("examples/unknown_key.toml"),
            "message_contains =",
            "message =",
        );
    });
    assert_eq!(
        shown,
        "acme: specs/acme/examples/unknown_key.toml: expected.error.message: unknown field \
         `message`, expected one of `kind`, `code`, `message_contains`"
    );
    assert_readme_shows(&shown);
}

#[test]
fn a_code_on_a_kind_that_keeps_none_is_refused_saying_why() {
    let shown = refused(|acme| {
        edit(
            &acme.join("examples/unknown_key.toml"),
            "kind = \"authentication\"",
            "kind = \"authentication\"\ncode = \"bad_key\"",
        );
    });
    assert_eq!(
        shown,
        "acme: specs/acme/examples/unknown_key.toml: expected.error.code: only an error of kind \
         `vendor` keeps the vendor's code; kind `authentication` keeps the status and the \
         message, so this code could never be checked: remove `code`, or check the text with \
         `message_contains`"
    );
    assert_readme_shows(&shown);
}

#[test]
fn an_authored_spec_without_its_overlay_is_told_where_format_decimal_goes() {
    let shown = refused(|acme| {
        fs::remove_file(acme.join("overlay.yaml")).expect("remove overlay");
    });
    assert_eq!(
        shown,
        "acme: specs/acme/vendor.toml: balance.total: the row itself (`\"\"`) is string in the \
         spec without `format: decimal`, so the generated client would hold it as `String`, not \
         an exact decimal; mark it in specs/acme/overlay.yaml with the Overlay 1.0 action \
         `{target: \"$.components.schemas.Wallet.properties.wallets.properties.eur\", update: \
         {format: decimal}}`"
    );
    assert_readme_shows(&shown);
}
