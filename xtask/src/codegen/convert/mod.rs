//! Step 2, **convert**: a Swagger 2.0 document becomes an OpenAPI 3.0 one, so a vendor that
//! publishes 2.0 (swaggo, go-swagger and older generators emit nothing else) is a folder like
//! any other. Every later step reads OpenAPI 3; a 3.x document passes through untouched.
//!
//! The rules follow the Swagger 2.0 and OpenAPI 3.0 specifications, one module each:
//! `servers` (`host`/`basePath`/`schemes`), `parameters` (typed parameters, body and
//! `formData` parameters as request bodies, `collectionFormat`), `responses` (bodies by
//! `produces`, headers, examples), `security` (`securityDefinitions`) and `schemas`
//! (`x-nullable`, `type: file`, 2.0's schema dialect). Here: the document's shape —
//! `definitions`/`parameters`/`responses` moved into `components` with every `$ref`
//! rewritten, and the operations.
//!
//! Written here rather than taken from a crate: no maintained Rust converter exists, and the
//! npm package `swagger2openapi` would make Node a requirement of `cargo xtask codegen`. It
//! is the oracle instead: `xtask/tests/swagger2openapi_oracle.rs` compares both on real
//! documents.

mod parameters;
mod responses;
mod schemas;
mod security;
mod servers;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::error::{JsonPath, SpecProblem};
use super::repair::walk::HTTP_METHODS;

/// The OpenAPI version a converted document declares (what `swagger2openapi` writes too).
pub const TARGET_VERSION: &str = "3.0.0";

/// What [`convert`] did, recorded in `source.toml` as `converted_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// The format the vendor published, `"Swagger 2.0"`.
    pub from: String,
}

/// Converts `doc` in place when it is Swagger 2.0; `Ok(None)` for any other document.
pub fn convert(doc: &mut Value) -> Result<Option<Conversion>, SpecProblem> {
    let Some(version) = doc.get("swagger") else {
        return Ok(None);
    };
    let version = match version {
        Value::String(text) => text.trim().to_owned(),
        other => other.to_string(),
    };
    if version != "2.0" && version != "2" {
        return Err(SpecProblem::new(
            "$.swagger",
            format!(
                "Swagger {version} is not supported: only Swagger 2.0 is converted; convert the \
                 file to OpenAPI 3 and vendor that, recording both sources in source.toml"
            ),
        ));
    }
    let Some(swagger) = doc.as_object() else {
        return Err(SpecProblem::new("$", "the document is not an object"));
    };
    *doc = Value::Object(convert_document(swagger)?);
    Ok(Some(Conversion {
        from: "Swagger 2.0".to_owned(),
    }))
}

/// Top-level keys of a 2.0 document that have no place of their own in 3.0: they are moved
/// (into `servers`, `components`, operations) or consumed by the conversion.
const SWAGGER_ONLY_KEYS: [&str; 10] = [
    "swagger",
    "host",
    "basePath",
    "schemes",
    "consumes",
    "produces",
    "definitions",
    "parameters",
    "responses",
    "securityDefinitions",
];

/// The document-wide facts every operation's conversion reads.
pub(crate) struct Context {
    /// `consumes` and `produces` of the document, the defaults of its operations.
    consumes: Vec<String>,
    produces: Vec<String>,
    /// The document's `parameters` as written (body and `formData` ones are inlined where
    /// used, since 3.0 has request bodies instead).
    global_parameters: Map<String, Value>,
    /// New names of renamed components, by the kind of component and the old name.
    names: ComponentNames,
    /// `schemes` of the document, to tell an operation's own from them.
    schemes: Vec<String>,
    /// The converted `servers`, for operations that name other schemes.
    servers: Vec<Value>,
}

/// Component names after sanitising (3.0 allows `[A-Za-z0-9._-]` only), by kind.
#[derive(Debug, Default)]
pub(crate) struct ComponentNames {
    schemas: BTreeMap<String, String>,
    parameters: BTreeMap<String, String>,
    responses: BTreeMap<String, String>,
}

