//! Canary credentials through every scheme, every step and every error: neither the secret
//! nor the key id may appear in any `Debug` or `Display` output, and the secret in no header.

use balances_signing::{
    Attempt, Credentials, Nonce, Scheme, SigningError, SigningRequest, SigningTime, aliyun,
    baiducloud, tencentcloud, volcengine,
};
use secrecy::SecretString;

const KEY_ID: &str = "CANARYKEYID7f3a9c";
const SECRET: &str = "CANARY-SECRET-5d1e8b";

fn credentials() -> Credentials {
    Credentials::new(SecretString::from(KEY_ID), SecretString::from(SECRET))
        .expect("canary credentials are valid")
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    assert!(!text.contains(KEY_ID), "{what} shows the key id: {text}");
}

fn schemes() -> [Scheme; 4] {
    [
        Scheme::Aliyun,
        Scheme::TencentCloud {
            service: "billing".into(),
        },
        Scheme::Volcengine {
            region: "cn-beijing".into(),
            service: "billing".into(),
        },
        Scheme::BaiduCloud {
            expiration_seconds: baiducloud::DEFAULT_EXPIRATION_SECONDS,
        },
    ]
}

/// A request every scheme accepts.
fn request() -> SigningRequest {
    SigningRequest::new("POST", "billing.example", "/")
        .header("Content-Type", "application/json")
        .header("x-acs-action", "QueryAccountBalance")
        .header("x-acs-version", "2017-12-14")
        .body("{}")
}

#[test]
fn credentials_redact_both_halves() {
    assert_clean("Credentials", &format!("{:?}", credentials()));
    assert_clean("Credentials (alternate)", &format!("{:#?}", credentials()));
}

#[test]
fn signed_requests_show_no_credential() -> Result<(), SigningError> {
    let attempt = Attempt {
        time: SigningTime::from_unix_seconds(1_700_000_000)?,
        nonce: Nonce::random(),
    };
    let credentials = credentials();
    let request = request();
    for scheme in schemes() {
        let headers = scheme.sign(&request, &credentials, &attempt)?;
        assert_clean("headers", &format!("{headers:?}"));
        assert!(headers["authorization"].is_sensitive(), "{scheme:?}");
        for value in headers.values() {
            let text = value.to_str().unwrap_or_default();
            assert!(!text.contains(SECRET), "{scheme:?} sends the secret");
        }
        assert_clean("scheme", &format!("{scheme:?}"));
    }
    let aliyun = aliyun::sign(&request, &credentials, &attempt)?;
    assert_clean("aliyun::Signed", &format!("{aliyun:?}"));
    let tencent = tencentcloud::sign(&request, &credentials, attempt.time, "billing")?;
    assert_clean("tencentcloud::Signed", &format!("{tencent:?}"));
    assert_clean("DerivedKeys", &format!("{:?}", tencent.keys));
    let scope = volcengine::Scope {
        region: "cn-beijing",
        service: "billing",
    };
    let volc = volcengine::sign(&request, &credentials, attempt.time, scope)?;
    assert_clean("volcengine::Signed", &format!("{volc:?}"));
    assert_eq!(format!("{:?}", volc.signing_key), "SigningKey([REDACTED])");
    let baidu = baiducloud::sign(&request, &credentials, attempt.time, 1800)?;
    assert_clean("baiducloud::Signed", &format!("{baidu:?}"));
    assert_clean("baidu signing key", &format!("{:?}", baidu.signing_key));
    Ok(())
}

#[test]
fn errors_show_no_credential() -> Result<(), SigningError> {
    let credentials = credentials();
    let attempt = Attempt::fresh()?;
    let mut errors: Vec<SigningError> = vec![
        // Credentials that cannot be used: the rejected value never enters the error.
        Credentials::new(
            SecretString::from(format!("{KEY_ID}/{SECRET}")),
            SecretString::from(SECRET),
        )
        .expect_err("a key id with '/' is refused"),
        Credentials::new(SecretString::from(KEY_ID), SecretString::from(""))
            .expect_err("an empty secret is refused"),
        SigningTime::from_unix_seconds(-1).expect_err("1969 is refused"),
        Nonce::new(format!("{SECRET} x")).expect_err("a nonce with a space is refused"),
    ];
    let bad_requests = [
        SigningRequest::new("", "h", "/"),
        SigningRequest::new("POST", "", "/"),
        SigningRequest::new("POST", "h", "x"),
        request().header("bad name", SECRET),
        request().header("x-bad", format!("{SECRET}\n")),
        request().header("Host", SECRET),
        request().header("content-type", SECRET),
        SigningRequest::new("POST", "h", "/"),
    ];
    for scheme in schemes() {
        for bad in &bad_requests {
            if let Err(error) = scheme.sign(bad, &credentials, &attempt) {
                errors.push(error);
            }
        }
    }
    errors.push(
        Scheme::Volcengine {
            region: format!("{SECRET}.x"),
            service: "billing".into(),
        }
        .sign(&request(), &credentials, &attempt)
        .expect_err("a region with a character outside [A-Za-z0-9_-] is refused"),
    );
    assert!(errors.len() > 20, "every scheme refused the bad requests");
    for error in &errors {
        assert_clean("error (Display)", &error.to_string());
        assert_clean("error (Debug)", &format!("{error:?}"));
    }
    Ok(())
}
