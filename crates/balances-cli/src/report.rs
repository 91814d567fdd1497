//! Renders fetch outcomes for a person (table) or a program (JSON); monitoring output is
//! `metrics`.

use std::time::{Duration, SystemTime};

use balances::{Balance, BudgetRunsOut, Threshold, Vendor, escape_control};
use balances_history::{Estimate, Measure, human_remaining, ms_since_epoch};
use rust_decimal::Decimal;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::history::SeriesForecast;

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
    /// Per currency and unit, from the history (empty when history is off or unusable).
    pub forecasts: Vec<SeriesForecast>,
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
            forecasts: &self.forecasts,
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
    /// When balance history is on: per currency and unit of the balance, how fast it is
    /// spent and when it runs out. Left out when history is off.
    #[serde(skip_serializing_if = "Option::is_none")]
    forecast: Option<Vec<JsonForecast>>,
    /// For a spend reading: per currency with a budget, when the budget runs out at the
    /// period's average pace so far (no history needed). Left out for a balance.
    #[serde(skip_serializing_if = "Option::is_none")]
    budget_forecast: Option<Vec<JsonBudgetForecast>>,
}

/// When a monthly budget runs out at the period's average pace so far: spend so far over
/// the time so far, exact; cost reports lag by hours, so the pace errs low and the time
/// errs late.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "BudgetForecast")]
struct JsonBudgetForecast {
    /// The budget's currency.
    currency: String,
    /// `estimate` (see `runs_out_at`), `reached` (nothing is left), `lasts_period` (not
    /// before the period ends at this pace) or `no_estimate` (see `reason`).
    status: BudgetStatus,
    /// Why there is no estimate: `too_early` (less than a day of the period behind the
    /// reading), `outside_period` or `out_of_range`.
    reason: Option<&'static str>,
    /// Spend per day over the period so far, a decimal string rounded to 6 places (the
    /// arithmetic is exact; only this display rounds); null without an estimate.
    spend_per_day: Option<Decimal>,
    /// What the whole period costs at this pace, rounded to 6 places; null without an
    /// estimate.
    projected_spend: Option<Decimal>,
    /// When the budget is used up at this pace (RFC 3339, UTC, whole seconds).
    runs_out_at: Option<String>,
    /// Seconds from the reading until then.
    runs_out_in_seconds: Option<i64>,
    /// When the spend was read (RFC 3339, UTC).
    as_of: String,
}

/// Where a budget stands at its pace.
#[derive(Clone, Copy, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum BudgetStatus {
    Estimate,
    Reached,
    LastsPeriod,
    NoEstimate,
}

impl JsonBudgetForecast {
    /// One per currency of `balance`'s spend that has a budget; `None` for a balance.
    fn of(balance: &Balance, read_at: SystemTime) -> Option<Vec<Self>> {
        let spend = balance.spend()?;
        let as_of = chrono::DateTime::<chrono::Utc>::from(read_at);
        let shown = |amount: Decimal| amount.round_dp(6).normalize();
        Some(
            spend
                .spent
                .iter()
                .filter_map(|spent| {
                    let pace = spend.budget_pace(spent, as_of)?;
                    let (status, reason, runs_out_at) = match pace.runs_out {
                        BudgetRunsOut::At(at) => (BudgetStatus::Estimate, None, Some(at)),
                        BudgetRunsOut::Reached => (BudgetStatus::Reached, None, None),
                        BudgetRunsOut::NotThisPeriod => (BudgetStatus::LastsPeriod, None, None),
                        BudgetRunsOut::NoEstimate(why) => {
                            (BudgetStatus::NoEstimate, Some(why.as_str()), None)
                        }
                        _ => (BudgetStatus::NoEstimate, None, None),
                    };
                    Some(Self {
                        currency: spent.currency.clone(),
                        status,
                        reason,
                        spend_per_day: pace.per_day.map(shown),
                        projected_spend: pace.projected.map(shown),
                        runs_out_at: runs_out_at.map(|at| rfc3339(at.timestamp_millis())),
                        runs_out_in_seconds: runs_out_at
                            .map(|at| whole_seconds((at - as_of).num_milliseconds())),
                        as_of: rfc3339(as_of.timestamp_millis()),
                    })
                })
                .collect(),
        )
    }
}

