//! The one client: a shared connection pool, the retry and timeout policy, `fetch` and
//! `fetch_all`, and the escape hatch to the generated clients.

use balances_runtime::pages::Period;
use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::time::Instant;
use tracing::Instrument;

use crate::account::Account;
use crate::balance::Balance;
use crate::error::{ConfigError, Error, TimeoutLimit};
use crate::generated::Authorized;
use crate::retry::{RetryConfig, TimeoutConfig};
use crate::vendor;

/// The default number of accounts [`BalanceClient::fetch_all`] queries at once.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Fetches balances for any account of any vendor.
///
/// Build it once and share it (it is cheap to clone): every account and every vendor go
/// through one `reqwest::Client`, so connections are pooled and reused. Credentials travel
/// with each request, never with the pool.
///
/// ```no_run
/// # async fn run() -> Result<(), balances::Error> {
/// use std::time::Duration;
/// use balances::{Account, BalanceClient, RetryConfig, TimeoutConfig};
///
/// let client = BalanceClient::builder()
///     .retry(RetryConfig::default().with_max_attempts(4))
///     .timeout(TimeoutConfig::default().with_call(Duration::from_secs(20)))
///     .concurrency(4)
///     .build()?;
/// let account = Account::api_key("work", "deepseek".parse().expect("a vendor"), "sk-...")?;
/// let balance = client.fetch(&account).await?;
/// println!("{}", serde_json::to_string_pretty(&balance).unwrap());
/// # Ok(()) }
/// ```
///
/// Requires a Tokio runtime (with the time driver) when fetching.
#[derive(Clone)]
pub struct BalanceClient {
    shared: Arc<Shared>,
}

struct Shared {
    http: reqwest::Client,
    /// The connect limit `http` itself enforces: [`TimeoutConfig::connect`] for the facade's
    /// own client, unknown (`None`) for a caller's, so that a timeout reqwest reports is only
    /// ever called the connect limit when it is that limit.
    http_connect_limit: Option<Duration>,
    retry: RetryConfig,
    timeout: TimeoutConfig,
    concurrency: usize,
    clock: Clock,
}

impl fmt::Debug for BalanceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Holds no credential, but is written by hand like every other type here, so a
        // field added later cannot leak through a derive.
        f.debug_struct("BalanceClient")
            .field("retry", &self.shared.retry)
            .field("timeout", &self.shared.timeout)
            .field("concurrency", &self.shared.concurrency)
            .finish_non_exhaustive()
    }
}

/// Builds a [`BalanceClient`]. Every setting has a documented default.
#[derive(Clone, Debug)]
pub struct BalanceClientBuilder {
    retry: RetryConfig,
    timeout: TimeoutConfig,
    concurrency: usize,
    user_agent: String,
    http: Option<reqwest::Client>,
    clock: Clock,
}

impl Default for BalanceClientBuilder {
    fn default() -> Self {
        Self {
            retry: RetryConfig::default(),
            timeout: TimeoutConfig::default(),
            concurrency: DEFAULT_CONCURRENCY,
            user_agent: concat!("balances/", env!("CARGO_PKG_VERSION")).to_owned(),
            http: None,
            clock: Clock::default(),
        }
    }
}

impl BalanceClientBuilder {
    /// Retry policy; default [`RetryConfig::default`].
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Timeouts; default [`TimeoutConfig::default`].
    pub fn timeout(mut self, timeout: TimeoutConfig) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many accounts [`BalanceClient::fetch_all`] queries at once; default
    /// [`DEFAULT_CONCURRENCY`]. Zero is treated as one.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The `User-Agent` header; default `balances/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sends every request through `http`, a `reqwest::Client` of the caller's: a proxy, a
    /// custom CA or client certificate (mTLS), its own connection pool, TLS backend or
    /// middleware built into it.
    ///
    /// The facade still applies, per request, everything that is not a property of the
    /// `reqwest::Client`: the response size cap, the attempt and call timeouts, retries with
    /// backoff, auth headers and signatures, redaction of credentials. What the caller's client
    /// decides, and must therefore not loosen:
    ///
    /// - **redirects**: the facade's own client follows same-origin redirects only (see
    ///   [`crate::redirect`]); build yours with `redirect(Policy::none())` or a policy that
    ///   never leaves the origin, or a vendor could send the key elsewhere;
    /// - **the connect timeout** (`connect_timeout`): [`TimeoutConfig::connect`] is not applied
    ///   to a client built elsewhere;
    /// - **default headers**: an `Authorization` default header would be sent to every vendor;
    /// - the `User-Agent` ([`BalanceClientBuilder::user_agent`] is then ignored).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .connect_timeout(std::time::Duration::from_secs(3))
    ///     .build()?;
    /// let client = balances::BalanceClient::builder().http_client(http).build()?;
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// What time it is, for the period a spend reading asks for (the calendar month in UTC
    /// that `now()` falls in); default the system clock. Tests fix it.
    pub fn clock(mut self, now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Clock(Arc::new(now));
        self
    }

