//! Parameters progenitor cannot send as the document types them: cookies (progenitor
//! rejects the document: "cookie parameters are not supported") and unions of scalar types
//! (typify makes a struct of an `anyOf`, and progenitor hits `unreachable!()` on an optional
//! parameter of a struct type; a required one would need `Display`).

use serde_json::{Map, Value, json};

use super::operations::{for_each_parameter, omit_unsendable_parameters};
use crate::codegen::error::SpecProblem;

/// Leaves out cookie parameters: an optional one is left out of its operation, an
/// operation that requires one is left out. Each is listed under `x-omitted-operations`
/// (and so in the crate's README); a caller who needs it sends the `Cookie` header itself
/// through `RequestHeaders`.
pub fn cookie_parameters(doc: &mut Value) -> Result<usize, SpecProblem> {
    let shared_parameters = doc
        .pointer("/components/parameters")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let cookie = |parameter: &Value| -> Option<(String, bool)> {
        let resolved = parameter
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/parameters/"))
            .and_then(|name| shared_parameters.get(name))
            .unwrap_or(parameter);
        (resolved.get("in").and_then(Value::as_str) == Some("cookie")).then(|| {
            (
                resolved
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                resolved.get("required") == Some(&Value::Bool(true)),
            )
        })
    };
    Ok(omit_unsendable_parameters(
        doc,
        &cookie,
        &|name| format!("it requires the cookie `{name}`, which progenitor cannot send"),
        &|name| format!("cookie parameter `{name}`, which progenitor cannot send"),
    ))
}

const SCALAR_TYPES: [&str; 4] = ["string", "number", "integer", "boolean"];

/// Makes a parameter whose schema is a union of scalars (`anyOf: [{type: string, format:
/// date-time}, {type: string, pattern: ...}]`, `type: [string, integer]` once lowered) one
/// scalar: the members' type when they share one, else a string. A parameter travels as
/// text, so every value the union allowed is still sent as written; the members are listed
/// in the schema's description.
pub fn parameter_unions_of_scalars(doc: &mut Value) -> Result<usize, SpecProblem> {
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut changed = 0;
    for_each_parameter(doc, &mut |parameter| {
        let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut) else {
            return;
        };
        if let Some(scalar) = scalar_of_union(schema, &schemas) {
            *schema = scalar;
            changed += 1;
        }
    });
    Ok(changed)
}

/// The scalar schema standing for `schema`, when it is a union whose members are all
/// scalars (directly or through a `$ref`).
fn scalar_of_union(schema: &Map<String, Value>, schemas: &Value) -> Option<Map<String, Value>> {
    let members = ["anyOf", "oneOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(Value::as_array))?;
    let mut types = Vec::new();
    let mut shown = Vec::new();
    for member in members {
        let resolved = member
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|name| schemas.get(name))
            .unwrap_or(member);
        let kind = resolved.get("type").and_then(Value::as_str)?;
        if !SCALAR_TYPES.contains(&kind) || resolved.get("properties").is_some() {
            return None;
        }
        if !types.contains(&kind) {
            types.push(kind);
        }
        shown.push(resolved.to_string());
    }
    let kind = match types.as_slice() {
        [one] => *one,
        _ => "string",
    };
    let mut scalar = Map::new();
    scalar.insert("type".into(), kind.into());
    let note = format!("One of: {}.", shown.join(", "));
    let description = match schema.get("description").and_then(Value::as_str) {
        Some(own) if !own.is_empty() => format!("{own}\n\n{note}"),
        _ => note,
    };
    scalar.insert("description".into(), description.into());
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        scalar.insert("nullable".into(), true.into());
    }
    Some(scalar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_cookies_are_left_out_and_a_required_one_leaves_the_operation_out() {
        let mut doc = json!({
            "components": {"parameters": {"Session": {"name": "session", "in": "cookie"}}},
            "paths": {
                "/a": {"get": {"parameters": [
                    {"$ref": "#/components/parameters/Session"},
                    {"name": "q", "in": "query", "schema": {"type": "string"}}
                ], "responses": {}}},
                "/b": {"get": {"parameters": [
                    {"name": "token", "in": "cookie", "required": true}
                ], "responses": {}}},
                "/c": {"parameters": [{"name": "pref", "in": "cookie"}],
                       "post": {"responses": {}}}
            }
        });
        assert_eq!(cookie_parameters(&mut doc).unwrap(), 3);
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"],
            json!([{"name": "q", "in": "query", "schema": {"type": "string"}}])
        );
        assert!(doc["paths"].get("/b").is_none());
        assert_eq!(doc["paths"]["/c"]["parameters"], json!([]));
        assert_eq!(
            doc[crate::codegen::repair::OMITTED_OPERATIONS],
            json!([
                "GET /a: cookie parameter `session`, which progenitor cannot send",
                "GET /b: it requires the cookie `token`, which progenitor cannot send",
                "POST /c: cookie parameter `pref`, which progenitor cannot send"
            ])
        );
    }

    #[test]
    fn a_union_of_scalars_is_one_scalar_and_other_unions_stay() {
        let mut doc = json!({
            "components": {"schemas": {"Day": {"type": "string", "pattern": "^\\d{4}$"}}},
            "paths": {"/a": {"get": {"parameters": [
                {"name": "start", "in": "query", "schema": {"description": "Start.", "anyOf": [
                    {"type": "string", "format": "date-time"}, {"$ref": "#/components/schemas/Day"}]}},
                {"name": "n", "in": "query", "schema": {"anyOf": [{"type": "string"}, {"type": "integer"}],
                    "nullable": true}},
                {"name": "f", "in": "query", "schema": {"anyOf": [
                    {"type": "string"}, {"type": "object", "properties": {"a": {"type": "string"}}}]}}
            ], "responses": {}}}}
        });
        assert_eq!(parameter_unions_of_scalars(&mut doc).unwrap(), 2);
        let parameters = &doc["paths"]["/a"]["get"]["parameters"];
        assert_eq!(parameters[0]["schema"]["type"], "string");
        assert!(parameters[0]["schema"].get("anyOf").is_none());
        let description = parameters[0]["schema"]["description"].as_str().unwrap();
        assert!(
            description.starts_with("Start.\n\nOne of: "),
            "{description}"
        );
        assert!(description.contains("date-time"), "{description}");
        assert_eq!(parameters[1]["schema"]["type"], "string");
        assert_eq!(parameters[1]["schema"]["nullable"], true);
        assert!(parameters[2]["schema"].get("anyOf").is_some());
    }
}
