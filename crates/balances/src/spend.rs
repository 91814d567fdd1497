//! Spend over a period, for a vendor that reports what was spent instead of what is left
//! (OpenAI's and Anthropic's cost reports), and the budget that turns it into what is left.
//!
//! A [`Spend`] rides on a [`Balance`](crate::Balance) whose `amounts` are empty: spend is
//! never shown as a balance, and nothing that sums or compares balances ever sees it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What an account spent over a period, per currency, and what is left of its budget.
///
/// Cost reports lag: a vendor adds costs to its report hours after the calls, so this is
/// what the report said when it was read, not a live figure.
//
// (Plain text above: these doc comments become the descriptions in balance.schema.json.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Spend {
    /// The period's start (inclusive), RFC 3339 in UTC. By default the first midnight of
    /// the current calendar month.
    #[schemars(with = "String")]
    pub from: DateTime<Utc>,
    /// The period's end (exclusive), RFC 3339 in UTC. By default the first midnight of the
    /// next month.
    #[schemars(with = "String")]
    pub to: DateTime<Utc>,
    /// One entry per currency, sorted by currency code; empty when nothing was spent and no
    /// budget is set.
    pub spent: Vec<Spent>,
}

/// One currency's spend, and the budget left in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Spent {
    /// ISO 4217 code, upper case, such as `USD`.
    pub currency: String,
    /// The sum of every cost the report lists for the period, exactly.
    pub amount: Decimal,
    /// The account's monthly budget in this currency, when one is configured.
    pub budget: Option<Decimal>,
    /// `budget - amount`: what is left of the budget (negative when it is overspent);
    /// `null` without a budget.
    pub remaining: Option<Decimal>,
}

impl Spend {
    /// Spend over `from`..`to`: `spent` (currency, amount) pairs summed per currency, with
    /// `budget` applied to its currency (a budget in a currency nothing was spent in yet
    /// shows a spend of zero).
    pub fn new(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        spent: impl IntoIterator<Item = (String, Decimal)>,
        budget: Option<&Budget>,
    ) -> Result<Self, String> {
        let mut sums: std::collections::BTreeMap<String, Decimal> = Default::default();
        for (currency, amount) in spent {
            let sum = sums.entry(currency).or_default();
            *sum = sum
                .checked_add(amount)
                .ok_or_else(|| "the spend overflows a decimal".to_owned())?;
        }
        if let Some(budget) = budget {
            sums.entry(budget.currency.clone()).or_default();
        }
        let spent = sums
            .into_iter()
            .map(|(currency, amount)| {
                let budget = budget.filter(|b| b.currency == currency).map(|b| b.amount);
                let remaining = budget
                    .map(|b| b.checked_sub(amount).ok_or("the budget left overflows"))
                    .transpose()?;
                Ok(Spent {
                    currency,
                    amount,
                    budget,
                    remaining,
                })
            })
            .collect::<Result<_, &str>>()?;
        Ok(Self { from, to, spent })
    }

    /// The entry in `currency`, if any.
    pub fn in_currency(&self, currency: &str) -> Option<&Spent> {
        self.spent.iter().find(|s| s.currency == currency)
    }

