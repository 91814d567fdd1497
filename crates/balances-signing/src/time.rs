//! The instant a request is signed at, and the nonce it carries: one [`Attempt`] per request
//! sent, so that a retry is signed again with a fresh time (and nonce).

use std::fmt;
use std::time::SystemTime;

use chrono::{DateTime, Datelike, Utc};

use crate::SigningError;

/// A UTC instant in whole seconds, between 1970 and 9999 (every scheme writes a four-digit
/// year, and Tencent's `X-TC-Timestamp` is Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SigningTime(DateTime<Utc>);

impl SigningTime {
    /// The instant `seconds` after the Unix epoch.
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, SigningError> {
        let instant = DateTime::from_timestamp(seconds, 0).ok_or(SigningError::TimeOutOfRange)?;
        if !(1970..=9999).contains(&instant.year()) {
            return Err(SigningError::TimeOutOfRange);
        }
        Ok(Self(instant))
    }

    /// `time`, truncated to the second.
    pub fn from_system_time(time: SystemTime) -> Result<Self, SigningError> {
        let seconds = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| SigningError::TimeOutOfRange)?
            .as_secs();
        Self::from_unix_seconds(i64::try_from(seconds).map_err(|_| SigningError::TimeOutOfRange)?)
    }

    /// The clock's current time.
    pub fn now() -> Result<Self, SigningError> {
        Self::from_system_time(SystemTime::now())
    }

    /// Seconds since the Unix epoch (Tencent's `X-TC-Timestamp`).
    pub fn unix_seconds(self) -> i64 {
        self.0.timestamp()
    }

    /// `2023-10-26T10:22:32Z` (Alibaba's `x-acs-date`, Baidu's timestamp and `x-bce-date`).
    pub(crate) fn iso8601_extended(self) -> String {
        self.0.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// `20240619T071306Z` (Volcengine's `X-Date`).
    pub(crate) fn iso8601_basic(self) -> String {
        self.0.format("%Y%m%dT%H%M%SZ").to_string()
    }

    /// `2019-02-25` (Tencent's credential-scope date).
    pub(crate) fn date_extended(self) -> String {
        self.0.format("%Y-%m-%d").to_string()
    }

    /// `20240619` (Volcengine's credential-scope date).
    pub(crate) fn date_basic(self) -> String {
        self.0.format("%Y%m%d").to_string()
    }
}

/// A value that must never repeat for the same key (Alibaba's `x-acs-signature-nonce`):
/// non-empty visible ASCII.
#[derive(Clone, PartialEq, Eq)]
pub struct Nonce(String);

impl Nonce {
    /// A given nonce, checked to be non-empty visible ASCII (it is sent as a header value).
    pub fn new(value: impl Into<String>) -> Result<Self, SigningError> {
        let value = value.into();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SigningError::InvalidNonce);
        }
        Ok(Self(value))
    }

    /// 128 random bits as 32 lowercase hex digits, the shape of the vendor's example nonce
    /// (`3156853299f313e23d1673dc12e1703d`).
    pub fn random() -> Self {
        Self(format!("{:032x}", rand::random::<u128>()))
    }

    /// The nonce's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({:?})", self.0)
    }
}

/// When one request is signed, and with which nonce (used by the schemes that have one).
/// Make a new one for every request sent, retries included: [`Attempt::fresh`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The signing time.
    pub time: SigningTime,
    /// The nonce (ignored by the schemes without one).
    pub nonce: Nonce,
}

impl Attempt {
    /// The clock's current time and a random nonce.
    pub fn fresh() -> Result<Self, SigningError> {
        Ok(Self {
            time: SigningTime::now()?,
            nonce: Nonce::random(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_every_shape_the_schemes_use() -> Result<(), SigningError> {
        let time = SigningTime::from_unix_seconds(1_551_113_065)?;
        assert_eq!(time.iso8601_extended(), "2019-02-25T16:44:25Z");
        assert_eq!(time.iso8601_basic(), "20190225T164425Z");
        assert_eq!(time.date_extended(), "2019-02-25");
        assert_eq!(time.date_basic(), "20190225");
        assert_eq!(time.unix_seconds(), 1_551_113_065);
        Ok(())
    }

    #[test]
    fn refuses_times_without_a_four_digit_year() {
        assert_eq!(
            SigningTime::from_unix_seconds(-1),
            Err(SigningError::TimeOutOfRange)
        );
        assert_eq!(
            SigningTime::from_unix_seconds(253_402_300_800), // 10000-01-01
            Err(SigningError::TimeOutOfRange)
        );
        assert_eq!(
            SigningTime::from_unix_seconds(i64::MAX),
            Err(SigningError::TimeOutOfRange)
        );
        assert!(SigningTime::from_unix_seconds(253_402_300_799).is_ok());
    }

    #[test]
    fn random_nonces_have_the_documented_shape_and_differ() {
        let (a, b) = (Nonce::random(), Nonce::random());
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(Nonce::new(""), Err(SigningError::InvalidNonce));
        assert_eq!(Nonce::new("a b"), Err(SigningError::InvalidNonce));
    }
}
