//! `cargo xtask corpus`: every real, published spec of the corpus through the codegen
//! pipeline (generic passes only, no overlay), each result compiled; and the same document
//! through plain progenitor for comparison. Prints a table and writes
//! `target/corpus/report.json`.
//!
//! The manifest (`xtask/tests/corpus/manifest.toml`: origin, commit, path, sha256 of each
//! document) is in this repository; the documents are not (fetched public material is not
//! committed here). They are read from `CORPUS_SPECS_DIR`, else `../shared/corpus-specs`
//! beside the workspace, each at its manifest `file` path, and checked against its sha256.
//!
//! Slow (it compiles a crate per spec, some of them megabytes of Rust), so it is not part of
//! `cargo test`, which checks the manifest and every document's checksum;
//! `cargo test -p xtask --test corpus -- --ignored` asserts its targets (CI runs it).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codegen::{self, generate, write::PlannedFile};

/// The corpus folder, relative to the workspace root.
pub const CORPUS_DIR: &str = "xtask/tests/corpus";

/// One `[[spec]]` of `manifest.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub name: String,
    pub file: PathBuf,
    pub compressed: bool,
    pub origin: String,
    pub commit: String,
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub openapi: String,
    pub format: String,
    pub license: String,
    pub note: String,
    /// Asked for, but not yet in the shared documents folder: missing is not a failure.
    #[serde(default)]
    pub awaiting_shared: bool,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    spec: Vec<Entry>,
}

/// What happened to one document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "result", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    /// A crate was generated and `cargo check` passed.
    Compiles,
    /// Refused with an error naming the file (and, where the document is at fault, the JSON
    /// path) and what to do.
    FailsClearly(String),
    /// Generated, but the crate does not compile.
    DoesNotCompile(String),
    /// Crashed without saying where or why.
    Panicked(String),
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub bytes: u64,
    pub openapi: String,
    pub pipeline: Outcome,
    /// Seconds `codegen` took (load to generated files; compiling not included).
    pub codegen_seconds: f64,
    pub plain_progenitor: Outcome,
}

/// Where the corpus documents are: `CORPUS_SPECS_DIR`, else `../shared/corpus-specs`.
pub fn documents_dir(root: &Path) -> PathBuf {
    std::env::var_os("CORPUS_SPECS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("..").join("shared").join("corpus-specs"))
}

/// Reads the manifest.
pub fn manifest(root: &Path) -> Result<Vec<Entry>, String> {
    let text = std::fs::read_to_string(root.join(CORPUS_DIR).join("manifest.toml"))
        .map_err(|e| format!("cannot read the corpus manifest: {e}"))?;
    let manifest: Manifest =
        toml::from_str(&text).map_err(|e| format!("the corpus manifest does not parse: {e}"))?;
    Ok(manifest.spec)
}

/// Reads the manifest and checks the documents: every file exists and has the recorded size
/// and sha256. A missing document is named with where to get it.
pub fn entries(root: &Path) -> Result<Vec<Entry>, String> {
    let mut entries = manifest(root)?;
    let missing: Vec<&Entry> = missing_documents(root, &entries)
        .into_iter()
        .filter(|entry| !entry.awaiting_shared)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} corpus document(s) missing from {}:\n{}",
            missing.len(),
            documents_dir(root).display(),
            missing
                .iter()
                .map(|entry| format!("  {}", where_to_get(entry)))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    let dir = documents_dir(root);
    entries.retain(|entry| {
        let present = dir.join(&entry.file).is_file();
        if !present {
            eprintln!("corpus: {} left out: {}", entry.name, where_to_get(entry));
        }
        present
    });
    for entry in &entries {
        verify(root, entry)?;
    }
    Ok(entries)
}

/// The manifest's documents that are not in the documents folder.
pub fn missing_documents<'a>(root: &Path, entries: &'a [Entry]) -> Vec<&'a Entry> {
    let dir = documents_dir(root);
    entries
        .iter()
        .filter(|entry| !dir.join(&entry.file).is_file())
        .collect()
}

