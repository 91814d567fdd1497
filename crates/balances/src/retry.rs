//! Retry and timeout policy: named types with documented defaults, and the pure parts of the
//! policy (backoff, `Retry-After`) as functions that are easy to test.

use std::time::{Duration, SystemTime};

/// When and how often a failed call is tried again.
///
/// Only retryable failures are retried ([`crate::Error::is_retryable`]): HTTP 429, 5xx,
/// connection errors, empty or truncated bodies, attempt timeouts. Authentication,
/// insufficient balance, vendor errors and undecodable answers are returned at once.
///
/// The wait before attempt *n + 1* is the server's `Retry-After` when it sent one, else an
/// exponential backoff with jitter: `min(max_backoff, initial_backoff × 2ⁿ⁻¹)`, of which a
/// random part up to half is taken off so that many clients do not retry in step.
///
/// | setting           | default | meaning                                                 |
/// |-------------------|---------|---------------------------------------------------------|
/// | `max_attempts`    | 3       | attempts in all, the first included (1 = no retries)    |
/// | `initial_backoff` | 250 ms  | base wait after the first failure                       |
/// | `max_backoff`     | 5 s     | cap on the computed backoff                             |
/// | `max_retry_after` | 30 s    | a longer `Retry-After` is not slept: the error returns at once, carrying the wait |
///
/// ```
/// use std::time::Duration;
/// use balances::RetryConfig;
///
/// let retry = RetryConfig::default()
///     .with_max_attempts(5)
///     .with_initial_backoff(Duration::from_millis(100));
/// assert_eq!(retry.max_attempts(), 5);
/// assert_eq!(RetryConfig::disabled().max_attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryConfig {
    /// One attempt, no retries.
    pub fn disabled() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Attempts in all, the first included. Zero is treated as one.
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Base wait after the first failure.
    pub fn with_initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// Cap on the computed backoff (not on `Retry-After`; see
    /// [`RetryConfig::with_max_retry_after`]).
    pub fn with_max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// The longest `Retry-After` that is waited out; a longer one ends the call with the
    /// error, which reports the wait.
    pub fn with_max_retry_after(mut self, max_retry_after: Duration) -> Self {
        self.max_retry_after = max_retry_after;
        self
    }

    /// Attempts in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Base wait after the first failure.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// Cap on the computed backoff.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// Longest `Retry-After` waited out.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The backoff before the attempt after `failed_attempt` (1-based), without jitter.
    pub fn base_backoff(&self, failed_attempt: u32) -> Duration {
        let exponent = failed_attempt.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff)
    }

    /// The backoff with jitter: between half of [`RetryConfig::base_backoff`] and all of it.
    pub fn backoff(&self, failed_attempt: u32) -> Duration {
        let base = self.base_backoff(failed_attempt);
        let half = base / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(rand::random_range(0..=jitter_nanos))
    }
}

/// How long to wait for what. `None` means no limit.
///
/// | setting   | default | covers                                                         |
/// |-----------|---------|----------------------------------------------------------------|
/// | `connect` | 5 s     | establishing one TCP (and TLS) connection                      |
/// | `attempt` | 15 s    | one attempt: connect, send, read the whole body. Retryable     |
/// | `call`    | 45 s    | the whole call: every attempt and every wait between them      |
///
/// When the call limit is hit, the call ends with [`crate::Error::Timeout`]. When an attempt
/// limit is hit, the attempt counts as a transient failure and is retried; if it was the
/// last attempt the call ends with [`crate::Error::Timeout`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeoutConfig {
    connect: Option<Duration>,
    attempt: Option<Duration>,
    call: Option<Duration>,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        Self {
            connect: Some(Duration::from_secs(5)),
            attempt: Some(Duration::from_secs(15)),
            call: Some(Duration::from_secs(45)),
        }
    }
}

impl TimeoutConfig {
    /// No limits at all. Only sensible when the caller puts its own timeout around calls.
    pub fn disabled() -> Self {
        Self {
            connect: None,
            attempt: None,
            call: None,
        }
    }

    /// Limit on establishing a connection.
    pub fn with_connect(mut self, connect: impl Into<Option<Duration>>) -> Self {
        self.connect = connect.into();
        self
    }

    /// Limit on one attempt.
    pub fn with_attempt(mut self, attempt: impl Into<Option<Duration>>) -> Self {
        self.attempt = attempt.into();
        self
    }

    /// Limit on the whole call, retries and waits included.
    pub fn with_call(mut self, call: impl Into<Option<Duration>>) -> Self {
        self.call = call.into();
        self
    }

    /// Limit on establishing a connection.
    pub fn connect(&self) -> Option<Duration> {
        self.connect
    }

    /// Limit on one attempt.
    pub fn attempt(&self) -> Option<Duration> {
        self.attempt
    }

    /// Limit on the whole call.
    pub fn call(&self) -> Option<Duration> {
        self.call
    }
}

/// Parses a `Retry-After` value: delay-seconds (`"120"`) or an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`), relative to `now`. A date in the past means no wait;
/// anything else unparseable is ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: delay-seconds. Absurd values saturate rather than fail.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn retry_after_http_date() {
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        let when = httpdate::parse_http_date(date).expect("valid date");
        let now = when - Duration::from_secs(90);
        assert_eq!(parse_retry_after(date, now), Some(Duration::from_secs(90)));
        // A date in the past: no wait.
        let later = when + Duration::from_secs(5);
        assert_eq!(parse_retry_after(date, later), Some(Duration::ZERO));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let retry = RetryConfig::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(700));
        let bases: Vec<_> = (1..=5).map(|n| retry.base_backoff(n).as_millis()).collect();
        assert_eq!(bases, [100, 200, 400, 700, 700]);
        assert_eq!(retry.base_backoff(u32::MAX), Duration::from_millis(700));
    }

    #[test]
    fn jitter_stays_between_half_and_full() {
        let retry = RetryConfig::default().with_initial_backoff(Duration::from_millis(100));
        for _ in 0..1000 {
            let wait = retry.backoff(2);
            assert!(wait >= Duration::from_millis(100) && wait <= Duration::from_millis(200));
        }
    }

    #[test]
    fn defaults_are_documented_values() {
        let retry = RetryConfig::default();
        assert_eq!(retry.max_attempts(), 3);
        assert_eq!(retry.initial_backoff(), Duration::from_millis(250));
        assert_eq!(retry.max_backoff(), Duration::from_secs(5));
        assert_eq!(retry.max_retry_after(), Duration::from_secs(30));
        assert_eq!(
            RetryConfig::default().with_max_attempts(0).max_attempts(),
            1
        );
        let timeout = TimeoutConfig::default();
        assert_eq!(timeout.connect(), Some(Duration::from_secs(5)));
        assert_eq!(timeout.attempt(), Some(Duration::from_secs(15)));
        assert_eq!(timeout.call(), Some(Duration::from_secs(45)));
        assert_eq!(TimeoutConfig::disabled().call(), None);
    }
}
