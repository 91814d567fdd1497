//! Response schemas that fail a whole response over something a vendor adds later: a field
//! the schema closes off, or a value its enum does not list. A balance client must keep
//! reading a body the vendor extended, so these are opened; what a request sends is left as
//! the spec says.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::walk::{
    HTTP_METHODS, SCHEMA_ARRAY_KEYWORDS, SCHEMA_MAP_KEYWORDS, SINGLE_SCHEMA_KEYWORDS,
};
use crate::codegen::error::SpecProblem;

/// Drops `additionalProperties: false` from every schema a response reaches (inline, or a
/// component through `$ref`, transitively). typify turns it into
/// `#[serde(deny_unknown_fields)]`, so one field the vendor adds to its body later fails the
/// whole response. Schemas only requests use keep it.
pub fn closed_response_objects(doc: &mut Value) -> Result<usize, SpecProblem> {
    let reach = Reach::of(doc);
    let mut changed = 0;
    for at in &reach.responses {
        if let Some(Value::Object(schema)) = doc.pointer_mut(at)
            && schema.get("additionalProperties") == Some(&Value::Bool(false))
        {
            schema.remove("additionalProperties");
            changed += 1;
        }
    }
    Ok(changed)
}

/// Opens the `enum` of a string, number or integer schema that only responses reach: typify
/// makes a closed Rust enum of it, so a value the vendor adds later (a new currency) fails
/// the whole response. The keyword is removed, so the field is the plain type, and the known
/// values are appended to its `description`. An enum a request body or parameter also reaches
/// stays closed (the client must not send what the spec does not allow), and so does an
/// enum of one value: it is a constant, the tag typify uses to tell a union's variants apart.
pub fn closed_response_enums(doc: &mut Value) -> Result<usize, SpecProblem> {
    let reach = Reach::of(doc);
    let mut changed = 0;
    for at in reach.responses.difference(&reach.requests) {
        if let Some(Value::Object(schema)) = doc.pointer_mut(at)
            && open_enum(schema)
        {
            changed += 1;
        }
    }
    Ok(changed)
}

fn open_enum(schema: &mut Map<String, Value>) -> bool {
    let Some(Value::Array(values)) = schema.get("enum") else {
        return false;
    };
    if values.len() < 2 {
        return false;
    }
    let declared = schema.get("type").and_then(Value::as_str);
    let typed = declared.is_some();
    let kind: &'static str = match declared {
        Some("string") => "string",
        Some("number") => "number",
        Some("integer") => "integer",
        Some(_) => return false,
        None => match scalar_type(values) {
            Some(kind) => kind,
            None => return false,
        },
    };
    let known: Vec<String> = values
        .iter()
        .map(|value| match value {
            Value::String(text) => format!("`{text}`"),
            other => format!("`{other}`"),
        })
        .collect();
    let known = format!("Known values: {}.", known.join(", "));
    let description = match schema.get("description").and_then(Value::as_str) {
        Some(text) if !text.trim().is_empty() => format!("{}\n\n{known}", text.trim_end()),
        _ => known,
    };
    schema.remove("enum");
    if !typed {
        // Without its values an untyped schema would admit anything; keep the values' type.
        schema.insert("type".into(), kind.into());
    }
    schema.insert("description".into(), description.into());
    true
}

/// The one JSON type all of an untyped enum's values share, if it is a scalar one.
fn scalar_type(values: &[Value]) -> Option<&'static str> {
    if values.iter().all(Value::is_string) {
        Some("string")
    } else if values.iter().all(|v| v.is_i64() || v.is_u64()) {
        Some("integer")
    } else if values.iter().all(Value::is_number) {
        Some("number")
    } else {
        None
    }
}

/// The JSON pointers of the schemas that responses reach, and of those that requests (bodies
/// and parameters) reach, `$ref`s followed.
struct Reach {
    responses: BTreeSet<String>,
    requests: BTreeSet<String>,
}

