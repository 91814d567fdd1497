//! What a generated balance projection returns, and the helpers it calls.
//!
//! `cargo xtask codegen` compiles each vendor's `vendor.toml` into a `balance::project`
//! function over the vendor's generated response type: rows, the currency text of a row,
//! the total / granted / topped-up amounts (a field, the first present of several, or a
//! difference), the availability flag and the success envelope. rustc checks it against the
//! typed client: a money field that is not [`ExactDecimal`] does not compile. What the
//! amounts are counted in (a region's currency, a unit, a key's denomination), exact
//! scaling, errors and retries are the facade's, generic over every vendor.

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;

use crate::ExactDecimal;

/// A response as the vendor's description reads it: rows of exact amounts, not yet
/// normalized.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Projection {
    /// Whether the account can make calls, when the vendor says.
    pub available: Option<bool>,
    /// One row per balance the body reports.
    pub rows: Vec<Row>,
    /// For a report in pages: the cursor of the next page, when the body says one follows.
    pub next_page: Option<String>,
    /// For a spend report: the period it was asked for (`None` for a body decoded alone).
    pub period: Option<crate::pages::Period>,
}

impl Projection {
    /// A projection of these rows.
    pub fn new(available: Option<bool>, rows: Vec<Row>) -> Self {
        Self {
            available,
            rows,
            next_page: None,
            period: None,
        }
    }

    /// The same projection, followed by the page `next_page` names.
    #[must_use]
    pub fn with_next_page(mut self, next_page: Option<String>) -> Self {
        self.next_page = next_page;
        self
    }
}

/// One row of a body: one balance, in amounts as the vendor wrote them.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Row {
    /// Where the row is, for messages (`balance_infos[1]`, `data`, `balances.usd`, `the body`).
    pub at: String,
    /// In a map of rows, the member's key (it chooses the denomination).
    pub key: Option<String>,
    /// The row's currency field, when the description reads one.
    pub currency: Option<String>,
    /// The total (`None`: absent or null).
    pub total: Option<Decimal>,
    /// The granted part, when the description reads one and the row has it.
    pub granted: Option<Decimal>,
    /// The topped-up part, when the description reads one and the row has it.
    pub topped_up: Option<Decimal>,
    /// The row holds the description's sentinel for "no limit" (new-api's unlimited key),
    /// not an amount.
    pub unlimited: bool,
    /// An amount of a further operation to subtract from `total`, as that operation sent it
    /// (not yet divided): filled in by [`crate::further::subtract_from_totals`].
    pub subtracted: Option<Decimal>,
}

impl Row {
    /// A row found at `at`.
    pub fn at(at: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            ..Self::default()
        }
    }
}

/// Why a success response gave no projection.
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// The body is not JSON of the generated type (a truncated body is told apart by
    /// `is_eof`).
    Json(serde_json::Error),
    /// The success envelope says the call failed (a `code` other than success); the
    /// vendor's code and message are in the raw body.
    Envelope,
    /// The documented shape, with contents that cannot be read as a balance.
    Invalid(String),
    /// A report in pages still had more after `limit` pages: the description's bound.
    TooManyPages {
        /// The most pages one reading fetches.
        limit: u32,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Json(error) => write!(f, "{error}"),
            Failure::Envelope => f.write_str("the response's envelope reports a failure"),
            Failure::Invalid(why) => f.write_str(why),
            Failure::TooManyPages { limit } => write!(
                f,
                "the report still had more pages after {limit}, the most one reading fetches"
            ),
        }
    }
}

/// Deserializes `body` into the generated type `T` and projects it: what a generated
/// `balance::decode` is.
pub fn decode<T: DeserializeOwned>(
    body: &[u8],
    project: impl FnOnce(&T) -> Result<Projection, Failure>,
) -> Result<Projection, Failure> {
    let typed: T = serde_json::from_slice(body).map_err(Failure::Json)?;
    project(&typed)
}

/// An amount field's value. Implemented for [`ExactDecimal`] alone, so a description that
/// points an amount at a `String`, `f64` or `i64` field does not compile.
pub fn exact(value: &ExactDecimal) -> Decimal {
    value.get()
}

