//! The one balance model every vendor is normalized into.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::Vendor;
use crate::spend::Spend;

/// One account's balance, the same shape for every vendor.
///
/// Amounts are exact decimals, serialized as decimal strings ("110.00"), never floats.
/// There is one amount per currency, sorted by currency code, so the output is the same
/// whatever order the vendor listed them in. Negative amounts (an overdrawn account) and
/// "-0.00" are kept as the vendor sent them.
//
// (Plain text above: these doc comments become the descriptions in balance.schema.json.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
// Built only through `Balance::new`, which sorts and refuses duplicate currencies; read
// through accessors, so nothing can unsort it afterwards.
#[non_exhaustive]
pub struct Balance {
    /// The account's name, as configured.
    account: String,
    /// The vendor.
    vendor: Vendor,
    /// Whether the vendor says the account can make API calls; `null` when the vendor does
    /// not say (GeekAI, EIOTClub).
    available: Option<bool>,
    /// One entry per currency, sorted by currency code.
    amounts: Vec<Amount>,
    /// Balances in units that are not money (Poe's points, Venice's DIEM), one entry per
    /// unit, sorted by unit; left out when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    units: Vec<UnitAmount>,
    /// Currencies the vendor says can be spent without limit (a new-api key with unlimited
    /// quota), sorted: there is no amount to report for them, so none is in `amounts`; left
    /// out when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unlimited: Vec<Unlimited>,
    /// Whose balance this is: `key` when it is only the remaining quota of the key used (a
    /// new-api relay), which may be less or more than the account's balance; left out for the
    /// account's own balance.
    #[serde(default, skip_serializing_if = "Scope::is_account")]
    scope: Scope,
    /// For a vendor that reports spend over a period instead of a balance (OpenAI,
    /// Anthropic): what was spent, per currency, and what is left of the budget; `amounts`
    /// is then empty. Left out for every other vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spend: Option<Spend>,
}

/// A currency the vendor says can be spent without limit: no amount exists for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Unlimited {
    /// ISO 4217 code, such as `USD`.
    pub currency: String,
}

impl Unlimited {
    /// No limit in `currency`.
    pub fn new(currency: impl Into<String>) -> Self {
        Self {
            currency: currency.into(),
        }
    }
}

/// Whose balance a reading is.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// The account's balance.
    #[default]
    Account,
    /// The remaining quota of the key used, not the account's balance.
    Key,
}

impl Scope {
    /// `account` or `key`, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Key => "key",
        }
    }

    /// Whether this is the account's own balance.
    pub fn is_account(&self) -> bool {
        *self == Scope::Account
    }
}

/// A balance in a unit that is not money: points, tokens, credits that no currency
/// measures. Kept apart from [`Amount`] so that nothing sums or converts it as money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UnitAmount {
    /// The unit, as the vendor's description names it, such as `points` or `DIEM`.
    pub unit: String,
    /// Everything that can be spent, in `unit`.
    pub total: Decimal,
    /// The part of `total` that was granted, when the vendor says.
    pub granted: Option<Decimal>,
    /// The part of `total` that was paid in, when the vendor says.
    pub topped_up: Option<Decimal>,
}

impl UnitAmount {
    /// An amount of `unit` with only a total.
    pub fn total(unit: impl Into<String>, total: Decimal) -> Self {
        Self {
            unit: unit.into(),
            total,
            granted: None,
            topped_up: None,
        }
    }
}

/// The balance in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Amount {
    /// ISO 4217 code as the vendor reports it, such as `CNY` or `USD`.
    pub currency: String,
    /// Everything that can be spent, in `currency`.
    pub total: Decimal,
    /// The part of `total` that was granted (promotional credit), when the vendor says.
    pub granted: Option<Decimal>,
    /// The part of `total` that was paid in, when the vendor says.
    pub topped_up: Option<Decimal>,
    /// The same balance in the vendor's own unit, when that is not a currency (GeekAI coins).
    pub native: Option<NativeAmount>,
}

