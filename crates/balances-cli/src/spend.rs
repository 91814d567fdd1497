//! How spend readings (OpenAI, Anthropic: spend over the month from a cost report, not a
//! balance) are shown: a table of their own, never rows of the balance table, and their
//! own metric families, never `balances_balance`. Cost reports lag by hours, and every
//! place that shows spend says so.

use std::time::SystemTime;

use balances::{Balance, BudgetPace, BudgetRunsOut, Spend, Spent};

use crate::metrics::AccountSeries;
use crate::report::Outcome;

/// The line under the spend table.
pub const LAG_NOTE: &str =
    "Spend is read from the vendors' cost reports, which lag by hours: not a live figure.";

const HEADERS: [&str; 8] = [
    "ACCOUNT",
    "VENDOR",
    "CURRENCY",
    "SPENT",
    "BUDGET",
    "BUDGET LEFT",
    "PERIOD (UTC)",
    // Last, as in the balance table, and aligned as its times are.
    "RUNS OUT",
];

/// Whether `outcome` is a spend reading (shown here, not in the balance table).
pub fn is_spend(outcome: &Outcome) -> bool {
    outcome
        .result
        .as_ref()
        .is_ok_and(|balance| balance.spend().is_some())
}

/// The spend table of `outcomes` (empty text when none is a spend reading): one row per
/// account and currency, `-` for an account with no spend and no budget yet. `RUNS OUT`
/// counts from when each was read.
pub fn table(outcomes: &[Outcome]) -> String {
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .filter_map(|outcome| Some((outcome, outcome.result.as_ref().ok()?)))
        .flat_map(|(outcome, balance)| rows_of(&outcome.account, balance, outcome.finished_at))
        .map(Vec::from)
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut text = crate::report::layout(&HEADERS, rows, |_| None);
    text.push_str(LAG_NOTE);
    text.push('\n');
    text
}

fn rows_of(account: &str, balance: &Balance, read_at: SystemTime) -> Vec<[String; 8]> {
    let Some(spend) = balance.spend() else {
        return Vec::new();
    };
    let day = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
    let period = format!("{} to {}", day(&spend.from), day(&spend.to));
    let optional =
        |v: Option<balances::Decimal>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let mut rows: Vec<[String; 8]> = spend
        .spent
        .iter()
        .map(|spent| {
            [
                account.to_owned(),
                balance.vendor().to_string(),
                spent.currency.clone(),
                spent.amount.to_string(),
                optional(spent.budget),
                optional(spent.remaining),
                period.clone(),
                runs_out_cell(spend, spent, read_at, read_at),
            ]
        })
        .collect();
    if rows.is_empty() {
        let none = || "-".to_owned();
        rows.push([
            account.to_owned(),
            balance.vendor().to_string(),
            none(),
            "0".to_owned(),
            none(),
            none(),
            period,
            none(),
        ]);
    }
    rows
}

/// When the budget runs out at the period's pace as of `read_at` ([`Spend::budget_pace`]),
/// counted from `now`: `~3d 4h`, `reached`, `lasts period` (not before the period ends), `-`
/// without a budget or an estimate.
pub fn runs_out_cell(spend: &Spend, spent: &Spent, read_at: SystemTime, now: SystemTime) -> String {
    let as_of = chrono::DateTime::<chrono::Utc>::from(read_at);
    match spend.budget_pace(spent, as_of).map(|pace| pace.runs_out) {
        Some(BudgetRunsOut::Reached) => "reached".to_owned(),
        Some(BudgetRunsOut::At(at)) => balances_history::human_remaining(
            at.timestamp_millis() - balances_history::ms_since_epoch(now),
        ),
        Some(BudgetRunsOut::NotThisPeriod) => "lasts period".to_owned(),
        _ => "-".to_owned(),
    }
}

