//! Lowers OpenAPI 3.1 (JSON Schema 2020-12) constructs to their OpenAPI 3.0.3 equivalents,
//! which is what progenitor reads. Constructs 3.0 cannot express are errors, never dropped in
//! silence, because dropping a constraint would change what the client accepts.

use serde_json::{Map, Value, json};

use super::walk::for_each_schema;
use crate::codegen::error::SpecProblem;

/// The version progenitor accepts; 3.1 documents are rewritten to it.
const TARGET_VERSION: &str = "3.0.3";

/// Rewrites a 3.1 document's top level for 3.0.3: the version string, and the 3.1-only fields
/// that have no 3.0 meaning for a client (`jsonSchemaDialect`, `webhooks`, `info.summary`,
/// `license.identifier`, `components.pathItems`); adds the `paths` object 3.0 requires.
pub fn downgrade_openapi_31_document(doc: &mut Value) -> Result<usize, SpecProblem> {
    let is_31 = doc
        .get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.trim().starts_with("3.1"));
    let Some(object) = doc.as_object_mut().filter(|_| is_31) else {
        return Ok(0);
    };
    object.insert("openapi".into(), TARGET_VERSION.into());
    let mut changed = 1;
    for key in ["jsonSchemaDialect", "webhooks"] {
        changed += usize::from(object.remove(key).is_some());
    }
    if let Some(info) = object.get_mut("info").and_then(Value::as_object_mut) {
        changed += usize::from(info.remove("summary").is_some());
        if let Some(license) = info.get_mut("license").and_then(Value::as_object_mut) {
            changed += usize::from(license.remove("identifier").is_some());
        }
    }
    if let Some(components) = object.get_mut("components").and_then(Value::as_object_mut) {
        changed += usize::from(components.remove("pathItems").is_some());
    }
    if !object.contains_key("paths") {
        object.insert("paths".into(), json!({}));
        changed += 1;
    }
    Ok(changed)
}

/// JSON Schema keywords that OpenAPI 3.0 cannot express. Dropping them would loosen or change
/// the decoded types, so they are reported instead.
const INEXPRESSIBLE_KEYWORDS: [&str; 11] = [
    "prefixItems",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
    "patternProperties",
    "contains",
];
/// Annotations without effect on the decoded value; 3.0 does not allow them in a schema.
const ANNOTATION_ONLY_KEYWORDS: [&str; 8] = [
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$comment",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
];

