//! The balance history as the command uses it: where the file is and whether to record
//! (`--history`, `--no-history`, the config file's `[history]` table), recording a run's
//! balances, and the forecast of each currency and unit shown beside them.
//!
//! History never costs a balance: every failure here becomes one warning, and the caller
//! prints the balances and exits as it would have without history.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use balances::{Balance, Threshold};
use balances_history::{
    Forecast, ForecastSettings, HistoryError, Measure, Prepared, Reading, Retention, SeriesKey,
    Store, WindowEnds, ms_since_epoch, readings,
};
use rust_decimal::Decimal;
use serde::Deserialize;

/// The config file's `[history]` table. Every key is optional.
///
/// ```toml
/// [history]
/// enabled = true                  # false: record nothing and show no forecast
/// path = "/var/lib/balances/history.sqlite3"
/// forecast_window_days = 7        # spend is read over this many days
/// keep_every_sample_days = 7      # then one sample per hour ...
/// keep_hourly_days = 90           # ... then one per day
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    enabled: Option<bool>,
    path: Option<PathBuf>,
    forecast_window_days: Option<u16>,
    keep_every_sample_days: Option<u16>,
    keep_hourly_days: Option<u16>,
}

impl HistoryConfig {
    /// The table, checked: a wrong key or value is a configuration error (exit 2), like any
    /// other mistake in the file.
    pub fn from_toml(value: toml::Value) -> Result<Self, String> {
        let config: Self = value
            .try_into()
            .map_err(|e: toml::de::Error| e.message().trim().to_owned())?;
        let days = |value: Option<u16>, default: Duration| {
            value.map_or(default, |days| {
                Duration::from_secs(u64::from(days) * 86_400)
            })
        };
        if config.forecast_window_days == Some(0) || config.keep_every_sample_days == Some(0) {
            return Err(
                "`forecast_window_days` and `keep_every_sample_days` are at least 1".to_owned(),
            );
        }
        let retention = config.retention();
        if days(config.keep_hourly_days, retention.hourly) < retention.every_sample {
            return Err("`keep_hourly_days` is at least `keep_every_sample_days`".to_owned());
        }
        Ok(config)
    }

    fn retention(&self) -> Retention {
        let default = Retention::default();
        let days = |value: Option<u16>, default: Duration| {
            value.map_or(default, |days| {
                Duration::from_secs(u64::from(days) * 86_400)
            })
        };
        Retention {
            every_sample: days(self.keep_every_sample_days, default.every_sample),
            hourly: days(self.keep_hourly_days, default.hourly),
        }
    }

    fn forecast(&self) -> ForecastSettings {
        let default = ForecastSettings::default();
        ForecastSettings {
            window: self.forecast_window_days.map_or(default.window, |days| {
                Duration::from_secs(u64::from(days) * 86_400)
            }),
            ..default
        }
    }
}

/// Where history is kept and how it is read, once `--history`, `--no-history` and the
/// config file have been weighed.
#[derive(Clone, Debug)]
pub struct History {
    pub path: PathBuf,
    pub forecast: ForecastSettings,
    pub retention: Retention,
}

/// The default file: `$XDG_STATE_HOME/balances/history.sqlite3` (usually
/// `~/.local/state/balances/history.sqlite3`); where a platform has no state directory, the
/// data directory.
pub fn default_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    let strategy = etcetera::choose_base_strategy().ok()?;
    let base = strategy.state_dir().unwrap_or_else(|| strategy.data_dir());
    Some(base.join("balances").join("history.sqlite3"))
}

/// Whether and where to keep history: `--no-history` turns it off; `--history FILE` turns
/// it on at FILE; else the config's `enabled` and `path`, else the default file. The demo
/// keeps none unless `--history` names a file: its made-up balances do not belong in a
/// real history.
pub fn resolve(
    explicit: Option<&Path>,
    off: bool,
    demo: bool,
    config: &HistoryConfig,
) -> Option<History> {
    if off {
        return None;
    }
    let path = match explicit {
        Some(path) => path.to_owned(),
        None if demo || config.enabled == Some(false) => return None,
        None => match config.path.clone().or_else(default_path) {
            Some(path) => path,
            None => {
                tracing::debug!("no state directory: balance history is off");
                return None;
            }
        },
    };
    Some(History {
        path,
        forecast: config.forecast(),
        retention: config.retention(),
    })
}

/// The forecast of one currency or unit of an account.
#[derive(Clone, Debug)]
pub struct SeriesForecast {
    pub measure: Measure,
    pub code: String,
    pub forecast: Forecast,
}

