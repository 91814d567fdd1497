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
/// `license.identifier`, `components.pathItems`); adds the `paths` object and the operation
/// `responses` that 3.0 requires (a `default` response without a body).
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
    // 3.1 made `responses` optional; 3.0 requires it.
    if let Some(paths) = object.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for method in super::walk::HTTP_METHODS {
                if let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut)
                    && !operation.contains_key("responses")
                {
                    operation.insert(
                        "responses".into(),
                        json!({"default": {"description": "The document describes no response."}}),
                    );
                    changed += 1;
                }
            }
        }
    }
    Ok(changed)
}

/// JSON Schema keywords that OpenAPI 3.0 cannot express and that cannot be lowered without
/// guessing what the author meant; they are reported with what to put in the overlay.
/// (`if`/`then`/`else` are lowered before this pass, by `conditional_schemas`.)
const INEXPRESSIBLE_KEYWORDS: [&str; 1] = ["$dynamicRef"];
/// Annotations and validation-only keywords without effect on the decoded type; 3.0 does
/// not allow them in a schema. A client decodes what the server sends, so dropping a
/// server-side validation rule (`dependentRequired`, `contains`) loses nothing it checks.
const DROPPED_KEYWORDS: [&str; 11] = [
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$comment",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "dependentRequired",
    "contains",
    "unevaluatedItems",
];

/// Lowers JSON Schema 2020-12 keywords to what OpenAPI 3.0 can say, or reports them:
/// - `prefixItems` (a tuple) becomes `items` of its member schemas (`anyOf` when they
///   differ), with `maxItems` when no further items are allowed;
/// - `dependentSchemas` adds its properties to the object as optional ones;
/// - `unevaluatedProperties` and a single `patternProperties` entry become
///   `additionalProperties`;
/// - annotations and validation-only keywords are dropped;
/// - `$dynamicRef` is an error with its JSON path.
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
        for keyword in DROPPED_KEYWORDS {
            changed += usize::from(schema.remove(keyword).is_some());
        }
        if let Some(prefix) = schema.remove("prefixItems") {
            lower_prefix_items(schema, prefix);
            changed += 1;
        }
        if let Some(Value::Object(dependents)) = schema.remove("dependentSchemas") {
            for dependent in dependents.into_values() {
                if let Some(Value::Object(extra)) = dependent.get("properties").cloned() {
                    let properties = schema.entry("properties").or_insert_with(|| json!({}));
                    if let Some(properties) = properties.as_object_mut() {
                        for (name, property) in extra {
                            properties.entry(name).or_insert(property);
                        }
                    }
                }
            }
            changed += 1;
        }
        if let Some(unevaluated) = schema.remove("unevaluatedProperties") {
            schema.entry("additionalProperties").or_insert(unevaluated);
            changed += 1;
        }
        if let Some(Value::Object(patterns)) = schema.remove("patternProperties") {
            if patterns.len() != 1 {
                return Err(path.key("patternProperties").problem(
                    "several `patternProperties` have no OpenAPI 3.0 equivalent; give one \
                     `additionalProperties` schema in the overlay",
                ));
            }
            if let Some(pattern_schema) = patterns.into_values().next() {
                schema
                    .entry("additionalProperties")
                    .or_insert(pattern_schema);
            }
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// `prefixItems: [A, B]` (with `items: false`, or `items: C` for the rest) as an array of
/// `A`, `B` (and `C`): one schema when they are all the same, else their `anyOf`.
fn lower_prefix_items(schema: &mut Map<String, Value>, prefix: Value) {
    let Value::Array(prefix) = prefix else {
        return;
    };
    let count = prefix.len();
    let mut members = prefix;
    match schema.remove("items") {
        Some(Value::Bool(false)) => {
            schema.entry("maxItems").or_insert(json!(count));
        }
        Some(Value::Bool(true)) | None => {}
        Some(rest) => members.push(rest),
    }
    let mut distinct: Vec<Value> = Vec::new();
    for member in members {
        if !distinct.contains(&member) {
            distinct.push(member);
        }
    }
    let items = match distinct.len() {
        0 => json!({}),
        1 => distinct.remove(0),
        _ => json!({ "anyOf": distinct }),
    };
    schema.insert("items".into(), items);
}

/// Hoists `$defs` out of component schemas into `components.schemas` (as `<Parent><Name>`),
/// and points their `$ref`s there: 3.0 has no `$defs`.
pub fn hoisted_defs(doc: &mut Value) -> Result<usize, SpecProblem> {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return Ok(0);
    };
    let mut hoisted: Vec<(String, Value)> = Vec::new();
    let mut targets: std::collections::BTreeMap<String, String> = Default::default();
    let mut short_names: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let existing: Vec<String> = schemas.keys().cloned().collect();
    for (parent, schema) in schemas.iter_mut() {
        let Some(Value::Object(defs)) = schema.as_object_mut().and_then(|s| s.remove("$defs"))
        else {
            continue;
        };
        for (name, def) in defs {
            let mut new_name = format!("{parent}{name}");
            while existing.contains(&new_name) || hoisted.iter().any(|(n, _)| *n == new_name) {
                new_name.push('_');
            }
            let target = format!("#/components/schemas/{new_name}");
            targets.insert(
                format!("#/components/schemas/{parent}/$defs/{name}"),
                target.clone(),
            );
            short_names.entry(name.clone()).or_default().push(target);
            hoisted.push((new_name, def));
        }
    }
    // `#/$defs/Name` names a definition by itself; it is unambiguous when one schema has it.
    for (name, found) in short_names {
        if let [target] = found.as_slice() {
            targets.insert(format!("#/$defs/{name}"), target.clone());
        }
    }
    let changed = hoisted.len();
    schemas.extend(hoisted);
    rewrite_refs(doc, &targets);
    Ok(changed)
}

