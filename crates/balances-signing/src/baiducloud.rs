//! Baidu AI Cloud's request signature, `bce-auth-v1`, as "生成认证字符串 / Generate
//! Authentication String" documents it (<https://cloud.baidu.com/doc/Reference/s/njwvz1yfu>),
//! with the canonicalization details of the official SDKs, which the published vectors
//! confirm.
//!
//! 1. `authStringPrefix = bce-auth-v1/<accessKeyId>/<timestamp>/<expirationPeriodInSeconds>`,
//!    the timestamp UTC `yyyy-mm-ddThh:mm:ssZ`.
//! 2. `SigningKey = hex HMAC-SHA256(secret, authStringPrefix)`: the 64-character lowercase
//!    hex **text** is the next key (not its bytes).
//! 3. Canonical request: `METHOD\nCanonicalURI\nCanonicalQueryString\nCanonicalHeaders`
//!    (no signed-header line, no payload hash). The URI is the path RFC 3986-encoded with
//!    `/` kept. The query: every parameter but `authorization`, `UriEncode(name)=UriEncode(value)`
//!    (`name=` when empty), the **encoded strings** sorted, joined with `&`. The headers:
//!    `UriEncode(lowercase name):UriEncode(trimmed value)` (so `/`, `:`, `=`, space are
//!    encoded), the strings sorted, joined with `\n`, **no trailing newline**.
//! 4. `Signature = hex HMAC-SHA256(SigningKey, CanonicalRequest)`.
//! 5. `Authorization: bce-auth-v1/<accessKeyId>/<timestamp>/<expiration>/<signedHeaders>/<signature>`.
//!
//! [`sign`] sets `x-bce-date` to the timestamp and signs it with `host` and the headers
//! the documents sign by default when present (`content-length`, `content-type`,
//! `content-md5`, `x-bce-*` but `x-bce-request-id`), leaving out any with an empty value.
//! It always writes the signed-header list into `Authorization` rather than leaving it
//! empty for the server's default set. No nonce: the signature is valid from the timestamp
//! for the expiration period.

use std::fmt;

use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};

use crate::encode::{hmac_sha256, uri_encode_path};
use crate::{Canonical, CanonicalParts, Credentials, SigningError, SigningRequest, SigningTime};

/// The version word that starts the authorization string.
pub const VERSION: &str = "bce-auth-v1";
/// The expiration period the documents and SDKs use, in seconds.
pub const DEFAULT_EXPIRATION_SECONDS: u32 = 1800;

/// The headers [`sign`] sets, replacing any the request already has.
const SET_BY_SIGNER: [&str; 2] = ["x-bce-date", "authorization"];

