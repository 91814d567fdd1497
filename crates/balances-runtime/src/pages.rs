//! Spend reports: the period a report is asked for, and a report's pages followed and
//! combined into one projection. What a generated `balance::fetch` of a vendor whose
//! description has `[balance.spend]` calls.

use std::future::Future;

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};

use crate::binding::Sent;
use crate::context::Exchange;
use crate::projection::{Failure, Projection};

/// A period of time, `from` inclusive to `to` exclusive, in UTC, to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Period {
    /// The period from `from` to `to`; `None` unless `from` is before `to`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<Self> {
        (from < to).then_some(Self { from, to })
    }

    /// The calendar month in UTC that `now` falls in: from its first midnight to the next
    /// month's.
    pub fn month_of(now: DateTime<Utc>) -> Self {
        let first = |year: i32, month: u32| {
            Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
                .single()
                .unwrap_or(now)
        };
        let from = first(now.year(), now.month());
        let to = if now.month() == 12 {
            first(now.year() + 1, 1)
        } else {
            first(now.year(), now.month() + 1)
        };
        Self { from, to }
    }

    /// The start, inclusive.
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    /// The end, exclusive.
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// The start in seconds since the Unix epoch.
    pub fn start_unix_seconds(&self) -> i64 {
        self.from.timestamp()
    }

    /// The end in seconds since the Unix epoch.
    pub fn end_unix_seconds(&self) -> i64 {
        self.to.timestamp()
    }

    /// The start in RFC 3339 (`2025-08-01T00:00:00Z`).
    pub fn start_rfc3339(&self) -> String {
        self.from.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// The end in RFC 3339.
    pub fn end_rfc3339(&self) -> String {
        self.to.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// Fetches a report over `period` in pages: `page(None)`, then `page(Some(cursor))` with the
/// cursor each projection names, until one names none. The first call that is not a
/// projection is returned as is; the projections' rows are combined in page order (each
/// row's `at` names its page), with the period. More than `max_pages` pages is
/// [`Failure::TooManyPages`]: a partial sum would be a wrong number.
pub async fn paginate<F, Fut>(period: Period, max_pages: u32, mut page: F) -> Sent
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Sent>,
{
    let mut rows = Vec::new();
    let mut available = None;
    let mut cursor = None;
    let mut last: Option<Exchange> = None;
    for number in 1..=max_pages {
        match page(cursor.take()).await {
            Sent::Projected {
                projection: Ok(projection),
                exchange,
            } => {
                available = available.or(projection.available);
                rows.extend(projection.rows.into_iter().map(|mut row| {
                    row.at = format!("page {number}: {}", row.at);
                    row
                }));
                match projection.next_page {
                    None => {
                        let mut combined = Projection::new(available, rows);
                        combined.period = Some(period);
                        return Sent::Projected {
                            projection: Ok(combined),
                            exchange,
                        };
                    }
                    Some(next) => {
                        cursor = Some(next);
                        last = Some(exchange);
                    }
                }
            }
            other => return other,
        }
    }
    match last {
        Some(exchange) => Sent::Projected {
            projection: Err(Failure::TooManyPages { limit: max_pages }),
            exchange,
        },
        None => Sent::NotSent("a report of at most 0 pages asks for nothing".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::Row;

    fn instant(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_month_runs_from_its_first_midnight_to_the_next_months() {
        let period = Period::month_of(instant("2026-12-07T14:16:57Z"));
        assert_eq!(period.start_rfc3339(), "2026-12-01T00:00:00Z");
        assert_eq!(period.end_rfc3339(), "2027-01-01T00:00:00Z");
        let period = Period::month_of(instant("2024-11-30T23:59:59Z"));
        assert_eq!(period.start_unix_seconds(), 1_730_419_200);
        assert_eq!(period.end_rfc3339(), "2024-12-01T00:00:00Z");
        assert!(Period::new(period.to(), period.from()).is_none());
    }

    fn page(rows: usize, next: Option<&str>) -> Sent {
        Sent::Projected {
            projection: Ok(Projection::new(
                None,
                (0..rows).map(|i| Row::at(format!("r{i}"))).collect(),
            )
            .with_next_page(next.map(str::to_owned))),
            exchange: Exchange {
                status: reqwest::StatusCode::OK,
                headers: http::HeaderMap::new(),
                body: bytes::Bytes::new(),
            },
        }
    }

    #[tokio::test]
    async fn pages_are_followed_by_cursor_and_combined_in_order() {
        let mut asked = Vec::new();
        let period = Period::month_of(instant("2025-08-15T00:00:00Z"));
        let sent = paginate(period, 5, |cursor: Option<String>| {
            asked.push(cursor.clone());
            let answer = match cursor.as_deref() {
                None => page(2, Some("p2")),
                Some("p2") => page(0, Some("p3")),
                _ => page(1, None),
            };
            async move { answer }
        })
        .await;
        assert_eq!(asked, [None, Some("p2".into()), Some("p3".into())]);
        let Sent::Projected {
            projection: Ok(projection),
            ..
        } = sent
        else {
            panic!("a projection: {sent:?}");
        };
        let at: Vec<&str> = projection.rows.iter().map(|r| r.at.as_str()).collect();
        assert_eq!(at, ["page 1: r0", "page 1: r1", "page 3: r0"]);
        assert_eq!(projection.next_page, None);
        assert_eq!(projection.period, Some(period));
    }

    #[tokio::test]
    async fn a_report_past_the_bound_is_an_error_and_a_failed_page_ends_it() {
        let period = Period::month_of(instant("2025-08-15T00:00:00Z"));
        let sent = paginate(period, 3, |_| async { page(1, Some("again")) }).await;
        assert!(
            matches!(
                sent,
                Sent::Projected {
                    projection: Err(Failure::TooManyPages { limit: 3 }),
                    ..
                }
            ),
            "{sent:?}"
        );
        let mut calls = 0;
        let sent = paginate(period, 3, |cursor| {
            calls += 1;
            let answer = match cursor {
                None => page(1, Some("p2")),
                Some(_) => Sent::NotSent("refused".into()),
            };
            async move { answer }
        })
        .await;
        assert_eq!(calls, 2);
        assert!(matches!(sent, Sent::NotSent(reason) if reason == "refused"));
    }
}
