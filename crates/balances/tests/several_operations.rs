//! A balance read from two operations (new-api relays: the subscription, then the usage):
//! the first response that is not a success is the result, through the client and through
//! `decode_responses`, and a reading never reports the first amount alone.

use balances::{Account, BalanceClient, ErrorKind, RetryConfig, Vendor};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SUBSCRIPTION: &str = r#"{"object":"billing_subscription","hard_limit_usd":100.0}"#;
const USAGE: &str = r#"{"object":"list","total_usage":2500.0}"#;
const USED_UP: &str = r#"{"error":{"message":"该令牌额度已用尽","type":"one_api_error"}}"#;

fn relay() -> Vendor {
    Vendor::find("newapi").expect("in the registry")
}

fn account(base_url: &str) -> Account {
    Account::api_key("relay", relay(), "sk-relay")
        .and_then(|a| a.with_base_url(base_url))
        .expect("an account")
}

async fn server(usage: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/dashboard/billing/subscription"))
        .and(header("authorization", "Bearer sk-relay"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SUBSCRIPTION, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/dashboard/billing/usage"))
        .and(header("authorization", "Bearer sk-relay"))
        .respond_with(usage)
        .expect(1)
        .mount(&server)
        .await;
    server
}

fn client() -> BalanceClient {
    BalanceClient::builder()
        .retry(RetryConfig::disabled())
        .build()
        .expect("client")
}

#[tokio::test]
async fn both_calls_are_made_and_the_usage_is_subtracted_exactly() {
    let server = server(ResponseTemplate::new(200).set_body_raw(USAGE, "application/json")).await;
    let balance = client()
        .fetch(&account(&server.uri()))
        .await
        .expect("a balance");
    assert_eq!(balance.amounts()[0].total.to_string(), "75.000");
    assert_eq!(balance.amounts()[0].currency, "USD");
    assert_eq!(balance.scope(), balances::Scope::Key);
    server.verify().await;
}

#[tokio::test]
async fn a_failing_second_call_is_the_result() {
    let server = server(ResponseTemplate::new(401).set_body_raw(USED_UP, "application/json")).await;
    let error = client()
        .fetch(&account(&server.uri()))
        .await
        .expect_err("the usage was refused");
    assert_eq!(error.kind(), ErrorKind::InsufficientBalance, "{error}");
    server.verify().await;
}

#[tokio::test]
async fn an_account_without_a_base_url_is_a_config_error_before_any_request() {
    let account = Account::api_key("relay", relay(), "sk-relay").expect("an account");
    let error = client().fetch(&account).await.expect_err("no server");
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    assert!(error.to_string().contains("NEWAPI_BASE_URL"), "{error}");
}

#[test]
fn decoding_needs_every_response_and_stops_at_the_first_failure() {
    let account = account("https://relay.example");
    let both = [(200, SUBSCRIPTION.as_bytes()), (200, USAGE.as_bytes())];
    let balance = balances::decode_responses(&account, &both).expect("a balance");
    assert_eq!(balance.amounts()[0].total.to_string(), "75.000");

    let alone = balances::decode_responses(&account, &both[..1]).expect_err("no usage");
    assert_eq!(alone.kind(), ErrorKind::Undecodable);
    assert!(alone.to_string().contains("getBillingUsage"), "{alone}");

    let refused = [(200, SUBSCRIPTION.as_bytes()), (401, USED_UP.as_bytes())];
    let error = balances::decode_responses(&account, &refused).expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::InsufficientBalance);
    let first_fails = [(401, USED_UP.as_bytes()), (200, USAGE.as_bytes())];
    let error = balances::decode_responses(&account, &first_fails).expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::InsufficientBalance);

    let cny = account.clone().with_currency("CNY").expect("a code");
    let balance = balances::decode_responses(&cny, &both).expect("a balance");
    assert_eq!(balance.amounts()[0].currency, "CNY");
}
