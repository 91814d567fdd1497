//! The one error type of the codegen pipeline.
//!
//! Every failure names the vendor, the file and, where the document itself is at fault, the
//! JSON path inside it, so a maintainer can go straight to the line that needs an overlay
//! action or a new repair pass.

use std::fmt;
use std::path::PathBuf;

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
#[error("{vendor}: {file}{at}: {message}", file = file.display(), at = JsonPathSuffix(json_path.as_deref()))]
pub struct CodegenError {
    /// The vendor folder name under `specs/`, or `workspace` for problems outside one.
    pub vendor: String,
    /// The file at fault, relative to the workspace root where possible.
    pub file: PathBuf,
    /// A JSONPath-style location inside `file` (`$.paths['/user/balance'].get`), if known.
    pub json_path: Option<String>,
    /// What is wrong, in one sentence.
    pub message: String,
}

struct JsonPathSuffix<'a>(Option<&'a str>);

impl fmt::Display for JsonPathSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, " at {path}"),
            None => Ok(()),
        }
    }
}

/// A problem found inside a document, before the caller knows which vendor and file it is.
///
/// Repair passes and the validator return this; [`SpecProblem::in_file`] attaches the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecProblem {
    pub json_path: String,
    pub message: String,
}

impl SpecProblem {
    pub fn new(json_path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            json_path: json_path.into(),
            message: message.into(),
        }
    }

    pub fn in_file(self, vendor: &str, file: impl Into<PathBuf>) -> CodegenError {
        CodegenError {
            vendor: vendor.to_owned(),
            file: file.into(),
            json_path: Some(self.json_path),
            message: self.message,
        }
    }
}

impl CodegenError {
    /// A failure that concerns a whole file (unreadable, wrong checksum, ...).
    pub fn file(vendor: &str, file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            vendor: vendor.to_owned(),
            file: file.into(),
            json_path: None,
            message: message.into(),
        }
    }
}

/// Builds JSONPath strings the way the errors show them: `$.a.b['/x/{y}'][0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPath(String);

impl JsonPath {
    pub fn root() -> Self {
        Self("$".to_owned())
    }

    pub fn key(&self, key: &str) -> Self {
        let plain = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !key.starts_with(|c: char| c.is_ascii_digit());
        if plain {
            Self(format!("{}.{key}", self.0))
        } else {
            Self(format!("{}['{}']", self.0, key.replace('\'', "\\'")))
        }
    }

    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    pub fn problem(&self, message: impl Into<String>) -> SpecProblem {
        SpecProblem::new(self.0.clone(), message)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_quote_keys_that_are_not_identifiers() {
        let path = JsonPath::root()
            .key("paths")
            .key("/user/balance")
            .key("get")
            .key("responses")
            .key("401")
            .index(0);
        assert_eq!(
            path.as_str(),
            "$.paths['/user/balance'].get.responses['401'][0]"
        );
    }

    #[test]
    fn display_names_vendor_file_and_path() {
        let err = JsonPath::root()
            .key("paths")
            .problem("bad")
            .in_file("geekai", "specs/geekai/upstream.yaml");
        assert_eq!(
            err.to_string(),
            "geekai: specs/geekai/upstream.yaml at $.paths: bad"
        );
    }
}
