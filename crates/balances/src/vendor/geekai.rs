//! GeekAI: `GET /credit/balance` with a bearer system key.
//!
//! The balance is a JSON number of coins (金币), 100 coins = 1 CNY. It is converted to CNY
//! exactly (a shift of the decimal point, never a float) and also kept as is, as the native
//! amount. Both documented body shapes are accepted: `{"balance": n}` and
//! `{"data": {"balance": n}}`.

use geekai_client::ClientInfo;
use geekai_client::types::{ErrorBody, GetCreditBalanceResponse};
use reqwest::header::{ACCEPT, HeaderValue};
use rust_decimal::Decimal;

use super::{Failure, VendorApi, VendorMessage, api_key, means_authentication};
use crate::account::{Account, Vendor};
use crate::auth::bearer_headers;
use crate::balance::{Amount, AmountTexts, Balance, NativeAmount};
use crate::error::Error;

pub(crate) struct GeekAi;

/// The unit of GeekAI's native amount.
pub(crate) const COIN: &str = "coin";

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

/// Coins to CNY: divide by 100 by moving the decimal point two places, which is exact.
/// `None` when the result would need more than 28 decimal places: then no `Decimal` holds
/// it, and a rounded amount is not reported.
pub(crate) fn coins_to_cny(coins: Decimal) -> Option<Decimal> {
    // Trailing zeros carry no value; dropping them first leaves room for the shift.
    let mut cny = if coins.scale() + 2 > Decimal::MAX_SCALE {
        // `normalize` also turns -0 into 0: keep the sign the vendor sent.
        let mut normal = coins.normalize();
        normal.set_sign_negative(coins.is_sign_negative());
        normal
    } else {
        coins
    };
    cny.set_scale(cny.scale() + 2).ok()?;
    // Moving the point is exact by construction; check it anyway, since a rounded amount
    // is the one failure this conversion must never have: 100 × CNY gives back the coins.
    let exact = cny.scale() <= Decimal::MAX_SCALE
        && cny.checked_mul(Decimal::ONE_HUNDRED) == Some(coins)
        && cny.is_sign_negative() == coins.is_sign_negative();
    exact.then_some(cny)
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

    fn decode(&self, account: &Account, body: &[u8]) -> Result<Balance, Failure> {
        let response: GetCreditBalanceResponse =
            serde_json::from_slice(body).map_err(Failure::Json)?;
        // Amounts are taken from their text, exactly (see `AmountTexts`).
        let texts = AmountTexts::new(body);
        let exact = |pointer: &str| texts.exact(pointer).map_err(Failure::Invalid);
        let wrapped = response.data.and_then(|d| d.balance);
        let coins = match (response.balance, wrapped) {
            (Some(_), Some(_)) => {
                let (top, inner) = (exact("/balance")?, exact("/data/balance")?);
                if top != inner {
                    return Err(Failure::Invalid(
                        "`balance` and `data.balance` disagree".into(),
                    ));
                }
                top
            }
            (Some(_), None) => exact("/balance")?,
            (None, Some(_)) => exact("/data/balance")?,
            (None, None) => {
                return Err(Failure::Invalid(
                    "neither `balance` nor `data.balance` is present".into(),
                ));
            }
        };
        let cny = coins_to_cny(coins).ok_or_else(|| {
            Failure::Invalid("coin balance has too many decimal places to convert exactly".into())
        })?;
        let amount = Amount {
            currency: "CNY".into(),
            total: cny,
            granted: None,
            topped_up: None,
            native: Some(NativeAmount {
                unit: COIN.into(),
                amount: coins,
            }),
        };
        Balance::new(account.name(), Vendor::GeekAi, None, vec![amount])
            .map_err(|e| Failure::Invalid(e.to_string()))
    }

    fn error_details(&self, body: &[u8]) -> Option<VendorMessage> {
        let body: ErrorBody = serde_json::from_slice(body).ok()?;
        Some(VendorMessage {
            authentication: means_authentication(&body.code),
            code: Some(body.code),
            message: body.message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn coins_convert_exactly() {
        let cases = [
            ("100", "1.00"),
            ("1234", "12.34"),
            ("0", "0.00"),
            ("-250", "-2.50"),
            ("12345678901234567.89", "123456789012345.6789"),
            ("0.5", "0.005"),
        ];
        for (coins, cny) in cases {
            let converted = coins_to_cny(dec(coins)).map(|d| d.to_string());
            assert_eq!(converted.as_deref(), Some(cny), "{coins} coins");
        }
    }

    #[test]
    fn coins_at_the_precision_limit() {
        // 27 decimal places: the shift would need 29, more than Decimal holds.
        let tiny = dec("0.000000000000000000000000001");
        assert_eq!(coins_to_cny(tiny), None);
        // Trailing zeros are dropped first, so this still converts, sign and all.
        let mut negative_zero = dec("0.0000000000000000000000000000");
        negative_zero.set_sign_negative(true);
        assert_eq!(
            coins_to_cny(negative_zero)
                .map(|d| d.to_string())
                .as_deref(),
            Some("-0.00")
        );
        let padded = dec("1.0000000000000000000000000000");
        assert_eq!(
            coins_to_cny(padded).map(|d| d.to_string()).as_deref(),
            Some("0.01")
        );
    }
}