    /// Builds the client and its connection pool.
    pub fn build(mut self) -> Result<BalanceClient, Error> {
        if let Some(http) = self.http.take() {
            return Ok(BalanceClient::with_parts(self, http, None));
        }
        let mut http = reqwest::Client::builder()
            .user_agent(&self.user_agent)
            // Same-origin redirects only: credentials never follow a vendor elsewhere.
            .redirect(crate::redirect::policy());
        if let Some(connect) = self.timeout.connect() {
            http = http.connect_timeout(connect);
        }
        let http = http.build().map_err(|e| ConfigError::HttpClient {
            message: e.to_string(),
        })?;
        let connect = self.timeout.connect();
        Ok(BalanceClient::with_parts(self, http, connect))
    }
}

impl BalanceClient {
    fn with_parts(
        builder: BalanceClientBuilder,
        http: reqwest::Client,
        http_connect_limit: Option<Duration>,
    ) -> Self {
        BalanceClient {
            shared: Arc::new(Shared {
                http,
                http_connect_limit,
                retry: builder.retry,
                timeout: builder.timeout,
                concurrency: builder.concurrency,
                clock: builder.clock,
            }),
        }
    }

    /// The connect limit the HTTP client enforces, if the facade knows it.
    pub(crate) fn http_connect_limit(&self) -> Option<Duration> {
        self.shared.http_connect_limit
    }

    /// The period a spend reading asks for now: the current calendar month in UTC, by the
    /// client's clock ([`BalanceClientBuilder::clock`]).
    pub fn spend_period(&self) -> Period {
        Period::month_of((self.shared.clock.0)())
    }

    /// A builder with the defaults.
    pub fn builder() -> BalanceClientBuilder {
        BalanceClientBuilder::default()
    }

