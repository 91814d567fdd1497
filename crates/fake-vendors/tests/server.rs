//! End-to-end tests of the fake vendors over real HTTP on 127.0.0.1, with reqwest.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fake_vendors::{
    AccountSeed, DeepSeekBalance, DeepSeekRow, FakeVendor, FakeVendors, FakeVendorsHandle, Fault,
    GeekAiBalance, HUGE_BODY_BYTES, RetryAfter, eiotclub_codes, sign,
};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Map, Value, json};

const DS_KEY: &str = "sk-test-deepseek";
const GK_KEY: &str = "sk-test-geekai";
const APPKEY: &str = "000001";
const SECRET: &str = "a1b1c1d1";

const DS_BODY: &str = r#"{"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"},{"currency":"USD","total_balance":"5.00","granted_balance":"0.00","topped_up_balance":"5.00"}]}"#;
const GK_BODY: &str = r#"{"balance":12345678901234567.89}"#;
const EIOT_BODY: &str =
    r#"{"code":"200","message":"操作成功","data":{"balance":"0.00","currency":"USD"}}"#;
const DS_401: &str = r#"{"error":{"message":"Authentication Fails (no such user)","type":"authentication_error","param":null,"code":"invalid_request_error"}}"#;
const GK_401: &str = r#"{"code":"unauthorized","message":"Invalid API key or token"}"#;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

async fn server() -> FakeVendorsHandle {
    FakeVendors::builder()
        .deepseek_account(
            DS_KEY,
            DeepSeekBalance::new(
                true,
                [
                    DeepSeekRow::new("CNY", "110.00", "10.00", "100.00"),
                    DeepSeekRow::new("USD", "5.00", "0.00", "5.00"),
                ],
            ),
        )
        .geekai_account(GK_KEY, "12345678901234567.89")
        .eiotclub_account(APPKEY, SECRET, "0.00", "USD")
        .start()
        .await
        .expect("server starts")
}

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("fits")
}

async fn get(h: &FakeVendorsHandle, vendor: FakeVendor, key: &str) -> reqwest::Response {
    client()
        .get(h.balance_url(vendor))
        .bearer_auth(key)
        .send()
        .await
        .expect("response")
}

async fn post_eiot(h: &FakeVendorsHandle, body: &Map<String, Value>) -> reqwest::Response {
    client()
        .post(h.balance_url(FakeVendor::Eiotclub))
        .json(body)
        .send()
        .await
        .expect("response")
}

fn signed(nonce: u32) -> Map<String, Value> {
    sign::signed_body(APPKEY, SECRET, now(), nonce, &Map::new())
}

async fn text(r: reqwest::Response) -> String {
    r.text().await.expect("body")
}

async fn envelope_code(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json envelope");
    assert_eq!(v["data"], Value::Null, "failure envelopes carry data: null");
    v["code"].clone()
}

// ---------------------------------------------------------------------------------------------
// Routes and success bodies