fn convert_document(swagger: &Map<String, Value>) -> Result<Map<String, Value>, SpecProblem> {
    let root = JsonPath::root();
    let servers = servers::servers(swagger);
    let global_parameters = object_at(swagger, "parameters");
    let definitions = object_at(swagger, "definitions");
    let global_responses = object_at(swagger, "responses");
    let names = ComponentNames {
        schemas: sanitised_names(definitions.keys()),
        parameters: sanitised_names(global_parameters.keys()),
        responses: sanitised_names(global_responses.keys()),
    };
    let context = Context {
        consumes: media_types(swagger.get("consumes")),
        produces: media_types(swagger.get("produces")),
        global_parameters: global_parameters.clone(),
        names,
        schemes: media_types(swagger.get("schemes")),
        servers: servers.clone(),
    };

    let mut openapi = Map::new();
    openapi.insert("openapi".into(), TARGET_VERSION.into());
    for (key, value) in swagger {
        if !SWAGGER_ONLY_KEYS.contains(&key.as_str()) && key != "paths" {
            openapi.insert(key.clone(), value.clone());
        }
    }
    // 3.0 requires `info.version` to be a string; YAML reads `version: 1.0` as a number.
    if let Some(version) = openapi.pointer_mut_str("/info/version")
        && !version.is_string()
        && !version.is_null()
    {
        *version = Value::String(version.to_string());
    }
    if !servers.is_empty() {
        openapi.insert("servers".into(), Value::Array(servers));
    }
    if let Some(requirements) = openapi.get_mut("security") {
        security::rename_requirements(requirements);
    }

    let mut components = Map::new();
    let schemas: Map<String, Value> = definitions
        .into_iter()
        .map(|(name, schema)| (context.names.schemas[&name].clone(), schema))
        .collect();
    insert_non_empty(&mut components, "schemas", schemas);
    let mut parameters_out = Map::new();
    for (name, parameter) in &global_parameters {
        let at = root.key("parameters").key(name);
        if parameters::is_body_like(parameter) {
            continue;
        }
        parameters_out.insert(
            context.names.parameters[name].clone(),
            parameters::convert_parameter(parameter, &at)?,
        );
    }
    insert_non_empty(&mut components, "parameters", parameters_out);
    let mut responses_out = Map::new();
    for (name, response) in &global_responses {
        responses_out.insert(
            context.names.responses[name].clone(),
            responses::convert_response(response, &context.produces)?,
        );
    }
    insert_non_empty(&mut components, "responses", responses_out);
    insert_non_empty(
        &mut components,
        "securitySchemes",
        security::security_schemes(&object_at(swagger, "securityDefinitions")),
    );

    let mut paths = Map::new();
    for (template, item) in object_at(swagger, "paths") {
        let at = root.key("paths").key(&template);
        let converted = match item.as_object() {
            Some(item) => Value::Object(convert_path_item(item, &context, &at)?),
            None => item.clone(),
        };
        paths.insert(template, converted);
    }
    openapi.insert("paths".into(), Value::Object(paths));
    if !components.is_empty() {
        openapi.insert("components".into(), Value::Object(components));
    }

    let mut document = Value::Object(openapi);
    rewrite_references(&mut document, &context.names);
    schemas::fix_up_schemas(&mut document)?;
    match document {
        Value::Object(map) => Ok(map),
        _ => unreachable!("built as an object above"),
    }
}

/// A path item: its typed parameters converted in place; its body and `formData` parameters
/// given to every operation that does not declare its own of the same name.
fn convert_path_item(
    item: &Map<String, Value>,
    context: &Context,
    at: &JsonPath,
) -> Result<Map<String, Value>, SpecProblem> {
    let shared: Vec<Value> = item
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut converted = Map::new();
    for (key, value) in item {
        if key == "parameters" {
            continue;
        }
        let operation = value
            .as_object()
            .filter(|_| HTTP_METHODS.contains(&key.as_str()));
        match operation {
            Some(operation) => {
                let operation = convert_operation(operation, &shared, context, &at.key(key))?;
                converted.insert(key.clone(), Value::Object(operation));
            }
            None => {
                converted.insert(key.clone(), value.clone());
            }
        }
    }
    let mut typed = Vec::new();
    for (index, parameter) in shared.iter().enumerate() {
        let resolved = parameters::resolve(parameter, context);
        if !parameters::is_body_like(&resolved) {
            typed.push(parameters::convert_parameter(
                parameter,
                &at.key("parameters").index(index),
            )?);
        }
    }
    if !typed.is_empty() {
        converted.insert("parameters".into(), Value::Array(typed));
    }
    Ok(converted)
}

