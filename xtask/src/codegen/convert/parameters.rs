//! Parameters: typed ones get a `schema` and a `style` for lists; `in: body` and
//! `in: formData` ones become the operation's `requestBody`, in the media types it `consumes`.

use serde_json::{Map, Value, json};

use super::Context;
use crate::codegen::error::{JsonPath, SpecProblem};

/// What a 2.0 typed parameter, header or form field says about its value; in 3.0 these sit in
/// its `schema`.
const SCHEMA_KEYWORDS: [&str; 19] = [
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
    "minProperties",
    "maxProperties",
    "additionalProperties",
];

/// Whether a parameter is carried by the body (`in: body` or `in: formData`).
pub(super) fn is_body_like(parameter: &Value) -> bool {
    matches!(
        parameter.get("in").and_then(Value::as_str),
        Some("body" | "formData")
    )
}

/// The parameter a `$ref: '#/parameters/X'` names, else the parameter itself.
pub(super) fn resolve(parameter: &Value, context: &Context) -> Value {
    parameter
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix("#/parameters/"))
        .and_then(|name| context.global_parameters.get(name))
        .cloned()
        .unwrap_or_else(|| parameter.clone())
}

/// Splits `object`'s keys into a schema (type, format, items, bounds, enum, default,
/// `x-nullable`) and the rest (name, in, description, required, extensions).
pub(super) fn typed_schema(
    object: &Map<String, Value>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut schema = Map::new();
    let mut rest = Map::new();
    for (key, value) in object {
        if SCHEMA_KEYWORDS.contains(&key.as_str()) || key == "x-nullable" {
            schema.insert(key.clone(), value.clone());
        } else {
            rest.insert(key.clone(), value.clone());
        }
    }
    if let Some(items) = schema.get_mut("items") {
        strip_nested_collection_formats(items);
    }
    (schema, rest)
}

/// Nested arrays of 2.0 (`items` with their own `collectionFormat`) have no 3.0 spelling; the
/// outer format is the one a client writes.
fn strip_nested_collection_formats(items: &mut Value) {
    if let Some(items) = items.as_object_mut() {
        items.remove("collectionFormat");
        if let Some(inner) = items.get_mut("items") {
            strip_nested_collection_formats(inner);
        }
    }
}

/// How 3.0 writes a list in `location` that 2.0 wrote with `collection_format`: a `style`
/// and `explode`, each only where it differs from 3.0's default for the location. `None`
/// where 3.0 has no equivalent (`tsv` anywhere; `ssv` and `pipes` outside the query).
pub(super) fn array_style(
    location: &str,
    collection_format: &str,
) -> Option<(Option<&'static str>, Option<bool>)> {
    match (location, collection_format) {
        ("query", "csv") => Some((Some("form"), Some(false))),
        ("query", "ssv") => Some((Some("spaceDelimited"), None)),
        ("query", "pipes") => Some((Some("pipeDelimited"), None)),
        ("path" | "header", "csv") => Some((Some("simple"), None)),
        (_, "multi") => Some((None, Some(true))),
        _ => None,
    }
}

/// The separator a 2.0 `collectionFormat` joins values with, for the parameters 3.0 cannot
/// describe.
fn separator(collection_format: &str) -> &'static str {
    match collection_format {
        "ssv" => "spaces",
        "tsv" => "tabs",
        "pipes" => "`|`",
        _ => "commas",
    }
}

/// Converts a typed (query, path or header) parameter; a `$ref` is kept as it is (rewritten
/// with every other reference).
pub(super) fn convert_parameter(parameter: &Value, at: &JsonPath) -> Result<Value, SpecProblem> {
    let Some(parameter) = parameter.as_object() else {
        return Err(at.problem("a parameter must be an object"));
    };
    if parameter.contains_key("$ref") {
        return Ok(Value::Object(parameter.clone()));
    }
    let location = parameter
        .get("in")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let (mut schema, mut out) = typed_schema(parameter);
    // 2.0 requires `type` on a typed parameter; a document without it means a string.
    schema.entry("type").or_insert_with(|| "string".into());
    let collection_format = out
        .remove("collectionFormat")
        .and_then(|f| f.as_str().map(str::to_owned));
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        let format = collection_format.as_deref().unwrap_or("csv");
        match array_style(&location, format) {
            Some((style, explode)) => {
                if let Some(style) = style {
                    out.insert("style".into(), style.into());
                }
                if let Some(explode) = explode {
                    out.insert("explode".into(), explode.into());
                }
            }
            None => {
                // No 3.0 style writes this list: the caller joins the values and the
                // parameter is the joined text.
                schema = Map::new();
                schema.insert("type".into(), "string".into());
                let note = format!(
                    "Values joined by {} (Swagger 2.0 `collectionFormat: {format}`, which \
                     OpenAPI 3 cannot describe for a {location} parameter).",
                    separator(format)
                );
                let description = match out.get("description").and_then(Value::as_str) {
                    Some(own) if !own.is_empty() => format!("{own}\n\n{note}"),
                    _ => note,
                };
                out.insert("description".into(), description.into());
            }
        }
    }
    if let Some(example) = out.remove("x-example") {
        out.insert("example".into(), example);
    }
    if let Some(deprecated) = out.remove("x-deprecated") {
        out.insert("deprecated".into(), deprecated);
    }
    if location == "path" {
        // 3.0 requires it; a path parameter is always sent.
        out.insert("required".into(), true.into());
    }
    out.insert("schema".into(), Value::Object(schema));
    Ok(Value::Object(out))
}

