//! The one balance model every vendor is normalized into.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::Vendor;

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
pub struct Balance {
    /// The account's name, as configured.
    pub account: String,
    /// The vendor.
    pub vendor: Vendor,
    /// Whether the vendor says the account can make API calls; `null` when the vendor does
    /// not say (GeekAI, EIOTClub).
    pub available: Option<bool>,
    /// One entry per currency, sorted by currency code.
    pub amounts: Vec<Amount>,
}

/// The balance in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
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
pub struct NativeAmount {
    /// The unit, such as `coin`.
    pub unit: String,
    /// The amount in that unit, exactly as the vendor sent it.
    pub amount: Decimal,
}

impl Amount {
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
        })
    }

    /// The amount in `currency`, if the account has one.
    pub fn amount(&self, currency: &str) -> Option<&Amount> {
        self.amounts.iter().find(|a| a.currency == currency)
    }
}

/// Two amounts in one currency were reported for one account.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the vendor reported currency {0} more than once")]
pub struct DuplicateCurrency(pub String);

/// Gives back the minus sign of a negative zero that parsing dropped.
///
/// `rust_decimal` parses `"-0.00"` as `0.00`: it clears the sign of every zero it parses.
/// DeepSeek sends `"-0.00"` for an overdrawn account (with `is_available: false`), and the
/// output must show what the vendor sent. So when a parsed amount is zero, look at the text
/// it came from (at `pointer` in `body`) and set the sign back if that text had one.
/// `Decimal` can hold a negative zero; it only never creates one when parsing.
pub(crate) fn restore_negative_zero(value: Decimal, body: &[u8], pointer: &str) -> Decimal {
    if !value.is_zero() || value.is_sign_negative() {
        return value;
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return value;
    };
    let negative = match json.pointer(pointer) {
        Some(serde_json::Value::String(text)) => text.trim_start().starts_with('-'),
        // With `arbitrary_precision`, a number keeps its text, sign included.
        Some(serde_json::Value::Number(number)) => number.to_string().starts_with('-'),
        _ => false,
    };
    let mut value = value;
    value.set_sign_negative(negative);
    value
}

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
                Vendor::DeepSeek,
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
            Vendor::DeepSeek,
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
    fn parsing_drops_the_sign_of_negative_zero() {
        // The reason `restore_negative_zero` exists: if this starts failing, rust_decimal
        // has begun keeping the sign itself.
        let zero = dec("-0.00");
        assert!(!zero.is_sign_negative());
        assert_eq!(zero.to_string(), "0.00");
    }

    #[test]
    fn negative_zero_is_restored_from_the_text() {
        let body = br#"{"a":"-0.00","b":"0.00","c":-0,"d":{"e":" -0.0"},"f":"-1.00"}"#;
        let restored = |pointer: &str, value: &str| {
            restore_negative_zero(dec(value), body, pointer).to_string()
        };
        assert_eq!(restored("/a", "-0.00"), "-0.00");
        assert_eq!(restored("/b", "0.00"), "0.00");
        assert_eq!(restored("/c", "0"), "-0");
        assert_eq!(restored("/d/e", "0.0"), "-0.0");
        assert_eq!(restored("/f", "-1.00"), "-1.00");
        assert_eq!(restored("/missing", "0.00"), "0.00");
        assert_eq!(
            restore_negative_zero(dec("0.00"), b"not json", "/a").to_string(),
            "0.00"
        );
        // And the sign survives serialization.
        let zero = restore_negative_zero(dec("0.00"), body, "/a");
        assert_eq!(
            serde_json::to_string(&zero).ok().as_deref(),
            Some("\"-0.00\"")
        );
    }

    #[test]
    fn amounts_serialize_as_strings_with_nulls() {
        let balance = Balance::new(
            "a",
            Vendor::GeekAi,
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
