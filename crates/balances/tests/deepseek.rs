//! DeepSeek against a local mock: the documented example, normalization, every documented
//! status, broken bodies, size cap, timeouts, retries.

mod common;

use std::time::{Duration, Instant};

#[path = "support/accounts.rs"]
mod accounts;

use accounts::{deepseek_account, vendor};

use balances::{
    Account, Amount, Balance, BalanceClient, Error, ErrorKind, RetryConfig, TimeoutConfig,
};
use common::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-key";

fn account(server: &MockServer) -> Account {
    deepseek_account("work", KEY)
        .with_base_url(&server.uri())
        .expect("loopback URL is allowed")
}

async fn serve(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/user/balance"))
        .respond_with(response)
        .mount(server)
        .await;
}

#[tokio::test]
async fn documented_example() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/balance"))
        .and(header("authorization", "Bearer sk-test-key"))
        .and(header("accept", "application/json"))
        .respond_with(json(200, DEEPSEEK_EXAMPLE))
        .expect(1)
        .mount(&server)
        .await;

    let balance = client(1).fetch(&account(&server)).await.expect("balance");
    assert_eq!(
        balance,
        Balance::new(
            "work",
            vendor("deepseek"),
            Some(true),
            vec![
                Amount::total("CNY", dec("110.00"))
                    .with_granted(dec("10.00"))
                    .with_topped_up(dec("100.00"))
            ],
        )
        .expect("one currency")
    );
    // Exact text, trailing zeros included.
    assert_eq!(
        serde_json::to_string(&balance.amounts()[0]).expect("serializes"),
        r#"{"currency":"CNY","total":"110.00","granted":"10.00","topped_up":"100.00","native":null}"#
    );
}

#[tokio::test]
async fn request_is_get_user_balance_with_bearer_header() {
    let server = MockServer::start().await;
    serve(&server, json(200, DEEPSEEK_EXAMPLE)).await;
    client(1).fetch(&account(&server)).await.expect("balance");

    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/user/balance");
    assert_eq!(request.url.query(), None);
    assert_eq!(
        request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer sk-test-key")
    );
    assert!(request.body.is_empty());
}

const CNY_THEN_USD: &str = r#"{"is_available":true,"balance_infos":[
    {"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"},
    {"currency":"USD","total_balance":"15.50","granted_balance":"0.50","topped_up_balance":"15.00"}]}"#;
const USD_THEN_CNY: &str = r#"{"is_available":true,"balance_infos":[
    {"currency":"USD","total_balance":"15.50","granted_balance":"0.50","topped_up_balance":"15.00"},
    {"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]}"#;

#[tokio::test]
async fn currency_order_does_not_change_the_output() {
    let mut outputs = Vec::new();
    for body in [CNY_THEN_USD, USD_THEN_CNY] {
        let server = MockServer::start().await;
        serve(&server, json(200, body)).await;
        let balance = client(1).fetch(&account(&server)).await.expect("balance");
        outputs.push(serde_json::to_string(&balance).expect("serializes"));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(
        outputs[0],
        r#"{"account":"work","vendor":"deepseek","available":true,"amounts":[{"currency":"CNY","total":"110.00","granted":"10.00","topped_up":"100.00","native":null},{"currency":"USD","total":"15.50","granted":"0.50","topped_up":"15.00","native":null}]}"#
    );
}

#[tokio::test]
async fn overdrawn_amounts_keep_their_sign() {
    let server = MockServer::start().await;
    serve(
        &server,
        json(
            200,
            r#"{"is_available":false,"balance_infos":[
                {"currency":"USD","total_balance":"-0.00","granted_balance":"0.00","topped_up_balance":"-0.00"},
                {"currency":"CNY","total_balance":"-12.34","granted_balance":"0.00","topped_up_balance":"-12.34"}]}"#,
        ),
    )
    .await;
    let balance = client(1).fetch(&account(&server)).await.expect("balance");
    assert_eq!(balance.available(), Some(false));
    let cny = balance.amount("CNY").expect("CNY row");
    assert_eq!(cny.total, dec("-12.34"));
    assert!(cny.total.is_sign_negative());
    let usd = balance.amount("USD").expect("USD row");
    assert!(usd.total.is_sign_negative(), "-0.00 keeps its sign");
    let json = serde_json::to_value(&balance).expect("serializes");
    assert_eq!(json["amounts"][0]["total"], "-12.34");
    assert_eq!(json["amounts"][1]["total"], "-0.00");
    assert_eq!(json["amounts"][1]["topped_up"], "-0.00");
}

