//! `101 Switching Protocols` responses: progenitor returns a connection upgrade for a 101,
//! asserts that an operation's successes are of one kind (`response_types.len() <= 1`, so a
//! 101 beside a 200 or a `default` panics), and decodes an upgrade's errors into a type that
//! must be `Debug` (raw bytes are not: E0277).

use serde_json::{Map, Value};

use super::walk::for_each_operation;
use crate::codegen::error::SpecProblem;

/// - A 101 beside a 2xx response goes (Docker's `attach`: 101 when the request asks to
///   upgrade, 200 when it does not): the generated method sends no `Upgrade` header, so the
///   server answers the other status, and a 101 sent anyway reaches the caller as an
///   unexpected response.
/// - A 101 beside a `default` keeps the upgrade; the `default` becomes `4XX` and `5XX`,
///   which progenitor counts as errors only.
/// - The error responses of an upgrade that are not JSON lose their body, which is then not
///   decoded (the status still reaches the caller).
pub fn switching_protocols_responses(doc: &mut Value) -> Result<usize, SpecProblem> {
    let shared = doc
        .pointer("/components/responses")
        .cloned()
        .unwrap_or(Value::Null);
    let mut changed = 0;
    for_each_operation(doc, &mut |_, _, _, operation| {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return Ok(());
        };
        if !responses.contains_key("101") {
            return Ok(());
        }
        if responses.keys().any(|status| status.starts_with('2')) {
            responses.remove("101");
            changed += 1;
            return Ok(());
        }
        if let Some(default) = responses.remove("default") {
            for range in ["4XX", "5XX"] {
                responses.entry(range).or_insert_with(|| default.clone());
            }
            changed += 1;
        }
        for (status, response) in responses.iter_mut() {
            if status == "101" {
                continue;
            }
            let resolved = response
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/responses/"))
                .and_then(|name| shared.get(name))
                .unwrap_or(response)
                .clone();
            if let Some(without_body) = without_raw_body(&resolved) {
                *response = Value::Object(without_body);
                changed += 1;
            }
        }
        Ok(())
    })?;
    Ok(changed)
}

/// The response without its `content`, when none of its media types is JSON.
fn without_raw_body(response: &Value) -> Option<Map<String, Value>> {
    let content = response.get("content")?.as_object()?;
    let json = content.keys().any(|media_type| {
        let essence = media_type.split(';').next().unwrap_or("").trim();
        essence == "application/json" || essence.ends_with("+json")
    });
    if json || content.is_empty() {
        return None;
    }
    let mut response = response.as_object()?.clone();
    response.remove("content");
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_101_beside_a_200_goes_and_a_lone_101_stays() {
        let mut doc = json!({"paths": {
            "/attach": {"post": {"responses": {
                "101": {"description": "upgraded"}, "200": {"description": "ok"},
                "404": {"description": "no such container"}}}},
            "/socket": {"get": {"responses": {"101": {"description": "upgraded"}}}}
        }});
        assert_eq!(switching_protocols_responses(&mut doc).unwrap(), 1);
        let attach = doc["paths"]["/attach"]["post"]["responses"]
            .as_object()
            .unwrap();
        assert_eq!(attach.keys().collect::<Vec<_>>(), ["200", "404"]);
        assert!(
            doc["paths"]["/socket"]["get"]["responses"]
                .get("101")
                .is_some()
        );
    }

    #[test]
    fn an_upgrade_keeps_typed_errors_and_loses_raw_error_bodies() {
        let json_error = json!({"description": "bad", "content": {"application/json": {"schema": {"type": "object"}}}});
        let raw_error = json!({"description": "broken", "content": {"application/vnd.docker.raw-stream": {"schema": {"type": "object"}}}});
        let mut doc = json!({
            "components": {"responses": {"Raw": raw_error}},
            "paths": {"/session": {"post": {"responses": {
                "101": {"description": "upgraded"},
                "400": json_error,
                "500": {"$ref": "#/components/responses/Raw"},
                "default": {"description": "other"}
            }}}}
        });
        assert_eq!(switching_protocols_responses(&mut doc).unwrap(), 2);
        let responses = &doc["paths"]["/session"]["post"]["responses"];
        assert_eq!(responses["400"], json_error);
        assert_eq!(responses["500"], json!({"description": "broken"}));
        assert_eq!(responses["4XX"], json!({"description": "other"}));
        assert!(responses.get("default").is_none());
        assert!(responses.get("101").is_some());
    }
}
