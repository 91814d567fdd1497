//! The exporter's side of the balance history: after each refresh, the balances fetched are
//! recorded and every account's forecast recomputed, off the async threads. A history that
//! cannot be used costs a log line and a metric, never a balance or a scrape.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use balances::{Balance, Threshold};
use balances_history::{HistoryError, HistoryQuery, SeriesHistory, SeriesKey, Store, readings};
use rust_decimal::Decimal;

use crate::history::{self, History, SeriesForecast};

/// One account's successful fetch in a refresh.
#[derive(Debug)]
pub struct Refreshed {
    /// Position in the exporter's account list when the refresh began.
    pub index: usize,
    pub finished_at: SystemTime,
    pub balance: Balance,
    pub threshold: Option<Threshold>,
}

/// Records refreshes into the history file, keeping it open between refreshes and
/// reopening it after a failure (a lock that cleared, a disk with room again).
#[derive(Debug)]
pub struct Recorder {
    history: History,
    store: Mutex<Option<Store>>,
    /// The last failure reported, so a failure that repeats every refresh is logged once.
    last_failure: Mutex<Option<String>>,
}

/// How far back the status page's charts reach.
pub const CHART_SPAN: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

/// What one refresh's recording gave.
#[derive(Debug)]
pub enum Recording {
    Recorded {
        /// Forecasts per account index.
        forecasts: Vec<(usize, Vec<SeriesForecast>)>,
        /// The samples this refresh added, for the charts.
        added: Vec<(SeriesKey, i64, Decimal)>,
        /// The charts' history, read once when the file was (re)opened.
        loaded: Option<Vec<SeriesHistory>>,
    },
    Failed,
}

impl Recorder {
    pub fn new(history: History) -> Arc<Self> {
        Arc::new(Self {
            history,
            store: Mutex::new(None),
            last_failure: Mutex::new(None),
        })
    }

    /// Records `refreshed` (blocking: run it on a blocking thread).
    pub fn record(&self, refreshed: &[Refreshed], now: SystemTime) -> Recording {
        match self.try_record(refreshed, now) {
            Ok(recording) => {
                let mut last = self
                    .last_failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if last.take().is_some() {
                    tracing::warn!(path = %self.history.path.display(), "balance history is recorded again");
                }
                recording
            }
            Err(error) => {
                // Reopen next time: the file may have been replaced, unlocked or freed.
                *self.store.lock().unwrap_or_else(PoisonError::into_inner) = None;
                let message = error.to_string();
                let mut last = self
                    .last_failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if last.as_deref() != Some(message.as_str()) {
                    tracing::warn!(%message, "balance history not recorded; balances are still served");
                    eprintln!("warning: balance history not used: {message}");
                    *last = Some(message);
                }
                Recording::Failed
            }
        }
    }

    fn try_record(
        &self,
        refreshed: &[Refreshed],
        now: SystemTime,
    ) -> Result<Recording, HistoryError> {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let mut loaded = None;
        if store.is_none() {
            let opened = Store::open(&self.history.path)?;
            loaded = Some(opened.history(&HistoryQuery {
                account: None,
                since: now.checked_sub(CHART_SPAN),
                every: Some(std::time::Duration::from_secs(3_600)),
            })?);
            *store = Some(opened);
        }
        let Some(store) = store.as_mut() else {
            return Ok(Recording::Failed);
        };
        let fetched: Vec<history::Fetched<'_>> = refreshed
            .iter()
            .map(|r| history::Fetched {
                balance: Some(&r.balance),
                finished_at: r.finished_at,
                threshold: r.threshold.as_ref(),
            })
            .collect();
        let forecasts = history::record_and_forecast(store, &self.history, &fetched, now)?;
        let added = refreshed
            .iter()
            .flat_map(|r| {
                let at_ms = balances_history::ms_since_epoch(r.finished_at);
                readings(&r.balance)
                    .into_iter()
                    .map(move |reading| (reading.key, at_ms, reading.total))
            })
            .collect();
        Ok(Recording::Recorded {
            forecasts: refreshed.iter().map(|r| r.index).zip(forecasts).collect(),
            added,
            loaded,
        })
    }
}
