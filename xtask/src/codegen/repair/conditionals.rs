//! `if`/`then`/`else` (JSON Schema 2019-09 and later, OpenAPI 3.1): OpenAPI 3.0 cannot state
//! a condition, and progenitor reads 3.0.

use serde_json::{Map, Value, json};

use super::walk::for_each_schema;
use crate::codegen::error::SpecProblem;

/// Keywords that only narrow the values a schema allows, without changing the type a client
/// decodes them into.
const NARROWING_KEYWORDS: [&str; 19] = [
    "required",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "const",
    "enum",
    "not",
];
const ANNOTATIONS: [&str; 5] = ["title", "description", "example", "examples", "$comment"];

/// Lowers a conditional schema to what 3.0 can say, keeping every value it allows. A value
/// valid under `S` with `if: I, then: T, else: E` is valid under `S` and under `T` or `E`,
/// so:
/// - when a branch is missing (it allows anything) or both only narrow values (`required`,
///   `const`, bounds, property values), the condition goes and `S` remains;
/// - otherwise `S` keeps `anyOf: [T, E]`, the union of the branches;
/// - a schema that is already a union (`anyOf`/`oneOf`) and has two structural branches
///   cannot hold a second union, and is an error naming it.
///
/// Either way the schema's description says that the condition is not checked.
pub fn conditional_schemas(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    for_each_schema(doc, &mut |path, schema| {
        if !["if", "then", "else"]
            .iter()
            .any(|k| schema.contains_key(*k))
        {
            return Ok(());
        }
        let then = schema.get("then").cloned();
        let otherwise = schema.get("else").cloned();
        let kept = match (then, otherwise) {
            (Some(then), Some(otherwise)) if !(only_narrows(&then) && only_narrows(&otherwise)) => {
                if schema.contains_key("anyOf") || schema.contains_key("oneOf") {
                    return Err(path.key("if").problem(
                        "`if`/`then`/`else` with two branches that change the type, on a schema \
                         that is a union already: OpenAPI 3.0 cannot state both; give the \
                         schema as one union in the overlay",
                    ));
                }
                schema.insert("anyOf".into(), json!([then, otherwise]));
                "the union of its branches (`anyOf`) is kept"
            }
            _ => "values are not checked against it",
        };
        for keyword in ["if", "then", "else"] {
            schema.remove(keyword);
        }
        let note = format!(
            "The document adds a condition (`if`/`then`/`else`) that OpenAPI 3.0 cannot state; {kept}."
        );
        let description = match schema.get("description").and_then(Value::as_str) {
            Some(own) if !own.is_empty() => format!("{own}\n\n{note}"),
            _ => note,
        };
        schema.insert("description".into(), description.into());
        changed += 1;
        Ok(())
    })?;
    Ok(changed)
}

/// Whether a branch only narrows values: a boolean, or narrowing keywords and annotations,
/// with `properties` whose schemas only narrow too.
fn only_narrows(branch: &Value) -> bool {
    match branch {
        Value::Bool(_) => true,
        Value::Object(schema) => schema.iter().all(|(key, value)| {
            NARROWING_KEYWORDS.contains(&key.as_str())
                || ANNOTATIONS.contains(&key.as_str())
                || (key == "properties" && properties_only_narrow(value))
        }),
        _ => false,
    }
}

fn properties_only_narrow(properties: &Value) -> bool {
    properties
        .as_object()
        .is_some_and(|properties: &Map<String, Value>| properties.values().all(only_narrows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowered(schema: Value) -> Result<Value, SpecProblem> {
        let mut doc = json!({"components": {"schemas": {"S": schema}}});
        conditional_schemas(&mut doc)?;
        Ok(doc["components"]["schemas"]["S"].clone())
    }

    #[test]
    fn a_condition_that_only_narrows_values_goes_with_a_note() {
        let schema = lowered(json!({"type": "object", "description": "A card.",
            "properties": {"kind": {"type": "string"}, "last4": {"type": "string"}},
            "if": {"properties": {"kind": {"const": "card"}}},
            "then": {"required": ["last4"]},
            "else": {"properties": {"last4": {"maxLength": 0}}}}))
        .unwrap();
        assert!(
            ["if", "then", "else", "anyOf"]
                .iter()
                .all(|k| schema.get(*k).is_none())
        );
        assert_eq!(schema["properties"]["last4"], json!({"type": "string"}));
        let description = schema["description"].as_str().unwrap();
        assert!(
            description.starts_with("A card.\n\nThe document adds a condition"),
            "{description}"
        );
        assert!(
            description.ends_with("values are not checked against it."),
            "{description}"
        );
    }

    #[test]
    fn a_missing_branch_allows_anything_so_the_condition_goes() {
        let schema = lowered(json!({"type": "object",
            "if": {"required": ["a"]},
            "then": {"properties": {"b": {"type": "object", "properties": {"c": {"type": "string"}}}}}}))
        .unwrap();
        assert_eq!(schema.as_object().unwrap().len(), 2, "{schema}");
        assert!(schema.get("anyOf").is_none());
    }

    #[test]
    fn two_branches_that_change_the_type_are_kept_as_their_union() {
        let then = json!({"properties": {"card": {"$ref": "#/components/schemas/Card"}}, "required": ["card"]});
        let otherwise = json!({"properties": {"iban": {"type": "string"}}, "required": ["iban"]});
        let schema = lowered(
            json!({"type": "object", "properties": {"kind": {"type": "string"}},
            "if": {"properties": {"kind": {"const": "card"}}}, "then": then, "else": otherwise}),
        )
        .unwrap();
        assert_eq!(schema["anyOf"], json!([then, otherwise]));
        assert!(schema["description"].as_str().unwrap().contains("`anyOf`"));
    }

    #[test]
    fn a_union_with_two_structural_branches_is_refused_with_its_path() {
        let problem = lowered(json!({"oneOf": [{"type": "string"}, {"type": "integer"}],
            "if": {"type": "string"}, "then": {"type": "object", "properties": {"a": {"type": "string"}}},
            "else": {"type": "array", "items": {"type": "string"}}}))
        .unwrap_err();
        assert_eq!(problem.json_path, "$.components.schemas.S.if");
        assert!(problem.message.contains("overlay"), "{}", problem.message);
    }

    #[test]
    fn a_condition_inside_an_all_of_member_is_lowered_where_it_is() {
        let mut doc = json!({"components": {"schemas": {"S": {"allOf": [
            {"$ref": "#/components/schemas/Base"},
            {"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}}
        ]}}}});
        assert_eq!(conditional_schemas(&mut doc).unwrap(), 1);
        let member = &doc["components"]["schemas"]["S"]["allOf"][1];
        assert_eq!(
            member.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["description"]
        );
    }
}
