//! Baidu AI Cloud `bce-auth-v1`, verified as "生成认证字符串" describes it
//! (`baiducloud/examples.md` §2): `Authorization: bce-auth-v1/<ak>/<timestamp>/<expiration>/<signedHeaders>/<signature>`;
//! the signing key is the hex text of HMAC-SHA256(secret, prefix); the canonical request is
//! `METHOD\nURI\nquery\nheaders` with every name and value RFC 3986-encoded, the query's and
//! the headers' `name=value` / `name:value` strings sorted, no trailing newline. An empty
//! signed-header list means the default set (`host`, `content-length`, `content-type`,
//! `content-md5`, `x-bce-*` but `x-bce-request-id`, those present). The request is valid
//! from its timestamp for the expiration period.
//!
//! Refusals use the Finance API's body `{"code", "message", "requestId"}`.
//! `AccessDenied` (no `Authorization`, 403), `InvalidAccessKeyId` (403) and
//! `InvalidHTTPAuthHeader` (400) are on the Finance error page (§1.2);
//! `SignatureDoesNotMatch` and `RequestExpired` are the general BCE names the folder expects
//! but did not see, so their 400 status and wording are this fake's choice, as is allowing a
//! timestamp up to five minutes in the future.

use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde_json::json;

use super::{Accepted, Received, Refusal, SecretOf, hmac_sha256, request_id, rfc3986, same};

/// How far ahead of the server's clock a timestamp may be (not documented).
pub(crate) const DEFAULT_FUTURE_SKEW_SECS: u64 = 5 * 60;

fn refusal(status: StatusCode, code: &'static str, message: &str) -> Refusal {
    Refusal {
        status,
        code,
        body: json!({"code": code, "message": message, "requestId": request_id()}),
    }
}

fn invalid_header() -> Refusal {
    refusal(
        StatusCode::BAD_REQUEST,
        "InvalidHTTPAuthHeader",
        "The HTTP authorization header is invalid. Consult the service documentation for details.",
    )
}

fn mismatch() -> Refusal {
    refusal(
        StatusCode::BAD_REQUEST,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.",
    )
}

/// Verifies `request` at `now` (Unix seconds).
pub(crate) fn verify(
    request: &Received<'_>,
    secret_of: SecretOf<'_>,
    now: i64,
    future_skew: u64,
) -> Result<Accepted, Refusal> {
    let authorization = request
        .header("authorization")
        .ok_or_else(|| refusal(StatusCode::FORBIDDEN, "AccessDenied", "Access denied."))?;
    let parts: Vec<&str> = authorization.split('/').collect();
    let [
        "bce-auth-v1",
        access_key_id,
        timestamp,
        expiration,
        signed_headers,
        signature,
    ] = parts[..]
    else {
        return Err(invalid_header());
    };
    let signed_at = NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%dT%H:%M:%SZ")
        .map_err(|_| invalid_header())?
        .and_utc()
        .timestamp();
    let expiration: u32 = expiration.parse().map_err(|_| invalid_header())?;
    let names: Vec<String> = if signed_headers.is_empty() {
        default_signed_headers(request)
    } else {
        signed_headers.split(';').map(str::to_owned).collect()
    };
    let secret = secret_of(access_key_id).ok_or_else(|| {
        refusal(
            StatusCode::FORBIDDEN,
            "InvalidAccessKeyId",
            "The Access Key ID you provided does not exist in our records.",
        )
    })?;

    let prefix = format!("bce-auth-v1/{access_key_id}/{timestamp}/{expiration}");
    let signing_key = hex::encode(hmac_sha256(secret.as_bytes(), prefix.as_bytes()));
    let canonical = canonical_request(request, &names).ok_or_else(mismatch)?;
    let expected = hex::encode(hmac_sha256(signing_key.as_bytes(), canonical.as_bytes()));
    if !same(&expected, signature) {
        return Err(mismatch());
    }
    let expires_at = signed_at.saturating_add(i64::from(expiration));
    let too_early = signed_at > now.saturating_add(i64::try_from(future_skew).unwrap_or(i64::MAX));
    if now > expires_at || too_early {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "RequestExpired",
            &format!("Request has expired. Timestamp date is {timestamp}."),
        ));
    }
    Ok(Accepted {
        access_key_id: access_key_id.to_owned(),
    })
}

/// The headers present that the scheme signs when the list is left empty.
fn default_signed_headers(request: &Received<'_>) -> Vec<String> {
    let mut names: Vec<String> = request
        .headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| {
            matches!(
                name.as_str(),
                "host" | "content-length" | "content-type" | "content-md5"
            ) || (name.starts_with("x-bce-") && name != "x-bce-request-id")
        })
        .collect();
    if request.header("host").is_none() && request.host().is_some() {
        names.push("host".to_owned());
    }
    names
}

