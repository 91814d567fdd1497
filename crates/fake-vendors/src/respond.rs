//! Turning data into HTTP responses: an account's served answer (a registry example or a raw
//! body) and plain JSON answers.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use balances_registry::Example;
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
}

impl Served {
    /// The body, for the faults that mangle it (truncation, padding, ...).
    pub(crate) fn body(&self) -> Bytes {
        match self {
            Served::Example(example) => Bytes::from_static(example.body.as_bytes()),
            Served::Body(body) => body.clone(),
        }
    }

    /// The example's name, or `None` for a raw body.
    pub(crate) fn example_name(&self) -> Option<&'static str> {
        match self {
            Served::Example(example) => Some(&example.name),
            Served::Body(_) => None,
        }
    }

    pub(crate) fn response(&self) -> Response {
        match self {
            Served::Example(example) => example_response(example),
            Served::Body(body) => respond(StatusCode::OK, JSON, body.clone()),
        }
    }
}

/// An example as the vendor sent it: status, `Content-Type: application/json` unless its
/// headers name another, then its headers, then its body byte for byte.
pub(crate) fn example_response(example: &'static Example) -> Response {
    let status = StatusCode::from_u16(example.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = respond(status, JSON, Bytes::from_static(example.body.as_bytes()));
    for (name, value) in &example.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().insert(name, value);
            }
            // A header HTTP cannot carry: the example is still served, without it.
            _ => debug!(example = %example.name, header = %name, "header skipped"),
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