    /// A client with every default.
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// The retry policy in use.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.shared.retry
    }

    /// The timeouts in use.
    pub fn timeout_config(&self) -> &TimeoutConfig {
        &self.shared.timeout
    }

    /// How many accounts [`BalanceClient::fetch_all`] fetches at once.
    pub fn concurrency(&self) -> usize {
        self.shared.concurrency
    }

    /// The shared `reqwest::Client` (one connection pool for every account).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.shared.http
    }

    /// Fetches one account's balance, retrying transient failures as the
    /// [`RetryConfig`] allows, within the [`TimeoutConfig`].
    pub async fn fetch(&self, account: &Account) -> Result<Balance, Error> {
        let span = tracing::debug_span!(
            "balance",
            account = account.name(),
            vendor = account.vendor().as_str()
        );
        let deadline = self.shared.timeout.call().and_then(deadline_after);
        self.fetch_with_retries(account, deadline)
            .instrument(span)
            .await
    }

    /// The retry loop. The call deadline bounds every attempt (each attempt runs under one
    /// timer: the sooner of its own limit and the call deadline) and every backoff (a wait
    /// that would pass the deadline ends the call at once), so no outer timer is needed.
    async fn fetch_with_retries(
        &self,
        account: &Account,
        deadline: Option<Instant>,
    ) -> Result<Balance, Error> {
        let retry = &self.shared.retry;
        let max_attempts = retry.max_attempts();
        let mut attempt = 1;
        loop {
            tracing::debug!(attempt, max_attempts, "sending request");
            let error = match self.attempt(account, deadline).await {
                Ok(balance) => {
                    tracing::debug!(attempt, "balance fetched");
                    return Ok(balance);
                }
                Err(error) => error,
            };
            let kind = error.kind().as_str();
            if !error.is_retryable() {
                tracing::debug!(attempt, kind, "not retryable");
                return Err(error);
            }
            if attempt >= max_attempts {
                tracing::debug!(attempt, kind, "no attempts left");
                return Err(error);
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                tracing::debug!(attempt, kind, "call deadline reached");
                return Err(self.call_timeout(account));
            }
            let wait = match error.retry_after() {
                Some(wait) if wait > retry.max_retry_after() => {
                    tracing::debug!(?wait, "Retry-After is longer than allowed; not waiting");
                    return Err(error);
                }
                Some(wait) => wait,
                None => retry.backoff(attempt),
            };
            // A wait too long to add to the clock certainly passes any deadline.
            if deadline
                .is_some_and(|deadline| deadline_after(wait).is_none_or(|woken| woken >= deadline))
            {
                // Sleeping past the deadline would only turn this error into a timeout.
                tracing::debug!(?wait, kind, "the wait would pass the call deadline");
                return Err(error);
            }
            tracing::debug!(attempt, kind, ?wait, "retrying after backoff");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        account: &Account,
        call_deadline: Option<Instant>,
    ) -> Result<Balance, Error> {
        let shared = &self.shared;
        let attempt = vendor::attempt(
            &shared.http,
            account,
            shared.http_connect_limit,
            self.spend_period(),
        );
        let timeout = &shared.timeout;
        let attempt_deadline = timeout
            .attempt()
            .and_then(|limit| Some((deadline_after(limit)?, limit, TimeoutLimit::Attempt)));
        let call_deadline = call_deadline
            .zip(timeout.call())
            .map(|(at, limit)| (at, limit, TimeoutLimit::Call));
        let (deadline, after, limit) = match (attempt_deadline, call_deadline) {
            (None, None) => return attempt.await,
            (Some(ours), Some(call)) if call.0 < ours.0 => call,
            (Some(ours), _) => ours,
            (None, Some(call)) => call,
        };
        tokio::time::timeout_at(deadline, attempt)
            .await
            .unwrap_or_else(|_| {
                tracing::debug!(?after, %limit, "timed out");
                Err(Error::Timeout {
                    account: account.name().to_owned(),
                    vendor: account.vendor(),
                    after,
                    limit,
                })
            })
    }

    /// The error for a call whose deadline passed between attempts (there is a deadline, so
    /// there is a call limit).
    fn call_timeout(&self, account: &Account) -> Error {
        Error::Timeout {
            account: account.name().to_owned(),
            vendor: account.vendor(),
            after: self.shared.timeout.call().unwrap_or(Duration::MAX),
            limit: TimeoutLimit::Call,
        }
    }

    /// Fetches every account, at most [`BalanceClientBuilder::concurrency`] at a time, and
    /// returns one result per account **in input order**. One account failing never hides
    /// the others.
    pub async fn fetch_all(&self, accounts: &[Account]) -> Vec<Result<Balance, Error>> {
        let mut results: Vec<(usize, Result<Balance, Error>)> =
            self.fetch_stream(accounts).collect().await;
        results.sort_by_key(|(index, _)| *index);
        results.into_iter().map(|(_, result)| result).collect()
    }

    /// Like [`BalanceClient::fetch_all`], but yields each result as soon as it is ready, with
    /// the account's index in `accounts` (for progress bars and streaming output).
    pub fn fetch_stream<'a>(
        &'a self,
        accounts: &'a [Account],
    ) -> impl Stream<Item = (usize, Result<Balance, Error>)> + 'a {
        futures::stream::iter(accounts.iter().enumerate())
            .map(move |(index, account)| async move { (index, self.fetch(account).await) })
            .buffer_unordered(self.shared.concurrency)
    }

    /// The escape hatch: what a generated client needs to call `account`'s vendor
    /// directly, on this client's connection pool: the base URL, the auth headers of the
    /// vendor's scheme (marked sensitive) and, for a signing scheme, the [`Signer`]. Calls
    /// made that way bypass this crate's retries and normalization; map their errors with
    /// [`BalanceClient::generated_error`].
    ///
    /// [`Signer`]: crate::eiotclub::Signer
    pub fn authorize(&self, account: &Account) -> Result<Authorized, Error> {
        Authorized::new(&self.shared.http, account)
    }
}

/// The instant `limit` from now, or `None` when that is past what the clock can represent:
/// a limit of centuries (`Duration::MAX`) never fires, which is what it means.
fn deadline_after(limit: Duration) -> Option<Instant> {
    Instant::now().checked_add(limit)
}

/// The time source of [`BalanceClientBuilder::clock`].
#[derive(Clone)]
struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Default for Clock {
    fn default() -> Self {
        Clock(Arc::new(|| {
            DateTime::<Utc>::from(std::time::SystemTime::now())
        }))
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}
