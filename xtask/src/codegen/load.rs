//! Step 1, **load**: read a vendor folder, hash the vendored spec (codegen records the
//! checksum, `--check` compares it), and parse it (YAML or JSON) into a `serde_json::Value`.
//! A Swagger 2.0 document is read like any other; the next step,
//! [`convert`](super::convert), makes OpenAPI 3 of it.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::{CodegenError, JsonPath, SpecProblem};

/// The file names a vendored spec may have, in the order they are looked for.
pub const UPSTREAM_NAMES: [&str; 3] = ["upstream.yaml", "upstream.yml", "upstream.json"];
pub const SOURCE_FILE: &str = "source.toml";
pub const OVERLAY_FILE: &str = "overlay.yaml";

/// `specs/<vendor>/source.toml`: where the vendored spec came from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    /// The vendor's display name, used in generated docs ("DeepSeek").
    pub vendor: String,
    pub upstream_url: String,
    /// The document the spec was extracted from, if it was not downloaded directly.
    pub seed: Option<String>,
    /// A short description of the exporter and OpenAPI version, for the generated docs.
    pub format: Option<String>,
    /// When the spec was retrieved (YYYY-MM-DD).
    pub retrieved: String,
    /// Hex sha256 of the upstream file's bytes.
    pub sha256: String,
    /// The operations to generate (operationIds as published, or `"METHOD /path"`); all of
    /// them when absent. See [`super::select`].
    #[serde(default)]
    pub operations: Option<Vec<String>>,
    /// What the spec is: the vendor's published document, byte for byte (the default), the
    /// block embedded in a documentation page, or a document authored here from the
    /// documentation because the vendor publishes none.
    #[serde(default)]
    pub origin: Origin,
    /// Written by codegen, as `sha256` is: the format the vendor published when the pipeline
    /// converted it to OpenAPI 3 (`"Swagger 2.0"`); absent when the spec is OpenAPI 3.
    #[serde(default)]
    pub converted_from: Option<String>,
    /// The vendor's own machine-readable files an authored spec was written from, kept
    /// beside it byte for byte (`[[evidence]]`); each is checked against its recorded
    /// checksum on every run.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// A file of the vendor's kept in its folder as evidence (not read by codegen otherwise).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The file's name in the vendor folder.
    pub file: String,
    /// Where it was published.
    pub url: String,
    /// What it is, for people.
    pub about: String,
    /// Hex sha256 of its bytes, written by a person: the evidence must not change unseen.
    /// (Not `sha256`: codegen rewrites that line of `source.toml` for the spec.)
    pub file_sha256: String,
}

/// Where a vendored spec comes from (`origin` in `source.toml`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The vendor's published document, byte for byte.
    #[default]
    Published,
    /// The OpenAPI block of a documentation page, transcribed; not byte-checked against it.
    DocumentationPage,
    /// Written for this workspace from the vendor's documentation: the vendor publishes none.
    Authored,
}

/// One vendor folder, read from disk.
#[derive(Debug)]
pub struct VendorSpec {
    /// Folder name under `specs/`: also the crate name prefix (`<name>-client`).
    pub name: String,
    pub dir: PathBuf,
    pub source: SourceInfo,
    pub upstream_path: PathBuf,
    /// The hex sha256 of the upstream bytes as they are on disk now.
    pub actual_sha256: String,
    pub document: Value,
    /// The overlay document, if the vendor has one.
    pub overlay: Option<(PathBuf, String)>,
}

