//! The history file: opening it safely, recording readings, reading series back, thinning
//! old samples.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use balances::Balance;
use foldhash::{HashMap, HashMapExt};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use rust_decimal::Decimal;

use crate::forecast::{Running, WindowEnds, duration_ms, window_start};
use crate::record::{Measure, Reading, SeriesKey, readings};
use crate::schema::{self, LATEST};

/// How long a writer waits for another one (a cron run and the exporter sharing the file)
/// before giving up on this batch: long enough for any batch the command writes, short
/// enough that a stuck lock costs a run one warning, not its output.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`Store::open`] waits before trying again when SQLite answers "busy" without
/// waiting itself.
const BUSY_RETRY: Duration = Duration::from_millis(5);

/// How often the one-shot command and the exporter thin old samples: thinning reads every
/// old sample, which is not worth doing on every run.
const THIN_EVERY: Duration = Duration::from_secs(3_600);

/// New samples wait in `recent` (see the schema's version 3) until it holds this many runs'
/// worth (this many samples per series), then move to `samples` in one batch. Twelve is an
/// hour at a 5-minute refresh: a run then changes a few pages of `recent` instead of one
/// page per series, and one run in twelve moves the batch.
const RECENT_RUNS: i64 = 12;

/// Moves every sample of `recent` to `samples`. Each is newer than its series' samples there,
/// so none can collide.
fn move_recent(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "INSERT INTO samples (series, at_ms, total, granted, topped_up, spent, observed_ms)
             SELECT series, at_ms, total, granted, topped_up, spent, observed_ms FROM recent;
         DELETE FROM recent;",
    )
}

/// The lookups a forecast makes in one series, over both tables (`recent` first: each of its
/// samples is newer than every sample of the series in `samples`).
struct Lookups<'c> {
    find_series: rusqlite::Statement<'c>,
    newest_recent: rusqlite::Statement<'c>,
    newest_moved: rusqlite::Statement<'c>,
    first_moved: rusqlite::Statement<'c>,
    first_recent: rusqlite::Statement<'c>,
    path: &'c Path,
}

/// A series' newest sample: its time, total and running totals.
type Newest = (i64, Decimal, Running);

impl<'c> Lookups<'c> {
    fn prepare(connection: &'c Connection, path: &'c Path) -> rusqlite::Result<Self> {
        let newest = |table: &str| {
            connection.prepare(&format!(
                "SELECT at_ms, total, spent, observed_ms FROM {table}
                 WHERE series = ?1 ORDER BY at_ms DESC LIMIT 1"
            ))
        };
        let first = |table: &str| {
            connection.prepare(&format!(
                "SELECT at_ms, spent, observed_ms FROM {table}
                 WHERE series = ?1 AND at_ms >= ?2 ORDER BY at_ms LIMIT 1"
            ))
        };
        Ok(Self {
            find_series: connection.prepare(
                "SELECT id FROM series
                 WHERE account = ?1 AND vendor = ?2 AND measure = ?3 AND code = ?4",
            )?,
            newest_recent: newest("recent")?,
            newest_moved: newest("samples")?,
            first_moved: first("samples")?,
            first_recent: first("recent")?,
            path,
        })
    }

    /// The id of `key`'s series, if the file has it.
    fn series_id(&mut self, key: &SeriesKey) -> Result<Option<i64>, HistoryError> {
        self.find_series
            .query_row(
                params![key.account, key.vendor, key.measure.as_str(), key.code],
                |row| row.get(0),
            )
            .optional()
            .map_err(|error| database_error(self.path, error))
    }

    fn newest(&mut self, series: i64) -> Result<Option<Newest>, HistoryError> {
        let row = |row: &rusqlite::Row<'_>| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
            ))
        };
        let found = match self.newest_recent.query_row([series], row).optional() {
            Ok(Some(newest)) => Ok(Some(newest)),
            Ok(None) => self.newest_moved.query_row([series], row).optional(),
            Err(error) => Err(error),
        }
        .map_err(|error| database_error(self.path, error))?;
        found
            .map(|(at_ms, total, spent, observed_ms)| {
                Ok((
                    at_ms,
                    self_parse(self.path, &total)?,
                    Running {
                        spent: self_parse(self.path, &spent)?,
                        observed_ms,
                    },
                ))
            })
            .transpose()
    }

    /// The first sample at or after `start`, if the series has one.
    fn first_from(
        &mut self,
        series: i64,
        start: i64,
    ) -> Result<Option<(i64, Running)>, HistoryError> {
        let row = |row: &rusqlite::Row<'_>| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        };
        let found = match self
            .first_moved
            .query_row(params![series, start], row)
            .optional()
        {
            Ok(Some(first)) => Ok(Some(first)),
            Ok(None) => self
                .first_recent
                .query_row(params![series, start], row)
                .optional(),
            Err(error) => Err(error),
        }
        .map_err(|error| database_error(self.path, error))?;
        found
            .map(|(at_ms, spent, observed_ms)| {
                Ok((
                    at_ms,
                    Running {
                        spent: self_parse(self.path, &spent)?,
                        observed_ms,
                    },
                ))
            })
            .transpose()
    }

    /// The window ends of a series whose newest sample is `last`: the first sample at or
    /// after the window's start ([`window_start`]). The series has one, its newest.
    fn window_ends(
        &mut self,
        series: i64,
        last: Newest,
        window: Duration,
    ) -> Result<WindowEnds, HistoryError> {
        let (last_at_ms, last_total, last) = last;
        let start = window_start(last_at_ms, window);
        let (first_at_ms, first) = self
            .first_from(series, start)?
            .unwrap_or((last_at_ms, last));
        Ok(WindowEnds {
            first_at_ms,
            first,
            last_at_ms,
            last_total,
            last,
        })
    }
}

