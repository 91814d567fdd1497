//! EIOTClub: `POST /api/v3/agent/balance` with a signed JSON body and no auth header.
//!
//! Every attempt draws a fresh timestamp and nonce and signs again. The answer is an
//! envelope whose `code` (a string or a number) must be `"200"`; anything else is a vendor
//! error even though the HTTP status is 200.

use eiotclub_client::ClientInfo;
use eiotclub_client::types::GetAgentBalanceResponse;
use reqwest::header::{ACCEPT, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use super::{Failure, VendorApi, VendorMessage, means_authentication, wrong_vendor};
use crate::account::{Account, Credentials, Vendor};
use crate::balance::{Amount, AmountTexts, Balance};
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

/// Just the envelope, read before the typed body: on errors `data` may be anything (PHP
/// back ends like to send `[]`), and that must not hide the vendor's code and message.
#[derive(Deserialize)]
struct Envelope {
    code: Value,
    #[serde(default)]
    message: Option<String>,
}

/// The envelope's code as text; `None` when it is neither a string nor a number.
fn code_text(code: &Value) -> Option<String> {
    match code {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
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

    fn decode(&self, account: &Account, body: &[u8]) -> Result<Balance, Failure> {
        let envelope: Envelope = serde_json::from_slice(body).map_err(Failure::Json)?;
        let code = code_text(&envelope.code)
            .ok_or_else(|| Failure::Invalid("`code` is neither a string nor a number".into()))?;
        if code != "200" {
            return Err(Failure::Vendor {
                code,
                message: envelope.message.unwrap_or_default(),
            });
        }
        let response: GetAgentBalanceResponse =
            serde_json::from_slice(body).map_err(Failure::Json)?;
        let data = response
            .data
            .ok_or_else(|| Failure::Invalid("code 200 without `data`".into()))?;
        // The amount is taken from its text, exactly (see `AmountTexts`).
        let balance = AmountTexts::new(body)
            .exact("/data/balance")
            .map_err(Failure::Invalid)?;
        Balance::new(
            account.name(),
            Vendor::EiotClub,
            None,
            vec![Amount::total(data.currency, balance)],
        )
        .map_err(|e| Failure::Invalid(e.to_string()))
    }

    fn error_details(&self, body: &[u8]) -> Option<VendorMessage> {
        let envelope: Envelope = serde_json::from_slice(body).ok()?;
        let code = code_text(&envelope.code);
        // An envelope saying success is not an error body, whatever else is wrong with it.
        if code.as_deref() == Some("200") {
            return None;
        }
        Some(VendorMessage {
            authentication: code.as_deref().is_some_and(means_authentication),
            code,
            message: envelope.message.unwrap_or_default(),
        })
    }
}
