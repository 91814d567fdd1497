//! Talking to a vendor from its description (`specs/<vendor>/vendor.toml`, compiled into
//! `balances_registry`): the request is the balance operation's method and path with the
//! named auth scheme; the body is parsed once, into a JSON value whose numbers keep their
//! text, and every amount is read from it exactly, by the pointers the description names.
//! No vendor's shape is written in Rust here; the auth schemes are (once each).

use balances_registry::{
    AmountSource, Auth, BalanceMapping, Denomination, ErrorKindName, Rows, Scale, VendorEntry,
};
use reqwest::header::{ACCEPT, HeaderValue};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{Failure, VendorMessage, means_authentication};
use crate::account::{Account, Credentials, Vendor};
use crate::auth::bearer_headers;
use crate::balance::{Amount, Balance, NativeAmount, exact_value};
use crate::eiotclub::Signer;
use crate::error::Error;

/// A vendor's compiled description.
#[derive(Clone, Copy)]
pub(crate) struct Described {
    entry: &'static VendorEntry,
}

/// Every vendor's id, as a list for messages: `deepseek, eiotclub or geekai`.
pub(crate) fn vendor_list() -> String {
    let ids: Vec<&str> = balances_registry::vendors()
        .iter()
        .map(|entry| entry.id.as_str())
        .collect();
    match ids.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "none".to_owned(),
    }
}

/// Each vendor's id and the environment variables of its credentials, from its description
/// (`DEEPSEEK_API_KEY`; `EIOTCLUB_APPKEY` and `EIOTCLUB_SECRET`).
pub(crate) fn credential_variables() -> Vec<(&'static str, Vec<String>)> {
    balances_registry::vendors()
        .iter()
        .map(|entry| {
            let variables = entry
                .description
                .auth
                .credential_fields()
                .iter()
                .map(|field| format!("{}_{}", entry.env_prefix, field.to_ascii_uppercase()))
                .collect();
            (entry.id.as_str(), variables)
        })
        .collect()
}

/// The description of `vendor`, from the registry `cargo xtask codegen` compiled.
pub(crate) fn described(vendor: Vendor) -> Option<Described> {
    balances_registry::find(vendor.as_str()).map(|entry| Described { entry })
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
        let wrong_credentials = || Error::from(super::wrong_vendor(account, account.vendor()));
        match (&self.entry.description.auth, account.credentials()) {
            (Auth::Bearer, Credentials::ApiKey(key)) => {
                Ok(request.headers(bearer_headers(account, key)?))
            }
            (Auth::EiotclubSignature, Credentials::AppKey { appkey, secret }) => {
                let signer = Signer::new(appkey.clone(), secret.clone());
                Ok(request.json(&signer.balance_body()))
            }
            (Auth::Bearer | Auth::EiotclubSignature, _) => Err(wrong_credentials()),
            (other, _) => Err(Error::InvalidRequest {
                account: account.name().to_owned(),
                vendor: account.vendor(),
                reason: format!("the auth scheme {other:?} is not supported by this version"),
            }),
        }
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
        let mut amounts = Vec::new();
        for (row_pointer, row) in rows(&json, &mapping.rows)? {
            amounts.push(self.amount(&row_pointer, row)?);
        }
        Balance::new(account.name(), account.vendor(), available, amounts)
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

    fn amount(&self, at: &str, row: &Value) -> Result<Amount, Failure> {
        let mapping = self.balance();
        let currency = match &mapping.denomination {
            Denomination::Currency(code) => code.clone(),
            Denomination::CurrencyField(pointer) => row
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|c| !c.trim().is_empty())
                .map(str::to_owned)
                .ok_or_else(|| Failure::Invalid(format!("{at} has no currency")))?,
            other => {
                return Err(Failure::Invalid(format!(
                    "the denomination {other:?} is not supported by this version"
                )));
            }
        };
        let native_total = read(row, at, &mapping.total)?.ok_or_else(|| {
            Failure::Invalid(format!(
                "{at} ({currency}) has no {}",
                source_name(&mapping.total)
            ))
        })?;
        let optional = |source: &Option<AmountSource>| -> Result<Option<Decimal>, Failure> {
            match source {
                Some(source) => read(row, at, source)?
                    .map(|amount| scaled(amount, mapping.scale.as_ref()))
                    .transpose(),
                None => Ok(None),
            }
        };
        let mut amount = Amount::total(currency, scaled(native_total, mapping.scale.as_ref())?);
        amount.granted = optional(&mapping.granted)?;
        amount.topped_up = optional(&mapping.topped_up)?;
        if let Some(unit) = mapping.scale.as_ref().and_then(|s| s.native_unit.as_ref()) {
            amount.native = Some(NativeAmount::new(unit, native_total));
        }
        Ok(amount)
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
        let authentication = codes.iter().any(|code| {
            errors.codes.get(code) == Some(&ErrorKindName::Authentication)
                || means_authentication(code)
        });
        VendorMessage {
            code: codes.into_iter().next(),
            message,
            authentication,
        }
    }
}

/// The rows of a body, each with the pointer it came from (for messages).
fn rows<'a>(json: &'a Value, rows: &Rows) -> Result<Vec<(String, &'a Value)>, Failure> {
    let missing = |pointer: &str| Failure::Invalid(format!("the body has no `{}`", shown(pointer)));
    match rows {
        Rows::Object(pointer) => {
            let row = json.pointer(pointer).ok_or_else(|| missing(pointer))?;
            if row.is_null() {
                return Err(missing(pointer));
            }
            Ok(vec![(shown(pointer), row)])
        }
        Rows::Array(pointer) => {
            let items = json
                .pointer(pointer)
                .and_then(Value::as_array)
                .ok_or_else(|| Failure::Invalid(format!("`{pointer}` is not an array")))?;
            Ok(items
                .iter()
                .enumerate()
                .map(|(i, row)| (format!("{}[{i}]", shown(pointer)), row))
                .collect())
        }
        other => Err(Failure::Invalid(format!(
            "rows {other:?} are not supported by this version"
        ))),
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
        other => Err(Failure::Invalid(format!(
            "the amount source {other:?} is not supported by this version"
        ))),
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
