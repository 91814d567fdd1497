//! Finds every Schema Object in an OpenAPI document, wherever the specification allows one.
//!
//! Schema-level repairs must not touch look-alike keys elsewhere: `examples` is an array in a
//! schema but a map of Example Objects on a media type, so passes walk schemas through here
//! instead of scanning every object in the document.

use serde_json::{Map, Value};

use crate::codegen::error::{JsonPath, SpecProblem};

/// Called once per schema, parents before children; the visitor may rewrite the schema and
/// the walk then descends into the rewritten one.
pub type SchemaVisitor<'a> =
    dyn FnMut(&JsonPath, &mut Map<String, Value>) -> Result<(), SpecProblem> + 'a;

pub const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Visits every schema of the document.
pub fn for_each_schema(doc: &mut Value, visit: &mut SchemaVisitor<'_>) -> Result<(), SpecProblem> {
    let root = JsonPath::root();
    let Some(doc) = doc.as_object_mut() else {
        return Ok(());
    };
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        let at = root.key("components");
        for_each_entry(components, "schemas", &at, &mut |path, value| {
            schema(value, path, visit)
        })?;
        for_each_entry(components, "parameters", &at, &mut |path, value| {
            parameter_like(value, path, visit)
        })?;
        for_each_entry(components, "headers", &at, &mut |path, value| {
            parameter_like(value, path, visit)
        })?;
        for_each_entry(components, "responses", &at, &mut |path, value| {
            response(value, path, visit)
        })?;
        for_each_entry(components, "requestBodies", &at, &mut |path, value| {
            content_holder(value, path, visit)
        })?;
    }
    for_each_entry(doc, "paths", &root, &mut |path, item| {
        path_item(item, path, visit)
    })
}

fn for_each_entry(
    parent: &mut Map<String, Value>,
    key: &str,
    at: &JsonPath,
    f: &mut dyn FnMut(&JsonPath, &mut Value) -> Result<(), SpecProblem>,
) -> Result<(), SpecProblem> {
    if let Some(children) = parent.get_mut(key).and_then(Value::as_object_mut) {
        let at = at.key(key);
        for (name, value) in children.iter_mut() {
            f(&at.key(name), value)?;
        }
    }
    Ok(())
}

fn for_each_item(
    parent: &mut Map<String, Value>,
    key: &str,
    at: &JsonPath,
    f: &mut dyn FnMut(&JsonPath, &mut Value) -> Result<(), SpecProblem>,
) -> Result<(), SpecProblem> {
    if let Some(items) = parent.get_mut(key).and_then(Value::as_array_mut) {
        let at = at.key(key);
        for (i, value) in items.iter_mut().enumerate() {
            f(&at.index(i), value)?;
        }
    }
    Ok(())
}

fn path_item(
    item: &mut Value,
    at: &JsonPath,
    visit: &mut SchemaVisitor<'_>,
) -> Result<(), SpecProblem> {
    let Some(item) = item.as_object_mut() else {
        return Ok(());
    };
    for_each_item(item, "parameters", at, &mut |path, value| {
        parameter_like(value, path, visit)
    })?;
    for method in HTTP_METHODS {
        let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
            continue;
        };
        let at = at.key(method);
        for_each_item(operation, "parameters", &at, &mut |path, value| {
            parameter_like(value, path, visit)
        })?;
        if let Some(body) = operation.get_mut("requestBody") {
            content_holder(body, &at.key("requestBody"), visit)?;
        }
        for_each_entry(operation, "responses", &at, &mut |path, value| {
            response(value, path, visit)
        })?;
    }
    Ok(())
}

fn parameter_like(
    value: &mut Value,
    at: &JsonPath,
    visit: &mut SchemaVisitor<'_>,
) -> Result<(), SpecProblem> {
    if let Some(s) = value
        .as_object_mut()
        .and_then(|object| object.get_mut("schema"))
    {
        schema(s, &at.key("schema"), visit)?;
    }
    content_holder(value, at, visit)
}

fn response(
    value: &mut Value,
    at: &JsonPath,
    visit: &mut SchemaVisitor<'_>,
) -> Result<(), SpecProblem> {
    if let Some(object) = value.as_object_mut() {
        for_each_entry(object, "headers", at, &mut |path, header| {
            parameter_like(header, path, visit)
        })?;
    }
    content_holder(value, at, visit)
}

