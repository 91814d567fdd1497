//! The history file: what a row holds, the file's safety (mode, WAL, a newer or broken
//! file), migrations from every earlier version, thinning, and two processes writing at
//! once.

use std::path::Path;
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use balances::{Amount, Balance, Decimal, UnitAmount, Vendor};
use balances_history::{
    Estimate, Forecast, ForecastSettings, HistoryError, HistoryQuery, LATEST_SCHEMA, Measure,
    Prepared, Reading, Recorded, Retention, SeriesKey, Store, WindowEnds, time_of_ms,
};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn dec(text: &str) -> Decimal {
    let mut value = Decimal::from_str(text).unwrap();
    // As the facade reads it: `-0.00` keeps its sign.
    if text.starts_with('-') {
        value.set_sign_negative(true);
    }
    value
}

fn vendor(id: &str) -> Vendor {
    Vendor::find(id).expect("a registry vendor")
}

fn key(account: &str, measure: Measure, code: &str) -> SeriesKey {
    SeriesKey {
        account: account.into(),
        vendor: "deepseek".into(),
        measure,
        code: code.into(),
    }
}

fn reading(account: &str, code: &str, total: &str) -> Reading {
    Reading {
        key: key(account, Measure::Currency, code),
        total: dec(total),
        granted: None,
        topped_up: None,
    }
}

/// [`Store::record_prepared`], with the ends it hands over before writing.
fn record_prepared(
    store: &mut Store,
    prepared: Prepared,
    readings: &[(i64, Reading)],
    window: Duration,
) -> (Recorded, Vec<(SeriesKey, WindowEnds)>) {
    let mut handed_over = Vec::new();
    let recorded = store
        .record_prepared(prepared, readings, window, |ends| handed_over = ends)
        .unwrap();
    (recorded, handed_over)
}

fn at(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms as u64)
}

#[test]
fn a_spend_reading_is_stored_as_spend_with_no_running_totals() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    let month = |text: &str| -> chrono::DateTime<chrono::Utc> { text.parse().unwrap() };
    let spent = |amount: &str| {
        let spend = balances::Spend::new(
            month("2026-12-01T00:00:00Z"),
            month("2027-01-01T00:00:00Z"),
            [("USD".to_owned(), dec(amount))],
            None,
        )
        .unwrap();
        Balance::spent("models", vendor("openai"), spend)
    };
    // Spend rises as it is spent, 1.5 then 4.25, and falls back when a refund (or a new
    // period) comes: 0.5.
    let (first, second, third) = (spent("1.5"), spent("4.25"), spent("0.5"));
    store
        .record([
            (at(DAY), &first),
            (at(DAY + HOUR), &second),
            (at(DAY + 2 * HOUR), &third),
        ])
        .unwrap();

    let history = store.history(&HistoryQuery::default()).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0].key,
        SeriesKey {
            vendor: "openai".into(),
            ..key("models", Measure::Spend, "USD")
        }
    );
    let totals: Vec<String> = history[0]
        .samples
        .iter()
        .map(|s| s.total.to_string())
        .collect();
    assert_eq!(totals, ["1.5", "4.25", "0.5"]);
    // A balance's running totals would count the fall as 3.75 spent; spend carries none.
    let running: Vec<(String, i64)> = {
        let mut statement = store
            .connection()
            .prepare("SELECT spent, observed_ms FROM recent ORDER BY at_ms")
            .unwrap();
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(running, vec![("0".to_owned(), 0); 3]);
}

