//! Faults an account can be switched into, and the responses they produce.

use std::convert::Infallible;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use balances_registry::VendorEntry;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;

use crate::auth;
use crate::failure::{self, Built};
use crate::handlers::ConnectionControl;
use crate::respond::{JSON, respond};

/// The default size of [`Fault::huge_body`]: 5 MiB.
pub const HUGE_BODY_BYTES: usize = 5 * 1024 * 1024;
/// Padding chunk for [`Fault::HugeBody`].
const PAD_CHUNK: usize = 64 * 1024;
static PADDING: [u8; PAD_CHUNK] = [b' '; PAD_CHUNK];

/// The value of a `Retry-After` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <HTTP-date>` (IMF-fixdate, second precision).
    Date(SystemTime),
}

/// Something that goes wrong for one request to an account, instead of the normal answer.
///
/// Faults are attached to an account through [`AccountControl`](crate::AccountControl): for
/// every request, for the next *n* requests, or as a sequence. Latency is separate
/// ([`AccountControl::set_latency`](crate::AccountControl::set_latency)) and is applied before
/// the fault or the normal answer. A fault is applied after the account is identified and
/// counted but before the signature scheme's signature, timestamp, nonce and replay checks, as
/// a gateway or an overloaded server would.
///
/// The vendor's own errors come from its registry folder: the example whose expected result
/// is an error of the matching kind, served exactly; a vendor that documents none gets a JSON
/// body with a code and a message written at the first of its description's `errors.code` and
/// `errors.message` pointers (a *built* error below).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// What an unknown key gets, as if the key had been revoked: the documented
    /// `authentication` error, else a built one (401, code `unauthorized`; the signature
    /// scheme: HTTP 200, code [`UNKNOWN_APPKEY`](crate::eiotclub_codes::UNKNOWN_APPKEY)).
    Unauthorized,
    /// The documented `insufficient_balance` error, else a built one: 402, code
    /// `insufficient_balance`.
    InsufficientBalance,
    /// The documented `rate_limited` error, else a built one (429, code `rate_limited`),
    /// with an optional `Retry-After` header.
    RateLimited {
        /// The `Retry-After` header, if any.
        retry_after: Option<RetryAfter>,
    },
    /// The documented `transient` error with this status, else a built one with it (code
    /// `server_error`, message the status's reason).
    ServerError {
        /// The HTTP status code; 500 is used if it is not a valid status.
        status: u16,
    },
    /// A built vendor error with a code of your choice (a JSON string, number, or anything
    /// else), in HTTP 200 for a vendor whose description has a success envelope (its errors
    /// travel in-band) and 400 otherwise.
    VendorError {
        /// The code, written as given.
        code: Value,
        /// The message.
        message: String,
    },
    /// HTTP 200, `Content-Type: application/json`, `Content-Length: 0`, no body.
    EmptyBody,
    /// HTTP 200, `Content-Type: application/json`, a complete HTTP message whose body is the
    /// first half of the normal body (so it never parses).
    TruncatedJson,
    /// HTTP 200 with `Content-Length` of the full normal body, but only the first half is sent
    /// before the connection is closed: the client sees a body/transport error.
    TruncatedTransfer,
    /// HTTP 200 with the normal body preceded by this many `\n` (keep-alive empty lines, as
    /// some servers send under load). Still valid JSON.
    LeadingBlankLines {
        /// How many newlines precede the body.
        lines: usize,
    },
    /// An HTML error page (`Content-Type: text/html`), as a proxy in front of the vendor sends
    /// it, with the given status (502 is typical; 200 also works).
    Html {
        /// The HTTP status code; 502 is used if it is not a valid status.
        status: u16,
    },
    /// HTTP 200, `Content-Type: application/json`, chunked (no `Content-Length`): `bytes`
    /// spaces streamed in 64 KiB chunks followed by the normal body. Valid JSON; only a size
    /// cap stops it.
    HugeBody {
        /// How many bytes of padding precede the normal body.
        bytes: usize,
    },
    /// The connection is closed without any response.
    DropConnection,
    /// The normal body with status 200 and `Content-Type: text/plain; charset=utf-8`.
    WrongContentType,
}

impl Fault {
    /// [`Fault::RateLimited`] with `Retry-After: <seconds>`.
    pub fn rate_limited(retry_after_secs: u64) -> Fault {
        Fault::RateLimited {
            retry_after: Some(RetryAfter::Seconds(retry_after_secs)),
        }
    }

    /// A 5xx (or any) status with the vendor's server-error body.
    pub fn server_error(status: u16) -> Fault {
        Fault::ServerError { status }
    }

    /// An HTML error page with the given status.
    pub fn html(status: u16) -> Fault {
        Fault::Html { status }
    }

    /// A [`Fault::HugeBody`] of [`HUGE_BODY_BYTES`] (5 MiB).
    pub fn huge_body() -> Fault {
        Fault::HugeBody {
            bytes: HUGE_BODY_BYTES,
        }
    }

