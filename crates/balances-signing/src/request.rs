//! What is signed, independent of any HTTP client: method, host, path, query pairs, headers
//! and body bytes ([`SigningRequest`]); and the exact inputs of a canonical request
//! ([`CanonicalParts`]), for the step-by-step functions each scheme exposes.

use std::fmt;

use crate::SigningError;

/// A request to sign. Path and query are given decoded (the text the server decodes them
/// to); each scheme encodes them its own way. `host` is the `Host` header as it is sent:
/// with the port when it is not the URL scheme's default.
///
/// `Debug` shows header names and the body's length, never header values or the body.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningRequest {
    method: String,
    host: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl SigningRequest {
    /// A request with no query, no headers and an empty body.
    pub fn new(
        method: impl Into<String>,
        host: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Self {
            method: method.into(),
            host: host.into(),
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// One more query parameter (decoded), after those already given.
    #[must_use]
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// One more header. `Host` may be given only with the request's own host.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The body, exactly as it is sent.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The request an HTTP client is about to send: host (and port, when not the default)
    /// from the URL, its path percent-decoded, its query decoded as
    /// `application/x-www-form-urlencoded` (as servers read it: `+` is a space), every header
    /// in `headers`, and `body`.
    pub fn from_http(
        method: &http::Method,
        url: &url::Url,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Self, SigningError> {
        let host = url.host_str().ok_or(SigningError::InvalidUrl {
            reason: "it has no host",
        })?;
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let path = percent_encoding::percent_decode_str(url.path())
            .decode_utf8()
            .map_err(|_| SigningError::InvalidUrl {
                reason: "its path is not UTF-8 once decoded",
            })?
            .into_owned();
        let mut request = Self::new(method.as_str(), host, path).body(body);
        for (name, value) in url.query_pairs() {
            request = request.query(name, value);
        }
        for (name, value) in headers {
            let value = value
                .to_str()
                .map_err(|_| SigningError::InvalidHeaderValue {
                    name: name.as_str().to_owned(),
                })?;
            request = request.header(name.as_str(), value);
        }
        Ok(request)
    }

    /// The method as given.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The `Host` header value.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The decoded path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The decoded query parameters, in the order given.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The headers, in the order given, names as given.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body bytes.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// Checks what every scheme relies on and returns the normalized view the schemes
    /// select from: method uppercase, path `/` when empty, header names lowercase, and any
    /// header named in `replaced` left out (the scheme sets those itself, so a retried
    /// request's old values are never signed).
    pub(crate) fn normalized(&self, replaced: &[&str]) -> Result<Normalized<'_>, SigningError> {
        if self.method.is_empty() || !self.method.bytes().all(is_token_byte) {
            return Err(SigningError::InvalidMethod);
        }
        if self.host.is_empty() || !self.host.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SigningError::InvalidHost);
        }
        if !(self.path.is_empty() || self.path.starts_with('/')) {
            return Err(SigningError::InvalidPath);
        }
        let mut headers = Vec::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(SigningError::InvalidHeaderName { name: name.clone() });
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(SigningError::InvalidHeaderValue { name: name.clone() });
            }
            let lower = name.to_ascii_lowercase();
            if lower == "host" {
                if value.trim() != self.host {
                    return Err(SigningError::ConflictingHost);
                }
                continue;
            }
            if replaced.contains(&lower.as_str()) {
                continue;
            }
            headers.push((lower, value.as_str()));
        }
        Ok(Normalized {
            method: self.method.to_ascii_uppercase(),
            path: if self.path.is_empty() {
                "/"
            } else {
                &self.path
            },
            host: &self.host,
            headers,
        })
    }
}

impl fmt::Debug for SigningRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("SigningRequest")
            .field("method", &self.method)
            .field("host", &self.host)
            .field("path", &self.path)
            .field(
                "query_names",
                &self.query.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A checked request, for the schemes to pick the headers they sign from.
#[derive(Debug)]
pub(crate) struct Normalized<'a> {
    pub(crate) method: String,
    pub(crate) path: &'a str,
    pub(crate) host: &'a str,
    /// Lowercase names (never `host`, never a header the scheme sets), values as given.
    pub(crate) headers: Vec<(String, &'a str)>,
}

impl Normalized<'_> {
    /// The one value of header `name` (lowercase), if present.
    pub(crate) fn single(&self, name: &str) -> Result<Option<&str>, SigningError> {
        let mut values = self.headers.iter().filter(|(n, _)| n == name);
        let first = values.next().map(|(_, v)| *v);
        if values.next().is_some() {
            return Err(SigningError::DuplicateHeader {
                name: name.to_owned(),
            });
        }
        Ok(first)
    }
}