/// What a run knows about one account, for recording it.
#[derive(Debug)]
pub struct Fetched<'a> {
    pub balance: Option<&'a Balance>,
    pub finished_at: SystemTime,
    pub threshold: Option<&'a Threshold>,
}

/// History work under way on a blocking thread: opening and reading ([`open_and_prepare`]),
/// or writing ([`record_in_background`]).
pub struct Background<T> {
    handle: tokio::task::JoinHandle<Result<T, HistoryError>>,
    path: PathBuf,
}

impl<T: Send + 'static> Background<T> {
    fn spawn(path: &Path, work: impl FnOnce() -> Result<T, HistoryError> + Send + 'static) -> Self {
        Self {
            handle: tokio::task::spawn_blocking(work),
            path: path.to_owned(),
        }
    }

    /// Its result, once done; a thread that stopped (a panic) is an error like any other.
    pub async fn finished(self) -> Result<T, HistoryError> {
        self.handle.await.unwrap_or_else(|error| {
            Err(HistoryError::Open {
                path: self.path,
                message: format!("the history's thread stopped: {error}"),
            })
        })
    }
}

/// Opens the history and reads what recording will need ([`Store::prepare`]) on a blocking
/// thread, so that it runs while the fetches started at `started` are in flight instead of
/// after them.
pub fn open_and_prepare(history: &History, started: SystemTime) -> Background<(Store, Prepared)> {
    let path = history.path.clone();
    let window = history.forecast.window;
    Background::spawn(&history.path, move || {
        let mut store = Store::open(&path)?;
        let prepared = store.prepare(started, window)?;
        Ok((store, prepared))
    })
}

/// The readings of the balances fetched, each at the time its fetch ended, in the order
/// of `fetched`.
struct ToRecord {
    readings: Vec<(i64, Reading)>,
    /// How many of `readings` each of `fetched` has (none for an account not fetched).
    per_account: Vec<usize>,
}

