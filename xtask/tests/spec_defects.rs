//! Real-world spec defects beyond the vendored seeds: each fixture under
//! `tests/fixtures/defects/` carries one exporter defect or OpenAPI 3.1 construct. Each must
//! either generate a crate that compiles or fail with a clear error naming the file and the
//! JSON path. All generated crates are compiled together in one `cargo check`.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use xtask::codegen::{self, write};

/// What each fixture must do.
enum Expect {
    /// Generates; the generated `lib.rs` contains each of these snippets.
    Generates(&'static [&'static str]),
    /// Fails; the error's text contains each of these snippets.
    Fails(&'static [&'static str]),
}

const FIXTURES: &[(&str, Expect)] = &[
    (
        "nullable-any-of.yaml",
        Expect::Generates(&[
            "pub owner: ::std::option::Option<Owner>",
            "pub note: ::std::option::Option<::std::string::String>",
        ]),
    ),
    (
        "ref-siblings.yaml",
        Expect::Generates(&[
            "pub limit: ::std::option::Option<",
            "pub amount: ::std::option::Option<::balances_runtime::ExactDecimal>",
        ]),
    ),
    (
        "path-level-parameters.yaml",
        Expect::Generates(&[
            "pub fn account<V>",
            "pub fn wallet<V>",
            "/accounts/{}/wallets/{}",
        ]),
    ),
    (
        "json-spec.json",
        Expect::Generates(&["pub fn get_balance(&self)"]),
    ),
    (
        "bom-crlf.yaml",
        Expect::Generates(&["pub fn get_balance(&self)"]),
    ),
    (
        "duplicate-operation-ids.yaml",
        Expect::Generates(&[
            "pub fn get_balance(&self)",
            "pub fn get_balance_history(&self)",
        ]),
    ),
    (
        "non-ascii-operations.yaml",
        Expect::Generates(&["pub fn get_user_balance(&self)", "单位：元"]),
    ),
    (
        "several-media-types.yaml",
        Expect::Generates(&[
            "pub fn top_up(&self)",
            "ResponseValue<types::Receipt>",
            "types::TopUp",
        ]),
    ),
    (
        "unquoted-status-codes.yaml",
        Expect::Generates(&["200u16 =>", "401u16 =>"]),
    ),
    (
        "openapi31-keywords.yaml",
        Expect::Generates(&[
            "pub amount: ::std::option::Option<::balances_runtime::ExactDecimal>",
            "Prepaid",
            "pub ratio: ::std::option::Option<f64>",
        ]),
    ),
    (
        "yaml-anchors.yaml",
        Expect::Generates(&[
            "pub fn get_balance(&self)",
            "pub fn get_balance_again(&self)",
            "500u16 =>",
        ]),
    ),
    (
        "default-error-beside-success.yaml",
        Expect::Generates(&["400u16..=499u16 =>", "500u16..=599u16 =>"]),
    ),
    (
        "error-bodies-differ.yaml",
        Expect::Generates(&["pub struct GetBalanceErrorBody", "401u16 =>", "500u16 =>"]),
    ),
    (
        "prefix-items.yaml",
        Expect::Generates(&[
            "ResponseValue<::std::vec::Vec<types::GetPairResponseItem>>",
            "pub enum GetPairResponseItem",
        ]),
    ),
    (
        "if-then-else.yaml",
        Expect::Generates(&["pub last4: ::std::option::Option<::std::string::String>"]),
    ),
    (
        "conditional-on-a-union.yaml",
        Expect::Fails(&[
            "conditional-on-a-union: specs/conditional-on-a-union/upstream.yaml at ",
            "$.paths['/value'].get.responses['200'].content['application/json'].schema.if",
            "overlay",
        ]),
    ),
    (
        "enum-subset.yaml",
        Expect::Generates(&["pub enum ThingColorsItem", "Red,", "Green,"]),
    ),
    (
        "inline-type-named-like-a-component.yaml",
        Expect::Generates(&[
            "pub enum ClassificationTemplateValue",
            "pub struct ClassificationTemplate",
            "pub enum CollaborationItemValue",
            "pub enum CollaborationItem",
        ]),
    ),
    (
        "raw-request-bodies.yaml",
        Expect::Generates(&[
            "pub fn run_query(&self)",
            "pub fn post_note(&self)",
            "pub fn put_image(&self)",
        ]),
    ),
    (
        "parameter-unions-and-cookies.yaml",
        Expect::Generates(&[
            "pub fn get_report(&self)",
            "start: Result<Option<::std::string::String>, String>",
        ]),
    ),
    (
        "swagger-2.yaml",
        Expect::Generates(&[
            "pub fn list_accounts(&self)",
            "pub fn create_account(&self)",
            "pub struct AccountAccount",
            "pub nickname: ::std::option::Option<::std::string::String>",
        ]),
    ),
    (
        "media-type-without-schema.yaml",
        Expect::Fails(&[
            "media-type-without-schema: crates/media-type-without-schema-client/openapi.json",
            "a media type without a `schema`, which progenitor cannot decode",
            "at $.paths['/balance'].get:",
        ]),
    ),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Writes `specs/<name>/` for one fixture into a scratch workspace.
fn add_vendor(root: &Path, name: &str, fixture: &Path) {
    let bytes = std::fs::read(fixture).unwrap();
    let extension = fixture.extension().unwrap().to_str().unwrap();
    let dir = root.join("specs").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("upstream.{extension}")), &bytes).unwrap();
    std::fs::write(
        dir.join("source.toml"),
        format!(
            "vendor = \"{name}\"\nupstream_url = \"https://example.invalid/{name}\"\nretrieved = \"2026-11-23\"\nsha256 = \"{}\"\n",
            hex::encode(Sha256::digest(&bytes))
        ),
    )
    .unwrap();
}

