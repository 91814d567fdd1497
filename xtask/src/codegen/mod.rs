//! `cargo xtask codegen`: one typed client crate per vendored spec.
//!
//! Data flows one way, each step a plain function: [`load`] → [`convert`] → [`select`] → [`repair`] →
//! [`overlay`] → [`validate`] → [`generate`] → [`describe`] → [`build`] →
//! [`write`](mod@write). Nothing here knows a vendor by name: a vendor is a
//! folder under `specs/`.

pub mod account_parameters;
pub mod build;
pub mod convert;
pub mod describe;
pub mod docs;
pub mod error;
pub mod generate;
pub mod load;
pub mod overlay;
pub mod project;
pub mod repair;
pub mod select;
pub mod spend;
pub mod validate;
pub mod vendors;
pub mod write;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use error::{CodegenError, SpecProblem};
use load::VendorSpec;
use repair::RepairReport;
use write::PlannedFile;

/// What to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace root (the folder holding `specs/` and `crates/`).
    pub root: PathBuf,
    /// Only this vendor folder, instead of all of them.
    pub only: Option<String>,
    /// Write nothing; report what is out of date.
    pub check: bool,
    /// Before writing a vendor's changed crate, compile it alone (see [`build`]).
    pub build: bool,
}

/// What happened to one vendor.
#[derive(Debug)]
pub struct VendorOutcome {
    pub vendor: String,
    pub repairs: RepairReport,
    /// Files whose bytes differ from what the pipeline produced, with a unified diff each.
    /// In write mode they have been rewritten; in check mode they are what is stale.
    pub changed: Vec<(PathBuf, String)>,
}

/// Everything the pipeline produced for one vendor, before anything is written.
#[derive(Debug)]
pub struct Generated {
    pub spec: VendorSpec,
    pub repairs: RepairReport,
    /// The document given to progenitor.
    pub document: Value,
    pub files: Vec<PlannedFile>,
    /// The vendor's registry entry, when its folder has a `vendor.toml`.
    pub entry: Option<balances_registry::VendorEntry>,
}

/// Runs the pipeline for every selected vendor.
pub fn run(options: &Options) -> Result<Vec<VendorOutcome>, CodegenError> {
    let specs_dir = options.root.join("specs");
    let vendors = match &options.only {
        Some(only) => vec![only.clone()],
        None => load::vendor_names(&specs_dir)?,
    };
    // Vendors are generated side by side (each is independent, and most of a vendor's time
    // is rustfmt in a child process), then checked and written one by one, in name order,
    // so output and the first error reported are the same as a sequential run's.
    let generated: Vec<Result<Generated, CodegenError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = vendors
            .iter()
            .map(|vendor| scope.spawn(|| generate_vendor(&options.root, vendor)))
            .collect();
        handles
            .into_iter()
            .zip(&vendors)
            .map(|(handle, vendor)| {
                handle.join().unwrap_or_else(|panic| {
                    Err(CodegenError::file(
                        vendor,
                        Path::new("specs").join(vendor),
                        format!("codegen panicked: {}", generate::panic_text(panic.as_ref())),
                    ))
                })
            })
            .collect()
    });
    let mut outcomes = Vec::with_capacity(vendors.len() + 1);
    let mut entries = Vec::new();
    for (vendor, generated) in vendors.into_iter().zip(generated) {
        let mut generated = generated?;
        entries.extend(generated.entry.take());
        let changed = write::stale_files(&options.root, &generated.files);
        if !options.check {
            if options.build && !changed.is_empty() {
                build::check_crate_builds(&options.root, &vendor, &generated.files)?;
            }
            let paths: Vec<PathBuf> = changed.iter().map(|(path, _)| path.clone()).collect();
            write::write_files(&vendor, &options.root, &generated.files, &paths)?;
        }
        outcomes.push(VendorOutcome {
            vendor,
            repairs: generated.repairs,
            changed,
        });
    }
    // The registry is every vendor's entry: with `--only`, the others are not at hand.
    if options.only.is_none() {
        outcomes.push(write_registry(options, entries)?);
    }
    Ok(outcomes)
}

/// The name [`run`] gives the registry's outcome, after the vendors'.
pub const REGISTRY_OUTCOME: &str = "registry";