/// Samples of one spend family: `pick` of every currency of every spend reading, labelled
/// with the account, vendor and currency.
pub fn samples(
    accounts: &[AccountSeries<'_>],
    pick: fn(&balances::Spent) -> Option<balances::Decimal>,
) -> Vec<(String, String)> {
    accounts
        .iter()
        .filter_map(|s| Some((s, s.balance?.spend()?)))
        .flat_map(|(s, spend)| {
            spend
                .spent
                .iter()
                .filter_map(move |spent| Some((labels(s, spent), pick(spent)?.to_string())))
        })
        .collect()
}

/// The labels of one currency of a spend reading: the account's, and the currency.
fn labels(s: &AccountSeries<'_>, spent: &Spent) -> String {
    format!(
        "{},currency=\"{}\"",
        crate::metrics::account_labels(s),
        crate::metrics::label(&spent.currency)
    )
}

/// Samples of one family of budget paces ([`Spend::budget_pace`], counted to when each
/// spend was read): `pick` of every currency with a budget, labelled as [`samples`] are.
pub fn pace_samples(
    accounts: &[AccountSeries<'_>],
    pick: fn(&BudgetPace, chrono::DateTime<chrono::Utc>) -> Option<balances::Decimal>,
) -> Vec<(String, String)> {
    accounts
        .iter()
        .filter_map(|s| Some((s, s.balance?.spend()?, s.last_success?)))
        .flat_map(|(s, spend, read_at)| {
            let as_of = chrono::DateTime::<chrono::Utc>::from(read_at);
            spend.spent.iter().filter_map(move |spent| {
                let value = pick(&spend.budget_pace(spent, as_of)?, as_of)?;
                Some((labels(s, spent), value.normalize().to_string()))
            })
        })
        .collect()
}

/// When a budget is used up at its pace, in Unix seconds; the reading's time once reached.
pub fn depletion_seconds(
    pace: &BudgetPace,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Option<balances::Decimal> {
    let at = match pace.runs_out {
        BudgetRunsOut::At(at) => at,
        BudgetRunsOut::Reached => as_of,
        _ => return None,
    };
    Some(crate::metrics::unix_seconds(at.timestamp_millis()))
}

/// The start of each spend reading's period, in Unix seconds.
pub fn period_starts(accounts: &[AccountSeries<'_>]) -> Vec<(String, String)> {
    accounts
        .iter()
        .filter_map(|s| {
            let spend = s.balance?.spend()?;
            Some((
                crate::metrics::account_labels(s),
                spend.from.timestamp().to_string(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use balances::{Budget, Decimal, Vendor};
    use std::time::Duration;

    /// Ten days into December 2026.
    fn day_ten() -> SystemTime {
        SystemTime::from(month("2026-12-11T00:00:00Z"))
    }

    fn month(text: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn outcome(account: &str, balance: Balance) -> Outcome {
        Outcome {
            account: account.to_owned(),
            vendor: balance.vendor(),
            result: Ok(balance),
            threshold: None,
            duration: Duration::ZERO,
            finished_at: day_ten(),
            forecasts: Vec::new(),
        }
    }

    /// An OpenAI reading of December 2026: `spent` USD against `budget`.
    fn december(account: &str, spent: &str, budget: Option<&str>) -> Outcome {
        let openai = Vendor::find("openai").expect("a registry vendor");
        let budget: Option<Budget> = budget.map(|b| b.parse().unwrap());
        let spend = Spend::new(
            month("2026-12-01T00:00:00Z"),
            month("2027-01-01T00:00:00Z"),
            [("USD".to_owned(), spent.parse::<Decimal>().unwrap())],
            budget.as_ref(),
        )
        .unwrap();
        outcome(account, Balance::spent(account, openai, spend))
    }

    #[test]
    fn spend_rows_align_their_amounts_and_end_with_the_lag_note() {
        let deepseek = Vendor::find("deepseek").expect("a registry vendor");
        let not_spend = Balance::new("other", deepseek, None, Vec::new()).unwrap();
        let text = table(&[
            december("openai-main", "0.06", Some("25 USD")),
            outcome("other", not_spend),
            december("fast", "20", Some("25 USD")),
            december("over", "30", Some("25 USD")),
            december("free", "3.5", None),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        // 20 of 25 in ten days is 2 a day: the 5 left last 2.5 days.
        assert_eq!(
            lines,
            [
                "ACCOUNT      VENDOR  CURRENCY  SPENT  BUDGET  BUDGET LEFT  PERIOD (UTC)                  RUNS OUT",
                "openai-main  openai  USD        0.06      25        24.94  2026-12-01 to 2027-01-01  lasts period",
                "fast         openai  USD          20      25            5  2026-12-01 to 2027-01-01       ~2d 12h",
                "over         openai  USD          30      25           -5  2026-12-01 to 2027-01-01       reached",
                "free         openai  USD         3.5       -            -  2026-12-01 to 2027-01-01             -",
                LAG_NOTE,
            ],
            "{text}"
        );
        assert_eq!(table(&[]), "");
    }
}
