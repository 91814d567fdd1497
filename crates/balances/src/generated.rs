//! The escape hatch to the generated clients: what they need to call a vendor directly
//! ([`Authorized`]), and their errors mapped onto [`Error`] with the same rules
//! [`BalanceClient::fetch`] applies. Nothing here knows a vendor: any vendor's generated
//! client takes a base URL, a `reqwest::Client` and a [`balances_runtime::Context`].

use std::sync::Arc;

use balances_runtime::RequestSigner;
use progenitor_client::Error as GeneratedError;
use reqwest::header::HeaderMap;

use crate::account::Account;
use crate::auth::auth_headers;
use crate::client::BalanceClient;
use crate::eiotclub::Signer;
use crate::error::Error;
use crate::vendor;

/// What a generated client needs to call one account's vendor, from
/// [`BalanceClient::authorize`]. `Debug` shows no credential.
///
/// ```no_run
/// # async fn run(client: balances::BalanceClient, account: balances::Account) -> Result<(), balances::Error> {
/// let authorized = client.authorize(&account)?;
/// // Clones share what the context keeps of the exchange.
/// let context = authorized.context();
/// let deepseek = balances::vendors::deepseek::Client::new_with_client(
///     authorized.base_url(),
///     authorized.http_client().clone(),
///     context.clone(),
/// );
/// match deepseek.get_user_balance().send().await {
///     // Amounts are `ExactDecimal`: `-0.00` stays `-0.00`.
///     Ok(response) => println!("available: {}", response.is_available),
///     Err(e) => return Err(client.generated_error(&account, &context, e)),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Authorized {
    base_url: String,
    http: reqwest::Client,
    // Values are marked sensitive: `Debug` prints `Sensitive`.
    headers: HeaderMap,
    signer: Option<Signer>,
    // A cloud scheme's: its `Debug` shows the scheme, never a credential.
    request_signer: Option<Arc<dyn RequestSigner>>,
}

impl Authorized {
    pub(crate) fn new(http: &reqwest::Client, account: &Account) -> Result<Self, Error> {
        account.check_base_url()?;
        let signer = Signer::for_account(account);
        Ok(Self {
            base_url: account.effective_base_url(),
            http: http.clone(),
            headers: auth_headers(account)?,
            signer,
            request_signer: crate::cloud::request_signer(account)?,
        })
    }

    /// The base URL the account's requests go to (its own, its region's or the vendor's).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The shared connection pool, with this crate's redirect policy.
    pub fn http_client(&self) -> &reqwest::Client {
        &self.http
    }

    /// The auth headers of the vendor's scheme; empty for a scheme that signs bodies.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A fresh context for a generated client: the auth headers on every request (or, for
    /// a cloud signature scheme, each request signed as it leaves, with a fresh time and
    /// nonce), the response body cap, and the exchange kept for
    /// [`BalanceClient::generated_error`].
    pub fn context(&self) -> balances_runtime::Context {
        let context = balances_runtime::Context::new(self.headers.clone());
        match &self.request_signer {
            Some(signer) => context.with_signer(Arc::clone(signer)),
            None => context,
        }
    }

    /// The signer of a vendor that signs request bodies ([`Signer::signed_body`] gives a
    /// fresh body per request); `None` for a header scheme.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }
}

impl BalanceClient {
    /// Maps an error from a generated client built with [`BalanceClient::authorize`] onto
    /// this crate's [`Error`], with the same status table, redaction and size cap as
    /// [`BalanceClient::fetch`]. `context` is the generated client's (or a clone of it): it
    /// kept the exchange, so an HTML 503 that progenitor reports only as an undecodable body
    /// is still a transient 503, and a vendor's error code and message are read from the
    /// raw body even where the spec leaves the error body untyped.
    ///
    /// `account` must be the account the generated client was built for: its credentials
    /// are what gets redacted.
    pub fn generated_error<E>(
        &self,
        account: &Account,
        context: &balances_runtime::Context,
        error: GeneratedError<E>,
    ) -> Error {
        let sent = balances_runtime::Sent::of::<(), E>(context, Err(error), |_| {
            Ok(balances_runtime::projection::Projection::default())
        });
        if let balances_runtime::Sent::Response(exchange) = &sent
            && exchange.status.is_success()
        {
            return vendor::undecoded_success(account, exchange);
        }
        match vendor::outcome(account, sent, self.http_connect_limit()) {
            Err(error) => error,
            // An error never becomes a balance; were the exchange a success, the caller
            // still asked for the error of a failed call.
            Ok(_) => Error::InvalidRequest {
                account: account.name().to_owned(),
                vendor: account.vendor(),
                reason: "the generated client reported an error for a successful response".into(),
            },
        }
    }
}
