//! DeepSeek: `GET /user/balance` with a bearer API key.
//!
//! Amounts arrive as decimal strings per currency (`CNY`, `USD`), in no stable order; rows
//! are sorted, and a currency listed twice or a row without currency or total is an error
//! rather than a guess.

use deepseek_client::ClientInfo;
use reqwest::header::{ACCEPT, HeaderValue};

use super::{VendorApi, api_key};
use crate::account::{Account, Vendor};
use crate::auth::bearer_headers;
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
}