/// The first present of alternative fields of one body (GeekAI sends `{"balance": n}` or
/// `{"data": {"balance": n}}`); those present must agree. `candidates` are
/// `(field as shown in messages, value)`.
pub fn first_of(candidates: &[(&str, Option<Decimal>)]) -> Result<Option<Decimal>, Failure> {
    let mut found: Option<(Decimal, &str)> = None;
    for &(name, value) in candidates {
        let Some(amount) = value else { continue };
        match found {
            Some((first, first_name)) if first != amount => {
                return Err(Failure::Invalid(format!(
                    "`{first_name}` and `{name}` disagree"
                )));
            }
            Some(_) => {}
            None => found = Some((amount, name)),
        }
    }
    if found.is_none() {
        let names: Vec<String> = candidates
            .iter()
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        let listed = match names.as_slice() {
            [one, other] => format!("neither {one} nor {other}"),
            _ => format!("none of {}", names.join(", ")),
        };
        return Err(Failure::Invalid(format!("{listed} is present")));
    }
    Ok(found.map(|(amount, _)| amount))
}

/// `from − less` (OpenRouter: credits purchased minus credits used); both must be present.
/// `from` and `less` are `(field as shown in messages, value)`; `at` is the row.
pub fn difference(
    at: &str,
    from: (&str, Option<Decimal>),
    less: (&str, Option<Decimal>),
) -> Result<Option<Decimal>, Failure> {
    let (from, less) = (required(at, from)?, required(at, less)?);
    from.checked_sub(less)
        .map(Some)
        .ok_or_else(|| Failure::Invalid("the difference overflows".into()))
}

/// The amount `value` of the row at `at`, which must be present (`name` for the message).
pub fn present(at: &str, amount: (&str, Option<Decimal>)) -> Result<Option<Decimal>, Failure> {
    required(at, amount).map(Some)
}

fn required(at: &str, (name, value): (&str, Option<Decimal>)) -> Result<Decimal, Failure> {
    value.ok_or_else(|| Failure::Invalid(format!("{at} has no `{name}`")))
}

/// Whether `value` is the sentinel `equals` (a decimal literal the description wrote and
/// codegen checked), compared as numbers: `1e8`, `100000000` and `100000000.0` are the same.
pub fn is_sentinel(value: Option<Decimal>, equals: &str) -> bool {
    use std::str::FromStr;
    match (value, Decimal::from_str(equals)) {
        (Some(value), Ok(sentinel)) => value == sentinel,
        _ => false,
    }
}

/// The sum of amounts of one row (DeepInfra: `stripe_balance + recent`); each must be
/// present. `terms` are `(field as shown in messages, value)`; `at` is the row.
pub fn sum(at: &str, terms: &[(&str, Option<Decimal>)]) -> Result<Option<Decimal>, Failure> {
    let mut total = Decimal::ZERO;
    for &term in terms {
        let value = required(at, term)?;
        total = total
            .checked_add(value)
            .ok_or_else(|| Failure::Invalid("the sum overflows".into()))?;
    }
    Ok(Some(total))
}

/// An amount with its sign inverted (xAI reports 23.17 USD left as `"-2317"` cents). Zero
/// stays zero with its scale, never `-0`; an absent amount stays absent.
pub fn negate(amount: Option<Decimal>) -> Option<Decimal> {
    amount.map(|value| if value.is_zero() { value.abs() } else { -value })
}

/// A value a success condition accepts, as written in `vendor.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Literal {
    /// A JSON string.
    Text(&'static str),
    /// A JSON integer, compared by its text (`200` is not `200.0`).
    Integer(i64),
    /// A JSON boolean.
    Bool(bool),
}

/// A field type a success condition can compare with a [`Literal`].
pub trait Comparable {
    /// Whether the value equals `literal` as JSON.
    fn equals(&self, literal: &Literal) -> bool;
}

impl Comparable for String {
    fn equals(&self, literal: &Literal) -> bool {
        matches!(literal, Literal::Text(text) if self == text)
    }
}

impl Comparable for bool {
    fn equals(&self, literal: &Literal) -> bool {
        matches!(literal, Literal::Bool(flag) if self == flag)
    }
}

macro_rules! comparable_integers {
    ($($integer:ty),*) => {$(
        impl Comparable for $integer {
            fn equals(&self, literal: &Literal) -> bool {
                matches!(literal, Literal::Integer(n) if i128::from(*self) == i128::from(*n))
            }
        }
    )*};
}
comparable_integers!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Comparable for serde_json::Value {
    fn equals(&self, literal: &Literal) -> bool {
        match (self, literal) {
            (serde_json::Value::String(text), Literal::Text(expected)) => text == expected,
            // With `arbitrary_precision` a number keeps its text.
            (serde_json::Value::Number(number), Literal::Integer(expected)) => {
                number.to_string() == expected.to_string()
            }
            (serde_json::Value::Bool(flag), Literal::Bool(expected)) => flag == expected,
            _ => false,
        }
    }
}