#[test]
fn a_balance_is_stored_exactly_per_currency_and_unit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    let balance = Balance::new(
        "work",
        vendor("venice"),
        Some(true),
        vec![
            Amount::total("USD", dec("25.000000000000000000000000001")),
            Amount::total("CNY", dec("-0.00"))
                .with_granted(dec("0.00"))
                .with_topped_up(dec("-0.00")),
        ],
    )
    .unwrap()
    .with_units(vec![UnitAmount::total("DIEM", dec("90.5"))])
    .unwrap();
    let recorded = store.record([(at(1_000), &balance)]).unwrap();
    assert_eq!(recorded.written, 3);

    let history = store.history(&HistoryQuery::default()).unwrap();
    type Row<'a> = (Measure, &'a str, String, Option<String>, Option<String>);
    let stored: Vec<Row<'_>> = history
        .iter()
        .map(|series| {
            let sample = &series.samples[0];
            (
                series.key.measure,
                series.key.code.as_str(),
                sample.total.to_string(),
                sample.granted.map(|d| d.to_string()),
                sample.topped_up.map(|d| d.to_string()),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            (
                Measure::Currency,
                "CNY",
                "-0.00".to_owned(),
                Some("0.00".to_owned()),
                Some("-0.00".to_owned())
            ),
            (
                Measure::Currency,
                "USD",
                "25.000000000000000000000000001".to_owned(),
                None,
                None
            ),
            (Measure::Unit, "DIEM", "90.5".to_owned(), None, None),
        ]
    );
    // The amounts are text in the file, not floats.
    let total_type: String = store
        .connection()
        .query_row(
            "SELECT typeof(total) FROM samples UNION ALL SELECT typeof(total) FROM recent",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(total_type, "text");
}

#[test]
fn a_row_has_no_column_for_anything_but_the_series_time_and_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    let columns = |table: &str| -> Vec<String> {
        let mut statement = store
            .connection()
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        columns("series"),
        ["id", "account", "vendor", "measure", "code"]
    );
    // New samples wait in `recent`, laid out as `samples` is.
    assert_eq!(columns("recent"), columns("samples"));
    assert_eq!(
        columns("samples"),
        [
            "series",
            "at_ms",
            "total",
            "granted",
            "topped_up",
            "spent",
            "observed_ms"
        ]
    );
}

#[cfg(unix)]
#[test]
fn the_file_and_its_directory_are_private_and_in_wal_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/balances/history.sqlite3");
    let store = Store::open(&path).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let journal: String = store
        .connection()
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    drop(store);

    // A file others could read is narrowed when opened.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Store::open(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn a_file_of_a_newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite3");
    {
        let mut store = Store::open(&path).unwrap();
        store
            .record_readings(&[(0, reading("a", "CNY", "1"))])
            .unwrap();
        store
            .connection()
            .pragma_update(None, "user_version", LATEST_SCHEMA + 1)
            .unwrap();
        store
            .connection()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let error = Store::open(&path).unwrap_err();
    assert!(
        matches!(error, HistoryError::NewerSchema { found, supported, .. } if found == LATEST_SCHEMA + 1 && supported == LATEST_SCHEMA),
        "{error:?}"
    );
    assert!(error.to_string().contains("left untouched"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite3");
    std::fs::write(&path, vec![0x5a_u8; 8192]).unwrap();
    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, HistoryError::Database { .. }), "{error:?}");
    assert!(error.to_string().contains("not a database"), "{error}");
}

#[test]
fn an_unwritable_place_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    // A directory cannot be created under a regular file.
    let error = Store::open(&file.join("history.sqlite3")).unwrap_err();
    assert!(matches!(error, HistoryError::Open { .. }), "{error:?}");
}

#[test]
fn reading_a_missing_history_says_so_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.sqlite3");
    let error = Store::open_existing(&path).unwrap_err();
    assert!(matches!(error, HistoryError::Missing { .. }), "{error:?}");
    assert!(!path.exists());
}

/// Samples with rises, a gap and a flat stretch, hourly-ish.
fn sample_points() -> Vec<(i64, &'static str)> {
    vec![
        (0, "100.00"),
        (HOUR, "98.50"),
        (2 * HOUR, "97.00"),
        (3 * HOUR, "197.00"),
        (4 * HOUR, "195.25"),
        (30 * HOUR, "150.00"),
        (31 * HOUR, "150.00"),
        (32 * HOUR, "151.00"),
        (33 * HOUR, "149.00"),
    ]
}

