//! A spend report's projection (every row of every page) made into a spend reading: the
//! rows' exact amounts, scaled where the vendor counts in cents, summed per currency over
//! the period, with the account's budget applied. Generic over every vendor whose
//! description has `[balance.spend]`.

use balances_registry::Denomination;
use balances_runtime::pages::Period;
use balances_runtime::projection::Projection;

use crate::account::Account;
use crate::balance::Balance;
use crate::spend::Spend;

/// The spend reading `projection` gives for `account`, or why it gives none.
pub(super) fn spend(account: &Account, projection: Projection) -> Result<Balance, String> {
    let mapping = &account.vendor().entry().description.balance;
    if projection.next_page.is_some() {
        // A body decoded alone that says more pages follow: its sum is not the period's.
        return Err(
            "the report says more pages follow; one page is not the period's spend".to_owned(),
        );
    }
    // A body decoded alone carries no period: it is read as this month's.
    let period = projection.period.unwrap_or_else(|| {
        Period::month_of(chrono::DateTime::<chrono::Utc>::from(
            std::time::SystemTime::now(),
        ))
    });
    let mut spent = Vec::with_capacity(projection.rows.len());
    for row in projection.rows {
        let at = crate::escape_control(&row.at);
        let currency = match &mapping.denomination {
            Denomination::Currency(code) => code.clone(),
            Denomination::CurrencyField(_) => row
                .currency
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(str::to_ascii_uppercase)
                .ok_or_else(|| format!("{at} has no currency"))?,
            other => return Err(format!("{other:?} is not supported for spend")),
        };
        let amount = row.total.ok_or_else(|| format!("{at} has no amount"))?;
        let amount = super::normalize::scaled(amount, mapping.scale.as_ref())?;
        spent.push((currency, amount));
    }
    let spend = Spend::new(period.from(), period.to(), spent, account.monthly_budget())?;
    Ok(Balance::spent(account.name(), account.vendor(), spend))
}
