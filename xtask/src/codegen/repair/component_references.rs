//! References to a component of another kind: a response that says `$ref:
//! '#/components/requestBodies/X'` (PagerDuty's REST API does). progenitor looks the name up
//! among the components of the kind it expects and panics ("key X is missing").

use serde_json::{Map, Value};

use super::walk::for_each_operation;
use crate::codegen::error::SpecProblem;

/// What a request body and a response share, by the kind that needs them.
const RESPONSE_FIELDS: [&str; 3] = ["description", "content", "headers"];
const REQUEST_BODY_FIELDS: [&str; 3] = ["description", "content", "required"];

/// Copies the target of a response `$ref` that points at another kind of component (a
/// request body) into the response, and the same for a request body that points at a
/// response: both carry `content`, which is what the reference meant to share. A response's
/// required `description` is empty when the target has none.
pub fn references_to_another_kind_of_component(doc: &mut Value) -> Result<usize, SpecProblem> {
    let snapshot = doc.clone();
    let mut changed = 0;
    let mut fix = |value: &mut Value, kind: &str, fields: &[&str]| {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return;
        };
        let expected = format!("#/components/{kind}/");
        if reference.starts_with(&expected) || !reference.starts_with("#/components/") {
            return;
        }
        let Some(target) = snapshot
            .pointer(reference.trim_start_matches('#'))
            .and_then(Value::as_object)
        else {
            return;
        };
        let mut copied: Map<String, Value> = fields
            .iter()
            .filter_map(|field| Some(((*field).to_owned(), target.get(*field)?.clone())))
            .collect();
        if kind == "responses" {
            copied
                .entry("description")
                .or_insert_with(|| Value::String(String::new()));
        }
        *value = Value::Object(copied);
        changed += 1;
    };
    if let Some(Value::Object(responses)) = doc.pointer_mut("/components/responses") {
        for response in responses.values_mut() {
            fix(response, "responses", &RESPONSE_FIELDS);
        }
    }
    for_each_operation(doc, &mut |_, _, _, operation| {
        if let Some(body) = operation.get_mut("requestBody") {
            fix(body, "requestBodies", &REQUEST_BODY_FIELDS);
        }
        if let Some(Value::Object(responses)) = operation.get_mut("responses") {
            for response in responses.values_mut() {
                fix(response, "responses", &RESPONSE_FIELDS);
            }
        }
        Ok(())
    })?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_response_that_refers_to_a_request_body_gets_its_content() {
        let content = json!({"application/json": {"schema": {"type": "object"}}});
        let mut doc = json!({
            "components": {"requestBodies": {
                "DataPutResponse": {"content": content, "required": true}
            }},
            "paths": {"/data": {"put": {
                "requestBody": {"$ref": "#/components/requestBodies/DataPutResponse"},
                "responses": {
                    "200": {"$ref": "#/components/requestBodies/DataPutResponse"},
                    "404": {"$ref": "#/components/responses/NotFound"}
                }
            }}}
        });
        assert_eq!(
            references_to_another_kind_of_component(&mut doc).unwrap(),
            1
        );
        let put = &doc["paths"]["/data"]["put"];
        assert_eq!(
            put["responses"]["200"],
            json!({"description": "", "content": content})
        );
        assert_eq!(
            put["requestBody"],
            json!({"$ref": "#/components/requestBodies/DataPutResponse"})
        );
        assert_eq!(
            put["responses"]["404"],
            json!({"$ref": "#/components/responses/NotFound"})
        );
    }
}