#[test]
fn window_ends_from_the_file_give_the_forecast_of_the_samples_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    for (at_ms, total) in sample_points() {
        store
            .record_readings(&[(at_ms, reading("a", "CNY", total))])
            .unwrap();
    }
    let samples: Vec<(i64, Decimal)> = sample_points()
        .into_iter()
        .map(|(at, total)| (at, dec(total)))
        .collect();
    for window_hours in [1, 2, 5, 29, 100] {
        let window = Duration::from_secs(window_hours * 3600);
        let settings = ForecastSettings {
            window,
            min_observed: Duration::from_secs(1),
        };
        let ends = store
            .window_ends(&[key("a", Measure::Currency, "CNY")], window)
            .unwrap();
        assert_eq!(ends.len(), 1);
        assert_eq!(ends[0].1, WindowEnds::of(&samples, window).unwrap());
        assert_eq!(
            Forecast::from_ends(&ends[0].1, Decimal::ZERO, &settings),
            Forecast::of_samples(&samples, Decimal::ZERO, &settings).unwrap(),
            "window {window_hours}h"
        );
    }
    // Recording and reading the ends in one transaction gives the same ends.
    let dir2 = tempfile::tempdir().unwrap();
    let mut other = Store::open(&dir2.path().join("h.sqlite3")).unwrap();
    let window = Duration::from_secs(5 * 3600);
    let mut last = Vec::new();
    for (at_ms, total) in sample_points() {
        let (recorded, ends) = other
            .record_with_window_ends(&[(at_ms, reading("a", "CNY", total))], window)
            .unwrap();
        assert_eq!(recorded.written, 1);
        last = ends;
    }
    assert_eq!(
        last,
        store
            .window_ends(&[key("a", Measure::Currency, "CNY")], window)
            .unwrap()
    );
    // One batch of every sample gives each reading the ends of the samples up to it.
    let mut batched = Store::open(&dir2.path().join("batched.sqlite3")).unwrap();
    let all: Vec<(i64, Reading)> = sample_points()
        .into_iter()
        .map(|(at_ms, total)| (at_ms, reading("a", "CNY", total)))
        .collect();
    let (_, ends) = batched.record_with_window_ends(&all, window).unwrap();
    for (index, (_, window_ends)) in ends.iter().enumerate() {
        assert_eq!(
            Some(*window_ends),
            WindowEnds::of(&samples[..=index], window),
            "reading {index}"
        );
    }
    // A skipped (older) reading still gets its series' ends.
    let (recorded, ends) = other
        .record_with_window_ends(&[(0, reading("a", "CNY", "1"))], window)
        .unwrap();
    assert_eq!((recorded.written, recorded.skipped), (0, 1));
    assert_eq!(ends, last);
    // A series with no samples has no ends.
    let none = store
        .window_ends(
            &[key("b", Measure::Currency, "CNY")],
            Duration::from_secs(60),
        )
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn two_currencies_and_a_unit_of_one_account_are_forecast_apart() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    let account = "both";
    for (day, cny, usd, points) in [
        (0, "100", "10", "500"),
        (1, "90", "10", "400"),
        (2, "80", "10", "300"),
    ] {
        let balance = Balance::new(
            account,
            vendor("deepseek"),
            None,
            vec![
                Amount::total("CNY", dec(cny)),
                Amount::total("USD", dec(usd)),
            ],
        )
        .unwrap()
        .with_units(vec![UnitAmount::total("points", dec(points))])
        .unwrap();
        store.record([(at(day * DAY), &balance)]).unwrap();
    }
    let keys = [
        key(account, Measure::Currency, "CNY"),
        key(account, Measure::Currency, "USD"),
        key(account, Measure::Unit, "points"),
    ];
    let settings = ForecastSettings::default();
    let ends = store.window_ends(&keys, settings.window).unwrap();
    let forecasts: Vec<(String, Option<Decimal>, Estimate)> = ends
        .iter()
        .map(|(key, ends)| {
            let forecast = Forecast::from_ends(ends, Decimal::ZERO, &settings);
            (key.code.clone(), forecast.spend_per_day, forecast.estimate)
        })
        .collect();
    assert_eq!(
        forecasts,
        [
            (
                "CNY".to_owned(),
                Some(dec("10")),
                Estimate::RunsOut { at_ms: 10 * DAY }
            ),
            (
                "USD".to_owned(),
                Some(dec("0")),
                Estimate::None(balances_history::NoEstimate::NoSpend)
            ),
            (
                "points".to_owned(),
                Some(dec("100")),
                Estimate::RunsOut { at_ms: 5 * DAY }
            ),
        ]
    );
}

#[test]
fn a_sample_not_newer_than_its_series_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    store
        .record_readings(&[(2 * HOUR, reading("a", "CNY", "5"))])
        .unwrap();
    let recorded = store
        .record_readings(&[
            (HOUR, reading("a", "CNY", "9")),
            (2 * HOUR, reading("a", "CNY", "4")),
            (3 * HOUR, reading("a", "CNY", "4")),
        ])
        .unwrap();
    assert_eq!((recorded.written, recorded.skipped), (1, 2));
    let history = store.history(&HistoryQuery::default()).unwrap();
    let times: Vec<i64> = history[0].samples.iter().map(|s| s.at_ms).collect();
    assert_eq!(times, [2 * HOUR, 3 * HOUR]);
}

#[test]
fn history_filters_by_account_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    for hour in 0..5 {
        store
            .record_readings(&[
                (hour * HOUR, reading("a", "CNY", "5")),
                (hour * HOUR, reading("b", "USD", "7")),
            ])
            .unwrap();
    }
    let query = HistoryQuery {
        account: Some("b".into()),
        since: Some(time_of_ms(3 * HOUR)),
        every: None,
    };
    let history = store.history(&query).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].key.account, "b");
    let times: Vec<i64> = history[0].samples.iter().map(|s| s.at_ms).collect();
    assert_eq!(times, [3 * HOUR, 4 * HOUR]);
}

