//! Talking to a vendor from its description (`specs/<vendor>/vendor.toml`, compiled into
//! `balances_registry`): the request is the balance operation's method and path with the
//! named auth scheme; the body is parsed once, into a JSON value whose numbers keep their
//! text, and every amount is read from it exactly, by the pointers the description names.
//! No vendor's shape is written in Rust here; the auth schemes are (once each).

use balances_registry::{
    AmountSource, Auth, BalanceMapping, Denomination, ErrorKindName, KeyDenomination, Rows, Scale,
    VendorEntry,
};
use reqwest::header::{ACCEPT, HeaderValue};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{Failure, VendorMessage, means_authentication};
use crate::account::Account;
use crate::auth::auth_headers;
use crate::balance::{Amount, Balance, NativeAmount, UnitAmount, exact_value};
use crate::eiotclub::Signer;
use crate::error::{ConfigError, Error};

/// A vendor's compiled description.
#[derive(Clone, Copy)]
pub(crate) struct Described {
    entry: &'static VendorEntry,
}

/// The description of `account`'s vendor, from the registry `cargo xtask codegen` compiled.
pub(crate) fn described(account: &Account) -> Described {
    Described {
        entry: account.vendor().entry(),
    }
}

/// What a row's amounts are counted in.
enum Counted {
    Money(String),
    Unit(String),
}