/// How fast one currency or unit of an account is spent, and when it reaches its floor,
/// from the recorded history.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Forecast")]
struct JsonForecast {
    /// The currency, for money.
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
    /// The unit, for a balance that is not money (points, DIEM).
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    /// `estimate` (see `runs_out_at`), `reached` (the balance is at or below `floor`), or
    /// `no_estimate` (see `reason`).
    status: ForecastStatus,
    /// Why there is no estimate: `too_little_history`, `no_spend` or `out_of_range`.
    reason: Option<&'static str>,
    /// Spend per day over the forecast window, a decimal string rounded to 6 places (the
    /// arithmetic is exact; only this display rounds); null with too little history.
    spend_per_day: Option<Decimal>,
    /// What the estimate is about: the account's `alert_below` in this currency, else 0.
    floor: Decimal,
    /// When the balance reaches `floor` at the current rate (RFC 3339, UTC, whole seconds).
    runs_out_at: Option<String>,
    /// Seconds from now until then (0 when reached).
    runs_out_in_seconds: Option<i64>,
    /// Seconds of history the rate was read over (intervals with a top-up or refund left
    /// out).
    observed_seconds: u64,
    /// When the newest sample was taken (RFC 3339, UTC).
    as_of: String,
}

/// Whether a forecast has an estimate.
#[derive(Clone, Copy, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum ForecastStatus {
    Estimate,
    Reached,
    NoEstimate,
}

impl JsonForecast {
    fn new(series: &SeriesForecast, now: SystemTime) -> Self {
        let forecast = &series.forecast;
        let (status, reason, runs_out_at) = match forecast.estimate {
            Estimate::RunsOut { at_ms } => (ForecastStatus::Estimate, None, Some(at_ms)),
            Estimate::Reached => (ForecastStatus::Reached, None, None),
            Estimate::None(why) => (ForecastStatus::NoEstimate, Some(why.as_str()), None),
        };
        let (currency, unit) = match series.measure {
            // A spend series gets no forecast ([`crate::history`] leaves it out).
            Measure::Currency | Measure::Spend => (Some(series.code.clone()), None),
            Measure::Unit => (None, Some(series.code.clone())),
        };
        Self {
            currency,
            unit,
            status,
            reason,
            spend_per_day: forecast
                .spend_per_day
                .map(|rate| rate.round_dp(6).normalize()),
            floor: forecast.floor,
            runs_out_at: runs_out_at.map(rfc3339),
            runs_out_in_seconds: forecast
                .remaining_ms(ms_since_epoch(now))
                .map(whole_seconds),
            observed_seconds: forecast.observed.as_secs(),
            as_of: rfc3339(forecast.as_of_ms),
        }
    }
}

/// Milliseconds as the nearest whole seconds, for `runs_out_in_seconds`.
fn whole_seconds(ms: i64) -> i64 {
    (ms + 500) / 1000
}

