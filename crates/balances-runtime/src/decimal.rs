//! [`ExactDecimal`], the type `format: decimal` becomes in every generated client, and
//! [`parse_exact`], the one parser of amount text in the workspace.
//!
//! `rust_decimal`'s own serde support is not used for amounts: it parses `"-0.00"` as `0.00`
//! (the sign of an overdrawn-to-zero account is lost) and rounds past 28 decimal places
//! without an error. Both are silent changes to an amount; here both are impossible.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// An exact decimal amount as a vendor wrote it: a JSON string (`"110.00"`) or number
/// (`12345678901234567.89`, read from its text, never through `f64`), with the sign and
/// scale of that text (`-0.00` stays `-0.00`, `49.58894` keeps five places).
///
/// A value that a 96-bit decimal with at most 28 decimal places cannot hold exactly is a
/// deserialization error, never a rounded number. Serialized as a JSON string of the same
/// text. Equality and order are numeric (`-0.00 == 0.0`), as for [`Decimal`];
/// [`ExactDecimal::get`] keeps the sign bit, so `to_string()` shows `-0.00`.
///
/// ```
/// use balances_runtime::ExactDecimal;
///
/// let zero: ExactDecimal = serde_json::from_str("\"-0.00\"")?;
/// assert_eq!(zero.to_string(), "-0.00");
/// let number: ExactDecimal = serde_json::from_str("49.58894")?;
/// assert_eq!(number.to_string(), "49.58894");
/// assert!(serde_json::from_str::<ExactDecimal>("\"0.00000000000000000000000000001\"").is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExactDecimal(Decimal);

impl ExactDecimal {
    /// The amount, with the sign and scale it was written with.
    pub fn get(self) -> Decimal {
        self.0
    }
}

impl From<ExactDecimal> for Decimal {
    fn from(value: ExactDecimal) -> Self {
        value.0
    }
}

impl From<Decimal> for ExactDecimal {
    fn from(value: Decimal) -> Self {
        ExactDecimal(value)
    }
}

impl fmt::Display for ExactDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ExactDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExactDecimal({})", self.0)
    }
}

impl FromStr for ExactDecimal {
    type Err = NotExact;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_exact(text).map(ExactDecimal)
    }
}

impl Serialize for ExactDecimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ExactDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExactVisitor)
    }
}

struct ExactVisitor;

impl ExactVisitor {
    fn parse<E: de::Error>(text: &str) -> Result<ExactDecimal, E> {
        parse_exact(text)
            .map(ExactDecimal)
            .map_err(|why| E::custom(format!("{} is {why}", quote_short(text))))
    }
}