impl Described {
    fn balance(&self) -> &'static BalanceMapping {
        &self.entry.description.balance
    }

    /// The request for one attempt: the balance operation's method and path on the
    /// account's base URL, with the description's auth. Built once per attempt, so a signed
    /// body (EIOTClub's scheme) is fresh on every retry.
    pub(crate) fn request(
        &self,
        http: &reqwest::Client,
        account: &Account,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let method = reqwest::Method::from_bytes(self.entry.method.as_bytes()).map_err(|_| {
            Error::InvalidRequest {
                account: account.name().to_owned(),
                vendor: account.vendor(),
                reason: format!("`{}` is not an HTTP method", self.entry.method),
            }
        })?;
        let url = format!("{}{}", account.effective_base_url(), self.entry.path);
        let request = http
            .request(method, url)
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Auth::EiotclubSignature = &self.entry.description.auth {
            let signer = Signer::for_account(account).ok_or_else(|| {
                Error::from(ConfigError::MissingCredential {
                    account: account.name().to_owned(),
                    field: "secret".into(),
                    env_field: "secret_env".into(),
                })
            })?;
            return Ok(request.json(&signer.signed_body()));
        }
        Ok(request.headers(auth_headers(account)?))
    }

    /// A 2xx body as a balance.
    pub(crate) fn decode(&self, account: &Account, body: &[u8]) -> Result<Balance, Failure> {
        let json: Value = serde_json::from_slice(body).map_err(Failure::Json)?;
        if !self.succeeded(&json) {
            let details = self.details(&json);
            return Err(Failure::Vendor {
                code: details.code.unwrap_or_default(),
                message: details.message,
            });
        }
        let mapping = self.balance();
        let available = match &mapping.available {
            Some(pointer) => Some(
                json.pointer(pointer)
                    .and_then(Value::as_bool)
                    .ok_or_else(|| Failure::Invalid(format!("`{pointer}` is not a boolean")))?,
            ),
            None => None,
        };
        let (mut amounts, mut units) = (Vec::new(), Vec::new());
        for row in rows(&json, &mapping.rows)? {
            let counted = self.counted(account, &row)?;
            let parts = self.parts(&row, &counted)?;
            match counted {
                Counted::Money(currency) => {
                    let mut amount = Amount::total(currency, parts.total);
                    amount.granted = parts.granted;
                    amount.topped_up = parts.topped_up;
                    amount.native = parts.native;
                    amounts.push(amount);
                }
                Counted::Unit(unit) => {
                    let mut amount = UnitAmount::total(unit, parts.total);
                    amount.granted = parts.granted;
                    amount.topped_up = parts.topped_up;
                    units.push(amount);
                }
            }
        }
        Balance::new(account.name(), account.vendor(), available, amounts)
            .and_then(|balance| balance.with_units(units))
            .map_err(|e| Failure::Invalid(e.to_string()))
    }

    /// Whether the body passes the description's success conditions (none: it does).
    fn succeeded(&self, json: &Value) -> bool {
        self.balance().success.iter().all(|condition| {
            json.pointer(&condition.pointer).is_some_and(|value| {
                condition
                    .equals
                    .iter()
                    .any(|expected| same(value, expected))
            })
        })
    }

    /// What `row` is counted in: a currency (upper-cased: `usd` is `USD`) or a unit.
    fn counted(&self, account: &Account, row: &Row<'_>) -> Result<Counted, Failure> {
        let at = &row.at;
        match &self.balance().denomination {
            Denomination::Currency(code) => Ok(Counted::Money(code.clone())),
            Denomination::CurrencyField(pointer) => row
                .value
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|c| !c.trim().is_empty())
                .map(|c| Counted::Money(c.to_ascii_uppercase()))
                .ok_or_else(|| Failure::Invalid(format!("{at} has no currency"))),
            Denomination::RegionCurrency => account
                .effective_region()
                .and_then(|name| account.vendor().region(name))
                .and_then(|region| region.currency.clone())
                .map(Counted::Money)
                .ok_or_else(|| Failure::Invalid("the account's region has no currency".into())),
            Denomination::Unit(unit) => Ok(Counted::Unit(unit.clone())),
            Denomination::ByKey(keys) => {
                let key = row.key.as_deref().unwrap_or_default();
                match keys.get(key) {
                    Some(KeyDenomination::Currency(code)) => Ok(Counted::Money(code.clone())),
                    Some(KeyDenomination::Unit(unit)) => Ok(Counted::Unit(unit.clone())),
                    Some(other) => Err(unsupported(other)),
                    None => Err(Failure::Invalid(format!(
                        "{at}: `{}` is not a currency or unit this vendor is known to report",
                        crate::escape_control(key)
                    ))),
                }
            }
            other => Err(unsupported(other)),
        }
    }

    /// A row's amounts, scaled exactly.
    fn parts(&self, row: &Row<'_>, counted: &Counted) -> Result<Parts, Failure> {
        let mapping = self.balance();
        let (at, value) = (&row.at, row.value);
        let native_total = read(value, at, &mapping.total)?.ok_or_else(|| {
            let what = match counted {
                Counted::Money(currency) | Counted::Unit(currency) => currency,
            };
            Failure::Invalid(format!(
                "{at} ({what}) has no {}",
                source_name(&mapping.total)
            ))
        })?;
        let optional = |source: &Option<AmountSource>| -> Result<Option<Decimal>, Failure> {
            match source {
                Some(source) => read(value, at, source)?
                    .map(|amount| scaled(amount, mapping.scale.as_ref()))
                    .transpose(),
                None => Ok(None),
            }
        };
        Ok(Parts {
            total: scaled(native_total, mapping.scale.as_ref())?,
            granted: optional(&mapping.granted)?,
            topped_up: optional(&mapping.topped_up)?,
            native: mapping
                .scale
                .as_ref()
                .and_then(|s| s.native_unit.as_ref())
                .map(|unit| NativeAmount::new(unit, native_total)),
        })
    }

    /// What a description maps an error status to, when it overrides the shared table
    /// (ZenMux answers 422 when it rate-limits).
    pub(crate) fn status_kind(&self, status: u16) -> Option<ErrorKindName> {
        self.entry.description.errors.status_override(status)
    }

    /// The vendor's code and message from an error body (or a failed envelope), when it has
    /// the documented shape.
    pub(crate) fn error_details(&self, body: &[u8]) -> Option<VendorMessage> {
        let json: Value = serde_json::from_slice(body).ok()?;
        // A body saying success is not an error body, whatever else is wrong with it.
        if !self.balance().success.is_empty() && self.succeeded(&json) {
            return None;
        }
        let errors = &self.entry.description.errors;
        let has_message = errors.message.iter().any(|p| json.pointer(p).is_some());
        let has_code = errors.code.iter().any(|p| json.pointer(p).is_some());
        (has_message || has_code).then(|| self.details(&json))
    }

    fn details(&self, json: &Value) -> VendorMessage {
        let errors = &self.entry.description.errors;
        let codes: Vec<String> = errors
            .code
            .iter()
            .filter_map(|pointer| json.pointer(pointer).and_then(code_text))
            .collect();
        let message = errors
            .message
            .iter()
            .find_map(|pointer| json.pointer(pointer).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        let kind = codes
            .iter()
            .find_map(|code| errors.codes.get(code).copied())
            .or_else(|| {
                codes
                    .iter()
                    .any(|code| means_authentication(code))
                    .then_some(ErrorKindName::Authentication)
            });
        VendorMessage {
            code: codes.into_iter().next(),
            message,
            kind,
        }
    }
}

