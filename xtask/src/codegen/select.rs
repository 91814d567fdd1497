//! Step 1b, **select**: keep only the operations a vendor folder asks for
//! (`operations = [...]` in `source.toml`), and the components they reach.
//!
//! A published spec stays byte for byte as published, however large (OpenRouter's is 1.36 MB
//! with 73 paths); a balance client needs one or two of its operations. Selecting before the
//! repairs means only what is generated is repaired and validated, so a defect in an operation
//! nobody uses cannot stop codegen. Components that no kept operation reaches through `$ref`
//! (transitively), and security schemes no kept operation uses, are pruned; webhooks are
//! dropped. An entry names an operation by its `operationId` as published, or as
//! `"METHOD /path"`.

use std::collections::{BTreeSet, VecDeque};

use serde_json::{Map, Value};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Keeps the operations `wanted` names; an error names the entries that match none.
pub fn select_operations(document: &mut Value, wanted: &[String]) -> Result<(), String> {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return Err("the spec has no `paths` to select from".to_owned());
    };
    let mut matched = vec![false; wanted.len()];
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let id = operation.get("operationId").and_then(Value::as_str);
            let by_path = format!("{} {path}", method.to_ascii_uppercase());
            let mut keep = false;
            for (entry, matched) in wanted.iter().zip(matched.iter_mut()) {
                if Some(entry.as_str()) == id || *entry == by_path {
                    *matched = true;
                    keep = true;
                }
            }
            if !keep {
                item.remove(method);
            }
        }
    }
    paths.retain(|_, item| {
        item.as_object()
            .is_some_and(|item| METHODS.iter().any(|m| item.contains_key(*m)))
    });
    let missing: Vec<&str> = wanted
        .iter()
        .zip(&matched)
        .filter(|(_, found)| !**found)
        .map(|(entry, _)| entry.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no operation matches {}: give an operationId as published or \"METHOD /path\"",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(root) = document.as_object_mut() {
        root.remove("webhooks");
    }
    prune_components(document);
    Ok(())
}

/// Removes every component that the paths and the top-level `security` do not reach.
fn prune_components(document: &mut Value) {
    let mut reached: BTreeSet<(String, String)> = BTreeSet::new();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    let visit = |value: &Value, queue: &mut VecDeque<(String, String)>| {
        let mut found = Vec::new();
        collect_refs(value, &mut found);
        queue.extend(found);
    };
    if let Some(paths) = document.get("paths") {
        visit(paths, &mut queue);
        for scheme in security_names(paths) {
            queue.push_back(("securitySchemes".to_owned(), scheme));
        }
    }
    if let Some(security) = document.get("security") {
        for scheme in requirement_names(security) {
            queue.push_back(("securitySchemes".to_owned(), scheme));
        }
    }
    while let Some(target) = queue.pop_front() {
        if !reached.insert(target.clone()) {
            continue;
        }
        if let Some(component) = document
            .get("components")
            .and_then(|c| c.get(&target.0))
            .and_then(|kind| kind.get(&target.1))
        {
            visit(component, &mut queue);
        }
    }
    let Some(components) = document
        .get_mut("components")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (kind, entries) in components.iter_mut() {
        if let Some(entries) = entries.as_object_mut() {
            entries.retain(|name, _| reached.contains(&(kind.clone(), name.clone())));
        }
    }
    components.retain(|_, entries| entries.as_object().is_none_or(|e| !e.is_empty()));
}

/// Every local `$ref` (`#/components/<kind>/<name>`) under `value`.
pub(super) fn collect_refs(value: &Value, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(target) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(component_ref)
            {
                found.push(target);
            }
            map.values().for_each(|v| collect_refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, found)),
        _ => {}
    }
}

/// `#/components/schemas/A~1B` → `("schemas", "A/B")`.
fn component_ref(reference: &str) -> Option<(String, String)> {
    let mut parts = reference.strip_prefix("#/components/")?.splitn(2, '/');
    let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
    let kind = unescape(parts.next()?);
    let name = unescape(parts.next()?);
    (!name.contains('/')).then_some((kind, name))
}

/// The security schemes named by the operations' own `security` lists.
fn security_names(paths: &Value) -> Vec<String> {
    let mut names = Vec::new();
    for item in paths.as_object().into_iter().flat_map(Map::values) {
        for method in METHODS {
            if let Some(security) = item.get(method).and_then(|op| op.get("security")) {
                names.extend(requirement_names(security));
            }
        }
    }
    names
}

/// The scheme names of a list of security requirement objects.
fn requirement_names(security: &Value) -> Vec<String> {
    security
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "openapi": "3.1.0",
            "security": [{"bearer": []}],
            "paths": {
                "/credits": {"get": {"operationId": "getCredits", "responses": {"200": {
                    "$ref": "#/components/responses/Credits"}}}},
                "/key": {
                    "get": {"operationId": "getKey", "security": [{"apiKey": []}],
                            "responses": {"200": {"description": "ok"}}},
                    "delete": {"operationId": "deleteKey", "responses": {}}
                },
                "/models": {"get": {"operationId": "listModels", "responses": {"200": {
                    "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Model"}}}}}}}
            },
            "webhooks": {"w": {"post": {"responses": {}}}},
            "components": {
                "responses": {"Credits": {"content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Credits"}}}}},
                "schemas": {
                    "Credits": {"properties": {"data": {"$ref": "#/components/schemas/Data"}}},
                    "Data": {"type": "object"},
                    "Model": {"type": "object"}
                },
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "apiKey": {"type": "http", "scheme": "bearer"},
                    "unused": {"type": "http", "scheme": "basic"}
                }
            }
        })
    }

    #[test]
    fn keeps_the_named_operations_and_what_they_reach() {
        let mut document = spec();
        select_operations(&mut document, &["getCredits".into(), "GET /key".into()])
            .expect("both exist");
        let paths = document["paths"].as_object().expect("paths");
        assert_eq!(paths.keys().collect::<Vec<_>>(), ["/credits", "/key"]);
        assert!(document["paths"]["/key"].get("delete").is_none());
        let schemas = document["components"]["schemas"]
            .as_object()
            .expect("schemas");
        assert_eq!(schemas.keys().collect::<Vec<_>>(), ["Credits", "Data"]);
        let schemes = document["components"]["securitySchemes"]
            .as_object()
            .expect("schemes");
        assert_eq!(schemes.keys().collect::<Vec<_>>(), ["apiKey", "bearer"]);
        assert!(document.get("webhooks").is_none());
    }

    #[test]
    fn an_entry_that_matches_nothing_is_an_error_naming_it() {
        let mut document = spec();
        let error = select_operations(&mut document, &["getCredits".into(), "GET /nope".into()])
            .expect_err("no such operation");
        assert!(error.contains("`GET /nope`"), "{error}");
        assert!(!error.contains("getCredits"), "{error}");
    }
}
