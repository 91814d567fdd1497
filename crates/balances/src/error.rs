//! The errors a caller can act on.
//!
//! No variant ever holds a credential: vendor messages and body excerpts are passed through
//! a redactor that replaces every credential of the account with `[REDACTED]` before they are
//! stored, and configuration errors name fields and variables, never values.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::account::Vendor;
use crate::text::escape_control;

/// Why a configuration (file, environment, or an [`crate::Account`] built in code) was
/// rejected. Every variant names the account (its `name`, or `accounts[N]` when the name
/// itself is missing) and the field at fault, and never the value of a credential.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {}: {message}", path.display())]
    #[non_exhaustive]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        message: String,
    },
    /// The file is not valid TOML, or its top level is not `[[accounts]]` tables.
    #[error("config is not valid: {message} (line {line}, column {column})")]
    #[non_exhaustive]
    Syntax {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong (never a quote of the file).
        message: String,
    },
    /// A field this crate does not know, usually a typo.
    #[error("account {account}: unknown field `{field}`")]
    #[non_exhaustive]
    UnknownField {
        /// The account.
        account: String,
        /// The unknown field.
        field: String,
    },
    /// A known field that the account's vendor does not use (`region` on DeepSeek,
    /// `appkey` on GeekAI, ...).
    #[error("account {account}: field `{field}` does not apply to {vendor} accounts")]
    #[non_exhaustive]
    FieldNotAllowed {
        /// The account.
        account: String,
        /// The field.
        field: String,
        /// The account's vendor.
        vendor: Vendor,
    },
    /// A field of the wrong TOML type. The value is not shown: it may be a secret.
    #[error("account {account}: field `{field}` must be {expected}")]
    #[non_exhaustive]
    InvalidType {
        /// The account.
        account: String,
        /// The field.
        field: String,
        /// What it must be.
        expected: String,
    },
    /// A required field is absent.
    #[error("account {account}: missing field `{field}`")]
    #[non_exhaustive]
    MissingField {
        /// The account.
        account: String,
        /// The missing field (for credentials: `api_key` or `api_key_env`, and so on).
        field: String,
    },
    /// A credential is given neither inline nor through an environment variable.
    #[error(
        "account {account}: missing `{field}` (or `{env_field}` naming an environment variable)"
    )]
    #[non_exhaustive]
    MissingCredential {
        /// The account.
        account: String,
        /// The inline field, such as `api_key`.
        field: String,
        /// The variable field, such as `api_key_env`.
        env_field: String,
    },
    /// An account parameter of the vendor (xAI's `team_id`: not a secret, it goes in the
    /// request's path) is given neither inline nor through an environment variable.
    #[error(
        "account {account}: missing `{field}` (or `{field}_env` naming an environment \
         variable; from the environment alone: `{variable}`)"
    )]
    #[non_exhaustive]
    MissingParameter {
        /// The account.
        account: String,
        /// The parameter's field, such as `team_id`.
        field: String,
        /// The vendor's environment variable for it, such as `XAI_TEAM_ID`.
        variable: String,
    },
    /// A value is given both inline and through an environment variable.
    #[error("account {account}: set `{field}` or `{env_field}`, not both")]
    #[non_exhaustive]
    Conflicting {
        /// The account.
        account: String,
        /// The inline field, such as `api_key`.
        field: String,
        /// The variable field, such as `api_key_env`.
        env_field: String,
    },
    /// A `*_env` field names a variable that is unset or empty.
    #[error(
        "account {account}: field `{field}` names environment variable `{variable}`, which is unset or empty"
    )]
    #[non_exhaustive]
    UnsetEnv {
        /// The account.
        account: String,
        /// The `*_env` field.
        field: String,
        /// The variable's name.
        variable: String,
    },
    /// A field is present but empty.
    #[error("account {account}: field `{field}` is empty")]
    #[non_exhaustive]
    EmptyValue {
        /// The account.
        account: String,
        /// The field.
        field: String,
    },
    /// A credential's value breaks the rule in the crate docs ("Credentials"): after
    /// surrounding whitespace is removed from a value read from the environment, it must be
    /// non-empty visible ASCII. The value is never shown.
    #[error(
        "account {account}: field `{field}`{}: the value {reason}; it is not shown (see \"Where credentials come from\" in the README)",
        variable.as_ref().map(|v| format!(" (environment variable `{v}`)")).unwrap_or_default()
    )]
    #[non_exhaustive]
    InvalidCredential {
        /// The account.
        account: String,
        /// The field the user wrote (`api_key_env`, `secret`) or the variable read.
        field: String,
        /// The environment variable the value came from, if any.
        variable: Option<String>,
        /// What is wrong with it.
        reason: String,
    },
    /// `vendor` is not the id of a vendor in the registry.
    #[error(
        "account {account}: field `vendor`: unknown vendor `{value}` (expected {list})",
        list = crate::account::vendor_list()
    )]
    #[non_exhaustive]
    UnknownVendor {
        /// The account.
        account: String,
        /// The value given.
        value: String,
    },
    /// `region` is not one of the vendor's regions.
    #[error("account {account}: field `region`: unknown region `{value}` (expected {expected})")]
    #[non_exhaustive]
    UnknownRegion {
        /// The account.
        account: String,
        /// The value given.
        value: String,
        /// The vendor's regions, as a list for people (`cn, global`).
        expected: String,
    },
    /// Two accounts share a name; names identify accounts in output.
    #[error("account {account}: field `name`: the name is used by more than one account")]
    #[non_exhaustive]
    DuplicateName {
        /// The repeated name.
        account: String,
    },
    /// `base_url` is malformed, not https (outside loopback), or carries user info, a
    /// query or a fragment. The URL itself is not repeated.
    #[error("account {account}: field `base_url` {reason}")]
    #[non_exhaustive]
    InvalidBaseUrl {
        /// The account.
        account: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The vendor has no server of its own (a new-api relay: every site has its own
    /// address), and the account gives none.
    #[error(
        "account {account}: field `base_url` is required: {vendor} has no server of its own; \
         set it to {hint} (in the config file, or environment variable `{variable}`)"
    )]
    #[non_exhaustive]
    MissingBaseUrl {
        /// The account.
        account: String,
        /// The account's vendor.
        vendor: Vendor,
        /// What the base URL is, from the vendor's description.
        hint: String,
        /// The environment variable that can give it (`NEWAPI_BASE_URL`).
        variable: String,
    },
    /// Only one variable of a pair that belongs together is set.
    #[error("environment variable `{set}` is set but `{missing}` is not")]
    #[non_exhaustive]
    IncompleteEnv {
        /// The variable that is set.
        set: String,
        /// The one that is missing.
        missing: String,
    },
    /// A `monthly_budget` that is not `AMOUNT CURRENCY`, on an account or (with no account)
    /// for the whole file.
    #[error(
        "{}field `monthly_budget`: {reason}",
        account.as_ref().map(|a| format!("account {a}: ")).unwrap_or_default()
    )]
    #[non_exhaustive]
    InvalidBudget {
        /// The account, or `None` for the file-wide default.
        account: Option<String>,
        /// What is wrong, and what was expected.
        reason: String,
    },
    /// An `alert_below` threshold that is not `AMOUNT[CURRENCY]`, on an account or (with no
    /// account) for the whole file.
    #[error(
        "{}field `alert_below`: {reason}",
        account.as_ref().map(|a| format!("account {a}: ")).unwrap_or_default()
    )]
    #[non_exhaustive]
    InvalidThreshold {
        /// The account, or `None` for the file-wide default.
        account: Option<String>,
        /// What is wrong, and what was expected.
        reason: String,
    },
    /// The HTTP client could not be built (for example, no TLS roots).
    #[error("cannot build the HTTP client: {message}")]
    #[non_exhaustive]
    HttpClient {
        /// Why.
        message: String,
    },
}