/// One row of a body: where it is (for messages), its value and, in a map of rows, its key.
struct Row<'a> {
    at: String,
    value: &'a Value,
    key: Option<String>,
}

/// A row's amounts.
struct Parts {
    total: Decimal,
    granted: Option<Decimal>,
    topped_up: Option<Decimal>,
    native: Option<NativeAmount>,
}

fn unsupported(what: &impl std::fmt::Debug) -> Failure {
    Failure::Invalid(format!("{what:?} is not supported by this version"))
}

/// The rows of a body.
fn rows<'a>(json: &'a Value, rows: &Rows) -> Result<Vec<Row<'a>>, Failure> {
    let missing = |pointer: &str| Failure::Invalid(format!("the body has no `{}`", shown(pointer)));
    match rows {
        Rows::Object(pointer) => {
            let value = json.pointer(pointer).ok_or_else(|| missing(pointer))?;
            if value.is_null() {
                return Err(missing(pointer));
            }
            Ok(vec![Row {
                at: shown(pointer),
                value,
                key: None,
            }])
        }
        Rows::Array(pointer) => {
            let items = json
                .pointer(pointer)
                .and_then(Value::as_array)
                .ok_or_else(|| Failure::Invalid(format!("`{pointer}` is not an array")))?;
            Ok(items
                .iter()
                .enumerate()
                .map(|(i, value)| Row {
                    at: format!("{}[{i}]", shown(pointer)),
                    value,
                    key: None,
                })
                .collect())
        }
        // A `null` member is a balance the vendor does not report for this account.
        Rows::Map(pointer) => {
            let members = json
                .pointer(pointer)
                .and_then(Value::as_object)
                .ok_or_else(|| Failure::Invalid(format!("`{pointer}` is not an object")))?;
            Ok(members
                .iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| Row {
                    at: format!("{}.{}", shown(pointer), crate::escape_control(key)),
                    value,
                    key: Some(key.clone()),
                })
                .collect())
        }
        other => Err(unsupported(other)),
    }
}

/// What an amount source is called in messages: its field (`total_balance`).
fn source_name(source: &AmountSource) -> String {
    match source {
        AmountSource::At(pointer) => shown(pointer),
        _ => "total".to_owned(),
    }
}

/// `/balance_infos` as `balance_infos`, the body itself as `the body`.
fn shown(pointer: &str) -> String {
    match pointer.trim_start_matches('/') {
        "" => "the body".to_owned(),
        path => path.replace('/', "."),
    }
}

/// The amount a source names in `row`: `None` when it is absent (optional amounts).
fn read(row: &Value, at: &str, source: &AmountSource) -> Result<Option<Decimal>, Failure> {
    let exact = |pointer: &str| {
        exact_value(row.pointer(pointer), &format!("{at}{pointer}")).map_err(Failure::Invalid)
    };
    let present = |pointer: &&String| row.pointer(pointer).is_some_and(|v| !v.is_null());
    match source {
        AmountSource::At(pointer) => {
            if present(&pointer) {
                exact(pointer).map(Some)
            } else {
                Ok(None)
            }
        }
        // Alternative shapes of one body: those present must agree.
        AmountSource::FirstOf(pointers) => {
            let mut found: Option<(Decimal, &String)> = None;
            for pointer in pointers.iter().filter(present) {
                let amount = exact(pointer)?;
                match found {
                    Some((first, first_pointer)) if first != amount => {
                        return Err(Failure::Invalid(format!(
                            "`{}` and `{}` disagree",
                            shown(first_pointer),
                            shown(pointer)
                        )));
                    }
                    Some(_) => {}
                    None => found = Some((amount, pointer)),
                }
            }
            if found.is_none() {
                let names: Vec<String> =
                    pointers.iter().map(|p| format!("`{}`", shown(p))).collect();
                let listed = match names.as_slice() {
                    [one, other] => format!("neither {one} nor {other}"),
                    _ => format!("none of {}", names.join(", ")),
                };
                return Err(Failure::Invalid(format!("{listed} is present")));
            }
            Ok(found.map(|(amount, _)| amount))
        }
        AmountSource::Difference {
            minus: [from, less],
        } => {
            let (from, less) = (exact(from)?, exact(less)?);
            from.checked_sub(less)
                .map(Some)
                .ok_or_else(|| Failure::Invalid("the difference overflows".into()))
        }
        other => Err(unsupported(other)),
    }
}

