//! Responses: the 2.0 `schema` as one `content` entry per media type the operation
//! `produces`, `examples` by media type, and headers typed by a `schema`.

use serde_json::{Map, Value, json};

use super::parameters::{array_style, typed_schema};
use crate::codegen::error::SpecProblem;

/// The media type of a response whose operation and document name none. Swagger 2.0 leaves
/// it open; the tools that read it (swagger-codegen, go-swagger) assume JSON, and a client
/// decodes a JSON body typed where `*/*` (what `swagger2openapi` writes) would be raw bytes.
pub(super) const DEFAULT_MEDIA_TYPE: &str = "application/json";

/// Converts one response (or `$ref` to one, rewritten later with every other reference).
pub(super) fn convert_response(
    response: &Value,
    produces: &[String],
) -> Result<Value, SpecProblem> {
    let Some(response) = response.as_object() else {
        return Ok(response.clone());
    };
    if response.contains_key("$ref") {
        return Ok(Value::Object(response.clone()));
    }
    let mut out = Map::new();
    for (key, value) in response {
        if !matches!(key.as_str(), "schema" | "examples" | "headers") {
            out.insert(key.clone(), value.clone());
        }
    }
    // 3.0 requires a description; 2.0 documents leave it out now and then.
    out.entry("description").or_insert_with(|| "".into());
    let mut content = Map::new();
    if let Some(schema) = response.get("schema") {
        let media_types: Vec<&str> = if produces.is_empty() {
            vec![DEFAULT_MEDIA_TYPE]
        } else {
            produces.iter().map(String::as_str).collect()
        };
        for media_type in media_types {
            content.insert(media_type.to_owned(), json!({"schema": schema}));
        }
    }
    // `examples` maps a media type to an example body; one the operation does not produce
    // still documents the response, so it gets an entry of its own.
    if let Some(Value::Object(examples)) = response.get("examples") {
        for (media_type, example) in examples {
            let entry = content
                .entry(media_type.clone())
                .or_insert_with(|| json!({}));
            if let Some(entry) = entry.as_object_mut() {
                entry.insert("examples".into(), json!({"response": {"value": example}}));
            }
        }
    }
    if !content.is_empty() {
        out.insert("content".into(), Value::Object(content));
    }
    if let Some(Value::Object(headers)) = response.get("headers") {
        let converted: Map<String, Value> = headers
            .iter()
            // "Status Code" is no header (a known exporter mistake); 3.0 tools reject it.
            .filter(|(name, _)| !name.eq_ignore_ascii_case("status code"))
            .map(|(name, header)| (name.clone(), convert_header(header)))
            .collect();
        if !converted.is_empty() {
            out.insert("headers".into(), Value::Object(converted));
        }
    }
    Ok(Value::Object(out))
}

/// A 2.0 header (`type`, `format`, `items`, `collectionFormat`, ...) as a 3.0 header with a
/// `schema`; a list is `style: simple` (comma-separated), as `csv` was.
fn convert_header(header: &Value) -> Value {
    let Some(header) = header.as_object() else {
        return header.clone();
    };
    if header.contains_key("$ref") {
        return Value::Object(header.clone());
    }
    let (schema, rest) = typed_schema(header);
    let mut out = rest;
    out.remove("collectionFormat");
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        let format = header
            .get("collectionFormat")
            .and_then(Value::as_str)
            .unwrap_or("csv");
        if let Some((style, explode)) = array_style("header", format) {
            out.insert("style".into(), style.into());
            if let Some(explode) = explode {
                out.insert("explode".into(), explode.into());
            }
        }
    }
    out.insert("schema".into(), Value::Object(schema));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn produces(types: &[&str]) -> Vec<String> {
        types.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn the_schema_is_given_once_per_produced_media_type() {
        let response = json!({"description": "ok", "schema": {"$ref": "#/definitions/Pet"}});
        assert_eq!(
            convert_response(
                &response,
                &produces(&["application/json", "application/xml"])
            )
            .unwrap(),
            json!({"description": "ok", "content": {
                "application/json": {"schema": {"$ref": "#/definitions/Pet"}},
                "application/xml": {"schema": {"$ref": "#/definitions/Pet"}}
            }})
        );
    }

    #[test]
    fn without_produces_the_body_is_json_and_without_schema_there_is_no_content() {
        let response = json!({"description": "ok", "schema": {"type": "string"}});
        assert_eq!(
            convert_response(&response, &[]).unwrap(),
            json!({"description": "ok", "content": {"application/json": {"schema": {"type": "string"}}}})
        );
        assert_eq!(
            convert_response(&json!({"description": "gone"}), &[]).unwrap(),
            json!({"description": "gone"})
        );
        assert_eq!(
            convert_response(&json!({"schema": {"type": "string"}}), &[]).unwrap()["description"],
            json!("")
        );
    }

    #[test]
    fn examples_go_to_their_media_type() {
        let response = json!({"description": "ok", "schema": {"type": "object"},
            "examples": {"application/json": {"id": 1}, "text/plain": "one"}});
        assert_eq!(
            convert_response(&response, &produces(&["application/json"])).unwrap()["content"],
            json!({
                "application/json": {"schema": {"type": "object"}, "examples": {"response": {"value": {"id": 1}}}},
                "text/plain": {"examples": {"response": {"value": "one"}}}
            })
        );
    }

    #[test]
    fn headers_are_typed_by_a_schema_and_lists_are_simple() {
        let response = json!({"description": "ok", "headers": {
            "X-Rate-Limit": {"type": "integer", "format": "int32", "description": "calls per hour"},
            "X-Tags": {"type": "array", "items": {"type": "string"}},
            "Status Code": {"type": "integer"}
        }});
        assert_eq!(
            convert_response(&response, &[]).unwrap()["headers"],
            json!({
                "X-Rate-Limit": {"description": "calls per hour", "schema": {"type": "integer", "format": "int32"}},
                "X-Tags": {"style": "simple", "schema": {"type": "array", "items": {"type": "string"}}}
            })
        );
    }
}
