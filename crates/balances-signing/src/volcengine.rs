//! Volcengine's OpenAPI request signature (`HMAC-SHA256`, `X-Date`, `X-Content-Sha256`,
//! a credential scope ending in `request`), as "签名方法" documents it
//! (<https://www.volcengine.com/docs/6369/67269>, worked example "签名过程Demo"
//! <https://volcengine.com/docs/6369/67270>).
//!
//! 1. Canonical request: `METHOD\nCanonicalURI\nCanonicalQueryString\nCanonicalHeaders\nSignedHeaders\nHexEncode(Hash(Body))`.
//!    The URI is the RFC 3986-encoded path (`/` when empty). The query: names and values
//!    RFC 3986-encoded, sorted by name (ASCII), a repeated name keeping its values' order,
//!    `name=value` joined with `&`. The headers: `lowercase(name):Trimall(value)\n` each,
//!    sorted by name (the block ends with a newline); `Trimall` trims and collapses runs of
//!    spaces into one.
//! 2. String to sign: `HMAC-SHA256\n<X-Date>\n<YYYYMMDD>/<region>/<service>/request\n<hex SHA-256 of the canonical request>`.
//! 3. Key: `kDate = HMAC(secret, YYYYMMDD)`, `kRegion = HMAC(kDate, region)`,
//!    `kService = HMAC(kRegion, service)`, `kSigning = HMAC(kService, "request")` (the secret
//!    is used as its UTF-8 text, with no prefix, although it looks like base64); signature:
//!    hex `HMAC(kSigning, StringToSign)`.
//! 4. `Authorization: HMAC-SHA256 Credential=<AccessKeyId>/<scope>, SignedHeaders=<names>, Signature=<hex>`.
//!
//! [`sign`] sets `X-Date` and `X-Content-Sha256` and signs them with `host` and, when the
//! request has one, `content-type` (the SDKs send and sign `X-Content-Sha256`; the page
//! calls it optional).

use http::HeaderMap;

use crate::encode::{hmac_sha256, sha256_hex, uri_encode};
use crate::{
    Canonical, CanonicalParts, Credentials, SigningError, SigningKey, SigningRequest, SigningTime,
    check_scope_part,
};

/// The algorithm's name.
pub const ALGORITHM: &str = "HMAC-SHA256";

/// The headers [`sign`] sets, replacing any the request already has.
const SET_BY_SIGNER: [&str; 3] = ["x-date", "x-content-sha256", "authorization"];

/// The region and service of the credential scope. The billing API is `cn-beijing` /
/// `billing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    /// The region, e.g. `cn-beijing`.
    pub region: &'a str,
    /// The service, e.g. `billing`.
    pub service: &'a str,
}

/// A signed request: the headers to insert and every intermediate step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Signed {
    /// `X-Date`, `X-Content-Sha256` and `Authorization` (marked sensitive).
    pub headers: HeaderMap,
    /// The canonical request and its signed-header list.
    pub canonical: Canonical,
    /// `<YYYYMMDD>/<region>/<service>/request`.
    pub credential_scope: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// `kSigning`.
    pub signing_key: SigningKey,
    /// The signature (lowercase hex).
    pub signature: String,
}

/// Signs `request` at `time` for `scope`.
pub fn sign(
    request: &SigningRequest,
    credentials: &Credentials,
    time: SigningTime,
    scope: Scope<'_>,
) -> Result<Signed, SigningError> {
    check_scope_part(scope.region, "region")?;
    check_scope_part(scope.service, "service")?;
    let normalized = request.normalized(&SET_BY_SIGNER)?;
    let date = time.iso8601_basic();
    let payload_hash = sha256_hex(request.body_bytes());
    let mut signed = vec![
        ("host", normalized.host),
        ("x-date", date.as_str()),
        ("x-content-sha256", payload_hash.as_str()),
    ];
    if let Some(content_type) = normalized.single("content-type")? {
        signed.push(("content-type", content_type));
    }
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
    let credential_scope = credential_scope(time, scope);
    let string_to_sign = string_to_sign(time, &credential_scope, &canonical.request);
    let signing_key = signing_key(credentials, time, scope);
    let signature = signature(&signing_key, &string_to_sign);
    let authorization = authorization(
        credentials,
        &credential_scope,
        &canonical.signed_headers,
        &signature,
    );
    let headers = crate::header_map(&[
        ("x-date", &date, false),
        ("x-content-sha256", &payload_hash, false),
        ("authorization", &authorization, true),
    ])?;
    Ok(Signed {
        headers,
        canonical,
        credential_scope,
        string_to_sign,
        signing_key,
        signature,
    })
}

/// Step 1: the canonical request of exactly `parts`. A header given twice is refused (the
/// page does not say how two values would combine).
pub fn canonical_request(parts: &CanonicalParts<'_>) -> Result<Canonical, SigningError> {
    let mut query: Vec<(String, String)> = parts
        .query
        .iter()
        .map(|(name, value)| (uri_encode(name), uri_encode(value)))
        .collect();
    // Stable: a repeated name keeps its values in the order given.
    query.sort_by(|a, b| a.0.cmp(&b.0));
    let query: Vec<String> = query
        .into_iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), trimall(value)))
        .collect();
    Canonical::assemble(parts, &query, headers)
}

/// `<YYYYMMDD>/<region>/<service>/request`.
pub fn credential_scope(time: SigningTime, scope: Scope<'_>) -> String {
    format!(
        "{}/{}/{}/request",
        time.date_basic(),
        scope.region,
        scope.service
    )
}

/// Step 2: the string to sign.
pub fn string_to_sign(
    time: SigningTime,
    credential_scope: &str,
    canonical_request: &str,
) -> String {
    format!(
        "{ALGORITHM}\n{}\n{credential_scope}\n{}",
        time.iso8601_basic(),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Step 3: `kSigning` for `time`'s UTC date and `scope`.
pub fn signing_key(credentials: &Credentials, time: SigningTime, scope: Scope<'_>) -> SigningKey {
    let k_date = hmac_sha256(
        credentials.secret().as_bytes(),
        time.date_basic().as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, scope.region.as_bytes());
    let k_service = hmac_sha256(&k_region, scope.service.as_bytes());
    SigningKey::new(hmac_sha256(&k_service, b"request"))
}

/// Step 3, last part: hex HMAC-SHA256 of the string to sign under `kSigning`.
pub fn signature(signing_key: &SigningKey, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key.bytes(), string_to_sign.as_bytes()))
}

/// Step 4: the `Authorization` value.
pub fn authorization(
    credentials: &Credentials,
    credential_scope: &str,
    signed_headers: &str,
    signature: &str,
) -> String {
    format!(
        "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id()
    )
}

/// The value trimmed, runs of spaces inside it collapsed into one.
fn trimall(value: &str) -> String {
    value
        .trim()
        .split(' ')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::trimall;

    #[test]
    fn trimall_trims_and_collapses_spaces() {
        assert_eq!(trimall("  a   b c  "), "a b c");
        assert_eq!(trimall(""), "");
    }
}
