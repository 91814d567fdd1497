//! Step 7, **build**: before a vendor's new crate is written, it is compiled alone in a
//! scratch workspace, so a crate that does not build (a progenitor bug, an overlay mistake)
//! is an error naming the vendor and the compiler's message, and the workspace, which would
//! fail to build with it, is left as it was.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::{CodegenError, JsonPath};
use super::repair::identifier_key;
use super::write::PlannedFile;

/// The scratch workspace and its target dir live under the target dir cargo uses for this
/// workspace, so dependencies compiled once are reused by every later check.
fn scratch_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("codegen-build")
}

/// Compiles the crate among `files` (those under `crates/<vendor>-client/`) with `cargo
/// check --offline` against the workspace's dependency versions and `Cargo.lock`.
pub fn check_crate_builds(
    root: &Path,
    vendor: &str,
    files: &[PlannedFile],
) -> Result<(), CodegenError> {
    check_crate_builds_in(root, vendor, files, &scratch_dir(root))
}

/// [`check_crate_builds`] with its scratch workspace and target dir under `scratch`.
pub fn check_crate_builds_in(
    root: &Path,
    vendor: &str,
    files: &[PlannedFile],
    scratch: &Path,
) -> Result<(), CodegenError> {
    let crate_name = format!("{vendor}-client");
    let crate_prefix = Path::new("crates").join(&crate_name);
    // One scratch workspace per vendor: two vendors (or two tests) can check at once.
    let workspace = scratch.join("workspaces").join(vendor);
    let failed = |message: String| {
        CodegenError::file(
            vendor,
            crate_prefix.join("src").join("lib.rs"),
            format!("{message}; nothing was written for this vendor"),
        )
    };
    let _ = std::fs::remove_dir_all(&workspace);
    let crate_dir = workspace.join(&crate_name);
    for file in files {
        let Ok(inside) = file.relative.strip_prefix(&crate_prefix) else {
            continue;
        };
        let path = crate_dir.join(inside);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| failed(format!("cannot prepare the build check: {e}")))?;
        }
        std::fs::write(&path, &file.contents)
            .map_err(|e| failed(format!("cannot prepare the build check: {e}")))?;
    }
    let manifest = scratch_manifest(root, &crate_name)
        .map_err(|e| failed(format!("cannot prepare the build check: {e}")))?;
    std::fs::write(workspace.join("Cargo.toml"), manifest)
        .map_err(|e| failed(format!("cannot prepare the build check: {e}")))?;
    if let Ok(lock) = std::fs::read(root.join("Cargo.lock")) {
        let _ = std::fs::write(workspace.join("Cargo.lock"), lock);
    }

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--message-format", "short"])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", scratch.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|e| failed(format!("cannot run cargo to build the crate: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("error"))
        .take(5)
        .collect();
    let detail = if errors.is_empty() {
        stderr.trim().to_owned()
    } else {
        errors.join("; ")
    };
    if let Some(located) = locate_duplicate_type(vendor, &crate_prefix, files, &stderr) {
        return Err(located);
    }
    Err(failed(format!(
        "the generated crate does not build: {detail}"
    )))
}

/// A type defined twice (E0428) is usually a component schema and another schema typify
/// named alike: the error then points at that component in the crate's `openapi.json`.
fn locate_duplicate_type(
    vendor: &str,
    crate_prefix: &Path,
    files: &[PlannedFile],
    stderr: &str,
) -> Option<CodegenError> {
    let name = stderr
        .lines()
        .find(|line| line.contains("E0428"))?
        .split('`')
        .nth(1)?
        .to_owned();
    let openapi = files
        .iter()
        .find(|file| file.relative == crate_prefix.join("openapi.json"))?;
    let document: serde_json::Value = serde_json::from_str(&openapi.contents).ok()?;
    let component = document
        .pointer("/components/schemas")?
        .as_object()?
        .keys()
        .find(|component| identifier_key(component) == identifier_key(&name))?;
    Some(CodegenError {
        vendor: vendor.to_owned(),
        file: openapi.relative.clone(),
        json_path: Some(
            JsonPath::root()
                .key("components")
                .key("schemas")
                .key(component)
                .to_string(),
        ),
        message: format!(
            "the generated crate does not build: two types are named `{name}` (E0428), this \
             schema and another one typify names after it; give the other a `title` of its own \
             in the overlay; nothing was written for this vendor"
        ),
    })
}

/// A workspace of the one crate, with the real workspace's package defaults and dependency
/// versions (path dependencies made absolute, so they resolve from the scratch folder).
fn scratch_manifest(root: &Path, crate_name: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    let mut manifest: toml::Table = text
        .parse()
        .map_err(|e| format!("Cargo.toml does not parse: {e}"))?;
    let workspace = manifest
        .get_mut("workspace")
        .and_then(toml::Value::as_table_mut)
        .ok_or("Cargo.toml has no [workspace]")?;
    workspace.insert(
        "members".into(),
        toml::Value::Array(vec![crate_name.into()]),
    );
    workspace.remove("exclude");
    workspace.remove("default-members");
    if let Some(dependencies) = workspace
        .get_mut("dependencies")
        .and_then(toml::Value::as_table_mut)
    {
        for (_, dependency) in dependencies.iter_mut() {
            if let Some(path) = dependency
                .as_table_mut()
                .and_then(|table| table.get_mut("path"))
                && let Some(relative) = path.as_str()
            {
                *path = root.join(relative).to_string_lossy().into_owned().into();
            }
        }
    }
    // Only the workspace: no root package, patches stay as they are.
    manifest.remove("package");
    toml::to_string(&manifest).map_err(|e| e.to_string())
}