#[test]
fn every_keeps_the_last_sample_of_each_slice_and_widths_cover_the_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    let points = [
        (0, "9"),
        (HOUR / 2, "8.5"),
        (HOUR, "7"),
        (HOUR + 1, "6.25"),
        (3 * HOUR, "123456.789"),
    ];
    for (at_ms, total) in points {
        store
            .record_readings(&[(at_ms, reading("a", "CNY", total))])
            .unwrap();
    }
    let query = HistoryQuery {
        every: Some(Duration::from_secs(3600)),
        ..HistoryQuery::default()
    };
    let kept: Vec<(i64, String)> = store.history(&query).unwrap()[0]
        .samples
        .iter()
        .map(|s| (s.at_ms, s.total.to_string()))
        .collect();
    assert_eq!(
        kept,
        [
            (HOUR / 2, "8.5".to_owned()),
            (HOUR + 1, "6.25".to_owned()),
            (3 * HOUR, "123456.789".to_owned())
        ]
    );
    let widths = store.amount_widths(None, None).unwrap();
    assert_eq!((widths.total, widths.granted, widths.topped_up), (10, 1, 1));
    let widths = store.amount_widths(Some("nobody"), None).unwrap();
    assert_eq!(widths.total, 0);
}

#[test]
fn thinning_keeps_one_sample_per_hour_then_per_day_and_the_forecast_of_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    // 12 days of 5-minute samples spending 1 per sample.
    let every = 5 * 60_000;
    let count = 12 * DAY / every;
    let readings: Vec<(i64, Reading)> = (0..count)
        .map(|i| {
            let total = Decimal::from(10_000 - i);
            (
                i * every,
                Reading {
                    key: key("a", Measure::Currency, "CNY"),
                    total,
                    granted: None,
                    topped_up: None,
                },
            )
        })
        .collect();
    store.record_readings(&readings).unwrap();
    let now = time_of_ms((count - 1) * every);
    let settings = ForecastSettings::default();
    let keys = [key("a", Measure::Currency, "CNY")];
    let before = store.window_ends(&keys, settings.window).unwrap();

    let retention = Retention {
        every_sample: Duration::from_secs(7 * 86_400),
        hourly: Duration::from_secs(10 * 86_400),
    };
    let deleted = store.thin(now, &retention).unwrap();
    let kept = &store.history(&HistoryQuery::default()).unwrap()[0].samples;
    assert_eq!(deleted + kept.len(), count as usize);
    let now_ms = (count - 1) * every;
    let daily: Vec<&i64> = kept
        .iter()
        .map(|s| &s.at_ms)
        .filter(|at| **at < now_ms - 10 * DAY)
        .collect();
    let hourly = kept
        .iter()
        .filter(|s| s.at_ms >= now_ms - 10 * DAY && s.at_ms < now_ms - 7 * DAY)
        .count();
    // Days 0 and 1 are older than the 10-day cutoff (2 days less 5 minutes): one sample each,
    // the last of the day that was older than the cutoff when thinned per hour.
    assert_eq!(daily, [&(DAY - every), &(2 * DAY - HOUR - every)]);
    // From 10 days before now (day 1, 23:55) to 7 days before (day 4, 23:55): one sample for
    // each hour up to day 4, 23:00, where the first tier starts, on the hour as windows
    // do; every sample after it.
    assert_eq!(hourly, 72 + 11);
    // Every sample of the last 7 days is still there, and the forecast is unchanged.
    assert_eq!(
        kept.iter().filter(|s| s.at_ms >= now_ms - 7 * DAY).count() as i64,
        7 * DAY / every + 1
    );
    assert_eq!(store.window_ends(&keys, settings.window).unwrap(), before);

    // Thinning again right away is not due; an hour later it is, and finds the samples that
    // aged past a cutoff meanwhile.
    assert_eq!(store.thin_if_due(now, &retention).unwrap(), None);
    let later = now + Duration::from_secs(3_600);
    assert!(matches!(store.thin_if_due(later, &retention).unwrap(), Some(n) if n > 0));
}

