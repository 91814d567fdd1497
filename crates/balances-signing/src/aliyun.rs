//! Alibaba Cloud's V3 request signature, `ACS3-HMAC-SHA256`, as the "V3 request structure
//! and signature" page documents it
//! (<https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature>).
//!
//! 1. Canonical request: `METHOD\nCanonicalURI\nCanonicalQueryString\nCanonicalHeaders\nSignedHeaders\nHashedRequestPayload`.
//!    The URI is the RFC 3986-encoded path (`/` for RPC APIs such as BSS). The query is
//!    sorted by parameter name, names and values RFC 3986-encoded, `name=value` joined with
//!    `&`. The headers are `host`, `content-type` and every `x-acs-*` header, names
//!    lowercase, sorted, values trimmed, one `name:value\n` each (so the block ends with a
//!    newline); a name given twice gets its sorted values joined by `,` (as the official
//!    signing helper does: `Test_GetAuthorization`). The payload hash is the lowercase hex
//!    SHA-256 of the body, the same value as `x-acs-content-sha256`.
//! 2. String to sign: `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request (no date,
//!    no scope).
//! 3. Signature: hex HMAC-SHA256 keyed with the raw AccessKey secret.
//! 4. `Authorization: ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<names>,Signature=<hex>`
//!    (no space after the commas).
//!
//! [`sign`] sets `x-acs-date`, `x-acs-signature-nonce` and `x-acs-content-sha256` itself
//! (the request must carry `x-acs-action` and `x-acs-version`, the API's name and version).

use http::HeaderMap;

use crate::encode::{hmac_sha256, sha256_hex, uri_encode};
use crate::{Attempt, Canonical, CanonicalParts, Credentials, SigningError, SigningRequest};

/// The algorithm's name, first word of `Authorization` and of the string to sign.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// The headers [`sign`] sets, replacing any the request already has.
const SET_BY_SIGNER: [&str; 4] = [
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "authorization",
];

/// A signed request: the headers to insert (replacing any of the same name) and every
/// intermediate step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Signed {
    /// `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256` and `authorization`
    /// (marked sensitive).
    pub headers: HeaderMap,
    /// The canonical request and its signed-header list.
    pub canonical: Canonical,
    /// The string to sign.
    pub string_to_sign: String,
    /// The signature (lowercase hex).
    pub signature: String,
}

/// Signs `request` at `attempt`'s time with its nonce.
pub fn sign(
    request: &SigningRequest,
    credentials: &Credentials,
    attempt: &Attempt,
) -> Result<Signed, SigningError> {
    let normalized = request.normalized(&SET_BY_SIGNER)?;
    for required in ["x-acs-action", "x-acs-version"] {
        if !normalized.headers.iter().any(|(name, _)| name == required) {
            return Err(SigningError::MissingHeader { name: required });
        }
    }
    let date = attempt.time.iso8601_extended();
    let payload_hash = sha256_hex(request.body_bytes());
    let mut signed: Vec<(&str, &str)> = vec![
        ("host", normalized.host),
        ("x-acs-date", &date),
        ("x-acs-signature-nonce", attempt.nonce.as_str()),
        ("x-acs-content-sha256", &payload_hash),
    ];
    signed.extend(
        normalized
            .headers
            .iter()
            .filter(|(name, _)| name == "content-type" || name.starts_with("x-acs-"))
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
        payload_hash: &payload_hash,
    })?;
    let string_to_sign = string_to_sign(&canonical.request);
    let signature = signature(credentials, &string_to_sign);
    let authorization = authorization(credentials, &canonical.signed_headers, &signature);
    let headers = crate::header_map(&[
        ("x-acs-date", &date, false),
        ("x-acs-signature-nonce", attempt.nonce.as_str(), false),
        ("x-acs-content-sha256", &payload_hash, false),
        ("authorization", &authorization, true),
    ])?;
    Ok(Signed {
        headers,
        canonical,
        string_to_sign,
        signature,
    })
}

/// Step 1: the canonical request of exactly `parts` (every header listed is signed).
pub fn canonical_request(parts: &CanonicalParts<'_>) -> Result<Canonical, SigningError> {
    let mut query: Vec<(&str, &str)> = parts.query.to_vec();
    query.sort_by(|a, b| a.0.cmp(b.0));
    let query: Vec<String> = query
        .iter()
        .map(|(name, value)| format!("{}={}", uri_encode(name), uri_encode(value)))
        .collect();

    let mut headers: Vec<(String, Vec<&str>)> = Vec::new();
    for (name, value) in parts.headers {
        let name = name.to_ascii_lowercase();
        let value = value.trim();
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => headers.push((name, vec![value])),
        }
    }
    // A header given twice is signed once, its values sorted and joined with `,`.
    let headers = headers
        .into_iter()
        .map(|(name, mut values)| {
            values.sort_unstable();
            (name, values.join(","))
        })
        .collect();
    Canonical::assemble(parts, &query, headers)
}

/// Step 2: `ACS3-HMAC-SHA256\n<hex SHA-256 of the canonical request>`.
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Step 3: hex HMAC-SHA256 of the string to sign, keyed with the raw secret.
pub fn signature(credentials: &Credentials, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(
        credentials.secret().as_bytes(),
        string_to_sign.as_bytes(),
    ))
}

/// Step 4: the `Authorization` value.
pub fn authorization(credentials: &Credentials, signed_headers: &str, signature: &str) -> String {
    format!(
        "{ALGORITHM} Credential={},SignedHeaders={signed_headers},Signature={signature}",
        credentials.access_key_id()
    )
}
