//! Hostile input, as properties: amounts in every notation a vendor may send, arbitrary and
//! near-valid bodies under any status, the EIOTClub signature against an independent
//! implementation, and an output order that does not depend on the vendor's.
//!
//! Every decoder is reached through the public `balances::decode`, the same path
//! `BalanceClient::fetch` takes. Case counts are bounded so the file runs in a few seconds.

use balances::{
    Account, Balance, Decimal, Error, ErrorKind, SecretString, Vendor, decode, decode_response,
};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

#[path = "support/accounts.rs"]
mod accounts;

use accounts::vendor;

// ---------------------------------------------------------------------------------------
// (a) Amounts: exactly what a decimal parser reads from the text, or a typed error.
// ---------------------------------------------------------------------------------------

/// An amount as written: sign, integer digits, optional fraction, optional exponent.
#[derive(Clone, Debug)]
struct Written {
    sign: &'static str,
    int: String,
    frac: Option<String>,
    /// Marker (`e` or `E`), the exponent's written sign, and its value.
    exp: Option<(char, &'static str, u32)>,
}

impl Written {
    fn text(&self) -> String {
        let mut out = format!("{}{}", self.sign, self.int);
        if let Some(frac) = &self.frac {
            out.push('.');
            out.push_str(frac);
        }
        if let Some((marker, sign, value)) = self.exp {
            out.push(marker);
            out.push_str(sign);
            out.push_str(&value.to_string());
        }
        out
    }

    fn exponent(&self) -> i64 {
        match self.exp {
            Some((_, "-", value)) => -i64::from(value),
            Some((_, _, value)) => i64::from(value),
            None => 0,
        }
    }