/// A time as RFC 3339 in UTC, whole seconds.
pub fn rfc3339(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms).map_or_else(
        || at_ms.to_string(),
        |time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// What the table's `RUNS OUT` cell says for one currency or unit: `~3d 4h`, `reached`
/// when the balance is at or below its floor already, `-` without an estimate.
pub fn runs_out_cell(
    forecasts: &[SeriesForecast],
    measure: Measure,
    code: &str,
    now: SystemTime,
) -> String {
    let Some(series) = forecasts
        .iter()
        .find(|f| f.measure == measure && f.code == code)
    else {
        return "-".to_owned();
    };
    match series.forecast.estimate {
        Estimate::Reached => "reached".to_owned(),
        _ => series
            .forecast
            .remaining_ms(ms_since_epoch(now))
            .map_or_else(|| "-".to_owned(), human_remaining),
    }
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
/// `forecasts_at` is the time forecasts count from, when history is on.
pub fn json(outcomes: &[Outcome], forecasts_at: Option<SystemTime>) -> String {
    json_of(
        outcomes.iter().map(|outcome| JsonItem {
            account: outcome.account.as_str(),
            vendor: outcome.vendor,
            balance: outcome.result.as_ref().ok(),
            error: outcome.result.as_ref().err(),
            forecasts: &outcome.forecasts,
            read_at: Some(outcome.finished_at),
        }),
        forecasts_at,
    )
}

/// One account of the JSON output: one-shot results have a balance or an error; the
/// exporter's may have both (the last balance, and why a later refresh failed).
#[derive(Debug)]
pub struct JsonItem<'a> {
    pub account: &'a str,
    pub vendor: Vendor,
    pub balance: Option<&'a Balance>,
    pub error: Option<&'a balances::Error>,
    pub forecasts: &'a [SeriesForecast],
    /// When `balance` was read: what a budget's pace counts to.
    pub read_at: Option<SystemTime>,
}

/// The JSON array of `items`; with `forecasts_at`, each has its `forecast` array.
pub fn json_of<'a>(
    items: impl Iterator<Item = JsonItem<'a>>,
    forecasts_at: Option<SystemTime>,
) -> String {
    let items: Vec<JsonOutcome<'_>> = items
        .map(|item| JsonOutcome {
            account: item.account,
            vendor: item.vendor,
            balance: item.balance,
            error: item.error.map(|error| JsonError {
                kind: error.kind(),
                message: error.to_string(),
            }),
            forecast: forecasts_at.map(|now| {
                item.forecasts
                    .iter()
                    .map(|series| JsonForecast::new(series, now))
                    .collect()
            }),
            budget_forecast: item
                .balance
                .zip(item.read_at)
                .and_then(|(balance, read_at)| JsonBudgetForecast::of(balance, read_at)),
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_owned());
    text.push('\n');
    text
}

const HEADERS: [&str; 8] = [
    "ACCOUNT",
    "VENDOR",
    "CURRENCY/UNIT",
    "TOTAL",
    "GRANTED",
    "TOPPED UP",
    "AVAILABLE",
    "RUNS OUT",
];

/// A table with one row per account and currency; a failed account gets one row with its
/// error. With `forecasts_at` (history is on), a `RUNS OUT` column counts from that time.
pub fn table(outcomes: &[Outcome], forecasts_at: Option<SystemTime>) -> String {
    let headers = if forecasts_at.is_some() {
        &HEADERS[..]
    } else {
        &HEADERS[..7]
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut errors: Vec<(usize, String)> = Vec::new();
    for outcome in outcomes.iter().filter(|o| !crate::spend::is_spend(o)) {
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
                        Measure::Currency,
                        a.currency.clone(),
                        a.total.to_string(),
                        a.granted,
                        a.topped_up,
                    )
                });
                let units = balance.units().iter().map(|a| {
                    (
                        Measure::Unit,
                        a.unit.clone(),
                        a.total.to_string(),
                        a.granted,
                        a.topped_up,
                    )
                });
                // A currency without limit has no amount: said in words, never as a number.
                let unlimited = balance.unlimited().iter().map(|u| {
                    (
                        Measure::Currency,
                        u.currency.clone(),
                        "unlimited".to_owned(),
                        None,
                        None,
                    )
                });
                let mut cells: Vec<[String; 5]> = money
                    .chain(unlimited)
                    .chain(units)
                    .map(|(measure, unit, total, granted, topped_up)| {
                        let runs_out = forecasts_at.map_or_else(String::new, |now| {
                            runs_out_cell(&outcome.forecasts, measure, &unit, now)
                        });
                        [
                            unit,
                            total,
                            optional(granted),
                            optional(topped_up),
                            runs_out,
                        ]
                    })
                    .collect();
                if cells.is_empty() {
                    cells.push(["-", "-", "-", "-", "-"].map(String::from));
                }
                for [unit, total, granted, topped_up, runs_out] in cells {
                    let mut row = vec![
                        outcome.account.clone(),
                        vendor_cell(outcome.vendor, balance.scope()),
                        unit,
                        total,
                        granted,
                        topped_up,
                        available.into(),
                    ];
                    if forecasts_at.is_some() {
                        row.push(runs_out);
                    }
                    rows.push(row);
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
    let mut text = layout(headers, rows, |index| {
        errors
            .iter()
            .find(|(at, _)| *at == index)
            .map(|(_, message)| message.as_str())
    });
    // Spend readings (a cost report, not a balance) get a table of their own.
    let spend = crate::spend::table(outcomes);
    if !spend.is_empty() {
        text.push('\n');
        text.push_str(&spend);
    }
    text
}

/// The vendor, and whose balance it is when not the account's: `newapi (key quota)` says
/// the amount is only the key's remaining quota.
pub(crate) fn vendor_cell(vendor: balances::Vendor, scope: balances::Scope) -> String {
    match scope {
        balances::Scope::Key => format!("{vendor} (key quota)"),
        _ => vendor.to_string(),
    }
}

/// `headers` and `rows` laid out in columns as wide as their widest cell, numbers aligned
/// right, with `tail(index)` after the row at `index`. Every cell is shown through
/// `escape_control`: an account name is the user's, but a currency code or message came
/// from a vendor, and a control character in either would let it move the cursor and
/// overwrite other rows.
pub(crate) fn layout<'t>(
    headers: &[&str],
    rows: Vec<Vec<String>>,
    tail: impl Fn(usize) -> Option<&'t str>,
) -> String {
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| {
            row.iter()
                .map(|cell| escape_control(cell).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let mut text = String::new();
    push_row(
        &mut text,
        &widths,
        headers.iter().map(|h| h.to_string()),
        None,
    );
    for (index, row) in rows.into_iter().enumerate() {
        push_row(&mut text, &widths, row.into_iter(), tail(index));
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
        // Numbers align right so decimal points line up (and so do the remaining times);
        // text aligns left.
        let numeric = (3..=5).contains(&i) || i == 7;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spend_reading_carries_its_budgets_pace_and_a_balance_does_not() {
        let instant = |text: &str| -> chrono::DateTime<chrono::Utc> {
            text.parse().expect("an RFC 3339 instant")
        };
        let budget: balances::Budget = "500 USD".parse().expect("a budget");
        let spend = balances::Spend::new(
            instant("2026-12-01T00:00:00Z"),
            instant("2027-01-01T00:00:00Z"),
            [
                ("USD".to_owned(), Decimal::from(250)),
                ("EUR".to_owned(), Decimal::ONE),
            ],
            Some(&budget),
        )
        .expect("a spend");
        let openai = Vendor::find("openai").expect("in the registry");
        let spent = Balance::spent("ops", openai, spend);
        let deepseek = Vendor::find("deepseek").expect("in the registry");
        let balance = Balance::new("chat", deepseek, None, Vec::new()).expect("a balance");
        let read_at = SystemTime::from(instant("2026-12-11T00:00:00Z"));
        let outcome = |balance: Balance| Outcome {
            account: balance.account().to_owned(),
            vendor: balance.vendor(),
            result: Ok(balance),
            threshold: None,
            duration: Duration::ZERO,
            finished_at: read_at,
            forecasts: Vec::new(),
        };
        let text = json(&[outcome(spent), outcome(balance)], None);
        let items: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        // 250 of 500 in ten days: 25 a day, 775 over the month, the rest gone on the 21st.
        // EUR has no budget, so no forecast.
        assert_eq!(
            items[0]["budget_forecast"],
            serde_json::json!([{
                "currency": "USD",
                "status": "estimate",
                "reason": null,
                "spend_per_day": "25",
                "projected_spend": "775",
                "runs_out_at": "2026-12-21T00:00:00Z",
                "runs_out_in_seconds": 864_000,
                "as_of": "2026-12-11T00:00:00Z",
            }])
        );
        assert!(items[1].get("budget_forecast").is_none(), "{text}");
    }
}