#[tokio::test]
async fn base_urls_share_one_listener() {
    let h = server().await;
    let addr = h.addr();
    assert!(addr.ip().is_loopback());
    assert_eq!(h.deepseek_url(), format!("http://{addr}/deepseek"));
    assert_eq!(h.geekai_url(), format!("http://{addr}/geekai/api"));
    assert_eq!(h.eiotclub_url(), format!("http://{addr}/eiotclub"));
    assert_eq!(
        h.balance_url(FakeVendor::GeekAi),
        format!("http://{addr}/geekai/api/credit/balance")
    );
    let r = client()
        .get(format!("http://{addr}/nope"))
        .send()
        .await
        .expect("response");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deepseek_success_body_is_exact() {
    let h = server().await;
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(text(r).await, DS_BODY);
    // The scheme is case-insensitive, as for the real service.
    let r = client()
        .get(h.balance_url(FakeVendor::DeepSeek))
        .header("Authorization", format!("bearer {DS_KEY}"))
        .send()
        .await
        .expect("response");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn deepseek_overdrawn_and_rotating_rows() {
    let h = FakeVendors::builder()
        .deepseek_account(
            "over",
            DeepSeekBalance::new(
                false,
                [
                    DeepSeekRow::new("CNY", "-0.00", "0.00", "-0.00"),
                    DeepSeekRow::new("USD", "-3.20", "0.00", "-3.20"),
                ],
            ),
        )
        .deepseek_account(
            "rot",
            DeepSeekBalance::new(
                true,
                [
                    DeepSeekRow::new("CNY", "1.00", "0.00", "1.00"),
                    DeepSeekRow::new("USD", "2.00", "0.00", "2.00"),
                ],
            )
            .rotating(),
        )
        .start()
        .await
        .expect("start");
    assert_eq!(
        text(get(&h, FakeVendor::DeepSeek, "over").await).await,
        r#"{"is_available":false,"balance_infos":[{"currency":"CNY","total_balance":"-0.00","granted_balance":"0.00","topped_up_balance":"-0.00"},{"currency":"USD","total_balance":"-3.20","granted_balance":"0.00","topped_up_balance":"-3.20"}]}"#
    );
    let mut firsts = Vec::new();
    for _ in 0..3 {
        let v: Value = get(&h, FakeVendor::DeepSeek, "rot")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["balance_infos"].as_array().map(Vec::len), Some(2));
        firsts.push(
            v["balance_infos"][0]["currency"]
                .as_str()
                .map(str::to_owned),
        );
    }
    assert_eq!(
        firsts,
        [Some("CNY".into()), Some("USD".into()), Some("CNY".into())]
    );
}

#[tokio::test]
async fn geekai_plain_and_wrapped_bodies_are_exact() {
    let h = server().await;
    let r = get(&h, FakeVendor::GeekAi, GK_KEY).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(text(r).await, GK_BODY);

    h.geekai(GK_KEY)
        .set_balance(GeekAiBalance::new("150").wrapped());
    assert_eq!(
        text(get(&h, FakeVendor::GeekAi, GK_KEY).await).await,
        r#"{"data":{"balance":150}}"#
    );
    // The spec's bogus `uuid` query parameter is ignored.
    let r = client()
        .get(format!("{}?uuid=x", h.balance_url(FakeVendor::GeekAi)))
        .bearer_auth(GK_KEY)
        .send()
        .await
        .expect("response");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn eiotclub_success_body_is_exact() {
    let h = server().await;
    let r = post_eiot(&h, &signed(24523)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json;charset=UTF-8");
    assert_eq!(text(r).await, EIOT_BODY);
}

// ---------------------------------------------------------------------------------------------
// Authentication

#[tokio::test]
async fn bearer_vendors_reject_unknown_and_missing_keys() {
    let h = server().await;
    for r in [
        get(&h, FakeVendor::DeepSeek, "sk-wrong").await,
        client()
            .get(h.balance_url(FakeVendor::DeepSeek))
            .send()
            .await
            .expect("response"),
        // A GeekAI key is not a DeepSeek key.
        get(&h, FakeVendor::DeepSeek, GK_KEY).await,
    ] {
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(text(r).await, DS_401);
    }
    let r = get(&h, FakeVendor::GeekAi, "sk-wrong").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(text(r).await, GK_401);
}

#[tokio::test]
async fn eiotclub_rejects_unknown_appkey_with_an_envelope() {
    let h = server().await;
    let body = sign::signed_body("999999", SECRET, now(), 12345, &Map::new());
    let r = post_eiot(&h, &body).await;
    assert_eq!(
        envelope_code(r).await,
        json!(eiotclub_codes::UNKNOWN_APPKEY)
    );
}

// ---------------------------------------------------------------------------------------------
// EIOTClub signature, timestamp, nonce, replay

#[tokio::test]
async fn eiotclub_signature_checks() {
    let h = server().await;

    // Valid, with an extra signed parameter and string-typed scalars.
    let mut extra = Map::new();
    extra.insert("operator".into(), json!(5));
    let body = sign::signed_body(APPKEY, SECRET, now(), 10000, &extra);
    assert_eq!(text(post_eiot(&h, &body).await).await, EIOT_BODY);
    let mut stringly = Map::new();
    stringly.insert("appkey".into(), json!(APPKEY));
    stringly.insert("timestamp".into(), json!(now().to_string()));
    stringly.insert("nonce".into(), json!("99999"));
    let s = sign::sign(&stringly, SECRET);
    stringly.insert("sign".into(), json!(s));
    assert_eq!(text(post_eiot(&h, &stringly).await).await, EIOT_BODY);

    // An unsigned extra parameter, a wrong secret, a lower-case signature.
    let mut tampered = signed(20000);
    tampered.insert("operator".into(), json!(5));
    assert_eq!(
        envelope_code(post_eiot(&h, &tampered).await).await,
        json!(eiotclub_codes::SIGN_ERROR)
    );
    let wrong_secret = sign::signed_body(APPKEY, "other", now(), 20001, &Map::new());
    assert_eq!(
        envelope_code(post_eiot(&h, &wrong_secret).await).await,
        json!(eiotclub_codes::SIGN_ERROR)
    );
    let mut lower = signed(20002);
    let lowered = lower["sign"].as_str().map(str::to_ascii_lowercase);
    lower.insert("sign".into(), json!(lowered));
    assert_eq!(
        envelope_code(post_eiot(&h, &lower).await).await,
        json!(eiotclub_codes::SIGN_ERROR)
    );

    // Replay of an accepted request.
    let once = signed(30000);
    assert_eq!(text(post_eiot(&h, &once).await).await, EIOT_BODY);
    assert_eq!(
        envelope_code(post_eiot(&h, &once).await).await,
        json!(eiotclub_codes::REPLAYED)
    );

    // Nonce out of range, correctly signed.
    for nonce in [9999, 100_000] {
        assert_eq!(
            envelope_code(post_eiot(&h, &signed(nonce)).await).await,
            json!(eiotclub_codes::BAD_NONCE)
        );
    }

    // Timestamps too far from now (and milliseconds instead of seconds).
    // 310, not 301: a second boundary between here and the server must not bring one inside.
    for ts in [now() - 310, now() + 310, now() * 1000] {
        let body = sign::signed_body(APPKEY, SECRET, ts, 40000, &Map::new());
        assert_eq!(
            envelope_code(post_eiot(&h, &body).await).await,
            json!(eiotclub_codes::TIMESTAMP_EXPIRED)
        );
    }

    // Missing sign, not an object.
    let mut unsigned = signed(50000);
    unsigned.remove("sign");
    assert_eq!(
        envelope_code(post_eiot(&h, &unsigned).await).await,
        json!(eiotclub_codes::PARAM_ERROR)
    );
    let r = client()
        .post(h.balance_url(FakeVendor::Eiotclub))
        .body("[1,2]")
        .send()
        .await
        .expect("response");
    assert_eq!(envelope_code(r).await, json!(eiotclub_codes::PARAM_ERROR));

    let nonces = h.eiotclub(APPKEY).nonces();
    assert_eq!(nonces.first(), Some(&10000));
    assert_eq!(h.eiotclub(APPKEY).last_nonce(), Some(50000));
}

#[tokio::test]
async fn eiotclub_faulted_attempt_still_burns_its_nonce() {
    let h = server().await;
    h.eiotclub(APPKEY).fail_next(1, Fault::server_error(500));
    let body = signed(12345);
    let r = post_eiot(&h, &body).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Retrying with the same signed body is a replay: a client must sign each attempt.
    assert_eq!(
        envelope_code(post_eiot(&h, &body).await).await,
        json!(eiotclub_codes::REPLAYED)
    );
    assert_eq!(text(post_eiot(&h, &signed(12346)).await).await, EIOT_BODY);
    assert_eq!(h.eiotclub(APPKEY).nonces(), [12345, 12345, 12346]);
}

// ---------------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn latency_delays_the_answer() {
    let h = server().await;
    h.deepseek(DS_KEY).set_latency(Duration::from_millis(150));
    let started = Instant::now();
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(text(r).await, DS_BODY);
    h.deepseek(DS_KEY).set_latency(Duration::ZERO);
    h.set_latency(Duration::from_millis(100));
    let started = Instant::now();
    get(&h, FakeVendor::GeekAi, GK_KEY).await;
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn rate_limited_sends_retry_after() {
    let h = server().await;
    h.deepseek(DS_KEY).fail_next(1, Fault::rate_limited(7));
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()[RETRY_AFTER], "7");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["type"], "rate_limit_error");

    let when = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    h.geekai(GK_KEY).fail_next(
        1,
        Fault::RateLimited {
            retry_after: Some(RetryAfter::Date(when)),
        },
    );
    let r = get(&h, FakeVendor::GeekAi, GK_KEY).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()[RETRY_AFTER], "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_eq!(
        text(r).await,
        r#"{"code":"rate_limit_exceeded","message":"Too many requests"}"#
    );

    h.eiotclub(APPKEY)
        .fail_next(1, Fault::RateLimited { retry_after: None });
    let r = post_eiot(&h, &signed(11111)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get(RETRY_AFTER).is_none());
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["code"], "429");
}