/// A balance in a vendor's own unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NativeAmount {
    /// The unit, such as `coin`.
    pub unit: String,
    /// The amount in that unit, exactly as the vendor sent it.
    pub amount: Decimal,
}

impl NativeAmount {
    /// `amount` in the vendor's own `unit`.
    pub fn new(unit: impl Into<String>, amount: Decimal) -> Self {
        Self {
            unit: unit.into(),
            amount,
        }
    }
}

impl Amount {
    /// The granted part of the total.
    pub fn with_granted(mut self, granted: Decimal) -> Self {
        self.granted = Some(granted);
        self
    }

    /// The topped-up part of the total.
    pub fn with_topped_up(mut self, topped_up: Decimal) -> Self {
        self.topped_up = Some(topped_up);
        self
    }

    /// The same balance in the vendor's own unit.
    pub fn with_native(mut self, native: NativeAmount) -> Self {
        self.native = Some(native);
        self
    }

    /// An amount with only a total.
    pub fn total(currency: impl Into<String>, total: Decimal) -> Self {
        Self {
            currency: currency.into(),
            total,
            granted: None,
            topped_up: None,
            native: None,
        }
    }
}

impl Balance {
    /// Builds a balance, sorting `amounts` by currency and refusing two amounts in the same
    /// currency: silently keeping one, or summing them, would report a wrong balance.
    pub fn new(
        account: impl Into<String>,
        vendor: Vendor,
        available: Option<bool>,
        mut amounts: Vec<Amount>,
    ) -> Result<Self, DuplicateCurrency> {
        amounts.sort_by(|a, b| a.currency.cmp(&b.currency));
        if let Some(pair) = amounts.windows(2).find(|w| w[0].currency == w[1].currency) {
            return Err(DuplicateCurrency(pair[0].currency.clone()));
        }
        Ok(Self {
            account: account.into(),
            vendor,
            available,
            amounts,
            units: Vec::new(),
            unlimited: Vec::new(),
            scope: Scope::Account,
            spend: None,
        })
    }

    /// Marks currencies the vendor says can be spent without limit, sorting them and
    /// refusing one twice or one that also has an amount (an amount and "no limit" cannot
    /// both be true).
    pub fn with_unlimited(
        mut self,
        mut unlimited: Vec<Unlimited>,
    ) -> Result<Self, DuplicateCurrency> {
        unlimited.sort_by(|a, b| a.currency.cmp(&b.currency));
        if let Some(pair) = unlimited
            .windows(2)
            .find(|w| w[0].currency == w[1].currency)
        {
            return Err(DuplicateCurrency(pair[0].currency.clone()));
        }
        if let Some(both) = unlimited
            .iter()
            .find(|u| self.amount(&u.currency).is_some())
        {
            return Err(DuplicateCurrency(both.currency.clone()));
        }
        self.unlimited = unlimited;
        Ok(self)
    }

    /// Says whose balance this is ([`Scope::Key`]: only the key's quota).
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Currencies that can be spent without limit, sorted (empty for most vendors).
    pub fn unlimited(&self) -> &[Unlimited] {
        &self.unlimited
    }

    /// Whose balance this is.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// A spend reading: what `account` spent over a period, with no balance (`amounts`
    /// empty, `available` unknown).
    pub fn spent(account: impl Into<String>, vendor: Vendor, spend: Spend) -> Self {
        Self {
            account: account.into(),
            vendor,
            available: None,
            amounts: Vec::new(),
            units: Vec::new(),
            unlimited: Vec::new(),
            scope: Scope::Account,
            spend: Some(spend),
        }
    }

    /// The spend over a period, for a vendor that reports spend instead of a balance.
    pub fn spend(&self) -> Option<&Spend> {
        self.spend.as_ref()
    }

    /// Adds balances in units that are not money, sorting them by unit and refusing two in
    /// one unit.
    pub fn with_units(mut self, mut units: Vec<UnitAmount>) -> Result<Self, DuplicateCurrency> {
        units.sort_by(|a, b| a.unit.cmp(&b.unit));
        if let Some(pair) = units.windows(2).find(|w| w[0].unit == w[1].unit) {
            return Err(DuplicateCurrency(pair[0].unit.clone()));
        }
        self.units = units;
        Ok(self)
    }

