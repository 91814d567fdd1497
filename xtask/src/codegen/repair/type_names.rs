//! Inline schemas that typify would name like a component: it names an inline type after
//! where it sits (`Classification.$template` becomes `ClassificationTemplate`, an operation's
//! inline body `<OperationId>Body`), and when a component already has that name the crate
//! defines one type twice (E0428).

use std::collections::BTreeSet;

use heck::ToPascalCase;
use serde_json::{Map, Value};

use super::walk::HTTP_METHODS;
use crate::codegen::error::SpecProblem;

/// Gives such an inline schema a `title` of its own (the derived name with `Value`, or a
/// number, appended until no type has it), which typify names it by instead. Component
/// schemas, their nested properties and array items, and operations' inline parameters,
/// bodies and responses are named as typify names them; a schema with a title is named by
/// it already (`titles_that_collide` keeps those apart).
pub fn inline_types_named_like_components(doc: &mut Value) -> Result<usize, SpecProblem> {
    let component_names: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| schemas.keys().cloned().collect())
        .unwrap_or_default();
    let mut taken: BTreeSet<String> = component_names.iter().map(|n| rust_type_name(n)).collect();
    let mut changed = 0;
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, schema) in schemas.iter_mut() {
            descend(schema, name, &mut taken, &mut changed);
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(changed);
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for method in HTTP_METHODS {
            let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(id) = operation
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                continue;
            };
            let mut visit = |schema: &mut Value, name: String| {
                visit_inline(schema, &name, &mut taken, &mut changed);
            };
            if let Some(Value::Array(parameters)) = operation.get_mut("parameters") {
                for parameter in parameters.iter_mut() {
                    let name = parameter
                        .get("name")
                        .and_then(Value::as_str)
                        .map(|n| format!("{id}-{n}"));
                    if let (Some(name), Some(schema)) = (name, parameter.get_mut("schema")) {
                        visit(schema, name);
                    }
                }
            }
            for schema in media_schemas(operation.get_mut("requestBody")) {
                visit(schema, format!("{id}-body"));
            }
            if let Some(Value::Object(responses)) = operation.get_mut("responses") {
                for response in responses.values_mut() {
                    for schema in media_schemas(Some(response)) {
                        visit(schema, format!("{id}-response"));
                    }
                }
            }
        }
    }
    Ok(changed)
}

/// The schemas of a request body's or response's media types.
fn media_schemas(holder: Option<&mut Value>) -> Vec<&mut Value> {
    holder
        .and_then(|h| h.get_mut("content"))
        .and_then(Value::as_object_mut)
        .map(|content| {
            content
                .values_mut()
                .filter_map(|media| media.get_mut("schema"))
                .collect()
        })
        .unwrap_or_default()
}

/// An inline schema typify would name `name`: titled when that name is taken, then its
/// children.
fn visit_inline(schema: &mut Value, name: &str, taken: &mut BTreeSet<String>, changed: &mut usize) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let title = object
        .get("title")
        .or_else(|| titled_wrapper(object)?.get("title"));
    let own_name = match title.and_then(Value::as_str) {
        Some(title) => title.to_owned(),
        None if is_named_type(object) => {
            let derived = rust_type_name(name);
            if taken.contains(&derived) {
                let title = free_name(&derived, taken);
                give_title(schema, &title);
                *changed += 1;
                return finish(schema, &title, taken, changed);
            }
            derived
        }
        None => name.to_owned(),
    };
    finish(schema, &own_name, taken, changed);
}

/// Records the name of a schema that is a type of its own, then visits its children.
fn finish(schema: &mut Value, own_name: &str, taken: &mut BTreeSet<String>, changed: &mut usize) {
    let named = schema
        .as_object()
        .is_some_and(|object| is_named_type(object) || titled_wrapper(object).is_some());
    if named {
        taken.insert(rust_type_name(own_name));
    }
    let inner = match schema.as_object().and_then(titled_wrapper) {
        Some(_) => schema.pointer_mut("/allOf/0"),
        None => Some(schema),
    };
    if let Some(inner) = inner {
        descend(inner, own_name, taken, changed);
    }
}

/// Keywords progenitor wraps in a `oneOf` with `null` when the schema is nullable, moving
/// the title onto the wrapper, where typify does not name the inner type by it.
const WRAPPED_WHEN_NULLABLE: [&str; 4] = ["anyOf", "oneOf", "allOf", "not"];

/// Names a schema `title`. A nullable union keeps its `nullable` outside and its title
/// inside, as the only member of an `allOf`, so that typify sees the title on the type it
/// names.
fn give_title(schema: &mut Value, title: &str) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let wrapped = WRAPPED_WHEN_NULLABLE
        .iter()
        .any(|k| object.contains_key(*k));
    if wrapped && object.get("nullable") == Some(&Value::Bool(true)) {
        let mut inner = std::mem::take(object);
        inner.remove("nullable");
        inner.insert("title".into(), title.into());
        object.insert("nullable".into(), true.into());
        object.insert("allOf".into(), Value::Array(vec![Value::Object(inner)]));
    } else {
        object.insert("title".into(), title.into());
    }
}

/// The inner schema of a [`give_title`] wrapper (`{nullable, allOf: [{title, ...}]}`).
fn titled_wrapper(object: &Map<String, Value>) -> Option<&Value> {
    match object
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([inner]) if object.len() == 2 && object.contains_key("nullable") => inner
            .get("title")
            .filter(|_| inner.get("$ref").is_none())
            .map(|_| inner),
        _ => None,
    }
}