/// What a run reads of the file's series before its fetches end ([`Store::prepare`]), so
/// that recording them afterwards ([`Store::record_prepared`]) only writes.
#[derive(Debug)]
pub struct Prepared {
    /// `PRAGMA data_version` of the read: it changes when another connection commits, and
    /// then everything is looked up again.
    data_version: i64,
    /// Every series of the file.
    series: HashMap<SeriesKey, KnownSeries>,
}

/// One series as [`Store::prepare`] found it.
#[derive(Debug)]
struct KnownSeries {
    id: i64,
    newest: Option<Newest>,
    window_start: Option<WindowStart>,
    /// `window_start` was looked up rather than kept: recording keeps it.
    remember: bool,
}

/// A row of `window_starts` (schema version 4): the series has no sample from `from_ms` up
/// to `first_at_ms`, the sample with these running totals.
#[derive(Clone, Copy, Debug)]
struct WindowStart {
    from_ms: i64,
    first_at_ms: i64,
    first: Running,
}

impl WindowStart {
    /// The first sample at or after `start`, if this row answers it.
    fn first_from(&self, start: i64) -> Option<(i64, Running)> {
        (self.from_ms <= start && start <= self.first_at_ms)
            .then_some((self.first_at_ms, self.first))
    }
}

/// A write [`plan`] decided on.
enum Write {
    /// A reading (its index) stored as a sample of `series` with these running totals.
    Sample {
        series: i64,
        at_ms: i64,
        reading: usize,
        running: Running,
    },
    /// A window start kept for the runs of the next hour.
    WindowStart { series: i64, start: WindowStart },
}

/// What [`plan`] decided: what the batch stores, and each reading's window ends.
struct Plan {
    recorded: Recorded,
    ends: Vec<(SeriesKey, WindowEnds)>,
    writes: Vec<Write>,
}

/// This batch's samples of one series, not written yet when later readings are planned.
struct InBatch {
    id: i64,
    newest: Newest,
    /// Time and running totals of each sample the batch writes, oldest first.
    written: Vec<(i64, Running)>,
}