    /// Balances in units that are not money, sorted by unit (empty for most vendors).
    pub fn units(&self) -> &[UnitAmount] {
        &self.units
    }

    /// The account's name, as configured.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The vendor.
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// Whether the vendor says the account can make API calls; `None` when it does not say.
    pub fn available(&self) -> Option<bool> {
        self.available
    }

    /// One entry per currency, sorted by currency code, at most one per currency.
    pub fn amounts(&self) -> &[Amount] {
        &self.amounts
    }

    /// The amount in `currency`, if the account has one.
    pub fn amount(&self, currency: &str) -> Option<&Amount> {
        self.amounts.iter().find(|a| a.currency == currency)
    }
}

/// Two amounts in one currency (or one unit) were reported for one account.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the vendor reported {0} more than once")]
pub struct DuplicateCurrency(pub String);

/// The JSON Schema of [`Balance`] as serialized (amounts are decimal strings). The checked-in
/// `balance.schema.json` is this schema, pretty-printed; a test keeps the two equal.
pub fn balance_schema() -> schemars::Schema {
    schemars::generate::SchemaSettings::default()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<Balance>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn amounts_are_sorted_by_currency() {
        let make = |order: [&str; 2]| {
            Balance::new(
                "a",
                Vendor::find("deepseek").expect("in the registry"),
                Some(true),
                order.iter().map(|c| Amount::total(*c, dec("1"))).collect(),
            )
        };
        let (a, b) = (make(["USD", "CNY"]), make(["CNY", "USD"]));
        assert_eq!(a, b);
        let currencies: Vec<_> = a
            .iter()
            .flat_map(|b| b.amounts.iter().map(|a| a.currency.clone()))
            .collect();
        assert_eq!(currencies, ["CNY", "USD"]);
    }

    #[test]
    fn duplicate_currency_is_refused() {
        let result = Balance::new(
            "a",
            Vendor::find("deepseek").expect("in the registry"),
            None,
            vec![
                Amount::total("USD", dec("1")),
                Amount::total("CNY", dec("2")),
                Amount::total("USD", dec("3")),
            ],
        );
        assert_eq!(result, Err(DuplicateCurrency("USD".into())));
    }

    #[test]
    fn unlimited_currencies_and_the_key_scope_serialize_only_when_present() {
        let vendor = Vendor::find("deepseek").expect("in the registry");
        let plain = Balance::new("a", vendor, None, Vec::new()).expect("empty");
        let json = serde_json::to_string(&plain).expect("serializes");
        assert!(
            !json.contains("unlimited") && !json.contains("scope"),
            "{json}"
        );
        let keyed = plain
            .clone()
            .with_unlimited(vec![Unlimited::new("USD")])
            .expect("one currency")
            .with_scope(Scope::Key);
        let json = serde_json::to_string(&keyed).expect("serializes");
        assert!(
            json.ends_with(r#""amounts":[],"unlimited":[{"currency":"USD"}],"scope":"key"}"#),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<Balance>(&json).expect("reads back"),
            keyed
        );
        let with_amount = Balance::new("a", vendor, None, vec![Amount::total("USD", dec("1"))])
            .expect("one currency");
        assert_eq!(
            with_amount.with_unlimited(vec![Unlimited::new("USD")]),
            Err(DuplicateCurrency("USD".into()))
        );
    }

    #[test]
    fn amounts_serialize_as_strings_with_nulls() {
        let balance = Balance::new(
            "a",
            Vendor::find("geekai").expect("in the registry"),
            None,
            vec![Amount::total("CNY", dec("12.50"))],
        );
        let json = serde_json::to_string(&balance.expect("one currency")).expect("serializes");
        assert_eq!(
            Some(json.as_str()),
            Some(
                r#"{"account":"a","vendor":"geekai","available":null,"amounts":[{"currency":"CNY","total":"12.50","granted":null,"topped_up":null,"native":null}]}"#
            )
        );
    }
}