/// Builds a file at `version` as a build of that version would have left it, with the
/// samples of [`sample_points`] in it (written at version 1; a later version's build kept
/// the running totals that migration 2 computes from them).
fn file_at_version(path: &Path, version: i64) {
    let mut connection = rusqlite::Connection::open(path).unwrap();
    balances_history::testing::migrate_to(&mut connection, version.min(1)).unwrap();
    if version >= 1 {
        connection
            .execute(
                "INSERT INTO series (account, vendor, measure, code) VALUES ('a', 'deepseek', 'currency', 'CNY')",
                [],
            )
            .unwrap();
        for (at_ms, total) in sample_points() {
            connection
                .execute(
                    "INSERT INTO samples (series, at_ms, total) VALUES (1, ?1, ?2)",
                    rusqlite::params![at_ms, total],
                )
                .unwrap();
        }
    }
    balances_history::testing::migrate_to(&mut connection, version).unwrap();
}

#[test]
fn every_earlier_version_migrates_to_the_latest_with_its_samples() {
    let samples: Vec<(i64, Decimal)> = sample_points()
        .into_iter()
        .map(|(at, total)| (at, dec(total)))
        .collect();
    let settings = ForecastSettings {
        window: Duration::from_secs(100 * 3600),
        min_observed: Duration::from_secs(1),
    };
    for version in 0..LATEST_SCHEMA {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite3");
        file_at_version(&path, version);
        let store = Store::open(&path).unwrap_or_else(|e| panic!("from version {version}: {e}"));
        let found: i64 = store
            .connection()
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(found, LATEST_SCHEMA, "from version {version}");
        let history = store.history(&HistoryQuery::default()).unwrap();
        if version == 0 {
            assert!(history.is_empty());
            continue;
        }
        let stored: Vec<(i64, Decimal)> = history[0]
            .samples
            .iter()
            .map(|s| (s.at_ms, s.total))
            .collect();
        assert_eq!(stored, samples, "from version {version}");
        let ends = store
            .window_ends(&[key("a", Measure::Currency, "CNY")], settings.window)
            .unwrap();
        assert_eq!(
            Forecast::from_ends(&ends[0].1, Decimal::ZERO, &settings),
            Forecast::of_samples(&samples, Decimal::ZERO, &settings).unwrap(),
            "from version {version}"
        );
    }
}

/// Two processes write the same file at once; each is this test binary re-run as
/// [`concurrent_writer`].
#[test]
fn two_processes_write_the_same_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.sqlite3");
    // Created (and migrated) by the first of the two to get there.
    let batches = 150;
    let children: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|name| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--ignored", "--exact", "concurrent_writer", "--nocapture"])
                .env("HISTORY_WRITER_FILE", &path)
                .env("HISTORY_WRITER_NAME", name)
                .env("HISTORY_WRITER_BATCHES", batches.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut written = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        written += stdout
            .lines()
            .find_map(|line| line.strip_prefix("written "))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or_else(|| panic!("no count in {stdout}"));
    }
    let store = Store::open(&path).unwrap();
    let rows: i64 = store
        .connection()
        .query_row(
            "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM recent)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(rows as usize, written);
    // Each writer has its own account with every batch, and both share one account.
    let history = store.history(&HistoryQuery::default()).unwrap();
    let per_account: Vec<(String, usize)> = history
        .iter()
        .map(|s| (s.key.account.clone(), s.samples.len()))
        .collect();
    assert!(
        per_account.contains(&("one".to_owned(), batches)),
        "{per_account:?}"
    );
    assert!(
        per_account.contains(&("two".to_owned(), batches)),
        "{per_account:?}"
    );
    let integrity: String = store
        .connection()
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    // The shared series' running totals are those of its stored samples.
    let shared = history.iter().find(|s| s.key.account == "shared").unwrap();
    let samples: Vec<(i64, Decimal)> = shared.samples.iter().map(|s| (s.at_ms, s.total)).collect();
    let window = Duration::from_secs(86_400 * 365);
    let ends = store
        .window_ends(std::slice::from_ref(&shared.key), window)
        .unwrap();
    assert_eq!(ends[0].1, WindowEnds::of(&samples, window).unwrap());
}

