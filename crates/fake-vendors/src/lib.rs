//! Local servers that behave like every vendor of the balances registry
//! (`balances_registry`), from one process and one listener on `127.0.0.1`, for tests, the
//! demo and benchmarks. No vendor is written in this crate's Rust: routes, auth, answers and
//! errors all come from each vendor's folder `specs/<vendor>/`.
//!
//! - **Routes.** Every vendor's balance operation (method and path from its spec) is served
//!   at `/<vendor-id><path>`; a vendor with regions at `/<vendor-id>/<region><path>` for each
//!   region. [`FakeVendorsHandle::base_url`] gives the base URL a client appends the path to.
//! - **Auth**, as the description's scheme says, written once per scheme: `bearer`
//!   (`Authorization: Bearer <api_key>`), `header` (`<Header>: <api_key>`), `authorization`
//!   (`Authorization: <api_key>`), and `eiotclub-signature` (a signed JSON body, verified
//!   like the vendor does ([`sign`]): bad signatures, stale timestamps, out-of-range nonces
//!   and replays get the envelope codes of [`eiotclub_codes`]), and the four cloud request
//!   signatures (`acs3-hmac-sha256`, `tc3-hmac-sha256`, `volcengine-hmac-sha256`,
//!   `bce-auth-v1`), each checked by a verifier of this crate's own written from the
//!   vendor's documents (never the client's signer): a bad, incomplete, stale or replayed
//!   signature gets the vendor's documented refusal. A missing or unknown key gets the
//!   vendor's documented authentication error: its example of that kind, else a body built
//!   at its error pointers (for the cloud schemes, the verifier's refusal). Parameters the
//!   vendor's spec fixes (a cloud API's action and version) must be sent.
//! - **Answers.** An account answers one of its vendor's examples (status, headers and body
//!   exactly; by default the first, by name, that shows a balance) or a raw body.
//! - **Faults.** Each account can be switched, between requests, into a [`Fault`] (for every
//!   request, for the next *n*, or a sequence), given latency, or given a new answer, through
//!   an [`AccountControl`]. Counters tell how many attempts reached each account and vendor.
//!
//! ```
//! use fake_vendors::{AccountSeed, FakeVendors, Fault};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), fake_vendors::FakeVendorsError> {
//! let server = FakeVendors::builder()
//!     .account(AccountSeed::new("deepseek", [("api_key", "sk-1")]).example("two_currencies"))
//!     .account(AccountSeed::new("geekai", [("api_key", "gk-1")]).body(r#"{"balance":150}"#))
//!     .account(AccountSeed::new("eiotclub", [("appkey", "000001"), ("secret", "a1b1c1d1")]))
//!     .start()
//!     .await?;
//! let base = server.base_url("deepseek")?; // http://127.0.0.1:PORT/deepseek
//! assert!(base.ends_with("/deepseek"));
//! assert!(server.base_url("geekai")?.ends_with("/geekai/cn")); // the default region
//!
//! // The next request gets a 503, the one after it the example.
//! server.account("sk-1").fail_next(1, Fault::server_error(503));
//! // A config file for the `balances` facade, pointing at this server.
//! let config = fake_vendors::config_toml(&server.accounts());
//! assert!(config.contains("api_key = \"sk-1\""));
//! # Ok(())
//! # }
//! ```
//!
//! Secrets never reach a log line: requests are logged (at `debug`) by account name only.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod catalog;
mod cloud;
mod cloud_signature;
mod config;
pub mod demo;
mod error;
mod failure;
mod fault;
mod further;
mod handlers;
mod pages;
mod respond;
mod routes;
mod seed;
mod server;
pub mod sign;
mod signature;
mod state;

pub use config::config_toml;
pub use error::FakeVendorsError;
pub use fault::{Fault, HUGE_BODY_BYTES, RetryAfter};
pub use seed::{AccountInfo, AccountSeed};
pub use server::{DEFAULT_MAX_SKEW, FakeVendors, FakeVendorsBuilder, FakeVendorsHandle};
pub use signature::RECENT_NONCES;
pub use state::AccountControl;

/// The `code` values of the `eiotclub-signature` scheme's failure envelopes, for any vendor
/// with that scheme; each is written at the vendor's first `errors.code` pointer with HTTP
/// 200. Only [`OK`](eiotclub_codes::OK) is documented by the vendor that defined the scheme;
/// the failure codes are this fake's own, plausible choices (the real codes are not
/// published). A client must treat any code other than `"200"` as a failure.
pub mod eiotclub_codes {
    /// Success: `"200"` (sent by the vendor's examples, never built by this crate).
    pub const OK: &str = "200";
    /// A required parameter is missing or malformed, or the body is not a JSON object.
    pub const PARAM_ERROR: &str = "10000";
    /// The signature does not match.
    pub const SIGN_ERROR: &str = "10001";
    /// The (appkey, nonce, timestamp) triple was already seen: a replay.
    pub const REPLAYED: &str = "10002";
    /// The timestamp is more than the allowed skew (300 s by default) from now.
    pub const TIMESTAMP_EXPIRED: &str = "10003";
    /// The nonce is not an integer in 10000..=99999.
    pub const BAD_NONCE: &str = "10004";
    /// No such appkey (and [`Fault::Unauthorized`](crate::Fault::Unauthorized)).
    pub const UNKNOWN_APPKEY: &str = "10005";
}
