//! The escape hatch to the generated clients: what they need to call a vendor directly
//! ([`Authorized`]), and their errors mapped onto [`Error`] with the same rules
//! [`BalanceClient::fetch`] applies. Nothing here knows a vendor: any vendor's generated
//! crate takes a base URL, a `reqwest::Client` and headers.

use bytes::BytesMut;
use progenitor_client::Error as GeneratedError;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::account::Account;
use crate::auth::{Redactor, auth_headers};
use crate::client::BalanceClient;
use crate::eiotclub::Signer;
use crate::error::{Error, TimeoutLimit};
use crate::vendor::{self, MAX_RESPONSE_BODY_BYTES, status_error};

/// What a generated client needs to call one account's vendor, from
/// [`BalanceClient::authorize`]. `Debug` shows no credential.
///
/// ```no_run
/// # async fn run(client: balances::BalanceClient, account: balances::Account) -> Result<(), balances::Error> {
/// let authorized = client.authorize(&account)?;
/// let generated = deepseek_client::Client::new_with_client(
///     authorized.base_url(),
///     authorized.http_client().clone(),
///     deepseek_client::RequestHeaders(authorized.headers().clone()),
/// );
/// match generated.get_user_balance().send().await {
///     Ok(response) => println!("available: {}", response.is_available),
///     Err(e) => return Err(client.generated_error(&account, e).await),
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
}

impl Authorized {
    pub(crate) fn new(http: &reqwest::Client, account: &Account) -> Result<Self, Error> {
        let signer = Signer::for_account(account);
        Ok(Self {
            base_url: account.effective_base_url(),
            http: http.clone(),
            headers: auth_headers(account)?,
            signer,
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

    /// The signer of a vendor that signs request bodies ([`Signer::signed_body`] gives a
    /// fresh body per request); `None` for a header scheme.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }
}

/// Whether `error` or any of its causes is the generated clients' body-size limit.
fn is_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

impl BalanceClient {
    /// Maps an error from a generated client built with [`BalanceClient::authorize`] onto this crate's [`Error`], with the same
    /// status table, redaction and size cap as [`BalanceClient::fetch`]:
    ///
    /// - a documented error response is classified by its status, with the vendor's code and
    ///   message;
    /// - an undocumented response has its body read here, at most
    ///   [`crate::MAX_RESPONSE_BODY_BYTES`], then classified the same way;
    /// - a body cut off by the generated client's size limit is
    ///   [`Error::ResponseTooLarge`];
    /// - a 2xx body that does not decode is transient when empty or truncated, else
    ///   undecodable (progenitor does not keep the status of such a response, so `status` is
    ///   `None` there).
    ///
    /// `account` must be the account the generated client was built for: its credentials
    /// are what gets redacted.
    pub async fn generated_error<E: serde::Serialize>(
        &self,
        account: &Account,
        error: GeneratedError<E>,
    ) -> Error {
        let redactor = Redactor::for_account(account);
        let (name, vendor) = (account.name().to_owned(), account.vendor());
        let too_large = || Error::ResponseTooLarge {
            account: name.clone(),
            vendor,
            limit: MAX_RESPONSE_BODY_BYTES,
        };
        let transient = |status: Option<StatusCode>, reason: String| Error::Transient {
            account: name.clone(),
            vendor,
            status: status.map(|s| s.as_u16()),
            reason: redactor.redact(&reason),
            retry_after: None,
            source: None,
        };
        // A network error keeps its cause, without the URL.
        let network = |e: reqwest::Error| {
            let e = e.without_url();
            vendor::network_failure(account, e.status(), crate::transport::describe(&e), e)
        };
        let undecodable =
            |status: Option<StatusCode>, reason: String, body: &[u8]| Error::Undecodable {
                account: name.clone(),
                vendor,
                status: status.map(|s| s.as_u16()),
                reason: redactor.redact(&reason),
                excerpt: redactor.excerpt(body),
            };

        match error {
            GeneratedError::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                // Back to JSON, so the vendor module reads code and message exactly as it
                // does for `fetch`.
                let body = serde_json::to_vec(response.as_ref()).unwrap_or_default();
                status_error(account, status, &headers, &body)
            }
            GeneratedError::UnexpectedResponse(response) => {
                let status = response.status();
                let headers: HeaderMap = response.headers().clone();
                let body = match read_capped(response).await {
                    Ok(body) => body,
                    Err(ReadError::TooLarge) => return too_large(),
                    Err(ReadError::Broken(reason)) => return transient(Some(status), reason),
                };
                if status.is_success() {
                    return undecodable(
                        Some(status),
                        format!("undocumented success status {status}"),
                        &body,
                    );
                }
                status_error(account, status, &headers, &body)
            }
            GeneratedError::ResponseBodyError(e) | GeneratedError::CommunicationError(e)
                if is_length_limit(&e) =>
            {
                too_large()
            }
            GeneratedError::CommunicationError(e) if e.is_timeout() => {
                match self.http_connect_limit() {
                    Some(after) => Error::Timeout {
                        account: name.clone(),
                        vendor,
                        after,
                        limit: TimeoutLimit::Connect,
                    },
                    None => network(e),
                }
            }
            GeneratedError::CommunicationError(e) | GeneratedError::ResponseBodyError(e) => {
                network(e)
            }
            GeneratedError::InvalidResponsePayload(bytes, e) => {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    transient(None, "empty response body".into())
                } else if e.is_eof() {
                    transient(None, "truncated response body".into())
                } else {
                    undecodable(None, e.to_string(), &bytes)
                }
            }
            GeneratedError::InvalidUpgrade(e) => {
                undecodable(e.status(), e.without_url().to_string(), b"")
            }
            // Nothing was sent: the request could not be built from what the caller gave.
            GeneratedError::InvalidRequest(reason) | GeneratedError::Custom(reason) => {
                Error::InvalidRequest {
                    account: name.clone(),
                    vendor,
                    reason: redactor.redact(&reason),
                }
            }
        }
    }
}

enum ReadError {
    TooLarge,
    Broken(String),
}

/// Reads a body, stopping past the cap (the generated client's own limit usually fires
/// first, as a length-limit error).
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, ReadError> {
    let mut body = BytesMut::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_RESPONSE_BODY_BYTES {
                    return Err(ReadError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body.to_vec()),
            Err(e) if is_length_limit(&e) => return Err(ReadError::TooLarge),
            Err(e) => return Err(ReadError::Broken(e.without_url().to_string())),
        }
    }
}
