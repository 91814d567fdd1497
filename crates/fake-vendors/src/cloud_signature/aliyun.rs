//! Alibaba Cloud `ACS3-HMAC-SHA256`, verified as the V3 page describes it
//! (`aliyun/examples.md` §3): `Authorization: ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<names>,Signature=<hex>`;
//! the canonical request `METHOD\n/path\nsorted encoded query\nname:value\n…\nnames\npayload hash`;
//! the string to sign `ACS3-HMAC-SHA256\n<hex SHA-256 of it>`; the signature its HMAC-SHA256
//! under the raw secret. Every `x-acs-*` header sent, and `host`, must be signed;
//! `x-acs-date` must be within 15 minutes of the server's clock; a nonce is accepted once.
//!
//! Refusals use the gateway envelope `{"RequestId", "HostId", "Code", "Message"}`. The codes
//! are those the folder lists for signatures and keys (§1.3); their HTTP statuses and
//! messages are not on a vendor page: 404 for an unknown key and 400 otherwise, with the
//! wording commonly reported, are this fake's choice.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde_json::json;

use super::{
    Accepted, Received, Refusal, SecretOf, authorization_fields, hmac_sha256, request_id, rfc3986,
    same, sha256_hex, signed_header_names,
};

/// "The timestamp must be within 15 minutes before the request is sent" (V3 page).
pub(crate) const DOCUMENTED_MAX_SKEW_SECS: u64 = 15 * 60;

/// The nonces seen per key, each remembered for as long as its timestamp is acceptable.
#[derive(Debug, Default)]
pub(crate) struct NonceLedger {
    seen: HashMap<(String, String), i64>,
}

impl NonceLedger {
    /// Records (key, nonce); `false` if it was already used.
    fn first_use(&mut self, key: &str, nonce: &str, now: i64, max_skew: u64) -> bool {
        let horizon = now.saturating_sub(i64::try_from(max_skew).unwrap_or(i64::MAX));
        self.seen.retain(|_, at| *at >= horizon);
        self.seen
            .insert((key.to_owned(), nonce.to_owned()), now)
            .is_none()
    }
}

fn refusal(status: StatusCode, code: &'static str, message: &str) -> Refusal {
    Refusal {
        status,
        code,
        body: json!({
            "RequestId": request_id(),
            "HostId": "business.aliyuncs.com",
            "Code": code,
            "Message": message,
        }),
    }
}

fn incomplete(what: &str) -> Refusal {
    refusal(
        StatusCode::BAD_REQUEST,
        "IncompleteSignature",
        &format!("The request signature does not conform to Aliyun standards: {what}."),
    )
}

fn mismatch() -> Refusal {
    refusal(
        StatusCode::BAD_REQUEST,
        "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation.",
    )
}

