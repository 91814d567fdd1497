//! Step 3, **overlay**: apply `specs/<vendor>/overlay.yaml`, an OpenAPI Overlay 1.0 document
//! holding what only a person can decide for one vendor (the operationId to publish, money
//! fields marked `format: decimal`, the documented error body, type names).

use std::path::Path;

use enumset::EnumSet;
use roas_overlay::apply::{Apply, ApplyOptions};
use roas_overlay::v1_0::Overlay;
use roas_overlay::validation::{Validate, ValidationOptions};
use serde_json::Value;

use super::error::{CodegenError, JsonPath};
use super::load::parse_document;

/// Applies an overlay to `doc`. Every action must match at least one node: an action that
/// matches nothing means the upstream spec changed under the overlay, which a person must
/// look at, so it is an error rather than a silent no-op.
pub fn apply_overlay(
    vendor: &str,
    overlay_path: &Path,
    overlay_text: &str,
    doc: &mut Value,
) -> Result<usize, CodegenError> {
    let overlay_value = parse_document(overlay_text.as_bytes(), false)
        .map_err(|problem| problem.in_file(vendor, overlay_path))?;
    let overlay: Overlay =
        serde_path_to_error::deserialize(overlay_value).map_err(|e| CodegenError {
            vendor: vendor.to_owned(),
            file: overlay_path.to_owned(),
            json_path: Some(super::validate::json_path_of(e.path()).to_string()),
            message: format!("not an Overlay 1.0 document: {}", e.inner()),
        })?;
    overlay
        .validate(EnumSet::<ValidationOptions>::empty())
        .map_err(|e| CodegenError::file(vendor, overlay_path, format!("invalid overlay: {e}")))?;
    let report = overlay
        .apply(
            doc,
            ApplyOptions::ErrorOnZeroMatch | ApplyOptions::ErrorOnMixedKindMatch,
        )
        .map_err(|e| CodegenError {
            vendor: vendor.to_owned(),
            file: overlay_path.to_owned(),
            json_path: Some(
                JsonPath::root()
                    .key("actions")
                    .index(e.action_index)
                    .to_string(),
            ),
            message: format!("target {:?}: {}", e.target, e.kind),
        })?;
    Ok(report.actions.len())
}
