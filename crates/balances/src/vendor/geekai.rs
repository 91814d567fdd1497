//! GeekAI's authorized generated client, for the escape hatch
//! ([`crate::BalanceClient::geekai_client`]). Fetching and decoding follow
//! `specs/geekai/vendor.toml`.

use super::api_key;
use crate::account::{Account, Vendor};
use crate::auth::bearer_headers;
use crate::error::Error;

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
