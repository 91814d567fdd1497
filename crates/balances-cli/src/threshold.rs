//! `--below AMOUNT[CURRENCY]`: the low-balance threshold scripts gate on.

use std::fmt;
use std::str::FromStr;

use balances::Balance;
use rust_decimal::Decimal;

/// An amount, optionally in one currency (`10`, `10CNY`, `2.5 usd`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threshold {
    pub amount: Decimal,
    /// Upper-case ISO code; `None` applies the amount to every currency.
    pub currency: Option<String>,
}

impl FromStr for Threshold {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let split = text
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len());
        let (amount, currency) = text.split_at(split);
        let amount = Decimal::from_str(amount.trim()).map_err(|_| {
            format!(
                "`{text}` is not AMOUNT[CURRENCY]: expected a decimal amount such as 10 or 2.50CNY"
            )
        })?;
        let currency = currency.trim();
        let currency = if currency.is_empty() {
            None
        } else if currency.len() == 3 && currency.chars().all(|c| c.is_ascii_alphabetic()) {
            Some(currency.to_ascii_uppercase())
        } else {
            return Err(format!(
                "`{currency}` is not a three-letter currency code such as CNY or USD"
            ));
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
    /// True when any amount this threshold applies to has a total strictly below it. An
    /// account without an amount in the threshold's currency is not below it.
    pub fn is_below(&self, balance: &Balance) -> bool {
        balance
            .amounts()
            .iter()
            .filter(|amount| {
                self.currency
                    .as_ref()
                    .is_none_or(|c| amount.currency.eq_ignore_ascii_case(c))
            })
            .any(|amount| amount.total < self.amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use balances::{Amount, Vendor};

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn balance(rows: &[(&str, &str)]) -> Balance {
        let amounts = rows
            .iter()
            .map(|(c, t)| Amount::total(*c, dec(t)))
            .collect();
        Balance::new("a", Vendor::DeepSeek, Some(true), amounts).unwrap()
    }

    #[test]
    fn parses_amounts_with_and_without_currency() {
        assert_eq!(
            "10".parse::<Threshold>().unwrap(),
            Threshold {
                amount: dec("10"),
                currency: None
            }
        );
        assert_eq!(
            "2.50cny".parse::<Threshold>().unwrap(),
            Threshold {
                amount: dec("2.50"),
                currency: Some("CNY".into())
            }
        );
        assert_eq!(
            "-1 USD".parse::<Threshold>().unwrap(),
            Threshold {
                amount: dec("-1"),
                currency: Some("USD".into())
            }
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