/// Visits the properties and array items of a schema named `name`, as typify names them.
fn descend(schema: &mut Value, name: &str, taken: &mut BTreeSet<String>, changed: &mut usize) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for (property, child) in properties.iter_mut() {
            visit_inline(child, &format!("{name}_{property}"), taken, changed);
        }
    }
    if let Some(items) = object.get_mut("items").filter(|i| i.is_object()) {
        visit_inline(items, &format!("{name}_item"), taken, changed);
    }
}

/// Whether typify makes a type of its own for this schema (a struct, an enum), rather than
/// use a reference, a primitive, a list or a map.
fn is_named_type(schema: &Map<String, Value>) -> bool {
    if schema.contains_key("$ref") {
        return false;
    }
    let has_properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    let several_all_of = schema
        .get("allOf")
        .and_then(Value::as_array)
        .is_some_and(|members| members.len() > 1);
    has_properties
        || several_all_of
        || schema.contains_key("enum")
        || schema.contains_key("oneOf")
        || schema.contains_key("anyOf")
}

/// `derived` with `Value` appended, then a number, until no type has the name.
fn free_name(derived: &str, taken: &BTreeSet<String>) -> String {
    let mut candidate = format!("{derived}Value");
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{derived}Value{n}");
        n += 1;
    }
    candidate
}

/// The Rust type name typify gives a schema name: characters that cannot be in an
/// identifier become word breaks, then PascalCase (typify uses heck for it too).
pub(super) fn rust_type_name(name: &str) -> String {
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let pascal = cleaned.to_pascal_case();
    match pascal.chars().next() {
        None => "X".to_owned(),
        Some(c) if c.is_alphabetic() || c == '_' => pascal,
        Some(_) => format!("X{pascal}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_names_are_typify_s() {
        assert_eq!(
            rust_type_name("Classification_$template"),
            "ClassificationTemplate"
        );
        assert_eq!(rust_type_name("listThings-body"), "ListThingsBody");
        assert_eq!(rust_type_name("2fa"), "X2fa");
    }

    #[test]
    fn an_inline_enum_named_like_a_component_gets_a_title_of_its_own() {
        let mut doc = json!({"components": {"schemas": {
            "Classification": {"type": "object", "properties": {
                "$template": {"type": "string", "enum": ["securityClassification-6VMVochwUWo"]},
                "$scope": {"type": "string"}
            }},
            "ClassificationTemplate": {"type": "object", "properties": {"id": {"type": "string"}}}
        }}});
        assert_eq!(inline_types_named_like_components(&mut doc).unwrap(), 1);
        let property = &doc["components"]["schemas"]["Classification"]["properties"]["$template"];
        assert_eq!(property["title"], "ClassificationTemplateValue");
        assert!(
            doc["components"]["schemas"]["Classification"]["properties"]["$scope"]
                .get("title")
                .is_none()
        );
    }

    #[test]
    fn nested_items_and_operation_bodies_are_named_as_typify_names_them() {
        let mut doc = json!({
            "components": {"schemas": {
                "Order": {"type": "object", "properties": {"lines": {"type": "array", "items": {
                    "type": "object", "properties": {"sku": {"type": "string"}}}}}},
                "OrderLinesItem": {"type": "string"},
                "CreateOrderBody": {"type": "string"}
            }},
            "paths": {"/orders": {"post": {"operationId": "createOrder",
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"note": {"type": "string"}}}}}},
                "responses": {}}}}
        });
        assert_eq!(inline_types_named_like_components(&mut doc).unwrap(), 2);
        assert_eq!(
            doc["components"]["schemas"]["Order"]["properties"]["lines"]["items"]["title"],
            "OrderLinesItemValue"
        );
        assert_eq!(
            doc["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
                ["title"],
            "CreateOrderBodyValue"
        );
    }

    #[test]
    fn a_nullable_union_keeps_its_title_inside_where_typify_reads_it() {
        let item = json!({"allOf": [{"$ref": "#/components/schemas/CollaborationItem"},
                                    {"description": "The file or folder."}], "nullable": true});
        let mut doc = json!({"components": {"schemas": {
            "Collaboration": {"type": "object", "properties": {"item": item}},
            "CollaborationItem": {"oneOf": [{"type": "string"}, {"type": "integer"}]}
        }}});
        assert_eq!(inline_types_named_like_components(&mut doc).unwrap(), 1);
        let mut titled = item.clone();
        titled.as_object_mut().unwrap().remove("nullable");
        titled["title"] = "CollaborationItemValue".into();
        assert_eq!(
            doc["components"]["schemas"]["Collaboration"]["properties"]["item"],
            json!({"nullable": true, "allOf": [titled]})
        );
        // Run again, nothing more to do.
        assert_eq!(inline_types_named_like_components(&mut doc).unwrap(), 0);
    }

    #[test]
    fn names_nobody_else_has_and_titled_schemas_are_left_alone() {
        let mut doc = json!({"components": {"schemas": {
            "Pet": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["cat", "dog"]},
                "owner": {"title": "Owner", "type": "object", "properties": {"name": {"type": "string"}}}
            }},
            "PetOwner": {"type": "string"}
        }}});
        assert_eq!(inline_types_named_like_components(&mut doc).unwrap(), 0);
    }
}
