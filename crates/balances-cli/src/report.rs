//! Renders fetch outcomes for a person (table) or a program (JSON); monitoring output is
//! `metrics`.

use std::time::{Duration, SystemTime};

use balances::{Balance, Threshold, Vendor, escape_control};
use rust_decimal::Decimal;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

/// What fetching one account gave.
#[derive(Debug)]
pub struct Outcome {
    pub account: String,
    pub vendor: Vendor,
    pub result: Result<Balance, balances::Error>,
    /// The threshold the account is checked against (`--below`, else its `alert_below`).
    pub threshold: Option<Threshold>,
    pub duration: Duration,
    pub finished_at: SystemTime,
}

impl Outcome {
    /// The metric series of a one-shot fetch.
    pub fn series(&self) -> crate::metrics::AccountSeries<'_> {
        let ok = self.result.is_ok();
        crate::metrics::AccountSeries {
            account: &self.account,
            vendor: self.vendor,
            threshold: self.threshold.as_ref(),
            balance: self.result.as_ref().ok(),
            error: self.result.as_ref().err().map(balances::Error::kind),
            last_attempt: Some(self.finished_at),
            last_success: ok.then_some(self.finished_at),
            duration: Some(self.duration),
            fetches: None,
        }
    }

    /// True when the account was fetched and is below its threshold.
    pub fn is_below_threshold(&self) -> bool {
        match (&self.result, &self.threshold) {
            (Ok(balance), Some(threshold)) => threshold.is_below(balance),
            _ => false,
        }
    }
}

/// One account in the output of `balances --format json` (an array of these, in config
/// order). Exactly one of `balance` and `error` is set, except from `balances serve`'s
/// `/balances`: there `balance` is the last balance fetched and `error` why the latest
/// refresh failed, so both may be set, and both are null until the first refresh ends.
//
// (Plain text: these doc comments become the descriptions in output.schema.json.)
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Outcome")]
struct JsonOutcome<'a> {
    /// The account's name, as configured.
    account: &'a str,
    /// The account's vendor.
    vendor: Vendor,
    /// The balance, when it was fetched (from `balances serve`: the last one fetched).
    balance: Option<&'a Balance>,
    /// Why it was not (from `balances serve`: why the latest refresh failed).
    error: Option<JsonError>,
}

/// Why an account's balance could not be fetched.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "OutcomeError")]
struct JsonError {
    /// A stable name for the kind of failure.
    kind: balances::ErrorKind,
    /// The error, for people: the vendor's own text with control characters escaped.
    message: String,
}

/// The JSON Schema of `--format json` output, checked in as `output.schema.json`.
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(Vec<JsonOutcome<'static>>);
    schema.insert(
        "title".to_owned(),
        "Output of `balances --format json`: one object per account, in config order".into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// An array with one object per account, in config order; amounts are decimal strings.
pub fn json(outcomes: &[Outcome]) -> String {
    json_of(outcomes.iter().map(|outcome| {
        (
            outcome.account.as_str(),
            outcome.vendor,
            outcome.result.as_ref().ok(),
            outcome.result.as_ref().err(),
        )
    }))
}

/// The JSON array of `(account, vendor, balance, error)`: one-shot results have one of
/// the two; the exporter's may have both (the last balance, and why a later refresh failed).
pub fn json_of<'a>(
    items: impl Iterator<
        Item = (
            &'a str,
            Vendor,
            Option<&'a Balance>,
            Option<&'a balances::Error>,
        ),
    >,
) -> String {
    let items: Vec<JsonOutcome<'_>> = items
        .map(|(account, vendor, balance, error)| JsonOutcome {
            account,
            vendor,
            balance,
            error: error.map(|error| JsonError {
                kind: error.kind(),
                message: error.to_string(),
            }),
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
    "TOTAL",
    "GRANTED",
    "TOPPED UP",
    "AVAILABLE",
];

/// A table with one row per account and currency; a failed account gets one row with its error.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut errors: Vec<(usize, String)> = Vec::new();
    for outcome in outcomes {
        match &outcome.result {
            Ok(balance) => {
                let available = match balance.available() {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "-",
                };
                // Money first, then units that are not money, named in the same column.
                let money = balance.amounts().iter().map(|a| {
                    (
                        a.currency.clone(),
                        a.total.to_string(),
                        a.granted,
                        a.topped_up,
                    )
                });
                let units = balance
                    .units()
                    .iter()
                    .map(|a| (a.unit.clone(), a.total.to_string(), a.granted, a.topped_up));
                let mut cells: Vec<[String; 4]> = money
                    .chain(units)
                    .map(|(unit, total, granted, topped_up)| {
                        [unit, total, optional(granted), optional(topped_up)]
                    })
                    .collect();
                if cells.is_empty() {
                    cells.push(["-", "-", "-", "-"].map(String::from));
                }
                for [unit, total, granted, topped_up] in cells {
                    rows.push(vec![
                        outcome.account.clone(),
                        outcome.vendor.to_string(),
                        unit,
                        total,
                        granted,
                        topped_up,
                        available.into(),
                    ]);
                }
            }
            Err(error) => {
                // The row already names the account and vendor that the message starts with.
                let message = error.to_string();
                let context = format!("{} ({}): ", outcome.account, outcome.vendor);
                let message = message.strip_prefix(&context).unwrap_or(&message);
                errors.push((
                    rows.len(),
                    format!(
                        "error ({}): {}",
                        error.kind().as_str(),
                        escape_control(message)
                    ),
                ));
                rows.push(vec![outcome.account.clone(), outcome.vendor.to_string()]);
            }
        }
    }
    // Every cell is shown through `escape_control`: an account name is the user's, but a
    // currency code or message came from a vendor, and a control character in either would
    // let it move the cursor and overwrite other rows.
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| {
            row.iter()
                .map(|cell| escape_control(cell).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = HEADERS.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let mut text = String::new();
    push_row(
        &mut text,
        &widths,
        HEADERS.iter().map(|h| h.to_string()),
        None,
    );
    for (index, row) in rows.into_iter().enumerate() {
        let error = errors
            .iter()
            .find(|(at, _)| *at == index)
            .map(|(_, message)| message.as_str());
        push_row(&mut text, &widths, row.into_iter(), error);
    }
    text
}

fn push_row(
    text: &mut String,
    widths: &[usize],
    cells: impl Iterator<Item = String>,
    tail: Option<&str>,
) {
    let mut line = String::new();
    for (i, cell) in cells.enumerate() {
        // Numbers align right so decimal points line up; text aligns left.
        let numeric = (3..=5).contains(&i);
        // Display columns, not chars: 工作 takes four columns on a terminal, not two.
        let pad = widths[i].saturating_sub(cell.width());
        if i > 0 {
            line.push_str("  ");
        }
        if numeric {
            line.push_str(&" ".repeat(pad));
            line.push_str(&cell);
        } else {
            line.push_str(&cell);
            line.push_str(&" ".repeat(pad));
        }
    }
    if let Some(tail) = tail {
        line.push_str("  ");
        line.push_str(tail);
    }
    text.push_str(line.trim_end());
    text.push('\n');
}

fn optional(value: Option<Decimal>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}