    /// How fast `spent`'s budget is going, at the period's average pace from its start to
    /// `as_of` (when the spend was read); `None` without a budget.
    ///
    /// The pace is the spend so far over the time so far, exact in decimals: it knows
    /// nothing of how spend is spread within the period. Cost reports lag by hours, so the
    /// pace errs low and the time the budget runs out errs late; with less than
    /// [`BUDGET_PACE_MIN_ELAPSED`] of the period behind `as_of` there is no estimate.
    pub fn budget_pace(&self, spent: &Spent, as_of: DateTime<Utc>) -> Option<BudgetPace> {
        let remaining = spent.remaining?;
        let elapsed_ms = (as_of - self.from).num_milliseconds();
        let scaled = |amount: Decimal, ms: i64| {
            amount
                .checked_mul(Decimal::from(ms))?
                .checked_div(Decimal::from(elapsed_ms))
        };
        let pace = if as_of >= self.to || elapsed_ms < 0 {
            Err(BudgetNoEstimate::OutsidePeriod)
        } else if elapsed_ms < BUDGET_PACE_MIN_ELAPSED.num_milliseconds() {
            Err(BudgetNoEstimate::TooEarly)
        } else {
            let period_ms = (self.to - self.from).num_milliseconds();
            scaled(spent.amount, DAY_MS)
                .zip(scaled(spent.amount, period_ms))
                .ok_or(BudgetNoEstimate::OutOfRange)
        };
        let runs_out = match pace {
            _ if remaining <= Decimal::ZERO => BudgetRunsOut::Reached,
            Err(why) => BudgetRunsOut::NoEstimate(why),
            Ok(_) if spent.amount <= Decimal::ZERO => BudgetRunsOut::NotThisPeriod,
            Ok(_) => {
                // remaining / (amount / elapsed): the time left at this pace.
                let at = remaining
                    .checked_mul(Decimal::from(elapsed_ms))
                    .and_then(|product| product.checked_div(spent.amount))
                    .and_then(|left_ms| i64::try_from(left_ms.ceil()).ok())
                    .and_then(chrono::TimeDelta::try_milliseconds)
                    .and_then(|left| as_of.checked_add_signed(left));
                match at {
                    Some(at) if at < self.to => BudgetRunsOut::At(at),
                    // Past the period's end, or too far to count: the budget lasts it.
                    _ => BudgetRunsOut::NotThisPeriod,
                }
            }
        };
        let (per_day, projected) = pace.ok().unzip();
        Some(BudgetPace {
            per_day,
            projected,
            runs_out,
        })
    }
}

const DAY_MS: i64 = 86_400_000;

/// How much of a period must be behind a reading for [`Spend::budget_pace`] to estimate:
/// within a day, a report's lag of hours is most of what was spent.
pub const BUDGET_PACE_MIN_ELAPSED: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// A budget's pace ([`Spend::budget_pace`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BudgetPace {
    /// Spend per day, averaged over the period so far; `None` without an estimate.
    pub per_day: Option<Decimal>,
    /// What the whole period costs at this pace; `None` without an estimate.
    pub projected: Option<Decimal>,
    /// When the budget is used up at this pace.
    pub runs_out: BudgetRunsOut,
}

/// When a budget is used up at its pace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetRunsOut {
    /// Nothing is left of it.
    Reached,
    /// At this time, before the period ends.
    At(DateTime<Utc>),
    /// Not before the period ends (nothing spent yet, or a pace that does not reach it).
    NotThisPeriod,
    /// No estimate.
    NoEstimate(BudgetNoEstimate),
}

/// Why a budget has no estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetNoEstimate {
    /// Less than [`BUDGET_PACE_MIN_ELAPSED`] of the period is behind the reading.
    TooEarly,
    /// The reading is not inside its period.
    OutsidePeriod,
    /// The amounts are too large to divide exactly.
    OutOfRange,
}

impl BudgetNoEstimate {
    /// A stable name: `too_early`, `outside_period`, `out_of_range`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooEarly => "too_early",
            Self::OutsidePeriod => "outside_period",
            Self::OutOfRange => "out_of_range",
        }
    }
}

/// A monthly budget: an amount in one currency (`500 USD`), the `monthly_budget` of an
/// account or of a config file. Parsed with [`str::parse`].
///
/// ```
/// use balances::Budget;
///
/// let budget: Budget = "500 usd".parse()?;
/// assert_eq!(budget.to_string(), "500 USD");
/// assert!("500".parse::<Budget>().is_err());
/// # Ok::<(), balances::InvalidBudget>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    amount: Decimal,
    currency: String,
}

/// Text that is not a budget, with what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidBudget(String);