    /// The amount in plain notation, without sign: the exponent applied by moving the
    /// point (a negative exponent adds decimal places, a positive one removes them and then
    /// appends zeros to the integer).
    fn plain(&self) -> String {
        let digits = format!("{}{}", self.int, self.frac.as_deref().unwrap_or(""));
        plain_text(&digits, self.int.len() as i64 + self.exponent())
    }
}

/// The oracle: move the decimal point by hand into plain notation, then let
/// `Decimal::from_str_exact` read it. `None` where no `Decimal` holds the value exactly.
/// A minus sign is kept on zero (`-0.00`), as the facade promises to show what was sent.
fn oracle(written: &Written) -> Option<Decimal> {
    signed(Decimal::from_str_exact(&written.plain()).ok()?, written)
}

/// GeekAI's CNY for `coins`: the coins as read (plain notation), with the point moved two
/// more places left. Only when that scale does not fit are the trailing zeros of the coins'
/// fraction dropped first (they carry no value).
fn oracle_cny(coins: &Written) -> Option<Decimal> {
    let hundredth = |plain: &str| {
        let (int, frac) = plain.split_once('.').unwrap_or((plain, ""));
        Decimal::from_str_exact(&plain_text(&format!("{int}{frac}"), int.len() as i64 - 2)).ok()
    };
    let plain = coins.plain();
    let value = hundredth(&plain).or_else(|| {
        let trimmed = if plain.contains('.') {
            plain.trim_end_matches('0').trim_end_matches('.')
        } else {
            &plain
        };
        hundredth(trimmed)
    })?;
    signed(value, coins)
}

fn signed(mut value: Decimal, written: &Written) -> Option<Decimal> {
    if written.sign == "-" {
        value.set_sign_negative(true);
    }
    Some(value)
}

/// `digits` with the decimal point after `point` of them (which may be before the first
/// or after the last).
fn plain_text(digits: &str, point: i64) -> String {
    let len = digits.len() as i64;
    if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point >= len {
        format!("{digits}{}", "0".repeat((point - len) as usize))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    }
}

/// Equal value, scale and sign (`Decimal`'s `==` ignores the last two).
fn same(actual: Decimal, expected: Decimal) -> bool {
    actual == expected
        && actual.scale() == expected.scale()
        && actual.is_sign_negative() == expected.is_sign_negative()
        && actual.to_string() == expected.to_string()
}

fn exponent() -> impl Strategy<Value = Option<(char, &'static str, u32)>> {
    prop::option::weighted(
        0.3,
        (
            prop::sample::select(vec!['e', 'E']),
            prop::sample::select(vec!["", "+", "-"]),
            0u32..40,
        ),
    )
}

/// Amounts as decimal strings: any sign, leading zeros, up to 34 digits on either side of
/// the point (so past 28 decimal places and past 96 bits), exponents.
fn string_amount() -> impl Strategy<Value = Written> {
    (
        prop::sample::select(vec!["", "", "-", "+"]),
        "[0-9]{0,34}",
        prop::option::weighted(0.7, "[0-9]{0,34}"),
        exponent(),
    )
        .prop_map(|(sign, int, frac, exp)| Written {
            sign,
            int,
            frac,
            exp,
        })
        .prop_filter("at least one digit", |w| {
            !w.int.is_empty() || w.frac.as_deref().is_some_and(|f| !f.is_empty())
        })
}

/// Amounts as JSON numbers (JSON's grammar: no `+`, no leading zeros, digits after `.`),
/// up to 40 significant digits, with exponents.
fn json_number() -> impl Strategy<Value = Written> {
    (
        prop::sample::select(vec!["", "-"]),
        prop_oneof![Just("0".to_owned()), "[1-9][0-9]{0,34}"],
        prop::option::weighted(0.6, "[0-9]{1,34}"),
        exponent(),
    )
        .prop_map(|(sign, int, frac, exp)| Written {
            sign,
            int,
            frac,
            exp,
        })
}

/// What a decode gave for amounts, checked against the oracle: the exact values, or
/// `Undecodable` where the oracle has none for one of them. `written` are the texts: where
/// all have exponents within ±28 and the oracle has every value, the amounts must be
/// accepted. (Beyond that, `rust_decimal`'s parser in the generated types refuses even
/// values that fit, such as `0e29`; a refusal is safe, a rounded value is not.)
fn check_amount(
    result: &Result<Balance, Error>,
    written: &[&Written],
    expected: &[Option<Decimal>],
    actual: impl Fn(&Balance) -> Vec<Option<Decimal>>,
) -> Result<(), TestCaseError> {
    let must_accept = expected.iter().all(Option::is_some)
        && written
            .iter()
            .all(|w| w.exp.is_none_or(|(_, _, value)| value <= 28));
    match result {
        Ok(balance) => {
            let actual = actual(balance);
            prop_assert_eq!(actual.len(), expected.len());
            for (actual, expected) in actual.iter().zip(expected) {
                match (actual, expected) {
                    (Some(a), Some(e)) => {
                        prop_assert!(same(*a, *e), "decoded {a}, the text says {e}");
                    }
                    (a, e) => prop_assert!(false, "decoded {a:?}, the text says {e:?}"),
                }
            }
        }
        Err(error) => {
            prop_assert_eq!(error.kind(), ErrorKind::Undecodable, "{}", error);
            prop_assert!(!must_accept, "exact amounts {expected:?} refused: {error}");
        }
    }
    Ok(())
}

fn total(balance: &Balance) -> Option<Decimal> {
    balance.amounts().first().map(|a| a.total)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn deepseek_amounts_are_exact_or_refused(
        total_text in string_amount(),
        granted in string_amount(),
        topped_up in string_amount(),
    ) {
        let body = json!({
            "is_available": true,
            "balance_infos": [{
                "currency": "CNY",
                "total_balance": total_text.text(),
                "granted_balance": granted.text(),
                "topped_up_balance": topped_up.text(),
            }],
        });
        let result = decode(vendor("deepseek"), "a", 200, body.to_string().as_bytes());
        let expected = [oracle(&total_text), oracle(&granted), oracle(&topped_up)];
        check_amount(&result, &[&total_text, &granted, &topped_up], &expected, |b| {
            let a = &b.amounts()[0];
            vec![Some(a.total), a.granted, a.topped_up]
        })?;
    }

    #[test]
    fn eiotclub_amounts_are_exact_or_refused(amount in string_amount()) {
        let body = json!({
            "code": "200",
            "message": "ok",
            "data": {"balance": amount.text(), "currency": "USD"},
        });
        let result = decode(vendor("eiotclub"), "a", 200, body.to_string().as_bytes());
        check_amount(&result, &[&amount], &[oracle(&amount)], |b| vec![total(b)])?;
    }

    #[test]
    fn geekai_coins_and_cny_are_exact_or_refused(
        coins in json_number(),
        wrapped in any::<bool>(),
        as_string in prop::bool::weighted(0.2),
    ) {
        let value = if as_string {
            format!("{:?}", coins.text())
        } else {
            coins.text()
        };
        let body = if wrapped {
            format!(r#"{{"data":{{"balance":{value}}}}}"#)
        } else {
            format!(r#"{{"balance":{value}}}"#)
        };
        let result = decode(vendor("geekai"), "a", 200, body.as_bytes());
        // Both the coins as sent and CNY = coins / 100 must be exact.
        check_amount(&result, &[&coins], &[oracle(&coins), oracle_cny(&coins)], |b| {
            let a = &b.amounts()[0];
            vec![a.native.as_ref().map(|n| n.amount), Some(a.total)]
        })?;
        if let Ok(balance) = &result {
            prop_assert_eq!(&balance.amounts()[0].currency, "CNY");
        }
    }
}

/// The oracle itself, on hand-checked cases (so a wrong oracle cannot pass silently).
#[test]
fn oracle_examples() {
    let w = |sign, int: &str, frac: Option<&str>, exp| Written {
        sign,
        int: int.into(),
        frac: frac.map(Into::into),
        exp,
    };
    let show = |d: Option<Decimal>| d.map(|d| d.to_string());
    let (zeros_29, ones_30, nines_30) = ("0".repeat(29), "1".repeat(30), "9".repeat(30));
    let cases = [
        (w("", "1", None, Some(('e', "", 3))), Some("1000")),
        (w("", "1", Some("5"), Some(('E', "-", 2))), Some("0.015")),
        (w("", "1", Some("50"), Some(('e', "+", 1))), Some("15.0")),
        (w("-", "0", Some("00"), None), Some("-0.00")),
        (w("+", "007", Some("50"), None), Some("7.50")),
        (w("", "0", Some(&zeros_29), None), None),
        (w("", "1", Some(&ones_30), None), None),
        (w("", &nines_30, None, None), None),
        (w("", "0", None, Some(('e', "", 39))), Some("0")),
    ];
    for (written, expected) in cases {
        assert_eq!(
            show(oracle(&written)).as_deref(),
            expected,
            "{}",
            written.text()
        );
    }
    let (zeros_28, tiny) = ("0".repeat(28), format!("{}1", "0".repeat(26)));
    let coins = w("", "1", Some(&zeros_28), None);
    assert_eq!(show(oracle_cny(&coins)).as_deref(), Some("0.01"));
    let coins = w("", "1", Some(&tiny), None);
    assert_eq!(show(oracle_cny(&coins)), None);
}

/// Amounts that `rust_decimal`'s serde support (used by the generated types) would round.
/// Before the facade re-read amounts from their text, each of these gave a balance with a
/// value the vendor never sent.
#[test]
fn over_precise_amounts_are_refused_not_rounded() {
    let cases = [
        (
            vendor("deepseek"),
            r#"{"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"1.00000000000000000000000000001"}]}"#,
        ),
        (
            vendor("eiotclub"),
            r#"{"code":"200","message":"","data":{"balance":"0.00000000000000000000000000009","currency":"USD"}}"#,
        ),
        (
            vendor("geekai"),
            r#"{"balance":12345678901234567890123456789.1}"#,
        ),
        (
            vendor("geekai"),
            r#"{"balance":0.0000000000000000000000000001}"#,
        ),
        (vendor("geekai"), r#"{"balance":1.5e-28}"#),
    ];
    for (vendor, body) in cases {
        let error = decode(vendor, "a", 200, body.as_bytes()).expect_err(body);
        assert_eq!(error.kind(), ErrorKind::Undecodable, "{body}: {error}");
    }
}

// ---------------------------------------------------------------------------------------
// (b) Any body, any status: a value or a typed error, never a panic.
// ---------------------------------------------------------------------------------------

const KEY: &str = "key-canary-0123";
const SECRET: &str = "secret-canary-4567";

/// An account of any vendor: `secret` fields hold [`SECRET`], every other field [`KEY`].
fn account_for(vendor: Vendor) -> Account {
    let credentials = vendor.credential_fields().iter().map(|field| {
        let value = if *field == "secret" { SECRET } else { KEY };
        (*field, balances::SecretString::from(value))
    });
    Account::from_credentials("a", vendor, credentials).expect("the scheme's fields")
}

/// What holds for every decode result, whatever the input.
fn check_result(
    vendor: Vendor,
    status: u16,
    body: &[u8],
    result: &Result<Balance, Error>,
    redacted: bool,
) -> Result<(), TestCaseError> {
    match result {
        Ok(balance) => {
            prop_assert!((200..300).contains(&status), "a balance from HTTP {status}");
            prop_assert!(
                serde_json::from_slice::<Value>(body).is_ok(),
                "a balance from non-JSON"
            );
            prop_assert_eq!(balance.vendor(), vendor);
            prop_assert!(
                balance
                    .amounts()
                    .windows(2)
                    .all(|w| w[0].currency < w[1].currency),
                "not sorted by currency, or a currency twice: {balance:?}"
            );
            // Only rows of an array (or map) can be empty; an object row always gives one,
            // an amount or an unlimited currency.
            let rows = balances::balances_registry::find(vendor.as_str())
                .map(|entry| &entry.description.balance.rows);
            prop_assert!(
                !(balance.amounts().is_empty()
                    && balance.units().is_empty()
                    && balance.unlimited().is_empty()
                    && matches!(rows, Some(balances::balances_registry::Rows::Object(_))))
            );
            for amount in balance.amounts() {
                // Every amount prints as text that reads back to the same value and scale.
                let text = amount.total.to_string();
                let back = Decimal::from_str_exact(&text)
                    .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
                prop_assert!(back == amount.total && back.scale() == amount.total.scale());
            }
            let json =
                serde_json::to_string(balance).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back: Balance =
                serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, balance);
        }
        Err(error) => {
            let text = format!("{error} {error:?}");
            if redacted {
                prop_assert!(!text.contains(KEY) && !text.contains(SECRET), "{}", text);
            }
            // The status decides the kind (the vendor's own overrides first, then what its
            // description says the body's error code means); the body otherwise only adds
            // detail, or in a 2xx says what the vendor's error code means.
            let kind = error.kind();
            let entry = balances::balances_registry::find(vendor.as_str());
            let overridden = entry.is_some_and(|entry| {
                entry
                    .description
                    .errors
                    .status
                    .contains_key(&status.to_string())
            });
            if overridden {
                return Ok(());
            }
            let mapped = entry.and_then(|entry| {
                let json: Value = serde_json::from_slice(body).ok()?;
                let errors = &entry.description.errors;
                let by_code = errors.code.iter().find_map(|pointer| {
                    let code = match json.pointer(pointer)? {
                        Value::String(text) => text.clone(),
                        Value::Number(number) => number.to_string(),
                        _ => return None,
                    };
                    errors.codes.get(&code).copied()
                });
                // Then what text in the vendor's message means (new-api's used-up key).
                let by_message = || {
                    let message = errors
                        .message
                        .iter()
                        .find_map(|pointer| json.pointer(pointer)?.as_str())?;
                    errors
                        .messages
                        .iter()
                        .find(|(text, _)| message.contains(text.as_str()))
                        .map(|(_, kind)| *kind)
                };
                by_code.or_else(by_message)
            });
            if let Some(mapped) = mapped
                && (200..600).contains(&status)
            {
                prop_assert_eq!(kind.as_str(), mapped.as_str(), "HTTP {}", status);
                return Ok(());
            }
            match status {
                401 | 403 => prop_assert_eq!(kind, ErrorKind::Authentication),
                402 => prop_assert_eq!(kind, ErrorKind::InsufficientBalance),
                410 => prop_assert_eq!(kind, ErrorKind::EndpointRetired),
                429 => prop_assert_eq!(kind, ErrorKind::RateLimited),
                408 | 500..=599 => prop_assert_eq!(kind, ErrorKind::Transient),
                0..=99 | 1000.. => prop_assert_eq!(kind, ErrorKind::Undecodable),
                200..=299 => prop_assert!(matches!(
                    kind,
                    ErrorKind::Undecodable
                        | ErrorKind::Transient
                        | ErrorKind::Vendor
                        | ErrorKind::Authentication
                        | ErrorKind::RateLimited
                        | ErrorKind::InsufficientBalance
                        | ErrorKind::ClockSkew
                )),
                // Another status: the vendor's error body may say what it means.
                _ => prop_assert!(matches!(
                    kind,
                    ErrorKind::Undecodable
                        | ErrorKind::Vendor
                        | ErrorKind::Authentication
                        | ErrorKind::RateLimited
                        | ErrorKind::InsufficientBalance
                        | ErrorKind::Transient
                        | ErrorKind::ClockSkew
                )),
            }
        }
    }
    Ok(())
}

fn any_vendor() -> impl Strategy<Value = Vendor> {
    prop::sample::select(Vendor::all().collect::<Vec<_>>())
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => Just(200u16),
        2 => prop::sample::select(vec![201u16, 204, 400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504]),
        1 => 100u16..1000,
        1 => any::<u16>(),
    ]
}

/// A value where an amount, a currency, a code or a message belongs: the right type with
/// random content, or the wrong type.
fn field() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => string_amount().prop_map(|w| Value::String(w.text())),
        2 => json_number().prop_map(|w| serde_json::from_str(&w.text()).expect("a JSON number")),
        1 => ".{0,12}".prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(json!([])),
        1 => Just(json!({})),
        1 => Just(json!(["1.00"])),
    ]
}

