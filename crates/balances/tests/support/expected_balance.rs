//! How an expected balance (`specs/<vendor>/examples/*.toml`, written by a person) is
//! compared with what the facade gave: money (sorted by currency) then units that are not
//! money (sorted by unit), every decimal as text, scale and sign included. Shared by the
//! conformance suite and the workspace's fault matrix (`#[path]`-included by both).

use balances::Balance;
use balances::balances_registry::ExpectedBalance;

/// `Ok` when `balance` is exactly `expected`; else what differs.
pub fn same_balance(expected: &ExpectedBalance, balance: &Balance) -> Result<(), String> {
    if expected.available != balance.available() {
        return Err(format!(
            "available: expected {:?}, got {:?}",
            expected.available,
            balance.available()
        ));
    }
    let unlimited: Vec<&str> = balance
        .unlimited()
        .iter()
        .map(|u| u.currency.as_str())
        .collect();
    if expected.unlimited != unlimited {
        return Err(format!(
            "unlimited: expected {:?}, got {unlimited:?}",
            expected.unlimited
        ));
    }
    // The example says `scope = "key"` for a key's quota; no scope is the account's.
    let scope = expected.scope.map_or("account", |scope| match scope {
        balances::balances_registry::Scope::Key => "key",
        _ => "account",
    });
    if scope != balance.scope().as_str() {
        return Err(format!(
            "scope: expected {scope}, got {}",
            balance.scope().as_str()
        ));
    }
    let text = |value: Option<balances::Decimal>| value.map(|d| d.to_string());
    // Money first (sorted by currency), then units that are not money (sorted by unit), each
    // tagged so that a unit is never taken for a currency of the same name.
    let money = balance.amounts().iter().map(|a| {
        [
            Some(format!("currency {}", a.currency)),
            text(Some(a.total)),
            text(a.granted),
            text(a.topped_up),
            a.native.as_ref().map(|n| n.unit.clone()),
            a.native.as_ref().map(|n| n.amount.to_string()),
        ]
    });
    let units = balance.units().iter().map(|a| {
        [
            Some(format!("unit {}", a.unit)),
            text(Some(a.total)),
            text(a.granted),
            text(a.topped_up),
            None,
            None,
        ]
    });
    let got: Vec<[Option<String>; 6]> = money.chain(units).collect();
    let want: Vec<[Option<String>; 6]> = expected
        .amounts
        .iter()
        .map(|a| {
            [
                a.currency
                    .as_ref()
                    .map(|c| format!("currency {c}"))
                    .or_else(|| a.unit.as_ref().map(|u| format!("unit {u}"))),
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

/// `Ok` when `balance` is exactly the spend `expected` (its period, then each currency's
/// sum as text); a spend reading has no balance amounts. With `period` false only the
/// sums are compared (a body decoded alone is read as the current month's).
pub fn same_spend(
    expected: &balances::balances_registry::spend::ExpectedSpend,
    balance: &Balance,
    period: bool,
) -> Result<(), String> {
    let Some(spend) = balance.spend() else {
        return Err(format!("expected spend, got a balance: {balance:?}"));
    };
    if !balance.amounts().is_empty() || !balance.units().is_empty() {
        return Err(format!(
            "spend must not come with balance amounts: {balance:?}"
        ));
    }
    let rfc3339 =
        |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if period && (rfc3339(&spend.from) != expected.from || rfc3339(&spend.to) != expected.to) {
        return Err(format!(
            "period: expected {} to {}, got {} to {}",
            expected.from,
            expected.to,
            rfc3339(&spend.from),
            rfc3339(&spend.to)
        ));
    }
    let got: Vec<(String, String)> = spend
        .spent
        .iter()
        .map(|s| (s.currency.clone(), s.amount.to_string()))
        .collect();
    let want: Vec<(String, String)> = expected
        .spent
        .iter()
        .map(|s| (s.currency.clone(), s.amount.clone()))
        .collect();
    if got != want {
        return Err(format!("spent: expected {want:?}, got {got:?}"));
    }
    Ok(())
}
