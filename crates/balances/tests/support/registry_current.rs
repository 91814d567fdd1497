//! Whether the registry the suite runs on was compiled from the vendor folders as they are.
//! Examples are compiled into `registry.json` by `cargo xtask codegen`, which records the
//! sha256 of every file of each folder (`VendorEntry::folder_sha256`); an example edited
//! since would otherwise be tested in its older form, and pass or fail for reasons no longer
//! in the file. The digests are recomputed here with the rule codegen records them by
//! (`xtask/src/codegen/describe.rs`, `folder_sha256`): every file under the folder, hidden
//! ones (a name starting with `.`) left out, by path relative to the folder with `/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use balances::balances_registry::VendorEntry;
use sha2::{Digest, Sha256};

/// The workspace's vendor folders.
pub fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

/// What changed under `specs` since `entries` were compiled, one line per folder or file
/// (`specs/acme/examples/busy.toml changed`); empty when the registry is current. Only
/// folders with a `vendor.toml` have an entry.
pub fn changed_since_codegen(specs: &Path, entries: &[VendorEntry]) -> Vec<String> {
    let mut changes = Vec::new();
    let mut folders: Vec<String> = std::fs::read_dir(specs)
        .unwrap_or_else(|e| panic!("cannot list the vendor folders in {}: {e}", specs.display()))
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("vendor.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    for folder in &folders {
        let Some(entry) = entries.iter().find(|entry| &entry.id == folder) else {
            changes.push(format!(
                "specs/{folder}/ is new: the registry has no `{folder}`"
            ));
            continue;
        };
        let now = folder_sha256(&specs.join(folder));
        for (file, digest) in &now {
            match entry.folder_sha256.get(file) {
                None => changes.push(format!("specs/{folder}/{file} is new")),
                Some(recorded) if recorded != digest => {
                    changes.push(format!("specs/{folder}/{file} changed"));
                }
                Some(_) => {}
            }
        }
        for file in entry.folder_sha256.keys().filter(|f| !now.contains_key(*f)) {
            changes.push(format!("specs/{folder}/{file} was removed"));
        }
    }
    for entry in entries.iter().filter(|e| !folders.contains(&e.id)) {
        changes.push(format!(
            "specs/{}/ was removed, but the registry still has `{}`",
            entry.id, entry.id
        ));
    }
    changes
}

/// What the suite says when the registry is older than the folders.
pub fn stale_registry_message(changes: &[String]) -> String {
    format!(
        "registry.json was compiled before these changes under specs/, so the examples would \
         be tested as they were, not as they are: run `cargo xtask codegen` (every folder; \
         `--only` does not write the registry), then this suite again.\n  {}",
        changes.join("\n  ")
    )
}

/// Stops the suite, before any example is run, when the registry is older than the folders.
pub fn assert_registry_is_current() {
    let changes = changed_since_codegen(&specs_dir(), balances::balances_registry::vendors());
    assert!(changes.is_empty(), "{}", stale_registry_message(&changes));
}

/// sha256 (lower-case hex) of every file under `folder`, by path relative to it.
fn folder_sha256(folder: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &str, digests: &mut BTreeMap<String, String>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                walk(&path, &format!("{prefix}{name}/"), digests);
            } else {
                let bytes = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                digests.insert(
                    format!("{prefix}{name}"),
                    hex::encode(Sha256::digest(&bytes)),
                );
            }
        }
    }
    let mut digests = BTreeMap::new();
    walk(folder, "", &mut digests);
    digests
}
