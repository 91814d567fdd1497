//! What one balance adds to the history: one reading per currency and per unit, with the
//! exact amounts, or for a spend reading one per currency spent. Nothing else of the fetch
//! (no key, no vendor message) has a field here, so nothing else can be stored.

use std::fmt;

use balances::Balance;
use rust_decimal::Decimal;

/// Whether a series counts money, a unit that is not money (points, DIEM), or money spent
/// over a period (a vendor that reports spend instead of a balance). They are kept apart so
/// that a unit named like a currency is never read as one, and spend never as a balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    Currency,
    Unit,
    /// A period's spend in a currency (`total` is what was spent so far in the period). It
    /// rises as money is spent and falls back when a period starts, so the running totals
    /// and forecasts of a balance do not apply: its samples carry none.
    Spend,
}

impl Measure {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Currency => "currency",
            Measure::Unit => "unit",
            Measure::Spend => "spend",
        }
    }

    pub(crate) fn from_stored(text: &str) -> Option<Self> {
        match text {
            "currency" => Some(Measure::Currency),
            "unit" => Some(Measure::Unit),
            "spend" => Some(Measure::Spend),
            _ => None,
        }
    }
}

/// One series of the history: an account's balance in one currency or unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    /// The account's configured name.
    pub account: String,
    /// The vendor's id.
    pub vendor: String,
    pub measure: Measure,
    /// The currency code or the unit's name.
    pub code: String,
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) {}", self.account, self.vendor, self.code)
    }
}

/// One series' amounts at one time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub key: SeriesKey,
    pub total: Decimal,
    pub granted: Option<Decimal>,
    pub topped_up: Option<Decimal>,
}

/// The readings of a balance: its currencies, then its units, then what it spent.
pub fn readings(balance: &Balance) -> Vec<Reading> {
    let key = |measure, code: &str| SeriesKey {
        account: balance.account().to_owned(),
        vendor: balance.vendor().as_str().to_owned(),
        measure,
        code: code.to_owned(),
    };
    let money = balance.amounts().iter().map(|amount| Reading {
        key: key(Measure::Currency, &amount.currency),
        total: amount.total,
        granted: amount.granted,
        topped_up: amount.topped_up,
    });
    let units = balance.units().iter().map(|amount| Reading {
        key: key(Measure::Unit, &amount.unit),
        total: amount.total,
        granted: amount.granted,
        topped_up: amount.topped_up,
    });
    let spent = balance
        .spend()
        .into_iter()
        .flat_map(|spend| &spend.spent)
        .map(|spent| Reading {
            key: key(Measure::Spend, &spent.currency),
            total: spent.amount,
            granted: None,
            topped_up: None,
        });
    money.chain(units).chain(spent).collect()
}
