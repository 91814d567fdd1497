//! A vendor's errors, from its data: the folder's example of that kind when there is one
//! (what the vendor really sends), else a body built from the description's error pointers,
//! so any client that reads errors through the description finds the code and message.

use axum::http::StatusCode;
use axum::response::Response;
use balances_registry::VendorEntry;
use serde_json::{Map, Value};

use crate::respond::{JSON, example_response, respond};

/// What a built error carries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Built<'a> {
    pub(crate) status: StatusCode,
    pub(crate) code: &'a Value,
    pub(crate) message: &'a str,
}

/// The vendor's documented error of `kind` (the facade's `ErrorKind` name), with `status`
/// when one is given; else `fallback`, built from the description's pointers.
pub(crate) fn documented(
    vendor: &'static VendorEntry,
    kind: &str,
    status: Option<u16>,
    fallback: Built<'_>,
) -> Response {
    match vendor.error_example(kind, status) {
        Some(example) => example_response(example),
        None => built(vendor, fallback),
    }
}

/// An error body with the code at the first `errors.code` pointer and the message at the
/// first `errors.message` pointer of the description.
pub(crate) fn built(vendor: &'static VendorEntry, error: Built<'_>) -> Response {
    let mut body = Value::Object(Map::new());
    let errors = &vendor.description.errors;
    if let Some(pointer) = errors.code.first() {
        write_at(&mut body, pointer, error.code.clone());
    }
    if let Some(pointer) = errors.message.first() {
        write_at(&mut body, pointer, Value::String(error.message.to_owned()));
    }
    respond(error.status, JSON, body.to_string())
}

/// Put `value` at the JSON Pointer `pointer` (RFC 6901) in `root`, creating objects on the
/// way and replacing whatever is not an object.
fn write_at(root: &mut Value, pointer: &str, value: Value) {
    let mut target = root;
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    for token in tokens {
        if !target.is_object() {
            *target = Value::Object(Map::new());
        }
        let Value::Object(map) = target else {
            unreachable!("made an object just above")
        };
        target = map.entry(token).or_insert(Value::Null);
    }
    *target = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_nested_and_escaped_pointers() {
        let mut body = json!({});
        write_at(&mut body, "/error/code", json!("x"));
        write_at(&mut body, "/error/message", json!("m"));
        write_at(&mut body, "/a~1b/c~0d", json!(1));
        assert_eq!(
            body,
            json!({"error": {"code": "x", "message": "m"}, "a/b": {"c~d": 1}})
        );
        write_at(&mut body, "/error/code/deeper", json!(2));
        assert_eq!(body["error"]["code"], json!({"deeper": 2}));
        write_at(&mut body, "", json!("whole"));
        assert_eq!(body, json!("whole"));
    }
}