#[tokio::test]
async fn keep_alive_blank_lines_before_the_body_are_fine() {
    let server = MockServer::start().await;
    serve(&server, json(200, &format!("\n\n\n{DEEPSEEK_EXAMPLE}"))).await;
    let balance = client(1).fetch(&account(&server)).await.expect("balance");
    assert_eq!(balance.amounts()[0].total, dec("110.00"));
}

#[tokio::test]
async fn duplicate_currency_is_undecodable() {
    let server = MockServer::start().await;
    serve(
        &server,
        json(
            200,
            r#"{"is_available":true,"balance_infos":[
                {"currency":"CNY","total_balance":"1.00"},{"currency":"CNY","total_balance":"2.00"}]}"#,
        ),
    )
    .await;
    match client(3).fetch(&account(&server)).await {
        Err(Error::Undecodable { status, reason, .. }) => {
            assert_eq!(status, Some(200));
            assert_eq!(reason, "the vendor reported CNY more than once");
        }
        other => panic!("expected Undecodable, got {other:?}"),
    }
    // Not retried: the same answer would come back.
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
}

#[tokio::test]
async fn row_without_currency_or_total_is_undecodable() {
    for (row, reason) in [
        (
            r#"{"total_balance":"1.00"}"#,
            "balance_infos[0] has no currency",
        ),
        (
            r#"{"currency":"USD","granted_balance":"1.00"}"#,
            "balance_infos[0] (USD) has no total_balance",
        ),
    ] {
        let server = MockServer::start().await;
        let body = format!(r#"{{"is_available":true,"balance_infos":[{row}]}}"#);
        serve(&server, json(200, &body)).await;
        match client(1).fetch(&account(&server)).await {
            Err(Error::Undecodable { reason: r, .. }) => assert_eq!(r, reason),
            other => panic!("expected Undecodable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn unauthorized_is_authentication_with_the_vendor_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(401, DEEPSEEK_AUTH_ERROR))
        .expect(1) // never retried
        .mount(&server)
        .await;
    let error = client(3).fetch(&account(&server)).await.expect_err("401");
    assert_variant!(
        error,
        Error::Authentication {
            account: String::from("work"),
            vendor: vendor("deepseek"),
            status: 401,
            message: String::from("Authentication Fails (no such user)"),
        }
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn payment_required_is_insufficient_balance_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(
            402,
            r#"{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let error = client(3).fetch(&account(&server)).await.expect_err("402");
    assert_eq!(error.kind(), ErrorKind::InsufficientBalance);
    assert_eq!(
        error.to_string(),
        "work (deepseek): insufficient balance (HTTP 402): Insufficient Balance"
    );
}

#[tokio::test]
async fn invalid_format_and_parameters_are_vendor_errors() {
    for status in [400u16, 422] {
        let server = MockServer::start().await;
        serve(
            &server,
            json(
                status,
                r#"{"error":{"message":"Invalid Parameters","type":"invalid_request_error","param":null,"code":"invalid_parameters"}}"#,
            ),
        )
        .await;
        let error = client(3).fetch(&account(&server)).await.expect_err("4xx");
        assert_variant!(
            error,
            Error::Vendor {
                account: String::from("work"),
                vendor: vendor("deepseek"),
                status: status,
                code: String::from("invalid_parameters"),
                message: String::from("Invalid Parameters"),
            }
        );
        assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
    }
}

#[tokio::test]
async fn rate_limit_waits_out_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    respond_once_then(
        &server,
        "GET",
        json(429, DEEPSEEK_AUTH_ERROR).insert_header("retry-after", "1"),
        json(200, DEEPSEEK_EXAMPLE),
    )
    .await;

    let started = Instant::now();
    let balance = client(2).fetch(&account(&server)).await.expect("balance");
    let elapsed = started.elapsed();
    assert_eq!(balance.amounts()[0].total, dec("110.00"));
    // The backoff alone would be a few milliseconds: only Retry-After explains a second.
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    server.verify().await;
}

#[tokio::test]
async fn rate_limit_reports_the_wait_when_retries_run_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .expect(3)
        .mount(&server)
        .await;
    let error = client(3).fetch(&account(&server)).await.expect_err("429");
    assert_variant!(
        error,
        Error::RateLimited {
            account: String::from("work"),
            vendor: vendor("deepseek"),
            status: 429,
            retry_after: Some(Duration::ZERO),
        }
    );
    server.verify().await;
}

#[tokio::test]
async fn rate_limit_longer_than_allowed_returns_at_once_with_the_wait() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let error = client(5).fetch(&account(&server)).await.expect_err("429");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(
        error.to_string(),
        "work (deepseek): rate limited (HTTP 429); retry after 120s"
    );
}

#[tokio::test]
async fn retry_after_as_http_date_is_honored() {
    let server = MockServer::start().await;
    let in_two_seconds = httpdate_in(Duration::from_secs(2));
    respond_once_then(
        &server,
        "GET",
        ResponseTemplate::new(429).insert_header("retry-after", in_two_seconds),
        json(200, DEEPSEEK_EXAMPLE),
    )
    .await;
    let started = Instant::now();
    client(2).fetch(&account(&server)).await.expect("balance");
    // HTTP dates have one-second resolution, so at least one second must have passed.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
}

fn httpdate_in(wait: Duration) -> String {
    // HTTP dates have whole seconds: round up so the wait is at least `wait - 1s`.
    httpdate::fmt_http_date(std::time::SystemTime::now() + wait + Duration::from_millis(999))
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let server = MockServer::start().await;
    let server_error =
        r#"{"error":{"message":"Server Error","type":"server_error","param":null,"code":null}}"#;
    respond_once_then(
        &server,
        "GET",
        json(500, server_error),
        json(200, DEEPSEEK_EXAMPLE),
    )
    .await;
    let balance = client(3).fetch(&account(&server)).await.expect("balance");
    assert_eq!(balance.amounts()[0].total, dec("110.00"));
    server.verify().await;
}

#[tokio::test]
async fn overloaded_until_retries_run_out_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(
            503,
            r#"{"error":{"message":"Server Overloaded","type":"server_error","param":null,"code":null}}"#,
        ))
        .expect(3)
        .mount(&server)
        .await;
    let error = client(3).fetch(&account(&server)).await.expect_err("503");
    assert_variant!(
        error,
        Error::Transient {
            account: String::from("work"),
            vendor: vendor("deepseek"),
            status: Some(503),
            reason: String::from("Server Overloaded"),
            retry_after: None,
            source: None,
        }
    );
    server.verify().await;
}

#[tokio::test]
async fn retries_disabled_means_one_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let client = BalanceClient::builder()
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let error = client.fetch(&account(&server)).await.expect_err("503");
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert_eq!(error.status(), Some(503));
}

