//! A Swagger 2.0 vendor folder: converted before anything else, and the conversion recorded
//! in `source.toml` (kept current by `--check`, as the checksum is).

use std::fs;

use xtask::codegen::{generate_vendor, write};

use crate::support::{codegen_bin, write_vendor};

const SWAGGER_2: &str = include_str!("../fixtures/defects/swagger-2.yaml");

#[test]
fn a_swagger_2_folder_is_converted_and_the_conversion_recorded() {
    let temp = tempfile::tempdir().expect("temporary folder");
    write_vendor(temp.path(), "two", SWAGGER_2, None);
    let generated = generate_vendor(temp.path(), "two").expect("a 2.0 document generates");
    assert_eq!(generated.document["openapi"], "3.0.0");
    assert_eq!(generated.document["x-converted-from"], "Swagger 2.0");
    assert_eq!(
        generated.document["servers"],
        serde_json::json!([{"url": "https://api.example.invalid/v1"}])
    );
    let source = generated
        .files
        .iter()
        .find(|file| file.relative.ends_with("source.toml"))
        .expect("source.toml is planned");
    assert!(
        source
            .contents
            .contains("\nconverted_from = \"Swagger 2.0\"\n"),
        "{}",
        source.contents
    );

    // Written once, `--check` is clean; without the record it is stale.
    let all: Vec<_> = generated.files.iter().map(|f| f.relative.clone()).collect();
    write::write_files("two", temp.path(), &generated.files, &all).expect("written");
    codegen_bin(temp.path(), &["--check", "--only", "two"]).assert_success();
    let path = temp.path().join("specs/two/source.toml");
    let recorded = fs::read_to_string(&path).expect("source.toml");
    fs::write(
        &path,
        recorded.replace("converted_from = \"Swagger 2.0\"\n", ""),
    )
    .expect("rewritten");
    let stale = codegen_bin(temp.path(), &["--check", "--only", "two"]);
    stale.assert_failure();
    assert!(stale.stdout.contains("converted_from"), "{}", stale.stdout);
}