/// How to put a document in place: its file and the command that gives its bytes.
pub fn where_to_get(entry: &Entry) -> String {
    let compress = if entry.compressed {
        " | gzip -9 -n"
    } else {
        ""
    };
    format!(
        "{file}: `git show {commit}:{path}{compress}` in https://github.com/{repository}",
        file = entry.file.display(),
        commit = entry.commit,
        path = entry.path,
        repository = entry.origin.trim_start_matches("github:"),
    )
}

/// Checks a present document's bytes against the manifest's size and sha256.
pub fn verify(root: &Path, entry: &Entry) -> Result<(), String> {
    let bytes = document(root, entry)?;
    let sha = hex::encode(Sha256::digest(&bytes));
    if sha != entry.sha256 || bytes.len() as u64 != entry.bytes {
        return Err(format!(
            "{}: {} bytes with sha256 {sha}, the manifest records {} bytes with {}",
            entry.file.display(),
            bytes.len(),
            entry.bytes,
            entry.sha256
        ));
    }
    Ok(())
}

/// The document's original bytes (compressed files are stored with `gzip -9 -n`; the
/// system's gzip reads them, which every machine that builds this has).
pub fn document(root: &Path, entry: &Entry) -> Result<Vec<u8>, String> {
    let path = documents_dir(root).join(&entry.file);
    if !entry.compressed {
        return std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    }
    let output = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&path)
        .output()
        .map_err(|e| format!("cannot run gzip for {}: {e}", path.display()))?;
    if !output.status.success() {
        return Err(format!("gzip cannot read {}", path.display()));
    }
    Ok(output.stdout)
}

/// Runs the corpus (or the entries whose name contains `filter`).
pub fn run(root: &Path, filter: Option<&str>) -> Result<Vec<Row>, String> {
    let work = root.join("target").join("corpus");
    let build_dir = work.join("build");
    let mut rows = Vec::new();
    for entry in entries(root)? {
        if filter.is_some_and(|f| !entry.name.contains(f)) {
            continue;
        }
        eprintln!("corpus: {} ({} bytes)", entry.name, entry.bytes);
        let bytes = document(root, &entry)?;
        let vendor_root = work.join("workspaces").join(&entry.name);
        prepare_root(root, &vendor_root, &entry, &bytes)?;
        let started = Instant::now();
        let generated =
            std::panic::catch_unwind(|| codegen::generate_vendor(&vendor_root, &entry.name));
        let codegen_seconds = started.elapsed().as_secs_f64();
        let pipeline = match generated {
            Err(panic) => Outcome::Panicked(generate::panic_text(panic.as_ref())),
            Ok(Err(error)) => Outcome::FailsClearly(error.to_string()),
            Ok(Ok(generated)) => compile(&vendor_root, &entry.name, &generated.files, &build_dir),
        };
        let plain_progenitor = plain_progenitor(&vendor_root, &entry, &bytes, &build_dir);
        eprintln!("  pipeline: {pipeline:?}\n  plain progenitor: {plain_progenitor:?}");
        rows.push(Row {
            name: entry.name.clone(),
            bytes: entry.bytes,
            openapi: entry.openapi.clone(),
            pipeline,
            codegen_seconds,
            plain_progenitor,
        });
    }
    let report = work.join("report.json");
    let json = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
    std::fs::write(&report, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", report.display()))?;
    Ok(rows)
}

/// A workspace root of its own for one document: the real root's manifest and lock, and
/// `specs/<name>/` with the document and a `source.toml` saying where it came from.
fn prepare_root(root: &Path, into: &Path, entry: &Entry, bytes: &[u8]) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(into);
    let specs = into.join("specs").join(&entry.name);
    std::fs::create_dir_all(&specs).map_err(|e| e.to_string())?;
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(root.join(file), into.join(file)).map_err(|e| e.to_string())?;
    }
    // Every generated crate depends on the runtime, by the root manifest's path.
    copy_dir(&root.join(RUNTIME_CRATE), &into.join(RUNTIME_CRATE))?;
    let extension = if entry.format == "json" {
        "json"
    } else {
        "yaml"
    };
    std::fs::write(specs.join(format!("upstream.{extension}")), bytes)
        .map_err(|e| e.to_string())?;
    let repository = entry.origin.trim_start_matches("github:");
    let source = format!(
        "vendor = \"{name}\"\nupstream_url = \"https://github.com/{repository}/blob/{commit}/{path}\"\n\
         retrieved = \"corpus\"\nsha256 = \"{sha}\"\n",
        name = entry.name,
        commit = entry.commit,
        path = entry.path,
        sha = entry.sha256,
    );
    std::fs::write(specs.join("source.toml"), source).map_err(|e| e.to_string())
}

