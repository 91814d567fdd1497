//! Faults an account can be switched into.

use std::time::{Duration, SystemTime};

/// The default size of [`Fault::huge_body`]: 5 MiB.
pub const HUGE_BODY_BYTES: usize = 5 * 1024 * 1024;

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
/// Faults are attached to an account (keyed by its credential) through
/// [`AccountControl`](crate::AccountControl): for every request, for the next *n* requests, or
/// as a sequence. Latency is separate ([`AccountControl::set_latency`](crate::AccountControl::set_latency))
/// and is applied before the fault or the normal answer. A fault is applied after the account is
/// identified and counted but before EIOTClub's signature, timestamp, nonce and replay checks, as a
/// gateway or an overloaded server would.
///
/// Vendor-like bodies are documented on each variant; `<v>` marks where the vendors differ.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// The vendor's authentication failure, as if the key had been revoked. DeepSeek: 401
    /// `{"error":{"message":"Authentication Fails (no such user)",…}}`; GeekAI: 401
    /// `{"code":"unauthorized","message":"Invalid API key or token"}`; EIOTClub: HTTP 200
    /// envelope with code [`UNKNOWN_APPKEY`](crate::eiotclub_codes::UNKNOWN_APPKEY).
    Unauthorized,
    /// HTTP 402 insufficient balance with a vendor-like body (EIOTClub: envelope code `"402"`).
    InsufficientBalance,
    /// HTTP 429 with an optional `Retry-After` header and a vendor-like body.
    RateLimited {
        /// The `Retry-After` header, if any.
        retry_after: Option<RetryAfter>,
    },
    /// The given status (500, 503, 504, …) with a vendor-like JSON body.
    ServerError {
        /// The HTTP status code; 500 is used if it is not a valid status.
        status: u16,
    },
    /// A vendor-level error with a code of your choice. EIOTClub: HTTP 200 envelope
    /// `{"code":<code>,"message":<message>,"data":null}` (the code may be a JSON string or a
    /// number, as the vendor has been seen sending both). DeepSeek: HTTP 400
    /// `{"error":{"message":<message>,"type":"invalid_request_error","param":null,"code":<code>}}`.
    /// GeekAI: HTTP 400 `{"code":<code>,"message":<message>}`.
    VendorError {
        /// The code, written as given (string, number, or anything else).
        code: serde_json::Value,
        /// The message.
        message: String,
    },
    /// HTTP 200, `Content-Type: application/json`, `Content-Length: 0`, no body.
    EmptyBody,
    /// HTTP 200, `Content-Type: application/json`, a complete HTTP message whose body is the
    /// first half of the normal JSON body (so it never parses).
    TruncatedJson,
    /// HTTP 200 with `Content-Length` of the full normal body, but only the first half is sent
    /// before the connection is closed: the client sees a body/transport error.
    TruncatedTransfer,
    /// HTTP 200 with the normal body preceded by this many `\n` (keep-alive empty lines, as the
    /// vendor sends under load). Still valid JSON.
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
    /// HTTP 200, `Content-Type: application/json`, chunked (no `Content-Length`): `bytes` spaces
    /// streamed in 64 KiB chunks followed by the normal body. Valid JSON; only a size cap stops it.
    HugeBody {
        /// How many bytes of padding precede the normal body.
        bytes: usize,
    },
    /// The connection is closed without any response.
    DropConnection,
    /// The normal body and status, but `Content-Type: text/plain; charset=utf-8`.
    WrongContentType,
}

impl Fault {
    /// HTTP 429 with `Retry-After: <seconds>`.
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

    /// An EIOTClub-style vendor error with a string code.
    pub fn vendor_error(code: impl Into<String>, message: impl Into<String>) -> Fault {
        Fault::VendorError {
            code: serde_json::Value::String(code.into()),
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
