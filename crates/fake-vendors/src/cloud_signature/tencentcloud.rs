//! Tencent Cloud `TC3-HMAC-SHA256`, verified as "签名方法 v3" describes it
//! (`tencentcloud/examples.md` §2): `Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request, SignedHeaders=<names>, Signature=<hex>`;
//! header names and values lowercased in the canonical request, the query empty for POST;
//! the key derived from `"TC3" + SecretKey` through the date, the service and
//! `tc3_request`. `content-type` and `host` must be signed; the scope's date must be the UTC
//! date of `X-TC-Timestamp`, which must be within five minutes of the server's clock.
//!
//! Refusals are API 3.0's: HTTP 200 with `{"Response": {"Error": {"Code", "Message"},
//! "RequestId"}}` and the documented common codes (§1.3).

use axum::http::{Method, StatusCode};
use chrono::DateTime;
use serde_json::json;

use super::{
    Accepted, Received, Refusal, SecretOf, authorization_fields, hmac_sha256, request_id, rfc3986,
    same, sha256_hex, signed_header_names,
};

/// "如果相差超过五分钟则必定失败" (AuthFailure.SignatureExpire).
pub(crate) const DOCUMENTED_MAX_SKEW_SECS: u64 = 5 * 60;

fn refusal(code: &'static str, message: &str) -> Refusal {
    Refusal {
        status: StatusCode::OK,
        code,
        body: json!({
            "Response": {
                "Error": {"Code": code, "Message": message},
                "RequestId": request_id(),
            }
        }),
    }
}

fn invalid_authorization() -> Refusal {
    refusal(
        "AuthFailure.InvalidAuthorization",
        "Authorization in the request header is invalid.",
    )
}

fn signature_failure() -> Refusal {
    refusal(
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
    )
}

