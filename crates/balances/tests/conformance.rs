//! The conformance suite: every documented example of every vendor folder
//! (`specs/<vendor>/examples/*.toml`, compiled into `balances_registry`) goes through the
//! facade's decoder, and must give exactly the result a person wrote down for it: the
//! amounts with their scale and sign, or the error's kind, code and message. A new folder's
//! examples are picked up without a line of Rust.

use std::str::FromStr;

use balances::{Balance, Error, Vendor};
use balances_registry::{Example, Expected, ExpectedBalance, ExpectedError, vendors};

#[test]
fn every_vendor_folder_has_examples_and_each_gives_its_documented_result() {
    assert!(
        !vendors().is_empty(),
        "the registry is compiled by `cargo xtask codegen`"
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in vendors() {
        assert!(
            entry.examples.len() >= 2,
            "{}: a vendor folder documents at least a balance and an error",
            entry.id
        );
        let vendor = Vendor::from_str(&entry.id)
            .unwrap_or_else(|_| panic!("{}: the facade does not know this vendor", entry.id));
        for example in &entry.examples {
            checked += 1;
            if let Err(why) = conforms(vendor, example) {
                failures.push(format!(
                    "{}/examples/{}.toml: {why}",
                    entry.id, example.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{checked} examples, failing:\n{}",
        failures.join("\n")
    );
}

fn conforms(vendor: Vendor, example: &Example) -> Result<(), String> {
    let result = balances::decode(vendor, "example", example.status, example.body.as_bytes());
    match (&example.expected, result) {
        (Expected::Balance(expected), Ok(balance)) => same_balance(expected, &balance),
        (Expected::Error(expected), Err(error)) => same_error(expected, &error),
        (Expected::Balance(_), Err(error)) => Err(format!("expected a balance, got: {error}")),
        (Expected::Error(expected), Ok(balance)) => Err(format!(
            "expected a {} error, got a balance: {balance:?}",
            expected.kind
        )),
        (other, _) => Err(format!("an expectation this suite cannot check: {other:?}")),
    }
}

fn same_balance(expected: &ExpectedBalance, balance: &Balance) -> Result<(), String> {
    if expected.available != balance.available() {
        return Err(format!(
            "available: expected {:?}, got {:?}",
            expected.available,
            balance.available()
        ));
    }
    let text = |value: Option<balances::Decimal>| value.map(|d| d.to_string());
    let got: Vec<[Option<String>; 6]> = balance
        .amounts()
        .iter()
        .map(|a| {
            [
                Some(a.currency.clone()),
                text(Some(a.total)),
                text(a.granted),
                text(a.topped_up),
                a.native.as_ref().map(|n| n.unit.clone()),
                a.native.as_ref().map(|n| n.amount.to_string()),
            ]
        })
        .collect();
    let want: Vec<[Option<String>; 6]> = expected
        .amounts
        .iter()
        .map(|a| {
            [
                a.currency.clone().or_else(|| a.unit.clone()),
                Some(a.total.clone()),
                a.granted.clone(),
                a.topped_up.clone(),
                a.native.as_ref().map(|n| n.unit.clone()),
                a.native.as_ref().map(|n| n.amount.clone()),
            ]
        })
        .collect();
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "amounts [currency, total, granted, topped up, native unit, native amount]:\n  expected {want:?}\n  got      {got:?}"
        ))
    }
}

fn same_error(expected: &ExpectedError, error: &Error) -> Result<(), String> {
    if error.kind().as_str() != expected.kind {
        return Err(format!(
            "expected kind {}, got {} ({error})",
            expected.kind,
            error.kind().as_str()
        ));
    }
    if let Some(code) = &expected.code {
        match error {
            Error::Vendor { code: got, .. } if got == code => {}
            other => return Err(format!("expected vendor code {code}, got: {other}")),
        }
    }
    if let Some(text) = &expected.message_contains
        && !error.to_string().contains(text.as_str())
    {
        return Err(format!("the message lacks {text:?}: {error}"));
    }
    Ok(())
}