fn currency() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec!["CNY", "USD", "EUR", "cny", "", " "]).prop_map(Value::from),
        1 => "\\PC{0,4}".prop_map(Value::String),
        1 => field(),
    ]
}

/// Near-valid bodies: the vendor's documented example bodies (its folder's examples,
/// balances and errors alike), each leaf kept or replaced by any amount text, number or
/// wrong type, members dropped: fields missing, amounts in any notation, currencies blank,
/// wrong types. Written once for every vendor folder.
fn near_valid(vendor: Vendor) -> BoxedStrategy<Value> {
    let bodies: Vec<Value> = balances::balances_registry::find(vendor.as_str())
        .map(|entry| entry.examples.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|example| serde_json::from_str(&example.body).ok())
        .collect();
    if bodies.is_empty() {
        return field().boxed();
    }
    prop::sample::select(bodies)
        .prop_flat_map(|body| mutated(&body))
        .boxed()
}

/// `value` with each leaf kept (mostly) or replaced, and object members sometimes dropped.
fn mutated(value: &Value) -> BoxedStrategy<Value> {
    match value {
        Value::Object(members) => {
            let parts: Vec<_> = members
                .iter()
                .map(|(name, member)| {
                    let name = name.clone();
                    prop::option::weighted(0.85, mutated(member))
                        .prop_map(move |value| (name.clone(), value))
                })
                .collect();
            parts
                .prop_map(|parts| {
                    Value::Object(
                        parts
                            .into_iter()
                            .filter_map(|(name, value)| Some((name, value?)))
                            .collect::<Map<_, _>>(),
                    )
                })
                .boxed()
        }
        Value::Array(items) => {
            let items: Vec<BoxedStrategy<Value>> = items.iter().map(mutated).collect();
            items.prop_map(Value::Array).boxed()
        }
        leaf => prop_oneof![3 => Just(leaf.clone()), 1 => field(), 1 => currency()].boxed(),
    }
}

