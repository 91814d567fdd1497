//! Renders fetch outcomes for a person (table), a program (JSON) or a monitor (Prometheus).

use std::fmt::Write as _;

use balances::{Balance, Vendor, escape_control};
use rust_decimal::Decimal;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

/// What fetching one account gave.
#[derive(Debug)]
pub struct Outcome {
    pub account: String,
    pub vendor: Vendor,
    pub result: Result<Balance, balances::Error>,
}

/// One account in the output of `balances --format json` (an array of these, in config
/// order). Exactly one of `balance` and `error` is set.
//
// (Plain text: these doc comments become the descriptions in output.schema.json.)
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Outcome")]
struct JsonOutcome<'a> {
    /// The account's name, as configured.
    account: &'a str,
    /// The account's vendor.
    vendor: Vendor,
    /// The balance, when it was fetched.
    balance: Option<&'a Balance>,
    /// Why it was not, otherwise.
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
    let items: Vec<JsonOutcome<'_>> = outcomes
        .iter()
        .map(|outcome| JsonOutcome {
            account: &outcome.account,
            vendor: outcome.vendor,
            balance: outcome.result.as_ref().ok(),
            error: outcome.result.as_ref().err().map(|error| JsonError {
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
    "CURRENCY",
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
                if balance.amounts().is_empty() {
                    rows.push(vec![
                        outcome.account.clone(),
                        outcome.vendor.to_string(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        available.into(),
                    ]);
                }
                for amount in balance.amounts() {
                    rows.push(vec![
                        outcome.account.clone(),
                        outcome.vendor.to_string(),
                        amount.currency.clone(),
                        amount.total.to_string(),
                        optional(amount.granted),
                        optional(amount.topped_up),
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
                    format!("error ({}): {}", kind_name(error), escape_control(message)),
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

fn kind_name(error: &balances::Error) -> String {
    serde_json::to_value(error.kind())
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "error".to_owned())
}

/// Prometheus text exposition: gauges per account and currency, and a fetch-success gauge.
pub fn prometheus(outcomes: &[Outcome]) -> String {
    let mut text = String::new();
    type Pick = fn(&balances::Amount) -> Option<Decimal>;
    let gauges: [(&str, &str, Pick); 3] = [
        ("balances_total", "Total balance, in currency units.", |a| {
            Some(a.total)
        }),
        (
            "balances_granted",
            "Granted (promotional) part of the balance, in currency units.",
            |a| a.granted,
        ),
        (
            "balances_topped_up",
            "Paid-in part of the balance, in currency units.",
            |a| a.topped_up,
        ),
    ];
    for (name, help, pick) in gauges {
        let samples: Vec<String> = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().ok().map(|b| (o, b)))
            .flat_map(|(o, balance)| {
                balance.amounts().iter().filter_map(move |amount| {
                    pick(amount).map(|value| {
                        format!(
                            "{name}{{account=\"{}\",vendor=\"{}\",currency=\"{}\"}} {value}\n",
                            label(&o.account),
                            o.vendor,
                            label(&amount.currency)
                        )
                    })
                })
            })
            .collect();
        if !samples.is_empty() {
            let _ = write!(text, "# HELP {name} {help}\n# TYPE {name} gauge\n");
            text.extend(samples);
        }
    }
    let available: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            let flag = o.result.as_ref().ok()?.available()?;
            Some(format!(
                "balances_available{{account=\"{}\",vendor=\"{}\"}} {}\n",
                label(&o.account),
                o.vendor,
                u8::from(flag)
            ))
        })
        .collect();
    if !available.is_empty() {
        text.push_str(
            "# HELP balances_available 1 when the vendor says the account can make API calls.\n",
        );
        text.push_str("# TYPE balances_available gauge\n");
        text.extend(available);
    }
    text.push_str(
        "# HELP balances_fetch_success 1 when the balance was fetched, 0 when it was not.\n",
    );
    text.push_str("# TYPE balances_fetch_success gauge\n");
    for outcome in outcomes {
        let _ = writeln!(
            text,
            "balances_fetch_success{{account=\"{}\",vendor=\"{}\"}} {}",
            label(&outcome.account),
            outcome.vendor,
            u8::from(outcome.result.is_ok())
        );
    }
    text
}

/// Escapes a label value as the exposition format requires, after escaping control
/// characters (a label value may come from a vendor, and ends up on terminals and in logs).
fn label(value: &str) -> String {
    // Line breaks are control characters too: after `escape_control` only `\` and `"` are
    // left for the exposition format to escape.
    escape_control(value)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use balances::{Amount, Balance, Vendor};
    use std::str::FromStr;

    #[test]
    fn label_values_are_escaped_as_the_exposition_format_requires() {
        assert_eq!(label(r#"a"b\c"#), r#"a\"b\\c"#);
        // A line break arrives as the text `\u{a}`, its backslash escaped for the format.
        assert_eq!(label("two\nlines"), "two\\\\u{a}lines");
        assert_eq!(label("\u{1b}[2J"), "\\\\u{1b}[2J");
    }

    #[test]
    fn an_account_name_with_quotes_stays_one_valid_sample() {
        let total = Decimal::from_str("12.50").unwrap();
        let balance = Balance::new(
            r#"team "a""#,
            Vendor::GeekAi,
            None,
            vec![Amount::total("CNY", total)],
        )
        .unwrap();
        let outcomes = [Outcome {
            account: r#"team "a""#.to_owned(),
            vendor: Vendor::GeekAi,
            result: Ok(balance),
        }];
        let text = prometheus(&outcomes);
        assert!(
            text.lines().any(|l| l
                == r#"balances_total{account="team \"a\"",vendor="geekai",currency="CNY"} 12.50"#),
            "{text}"
        );
        assert!(
            !text.contains("balances_available"),
            "GeekAI does not say: {text}"
        );
    }
}
