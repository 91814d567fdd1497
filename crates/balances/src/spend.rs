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
}