/// An operation's parameters in 3.0 terms.
pub(super) struct Split {
    /// Typed parameters, converted (or `$ref`s to components).
    pub typed: Vec<Value>,
    pub request_body: Option<Value>,
}

/// Sorts an operation's parameters (its own, and the body-like ones of its path item that it
/// does not redeclare) into typed parameters and one request body.
pub(super) fn split_parameters(
    own: &[Value],
    shared: &[Value],
    consumes: &[String],
    context: &Context,
    at: &JsonPath,
) -> Result<Split, SpecProblem> {
    let key = |parameter: &Value| {
        (
            parameter
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parameter
                .get("in")
                .and_then(Value::as_str)
                .map(str::to_owned),
        )
    };
    let own_keys: Vec<_> = own.iter().map(|p| key(&resolve(p, context))).collect();
    let mut candidates: Vec<(JsonPath, &Value)> = own
        .iter()
        .enumerate()
        .map(|(i, p)| (at.key("parameters").index(i), p))
        .collect();
    for parameter in shared {
        let resolved = resolve(parameter, context);
        if is_body_like(&resolved) && !own_keys.contains(&key(&resolved)) {
            candidates.push((at.key("parameters"), parameter));
        }
    }

    let mut typed = Vec::new();
    let mut body: Option<(JsonPath, Value)> = None;
    let mut form_fields: Vec<Map<String, Value>> = Vec::new();
    for (path, parameter) in candidates {
        let resolved = resolve(parameter, context);
        match resolved.get("in").and_then(Value::as_str) {
            Some("body") => {
                if body.is_some() {
                    return Err(path.problem(
                        "a second `in: body` parameter: Swagger 2.0 allows one per operation",
                    ));
                }
                body = Some((path, resolved));
            }
            Some("formData") => {
                if let Some(field) = resolved.as_object() {
                    form_fields.push(field.clone());
                }
            }
            _ if resolved.get("type").and_then(Value::as_str) == Some("file") => {
                body = Some((path, resolved));
            }
            _ => typed.push(convert_parameter(parameter, &path)?),
        }
    }
    let request_body = match (body, form_fields.is_empty()) {
        (Some((path, _)), false) => {
            return Err(path.problem(
                "both an `in: body` and `in: formData` parameters: Swagger 2.0 allows one or \
                 the other",
            ));
        }
        (Some((_, body)), true) => Some(body_request(&body, consumes)),
        (None, false) => Some(form_request(&form_fields, consumes)),
        (None, true) => None,
    };
    Ok(Split {
        typed,
        request_body,
    })
}

/// An `in: body` parameter as a request body: its schema in every media type the operation
/// consumes (JSON when it names none); a `type: file` parameter outside a form is raw bytes.
fn body_request(parameter: &Value, consumes: &[String]) -> Value {
    let mut body = Map::new();
    if let Some(description) = parameter.get("description") {
        body.insert("description".into(), description.clone());
    }
    if parameter.get("required") == Some(&Value::Bool(true)) {
        body.insert("required".into(), true.into());
    }
    let mut content = Map::new();
    if parameter.get("in").and_then(Value::as_str) == Some("body") {
        let schema = parameter
            .get("schema")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let media_types: Vec<&str> = if consumes.is_empty() {
            vec!["application/json"]
        } else {
            consumes.iter().map(String::as_str).collect()
        };
        for media_type in media_types {
            content.insert(media_type.to_owned(), json!({"schema": schema}));
        }
    } else {
        content.insert(
            "application/octet-stream".into(),
            json!({"schema": {"type": "string", "format": "binary"}}),
        );
    }
    body.insert("content".into(), Value::Object(content));
    copy_extensions(parameter, &mut body);
    Value::Object(body)
}

