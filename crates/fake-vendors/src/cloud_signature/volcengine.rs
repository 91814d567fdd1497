//! Volcengine `HMAC-SHA256`, verified as "签名方法" describes it (`volcengine/examples.md`
//! §2): `Authorization: HMAC-SHA256 Credential=<AccessKeyId>/<YYYYMMDD>/<region>/<service>/request, SignedHeaders=<names>, Signature=<hex>`;
//! the canonical query sorted by encoded name, header values trimmed with inner runs of
//! spaces collapsed; the key derived from the raw secret through the date, region, service
//! and `request`. `host` and `x-date` must be signed, and `x-content-sha256` when sent (it
//! must then match the body); the scope must match `X-Date`'s date and the server's region
//! and service; `X-Date` must be within the window of the server's clock.
//!
//! Refusals are the documented `ResponseMetadata.Error` envelope with the common codes,
//! CodeN values and HTTP statuses of the 公共错误码 list (§1.3). The list does not state the
//! clock window; 15 minutes (the query-signing `X-Expires` default) is this fake's choice.

use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::{
    Accepted, Received, Refusal, SecretOf, authorization_fields, hmac_sha256, request_id, rfc3986,
    same, sha256_hex, signed_header_names,
};

/// Not documented for header signatures; the query-signing default `X-Expires` (900 s).
pub(crate) const DEFAULT_MAX_SKEW_SECS: u64 = 15 * 60;

/// The credential scope a server expects: the billing API's is `cn-beijing` / `billing`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
}

fn refusal(
    request: &Received<'_>,
    expected: Expected<'_>,
    status: StatusCode,
    code: &'static str,
    code_n: Option<u32>,
    message: &str,
) -> Refusal {
    let query = request.query_pairs().unwrap_or_default();
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Value::Null, |(_, v)| Value::String(v.clone()))
    };
    let mut error = json!({"Code": code, "Message": message});
    if let Some(code_n) = code_n {
        error["CodeN"] = json!(code_n);
    }
    Refusal {
        status,
        code,
        body: json!({
            "ResponseMetadata": {
                "RequestId": request_id(),
                "Action": param("Action"),
                "Version": param("Version"),
                "Service": expected.service,
                "Region": expected.region,
                "Error": error,
            }
        }),
    }
}