/// The canonical request of what was received, signing `names`; `None` if a signed header
/// is absent, repeated or not text.
fn canonical_request(request: &Received<'_>, names: &[String]) -> Option<String> {
    let mut query: Vec<String> = request
        .query_pairs()?
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("authorization"))
        .map(|(name, value)| format!("{}={}", rfc3986(name, false), rfc3986(value, false)))
        .collect();
    query.sort();
    let mut headers = Vec::with_capacity(names.len());
    for name in names {
        let name = name.to_ascii_lowercase();
        let value = if name == "host" {
            request.host()?
        } else {
            request.header(&name)?
        };
        headers.push(format!(
            "{}:{}",
            rfc3986(&name, false),
            rfc3986(value.trim(), false)
        ));
    }
    headers.sort();
    Some(format!(
        "{}\n{}\n{}\n{}",
        request.method.as_str(),
        rfc3986(&request.decoded_path()?, true),
        query.join("&"),
        headers.join("\n"),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Wire, credentials, wire};
    use super::*;
    use balances_signing::{SigningRequest, SigningTime, baiducloud::DEFAULT_EXPIRATION_SECONDS};

    const NOW: i64 = 1_430_123_029; // 2015-04-27T08:23:49Z, the documents' example time
    const KEY: &str = "ak-test";
    const SECRET: &str = "sk-test";

    fn secret_of(key: &str) -> Option<String> {
        match key {
            KEY => Some(SECRET.to_owned()),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" => {
                Some("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".to_owned())
            }
            _ => None,
        }
    }

    fn balance_request() -> SigningRequest {
        SigningRequest::new(
            "POST",
            "127.0.0.1:8080",
            "/baiducloud/v1/finance/cash/balance",
        )
        .header("Content-Type", "application/json; charset=utf-8")
        .body("{}")
    }

    fn signed(request: &SigningRequest, secret: &str, at: i64) -> Wire {
        let time = SigningTime::from_unix_seconds(at).expect("time");
        let signed = balances_signing::baiducloud::sign(
            request,
            &credentials(KEY, secret),
            time,
            DEFAULT_EXPIRATION_SECONDS,
        )
        .expect("signs");
        wire(request, &signed.headers)
    }

    fn check(wire: &Wire) -> Result<Accepted, &'static str> {
        verify(&wire.received(), &secret_of, NOW, DEFAULT_FUTURE_SKEW_SECS)
            .map_err(|refusal| refusal.code)
    }

    #[test]
    fn accepts_what_balances_signing_signs() {
        assert!(check(&signed(&balance_request(), SECRET, NOW)).is_ok());
        let with_query = balance_request().query("b", "2").query("a", "x y");
        assert!(check(&signed(&with_query, SECRET, NOW)).is_ok());
    }

    #[test]
    fn accepts_the_documented_example_with_its_default_header_list() {
        // §3, as the "Include the Authentication String into the Header" page sends it.
        let request = SigningRequest::new("PUT", "bj.bcebos.com", "/v1/test/myfolder/readme.txt")
            .query("partNumber", "9")
            .query("uploadId", "a44cc9bab11cbd156984767aad637851")
            .header("Authorization", "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800//d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e")
            .header("Date", "Mon, 27 Apr 2015 16:23:49 +0800")
            .header("Content-Type", "text/plain")
            .header("Content-Length", "8")
            .header("Content-Md5", "NFzcPqhviddjRNnSOGo4rw==")
            .header("x-bce-date", "2015-04-27T08:23:49Z")
            .body("12345678");
        let wire = wire(&request, &axum::http::HeaderMap::new());
        assert_eq!(
            check(&wire).map(|a| a.access_key_id),
            Ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned())
        );
    }

    #[test]
    fn refuses_tampering_with_the_documented_codes() {
        let mut content_type = signed(&balance_request(), SECRET, NOW);
        content_type.set("content-type", "text/plain");
        assert_eq!(check(&content_type), Err("SignatureDoesNotMatch"));

        let mut path = signed(&balance_request(), SECRET, NOW);
        path.uri = "/baiducloud/v1/finance/cash/other".parse().expect("uri");
        assert_eq!(check(&path), Err("SignatureDoesNotMatch"));

        let mut date = signed(&balance_request(), SECRET, NOW);
        date.set("x-bce-date", "2015-04-27T08:23:50Z");
        assert_eq!(check(&date), Err("SignatureDoesNotMatch"));

        let wrong_secret = signed(&balance_request(), "other", NOW);
        assert_eq!(check(&wrong_secret), Err("SignatureDoesNotMatch"));

        let mut unknown = signed(&balance_request(), SECRET, NOW);
        let auth = unknown.headers["authorization"]
            .to_str()
            .expect("text")
            .replace(KEY, "ak-nobody");
        unknown.set("authorization", &auth);
        assert_eq!(check(&unknown), Err("InvalidAccessKeyId"));

        let mut malformed = signed(&balance_request(), SECRET, NOW);
        malformed.set("authorization", "bce-auth-v1/ak-test/yesterday/1800//00");
        assert_eq!(check(&malformed), Err("InvalidHTTPAuthHeader"));

        let mut none = signed(&balance_request(), SECRET, NOW);
        none.headers.remove("authorization");
        assert_eq!(check(&none), Err("AccessDenied"));
    }

    #[test]
    fn refuses_an_expired_or_future_timestamp() {
        let expired = signed(&balance_request(), SECRET, NOW - 1801);
        assert_eq!(check(&expired), Err("RequestExpired"));
        assert!(check(&signed(&balance_request(), SECRET, NOW - 1799)).is_ok());
        let future = signed(&balance_request(), SECRET, NOW + 301);
        assert_eq!(check(&future), Err("RequestExpired"));
    }

    #[test]
    fn refusals_carry_the_finance_error_body() {
        let expired = signed(&balance_request(), SECRET, NOW - 7200);
        let refusal = verify(
            &expired.received(),
            &secret_of,
            NOW,
            DEFAULT_FUTURE_SKEW_SECS,
        )
        .expect_err("expired");
        assert_eq!(refusal.status, StatusCode::BAD_REQUEST);
        assert_eq!(refusal.body["code"], "RequestExpired");
        assert!(refusal.body["message"].is_string());
        assert!(refusal.body["requestId"].is_string());
    }
}
