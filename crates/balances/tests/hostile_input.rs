//! Hostile input, round two: durations at the edge of the clock, a BOM before the JSON,
//! redirects to other origins, and errors that keep their cause and say which limit fired.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

#[path = "support/accounts.rs"]
mod accounts;

use accounts::{deepseek_account, vendor};

use balances::{
    Account, BalanceClient, Error, ErrorKind, RetryConfig, TimeoutConfig, TimeoutLimit,
};
use common::*;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn deepseek(server: &MockServer) -> Account {
    deepseek_account("work", "sk-hostile")
        .with_base_url(&server.uri())
        .expect("loopback URL")
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/balance"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

fn rate_limited(retry_after: &str) -> ResponseTemplate {
    ResponseTemplate::new(429).insert_header("retry-after", retry_after)
}

#[tokio::test]
async fn a_retry_after_beyond_the_clock_is_an_error_not_a_panic() {
    let server = answering(rate_limited("99999999999999999999")).await;
    let client = BalanceClient::builder()
        .retry(fast_retry(3).with_max_retry_after(Duration::MAX))
        .build()
        .expect("client");
    let error = client
        .fetch(&deepseek(&server))
        .await
        .expect_err("rate limited");
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(u64::MAX)));
}

/// A fetch under `timeout` succeeds: a limit of `Duration::MAX` is past what the clock can
/// represent, so it never fires (it used to overflow `Instant::now() + limit` and panic).
async fn fetches_within(timeout: TimeoutConfig) {
    let server = answering(json(200, DEEPSEEK_EXAMPLE)).await;
    let client = BalanceClient::builder()
        .timeout(timeout.clone())
        .build()
        .expect("client");
    client
        .fetch(&deepseek(&server))
        .await
        .unwrap_or_else(|e| panic!("{timeout:?}: {e}"));
}

#[tokio::test]
async fn a_call_limit_of_duration_max_means_no_limit() {
    fetches_within(TimeoutConfig::default().with_call(Duration::MAX)).await;
}

#[tokio::test]
async fn an_attempt_limit_of_duration_max_means_no_limit() {
    fetches_within(TimeoutConfig::default().with_attempt(Duration::MAX)).await;
}

#[tokio::test]
async fn every_limit_of_duration_max_means_no_limit() {
    fetches_within(TimeoutConfig::default().with_connect(Duration::MAX)).await;
    fetches_within(
        TimeoutConfig::default()
            .with_call(Duration::MAX)
            .with_attempt(Duration::MAX)
            .with_connect(Duration::MAX),
    )
    .await;
}

/// Durations a caller can pass: zero, tiny, ordinary, huge, the maximum, or none.
fn any_limit() -> impl Strategy<Value = Option<Duration>> {
    prop_oneof![
        Just(None),
        Just(Some(Duration::MAX)),
        Just(Some(Duration::ZERO)),
        (0u64..=2_000_000).prop_map(|n| Some(Duration::from_micros(n))),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Some(Duration::new(s, n))),
    ]
}