/// Verifies `request` for `service` (`billing`) at `now` (Unix seconds).
pub(crate) fn verify(
    request: &Received<'_>,
    secret_of: SecretOf<'_>,
    service: &str,
    now: i64,
    max_skew: u64,
) -> Result<Accepted, Refusal> {
    let authorization = request
        .header("authorization")
        .ok_or_else(invalid_authorization)?;
    let rest = authorization
        .strip_prefix("TC3-HMAC-SHA256 ")
        .ok_or_else(invalid_authorization)?;
    let fields = authorization_fields(rest).ok_or_else(invalid_authorization)?;
    let scope: Vec<&str> = fields.credential.split('/').collect();
    let [secret_id, date, scope_service, "tc3_request"] = scope[..] else {
        return Err(invalid_authorization());
    };
    let names = signed_header_names(fields.signed_headers).ok_or_else(invalid_authorization)?;
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err(invalid_authorization());
    }
    let timestamp: i64 = request
        .header("x-tc-timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(invalid_authorization)?;
    let secret = secret_of(secret_id).ok_or_else(|| {
        refusal(
            "AuthFailure.SecretIdNotFound",
            "Key does not exist. Check if the key has been deleted or disabled in the console.",
        )
    })?;

    let utc_date = DateTime::from_timestamp(timestamp, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .ok_or_else(invalid_authorization)?;
    if date != utc_date || scope_service != service {
        return Err(signature_failure());
    }
    let canonical = canonical_request(request, &names).ok_or_else(signature_failure)?;
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let secret_date = hmac_sha256(format!("TC3{secret}").as_bytes(), date.as_bytes());
    let secret_service = hmac_sha256(&secret_date, service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let expected = hex::encode(hmac_sha256(&secret_signing, string_to_sign.as_bytes()));
    if !same(&expected, fields.signature) {
        return Err(signature_failure());
    }
    if timestamp.abs_diff(now) > max_skew {
        return Err(refusal(
            "AuthFailure.SignatureExpire",
            "Signature expired. Timestamp and server time cannot differ by more than five minutes.",
        ));
    }
    Ok(Accepted {
        access_key_id: secret_id.to_owned(),
    })
}

/// The canonical request of what was received, signing `names`; `None` if a signed header
/// is absent, repeated or not text.
fn canonical_request(request: &Received<'_>, names: &[&str]) -> Option<String> {
    let query = if request.method == Method::POST {
        String::new()
    } else {
        request
            .query_pairs()?
            .iter()
            .map(|(name, value)| format!("{}={}", rfc3986(name, false), rfc3986(value, false)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let mut headers = String::new();
    for name in names {
        let value = if *name == "host" {
            request.host()?
        } else {
            request.header(name)?
        };
        headers.push_str(&format!("{name}:{}\n", value.trim().to_lowercase()));
    }
    Some(format!(
        "{}\n{}\n{query}\n{headers}\n{}\n{}",
        request.method.as_str(),
        rfc3986(&request.decoded_path()?, true),
        names.join(";"),
        sha256_hex(request.body),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Wire, credentials, wire};
    use super::*;
    use balances_signing::{SigningRequest, SigningTime};

    const NOW: i64 = 1_551_113_065;
    const KEY: &str = "AKIDtest";
    const SECRET: &str = "test-secret-key";

    fn secret_of(key: &str) -> Option<String> {
        match key {
            KEY => Some(SECRET.to_owned()),
            "AKID********************************" => {
                Some("********************************".to_owned())
            }
            _ => None,
        }
    }

    fn balance_request() -> SigningRequest {
        SigningRequest::new("POST", "127.0.0.1:8080", "/tencentcloud")
            .header("Content-Type", "application/json; charset=utf-8")
            .header("X-TC-Action", "DescribeAccountBalance")
            .header("X-TC-Version", "2018-07-09")
            .body("{}")
    }

    fn signed(request: &SigningRequest, secret: &str, at: i64, service: &str) -> Wire {
        let time = SigningTime::from_unix_seconds(at).expect("time");
        let signed =
            balances_signing::tencentcloud::sign(request, &credentials(KEY, secret), time, service)
                .expect("signs");
        wire(request, &signed.headers)
    }

    fn check(wire: &Wire) -> Result<Accepted, &'static str> {
        verify(
            &wire.received(),
            &secret_of,
            "billing",
            NOW,
            DOCUMENTED_MAX_SKEW_SECS,
        )
        .map_err(|refusal| refusal.code)
    }

    #[test]
    fn accepts_what_balances_signing_signs_post_and_get() {
        assert!(check(&signed(&balance_request(), SECRET, NOW, "billing")).is_ok());
        let get = SigningRequest::new("GET", "127.0.0.1:8080", "/tencentcloud")
            .query("Limit", "10")
            .query("Name", "a b+c")
            .header("Content-Type", "application/x-www-form-urlencoded");
        assert!(check(&signed(&get, SECRET, NOW, "billing")).is_ok());
    }

    #[test]
    fn accepts_the_current_page_example_as_sent() {
        // §3.1, with the page's Authorization and headers, for service `cvm`.
        let request = SigningRequest::new("POST", "cvm.tencentcloudapi.com", "/")
            .header("Content-Type", "application/json; charset=utf-8")
            .header("X-TC-Action", "DescribeInstances")
            .header("X-TC-Version", "2017-03-12")
            .header("X-TC-Timestamp", "1551113065")
            .header("X-TC-Region", "ap-guangzhou")
            .header("Authorization", "TC3-HMAC-SHA256 Credential=AKID********************************/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f")
            .body(r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#);
        let wire = wire(&request, &axum::http::HeaderMap::new());
        let accepted = verify(
            &wire.received(),
            &secret_of,
            "cvm",
            NOW,
            DOCUMENTED_MAX_SKEW_SECS,
        );
        assert_eq!(
            accepted.map(|a| a.access_key_id).map_err(|r| r.code),
            Ok("AKID********************************".to_owned())
        );
    }

    #[test]
    fn refuses_tampering_with_the_documented_codes() {
        let mut body = signed(&balance_request(), SECRET, NOW, "billing");
        body.body = b"{\"TempCredit\":true}".to_vec();
        assert_eq!(check(&body), Err("AuthFailure.SignatureFailure"));

        let mut action = signed(&balance_request(), SECRET, NOW, "billing");
        action.set("x-tc-action", "DescribeBillList");
        assert_eq!(check(&action), Err("AuthFailure.SignatureFailure"));

        let mut timestamp = signed(&balance_request(), SECRET, NOW, "billing");
        timestamp.set("x-tc-timestamp", &(NOW + 1).to_string());
        assert_eq!(check(&timestamp), Err("AuthFailure.SignatureFailure"));

        let other_service = signed(&balance_request(), SECRET, NOW, "cvm");
        assert_eq!(check(&other_service), Err("AuthFailure.SignatureFailure"));

        let wrong_secret = signed(&balance_request(), "other", NOW, "billing");
        assert_eq!(check(&wrong_secret), Err("AuthFailure.SignatureFailure"));

        let mut unknown = signed(&balance_request(), SECRET, NOW, "billing");
        let auth = unknown.headers["authorization"]
            .to_str()
            .expect("text")
            .replace(KEY, "AKIDnobody");
        unknown.set("authorization", &auth);
        assert_eq!(check(&unknown), Err("AuthFailure.SecretIdNotFound"));

        let mut none = signed(&balance_request(), SECRET, NOW, "billing");
        none.headers.remove("authorization");
        assert_eq!(check(&none), Err("AuthFailure.InvalidAuthorization"));
    }

    #[test]
    fn refuses_a_timestamp_five_minutes_off() {
        let stale = signed(&balance_request(), SECRET, NOW - 301, "billing");
        assert_eq!(check(&stale), Err("AuthFailure.SignatureExpire"));
        let future = signed(&balance_request(), SECRET, NOW + 301, "billing");
        assert_eq!(check(&future), Err("AuthFailure.SignatureExpire"));
        assert!(check(&signed(&balance_request(), SECRET, NOW - 299, "billing")).is_ok());
    }

    #[test]
    fn refusals_carry_the_api_3_envelope_with_http_200() {
        let stale = signed(&balance_request(), SECRET, NOW - 3600, "billing");
        let refusal = verify(
            &stale.received(),
            &secret_of,
            "billing",
            NOW,
            DOCUMENTED_MAX_SKEW_SECS,
        )
        .expect_err("stale");
        assert_eq!(refusal.status, StatusCode::OK);
        assert_eq!(
            refusal.body["Response"]["Error"]["Code"],
            "AuthFailure.SignatureExpire"
        );
        assert!(refusal.body["Response"]["RequestId"].is_string());
    }
}
