//! Failures name the vendor, the file and, where the document is at fault, the JSON path; a
//! progenitor panic is an error, never a crash.

use std::fs;
use std::path::Path;

use xtask::codegen::{CodegenError, Options, generate_vendor, run};

use crate::support::{codegen_bin, temp_workspace, write_vendor};

/// A union with a condition whose branches change the type: OpenAPI 3.0 cannot hold both.
const CONDITIONAL_UNION: &str = include_str!("../fixtures/defects/conditional-on-a-union.yaml");

/// A JSON response without a schema: valid OpenAPI, but progenitor-impl 0.15.1 hits
/// `todo!("media type encoding, no schema")` in method.rs on it.
const JSON_WITHOUT_SCHEMA: &str =
    include_str!("../fixtures/defects/media-type-without-schema.yaml");

const VALID: &str = r#"openapi: 3.0.3
info: {title: Valid, version: '1'}
paths:
  /balance:
    get:
      operationId: getBalance
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  amount: {type: string}
"#;

fn generate_error(root: &Path, vendor: &str) -> CodegenError {
    match generate_vendor(root, vendor) {
        Ok(_) => panic!("{vendor}: expected an error"),
        Err(error) => error,
    }
}

#[test]
fn an_unrepairable_construct_names_vendor_file_and_json_path() {
    let temp = tempfile::tempdir().expect("temporary folder");
    write_vendor(temp.path(), "tuple", CONDITIONAL_UNION, None);
    let error = generate_error(temp.path(), "tuple");
    assert_eq!(error.vendor, "tuple");
    assert_eq!(error.file, Path::new("specs/tuple/upstream.yaml"));
    assert_eq!(
        error.json_path.as_deref(),
        Some("$.paths['/value'].get.responses['200'].content['application/json'].schema.if")
    );
    assert!(
        error.message.contains("overlay"),
        "says what to do: {error}"
    );
    let shown = error.to_string();
    assert!(
        shown.starts_with("tuple: specs/tuple/upstream.yaml at $.paths['/value']"),
        "{shown}"
    );

    // The binary prints the same and fails.
    let run = codegen_bin(temp.path(), &[]);
    run.assert_failure();
    assert!(
        run.stderr.contains(&format!("error: {shown}")),
        "{}",
        run.stderr
    );
    assert!(
        !temp.path().join("crates/tuple-client").exists(),
        "nothing is written for a failed vendor"
    );
}

#[test]
fn a_progenitor_panic_is_an_error_naming_vendor_file_and_operation() {
    let temp = tempfile::tempdir().expect("temporary folder");
    write_vendor(temp.path(), "noschema", JSON_WITHOUT_SCHEMA, None);
    let error = generate_error(temp.path(), "noschema");
    assert_eq!(error.vendor, "noschema");
    assert_eq!(error.file, Path::new("crates/noschema-client/openapi.json"));
    assert_eq!(error.json_path.as_deref(), Some("$.paths['/balance'].get"));
    assert!(
        error
            .message
            .contains("a media type without a `schema`, which progenitor cannot decode"),
        "the construct is explained: {error}"
    );
    for internal in [
        "panicked",
        "todo",
        "not yet implemented",
        ".cargo",
        "registry/src",
    ] {
        assert!(
            !error.message.contains(internal),
            "no panic text or build-machine path: {error}"
        );
    }

    let run = codegen_bin(temp.path(), &[]);
    run.assert_failure();
    assert!(
        run.stderr.contains(
            "error: noschema: crates/noschema-client/openapi.json at $.paths['/balance'].get: \
             a media type without a `schema`, which progenitor cannot decode; give it one in the overlay"
        ),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("RUST_BACKTRACE") && !run.stderr.contains("thread 'main' panicked"),
        "the panic is caught, not printed: {}",
        run.stderr
    );
}

#[test]
fn progenitor_panics_on_several_threads_are_each_reported_with_their_own_message() {
    // The panic hook is process-wide; generation on other threads (as in this test binary)
    // must neither steal the message nor leave a hook behind.
    let temp = tempfile::tempdir().expect("temporary folder");
    write_vendor(temp.path(), "noschema", JSON_WITHOUT_SCHEMA, None);
    write_vendor(temp.path(), "valid", VALID, None);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let root = temp.path();
                scope.spawn(move || {
                    if i % 2 == 0 {
                        let error = generate_error(root, "noschema");
                        assert!(
                            error.message.contains("a media type without a `schema`"),
                            "{error}"
                        );
                    } else {
                        generate_vendor(root, "valid").expect("the valid spec generates");
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("no thread panicked");
        }
    });
}