/// Compares (and, unless checking, writes) `crates/balances-registry/registry.json` and the
/// vendor lists of the checked-in JSON Schemas.
fn write_registry(
    options: &Options,
    entries: Vec<balances_registry::VendorEntry>,
) -> Result<VendorOutcome, CodegenError> {
    let mut ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
    ids.sort_unstable();
    let mut files = Vec::with_capacity(1 + describe::SCHEMA_FILES.len());
    for schema in describe::SCHEMA_FILES {
        let text = std::fs::read_to_string(options.root.join(schema)).map_err(|e| {
            CodegenError::file(REGISTRY_OUTCOME, schema, format!("cannot read: {e}"))
        })?;
        let contents = describe::schema_with_vendors(&text, &ids)
            .map_err(|message| CodegenError::file(REGISTRY_OUTCOME, schema, message))?;
        files.push(PlannedFile {
            relative: PathBuf::from(schema),
            contents,
        });
    }
    let version = workspace_version(&options.root)?;
    for mut file in vendors::vendors_crate(&ids, &version) {
        if file.relative.extension().is_some_and(|e| e == "rs") {
            file.contents = generate::rustfmt(&file.contents).map_err(|p| {
                CodegenError::file(REGISTRY_OUTCOME, file.relative.clone(), p.message)
            })?;
        }
        files.push(file);
    }
    files.push(PlannedFile {
        relative: PathBuf::from(describe::REGISTRY_FILE),
        contents: describe::registry_json(entries),
    });
    let changed = write::stale_files(&options.root, &files);
    if !options.check {
        let paths: Vec<PathBuf> = changed.iter().map(|(path, _)| path.clone()).collect();
        write::write_files(REGISTRY_OUTCOME, &options.root, &files, &paths)?;
    }
    Ok(VendorOutcome {
        vendor: REGISTRY_OUTCOME.to_owned(),
        repairs: RepairReport::default(),
        changed,
    })
}

/// The workspace's `[workspace.package] version`, which the generated manifests' path
/// dependencies name.
fn workspace_version(root: &Path) -> Result<String, CodegenError> {
    let failed = |message: String| CodegenError::file(REGISTRY_OUTCOME, "Cargo.toml", message);
    let text = std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| failed(format!("cannot read: {e}")))?;
    let manifest: toml::Value =
        toml::from_str(&text).map_err(|e| failed(format!("not TOML: {e}")))?;
    manifest
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(toml::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| failed("no `workspace.package.version`".to_owned()))
}

/// load → convert → select → repair → overlay → validate → generate for one vendor folder;
/// writes nothing.
pub fn generate_vendor(root: &Path, vendor: &str) -> Result<Generated, CodegenError> {
    let spec = load::load_vendor(&root.join("specs"), vendor).map_err(|mut error| {
        error.file = relative(root, &error.file);
        error
    })?;
    let relative_upstream = relative(root, &spec.upstream_path);

    let mut document = spec.document.clone();
    let conversion =
        convert::convert(&mut document).map_err(|p| p.in_file(vendor, &relative_upstream))?;
    if let Some(operations) = &spec.source.operations {
        select::select_operations(&mut document, operations).map_err(|message| {
            CodegenError::file(
                vendor,
                relative(root, &spec.dir.join(load::SOURCE_FILE)),
                format!(
                    "`operations`: {message} in {relative_upstream}",
                    relative_upstream = relative_upstream.display()
                ),
            )
        })?;
    }
    let repairs =
        repair::repair(&mut document).map_err(|p| p.in_file(vendor, &relative_upstream))?;
    if let Some((overlay_path, overlay_text)) = &spec.overlay {
        overlay::apply_overlay(
            vendor,
            &relative(root, overlay_path),
            overlay_text,
            &mut document,
        )?;
    }
    if let Some(object) = document.as_object_mut() {
        if let Some(conversion) = &conversion {
            object.insert("x-converted-from".into(), conversion.from.clone().into());
        }
        object.insert(
            "x-generated-by".into(),
            format!(
                "`{}` from specs/{vendor}/; do not edit by hand",
                generate::COMMAND
            )
            .into(),
        );
    }
    let openapi_json = to_pretty_json(&document);
    let crate_dir = PathBuf::from("crates").join(format!("{vendor}-client"));
    let generated_file = crate_dir.join("openapi.json");
    let openapi =
        validate::validate(&openapi_json).map_err(|p| p.in_file(vendor, &generated_file))?;
    let mut entry = describe::describe(root, vendor, &document)?;
    let generated = generate::generate(&spec, &openapi, entry.as_ref())
        .map_err(|p| p.in_file(vendor, &generated_file))?;

    let source_toml = relative(root, &spec.dir.join(load::SOURCE_FILE));
    let files = vec![
        PlannedFile {
            relative: source_toml.clone(),
            contents: with_recorded_conversion(
                &with_recorded_checksum(
                    &std::fs::read_to_string(root.join(&source_toml)).unwrap_or_default(),
                    &spec.actual_sha256,
                ),
                conversion.as_ref().map(|c| c.from.as_str()),
            ),
        },
        PlannedFile {
            relative: crate_dir.join("Cargo.toml"),
            contents: generated.cargo_toml,
        },
        PlannedFile {
            relative: crate_dir.join("src").join("lib.rs"),
            contents: generated.lib_rs,
        },
        PlannedFile {
            relative: crate_dir.join("README.md"),
            contents: generated.readme,
        },
        PlannedFile {
            relative: generated_file,
            contents: openapi_json,
        },
    ];
    // What the registry entry was compiled from, as this run leaves the folder.
    if let Some(entry) = &mut entry {
        entry.folder_sha256 = describe::folder_sha256(root, vendor, &files)?;
    }
    Ok(Generated {
        spec,
        repairs,
        document,
        files,
        entry,
    })
}

