//! Swagger 2.0's schema dialect in 3.0 terms, applied to every schema of the converted
//! document (found by the repair passes' walker, so only real schema positions are touched).

use serde_json::{Map, Value, json};

use crate::codegen::error::SpecProblem;
use crate::codegen::repair::walk::for_each_schema;

/// - `x-nullable: true` (and `false`) becomes `nullable`;
/// - `type: file` becomes a binary string (`format: binary`);
/// - a `discriminator` given as a property name becomes `{propertyName: ...}`;
/// - `items` given as an array (a tuple, which 2.0 forbids but exporters write) becomes its
///   single member, or an `anyOf` of them; an array without `items` gets `items: {}`;
/// - `x-anyOf`, `x-oneOf`, `x-not` (how 2.0 documents smuggle 3.0 keywords) become the
///   keywords;
/// - `required: true` on a property (a parameter's spelling, often written in schemas by
///   mistake) moves into its object's `required` list; `allowEmptyValue` (a parameter's
///   field) is dropped.
pub(super) fn fix_up_schemas(doc: &mut Value) -> Result<(), SpecProblem> {
    for_each_schema(doc, &mut |_, schema| {
        fix_up_schema(schema);
        Ok(())
    })
}

fn fix_up_schema(schema: &mut Map<String, Value>) {
    if let Some(Value::Bool(nullable)) = schema.remove("x-nullable") {
        schema.insert("nullable".into(), nullable.into());
    }
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".into(), "string".into());
        schema.insert("format".into(), "binary".into());
    }
    if let Some(Value::String(property)) = schema.get("discriminator").cloned() {
        schema.insert("discriminator".into(), json!({"propertyName": property}));
    }
    if let Some(Value::Array(members)) = schema.get_mut("items") {
        let mut members = std::mem::take(members);
        let items = match members.len() {
            0 => json!({}),
            1 => members.remove(0),
            _ => json!({"anyOf": members}),
        };
        schema.insert("items".into(), items);
    }
    if schema.get("type").and_then(Value::as_str) == Some("array") && !schema.contains_key("items")
    {
        schema.insert("items".into(), json!({}));
    }
    for keyword in ["anyOf", "oneOf", "not"] {
        if let Some(value) = schema.remove(&format!("x-{keyword}")) {
            schema.entry(keyword).or_insert(value);
        }
    }
    schema.remove("allowEmptyValue");
    let mut required_by_flag = Vec::new();
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            let Some(property) = property.as_object_mut() else {
                continue;
            };
            if let Some(Value::Bool(flag)) = property.get("required").cloned() {
                property.remove("required");
                if flag {
                    required_by_flag.push(Value::String(name.clone()));
                }
            }
        }
    }
    if !required_by_flag.is_empty() {
        let required = schema.entry("required").or_insert_with(|| json!([]));
        if let Some(required) = required.as_array_mut() {
            for name in required_by_flag {
                if !required.contains(&name) {
                    required.push(name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(schema: Value) -> Value {
        let mut doc = json!({"components": {"schemas": {"S": schema}}});
        fix_up_schemas(&mut doc).unwrap();
        doc["components"]["schemas"]["S"].clone()
    }

    #[test]
    fn x_nullable_becomes_nullable_at_any_depth() {
        assert_eq!(
            fixed(json!({"type": "object", "x-nullable": true, "properties": {
                "a": {"type": "string", "x-nullable": true},
                "b": {"type": "array", "items": {"type": "integer", "x-nullable": false}}
            }})),
            json!({"type": "object", "nullable": true, "properties": {
                "a": {"type": "string", "nullable": true},
                "b": {"type": "array", "items": {"type": "integer", "nullable": false}}
            }})
        );
    }

    #[test]
    fn type_file_is_a_binary_string() {
        assert_eq!(
            fixed(json!({"type": "file", "description": "the upload"})),
            json!({"type": "string", "format": "binary", "description": "the upload"})
        );
    }

    #[test]
    fn a_discriminator_name_becomes_a_discriminator_object() {
        assert_eq!(
            fixed(json!({"type": "object", "discriminator": "kind"}))["discriminator"],
            json!({"propertyName": "kind"})
        );
    }

    #[test]
    fn tuple_items_and_missing_items_become_one_schema() {
        assert_eq!(
            fixed(json!({"type": "array", "items": [{"type": "string"}]}))["items"],
            json!({"type": "string"})
        );
        assert_eq!(
            fixed(json!({"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}))["items"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
        assert_eq!(fixed(json!({"type": "array"}))["items"], json!({}));
    }

    #[test]
    fn smuggled_3_0_keywords_and_required_flags_are_read() {
        assert_eq!(
            fixed(json!({"x-oneOf": [{"type": "string"}], "x-not": {"type": "integer"}})),
            json!({"oneOf": [{"type": "string"}], "not": {"type": "integer"}})
        );
        assert_eq!(
            fixed(json!({"type": "object", "required": ["a"], "properties": {
                "a": {"type": "string"},
                "b": {"type": "string", "required": true, "allowEmptyValue": true},
                "c": {"type": "string", "required": false}
            }})),
            json!({"type": "object", "required": ["a", "b"], "properties": {
                "a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}
            }})
        );
    }
}
