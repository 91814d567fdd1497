//! Tencent Cloud `TC3-HMAC-SHA256`: every published vector of
//! `../shared/vendor-specs/tencentcloud/examples.md`, byte for byte.
//!
//! Not here: the v1 helper values of §3.3 (`Sign.sign(..., "HmacSHA1" | "HmacSHA256")`,
//! base64 HMACs of the older v1 scheme, not implemented); its multipart case (the file's
//! bytes are not published); and the "circulating variant" of §3.2, whose signature was
//! never published.

use balances_signing::{Credentials, SigningError, SigningRequest, SigningTime, tencentcloud};
use secrecy::SecretString;

fn credentials(id: &str, secret: &str) -> Credentials {
    Credentials::new(SecretString::from(id), SecretString::from(secret))
        .expect("vector credentials are valid")
}

/// The body of both page examples, as sent: the `\u` escapes are literal backslashes.
const PAGE_BODY: &str =
    r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
const PAGE_PAYLOAD_HASH: &str = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064";

fn page_request(sign_action: bool) -> SigningRequest {
    let request = SigningRequest::new("POST", "cvm.tencentcloudapi.com", "/")
        .header("Content-Type", "application/json; charset=utf-8")
        .header("X-TC-Version", "2017-03-12")
        .header("X-TC-Region", "ap-guangzhou")
        .body(PAGE_BODY);
    if sign_action {
        request.header("X-TC-Action", "DescribeInstances")
    } else {
        request
    }
}

/// §3.1, the current "签名方法 v3" page: masked credentials used as they are, `x-tc-action`
/// signed (its value lowercased), every derived key printed.
#[test]
fn current_page_example_with_x_tc_action() -> Result<(), SigningError> {
    let credentials = credentials(
        "AKID********************************",
        "********************************",
    );
    let time = SigningTime::from_unix_seconds(1_551_113_065)?;
    let signed = tencentcloud::sign(&page_request(true), &credentials, time, "cvm")?;
    assert_eq!(
        signed.canonical.request,
        format!(
            "POST
/

content-type:application/json; charset=utf-8
host:cvm.tencentcloudapi.com
x-tc-action:describeinstances

content-type;host;x-tc-action
{PAGE_PAYLOAD_HASH}"
        )
    );
    assert_eq!(signed.credential_scope, "2019-02-25/cvm/tc3_request");
    assert_eq!(
        signed.string_to_sign,
        "TC3-HMAC-SHA256
1551113065
2019-02-25/cvm/tc3_request
7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
    );
    assert_eq!(
        signed.keys.secret_date.expose_hex(),
        "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0"
    );
    assert_eq!(
        signed.keys.secret_service.expose_hex(),
        "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f"
    );
    assert_eq!(
        signed.keys.secret_signing.expose_hex(),
        "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
    );
    assert_eq!(
        signed.signature,
        "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
    );
    assert_eq!(
        signed.headers["authorization"],
        "TC3-HMAC-SHA256 Credential=AKID********************************/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
    );
    assert!(signed.headers["authorization"].is_sensitive());
    assert_eq!(signed.headers["x-tc-timestamp"], "1551113065");
    assert_eq!(signed.headers.len(), 2);
    Ok(())
}