/// One of the two writers of [`two_processes_write_the_same_file_at_once`]; does nothing
/// when run on its own.
#[test]
#[ignore = "run by two_processes_write_the_same_file_at_once"]
fn concurrent_writer() {
    let (Ok(path), Ok(name), Ok(batches)) = (
        std::env::var("HISTORY_WRITER_FILE"),
        std::env::var("HISTORY_WRITER_NAME"),
        std::env::var("HISTORY_WRITER_BATCHES"),
    ) else {
        return;
    };
    let batches: i64 = batches.parse().unwrap();
    let offset = if name == "one" { 0 } else { 1 };
    let mut written = 0;
    for batch in 0..batches {
        // Each open is a run of the command: open, migrate if needed, write, close.
        let mut store = Store::open(Path::new(&path)).unwrap();
        let at_ms = batch * 10 + offset;
        let readings = [
            (at_ms, reading(&name, "CNY", &(10_000 - batch).to_string())),
            (
                at_ms,
                reading("shared", "CNY", &(10_000 - batch).to_string()),
            ),
        ];
        // One writes as the one-shot command does (read first, write after), the other as
        // the exporter does, so the other's writes fall between this one's read and write.
        let recorded = if name == "one" {
            let window = Duration::from_secs(60);
            let read = store.prepare(time_of_ms(at_ms), window).unwrap();
            record_prepared(&mut store, read, &readings, window).0
        } else {
            store.record_readings(&readings).unwrap()
        };
        written += recorded.written;
    }
    println!("written {written}");
}

#[test]
fn a_full_disk_is_an_error_and_the_file_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    store
        .record_readings(&[(0, reading("a", "CNY", "1"))])
        .unwrap();
    // SQLite reports a database that may not grow as it reports a full disk (SQLITE_FULL).
    let pages: i64 = store
        .connection()
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .unwrap();
    store
        .connection()
        .execute_batch(&format!("PRAGMA max_page_count = {pages}"))
        .unwrap();
    let many: Vec<(i64, Reading)> = (1..5_000)
        .map(|i| (i * 1_000, reading(&format!("account-{i}"), "CNY", "1")))
        .collect();
    let error = store.record_readings(&many).unwrap_err();
    assert!(matches!(error, HistoryError::Database { .. }), "{error:?}");
    assert!(error.to_string().contains("full"), "{error}");
    // Nothing of the failed batch was kept, and what was there still reads.
    let history = store.history(&HistoryQuery::default()).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].samples.len(), 1);
}

/// 5-minute samples of two series from `from_ms` (inclusive) to `to_ms` (exclusive), each
/// spending 1 per sample; the second tops up once a day.
fn two_series(from_ms: i64, to_ms: i64) -> Vec<(i64, Reading)> {
    let every = 5 * 60_000;
    (from_ms / every..to_ms / every)
        .flat_map(|i| {
            let topped = i / (DAY / every);
            [
                (i * every, reading("a", "CNY", &(100_000 - i).to_string())),
                (
                    i * every,
                    reading("b", "USD", &(100_000 - i + 500 * topped).to_string()),
                ),
            ]
        })
        .collect()
}

#[test]
fn samples_read_the_same_whether_they_wait_in_recent_or_have_moved() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    let all = two_series(0, 3 * HOUR + 25 * 60_000);
    let settings = ForecastSettings::default();
    let keys = [
        key("a", Measure::Currency, "CNY"),
        key("b", Measure::Currency, "USD"),
    ];
    let in_table = |store: &Store, table: &str| -> i64 {
        store
            .connection()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .unwrap()
    };
    let mut moved_while_writing = false;
    // One run per 5 minutes, as the command writes them.
    for (run, pair) in all.chunks(2).enumerate() {
        let (_, ends) = store
            .record_with_window_ends(pair, settings.window)
            .unwrap();
        moved_while_writing |= in_table(&store, "samples") > 0;
        let written = &all[..(run + 1) * 2];
        let history = store.history(&HistoryQuery::default()).unwrap();
        for (index, series) in history.iter().enumerate() {
            let expected: Vec<(i64, Decimal)> = written
                .iter()
                .filter(|(_, r)| r.key == series.key)
                .map(|(at, r)| (*at, r.total))
                .collect();
            let stored: Vec<(i64, Decimal)> =
                series.samples.iter().map(|s| (s.at_ms, s.total)).collect();
            assert_eq!(stored, expected, "run {run}");
            let of_samples = WindowEnds::of(&expected, settings.window).unwrap();
            assert_eq!(ends[index].1, of_samples, "run {run}");
            assert_eq!(
                store.window_ends(&keys, settings.window).unwrap()[index].1,
                of_samples,
                "run {run}"
            );
        }
        // The last sample of each 20-minute slice, across both tables.
        let sliced = store
            .history(&HistoryQuery {
                every: Some(Duration::from_secs(20 * 60)),
                ..HistoryQuery::default()
            })
            .unwrap();
        let expected: Vec<i64> = written
            .iter()
            .filter(|(_, r)| r.key == keys[0])
            .map(|(at, _)| *at)
            .filter(|at| at % (20 * 60_000) == 15 * 60_000 || *at == written[written.len() - 1].0)
            .collect();
        let sliced_times: Vec<i64> = sliced[0].samples.iter().map(|s| s.at_ms).collect();
        assert_eq!(sliced_times, expected, "run {run}");
    }
    // Samples moved in batches while runs went on, and the latest runs' still wait.
    assert!(moved_while_writing);
    assert!(in_table(&store, "recent") > 0);
    assert_eq!(
        in_table(&store, "samples") + in_table(&store, "recent"),
        all.len() as i64
    );
}