#[tokio::test]
async fn server_errors_then_success() {
    let h = server().await;
    let ds = h.deepseek(DS_KEY);
    ds.push_faults([Fault::server_error(500), Fault::server_error(503)]);
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["type"], "server_error");
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        text(r).await,
        r#"{"error":{"message":"Server overloaded, please try again later","type":"server_overloaded_error","param":null,"code":"service_unavailable"}}"#
    );
    assert_eq!(
        text(get(&h, FakeVendor::DeepSeek, DS_KEY).await).await,
        DS_BODY
    );
    assert_eq!(ds.requests(), 3);
    assert_eq!(ds.queued_faults(), 0);

    h.geekai(GK_KEY).fail_next(2, Fault::server_error(503));
    for _ in 0..2 {
        let r = get(&h, FakeVendor::GeekAi, GK_KEY).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["code"], "service_busy");
    }
    assert_eq!(
        text(get(&h, FakeVendor::GeekAi, GK_KEY).await).await,
        GK_BODY
    );

    // A steady fault stays until cleared.
    h.eiotclub(APPKEY).set_fault(Fault::server_error(500));
    for nonce in [10001, 10002] {
        let r = post_eiot(&h, &signed(nonce)).await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            text(r).await,
            r#"{"code":"500","message":"系统繁忙，请稍后再试","data":null}"#
        );
    }
    h.eiotclub(APPKEY).clear_faults();
    assert_eq!(text(post_eiot(&h, &signed(10003)).await).await, EIOT_BODY);
}

