//! How the facade calls a vendor's generated balance operation without naming the vendor:
//! each generated client exports a [`Binding`] (its `balance::BINDING`), and the generated
//! `balances-vendors` crate lists the bindings of the vendors compiled in.

use std::future::Future;
use std::pin::Pin;

use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::context::{Context, Exchange, Received};
use crate::projection::{Failure, Projection};

/// One vendor's generated balance operation and projection.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    /// The vendor's id: its folder name under `specs/`.
    pub vendor: &'static str,
    /// The balance operation's operationId in the vendor's spec.
    pub operation: &'static str,
    /// Sends the balance operation through the vendor's generated client and projects the
    /// response.
    pub fetch: for<'a> fn(Call<'a>) -> Pending<'a>,
    /// Decodes a success body into the generated response type and projects it.
    pub decode: fn(&[u8]) -> Result<Projection, Failure>,
    /// The further operations `fetch` calls after the balance operation, in order (empty
    /// for most vendors), each with the decoder of its success body: for bytes fetched
    /// another way.
    pub further: &'static [Further],
}

/// A further operation of a balance (new-api's usage beside its subscription).
#[derive(Clone, Copy, Debug)]
pub struct Further {
    /// Its operationId.
    pub operation: &'static str,
    /// Decodes its success body and projects the one amount the balance takes from it.
    pub decode: fn(&[u8]) -> Result<Projection, Failure>,
}

/// The future a [`Binding::fetch`] returns.
pub type Pending<'a> = Pin<Box<dyn Future<Output = Sent> + Send + 'a>>;

/// What one call of a generated balance operation needs. Built per attempt, so a signed
/// body is fresh each time.
#[derive(Debug)]
#[non_exhaustive]
pub struct Call<'a> {
    /// The account's base URL; the operation's path is appended.
    pub base_url: &'a str,
    /// The shared connection pool.
    pub http: &'a reqwest::Client,
    /// The generated client's context: the account's auth headers.
    pub context: Context,
    /// The request body a signing scheme made, for an operation that sends one.
    pub body: Option<serde_json::Value>,
    /// The account's path parameters (the description's `account_parameters`: xAI's
    /// `team_id`), by name.
    pub parameters: Vec<(String, String)>,
    /// The period a spend report is asked for.
    pub period: Option<crate::pages::Period>,
}

impl<'a> Call<'a> {
    /// A call without a request body.
    pub fn new(base_url: &'a str, http: &'a reqwest::Client, context: Context) -> Self {
        Self {
            base_url,
            http,
            context,
            body: None,
            parameters: Vec::new(),
            period: None,
        }
    }

    /// The same call with the account's value of the path parameter `name`.
    pub fn with_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.push((name.into(), value.into()));
        self
    }

    /// The account's value of the path parameter `name`, or why there is none (the call
    /// then ends as [`Sent::NotSent`]).
    pub fn parameter(&self, name: &str) -> Result<String, String> {
        self.parameters
            .iter()
            .find(|(given, _)| given == name)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| format!("the account has no `{name}`, which the balance path needs"))
    }

    /// The same call for a spend report over `period`.
    pub fn with_period(mut self, period: crate::pages::Period) -> Self {
        self.period = Some(period);
        self
    }

    /// The same call with a request body.
    pub fn with_body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The request body as the operation's generated body type, or why there is none
    /// (the call then ends as [`Sent::NotSent`]).
    pub fn body<T: DeserializeOwned>(&self) -> Result<T, String> {
        let Some(body) = &self.body else {
            return Err(
                "the operation sends a body and the account's auth scheme made none".into(),
            );
        };
        T::deserialize(body)
            .map_err(|e| format!("the signed body does not fit the operation's body type: {e}"))
    }
}

/// How one call of a generated balance operation ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Sent {
    /// A success body decoded into the generated type, and its projection (which fails
    /// when the envelope reports a failure or an amount is missing).
    Projected {
        /// The projection, or why there is none.
        projection: Result<Projection, Failure>,
        /// The response as received.
        exchange: Exchange,
    },
    /// A whole response the generated operation did not return as a success: an error
    /// status, an undocumented status, or a success body that did not decode.
    Response(Exchange),
    /// A response whose body broke off; `error` is reqwest's.
    BodyFailed {
        /// The response's status.
        status: StatusCode,
        /// What reqwest reported.
        error: Option<reqwest::Error>,
    },
    /// A body over the cap, not read.
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// No response: connection refused, DNS, TLS, a redirect refused, a timeout.
    NoResponse(reqwest::Error),
    /// Nothing was sent: the generated builder refused the request.
    NotSent(String),
}

impl Sent {
    /// The projection and the exchange of a call whose response projected, else the outcome
    /// as it is (a failed projection included): the first of several calls that is not a
    /// projection is the result.
    #[allow(clippy::result_large_err)]
    pub fn projected(self) -> Result<(Projection, Exchange), Sent> {
        match self {
            Sent::Projected {
                projection: Ok(projection),
                exchange,
            } => Ok((projection, exchange)),
            other => Err(other),
        }
    }

    /// What a generated operation's `send()` result means, with the exchange its `context`
    /// kept: what every generated `balance::fetch` returns.
    pub fn of<T, E>(
        context: &Context,
        result: Result<ResponseValue<T>, progenitor_client::Error<E>>,
        project: impl FnOnce(&T) -> Result<Projection, Failure>,
    ) -> Sent {
        let received = context.take_received();
        match (result, received) {
            (Ok(value), Some(Received::Complete(exchange))) => Sent::Projected {
                projection: project(&value),
                exchange,
            },
            // Only a context bypassed by a hand-made client gets here.
            (Ok(value), _) => Sent::Projected {
                exchange: Exchange {
                    status: value.status(),
                    headers: value.headers().clone(),
                    body: bytes::Bytes::new(),
                },
                projection: project(&value),
            },
            (Err(_), Some(Received::Complete(exchange))) => Sent::Response(exchange),
            (Err(error), Some(Received::BodyFailed { status })) => Sent::BodyFailed {
                status,
                error: reqwest_error(error),
            },
            (Err(_), Some(Received::TooLarge { limit, .. })) => Sent::TooLarge { limit },
            (Err(error), None) => match error {
                progenitor_client::Error::CommunicationError(error) => Sent::NoResponse(error),
                progenitor_client::Error::InvalidRequest(reason)
                | progenitor_client::Error::Custom(reason) => Sent::NotSent(reason),
                _ => Sent::NotSent("the generated client sent nothing".into()),
            },
        }
    }
}

fn reqwest_error<E>(error: progenitor_client::Error<E>) -> Option<reqwest::Error> {
    match error {
        progenitor_client::Error::CommunicationError(error)
        | progenitor_client::Error::ResponseBodyError(error) => Some(error),
        _ => None,
    }
}