/// Points every `$ref` found in `targets` at its new place.
pub(super) fn rewrite_refs(
    value: &mut Value,
    targets: &std::collections::BTreeMap<String, String>,
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child.as_str().and_then(|r| targets.get(r)) {
                    Some(new) if key == "$ref" => *child = Value::String(new.clone()),
                    _ => rewrite_refs(child, targets),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, targets)),
        _ => {}
    }
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
    fn an_operation_without_responses_gets_a_default_one() {
        let mut doc =
            json!({"openapi": "3.1.0", "paths": {"/ping": {"post": {"operationId": "ping"}}}});
        assert_eq!(downgrade_openapi_31_document(&mut doc).unwrap(), 2);
        assert_eq!(
            doc["paths"]["/ping"]["post"]["responses"],
            json!({"default": {"description": "The document describes no response."}})
        );
    }

    #[test]
    fn inexpressible_keywords_are_errors_with_their_path() {
        let mut doc = schema_doc(json!({"$dynamicRef": "#node"}));
        let problem = unsupported_schema_keywords(&mut doc).unwrap_err();
        assert_eq!(problem.json_path, "$.components.schemas.S['$dynamicRef']");
        assert!(problem.message.contains("overlay"), "{}", problem.message);
        let mut doc = schema_doc(json!({"type": "object", "patternProperties": {
            "^a": {"type": "string"}, "^b": {"type": "integer"}}}));
        let problem = unsupported_schema_keywords(&mut doc).unwrap_err();
        assert_eq!(
            problem.json_path,
            "$.components.schemas.S.patternProperties"
        );
        let mut doc = schema_doc(
            json!({"type": "string", "$comment": "c", "contentMediaType": "text/plain"}),
        );
        assert_eq!(unsupported_schema_keywords(&mut doc).unwrap(), 2);
        assert_eq!(schema_of(&doc), &json!({"type": "string"}));
    }

    #[test]
    fn tuples_become_arrays_of_their_members() {
        let mut doc = schema_doc(json!({"type": "array",
            "prefixItems": [{"type": "string"}, {"type": "number"}], "items": false}));
        assert_eq!(unsupported_schema_keywords(&mut doc).unwrap(), 1);
        assert_eq!(
            schema_of(&doc),
            &json!({"type": "array", "maxItems": 2,
                    "items": {"anyOf": [{"type": "string"}, {"type": "number"}]}})
        );
        let mut doc = schema_doc(json!({"type": "array",
            "prefixItems": [{"type": "string"}, {"type": "string"}]}));
        unsupported_schema_keywords(&mut doc).unwrap();
        assert_eq!(
            schema_of(&doc),
            &json!({"type": "array", "items": {"type": "string"}})
        );
    }

    #[test]
    fn object_keywords_of_2020_12_become_properties_or_additional_properties() {
        let mut doc = schema_doc(json!({"type": "object",
            "properties": {"card": {"type": "string"}},
            "dependentRequired": {"card": ["cvc"]},
            "dependentSchemas": {"card": {"properties": {"cvc": {"type": "string"}}}},
            "unevaluatedProperties": false}));
        assert_eq!(unsupported_schema_keywords(&mut doc).unwrap(), 3);
        assert_eq!(
            schema_of(&doc),
            &json!({"type": "object", "additionalProperties": false,
                    "properties": {"card": {"type": "string"}, "cvc": {"type": "string"}}})
        );
        let mut doc = schema_doc(json!({"type": "object",
            "patternProperties": {"^x-": {"type": "integer"}}}));
        unsupported_schema_keywords(&mut doc).unwrap();
        assert_eq!(
            schema_of(&doc),
            &json!({"type": "object", "additionalProperties": {"type": "integer"}})
        );
    }

    #[test]
    fn defs_are_hoisted_into_components_and_refs_follow() {
        let mut doc = json!({"openapi": "3.1.0", "paths": {}, "components": {"schemas": {
            "Order": {"type": "object", "$defs": {"Line": {"type": "string"}},
                      "properties": {
                          "a": {"$ref": "#/components/schemas/Order/$defs/Line"},
                          "b": {"$ref": "#/$defs/Line"}}}}}});
        assert_eq!(hoisted_defs(&mut doc).unwrap(), 1);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["OrderLine"], json!({"type": "string"}));
        assert!(schemas["Order"].get("$defs").is_none());
        for property in ["a", "b"] {
            assert_eq!(
                schemas["Order"]["properties"][property]["$ref"],
                "#/components/schemas/OrderLine"
            );
        }
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