#[test]
fn thinning_every_hour_leaves_what_one_thinning_leaves() {
    let retention = Retention {
        every_sample: Duration::from_secs(2 * 86_400),
        hourly: Duration::from_secs(5 * 86_400),
    };
    let end = 9 * DAY + 7 * 60_000;
    let dir = tempfile::tempdir().unwrap();
    let mut once = Store::open(&dir.path().join("once.sqlite3")).unwrap();
    once.record_readings(&two_series(0, end)).unwrap();
    let deleted_once = once.thin(time_of_ms(end), &retention).unwrap();

    let mut hourly = Store::open(&dir.path().join("hourly.sqlite3")).unwrap();
    let mut deleted_hourly = 0;
    let mut from = 0;
    for hour_end in (1..)
        .map(|h| h * HOUR + 7 * 60_000)
        .take_while(|t| *t <= end)
    {
        hourly.record_readings(&two_series(from, hour_end)).unwrap();
        deleted_hourly += hourly.thin(time_of_ms(hour_end), &retention).unwrap();
        from = hour_end;
    }
    hourly.record_readings(&two_series(from, end)).unwrap();
    deleted_hourly += hourly.thin(time_of_ms(end), &retention).unwrap();

    let kept_once = once.history(&HistoryQuery::default()).unwrap();
    assert!(deleted_once > 0);
    assert_eq!(hourly.history(&HistoryQuery::default()).unwrap(), kept_once);
    assert_eq!(deleted_hourly, deleted_once);
}

/// The readings of one run every 5 minutes from 00:25 (so that hourly thinning falls
/// inside the hour a window starts in): `a` falls with a top-up on the second day, `b` in
/// another currency falls slowly, `c` appears on the second day, and once a day `a` is read
/// twice in one run (the second reading at the same time is skipped).
fn run_readings(run: i64) -> Vec<(i64, Reading)> {
    let at_ms = (run * 5 + 25) * 60_000;
    let a_total = Decimal::new(100_000 - run * 7, 2)
        + if at_ms >= 30 * HOUR {
            Decimal::new(5_000, 2)
        } else {
            Decimal::ZERO
        };
    let mut readings = vec![
        (at_ms, reading("a", "CNY", &a_total.to_string())),
        (
            at_ms,
            reading("b", "USD", &Decimal::new(5_000 - run, 2).to_string()),
        ),
    ];
    if at_ms >= DAY + 5 * HOUR {
        readings.push((
            at_ms,
            reading("c", "CNY", &Decimal::new(900 - run % 40, 1).to_string()),
        ));
    }
    if run % 288 == 40 {
        readings.push((at_ms, reading("a", "CNY", "1")));
    }
    readings
}

/// Three days of [`run_readings`] recorded both ways, thinned every hour with every sample
/// kept for a day: each run's ends must agree, and (for a window inside that day) give the
/// forecast of the stored samples themselves. Returns whether a run used a kept window start.
fn record_both_ways(window: Duration) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let mut looked_up = Store::open(&dir.path().join("lookups.sqlite3")).unwrap();
    let mut prepared = Store::open(&dir.path().join("prepared.sqlite3")).unwrap();
    let retention = Retention {
        every_sample: Duration::from_secs(86_400),
        hourly: Duration::from_secs(2 * 86_400),
    };
    let settings = ForecastSettings {
        window,
        min_observed: Duration::from_secs(60),
    };
    let mut kept_starts_used = false;
    for run in 0..(3 * 288) {
        let readings = run_readings(run);
        let now = time_of_ms(readings[0].0);
        let (recorded, expected) = looked_up
            .record_with_window_ends(&readings, window)
            .unwrap();
        let read = prepared.prepare(now, window).unwrap();
        let (recorded_prepared, ends) = record_prepared(&mut prepared, read, &readings, window);
        assert_eq!(recorded_prepared, recorded, "run {run}");
        assert_eq!(ends, expected, "run {run}");
        let history = prepared.history(&HistoryQuery::default()).unwrap();
        assert_eq!(
            looked_up.history(&HistoryQuery::default()).unwrap(),
            history,
            "run {run}"
        );
        // Thinned samples no longer count in running totals recomputed from what is
        // stored, but a window inside the day of every sample has all of its own.
        if window < retention.every_sample {
            for (key, window_ends) in &ends {
                let series = history.iter().find(|s| s.key == *key).unwrap();
                let samples: Vec<(i64, Decimal)> =
                    series.samples.iter().map(|s| (s.at_ms, s.total)).collect();
                assert_eq!(
                    Forecast::from_ends(window_ends, Decimal::ZERO, &settings),
                    Forecast::of_samples(&samples, Decimal::ZERO, &settings).unwrap(),
                    "run {run}, {key}"
                );
            }
        }
        looked_up.thin_if_due(now, &retention).unwrap();
        prepared.thin_if_due(now, &retention).unwrap();
        let kept: i64 = prepared
            .connection()
            .query_row("SELECT count(*) FROM window_starts", [], |row| row.get(0))
            .unwrap();
        kept_starts_used |= kept > 0 && run > 288;
    }
    kept_starts_used
}

