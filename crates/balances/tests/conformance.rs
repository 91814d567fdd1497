//! The conformance suite: every documented example of every vendor folder
//! (`specs/<vendor>/examples/*.toml`, compiled into `balances_registry`) goes through the
//! facade's decoder, and through the client against a local server that answers only the
//! request the description prescribes (method, path, auth), and must give exactly the result
//! a person wrote down for it: the amounts with their scale and sign, or the error's kind,
//! code and message. A new folder's examples are picked up without a line of Rust.

use std::str::FromStr;

use balances::balances_registry::{Auth, Example, Expected, ExpectedError, VendorEntry, vendors};
use balances::{Balance, BalanceClient, Config, Error, RetryConfig, Vendor};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[path = "support/expected_balance.rs"]
mod expected_balance;

use expected_balance::same_balance;

#[test]
fn every_vendor_folder_has_examples_and_each_gives_its_documented_result() {
    assert!(
        !vendors().is_empty(),
        "the registry is compiled by `cargo xtask codegen`"
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in vendors() {
        assert!(
            entry.examples.len() >= 2,
            "{}: a vendor folder documents at least a balance and an error",
            entry.id
        );
        let vendor = Vendor::from_str(&entry.id)
            .unwrap_or_else(|_| panic!("{}: the facade does not know this vendor", entry.id));
        for example in &entry.examples {
            checked += 1;
            if let Err(why) = conforms(vendor, example) {
                failures.push(format!(
                    "{}/examples/{}.toml: {why}",
                    entry.id, example.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{checked} examples, failing:\n{}",
        failures.join("\n")
    );
}

/// The same examples fetched through the client from a local server that answers only a
/// request sent as the description says: the operation's method and path, and the auth
/// scheme's credentials (a bearer header, or a signed body carrying the appkey). Accounts
/// come from a config file whose fields are the scheme's credential fields, so nothing here
/// names a vendor.
#[tokio::test(flavor = "multi_thread")]
async fn every_example_fetched_with_the_described_request_gives_the_same_result() {
    let client = BalanceClient::builder()
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let mut failures = Vec::new();
    for entry in vendors() {
        for example in &entry.examples {
            let server = MockServer::start().await;
            let answer = ResponseTemplate::new(example.status)
                .set_body_raw(example.body.clone(), "application/json");
            let expected_request =
                Mock::given(method(entry.method.as_str())).and(path(entry.path.as_str()));
            let expected_request = match &entry.description.auth {
                Auth::Bearer => {
                    expected_request.and(header("authorization", "Bearer cred-api_key"))
                }
                Auth::Header { header: name } => {
                    expected_request.and(header(name.as_str(), "cred-api_key"))
                }
                Auth::Authorization => {
                    expected_request.and(header("authorization", "cred-api_key"))
                }
                Auth::EiotclubSignature => expected_request.and(body_partial_json(
                    serde_json::json!({"appkey": "cred-appkey"}),
                )),
                other => panic!("{}: a scheme this suite does not know: {other:?}", entry.id),
            };
            expected_request
                .respond_with(answer)
                .expect(1)
                .mount(&server)
                .await;
            let config = account_toml(entry, example, &server.uri());
            let account = Config::from_toml_str(&config, |_| None)
                .unwrap_or_else(|e| panic!("{}: {e}\n{config}", entry.id))
                .into_accounts()
                .remove(0);
            let result = client.fetch(&account).await;
            if let Err(why) = matches_expectation(example, result) {
                failures.push(format!(
                    "{}/examples/{}.toml: {why}",
                    entry.id, example.name
                ));
            }
            server.verify().await;
        }
    }
    assert!(failures.is_empty(), "failing:\n{}", failures.join("\n"));
}

/// One account of `entry`'s vendor in config-file form, its credentials `cred-<field>`.
fn account_toml(entry: &VendorEntry, example: &Example, base_url: &str) -> String {
    let mut text = format!(
        "[[accounts]]\nname = \"example\"\nvendor = \"{}\"\nbase_url = \"{base_url}\"\n",
        entry.id
    );
    for field in entry.description.auth.credential_fields() {
        text.push_str(&format!("{field} = \"cred-{field}\"\n"));
    }
    if let Some(region) = &example.region {
        text.push_str(&format!("region = \"{region}\"\n"));
    }
    text
}

/// The example through the decoder alone, for an account in the example's region (the
/// region may choose the currency).
fn conforms(vendor: Vendor, example: &Example) -> Result<(), String> {
    let result = match &example.region {
        None => balances::decode(vendor, "example", example.status, example.body.as_bytes()),
        Some(region) => {
            let credentials = vendor.credential_fields().iter().map(|field| {
                (
                    *field,
                    balances::SecretString::from(format!("cred-{field}")),
                )
            });
            let account = balances::Account::from_credentials("example", vendor, credentials)
                .and_then(|account| account.with_region(region))
                .map_err(|e| e.to_string())?;
            balances::decode_response(&account, example.status, None, example.body.as_bytes())
        }
    };
    matches_expectation(example, result)
}

fn matches_expectation(example: &Example, result: Result<Balance, Error>) -> Result<(), String> {
    match (&example.expected, result) {
        (Expected::Balance(expected), Ok(balance)) => same_balance(expected, &balance),
        (Expected::Error(expected), Err(error)) => same_error(expected, &error),
        (Expected::Balance(_), Err(error)) => Err(format!("expected a balance, got: {error}")),
        (Expected::Error(expected), Ok(balance)) => Err(format!(
            "expected a {} error, got a balance: {balance:?}",
            expected.kind
        )),
        (other, _) => Err(format!("an expectation this suite cannot check: {other:?}")),
    }
}

fn same_error(expected: &ExpectedError, error: &Error) -> Result<(), String> {
    if error.kind().as_str() != expected.kind {
        return Err(format!(
            "expected kind {}, got {} ({error})",
            expected.kind,
            error.kind().as_str()
        ));
    }
    if let Some(code) = &expected.code {
        match error {
            Error::Vendor { code: got, .. } if got == code => {}
            other => return Err(format!("expected vendor code {code}, got: {other}")),
        }
    }
    if let Some(text) = &expected.message_contains
        && !error.to_string().contains(text.as_str())
    {
        return Err(format!("the message lacks {text:?}: {error}"));
    }
    // A refused key is told which key the vendor's balance endpoint wants (a management or
    // admin key at OpenRouter, ZenMux and Venice), when the description says.
    if let Error::Authentication { vendor, .. } = error
        && let Some(hint) = vendor.key_hint()
        && !error.to_string().contains(hint)
    {
        return Err(format!(
            "the message does not say which key is needed: {error}"
        ));
    }
    Ok(())
}
