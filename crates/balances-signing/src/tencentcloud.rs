//! Tencent Cloud's API 3.0 request signature, `TC3-HMAC-SHA256`, as "签名方法 v3"
//! documents it (<https://cloud.tencent.com/document/api/213/30654>; the same page is
//! copied under every product, e.g. Billing, <https://www.tencentcloud.com/document/product/555/30750>).
//!
//! 1. Canonical request: `METHOD\nCanonicalURI\nCanonicalQueryString\nCanonicalHeaders\nSignedHeaders\nHashedRequestPayload`.
//!    The URI is the path (`/` for API 3.0). The query is empty for POST ("固定为空字符串")
//!    and otherwise the URL's query as sent, each name and value RFC 3986-encoded, in the
//!    order given (the page says the string after `?`, not a sorted one). The headers are **name and value
//!    lowercased** and trimmed, `name:value\n` each, sorted by name; `content-type` and
//!    `host` are mandatory. The payload hash is the lowercase hex SHA-256 of the body
//!    (a GET's empty body hashes to SHA-256 of "").
//! 2. String to sign: `TC3-HMAC-SHA256\n<X-TC-Timestamp>\n<CredentialScope>\n<hex SHA-256 of the canonical request>`,
//!    the scope being `<UTC date of the timestamp, YYYY-MM-DD>/<service>/tc3_request`.
//! 3. Key: `SecretDate = HMAC("TC3" + SecretKey, Date)`, `SecretService = HMAC(SecretDate, Service)`,
//!    `SecretSigning = HMAC(SecretService, "tc3_request")`; signature: hex
//!    `HMAC(SecretSigning, StringToSign)`.
//! 4. `Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<scope>, SignedHeaders=<names>, Signature=<hex>`
//!    (comma **and space** between the parts).
//!
//! [`sign`] signs `content-type`, `host` and, when the request has it, `x-tc-action` (as the
//! current page's example does: the page allows any extra header), and sets `X-TC-Timestamp`.
//! The request carries `X-TC-Action`, `X-TC-Version` (and `X-TC-Region` where needed).
//! No nonce: the server refuses a timestamp more than five minutes from its clock
//! (`AuthFailure.SignatureExpire`).

use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};

use crate::encode::{hmac_sha256, sha256_hex, uri_encode};
use crate::{
    Canonical, CanonicalParts, Credentials, SigningError, SigningKey, SigningRequest, SigningTime,
    check_scope_part,
};

/// The algorithm's name.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The headers [`sign`] sets, replacing any the request already has.
const SET_BY_SIGNER: [&str; 2] = ["x-tc-timestamp", "authorization"];

/// A signed request: the headers to insert and every intermediate step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Signed {
    /// `X-TC-Timestamp` and `Authorization` (marked sensitive).
    pub headers: HeaderMap,
    /// The canonical request and its signed-header list.
    pub canonical: Canonical,
    /// `<date>/<service>/tc3_request`.
    pub credential_scope: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The derived keys.
    pub keys: DerivedKeys,
    /// The signature (lowercase hex).
    pub signature: String,
}

/// The three keys derived from the secret (step 3), as the worked example prints them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DerivedKeys {
    /// `HMAC("TC3" + SecretKey, Date)`.
    pub secret_date: SigningKey,
    /// `HMAC(SecretDate, Service)`.
    pub secret_service: SigningKey,
    /// `HMAC(SecretService, "tc3_request")`: the key that signs.
    pub secret_signing: SigningKey,
}

/// Signs `request` at `time` for `service` (the product's name, which is the first label of
/// its host: `billing` for `billing.tencentcloudapi.com` and `billing.intl.tencentcloudapi.com`).
pub fn sign(
    request: &SigningRequest,
    credentials: &Credentials,
    time: SigningTime,
    service: &str,
) -> Result<Signed, SigningError> {
    check_scope_part(service, "service")?;
    let normalized = request.normalized(&SET_BY_SIGNER)?;
    let content_type = normalized
        .single("content-type")?
        .ok_or(SigningError::MissingHeader {
            name: "content-type",
        })?;
    let mut signed = vec![("content-type", content_type), ("host", normalized.host)];
    if let Some(action) = normalized.single("x-tc-action")? {
        signed.push(("x-tc-action", action));
    }
    let query: Vec<(&str, &str)> = request
        .query_pairs()
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let payload_hash = sha256_hex(request.body_bytes());
    let canonical = canonical_request(&CanonicalParts {
        method: &normalized.method,
        path: normalized.path,
        query: &query,
        headers: &signed,
        payload_hash: &payload_hash,
    })?;
    let credential_scope = credential_scope(time, service);
    let string_to_sign = string_to_sign(time, &credential_scope, &canonical.request);
    let keys = derive_keys(credentials, time, service);
    let signature = signature(&keys.secret_signing, &string_to_sign);
    let authorization = authorization(
        credentials,
        &credential_scope,
        &canonical.signed_headers,
        &signature,
    );
    let timestamp = time.unix_seconds().to_string();
    let headers = crate::header_map(&[
        ("x-tc-timestamp", &timestamp, false),
        ("authorization", &authorization, true),
    ])?;
    Ok(Signed {
        headers,
        canonical,
        credential_scope,
        string_to_sign,
        keys,
        signature,
    })
}

/// Step 1: the canonical request of exactly `parts`. A header given twice is refused (the
/// page does not say how two values would combine).
pub fn canonical_request(parts: &CanonicalParts<'_>) -> Result<Canonical, SigningError> {
    // "对于 POST 请求，固定为空字符串": a POST's query is never signed.
    let query: Vec<String> = if parts.method == "POST" {
        Vec::new()
    } else {
        parts
            .query
            .iter()
            .map(|(name, value)| format!("{}={}", uri_encode(name), uri_encode(value)))
            .collect()
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_lowercase()))
        .collect();
    Canonical::assemble(parts, &query, headers)
}

/// `<UTC date>/<service>/tc3_request`.
pub fn credential_scope(time: SigningTime, service: &str) -> String {
    format!("{}/{service}/tc3_request", time.date_extended())
}

/// Step 2: the string to sign.
pub fn string_to_sign(
    time: SigningTime,
    credential_scope: &str,
    canonical_request: &str,
) -> String {
    format!(
        "{ALGORITHM}\n{}\n{credential_scope}\n{}",
        time.unix_seconds(),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Step 3: the keys derived from the secret for `time`'s UTC date and `service`.
pub fn derive_keys(credentials: &Credentials, time: SigningTime, service: &str) -> DerivedKeys {
    // Held as a secret so that it is zeroed when dropped.
    let first_key = SecretString::from(format!("TC3{}", credentials.secret()));
    let secret_date = hmac_sha256(
        first_key.expose_secret().as_bytes(),
        time.date_extended().as_bytes(),
    );
    let secret_service = hmac_sha256(&secret_date, service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    DerivedKeys {
        secret_date: SigningKey::new(secret_date),
        secret_service: SigningKey::new(secret_service),
        secret_signing: SigningKey::new(secret_signing),
    }
}

/// Step 3, last part: hex HMAC-SHA256 of the string to sign under `SecretSigning`.
pub fn signature(secret_signing: &SigningKey, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(
        secret_signing.bytes(),
        string_to_sign.as_bytes(),
    ))
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