#[test]
fn recording_what_was_prepared_gives_the_ends_of_recording_with_lookups() {
    // 30 hours: the window starts among samples thinned to one per hour.
    assert!(record_both_ways(Duration::from_secs(30 * 3_600)));
    // 20 hours: every sample of the window is kept.
    assert!(record_both_ways(Duration::from_secs(20 * 3_600)));
}

/// `reading` recorded by another connection to the file, closed at once.
fn record_elsewhere(path: &Path, reading: (i64, Reading)) {
    Store::open(path)
        .unwrap()
        .record_readings(&[reading])
        .unwrap();
}

#[test]
fn a_write_by_another_process_between_prepare_and_record_is_taken_into_account() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite3");
    let window = Duration::from_secs(86_400);
    let mut cron = Store::open(&path).unwrap();
    cron.record_readings(&[(0, reading("a", "CNY", "100"))])
        .unwrap();
    let read = cron.prepare(time_of_ms(2 * HOUR), window).unwrap();
    // The exporter records while the cron run's fetches are in flight.
    record_elsewhere(&path, (HOUR, reading("a", "CNY", "90")));
    let (recorded, ends) = record_prepared(
        &mut cron,
        read,
        &[(2 * HOUR, reading("a", "CNY", "85"))],
        window,
    );
    assert_eq!((recorded.written, recorded.skipped), (1, 0));
    let samples = [(0, dec("100")), (HOUR, dec("90")), (2 * HOUR, dec("85"))];
    // The running spend counts the exporter's sample: 10 then 5.
    assert_eq!(ends[0].1, WindowEnds::of(&samples, window).unwrap());
    assert_eq!(ends[0].1.last.spent, dec("15"));
    // A reading older than what the other process wrote is skipped, not stored out of order.
    let read = cron.prepare(time_of_ms(3 * HOUR), window).unwrap();
    record_elsewhere(&path, (4 * HOUR, reading("a", "CNY", "80")));
    let (recorded, ends) = record_prepared(
        &mut cron,
        read,
        &[(3 * HOUR, reading("a", "CNY", "84"))],
        window,
    );
    assert_eq!((recorded.written, recorded.skipped), (0, 1));
    assert_eq!(ends[0].1.last_at_ms, 4 * HOUR);
}

#[test]
fn a_write_that_fails_after_the_ends_are_known_is_an_error_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
    store
        .record_readings(&[(0, reading("a", "CNY", "100"))])
        .unwrap();
    // As a full disk would, refuse the write itself, once the reading is planned.
    store
        .connection()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON recent BEGIN SELECT RAISE(ABORT, 'full'); END",
        )
        .unwrap();
    let window = Duration::from_secs(86_400);
    let read = store.prepare(time_of_ms(HOUR), window).unwrap();
    let mut handed_over = Vec::new();
    let error = store
        .record_prepared(read, &[(HOUR, reading("a", "CNY", "90"))], window, |ends| {
            handed_over = ends
        })
        .unwrap_err();
    assert!(matches!(error, HistoryError::Database { .. }), "{error:?}");
    // The forecast it handed over is the history's and this reading's.
    let samples = [(0, dec("100")), (HOUR, dec("90"))];
    assert_eq!(handed_over[0].1, WindowEnds::of(&samples, window).unwrap());
    // Nothing of the failed batch is stored.
    let history = store.history(&HistoryQuery::default()).unwrap();
    assert_eq!(history[0].samples.len(), 1);
}