impl<'de> Visitor<'de> for ExactVisitor {
    type Value = ExactDecimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal amount, as a string or a number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<ExactDecimal, E> {
        Self::parse(text)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<ExactDecimal, E> {
        Ok(ExactDecimal(Decimal::from(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<ExactDecimal, E> {
        Ok(ExactDecimal(Decimal::from(value)))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<ExactDecimal, E> {
        Self::parse(&value.to_string())
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<ExactDecimal, E> {
        Self::parse(&value.to_string())
    }

    /// A binary float has lost the text it was written as; guessing it back could change an
    /// amount. serde_json gives numbers as text when built with `arbitrary_precision`, as
    /// the workspace builds it.
    fn visit_f64<E: de::Error>(self, _value: f64) -> Result<ExactDecimal, E> {
        Err(E::custom(
            "an amount arrived as a binary floating-point number, so its exact text is lost \
             (serde_json must be built with its `arbitrary_precision` feature)",
        ))
    }

    /// serde_json with `arbitrary_precision` hands a number over as a one-entry map holding
    /// its text; `serde_json::Number` knows that form, so it reads it.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ExactDecimal, A::Error> {
        let number = serde_json::Number::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Self::parse(number.as_str())
    }
}

/// The longest amount text quoted in an error, in characters.
const AMOUNT_EXCERPT_CHARS: usize = 48;

/// `text` in quotes, cut to [`AMOUNT_EXCERPT_CHARS`] characters.
fn quote_short(text: &str) -> String {
    if text.chars().count() <= AMOUNT_EXCERPT_CHARS {
        format!("{text:?}")
    } else {
        let cut: String = text.chars().take(AMOUNT_EXCERPT_CHARS).collect();
        format!("{cut:?}…")
    }
}

/// Why a text is not an exact amount.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotExact {
    /// Not a decimal number at all.
    Syntax(String),
    /// A decimal number, but a `Decimal` cannot hold it without rounding: more than 28
    /// decimal places, or more than 96 bits of digits.
    TooPrecise,
}

impl fmt::Display for NotExact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotExact::Syntax(why) => write!(f, "not a decimal number ({why})"),
            NotExact::TooPrecise => f.write_str(
                "more digits than a 96-bit decimal with at most 28 decimal places holds \
                 exactly; refusing to round an amount",
            ),
        }
    }
}

impl std::error::Error for NotExact {}

/// Parses a decimal amount exactly: plain (`"-12.50"`, `"007"`, `".5"`) or scientific
/// (`"1e3"`, `"1.5E-2"`, `"0E-9"`, as JSON numbers may be written), keeping the scale the
/// text implies and the sign of a negative zero. Never rounds: text that a `Decimal` cannot
/// hold exactly is [`NotExact::TooPrecise`].
///
/// The grammar: an optional `+` or `-`, ASCII digits with at most one `.` and at least one
/// digit, then optionally `e` or `E` and a 32-bit signed exponent. Nothing else (no spaces,
/// no `_` separators, which `Decimal::from_str` would accept).
///
/// The scale is that of the digits after the point minus the exponent, never below zero:
/// `"1.50e1"` is `15.0`, `"1.5e3"` is `1500`, `"15e-1"` is `1.5`,
/// `"0.00000000000000000000000000000e1"` is zero at scale 28.
pub fn parse_exact(text: &str) -> Result<Decimal, NotExact> {
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
    // The digits without the point and without leading zeros, read as one integer. 2^96 has
    // 29 digits: more cannot fit, and 29 always fit in a u128.
    let mut digits: u128 = 0;
    let mut significant = 0_usize;
    for byte in int.bytes().chain(frac.bytes()) {
        if significant == 0 && byte == b'0' {
            continue;
        }
        significant += 1;
        if significant > 29 {
            return Err(NotExact::TooPrecise);
        }
        digits = digits * 10 + u128::from(byte - b'0');
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn from_json(text: &str) -> Result<String, String> {
        serde_json::from_str::<ExactDecimal>(text)
            .map(|d| d.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn strings_and_numbers_keep_sign_and_scale() {
        for (json, shown) in [
            (r#""-0.00""#, "-0.00"),
            ("-0.00", "-0.00"),
            (r#""49.58894""#, "49.58894"),
            ("49.58894", "49.58894"),
            ("12345678901234567.89", "12345678901234567.89"),
            ("0E-9", "0.000000000"),
            ("1500", "1500"),
            ("-2317", "-2317"),
        ] {
            assert_eq!(from_json(json).as_deref(), Ok(shown), "{json}");
        }
    }

    #[test]
    fn values_a_decimal_cannot_hold_are_errors_not_rounded() {
        for json in [
            r#""0.00000000000000000000000000001""#,
            "0.00000000000000000000000000001",
            "123456789012345678901234567890",
            r#""1,5""#,
            r#""""#,
            "true",
            "null",
        ] {
            assert!(from_json(json).is_err(), "{json} decoded");
        }
        let error = from_json(r#""0.00000000000000000000000000001""#).unwrap_err();
        assert!(error.contains("refusing to round"), "{error}");
    }

    #[test]
    fn inside_a_struct_and_an_option() {
        #[derive(Deserialize)]
        struct Row {
            total: ExactDecimal,
            granted: Option<ExactDecimal>,
        }
        let row: Row = serde_json::from_str(r#"{"total": -0.00, "granted": null}"#).unwrap();
        assert_eq!(row.total.to_string(), "-0.00");
        assert!(row.total.get().is_sign_negative());
        assert_eq!(row.granted, None);
    }

    #[test]
    fn serializes_as_the_same_text() {
        let value: ExactDecimal = "-0.00".parse().unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), r#""-0.00""#);
        assert_eq!(format!("{value:?}"), "ExactDecimal(-0.00)");
    }

    #[test]
    fn parsing_drops_the_sign_of_negative_zero() {
        // One reason amounts are read from their text (`ExactDecimal`): if this starts
        // failing, rust_decimal has begun keeping the sign itself.
        let zero = dec("-0.00");
        assert!(!zero.is_sign_negative());
        assert_eq!(zero.to_string(), "0.00");
    }

    #[test]
    fn negative_zero_is_restored_from_the_text() {
        for (json, shown) in [
            (r#""-0.00""#, "-0.00"),
            (r#""0.00""#, "0.00"),
            ("-0", "-0"),
            (r#""-0.0""#, "-0.0"),
            (r#""-1.00""#, "-1.00"),
            ("-0.0e1", "-0"),
        ] {
            assert_eq!(from_json(json).as_deref(), Ok(shown), "{json}");
        }
        // And the sign survives serialization, as `Decimal` too.
        let zero: ExactDecimal = serde_json::from_str(r#""-0.00""#).unwrap();
        assert_eq!(serde_json::to_string(&zero.get()).unwrap(), r#""-0.00""#);
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
        // The reason amounts are read from their text (`ExactDecimal`): if this starts failing,
        // rust_decimal's serde support has become exact.
        let rounded: Decimal =
            serde_json::from_str("\"1.2345678901234567890123456789012\"").expect("parses");
        assert_eq!(rounded.to_string(), "1.2345678901234567890123456789");
    }

    #[test]
    fn floats_are_refused() {
        let error = ExactVisitor
            .visit_f64::<serde_json::Error>(1.5)
            .expect_err("a float");
        assert!(error.to_string().contains("arbitrary_precision"), "{error}");
    }
}