/// Whether `value` (absent: no) equals one of `any_of`: one condition of a success envelope.
pub fn holds<T: Comparable + ?Sized>(value: Option<&T>, any_of: &[Literal]) -> bool {
    value.is_some_and(|value| any_of.iter().any(|literal| value.equals(literal)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(text: &str) -> Option<Decimal> {
        Some(Decimal::from_str(text).unwrap())
    }

    #[test]
    fn first_of_takes_the_present_one_and_refuses_disagreement() {
        assert_eq!(first_of(&[("a", None), ("b", dec("2"))]).unwrap(), dec("2"));
        assert_eq!(
            first_of(&[("a", dec("2.0")), ("b", dec("2"))]).unwrap(),
            dec("2.0")
        );
        let error = first_of(&[("a", dec("1")), ("b", dec("2"))]).unwrap_err();
        assert_eq!(error.to_string(), "`a` and `b` disagree");
        let error = first_of(&[("a", None), ("b", None)]).unwrap_err();
        assert_eq!(error.to_string(), "neither `a` nor `b` is present");
    }

    #[test]
    fn difference_needs_both_and_is_exact() {
        assert_eq!(
            difference("data", ("c", dec("100.5")), ("u", dec("25.75"))).unwrap(),
            dec("74.75")
        );
        let error = difference("data", ("c", dec("1")), ("u", None)).unwrap_err();
        assert_eq!(error.to_string(), "data has no `u`");
    }

    #[test]
    fn a_sentinel_compares_as_a_number_and_present_names_what_is_missing() {
        assert!(is_sentinel(dec("100000000"), "100000000"));
        assert!(is_sentinel(dec("100000000.00"), "100000000"));
        assert!(!is_sentinel(dec("99999999.99"), "100000000"));
        assert!(!is_sentinel(None, "100000000"));
        assert_eq!(present("the body", ("a", dec("1"))).unwrap(), dec("1"));
        let error = present("the body", ("hard_limit_usd", None)).unwrap_err();
        assert_eq!(error.to_string(), "the body has no `hard_limit_usd`");
    }

    #[test]
    fn sums_need_every_term_and_are_exact() {
        assert_eq!(
            sum("the body", &[("a", dec("-10.5")), ("b", dec("0.25"))]).unwrap(),
            dec("-10.25")
        );
        assert_eq!(
            sum(
                "the body",
                &[("a", dec("0.1")), ("b", dec("0.2")), ("c", dec("0.3"))]
            )
            .unwrap(),
            dec("0.6")
        );
        let error = sum("the body", &[("a", dec("1")), ("recent", None)]).unwrap_err();
        assert_eq!(error.to_string(), "the body has no `recent`");
        let max = Some(Decimal::MAX);
        assert!(sum("r", &[("a", max), ("b", max)]).is_err());
    }

    #[test]
    fn negation_inverts_the_sign_and_keeps_zero_positive() {
        assert_eq!(negate(dec("-2317")), dec("2317"));
        assert_eq!(negate(dec("12.50")), dec("-12.50"));
        let zero = negate(dec("-0.00")).unwrap();
        assert!(zero.is_zero() && zero.is_sign_positive());
        assert_eq!(zero.to_string(), "0.00");
        assert_eq!(negate(dec("0")).unwrap().to_string(), "0");
        assert_eq!(negate(None), None);
    }

    #[test]
    fn conditions_compare_as_json() {
        let code = [Literal::Text("200"), Literal::Integer(200)];
        assert!(holds(Some(&serde_json::json!("200")), &code));
        assert!(holds(Some(&serde_json::json!(200)), &code));
        assert!(!holds(Some(&serde_json::json!(500)), &code));
        assert!(!holds(Some(&serde_json::json!(true)), &code));
        assert!(!holds::<serde_json::Value>(None, &code));
        assert!(holds(Some(&0_i64), &[Literal::Integer(0)]));
        assert!(!holds(Some(&0_i64), &[Literal::Text("0")]));
        assert!(holds(Some(&true), &[Literal::Bool(true)]));
        assert!(holds(Some(&"ok".to_owned()), &[Literal::Text("ok")]));
    }

    #[test]
    fn decode_reports_truncation_as_eof() {
        let failure =
            decode::<ExactDecimal>(b"\"1.5", |_| Ok(Projection::default())).expect_err("truncated");
        assert!(matches!(failure, Failure::Json(e) if e.is_eof()));
    }
}