/// Verifies `request` at `now` (Unix seconds).
pub(crate) fn verify(
    request: &Received<'_>,
    secret_of: SecretOf<'_>,
    now: i64,
    max_skew: u64,
    nonces: &mut NonceLedger,
) -> Result<Accepted, Refusal> {
    let authorization = request
        .header("authorization")
        .ok_or_else(|| incomplete("no Authorization header"))?;
    let rest = authorization
        .strip_prefix("ACS3-HMAC-SHA256 ")
        .ok_or_else(|| incomplete("the algorithm is not ACS3-HMAC-SHA256"))?;
    let fields = authorization_fields(rest).ok_or_else(|| incomplete("malformed Authorization"))?;
    let names = signed_header_names(fields.signed_headers)
        .ok_or_else(|| incomplete("malformed SignedHeaders"))?;
    for required in [
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        if request.headers.get(required).is_none() && required != "host" {
            return Err(incomplete(&format!("missing header {required}")));
        }
        if !names.contains(&required) {
            return Err(incomplete(&format!("{required} is not signed")));
        }
    }
    if let Some(unsigned) = request
        .headers
        .keys()
        .map(|name| name.as_str())
        .find(|name| name.starts_with("x-acs-") && !names.contains(name))
    {
        return Err(incomplete(&format!("{unsigned} is not signed")));
    }
    let secret = secret_of(fields.credential).ok_or_else(|| {
        refusal(
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "The specified Access Key ID does not exist.",
        )
    })?;

    let payload_hash = sha256_hex(request.body);
    if request.header("x-acs-content-sha256") != Some(payload_hash.as_str()) {
        return Err(mismatch());
    }
    let canonical = canonical_request(request, &names, &payload_hash)
        .ok_or_else(|| incomplete("a signed header is missing or unreadable"))?;
    let string_to_sign = format!("ACS3-HMAC-SHA256\n{}", sha256_hex(canonical.as_bytes()));
    let expected = hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    if !same(&expected, fields.signature) {
        return Err(mismatch());
    }

    let date = request.header("x-acs-date").unwrap_or_default();
    let signed_at = NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%SZ")
        .map_err(|_| {
            refusal(
                StatusCode::BAD_REQUEST,
                "IllegalTimestamp",
                "The input parameter \"Timestamp\" that is mandatory for processing this request is not supplied or is not in the format yyyy-MM-ddTHH:mm:ssZ.",
            )
        })?
        .and_utc()
        .timestamp();
    if signed_at.abs_diff(now) > max_skew {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    let nonce = request.header("x-acs-signature-nonce").unwrap_or_default();
    if !nonces.first_use(fields.credential, nonce, now, max_skew) {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(Accepted {
        access_key_id: fields.credential.to_owned(),
    })
}

/// The canonical request of what was received, signing `names`; `None` if a signed header
/// is absent or not text.
fn canonical_request(request: &Received<'_>, names: &[&str], payload_hash: &str) -> Option<String> {
    let mut query: Vec<(String, String)> = request
        .query_pairs()?
        .iter()
        .map(|(name, value)| (rfc3986(name, false), rfc3986(value, false)))
        .collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let mut headers = String::new();
    for name in names {
        let mut values: Vec<&str> = if *name == "host" {
            vec![request.host()?]
        } else {
            request.header_values(name)?
        };
        if values.is_empty() {
            return None;
        }
        values.iter_mut().for_each(|v| *v = v.trim());
        values.sort_unstable();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
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
    use balances_signing::{Attempt, Nonce, SigningRequest, SigningTime};

    const NOW: i64 = 1_698_315_752; // 2023-10-26T10:22:32Z, the V3 page's example time
    const KEY: &str = "LTAI-test-key";
    const SECRET: &str = "test-secret";

    fn secret_of(key: &str) -> Option<String> {
        match key {
            KEY => Some(SECRET.to_owned()),
            "YourAccessKeyId" => Some("YourAccessKeySecret".to_owned()),
            _ => None,
        }
    }

    fn balance_request() -> SigningRequest {
        SigningRequest::new("POST", "127.0.0.1:8080", "/aliyun")
            .query("RegionId", "cn hangzhou")
            .header("x-acs-action", "QueryAccountBalance")
            .header("x-acs-version", "2017-12-14")
            .header("content-type", "application/json")
            .body("{}")
    }

    fn signed(request: &SigningRequest, secret: &str, at: i64, nonce: &str) -> Wire {
        let attempt = Attempt {
            time: SigningTime::from_unix_seconds(at).expect("time"),
            nonce: Nonce::new(nonce).expect("nonce"),
        };
        let signed = balances_signing::aliyun::sign(request, &credentials(KEY, secret), &attempt)
            .expect("signs");
        wire(request, &signed.headers)
    }

    fn check(wire: &Wire, ledger: &mut NonceLedger) -> Result<Accepted, &'static str> {
        verify(
            &wire.received(),
            &secret_of,
            NOW,
            DOCUMENTED_MAX_SKEW_SECS,
            ledger,
        )
        .map_err(|refusal| refusal.code)
    }

    #[test]
    fn accepts_what_balances_signing_signs() {
        let wire = signed(&balance_request(), SECRET, NOW, "n-1");
        assert_eq!(
            check(&wire, &mut NonceLedger::default()),
            Ok(Accepted {
                access_key_id: KEY.into()
            })
        );
    }

    #[test]
    fn accepts_the_v3_page_example_as_sent() {
        // §3.1: the request the page signed (fixed date and nonce), unsigned headers too.
        let request = SigningRequest::new("POST", "ecs.cn-shanghai.aliyuncs.com", "/")
            .query("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd")
            .query("RegionId", "cn-shanghai")
            .header("x-acs-action", "RunInstances")
            .header("x-acs-version", "2014-05-26")
            .header("x-acs-date", "2023-10-26T10:22:32Z")
            .header("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d")
            .header(
                "x-acs-content-sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            )
            .header("accept", "application/json")
            .header(
                "authorization",
                "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
            );
        let wire = wire(&request, &axum::http::HeaderMap::new());
        assert_eq!(
            check(&wire, &mut NonceLedger::default()).map(|a| a.access_key_id),
            Ok("YourAccessKeyId".to_owned())
        );
    }

    #[test]
    fn refuses_tampering_with_the_documented_codes() {
        let good = signed(&balance_request(), SECRET, NOW, "n-1");
        let ledger = &mut NonceLedger::default();

        let mut body = signed(&balance_request(), SECRET, NOW, "n-2");
        body.body = b"{\"x\":1}".to_vec();
        assert_eq!(check(&body, ledger), Err("SignatureDoesNotMatch"));

        let mut action = signed(&balance_request(), SECRET, NOW, "n-3");
        action.set("x-acs-action", "QueryAccountTransactions");
        assert_eq!(check(&action, ledger), Err("SignatureDoesNotMatch"));

        let mut query = signed(&balance_request(), SECRET, NOW, "n-4");
        query.uri = "/aliyun?RegionId=cn-beijing".parse().expect("uri");
        assert_eq!(check(&query, ledger), Err("SignatureDoesNotMatch"));

        let wrong_secret = signed(&balance_request(), "other-secret", NOW, "n-5");
        assert_eq!(check(&wrong_secret, ledger), Err("SignatureDoesNotMatch"));

        let mut extra = signed(&balance_request(), SECRET, NOW, "n-6");
        extra.set("x-acs-extra", "unsigned");
        assert_eq!(check(&extra, ledger), Err("IncompleteSignature"));

        let mut none = good;
        none.headers.remove("authorization");
        assert_eq!(check(&none, ledger), Err("IncompleteSignature"));

        let unknown = {
            let mut w = signed(&balance_request(), SECRET, NOW, "n-7");
            let auth = w.headers["authorization"]
                .to_str()
                .expect("text")
                .replace(KEY, "LTAI-nobody");
            w.set("authorization", &auth);
            w
        };
        assert_eq!(check(&unknown, ledger), Err("InvalidAccessKeyId.NotFound"));
    }

    #[test]
    fn refuses_stale_or_future_timestamps_and_replayed_nonces() {
        let ledger = &mut NonceLedger::default();
        let stale = signed(&balance_request(), SECRET, NOW - 16 * 60, "n-1");
        assert_eq!(check(&stale, ledger), Err("InvalidTimeStamp.Expired"));
        let future = signed(&balance_request(), SECRET, NOW + 16 * 60, "n-2");
        assert_eq!(check(&future, ledger), Err("InvalidTimeStamp.Expired"));
        let skewed_but_fine = signed(&balance_request(), SECRET, NOW - 14 * 60, "n-3");
        assert!(check(&skewed_but_fine, ledger).is_ok());
        let replay = signed(&balance_request(), SECRET, NOW, "n-3");
        assert_eq!(check(&replay, ledger), Err("SignatureNonceUsed"));
    }

    #[test]
    fn refusals_carry_the_gateway_envelope() {
        let mut wire = signed(&balance_request(), SECRET, NOW, "n-1");
        wire.body = b"tampered".to_vec();
        let refusal = verify(
            &wire.received(),
            &secret_of,
            NOW,
            DOCUMENTED_MAX_SKEW_SECS,
            &mut NonceLedger::default(),
        )
        .expect_err("tampered");
        assert_eq!(refusal.status, StatusCode::BAD_REQUEST);
        assert_eq!(refusal.body["Code"], "SignatureDoesNotMatch");
        for field in ["RequestId", "HostId", "Message"] {
            assert!(refusal.body[field].is_string(), "{field}");
        }
        assert!(!refusal.body.to_string().contains(SECRET));
    }
}
