//! `balances history [ACCOUNT]`: past balances from the history file, as a table (with a
//! sparkline per account and currency on a terminal) or JSON.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::Duration;

use balances::escape_control;
use balances_history::{Measure, Sample, Store};
use rust_decimal::Decimal;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::cli::{Color, Exit, Format, HistoryArgs};
use crate::report::rfc3339;

/// Levels of a sparkline, lowest first.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline has at most this many bars: the samples are resampled to this many equal
/// slices of time, each showing its last sample.
const SPARKLINE_WIDTH: usize = 40;

/// Runs `balances history`.
pub fn run(
    args: &crate::cli::Args,
    history_args: &HistoryArgs,
    history: Option<&crate::history::History>,
) -> Exit {
    let Some(history) = history else {
        eprintln!(
            "error: balance history is off (--no-history, or `enabled = false` in the config's [history] table)"
        );
        return Exit::Config;
    };
    let sparklines = args.format != Format::Json
        && colors(
            args.color,
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        );
    let period = Period {
        account: history_args.account.as_deref(),
        since: crate::history::now().checked_sub(history_args.since),
        span: history_args.since,
        every: history_args.every,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = Store::open_existing(&history.path).and_then(|store| match args.format {
        Format::Json => write_json(&store, &period, &mut out),
        Format::Table | Format::Prometheus => write_table(&store, &period, sparklines, &mut out),
    });
    // A closed stdout (`balances history | head`) is not worth an error message.
    let _ = std::io::Write::flush(&mut out);
    match written {
        Ok(0) => {
            let whose = history_args
                .account
                .as_deref()
                .map_or_else(String::new, |account| {
                    format!(" of `{}`", escape_control(account))
                });
            eprintln!(
                "no samples{whose} in the last {} in {}",
                human_duration(history_args.since),
                history.path.display()
            );
            Exit::Ok
        }
        Ok(_) => Exit::Ok,
        Err(error) => {
            eprintln!("error: {error}");
            Exit::Config
        }
    }
}

/// What `balances history` reads.
struct Period<'a> {
    account: Option<&'a str>,
    since: Option<std::time::SystemTime>,
    span: Duration,
    every: Option<Duration>,
}

/// Whether sparklines are drawn: `--color` as for logs, but about stdout.
fn colors(color: Color, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

/// One series in `balances history --format json`.
#[derive(Serialize)]
struct JsonSeries<'a> {
    account: &'a str,
    vendor: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
    /// The currency of a spend series (a vendor that reports spend): `total` is what was
    /// spent so far in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    spent: Option<&'a str>,
    samples: Vec<JsonSample>,
}

#[derive(Serialize)]
struct JsonSample {
    at: String,
    total: Decimal,
    granted: Option<Decimal>,
    topped_up: Option<Decimal>,
}

/// A JSON array with one series per line, written series by series so that a month of
/// samples for many accounts is never held at once. Returns the samples written.
fn write_json(
    store: &Store,
    period: &Period<'_>,
    out: &mut impl std::io::Write,
) -> Result<usize, balances_history::HistoryError> {
    let mut written = 0;
    let mut first = true;
    let _ = out.write_all(b"[");
    for (id, key) in store.series(period.account)? {
        let samples = store.samples(id, period.since, period.every)?;
        if samples.is_empty() {
            continue;
        }
        written += samples.len();
        let code = key.code.as_str();
        let (currency, unit, spent) = match key.measure {
            Measure::Currency => (Some(code), None, None),
            Measure::Unit => (None, Some(code), None),
            Measure::Spend => (None, None, Some(code)),
        };
        let series = JsonSeries {
            account: &key.account,
            vendor: &key.vendor,
            currency,
            unit,
            spent,
            samples: samples
                .iter()
                .map(|s| JsonSample {
                    at: rfc3339(s.at_ms),
                    total: s.total,
                    granted: s.granted,
                    topped_up: s.topped_up,
                })
                .collect(),
        };
        let _ = out.write_all(if first { b"\n" } else { b",\n" });
        first = false;
        if serde_json::to_writer(&mut *out, &series).is_err() {
            // Stdout closed (`| head`): nothing more to say.
            break;
        }
    }
    let _ = out.write_all(if first { b"]\n" } else { b"\n]\n" });
    Ok(written)
}

const HEADERS: [&str; 7] = [
    "ACCOUNT",
    "VENDOR",
    "CURRENCY/UNIT",
    "TIME",
    "TOTAL",
    "GRANTED",
    "TOPPED UP",
];