impl Reach {
    fn of(doc: &Value) -> Self {
        let mut responses = Vec::new();
        let mut requests = Vec::new();
        let paths = doc.get("paths").and_then(Value::as_object);
        for (template, item) in paths.into_iter().flatten() {
            let item_at = format!("/paths/{}", escape(template));
            parameter_roots(doc, &item_at, item, &mut requests);
            for method in HTTP_METHODS {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                let at = format!("{item_at}/{method}");
                parameter_roots(doc, &at, operation, &mut requests);
                if let Some(body) = operation.get("requestBody") {
                    content_roots(doc, format!("{at}/requestBody"), body, &mut requests);
                }
                let operation_responses = operation.get("responses").and_then(Value::as_object);
                for (status, response) in operation_responses.into_iter().flatten() {
                    let at = format!("{at}/responses/{}", escape(status));
                    content_roots(doc, at, response, &mut responses);
                }
            }
        }
        // Components used by nothing above are reached from nowhere, but a component
        // response or request body is one by definition.
        for (kind, roots) in [
            ("responses", &mut responses),
            ("requestBodies", &mut requests),
        ] {
            let holders = doc
                .pointer(&format!("/components/{kind}"))
                .and_then(Value::as_object);
            for (name, holder) in holders.into_iter().flatten() {
                let at = format!("/components/{kind}/{}", escape(name));
                content_roots(doc, at, holder, roots);
            }
        }
        let shared = doc
            .pointer("/components/parameters")
            .and_then(Value::as_object);
        for (name, parameter) in shared.into_iter().flatten() {
            let at = format!("/components/parameters/{}", escape(name));
            parameter_schema_roots(doc, at, parameter, &mut requests);
        }
        Self {
            responses: reached(doc, responses),
            requests: reached(doc, requests),
        }
    }
}

/// The schemas of the `parameters` of a path item or operation at `at`.
fn parameter_roots(doc: &Value, at: &str, holder: &Value, roots: &mut Vec<String>) {
    let parameters = holder.get("parameters").and_then(Value::as_array);
    for (index, parameter) in parameters.into_iter().flatten().enumerate() {
        parameter_schema_roots(doc, format!("{at}/parameters/{index}"), parameter, roots);
    }
}

fn parameter_schema_roots(doc: &Value, at: String, parameter: &Value, roots: &mut Vec<String>) {
    let (at, parameter) = follow(doc, at, parameter);
    if parameter.get("schema").is_some() {
        roots.push(format!("{at}/schema"));
    }
    content_roots(doc, at, parameter, roots);
}

/// The media-type schemas of a response, request body or parameter (`$ref` followed).
fn content_roots(doc: &Value, at: String, holder: &Value, roots: &mut Vec<String>) {
    let (at, holder) = follow(doc, at, holder);
    let content = holder.get("content").and_then(Value::as_object);
    for (media_type, media) in content.into_iter().flatten() {
        if media.get("schema").is_some() {
            roots.push(format!("{at}/content/{}/schema", escape(media_type)));
        }
    }
}

/// Where a local `$ref` leads (a chain of them followed), with its JSON pointer.
fn follow<'d>(doc: &'d Value, mut at: String, mut value: &'d Value) -> (String, &'d Value) {
    for _ in 0..16 {
        let Some(target) = value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix('#'))
            .filter(|pointer| pointer.starts_with('/'))
        else {
            break;
        };
        let Some(next) = doc.pointer(target) else {
            break;
        };
        at = target.to_owned();
        value = next;
    }
    (at, value)
}

/// Every schema reached from `roots`: nested schemas and `$ref` targets, transitively. A
/// schema under `not` says what a body must *not* be, so loosening it would tighten the body:
/// the walk does not enter it.
fn reached(doc: &Value, roots: Vec<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending = roots;
    while let Some(at) = pending.pop() {
        let Some(Value::Object(schema)) = doc.pointer(&at) else {
            continue;
        };
        if !seen.insert(at.clone()) {
            continue;
        }
        if let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix('#'))
            .filter(|pointer| pointer.starts_with('/'))
        {
            pending.push(target.to_owned());
        }
        for key in SINGLE_SCHEMA_KEYWORDS.iter().filter(|key| **key != "not") {
            match schema.get(*key) {
                // `items` may be an array of schemas in old drafts.
                Some(Value::Array(items)) => {
                    pending.extend((0..items.len()).map(|i| format!("{at}/{key}/{i}")));
                }
                Some(_) => pending.push(format!("{at}/{key}")),
                None => {}
            }
        }
        for key in SCHEMA_ARRAY_KEYWORDS {
            if let Some(Value::Array(members)) = schema.get(key) {
                pending.extend((0..members.len()).map(|i| format!("{at}/{key}/{i}")));
            }
        }
        for key in SCHEMA_MAP_KEYWORDS {
            if let Some(Value::Object(members)) = schema.get(key) {
                pending.extend(
                    members
                        .keys()
                        .map(|name| format!("{at}/{key}/{}", escape(name))),
                );
            }
        }
    }
    seen
}

