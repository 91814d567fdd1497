//! DeepSeek: `GET /user/balance` with a bearer API key.
//!
//! Amounts arrive as decimal strings per currency (`CNY`, `USD`), in no stable order; rows
//! are sorted, and a currency listed twice or a row without currency or total is an error
//! rather than a guess.

use deepseek_client::ClientInfo;
use deepseek_client::types::{ErrorBody, GetUserBalanceResponse};
use reqwest::header::{ACCEPT, HeaderValue};

use super::{Failure, VendorApi, VendorMessage, api_key, means_authentication};
use crate::account::{Account, Vendor};
use crate::auth::bearer_headers;
use crate::balance::{Amount, AmountTexts, Balance};
use crate::error::Error;

pub(crate) struct DeepSeek;

/// The generated client for `account`, authorized with its key, on the shared pool.
pub(crate) fn generated_client(
    http: &reqwest::Client,
    account: &Account,
) -> Result<deepseek_client::Client, Error> {
    let key = api_key(account, Vendor::DeepSeek)?;
    let headers = bearer_headers(account, key)?;
    Ok(deepseek_client::Client::new_with_client(
        &account.effective_base_url(),
        http.clone(),
        deepseek_client::RequestHeaders(headers),
    ))
}

impl VendorApi for DeepSeek {
    fn request(
        &self,
        http: &reqwest::Client,
        account: &Account,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let client = generated_client(http, account)?;
        // Same method and path as `client.get_user_balance()`; sent here so the status is
        // kept with the body (see `transport`).
        Ok(client
            .client()
            .get(format!("{}/user/balance", client.baseurl()))
            .headers(client.inner().0.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json")))
    }

    fn decode(&self, account: &Account, body: &[u8]) -> Result<Balance, Failure> {
        let response: GetUserBalanceResponse =
            serde_json::from_slice(body).map_err(Failure::Json)?;
        // Amounts are taken from their text, exactly (see `AmountTexts`).
        let texts = AmountTexts::new(body);
        let amounts = response
            .balance_infos
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let currency = row
                    .currency
                    .filter(|c| !c.trim().is_empty())
                    .ok_or_else(|| {
                        Failure::Invalid(format!("balance_infos[{i}] has no currency"))
                    })?;
                if row.total_balance.is_none() {
                    return Err(Failure::Invalid(format!(
                        "balance_infos[{i}] ({currency}) has no total_balance"
                    )));
                }
                let exact = |field: &str| {
                    texts
                        .exact(&format!("/balance_infos/{i}/{field}"))
                        .map_err(Failure::Invalid)
                };
                Ok(Amount {
                    total: exact("total_balance")?,
                    granted: row
                        .granted_balance
                        .map(|_| exact("granted_balance"))
                        .transpose()?,
                    topped_up: row
                        .topped_up_balance
                        .map(|_| exact("topped_up_balance"))
                        .transpose()?,
                    currency,
                    native: None,
                })
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        Balance::new(
            account.name(),
            Vendor::DeepSeek,
            Some(response.is_available),
            amounts,
        )
        .map_err(|e| Failure::Invalid(e.to_string()))
    }

    fn error_details(&self, body: &[u8]) -> Option<VendorMessage> {
        let body: ErrorBody = serde_json::from_slice(body).ok()?;
        let error = body.error;
        let authentication = [&error.code, &error.type_]
            .into_iter()
            .flatten()
            .any(|label| means_authentication(label));
        Some(VendorMessage {
            code: error.code.or(error.type_),
            message: error.message,
            authentication,
        })
    }
}
