//! Volcengine `HMAC-SHA256`: every published vector of
//! `../shared/vendor-specs/volcengine/examples.md`, byte for byte. (No official SDK unit
//! test with a fixed signature exists, §3.3.)

use balances_signing::{
    CanonicalParts, Credentials, SigningError, SigningRequest, SigningTime, volcengine,
};
use secrecy::SecretString;

fn credentials(id: &str, secret: &str) -> Credentials {
    Credentials::new(SecretString::from(id), SecretString::from(secret))
        .expect("vector credentials are valid")
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// §3.1, the current "签名过程Demo" (IAM ListUsers): only `host` and `x-date` are signed, so
/// the step functions are given exactly those (the page sends no `X-Content-Sha256`).
#[test]
fn current_demo_page_list_users() -> Result<(), SigningError> {
    let credentials = credentials(
        "AKLTYWViMTVmZGYzM2E0NDI5Mzk2MDZjNjFmMjc2MjRjMzg",
        "WkRZeE1EQmxPVGhsWWpWak5HVmtNbUUxTXpZeU9UVXlOMlE1TmpZeVlqTQ==",
    );
    let time = SigningTime::from_unix_seconds(1_718_781_186)?; // 20240619T071306Z
    let scope = volcengine::Scope {
        region: "cn-beijing",
        service: "iam",
    };
    // The query in the order of the page's URL; the canonical form sorts it.
    let canonical = volcengine::canonical_request(&CanonicalParts {
        method: "GET",
        path: "/",
        query: &[
            ("Action", "ListUsers"),
            ("Version", "2018-01-01"),
            ("Limit", "10"),
            ("Offset", "0"),
        ],
        headers: &[
            ("Host", "iam.volcengineapi.com"),
            ("X-Date", "20240619T071306Z"),
        ],
        payload_hash: EMPTY_SHA256,
    })?;
    assert_eq!(
        canonical.request,
        "GET
/
Action=ListUsers&Limit=10&Offset=0&Version=2018-01-01
host:iam.volcengineapi.com
x-date:20240619T071306Z

host;x-date
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let credential_scope = volcengine::credential_scope(time, scope);
    assert_eq!(credential_scope, "20240619/cn-beijing/iam/request");
    let string_to_sign = volcengine::string_to_sign(time, &credential_scope, &canonical.request);
    assert_eq!(
        string_to_sign,
        "HMAC-SHA256
20240619T071306Z
20240619/cn-beijing/iam/request
5ed5bca3905e1fcbf789abb56a17c2d819674a3bcfa468ae476bd1ea80d135cb"
    );
    let signing_key = volcengine::signing_key(&credentials, time, scope);
    assert_eq!(
        signing_key.expose_hex(),
        "abee62e533a58934c49954459a3c3237d2fccea517c9a7c8a2651d8ea7779826"
    );
    let signature = volcengine::signature(&signing_key, &string_to_sign);
    assert_eq!(
        signature,
        "e31c4558bcfe08a286001f59cedbf0791ffd0b2362f10e55ee2627467bcdde93"
    );
    assert_eq!(
        volcengine::authorization(
            &credentials,
            &credential_scope,
            &canonical.signed_headers,
            &signature
        ),
        "HMAC-SHA256 Credential=AKLTYWViMTVmZGYzM2E0NDI5Mzk2MDZjNjFmMjc2MjRjMzg/20240619/cn-beijing/iam/request, SignedHeaders=host;x-date, Signature=e31c4558bcfe08a286001f59cedbf0791ffd0b2362f10e55ee2627467bcdde93"
    );
    Ok(())
}

/// §3.2, the earlier example (its `Authorization` line is on the official 公共参数 page):
/// `content-type` and `x-content-sha256` signed, which is what `volcengine::sign` does.
#[test]
fn earlier_example_with_content_sha256() -> Result<(), SigningError> {
    let credentials = credentials(
        "AKLTMjI2ODVlYzI3ZGY1NGU4ZjhjYWRjMTlmNTM5OTZkYzE",
        "TnpCak5XWXpZV1U0WkRaaE5ERmxaR0ZpTmpjeVkyUXlZek0wTWpJMU1qWQ==",
    );
    let request = SigningRequest::new("GET", "iam.volcengineapi.com", "/")
        .query("Action", "ListUsers")
        .query("Version", "2018-01-01")
        .query("Limit", "10")
        .query("Offset", "0")
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        );
    let time = SigningTime::from_unix_seconds(1_609_316_285)?; // 20201230T081805Z
    let scope = volcengine::Scope {
        region: "cn-north-1",
        service: "iam",
    };
    let signed = volcengine::sign(&request, &credentials, time, scope)?;
    assert_eq!(
        signed.canonical.request,
        "GET
/
Action=ListUsers&Limit=10&Offset=0&Version=2018-01-01
content-type:application/x-www-form-urlencoded; charset=utf-8
host:iam.volcengineapi.com
x-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
x-date:20201230T081805Z

content-type;host;x-content-sha256;x-date
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        signed.string_to_sign,
        "HMAC-SHA256
20201230T081805Z
20201230/cn-north-1/iam/request
3a4d4dee07c3308a52da01bc12d7a83c3705bfa543f51648f46de880bb2a7447"
    );
    // The folder computed this key itself (the page does not print it); the signature
    // below is the published one.
    assert_eq!(
        signed.signing_key.expose_hex(),
        "e7d2eb478084eaaaf8f85c161de16f13d97e52e77bd0415f33e7feb561cccffd"
    );
    assert_eq!(
        signed.headers["authorization"],
        "HMAC-SHA256 Credential=AKLTMjI2ODVlYzI3ZGY1NGU4ZjhjYWRjMTlmNTM5OTZkYzE/20201230/cn-north-1/iam/request, SignedHeaders=content-type;host;x-content-sha256;x-date, Signature=28eeabbbd726b87002e0fe58ad8c1c768e619b06e2646f35b6ad7ed029a6d8a7"
    );
    assert!(signed.headers["authorization"].is_sensitive());
    assert_eq!(signed.headers["x-date"], "20201230T081805Z");
    assert_eq!(signed.headers["x-content-sha256"], EMPTY_SHA256);
    assert_eq!(signed.headers.len(), 3);
    Ok(())
}

/// A repeated query name keeps its values' order; names sort by their encoded form.
#[test]
fn query_sorting_keeps_repeated_names_in_order() -> Result<(), SigningError> {
    let canonical = volcengine::canonical_request(&CanonicalParts {
        method: "GET",
        path: "",
        query: &[("b", "2"), ("a", "z"), ("b", "1"), ("c d", "x y")],
        headers: &[("Host", "h")],
        payload_hash: EMPTY_SHA256,
    })?;
    assert!(
        canonical
            .request
            .starts_with("GET\n/\na=z&b=2&b=1&c%20d=x%20y\n"),
        "{}",
        canonical.request
    );
    Ok(())
}
