//! `--output FILE`: replace a file atomically, so a reader (node_exporter's textfile
//! collector, a script polling the file) never sees it half written.

use std::io::Write;
use std::path::Path;

/// Writes `content` to a temporary file beside `path`, flushes it to disk, then renames it
/// over `path`. The temporary name does not end in `.prom`, so the textfile collector
/// ignores it while it is being written.
pub fn write_atomically(path: &Path, content: &[u8]) -> Result<(), String> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let shown = path.display();
    let mut temporary = tempfile::Builder::new()
        .prefix(".balances-")
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(|e| format!("cannot write {shown}: cannot create a file in its directory: {e}"))?;
    temporary
        .write_all(content)
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|e| format!("cannot write {shown}: {e}"))?;
    // Readable by a collector running as another user, like a file written with `>`.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = temporary
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    temporary
        .persist(path)
        .map_err(|e| format!("cannot write {shown}: {}", e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("balances.prom");
        std::fs::write(&path, "old\n").unwrap();
        write_atomically(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        let names: Vec<_> = std::fs::read_dir(directory.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["balances.prom"]);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_file() {
        let error = write_atomically(Path::new("/nonexistent-dir/x.prom"), b"x").unwrap_err();
        assert!(error.contains("/nonexistent-dir/x.prom"), "{error}");
    }
}
