//! Turning data into HTTP responses: an account's served answer (a registry example or a raw
//! body) and plain JSON answers.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use balances_registry::{Example, ExampleResponse};
use bytes::Bytes;
use tracing::debug;

/// The content type of every JSON answer, unless an example's headers say otherwise.
pub(crate) const JSON: &str = "application/json";

/// What an account answers when no fault applies.
#[derive(Debug, Clone)]
pub(crate) enum Served {
    /// A documented example: its status, headers and body, exactly.
    Example(&'static Example),
    /// A raw body with status 200.
    Body(Bytes),
    /// A further page of a documented example (a report in pages).
    Page(&'static ExampleResponse),
}

impl Served {
    /// The body, for the faults that mangle it (truncation, padding, ...).
    pub(crate) fn body(&self) -> Bytes {
        match self {
            Served::Example(example) => Bytes::from_static(example.body.as_bytes()),
            Served::Body(body) => body.clone(),
            Served::Page(page) => Bytes::from_static(page.body.as_bytes()),
        }
    }

    /// The example's name, or `None` for a raw body.
    pub(crate) fn example_name(&self) -> Option<&'static str> {
        match self {
            Served::Example(example) => Some(&example.name),
            Served::Body(_) | Served::Page(_) => None,
        }
    }

    pub(crate) fn response(&self) -> Response {
        match self {
            Served::Example(example) => example_response(example),
            Served::Body(body) => respond(StatusCode::OK, JSON, body.clone()),
            Served::Page(page) => {
                with_headers(page.status, &page.headers, &page.body, "a further page")
            }
        }
    }
}

/// An example as the vendor sent it: status, `Content-Type: application/json` unless its
/// headers name another, then its headers, then its body byte for byte.
pub(crate) fn example_response(example: &'static Example) -> Response {
    with_headers(
        example.status,
        &example.headers,
        &example.body,
        &example.name,
    )
}

/// A documented response (an example's, a page's, a further operation's): its status, body
/// and the headers HTTP can carry.
pub(crate) fn with_headers(
    status: u16,
    headers: &'static std::collections::BTreeMap<String, String>,
    body: &'static str,
    example: &str,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = respond(status, JSON, Bytes::from_static(body.as_bytes()));
    for (name, value) in headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().insert(name, value);
            }
            // A header HTTP cannot carry: the example is still served, without it.
            _ => debug!(%example, header = %name, "header skipped"),
        }
    }
    response
}

pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Body>,
) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An example as the registry would hold it (no folder has headers yet, so one is made).
    fn example(headers: serde_json::Value) -> &'static Example {
        let example: Example = serde_json::from_value(serde_json::json!({
            "name": "made", "description": "d", "status": 429, "headers": headers,
            "body": "{\"a\": 1}", "expected": {"error": {"kind": "rate_limited"}},
        }))
        .expect("an example");
        Box::leak(Box::new(example))
    }

    #[test]
    fn an_example_is_served_with_its_status_headers_and_body() {
        let response = example_response(example(serde_json::json!({"Retry-After": "3"})));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "3");
        assert_eq!(response.headers()[header::CONTENT_TYPE], JSON);
        let served = Served::Example(example(serde_json::json!({})));
        assert_eq!(served.body(), Bytes::from_static(b"{\"a\": 1}"));
    }

    #[test]
    fn an_example_may_name_its_content_type_and_bad_headers_are_skipped() {
        let response = example_response(example(serde_json::json!({
            "Content-Type": "application/json;charset=UTF-8",
            "bad header": "x",
        })));
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json;charset=UTF-8"
        );
        assert_eq!(response.headers().len(), 1);
    }
}