fn content_holder(
    value: &mut Value,
    at: &JsonPath,
    visit: &mut SchemaVisitor<'_>,
) -> Result<(), SpecProblem> {
    let Some(object) = value.as_object_mut() else {
        return Ok(());
    };
    for_each_entry(
        object,
        "content",
        at,
        &mut |path, media_type| match media_type.as_object_mut().and_then(|m| m.get_mut("schema")) {
            Some(s) => schema(s, &path.key("schema"), visit),
            None => Ok(()),
        },
    )
}

/// Keywords whose value is one schema.
pub(super) const SINGLE_SCHEMA_KEYWORDS: [&str; 8] = [
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "unevaluatedProperties",
];
/// Keywords whose value is an array of schemas.
pub(super) const SCHEMA_ARRAY_KEYWORDS: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value is a map of schemas.
pub(super) const SCHEMA_MAP_KEYWORDS: [&str; 5] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];

fn schema(
    value: &mut Value,
    at: &JsonPath,
    visit: &mut SchemaVisitor<'_>,
) -> Result<(), SpecProblem> {
    let Some(object) = value.as_object_mut() else {
        return Ok(());
    };
    visit(at, object)?;
    for key in SINGLE_SCHEMA_KEYWORDS {
        match object.get_mut(key) {
            // `items` may be an array of schemas in old drafts.
            Some(Value::Array(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    schema(item, &at.key(key).index(i), visit)?;
                }
            }
            Some(child) => schema(child, &at.key(key), visit)?,
            None => {}
        }
    }
    for key in SCHEMA_ARRAY_KEYWORDS {
        for_each_item(object, key, at, &mut |path, child| {
            schema(child, path, visit)
        })?;
    }
    for key in SCHEMA_MAP_KEYWORDS {
        for_each_entry(object, key, at, &mut |path, child| {
            schema(child, path, visit)
        })?;
    }
    Ok(())
}

/// Called with `(JSON path, path template, method, operation)`.
pub type OperationVisitor<'a> =
    dyn FnMut(&JsonPath, &str, &str, &mut Map<String, Value>) -> Result<(), SpecProblem> + 'a;

/// Visits every operation object.
pub fn for_each_operation(
    doc: &mut Value,
    f: &mut OperationVisitor<'_>,
) -> Result<(), SpecProblem> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let at = JsonPath::root().key("paths");
    for (template, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in HTTP_METHODS {
            if let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) {
                f(&at.key(template).key(method), template, method, operation)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn visits_schemas_in_every_position_and_nothing_else() {
        let mut doc = json!({
            "components": {
                "schemas": {"A": {"type": "object", "properties": {"b": {"type": "string"}}}},
                "parameters": {"P": {"name": "p", "in": "query", "schema": {"type": "integer"}}},
                "responses": {"R": {"description": "", "content": {"application/json": {
                    "schema": {"type": "array", "items": {"type": "boolean"}},
                    "examples": {"not-a-schema": {"value": 1}}
                }}}}
            },
            "paths": {"/x": {
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "number"}}],
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"anyOf": [{"type": "string"}]}}}},
                    "responses": {"200": {"description": "", "headers": {"H": {"schema": {"type": "string", "format": "h"}}}}}
                }
            }}
        });
        let mut seen = Vec::new();
        for_each_schema(&mut doc, &mut |path, _| {
            seen.push(path.to_string());
            Ok(())
        })
        .unwrap();
        seen.sort();
        assert_eq!(
            seen,
            [
                "$.components.parameters.P.schema",
                "$.components.responses.R.content['application/json'].schema",
                "$.components.responses.R.content['application/json'].schema.items",
                "$.components.schemas.A",
                "$.components.schemas.A.properties.b",
                "$.paths['/x'].parameters[0].schema",
                "$.paths['/x'].post.requestBody.content['application/json'].schema",
                "$.paths['/x'].post.requestBody.content['application/json'].schema.anyOf[0]",
                "$.paths['/x'].post.responses['200'].headers.H.schema",
            ]
        );
    }
}
