//! Request bodies progenitor sends as they are, not as a typed value: `text/plain` (and
//! `text/x-markdown`) as a string, `application/octet-stream` as bytes. It accepts exactly
//! one schema for each and refuses the document otherwise ("invalid schema for text/plain").

use serde_json::{Map, Value};

use super::walk::for_each_operation;
use crate::codegen::error::SpecProblem;

/// What a raw body's schema may keep: annotations, which progenitor ignores.
const ANNOTATIONS: [&str; 3] = ["description", "title", "example"];

/// Gives a text body the schema `{type: string}` and a byte body `{type: string, format:
/// binary}`, whatever the document said (a `$ref` to an object, a `pattern`, an `enum`,
/// `nullable`, a `format`): the generated method takes the body as text or bytes and sends
/// it unchanged, so the schema only documents it. What it documented stays in the
/// description, with a note that the caller serialises it.
pub fn raw_request_body_schemas(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    if let Some(Value::Object(bodies)) = doc.pointer_mut("/components/requestBodies") {
        for body in bodies.values_mut() {
            changed += fix_body(body);
        }
    }
    for_each_operation(doc, &mut |_, _, _, operation| {
        if let Some(body) = operation.get_mut("requestBody") {
            changed += fix_body(body);
        }
        Ok(())
    })?;
    Ok(changed)
}

/// The one schema progenitor takes for a raw media type, if `media_type` is one.
fn raw_schema(media_type: &str) -> Option<Map<String, Value>> {
    let essence = media_type.split(';').next().unwrap_or("").trim();
    let mut schema = Map::new();
    schema.insert("type".into(), "string".into());
    match essence {
        "text/plain" | "text/x-markdown" => Some(schema),
        "application/octet-stream" => {
            schema.insert("format".into(), "binary".into());
            Some(schema)
        }
        _ => None,
    }
}

fn fix_body(body: &mut Value) -> usize {
    let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) else {
        return 0;
    };
    let mut changed = 0;
    for (media_type, media) in content.iter_mut() {
        let Some(wanted) = raw_schema(media_type) else {
            continue;
        };
        let Some(media) = media.as_object_mut() else {
            continue;
        };
        let Some(schema) = media.get("schema").and_then(Value::as_object) else {
            continue;
        };
        let kept: Map<String, Value> = schema
            .iter()
            .filter(|(key, _)| ANNOTATIONS.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let mut accepted = wanted.clone();
        accepted.extend(kept.clone());
        if *schema == accepted {
            continue;
        }
        let mut replacement = wanted;
        replacement.extend(kept);
        let documented = describe(schema);
        let note = format!(
            "Sent as `{media_type}` exactly as given; the document describes the body as {documented}."
        );
        let description = match replacement.get("description").and_then(Value::as_str) {
            Some(own) if !own.is_empty() => format!("{own}\n\n{note}"),
            _ => note,
        };
        replacement.insert("description".into(), description.into());
        media.insert("schema".into(), Value::Object(replacement));
        changed += 1;
    }
    changed
}

/// A short account of a schema for the note: its reference, or its type and constraints.
fn describe(schema: &Map<String, Value>) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return format!("`{}`", reference.rsplit('/').next().unwrap_or(reference));
    }
    let mut shown = schema.clone();
    for key in ANNOTATIONS {
        shown.remove(key);
    }
    format!("`{}`", Value::Object(shown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body_doc(media_type: &str, schema: Value) -> Value {
        json!({"paths": {"/x": {"post": {"requestBody": {"content": {media_type: {"schema": schema}}}}}}})
    }

    fn schema_of(doc: &Value, media_type: &str) -> Value {
        doc["paths"]["/x"]["post"]["requestBody"]["content"][media_type]["schema"].clone()
    }

    #[test]
    fn a_text_body_with_constraints_or_a_reference_is_a_plain_string() {
        let mut doc = body_doc(
            "text/plain",
            json!({"type": "string", "pattern": "^a", "description": "A query."}),
        );
        assert_eq!(raw_request_body_schemas(&mut doc).unwrap(), 1);
        let schema = schema_of(&doc, "text/plain");
        assert_eq!(schema["type"], "string");
        assert!(schema.get("pattern").is_none());
        let description = schema["description"].as_str().unwrap();
        assert!(
            description.starts_with("A query.\n\nSent as `text/plain`"),
            "{description}"
        );
        assert!(
            description.contains(r#"{"pattern":"^a","type":"string"}"#),
            "{description}"
        );

        let mut doc = body_doc(
            "text/plain; charset=utf-8",
            json!({"$ref": "#/components/schemas/Query"}),
        );
        assert_eq!(raw_request_body_schemas(&mut doc).unwrap(), 1);
        let schema = schema_of(&doc, "text/plain; charset=utf-8");
        assert_eq!(schema["type"], "string");
        assert!(schema["description"].as_str().unwrap().contains("`Query`"));
    }

    #[test]
    fn a_byte_body_is_a_binary_string() {
        let mut doc = body_doc("application/octet-stream", json!({"type": "string"}));
        assert_eq!(raw_request_body_schemas(&mut doc).unwrap(), 1);
        let schema = schema_of(&doc, "application/octet-stream");
        assert_eq!(
            (&schema["type"], &schema["format"]),
            (&json!("string"), &json!("binary"))
        );
    }

    #[test]
    fn accepted_schemas_and_typed_bodies_are_left_alone() {
        for (media_type, schema) in [
            (
                "text/plain",
                json!({"type": "string", "description": "d", "example": "x"}),
            ),
            (
                "application/octet-stream",
                json!({"type": "string", "format": "binary"}),
            ),
            (
                "application/json",
                json!({"type": "string", "pattern": "^a"}),
            ),
        ] {
            let mut doc = body_doc(media_type, schema.clone());
            assert_eq!(
                raw_request_body_schemas(&mut doc).unwrap(),
                0,
                "{media_type}"
            );
            assert_eq!(schema_of(&doc, media_type), schema);
        }
    }

    #[test]
    fn shared_request_bodies_are_repaired_too() {
        let mut doc = json!({"components": {"requestBodies": {"Raw": {"content": {
            "text/plain": {"schema": {"type": "string", "enum": ["a", "b"]}}}}}}});
        assert_eq!(raw_request_body_schemas(&mut doc).unwrap(), 1);
        assert_eq!(
            doc["components"]["requestBodies"]["Raw"]["content"]["text/plain"]["schema"]["type"],
            "string"
        );
    }
}