/// A scratch workspace with the real workspace's dependency pins, so generated crates build.
fn scratch_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let real = workspace_root();
    let manifest = std::fs::read_to_string(real.join("Cargo.toml")).unwrap();
    let manifest = manifest.replace(
        r#"members = ["crates/*", "xtask", "tests"]"#,
        r#"members = ["crates/*"]"#,
    );
    assert!(
        manifest.contains(r#"members = ["crates/*"]"#),
        "the workspace members line changed"
    );
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(real.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(dir.path().join("crates")).unwrap();
    // What every generated crate depends on.
    copy_tree(
        &real.join("crates/balances-runtime"),
        &dir.path().join("crates/balances-runtime"),
    );
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn every_defect_fixture_generates_a_compiling_crate_or_fails_clearly() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/defects");
    let scratch = scratch_workspace();
    let root = scratch.path();
    let mut generated = 0;
    for (file, expect) in FIXTURES {
        let name = file.rsplit_once('.').unwrap().0;
        add_vendor(root, name, &fixtures.join(file));
        let result = codegen::generate_vendor(root, name);
        match (expect, result) {
            (Expect::Generates(snippets), Ok(output)) => {
                let lib_rs = &output
                    .files
                    .iter()
                    .find(|f| f.relative.ends_with("src/lib.rs"))
                    .unwrap()
                    .contents;
                for snippet in *snippets {
                    assert!(
                        lib_rs.contains(snippet),
                        "{file}: generated lib.rs lacks {snippet:?}\n{lib_rs}"
                    );
                }
                let all: Vec<PathBuf> = output.files.iter().map(|f| f.relative.clone()).collect();
                write::write_files(name, root, &output.files, &all).unwrap();
                generated += 1;
            }
            (Expect::Fails(snippets), Err(error)) => {
                let text = error.to_string();
                for internal in ["panicked", "unreachable", ".cargo", "registry/src"] {
                    assert!(
                        !text.contains(internal),
                        "{file}: no internal text or build-machine path: {text}"
                    );
                }
                for snippet in *snippets {
                    assert!(
                        text.contains(snippet),
                        "{file}: error {text:?} lacks {snippet:?}"
                    );
                }
            }
            (Expect::Generates(_), Err(error)) => panic!("{file} should generate, but: {error}"),
            (Expect::Fails(_), Ok(_)) => panic!("{file} should fail to generate, but it generated"),
        }
    }
    let on_disk = std::fs::read_dir(fixtures).unwrap().count();
    assert_eq!(
        on_disk,
        FIXTURES.len(),
        "every fixture file needs an expectation here"
    );

    // One `cargo check` for all generated crates; a dedicated target dir keeps the build cache
    // across runs without waiting on the lock of the target dir running this test.
    let target_dir = workspace_root().join("target").join("xtask-tests");
    let output = Command::new(env!("CARGO"))
        .args(["check", "--offline", "--workspace", "--quiet"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{generated} generated crates do not compile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
