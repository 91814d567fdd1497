//! Repairs at the level of operations: parameters, operationIds, request and response bodies.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::identifier_key;
use super::walk::{HTTP_METHODS, for_each_operation};
use crate::codegen::error::SpecProblem;

/// Removes `in: path` parameters whose `{name}` does not occur in the path template. Exporters
/// copy shared parameters onto operations that do not take them; generators then demand an
/// argument that is never sent (or panic: progenitor orders path arguments by the template).
pub fn path_parameters_not_in_template(doc: &mut Value) -> Result<usize, SpecProblem> {
    let shared = components(doc, "parameters");
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(0);
    };
    let mut changed = 0;
    for (template, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let mut lists: Vec<&mut Value> = Vec::new();
        for (key, value) in item.iter_mut() {
            if key == "parameters" {
                lists.push(value);
            } else if let Some(parameters) = value.get_mut("parameters") {
                lists.push(parameters);
            }
        }
        for list in lists {
            let Some(list) = list.as_array_mut() else {
                continue;
            };
            let before = list.len();
            list.retain(|parameter| {
                let parameter = resolve(parameter, &shared, "#/components/parameters/");
                let is_path = parameter.get("in").and_then(Value::as_str) == Some("path");
                let name = parameter
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                !is_path || template.contains(&format!("{{{name}}}"))
            });
            changed += before - list.len();
        }
    }
    Ok(changed)
}

/// Declares path template variables that no parameter declares (`/items/{id}` with no `id`
/// parameter), as required strings. progenitor panics on such a template ("missing from path").
pub fn undeclared_path_parameters(doc: &mut Value) -> Result<usize, SpecProblem> {
    let shared = components(doc, "parameters");
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(0);
    };
    let mut changed = 0;
    for (template, item) in paths.iter_mut() {
        let variables = template_variables(template);
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let declared_on_item = declared_path_parameters(item.get("parameters"), &shared);
        for method in HTTP_METHODS {
            let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let declared = declared_path_parameters(operation.get("parameters"), &shared);
            let missing: Vec<&str> = variables
                .iter()
                .copied()
                .filter(|v| !declared.contains(*v) && !declared_on_item.contains(*v))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
            if let Some(parameters) = parameters.as_array_mut() {
                for name in missing {
                    parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
                    changed += 1;
                }
            }
        }
    }
    Ok(changed)
}

fn template_variables(template: &str) -> Vec<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| !name.is_empty())
        .collect()
}