#[tokio::test]
async fn insufficient_balance_unauthorized_and_vendor_error() {
    let h = server().await;
    h.deepseek(DS_KEY)
        .push_faults([Fault::InsufficientBalance, Fault::Unauthorized]);
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert_eq!(r.status(), StatusCode::PAYMENT_REQUIRED);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["message"], "Insufficient Balance");
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(text(r).await, DS_401);

    h.geekai(GK_KEY).fail_next(1, Fault::InsufficientBalance);
    let r = get(&h, FakeVendor::GeekAi, GK_KEY).await;
    assert_eq!(r.status(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        text(r).await,
        r#"{"code":"insufficient_balance","message":"Insufficient balance"}"#
    );

    // EIOTClub's code has been seen as a JSON number.
    h.eiotclub(APPKEY).fail_next(
        1,
        Fault::VendorError {
            code: json!(10000),
            message: "系统错误".into(),
        },
    );
    let r = post_eiot(&h, &signed(10001)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        text(r).await,
        r#"{"code":10000,"message":"系统错误","data":null}"#
    );
    h.eiotclub(APPKEY).fail_next(1, Fault::InsufficientBalance);
    let r = post_eiot(&h, &signed(10002)).await;
    assert_eq!(r.status(), StatusCode::PAYMENT_REQUIRED);
}

#[tokio::test]
async fn empty_truncated_and_blank_line_bodies() {
    let h = server().await;
    let ds = h.deepseek(DS_KEY);

    ds.fail_next(1, Fault::EmptyBody);
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_LENGTH], "0");
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(text(r).await, "");

    ds.fail_next(1, Fault::TruncatedJson);
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = text(r).await;
    assert_eq!(body, DS_BODY[..DS_BODY.len() / 2]);
    assert!(serde_json::from_str::<Value>(&body).is_err());

    ds.fail_next(1, Fault::TruncatedTransfer);
    let r = get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_LENGTH], DS_BODY.len().to_string());
    assert!(r.bytes().await.is_err(), "a cut transfer is a body error");

    ds.fail_next(1, Fault::LeadingBlankLines { lines: 3 });
    let body = text(get(&h, FakeVendor::DeepSeek, DS_KEY).await).await;
    assert_eq!(body, format!("\n\n\n{DS_BODY}"));

    // Back to normal, and the server still serves this client.
    assert_eq!(
        text(get(&h, FakeVendor::DeepSeek, DS_KEY).await).await,
        DS_BODY
    );
}