/// Pretty JSON with sorted keys (serde_json's map is ordered by key) and a final newline.
fn to_pretty_json(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).unwrap_or_default();
    text.push('\n');
    text
}

/// `source.toml` with its `sha256` line set to `sha256`, everything else kept byte for byte.
fn with_recorded_checksum(source_toml: &str, sha256: &str) -> String {
    let mut replaced = false;
    let mut lines: Vec<String> = source_toml
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("sha256") && line.contains('=') {
                replaced = true;
                format!("sha256 = \"{sha256}\"")
            } else {
                line.to_owned()
            }
        })
        .collect();
    if !replaced {
        lines.push(format!("sha256 = \"{sha256}\""));
    }
    lines.join("\n") + "\n"
}

/// `source.toml` saying whether the pipeline converted the spec: a `converted_from` line after
/// `sha256` when it did, none when it did not; everything else kept byte for byte.
fn with_recorded_conversion(source_toml: &str, converted_from: Option<&str>) -> String {
    let is_conversion_line =
        |line: &str| line.trim_start().starts_with("converted_from") && line.contains('=');
    let mut lines: Vec<String> = source_toml
        .lines()
        .filter(|line| !is_conversion_line(line))
        .map(str::to_owned)
        .collect();
    if let Some(from) = converted_from {
        let line = format!("converted_from = \"{from}\"");
        let after_checksum = lines
            .iter()
            .position(|line| line.trim_start().starts_with("sha256"))
            .map_or(lines.len(), |at| at + 1);
        lines.insert(after_checksum, line);
    }
    lines.join("\n") + "\n"
}

fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_line_is_replaced_and_the_rest_kept() {
        let before = "# comment\nvendor = \"X\"\nsha256 = \"old\"\nretrieved = \"d\"\n";
        assert_eq!(
            with_recorded_checksum(before, "new"),
            "# comment\nvendor = \"X\"\nsha256 = \"new\"\nretrieved = \"d\"\n"
        );
        assert_eq!(
            with_recorded_checksum("vendor = \"X\"\n", "n"),
            "vendor = \"X\"\nsha256 = \"n\"\n"
        );
    }

    #[test]
    fn a_conversion_is_recorded_after_the_checksum_and_removed_when_gone() {
        let before = "vendor = \"X\"\nsha256 = \"s\"\nretrieved = \"d\"\n";
        let converted = with_recorded_conversion(before, Some("Swagger 2.0"));
        assert_eq!(
            converted,
            "vendor = \"X\"\nsha256 = \"s\"\nconverted_from = \"Swagger 2.0\"\nretrieved = \"d\"\n"
        );
        assert_eq!(
            with_recorded_conversion(&converted, Some("Swagger 2.0")),
            converted
        );
        assert_eq!(with_recorded_conversion(&converted, None), before);
    }
}
