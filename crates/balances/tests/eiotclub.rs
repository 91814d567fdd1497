//! EIOTClub against a local mock: the envelope, the signed body, fresh signatures on retry.

mod common;

use balances::eiotclub::sign;
use balances::{Account, Amount, Balance, Error, ErrorKind, SecretString};
use common::*;
use serde_json::{Map, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[path = "support/accounts.rs"]
mod accounts;

use accounts::{eiotclub_account, vendor};

const APPKEY: &str = "000001";
const SECRET: &str = "a1b1c1d1";

fn account(server: &MockServer) -> Account {
    eiotclub_account("iot", APPKEY, SECRET)
        .with_base_url(&server.uri())
        .expect("loopback URL")
}

async fn serve(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/api/v3/agent/balance"))
        .respond_with(response)
        .mount(server)
        .await;
}

/// The JSON bodies the server received, in order.
async fn bodies(server: &MockServer) -> Vec<Map<String, Value>> {
    server
        .received_requests()
        .await
        .expect("recording on")
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON object body"))
        .collect()
}

/// Asserts a body is what the vendor expects and its signature verifies with the secret.
fn assert_signed(body: &Map<String, Value>) {
    let mut keys: Vec<_> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["appkey", "nonce", "sign", "timestamp"]);
    assert_eq!(body["appkey"], APPKEY);
    let timestamp = body["timestamp"].as_i64().expect("integer timestamp");
    assert_eq!(timestamp.to_string().len(), 10, "Unix seconds, 10 digits");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after epoch")
        .as_secs() as i64;
    assert!((now - timestamp).abs() < 60, "fresh timestamp");
    let nonce = body["nonce"].as_i64().expect("integer nonce");
    assert!((10_000..=99_999).contains(&nonce), "nonce {nonce}");
    // Recompute the signature independently of the request: the canonical string by
    // hand, then the public signer.
    let canonical = format!("appkey={APPKEY}&nonce={nonce}&timestamp={timestamp}&secret={SECRET}");
    let expected = {
        use sha1::Digest;
        hex::encode_upper(sha1::Sha1::digest(canonical.as_bytes()))
    };
    assert_eq!(body["sign"], expected.as_str());
    assert_eq!(sign(body, &SecretString::from(SECRET)), expected);
}

#[tokio::test]
async fn documented_envelope() {
    let server = MockServer::start().await;
    serve(&server, json(200, EIOTCLUB_EXAMPLE)).await;
    let balance = client(1).fetch(&account(&server)).await.expect("balance");
    assert_eq!(
        balance,
        Balance::new(
            "iot",
            vendor("eiotclub"),
            None,
            vec![Amount::total("USD", dec("0.00"))]
        )
        .expect("one currency")
    );
    assert_eq!(
        serde_json::to_string(&balance).expect("serializes"),
        r#"{"account":"iot","vendor":"eiotclub","available":null,"amounts":[{"currency":"USD","total":"0.00","granted":null,"topped_up":null,"native":null}]}"#
    );
}

#[tokio::test]
async fn request_is_a_signed_post() {
    let server = MockServer::start().await;
    serve(&server, json(200, EIOTCLUB_EXAMPLE)).await;
    client(1).fetch(&account(&server)).await.expect("balance");
    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method.as_str(), "POST");
    assert_eq!(requests[0].url.path(), "/api/v3/agent/balance");
    assert_eq!(
        requests[0]
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    // No header auth, and the secret never travels.
    assert!(requests[0].headers.get("authorization").is_none());
    assert!(!String::from_utf8_lossy(&requests[0].body).contains(SECRET));
    assert_signed(&bodies(&server).await[0]);
}

#[tokio::test]
async fn retry_is_signed_again_with_a_new_nonce() {
    let server = MockServer::start().await;
    respond_once_then(
        &server,
        "POST",
        ResponseTemplate::new(503),
        json(200, EIOTCLUB_EXAMPLE),
    )
    .await;
    client(2)
        .fetch(&account(&server))
        .await
        .expect("second attempt");
    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert_signed(body);
    }
    assert_ne!(bodies[0]["nonce"], bodies[1]["nonce"]);
    assert_ne!(bodies[0]["sign"], bodies[1]["sign"]);
    server.verify().await;
}

#[tokio::test]
async fn non_200_code_as_string_is_a_vendor_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(
            200,
            r#"{"code":"401","message":"签名错误","data":null}"#,
        ))
        .expect(1) // a vendor error is not retried
        .mount(&server)
        .await;
    let error = client(3)
        .fetch(&account(&server))
        .await
        .expect_err("code 401");
    assert_variant!(
        error,
        Error::Vendor {
            account: String::from("iot"),
            vendor: vendor("eiotclub"),
            status: 200,
            code: String::from("401"),
            message: String::from("签名错误"),
        }
    );
}

#[tokio::test]
async fn non_200_code_as_number_is_a_vendor_error() {
    let server = MockServer::start().await;
    // PHP back ends send an empty array for "no data"; it must not hide the code.
    serve(
        &server,
        json(200, r#"{"code":10000,"message":"appkey不存在","data":[]}"#),
    )
    .await;
    let error = client(1).fetch(&account(&server)).await.expect_err("code");
    assert_variant!(
        error,
        Error::Vendor {
            account: String::from("iot"),
            vendor: vendor("eiotclub"),
            status: 200,
            code: String::from("10000"),
            message: String::from("appkey不存在"),
        }
    );
}

#[tokio::test]
async fn code_200_as_number_is_success() {
    let server = MockServer::start().await;
    serve(
        &server,
        json(
            200,
            r#"{"code":200,"message":"ok","data":{"balance":"-3.20","currency":"CNY"}}"#,
        ),
    )
    .await;
    let balance = client(1).fetch(&account(&server)).await.expect("balance");
    assert_eq!(balance.amounts(), vec![Amount::total("CNY", dec("-3.20"))]);
}

#[tokio::test]
async fn negative_zero_balance_keeps_its_sign() {
    let server = MockServer::start().await;
    serve(
        &server,
        json(
            200,
            r#"{"code":"200","message":"ok","data":{"balance":"-0.00","currency":"USD"}}"#,
        ),
    )
    .await;
    let balance = client(1).fetch(&account(&server)).await.expect("balance");
    let json = serde_json::to_value(&balance).expect("serializes");
    assert_eq!(json["amounts"][0]["total"], "-0.00");
}

#[tokio::test]
async fn code_200_without_data_is_undecodable() {
    let server = MockServer::start().await;
    serve(&server, json(200, r#"{"code":"200","message":"ok"}"#)).await;
    match client(1).fetch(&account(&server)).await {
        Err(Error::Undecodable { reason, .. }) => assert_eq!(reason, "the body has no `data`"),
        other => panic!("expected Undecodable, got {other:?}"),
    }
}

#[tokio::test]
async fn http_error_with_envelope_keeps_the_vendor_message() {
    let server = MockServer::start().await;
    serve(&server, json(400, r#"{"code":"400","message":"参数错误"}"#)).await;
    let error = client(1).fetch(&account(&server)).await.expect_err("400");
    assert_eq!(error.kind(), ErrorKind::Vendor);
    assert_eq!(
        error.to_string(),
        "iot (eiotclub): vendor error 400: 参数错误"
    );
}
