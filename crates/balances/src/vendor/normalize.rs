//! A generated projection (rows of amounts as the vendor wrote them) made into a [`Balance`]:
//! what each row is counted in (a currency field, a constant, the account's region's
//! currency, a unit, a map key's denomination) and exact scaling. Generic over every vendor;
//! the vendor's part is its description's data.

use balances_registry::Scope as ReadingScope;
use balances_registry::{AmountSource, Denomination, KeyDenomination, Scale};
use balances_runtime::projection::{Projection, Row};
use rust_decimal::Decimal;

use crate::account::Account;
use crate::balance::{Amount, Balance, NativeAmount, Scope, UnitAmount, Unlimited};

/// What a row's amounts are counted in.
enum Counted {
    Money(String),
    Unit(String),
}

/// The balance `projection` gives for `account`, or why it gives none.
pub(crate) fn normalize(account: &Account, projection: Projection) -> Result<Balance, String> {
    let mapping = &account.vendor().entry().description.balance;
    if mapping.spend.is_some() {
        return super::spend::spend(account, projection);
    }
    let available = match (&mapping.available, projection.available) {
        (Some(pointer), None) => return Err(format!("`{pointer}` is not a boolean")),
        (_, available) => available,
    };
    let (mut amounts, mut units, mut unlimited) = (Vec::new(), Vec::new(), Vec::new());
    for mut row in projection.rows {
        let counted = counted(account, &mapping.denomination, &row)?;
        let scale = mapping.scale.as_ref();
        // The sentinel is not an amount: nothing to subtract from or scale.
        if row.unlimited {
            match counted {
                Counted::Money(currency) => unlimited.push(Unlimited::new(currency)),
                Counted::Unit(unit) => {
                    return Err(format!(
                        "{} ({unit}) is unlimited, which only money can be",
                        crate::escape_control(&row.at)
                    ));
                }
            }
            continue;
        }
        row.total = less_further_amount(&mapping.total, &row)?;
        let Some(native_total) = row.total else {
            let what = match &counted {
                Counted::Money(name) | Counted::Unit(name) => name,
            };
            return Err(format!(
                "{} ({what}) has no {}",
                crate::escape_control(&row.at),
                source_name(&mapping.total)
            ));
        };
        let total = scaled(native_total, scale)?;
        let granted = row.granted.map(|a| scaled(a, scale)).transpose()?;
        let topped_up = row.topped_up.map(|a| scaled(a, scale)).transpose()?;
        match counted {
            Counted::Money(currency) => {
                let mut amount = Amount::total(currency, total);
                amount.granted = granted;
                amount.topped_up = topped_up;
                amount.native = scale
                    .and_then(|s| s.native_unit.as_ref())
                    .map(|unit| NativeAmount::new(unit, native_total));
                amounts.push(amount);
            }
            Counted::Unit(unit) => {
                let mut amount = UnitAmount::total(unit, total);
                amount.granted = granted;
                amount.topped_up = topped_up;
                units.push(amount);
            }
        }
    }
    let scope = match mapping.scope {
        ReadingScope::Key => Scope::Key,
        _ => Scope::Account,
    };
    Balance::new(account.name(), account.vendor(), available, amounts)
        .and_then(|balance| balance.with_units(units))
        .and_then(|balance| balance.with_unlimited(unlimited))
        .map(|balance| balance.with_scope(scope))
        .map_err(|e| e.to_string())
}

/// The row's total less the further operation's amount, divided exactly by its divisor
/// (new-api: `hard_limit_usd - total_usage / 100`), for a total that names one; the total
/// as it is otherwise.
fn less_further_amount(source: &AmountSource, row: &Row) -> Result<Option<Decimal>, String> {
    let AmountSource::Less { less, .. } = source else {
        return Ok(row.total);
    };
    let Some(subtracted) = row.subtracted else {
        return Err(format!(
            "the balance needs the response of `{}` too, which was not given",
            less.operation
        ));
    };
    let divisor = less.divisor.as_deref().map(Scale::divisor);
    let subtracted = scaled(subtracted, divisor.as_ref())?;
    let Some(total) = row.total else {
        return Ok(None);
    };
    total
        .checked_sub(subtracted)
        .map(Some)
        .ok_or_else(|| "the difference overflows".to_owned())
}

/// What `row` is counted in: a currency (upper-cased: `usd` is `USD`) or a unit.
fn counted(account: &Account, denomination: &Denomination, row: &Row) -> Result<Counted, String> {
    let at = crate::escape_control(&row.at);
    match denomination {
        Denomination::Currency(code) => Ok(Counted::Money(code.clone())),
        Denomination::CurrencyField(_) => row
            .currency
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| Counted::Money(c.to_ascii_uppercase()))
            .ok_or_else(|| format!("{at} has no currency")),
        Denomination::AccountCurrency(default) => Ok(Counted::Money(
            account.currency().unwrap_or(default).to_owned(),
        )),
        Denomination::RegionCurrency => account
            .effective_region()
            .and_then(|name| account.vendor().region(name))
            .and_then(|region| region.currency.clone())
            .map(Counted::Money)
            .ok_or_else(|| "the account's region has no currency".into()),
        Denomination::Unit(unit) => Ok(Counted::Unit(unit.clone())),
        Denomination::ByKey(keys) => {
            let key = row.key.as_deref().unwrap_or_default();
            match keys.get(key) {
                Some(KeyDenomination::Currency(code)) => Ok(Counted::Money(code.clone())),
                Some(KeyDenomination::Unit(unit)) => Ok(Counted::Unit(unit.clone())),
                Some(other) => Err(unsupported(other)),
                None => Err(format!(
                    "{at}: `{}` is not a currency or unit this vendor is known to report",
                    crate::escape_control(key)
                )),
            }
        }
        other => Err(unsupported(other)),
    }
}

fn unsupported(what: &impl std::fmt::Debug) -> String {
    format!("{what:?} is not supported by this version")
}

/// What an amount source is called in messages: its field (`total_balance`).
fn source_name(source: &AmountSource) -> String {
    match source {
        AmountSource::At(pointer) => match pointer.trim_start_matches('/') {
            "" => "amount".to_owned(),
            path => path.replace('/', "."),
        },
        AmountSource::Negated { negate } => source_name(negate),
        _ => "total".to_owned(),
    }
}

/// `amount` divided by the scale's divisor, exactly: the divisor's only prime factors are 2
/// and 5 (codegen checks it), so `amount / d` is `amount * (10^n / d)` with `n` more
/// decimal places. The sign of a negative zero is kept. An amount that would need more
/// than 28 decimal places is an error, never a rounded number.
pub(super) fn scaled(amount: Decimal, scale: Option<&Scale>) -> Result<Decimal, String> {
    let Some(scale) = scale else {
        return Ok(amount);
    };
    let not_exact = || format!("{amount} cannot be divided by {} exactly", scale.divisor);
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
