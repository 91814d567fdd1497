//! Local servers that behave like the DeepSeek, GeekAI and EIOTClub balance APIs, from one
//! process and one listener on `127.0.0.1`, for tests, the demo and benchmarks.
//!
//! | vendor   | route on the listener                   | base URL for the client          |
//! |----------|-----------------------------------------|----------------------------------|
//! | DeepSeek | `GET /deepseek/user/balance`            | `http://127.0.0.1:PORT/deepseek`   |
//! | GeekAI   | `GET /geekai/api/credit/balance`        | `http://127.0.0.1:PORT/geekai/api` |
//! | EIOTClub | `POST /eiotclub/api/v3/agent/balance`   | `http://127.0.0.1:PORT/eiotclub`   |
//!
//! Accounts are seeded with a [`FakeVendorsBuilder`] and looked up by credential in a hash map.
//! Each account can be switched, between requests, into a [`Fault`] (for every request, for the
//! next *n*, or a sequence), given latency, or given a new balance, through an
//! [`AccountControl`]. Counters tell how many attempts reached each account and vendor.
//! EIOTClub requests are verified like the vendor does ([`sign`]): bad signatures, stale
//! timestamps, out-of-range nonces and replays get the envelope codes in [`eiotclub_codes`].
//!
//! ```
//! use fake_vendors::{DeepSeekBalance, FakeVendor, FakeVendors, Fault};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let server = FakeVendors::builder()
//!     .deepseek_account("sk-1", DeepSeekBalance::cny("110.00", "10.00", "100.00"))
//!     .geekai_account("gk-1", "12345678901234567.89")
//!     .eiotclub_account("000001", "a1b1c1d1", "0.00", "USD")
//!     .start()
//!     .await?;
//! let base = server.base_url(FakeVendor::DeepSeek); // http://127.0.0.1:PORT/deepseek
//! assert!(base.ends_with("/deepseek"));
//!
//! // The next request gets a 503, the one after it the balance.
//! server.deepseek("sk-1").fail_next(1, Fault::server_error(503));
//! # Ok(())
//! # }
//! ```
//!
//! Secrets never reach a log line: requests are logged (at `debug`) by account name only.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod balance;
mod config;
mod fault;
mod handlers;
pub mod presets;
mod server;
pub mod sign;
mod state;
mod vendor;

pub use balance::{Balance, DeepSeekBalance, DeepSeekRow, EiotclubBalance, GeekAiBalance};
pub use config::config_toml;
pub use fault::{Fault, HUGE_BODY_BYTES, RetryAfter};
pub use server::{DEFAULT_MAX_SKEW, FakeVendors, FakeVendorsBuilder, FakeVendorsHandle};
pub use state::{AccountControl, AccountInfo, AccountSeed, RECENT_NONCES};
pub use vendor::{FakeVendor, UnknownVendor};

/// The `code` values of EIOTClub's envelope that this fake sends. Only [`OK`](eiotclub_codes::OK) is documented by
/// the vendor; the failure codes are this fake's own, plausible choices (the vendor's real
/// codes are not published). A client must treat any code other than `"200"` as a failure.
pub mod eiotclub_codes {
    /// Success: `"200"`, message `操作成功`.
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
