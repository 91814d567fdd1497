//! Alibaba Cloud `ACS3-HMAC-SHA256`: every published vector of
//! `../shared/vendor-specs/aliyun/examples.md`, byte for byte.
//!
//! Not here: §4.1, §4.2 and `Test_GetRPCSignature` of §5 are vectors of the older V2 RPC
//! scheme (HMAC-SHA1 in the query), which this crate does not implement (the V3 page
//! recommends V3, and BssOpenApi accepts it).

use balances_signing::{
    Attempt, CanonicalParts, Credentials, Nonce, SigningError, SigningRequest, SigningTime, aliyun,
};
use secrecy::SecretString;

fn credentials(id: &str, secret: &str) -> Credentials {
    Credentials::new(SecretString::from(id), SecretString::from(secret))
        .expect("vector credentials are valid")
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// §3.1, the V3 page's "Fixed parameter values" example (ECS RunInstances), through
/// `aliyun::sign` with the request as the page sends it (its unsigned `user-agent` and
/// `accept` included).
#[test]
fn v3_page_example_run_instances() -> Result<(), SigningError> {
    let request = SigningRequest::new("POST", "ecs.cn-shanghai.aliyuncs.com", "/")
        .query(
            "ImageId",
            "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
        )
        .query("RegionId", "cn-shanghai")
        .header("x-acs-action", "RunInstances")
        .header("x-acs-version", "2014-05-26")
        .header(
            "user-agent",
            "AlibabaCloud (Mac OS X; x86_64) Java/1.8.0_352-b08 tea-util/0.2.6 TeaDSL/1",
        )
        .header("accept", "application/json");
    let attempt = Attempt {
        time: SigningTime::from_unix_seconds(1_698_315_752)?, // 2023-10-26T10:22:32Z
        nonce: Nonce::new("3156853299f313e23d1673dc12e1703d")?,
    };
    let signed = aliyun::sign(
        &request,
        &credentials("YourAccessKeyId", "YourAccessKeySecret"),
        &attempt,
    )?;
    assert_eq!(
        signed.canonical.request,
        "POST
/
ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai
host:ecs.cn-shanghai.aliyuncs.com
x-acs-action:RunInstances
x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
x-acs-date:2023-10-26T10:22:32Z
x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d
x-acs-version:2014-05-26

host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        signed.string_to_sign,
        "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    );
    assert_eq!(
        signed.signature,
        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    );
    assert_eq!(
        signed.headers["authorization"],
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    );
    assert!(signed.headers["authorization"].is_sensitive());
    assert_eq!(signed.headers["x-acs-date"], "2023-10-26T10:22:32Z");
    assert_eq!(
        signed.headers["x-acs-signature-nonce"],
        "3156853299f313e23d1673dc12e1703d"
    );
    assert_eq!(signed.headers["x-acs-content-sha256"], EMPTY_SHA256);
    assert_eq!(signed.headers.len(), 4);
    Ok(())
}

/// §5, `Test_GetAuthorization` of `aliyun/darabonba-openapi-util`
/// (`golang/service/service_test.go`): empty method and path, an empty query value, two
/// header names equal but for case (values merged), a payload hash used verbatim.
#[test]
fn signing_helper_unit_test_get_authorization() -> Result<(), SigningError> {
    let payload_hash = "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23";
    let canonical = aliyun::canonical_request(&CanonicalParts {
        method: "",
        path: "",
        query: &[("test", "ok"), ("empty", "")],
        headers: &[("x-acs-test", "http"), ("x-acs-TEST", "https")],
        payload_hash,
    })?;
    assert_eq!(
        canonical.request,
        "\n/\nempty=&test=ok\nx-acs-test:http,https\n\nx-acs-test\n55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23"
    );
    // Go's map order is random: the other order merges to the same line.
    let reversed = aliyun::canonical_request(&CanonicalParts {
        method: "",
        path: "",
        query: &[("empty", ""), ("test", "ok")],
        headers: &[("x-acs-TEST", "https"), ("x-acs-test", "http")],
        payload_hash,
    })?;
    assert_eq!(reversed, canonical);
    let credentials = credentials("acesskey", "secret");
    let string_to_sign = aliyun::string_to_sign(&canonical.request);
    let signature = aliyun::signature(&credentials, &string_to_sign);
    assert_eq!(
        aliyun::authorization(&credentials, &canonical.signed_headers, &signature),
        "ACS3-HMAC-SHA256 Credential=acesskey,SignedHeaders=x-acs-test,Signature=4ab59fffe3c5738ff8a2729f90cc04fe18b02a4b15b2102cbaf92f9ff3df2ea3"
    );
    Ok(())
}

/// The balance call as the facade sends it: `QueryAccountBalance` on the China site, a JSON
/// body signed through `x-acs-content-sha256` and `content-type`.
#[test]
fn balance_request_signs_body_and_content_type() -> Result<(), SigningError> {
    let request = SigningRequest::new("POST", "business.aliyuncs.com", "/")
        .header("x-acs-action", "QueryAccountBalance")
        .header("x-acs-version", "2017-12-14")
        .header("content-type", "application/json")
        .body("{}");
    let attempt = Attempt {
        time: SigningTime::from_unix_seconds(1_698_315_752)?,
        nonce: Nonce::new("n1")?,
    };
    let signed = aliyun::sign(&request, &credentials("id", "secret"), &attempt)?;
    assert_eq!(
        signed.canonical.signed_headers,
        "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    );
    assert_eq!(
        signed.headers["x-acs-content-sha256"],
        // SHA-256 of "{}".
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert!(
        signed
            .canonical
            .request
            .ends_with("\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    );
    Ok(())
}

#[test]
fn a_fresh_attempt_signs_again_and_old_signer_headers_are_replaced() -> Result<(), SigningError> {
    let credentials = credentials("id", "secret");
    let request = SigningRequest::new("POST", "business.aliyuncs.com", "/")
        .header("x-acs-action", "QueryAccountBalance")
        .header("x-acs-version", "2017-12-14");
    let first = aliyun::sign(&request, &credentials, &Attempt::fresh()?)?;
    let second = aliyun::sign(&request, &credentials, &Attempt::fresh()?)?;
    assert_ne!(
        first.headers["x-acs-signature-nonce"],
        second.headers["x-acs-signature-nonce"]
    );
    assert_ne!(first.signature, second.signature);

    // A retried request that still carries the last attempt's headers signs the new ones.
    let mut retried = request.clone();
    for (name, value) in &first.headers {
        retried = retried.header(name.as_str(), value.to_str().unwrap_or_default());
    }
    let attempt = Attempt::fresh()?;
    assert_eq!(
        aliyun::sign(&retried, &credentials, &attempt)?.canonical,
        aliyun::sign(&request, &credentials, &attempt)?.canonical
    );
    Ok(())
}

#[test]
fn refuses_a_request_without_action_or_version() -> Result<(), SigningError> {
    let attempt = Attempt::fresh()?;
    let credentials = credentials("id", "secret");
    let no_action = SigningRequest::new("POST", "business.aliyuncs.com", "/")
        .header("x-acs-version", "2017-12-14");
    assert_eq!(
        aliyun::sign(&no_action, &credentials, &attempt).err(),
        Some(SigningError::MissingHeader {
            name: "x-acs-action"
        })
    );
    let no_version = SigningRequest::new("POST", "business.aliyuncs.com", "/")
        .header("x-acs-action", "QueryAccountBalance");
    assert_eq!(
        aliyun::sign(&no_version, &credentials, &attempt).err(),
        Some(SigningError::MissingHeader {
            name: "x-acs-version"
        })
    );
    Ok(())
}