/// `in: formData` parameters as one request body: an object with a property per field,
/// `multipart/form-data` when the operation consumes it or a field is a file (2.0 requires
/// it then), else `application/x-www-form-urlencoded`.
fn form_request(fields: &[Map<String, Value>], consumes: &[String]) -> Value {
    let has_file = fields
        .iter()
        .any(|field| field.get("type").and_then(Value::as_str) == Some("file"));
    let media_type = if has_file || consumes.iter().any(|c| c == "multipart/form-data") {
        "multipart/form-data"
    } else {
        "application/x-www-form-urlencoded"
    };
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        let name = field
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (mut schema, rest) = typed_schema(field);
        for key in ["description", "example"] {
            if let Some(value) = rest.get(key) {
                schema.insert(key.into(), value.clone());
            }
        }
        if let Some(example) = rest.get("x-example") {
            schema.entry("example").or_insert_with(|| example.clone());
        }
        copy_extensions(&Value::Object(rest.clone()), &mut schema);
        schema.remove("x-example");
        if field.get("required") == Some(&Value::Bool(true)) {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, Value::Object(schema));
    }
    let mut schema = Map::new();
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    let any_required = !required.is_empty();
    if any_required {
        schema.insert("required".into(), Value::Array(required));
    }
    let mut body = Map::new();
    body.insert(
        "content".into(),
        json!({ media_type: {"schema": Value::Object(schema)} }),
    );
    if any_required {
        body.insert("required".into(), true.into());
    }
    Value::Object(body)
}

