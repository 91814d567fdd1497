//! Responses fetched another way for a vendor whose balance takes several operations
//! (new-api: the subscription, then the usage): each read in the order `fetch` sends them,
//! the first that is not a success being the result, as in a fetch.

use balances_runtime::further::subtract_from_totals;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::{UTF8_BOM, binding, interpret, settle, status_error};
use crate::account::Account;
use crate::balance::Balance;
use crate::error::Error;

/// `responses` (status, headers, body), the balance operation's first and then each further
/// operation's, made into a balance or the error the first failing one stands for.
pub(crate) fn interpret_all(
    account: &Account,
    responses: &[(StatusCode, HeaderMap, &[u8])],
) -> Result<Balance, Error> {
    let binding = binding(account)?;
    let Some(((status, headers, body), rest)) = responses.split_first() else {
        return Err(Error::InvalidRequest {
            account: account.name().to_owned(),
            vendor: account.vendor(),
            reason: "no response to decode".into(),
        });
    };
    let first = body.strip_prefix(UTF8_BOM).unwrap_or(body);
    if binding.further.is_empty() || !status.is_success() {
        return interpret(account, *status, headers, first);
    }
    let main = match (binding.decode)(first) {
        Ok(projection) => projection,
        // Blank, truncated or the vendor's error in a 2xx: the single-response reading.
        Err(_) => return interpret(account, *status, headers, first),
    };
    let mut further = Vec::with_capacity(binding.further.len());
    for (index, operation) in binding.further.iter().enumerate() {
        let Some((status, headers, body)) = rest.get(index) else {
            // Not enough responses: the projection says which operation is missing.
            break;
        };
        let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
        if !status.is_success() {
            return Err(status_error(account, *status, headers, body));
        }
        match (operation.decode)(body) {
            Ok(projection) => further.push(projection),
            Err(failure) => return settle(account, *status, headers, body, Err(failure)),
        }
    }
    let combined = if further.is_empty() {
        Ok(main)
    } else {
        subtract_from_totals(main, &further)
    };
    settle(account, *status, headers, first, combined)
}