impl ConfigError {
    /// The account at fault, when the error is about one.
    pub fn account(&self) -> Option<&str> {
        match self {
            ConfigError::UnknownField { account, .. }
            | ConfigError::FieldNotAllowed { account, .. }
            | ConfigError::InvalidType { account, .. }
            | ConfigError::MissingField { account, .. }
            | ConfigError::MissingCredential { account, .. }
            | ConfigError::MissingParameter { account, .. }
            | ConfigError::Conflicting { account, .. }
            | ConfigError::UnsetEnv { account, .. }
            | ConfigError::EmptyValue { account, .. }
            | ConfigError::InvalidCredential { account, .. }
            | ConfigError::UnknownVendor { account, .. }
            | ConfigError::UnknownRegion { account, .. }
            | ConfigError::DuplicateName { account }
            | ConfigError::InvalidBaseUrl { account, .. }
            | ConfigError::MissingBaseUrl { account, .. } => Some(account),
            ConfigError::InvalidThreshold { account, .. }
            | ConfigError::InvalidBudget { account, .. } => account.as_deref(),
            ConfigError::Io { .. }
            | ConfigError::Syntax { .. }
            | ConfigError::IncompleteEnv { .. }
            | ConfigError::HttpClient { .. } => None,
        }
    }

    /// The field at fault, when the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::UnknownField { field, .. }
            | ConfigError::FieldNotAllowed { field, .. }
            | ConfigError::InvalidType { field, .. }
            | ConfigError::MissingField { field, .. }
            | ConfigError::MissingCredential { field, .. }
            | ConfigError::MissingParameter { field, .. }
            | ConfigError::Conflicting { field, .. }
            | ConfigError::UnsetEnv { field, .. }
            | ConfigError::EmptyValue { field, .. }
            | ConfigError::InvalidCredential { field, .. } => Some(field),
            ConfigError::UnknownVendor { .. } => Some("vendor"),
            ConfigError::UnknownRegion { .. } => Some("region"),
            ConfigError::DuplicateName { .. } => Some("name"),
            ConfigError::InvalidBaseUrl { .. } | ConfigError::MissingBaseUrl { .. } => {
                Some("base_url")
            }
            ConfigError::InvalidThreshold { .. } => Some("alert_below"),
            ConfigError::InvalidBudget { .. } => Some("monthly_budget"),
            ConfigError::Io { .. }
            | ConfigError::Syntax { .. }
            | ConfigError::IncompleteEnv { .. }
            | ConfigError::HttpClient { .. } => None,
        }
    }
}