/// Drops 3.1 annotation keywords and rejects keywords 3.0 cannot express (`prefixItems`,
/// `if`/`then`/`else`, `patternProperties`, `unevaluated*`, ...) with their JSON path.
pub fn unsupported_schema_keywords(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |path, schema| {
        if let Some(keyword) = INEXPRESSIBLE_KEYWORDS
            .iter()
            .find(|k| schema.contains_key(**k))
        {
            return Err(path.key(keyword).problem(format!(
                "`{keyword}` has no OpenAPI 3.0 equivalent; replace this schema in the overlay"
            )));
        }
        for keyword in ANNOTATION_ONLY_KEYWORDS {
            changed += usize::from(schema.remove(keyword).is_some());
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Rewrites `type` arrays: `[T, "null"]` becomes `type: T` with `nullable: true`, `[T]` becomes
/// `T`, and several non-null types become an `anyOf` of one schema per type.
pub fn type_arrays(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |path, schema| {
        let Some(Value::Array(types)) = schema.get("type") else {
            return Ok(());
        };
        let mut names = Vec::with_capacity(types.len());
        for t in types {
            match t.as_str() {
                Some(name) => names.push(name.to_owned()),
                None => return Err(path.key("type").problem("`type` entries must be strings")),
            }
        }
        let nullable = names.iter().any(|t| t == "null");
        names.retain(|t| t != "null");
        names.dedup();
        match names.as_slice() {
            [] => {
                schema.insert("type".into(), "null".into());
            }
            [single] => {
                schema.insert("type".into(), single.clone().into());
            }
            several => {
                schema.remove("type");
                let members = several.iter().map(|t| json!({"type": t})).collect();
                schema.insert("anyOf".into(), Value::Array(members));
            }
        }
        if nullable && !names.is_empty() {
            schema.insert("nullable".into(), true.into());
        }
        changed += 1;
        Ok(())
    })?;
    Ok(changed)
}

/// Rewrites `anyOf`/`oneOf` unions that have a `{type: "null"}` member (the 3.1 way to say
/// "or null") to `nullable: true` on the union. A union left with one member collapses into
/// it; a lone `$ref` member is kept as `allOf: [$ref]`, the 3.0 way to give a reference
/// siblings.
pub fn null_members_of_unions(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        for keyword in ["anyOf", "oneOf"] {
            let Some(Value::Array(members)) = schema.get_mut(keyword) else {
                continue;
            };
            let before = members.len();
            members.retain(|member| !is_null_schema(member));
            if members.len() == before {
                continue;
            }
            changed += 1;
            schema.insert("nullable".into(), true.into());
            let Some(Value::Array(members)) = schema.get(keyword) else {
                continue;
            };
            if let [only] = members.as_slice() {
                let only = only.clone();
                schema.remove(keyword);
                match only {
                    Value::Object(member) if member.contains_key("$ref") => {
                        schema.insert("allOf".into(), json!([member]));
                    }
                    Value::Object(member) => {
                        for (key, value) in member {
                            schema.entry(key).or_insert(value);
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    })?;
    Ok(changed)
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
        || schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|values| values.iter().all(Value::is_null))
}

/// Rewrites numeric `exclusiveMinimum: n` / `exclusiveMaximum: n` (3.1) to `minimum: n` with
/// `exclusiveMinimum: true` (3.0), keeping whichever bound is stricter when both are given.
pub fn numeric_exclusive_bounds(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        for (exclusive, inclusive, stricter) in [
            ("exclusiveMinimum", "minimum", std::cmp::Ordering::Greater),
            ("exclusiveMaximum", "maximum", std::cmp::Ordering::Less),
        ] {
            let Some(Value::Number(bound)) = schema.get(exclusive).cloned() else {
                continue;
            };
            changed += 1;
            let inclusive_is_stricter = schema
                .get(inclusive)
                .and_then(Value::as_f64)
                .zip(bound.as_f64())
                .and_then(|(inc, exc)| inc.partial_cmp(&exc))
                .is_some_and(|order| order == stricter);
            if inclusive_is_stricter {
                schema.remove(exclusive);
            } else {
                schema.insert(inclusive.into(), Value::Number(bound));
                schema.insert(exclusive.into(), true.into());
            }
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Rewrites `const: v` (3.1) to `enum: [v]`.
pub fn const_to_enum(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        if let Some(value) = schema.remove("const") {
            schema.entry("enum").or_insert_with(|| json!([value]));
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Rewrites a schema's `examples: [a, ...]` (3.1) to `example: a`. Only schemas are touched:
/// `examples` on a media type or parameter is a map of Example Objects and valid in 3.0.
pub fn schema_examples_array(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        if let Some(examples) = schema.remove("examples") {
            if let Some(first) = examples.as_array().and_then(|e| e.first()) {
                schema.entry("example").or_insert_with(|| first.clone());
            }
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Annotations that may sit beside a `$ref` without changing what it means.
const REF_ANNOTATIONS: [&str; 3] = ["description", "summary", "title"];

/// Rewrites a `$ref` with constraining siblings (`nullable`, `default`, `readOnly`, ...), which
/// 3.0 ignores, to `allOf: [{$ref}]` plus the siblings, so they take effect.
pub fn ref_siblings(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |_, schema| {
        let has_constraining_sibling = schema.contains_key("$ref")
            && schema
                .keys()
                .any(|key| key != "$ref" && !REF_ANNOTATIONS.contains(&key.as_str()));
        if has_constraining_sibling {
            let reference = schema.remove("$ref").unwrap_or_default();
            let mut target = Map::new();
            target.insert("$ref".into(), reference);
            schema.insert("allOf".into(), json!([target]));
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_doc(schema: Value) -> Value {
        json!({"components": {"schemas": {"S": schema}}})
    }

    fn schema_of(doc: &Value) -> &Value {
        &doc["components"]["schemas"]["S"]
    }

    #[test]
    fn a_31_document_becomes_303() {
        let mut doc = json!({"openapi": "3.1.0", "jsonSchemaDialect": "x", "webhooks": {},
            "info": {"title": "t", "version": "1", "summary": "s", "license": {"name": "MIT", "identifier": "MIT"}}});
        assert_eq!(downgrade_openapi_31_document(&mut doc).unwrap(), 6);
        assert_eq!(
            doc,
            json!({"openapi": "3.0.3", "paths": {},
                "info": {"title": "t", "version": "1", "license": {"name": "MIT"}}})
        );
        let mut doc30 = json!({"openapi": "3.0.1", "webhooks": {}});
        assert_eq!(downgrade_openapi_31_document(&mut doc30).unwrap(), 0);
    }

    #[test]
    fn inexpressible_keywords_are_errors_with_their_path() {
        let mut doc = schema_doc(json!({"type": "array", "prefixItems": [{"type": "string"}]}));
        let problem = unsupported_schema_keywords(&mut doc).unwrap_err();
        assert_eq!(problem.json_path, "$.components.schemas.S.prefixItems");
        let mut doc = schema_doc(
            json!({"type": "string", "$comment": "c", "contentMediaType": "text/plain"}),
        );
        assert_eq!(unsupported_schema_keywords(&mut doc).unwrap(), 2);
        assert_eq!(schema_of(&doc), &json!({"type": "string"}));
    }

    #[test]
    fn type_arrays_become_nullable_or_any_of() {
        let mut doc = schema_doc(json!({"type": "object", "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"type": ["integer"]},
            "c": {"type": ["string", "integer", "null"]}
        }}));
        assert_eq!(type_arrays(&mut doc).unwrap(), 3);
        let properties = &schema_of(&doc)["properties"];
        assert_eq!(properties["a"], json!({"type": "string", "nullable": true}));
        assert_eq!(properties["b"], json!({"type": "integer"}));
        assert_eq!(
            properties["c"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
        );
    }

    #[test]
    fn null_union_members_become_nullable() {
        let mut doc = schema_doc(json!({"type": "object", "properties": {
            "r": {"anyOf": [{"$ref": "#/components/schemas/T"}, {"type": "null"}]},
            "s": {"oneOf": [{"type": "string", "format": "date"}, {"type": "null"}], "description": "d"},
            "u": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
        }}));
        assert_eq!(null_members_of_unions(&mut doc).unwrap(), 2);
        let properties = &schema_of(&doc)["properties"];
        assert_eq!(
            properties["r"],
            json!({"allOf": [{"$ref": "#/components/schemas/T"}], "nullable": true})
        );
        assert_eq!(
            properties["s"],
            json!({"type": "string", "format": "date", "nullable": true, "description": "d"})
        );
        assert_eq!(
            properties["u"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
    }

    #[test]
    fn numeric_exclusive_bounds_become_boolean_flags() {
        let mut doc = schema_doc(json!({"type": "object", "properties": {
            "a": {"type": "number", "exclusiveMinimum": 0},
            "b": {"type": "integer", "exclusiveMaximum": 10, "maximum": 5},
            "c": {"type": "integer", "exclusiveMinimum": true, "minimum": 1}
        }}));
        assert_eq!(numeric_exclusive_bounds(&mut doc).unwrap(), 2);
        let properties = &schema_of(&doc)["properties"];
        assert_eq!(
            properties["a"],
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true})
        );
        assert_eq!(properties["b"], json!({"type": "integer", "maximum": 5}));
        assert_eq!(
            properties["c"],
            json!({"type": "integer", "exclusiveMinimum": true, "minimum": 1})
        );
    }

    #[test]
    fn const_becomes_single_value_enum() {
        let mut doc = schema_doc(json!({"type": "string", "const": "USD"}));
        assert_eq!(const_to_enum(&mut doc).unwrap(), 1);
        assert_eq!(schema_of(&doc), &json!({"type": "string", "enum": ["USD"]}));
    }

    #[test]
    fn schema_examples_become_example_but_media_type_examples_stay() {
        let mut doc = json!({
            "components": {"schemas": {"S": {"type": "integer", "examples": [3, 4]}}},
            "paths": {"/a": {"get": {"responses": {"200": {"description": "", "content": {
                "application/json": {"schema": {"type": "string"}, "examples": {"one": {"value": "x"}}}
            }}}}}}
        });
        assert_eq!(schema_examples_array(&mut doc).unwrap(), 1);
        assert_eq!(schema_of(&doc), &json!({"type": "integer", "example": 3}));
        let media = &doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"];
        assert_eq!(media["examples"], json!({"one": {"value": "x"}}));
    }

    #[test]
    fn constraining_ref_siblings_are_wrapped_in_all_of() {
        let mut doc = schema_doc(json!({"type": "object", "properties": {
            "a": {"$ref": "#/components/schemas/T", "nullable": true},
            "b": {"$ref": "#/components/schemas/T", "description": "only a note"}
        }}));
        assert_eq!(ref_siblings(&mut doc).unwrap(), 1);
        let properties = &schema_of(&doc)["properties"];
        assert_eq!(
            properties["a"],
            json!({"allOf": [{"$ref": "#/components/schemas/T"}], "nullable": true})
        );
        assert_eq!(properties["b"]["$ref"], "#/components/schemas/T");
    }
}
