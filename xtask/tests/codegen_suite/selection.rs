//! Operation selection on a real, large spec: OpenRouter's published OpenAPI 3.1 document
//! (1.36 MB, 73 paths, vendored beside the repository in `../shared/vendor-specs/`), of which
//! a balance client needs `getCredits` and `getCurrentKey`.

use std::fs;

use xtask::codegen::generate_vendor;

use crate::support::{sha256_hex, temp_workspace, workspace_root};

fn openrouter_spec() -> Vec<u8> {
    let path = workspace_root().join("../shared/vendor-specs/openrouter/upstream.yaml");
    fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (../shared sits beside the repository)",
            path.display()
        )
    })
}

fn write_openrouter(root: &std::path::Path, operations: &str) {
    let spec = openrouter_spec();
    let dir = root.join("specs/openrouter");
    fs::create_dir_all(&dir).expect("folder");
    fs::write(dir.join("upstream.yaml"), &spec).expect("spec");
    fs::write(
        dir.join("source.toml"),
        format!(
            "vendor = \"OpenRouter\"\n\
             upstream_url = \"https://github.com/OpenRouterTeam/docs/blob/c26125a5/openapi/openapi.yaml\"\n\
             retrieved = \"2026-12-01\"\n\
             sha256 = \"{}\"\n\
             operations = {operations}\n",
            sha256_hex(&spec)
        ),
    )
    .expect("source.toml");
}

#[test]
fn a_large_published_spec_gives_a_small_crate_for_the_selected_operations() {
    let temp = temp_workspace();
    write_openrouter(temp.path(), r#"["getCredits", "GET /key"]"#);
    let generated = generate_vendor(temp.path(), "openrouter").unwrap_or_else(|e| panic!("{e}"));

    let paths: Vec<&String> = generated.document["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .collect();
    assert_eq!(paths, ["/credits", "/key"]);
    let lib_rs = &generated
        .files
        .iter()
        .find(|f| f.relative.ends_with("src/lib.rs"))
        .expect("lib.rs")
        .contents;
    assert!(
        lib_rs.contains("pub fn get_credits(&self)"),
        "getCredits is generated"
    );
    assert!(
        !lib_rs.contains("pub fn list_models"),
        "other operations are not"
    );
    assert!(
        lib_rs.len() < 200_000,
        "a small crate, not the whole API: {} bytes",
        lib_rs.len()
    );
}

#[test]
fn a_selected_operation_that_does_not_exist_names_the_file_and_the_setting() {
    let temp = temp_workspace();
    write_openrouter(temp.path(), r#"["getCredits", "GET /balance"]"#);
    let error = generate_vendor(temp.path(), "openrouter").expect_err("no GET /balance");
    let text = error.to_string();
    assert!(text.contains("specs/openrouter/source.toml"), "{text}");
    assert!(
        text.contains("`operations`") && text.contains("`GET /balance`"),
        "{text}"
    );
}