/// Everything that can go wrong fetching a balance, by what the caller can do about it.
///
/// Match on the variant, or on [`Error::kind`] for a stable, serializable name. Variants about
/// a request carry the account name and vendor.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The vendor rejected the credentials (HTTP 401, or 403). Fix the key; retrying will
    /// not help. When the vendor's balance endpoint needs a particular kind of key (a
    /// management or admin key), the message says which ([`Vendor::key_hint`]).
    #[error(
        "{account} ({vendor}): authentication failed (HTTP {status}): {}{}",
        escape_control(message),
        vendor.key_hint().map(|hint| format!(" (the balance endpoint needs {hint})")).unwrap_or_default()
    )]
    #[non_exhaustive]
    Authentication {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The HTTP status.
        status: u16,
        /// The vendor's message, redacted.
        message: String,
    },
    /// The vendor refused the call for lack of funds (HTTP 402). Top up; retrying will not
    /// help.
    #[error(
        "{account} ({vendor}): insufficient balance (HTTP {status}): {}",
        escape_control(message)
    )]
    #[non_exhaustive]
    InsufficientBalance {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The HTTP status: 402, or what the vendor's description says means it.
        status: u16,
        /// The vendor's message, redacted.
        message: String,
    },
    /// The vendor refused the request's signing time as too far from its own clock: the
    /// cloud signature schemes accept a timestamp only within minutes of the server's time
    /// (Alibaba Cloud `InvalidTimeStamp.Expired`, Tencent Cloud
    /// `AuthFailure.SignatureExpire`, Volcengine `InvalidTimestamp`, Baidu AI Cloud
    /// `RequestExpired`). The credentials may be fine: this machine's clock is wrong. Fix
    /// the clock (NTP); retrying with the same clock will not help.
    #[error(
        "{account} ({vendor}): the vendor refused the request's timestamp as too far from its clock (HTTP {status}, {}): {}; this machine's clock is probably wrong: synchronize it (for example with NTP) and try again",
        escape_control(code),
        escape_control(message)
    )]
    #[non_exhaustive]
    ClockSkew {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The HTTP status of the answer (200 for a vendor that reports errors in-band).
        status: u16,
        /// The vendor's error code (or the HTTP status when the body had none).
        code: String,
        /// The vendor's message, redacted.
        message: String,
    },
    /// The vendor has retired the balance endpoint (HTTP 410 Gone, or a code the vendor's
    /// description maps to it): SiliconFlow answers so on its cn site since 2026-08-14.
    /// Retrying will not help; the message says what to do instead (the vendor's
    /// [`Vendor::retired_hint`], else to look for the vendor's replacement).
    #[error(
        "{account} ({vendor}): the vendor has retired this balance endpoint (HTTP {status}, {}): {}; {}",
        escape_control(code),
        escape_control(message),
        vendor.retired_hint().unwrap_or("look for the vendor's announcement of a replacement and update the balances crate or this account's region")
    )]
    #[non_exhaustive]
    EndpointRetired {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The HTTP status of the answer: 410, or what the vendor's description maps to it.
        status: u16,
        /// The vendor's error code (or the HTTP status when the body had none).
        code: String,
        /// The vendor's message, redacted.
        message: String,
    },
    /// Too many requests (HTTP 429, or what the vendor's description says means it: ZenMux
    /// answers 422), still so after the retries allowed. Wait `retry_after` (from the
    /// `Retry-After` header) when the vendor said how long.
    #[error("{account} ({vendor}): rate limited (HTTP {status}){}", fmt_retry_after(*retry_after))]
    #[non_exhaustive]
    RateLimited {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The HTTP status of the answer.
        status: u16,
        /// How long the vendor asked to wait.
        retry_after: Option<Duration>,
    },
    /// The vendor answered with an error of its own: an HTTP 4xx that is not about auth,
    /// money or rate (DeepSeek 400/422, GeekAI 400/404/413), or an EIOTClub envelope whose
    /// `code` is not `"200"`.
    #[error(
        "{account} ({vendor}): vendor error {}: {}",
        escape_control(code),
        escape_control(message)
    )]
    #[non_exhaustive]
    Vendor {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The HTTP status of the response (200 for an EIOTClub envelope error).
        status: u16,
        /// The vendor's error code (or the HTTP status when the body had none).
        code: String,
        /// The vendor's message, redacted.
        message: String,
    },
    /// A failure that may pass: HTTP 5xx, a connection error, an empty or truncated body.
    /// Retried automatically; returned when the retries ran out.
    #[error("{account} ({vendor}): transient failure{}: {}", fmt_status(*status), escape_control(reason))]
    #[non_exhaustive]
    Transient {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The HTTP status, when there was a response.
        status: Option<u16>,
        /// What happened.
        reason: String,
        /// How long the server asked to wait (`Retry-After` on a 503), if it did.
        retry_after: Option<Duration>,
        /// The network error underneath (DNS, TLS, connect, a broken body), when there was
        /// one; also what [`std::error::Error::source`] returns.
        #[source]
        source: Option<Cause>,
    },
    /// The call (or its last attempt) took longer than the configured
    /// [`crate::TimeoutConfig`].
    #[error("{account} ({vendor}): timed out after {after:?} (the {limit} limit)")]
    #[non_exhaustive]
    Timeout {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The limit that was hit.
        after: Duration,
        /// Which limit of [`crate::TimeoutConfig`] it was.
        limit: TimeoutLimit,
    },
    /// The response could not be understood: not JSON, not the documented shape, amounts
    /// that contradict each other, or an amount a `Decimal` cannot hold exactly (more than 28
    /// decimal places or 96 bits): it is refused, never rounded. `excerpt` is the start of the body, at most 200
    /// characters, with credentials redacted.
    #[error("{account} ({vendor}): undecodable response{}: {}; body starts: {excerpt:?}", fmt_status(*status), escape_control(reason))]
    #[non_exhaustive]
    Undecodable {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The HTTP status.
        status: Option<u16>,
        /// Why it could not be decoded.
        reason: String,
        /// The start of the body (≤ 200 characters, redacted).
        excerpt: String,
    },
    /// The response body was larger than the limit, so reading stopped.
    #[error("{account} ({vendor}): response body larger than {limit} bytes")]
    #[non_exhaustive]
    ResponseTooLarge {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The vendor redirected the request to another origin (or more than
    /// [`crate::redirect::MAX_REDIRECTS`] times); it was not followed, so no credential went
    /// there. Same-origin redirects are followed. `origin` is the target's scheme, host and
    /// port, never its path or query.
    #[error("{account} ({vendor}): {}", if *too_many { format!("more than {} redirects", crate::redirect::MAX_REDIRECTS) } else { format!("redirected to another origin, {}: not followed (credentials go only to the account's server)", escape_control(origin)) })]
    #[non_exhaustive]
    Redirected {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// The origin the vendor redirected to.
        origin: String,
        /// The redirects were followed until the limit, all within the origin.
        too_many: bool,
    },
    /// A request of the escape hatch's generated client could not be built from what the
    /// caller gave it; nothing was sent.
    #[error("{account} ({vendor}): request not sent: {}", escape_control(reason))]
    #[non_exhaustive]
    InvalidRequest {
        /// The account.
        account: String,
        /// Its vendor.
        vendor: Vendor,
        /// Why it could not be built.
        reason: String,
    },
    /// The configuration is wrong; nothing was sent.
    #[error(transparent)]
    InvalidConfig(#[from] ConfigError),
}

/// Which limit of [`crate::TimeoutConfig`] a [`Error::Timeout`] hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutLimit {
    /// Establishing a connection.
    Connect,
    /// One attempt.
    Attempt,
    /// The whole call.
    Call,
}

impl std::fmt::Display for TimeoutLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutLimit::Connect => "connect",
            TimeoutLimit::Attempt => "attempt",
            TimeoutLimit::Call => "call",
        })
    }
}

