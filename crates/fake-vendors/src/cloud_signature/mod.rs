//! Second, independent verifiers of the four cloud request signatures (Alibaba Cloud
//! `ACS3-HMAC-SHA256`, Tencent Cloud `TC3-HMAC-SHA256`, Volcengine `HMAC-SHA256`, Baidu AI
//! Cloud `bce-auth-v1`), written from the vendors' documents
//! (`../shared/vendor-specs/{aliyun,tencentcloud,volcengine,baiducloud}/examples.md`) and
//! never calling the client's signer (`balances-signing`, a dev-dependency for the tests
//! only): a test oracle for it. Each works from the request as received (method, raw URI,
//! headers, body), parses the `Authorization` the client sent, recomputes the signature and
//! refuses a bad, incomplete or stale one with the vendor's documented error code and
//! envelope ([`Refusal`]).
//!
//! The percent-encoding and decoding here are written by hand on purpose: an oracle that
//! shared the signer's encoding tables would share their mistakes. Hashing and HMAC come
//! from `sha2` and `hmac`.

pub(crate) mod aliyun;
pub(crate) mod baiducloud;
pub(crate) mod tencentcloud;
pub(crate) mod volcengine;

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::respond::{JSON, respond};

/// A request as the server received it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

impl<'a> Received<'a> {
    /// The one value of header `name`, if present once and visible ASCII (and tabs/spaces).
    pub(crate) fn header(&self, name: &str) -> Option<&'a str> {
        let mut values = self.headers.get_all(name).iter();
        let value = values.next()?.to_str().ok()?;
        values.next().is_none().then_some(value)
    }

    /// Every value of header `name`, in the order received (`None` if one is not text).
    pub(crate) fn header_values(&self, name: &str) -> Option<Vec<&'a str>> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().ok())
            .collect()
    }

    /// `Host`, or the URI's authority (HTTP/2).
    pub(crate) fn host(&self) -> Option<&'a str> {
        self.header("host")
            .or_else(|| self.uri.authority().map(|a| a.as_str()))
    }

    /// The path, percent-decoded.
    pub(crate) fn decoded_path(&self) -> Option<String> {
        percent_decode(self.uri.path(), false)
    }

    /// The query's pairs in the order received, decoded as form data (`+` is a space);
    /// `None` if one is not valid percent-encoded UTF-8.
    pub(crate) fn query_pairs(&self) -> Option<Vec<(String, String)>> {
        let Some(query) = self.uri.query() else {
            return Some(Vec::new());
        };
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                Some((percent_decode(name, true)?, percent_decode(value, true)?))
            })
            .collect()
    }
}

/// A refused request: the vendor's documented status, code and body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) body: Value,
}

impl Refusal {
    /// The HTTP response.
    pub(crate) fn response(&self) -> Response {
        respond(self.status, JSON, self.body.to_string())
    }
}

/// The accepted request's access key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub(crate) access_key_id: String,
}

