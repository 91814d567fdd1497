//! EIOTClub's generated client and body signer, for the escape hatch
//! ([`crate::BalanceClient::eiotclub_client`]). Fetching and decoding follow
//! `specs/eiotclub/vendor.toml`; signing is the `eiotclub-signature` auth scheme.

use super::wrong_vendor;
use crate::account::{Account, Credentials, Vendor};
use crate::eiotclub::Signer;
use crate::error::Error;

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