/// The hand-written runtime every generated crate depends on, from the workspace root.
const RUNTIME_CRATE: &str = "crates/balances-runtime";

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(())
}

/// A crate that does not build is a clear failure when the error points at the place in
/// the document (a type defined twice, traced to its component).
fn compile(root: &Path, vendor: &str, files: &[PlannedFile], build_dir: &Path) -> Outcome {
    match codegen::build::check_crate_builds_in(root, vendor, files, build_dir) {
        Ok(()) => Outcome::Compiles,
        Err(error) if error.json_path.is_some() => Outcome::FailsClearly(error.to_string()),
        Err(error) => Outcome::DoesNotCompile(error.to_string()),
    }
}

/// What a maintainer gets from progenitor alone: the document as published, parsed by
/// `openapiv3`, generated with default settings, compiled against the same dependencies.
fn plain_progenitor(root: &Path, entry: &Entry, bytes: &[u8], build_dir: &Path) -> Outcome {
    let value = match codegen::load::parse_document(bytes, entry.format == "json") {
        Ok(value) => value,
        Err(problem) => return Outcome::FailsClearly(problem.message),
    };
    let spec: openapiv3::OpenAPI = match serde_json::from_value(value) {
        Ok(spec) => spec,
        Err(error) => return Outcome::FailsClearly(format!("openapiv3 cannot read it: {error}")),
    };
    let code = match generate::plain_progenitor(&spec) {
        Ok(code) => code,
        Err(problem) if problem.message.contains("panicked") => {
            return Outcome::Panicked(problem.message);
        }
        Err(problem) => return Outcome::FailsClearly(problem.message),
    };
    let name = format!("{}-plain", entry.name);
    let crate_dir = PathBuf::from("crates").join(format!("{name}-client"));
    let files = [
        PlannedFile {
            relative: crate_dir.join("Cargo.toml"),
            contents: generate::plain_manifest(&name, &code),
        },
        PlannedFile {
            relative: crate_dir.join("src").join("lib.rs"),
            contents: code,
        },
    ];
    compile(root, &name, &files, build_dir)
}

/// The rows as a Markdown table, with the totals.
pub fn table(rows: &[Row]) -> String {
    let short = |outcome: &Outcome| match outcome {
        Outcome::Compiles => "compiles".to_owned(),
        Outcome::FailsClearly(_) => "fails clearly".to_owned(),
        Outcome::DoesNotCompile(_) => "does not compile".to_owned(),
        Outcome::Panicked(_) => "PANICS".to_owned(),
    };
    let mut text = String::from(
        "| spec | size | version | pipeline | codegen | plain progenitor |\n|---|---:|---|---|---:|---|\n",
    );
    for row in rows {
        text.push_str(&format!(
            "| {} | {} KB | {} | {} | {:.2} s | {} |\n",
            row.name,
            row.bytes.div_ceil(1024),
            row.openapi,
            short(&row.pipeline),
            row.codegen_seconds,
            short(&row.plain_progenitor),
        ));
    }
    let count = |pick: fn(&Row) -> &Outcome, want: fn(&Outcome) -> bool| {
        rows.iter().filter(|r| want(pick(r))).count()
    };
    let compiles = |o: &Outcome| *o == Outcome::Compiles;
    let panics = |o: &Outcome| matches!(o, Outcome::Panicked(_));
    text.push_str(&format!(
        "\npipeline: {} of {} compile, {} panic; plain progenitor: {} of {} compile, {} panic\n",
        count(|r| &r.pipeline, compiles),
        rows.len(),
        count(|r| &r.pipeline, panics),
        count(|r| &r.plain_progenitor, compiles),
        rows.len(),
        count(|r| &r.plain_progenitor, panics),
    ));
    text
}
