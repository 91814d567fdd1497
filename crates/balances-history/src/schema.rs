//! The database layout and its versioned migrations. `PRAGMA user_version` holds the
//! version; each migration runs in the same transaction as the version bump, so a file is
//! always at exactly one version. A file at a version newer than [`LATEST`] is left alone.

use rusqlite::{Connection, Transaction, params};
use rust_decimal::Decimal;

use crate::forecast::Running;
use crate::store::parse_decimal;

/// The version this build writes.
pub const LATEST: i64 = 5;

/// Migration `n` (index `n - 1`) takes a file from version `n - 1` to `n`.
const MIGRATIONS: [fn(&Transaction<'_>) -> rusqlite::Result<()>; LATEST as usize] =
    [version_1, version_2, version_3, version_4, version_5];

/// Version 1: series and their samples, amounts as exact decimal text.
///
/// A series is one account's currency or unit; samples refer to it by id so that a sample
/// row holds only numbers and amounts (the layout is `WITHOUT ROWID`, keyed by series and
/// time, so reading one series' samples in time order is one range of the primary key).
fn version_1(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE meta (
             key TEXT PRIMARY KEY,
             value TEXT NOT NULL
         ) WITHOUT ROWID;
         CREATE TABLE series (
             id INTEGER PRIMARY KEY,
             account TEXT NOT NULL,
             vendor TEXT NOT NULL,
             measure TEXT NOT NULL CHECK (measure IN ('currency', 'unit')),
             code TEXT NOT NULL,
             UNIQUE (account, vendor, measure, code)
         );
         CREATE TABLE samples (
             series INTEGER NOT NULL REFERENCES series (id),
             at_ms INTEGER NOT NULL,
             total TEXT NOT NULL,
             granted TEXT,
             topped_up TEXT,
             PRIMARY KEY (series, at_ms)
         ) WITHOUT ROWID;",
    )
}

/// Version 2: every sample carries its series' running spend and observed time
/// ([`Running`]), so a forecast over any window reads two rows per series instead of every
/// sample in the window (7 days at a 5-minute refresh is 2,016 rows per series). Existing
/// samples get their totals computed here, series by series, in time order.
fn version_2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE samples ADD COLUMN spent TEXT NOT NULL DEFAULT '0';
         ALTER TABLE samples ADD COLUMN observed_ms INTEGER NOT NULL DEFAULT 0;",
    )?;
    let mut read = tx.prepare("SELECT series, at_ms, total FROM samples ORDER BY series, at_ms")?;
    let mut update = tx.prepare(
        "UPDATE samples SET spent = ?3, observed_ms = ?4 WHERE series = ?1 AND at_ms = ?2",
    )?;
    let rows = read.query_map([], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    let mut previous: Option<(i64, i64, Decimal, Running)> = None;
    for row in rows {
        let (series, at_ms, total) = row?;
        let total = parse_decimal(&total).map_err(|text| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("`{text}` is not a decimal amount").into(),
            )
        })?;
        let running = match previous {
            Some((previous_series, previous_at, previous_total, running))
                if previous_series == series =>
            {
                running.after(previous_at, previous_total, at_ms, total)
            }
            _ => Running::default(),
        };
        update.execute(params![
            series,
            at_ms,
            running.spent.to_string(),
            running.observed_ms
        ])?;
        previous = Some((series, at_ms, total, running));
    }
    Ok(())
}