fn vendor_and_body() -> impl Strategy<Value = (Vendor, Value)> {
    any_vendor().prop_flat_map(|v| (Just(v), near_valid(v)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(
        vendor in any_vendor(),
        status in status(),
        body in prop::collection::vec(any::<u8>(), 0..512),
        with_account in any::<bool>(),
        retry_after in prop::option::of("[0-9]{0,12}|\\PC{0,30}"),
    ) {
        let (result, redacted) = if with_account {
            (decode_response(&account_for(vendor), status, retry_after.as_deref(), &body), true)
        } else {
            (decode(vendor, "a", status, &body), false)
        };
        check_result(vendor, status, &body, &result, redacted)?;
        if serde_json::from_slice::<Value>(&body).is_err() {
            prop_assert!(result.is_err());
        }
    }

    #[test]
    fn near_valid_json_never_panics(
        (vendor, body) in vendor_and_body(),
        status in status(),
        cut in prop::option::weighted(0.1, any::<prop::sample::Index>()),
    ) {
        let mut text = body.to_string().into_bytes();
        if let Some(cut) = cut {
            text.truncate(cut.index(text.len() + 1));
        }
        let result = decode_response(&account_for(vendor), status, None, &text);
        check_result(vendor, status, &text, &result, true)?;
    }
}

// ---------------------------------------------------------------------------------------
// (c) The EIOTClub signature, against an implementation written from vendors.md alone.
// ---------------------------------------------------------------------------------------

/// vendors.md, "`sign`": (1) every parameter except `sign`, skipping null, empty-string and
/// empty-array values (PHP has one array type, so `{}` is an empty array too); booleans
/// `1`/`0`, other scalars their string form, nested values compact JSON; (2) sorted by name
/// in byte order; (3) `key=value&` each, then `secret=<secret>`; (4) SHA-1, hex, upper case.
fn reference_sign(params: &Map<String, Value>, secret: &str) -> String {
    let mut pairs: Vec<(Vec<u8>, String)> = Vec::new();
    for (name, value) in params {
        if name == "sign" {
            continue;
        }
        if let Some(text) = reference_text(value) {
            pairs.push((name.as_bytes().to_vec(), text));
        }
    }
    // Byte order, spelled out: compare the names as byte strings.
    pairs.sort_by(|a, b| a.0.as_slice().cmp(b.0.as_slice()));
    let mut plain = Vec::new();
    for (name, value) in &pairs {
        plain.extend_from_slice(name);
        plain.push(b'=');
        plain.extend_from_slice(value.as_bytes());
        plain.push(b'&');
    }
    plain.extend_from_slice(b"secret=");
    plain.extend_from_slice(secret.as_bytes());
    Sha1::digest(&plain)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect()
}

/// How the reference writes one value; `None` skips it.
fn reference_text(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::String(s) if s.is_empty() => return None,
        Value::Array(a) if a.is_empty() => return None,
        Value::Object(o) if o.is_empty() => return None,
        Value::Bool(true) => "1".to_owned(),
        Value::Bool(false) => "0".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        nested => serde_json::to_string(nested).expect("JSON"),
    })
}