#[tokio::test]
async fn html_and_wrong_content_type() {
    let h = server().await;
    h.geekai(GK_KEY)
        .push_faults([Fault::html(502), Fault::html(200), Fault::WrongContentType]);
    let r = get(&h, FakeVendor::GeekAi, GK_KEY).await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/html");
    let page = text(r).await;
    assert!(page.starts_with("<html>"), "{page}");
    assert!(page.contains("502 Bad Gateway"), "{page}");
    let r = get(&h, FakeVendor::GeekAi, GK_KEY).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/html");
    let r = get(&h, FakeVendor::GeekAi, GK_KEY).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
    assert_eq!(text(r).await, GK_BODY);
}

#[tokio::test]
async fn huge_body_is_streamed_valid_json() {
    let h = server().await;
    h.eiotclub(APPKEY).fail_next(1, Fault::huge_body());
    let r = post_eiot(&h, &signed(10001)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().get(CONTENT_LENGTH).is_none(),
        "streamed without a length"
    );
    let body = r.bytes().await.expect("body");
    assert_eq!(body.len(), HUGE_BODY_BYTES + EIOT_BODY.len());
    assert!(body[..HUGE_BODY_BYTES].iter().all(|b| *b == b' '));
    assert_eq!(&body[HUGE_BODY_BYTES..], EIOT_BODY.as_bytes());
}