/// One JSON Pointer reference token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn operation(request: Value, response: Value) -> Value {
        json!({"paths": {"/a": {"post": {
            "requestBody": {"content": {"application/json": {"schema": request}}},
            "responses": {"200": {"description": "", "content": {"application/json": {"schema": response}}}}
        }}}})
    }

    #[test]
    fn closed_objects_are_opened_wherever_a_response_reaches_them() {
        let mut doc = operation(
            json!({"$ref": "#/components/schemas/Order"}),
            json!({"type": "object", "additionalProperties": false, "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}}}}),
        );
        doc["components"] = json!({"schemas": {
            "Line": {"type": "object", "additionalProperties": false,
                "properties": {"price": {"allOf": [{"$ref": "#/components/schemas/Price"}]}}},
            "Price": {"type": "object", "additionalProperties": false},
            "Order": {"type": "object", "additionalProperties": false}
        }});
        assert_eq!(closed_response_objects(&mut doc).unwrap(), 3);
        let response = &doc["paths"]["/a"]["post"]["responses"]["200"]["content"]["application/json"]
            ["schema"];
        assert!(response.get("additionalProperties").is_none(), "{response}");
        for opened in ["Line", "Price"] {
            let schema = &doc["components"]["schemas"][opened];
            assert!(schema.get("additionalProperties").is_none(), "{schema}");
        }
        // Only a request uses it.
        assert_eq!(
            doc["components"]["schemas"]["Order"]["additionalProperties"],
            false
        );
    }

    #[test]
    fn enums_only_responses_reach_are_opened_with_their_values_described() {
        let mut doc = operation(
            json!({"type": "object", "properties": {"side": {"$ref": "#/components/schemas/Side"}}}),
            json!({"type": "object", "properties": {
                "currency": {"type": "string", "nullable": true, "description": "What is spent.",
                    "enum": ["USD", "DIEM"]},
                "tier": {"enum": [1, 2]},
                "side": {"$ref": "#/components/schemas/Side"},
                "object": {"type": "string", "enum": ["balance"]}
            }}),
        );
        doc["components"] =
            json!({"schemas": {"Side": {"type": "string", "enum": ["buy", "sell"]}}});
        assert_eq!(closed_response_enums(&mut doc).unwrap(), 2);
        let properties = &doc["paths"]["/a"]["post"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["properties"];
        assert_eq!(
            properties["currency"],
            json!({"type": "string", "nullable": true,
                "description": "What is spent.\n\nKnown values: `USD`, `DIEM`."})
        );
        assert_eq!(
            properties["tier"],
            json!({"type": "integer", "description": "Known values: `1`, `2`."})
        );
        // A request sends it, so it stays closed; a one-value enum is a constant tag.
        assert_eq!(
            doc["components"]["schemas"]["Side"]["enum"],
            json!(["buy", "sell"])
        );
        assert_eq!(properties["object"]["enum"], json!(["balance"]));
    }

    #[test]
    fn parameters_and_component_responses_count_and_not_is_left_alone() {
        let mut doc = json!({
            "paths": {"/a": {"get": {
                "parameters": [{"$ref": "#/components/parameters/Mode"}],
                "responses": {"200": {"$ref": "#/components/responses/Ok"}}
            }}},
            "components": {
                "parameters": {"Mode": {"name": "mode", "in": "query",
                    "schema": {"$ref": "#/components/schemas/Mode"}}},
                "responses": {"Ok": {"description": "", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {
                        "mode": {"$ref": "#/components/schemas/Mode"},
                        "state": {"type": "string", "enum": ["on", "off"]},
                        "other": {"not": {"type": "string", "enum": ["x", "y"]}}
                    }}}}}},
                "schemas": {"Mode": {"type": "string", "enum": ["fast", "slow"]}}
            }
        });
        assert_eq!(closed_response_enums(&mut doc).unwrap(), 1);
        let properties = &doc["components"]["responses"]["Ok"]["content"]["application/json"]["schema"]
            ["properties"];
        assert!(properties["state"].get("enum").is_none(), "{properties}");
        assert_eq!(properties["other"]["not"]["enum"], json!(["x", "y"]));
        assert_eq!(
            doc["components"]["schemas"]["Mode"]["enum"],
            json!(["fast", "slow"])
        );
    }
}