/// The secret of an access key id, if the server knows the key.
pub(crate) type SecretOf<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A request id for error envelopes, unique in the process.
pub(crate) fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("FAKE-{:016X}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - _ . ~` (and `/` when
/// `keep_slash`) as `%XX`, uppercase hex, over the UTF-8 bytes.
pub(crate) fn rfc3986(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && byte == b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `%XX` sequences decoded (and `+` as a space when `plus_is_space`); `None` for a broken
/// escape or bytes that are not UTF-8.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Equal, without stopping at the first difference.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `Key=value` parts of an `Authorization` value after the algorithm, separated by `,` and
/// optional spaces: `Credential=…, SignedHeaders=…, Signature=…`.
pub(crate) fn authorization_fields(rest: &str) -> Option<AuthorizationFields<'_>> {
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    Some(AuthorizationFields {
        credential: credential?,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

/// The three fields of an HMAC `Authorization` value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthorizationFields<'a> {
    pub(crate) credential: &'a str,
    pub(crate) signed_headers: &'a str,
    pub(crate) signature: &'a str,
}

/// A `;`-separated signed-header list: non-empty, lowercase, sorted, no repeats.
pub(crate) fn signed_header_names(list: &str) -> Option<Vec<&str>> {
    let names: Vec<&str> = list.split(';').collect();
    let well_formed = names
        .iter()
        .all(|n| !n.is_empty() && !n.bytes().any(|b| b.is_ascii_uppercase()));
    let sorted = names.windows(2).all(|w| w[0] < w[1]);
    (well_formed && sorted).then_some(names)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Turning what `balances-signing` returns into a request as the server receives it.

    use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
    use balances_signing::{Credentials, SigningRequest};
    use secrecy::SecretString;

    /// A received request, owned.
    pub(crate) struct Wire {
        pub(crate) method: Method,
        pub(crate) uri: Uri,
        pub(crate) headers: HeaderMap,
        pub(crate) body: Vec<u8>,
    }

    impl Wire {
        pub(crate) fn received(&self) -> super::Received<'_> {
            super::Received {
                method: &self.method,
                uri: &self.uri,
                headers: &self.headers,
                body: &self.body,
            }
        }

        /// Replace (or add) a header.
        pub(crate) fn set(&mut self, name: &str, value: &str) {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("test header name");
            let value = HeaderValue::from_str(value).expect("test header value");
            self.headers.insert(name, value);
        }
    }

    pub(crate) fn credentials(id: &str, secret: &str) -> Credentials {
        Credentials::new(SecretString::from(id), SecretString::from(secret))
            .expect("test credentials")
    }

    /// What a client would send for `request` with the signer's `signed` headers inserted:
    /// the query written as `reqwest` writes it (form encoding), the `Host` header added.
    pub(crate) fn wire(request: &SigningRequest, signed: &HeaderMap) -> Wire {
        let mut url = reqwest::Url::parse(&format!("http://{}/", request.host())).expect("url");
        url.set_path(request.path());
        if !request.query_pairs().is_empty() {
            url.query_pairs_mut().extend_pairs(request.query_pairs());
        }
        let path_and_query = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let uri: Uri = path_and_query.parse().expect("uri");
        let mut headers = HeaderMap::new();
        for (name, value) in request.headers() {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        for (name, value) in signed {
            headers.insert(name.clone(), value.clone());
        }
        headers.insert(
            "host",
            HeaderValue::from_str(request.host()).expect("host value"),
        );
        Wire {
            method: Method::from_bytes(request.method().as_bytes()).expect("method"),
            uri,
            headers,
            body: request.body_bytes().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes_like_rfc_3986() {
        assert_eq!(rfc3986("a b*~/测", false), "a%20b%2A~%2F%E6%B5%8B");
        assert_eq!(rfc3986("/a b/", true), "/a%20b/");
        assert_eq!(
            percent_decode("a+b%2Bc%E6%B5%8B", true).as_deref(),
            Some("a b+c测")
        );
        assert_eq!(percent_decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%zz", true), None);
        assert_eq!(percent_decode("%E6", true), None);
        assert_eq!(percent_decode("%4", true), None);
    }

    #[test]
    fn parses_authorization_fields_and_signed_header_lists() {
        let fields =
            authorization_fields("Credential=a/b, SignedHeaders=host;x-date, Signature=ff")
                .expect("well formed");
        assert_eq!(fields.credential, "a/b");
        assert_eq!(fields.signed_headers, "host;x-date");
        assert_eq!(fields.signature, "ff");
        assert!(authorization_fields("Credential=a,Signature=b").is_none());
        assert!(
            authorization_fields("Credential=a,Credential=b,SignedHeaders=c,Signature=d").is_none()
        );
        assert_eq!(signed_header_names("a;b"), Some(vec!["a", "b"]));
        assert_eq!(signed_header_names("b;a"), None);
        assert_eq!(signed_header_names("A;b"), None);
        assert_eq!(signed_header_names(""), None);
    }
}