/// §3.2, the earlier revision: example key, `content-type;host` only (the request carries no
/// `X-TC-Action` to sign here; the page sent it unsigned).
#[test]
fn earlier_page_example_with_example_key() -> Result<(), SigningError> {
    let credentials = credentials(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
    );
    let time = SigningTime::from_unix_seconds(1_551_113_065)?;
    let signed = tencentcloud::sign(&page_request(false), &credentials, time, "cvm")?;
    assert_eq!(
        signed.canonical.request,
        format!(
            "POST
/

content-type:application/json; charset=utf-8
host:cvm.tencentcloudapi.com

content-type;host
{PAGE_PAYLOAD_HASH}"
        )
    );
    assert_eq!(
        signed.string_to_sign,
        "TC3-HMAC-SHA256
1551113065
2019-02-25/cvm/tc3_request
5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
    assert_eq!(
        signed.signature,
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
    assert_eq!(
        signed.headers["authorization"],
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
    Ok(())
}

/// §3.3, `TencentCloud/tencentcloud-sdk-nodejs` `test/common/sign.test.ts`: the payload is
/// `JSON.stringify` of the parameters, for the GET case too; `X-TC-TraceId` is not signed.
#[test]
fn nodejs_sdk_unit_tests_post_and_get() -> Result<(), SigningError> {
    let credentials = credentials("test-secret-id", "test-secret-key");
    let time = SigningTime::from_unix_seconds(1_640_995_200)?; // 2022-01-01T00:00:00Z
    let body = r#"{"Action":"DescribeInstances","Version":"2017-03-12"}"#;
    let cases = [
        (
            "POST",
            "application/json",
            "96473b50fe407833672a5d6d067238d88bb44c8abcc39ef83baa3132afbfadd3",
        ),
        (
            "GET",
            "application/x-www-form-urlencoded",
            "39ce411ac32014b7d814118b33f82d3445be566f67e1f4b369ccdc3791ce9a13",
        ),
    ];
    for (method, content_type, signature) in cases {
        let request = SigningRequest::new(method, "cvm.tencentcloudapi.com", "/")
            .header("Content-Type", content_type)
            .header("X-TC-TraceId", "test-trace-id")
            .body(body);
        let signed = tencentcloud::sign(&request, &credentials, time, "cvm")?;
        assert_eq!(
            signed.headers["authorization"],
            format!(
                "TC3-HMAC-SHA256 Credential=test-secret-id/2022-01-01/cvm/tc3_request, SignedHeaders=content-type;host, Signature={signature}"
            ),
            "{method}"
        );
    }
    Ok(())
}

/// A GET's query is signed in the order sent, encoded; a POST's query never is.
#[test]
fn get_signs_its_query_in_order_and_post_does_not() -> Result<(), SigningError> {
    let parts = |method| balances_signing::CanonicalParts {
        method,
        path: "/",
        query: &[("Limit", "10"), ("Action", "Describe Instances")],
        headers: &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Host", "h"),
        ],
        payload_hash: "",
    };
    let get = tencentcloud::canonical_request(&parts("GET"))?;
    assert!(
        get.request
            .starts_with("GET\n/\nLimit=10&Action=Describe%20Instances\n")
    );
    let post = tencentcloud::canonical_request(&parts("POST"))?;
    assert!(post.request.starts_with("POST\n/\n\n"));
    Ok(())
}

/// The credential-scope date is the UTC date of the timestamp, not the local one: one
/// second before and at UTC midnight.
#[test]
fn scope_date_is_the_utc_date_of_the_timestamp() -> Result<(), SigningError> {
    let before = SigningTime::from_unix_seconds(1_640_995_199)?;
    let at = SigningTime::from_unix_seconds(1_640_995_200)?;
    assert_eq!(
        tencentcloud::credential_scope(before, "billing"),
        "2021-12-31/billing/tc3_request"
    );
    assert_eq!(
        tencentcloud::credential_scope(at, "billing"),
        "2022-01-01/billing/tc3_request"
    );
    Ok(())
}

#[test]
fn refuses_what_the_scheme_cannot_sign() -> Result<(), SigningError> {
    let credentials = credentials("id", "secret");
    let time = SigningTime::from_unix_seconds(1_640_995_200)?;
    let no_content_type = SigningRequest::new("POST", "billing.tencentcloudapi.com", "/");
    assert_eq!(
        tencentcloud::sign(&no_content_type, &credentials, time, "billing").err(),
        Some(SigningError::MissingHeader {
            name: "content-type"
        })
    );
    let twice = SigningRequest::new("POST", "billing.tencentcloudapi.com", "/")
        .header("Content-Type", "application/json")
        .header("content-type", "text/plain");
    assert_eq!(
        tencentcloud::sign(&twice, &credentials, time, "billing").err(),
        Some(SigningError::DuplicateHeader {
            name: "content-type".into()
        })
    );
    let request = SigningRequest::new("POST", "billing.tencentcloudapi.com", "/")
        .header("Content-Type", "application/json");
    assert_eq!(
        tencentcloud::sign(&request, &credentials, time, "bill/ing").err(),
        Some(SigningError::InvalidScope { part: "service" })
    );
    Ok(())
}
