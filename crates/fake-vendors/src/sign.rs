//! EIOTClub's request signature, written independently of the client's signer so it can serve
//! as a test oracle for it.
//!
//! The algorithm is the one of the vendor's PHP SDK (`Signer.php`):
//!
//! 1. take every parameter except `sign`, skipping null, empty-string and empty-array values
//!    (an empty JSON object is an empty array to PHP, so it is skipped too); booleans become
//!    `1`/`0`, other scalars their string form (numbers exactly as written in the JSON), nested
//!    values compact JSON;
//! 2. sort by parameter name in byte order;
//! 3. join as `key=value&` for each, then append `secret=<secret>`;
//! 4. SHA-1 of that string, hex, upper-case.

use std::borrow::Cow;

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// The string that is hashed: `k1=v1&k2=v2&…&secret=<secret>`.
///
/// Contains the secret: never log it.
pub fn string_to_sign(params: &Map<String, Value>, secret: &str) -> String {
    let mut pairs: Vec<(&str, Cow<'_, str>)> = params
        .iter()
        .filter(|(key, _)| key.as_str() != "sign")
        .filter_map(|(key, value)| signed_value(value).map(|v| (key.as_str(), v)))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::with_capacity(64 + secret.len());
    for (key, value) in pairs {
        out.push_str(key);
        out.push('=');
        out.push_str(&value);
        out.push('&');
    }
    out.push_str("secret=");
    out.push_str(secret);
    out
}

/// The signature: upper-case hex SHA-1 of [`string_to_sign`].
pub fn sign(params: &Map<String, Value>, secret: &str) -> String {
    let digest = Sha1::digest(string_to_sign(params, secret).as_bytes());
    hex::encode_upper(digest)
}

/// Whether `params["sign"]` is a string equal to [`sign`]`(params, secret)` (exact, upper-case).
pub fn verify(params: &Map<String, Value>, secret: &str) -> bool {
    match params.get("sign") {
        Some(Value::String(given)) => {
            let expected = sign(params, secret);
            // Constant-time-ish comparison is not needed in a fake, but costs nothing.
            given.len() == expected.len()
                && given
                    .bytes()
                    .zip(expected.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        }
        _ => false,
    }
}

/// A complete, signed request body: `appkey`, `timestamp`, `nonce`, every `extra` parameter,
/// and `sign`. Handy for tests that talk to the fake server directly.
pub fn signed_body(
    appkey: &str,
    secret: &str,
    timestamp: i64,
    nonce: u32,
    extra: &Map<String, Value>,
) -> Map<String, Value> {
    let mut params = extra.clone();
    params.insert("appkey".into(), Value::String(appkey.into()));
    params.insert("timestamp".into(), Value::from(timestamp));
    params.insert("nonce".into(), Value::from(nonce));
    let signature = sign(&params, secret);
    params.insert("sign".into(), Value::String(signature));
    params
}

/// How a parameter's value enters the signed string, or `None` when it is skipped.
fn signed_value(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "1" } else { "0" })),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Array(a) if a.is_empty() => None,
        Value::Object(o) if o.is_empty() => None,
        nested => Some(Cow::Owned(nested.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test fixtures are objects"),
        }
    }

    #[test]
    fn published_test_vector() {
        let p = params(json!({
            "appkey": "000001",
            "timestamp": 1556595508,
            "nonce": 24523,
            "userName": "wx",
            "age": 24,
            "sex": 1,
        }));
        assert_eq!(
            string_to_sign(&p, "a1b1c1d1"),
            "age=24&appkey=000001&nonce=24523&sex=1&timestamp=1556595508&userName=wx&secret=a1b1c1d1"
        );
        assert_eq!(
            sign(&p, "a1b1c1d1"),
            "963A56BAEBED746F2746E4D9B3B77BE0F2E171E7"
        );
    }

    #[test]
    fn test_vector_with_string_scalars_signs_the_same() {
        let p = params(json!({
            "appkey": "000001",
            "timestamp": "1556595508",
            "nonce": "24523",
            "userName": "wx",
            "age": "24",
            "sex": "1",
            "sign": "ignored",
        }));
        assert_eq!(
            sign(&p, "a1b1c1d1"),
            "963A56BAEBED746F2746E4D9B3B77BE0F2E171E7"
        );
    }

    #[test]
    fn skips_empty_values_and_maps_booleans_and_nested() {
        let p = params(json!({
            "b": true,
            "a": false,
            "empty": "",
            "none": null,
            "list": [],
            "obj": {},
            "nested": [1, {"x": "y"}],
            "Z": 5,
        }));
        // Byte order: upper-case before lower-case.
        assert_eq!(
            string_to_sign(&p, "s"),
            "Z=5&a=0&b=1&nested=[1,{\"x\":\"y\"}]&secret=s"
        );
    }

    #[test]
    fn operator_is_signed_when_sent() {
        let without = params(json!({"appkey": "k", "timestamp": 1, "nonce": 10000}));
        let mut with = without.clone();
        with.insert("operator".into(), json!(5));
        assert_ne!(sign(&without, "s"), sign(&with, "s"));
        assert!(string_to_sign(&with, "s").contains("operator=5&"));
    }

    #[test]
    fn verify_accepts_signed_body_and_rejects_tampering() {
        let body = signed_body("app", "secret", 1_700_000_000, 12345, &Map::new());
        assert!(verify(&body, "secret"));
        assert!(!verify(&body, "other"));
        let mut tampered = body.clone();
        tampered.insert("nonce".into(), json!(12346));
        assert!(!verify(&tampered, "secret"));
        let mut lower = body.clone();
        let lowered = body["sign"].as_str().map(str::to_ascii_lowercase);
        lower.insert("sign".into(), json!(lowered));
        assert!(!verify(&lower, "secret"));
    }
}