/// One row per sample, series by series; with `sparklines`, each series first gets a line
/// with its sparkline (read as at most [`SPARKLINE_WIDTH`] slices of the period). Returns
/// the samples written.
fn write_table(
    store: &Store,
    period: &Period<'_>,
    sparklines: bool,
    out: &mut impl std::io::Write,
) -> Result<usize, balances_history::HistoryError> {
    let series = store.series(period.account)?;
    let names: Vec<[String; 3]> = series
        .iter()
        .map(|(_, key)| {
            // A spend series says so: its amounts are spent, not left.
            let code = match key.measure {
                Measure::Spend => format!("{} spent", key.code),
                _ => key.code.clone(),
            };
            [&key.account, &key.vendor, &code].map(|text| escape_control(text).into_owned())
        })
        .collect();
    if sparklines {
        let slice = (period.span / SPARKLINE_WIDTH as u32).max(Duration::from_secs(1));
        let labels: Vec<String> = names
            .iter()
            .map(|[account, vendor, code]| format!("{account} ({vendor}) {code}"))
            .collect();
        let label_width = labels.iter().map(|l| l.width()).max().unwrap_or(0);
        let mut any = false;
        for ((id, _), label) in series.iter().zip(&labels) {
            let samples = store.samples(*id, period.since, Some(slice))?;
            let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
                continue;
            };
            any = true;
            // Yellow when the balance fell over the period, green otherwise.
            let color = if last.total < first.total {
                "\x1b[33m"
            } else {
                "\x1b[32m"
            };
            let pad = " ".repeat(label_width.saturating_sub(label.width()));
            let _ = writeln!(
                out,
                "{label}{pad}  {color}{}\x1b[0m  {} → {}",
                sparkline(&samples),
                first.total,
                last.total
            );
        }
        if any {
            let _ = writeln!(out);
        }
    }
    let amounts = store.amount_widths(period.account, period.since)?;
    let mut widths = HEADERS.map(UnicodeWidthStr::width);
    for name in &names {
        for (width, cell) in widths.iter_mut().zip(name) {
            *width = (*width).max(cell.width());
        }
    }
    widths[3] = widths[3].max("1970-01-01T00:00:00Z".len());
    widths[4] = widths[4].max(amounts.total);
    widths[5] = widths[5].max(amounts.granted);
    widths[6] = widths[6].max(amounts.topped_up);
    let mut line = String::new();
    push_cells(&mut line, &widths, &HEADERS);
    let _ = writeln!(out, "{}", line.trim_end());
    let mut written = 0;
    let mut amount = String::new();
    for ((id, _), [account, vendor, code]) in series.iter().zip(&names) {
        // A series' name cells are the same on each of its rows: laid out once.
        let mut prefix = String::new();
        push_cells(&mut prefix, &widths[..3], &[account, vendor, code]);
        for sample in store.samples(*id, period.since, period.every)? {
            written += 1;
            line.clear();
            line.push_str(&prefix);
            line.push_str("  ");
            push_padded(&mut line, &rfc3339(sample.at_ms), widths[3], false);
            for (width, value) in
                widths[4..]
                    .iter()
                    .zip([Some(sample.total), sample.granted, sample.topped_up])
            {
                amount.clear();
                match value {
                    Some(value) => {
                        let _ = write!(amount, "{value}");
                    }
                    None => amount.push('-'),
                }
                line.push_str("  ");
                push_padded(&mut line, &amount, *width, true);
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    Ok(written)
}

/// Cells separated by two spaces, each padded to its column's width; the amounts (columns
/// 4 and later) align right.
fn push_cells(line: &mut String, widths: &[usize], cells: &[&str]) {
    for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if index > 0 {
            line.push_str("  ");
        }
        push_padded(line, cell, *width, index >= 4);
    }
}

fn push_padded(line: &mut String, cell: &str, width: usize, right: bool) {
    let pad = width.saturating_sub(cell.width());
    if right {
        line.extend(std::iter::repeat_n(' ', pad));
        line.push_str(cell);
    } else {
        line.push_str(cell);
        line.extend(std::iter::repeat_n(' ', pad));
    }
}

/// The samples' totals as bars, scaled exactly between their lowest and highest: at most
/// [`SPARKLINE_WIDTH`] bars, each the last sample of an equal slice of the time covered.
pub fn sparkline(samples: &[Sample]) -> String {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return String::new();
    };
    let span = (last.at_ms - first.at_ms).max(1);
    let width = samples.len().min(SPARKLINE_WIDTH);
    let width_i64 = i64::try_from(width).unwrap_or(1).max(1);
    let mut slots: Vec<Option<Decimal>> = vec![None; width];
    for sample in samples {
        let offset =
            i128::from(sample.at_ms - first.at_ms) * i128::from(width_i64 - 1) / i128::from(span);
        let slot = usize::try_from(offset).unwrap_or(0).min(width - 1);
        slots[slot] = Some(sample.total);
    }
    let values: Vec<Decimal> = slots.into_iter().flatten().collect();
    let low = values.iter().copied().min().unwrap_or_default();
    let high = values.iter().copied().max().unwrap_or_default();
    values
        .iter()
        .map(|value| {
            let level = if high == low {
                0
            } else {
                ((*value - low) * Decimal::from(BARS.len() - 1) / (high - low))
                    .round()
                    .try_into()
                    .unwrap_or(0_usize)
            };
            BARS[level.min(BARS.len() - 1)]
        })
        .collect()
}