/// Decides what a batch writes and computes its window ends, reading only: from `prepared`
/// when it is still true, else with lookups (a new series is added here, for its id). The
/// writes are made afterwards, so that the ends can be handed over first.
fn plan(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    readings: &[(i64, Reading)],
    window: Option<Duration>,
    mut prepared: Option<&mut Prepared>,
) -> Result<Plan, HistoryError> {
    let database = |error| database_error(path, error);
    let mut add_series = tx
        .prepare(
            "INSERT INTO series (account, vendor, measure, code) VALUES (?1, ?2, ?3, ?4)
             RETURNING id",
        )
        .map_err(database)?;
    let mut lookups = Lookups::prepare(tx, path).map_err(database)?;
    let mut recorded = Recorded::default();
    let mut ends = Vec::new();
    let mut writes = Vec::with_capacity(readings.len());
    let mut batch: HashMap<&SeriesKey, InBatch> = HashMap::new();
    for (index, (at_ms, reading)) in readings.iter().enumerate() {
        let key = &reading.key;
        let known = prepared.as_deref().and_then(|p| p.series.get(key));
        let (series, previous, is_new) = if let Some(seen) = batch.get(key) {
            (seen.id, Some(seen.newest), false)
        } else if let Some(known) = known {
            (known.id, known.newest, false)
        } else {
            // What was read holds every series of the file: one it does not hold is new.
            let found = if prepared.is_some() {
                None
            } else {
                lookups.series_id(key)?
            };
            match found {
                Some(series) => (series, lookups.newest(series)?, false),
                None => (
                    add_series
                        .query_row(
                            params![key.account, key.vendor, key.measure.as_str(), key.code],
                            |row| row.get(0),
                        )
                        .map_err(database)?,
                    None,
                    true,
                ),
            }
        };
        // The series' newest sample once this reading is in (or skipped).
        let (last, wrote) = match previous {
            Some(previous) if previous.0 >= *at_ms => {
                recorded.skipped += 1;
                (previous, false)
            }
            _ => {
                // Spend rises as it is spent: a balance's running totals would count it
                // backwards, so a spend series has none.
                let running = match previous {
                    Some((at, total, running)) if key.measure != Measure::Spend => {
                        running.after(at, total, *at_ms, reading.total)
                    }
                    _ => Running::default(),
                };
                writes.push(Write::Sample {
                    series,
                    at_ms: *at_ms,
                    reading: index,
                    running,
                });
                recorded.written += 1;
                ((*at_ms, reading.total, running), true)
            }
        };
        let seen = batch.entry(key).or_insert(InBatch {
            id: series,
            newest: last,
            written: Vec::new(),
        });
        seen.newest = last;
        if wrote {
            seen.written.push((last.0, last.2));
        }
        let Some(window) = window else {
            continue;
        };
        let start = window_start(last.0, window);
        let known = prepared.as_deref().and_then(|p| p.series.get(key));
        let kept = known.and_then(|known| known.window_start?.first_from(start));
        let (first, remember) = match kept {
            Some(first) => (first, known.is_some_and(|known| known.remember)),
            None => {
                // Stored samples are older than this batch's: the first stored one from
                // `start` comes first, then the batch's own.
                let stored = if is_new {
                    None
                } else {
                    lookups.first_from(series, start)?
                };
                let first = stored
                    .or_else(|| {
                        batch
                            .get(key)?
                            .written
                            .iter()
                            .find(|(at_ms, _)| *at_ms >= start)
                            .copied()
                    })
                    .unwrap_or((last.0, last.2));
                (first, prepared.is_some())
            }
        };
        let (first_at_ms, first) = first;
        let kept_start = WindowStart {
            from_ms: start,
            first_at_ms,
            first,
        };
        if remember {
            writes.push(Write::WindowStart {
                series,
                start: kept_start,
            });
        }
        if let Some(known) = prepared.as_deref_mut().and_then(|p| p.series.get_mut(key)) {
            known.window_start = Some(kept_start);
            known.remember = false;
        }
        ends.push((
            key.clone(),
            WindowEnds {
                first_at_ms,
                first,
                last_at_ms: last.0,
                last_total: last.1,
                last: last.2,
            },
        ));
    }
    Ok(Plan {
        recorded,
        ends,
        writes,
    })
}

/// How a connection's set-up ended, short of an SQLite error.
enum SetUp {
    Ready,
    /// The file's schema version, newer than this build's.
    NewerSchema(i64),
    /// The journal mode the file stayed in.
    NotWal(String),
}

/// Checks the file's version, then sets the sync level and WAL mode, and migrates an older
/// file.
fn set_up(connection: &mut Connection, busy_timeout: Duration) -> rusqlite::Result<SetUp> {
    connection.busy_timeout(busy_timeout)?;
    // Reading the version is the first read of the file: a file that is not a database
    // fails here.
    let found = schema::version(connection)?;
    if found > LATEST {
        return Ok(SetUp::NewerSchema(found));
    }
    // WAL: the exporter and a cron run write the same file, and readers never block
    // writers. NORMAL sync is durable across a process crash; a power cut may lose the
    // last batch, which the next refresh replaces. NORMAL comes first: switching a new
    // file to WAL writes its first page through a rollback journal, which at the default
    // (FULL) costs two more fsyncs.
    connection.execute_batch("PRAGMA synchronous = NORMAL;")?;
    let mode: String =
        connection.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Ok(SetUp::NotWal(mode));
    }
    connection.execute_batch("PRAGMA foreign_keys = ON;")?;
    schema::migrate_to(connection, LATEST)?;
    Ok(SetUp::Ready)
}

/// The key of a row of `series` read as `id, account, vendor, measure, code`.
fn series_key(row: &rusqlite::Row<'_>, path: &Path) -> Result<SeriesKey, HistoryError> {
    let text = |index| {
        row.get::<_, String>(index)
            .map_err(|e| database_error(path, e))
    };
    let measure = text(3)?;
    Ok(SeriesKey {
        account: text(1)?,
        vendor: text(2)?,
        measure: Measure::from_stored(&measure).ok_or_else(|| HistoryError::Database {
            path: path.to_owned(),
            message: format!(
                "unknown measure `{}` in the history",
                measure.escape_debug()
            ),
        })?,
        code: text(4)?,
    })
}

fn database_error(path: &Path, error: rusqlite::Error) -> HistoryError {
    HistoryError::Database {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

/// Why the history could not be used. Its `Display` names the file and what to do; it never
/// holds an amount or anything a vendor sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The file or its directory could not be created or opened.
    #[error("cannot open the balance history {path}: {message}")]
    Open { path: PathBuf, message: String },
    /// There is no history file (reading only).
    #[error(
        "no balance history at {path} yet: `balances` and `balances serve` record one unless --no-history is given"
    )]
    Missing { path: PathBuf },
    /// A newer `balances` wrote the file; it is left as it is.
    #[error(
        "the balance history {path} has schema version {found}, newer than this balances knows ({supported}): it is left untouched; upgrade balances or use another --history file"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// SQLite refused: the file is locked past the busy timeout, corrupt, read-only, or the
    /// disk is full.
    #[error("the balance history {path} cannot be used: {message}")]
    Database { path: PathBuf, message: String },
}

