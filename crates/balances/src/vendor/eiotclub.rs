//! EIOTClub: `POST /api/v3/agent/balance` with a signed JSON body and no auth header.
//!
//! Every attempt draws a fresh timestamp and nonce and signs again. The answer is an
//! envelope whose `code` (a string or a number) must be `"200"`; anything else is a vendor
//! error even though the HTTP status is 200.

use eiotclub_client::ClientInfo;
use reqwest::header::{ACCEPT, HeaderValue};

use super::{VendorApi, wrong_vendor};
use crate::account::{Account, Credentials, Vendor};
use crate::eiotclub::Signer;
use crate::error::Error;

pub(crate) struct EiotClub;

/// The generated client for `account` on the shared pool, and the signer for its bodies.
pub(crate) fn generated_client(
    http: &reqwest::Client,
    account: &Account,
) -> Result<(eiotclub_client::Client, Signer), Error> {
    let Credentials::AppKey { appkey, secret } = account.credentials() else {
        return Err(wrong_vendor(account, Vendor::EiotClub).into());
    };
    if account.vendor() != Vendor::EiotClub {
        return Err(wrong_vendor(account, Vendor::EiotClub).into());
    }
    let client = eiotclub_client::Client::new_with_client(
        &account.effective_base_url(),
        http.clone(),
        eiotclub_client::RequestHeaders::default(),
    );
    Ok((client, Signer::new(appkey.clone(), secret.clone())))
}

impl VendorApi for EiotClub {
    fn request(
        &self,
        http: &reqwest::Client,
        account: &Account,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let (client, signer) = generated_client(http, account)?;
        let body = signer.balance_body();
        // Same method, path and body as `client.get_agent_balance().body(body)`.
        Ok(client
            .client()
            .post(format!("{}/api/v3/agent/balance", client.baseurl()))
            .headers(client.inner().0.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .json(&body))
    }
}
