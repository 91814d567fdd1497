//! One HTTP exchange with a size cap on the body, and nothing else: no retries, no
//! interpretation. Reading the body here (rather than through the generated client's
//! `send()`) keeps the status code next to the body in every case; progenitor's
//! `InvalidResponsePayload` drops it, and the status decides whether an HTML error page is a
//! transient 503 or a 404.

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// A response read in full (up to the cap).
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Why no full response was read. Every reqwest error is kept (without its URL) so that the
/// caller's error can name it as its source.
#[derive(Debug)]
pub(crate) enum TransportError {
    /// reqwest's own timeout (the connect timeout).
    Timeout(reqwest::Error),
    /// Could not connect, or the connection broke before a response arrived.
    Connect(reqwest::Error),
    /// A response started but its body broke off (truncated, reset).
    Body {
        status: StatusCode,
        error: reqwest::Error,
    },
    /// The body is larger than the cap.
    TooLarge { limit: usize },
    /// A redirect the policy refused (see [`crate::redirect`]).
    Redirect { origin: String, too_many: bool },
    /// Anything else reqwest reports.
    Other(reqwest::Error),
}

/// A reqwest error as text, with its causes, which carry the useful part ("connection
/// refused"). The URL was removed when the error was kept.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends `request` and reads the body, stopping as soon as it would exceed `limit` bytes.
pub(crate) async fn execute(
    request: reqwest::RequestBuilder,
    limit: usize,
) -> Result<RawResponse, TransportError> {
    let mut response = request.send().await.map_err(|e| {
        let e = e.without_url();
        if let Some(refused) = crate::redirect::refusal(&e) {
            TransportError::Redirect {
                origin: refused.origin.clone(),
                too_many: refused.too_many,
            }
        } else if e.is_timeout() {
            TransportError::Timeout(e)
        } else if e.is_connect() || e.is_request() {
            TransportError::Connect(e)
        } else {
            TransportError::Other(e)
        }
    })?;
    let status = response.status();
    let headers = response.headers().clone();

    // Refuse early when the server announces a body over the cap; otherwise count as we go,
    // since a chunked body announces nothing.
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(TransportError::TooLarge { limit });
    }
    // Most bodies arrive in one chunk: keep it as it is, and copy only when a second comes.
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut length = 0_usize;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                length += chunk.len();
                if length > limit {
                    return Err(TransportError::TooLarge { limit });
                }
                match (&mut joined, first.take()) {
                    (Some(buffer), _) => buffer.extend_from_slice(&chunk),
                    (None, None) => first = Some(chunk),
                    (None, Some(earlier)) => {
                        let mut buffer = BytesMut::with_capacity(length);
                        buffer.extend_from_slice(&earlier);
                        buffer.extend_from_slice(&chunk);
                        joined = Some(buffer);
                    }
                }
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(TransportError::Timeout(e.without_url())),
            Err(e) => {
                return Err(TransportError::Body {
                    status,
                    error: e.without_url(),
                });
            }
        }
    }
    let body = match joined {
        Some(buffer) => buffer.freeze(),
        None => first.unwrap_or_default(),
    };
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}