/// A signed request: the headers to insert and every intermediate step. `Debug` leaves out
/// the prefix (it holds the access key id) and the signing key.
#[derive(Clone)]
#[non_exhaustive]
pub struct Signed {
    /// `x-bce-date` and `Authorization` (marked sensitive).
    pub headers: HeaderMap,
    /// `bce-auth-v1/<accessKeyId>/<timestamp>/<expiration>`.
    pub auth_string_prefix: String,
    /// The derived key, as hex text.
    pub signing_key: SecretString,
    /// The canonical request and its signed-header list.
    pub canonical: Canonical,
    /// The signature (lowercase hex).
    pub signature: String,
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("headers", &self.headers)
            .field("canonical", &self.canonical)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Signs `request` at `time`, valid for `expiration_seconds`
/// ([`DEFAULT_EXPIRATION_SECONDS`] is the documented default).
pub fn sign(
    request: &SigningRequest,
    credentials: &Credentials,
    time: SigningTime,
    expiration_seconds: u32,
) -> Result<Signed, SigningError> {
    let normalized = request.normalized(&SET_BY_SIGNER)?;
    let timestamp = time.iso8601_extended();
    let mut signed = vec![
        ("host", normalized.host),
        ("x-bce-date", timestamp.as_str()),
    ];
    signed.extend(
        normalized
            .headers
            .iter()
            .filter(|(name, value)| is_signed_by_default(name) && !value.trim().is_empty())
            .map(|(name, value)| (name.as_str(), *value)),
    );
    let query: Vec<(&str, &str)> = request
        .query_pairs()
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let canonical = canonical_request(&CanonicalParts {
        method: &normalized.method,
        path: normalized.path,
        query: &query,
        headers: &signed,
        payload_hash: "",
    })?;
    let auth_string_prefix = auth_string_prefix(credentials, time, expiration_seconds);
    let signing_key = signing_key(credentials, &auth_string_prefix);
    let signature = signature(&signing_key, &canonical.request);
    let authorization = authorization(&auth_string_prefix, &canonical.signed_headers, &signature);
    let headers = crate::header_map(&[
        ("x-bce-date", &timestamp, false),
        ("authorization", &authorization, true),
    ])?;
    Ok(Signed {
        headers,
        auth_string_prefix,
        signing_key,
        canonical,
        signature,
    })
}

/// Whether the documents sign header `name` (lowercase) by default: `host`,
/// `content-length`, `content-type`, `content-md5`, and `x-bce-*` but `x-bce-request-id`.
pub fn is_signed_by_default(name: &str) -> bool {
    matches!(
        name,
        "host" | "content-length" | "content-type" | "content-md5"
    ) || (name.starts_with("x-bce-") && name != "x-bce-request-id")
}

/// Step 1: `bce-auth-v1/<accessKeyId>/<timestamp>/<expiration>`.
pub fn auth_string_prefix(
    credentials: &Credentials,
    time: SigningTime,
    expiration_seconds: u32,
) -> String {
    format!(
        "{VERSION}/{}/{}/{expiration_seconds}",
        credentials.access_key_id(),
        time.iso8601_extended()
    )
}

/// Step 2: the signing key, hex text of HMAC-SHA256(secret, prefix).
pub fn signing_key(credentials: &Credentials, auth_string_prefix: &str) -> SecretString {
    SecretString::from(hex::encode(hmac_sha256(
        credentials.secret().as_bytes(),
        auth_string_prefix.as_bytes(),
    )))
}

/// Step 3: the canonical request of exactly `parts` (`payload_hash` is not used). A header
/// given twice is refused (the documents do not say how two values would combine).
pub fn canonical_request(parts: &CanonicalParts<'_>) -> Result<Canonical, SigningError> {
    let (canonical_headers, signed_headers) = canonical_headers(parts.headers)?;
    let request = [
        parts.method,
        &canonical_uri(parts.path),
        &canonical_query_string(parts.query),
        &canonical_headers,
    ]
    .join("\n");
    Ok(Canonical {
        request,
        signed_headers,
    })
}

/// The documents' `UriEncode`: RFC 3986, UTF-8, everything but `A-Z a-z 0-9 - _ . ~` as
/// `%XX` with uppercase hex (`/`, `:`, `=` and space included).
pub fn uri_encode(text: &str) -> String {
    crate::encode::uri_encode(text)
}

/// The path RFC 3986-encoded with `/` kept (`/example/测试` → `/example/%E6%B5%8B%E8%AF%95`).
pub fn canonical_uri(path: &str) -> String {
    uri_encode_path(path)
}

/// Every parameter but `authorization`, as `UriEncode(name)=UriEncode(value)`, sorted as
/// encoded strings, joined with `&`.
pub fn canonical_query_string(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<String> = query
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("authorization"))
        .map(|(name, value)| format!("{}={}", uri_encode(name), uri_encode(value)))
        .collect();
    pairs.sort();
    pairs.join("&")
}

/// The canonical header block (`UriEncode(lowercase name):UriEncode(trimmed value)`, sorted,
/// joined with `\n`) and the signed-header list (lowercase names, sorted, `;`-joined).
pub fn canonical_headers(headers: &[(&str, &str)]) -> Result<(String, String), SigningError> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    names.sort();
    if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(SigningError::DuplicateHeader {
            name: pair[0].clone(),
        });
    }
    let mut lines: Vec<String> = headers
        .iter()
        .map(|(name, value)| {
            format!(
                "{}:{}",
                uri_encode(&name.to_ascii_lowercase()),
                uri_encode(value.trim())
            )
        })
        .collect();
    lines.sort();
    Ok((lines.join("\n"), names.join(";")))
}

/// Step 4: hex HMAC-SHA256 of the canonical request under the signing key's text.
pub fn signature(signing_key: &SecretString, canonical_request: &str) -> String {
    hex::encode(hmac_sha256(
        signing_key.expose_secret().as_bytes(),
        canonical_request.as_bytes(),
    ))
}

/// Step 5: the `Authorization` value. `signed_headers` may be empty, which tells the server
/// to assume its default set (the documents' own example does so).
pub fn authorization(auth_string_prefix: &str, signed_headers: &str, signature: &str) -> String {
    format!("{auth_string_prefix}/{signed_headers}/{signature}")
}
