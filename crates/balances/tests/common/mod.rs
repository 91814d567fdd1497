//! Helpers shared by the integration tests. Every server here listens on 127.0.0.1 only.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use balances::{BalanceClient, Decimal, RetryConfig, TimeoutConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::ResponseTemplate;

/// A decimal from text, exactly.
pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Retries with millisecond backoffs, so the suite stays fast.
pub fn fast_retry(max_attempts: u32) -> RetryConfig {
    RetryConfig::default()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

/// A client with fast retries and generous (but finite) timeouts.
pub fn client(max_attempts: u32) -> BalanceClient {
    BalanceClient::builder()
        .retry(fast_retry(max_attempts))
        .timeout(TimeoutConfig::default().with_call(Duration::from_secs(20)))
        .build()
        .expect("client builds")
}

/// Mounts `first` for exactly one request of `method`, then `then` for exactly one more: the
/// shape of every "fails once, then succeeds" retry test. `server.verify()` checks both.
pub async fn respond_once_then(
    server: &wiremock::MockServer,
    method: &str,
    first: ResponseTemplate,
    then: ResponseTemplate,
) {
    wiremock::Mock::given(wiremock::matchers::method(method))
        .respond_with(first)
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(server)
        .await;
    wiremock::Mock::given(wiremock::matchers::method(method))
        .respond_with(then)
        .expect(1)
        .with_priority(2)
        .mount(server)
        .await;
}

/// A JSON response with a raw body (kept byte for byte, unlike `set_body_json`).
pub fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

/// The DeepSeek example from the official reference page.
pub const DEEPSEEK_EXAMPLE: &str = r#"{
  "is_available": true,
  "balance_infos": [
    {
      "currency": "CNY",
      "total_balance": "110.00",
      "granted_balance": "10.00",
      "topped_up_balance": "100.00"
    }
  ]
}"#;

/// DeepSeek's documented error body.
pub const DEEPSEEK_AUTH_ERROR: &str = r#"{"error":{"message":"Authentication Fails (no such user)","type":"authentication_error","param":null,"code":"invalid_request_error"}}"#;

/// EIOTClub's documented success envelope.
pub const EIOTCLUB_EXAMPLE: &str =
    r#"{"code":"200","message":"操作成功","data":{"balance":"0.00","currency":"USD"}}"#;

/// A hand-rolled HTTP/1.1 server on 127.0.0.1 that answers every connection with the same
/// raw bytes and closes it: for what wiremock cannot send (chunked bodies, bodies that break
/// off). Returns its base URL and a counter of connections served.
pub async fn raw_server(response: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let count = Arc::new(AtomicUsize::new(0));
    let served = count.clone();
    let response = Arc::new(response);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            served.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                // Read the request head (the balance requests here have small bodies).
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                // The client may hang up early (size cap); that is the point.
                let _ = socket.write_all(&response).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), count)
}

/// A 200 response with a chunked body of `size` bytes of JSON-ish filler.
pub fn chunked_response(size: usize) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    let chunk = vec![b' '; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        out.extend_from_slice(&chunk[..n]);
        out.extend_from_slice(b"\r\n");
        left -= n;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Asserts that `value` is the given variant with the given fields (the variants are
/// `#[non_exhaustive]`, so tests cannot build one to compare with). Fields not listed are not
/// compared. The expected values are evaluated before the match, so a field's name in an
/// expected expression means the test's variable, never the field itself.
#[macro_export]
macro_rules! assert_variant {
    ($value:expr, $($path:ident)::+ { $($field:ident : $expected:expr),* $(,)? }) => {{
        let value = &$value;
        let expected = ( $( $expected, )* );
        let actual = match value {
            $($path)::+ { $($field,)* .. } => ( $( $field.clone(), )* ),
            #[allow(unreachable_patterns)]
            other => panic!("expected {}, got {other:?}", stringify!($($path)::+)),
        };
        assert_eq!(actual, expected, "{value:?}");
    }};
}
