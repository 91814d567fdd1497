//! Step 4, **validate**: parse the repaired, overlaid document as OpenAPI 3.0, so that
//! generation only ever sees a document that parses; an error names the JSON path at fault.

use openapiv3::OpenAPI;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{JsonPath, SpecProblem};

/// Parses the JSON text that will be written to `openapi.json` (the exact bytes progenitor is
/// given). A structural error names the JSON path of the offending node.
pub fn validate(json_text: &str) -> Result<OpenAPI, SpecProblem> {
    let mut deserializer = serde_json::Deserializer::from_str(json_text);
    let spec: OpenAPI = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        // openapiv3 parses `$ref`-or-item nodes as untagged enums, which hide the path inside
        // them; parsing the nodes below one by one finds the innermost culprit.
        let document: Value = serde_json::from_str(json_text).unwrap_or_default();
        innermost_problem(&document).unwrap_or_else(|| {
            json_path_of(e.path())
                .problem(format!("not a valid OpenAPI 3.0 document: {}", e.inner()))
        })
    })?;
    if !spec.openapi.trim().starts_with("3.0.") {
        return Err(SpecProblem::new(
            "$.openapi",
            format!(
                "unsupported OpenAPI version {:?}: expected 3.0.x or 3.1.x",
                spec.openapi
            ),
        ));
    }
    Ok(spec)
}

type NodeCheck = fn(&Value, &JsonPath) -> Option<SpecProblem>;

fn innermost_problem(doc: &Value) -> Option<SpecProblem> {
    let components = JsonPath::root().key("components");
    let component_kinds: [(&str, NodeCheck); 5] = [
        ("schemas", check_node::<openapiv3::Schema>),
        ("responses", check_node::<openapiv3::Response>),
        ("parameters", check_node::<openapiv3::Parameter>),
        ("requestBodies", check_node::<openapiv3::RequestBody>),
        ("securitySchemes", check_node::<openapiv3::SecurityScheme>),
    ];
    for (kind, check) in component_kinds {
        let nodes = doc
            .pointer(&format!("/components/{kind}"))
            .and_then(Value::as_object);
        for (name, node) in nodes.into_iter().flatten() {
            if let Some(problem) = check(node, &components.key(kind).key(name)) {
                return Some(problem);
            }
        }
    }
    let paths = doc.get("paths").and_then(Value::as_object);
    for (template, item) in paths.into_iter().flatten() {
        let item_at = JsonPath::root().key("paths").key(template);
        let operations = item.as_object().into_iter().flatten();
        for (method, operation) in operations.filter(|(_, op)| op.is_object()) {
            if let Some(problem) = operation_problem(operation, &item_at.key(method)) {
                return Some(problem);
            }
        }
    }
    None
}

fn operation_problem(operation: &Value, at: &JsonPath) -> Option<SpecProblem> {
    let parameters = operation.get("parameters").and_then(Value::as_array);
    for (i, parameter) in parameters.into_iter().flatten().enumerate() {
        let problem = check_node::<openapiv3::Parameter>(parameter, &at.key("parameters").index(i));
        if problem.is_some() {
            return problem;
        }
    }
    if let Some(body) = operation.get("requestBody") {
        let problem = check_node::<openapiv3::RequestBody>(body, &at.key("requestBody"));
        if problem.is_some() {
            return problem;
        }
    }
    let responses = operation.get("responses").and_then(Value::as_object);
    responses
        .into_iter()
        .flatten()
        .find_map(|(status, response)| {
            check_node::<openapiv3::Response>(response, &at.key("responses").key(status))
        })
}

/// Parses one node as `T` unless it is a `$ref`; on failure, the path inside the node.
fn check_node<T: DeserializeOwned>(node: &Value, at: &JsonPath) -> Option<SpecProblem> {
    if node.get("$ref").is_some() {
        return None;
    }
    serde_path_to_error::deserialize::<_, T>(node)
        .err()
        .map(|e| {
            let inner = e.path().iter().fold(at.clone(), json_path_segment);
            inner.problem(format!("not a valid OpenAPI 3.0 document: {}", e.inner()))
        })
}

/// Converts serde's path to the JSONPath style the other errors use.
pub fn json_path_of(path: &serde_path_to_error::Path) -> JsonPath {
    path.iter().fold(JsonPath::root(), json_path_segment)
}

fn json_path_segment(at: JsonPath, segment: &serde_path_to_error::Segment) -> JsonPath {
    use serde_path_to_error::Segment;
    match segment {
        Segment::Seq { index } => at.index(*index),
        Segment::Map { key } => at.key(key),
        Segment::Enum { variant } => at.key(variant),
        Segment::Unknown => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structural_errors_name_the_json_path() {
        let text = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {"description": 5}}}}}}"#;
        let problem = validate(text).unwrap_err();
        assert_eq!(
            problem.json_path,
            "$.paths['/a'].get.responses['200'].description"
        );
    }

    #[test]
    fn other_versions_are_rejected() {
        let text = r#"{"openapi": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#;
        assert_eq!(validate(text).unwrap_err().json_path, "$.openapi");
    }
}
