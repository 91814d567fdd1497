//! Step 6, **write**: put generated files on disk only when their bytes changed, or, for
//! `--check`, write nothing and describe each difference as a unified diff.

use std::path::{Path, PathBuf};

use similar::TextDiff;

use super::error::CodegenError;

/// One file the pipeline wants on disk, with the bytes it should hold.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    /// Relative to the workspace root, for messages and diffs.
    pub relative: PathBuf,
    pub contents: String,
}

/// Compares planned files with the disk. Returns the ones that differ, with a unified diff
/// of each (a missing file diffs against the empty string).
pub fn stale_files(root: &Path, planned: &[PlannedFile]) -> Vec<(PathBuf, String)> {
    planned
        .iter()
        .filter_map(|file| {
            let current = std::fs::read_to_string(root.join(&file.relative)).unwrap_or_default();
            (current != file.contents).then(|| {
                let name = file.relative.display().to_string();
                let diff = TextDiff::from_lines(&current, &file.contents)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string();
                (file.relative.clone(), diff)
            })
        })
        .collect()
}

/// Writes the given files, creating folders as needed.
pub fn write_files(
    vendor: &str,
    root: &Path,
    planned: &[PlannedFile],
    which: &[PathBuf],
) -> Result<(), CodegenError> {
    for file in planned.iter().filter(|f| which.contains(&f.relative)) {
        let path = root.join(&file.relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                CodegenError::file(vendor, parent, format!("cannot create folder: {e}"))
            })?;
        }
        std::fs::write(&path, &file.contents).map_err(|e| {
            CodegenError::file(vendor, &file.relative, format!("cannot write: {e}"))
        })?;
    }
    Ok(())
}
