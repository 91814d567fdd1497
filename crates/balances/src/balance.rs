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
        })
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

/// The exact amount of a JSON value found at `pointer` (named in errors): a string or a
/// number, read from its text. An error says why there is none.
pub(crate) fn exact_value(
    found: Option<&serde_json::Value>,
    pointer: &str,
) -> Result<Decimal, String> {
    {
        let text = match found {
            Some(serde_json::Value::String(text)) => text.clone(),
            // With `arbitrary_precision`, a number keeps its text: digits, sign and scale.
            Some(serde_json::Value::Number(number)) => number.to_string(),
            Some(_) => return Err(format!("`{pointer}` is neither a string nor a number")),
            None => return Err(format!("`{pointer}` cannot be read back from the body")),
        };
        parse_exact(&text).map_err(|why| {
            format!(
                "`{pointer}` is {}: {why}",
                quote_short(&text, AMOUNT_EXCERPT_CHARS)
            )
        })
    }
}

/// The longest amount text quoted in an error, in characters.
const AMOUNT_EXCERPT_CHARS: usize = 48;

/// `text` in quotes, cut to `max` characters.
fn quote_short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        format!("{text:?}")
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut:?}…")
    }
}

/// Why a text is not an exact amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NotExact {
    /// Not a decimal number at all.
    Syntax(String),
    /// A decimal number, but a `Decimal` cannot hold it without rounding: more than 28
    /// decimal places, or more than 96 bits of digits.
    TooPrecise,
}

impl std::fmt::Display for NotExact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotExact::Syntax(why) => write!(f, "not a decimal number ({why})"),
            NotExact::TooPrecise => f.write_str(
                "more digits than a 96-bit decimal with at most 28 decimal places holds \
                 exactly; refusing to round an amount",
            ),
        }
    }
}