impl Budget {
    /// A budget of `amount` in `currency` (upper-cased).
    pub fn new(amount: Decimal, currency: &str) -> Self {
        Self {
            amount,
            currency: currency.to_ascii_uppercase(),
        }
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency, upper case.
    pub fn currency(&self) -> &str {
        &self.currency
    }
}

impl FromStr for Budget {
    type Err = InvalidBudget;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            InvalidBudget(format!(
                "`{}` is not AMOUNT CURRENCY: expected a budget such as 500 USD",
                crate::escape_control(text.trim())
            ))
        };
        let threshold: crate::Threshold = text.parse().map_err(|_| invalid())?;
        match threshold.currency() {
            Some(currency) if threshold.amount() >= Decimal::ZERO => {
                Ok(Self::new(threshold.amount(), currency))
            }
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn instant(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn spend_is_summed_per_currency_exactly_and_the_budget_gives_what_is_left() {
        let (from, to) = (
            instant("2025-08-01T00:00:00Z"),
            instant("2025-09-01T00:00:00Z"),
        );
        let rows = [
            ("USD".to_owned(), dec("0.06")),
            ("EUR".to_owned(), dec("1.5")),
            ("USD".to_owned(), dec("0.125")),
        ];
        let budget: Budget = "500 usd".parse().unwrap();
        let spend = Spend::new(from, to, rows.clone(), Some(&budget)).unwrap();
        let currencies: Vec<&str> = spend.spent.iter().map(|s| s.currency.as_str()).collect();
        assert_eq!(currencies, ["EUR", "USD"]);
        let usd = spend.in_currency("USD").unwrap();
        assert_eq!(usd.amount.to_string(), "0.185");
        assert_eq!(
            usd.remaining.map(|r| r.to_string()).as_deref(),
            Some("499.815")
        );
        let eur = spend.in_currency("EUR").unwrap();
        assert_eq!((eur.budget, eur.remaining), (None, None));

        let empty = Spend::new(from, to, [], Some(&budget)).unwrap();
        assert_eq!(empty.spent.len(), 1);
        assert_eq!(empty.spent[0].remaining, Some(dec("500")));
        assert!(Spend::new(from, to, [], None).unwrap().spent.is_empty());

        let over = Spend::new(from, to, [("USD".to_owned(), dec("600"))], Some(&budget)).unwrap();
        assert_eq!(over.spent[0].remaining, Some(dec("-100")));
    }

    #[test]
    fn a_budget_needs_an_amount_and_a_currency() {
        assert_eq!("12.5USD".parse::<Budget>().unwrap().to_string(), "12.5 USD");
        for bad in ["500", "USD", "-1 USD", "500 dollars", ""] {
            let error = bad.parse::<Budget>().unwrap_err();
            assert!(
                error.to_string().contains("AMOUNT CURRENCY"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn the_period_serializes_as_rfc3339() {
        let spend = Spend::new(
            instant("2025-08-01T00:00:00Z"),
            instant("2025-09-01T00:00:00Z"),
            [("USD".to_owned(), dec("1.2378912"))],
            None,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&spend).unwrap(),
            r#"{"from":"2025-08-01T00:00:00Z","to":"2025-09-01T00:00:00Z","spent":[{"currency":"USD","amount":"1.2378912","budget":null,"remaining":null}]}"#
        );
    }

    /// December 2026 with `spent` USD against a budget of `budget` USD.
    fn december(spent: &str, budget: Option<&str>) -> Spend {
        let budget = budget.map(|b| Budget::new(dec(b), "USD"));
        Spend::new(
            instant("2026-12-01T00:00:00Z"),
            instant("2027-01-01T00:00:00Z"),
            [("USD".to_owned(), dec(spent))],
            budget.as_ref(),
        )
        .unwrap()
    }

    fn pace(spend: &Spend, as_of: &str) -> Option<BudgetPace> {
        spend.budget_pace(&spend.spent[0], instant(as_of))
    }

    #[test]
    fn a_budget_runs_out_at_the_average_pace_of_the_period_so_far() {
        // 250 of 500 spent in the first 10 days: 25 a day, the rest lasts 10 more days.
        let spend = december("250", Some("500"));
        let at_day_ten = pace(&spend, "2026-12-11T00:00:00Z").unwrap();
        assert_eq!(at_day_ten.per_day, Some(dec("25")));
        assert_eq!(at_day_ten.projected, Some(dec("775")));
        assert_eq!(
            at_day_ten.runs_out,
            BudgetRunsOut::At(instant("2026-12-21T00:00:00Z"))
        );
        // The same spend read later is a slower pace: 10 days more at 250 / 15.
        let at_day_fifteen = pace(&spend, "2026-12-16T00:00:00Z").unwrap();
        assert_eq!(
            at_day_fifteen.runs_out,
            BudgetRunsOut::At(instant("2026-12-31T00:00:00Z"))
        );
    }

    #[test]
    fn the_pace_is_exact_and_only_the_time_is_rounded_up_to_the_millisecond() {
        // 1 spent in 3 days against 2: a third a day, the other 1 lasts exactly 3 days.
        let spend = december("1", Some("2"));
        let third = pace(&spend, "2026-12-04T00:00:00Z").unwrap();
        assert_eq!(third.per_day, Some(Decimal::ONE / Decimal::from(3)));
        assert_eq!(
            third.runs_out,
            BudgetRunsOut::At(instant("2026-12-07T00:00:00Z"))
        );
        // 1 in 7 days against 1.000001: the millionth lasts 604.8 ms, counted as 605.
        let spend = december("1", Some("1.000001"));
        assert_eq!(
            pace(&spend, "2026-12-08T00:00:00Z").unwrap().runs_out,
            BudgetRunsOut::At(instant("2026-12-08T00:00:00.605Z"))
        );
    }

    #[test]
    fn a_budget_that_lasts_the_period_is_not_given_a_date() {
        let slow = december("100", Some("500"));
        let at_day_ten = pace(&slow, "2026-12-11T00:00:00Z").unwrap();
        assert_eq!(at_day_ten.per_day, Some(dec("10")));
        assert_eq!(at_day_ten.projected, Some(dec("310")));
        assert_eq!(at_day_ten.runs_out, BudgetRunsOut::NotThisPeriod);
        let nothing_spent = december("0", Some("500"));
        let idle = pace(&nothing_spent, "2026-12-11T00:00:00Z").unwrap();
        assert_eq!(idle.per_day, Some(Decimal::ZERO));
        assert_eq!(idle.runs_out, BudgetRunsOut::NotThisPeriod);
    }

    #[test]
    fn a_spent_budget_is_reached_whatever_the_time() {
        let over = december("600", Some("500"));
        let at_day_ten = pace(&over, "2026-12-11T00:00:00Z").unwrap();
        assert_eq!(at_day_ten.runs_out, BudgetRunsOut::Reached);
        assert_eq!(at_day_ten.per_day, Some(dec("60")));
        let first_hour = pace(&over, "2026-12-01T01:00:00Z").unwrap();
        assert_eq!(first_hour.runs_out, BudgetRunsOut::Reached);
        assert_eq!(first_hour.per_day, None);
    }

    #[test]
    fn too_early_outside_the_period_or_without_a_budget_there_is_no_estimate() {
        let spend = december("50", Some("500"));
        let early = pace(&spend, "2026-12-01T23:59:59Z").unwrap();
        assert_eq!(
            early.runs_out,
            BudgetRunsOut::NoEstimate(BudgetNoEstimate::TooEarly)
        );
        assert_eq!((early.per_day, early.projected), (None, None));
        for outside in ["2027-01-01T00:00:00Z", "2026-11-30T00:00:00Z"] {
            assert_eq!(
                pace(&spend, outside).unwrap().runs_out,
                BudgetRunsOut::NoEstimate(BudgetNoEstimate::OutsidePeriod),
                "{outside}"
            );
        }
        assert_eq!(pace(&december("50", None), "2026-12-11T00:00:00Z"), None);
    }

    #[test]
    fn amounts_at_the_decimal_limits_give_no_estimate_and_no_panic() {
        let huge = Decimal::MAX.to_string();
        let spend = december(&huge, Some(&huge));
        // Spent equals the budget: reached, even though the pace overflows.
        assert_eq!(
            pace(&spend, "2026-12-11T00:00:00Z").unwrap().runs_out,
            BudgetRunsOut::Reached
        );
        let spend = december("1", Some(&huge));
        let far = pace(&spend, "2026-12-11T00:00:00Z").unwrap();
        assert_eq!(far.runs_out, BudgetRunsOut::NotThisPeriod);
        let half = (Decimal::MAX / Decimal::TWO).trunc().to_string();
        let spend = december(&half, Some(&huge));
        assert_eq!(
            pace(&spend, "2026-12-11T00:00:00Z").unwrap().runs_out,
            BudgetRunsOut::NoEstimate(BudgetNoEstimate::OutOfRange)
        );
    }
}