/// `x-` extensions of a parameter travel with what it became.
fn copy_extensions(from: &Value, into: &mut Map<String, Value>) {
    if let Some(from) = from.as_object() {
        for (key, value) in from {
            if key.starts_with("x-") && key != "x-nullable" {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::convert::ComponentNames;

    fn context(global_parameters: Value) -> Context {
        Context {
            consumes: Vec::new(),
            produces: Vec::new(),
            global_parameters: global_parameters.as_object().cloned().unwrap_or_default(),
            names: ComponentNames::default(),
            schemes: Vec::new(),
            servers: Vec::new(),
        }
    }

    fn convert(parameter: Value) -> Value {
        convert_parameter(&parameter, &JsonPath::root()).expect("converts")
    }

    #[test]
    fn a_typed_parameter_gets_a_schema_of_its_type_and_bounds() {
        assert_eq!(
            convert(
                json!({"name": "limit", "in": "query", "description": "d", "required": false,
                "type": "integer", "format": "int32", "minimum": 1, "maximum": 100, "default": 20,
                "x-nullable": true, "x-example": 5, "allowEmptyValue": true})
            ),
            json!({"name": "limit", "in": "query", "description": "d", "required": false,
                "allowEmptyValue": true, "example": 5,
                "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 100,
                           "default": 20, "x-nullable": true}})
        );
    }

    #[test]
    fn path_parameters_are_required_and_untyped_ones_are_strings() {
        assert_eq!(
            convert(json!({"name": "id", "in": "path"})),
            json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}})
        );
    }

    #[test]
    fn collection_formats_become_styles() {
        let list = |location: &str, format: Option<&str>| {
            let mut parameter = json!({"name": "ids", "in": location, "type": "array",
                "items": {"type": "integer", "collectionFormat": "csv"}});
            if let Some(format) = format {
                parameter["collectionFormat"] = format.into();
            }
            let converted = convert(parameter);
            (
                converted.get("style").cloned(),
                converted.get("explode").cloned(),
            )
        };
        assert_eq!(
            list("query", None),
            (Some(json!("form")), Some(json!(false)))
        );
        assert_eq!(
            list("query", Some("csv")),
            (Some(json!("form")), Some(json!(false)))
        );
        assert_eq!(list("query", Some("multi")), (None, Some(json!(true))));
        assert_eq!(
            list("query", Some("ssv")),
            (Some(json!("spaceDelimited")), None)
        );
        assert_eq!(
            list("query", Some("pipes")),
            (Some(json!("pipeDelimited")), None)
        );
        assert_eq!(list("path", Some("csv")), (Some(json!("simple")), None));
        assert_eq!(list("header", None), (Some(json!("simple")), None));
        // Nested formats have no 3.0 spelling and are dropped.
        let converted = convert(json!({"name": "ids", "in": "query", "type": "array",
            "items": {"type": "integer", "collectionFormat": "csv"}}));
        assert_eq!(converted["schema"]["items"], json!({"type": "integer"}));
    }

    #[test]
    fn a_list_3_0_cannot_describe_is_the_joined_text() {
        let converted = convert(
            json!({"name": "tags", "in": "query", "description": "Tags.",
            "type": "array", "items": {"type": "string"}, "collectionFormat": "tsv"}),
        );
        assert_eq!(converted["schema"], json!({"type": "string"}));
        let description = converted["description"].as_str().unwrap();
        assert!(
            description.starts_with("Tags.\n\nValues joined by tabs"),
            "{description}"
        );
        let converted = convert(json!({"name": "X-Ids", "in": "header",
            "type": "array", "items": {"type": "string"}, "collectionFormat": "pipes"}));
        assert_eq!(converted["schema"], json!({"type": "string"}));
    }

    #[test]
    fn a_body_parameter_is_the_request_body_in_each_consumed_media_type() {
        let own = [
            json!({"name": "pet", "in": "body", "required": true, "description": "the pet",
            "schema": {"$ref": "#/definitions/Pet"}, "x-origin": "a"}),
        ];
        let consumes = ["application/json".to_owned(), "application/xml".to_owned()];
        let split =
            split_parameters(&own, &[], &consumes, &context(json!({})), &JsonPath::root()).unwrap();
        assert!(split.typed.is_empty());
        assert_eq!(
            split.request_body,
            Some(
                json!({"description": "the pet", "required": true, "x-origin": "a", "content": {
                    "application/json": {"schema": {"$ref": "#/definitions/Pet"}},
                    "application/xml": {"schema": {"$ref": "#/definitions/Pet"}}
                }})
            )
        );
        // Nothing consumed: JSON.
        let split =
            split_parameters(&own, &[], &[], &context(json!({})), &JsonPath::root()).unwrap();
        let body = split.request_body.unwrap();
        assert_eq!(
            body["content"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["application/json"]
        );
    }

    #[test]
    fn form_fields_are_one_object_body_and_a_file_makes_it_multipart() {
        let own = [
            json!({"name": "id", "in": "path", "type": "integer", "required": true}),
            json!({"name": "note", "in": "formData", "type": "string", "description": "n"}),
            json!({"name": "file", "in": "formData", "type": "file", "required": true}),
        ];
        let split =
            split_parameters(&own, &[], &[], &context(json!({})), &JsonPath::root()).unwrap();
        assert_eq!(split.typed.len(), 1);
        assert_eq!(
            split.request_body,
            Some(
                json!({"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object",
                    "properties": {"note": {"type": "string", "description": "n"}, "file": {"type": "file"}},
                    "required": ["file"]
                }}}})
            )
        );
        let fields = [json!({"name": "q", "in": "formData", "type": "array",
            "items": {"type": "string"}, "collectionFormat": "multi"})];
        let split =
            split_parameters(&fields, &[], &[], &context(json!({})), &JsonPath::root()).unwrap();
        assert_eq!(
            split.request_body,
            Some(
                json!({"content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object",
                    "properties": {"q": {"type": "array", "items": {"type": "string"}}}
                }}}})
            )
        );
    }

    #[test]
    fn referenced_and_path_level_body_parameters_reach_the_operation() {
        let globals = json!({"Body": {"name": "b", "in": "body", "schema": {"type": "object"}}});
        let own = [json!({"$ref": "#/parameters/Body"})];
        let split = split_parameters(&own, &[], &[], &context(globals), &JsonPath::root()).unwrap();
        assert_eq!(
            split.request_body,
            Some(json!({"content": {"application/json": {"schema": {"type": "object"}}}}))
        );
        let shared = [json!({"name": "f", "in": "formData", "type": "string"})];
        let split =
            split_parameters(&[], &shared, &[], &context(json!({})), &JsonPath::root()).unwrap();
        assert!(split.request_body.is_some());
    }

    #[test]
    fn a_body_beside_form_fields_is_refused_with_its_path() {
        let own = [
            json!({"name": "b", "in": "body", "schema": {}}),
            json!({"name": "f", "in": "formData", "type": "string"}),
        ];
        let at = JsonPath::root().key("paths").key("/x").key("post");
        let problem = split_parameters(&own, &[], &[], &context(json!({})), &at)
            .err()
            .expect("refused");
        assert_eq!(problem.json_path, "$.paths['/x'].post.parameters[0]");
    }
}
