//! HTTP methods the generated code cannot send: progenitor calls the `reqwest::Client`
//! method named after the operation's (`client.options(url)`), and reqwest has one for GET,
//! POST, PUT, PATCH, DELETE and HEAD only (E0599 for the others).

use serde_json::Value;

use super::operations::{drop_empty_path_items, record_omitted};
use crate::codegen::error::SpecProblem;

/// Methods OpenAPI allows that `reqwest::Client` has no method for.
const UNSENDABLE_METHODS: [&str; 2] = ["options", "trace"];

/// Leaves out `OPTIONS` and `TRACE` operations (Box documents `OPTIONS` for CORS-style
/// preflight uploads), each listed under `x-omitted-operations` and so in the crate's README.
pub fn methods_reqwest_cannot_send(doc: &mut Value) -> Result<usize, SpecProblem> {
    let mut omitted: Vec<Value> = Vec::new();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(0);
    };
    for (template, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in UNSENDABLE_METHODS {
            if item.remove(method).is_some() {
                omitted.push(
                    format!(
                        "{} {template}: the generated client cannot send this method",
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_and_trace_operations_are_left_out_and_listed() {
        let mut doc = json!({"paths": {
            "/files/content": {"options": {"responses": {}}, "post": {"responses": {}}},
            "/debug": {"trace": {"responses": {}}}
        }});
        assert_eq!(methods_reqwest_cannot_send(&mut doc).unwrap(), 2);
        assert_eq!(
            doc["paths"],
            json!({"/files/content": {"post": {"responses": {}}}})
        );
        assert_eq!(
            doc[crate::codegen::repair::OMITTED_OPERATIONS],
            json!([
                "TRACE /debug: the generated client cannot send this method",
                "OPTIONS /files/content: the generated client cannot send this method"
            ])
        );
    }
}