fn convert_operation(
    operation: &Map<String, Value>,
    shared_parameters: &[Value],
    context: &Context,
    at: &JsonPath,
) -> Result<Map<String, Value>, SpecProblem> {
    let consumes = match operation.get("consumes") {
        Some(own) => media_types(Some(own)),
        None => context.consumes.clone(),
    };
    let produces = match operation.get("produces") {
        Some(own) => media_types(Some(own)),
        None => context.produces.clone(),
    };
    let mut converted = Map::new();
    for (key, value) in operation {
        match key.as_str() {
            "consumes" | "produces" | "schemes" | "parameters" | "responses" => {}
            _ => {
                converted.insert(key.clone(), value.clone());
            }
        }
    }
    let own: Vec<Value> = operation
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let split = parameters::split_parameters(&own, shared_parameters, &consumes, context, at)?;
    if !split.typed.is_empty() {
        converted.insert("parameters".into(), Value::Array(split.typed));
    }
    if let Some(body) = split.request_body {
        converted.insert("requestBody".into(), body);
    }
    let responses = match operation.get("responses").and_then(Value::as_object) {
        Some(responses) => {
            let mut out = Map::new();
            for (status, response) in responses {
                out.insert(
                    status.clone(),
                    responses::convert_response(response, &produces)?,
                );
            }
            out
        }
        // 3.0 requires `responses`; 2.0 documents omit it now and then.
        None => json!({"default": {"description": "Default response"}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    };
    converted.insert("responses".into(), Value::Object(responses));
    if let Some(requirements) = converted.get_mut("security") {
        security::rename_requirements(requirements);
    }
    if let Some(own_servers) = servers::operation_servers(operation, context) {
        converted.insert("servers".into(), Value::Array(own_servers));
    }
    Ok(converted)
}

/// A list of media types (or schemes) as 2.0 writes it: an array, or now and then one string.
fn media_types(value: Option<&Value>) -> Vec<String> {
    let mut types: Vec<String> = match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let mut seen = std::collections::BTreeSet::new();
    types.retain(|t| seen.insert(t.clone()));
    types
}

fn object_at(map: &Map<String, Value>, key: &str) -> Map<String, Value> {
    map.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn insert_non_empty(into: &mut Map<String, Value>, key: &str, value: Map<String, Value>) {
    if !value.is_empty() {
        into.insert(key.into(), Value::Object(value));
    }
}

/// A component name as 3.0 allows it (`^[a-zA-Z0-9._-]+$`): `[]` becomes `Array` and every
/// run of other characters one `_` (springfox's `ResponseEntity«string»`, `/` in go-swagger
/// names), as `swagger2openapi` does.
pub(crate) fn sanitise(name: &str) -> String {
    let name = name.replace("[]", "Array");
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out
}

/// Each name's sanitised form, made unique with a numeric suffix where two collide.
fn sanitised_names<'a>(names: impl Iterator<Item = &'a String>) -> BTreeMap<String, String> {
    let names: Vec<&String> = names.collect();
    let mut taken: std::collections::BTreeSet<String> = names
        .iter()
        .filter(|name| sanitise(name) == ***name)
        .map(|name| (*name).clone())
        .collect();
    let mut out = BTreeMap::new();
    for name in names {
        let plain = sanitise(name);
        if plain == *name {
            out.insert(name.clone(), plain);
            continue;
        }
        let mut candidate = plain.clone();
        let mut suffix = 2;
        while taken.contains(&candidate) {
            candidate = format!("{plain}{suffix}");
            suffix += 1;
        }
        taken.insert(candidate.clone());
        out.insert(name.clone(), candidate);
    }
    out
}

/// Points every `$ref` at the 3.0 place of what it names: `#/definitions/X` at
/// `#/components/schemas/X`, `#/parameters/X` and `#/responses/X` at their components, under
/// their sanitised names.
fn rewrite_references(value: &mut Value, names: &ComponentNames) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(reference) if key == "$ref" => {
                        if let Some(new) = rewritten_reference(reference, names) {
                            *reference = new;
                        }
                    }
                    _ => rewrite_references(child, names),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_references(item, names)),
        _ => {}
    }
}

