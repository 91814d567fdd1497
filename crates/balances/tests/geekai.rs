//! GeekAI against a local mock: coins to CNY, both body shapes, documented statuses.

mod common;

use balances::{Account, Amount, Balance, Error, ErrorKind, NativeAmount};
use common::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[path = "support/accounts.rs"]
mod accounts;

use accounts::{geekai_account, vendor};

const KEY: &str = "gk-system-key";

fn account(server: &MockServer) -> Account {
    geekai_account("geek", KEY)
        .with_base_url(&server.uri())
        .expect("loopback URL")
}

async fn serve(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/credit/balance"))
        .respond_with(response)
        .mount(server)
        .await;
}

fn coins_balance(cny: &str, coins: &str) -> Balance {
    let amount = Amount::total("CNY", dec(cny)).with_native(NativeAmount::new("coin", dec(coins)));
    Balance::new("geek", vendor("geekai"), None, vec![amount]).expect("one currency")
}

#[tokio::test]
async fn balance_number_in_coins_becomes_cny() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/credit/balance"))
        .and(header("authorization", "Bearer gk-system-key"))
        .respond_with(json(200, r#"{"balance": 12345}"#))
        .expect(1)
        .mount(&server)
        .await;
    let balance = client(1).fetch(&account(&server)).await.expect("balance");
    assert_eq!(balance, coins_balance("123.45", "12345"));
    assert_eq!(
        serde_json::to_string(&balance).expect("serializes"),
        r#"{"account":"geek","vendor":"geekai","available":null,"amounts":[{"currency":"CNY","total":"123.45","granted":null,"topped_up":null,"native":{"unit":"coin","amount":"12345"}}]}"#
    );
}

#[tokio::test]
async fn request_sends_no_uuid() {
    let server = MockServer::start().await;
    serve(&server, json(200, r#"{"balance": 1}"#)).await;
    client(1).fetch(&account(&server)).await.expect("balance");
    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method.as_str(), "GET");
    assert_eq!(requests[0].url.path(), "/credit/balance");
    assert_eq!(requests[0].url.query(), None);
}

#[tokio::test]
async fn wrapped_body_shape_is_accepted() {
    let server = MockServer::start().await;
    serve(&server, json(200, r#"{"data": {"balance": 250}}"#)).await;
    let balance = client(1).fetch(&account(&server)).await.expect("balance");
    assert_eq!(balance, coins_balance("2.50", "250"));
}

#[tokio::test]
async fn huge_coin_balance_is_exact() {
    let server = MockServer::start().await;
    serve(&server, json(200, r#"{"balance": 12345678901234567.89}"#)).await;
    let balance = client(1).fetch(&account(&server)).await.expect("balance");
    assert_eq!(
        balance,
        coins_balance("123456789012345.6789", "12345678901234567.89")
    );
    let json = serde_json::to_value(&balance).expect("serializes");
    assert_eq!(json["amounts"][0]["total"], "123456789012345.6789");
    assert_eq!(
        json["amounts"][0]["native"]["amount"],
        "12345678901234567.89"
    );
}

#[tokio::test]
async fn negative_coins_stay_negative() {
    for (body, cny, coins) in [
        (r#"{"balance": -150}"#, "-1.50", "-150"),
        (r#"{"balance": -0}"#, "-0.00", "-0"),
    ] {
        let server = MockServer::start().await;
        serve(&server, json(200, body)).await;
        let balance = client(1).fetch(&account(&server)).await.expect("balance");
        let json = serde_json::to_value(&balance).expect("serializes");
        assert_eq!(json["amounts"][0]["total"], cny, "{body}");
        assert_eq!(json["amounts"][0]["native"]["amount"], coins, "{body}");
    }
}

#[tokio::test]
async fn body_without_balance_is_undecodable() {
    for (body, reason) in [
        ("{}", "neither `balance` nor `data.balance` is present"),
        (
            r#"{"balance": 1, "data": {"balance": 2}}"#,
            "`balance` and `data.balance` disagree",
        ),
    ] {
        let server = MockServer::start().await;
        serve(&server, json(200, body)).await;
        match client(1).fetch(&account(&server)).await {
            Err(Error::Undecodable { reason: r, .. }) => assert_eq!(r, reason),
            other => panic!("{body}: expected Undecodable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn documented_statuses() {
    let cases = [
        (400, ErrorKind::Vendor),
        (401, ErrorKind::Authentication),
        (402, ErrorKind::InsufficientBalance),
        (403, ErrorKind::Authentication),
        (404, ErrorKind::Vendor),
        (413, ErrorKind::Vendor),
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::Transient),
        (503, ErrorKind::Transient),
        (504, ErrorKind::Transient),
    ];
    for (status, kind) in cases {
        let server = MockServer::start().await;
        let retried = matches!(kind, ErrorKind::RateLimited | ErrorKind::Transient);
        Mock::given(method("GET"))
            .respond_with(json(
                status,
                r#"{"code":"some_code","message":"some message"}"#,
            ))
            .expect(if retried { 2 } else { 1 })
            .mount(&server)
            .await;
        let error = client(2)
            .fetch(&account(&server))
            .await
            .expect_err("error status");
        assert_eq!(error.kind(), kind, "HTTP {status}");
        assert_eq!(error.status(), Some(status), "HTTP {status}");
        server.verify().await;
    }
}

#[tokio::test]
async fn unauthorized_keeps_code_and_message() {
    let server = MockServer::start().await;
    serve(
        &server,
        json(
            401,
            r#"{"code":"unauthorized","message":"Invalid API key or token"}"#,
        ),
    )
    .await;
    let error = client(1).fetch(&account(&server)).await.expect_err("401");
    assert_variant!(
        error,
        Error::Authentication {
            account: String::from("geek"),
            vendor: vendor("geekai"),
            status: 401,
            message: String::from("Invalid API key or token"),
        }
    );
}

#[tokio::test]
async fn payload_too_large_is_a_vendor_error_with_its_code() {
    let server = MockServer::start().await;
    serve(
        &server,
        json(413, r#"{"code":"payload_too_large","message":"too big"}"#),
    )
    .await;
    let error = client(1).fetch(&account(&server)).await.expect_err("413");
    assert_variant!(
        error,
        Error::Vendor {
            account: String::from("geek"),
            vendor: vendor("geekai"),
            status: 413,
            code: String::from("payload_too_large"),
            message: String::from("too big"),
        }
    );
}

#[test]
fn regions_pick_the_documented_servers() {
    let cn = geekai_account("a", KEY);
    assert_eq!(cn.effective_base_url(), "https://geekai.co/api");
    let global = geekai_account("a", KEY)
        .with_region("global")
        .expect("GeekAI has regions");
    assert_eq!(global.effective_base_url(), "https://geekai.dev/api");
    // An explicit base URL wins over the region.
    let proxied = global
        .with_base_url("https://proxy.example/geekai")
        .expect("https URL");
    assert_eq!(proxied.effective_base_url(), "https://proxy.example/geekai");
}