/// `Retry-After` values a server can send: seconds (small, huge, overflowing), HTTP dates
/// far in the past and the future, and garbage.
fn any_retry_after() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..3).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just("99999999999999999999999999999".to_owned()),
        Just("Thu, 01 Jan 1970 00:00:00 GMT".to_owned()),
        Just("Fri, 31 Dec 9999 23:59:59 GMT".to_owned()),
        Just("-1".to_owned()),
        "[ -~]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the limits, a fetch ends with a balance or a typed error.
    #[test]
    fn any_timeout_config_gives_a_typed_result(
        connect in any_limit(),
        attempt in any_limit(),
        call in any_limit(),
    ) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let server = answering(json(200, DEEPSEEK_EXAMPLE)).await;
            let timeout = TimeoutConfig::default()
                .with_connect(connect)
                .with_attempt(attempt)
                .with_call(call);
            let client = BalanceClient::builder().timeout(timeout).build().expect("client");
            match client.fetch(&deepseek(&server)).await {
                Ok(balance) => assert_eq!(balance.account(), "work"),
                Err(error) => assert_eq!(error.kind(), ErrorKind::Timeout, "{error}"),
            }
        });
    }

    /// Whatever a server says in `Retry-After`, and however long the caller allows waiting,
    /// the call ends (within its deadline) with a typed error.
    #[test]
    fn any_retry_after_gives_a_typed_result(
        retry_after in any_retry_after(),
        max_retry_after in any_limit(),
        call_millis in 1u64..300,
    ) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let server = answering(rate_limited(&retry_after)).await;
            let client = BalanceClient::builder()
                .retry(fast_retry(3).with_max_retry_after(max_retry_after.unwrap_or(Duration::MAX)))
                .timeout(TimeoutConfig::default().with_call(Duration::from_millis(call_millis)))
                .build()
                .expect("client");
            let error = client.fetch(&deepseek(&server)).await.expect_err("always 429");
            assert!(
                matches!(error.kind(), ErrorKind::RateLimited | ErrorKind::Timeout),
                "{error}"
            );
        });
    }
}

fn with_bom(body: &str) -> Vec<u8> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

#[tokio::test]
async fn a_byte_order_mark_before_the_json_is_ignored() {
    // Over the network (the path every fetch takes).
    let server = answering(
        ResponseTemplate::new(200).set_body_raw(with_bom(DEEPSEEK_EXAMPLE), "application/json"),
    )
    .await;
    let fetched = client(1).fetch(&deepseek(&server)).await.expect("decodes");
    let plain = balances::decode(vendor("deepseek"), "work", 200, DEEPSEEK_EXAMPLE.as_bytes())
        .expect("decodes");
    assert_eq!(fetched, plain);

    // Every vendor, success and error bodies: with a BOM exactly as without.
    let cases = [
        (vendor("deepseek"), 200, DEEPSEEK_EXAMPLE),
        (vendor("deepseek"), 401, DEEPSEEK_AUTH_ERROR),
        (vendor("geekai"), 200, r#"{"balance": 150}"#),
        (
            vendor("geekai"),
            200,
            r#"{"code":"unauthorized","message":"Invalid API key or token"}"#,
        ),
        (vendor("eiotclub"), 200, EIOTCLUB_EXAMPLE),
        (
            vendor("eiotclub"),
            200,
            r#"{"code":"500","message":"签名错误","data":null}"#,
        ),
    ];
    for (vendor, status, body) in cases {
        let plain = balances::decode(vendor, "work", status, body.as_bytes());
        let bom = balances::decode(vendor, "work", status, &with_bom(body));
        assert_eq!(bom, plain, "{vendor:?} {status} {body}");
        if let Err(error) = &bom {
            assert_ne!(error.kind(), ErrorKind::Undecodable, "{error}");
        }
    }
    // Only one BOM is a BOM: a second one is not JSON.
    let twice = [b"\xEF\xBB\xBF".as_slice(), &with_bom(DEEPSEEK_EXAMPLE)].concat();
    let error = balances::decode(vendor("deepseek"), "work", 200, &twice).expect_err("two BOMs");
    assert_eq!(error.kind(), ErrorKind::Undecodable);
}

/// A listener on 127.0.0.2 that answers any request with a balance and records whether it
/// was sent an `Authorization` header.
async fn other_origin() -> (String, Arc<AtomicUsize>, Arc<AtomicBool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0")
        .await
        .expect("127.0.0.2 is loopback");
    let address = listener.local_addr().expect("address");
    let requests = Arc::new(AtomicUsize::new(0));
    let saw_authorization = Arc::new(AtomicBool::new(false));
    let (count, saw) = (requests.clone(), saw_authorization.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = vec![0u8; 8192];
            let read = socket.read(&mut request).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&request[..read]).to_ascii_lowercase();
            count.fetch_add(1, Ordering::SeqCst);
            if text.contains("\r\nauthorization:") {
                saw.store(true, Ordering::SeqCst);
            }
            let body = DEEPSEEK_EXAMPLE;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (format!("http://{address}"), requests, saw_authorization)
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_refused_before_anything_is_sent_there() {
    let (elsewhere, requests, saw_authorization) = other_origin().await;
    let server = answering(ResponseTemplate::new(302).insert_header(
        "location",
        format!("{elsewhere}/user/balance?token=t0p").as_str(),
    ))
    .await;
    let error = client(1)
        .fetch(&deepseek(&server))
        .await
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Redirected);
    match &error {
        Error::Redirected { origin, .. } => assert_eq!(origin, &elsewhere),
        other => panic!("{other:?}"),
    }
    let text = error.to_string();
    assert!(text.contains(&elsewhere) && !text.contains("t0p"), "{text}");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        0,
        "nothing went to the other origin"
    );
    assert!(!saw_authorization.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed_with_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/balance"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/v2/user/balance"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/user/balance"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer sk-hostile",
        ))
        .respond_with(json(200, DEEPSEEK_EXAMPLE))
        .expect(1)
        .mount(&server)
        .await;
    client(1)
        .fetch(&deepseek(&server))
        .await
        .expect("followed within the origin");
    server.verify().await;
}