fn rewritten_reference(reference: &str, names: &ComponentNames) -> Option<String> {
    for (old_prefix, new_prefix, renamed) in [
        ("#/definitions/", "#/components/schemas/", &names.schemas),
        (
            "#/parameters/",
            "#/components/parameters/",
            &names.parameters,
        ),
        ("#/responses/", "#/components/responses/", &names.responses),
    ] {
        let Some(rest) = reference.strip_prefix(old_prefix) else {
            continue;
        };
        let (first, tail) = match rest.split_once('/') {
            Some((first, tail)) => (first, format!("/{tail}")),
            None => (rest, String::new()),
        };
        let decoded = unescape_pointer_token(&percent_decode(first));
        let name = renamed
            .get(&decoded)
            .cloned()
            .unwrap_or_else(|| sanitise(&decoded));
        return Some(format!("{new_prefix}{}{tail}", escape_pointer_token(&name)));
    }
    None
}

/// `%C2%AB` in a reference as the characters it encodes (references are URIs).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `pointer_mut` for a map (serde_json has it on `Value` only).
trait PointerMut {
    fn pointer_mut_str(&mut self, pointer: &str) -> Option<&mut Value>;
}

impl PointerMut for Map<String, Value> {
    fn pointer_mut_str(&mut self, pointer: &str) -> Option<&mut Value> {
        let mut tokens = pointer.trim_start_matches('/').split('/');
        let first = tokens.next()?;
        let mut current = self.get_mut(first)?;
        for token in tokens {
            current = current.get_mut(token)?;
        }
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converted(swagger: Value) -> Value {
        let mut doc = swagger;
        let conversion = convert(&mut doc).expect("converts");
        assert_eq!(
            conversion,
            Some(Conversion {
                from: "Swagger 2.0".into()
            })
        );
        doc
    }

    #[test]
    fn an_openapi_3_document_is_left_alone() {
        let mut doc = json!({"openapi": "3.0.3", "paths": {}});
        assert_eq!(convert(&mut doc).unwrap(), None);
        assert_eq!(doc, json!({"openapi": "3.0.3", "paths": {}}));
    }

    #[test]
    fn other_swagger_versions_are_refused_with_what_to_do() {
        let problem = convert(&mut json!({"swaggerVersion": "1.2", "swagger": "1.2"})).unwrap_err();
        assert_eq!(problem.json_path, "$.swagger");
        assert!(
            problem.message.contains("only Swagger 2.0"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn the_document_becomes_openapi_3_with_its_own_fields_kept() {
        let doc = converted(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": 1.0},
            "tags": [{"name": "a"}],
            "externalDocs": {"url": "https://example.invalid"},
            "x-vendor": true,
            "paths": {}
        }));
        assert_eq!(
            doc,
            json!({
                "openapi": "3.0.0",
                "info": {"title": "t", "version": "1.0"},
                "tags": [{"name": "a"}],
                "externalDocs": {"url": "https://example.invalid"},
                "x-vendor": true,
                "paths": {}
            })
        );
    }

    #[test]
    fn definitions_parameters_and_responses_become_components_and_refs_follow() {
        let doc = converted(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "definitions": {
                "Pet": {"type": "object", "properties": {"tag": {"$ref": "#/definitions/Tag"}}},
                "Tag": {"type": "string"}
            },
            "parameters": {"limit": {"name": "limit", "in": "query", "type": "integer"}},
            "responses": {"NotFound": {"description": "gone", "schema": {"$ref": "#/definitions/Tag"}}},
            "paths": {"/pets": {"get": {
                "parameters": [{"$ref": "#/parameters/limit"}],
                "responses": {
                    "200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}},
                    "404": {"$ref": "#/responses/NotFound"}
                }
            }}}
        }));
        let components = &doc["components"];
        assert_eq!(
            components["schemas"]["Pet"]["properties"]["tag"],
            json!({"$ref": "#/components/schemas/Tag"})
        );
        assert_eq!(
            components["parameters"]["limit"],
            json!({"name": "limit", "in": "query", "schema": {"type": "integer"}})
        );
        assert_eq!(
            components["responses"]["NotFound"]["content"]["application/json"]["schema"],
            json!({"$ref": "#/components/schemas/Tag"})
        );
        let get = &doc["paths"]["/pets"]["get"];
        assert_eq!(
            get["parameters"],
            json!([{"$ref": "#/components/parameters/limit"}])
        );
        assert_eq!(
            get["responses"]["404"],
            json!({"$ref": "#/components/responses/NotFound"})
        );
        for key in ["definitions", "parameters", "responses", "swagger"] {
            assert!(doc.get(key).is_none(), "{key} is gone");
        }
    }