#[tokio::test]
async fn empty_body_is_transient_and_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let error = client(2).fetch(&account(&server)).await.expect_err("empty");
    assert_variant!(
        error,
        Error::Transient {
            account: String::from("work"),
            vendor: vendor("deepseek"),
            status: Some(200),
            reason: String::from("empty response body"),
            retry_after: None,
            source: None,
        }
    );
    server.verify().await;
}

#[tokio::test]
async fn truncated_json_is_transient_and_retried() {
    let server = MockServer::start().await;
    respond_once_then(
        &server,
        "GET",
        json(
            200,
            r#"{"is_available":true,"balance_infos":[{"currency":"CNY","total_bal"#,
        ),
        json(200, DEEPSEEK_EXAMPLE),
    )
    .await;
    let balance = client(2)
        .fetch(&account(&server))
        .await
        .expect("second attempt");
    assert_eq!(balance.amounts()[0].total, dec("110.00"));
    server.verify().await;
}

#[tokio::test]
async fn body_that_breaks_off_is_transient() {
    // Content-Length promises 200 bytes; the server closes after a few.
    let response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"is_available\":tr".to_vec();
    let (url, connections) = raw_server(response).await;
    let account = deepseek_account("work", KEY)
        .with_base_url(&url)
        .expect("url");
    let error = client(3).fetch(&account).await.expect_err("truncated");
    assert_eq!(error.kind(), ErrorKind::Transient, "{error:?}");
    assert_eq!(error.status(), Some(200));
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn html_error_pages_are_judged_by_status() {
    // nginx's error page, padding comments and all (about 500 bytes).
    let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n";
    // 5xx: transient, retried.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(html, "text/html"))
        .expect(2)
        .mount(&server)
        .await;
    let error = client(2).fetch(&account(&server)).await.expect_err("502");
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert_eq!(error.status(), Some(502));
    server.verify().await;

    // 200 with HTML: undecodable, with a short excerpt, not retried.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(html, "text/html"))
        .expect(1)
        .mount(&server)
        .await;
    match client(3).fetch(&account(&server)).await {
        Err(Error::Undecodable {
            status, excerpt, ..
        }) => {
            assert_eq!(status, Some(200));
            // Whitespace runs collapse to one space; cut at 199 characters plus an ellipsis.
            let collapsed = html.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(
                excerpt,
                collapsed.chars().take(199).collect::<String>() + "…"
            );
            assert!(
                excerpt.starts_with("<html> <head><title>502 Bad Gateway</title></head> <body>")
            );
            assert_eq!(excerpt.chars().count(), 200);
        }
        other => panic!("expected Undecodable, got {other:?}"),
    }
    server.verify().await;
}

#[tokio::test]
async fn five_mebibyte_body_is_too_large() {
    let server = MockServer::start().await;
    let body = format!(
        r#"{{"is_available":true,"balance_infos":[],"padding":"{}"}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    serve(&server, json(200, &body)).await;
    let error = client(3)
        .fetch(&account(&server))
        .await
        .expect_err("too large");
    assert_variant!(
        error,
        Error::ResponseTooLarge {
            account: String::from("work"),
            vendor: vendor("deepseek"),
            limit: 1024 * 1024,
        }
    );
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
}

#[tokio::test]
async fn chunked_body_without_length_is_cut_at_the_cap() {
    let (url, _) = raw_server(chunked_response(5 * 1024 * 1024)).await;
    let account = deepseek_account("work", KEY)
        .with_base_url(&url)
        .expect("url");
    let error = client(1).fetch(&account).await.expect_err("too large");
    assert_eq!(error.kind(), ErrorKind::ResponseTooLarge);
}

#[tokio::test]
async fn slow_server_hits_the_call_timeout() {
    let server = MockServer::start().await;
    serve(
        &server,
        json(200, DEEPSEEK_EXAMPLE).set_delay(Duration::from_secs(10)),
    )
    .await;
    let client = BalanceClient::builder()
        .retry(fast_retry(3))
        .timeout(TimeoutConfig::default().with_call(Duration::from_millis(300)))
        .build()
        .expect("client");
    let started = Instant::now();
    let error = client.fetch(&account(&server)).await.expect_err("timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_variant!(
        error,
        Error::Timeout {
            account: String::from("work"),
            vendor: vendor("deepseek"),
            after: Duration::from_millis(300),
            limit: balances::TimeoutLimit::Call,
        }
    );
}

#[tokio::test]
async fn slow_attempts_are_retried_then_reported_as_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, DEEPSEEK_EXAMPLE).set_delay(Duration::from_secs(10)))
        .expect(2)
        .mount(&server)
        .await;
    let client = BalanceClient::builder()
        .retry(fast_retry(2))
        .timeout(
            TimeoutConfig::default()
                .with_attempt(Duration::from_millis(200))
                .with_call(Duration::from_secs(5)),
        )
        .build()
        .expect("client");
    let error = client.fetch(&account(&server)).await.expect_err("timeout");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(
        error.to_string(),
        "work (deepseek): timed out after 200ms (the attempt limit)"
    );
    server.verify().await;
}