#[test]
fn reference_signer_matches_the_published_vector() {
    let params = json!({
        "appkey": "000001", "timestamp": 1556595508, "nonce": 24523,
        "userName": "wx", "age": 24, "sex": 1,
    });
    let Value::Object(params) = params else {
        unreachable!()
    };
    assert_eq!(
        reference_sign(&params, "a1b1c1d1"),
        "963A56BAEBED746F2746E4D9B3B77BE0F2E171E7"
    );
}

fn param_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        json_number().prop_map(|w| serde_json::from_str(&w.text()).expect("a JSON number")),
        "\\PC{0,10}".prop_map(Value::String),
        "[a-z=&]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn params() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(
        prop_oneof![
            4 => "[a-zA-Z_][a-zA-Z0-9_]{0,7}",
            1 => "\\PC{1,4}",
            1 => Just("sign".to_owned()),
        ],
        param_value(),
        0..8,
    )
    .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signature_matches_the_reference(params in params(), secret in "\\PC{0,12}") {
        let expected = reference_sign(&params, &secret);
        prop_assert_eq!(
            balances::eiotclub::sign(&params, &secret.clone().into()),
            expected.clone()
        );
        let signer = balances::eiotclub::Signer::new("unused".into(), secret.into());
        prop_assert_eq!(signer.sign(&params), expected);
    }

    #[test]
    fn changing_a_signed_value_changes_the_signature(
        params in params(),
        which in any::<prop::sample::Index>(),
        replacement in "\\PC{1,10}",
        secret in "\\PC{0,12}",
    ) {
        let secret_string: SecretString = secret.clone().into();
        let before = balances::eiotclub::sign(&params, &secret_string);
        let signed: Vec<&String> = params
            .iter()
            .filter(|(name, value)| name.as_str() != "sign" && reference_text(value).is_some())
            .map(|(name, _)| name)
            .collect();
        if let Some(&name) = signed.get(which.index(signed.len().max(1))) {
            let mut changed = params.clone();
            let old = changed.insert(name.clone(), Value::String(replacement.clone()));
            // A different value, unless it happens to be written the same way.
            if old.as_ref().and_then(reference_text).as_deref() != Some(replacement.as_str()) {
                prop_assert_ne!(balances::eiotclub::sign(&changed, &secret_string), before.clone());
            }
        }
        // The secret is signed too; `sign` and skipped values are not.
        let other_secret: SecretString = format!("{secret}x").into();
        prop_assert_ne!(balances::eiotclub::sign(&params, &other_secret), before.clone());
        let mut with_sign = params.clone();
        with_sign.insert("sign".into(), Value::String(replacement));
        prop_assert_eq!(balances::eiotclub::sign(&with_sign, &secret_string), before.clone());
        let mut with_empty = params.clone();
        with_empty.entry("zz_empty").or_insert(Value::Null);
        with_empty.entry("zz_blank").or_insert(Value::String(String::new()));
        with_empty.entry("zz_list").or_insert(json!([]));
        prop_assert_eq!(balances::eiotclub::sign(&with_empty, &secret_string), before);
    }

    /// The balance request body: signed over exactly what it sends.
    #[test]
    fn balance_body_signature_matches_the_reference(
        appkey in "[0-9a-zA-Z]{1,16}",
        secret in "\\PC{0,16}",
        timestamp in 1_000_000_000i64..10_000_000_000,
        nonce in 10_000u32..=99_999,
        change in 0usize..4,
    ) {
        let signer = balances::eiotclub::Signer::new(appkey.clone().into(), secret.clone().into());
        let body = signer.signed_body_at(timestamp, nonce);
        let plain = format!("appkey={appkey}&nonce={nonce}&timestamp={timestamp}&secret={secret}");
        let expected: String = Sha1::digest(plain.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect();
        prop_assert_eq!(body["sign"].as_str(), Some(expected.as_str()));
        prop_assert_eq!(
            (body["appkey"].as_str(), body["timestamp"].to_string(), body["nonce"].to_string()),
            (Some(appkey.as_str()), timestamp.to_string(), nonce.to_string())
        );

        // Any one signed value changed: another signature.
        let other = match change {
            0 => balances::eiotclub::Signer::new(format!("{appkey}0").into(), secret.into())
                .signed_body_at(timestamp, nonce),
            1 => balances::eiotclub::Signer::new(appkey.into(), format!("{secret}0").into())
                .signed_body_at(timestamp, nonce),
            2 => signer.signed_body_at(timestamp + 1, nonce),
            _ => signer.signed_body_at(timestamp, if nonce == 99_999 { 10_000 } else { nonce + 1 }),
        };
        prop_assert_ne!(other["sign"].as_str(), Some(expected.as_str()));
    }
}