/// The error underneath an [`Error`]: the network error that caused a transient failure,
/// with its own source chain (io errors, DNS, TLS). It holds no URL and no header, so no
/// credential. Two causes are equal when they say the same.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync + 'static>);

impl Cause {
    pub(crate) fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    /// The underlying error, to downcast (for example to `reqwest::Error` or
    /// `std::io::Error`).
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

fn fmt_status(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

fn fmt_retry_after(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; retry after {d:?}"))
        .unwrap_or_default()
}

/// The stable, serializable name of an [`Error`]'s variant, for logs, metrics and
/// machine-readable output: `authentication`, `insufficient_balance`, `rate_limited`,
/// `clock_skew`, `endpoint_retired`, `vendor`, `transient`, `timeout`, `undecodable`, `response_too_large`,
/// `redirected`, `invalid_request`, `invalid_config`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Authentication`]
    Authentication,
    /// [`Error::InsufficientBalance`]
    InsufficientBalance,
    /// [`Error::RateLimited`]
    RateLimited,
    /// [`Error::ClockSkew`]
    ClockSkew,
    /// [`Error::EndpointRetired`]
    EndpointRetired,
    /// [`Error::Vendor`]
    Vendor,
    /// [`Error::Transient`]
    Transient,
    /// [`Error::Timeout`]
    Timeout,
    /// [`Error::Undecodable`]
    Undecodable,
    /// [`Error::ResponseTooLarge`]
    ResponseTooLarge,
    /// [`Error::Redirected`]
    Redirected,
    /// [`Error::InvalidRequest`]
    InvalidRequest,
    /// [`Error::InvalidConfig`]
    InvalidConfig,
}

impl ErrorKind {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Authentication => "authentication",
            ErrorKind::InsufficientBalance => "insufficient_balance",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::ClockSkew => "clock_skew",
            ErrorKind::EndpointRetired => "endpoint_retired",
            ErrorKind::Vendor => "vendor",
            ErrorKind::Transient => "transient",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Undecodable => "undecodable",
            ErrorKind::ResponseTooLarge => "response_too_large",
            ErrorKind::Redirected => "redirected",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::InvalidConfig => "invalid_config",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The stable name of this error's variant.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Authentication { .. } => ErrorKind::Authentication,
            Error::InsufficientBalance { .. } => ErrorKind::InsufficientBalance,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::ClockSkew { .. } => ErrorKind::ClockSkew,
            Error::EndpointRetired { .. } => ErrorKind::EndpointRetired,
            Error::Vendor { .. } => ErrorKind::Vendor,
            Error::Transient { .. } => ErrorKind::Transient,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Undecodable { .. } => ErrorKind::Undecodable,
            Error::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Error::Redirected { .. } => ErrorKind::Redirected,
            Error::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            Error::InvalidConfig(_) => ErrorKind::InvalidConfig,
        }
    }

    /// Whether the same call may succeed later: rate limits, transient failures and
    /// timeouts. Authentication, money, vendor, decoding and configuration errors are not
    /// retryable, and [`crate::BalanceClient`] never retries them.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. } | Error::Transient { .. } | Error::Timeout { .. }
        )
    }

    /// How long the vendor asked to wait before trying again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } | Error::Transient { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The account this error is about, when known.
    pub fn account(&self) -> Option<&str> {
        match self {
            Error::Authentication { account, .. }
            | Error::InsufficientBalance { account, .. }
            | Error::RateLimited { account, .. }
            | Error::ClockSkew { account, .. }
            | Error::EndpointRetired { account, .. }
            | Error::Vendor { account, .. }
            | Error::Transient { account, .. }
            | Error::Timeout { account, .. }
            | Error::Undecodable { account, .. }
            | Error::ResponseTooLarge { account, .. }
            | Error::Redirected { account, .. }
            | Error::InvalidRequest { account, .. } => Some(account),
            Error::InvalidConfig(e) => e.account(),
        }
    }

    /// The vendor this error is about, when known.
    pub fn vendor(&self) -> Option<Vendor> {
        match self {
            Error::Authentication { vendor, .. }
            | Error::InsufficientBalance { vendor, .. }
            | Error::RateLimited { vendor, .. }
            | Error::ClockSkew { vendor, .. }
            | Error::EndpointRetired { vendor, .. }
            | Error::Vendor { vendor, .. }
            | Error::Transient { vendor, .. }
            | Error::Timeout { vendor, .. }
            | Error::Undecodable { vendor, .. }
            | Error::ResponseTooLarge { vendor, .. }
            | Error::Redirected { vendor, .. }
            | Error::InvalidRequest { vendor, .. } => Some(*vendor),
            Error::InvalidConfig(ConfigError::FieldNotAllowed { vendor, .. }) => Some(*vendor),
            Error::InvalidConfig(_) => None,
        }
    }

    /// The HTTP status of the response this error came from, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Authentication { status, .. }
            | Error::Vendor { status, .. }
            | Error::ClockSkew { status, .. }
            | Error::EndpointRetired { status, .. } => Some(*status),
            Error::InsufficientBalance { status, .. } | Error::RateLimited { status, .. } => {
                Some(*status)
            }
            Error::Transient { status, .. } | Error::Undecodable { status, .. } => *status,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_kinds() -> Vec<(Error, &'static str, bool)> {
        let vendor = Vendor::find("deepseek").expect("in the registry");
        let account = "a".to_owned();
        vec![
            (
                Error::Authentication {
                    account: account.clone(),
                    vendor,
                    status: 401,
                    message: String::new(),
                },
                "authentication",
                false,
            ),
            (
                Error::InsufficientBalance {
                    account: account.clone(),
                    vendor,
                    status: 402,
                    message: String::new(),
                },
                "insufficient_balance",
                false,
            ),
            (
                Error::RateLimited {
                    account: account.clone(),
                    vendor,
                    status: 429,
                    retry_after: None,
                },
                "rate_limited",
                true,
            ),
            (
                Error::ClockSkew {
                    account: account.clone(),
                    vendor,
                    status: 400,
                    code: "InvalidTimestamp".into(),
                    message: String::new(),
                },
                "clock_skew",
                false,
            ),
            (
                Error::EndpointRetired {
                    account: account.clone(),
                    vendor,
                    status: 410,
                    code: "20092".into(),
                    message: String::new(),
                },
                "endpoint_retired",
                false,
            ),
            (
                Error::Vendor {
                    account: account.clone(),
                    vendor,
                    status: 400,
                    code: "x".into(),
                    message: String::new(),
                },
                "vendor",
                false,
            ),
            (
                Error::Transient {
                    account: account.clone(),
                    vendor,
                    status: None,
                    reason: String::new(),
                    retry_after: None,
                    source: None,
                },
                "transient",
                true,
            ),
            (
                Error::Timeout {
                    account: account.clone(),
                    vendor,
                    after: Duration::from_secs(1),
                    limit: TimeoutLimit::Call,
                },
                "timeout",
                true,
            ),
            (
                Error::Undecodable {
                    account: account.clone(),
                    vendor,
                    status: Some(200),
                    reason: String::new(),
                    excerpt: String::new(),
                },
                "undecodable",
                false,
            ),
            (
                Error::ResponseTooLarge {
                    account,
                    vendor,
                    limit: 1,
                },
                "response_too_large",
                false,
            ),
            (
                Error::InvalidConfig(ConfigError::DuplicateName {
                    account: "a".into(),
                }),
                "invalid_config",
                false,
            ),
        ]
    }

    #[test]
    fn kinds_have_stable_snake_case_names() {
        for (error, name, retryable) in all_kinds() {
            let kind = error.kind();
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
            assert_eq!(
                serde_json::to_string(&kind).ok(),
                Some(format!("\"{name}\""))
            );
            assert_eq!(error.is_retryable(), retryable, "{name}");
            assert_eq!(error.account(), Some("a"));
        }
    }

    #[test]
    fn clock_skew_tells_the_user_to_fix_the_clock() {
        let error = Error::ClockSkew {
            account: "work".into(),
            vendor: Vendor::find("deepseek").expect("in the registry"),
            status: 400,
            code: "InvalidTimestamp".into(),
            message: "The Signature of the request is expired.".into(),
        };
        let shown = error.to_string();
        assert!(shown.contains("synchronize it"), "{shown}");
        assert!(shown.contains("InvalidTimestamp"), "{shown}");
        assert!(!shown.contains("authentication failed"), "{shown}");
        assert_eq!(error.status(), Some(400));
        assert!(!error.is_retryable());
    }

    #[test]
    fn a_retired_endpoint_says_what_to_do_instead() {
        let retired = |vendor: &str| Error::EndpointRetired {
            account: "work".into(),
            vendor: Vendor::find(vendor).expect("in the registry"),
            status: 410,
            code: "20092".into(),
            message: "gone".into(),
        };
        let error = retired("siliconflow");
        let shown = error.to_string();
        assert!(shown.contains("retired"), "{shown}");
        let hint = error
            .vendor()
            .and_then(Vendor::retired_hint)
            .expect("SiliconFlow's description says what to do");
        assert!(shown.ends_with(hint), "{shown}");
        assert!(hint.contains("global"), "{hint}");
        assert!(!error.is_retryable());
        assert_eq!(error.status(), Some(410));
        // A vendor without advice of its own still gets a next step.
        let shown = retired("deepseek").to_string();
        assert!(shown.contains("replacement"), "{shown}");
    }

    #[test]
    fn rate_limited_display_reports_the_wait() {
        let error = Error::RateLimited {
            account: "work".into(),
            vendor: Vendor::find("geekai").expect("in the registry"),
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            error.to_string(),
            "work (geekai): rate limited (HTTP 429); retry after 7s"
        );
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
        // A vendor that rate-limits with another status is reported with it.
        let error = Error::RateLimited {
            account: "work".into(),
            vendor: Vendor::find("zenmux").expect("in the registry"),
            status: 422,
            retry_after: None,
        };
        assert_eq!(error.to_string(), "work (zenmux): rate limited (HTTP 422)");
        assert_eq!(error.status(), Some(422));
    }
}