/// Verifies `request` for `expected` at `now` (Unix seconds).
pub(crate) fn verify(
    request: &Received<'_>,
    secret_of: SecretOf<'_>,
    expected: Expected<'_>,
    now: i64,
    max_skew: u64,
) -> Result<Accepted, Refusal> {
    let missing = |what: &str| {
        refusal(
            request,
            expected,
            StatusCode::BAD_REQUEST,
            "MissingRequestInfo",
            Some(100_004),
            &format!("The request is missing {what} information."),
        )
    };
    let mismatch = || {
        refusal(
            request,
            expected,
            StatusCode::UNAUTHORIZED,
            "SignatureDoesNotMatch",
            Some(100_010),
            "The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.",
        )
    };
    let Some(authorization) = request.header("authorization") else {
        return Err(refusal(
            request,
            expected,
            StatusCode::UNAUTHORIZED,
            "MissingSignature",
            None,
            "The request is missing Signature information.",
        ));
    };
    let fields = authorization
        .strip_prefix("HMAC-SHA256 ")
        .and_then(authorization_fields)
        .ok_or_else(|| missing("Authorization"))?;
    let scope: Vec<&str> = fields.credential.split('/').collect();
    let [access_key_id, date, region, service, "request"] = scope[..] else {
        return Err(missing("Credential"));
    };
    let names =
        signed_header_names(fields.signed_headers).ok_or_else(|| missing("SignedHeaders"))?;
    let x_date = request.header("x-date").ok_or_else(|| missing("X-Date"))?;
    let secret = secret_of(access_key_id).ok_or_else(|| {
        refusal(
            request,
            expected,
            StatusCode::UNAUTHORIZED,
            "InvalidAccessKey",
            Some(100_009),
            &format!("The accesskey [{access_key_id}] included in the request is invalid."),
        )
    })?;

    let payload_hash = sha256_hex(request.body);
    let sent_hash = request.header("x-content-sha256");
    let hash_checked =
        sent_hash.is_none_or(|h| h == payload_hash && names.contains(&"x-content-sha256"));
    if !names.contains(&"host")
        || !names.contains(&"x-date")
        || !hash_checked
        || !x_date.starts_with(date)
        || region != expected.region
        || service != expected.service
    {
        return Err(mismatch());
    }
    let canonical = canonical_request(request, &names, &payload_hash).ok_or_else(mismatch)?;
    let string_to_sign = format!(
        "HMAC-SHA256\n{x_date}\n{date}/{region}/{service}/request\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let k_date = hmac_sha256(secret.as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"request");
    let expected_signature = hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    if !same(&expected_signature, fields.signature) {
        return Err(mismatch());
    }
    let stale = || {
        refusal(
            request,
            expected,
            StatusCode::BAD_REQUEST,
            "InvalidTimestamp",
            Some(100_006),
            "The Signature of the request is expired.",
        )
    };
    let signed_at = NaiveDateTime::parse_from_str(x_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| stale())?
        .and_utc()
        .timestamp();
    if signed_at.abs_diff(now) > max_skew {
        return Err(stale());
    }
    Ok(Accepted {
        access_key_id: access_key_id.to_owned(),
    })
}

/// The canonical request of what was received, signing `names`; `None` if a signed header
/// is absent, repeated or not text.
fn canonical_request(request: &Received<'_>, names: &[&str], payload_hash: &str) -> Option<String> {
    let mut query: Vec<(String, String)> = request
        .query_pairs()?
        .iter()
        .map(|(name, value)| (rfc3986(name, false), rfc3986(value, false)))
        .collect();
    query.sort_by(|a, b| a.0.cmp(&b.0));
    let query: Vec<String> = query.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let mut headers = String::new();
    for name in names {
        let value = if *name == "host" {
            request.host()?
        } else {
            request.header(name)?
        };
        let value: Vec<&str> = value.split(' ').filter(|part| !part.is_empty()).collect();
        headers.push_str(&format!("{name}:{}\n", value.join(" ")));
    }
    Some(format!(
        "{}\n{}\n{}\n{headers}\n{}\n{payload_hash}",
        request.method.as_str(),
        rfc3986(&request.decoded_path()?, true),
        query.join("&"),
        names.join(";"),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Wire, credentials, wire};
    use super::*;
    use balances_signing::{SigningRequest, SigningTime, volcengine::Scope};

    const NOW: i64 = 1_609_316_285; // 20201230T081805Z, the earlier page example's time
    const KEY: &str = "AKLTtest";
    const SECRET: &str = "dGVzdC1zZWNyZXQ=";
    const BILLING: Expected<'static> = Expected {
        region: "cn-beijing",
        service: "billing",
    };

    fn secret_of(key: &str) -> Option<String> {
        match key {
            KEY => Some(SECRET.to_owned()),
            "AKLTMjI2ODVlYzI3ZGY1NGU4ZjhjYWRjMTlmNTM5OTZkYzE" => {
                Some("TnpCak5XWXpZV1U0WkRaaE5ERmxaR0ZpTmpjeVkyUXlZek0wTWpJMU1qWQ==".to_owned())
            }
            _ => None,
        }
    }

    fn balance_request() -> SigningRequest {
        SigningRequest::new("POST", "127.0.0.1:8080", "/volcengine")
            .query("Action", "QueryBalanceAcct")
            .query("Version", "2022-01-01")
            .header("Content-Type", "application/json; charset=utf-8")
            .body("{}")
    }

    fn signed(request: &SigningRequest, secret: &str, at: i64, region: &str) -> Wire {
        let time = SigningTime::from_unix_seconds(at).expect("time");
        let scope = Scope {
            region,
            service: "billing",
        };
        let signed =
            balances_signing::volcengine::sign(request, &credentials(KEY, secret), time, scope)
                .expect("signs");
        wire(request, &signed.headers)
    }

    fn check(wire: &Wire) -> Result<Accepted, &'static str> {
        verify(
            &wire.received(),
            &secret_of,
            BILLING,
            NOW,
            DEFAULT_MAX_SKEW_SECS,
        )
        .map_err(|refusal| refusal.code)
    }

    #[test]
    fn accepts_what_balances_signing_signs_post_and_get() {
        assert!(check(&signed(&balance_request(), SECRET, NOW, "cn-beijing")).is_ok());
        let get = SigningRequest::new("GET", "127.0.0.1:8080", "/volcengine")
            .query("Version", "2022-01-01")
            .query("Action", "QueryBalanceAcct");
        assert!(check(&signed(&get, SECRET, NOW, "cn-beijing")).is_ok());
    }

    #[test]
    fn accepts_the_earlier_page_example_as_sent() {
        // §3.2, with the Authorization line of the official 公共参数 page, for `iam`.
        let request = SigningRequest::new("GET", "iam.volcengineapi.com", "/")
            .query("Action", "ListUsers")
            .query("Version", "2018-01-01")
            .query("Limit", "10")
            .query("Offset", "0")
            .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
            .header("X-Date", "20201230T081805Z")
            .header("X-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            .header("Authorization", "HMAC-SHA256 Credential=AKLTMjI2ODVlYzI3ZGY1NGU4ZjhjYWRjMTlmNTM5OTZkYzE/20201230/cn-north-1/iam/request, SignedHeaders=content-type;host;x-content-sha256;x-date, Signature=28eeabbbd726b87002e0fe58ad8c1c768e619b06e2646f35b6ad7ed029a6d8a7");
        let wire = wire(&request, &axum::http::HeaderMap::new());
        let iam = Expected {
            region: "cn-north-1",
            service: "iam",
        };
        let accepted = verify(
            &wire.received(),
            &secret_of,
            iam,
            NOW,
            DEFAULT_MAX_SKEW_SECS,
        );
        assert_eq!(
            accepted.map(|a| a.access_key_id).map_err(|r| r.code),
            Ok("AKLTMjI2ODVlYzI3ZGY1NGU4ZjhjYWRjMTlmNTM5OTZkYzE".to_owned())
        );
    }

    #[test]
    fn refuses_tampering_with_the_documented_codes() {
        let mut body = signed(&balance_request(), SECRET, NOW, "cn-beijing");
        body.body = b"{\"a\":1}".to_vec();
        assert_eq!(check(&body), Err("SignatureDoesNotMatch"));

        let mut query = signed(&balance_request(), SECRET, NOW, "cn-beijing");
        query.uri = "/volcengine?Action=QueryBalanceAcct&Version=2023-01-01"
            .parse()
            .expect("uri");
        assert_eq!(check(&query), Err("SignatureDoesNotMatch"));

        let other_region = signed(&balance_request(), SECRET, NOW, "cn-shanghai");
        assert_eq!(check(&other_region), Err("SignatureDoesNotMatch"));

        let wrong_secret = signed(&balance_request(), "b3RoZXI=", NOW, "cn-beijing");
        assert_eq!(check(&wrong_secret), Err("SignatureDoesNotMatch"));

        let mut unknown = signed(&balance_request(), SECRET, NOW, "cn-beijing");
        let auth = unknown.headers["authorization"]
            .to_str()
            .expect("text")
            .replace(KEY, "AKLTnobody");
        unknown.set("authorization", &auth);
        assert_eq!(check(&unknown), Err("InvalidAccessKey"));

        let mut no_date = signed(&balance_request(), SECRET, NOW, "cn-beijing");
        no_date.headers.remove("x-date");
        assert_eq!(check(&no_date), Err("MissingRequestInfo"));

        let mut none = signed(&balance_request(), SECRET, NOW, "cn-beijing");
        none.headers.remove("authorization");
        assert_eq!(check(&none), Err("MissingSignature"));
    }

    #[test]
    fn refuses_a_stale_or_future_x_date() {
        let stale = signed(&balance_request(), SECRET, NOW - 16 * 60, "cn-beijing");
        assert_eq!(check(&stale), Err("InvalidTimestamp"));
        let future = signed(&balance_request(), SECRET, NOW + 16 * 60, "cn-beijing");
        assert_eq!(check(&future), Err("InvalidTimestamp"));
    }

    #[test]
    fn refusals_carry_the_documented_envelope() {
        let stale = signed(&balance_request(), SECRET, NOW - 3600, "cn-beijing");
        let refusal = verify(
            &stale.received(),
            &secret_of,
            BILLING,
            NOW,
            DEFAULT_MAX_SKEW_SECS,
        )
        .expect_err("stale");
        assert_eq!(refusal.status, StatusCode::BAD_REQUEST);
        let metadata = &refusal.body["ResponseMetadata"];
        assert_eq!(metadata["Error"]["Code"], "InvalidTimestamp");
        assert_eq!(metadata["Error"]["CodeN"], 100_006);
        assert_eq!(metadata["Action"], "QueryBalanceAcct");
        assert_eq!(metadata["Service"], "billing");
        assert!(refusal.body.get("Result").is_none());
    }
}