fn declared_path_parameters(parameters: Option<&Value>, shared: &Value) -> BTreeSet<String> {
    parameters
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|parameter| resolve(parameter, shared, "#/components/parameters/"))
        .filter(|parameter| parameter.get("in").and_then(Value::as_str) == Some("path"))
        .filter_map(|parameter| {
            parameter
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

/// Splits a `default` response that sits beside typed success responses into `4XX` and `5XX`.
/// progenitor counts `default` as a possible success *and* error, so a default error body next
/// to a different 200 body trips its one-type-per-group assertion; as error ranges it keeps
/// meaning "any error", typed.
pub fn default_response_beside_success(doc: &mut Value) -> Result<usize, SpecProblem> {
    let responses = components(doc, "responses");
    let mut changed = 0;
    for_each_operation(doc, &mut |_, _, _, operation| {
        let Some(operation_responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return Ok(());
        };
        let Some(default) = operation_responses.get("default").cloned() else {
            return Ok(());
        };
        let default_body = body_of(resolve(&default, &responses, "#/components/responses/"));
        let differs_from_a_success = operation_responses
            .iter()
            .filter(|(status, _)| {
                status.len() == 3
                    && status.starts_with('2')
                    && status.chars().all(|c| c.is_ascii_digit())
            })
            .any(|(_, response)| {
                body_of(resolve(response, &responses, "#/components/responses/")) != default_body
            });
        if differs_from_a_success {
            operation_responses.remove("default");
            for range in ["4XX", "5XX"] {
                operation_responses
                    .entry(range)
                    .or_insert_with(|| default.clone());
            }
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// A copy of `components.<kind>` (an empty object when absent), to resolve `$ref`s against
/// while the document is being changed.
pub(super) fn components(doc: &Value, kind: &str) -> Value {
    doc.pointer(&format!("/components/{kind}"))
        .cloned()
        .unwrap_or_else(|| json!({}))
}

/// Follows a local `$ref` into `components`; anything else is returned as it is.
fn resolve<'a>(value: &'a Value, components: &'a Value, prefix: &str) -> &'a Value {
    value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix(prefix))
        .and_then(|name| components.get(name))
        .unwrap_or(value)
}

/// Gives every operation a unique operationId. Missing ones, ones without any ASCII letter
/// (a generator cannot make a method name of `查询余额`) and later duplicates are derived
/// from the method and path: `GET /user/balance` becomes `get_user_balance`. Duplicates are
/// compared as the Rust names progenitor makes of them (`list__get` and `list_get` are both
/// `list_get`, E0592).
pub fn missing_or_duplicate_operation_ids(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut taken = BTreeSet::new();
    let mut needs_id = Vec::new();
    for_each_operation(doc, &mut |_, template, method, operation| {
        let id = operation.get("operationId").and_then(Value::as_str);
        match id {
            Some(id)
                if id.chars().any(|c| c.is_ascii_alphabetic())
                    && taken.insert(identifier_key(id)) => {}
            _ => needs_id.push((template.to_owned(), method.to_owned())),
        }
        Ok(())
    })?;
    let mut assigned = BTreeMap::new();
    for (template, method) in &needs_id {
        let base = derived_operation_id(method, template);
        let mut candidate = base.clone();
        let mut n = 2;
        while !taken.insert(identifier_key(&candidate)) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        assigned.insert((template.clone(), method.clone()), candidate);
    }
    for_each_operation(doc, &mut |_, template, method, operation| {
        if let Some(id) = assigned.remove(&(template.to_owned(), method.to_owned())) {
            operation.insert("operationId".into(), id.into());
        }
        Ok(())
    })?;
    Ok(needs_id.len())
}

fn derived_operation_id(method: &str, template: &str) -> String {
    let mut words = vec![method.to_ascii_lowercase()];
    for segment in template.split('/').filter(|s| !s.is_empty()) {
        let (prefix, segment) = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => ("by_", name),
            None => ("", segment),
        };
        let word: String = segment
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let word = word.trim_matches('_');
        if !word.is_empty() {
            words.push(format!("{prefix}{word}"));
        }
    }
    words.join("_")
}

/// Keeps one media type of `holder`'s `content` when it offers several: JSON if offered, else
/// the first that is `usable`, else the first listed. Returns how many were dropped.
fn keep_one_media_type(holder: &mut Value, usable: fn(&str) -> bool) -> usize {
    let Some(content) = holder.get_mut("content").and_then(Value::as_object_mut) else {
        return 0;
    };
    if content.len() < 2 {
        return 0;
    }
    let keep = content
        .keys()
        .find(|media_type| is_json(media_type))
        .or_else(|| content.keys().find(|media_type| usable(media_type)))
        .or_else(|| content.keys().next())
        .cloned()
        .unwrap_or_default();
    let dropped = content.len() - 1;
    content.retain(|media_type, _| *media_type == keep);
    dropped
}

/// Keeps one media type of a response that offers several (progenitor panics on "more media
/// types than expected"): JSON if offered, otherwise the first listed.
pub fn response_media_types(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    let mut keep_one = |response: &mut Value| changed += keep_one_media_type(response, |_| true);
    if let Some(Value::Object(responses)) = doc.pointer_mut("/components/responses") {
        responses.values_mut().for_each(&mut keep_one);
    }
    for_each_operation(doc, &mut |_, _, _, operation| {
        if let Some(Value::Object(responses)) = operation.get_mut("responses") {
            responses.values_mut().for_each(&mut keep_one);
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Keeps one media type of a request body that offers several (progenitor accepts exactly one):
/// JSON if offered, else one progenitor can send, otherwise the first listed.
pub fn request_body_media_types(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    let mut keep_one = |body: &mut Value| changed += keep_one_media_type(body, progenitor_can_send);
    if let Some(Value::Object(bodies)) = doc.pointer_mut("/components/requestBodies") {
        bodies.values_mut().for_each(&mut keep_one);
    }
    for_each_operation(doc, &mut |_, _, _, operation| {
        if let Some(body) = operation.get_mut("requestBody") {
            keep_one(body);
        }
        Ok(())
    })?;
    Ok(changed)
}

/// A header parameter that may be `null` (`anyOf: [string, null]`) is an optional string: a
/// header is sent or not, and progenitor writes its value with `Display`, which an `Option`
/// lacks.
pub fn nullable_headers(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    let mut plain = |parameter: &mut Value| {
        if parameter.get("in").and_then(Value::as_str) == Some("header")
            && let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut)
            && schema.remove("nullable").is_some()
        {
            changed += 1;
        }
    };
    for_each_parameter(doc, &mut plain);
    Ok(changed)
}

/// Calls `f` on every Parameter Object: shared components, path items and operations.
pub(super) fn for_each_parameter(doc: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    if let Some(Value::Object(parameters)) = doc.pointer_mut("/components/parameters") {
        parameters.values_mut().for_each(&mut *f);
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::Array(list)) = item.get_mut("parameters") {
                list.iter_mut().for_each(&mut *f);
            }
            for method in HTTP_METHODS {
                if let Some(Value::Array(list)) = item
                    .get_mut(method)
                    .and_then(|operation| operation.get_mut("parameters"))
                {
                    list.iter_mut().for_each(&mut *f);
                }
            }
        }
    }
}

/// Adds `omitted` to the document's `x-omitted-operations` list.
pub(super) fn record_omitted(doc: &mut Value, omitted: Vec<Value>) {
    if omitted.is_empty() {
        return;
    }
    if let Some(root) = doc.as_object_mut()
        && let Some(list) = root
            .entry(OMITTED_OPERATIONS)
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
    {
        list.extend(omitted);
    }
}

/// Drops path items left without any operation.
pub(super) fn drop_empty_path_items(paths: &mut serde_json::Map<String, Value>) {
    paths.retain(|_, item| {
        item.as_object()
            .is_none_or(|item| HTTP_METHODS.iter().any(|m| item.contains_key(*m)))
    });
}

/// Leaves out the parameters `flagged` names (`(name, required)`: a parameter progenitor
/// cannot send): an operation that requires one is left out, an optional one (the
/// operation's own or its path's) is left out of the operation. Each is listed under
/// `x-omitted-operations` with the text `required` or `optional` gives for its name, and
/// the number listed is returned.
pub(super) fn omit_unsendable_parameters(
    doc: &mut Value,
    flagged: &dyn Fn(&Value) -> Option<(String, bool)>,
    required: &dyn Fn(&str) -> String,
    optional: &dyn Fn(&str) -> String,
) -> usize {
    let mut omitted: Vec<Value> = Vec::new();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return 0;
    };
    for (template, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let shared: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in HTTP_METHODS {
            let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let shown = method.to_ascii_uppercase();
            let own = operation.get("parameters").and_then(Value::as_array);
            let found: Vec<(String, bool)> = own
                .into_iter()
                .flatten()
                .chain(&shared)
                .filter_map(flagged)
                .collect();
            if let Some((name, _)) = found.iter().find(|(_, needed)| *needed) {
                omitted.push(format!("{shown} {template}: {}", required(name)).into());
                item.remove(method);
                continue;
            }
            for (name, _) in &found {
                omitted.push(format!("{shown} {template}: {}", optional(name)).into());
            }
            if let Some(Value::Array(parameters)) = operation.get_mut("parameters") {
                parameters.retain(|p| flagged(p).is_none());
            }
        }
        if let Some(Value::Array(parameters)) = item.get_mut("parameters") {
            parameters.retain(|p| flagged(p).is_none());
        }
    }
    drop_empty_path_items(paths);
    let count = omitted.len();
    record_omitted(doc, omitted);
    count
}

/// The document-level list of operations and parameters left out of the client, with why;
/// the generated crate's README shows it.
pub const OMITTED_OPERATIONS: &str = "x-omitted-operations";

/// Request media types progenitor can send (`multipart/form-data` is not one of them).
fn progenitor_can_send(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or("").trim();
    matches!(
        essence,
        "application/json"
            | "application/octet-stream"
            | "application/x-www-form-urlencoded"
            | "text/plain"
            | "text/x-markdown"
    )
}

/// Leaves out operations whose request body progenitor cannot send (`multipart/form-data`,
/// vendor media types): generating them is impossible, and the rest of the API should not
/// be lost for them. Each is listed under `x-omitted-operations` with its media type, and the
/// generated crate's README names it; select the operations you need in `source.toml` to
/// avoid them altogether.
pub fn request_bodies_progenitor_cannot_send(doc: &mut Value) -> Result<usize, SpecProblem> {
    let shared_bodies = components(doc, "requestBodies");
    let mut omitted: Vec<Value> = Vec::new();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(0);
    };
    for (template, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in HTTP_METHODS {
            let unsendable = item
                .get(method)
                .and_then(|operation| operation.get("requestBody"))
                .map(|body| resolve(body, &shared_bodies, "#/components/requestBodies/"))
                .and_then(|body| body.get("content"))
                .and_then(Value::as_object)
                .and_then(|content| content.keys().find(|m| !progenitor_can_send(m)))
                .cloned();
            if let Some(media_type) = unsendable {
                item.remove(method);
                omitted.push(
                    format!(
                        "{} {template}: a `{media_type}` request body, which progenitor cannot send",
                        method.to_ascii_uppercase()
                    )
                    .into(),
                );
            }
        }
    }
    drop_empty_path_items(paths);
    let count = omitted.len();
    record_omitted(doc, omitted);
    Ok(count)
}

/// A parameter given by `content` (`{application/json: {schema}}`) instead of `schema`, which
/// progenitor rejects, becomes a string parameter: the value is the serialized text, which is
/// what `content` means for a parameter.
pub fn parameters_given_by_content(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut changed = 0;
    let mut convert = |parameter: &mut Value| {
        let Some(parameter) = parameter.as_object_mut() else {
            return;
        };
        if parameter.contains_key("schema") {
            return;
        }
        let Some(Value::Object(content)) = parameter.remove("content") else {
            return;
        };
        let media_type = content.keys().next().cloned().unwrap_or_default();
        parameter.insert(
            "schema".into(),
            json!({"type": "string", "description": format!("`{media_type}` text")}),
        );
        changed += 1;
    };
    for_each_parameter(doc, &mut convert);
    Ok(changed)
}

/// Leaves out parameters progenitor cannot send: a query parameter whose value is an object
/// (`style: deepObject`, a struct of filters; progenitor rejects `deepObject` and hits
/// `unreachable!` on an optional struct) and a header whose value is a list or an object (it
/// writes headers with `Display`). An optional one is left out of its operation; an operation
/// that requires one is left out. Each is listed under `x-omitted-operations`.
pub fn parameters_progenitor_cannot_send(doc: &mut Value) -> Result<usize, SpecProblem> {
    let components = doc.get("components").cloned().unwrap_or(Value::Null);
    let resolve = |value: &Value| -> Value {
        let mut current = value.clone();
        for _ in 0..8 {
            let Some(pointer) = current
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components"))
            else {
                break;
            };
            match components.pointer(pointer) {
                Some(target) => current = target.clone(),
                None => break,
            }
        }
        current
    };
    let unsendable = |parameter: &Value| -> Option<(String, bool)> {
        let parameter = resolve(parameter);
        let location = parameter.get("in").and_then(Value::as_str)?;
        let mut schema = resolve(parameter.get("schema")?);
        // `allOf: [{$ref}]` is how a reference with a default or a description is written.
        if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            schema = resolve(only);
        }
        let kind = schema.get("type").and_then(Value::as_str);
        let object = kind == Some("object")
            || schema.get("properties").is_some()
            || schema.get("additionalProperties").is_some();
        let deep = parameter.get("style").and_then(Value::as_str) == Some("deepObject");
        let cannot = match location {
            "query" => object || deep,
            // A header value is written with `Display`, which lists and objects lack.
            "header" => object || kind == Some("array"),
            _ => false,
        };
        cannot.then(|| {
            (
                parameter
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                parameter.get("required") == Some(&Value::Bool(true)),
            )
        })
    };
    Ok(omit_unsendable_parameters(
        doc,
        &unsendable,
        &|name| format!("it requires `{name}`, an object or list progenitor cannot send there"),
        &|name| format!("parameter `{name}`, an object or list progenitor cannot send there"),
    ))
}

/// Leaves out optional parameters whose Rust name collides with another parameter of the
/// same operation (Twilio's `StartTime`, `StartTime<` and `StartTime>` are all `start_time`):
/// progenitor would bind one identifier twice (E0416). The first keeps its place; the rest
/// are listed under `x-omitted-operations`. A required one cannot be left out and is an error.
pub fn parameters_that_collide_as_identifiers(doc: &mut Value) -> Result<usize, SpecProblem> {
    let components = doc
        .pointer("/components/parameters")
        .cloned()
        .unwrap_or(Value::Null);
    let name_of = |parameter: &Value| -> Option<(String, bool)> {
        let resolved = match parameter
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/parameters/"))
        {
            Some(name) => components.get(name)?,
            None => parameter,
        };
        let required = resolved.get("required") == Some(&Value::Bool(true));
        Some((resolved.get("name")?.as_str()?.to_owned(), required))
    };
    let mut omitted: Vec<Value> = Vec::new();
    let mut problem = None;
    for_each_operation(doc, &mut |path, template, method, operation| {
        let Some(Value::Array(parameters)) = operation.get_mut("parameters") else {
            return Ok(());
        };
        let mut seen = BTreeSet::new();
        let mut keep = Vec::with_capacity(parameters.len());
        for parameter in parameters.drain(..) {
            let Some((name, required)) = name_of(&parameter) else {
                keep.push(parameter);
                continue;
            };
            if seen.insert(super::identifier_key(&name)) {
                keep.push(parameter);
            } else if required {
                problem.get_or_insert_with(|| {
                    path.key("parameters").problem(format!(
                        "the required parameter `{name}` has the same Rust name as another \
                         parameter of this operation; rename one in the overlay"
                    ))
                });
                keep.push(parameter);
            } else {
                omitted.push(
                    format!(
                        "{} {template}: parameter `{name}`, whose Rust name another parameter has",
                        method.to_ascii_uppercase()
                    )
                    .into(),
                );
            }
        }
        *parameters = keep;
        Ok(())
    })?;
    if let Some(problem) = problem {
        return Err(problem);
    }
    let count = omitted.len();
    record_omitted(doc, omitted);
    Ok(count)
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.starts_with("application/json;")
}

/// What a response carries, as progenitor classifies it.
#[derive(Debug, Clone, PartialEq)]
enum Body {
    None,
    Raw,
    Json(Value),
}

fn body_of(response: &Value) -> Body {
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return Body::None;
    };
    match content.iter().find(|(media_type, _)| is_json(media_type)) {
        Some((_, media)) => Body::Json(media.get("schema").cloned().unwrap_or_else(|| json!({}))),
        None if content.is_empty() => Body::None,
        None => Body::Raw,
    }
}

/// Makes all error responses of an operation share one body type, and all success responses
/// another. progenitor asserts that they do (`response_types.len() <= 1`) and panics otherwise,
/// which specs trip over whenever a 401 and a 500 are documented with different schemas.
///
/// JSON object bodies are merged into one component schema (`<OperationId>ErrorBody` /
/// `<OperationId>SuccessBody`): the union of their properties, required only where all agree.
/// Bodies that are not all objects become one `anyOf` of them (an untagged enum). Bodiless
/// responses in a group that has JSON bodies are dropped from the operation, so those statuses
/// reach the caller as unexpected responses.
pub fn differing_response_bodies(doc: &mut Value) -> Result<usize, SpecProblem> {
    let schemas = components(doc, "schemas");
    let responses = components(doc, "responses");
    let mut new_schemas: BTreeMap<String, Value> = BTreeMap::new();
    let mut changed = 0;
    for_each_operation(doc, &mut |_, _, _, operation| {
        let operation_id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("operation")
            .to_owned();
        let Some(operation_responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return Ok(());
        };
        for (group, suffix) in [(Group::Success, "SuccessBody"), (Group::Error, "ErrorBody")] {
            let members: Vec<(String, Body)> = operation_responses
                .iter()
                .filter(|(status, _)| group.contains(status))
                .map(|(status, response)| {
                    let response = resolve(response, &responses, "#/components/responses/");
                    (status.clone(), body_of(response))
                })
                .collect();
            let json_bodies: Vec<&Value> = members
                .iter()
                .filter_map(|(_, body)| match body {
                    Body::Json(schema) => Some(schema),
                    _ => None,
                })
                .collect();
            let distinct: Vec<&Body> =
                members
                    .iter()
                    .map(|(_, body)| body)
                    .fold(Vec::new(), |mut seen, body| {
                        if !seen.contains(&body) {
                            seen.push(body);
                        }
                        seen
                    });
            let all_same_reference = distinct.len() == 1
                && json_bodies
                    .first()
                    .is_none_or(|schema| schema.get("$ref").is_some());
            // A raw body (a file download) beside bodiless statuses (202, 204): the raw body
            // is the type; the bodiless statuses reach the caller as unexpected responses.
            let raw_beside_none = json_bodies.is_empty()
                && distinct.contains(&&Body::Raw)
                && distinct.contains(&&Body::None);
            if raw_beside_none {
                let bodiless: Vec<String> = members
                    .iter()
                    .filter(|(_, body)| *body == Body::None)
                    .map(|(status, _)| status.clone())
                    .collect();
                for status in bodiless {
                    operation_responses.remove(&status);
                    changed += 1;
                }
                continue;
            }
            if json_bodies.is_empty()
                || all_same_reference
                || (json_bodies.len() == 1 && distinct.len() == 1)
            {
                continue;
            }
            let merged = if json_bodies.iter().all(|body| *body == json_bodies[0]) {
                json_bodies[0].clone()
            } else {
                merge_bodies(&json_bodies, &schemas)
            };
            let name = unique_schema_name(
                &format!("{}{suffix}", pascal_case(&operation_id)),
                &schemas,
                &new_schemas,
            );
            new_schemas.insert(name.clone(), merged);
            for (status, body) in &members {
                changed += 1;
                match body {
                    Body::Json(_) => {
                        let original = resolve(
                            &operation_responses[status],
                            &responses,
                            "#/components/responses/",
                        )
                        .clone();
                        let mut response = Map::new();
                        response.insert(
                            "description".into(),
                            original
                                .get("description")
                                .cloned()
                                .unwrap_or_else(|| "".into()),
                        );
                        if let Some(headers) = original.get("headers") {
                            response.insert("headers".into(), headers.clone());
                        }
                        response.insert(
                            "content".into(),
                            json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}),
                        );
                        operation_responses.insert(status.clone(), Value::Object(response));
                    }
                    Body::None | Body::Raw => {
                        operation_responses.remove(status);
                    }
                }
            }
        }
        Ok(())
    })?;
    if !new_schemas.is_empty() {
        let components = doc
            .as_object_mut()
            .map(|d| d.entry("components").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| SpecProblem::new("$", "the document is not an object"))?;
        let target = components
            .entry("schemas")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| SpecProblem::new("$.components.schemas", "must be an object"))?;
        target.extend(new_schemas);
    }
    Ok(changed)
}

