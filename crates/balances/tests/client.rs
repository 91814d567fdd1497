//! The shared client: `fetch_all` order and isolation, the concurrency bound, one connection
//! pool for every account, and the escape hatch to the generated clients.

mod common;

use balances::progenitor_client::ClientInfo as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[path = "support/accounts.rs"]
mod accounts;

use accounts::{deepseek_account, eiotclub_account, geekai_account, vendor};

use balances::{
    Account, BalanceClient, Error, ErrorKind, RetryConfig, SecretString, TimeoutConfig, eiotclub,
};
use common::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A TCP forwarder on 127.0.0.1 in front of `target` that counts the connections it
/// accepts: the number of connections the client opened.
async fn counting_proxy(target: SocketAddr) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let accepted = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (format!("http://{addr}"), count)
}

/// A server answering every vendor's balance call successfully, after `delay`.
async fn all_vendors(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(json(200, DEEPSEEK_EXAMPLE).set_delay(delay))
        .mount(&server)
        .await;
    Mock::given(path("/credit/balance"))
        .respond_with(json(200, r#"{"balance": 100}"#).set_delay(delay))
        .mount(&server)
        .await;
    Mock::given(path("/api/v3/agent/balance"))
        .respond_with(json(200, EIOTCLUB_EXAMPLE).set_delay(delay))
        .mount(&server)
        .await;
    server
}

fn mixed_accounts(base: &str, n: usize) -> Vec<Account> {
    (0..n)
        .map(|i| {
            let name = format!("acct-{i}");
            let account = match i % 3 {
                0 => deepseek_account(name, format!("sk-{i}")),
                1 => geekai_account(name, format!("gk-{i}")),
                _ => eiotclub_account(name, format!("app-{i}"), format!("secret-{i}")),
            };
            account.with_base_url(base).expect("loopback URL")
        })
        .collect()
}

#[tokio::test]
async fn fetch_all_keeps_input_order_and_isolates_failures() {
    let server = MockServer::start().await;
    // The first account is the slowest, so completion order differs from input order.
    Mock::given(path("/slow/user/balance"))
        .respond_with(json(200, DEEPSEEK_EXAMPLE).set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    Mock::given(path("/denied/credit/balance"))
        .respond_with(json(
            401,
            r#"{"code":"unauthorized","message":"Invalid API key or token"}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(path("/ok/api/v3/agent/balance"))
        .respond_with(json(200, EIOTCLUB_EXAMPLE))
        .mount(&server)
        .await;
    Mock::given(path("/broken/user/balance"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>", "text/html"))
        .mount(&server)
        .await;
    let base = server.uri();
    let accounts = vec![
        deepseek_account("slow", "k1")
            .with_base_url(&format!("{base}/slow"))
            .expect("url"),
        geekai_account("denied", "k2")
            .with_base_url(&format!("{base}/denied"))
            .expect("url"),
        eiotclub_account("ok", "app", "secret")
            .with_base_url(&format!("{base}/ok"))
            .expect("url"),
        deepseek_account("broken", "k3")
            .with_base_url(&format!("{base}/broken"))
            .expect("url"),
    ];
    let results = client(1).fetch_all(&accounts).await;
    let summary: Vec<(String, Result<String, ErrorKind>)> = results
        .into_iter()
        .map(|r| match r {
            Ok(b) => (b.account().to_owned(), Ok(b.amounts()[0].total.to_string())),
            Err(e) => (e.account().unwrap_or("?").to_owned(), Err(e.kind())),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("slow".to_owned(), Ok("110.00".to_owned())),
            ("denied".to_owned(), Err(ErrorKind::Authentication)),
            ("ok".to_owned(), Ok("0.00".to_owned())),
            ("broken".to_owned(), Err(ErrorKind::Undecodable)),
        ]
    );
}

#[tokio::test]
async fn fetch_all_of_nothing_is_nothing() {
    assert!(client(1).fetch_all(&[]).await.is_empty());
}

#[tokio::test]
async fn every_account_shares_one_connection_pool() {
    let server = all_vendors(Duration::ZERO).await;
    let (base, connections) = counting_proxy(*server.address()).await;
    let accounts = mixed_accounts(&base, 9);
    let client = BalanceClient::builder()
        .concurrency(1)
        .retry(fast_retry(1))
        .build()
        .expect("client");
    for result in client.fetch_all(&accounts).await {
        result.expect("success");
    }
    // Nine accounts, three vendors, nine different credentials: one connection.
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let server = all_vendors(Duration::from_millis(300)).await;
    for (limit, expected_connections) in [(2, 2), (6, 6)] {
        let (base, connections) = counting_proxy(*server.address()).await;
        let accounts = mixed_accounts(&base, 6);
        let client = BalanceClient::builder()
            .concurrency(limit)
            .retry(fast_retry(1))
            .build()
            .expect("client");
        let results = client.fetch_all(&accounts).await;
        assert!(results.iter().all(Result::is_ok));
        // Each call holds its connection for 300 ms, so the pool opens exactly as many
        // connections as there were calls in flight at once.
        assert_eq!(
            connections.load(Ordering::SeqCst),
            expected_connections,
            "concurrency {limit}"
        );
    }
}

#[tokio::test]
async fn fetch_stream_yields_every_index_once() {
    use futures::StreamExt;
    let server = all_vendors(Duration::ZERO).await;
    let accounts = mixed_accounts(&server.uri(), 5);
    let client = client(1);
    let mut indices: Vec<usize> = client
        .fetch_stream(&accounts)
        .map(|(index, result)| {
            assert_eq!(
                result.expect("success").account(),
                accounts[index].name(),
                "index matches account"
            );
            index
        })
        .collect()
        .await;
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn escape_hatch_deepseek_client_is_authorized() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/balance"))
        .and(header("authorization", "Bearer sk-hatch"))
        .respond_with(json(200, DEEPSEEK_EXAMPLE))
        .expect(1)
        .mount(&server)
        .await;
    let account = deepseek_account("ds", "sk-hatch")
        .with_base_url(&server.uri())
        .expect("url");
    let client = BalanceClient::new().expect("client");
    let generated = deepseek_generated(&client, &account);
    let response = generated
        .get_user_balance()
        .send()
        .await
        .expect("typed response")
        .into_inner();
    assert!(response.is_available);
    assert_eq!(
        response.balance_infos[0]
            .total_balance
            .map(balances::ExactDecimal::get),
        Some(dec("110.00"))
    );
    server.verify().await;
}

#[tokio::test]
async fn escape_hatch_eiotclub_client_signs_with_the_signer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/agent/balance"))
        .respond_with(json(200, EIOTCLUB_EXAMPLE))
        .expect(1)
        .mount(&server)
        .await;
    let account = eiotclub_account("iot", "000001", "a1b1c1d1")
        .with_base_url(&server.uri())
        .expect("url");
    let client = BalanceClient::new().expect("client");
    let (generated, signer) = eiotclub_generated(&client, &account);
    let response = generated
        .get_agent_balance()
        .body(signed_body(&signer))
        .send()
        .await
        .expect("typed response")
        .into_inner();
    assert_eq!(response.code, "200");
    let requests = server.received_requests().await.expect("recording on");
    let body: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&requests[0].body).expect("JSON body");
    assert_eq!(
        body["sign"],
        eiotclub::sign(&body, &SecretString::from("a1b1c1d1")).as_str()
    );
}

#[test]
fn escape_hatch_authorizes_by_the_vendors_scheme() {
    let client = BalanceClient::new().expect("client");
    let deepseek = client
        .authorize(&deepseek_account("ds", "sk-k"))
        .expect("authorized");
    let value = deepseek
        .headers()
        .get("authorization")
        .expect("a bearer header");
    assert_eq!(value.to_str().ok(), Some("Bearer sk-k"));
    assert!(value.is_sensitive());
    assert!(deepseek.signer().is_none());
    assert_eq!(deepseek.base_url(), "https://api.deepseek.com");
    let eiotclub = client
        .authorize(&eiotclub_account("iot", "app", "secret"))
        .expect("authorized");
    assert!(
        eiotclub.headers().is_empty(),
        "a signing scheme sends no header"
    );
    let body = eiotclub.signer().expect("a signer").signed_body();
    assert_eq!(
        body["sign"],
        eiotclub::sign(&body, &SecretString::from("secret")).as_str()
    );
}

/// The generated DeepSeek client, built from what the escape hatch gives.
fn deepseek_generated(
    client: &BalanceClient,
    account: &Account,
) -> balances::vendors::deepseek::Client {
    let authorized = client.authorize(account).expect("authorized");
    balances::vendors::deepseek::Client::new_with_client(
        authorized.base_url(),
        authorized.http_client().clone(),
        authorized.context(),
    )
}

/// The generated EIOTClub client and the signer of its bodies.
fn eiotclub_generated(
    client: &BalanceClient,
    account: &Account,
) -> (balances::vendors::eiotclub::Client, eiotclub::Signer) {
    let authorized = client.authorize(account).expect("authorized");
    let signer = authorized.signer().expect("a signing scheme").clone();
    let generated = balances::vendors::eiotclub::Client::new_with_client(
        authorized.base_url(),
        authorized.http_client().clone(),
        authorized.context(),
    );
    (generated, signer)
}

/// A fresh signed body in the generated client's type.
fn signed_body(
    signer: &eiotclub::Signer,
) -> balances::vendors::eiotclub::types::GetAgentBalanceBody {
    serde_json::from_value(serde_json::Value::Object(signer.signed_body()))
        .expect("the signed body is the operation's body")
}

/// The escape hatch's errors map onto the facade's `Error` with the same rules as `fetch`.
#[tokio::test]
async fn generated_client_errors_map_like_fetch() {
    let server = MockServer::start().await;
    let big = format!(
        r#"{{"balance_infos":[],"is_available":true,"x":"{}"}}"#,
        "x".repeat(5 << 20)
    );
    let routes: [(&str, ResponseTemplate); 5] = [
        ("/auth", json(401, DEEPSEEK_AUTH_ERROR)),
        ("/big", json(200, &big)),
        (
            "/gateway",
            ResponseTemplate::new(502).set_body_raw("<html>bad gateway</html>", "text/html"),
        ),
        ("/cut", json(200, r#"{"balance_infos":[{"curr"#)),
        ("/teapot", ResponseTemplate::new(418)),
    ];
    for (prefix, response) in routes {
        Mock::given(path(format!("{prefix}/user/balance")))
            .respond_with(response)
            .mount(&server)
            .await;
    }
    let client = BalanceClient::new().expect("client");
    let mut outcomes = Vec::new();
    for prefix in ["/auth", "/big", "/gateway", "/cut", "/teapot"] {
        let account = deepseek_account("ds", "sk-hatch")
            .with_base_url(&format!("{}{prefix}", server.uri()))
            .expect("url");
        let generated = deepseek_generated(&client, &account);
        let error = generated
            .get_user_balance()
            .send()
            .await
            .expect_err("every route fails");
        let error = client.generated_error(&account, generated.inner(), error);
        outcomes.push((prefix, error.kind(), error.status()));
    }
    assert_eq!(
        outcomes,
        [
            ("/auth", ErrorKind::Authentication, Some(401)),
            ("/big", ErrorKind::ResponseTooLarge, None),
            ("/gateway", ErrorKind::Transient, Some(502)),
            // progenitor drops the status of a body it could not decode; the context kept it.
            ("/cut", ErrorKind::Transient, Some(200)),
            ("/teapot", ErrorKind::Undecodable, Some(418)),
        ]
    );
}

#[tokio::test]
async fn generated_eiotclub_errors_keep_the_vendor_envelope() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json(400, r#"{"code":"400","message":"参数错误"}"#))
        .mount(&server)
        .await;
    let account = eiotclub_account("iot", "app", "secret")
        .with_base_url(&server.uri())
        .expect("url");
    let client = BalanceClient::new().expect("client");
    let (generated, signer) = eiotclub_generated(&client, &account);
    let error = generated
        .get_agent_balance()
        .body(signed_body(&signer))
        .send()
        .await
        .expect_err("400 is undocumented for EIOTClub");
    assert_variant!(
        client.generated_error(&account, generated.inner(), error),
        Error::Vendor {
            account: String::from("iot"),
            vendor: vendor("eiotclub"),
            status: 400,
            code: String::from("400"),
            message: String::from("参数错误"),
        }
    );
}

/// A caller's own `reqwest::Client` carries its settings (here a default header standing in
/// for a proxy or mTLS setup), and the facade still caps bodies and enforces timeouts.
#[tokio::test]
async fn a_callers_http_client_is_used_and_the_facades_limits_still_apply() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ok/user/balance"))
        .and(header("x-callers-client", "yes"))
        .respond_with(json(200, DEEPSEEK_EXAMPLE))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/big/user/balance"))
        .respond_with(json(200, &" ".repeat(2 * 1024 * 1024)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/slow/user/balance"))
        .respond_with(json(200, DEEPSEEK_EXAMPLE).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-callers-client", "yes".parse().expect("header value"));
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client");
    let client = BalanceClient::builder()
        .http_client(http)
        .retry(RetryConfig::disabled())
        .timeout(TimeoutConfig::default().with_attempt(Duration::from_millis(200)))
        .build()
        .expect("client");
    let at = |prefix: &str| {
        deepseek_account("work", "sk-own")
            .with_base_url(&format!("{}/{prefix}", server.uri()))
            .expect("url")
    };
    client
        .fetch(&at("ok"))
        .await
        .expect("through the caller's client");
    let too_large = client.fetch(&at("big")).await.expect_err("over the cap");
    assert_eq!(too_large.kind(), balances::ErrorKind::ResponseTooLarge);
    let slow = client.fetch(&at("slow")).await.expect_err("attempt limit");
    assert_eq!(slow.kind(), balances::ErrorKind::Timeout);
    server.verify().await;
}

/// A timeout enforced by a caller's own client is not reported as the facade's connect limit
/// (which that client does not apply): it is a transient failure whose cause says timeout.
#[tokio::test]
async fn a_timeout_of_the_callers_client_is_not_called_the_connect_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, DEEPSEEK_EXAMPLE).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .expect("reqwest client");
    let client = BalanceClient::builder()
        .http_client(http)
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let account = deepseek_account("work", "sk-own")
        .with_base_url(&server.uri())
        .expect("url");
    let error = client
        .fetch(&account)
        .await
        .expect_err("the caller's timeout");
    assert_eq!(error.kind(), ErrorKind::Transient, "{error:?}");
    let cause = std::error::Error::source(&error)
        .and_then(|s| s.downcast_ref::<balances::Cause>())
        .and_then(|c| c.get().downcast_ref::<reqwest::Error>())
        .expect("the reqwest error is the cause");
    assert!(cause.is_timeout(), "{cause:?}");
}