/// Lists the vendor folders under `specs_dir`, sorted by name so output order is stable.
pub fn vendor_names(specs_dir: &Path) -> Result<Vec<String>, CodegenError> {
    let entries = std::fs::read_dir(specs_dir).map_err(|e| {
        CodegenError::file(
            "workspace",
            specs_dir,
            format!("cannot list vendor folders: {e}"),
        )
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            CodegenError::file(
                "workspace",
                specs_dir,
                format!("cannot list vendor folders: {e}"),
            )
        })?;
        if entry.path().join(SOURCE_FILE).is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Reads `specs/<name>/`: `source.toml`, the upstream spec and the optional overlay.
pub fn load_vendor(specs_dir: &Path, name: &str) -> Result<VendorSpec, CodegenError> {
    let dir = specs_dir.join(name);
    if !is_valid_vendor_name(name) {
        return Err(CodegenError::file(
            name,
            &dir,
            "vendor folder names must be lowercase ASCII letters, digits and '-', starting with a letter",
        ));
    }
    let source_path = dir.join(SOURCE_FILE);
    let source_text = read_text(name, &source_path)?;
    let source: SourceInfo = toml::from_str(&source_text)
        .map_err(|e| CodegenError::file(name, &source_path, format!("invalid source.toml: {e}")))?;

    let upstream_path = UPSTREAM_NAMES
        .iter()
        .map(|file| dir.join(file))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            CodegenError::file(
                name,
                &dir,
                format!(
                    "no vendored spec: expected one of {}",
                    UPSTREAM_NAMES.join(", ")
                ),
            )
        })?;
    let bytes = std::fs::read(&upstream_path)
        .map_err(|e| CodegenError::file(name, &upstream_path, format!("cannot read: {e}")))?;
    let actual_sha256 = hex::encode(Sha256::digest(&bytes));
    let is_json = upstream_path.extension().is_some_and(|ext| ext == "json");
    let document =
        parse_document(&bytes, is_json).map_err(|problem| problem.in_file(name, &upstream_path))?;

    for evidence in &source.evidence {
        check_evidence(name, &dir, evidence)?;
    }

    let overlay_path = dir.join(OVERLAY_FILE);
    let overlay = if overlay_path.is_file() {
        let text = read_text(name, &overlay_path)?;
        Some((overlay_path, text))
    } else {
        None
    };

    Ok(VendorSpec {
        name: name.to_owned(),
        dir,
        source,
        upstream_path,
        actual_sha256,
        document,
        overlay,
    })
}

/// An evidence file must be a plain file of the folder, not one codegen reads as the spec,
/// with the bytes its recorded checksum says.
fn check_evidence(vendor: &str, dir: &Path, evidence: &Evidence) -> Result<(), CodegenError> {
    let path = dir.join(&evidence.file);
    let plain = !evidence.file.is_empty()
        && !evidence.file.contains(['/', '\\'])
        && !evidence.file.starts_with('.');
    if !plain || UPSTREAM_NAMES.contains(&evidence.file.as_str()) || evidence.file == SOURCE_FILE {
        return Err(CodegenError::file(
            vendor,
            dir.join(SOURCE_FILE),
            format!(
                "evidence `{}`: name a file of the vendor folder other than the spec, \
                 source.toml and the overlay",
                evidence.file
            ),
        ));
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| CodegenError::file(vendor, &path, format!("cannot read evidence: {e}")))?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != evidence.file_sha256 {
        return Err(CodegenError::file(
            vendor,
            &path,
            format!(
                "the evidence file's sha256 is {actual}, not the {} recorded in source.toml: \
                 evidence is kept byte for byte",
                evidence.file_sha256
            ),
        ));
    }
    Ok(())
}

fn is_valid_vendor_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn read_text(vendor: &str, path: &Path) -> Result<String, CodegenError> {
    std::fs::read_to_string(path)
        .map_err(|e| CodegenError::file(vendor, path, format!("cannot read: {e}")))
}

/// Parses a spec's bytes. Tolerates what exporters emit that parsers choke on: a UTF-8 byte
/// order mark, CRLF line endings, and YAML mapping keys that are not strings (an unquoted
/// `200:` response code is an integer in YAML, but OpenAPI keys are always strings).
pub fn parse_document(bytes: &[u8], is_json: bool) -> Result<Value, SpecProblem> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| SpecProblem::new("$", format!("the file is not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if is_json {
        return serde_json::from_str(text).map_err(|e| {
            SpecProblem::new(
                "$",
                format!(
                    "invalid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
            )
        });
    }
    let mut yaml = parse_yaml_with_wide_integers(text)?;
    yaml.apply_merge()
        .map_err(|e| SpecProblem::new("$", format!("invalid YAML merge key: {e}")))?;
    yaml_to_json(yaml, &JsonPath::root())
}

/// YAML integers beyond 64 bits (`minimum: -9223372036854776000`, what JavaScript exporters
/// print for `i64::MIN`) cannot be held by the YAML model; JSON reads such numbers as floats,
/// and so does this: each one the parser refuses is given a `.0` and the text parsed again.
/// (Integer bounds that are then out of range are handled by a repair pass.)
fn parse_yaml_with_wide_integers(text: &str) -> Result<serde_yaml_ng::Value, SpecProblem> {
    const MAX_REWRITES: usize = 10_000;
    let mut text = std::borrow::Cow::Borrowed(text);
    for _ in 0..MAX_REWRITES {
        let error = match serde_yaml_ng::from_str(&text) {
            Ok(yaml) => return Ok(yaml),
            Err(error) => error,
        };
        let message = error.to_string();
        let wide = message.contains("as i128") || message.contains("as u128");
        let rewritten = error
            .location()
            .filter(|_| wide)
            .and_then(|at| as_float_at(&text, at.index()));
        match rewritten {
            Some(fixed) => text = std::borrow::Cow::Owned(fixed),
            None => return Err(SpecProblem::new("$", format!("invalid YAML: {message}"))),
        }
    }
    Err(SpecProblem::new(
        "$",
        "invalid YAML: too many integers beyond 64 bits",
    ))
}

/// `text` with the integer literal that starts at byte `index` written as a float.
fn as_float_at(text: &str, index: usize) -> Option<String> {
    let rest = text.get(index..)?;
    let length = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(rest.len(), |(i, _)| i);
    let literal = &rest[..length];
    if !literal.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{}{literal}.0{}", &text[..index], &rest[length..]))
}

fn yaml_to_json(yaml: serde_yaml_ng::Value, path: &JsonPath) -> Result<Value, SpecProblem> {
    use serde_yaml_ng::Value as Yaml;
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => yaml_number_to_json(&n)
            .ok_or_else(|| path.problem(format!("the number {n} has no JSON representation")))?,
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| yaml_to_json(item, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(mapping) => {
            let mut object = serde_json::Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    Yaml::Null => "null".to_owned(),
                    other => {
                        return Err(path
                            .problem(format!("a mapping key must be a scalar, found {other:?}")));
                    }
                };
                let value = yaml_to_json(value, &path.key(&key))?;
                object.insert(key, value);
            }
            Value::Object(object)
        }
        Yaml::Tagged(tagged) => {
            return Err(path.problem(format!(
                "YAML tags are not part of OpenAPI (found {})",
                tagged.tag
            )));
        }
    })
}