impl ToRecord {
    fn of(fetched: &[Fetched<'_>]) -> Self {
        let mut to_record = Self {
            readings: Vec::with_capacity(fetched.len()),
            per_account: Vec::with_capacity(fetched.len()),
        };
        for one in fetched {
            let at_ms = ms_since_epoch(one.finished_at);
            let before = to_record.readings.len();
            if let Some(balance) = one.balance {
                to_record
                    .readings
                    .extend(readings(balance).into_iter().map(|r| (at_ms, r)));
            }
            to_record
                .per_account
                .push(to_record.readings.len() - before);
        }
        to_record
    }
}

/// Records the balances fetched, thins old samples when due, and returns each account's
/// forecasts (empty for an account not fetched), in the order given: the exporter's way,
/// one refresh after another on a file it keeps open.
pub fn record_and_forecast(
    store: &mut Store,
    history: &History,
    fetched: &[Fetched<'_>],
    now: SystemTime,
) -> Result<Vec<Vec<SeriesForecast>>, HistoryError> {
    let to_record = ToRecord::of(fetched);
    let (_, ends) = store.record_with_window_ends(&to_record.readings, history.forecast.window)?;
    store.thin_if_due(now, &history.retention)?;
    Ok(forecasts(fetched, &to_record.per_account, ends, history))
}

/// The one-shot command's way: records the balances fetched into the history `opening`
/// opens, on a blocking thread, and returns each account's forecasts as soon as they are
/// known, with the recording (the samples written, old ones thinned when due, the file
/// closed) still under way, so that the output is written meanwhile. An error before the
/// forecasts are known is returned; one after, by the recording.
pub async fn record_in_background(
    history: &History,
    opening: Background<(Store, Prepared)>,
    fetched: &[Fetched<'_>],
    now: SystemTime,
) -> Result<(Vec<Vec<SeriesForecast>>, Background<()>), HistoryError> {
    let (mut store, prepared) = opening.finished().await?;
    let ToRecord {
        readings: to_record,
        per_account,
    } = ToRecord::of(fetched);
    let (window, retention) = (history.forecast.window, history.retention);
    let (send_ends, ends) = tokio::sync::oneshot::channel();
    let recording = Background::spawn(&history.path, move || {
        store.record_prepared(prepared, &to_record, window, |ends| {
            // The receiver is gone only if the command is ending anyway.
            let _ = send_ends.send(ends);
        })?;
        store.thin_if_due(now, &retention)?;
        drop(store);
        Ok(())
    });
    match ends.await {
        Ok(ends) => Ok((forecasts(fetched, &per_account, ends, history), recording)),
        // No ends: the recording stopped before it knew them, and says why.
        Err(_) => Err(recording
            .finished()
            .await
            .err()
            .unwrap_or_else(|| HistoryError::Open {
                path: history.path.clone(),
                message: "recording ended without forecasts".to_owned(),
            })),
    }
}

/// Each account's forecasts from the window ends of its readings: one per reading, in the
/// order of [`ToRecord`], `per_account` of them for each account. A spend series gets none:
/// spend rises as it is spent, and its budget's pace is read from the report itself
/// (`Spend::budget_pace`).
fn forecasts(
    fetched: &[Fetched<'_>],
    per_account: &[usize],
    ends: Vec<(SeriesKey, WindowEnds)>,
    history: &History,
) -> Vec<Vec<SeriesForecast>> {
    let mut ends = ends.into_iter();
    fetched
        .iter()
        .zip(per_account)
        .map(|(one, &count)| {
            ends.by_ref()
                .take(count)
                .filter(|(key, _)| key.measure != Measure::Spend)
                .map(|(key, window)| {
                    let floor = floor(one.threshold, key.measure, &key.code);
                    SeriesForecast {
                        measure: key.measure,
                        code: key.code,
                        forecast: Forecast::from_ends(&window, floor, &history.forecast),
                    }
                })
                .collect()
        })
        .collect()
}

/// The level a series' estimate is about: the account's threshold where it applies to this
/// currency, else zero. Thresholds are money: a unit's floor is zero.
pub fn floor(threshold: Option<&Threshold>, measure: Measure, code: &str) -> Decimal {
    match threshold {
        Some(threshold) if measure == Measure::Currency && threshold.applies_to(code) => {
            threshold.amount()
        }
        _ => Decimal::ZERO,
    }
}

/// The one line a run prints when history could not be used.
pub fn warn(error: &HistoryError) {
    eprintln!("warning: balance history not used: {error}");
}

/// The time the command takes as now: `BALANCES_NOW` (seconds since the Unix epoch), for
/// tests that replay runs at chosen times instead of sleeping between them; else the clock.
pub fn now() -> SystemTime {
    std::env::var("BALANCES_NOW")
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map_or_else(SystemTime::now, |seconds| {
            SystemTime::UNIX_EPOCH + Duration::from_secs_f64(seconds)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use balances::{Amount, UnitAmount, Vendor};

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn each_account_gets_the_forecasts_of_its_own_readings() {
        let vendor = Vendor::find("deepseek").expect("in the registry");
        let two_currencies_and_a_unit = Balance::new(
            "a",
            vendor,
            None,
            vec![
                Amount::total("USD", Decimal::from(5)),
                Amount::total("CNY", Decimal::from(7)),
            ],
        )
        .and_then(|b| b.with_units(vec![UnitAmount::total("points", Decimal::from(9))]))
        .expect("a balance");
        let one_currency =
            Balance::new("c", vendor, None, vec![Amount::total("EUR", Decimal::ONE)])
                .expect("a balance");
        let fetched = [
            Fetched {
                balance: Some(&two_currencies_and_a_unit),
                finished_at: at(1_000),
                threshold: None,
            },
            Fetched {
                balance: None,
                finished_at: at(1_001),
                threshold: None,
            },
            Fetched {
                balance: Some(&one_currency),
                finished_at: at(1_002),
                threshold: None,
            },
        ];
        let to_record = ToRecord::of(&fetched);
        assert_eq!(to_record.per_account, [3, 0, 1]);
        let recorded: Vec<(i64, &str, &str)> = to_record
            .readings
            .iter()
            .map(|(at_ms, r)| (*at_ms, r.key.account.as_str(), r.key.code.as_str()))
            .collect();
        assert_eq!(
            recorded,
            [
                (1_000_000, "a", "CNY"),
                (1_000_000, "a", "USD"),
                (1_000_000, "a", "points"),
                (1_002_000, "c", "EUR"),
            ]
        );

        let directory = tempfile::tempdir().unwrap();
        let mut store = Store::open(&directory.path().join("h.sqlite3")).expect("a new file");
        let history = History {
            path: PathBuf::new(),
            forecast: ForecastSettings::default(),
            retention: Retention::default(),
        };
        let (_, ends) = store
            .record_with_window_ends(&to_record.readings, history.forecast.window)
            .unwrap();
        let forecasts = forecasts(&fetched, &to_record.per_account, ends, &history);
        let codes: Vec<Vec<&str>> = forecasts
            .iter()
            .map(|account| account.iter().map(|f| f.code.as_str()).collect())
            .collect();
        assert_eq!(codes, [vec!["CNY", "USD", "points"], vec![], vec!["EUR"]]);
    }
}