#[tokio::test]
async fn connection_refused_is_transient() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let account = deepseek_account("work", KEY)
        .with_base_url(&format!("http://127.0.0.1:{port}"))
        .expect("url");
    let error = client(2).fetch(&account).await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Transient, "{error:?}");
    assert_eq!(error.status(), None);
}

#[tokio::test]
async fn base_url_with_a_path_prefix() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/proxy/deepseek/user/balance"))
        .respond_with(json(200, DEEPSEEK_EXAMPLE))
        .expect(1)
        .mount(&server)
        .await;
    let account = deepseek_account("work", KEY)
        .with_base_url(&format!("{}/proxy/deepseek/", server.uri()))
        .expect("url");
    let balance = client(1).fetch(&account).await.expect("balance");
    assert_eq!(balance.amounts()[0].total, dec("110.00"));
    server.verify().await;
}

#[tokio::test]
async fn unexpected_client_error_without_vendor_body_is_undecodable() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(404).set_body_raw("<h1>Not Found</h1>", "text/html"),
    )
    .await;
    match client(3).fetch(&account(&server)).await {
        Err(Error::Undecodable {
            status, excerpt, ..
        }) => {
            assert_eq!(status, Some(404));
            assert_eq!(excerpt, "<h1>Not Found</h1>");
        }
        other => panic!("expected Undecodable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wait_past_the_call_deadline_returns_the_error_instead_of_sleeping() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3"))
        .expect(1)
        .mount(&server)
        .await;
    let client = BalanceClient::builder()
        .retry(fast_retry(3))
        .timeout(TimeoutConfig::default().with_call(Duration::from_secs(1)))
        .build()
        .expect("client");
    let started = Instant::now();
    let error = client.fetch(&account(&server)).await.expect_err("429");
    // Sleeping 3 s would only have turned this into a timeout after 1 s.
    assert!(started.elapsed() < Duration::from_millis(900));
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
    server.verify().await;
}