/// Parses a decimal amount exactly: plain (`"-12.50"`, `"007"`, `".5"`) or scientific
/// (`"1e3"`, `"1.5E-2"`, as JSON numbers may be written), keeping the scale the text implies
/// and the sign of a negative zero. Never rounds: text that a `Decimal` cannot hold exactly
/// is [`NotExact::TooPrecise`].
///
/// The grammar: an optional `+` or `-`, ASCII digits with at most one `.` and at least one
/// digit, then optionally `e` or `E` and a 32-bit signed exponent. Nothing else (no spaces,
/// no `_` separators, which `Decimal::from_str` would accept).
///
/// The scale is that of the digits after the point minus the exponent, never below zero:
/// `"1.50e1"` is `15.0`, `"1.5e3"` is `1500`, `"15e-1"` is `1.5`,
/// `"0.00000000000000000000000000000e1"` is zero at scale 28.
pub(crate) fn parse_exact(text: &str) -> Result<Decimal, NotExact> {
    let syntax = |why: &str| NotExact::Syntax(why.to_owned());
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (negative, unsigned) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int.is_empty() && frac.is_empty() {
        return Err(syntax("no digits"));
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(syntax("only digits and one `.` may precede the exponent"));
    }
    // `i32` reads an optional `+` or `-`; a larger exponent cannot give a `Decimal`.
    let exponent = match exponent {
        None => 0,
        Some(exponent) => exponent
            .parse::<i32>()
            .map_err(|_| syntax("the exponent is not a 32-bit integer"))?,
    };

    // The value is `digits × 10^-scale`, with `digits` the integer written without the point.
    let scale = i64::try_from(frac.len()).unwrap_or(i64::MAX) - i64::from(exponent);
    if scale > i64::from(Decimal::MAX_SCALE) {
        return Err(NotExact::TooPrecise);
    }
    let significant: String = int
        .chars()
        .chain(frac.chars())
        .skip_while(|&c| c == '0')
        .collect();
    // 2^96 has 29 digits: longer cannot fit, shorter fits in a u128.
    if significant.len() > 29 {
        return Err(NotExact::TooPrecise);
    }
    let mut digits: u128 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| NotExact::TooPrecise)?
    };
    let scale = match u32::try_from(scale) {
        Ok(scale) => scale,
        Err(_) => {
            // A negative scale: an integer with `-scale` zeros appended.
            if digits != 0 {
                let zeros = u32::try_from(-scale).map_err(|_| NotExact::TooPrecise)?;
                digits = 10_u128
                    .checked_pow(zeros)
                    .and_then(|power| digits.checked_mul(power))
                    .ok_or(NotExact::TooPrecise)?;
            }
            0
        }
    };
    let digits = i128::try_from(digits).map_err(|_| NotExact::TooPrecise)?;
    // Fails when the digits need more than 96 bits.
    let mut value =
        Decimal::try_from_i128_with_scale(digits, scale).map_err(|_| NotExact::TooPrecise)?;
    // Set explicitly: a zero is created without sign, and "-0.00" must keep its minus.
    value.set_sign_negative(negative);
    Ok(value)
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
    fn parsing_drops_the_sign_of_negative_zero() {
        // One reason amounts are read from their text (`exact_value`): if this starts
        // failing, rust_decimal has begun keeping the sign itself.
        let zero = dec("-0.00");
        assert!(!zero.is_sign_negative());
        assert_eq!(zero.to_string(), "0.00");
    }

    #[test]
    fn negative_zero_is_restored_from_the_text() {
        let body = br#"{"a":"-0.00","b":"0.00","c":-0,"d":{"e":"-0.0"},"f":"-1.00","g":-0.0e1}"#;
        let json: serde_json::Value = serde_json::from_slice(body).expect("JSON");
        let read = |pointer: &str| exact_value(json.pointer(pointer), pointer);
        let exact = |pointer: &str| read(pointer).map(|d| d.to_string());
        assert_eq!(exact("/a").as_deref(), Ok("-0.00"));
        assert_eq!(exact("/b").as_deref(), Ok("0.00"));
        assert_eq!(exact("/c").as_deref(), Ok("-0"));
        assert_eq!(exact("/d/e").as_deref(), Ok("-0.0"));
        assert_eq!(exact("/f").as_deref(), Ok("-1.00"));
        assert_eq!(exact("/g").as_deref(), Ok("-0"));
        assert!(exact("/missing").is_err());
        assert!(exact("/d").is_err());
        // And the sign survives serialization.
        let zero = read("/a").expect("an amount");
        assert_eq!(
            serde_json::to_string(&zero).ok().as_deref(),
            Some("\"-0.00\"")
        );
    }

    #[test]
    fn exact_parsing_keeps_value_and_scale() {
        let exact = |text: &str| parse_exact(text).map(|d| d.to_string());
        for (text, expected) in [
            ("110.00", "110.00"),
            ("007.50", "7.50"),
            ("+1.5", "1.5"),
            ("-12.345", "-12.345"),
            ("1e3", "1000"),
            ("1E+3", "1000"),
            ("1.5E-2", "0.015"),
            ("1.50e1", "15.0"),
            ("15e-1", "1.5"),
            ("0e100", "0"),
            ("-0e-2", "-0.00"),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
            (
                "7.9228162514264337593543950335e28",
                "79228162514264337593543950335",
            ),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
            ("1e-28", "0.0000000000000000000000000001"),
            (".5", "0.5"),
            ("5.", "5"),
            (
                "0.00000000000000000000000000000e1",
                "0.0000000000000000000000000000",
            ),
            (
                "123.0000000000000000000000000e3",
                "123000.0000000000000000000000",
            ),
            ("000000000000000000000000000000000000001.5", "1.5"),
        ] {
            assert_eq!(exact(text).as_deref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn exact_parsing_refuses_to_round() {
        for text in [
            // 29 decimal places: `Decimal::from_str` rounds these.
            "0.00000000000000000000000000001",
            "0.00000000000000000000000000000",
            "1.2345678901234567890123456789012",
            "1234567890123456789012345678.91",
            "1e-29",
            "0.1e-28",
            // Beyond 96 bits.
            "79228162514264337593543950336",
            "8e28",
            "1e29",
            // Scale 26 after the exponent, but 123000 at scale 26 needs more than 96 bits.
            "123.00000000000000000000000000000e3",
        ] {
            assert_eq!(parse_exact(text), Err(NotExact::TooPrecise), "{text}");
        }
        for text in [
            "",
            "-",
            ".",
            "+-1",
            "1.2.3",
            " 1",
            "1 ",
            "abc",
            "1e",
            "1e1.5",
            "1ee2",
            "0x10",
            "1_000",
            "١",
            "e5",
            "1e99999999999",
        ] {
            assert!(
                matches!(parse_exact(text), Err(NotExact::Syntax(_))),
                "{text:?}: {:?}",
                parse_exact(text)
            );
        }
    }

    #[test]
    fn rust_decimal_serde_rounds_where_the_text_does_not_fit() {
        // The reason amounts are read from their text (`exact_value`): if this starts failing,
        // rust_decimal's serde support has become exact.
        let rounded: Decimal =
            serde_json::from_str("\"1.2345678901234567890123456789012\"").expect("parses");
        assert_eq!(rounded.to_string(), "1.2345678901234567890123456789");
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