/// How long samples are kept at full resolution, then thinned.
///
/// The defaults, and why: every sample for 7 days, the default forecast window, so the
/// forecast sees every sample and a top-up is located to within one refresh; then the last
/// sample of each hour up to 90 days, enough for a sparkline or a look back over a quarter;
/// then the last sample of each day, kept (a year of one series is 365 rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Samples younger than this are all kept.
    pub every_sample: Duration,
    /// Samples younger than this (and older than `every_sample`) keep one per hour; older
    /// ones keep one per day.
    pub hourly: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            every_sample: Duration::from_secs(7 * 86_400),
            hourly: Duration::from_secs(90 * 86_400),
        }
    }
}

/// One stored sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub total: Decimal,
    pub granted: Option<Decimal>,
    pub topped_up: Option<Decimal>,
}

/// One series and its samples, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesHistory {
    pub key: SeriesKey,
    pub samples: Vec<Sample>,
}

/// What [`Store::history`] reads.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    /// Only this account's series.
    pub account: Option<String>,
    /// Only samples at or after this time.
    pub since: Option<SystemTime>,
    /// Only the last sample of each slice of this long (slices aligned on the Unix epoch);
    /// every sample when `None`.
    pub every: Option<Duration>,
}

/// A series in one history file, as [`Store::series`] lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesId(i64);

/// The widest total, granted and topped-up amounts (in characters, as stored) among the
/// samples a query selects, for aligning a table without holding every row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AmountWidths {
    pub total: usize,
    pub granted: usize,
    pub topped_up: usize,
}

/// What a [`Store::record`] call stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Samples written.
    pub written: usize,
    /// Samples not newer than their series' newest (another writer got there first, or two
    /// fetches ended in the same millisecond): left out so that each series keeps one time
    /// line.
    pub skipped: usize,
}

