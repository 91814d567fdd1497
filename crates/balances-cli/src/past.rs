//! `balances history [ACCOUNT]`: past balances from the history file, as a table (with a
//! sparkline per account and currency on a terminal) or JSON.

use std::io::IsTerminal;
use std::time::Duration;

use balances::escape_control;
use balances_history::{HistoryQuery, Measure, Sample, SeriesHistory, Store};
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
    let store = match Store::open_existing(&history.path) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("error: {error}");
            return Exit::Config;
        }
    };
    let now = crate::history::now();
    let query = HistoryQuery {
        account: history_args.account.clone(),
        since: now.checked_sub(history_args.since),
    };
    let mut series = match store.history(&query) {
        Ok(series) => series,
        Err(error) => {
            eprintln!("error: {error}");
            return Exit::Config;
        }
    };
    if let Some(every) = history_args.every {
        for one in &mut series {
            one.samples = last_per_slice(&one.samples, every);
        }
    }
    if series.is_empty() {
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
    }
    let text = match args.format {
        Format::Json => json(&series),
        Format::Table | Format::Prometheus => {
            let sparklines = colors(
                args.color,
                std::io::stdout().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            );
            table(&series, sparklines)
        }
    };
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    Exit::Ok
}

/// Whether sparklines are drawn: `--color` as for logs, but about stdout.
fn colors(color: Color, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

/// The last sample of each slice of `every` (slices aligned on the Unix epoch).
fn last_per_slice(samples: &[Sample], every: Duration) -> Vec<Sample> {
    let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(1);
    let mut kept: Vec<Sample> = Vec::new();
    for sample in samples {
        match kept.last_mut() {
            Some(last) if last.at_ms.div_euclid(every_ms) == sample.at_ms.div_euclid(every_ms) => {
                *last = sample.clone();
            }
            _ => kept.push(sample.clone()),
        }
    }
    kept
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
    samples: Vec<JsonSample>,
}

#[derive(Serialize)]
struct JsonSample {
    at: String,
    total: Decimal,
    granted: Option<Decimal>,
    topped_up: Option<Decimal>,
}

fn json(series: &[SeriesHistory]) -> String {
    let items: Vec<JsonSeries<'_>> = series
        .iter()
        .map(|one| {
            let code = one.key.code.as_str();
            let (currency, unit) = match one.key.measure {
                Measure::Currency => (Some(code), None),
                Measure::Unit => (None, Some(code)),
            };
            JsonSeries {
                account: &one.key.account,
                vendor: &one.key.vendor,
                currency,
                unit,
                samples: one
                    .samples
                    .iter()
                    .map(|s| JsonSample {
                        at: rfc3339(s.at_ms),
                        total: s.total,
                        granted: s.granted,
                        topped_up: s.topped_up,
                    })
                    .collect(),
            }
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_owned());
    text.push('\n');
    text
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

/// One row per sample; with `sparklines`, each series first gets a line with its sparkline.
fn table(series: &[SeriesHistory], sparklines: bool) -> String {
    let optional = |value: Option<Decimal>| value.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let rows: Vec<[String; 7]> = series
        .iter()
        .flat_map(|one| {
            one.samples.iter().map(|sample| {
                [
                    one.key.account.clone(),
                    one.key.vendor.clone(),
                    one.key.code.clone(),
                    rfc3339(sample.at_ms),
                    sample.total.to_string(),
                    optional(sample.granted),
                    optional(sample.topped_up),
                ]
                .map(|cell| escape_control(&cell).into_owned())
            })
        })
        .collect();
    let mut widths = HEADERS.map(UnicodeWidthStr::width);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let mut text = String::new();
    if sparklines {
        let names: Vec<String> = series
            .iter()
            .map(|one| {
                let name = format!("{} ({}) {}", one.key.account, one.key.vendor, one.key.code);
                escape_control(&name).into_owned()
            })
            .collect();
        let name_width = names.iter().map(|n| n.width()).max().unwrap_or(0);
        for (one, name) in series.iter().zip(&names) {
            let (first, last) = match (one.samples.first(), one.samples.last()) {
                (Some(first), Some(last)) => (first.total, last.total),
                _ => continue,
            };
            // Yellow when the balance fell over the period, green otherwise.
            let color = if last < first { "\x1b[33m" } else { "\x1b[32m" };
            let pad = " ".repeat(name_width.saturating_sub(name.width()));
            text.push_str(&format!(
                "{name}{pad}  {color}{}\x1b[0m  {first} → {last}\n",
                sparkline(&one.samples)
            ));
        }
        text.push('\n');
    }
    push_row(&mut text, &widths, HEADERS.map(str::to_owned));
    for row in rows {
        push_row(&mut text, &widths, row);
    }
    text
}

fn push_row(text: &mut String, widths: &[usize; 7], cells: [String; 7]) {
    let mut line = String::new();
    for (index, cell) in cells.iter().enumerate() {
        let pad = " ".repeat(widths[index].saturating_sub(cell.width()));
        if index > 0 {
            line.push_str("  ");
        }
        // Amounts align right.
        if index >= 4 {
            line.push_str(&pad);
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.push_str(&pad);
        }
    }
    text.push_str(line.trim_end());
    text.push('\n');
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
    fn every_keeps_the_last_sample_of_each_slice() {
        let hour = 3_600_000;
        let kept = last_per_slice(
            &samples(&[(0, "9"), (hour / 2, "8"), (hour, "7"), (3 * hour, "6")]),
            Duration::from_secs(3600),
        );
        let totals: Vec<String> = kept.iter().map(|s| s.total.to_string()).collect();
        assert_eq!(totals, ["8", "7", "6"]);
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
        let series = [SeriesHistory {
            key: balances_history::SeriesKey {
                account: "a\u{1b}[31m".into(),
                vendor: "deepseek".into(),
                measure: Measure::Currency,
                code: "CNY".into(),
            },
            samples: samples(&[(0, "1.50"), (3_600_000, "1.25")]),
        }];
        let plain = table(&series, false);
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
        let colored = table(&series, true);
        assert!(
            colored.contains("▁") && colored.contains("1.50 → 1.25"),
            "{colored}"
        );
        // The only escape sequences are the sparkline's own colors.
        assert!(!colored.contains("\u{1b}[31m"), "{colored}");
    }
}
