//! One facade over paid APIs' balance endpoints: every vendor of the workspace's vendor
//! registry (DeepSeek, GeekAI, EIOTClub, OpenRouter, ...; [`Vendor::all`]), each described
//! by data, none by code.
//!
//! - **Accounts** ([`Account`]) name a vendor, hold credentials as [`secrecy::SecretString`]
//!   and optionally a base URL; build them in code, from environment variables
//!   ([`Account::from_env`]) or from a TOML file listing many ([`Config`]).
//! - **One client** ([`BalanceClient`]) built once, sharing one connection pool across all
//!   accounts, with named [`RetryConfig`] and [`TimeoutConfig`]; [`BalanceClient::fetch`] for
//!   one account, [`BalanceClient::fetch_all`] for many, concurrently, in input order.
//! - **One model** ([`Balance`]): exact [`rust_decimal::Decimal`] amounts per currency,
//!   sorted by currency, serialized as decimal strings, described by a checked-in JSON Schema
//!   ([`balance_schema`]). Exact means exact: an amount is taken from the text the vendor
//!   sent, with its scale and the sign of `-0.00`, and one that a `Decimal` cannot hold
//!   without rounding (more than 28 decimal places, more than 96 bits) is an error, never
//!   a rounded number.
//! - **One error** ([`Error`]) that says what to do: fix the key, top up, wait, retry,
//!   report. [`Error::kind`] gives a stable name for machines.
//! - **Decoding without fetching**: [`decode`] and [`decode_response`] turn a status and body
//!   obtained another way (a cache, a proxy, a recording) into the same [`Balance`] or
//!   [`Error`] as a fetch, through the same code.
//! - **An escape hatch**: [`BalanceClient::authorize`] gives what a vendor's generated
//!   client crate (`deepseek-client`, ...) needs to call any of its operations as the
//!   account: base URL, auth headers or body signer, and the shared connection pool;
//!   [`BalanceClient::generated_error`] maps its errors onto the same [`Error`].
//!
//! Secrets never reach `Debug`, `Display`, an error or a log line: bearer headers are marked
//! sensitive, every type holding a credential has a hand-written redacting `Debug`, and text
//! from the network is scrubbed of the account's credentials before it is put in an error.
//!
//! # Example
//!
//! Load accounts from TOML, fetch them all, print JSON. Here the "vendor" is a local mock
//! server; in real use, leave out `base_url`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use balances::{BalanceClient, Config};
//! use wiremock::matchers::{header, method, path};
//! use wiremock::{Mock, MockServer, ResponseTemplate};
//!
//! let server = MockServer::start().await; // stands in for api.deepseek.com
//! Mock::given(method("GET"))
//!     .and(path("/user/balance"))
//!     .and(header("authorization", "Bearer sk-example"))
//!     .respond_with(ResponseTemplate::new(200).set_body_raw(
//!         r#"{"is_available":true,"balance_infos":[
//!             {"currency":"USD","total_balance":"2.50","granted_balance":"0.00","topped_up_balance":"2.50"},
//!             {"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]}"#,
//!         "application/json",
//!     ))
//!     .mount(&server)
//!     .await;
//!
//! let toml = format!(
//!     r#"
//!     [[accounts]]
//!     name = "work"
//!     vendor = "deepseek"
//!     api_key_env = "WORK_DS_KEY"
//!     base_url = "{}"
//!     "#,
//!     server.uri()
//! );
//! // `Config::from_path` reads the process environment; this lookup stands in for it.
//! let config = Config::from_toml_str(&toml, |var| {
//!     (var == "WORK_DS_KEY").then(|| "sk-example".to_owned())
//! })?;
//!
//! let client = BalanceClient::builder().build()?;
//! let results = client.fetch_all(config.accounts()).await;
//! let balance = results.into_iter().next().expect("one account")?;
//!
//! // Sorted by currency, exact, as strings.
//! assert_eq!(
//!     serde_json::to_value(&balance)?,
//!     serde_json::json!({
//!         "account": "work",
//!         "vendor": "deepseek",
//!         "available": true,
//!         "amounts": [
//!             {"currency": "CNY", "total": "110.00", "granted": "10.00",
//!              "topped_up": "100.00", "native": null},
//!             {"currency": "USD", "total": "2.50", "granted": "0.00",
//!              "topped_up": "2.50", "native": null},
//!         ]
//!     })
//! );
//! # Ok(())
//! # }
//! ```
//!
//! # Errors and what to do about them
//!
//! | [`ErrorKind`]          | when                                                       | retried |
//! |------------------------|------------------------------------------------------------|---------|
//! | `authentication`       | HTTP 401, 403                                              | no      |
//! | `insufficient_balance` | HTTP 402                                                   | no      |
//! | `rate_limited`         | HTTP 429 (with `Retry-After` when sent)                    | yes     |
//! | `vendor`               | other 4xx with the vendor's error body; EIOTClub `code` ≠ 200 | no   |
//! | `transient`            | 408, 5xx, connection errors, empty or truncated bodies      | yes     |
//! | `timeout`              | the attempt or call limit of [`TimeoutConfig`]             | yes     |
//! | `undecodable`          | a body that is not the documented JSON (status + excerpt), or an amount a `Decimal` cannot hold exactly | no |
//! | `response_too_large`   | a body over [`MAX_RESPONSE_BODY_BYTES`]                    | no      |
//! | `invalid_config`       | bad account or file; nothing was sent                      | no      |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod account;
mod auth;
mod balance;
mod client;
mod cloud;
mod config;
mod credential;
mod decode;
pub mod eiotclub;
mod error;
mod generated;
pub mod redirect;
mod retry;
mod spend;
mod text;
mod threshold;
mod vendor;

pub use account::{Account, UnknownVendor, Vendor, env};
pub use balance::{
    Amount, Balance, DuplicateCurrency, NativeAmount, Scope, UnitAmount, Unlimited, balance_schema,
};
pub use balances_runtime::pages::Period;
pub use client::{BalanceClient, BalanceClientBuilder, DEFAULT_CONCURRENCY};
pub use config::Config;
pub use decode::{decode, decode_response, decode_responses};
pub use error::{Cause, ConfigError, Error, ErrorKind, TimeoutLimit};
pub use generated::Authorized;
pub use retry::{RetryConfig, TimeoutConfig, parse_retry_after};
pub use spend::{
    BUDGET_PACE_MIN_ELAPSED, Budget, BudgetNoEstimate, BudgetPace, BudgetRunsOut, InvalidBudget,
    Spend, Spent,
};
pub use text::escape_control;
pub use threshold::{InvalidThreshold, Threshold};
pub use vendor::MAX_RESPONSE_BODY_BYTES;

// This crate's own README (shown on crates.io) is compiled too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod crate_readme {}

// The workspace README's examples ("Using the facade") are compiled as doctests of the
// `workspace-tests` crate (tests/src/lib.rs): a published crate may not include a file from
// outside its package.

// The generated clients and the types callers meet in this API, so that one dependency is
// enough.
pub use balances_registry;
pub use balances_runtime::{self, ExactDecimal};
/// The vendors compiled in, each with its generated client (`balances::vendors::deepseek`),
/// one cargo feature of `balances-vendors` per vendor.
pub use balances_vendors as vendors;
pub use progenitor_client;
pub use reqwest;
pub use rust_decimal::{self, Decimal};
pub use secrecy::{self, ExposeSecret, SecretString};
