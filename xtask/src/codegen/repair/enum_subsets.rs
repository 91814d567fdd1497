//! An `enum` that narrows a referenced enum: `{enum: [red, green], allOf: [{$ref: Color}]}`,
//! where `Color` lists more values (as an `enum`, or as a `oneOf` of `const`s with titles,
//! pydantic's and zod's spelling). typify cannot merge the two and hits `unreachable!()`
//! (in `defaults.rs`, a default of a reference type) instead of failing.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::walk::for_each_schema;
use crate::codegen::error::SpecProblem;

const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// Drops the `allOf` references of a schema that lists its own `enum` when every reference
/// is to an enum: the values both allow are the schema's own values that the referenced
/// enums list too, so the schema keeps exactly those and no reference. A value the
/// referenced enum does not list could never be valid, and goes. When none is left the
/// schema allows nothing, which is an error naming it.
pub fn enums_narrowing_a_referenced_enum(doc: &mut Value) -> Result<usize, SpecProblem> {
    let enums = component_enums(doc);
    let mut changed = 0;
    for_each_schema(doc, &mut |path, schema| {
        let (Some(Value::Array(own)), Some(Value::Array(members))) =
            (schema.get("enum"), schema.get("allOf"))
        else {
            return Ok(());
        };
        let referenced: Option<Vec<&Vec<Value>>> = members
            .iter()
            .map(|member| {
                let reference = member.get("$ref")?.as_str()?;
                let only_ref = member.as_object()?.keys().all(|k| k == "$ref");
                enums
                    .get(reference.strip_prefix(SCHEMA_REF_PREFIX)?)
                    .filter(|_| only_ref)
            })
            .collect();
        let Some(referenced) = referenced.filter(|r| !r.is_empty()) else {
            return Ok(());
        };
        let kept: Vec<Value> = own
            .iter()
            .filter(|value| referenced.iter().all(|allowed| allowed.contains(value)))
            .cloned()
            .collect();
        if kept.is_empty() {
            return Err(path.key("enum").problem(
                "none of these values is one the referenced enum (`allOf`) allows, so the \
                 schema allows nothing; list the intended values in the overlay",
            ));
        }
        schema.insert("enum".into(), Value::Array(kept));
        schema.remove("allOf");
        changed += 1;
        Ok(())
    })?;
    Ok(changed)
}

/// The values of every component schema that is an enum: `enum: [...]`, or a `oneOf` /
/// `anyOf` whose members each allow one value (`const`, or `enum` of one after
/// `const_to_enum`).
fn component_enums(doc: &Value) -> BTreeMap<String, Vec<Value>> {
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return BTreeMap::new();
    };
    schemas
        .iter()
        .filter_map(|(name, schema)| Some((name.clone(), enum_values(schema.as_object()?)?)))
        .collect()
}

fn enum_values(schema: &Map<String, Value>) -> Option<Vec<Value>> {
    if let Some(Value::Array(values)) = schema.get("enum") {
        return Some(values.clone());
    }
    let members = ["oneOf", "anyOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(Value::as_array))?;
    members
        .iter()
        .map(|member| match (member.get("const"), member.get("enum")) {
            (Some(value), _) => Some(value.clone()),
            (None, Some(Value::Array(values))) if values.len() == 1 => Some(values[0].clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(color: Value, property: Value) -> Value {
        json!({"components": {"schemas": {
            "Color": color,
            "Thing": {"type": "object", "properties": {"colors": {
                "type": "array", "nullable": true, "uniqueItems": true, "items": property}}}
        }}})
    }

    fn items(doc: &Value) -> &Value {
        &doc["components"]["schemas"]["Thing"]["properties"]["colors"]["items"]
    }

    #[test]
    fn a_subset_of_a_one_of_of_consts_keeps_its_values_and_drops_the_reference() {
        let color = json!({"type": "string", "oneOf": [
            {"enum": ["red"], "title": "Red"}, {"const": "green", "title": "Green"},
            {"enum": ["blue"], "title": "Blue"}]});
        let mut doc = doc(
            color.clone(),
            json!({"type": "string", "enum": ["red", "green"],
                   "allOf": [{"$ref": "#/components/schemas/Color"}]}),
        );
        assert_eq!(enums_narrowing_a_referenced_enum(&mut doc).unwrap(), 1);
        assert_eq!(
            items(&doc),
            &json!({"type": "string", "enum": ["red", "green"]})
        );
        assert_eq!(doc["components"]["schemas"]["Color"], color);
    }

    #[test]
    fn values_the_referenced_enum_lacks_go_and_none_left_is_an_error() {
        let color = json!({"type": "string", "enum": ["red", "green"]});
        let narrowing = |values: Value| {
            doc(
                color.clone(),
                json!({"enum": values, "allOf": [{"$ref": "#/components/schemas/Color"}]}),
            )
        };
        let mut doc = narrowing(json!(["red", "purple"]));
        assert_eq!(enums_narrowing_a_referenced_enum(&mut doc).unwrap(), 1);
        assert_eq!(items(&doc), &json!({"enum": ["red"]}));
        let problem =
            enums_narrowing_a_referenced_enum(&mut narrowing(json!(["purple"]))).unwrap_err();
        assert_eq!(
            problem.json_path,
            "$.components.schemas.Thing.properties.colors.items.enum"
        );
    }

    #[test]
    fn references_to_schemas_that_are_not_enums_are_left_alone() {
        let mut doc = doc(
            json!({"type": "object", "properties": {"a": {"type": "string"}}}),
            json!({"enum": ["red"], "allOf": [{"$ref": "#/components/schemas/Color"}]}),
        );
        assert_eq!(enums_narrowing_a_referenced_enum(&mut doc).unwrap(), 0);
        assert!(items(&doc).get("allOf").is_some());
    }
}