/// `amount` divided by the scale's divisor, exactly: the divisor's only prime factors are 2
/// and 5 (codegen checks it), so `amount / d` is `amount * (10^n / d)` with `n` more
/// decimal places. The sign of a negative zero is kept. An amount that would need more
/// than 28 decimal places is an error, never a rounded number.
fn scaled(amount: Decimal, scale: Option<&Scale>) -> Result<Decimal, Failure> {
    let Some(scale) = scale else {
        return Ok(amount);
    };
    let not_exact = || {
        Failure::Invalid(format!(
            "{amount} cannot be divided by {} exactly",
            scale.divisor
        ))
    };
    let divisor: u128 = scale.divisor.parse().map_err(|_| not_exact())?;
    let mut power = 0_u32;
    let mut ten_to_power: u128 = 1;
    while !ten_to_power.is_multiple_of(divisor) {
        power += 1;
        ten_to_power = ten_to_power.checked_mul(10).ok_or_else(not_exact)?;
    }
    // Trailing zeros carry no value; dropping them leaves room for the extra places
    // (`normalize` also drops the sign of a zero, which is put back below).
    let base = if amount.scale() + power > Decimal::MAX_SCALE {
        amount.normalize()
    } else {
        amount
    };
    let factor = Decimal::from_i128_with_scale((ten_to_power / divisor) as i128, 0);
    let mut result = base.checked_mul(factor).ok_or_else(not_exact)?;
    let new_scale = base.scale() + power;
    if new_scale > Decimal::MAX_SCALE {
        return Err(not_exact());
    }
    result.set_scale(new_scale).map_err(|_| not_exact())?;
    result.set_sign_negative(amount.is_sign_negative());
    // Exact by construction; checked anyway, since a rounded amount is the one failure
    // this must never have.
    let back = Decimal::from_i128_with_scale(divisor as i128, 0);
    if result.checked_mul(back) != Some(amount) {
        return Err(not_exact());
    }
    Ok(result)
}

/// A code as text: a string as is, a number as written.
fn code_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Equal as JSON, numbers compared by their text (`200` and `200.0` differ, as written).
fn same(value: &Value, expected: &Value) -> bool {
    match (value, expected) {
        (Value::Number(a), Value::Number(b)) => a.to_string() == b.to_string(),
        _ => value == expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn scale(divisor: &str) -> Scale {
        serde_json::from_value(serde_json::json!({ "divisor": divisor })).unwrap()
    }

    #[test]
    fn scaling_is_exact_keeps_the_scale_and_the_sign_of_zero() {
        let coins = scale("100");
        for (native, scaled_text) in [
            ("100", "1.00"),
            ("1234", "12.34"),
            ("0", "0.00"),
            ("-250", "-2.50"),
            ("12345678901234567.89", "123456789012345.6789"),
            ("0.5", "0.005"),
        ] {
            let got = scaled(dec(native), Some(&coins))
                .map(|d| d.to_string())
                .ok();
            assert_eq!(got.as_deref(), Some(scaled_text), "{native}");
        }
        assert_eq!(
            scaled(dec("12345"), Some(&scale("10000")))
                .unwrap()
                .to_string(),
            "1.2345"
        );
        assert_eq!(
            scaled(dec("1"), Some(&scale("500000")))
                .unwrap()
                .to_string(),
            "0.000002"
        );
    }

    #[test]
    fn scaling_at_the_precision_limit() {
        // 27 decimal places: two more would need 29, more than a Decimal holds.
        assert!(scaled(dec("0.000000000000000000000000001"), Some(&scale("100"))).is_err());
        // Trailing zeros are dropped first, so these still convert, sign and all.
        let mut negative_zero = dec("0.0000000000000000000000000000");
        negative_zero.set_sign_negative(true);
        assert_eq!(
            scaled(negative_zero, Some(&scale("100")))
                .unwrap()
                .to_string(),
            "-0.00"
        );
        let padded = dec("1.0000000000000000000000000000");
        assert_eq!(
            scaled(padded, Some(&scale("100"))).unwrap().to_string(),
            "0.01"
        );
    }
}