/// The exact inputs of a canonical request, for the step-by-step functions: every header
/// listed is signed (and no other), the query is as listed (decoded), and the payload hash
/// is used as given.
#[derive(Debug, Clone, Copy)]
pub struct CanonicalParts<'a> {
    /// The HTTP method (uppercase, or empty in some SDK unit tests).
    pub method: &'a str,
    /// The decoded path; empty is read as `/`.
    pub path: &'a str,
    /// The decoded query parameters.
    pub query: &'a [(&'a str, &'a str)],
    /// The headers to sign, names in any case, values as sent.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lowercase hex SHA-256 of the body (not used by Baidu's scheme).
    pub payload_hash: &'a str,
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_refuses_what_cannot_be_signed() -> Result<(), SigningError> {
        let request = SigningRequest::new("post", "h.example", "")
            .header("X-Acs-Date", "old")
            .header("Content-Type", "a/b")
            .header("Host", "h.example");
        let normalized = request.normalized(&["x-acs-date"])?;
        assert_eq!(normalized.method, "POST");
        assert_eq!(normalized.path, "/");
        assert_eq!(normalized.headers, vec![("content-type".to_owned(), "a/b")]);

        let bad = |r: SigningRequest| r.normalized(&[]).err();
        assert_eq!(
            bad(SigningRequest::new("", "h", "/")),
            Some(SigningError::InvalidMethod)
        );
        assert_eq!(
            bad(SigningRequest::new("GET", "a b", "/")),
            Some(SigningError::InvalidHost)
        );
        assert_eq!(
            bad(SigningRequest::new("GET", "h", "x")),
            Some(SigningError::InvalidPath)
        );
        assert_eq!(
            bad(SigningRequest::new("GET", "h", "/").header("a b", "v")),
            Some(SigningError::InvalidHeaderName { name: "a b".into() })
        );
        assert_eq!(
            bad(SigningRequest::new("GET", "h", "/").header("x-a", "v\r\nx-b: forged")),
            Some(SigningError::InvalidHeaderValue { name: "x-a".into() })
        );
        assert_eq!(
            bad(SigningRequest::new("GET", "h", "/").header("Host", "other")),
            Some(SigningError::ConflictingHost)
        );
        Ok(())
    }

    #[test]
    fn reads_what_an_http_client_sends() -> Result<(), Box<dyn std::error::Error>> {
        let url = url::Url::parse("http://127.0.0.1:8080/a%20b/c?Action=X&q=a+b%2Bc")?;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        let request = SigningRequest::from_http(&http::Method::POST, &url, &headers, b"{}")?;
        assert_eq!(request.host(), "127.0.0.1:8080");
        assert_eq!(request.path(), "/a b/c");
        assert_eq!(
            request.query_pairs(),
            &[
                ("Action".to_owned(), "X".to_owned()),
                ("q".to_owned(), "a b+c".to_owned())
            ]
        );
        assert_eq!(
            request.headers(),
            &[("content-type".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(request.body_bytes(), b"{}");
        let default_port = url::Url::parse("https://billing.tencentcloudapi.com/")?;
        let request = SigningRequest::from_http(
            &http::Method::GET,
            &default_port,
            &http::HeaderMap::new(),
            b"",
        )?;
        assert_eq!(request.host(), "billing.tencentcloudapi.com");
        Ok(())
    }

    #[test]
    fn debug_shows_no_header_value_and_no_body() {
        let request = SigningRequest::new("POST", "h", "/")
            .header("x-acs-security-token", "TOKEN-VALUE")
            .body("BODY-TEXT");
        let shown = format!("{request:?}");
        assert!(shown.contains("x-acs-security-token"));
        assert!(!shown.contains("TOKEN-VALUE"));
        assert!(!shown.contains("BODY-TEXT"));
    }
}