/// `7d`, `12h`, `30m`, `45s` as written on the command line.
fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// A duration such as `30d`, `12h`, `15m` or `90s` (a number and one unit). Hand-written:
/// four suffixes do not need a dependency.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" | "" => 1,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 && seconds_per > 0 && n <= 36_500 * 86_400 / seconds_per => {
            Ok(Duration::from_secs(n * seconds_per))
        }
        _ => Err(format!(
            "`{}` is not a duration such as 30d, 12h, 15m or 90s",
            escape_control(text)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn samples(totals: &[(i64, &str)]) -> Vec<Sample> {
        totals
            .iter()
            .map(|(at_ms, total)| Sample {
                at_ms: *at_ms,
                total: Decimal::from_str(total).unwrap(),
                granted: None,
                topped_up: None,
            })
            .collect()
    }

    #[test]
    fn a_sparkline_scales_between_the_lowest_and_the_highest() {
        let line = sparkline(&samples(&[(0, "100"), (1, "90"), (2, "80"), (3, "120")]));
        assert_eq!(line, "▅▃▁█");
        assert_eq!(sparkline(&samples(&[(0, "5"), (1, "5")])), "▁▁");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn a_long_series_is_resampled_to_the_sparkline_width() {
        let many: Vec<(i64, String)> = (0..1000)
            .map(|i| (i * 1000, (1000 - i).to_string()))
            .collect();
        let many: Vec<(i64, &str)> = many.iter().map(|(at, t)| (*at, t.as_str())).collect();
        let line = sparkline(&samples(&many));
        assert_eq!(line.chars().count(), SPARKLINE_WIDTH);
        assert!(line.starts_with('█') && line.ends_with('▁'), "{line}");
    }

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3_600)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        for bad in ["", "0d", "3w", "-1d", "1.5h", "99999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(human_duration(Duration::from_secs(7 * 86_400)), "7d");
    }

    #[test]
    fn sparklines_follow_the_color_setting_and_no_color() {
        assert!(colors(Color::Auto, true, None));
        assert!(!colors(Color::Auto, false, None));
        assert!(!colors(Color::Auto, true, Some(std::ffi::OsStr::new("1"))));
        assert!(colors(Color::Always, false, None));
        assert!(!colors(Color::Never, true, None));
    }

    #[test]
    fn the_table_is_plain_without_sparklines_and_escapes_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
        let key = balances_history::SeriesKey {
            account: "a\u{1b}[31m".into(),
            vendor: "deepseek".into(),
            measure: Measure::Currency,
            code: "CNY".into(),
        };
        for (at_ms, total) in [(0, "1.50"), (3_600_000, "1.25")] {
            let reading = balances_history::Reading {
                key: key.clone(),
                total: Decimal::from_str(total).unwrap(),
                granted: None,
                topped_up: None,
            };
            store.record_readings(&[(at_ms, reading)]).unwrap();
        }
        let period = Period {
            account: None,
            since: None,
            span: Duration::from_secs(86_400),
            every: None,
        };
        let mut plain = Vec::new();
        assert_eq!(write_table(&store, &period, false, &mut plain).unwrap(), 2);
        let plain = String::from_utf8(plain).unwrap();
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert_eq!(plain.lines().count(), 3);
        let last_row: Vec<&str> = plain.lines().nth(2).unwrap().split_whitespace().collect();
        assert_eq!(
            last_row,
            [
                r"a\u{1b}[31m",
                "deepseek",
                "CNY",
                "1970-01-01T01:00:00Z",
                "1.25",
                "-",
                "-"
            ]
        );
        let mut colored = Vec::new();
        write_table(&store, &period, true, &mut colored).unwrap();
        let colored = String::from_utf8(colored).unwrap();
        assert!(
            colored.contains("█") && colored.contains("1.50 → 1.25"),
            "{colored}"
        );
        // The only escape sequences are the sparkline's own colors.
        assert!(!colored.contains("\u{1b}[31m"), "{colored}");

        let mut json = Vec::new();
        write_json(&store, &period, &mut json).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json[0]["samples"][1]["total"], "1.25");
        assert_eq!(json[0]["currency"], "CNY");
    }
}