/// An open history file.
#[derive(Debug)]
pub struct Store {
    connection: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating it, mode 0600, and its directory, mode 0700, when missing) and
    /// migrates the history at `path`, with [`DEFAULT_BUSY_TIMEOUT`].
    pub fn open(path: &Path) -> Result<Self, HistoryError> {
        Self::open_with(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`Store::open`] with another busy timeout.
    pub fn open_with(path: &Path, busy_timeout: Duration) -> Result<Self, HistoryError> {
        create_private(path)?;
        Self::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE, busy_timeout)
    }

    /// Opens an existing history to read it (migrating it if it is older than this build).
    pub fn open_existing(path: &Path) -> Result<Self, HistoryError> {
        if !path.exists() {
            return Err(HistoryError::Missing {
                path: path.to_owned(),
            });
        }
        Self::connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE,
            DEFAULT_BUSY_TIMEOUT,
        )
    }

    /// Opens and sets up a connection, retrying while another process holds a lock SQLite
    /// does not wait for (switching a new file to WAL), up to `busy_timeout` in all.
    fn connect(
        path: &Path,
        flags: OpenFlags,
        busy_timeout: Duration,
    ) -> Result<Self, HistoryError> {
        let started = Instant::now();
        loop {
            let mut connection = Connection::open_with_flags(
                path,
                flags | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(|error| HistoryError::Open {
                path: path.to_owned(),
                message: error.to_string(),
            })?;
            match set_up(&mut connection, busy_timeout) {
                Ok(SetUp::Ready) => {
                    return Ok(Self {
                        connection,
                        path: path.to_owned(),
                    });
                }
                Ok(SetUp::NewerSchema(found)) => {
                    return Err(HistoryError::NewerSchema {
                        path: path.to_owned(),
                        found,
                        supported: LATEST,
                    });
                }
                Ok(SetUp::NotWal(mode)) => {
                    return Err(HistoryError::Database {
                        path: path.to_owned(),
                        message: format!("cannot switch to WAL mode (journal mode is {mode})"),
                    });
                }
                Err(error)
                    if error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && started.elapsed() < busy_timeout =>
                {
                    drop(connection);
                    std::thread::sleep(BUSY_RETRY);
                }
                Err(error) => return Err(database_error(path, error)),
            }
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn database(&self, error: rusqlite::Error) -> HistoryError {
        database_error(&self.path, error)
    }

    /// Records every currency and unit of each balance, at the time its fetch ended, in one
    /// transaction.
    pub fn record<'a>(
        &mut self,
        fetched: impl IntoIterator<Item = (SystemTime, &'a Balance)>,
    ) -> Result<Recorded, HistoryError> {
        let readings: Vec<(i64, Reading)> = fetched
            .into_iter()
            .flat_map(|(at, balance)| {
                let at_ms = ms_since_epoch(at);
                readings(balance).into_iter().map(move |r| (at_ms, r))
            })
            .collect();
        self.record_readings(&readings)
    }

    /// Records readings, each at its time (milliseconds since the Unix epoch).
    pub fn record_readings(
        &mut self,
        readings: &[(i64, Reading)],
    ) -> Result<Recorded, HistoryError> {
        self.write(readings, None, None, |_| {})
    }

    /// Records readings as [`Store::record_readings`] does and, in the same transaction,
    /// reads what a forecast over `window` needs for each reading's series (what
    /// [`Store::window_ends`] would return for their keys, in the order of `readings`): the
    /// exporter does both on every refresh, and this way each series is looked up once.
    pub fn record_with_window_ends(
        &mut self,
        readings: &[(i64, Reading)],
        window: Duration,
    ) -> Result<(Recorded, Vec<(SeriesKey, WindowEnds)>), HistoryError> {
        let mut ends = Vec::new();
        let recorded = self.write(readings, Some(window), None, |known| ends = known)?;
        Ok((recorded, ends))
    }

    /// Reads what recording a run that started at `run_start` will need of every series in
    /// the file: its id, its newest sample, and the first sample of the forecast `window`
    /// its new sample will close (kept by the runs of the last hour, schema version 4, else
    /// looked up).
    ///
    /// The one-shot command calls this on another thread while it parses its accounts, so
    /// that [`Store::record_prepared`] after the fetches only writes. It takes no write
    /// lock: another process may write in between, which `record_prepared` notices.
    pub fn prepare(
        &mut self,
        run_start: SystemTime,
        window: Duration,
    ) -> Result<Prepared, HistoryError> {
        let run_start_ms = ms_since_epoch(run_start);
        let path = self.path.clone();
        let database = |error| database_error(&path, error);
        // One read transaction: the rows and the data version see the same file.
        let tx = self.connection.transaction().map_err(database)?;
        let data_version: i64 = tx
            .pragma_query_value(None, "data_version", |row| row.get(0))
            .map_err(database)?;
        let mut series = HashMap::new();
        {
            // Each join is one seek on a primary key. A sample in `recent` is newer than any
            // of its series in `samples`, so the newest is looked for there first, and in
            // `samples` only for a series with nothing in `recent` (after a batch moved).
            let mut statement = tx
                .prepare(
                    "SELECT s.id, s.account, s.vendor, s.measure, s.code,
                            rn.at_ms, rn.total, rn.spent, rn.observed_ms,
                            w.from_ms, w.first_at_ms, w.first_spent, w.first_observed_ms
                     FROM series AS s
                     LEFT JOIN recent AS rn ON rn.series = s.id
                       AND rn.at_ms = (SELECT max(at_ms) FROM recent WHERE series = s.id)
                     LEFT JOIN window_starts AS w ON w.series = s.id",
                )
                .map_err(database)?;
            let mut rows = statement.query([]).map_err(database)?;
            while let Some(row) = rows.next().map_err(database)? {
                let text = |index| row.get::<_, Option<String>>(index).map_err(database);
                let decimal = |index| self_parse(&path, &text(index)?.unwrap_or_default());
                let number = |index| row.get::<_, Option<i64>>(index).map_err(database);
                let key = series_key(row, &path)?;
                let newest = match number(5)? {
                    Some(at_ms) => Some((
                        at_ms,
                        decimal(6)?,
                        Running {
                            spent: decimal(7)?,
                            observed_ms: number(8)?.unwrap_or_default(),
                        },
                    )),
                    None => None,
                };
                let window_start = match (number(9)?, number(10)?) {
                    (Some(from_ms), Some(first_at_ms)) => Some(WindowStart {
                        from_ms,
                        first_at_ms,
                        first: Running {
                            spent: decimal(11)?,
                            observed_ms: number(12)?.unwrap_or_default(),
                        },
                    }),
                    _ => None,
                };
                let known = KnownSeries {
                    id: row.get(0).map_err(database)?,
                    newest,
                    window_start,
                    remember: false,
                };
                series.insert(key, known);
            }
            drop(rows);
            let mut lookups = Lookups::prepare(&tx, &path).map_err(database)?;
            for known in series.values_mut() {
                if known.newest.is_none() {
                    known.newest = lookups.newest(known.id)?;
                }
                let Some(newest) = known.newest else {
                    continue;
                };
                // The window of this run's sample starts at or after this one's.
                let start = window_start(newest.0.max(run_start_ms), window);
                if known
                    .window_start
                    .and_then(|kept| kept.first_from(start))
                    .is_none()
                {
                    let (first_at_ms, first) = lookups
                        .first_from(known.id, start)?
                        .unwrap_or((newest.0, newest.2));
                    known.window_start = Some(WindowStart {
                        from_ms: start,
                        first_at_ms,
                        first,
                    });
                    known.remember = true;
                }
            }
        }
        tx.commit().map_err(database)?;
        Ok(Prepared {
            data_version,
            series,
        })
    }

    /// [`Store::record_with_window_ends`] with what [`Store::prepare`] read: if no other
    /// connection has written since, each reading is one insert; else everything is looked
    /// up as `record_with_window_ends` does.
    ///
    /// `ends_known` is called with the window ends as soon as they are known, inside the
    /// transaction and before its writes: the one-shot command shows its forecasts while the
    /// samples are written. If a write then fails, the forecasts shown still hold (they are
    /// the stored history's and this run's readings), and the error is returned.
    pub fn record_prepared(
        &mut self,
        prepared: Prepared,
        readings: &[(i64, Reading)],
        window: Duration,
        ends_known: impl FnOnce(Vec<(SeriesKey, WindowEnds)>),
    ) -> Result<Recorded, HistoryError> {
        self.write(readings, Some(window), Some(prepared), ends_known)
    }

    fn write(
        &mut self,
        readings: &[(i64, Reading)],
        window: Option<Duration>,
        prepared: Option<Prepared>,
        ends_known: impl FnOnce(Vec<(SeriesKey, WindowEnds)>),
    ) -> Result<Recorded, HistoryError> {
        let path = self.path.clone();
        let database = |error| database_error(&path, error);
        let tx = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(database)?;
        let data_version: i64 = tx
            .pragma_query_value(None, "data_version", |row| row.get(0))
            .map_err(database)?;
        let mut prepared = prepared.filter(|prepared| prepared.data_version == data_version);
        let Plan {
            recorded,
            ends,
            writes,
        } = plan(&tx, &path, readings, window, prepared.as_mut())?;
        ends_known(ends);
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO recent (series, at_ms, total, granted, topped_up, spent, observed_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(database)?;
            let mut remember_start = tx
                .prepare(
                    "INSERT INTO window_starts (series, from_ms, first_at_ms, first_spent, first_observed_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (series) DO UPDATE SET from_ms = excluded.from_ms,
                         first_at_ms = excluded.first_at_ms, first_spent = excluded.first_spent,
                         first_observed_ms = excluded.first_observed_ms",
                )
                .map_err(database)?;
            for write in &writes {
                match write {
                    Write::Sample {
                        series,
                        at_ms,
                        reading,
                        running,
                    } => {
                        let reading = &readings[*reading].1;
                        insert
                            .execute(params![
                                series,
                                at_ms,
                                reading.total.to_string(),
                                reading.granted.map(|d| d.to_string()),
                                reading.topped_up.map(|d| d.to_string()),
                                running.spent.to_string(),
                                running.observed_ms,
                            ])
                            .map_err(database)?;
                    }
                    Write::WindowStart { series, start } => {
                        remember_start
                            .execute(params![
                                series,
                                start.from_ms,
                                start.first_at_ms,
                                start.first.spent.to_string(),
                                start.first.observed_ms
                            ])
                            .map_err(database)?;
                    }
                }
            }
        }
        // `recent` holds `RECENT_RUNS` runs' worth when the first series this batch wrote
        // has that many samples there (a seek, where counting the table is a scan of it).
        let first_written = writes.iter().find_map(|write| match write {
            Write::Sample { series, .. } => Some(*series),
            Write::WindowStart { .. } => None,
        });
        if let Some(series) = first_written {
            let waiting: i64 = tx
                .query_row(
                    "SELECT count(*) FROM recent WHERE series = ?1",
                    [series],
                    |row| row.get(0),
                )
                .map_err(database)?;
            if waiting >= RECENT_RUNS {
                move_recent(&tx).map_err(database)?;
            }
        }
        tx.commit().map_err(database)?;
        Ok(recorded)
    }

    /// The newest sample of each of `keys` and the first one inside `window` before it, with
    /// their running totals: what a forecast needs. Series without samples are left out.
    /// Three primary-key lookups per series, whatever the window.
    pub fn window_ends(
        &self,
        keys: &[SeriesKey],
        window: Duration,
    ) -> Result<Vec<(SeriesKey, WindowEnds)>, HistoryError> {
        let mut lookups =
            Lookups::prepare(&self.connection, &self.path).map_err(|error| self.database(error))?;
        let mut ends = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(series) = lookups.series_id(key)? else {
                continue;
            };
            let Some(last) = lookups.newest(series)? else {
                continue;
            };
            ends.push((key.clone(), lookups.window_ends(series, last, window)?));
        }
        Ok(ends)
    }

    /// The series of the file (only `account`'s, when given), sorted by account, vendor,
    /// then measure (`currency`, `spend`, `unit`), then code.
    pub fn series(
        &self,
        account: Option<&str>,
    ) -> Result<Vec<(SeriesId, SeriesKey)>, HistoryError> {
        let database = |error| self.database(error);
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, account, vendor, measure, code FROM series
                 WHERE ?1 IS NULL OR account = ?1
                 ORDER BY account, vendor, measure, code",
            )
            .map_err(database)?;
        let mut rows = statement.query([account]).map_err(database)?;
        let mut series = Vec::new();
        while let Some(row) = rows.next().map_err(database)? {
            let key = series_key(row, &self.path)?;
            series.push((SeriesId(row.get(0).map_err(database)?), key));
        }
        Ok(series)
    }

    /// One series' samples at or after `since`, oldest first; with `every`, only the last of
    /// each slice of that length (chosen by SQLite, so the others are never parsed).
    pub fn samples(
        &self,
        series: SeriesId,
        since: Option<SystemTime>,
        every: Option<Duration>,
    ) -> Result<Vec<Sample>, HistoryError> {
        let database = |error| self.database(error);
        let since_ms = since.map_or(i64::MIN, ms_since_epoch);
        let (statement, every_ms) = match every {
            // With MAX(), SQLite takes the other columns from the row holding the maximum.
            Some(every) => (
                self.connection.prepare(
                    "SELECT MAX(at_ms), total, granted, topped_up FROM (
                         SELECT at_ms, total, granted, topped_up FROM samples
                         WHERE series = ?1 AND at_ms >= ?2
                         UNION ALL
                         SELECT at_ms, total, granted, topped_up FROM recent
                         WHERE series = ?1 AND at_ms >= ?2)
                     GROUP BY at_ms / ?3 ORDER BY 1",
                ),
                Some(duration_ms(every).max(1)),
            ),
            None => (
                self.connection.prepare(
                    "SELECT at_ms, total, granted, topped_up FROM samples
                     WHERE series = ?1 AND at_ms >= ?2
                     UNION ALL
                     SELECT at_ms, total, granted, topped_up FROM recent
                     WHERE series = ?1 AND at_ms >= ?2
                     ORDER BY 1",
                ),
                None,
            ),
        };
        let mut statement = statement.map_err(database)?;
        let mut rows = match every_ms {
            Some(every_ms) => statement.query(params![series.0, since_ms, every_ms]),
            None => statement.query(params![series.0, since_ms]),
        }
        .map_err(database)?;
        let mut samples = Vec::new();
        while let Some(row) = rows.next().map_err(database)? {
            let optional = |index: usize| -> Result<Option<Decimal>, HistoryError> {
                row.get::<_, Option<String>>(index)
                    .map_err(database)?
                    .map(|text| self_parse(&self.path, &text))
                    .transpose()
            };
            samples.push(Sample {
                at_ms: row.get(0).map_err(database)?,
                total: self_parse(&self.path, &row.get::<_, String>(1).map_err(database)?)?,
                granted: optional(2)?,
                topped_up: optional(3)?,
            });
        }
        Ok(samples)
    }

    /// The widest stored amounts among the samples of `account` (or all) at or after
    /// `since`; a missing amount counts as one character (`-`).
    pub fn amount_widths(
        &self,
        account: Option<&str>,
        since: Option<SystemTime>,
    ) -> Result<AmountWidths, HistoryError> {
        let since_ms = since.map_or(i64::MIN, ms_since_epoch);
        let mut widths = AmountWidths::default();
        for table in ["samples", "recent"] {
            let found = self
                .connection
                .query_row(
                    &format!(
                        "SELECT max(length(p.total)), max(length(coalesce(p.granted, '-'))),
                                max(length(coalesce(p.topped_up, '-')))
                         FROM series s JOIN {table} p ON p.series = s.id
                         WHERE (?1 IS NULL OR s.account = ?1) AND p.at_ms >= ?2"
                    ),
                    params![account, since_ms],
                    |row| {
                        let width = |index| {
                            row.get::<_, Option<i64>>(index)
                                .map(|w| w.unwrap_or(0).max(0) as usize)
                        };
                        Ok(AmountWidths {
                            total: width(0)?,
                            granted: width(1)?,
                            topped_up: width(2)?,
                        })
                    },
                )
                .map_err(|error| self.database(error))?;
            widths = AmountWidths {
                total: widths.total.max(found.total),
                granted: widths.granted.max(found.granted),
                topped_up: widths.topped_up.max(found.topped_up),
            };
        }
        Ok(widths)
    }

    /// Every series the query selects, with its samples oldest first, series sorted as
    /// [`Store::series`] sorts them; series without samples in the period are left out.
    pub fn history(&self, query: &HistoryQuery) -> Result<Vec<SeriesHistory>, HistoryError> {
        let mut histories = Vec::new();
        for (id, key) in self.series(query.account.as_deref())? {
            let samples = self.samples(id, query.since, query.every)?;
            if !samples.is_empty() {
                histories.push(SeriesHistory { key, samples });
            }
        }
        Ok(histories)
    }

    /// Thins samples older than the retention's tiers to the last one per hour, then per
    /// day. Returns how many were deleted. Running totals stay true: each kept sample holds
    /// its own.
    pub fn thin(&mut self, now: SystemTime, retention: &Retention) -> Result<usize, HistoryError> {
        let path = self.path.clone();
        let database = |error: rusqlite::Error| HistoryError::Database {
            path: path.clone(),
            message: error.to_string(),
        };
        let now_ms = ms_since_epoch(now);
        let tx = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(database)?;
        // Thinning is about old samples, all in `samples`; moving `recent` first keeps the
        // last sample of an hour from being counted in both tables.
        move_recent(&tx).map_err(database)?;
        let mut deleted = 0;
        for (age, bucket_ms, reached) in [
            (
                retention.every_sample,
                3_600_000_i64,
                "thinned_hourly_below_ms",
            ),
            (retention.hourly, 86_400_000_i64, "thinned_daily_below_ms"),
        ] {
            // On the hour, as forecast windows start: a window as long as the first tier
            // keeps every sample of its first hour.
            let cutoff = window_start(now_ms, age);
            // Only what aged into the tier since the last thinning is read, from the start
            // of the slice the last cutoff fell in (its kept sample may no longer be the
            // slice's last); the first thinning of a file reads it all.
            let from = meta_ms(&tx, reached)
                .map_err(database)?
                .map_or(i64::MIN, |last| last.div_euclid(bucket_ms) * bucket_ms);
            // A sample goes when a later one of its slice is older than the cutoff.
            // `series IN (...)` lets SQLite seek each series' range on the primary key
            // instead of reading every sample of the file, and the later sample is one more
            // seek (a `NOT IN` over the slices' last samples took seconds on a week of 1,000
            // series).
            deleted += tx
                .execute(
                    "DELETE FROM samples AS p
                     WHERE series IN (SELECT id FROM series) AND at_ms >= ?3 AND at_ms < ?1
                       AND at_ms < (
                           SELECT MAX(q.at_ms) FROM samples AS q
                           WHERE q.series = p.series
                             AND q.at_ms >= p.at_ms / ?2 * ?2
                             AND q.at_ms < min((p.at_ms / ?2 + 1) * ?2, ?1))",
                    params![cutoff, bucket_ms, from],
                )
                .map_err(database)?;
            set_meta_ms(&tx, reached, cutoff).map_err(database)?;
        }
        // A kept first sample of a window may be one just thinned away: only samples older
        // than the first tier's cutoff are.
        tx.execute(
            "DELETE FROM window_starts WHERE first_at_ms < ?1",
            [window_start(now_ms, retention.every_sample)],
        )
        .map_err(database)?;
        set_meta_ms(&tx, "thinned_at_ms", now_ms).map_err(database)?;
        tx.commit().map_err(database)?;
        Ok(deleted)
    }

    /// [`Store::thin`], unless the file was thinned less than an hour before `now`.
    pub fn thin_if_due(
        &mut self,
        now: SystemTime,
        retention: &Retention,
    ) -> Result<Option<usize>, HistoryError> {
        let last =
            meta_ms(&self.connection, "thinned_at_ms").map_err(|error| self.database(error))?;
        let due =
            last.is_none_or(|at| ms_since_epoch(now).saturating_sub(at) >= duration_ms(THIN_EVERY));
        if due {
            self.thin(now, retention).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The underlying connection, for tests of the layout.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.connection
    }
}

