//! A vendor whose operation reports spend over a period instead of a balance (OpenAI's and
//! Anthropic's cost reports): how the period goes into the request, how the report's pages
//! are followed, and what an example of one must give.
//!
//! The report's rows (every row of every page) carry an exact amount and a currency; the
//! facade sums them per currency, divided by the mapping's `scale` where the vendor counts
//! in cents. A budget from the account's configuration turns the sum into what is left.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Pointer;

/// How a spend report is asked for and read (`[balance.spend]` in `vendor.toml`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SpendReport {
    /// The query parameter carrying the period's start (inclusive).
    pub start: PeriodParameter,
    /// The query parameter carrying the period's end (exclusive), when the vendor takes one.
    #[serde(default)]
    pub end: Option<PeriodParameter>,
    /// Query parameters sent with every page with one value each (`bucket_width = "1d"`).
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// How the report's pages are followed.
    pub pages: Pagination,
}

/// A query parameter carrying an instant of the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PeriodParameter {
    /// The parameter's name, as the spec writes it (`start_time`).
    pub name: String,
    /// How the instant is written.
    pub format: TimeFormat,
}

/// How an instant is written in a query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimeFormat {
    /// Seconds since the Unix epoch, an integer (`1730419200`).
    UnixSeconds,
    /// RFC 3339 in UTC, to the second (`2025-08-01T00:00:00Z`).
    Rfc3339,
}

impl TimeFormat {
    /// `unix_seconds` (seconds since the epoch) written in this format.
    pub fn write(self, unix_seconds: i64) -> Option<String> {
        match self {
            TimeFormat::UnixSeconds => Some(unix_seconds.to_string()),
            TimeFormat::Rfc3339 => chrono::DateTime::from_timestamp(unix_seconds, 0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        }
    }
}

/// A report in pages: a flag in the body says whether another page follows, and a cursor
/// in the body is sent back as a query parameter to get it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Pagination {
    /// A boolean (from the body's root): another page follows (`/has_more`).
    pub more: Pointer,
    /// The next page's cursor (from the body's root), a string (`/next_page`).
    pub cursor: Pointer,
    /// The query parameter the cursor is sent back as (`page`).
    pub parameter: String,
    /// At most this many pages are fetched for one reading; a report that goes on is an
    /// error, never a partial sum.
    pub max_pages: u32,
}

/// An expected spend reading (account and vendor are the test's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExpectedSpend {
    /// The period's start, RFC 3339.
    pub from: String,
    /// The period's end (exclusive), RFC 3339.
    pub to: String,
    /// The spend per currency, sorted by currency; decimals compared exactly.
    pub spent: Vec<ExpectedSpent>,
}

/// One currency's expected spend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExpectedSpent {
    /// The currency (`USD`).
    pub currency: String,
    /// The sum, as a decimal string.
    pub amount: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_written_in_either_format() {
        assert_eq!(
            TimeFormat::UnixSeconds.write(1_730_419_200).as_deref(),
            Some("1730419200")
        );
        assert_eq!(
            TimeFormat::Rfc3339.write(1_754_006_400).as_deref(),
            Some("2025-08-01T00:00:00Z")
        );
    }

    #[test]
    fn a_spend_report_reads_from_toml() {
        let report: SpendReport = toml::from_str(
            r#"
            start = { name = "start_time", format = "unix_seconds" }
            end = { name = "end_time", format = "unix_seconds" }
            query = { bucket_width = "1d" }
            pages = { more = "/has_more", cursor = "/next_page", parameter = "page", max_pages = 12 }
            "#,
        )
        .expect("a spend report");
        assert_eq!(report.start.format, TimeFormat::UnixSeconds);
        assert_eq!(report.pages.max_pages, 12);
        assert!(
            toml::from_str::<SpendReport>("start = { name = \"s\", format = \"ms\" }").is_err()
        );
    }
}
