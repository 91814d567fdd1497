//! Low-balance thresholds: an account's `alert_below`, the command's `--below`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::Balance;

/// A low-balance threshold: an amount, optionally in one currency (`10`, `10CNY`,
/// `2.5 usd`). Parsed from text with [`str::parse`]; shown as `10 CNY`.
///
/// ```
/// use balances::Threshold;
///
/// let threshold: Threshold = "10 cny".parse()?;
/// assert_eq!(threshold.currency(), Some("CNY"));
/// assert_eq!(threshold.to_string(), "10 CNY");
/// # Ok::<(), balances::InvalidThreshold>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threshold {
    amount: Decimal,
    /// Upper-case code; `None` applies the amount to every currency.
    currency: Option<String>,
}

/// Text that is not a threshold, with what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidThreshold(String);

impl FromStr for Threshold {
    type Err = InvalidThreshold;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let split = text
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len());
        let (amount, currency) = text.split_at(split);
        let amount = Decimal::from_str(amount.trim()).map_err(|_| {
            InvalidThreshold(format!(
                "`{}` is not AMOUNT[CURRENCY]: expected a decimal amount such as 10 or 2.50CNY",
                crate::escape_control(text)
            ))
        })?;
        let currency = currency.trim();
        let currency = if currency.is_empty() {
            None
        } else if currency.len() == 3 && currency.chars().all(|c| c.is_ascii_alphabetic()) {
            Some(currency.to_ascii_uppercase())
        } else {
            return Err(InvalidThreshold(format!(
                "`{}` is not a three-letter currency code such as CNY or USD",
                crate::escape_control(currency)
            )));
        };
        Ok(Self { amount, currency })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.amount)?;
        if let Some(currency) = &self.currency {
            write!(f, " {currency}")?;
        }
        Ok(())
    }
}

impl Threshold {
    /// A threshold of `amount`, in `currency` (upper-cased) or, with `None`, in every currency.
    pub fn new(amount: Decimal, currency: Option<&str>) -> Self {
        Self {
            amount,
            currency: currency.map(str::to_ascii_uppercase),
        }
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency it applies to, upper-case; `None` when it applies to every currency.
    pub fn currency(&self) -> Option<&str> {
        self.currency.as_deref()
    }

    /// Whether the threshold applies to amounts in `currency`.
    pub fn applies_to(&self, currency: &str) -> bool {
        self.currency
            .as_ref()
            .is_none_or(|c| currency.eq_ignore_ascii_case(c))
    }

    /// True when any amount this threshold applies to has a total strictly below it. An
    /// account without an amount in the threshold's currency is not below it. For a spend
    /// reading the amount compared is what is left of the budget; without a budget there
    /// is nothing to compare, and the account is never below.
    pub fn is_below(&self, balance: &Balance) -> bool {
        let remaining = balance
            .spend()
            .into_iter()
            .flat_map(|spend| &spend.spent)
            .filter_map(|spent| Some((&spent.currency, spent.remaining?)));
        balance
            .amounts()
            .iter()
            .map(|amount| (&amount.currency, amount.total))
            .chain(remaining)
            .filter(|(currency, _)| self.applies_to(currency))
            .any(|(_, total)| total < self.amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Amount, Vendor};

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn balance(rows: &[(&str, &str)]) -> Balance {
        let amounts = rows
            .iter()
            .map(|(c, t)| Amount::total(*c, dec(t)))
            .collect();
        Balance::new(
            "a",
            Vendor::find("deepseek").expect("in the registry"),
            Some(true),
            amounts,
        )
        .unwrap()
    }

    #[test]
    fn parses_amounts_with_and_without_currency() {
        assert_eq!(
            "10".parse::<Threshold>().unwrap(),
            Threshold::new(dec("10"), None)
        );
        assert_eq!(
            "2.50cny".parse::<Threshold>().unwrap(),
            Threshold::new(dec("2.50"), Some("cny"))
        );
        assert_eq!(
            "-1 USD".parse::<Threshold>().unwrap(),
            Threshold::new(dec("-1"), Some("USD"))
        );
        for bad in ["", "CNY", "ten", "10EURO", "10C1Y", "1e3"] {
            assert!(
                bad.parse::<Threshold>().is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn below_compares_totals_in_the_threshold_currency() {
        let both = balance(&[("CNY", "5.00"), ("USD", "50.00")]);
        assert!("10".parse::<Threshold>().unwrap().is_below(&both));
        assert!("10CNY".parse::<Threshold>().unwrap().is_below(&both));
        assert!(!"10USD".parse::<Threshold>().unwrap().is_below(&both));
        assert!(
            !"5CNY".parse::<Threshold>().unwrap().is_below(&both),
            "equal is not below"
        );
        assert!(!"10EUR".parse::<Threshold>().unwrap().is_below(&both));
        assert!(
            "0".parse::<Threshold>()
                .unwrap()
                .is_below(&balance(&[("CNY", "-0.01")]))
        );
    }
}