/// Version 3: new samples go to `recent`, laid out as `samples` is, and move to `samples`
/// in batches ([`crate::store`] says when).
///
/// Why: `samples` is ordered by series, so a run that adds one sample to each of 1,000
/// series changes about 1,500 pages scattered over the file (6 MiB through the WAL and again
/// at the checkpoint, for 40 KiB of samples). `recent` holds about an hour of runs, so the same
/// run changes its few pages; moving a batch to `samples` touches each series' page once for
/// a dozen samples. Every sample in `recent` is newer than every sample of its series in
/// `samples`.
fn version_3(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE recent (
             series INTEGER NOT NULL REFERENCES series (id),
             at_ms INTEGER NOT NULL,
             total TEXT NOT NULL,
             granted TEXT,
             topped_up TEXT,
             spent TEXT NOT NULL,
             observed_ms INTEGER NOT NULL,
             PRIMARY KEY (series, at_ms)
         ) WITHOUT ROWID;",
    )
}

/// Version 4: each series' first sample of its forecast window, kept between runs
/// ([`crate::window_start`] says why it stays the same for an hour). A row says that the
/// series has no sample from `from_ms` up to `first_at_ms`; samples are only ever added after
/// a series' newest, so only thinning can make a row untrue, and thinning deletes the rows
/// whose first sample it may have removed.
fn version_4(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE window_starts (
             series INTEGER PRIMARY KEY REFERENCES series (id),
             from_ms INTEGER NOT NULL,
             first_at_ms INTEGER NOT NULL,
             first_spent TEXT NOT NULL,
             first_observed_ms INTEGER NOT NULL
         );",
    )
}

/// Version 5: a series may be a period's spend (`measure = 'spend'`), so that a spend
/// reading (OpenAI's and Anthropic's cost reports) is recorded like any other fetch.
///
/// SQLite cannot change a `CHECK` constraint in place, so `series` is rebuilt with the same
/// ids, as SQLite's documented procedure does it ([`migrate_to`] runs it with foreign keys
/// off and checks every reference before it commits).
fn version_5(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE series_v5 (
             id INTEGER PRIMARY KEY,
             account TEXT NOT NULL,
             vendor TEXT NOT NULL,
             measure TEXT NOT NULL CHECK (measure IN ('currency', 'unit', 'spend')),
             code TEXT NOT NULL,
             UNIQUE (account, vendor, measure, code)
         );
         INSERT INTO series_v5 (id, account, vendor, measure, code)
             SELECT id, account, vendor, measure, code FROM series;
         DROP TABLE series;
         ALTER TABLE series_v5 RENAME TO series;",
    )
}

/// The file's version.
pub fn version(connection: &Connection) -> rusqlite::Result<i64> {
    connection.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Runs the migrations from the file's version up to `target`, each in its own immediate
/// transaction (another process migrating at the same time waits, then finds nothing left to
/// do). The caller has checked that the file is not newer than [`LATEST`].
///
/// Foreign keys are off while migrating, as SQLite's procedure for rebuilding a table asks
/// (dropping a table others refer to would otherwise count violations that renaming its
/// rebuilt copy does not uncount), and every reference is checked before each migration
/// commits; the connection's setting is put back after.
pub fn migrate_to(connection: &mut Connection, target: i64) -> rusqlite::Result<()> {
    // The usual case, a current file, takes no write lock.
    if version(connection)? >= target {
        return Ok(());
    }
    let enforced: bool = connection.pragma_query_value(None, "foreign_keys", |row| row.get(0))?;
    connection.pragma_update(None, "foreign_keys", false)?;
    let migrated = run_migrations(connection, target);
    connection.pragma_update(None, "foreign_keys", enforced)?;
    migrated
}

fn run_migrations(connection: &mut Connection, target: i64) -> rusqlite::Result<()> {
    loop {
        let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        if current >= target {
            return Ok(());
        }
        let Some(migration) = usize::try_from(current)
            .ok()
            .and_then(|at| MIGRATIONS.get(at))
        else {
            return Ok(());
        };
        migration(&tx)?;
        let broken: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
                row.get(0)
            })?;
        if broken > 0 {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                Some(format!(
                    "migration {} left {broken} rows referring to no series",
                    current + 1
                )),
            ));
        }
        tx.pragma_update(None, "user_version", current + 1)?;
        tx.commit()?;
    }
}