// ---------------------------------------------------------------------------------------
// (d) Output order does not depend on the vendor's row order.
// ---------------------------------------------------------------------------------------

fn rows() -> impl Strategy<Value = Vec<Value>> {
    // Currency codes are compared upper-cased (`usd` is `USD`), so the set is of those.
    prop::collection::btree_set(
        prop_oneof![3 => "[A-Z]{3}", 1 => "[a-zA-Z]{1,4}", 1 => "\\PC{1,4}"]
            .prop_filter("not blank", |c| !c.trim().is_empty())
            .prop_map(|c| c.to_ascii_uppercase()),
        1..7,
    )
    .prop_flat_map(|currencies| {
        let n = currencies.len();
        (
            Just(currencies.into_iter().collect::<Vec<_>>()),
            prop::collection::vec(
                (
                    "-?(0|[1-9][0-9]{0,5})\\.[0-9]{2}",
                    "(0|[1-9][0-9]{0,3})\\.[0-9]{2}",
                ),
                n,
            ),
        )
    })
    .prop_map(|(currencies, amounts)| {
        currencies
            .into_iter()
            .zip(amounts)
            .map(|(currency, (total, granted))| {
                json!({
                    "currency": currency,
                    "total_balance": total,
                    "granted_balance": granted,
                    "topped_up_balance": total,
                })
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn output_order_ignores_row_order(
        (rows, shuffled) in rows().prop_flat_map(|rows| (Just(rows.clone()), Just(rows).prop_shuffle())),
        available in any::<bool>(),
    ) {
        let body = |rows: &[Value]| json!({"is_available": available, "balance_infos": rows}).to_string();
        let first = decode(vendor("deepseek"), "a", 200, body(&rows).as_bytes());
        let second = decode(vendor("deepseek"), "a", 200, body(&shuffled).as_bytes());
        let (first, second) = match (first, second) {
            (Ok(a), Ok(b)) => (a, b),
            other => return Err(TestCaseError::fail(format!("valid rows refused: {other:?}"))),
        };
        // The same balance, the same bytes out, sorted by currency, nothing lost.
        prop_assert_eq!(&first, &second);
        prop_assert_eq!(
            serde_json::to_string(&first).expect("serializes"),
            serde_json::to_string(&second).expect("serializes")
        );
        let currencies: Vec<&str> = first.amounts().iter().map(|a| a.currency.as_str()).collect();
        let mut sorted = currencies.clone();
        sorted.sort_unstable();
        prop_assert_eq!(&currencies, &sorted);
        prop_assert_eq!(currencies.len(), rows.len());
        for row in &rows {
            let currency = row["currency"].as_str().expect("a string");
            let amount = first.amount(currency).expect("every row kept");
            prop_assert_eq!(amount.total.to_string(), row["total_balance"].as_str().expect("text"));
        }
    }
}
