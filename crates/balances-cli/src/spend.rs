//! How spend readings (OpenAI, Anthropic: spend over the month from a cost report, not a
//! balance) are shown: a table of their own, never rows of the balance table, and their
//! own metric families, never `balances_balance`. Cost reports lag by hours, and every
//! place that shows spend says so.

use balances::Balance;

use crate::metrics::AccountSeries;
use crate::report::Outcome;

/// The line under the spend table.
pub const LAG_NOTE: &str =
    "Spend is read from the vendors' cost reports, which lag by hours: not a live figure.";

const HEADERS: [&str; 7] = [
    "ACCOUNT",
    "VENDOR",
    "CURRENCY",
    "SPENT",
    "BUDGET",
    "BUDGET LEFT",
    "PERIOD (UTC)",
];

/// Whether `outcome` is a spend reading (shown here, not in the balance table).
pub fn is_spend(outcome: &Outcome) -> bool {
    outcome
        .result
        .as_ref()
        .is_ok_and(|balance| balance.spend().is_some())
}

/// The spend table of `outcomes` (empty text when none is a spend reading): one row per
/// account and currency, `-` for an account with no spend and no budget yet.
pub fn table(outcomes: &[Outcome]) -> String {
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .filter_map(|outcome| Some((outcome, outcome.result.as_ref().ok()?)))
        .flat_map(|(outcome, balance)| rows_of(&outcome.account, balance))
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

fn rows_of(account: &str, balance: &Balance) -> Vec<[String; 7]> {
    let Some(spend) = balance.spend() else {
        return Vec::new();
    };
    let day = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
    let period = format!("{} to {}", day(&spend.from), day(&spend.to));
    let optional =
        |v: Option<balances::Decimal>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let mut rows: Vec<[String; 7]> = spend
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
        ]);
    }
    rows
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
            spend.spent.iter().filter_map(move |spent| {
                let labels = format!(
                    "{},currency=\"{}\"",
                    crate::metrics::account_labels(s),
                    crate::metrics::label(&spent.currency)
                );
                Some((labels, pick(spent)?.to_string()))
            })
        })
        .collect()
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
    use balances::{Budget, Decimal, Spend, Vendor};
    use std::time::{Duration, SystemTime};

    fn outcome(account: &str, balance: Balance) -> Outcome {
        Outcome {
            account: account.to_owned(),
            vendor: balance.vendor(),
            result: Ok(balance),
            threshold: None,
            duration: Duration::ZERO,
            finished_at: SystemTime::UNIX_EPOCH,
            forecasts: Vec::new(),
        }
    }

    #[test]
    fn spend_rows_align_their_amounts_and_end_with_the_lag_note() {
        let openai = Vendor::find("openai").expect("a registry vendor");
        let month = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        let budget: Budget = "25 USD".parse().unwrap();
        let spend = Spend::new(
            month("2026-12-01T00:00:00Z"),
            month("2027-01-01T00:00:00Z"),
            [("USD".to_owned(), "0.06".parse::<Decimal>().unwrap())],
            Some(&budget),
        )
        .unwrap();
        let balance = Balance::spent("openai-main", openai, spend);
        let deepseek = Vendor::find("deepseek").expect("a registry vendor");
        let not_spend = Balance::new("other", deepseek, None, Vec::new()).unwrap();
        let text = table(&[outcome("openai-main", balance), outcome("other", not_spend)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "ACCOUNT      VENDOR  CURRENCY  SPENT  BUDGET  BUDGET LEFT  PERIOD (UTC)",
                "openai-main  openai  USD        0.06      25        24.94  2026-12-01 to 2027-01-01",
                LAG_NOTE,
            ],
            "{text}"
        );
        assert_eq!(table(&[]), "");
    }
}
