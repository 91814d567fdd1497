//! GeekAI: `GET /credit/balance` with a bearer system key.
//!
//! The balance is a JSON number of coins (金币), 100 coins = 1 CNY. It is converted to CNY
//! exactly (a shift of the decimal point, never a float) and also kept as is, as the native
//! amount. Both documented body shapes are accepted: `{"balance": n}` and
//! `{"data": {"balance": n}}`.

use geekai_client::ClientInfo;
use reqwest::header::{ACCEPT, HeaderValue};

use super::{VendorApi, api_key};
use crate::account::{Account, Vendor};
use crate::auth::bearer_headers;
use crate::error::Error;

pub(crate) struct GeekAi;

/// The generated client for `account`, authorized with its key, on the shared pool.
pub(crate) fn generated_client(
    http: &reqwest::Client,
    account: &Account,
) -> Result<geekai_client::Client, Error> {
    let key = api_key(account, Vendor::GeekAi)?;
    let headers = bearer_headers(account, key)?;
    Ok(geekai_client::Client::new_with_client(
        &account.effective_base_url(),
        http.clone(),
        geekai_client::RequestHeaders(headers),
    ))
}

impl VendorApi for GeekAi {
    fn request(
        &self,
        http: &reqwest::Client,
        account: &Account,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let client = generated_client(http, account)?;
        // Same method and path as `client.get_credit_balance()` (which sends no `uuid`:
        // the spec's uuid parameter is a copy-paste artifact).
        Ok(client
            .client()
            .get(format!("{}/credit/balance", client.baseurl()))
            .headers(client.inner().0.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json")))
    }
}