    #[test]
    fn component_names_outside_3_0s_alphabet_are_sanitised_and_refs_follow() {
        let doc = converted(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "definitions": {
                "ResponseEntity«string»": {"type": "string"},
                "ResponseEntity_string_": {"type": "integer"},
                "model.Account": {"type": "object"}
            },
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "schema": {
                "type": "array",
                "items": {"$ref": "#/definitions/ResponseEntity%C2%ABstring%C2%BB"}
            }}}}}}
        }));
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        assert_eq!(
            schemas.keys().collect::<Vec<_>>(),
            [
                "ResponseEntity_string_",
                "ResponseEntity_string_2",
                "model.Account"
            ]
        );
        assert_eq!(
            schemas["ResponseEntity_string_2"],
            json!({"type": "string"})
        );
        assert_eq!(
            doc.pointer("/paths/~1a/get/responses/200/content/application~1json/schema/items/$ref"),
            Some(&json!("#/components/schemas/ResponseEntity_string_2"))
        );
    }

    #[test]
    fn an_operation_without_responses_gets_a_default_one() {
        let doc = converted(json!({
            "swagger": "2.0", "info": {"title": "t", "version": "1"},
            "paths": {"/ping": {"post": {"operationId": "ping"}}}
        }));
        assert_eq!(
            doc["paths"]["/ping"]["post"],
            json!({"operationId": "ping", "responses": {"default": {"description": "Default response"}}})
        );
    }

    #[test]
    fn malformed_2_0_documents_give_a_document_or_an_error_never_a_panic() {
        for malformed in [
            json!({"swagger": "2.0"}),
            json!({"swagger": 2.0, "paths": [], "definitions": "x", "parameters": 1}),
            json!({"swagger": "2.0", "paths": {"/a": {"get": {"parameters": [1, null, {"in": "body"}],
                "responses": {"200": "ok", "404": {"schema": 1, "headers": {"X": 1}}}}}}}),
            json!({"swagger": "2.0", "paths": {"/a": {"parameters": "x", "post": {
                "consumes": "text/plain", "parameters": [{"$ref": "#/parameters/missing"},
                    {"name": "f", "in": "formData", "type": "file"}]}}}}),
            json!({"swagger": "2.0", "securityDefinitions": {"a": 1, "b": {"type": "oauth2"}},
                "security": [1, {"b": []}], "host": 5, "schemes": "https"}),
            json!({"swagger": "2.0", "definitions": {"A": {"items": [], "type": "array",
                "properties": {"p": 1}, "discriminator": 3, "x-nullable": "yes"}}}),
        ] {
            let mut doc = malformed.clone();
            match convert(&mut doc) {
                Ok(Some(_)) => assert_eq!(doc["openapi"], TARGET_VERSION, "{malformed}"),
                Ok(None) => panic!("{malformed} is Swagger 2.0"),
                Err(problem) => assert!(problem.json_path.starts_with('$'), "{problem:?}"),
            }
        }
    }

    #[test]
    fn percent_escapes_and_pointer_escapes_in_references_are_read() {
        assert_eq!(percent_decode("a%2Fb%C2%AB"), "a/b«");
        assert_eq!(percent_decode("100%"), "100%");
        let names = ComponentNames::default();
        assert_eq!(
            rewritten_reference("#/definitions/a~1b/properties/x", &names).as_deref(),
            Some("#/components/schemas/a_b/properties/x")
        );
        assert_eq!(rewritten_reference("#/components/schemas/X", &names), None);
    }
}