#[tokio::test]
async fn dropped_connection_is_a_client_error() {
    let h = server().await;
    let c = client();
    // Warm a keep-alive connection first.
    let r = c
        .get(h.balance_url(FakeVendor::DeepSeek))
        .bearer_auth(DS_KEY)
        .send()
        .await
        .expect("response");
    assert_eq!(text(r).await, DS_BODY);

    h.deepseek(DS_KEY).fail_next(1, Fault::DropConnection);
    let started = Instant::now();
    let err = c
        .get(h.balance_url(FakeVendor::DeepSeek))
        .bearer_auth(DS_KEY)
        .send()
        .await
        .expect_err("the connection is dropped without a response");
    assert!(!err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // The same client recovers on a new connection.
    let r = c
        .get(h.balance_url(FakeVendor::DeepSeek))
        .bearer_auth(DS_KEY)
        .send()
        .await
        .expect("response");
    assert_eq!(text(r).await, DS_BODY);
    assert_eq!(h.deepseek(DS_KEY).requests(), 3);

    // Also for a POST on a fresh connection.
    h.eiotclub(APPKEY).fail_next(1, Fault::DropConnection);
    let err = client()
        .post(h.balance_url(FakeVendor::Eiotclub))
        .json(&signed(10001))
        .send()
        .await
        .expect_err("dropped");
    assert!(!err.is_timeout(), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Counters, runtime changes, presets, lifecycle

#[tokio::test]
async fn counters_count_every_attempt() {
    let h = server().await;
    get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    get(&h, FakeVendor::DeepSeek, "unknown").await;
    h.deepseek(DS_KEY).fail_next(1, Fault::server_error(500));
    get(&h, FakeVendor::DeepSeek, DS_KEY).await;
    post_eiot(&h, &signed(10001)).await;
    assert_eq!(h.deepseek(DS_KEY).requests(), 2);
    assert_eq!(h.requests(FakeVendor::DeepSeek), 3);
    assert_eq!(h.requests(FakeVendor::GeekAi), 0);
    assert_eq!(h.requests(FakeVendor::Eiotclub), 1);
    assert_eq!(h.eiotclub(APPKEY).requests(), 1);
    h.reset_counters();
    assert_eq!(h.deepseek(DS_KEY).requests(), 0);
    assert_eq!(h.requests(FakeVendor::DeepSeek), 0);
}

#[tokio::test]
async fn balances_and_accounts_change_at_runtime() {
    let h = server().await;
    h.deepseek(DS_KEY)
        .set_balance(DeepSeekBalance::cny("-1.00", "0.00", "-1.00"));
    let v: Value = get(&h, FakeVendor::DeepSeek, DS_KEY)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v["balance_infos"][0]["total_balance"], "-1.00");

    assert!(h.account(FakeVendor::GeekAi, "new-key").is_none());
    h.add_account(AccountSeed::geekai("late", "new-key", "7"));
    assert_eq!(
        text(get(&h, FakeVendor::GeekAi, "new-key").await).await,
        r#"{"balance":7}"#
    );
    let info = h.account_info("late").expect("listed");
    assert_eq!(info.vendor, FakeVendor::GeekAi);
    assert_eq!(info.base_url, h.geekai_url());
    assert!(!format!("{info:?}").contains("new-key"), "Debug redacts");
}

#[tokio::test]
async fn demo_preset_accounts_work() {
    let h = FakeVendors::demo().start().await.expect("start");
    let accounts = h.accounts();
    assert!(accounts.len() >= 5);
    for vendor in FakeVendor::ALL {
        assert!(accounts.iter().any(|a| a.vendor == vendor));
    }
    for a in &accounts {
        let r = match a.vendor {
            FakeVendor::Eiotclub => {
                let secret = a
                    .secret
                    .as_deref()
                    .expect("eiotclub accounts have a secret");
                let body = sign::signed_body(&a.credential, secret, now(), 10001, &Map::new());
                client()
                    .post(format!("{}{}", a.base_url, a.vendor.balance_path()))
                    .json(&body)
                    .send()
                    .await
                    .expect("response")
            }
            _ => client()
                .get(format!("{}{}", a.base_url, a.vendor.balance_path()))
                .bearer_auth(&a.credential)
                .send()
                .await
                .expect("response"),
        };
        let expected = if a.name == "deepseek-revoked" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(r.status(), expected, "{}", a.name);
        if a.vendor == FakeVendor::Eiotclub {
            let v: Value = r.json().await.expect("json");
            assert_eq!(v["code"], "200");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_accounts_under_concurrency() {
    let h = FakeVendors::bulk(300).start().await.expect("start");
    let accounts = h.accounts();
    assert_eq!(accounts.len(), 300);
    let c = client();
    let results = futures::future::join_all(accounts.iter().map(|a| {
        let c = c.clone();
        async move {
            let url = format!("{}{}", a.base_url, a.vendor.balance_path());
            let r = match &a.secret {
                Some(secret) => {
                    let body = sign::signed_body(&a.credential, secret, now(), 54321, &Map::new());
                    c.post(url).json(&body).send().await
                }
                None => c.get(url).bearer_auth(&a.credential).send().await,
            };
            r.map(|r| r.status())
        }
    }))
    .await;
    assert!(results.iter().all(|r| matches!(r, Ok(StatusCode::OK))));
    let total: u64 = FakeVendor::ALL.iter().map(|v| h.requests(*v)).sum();
    assert_eq!(total, 300);
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let h = server().await;
    let url = h.balance_url(FakeVendor::DeepSeek);
    h.shutdown().await;
    let err = client()
        .get(url)
        .bearer_auth(DS_KEY)
        .send()
        .await
        .expect_err("nothing listens any more");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}

/// Kills the child on drop, so a failing assertion does not leave the server running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_urls_and_serves() {
    use std::io::BufRead as _;
    let mut child = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_fake-vendors"))
            .args(["--port", "0", "--seed", "demo", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn fake-vendors"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .expect("join")
    .expect("read the summary line");
    let summary: Value = serde_json::from_str(&line).expect("one JSON line");
    let main = summary["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "deepseek-main"))
        .expect("deepseek-main listed")
        .clone();
    let base = summary["base_urls"]["deepseek"].as_str().expect("url");
    assert_eq!(main["base_url"], base);
    let key = main["credential"].as_str().expect("key");
    let r = client()
        .get(format!("{base}/user/balance"))
        .bearer_auth(key)
        .send()
        .await
        .expect("response");
    assert_eq!(r.status(), StatusCode::OK);
    drop(child);
}