/// A time kept in the `meta` table, if it is there and a number.
fn meta_ms(connection: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    let text: Option<String> = connection
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(text.and_then(|text| text.parse().ok()))
}

fn set_meta_ms(connection: &Connection, key: &str, at_ms: i64) -> rusqlite::Result<()> {
    connection
        .execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, at_ms.to_string()],
        )
        .map(drop)
}

/// Milliseconds since the Unix epoch (negative before it), saturating.
pub fn ms_since_epoch(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// The time `at_ms` milliseconds after the Unix epoch.
pub fn time_of_ms(at_ms: i64) -> SystemTime {
    if at_ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(at_ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(at_ms.unsigned_abs())
    }
}

/// A stored amount, written by `Decimal`'s `Display`. `Decimal::from_str` keeps the scale
/// but drops the sign of a negative zero (`-0.00`, which DeepSeek sends and the facade
/// keeps), so the sign is put back from the text.
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, &str> {
    let mut value = Decimal::from_str(text).map_err(|_| text)?;
    if value.is_zero() && text.starts_with('-') {
        value.set_sign_negative(true);
    }
    Ok(value)
}

fn self_parse(path: &Path, text: &str) -> Result<Decimal, HistoryError> {
    parse_decimal(text).map_err(|text| HistoryError::Database {
        path: path.to_owned(),
        message: format!(
            "`{}` in the history is not a decimal amount",
            text.escape_debug()
        ),
    })
}

/// Creates the file (mode 0600) and its directory (mode 0700) when missing, and narrows an
/// existing file that others can read: it says how much money each account has.
fn create_private(path: &Path) -> Result<(), HistoryError> {
    let open = |error: std::io::Error| HistoryError::Open {
        path: path.to_owned(),
        message: error.to_string(),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent).map_err(open)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(open)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = file.metadata().map_err(open)?;
        if metadata.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(open)?;
        }
    }
    drop(file);
    Ok(())
}