#[test]
fn an_overlay_action_that_matches_nothing_names_the_action() {
    let temp = tempfile::tempdir().expect("temporary folder");
    let overlay = r#"overlay: 1.0.0
info: {title: t, version: '1'}
actions:
  - target: $.info
    update: {title: Still valid}
  - target: $.paths['/moved'].get
    update: {operationId: getMoved}
"#;
    write_vendor(temp.path(), "moved", VALID, Some(overlay));
    let error = generate_error(temp.path(), "moved");
    assert_eq!(error.vendor, "moved");
    assert_eq!(error.file, Path::new("specs/moved/overlay.yaml"));
    assert_eq!(error.json_path.as_deref(), Some("$.actions[1]"));
    assert!(
        error.message.contains("/moved"),
        "the target is shown: {error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("moved: specs/moved/overlay.yaml at $.actions[1]: "),
        "{error}"
    );
}

#[test]
fn a_wrong_recorded_sha256_is_reported_by_check() {
    let temp = temp_workspace();
    let root = temp.path();
    let source_toml = root.join("specs/eiotclub/source.toml");
    let original = fs::read_to_string(&source_toml).expect("read");
    let actual = original
        .lines()
        .find_map(|line| line.strip_prefix("sha256 = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("a sha256 line")
        .to_owned();
    let wrong = "0".repeat(64);
    fs::write(&source_toml, original.replace(&actual, &wrong)).expect("write");

    let outcomes = run(&Options {
        root: root.to_owned(),
        only: Some("eiotclub".to_owned()),
        check: true,
        build: false,
    })
    .expect("check runs");
    let stale: Vec<_> = outcomes[0].changed.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(stale, [Path::new("specs/eiotclub/source.toml")]);

    let check = codegen_bin(root, &["--check"]);
    check.assert_failure();
    assert!(
        check.stdout.contains("--- a/specs/eiotclub/source.toml")
            && check
                .stdout
                .lines()
                .any(|l| l == format!("-sha256 = \"{wrong}\""))
            && check
                .stdout
                .lines()
                .any(|l| l == format!("+sha256 = \"{actual}\"")),
        "{}",
        check.stdout
    );
    assert_eq!(
        fs::read_to_string(&source_toml).expect("read"),
        original.replace(&actual, &wrong),
        "--check writes nothing"
    );
}

#[test]
fn a_missing_source_toml_field_or_spec_names_the_file() {
    let temp = tempfile::tempdir().expect("temporary folder");
    let dir = temp.path().join("specs/broken");
    fs::create_dir_all(&dir).expect("create");
    fs::write(dir.join("source.toml"), "vendor = \"Broken\"\n").expect("write");
    let error = generate_error(temp.path(), "broken");
    assert_eq!(error.vendor, "broken");
    assert!(error.file.ends_with("specs/broken/source.toml"), "{error}");
    assert!(error.message.contains("invalid source.toml"), "{error}");
}

#[test]
fn a_description_that_does_not_fit_the_spec_names_the_file_and_the_key() {
    let temp = temp_workspace();
    let root = temp.path();
    let description = root.join("specs/deepseek/vendor.toml");
    let original = fs::read_to_string(&description).expect("read vendor.toml");
    for (edit, expected) in [
        (
            ("total = \"/total_balance\"", "total = \"/total\""),
            "deepseek: specs/deepseek/vendor.toml: balance.total: `/total` is not in the success response of `getUserBalance`",
        ),
        (
            ("total = \"/total_balance\"", "total = \"/currency\""),
            "deepseek: specs/deepseek/vendor.toml: balance.total: `/currency` is string in the spec \
             without `format: decimal`, so the generated client would hold it as `String`, not an \
             exact decimal; mark it in specs/deepseek/overlay.yaml with the Overlay 1.0 action \
             `{target: \"$.paths['/user/balance'].get.responses['200'].content['application/json']\
             .schema.properties.balance_infos.items.properties.currency\", update: {format: decimal}}`",
        ),
        (
            (
                "available = \"/is_available\"",
                "available = \"/balance_infos\"",
            ),
            "deepseek: specs/deepseek/vendor.toml: balance.available: `/balance_infos` is array in the spec, not a boolean",
        ),
        (
            (
                "operation = \"getUserBalance\"",
                "operation = \"getBalance\"",
            ),
            "deepseek: specs/deepseek/vendor.toml: balance.operation: the spec has no operation `getBalance`",
        ),
    ] {
        fs::write(&description, original.replace(edit.0, edit.1)).expect("write");
        let error = generate_error(root, "deepseek");
        assert_eq!(error.to_string(), expected);
    }

    // A hand edit of the compiled registry is stale for `--check`.
    fs::write(&description, &original).expect("write");
    let registry = root.join("crates/balances-registry/registry.json");
    let compiled = fs::read_to_string(&registry).expect("read registry");
    fs::write(&registry, compiled.replace("\"DeepSeek\"", "\"DeepSeek!\"")).expect("write");
    let check = codegen_bin(root, &["--check"]);
    check.assert_failure();
    assert!(
        check.stdout.contains("registry     STALE")
            && check
                .stdout
                .contains("--- a/crates/balances-registry/registry.json"),
        "{}",
        check.stdout
    );
}