fn yaml_number_to_json(n: &serde_yaml_ng::Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        Some(Value::from(i))
    } else if let Some(u) = n.as_u64() {
        Some(Value::from(u))
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn yaml_integers_beyond_64_bits_are_read_as_floats() {
        let text = "a: {minimum: -9223372036854776000, maximum: 18446744073709551616, n: 5}\n";
        let value = parse_document(text.as_bytes(), false).expect("parses");
        assert_eq!(
            value["a"]["minimum"].as_f64(),
            Some(-9_223_372_036_854_776_000.0)
        );
        assert_eq!(
            value["a"]["maximum"].as_f64(),
            Some(18_446_744_073_709_551_616.0)
        );
        assert_eq!(value["a"]["n"], serde_json::json!(5));
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn evidence_is_checked_byte_for_byte_and_must_be_a_plain_file_of_the_folder() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("vendor-api.json"), b"{}").expect("written");
        let evidence = |file: &str, sha: &str| Evidence {
            file: file.to_owned(),
            url: "https://example.invalid/api.json".to_owned(),
            about: "API description".to_owned(),
            file_sha256: sha.to_owned(),
        };
        let of_braces = hex::encode(Sha256::digest(b"{}"));
        assert!(
            check_evidence("acme", dir.path(), &evidence("vendor-api.json", &of_braces)).is_ok()
        );
        let changed = check_evidence("acme", dir.path(), &evidence("vendor-api.json", "00"))
            .expect_err("a checksum that does not match");
        assert!(changed.to_string().contains("byte for byte"), "{changed}");
        for refused in ["upstream.json", "../x.json", "", ".hidden", "source.toml"] {
            assert!(
                check_evidence("acme", dir.path(), &evidence(refused, &of_braces)).is_err(),
                "{refused:?}"
            );
        }
        assert!(check_evidence("acme", dir.path(), &evidence("missing.json", &of_braces)).is_err());
    }

    #[test]
    fn unquoted_status_codes_become_string_keys() {
        let doc = parse_document(b"responses:\n  200:\n    description: ok\n", false).unwrap();
        assert_eq!(doc, json!({"responses": {"200": {"description": "ok"}}}));
    }

    #[test]
    fn byte_order_mark_and_crlf_are_accepted() {
        let doc = parse_document(
            b"\xef\xbb\xbfopenapi: 3.0.3\r\ninfo:\r\n  title: t\r\n",
            false,
        )
        .unwrap();
        assert_eq!(doc, json!({"openapi": "3.0.3", "info": {"title": "t"}}));
        let doc = parse_document(b"\xef\xbb\xbf{\"openapi\": \"3.0.3\"}", true).unwrap();
        assert_eq!(doc, json!({"openapi": "3.0.3"}));
    }

    #[test]
    fn yaml_tags_are_rejected_with_their_path() {
        let problem = parse_document(b"info:\n  title: !custom x\n", false).unwrap_err();
        assert_eq!(problem.json_path, "$.info.title");
        assert!(problem.message.contains("custom"), "{}", problem.message);
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let problem = parse_document(b"{\n  \"a\": ,\n}", true).unwrap_err();
        assert!(problem.message.contains("line 2"), "{}", problem.message);
    }
}