#[derive(Clone, Copy)]
enum Group {
    Success,
    Error,
}

impl Group {
    fn contains(self, status: &str) -> bool {
        let class = status.chars().next();
        match self {
            Group::Success => class == Some('2'),
            Group::Error => matches!(class, Some('4' | '5')) || status == "default",
        }
    }
}

/// The union of object schemas: every property of any of them (the first definition wins when
/// they disagree on a property, replaced by an unconstrained schema), required where all agree.
fn merge_bodies(bodies: &[&Value], schemas: &Value) -> Value {
    let is_object = |body: &Value| {
        let body = resolve(body, schemas, "#/components/schemas/");
        body.get("type").and_then(Value::as_str) == Some("object")
            || body.get("properties").is_some()
    };
    if !bodies.iter().all(|body| is_object(body)) {
        // An array beside an object, a string beside an object: one type that is either,
        // decoded by trying each in turn.
        let mut members: Vec<Value> = Vec::new();
        for body in bodies {
            if !members.contains(body) {
                members.push((*body).clone());
            }
        }
        return json!({ "anyOf": members });
    }
    let mut properties = Map::new();
    let mut required: Option<BTreeSet<String>> = None;
    for body in bodies {
        let body = resolve(body, schemas, "#/components/schemas/");
        for (name, schema) in body
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            match properties.get(name) {
                Some(existing) if existing != schema => {
                    properties.insert(name.clone(), json!({}));
                }
                Some(_) => {}
                None => {
                    properties.insert(name.clone(), schema.clone());
                }
            }
        }
        let these: BTreeSet<String> = body
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        required = Some(match required {
            None => these,
            Some(previous) => previous.intersection(&these).cloned().collect(),
        });
    }
    let mut merged = json!({"type": "object", "properties": properties});
    if let Some(required) = required.filter(|r| !r.is_empty()) {
        merged["required"] = json!(required);
    }
    merged
}

fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn unique_schema_name(base: &str, existing: &Value, added: &BTreeMap<String, Value>) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while existing.get(&name).is_some() || added.contains_key(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_progenitor_cannot_send_is_left_out_and_listed() {
        let mut doc = json!({"paths": {
            "/files": {
                "post": {"requestBody": {"content": {"multipart/form-data": {"schema": {}}}}},
                "get": {"responses": {}}
            },
            "/upload": {"put": {"requestBody": {"content": {"multipart/form-data": {}}}}},
            "/json": {"post": {"requestBody": {"content": {"application/json; charset=utf-8": {}}}}}
        }});
        assert_eq!(request_bodies_progenitor_cannot_send(&mut doc).unwrap(), 2);
        assert!(doc["paths"]["/files"].get("post").is_none());
        assert!(doc["paths"]["/files"].get("get").is_some());
        assert!(doc["paths"].get("/upload").is_none(), "no operation left");
        assert!(doc["paths"]["/json"].get("post").is_some());
        assert_eq!(
            doc[OMITTED_OPERATIONS][0],
            "POST /files: a `multipart/form-data` request body, which progenitor cannot send"
        );
    }

    #[test]
    fn a_shared_request_body_progenitor_cannot_send_leaves_its_operations_out() {
        let mut doc = json!({
            "components": {"requestBodies": {"Csv": {"content": {"multipart/form-data": {}}}}},
            "paths": {"/records": {"post": {"requestBody": {"$ref": "#/components/requestBodies/Csv"}}}}
        });
        assert_eq!(request_bodies_progenitor_cannot_send(&mut doc).unwrap(), 1);
        assert!(doc["paths"].get("/records").is_none());
    }

    #[test]
    fn a_sendable_media_type_is_preferred_over_the_first_listed() {
        let mut doc = json!({"paths": {"/f": {"post": {"requestBody": {"content": {
            "multipart/form-data": {}, "application/x-www-form-urlencoded": {}}}}}}});
        request_body_media_types(&mut doc).unwrap();
        let content = doc["paths"]["/f"]["post"]["requestBody"]["content"]
            .as_object()
            .unwrap();
        assert_eq!(
            content.keys().collect::<Vec<_>>(),
            ["application/x-www-form-urlencoded"]
        );
    }

    #[test]
    fn a_parameter_given_by_content_becomes_a_string() {
        let mut doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "metadata", "in": "query", "content": {"application/json": {"schema": {"type": "object"}}}},
            {"name": "page", "in": "query", "schema": {"type": "integer"}}
        ]}}}});
        assert_eq!(parameters_given_by_content(&mut doc).unwrap(), 1);
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"][0],
            json!({"name": "metadata", "in": "query",
                   "schema": {"type": "string", "description": "`application/json` text"}})
        );
    }

    #[test]
    fn a_download_beside_bodiless_statuses_keeps_the_download() {
        let mut doc = json!({"paths": {"/f": {"get": {"operationId": "f", "responses": {
            "200": {"description": "", "content": {"application/octet-stream": {}}},
            "202": {"description": "retry later"},
            "default": {"description": "", "content": {"application/json": {"schema": {"type": "object"}}}}
        }}}}});
        assert_eq!(differing_response_bodies(&mut doc).unwrap(), 1);
        let statuses: Vec<&String> = doc["paths"]["/f"]["get"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(statuses, ["200", "default"]);
    }

    #[test]
    fn object_query_parameters_are_left_out_or_their_operation_is() {
        let mut doc = json!({
            "components": {"schemas": {"Filters": {"type": "object", "properties": {"a": {"type": "boolean"}}}}},
            "paths": {
                "/list": {"get": {"parameters": [
                    {"name": "filters", "in": "query", "schema": {"$ref": "#/components/schemas/Filters"}},
                    {"name": "metadata", "in": "query", "style": "deepObject", "schema": {"type": "object"}},
                    {"name": "page", "in": "query", "schema": {"type": "integer"}}
                ]}},
                "/must": {"get": {"parameters": [
                    {"name": "filters", "in": "query", "required": true, "schema": {"type": "object"}}
                ]}}
            }
        });
        assert_eq!(parameters_progenitor_cannot_send(&mut doc).unwrap(), 3);
        let kept: Vec<&str> = doc["paths"]["/list"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(kept, ["page"]);
        assert!(doc["paths"].get("/must").is_none());
        assert_eq!(doc[OMITTED_OPERATIONS].as_array().unwrap().len(), 3);
    }

    #[test]
    fn a_response_keeps_one_media_type() {
        let mut doc = json!({"paths": {"/a": {"post": {"responses": {"200": {"description": "",
            "content": {"application/xml": {}, "application/json": {}, "text/csv": {}}}}}}}});
        assert_eq!(response_media_types(&mut doc).unwrap(), 2);
        let content = doc["paths"]["/a"]["post"]["responses"]["200"]["content"]
            .as_object()
            .unwrap();
        assert_eq!(content.keys().collect::<Vec<_>>(), ["application/json"]);
    }

    #[test]
    fn a_shared_request_body_keeps_one_media_type_and_headers_are_not_nullable() {
        let mut doc = json!({
            "components": {"requestBodies": {"B": {"content": {
                "application/xml": {}, "application/json": {}}}}},
            "paths": {"/a": {"get": {"parameters": [
                {"name": "X-Trace", "in": "header", "schema": {"type": "string", "nullable": true}}
            ]}}}
        });
        assert_eq!(request_body_media_types(&mut doc).unwrap(), 1);
        assert_eq!(nullable_headers(&mut doc).unwrap(), 1);
        assert_eq!(
            doc["components"]["requestBodies"]["B"]["content"],
            json!({"application/json": {}})
        );
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"][0]["schema"],
            json!({"type": "string"})
        );
    }

    #[test]
    fn list_headers_are_left_out() {
        let mut doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "OpenAI-Beta", "in": "header", "schema": {"type": "array", "items": {"type": "string"}}},
            {"name": "X-Id", "in": "header", "schema": {"type": "string"}}
        ]}}}});
        assert_eq!(parameters_progenitor_cannot_send(&mut doc).unwrap(), 1);
        assert_eq!(doc["paths"]["/a"]["get"]["parameters"][0]["name"], "X-Id");
    }

    #[test]
    fn an_optional_unsendable_parameter_of_the_path_is_left_out_too() {
        let mut doc = json!({"paths": {"/a": {
            "parameters": [{"name": "filter", "in": "query", "style": "deepObject",
                            "schema": {"type": "object"}}],
            "get": {"parameters": [{"name": "X-Id", "in": "header", "schema": {"type": "string"}}]}
        }}});
        assert_eq!(parameters_progenitor_cannot_send(&mut doc).unwrap(), 1);
        assert_eq!(doc["paths"]["/a"]["parameters"], json!([]));
        assert_eq!(
            doc["x-omitted-operations"][0],
            "GET /a: parameter `filter`, an object or list progenitor cannot send there"
        );
    }

    #[test]
    fn optional_parameters_with_the_same_rust_name_are_left_out() {
        let mut doc = json!({"paths": {"/calls": {"get": {"parameters": [
            {"name": "StartTime", "in": "query"},
            {"name": "StartTime<", "in": "query"},
            {"name": "StartTime>", "in": "query"},
            {"name": "Status", "in": "query"}
        ]}}}});
        assert_eq!(parameters_that_collide_as_identifiers(&mut doc).unwrap(), 2);
        let names: Vec<&str> = doc["paths"]["/calls"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["StartTime", "Status"]);
        assert_eq!(doc[OMITTED_OPERATIONS].as_array().unwrap().len(), 2);

        let mut required = json!({"paths": {"/x": {"get": {"parameters": [
            {"name": "a_b", "in": "query"}, {"name": "aB", "in": "query", "required": true}
        ]}}}});
        let problem = parameters_that_collide_as_identifiers(&mut required).unwrap_err();
        assert_eq!(problem.json_path, "$.paths['/x'].get.parameters");
    }

    #[test]
    fn path_parameters_missing_from_the_template_are_removed() {
        let mut doc = json!({
            "components": {"parameters": {"UuidParam": {"name": "uuid", "in": "path", "required": true}}},
            "paths": {
                "/credit/balance": {"get": {"parameters": [{"$ref": "#/components/parameters/UuidParam"}]}},
                "/api_keys/{uuid}": {"get": {"parameters": [{"$ref": "#/components/parameters/UuidParam"}]}},
                "/q": {"parameters": [{"name": "id", "in": "path"}, {"name": "page", "in": "query"}]}
            }
        });
        assert_eq!(path_parameters_not_in_template(&mut doc).unwrap(), 2);
        assert_eq!(
            doc["paths"]["/credit/balance"]["get"]["parameters"],
            json!([])
        );
        assert_eq!(
            doc["paths"]["/api_keys/{uuid}"]["get"]["parameters"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            doc["paths"]["/q"]["parameters"],
            json!([{"name": "page", "in": "query"}])
        );
    }

    #[test]
    fn undeclared_template_variables_become_string_parameters() {
        let mut doc = json!({"paths": {
            "/items/{id}/parts/{part}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "get": {}
            },
            "/ok/{x}": {"get": {"parameters": [{"name": "x", "in": "path", "required": true}]}}
        }});
        assert_eq!(undeclared_path_parameters(&mut doc).unwrap(), 1);
        assert_eq!(
            doc["paths"]["/items/{id}/parts/{part}"]["get"]["parameters"],
            json!([{"name": "part", "in": "path", "required": true, "schema": {"type": "string"}}])
        );
        assert_eq!(
            doc["paths"]["/ok/{x}"]["get"]["parameters"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_default_error_beside_a_success_body_becomes_error_ranges() {
        let error = json!({"description": "e", "content": {"application/json": {"schema": {"type": "object", "properties": {"m": {"type": "string"}}}}}});
        let mut doc = json!({"paths": {
            "/a": {"get": {"responses": {
                "200": {"description": "", "content": {"application/json": {"schema": {"type": "integer"}}}},
                "default": error.clone()
            }}},
            "/b": {"get": {"responses": {"default": error.clone()}}}
        }});
        assert_eq!(default_response_beside_success(&mut doc).unwrap(), 1);
        let a = &doc["paths"]["/a"]["get"]["responses"];
        assert!(a.get("default").is_none());
        assert_eq!(a["4XX"], error);
        assert_eq!(a["5XX"], error);
        assert!(
            doc["paths"]["/b"]["get"]["responses"]
                .get("default")
                .is_some()
        );
    }

    #[test]
    fn missing_non_ascii_and_duplicate_operation_ids_are_derived() {
        let mut doc = json!({"paths": {
            "/user/balance": {"get": {}, "post": {"operationId": "查询余额"}},
            "/api_keys/{uuid}": {"get": {"operationId": "same"}, "delete": {"operationId": "same"}}
        }});
        assert_eq!(missing_or_duplicate_operation_ids(&mut doc).unwrap(), 3);
        let paths = &doc["paths"];
        assert_eq!(
            paths["/user/balance"]["get"]["operationId"],
            "get_user_balance"
        );
        assert_eq!(
            paths["/user/balance"]["post"]["operationId"],
            "post_user_balance"
        );
        let ids = [
            paths["/api_keys/{uuid}"]["get"]["operationId"]
                .as_str()
                .unwrap(),
            paths["/api_keys/{uuid}"]["delete"]["operationId"]
                .as_str()
                .unwrap(),
        ];
        assert_eq!(ids, ["same", "delete_api_keys_by_uuid"]);
    }

    #[test]
    fn operation_ids_that_are_one_rust_name_are_duplicates() {
        let mut doc = json!({"paths": {
            "/deploy/list": {"get": {"operationId": "deploy_list_deploy_list_get"}},
            "/deploy/list/": {"get": {"operationId": "deploy_list_deploy_list__get"}}
        }});
        assert_eq!(missing_or_duplicate_operation_ids(&mut doc).unwrap(), 1);
        assert_eq!(
            doc["paths"]["/deploy/list/"]["get"]["operationId"],
            "get_deploy_list"
        );
    }

    #[test]
    fn request_bodies_keep_only_json() {
        let mut doc = json!({"paths": {"/a": {"post": {"requestBody": {"content": {
            "application/x-www-form-urlencoded": {"schema": {}},
            "application/json": {"schema": {"type": "object"}},
            "text/plain": {"schema": {"type": "string"}}
        }}}}}});
        assert_eq!(request_body_media_types(&mut doc).unwrap(), 2);
        let content = &doc["paths"]["/a"]["post"]["requestBody"]["content"];
        assert_eq!(
            content,
            &json!({"application/json": {"schema": {"type": "object"}}})
        );
    }

    #[test]
    fn differing_error_bodies_are_merged_into_one_component() {
        let mut doc = json!({
            "components": {
                "responses": {
                    "Unauthorized": {"description": "u", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}
                    }}}},
                    "StandardError": {"description": "s", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"
                    }}}}
                },
                "schemas": {"Error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "string"}
                }}}
            },
            "paths": {"/credit/balance": {"get": {"operationId": "getCreditBalance", "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"description": "no body"},
                "500": {"$ref": "#/components/responses/StandardError"}
            }}}}
        });
        assert_eq!(differing_response_bodies(&mut doc).unwrap(), 3);
        let responses = &doc["paths"]["/credit/balance"]["get"]["responses"];
        let reference = json!({"$ref": "#/components/schemas/GetCreditBalanceErrorBody"});
        assert_eq!(
            responses["401"]["content"]["application/json"]["schema"],
            reference
        );
        assert_eq!(
            responses["500"]["content"]["application/json"]["schema"],
            reference
        );
        assert_eq!(responses["500"]["description"], "s");
        assert!(responses.get("404").is_none());
        assert!(responses.get("200").is_some());
        let merged = &doc["components"]["schemas"]["GetCreditBalanceErrorBody"];
        assert_eq!(merged["properties"].as_object().unwrap().len(), 3);
        assert!(
            merged.get("required").is_none(),
            "401 does not require code: {merged}"
        );
        // The shared component responses are left alone for other operations.
        assert!(
            doc["components"]["responses"]["Unauthorized"]["content"]["application/json"]["schema"]
                ["properties"]
                .is_object()
        );
    }

    #[test]
    fn identical_referenced_error_bodies_are_left_alone() {
        let mut doc = json!({"paths": {"/a": {"get": {"operationId": "a", "responses": {
            "401": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/E"}}}},
            "500": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/E"}}}}
        }}}}});
        let before = doc.clone();
        assert_eq!(differing_response_bodies(&mut doc).unwrap(), 0);
        assert_eq!(doc, before);
    }

    #[test]
    fn bodies_that_are_not_all_objects_become_one_union() {
        let mut doc = json!({"paths": {"/a": {"get": {"operationId": "a", "responses": {
            "400": {"description": "", "content": {"application/json": {"schema": {"type": "string"}}}},
            "500": {"description": "", "content": {"application/json": {"schema": {"type": "object"}}}}
        }}}}});
        assert_eq!(differing_response_bodies(&mut doc).unwrap(), 2);
        assert_eq!(
            doc["components"]["schemas"]["AErrorBody"],
            json!({"anyOf": [{"type": "string"}, {"type": "object"}]})
        );
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["400"]["content"]["application/json"]["schema"],
            json!({"$ref": "#/components/schemas/AErrorBody"})
        );
    }
}