#[tokio::test]
async fn a_redirect_loop_ends_with_a_typed_error() {
    let server =
        answering(ResponseTemplate::new(302).insert_header("location", "/user/balance")).await;
    let error = client(1).fetch(&deepseek(&server)).await.expect_err("loop");
    assert!(
        matches!(error, Error::Redirected { too_many: true, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_network_error_is_the_source_of_the_transient_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let account = deepseek_account("work", "sk-hostile")
        .with_base_url(&format!("http://127.0.0.1:{port}"))
        .expect("url");
    let error = client(1).fetch(&account).await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Transient);
    let source = std::error::Error::source(&error).expect("the cause is kept");
    let cause = source
        .downcast_ref::<balances::Cause>()
        .expect("a Cause")
        .get();
    let reqwest = cause
        .downcast_ref::<reqwest::Error>()
        .expect("the reqwest error underneath");
    assert!(reqwest.is_connect(), "{reqwest:?}");
    assert!(reqwest.url().is_none(), "no URL kept");
}

#[tokio::test]
async fn a_timeout_names_the_limit_that_fired() {
    let slow = json(200, DEEPSEEK_EXAMPLE).set_delay(Duration::from_secs(10));
    let server = answering(slow).await;
    let cases = [
        (
            TimeoutConfig::default()
                .with_attempt(Duration::from_millis(100))
                .with_call(Duration::from_secs(5)),
            TimeoutLimit::Attempt,
            Duration::from_millis(100),
        ),
        (
            TimeoutConfig::default()
                .with_attempt(None)
                .with_call(Duration::from_millis(150)),
            TimeoutLimit::Call,
            Duration::from_millis(150),
        ),
    ];
    for (timeout, limit, after) in cases {
        let client = BalanceClient::builder()
            .retry(RetryConfig::disabled())
            .timeout(timeout)
            .build()
            .expect("client");
        let error = client.fetch(&deepseek(&server)).await.expect_err("slow");
        assert_variant!(
            error,
            Error::Timeout {
                account: String::from("work"),
                vendor: vendor("deepseek"),
                after: after,
                limit: limit,
            }
        );
    }
}

#[test]
fn a_request_the_escape_hatch_could_not_build_is_not_undecodable() {
    let client = client(1);
    let account = deepseek_account("work", "sk-hostile");
    let error = client.generated_error::<()>(
        &account,
        &balances::balances_runtime::Context::default(),
        balances::progenitor_client::Error::InvalidRequest("bad parameter".into()),
    );
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("bad parameter"), "{error}");
}
