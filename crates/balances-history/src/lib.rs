//! Balance history for the `balances` command: every successful fetch recorded in a local
//! SQLite file, and from it a burn rate and a "runs out in" estimate, in exact decimals.
//!
//! - [`Store`] is the file: created with mode 0600, in WAL mode with a busy timeout so a
//!   cron-driven command and a running exporter can share it, versioned migrations
//!   ([`LATEST_SCHEMA`]), a file written by a newer schema left untouched, and thinning of
//!   old samples ([`Retention`]). A run that fetches first can read what recording needs
//!   while it waits ([`Store::prepare`]) and record afterwards without lookups
//!   ([`Store::record_prepared`], which hands the forecasts' window ends over before it
//!   writes).
//! - A sample is built from a [`balances::Balance`] ([`readings`]): account, vendor,
//!   currency or unit, the exact amounts as decimal text, and the time. Keys and vendor
//!   messages have no field to go in.
//! - [`Forecast`] is the arithmetic: spend per day over a window, with rises (top-ups,
//!   refunds) left out rather than counted as negative spend, and when the balance reaches
//!   zero or the account's `alert_below`; "no estimate" when the history cannot say.
//!
//! ```
//! use balances::{Amount, Balance, Decimal, Vendor};
//! use balances_history::{Forecast, ForecastSettings, SeriesKey, Measure, Store};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let dir = tempfile::tempdir()?;
//! let mut store = Store::open(&dir.path().join("history.sqlite3"))?;
//! let vendor = Vendor::find("deepseek").expect("a registry vendor");
//! for (hour, total) in [(0, "10.00"), (1, "9.50"), (2, "9.00")] {
//!     let balance = Balance::new("work", vendor, Some(true), vec![Amount::total("CNY", total.parse()?)])?;
//!     store.record([(UNIX_EPOCH + Duration::from_secs(hour * 3600), &balance)])?;
//! }
//! let key = SeriesKey { account: "work".into(), vendor: "deepseek".into(), measure: Measure::Currency, code: "CNY".into() };
//! let settings = ForecastSettings::default();
//! let ends = store.window_ends(&[key], settings.window)?;
//! let forecast = Forecast::from_ends(&ends[0].1, Decimal::ZERO, &settings);
//! assert_eq!(forecast.spend_per_day, Some("12".parse()?)); // 0.50 an hour
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod forecast;
mod record;
mod schema;
mod store;

pub use forecast::{
    Estimate, Forecast, ForecastSettings, NoEstimate, Running, WindowEnds, human_remaining,
    window_start,
};
pub use record::{Measure, Reading, SeriesKey, readings};
pub use schema::LATEST as LATEST_SCHEMA;
pub use store::{
    AmountWidths, DEFAULT_BUSY_TIMEOUT, HistoryError, HistoryQuery, Prepared, Recorded, Retention,
    Sample, SeriesHistory, SeriesId, Store, ms_since_epoch, time_of_ms,
};

/// For the migration tests: brings a file to an older version, as an older build left it.
#[doc(hidden)]
pub mod testing {
    pub use crate::schema::migrate_to;
}
