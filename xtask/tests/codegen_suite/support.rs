//! Shared helpers: the real workspace, temporary copies of it, the xtask binary, hashing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The vendor folders of this workspace, in the order codegen reports them.
pub fn vendors() -> Vec<String> {
    xtask::codegen::load::vendor_names(&workspace_root().join("specs"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The real workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent folder")
        .to_owned()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Copies `from` into `to` recursively (files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("list {}: {e}", from.display())) {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// A temporary copy of what the xtask binary reads and writes under `--root`: `specs/` of the
/// vendored vendors and their generated `crates/<vendor>-client/`, the runtime they depend on
/// (so a changed crate can be built alone), the generated `balances-vendors` crate, the root
/// `Cargo.toml` and `Cargo.lock`, the vendor registry and the JSON Schemas whose vendor lists
/// codegen keeps.
pub fn temp_workspace() -> TempDir {
    let root = workspace_root();
    let temp = tempfile::Builder::new()
        .prefix("xtask-codegen-")
        .tempdir()
        .expect("temporary folder");
    for vendor in vendors() {
        let vendor = vendor.as_str();
        copy_dir(
            &root.join("specs").join(vendor),
            &temp.path().join("specs").join(vendor),
        );
        let client = format!("{vendor}-client");
        copy_dir(
            &root.join("crates").join(&client),
            &temp.path().join("crates").join(&client),
        );
    }
    for shared in ["balances-runtime", "balances-vendors"] {
        copy_dir(
            &root.join("crates").join(shared),
            &temp.path().join("crates").join(shared),
        );
    }
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "crates/balances-registry/registry.json",
        "crates/balances/balance.schema.json",
        "crates/balances-cli/output.schema.json",
    ] {
        let target = temp.path().join(file);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).expect("create folder");
        }
        fs::copy(root.join(file), target).expect("copy workspace file");
    }
    temp
}

/// Writes `specs/<vendor>/` under `root`: the spec, an overlay if given, and a `source.toml`
/// that records the spec's real sha256.
pub fn write_vendor(root: &Path, vendor: &str, upstream: &str, overlay: Option<&str>) {
    let dir = root.join("specs").join(vendor);
    fs::create_dir_all(&dir).expect("create vendor folder");
    fs::write(dir.join("upstream.yaml"), upstream).expect("write upstream.yaml");
    if let Some(overlay) = overlay {
        fs::write(dir.join("overlay.yaml"), overlay).expect("write overlay.yaml");
    }
    let source = format!(
        "vendor = \"{vendor}\"\n\
         upstream_url = \"https://example.invalid/{vendor}/openapi.yaml\"\n\
         retrieved = \"2026-11-23\"\n\
         sha256 = \"{sha}\"\n",
        sha = sha256_hex(upstream.as_bytes()),
    );
    fs::write(dir.join("source.toml"), source).expect("write source.toml");
}

/// Runs the built xtask binary: `xtask codegen <args> --root <root>`.
/// Runs `xtask codegen` on `root`. Written crates are not compiled first (`--no-build`):
/// the build check has tests of its own ([`codegen_bin_building`]), and compiling in every
/// test would cost minutes.
pub fn codegen_bin(root: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("codegen").args(args);
    if !args.contains(&"--check") {
        command.arg("--no-build");
    }
    Run::from(
        command
            .arg("--root")
            .arg(root)
            .output()
            .expect("run the xtask binary"),
    )
}

/// Runs `xtask codegen` on `root` with its build check, compiling into a target dir of the
/// tests' own under the real one (dependencies are reused from run to run, and the main
/// target dir's lock is not held while this builds).
pub fn codegen_bin_building(root: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("codegen")
        .args(args)
        .arg("--root")
        .arg(root)
        .env(
            "CARGO_TARGET_DIR",
            workspace_root().join("target").join("xtask-tests"),
        )
        .output()
        .expect("run the xtask binary");
    Run::from(output)
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.success,
            "expected success\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert!(
            !self.success,
            "expected failure\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The state column (`updated`, `unchanged`, `STALE`) of each vendor line.
    pub fn vendor_states(&self) -> BTreeMap<String, String> {
        self.stdout
            .lines()
            .filter(|line| !line.starts_with("codegen:"))
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let vendor = words.next()?;
                let state = words.next()?;
                let rest = words.collect::<Vec<_>>().join(" ");
                rest.contains("file(s) differ; repairs:")
                    .then(|| (vendor.to_owned(), state.to_owned()))
            })
            .collect()
    }
}

/// sha256 of every file under `dir`, by path relative to it.
pub fn hash_tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(base: &Path, dir: &Path, hashes: &mut BTreeMap<PathBuf, String>) {
        for entry in fs::read_dir(dir).expect("list folder") {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            if entry.file_type().expect("file type").is_dir() {
                walk(base, &path, hashes);
            } else {
                let bytes = fs::read(&path).expect("read file");
                let relative = path.strip_prefix(base).expect("under base").to_owned();
                hashes.insert(relative, sha256_hex(&bytes));
            }
        }
    }
    let mut hashes = BTreeMap::new();
    walk(dir, dir, &mut hashes);
    hashes
}

/// Every JSON object key anywhere in `value`, with the JSON pointer of the object holding it.
pub fn all_keys(value: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, at: &str, keys: &mut Vec<(String, String)>) {
        match value {
            Value::Object(object) => {
                for (key, child) in object {
                    keys.push((at.to_owned(), key.clone()));
                    walk(
                        child,
                        &format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                        keys,
                    );
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}/{i}"), keys);
                }
            }
            _ => {}
        }
    }
    let mut keys = Vec::new();
    walk(value, "", &mut keys);
    keys
}

/// Every string value anywhere in `value`, with the JSON pointer where it sits.
pub fn all_strings(value: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, at: &str, strings: &mut Vec<(String, String)>) {
        match value {
            Value::String(s) => strings.push((at.to_owned(), s.clone())),
            Value::Object(object) => {
                for (key, child) in object {
                    walk(
                        child,
                        &format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                        strings,
                    );
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}/{i}"), strings);
                }
            }
            _ => {}
        }
    }
    let mut strings = Vec::new();
    walk(value, "", &mut strings);
    strings
}
