//! Apps compile only the vendors they use: `balances-vendors` has one feature per vendor
//! folder. This suite runs in the default build (every vendor) and, in `.ci/run`, in a build
//! with DeepSeek alone:
//!
//! ```sh
//! cargo test -p balances --no-default-features --features rustls,balances-vendors/deepseek \
//!     --test vendors_compiled_in
//! ```

use balances::{Account, BalanceClient, Vendor};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The registry's vendors that this build compiled in.
fn compiled_in() -> Vec<&'static str> {
    balances::vendors::BINDINGS
        .iter()
        .map(|binding| binding.vendor)
        .collect()
}

#[test]
fn the_vendors_are_the_compiled_in_ones() {
    let vendors: Vec<&str> = Vendor::all().map(Vendor::as_str).collect();
    assert_eq!(vendors, compiled_in());
    assert!(!vendors.is_empty(), "at least one vendor is compiled in");
    for id in balances::balances_registry::vendors()
        .iter()
        .map(|entry| entry.id.as_str())
    {
        let compiled = compiled_in().contains(&id);
        match id.parse::<Vendor>() {
            Ok(vendor) => assert!(compiled, "{vendor} parses without its feature"),
            Err(error) => {
                assert!(!compiled, "{id} is compiled in but does not parse: {error}");
                let message = error.to_string();
                assert!(
                    message.contains(&format!(
                        "enable the `{id}` feature of the balances-vendors crate"
                    )),
                    "{message}"
                );
            }
        }
    }
    let unknown = "no-such-vendor".parse::<Vendor>().expect_err("unknown");
    assert!(
        unknown
            .to_string()
            .starts_with("unknown vendor `no-such-vendor`")
    );
}

/// Whatever else is compiled in, DeepSeek (the vendor of the one-vendor CI build) fetches
/// through its generated client.
#[tokio::test]
async fn a_compiled_in_vendor_fetches() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/balance"))
        .and(header("authorization", "Bearer sk-one"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"-0.00","granted_balance":"0.00","topped_up_balance":"-0.00"}]}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let account = Account::api_key("one", "deepseek".parse().expect("compiled in"), "sk-one")
        .expect("an account")
        .with_base_url(&server.uri())
        .expect("a loopback URL");
    let balance = BalanceClient::new()
        .expect("a client")
        .fetch(&account)
        .await
        .expect("a balance");
    assert_eq!(
        balance
            .amount("USD")
            .map(|a| a.total.to_string())
            .as_deref(),
        Some("-0.00")
    );
}