    /// A [`Fault::VendorError`] with a string code.
    pub fn vendor_error(code: impl Into<String>, message: impl Into<String>) -> Fault {
        Fault::VendorError {
            code: Value::String(code.into()),
            message: message.into(),
        }
    }
}

/// A per-account plan: faults queued for the next requests, then a steady fault (or none).
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultPlan {
    pub(crate) queue: std::collections::VecDeque<Fault>,
    pub(crate) steady: Option<Fault>,
    pub(crate) latency: Duration,
}

impl FaultPlan {
    /// The fault for the next request, consuming a queued one first.
    pub(crate) fn next(&mut self) -> Option<Fault> {
        self.queue.pop_front().or_else(|| self.steady.clone())
    }
}

/// A built error whose code is a fixed text.
fn built_error(
    vendor: &'static VendorEntry,
    kind: &str,
    status: StatusCode,
    code: &str,
    message: &str,
    documented_status: Option<u16>,
) -> Response {
    failure::documented(
        vendor,
        kind,
        documented_status,
        Built {
            status,
            code: &Value::String(code.to_owned()),
            message,
        },
    )
}

/// The response for `fault` from `vendor`; `normal` is the body the account would have sent
/// (for the faults that mangle it); `connection` lets the response drop the connection.
pub(crate) async fn render(
    vendor: &'static VendorEntry,
    fault: &Fault,
    normal: Bytes,
    connection: Option<ConnectionControl>,
) -> Response {
    match fault {
        Fault::Unauthorized => auth::rejected(vendor),
        Fault::InsufficientBalance => built_error(
            vendor,
            "insufficient_balance",
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_balance",
            "Insufficient balance",
            None,
        ),
        Fault::RateLimited { retry_after } => {
            let mut response = built_error(
                vendor,
                "rate_limited",
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                None,
            );
            if let Some(retry_after) = retry_after {
                let value = match retry_after {
                    RetryAfter::Seconds(s) => s.to_string(),
                    RetryAfter::Date(t) => httpdate::fmt_http_date(*t),
                };
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            response
        }
        Fault::ServerError { status } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            built_error(
                vendor,
                "transient",
                status,
                "server_error",
                status.canonical_reason().unwrap_or("Server error"),
                Some(status.as_u16()),
            )
        }
        Fault::VendorError { code, message } => {
            // A vendor with a success envelope reports its errors in a 200 envelope.
            let status = if vendor.description.balance.success.is_empty() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            failure::built(
                vendor,
                Built {
                    status,
                    code,
                    message,
                },
            )
        }
        Fault::EmptyBody => {
            let mut response = respond(StatusCode::OK, JSON, Body::empty());
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            response
        }
        Fault::TruncatedJson => respond(StatusCode::OK, JSON, normal.slice(..normal.len() / 2)),
        Fault::TruncatedTransfer => truncated_transfer(normal, connection),
        Fault::LeadingBlankLines { lines } => {
            let mut body = Vec::with_capacity(lines + normal.len());
            body.resize(*lines, b'\n');
            body.extend_from_slice(&normal);
            respond(StatusCode::OK, JSON, body)
        }
        Fault::Html { status } => html(*status),
        Fault::HugeBody { bytes } => huge_body(*bytes, normal),
        Fault::DropConnection => match connection {
            Some(connection) => {
                connection.abort();
                std::future::pending().await
            }
            None => {
                let stream = futures::stream::once(async {
                    Err::<Bytes, _>(std::io::Error::other("dropped connection"))
                });
                respond(StatusCode::OK, JSON, Body::from_stream(stream))
            }
        },
        Fault::WrongContentType => respond(StatusCode::OK, "text/plain; charset=utf-8", normal),
    }
}

fn truncated_transfer(normal: Bytes, connection: Option<ConnectionControl>) -> Response {
    let full = normal.len();
    let half = normal.slice(..full / 2);
    let tail = async move {
        // Give hyper time to flush the first half before the socket goes away.
        tokio::time::sleep(Duration::from_millis(20)).await;
        match connection {
            Some(connection) => {
                connection.abort();
                std::future::pending::<Result<Bytes, std::io::Error>>().await
            }
            None => Err(std::io::Error::other("truncated transfer")),
        }
    };
    let stream = futures::stream::once(async move { Ok(half) }).chain(futures::stream::once(tail));
    let mut response = respond(StatusCode::OK, JSON, Body::from_stream(stream));
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
    response
}

fn html(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!(
        "{} {}",
        status.as_str(),
        status.canonical_reason().unwrap_or("Error")
    );
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    respond(status, "text/html", page)
}

fn huge_body(bytes: usize, normal: Bytes) -> Response {
    let mut chunks = Vec::with_capacity(bytes / PAD_CHUNK + 2);
    let mut left = bytes;
    while left > 0 {
        let n = left.min(PAD_CHUNK);
        chunks.push(Bytes::from_static(&PADDING[..n]));
        left -= n;
    }
    chunks.push(normal);
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<Bytes, Infallible>));
    respond(StatusCode::OK, JSON, Body::from_stream(stream))
}
