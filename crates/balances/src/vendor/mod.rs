//! Running one attempt and turning its response into a [`Balance`] or an [`Error`], for
//! every vendor alike: the request goes out through the vendor's generated client (its
//! `balance::fetch`, listed by `balances-vendors`), the response is projected by the
//! vendor's generated `balance::project`, and the projection is normalized here
//! (`normalize`); errors are read from the raw response by the vendor's description
//! (`described`).

use balances_runtime::projection::{Failure, Projection};
use balances_runtime::{Binding, Call, Exchange, Sent};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use balances_registry::ErrorKindName;

use crate::account::Account;
use crate::auth::Redactor;
use crate::balance::Balance;
use crate::error::{Cause, Error, TimeoutLimit};
use crate::retry::parse_retry_after;

mod described;
mod further;
mod normalize;
mod spend;

pub(crate) use further::interpret_all;

use described::described;

/// The largest response body read, in bytes (the generated clients' runtime applies it).
pub use balances_runtime::MAX_RESPONSE_BODY_BYTES;

/// An error body's content.
#[derive(Debug)]
pub(crate) struct VendorMessage {
    pub(crate) code: Option<String>,
    pub(crate) message: String,
    /// What the body's code means whatever the HTTP status, when the description maps it
    /// (`errors.codes`).
    pub(crate) kind: Option<ErrorKindName>,
    /// The code plainly says the credentials were refused (`unauthorized`,
    /// `authentication_error`): authentication, unless the status says otherwise.
    pub(crate) refused_key: bool,
}

impl VendorMessage {
    /// What the code means on its own: the description's mapping, else a refused key.
    fn code_kind(&self) -> Option<ErrorKindName> {
        self.kind
            .or(self.refused_key.then_some(ErrorKindName::Authentication))
    }
}

/// Whether a vendor's error code or type means "the key was refused". Vendors spell it
/// `unauthorized`, `authentication_error`, `invalid_api_key`, `AuthenticationError`...
pub(crate) fn means_authentication(label: &str) -> bool {
    let label = label.to_ascii_lowercase();
    ["auth", "invalid_api_key", "invalid_key", "api_key_invalid"]
        .iter()
        .any(|word| label.contains(word))
}

/// The generated balance operation of `account`'s vendor, when that vendor is compiled in
/// (the `balances-vendors` feature of the same name).
pub(crate) fn binding(account: &Account) -> Result<&'static Binding, Error> {
    let vendor = account.vendor();
    balances_vendors::binding(vendor.as_str()).ok_or_else(|| Error::InvalidRequest {
        account: account.name().to_owned(),
        vendor,
        reason: format!(
            "the vendor `{vendor}` is not compiled into this build (enable the `{vendor}` \
             feature of the balances-vendors crate)"
        ),
    })
}

/// Runs one attempt: the vendor's generated operation, sent with the account's
/// authentication, and its response interpreted.
pub(crate) async fn attempt(
    http: &reqwest::Client,
    account: &Account,
    connect_timeout: Option<std::time::Duration>,
    spend_period: balances_runtime::pages::Period,
) -> Result<Balance, Error> {
    let binding = binding(account)?;
    account.check_base_url()?;
    let authentication = described(account).authenticate(account)?;
    let base_url = account.effective_base_url();
    let mut call = Call::new(&base_url, http, authentication.context);
    for (name, value) in account.required_parameters()? {
        call = call.with_parameter(name, value);
    }
    if account.vendor().entry().description.balance.spend.is_some() {
        call = call.with_period(spend_period);
    }
    if let Some(body) = authentication.body {
        call = call.with_body(body);
    }
    let sent = (binding.fetch)(call).await;
    outcome(account, sent, connect_timeout)
}

/// What a generated operation's outcome means: the one mapping for [`attempt`] and for the
/// escape hatch's errors.
pub(crate) fn outcome(
    account: &Account,
    sent: Sent,
    connect_timeout: Option<std::time::Duration>,
) -> Result<Balance, Error> {
    let (name, vendor) = (account.name().to_owned(), account.vendor());
    match sent {
        Sent::Projected {
            projection,
            exchange,
        } => {
            tracing::debug!(
                status = exchange.status.as_u16(),
                bytes = exchange.body.len(),
                "response received"
            );
            settle(
                account,
                exchange.status,
                &exchange.headers,
                &exchange.body,
                projection,
            )
        }
        Sent::Response(Exchange {
            status,
            headers,
            body,
        }) => {
            tracing::debug!(
                status = status.as_u16(),
                bytes = body.len(),
                "response received"
            );
            interpret(account, status, &headers, &body)
        }
        Sent::TooLarge { limit } => Err(Error::ResponseTooLarge {
            account: name,
            vendor,
            limit,
        }),
        Sent::BodyFailed { status, error } => match (error, connect_timeout) {
            (Some(error), Some(after)) if error.is_timeout() => Err(Error::Timeout {
                account: name,
                vendor,
                after,
                limit: TimeoutLimit::Connect,
            }),
            (Some(error), _) => {
                let error = error.without_url();
                let reason = format!("body broke off: {}", describe(&error));
                Err(network_failure(account, Some(status), reason, error))
            }
            (None, _) => Err(Error::Transient {
                account: name,
                vendor,
                status: Some(status.as_u16()),
                reason: "body broke off".into(),
                retry_after: None,
                source: None,
            }),
        },
        Sent::NoResponse(error) => Err(no_response(account, error, connect_timeout)),
        Sent::NotSent(reason) => Err(Error::InvalidRequest {
            account: name,
            vendor,
            reason: Redactor::for_account(account).redact(&reason),
        }),
        // A kind of outcome this version does not know: nothing it can read.
        _ => Err(Error::InvalidRequest {
            account: name,
            vendor,
            reason: "the generated client ended in a way this version does not know".into(),
        }),
    }
}

/// The error for a request that got no response: a refused redirect, the connect timeout,
/// or a network failure (its `reqwest::Error` kept, without the URL, as the cause).
fn no_response(
    account: &Account,
    error: reqwest::Error,
    connect_timeout: Option<std::time::Duration>,
) -> Error {
    let error = error.without_url();
    if let Some(refused) = crate::redirect::refusal(&error) {
        return Error::Redirected {
            account: account.name().to_owned(),
            vendor: account.vendor(),
            origin: refused.origin.clone(),
            too_many: refused.too_many,
        };
    }
    match connect_timeout {
        Some(after) if error.is_timeout() => Error::Timeout {
            account: account.name().to_owned(),
            vendor: account.vendor(),
            after,
            limit: TimeoutLimit::Connect,
        },
        // Without a connect limit reqwest has no timer of its own: report what it said.
        _ if error.is_connect() || error.is_request() => {
            let reason = format!("request failed: {}", describe(&error));
            network_failure(account, None, reason, error)
        }
        _ => {
            let reason = describe(&error);
            network_failure(account, None, reason, error)
        }
    }
}

/// A reqwest error as text, with its causes, which carry the useful part ("connection
/// refused"). The URL was removed when the error was kept.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A transient failure caused by the network: `reason` (redacted) for people, `source` (its
/// URL already removed) for callers that look at the cause.
pub(crate) fn network_failure(
    account: &Account,
    status: Option<StatusCode>,
    reason: String,
    source: reqwest::Error,
) -> Error {
    Error::Transient {
        account: account.name().to_owned(),
        vendor: account.vendor(),
        status: status.map(|s| s.as_u16()),
        reason: Redactor::for_account(account).redact(&reason),
        retry_after: None,
        source: Some(Cause::new(source)),
    }
}

pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Turns a complete response into a balance or an error. The status decides first; the
/// body only adds detail. Used for responses the generated operation did not return as a
/// success, and by [`crate::decode`] for bytes a caller got another way: a 2xx body goes
/// through the vendor's generated decoding and projection, as in a fetch.
pub(crate) fn interpret(
    account: &Account,
    http_status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Balance, Error> {
    // Some gateways put a UTF-8 byte order mark before the JSON; serde_json refuses it.
    let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
    if !http_status.is_success() {
        return Err(status_error(account, http_status, headers, body));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        // Seen under load: the connection ends before any JSON. Worth another try.
        return Err(Error::Transient {
            account: account.name().to_owned(),
            vendor: account.vendor(),
            status: Some(http_status.as_u16()),
            reason: "empty response body".into(),
            retry_after: None,
            source: None,
        });
    }
    let projection = (binding(account)?.decode)(body);
    settle(account, http_status, headers, body, projection)
}

/// The error for a 2xx response of any generated operation whose body did not decode into
/// its type (the escape hatch): blank or truncated is transient, the vendor's error body
/// says what the vendor said, anything else is undecodable.
pub(crate) fn undecoded_success(account: &Account, exchange: &Exchange) -> Error {
    let body = exchange
        .body
        .strip_prefix(UTF8_BOM)
        .unwrap_or(&exchange.body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Error::Transient {
            account: account.name().to_owned(),
            vendor: account.vendor(),
            status: Some(exchange.status.as_u16()),
            reason: "empty response body".into(),
            retry_after: None,
            source: None,
        };
    }
    let failure = match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Err(e) => Failure::Json(e),
        Ok(_) => Failure::Invalid("the body is not the operation's documented response".into()),
    };
    match settle(
        account,
        exchange.status,
        &exchange.headers,
        body,
        Err(failure),
    ) {
        Err(error) => error,
        Ok(_) => Error::InvalidRequest {
            account: account.name().to_owned(),
            vendor: account.vendor(),
            reason: "an undecodable body gave a balance".into(),
        },
    }
}

/// A success response's projection made into a balance, or the error it stands for. What
/// follows a failure reads the raw body: the vendor's error may be inside a 2xx.
pub(crate) fn settle(
    account: &Account,
    http_status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    projection: Result<Projection, Failure>,
) -> Result<Balance, Error> {
    let failure = match projection.map(|p| normalize::normalize(account, p)) {
        Ok(Ok(balance)) => return Ok(balance),
        Ok(Err(reason)) => Failure::Invalid(reason),
        Err(failure) => failure,
    };
    let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
    let described = described(account);
    let redactor = Redactor::for_account(account);
    let (name, vendor) = (account.name().to_owned(), account.vendor());
    let status = http_status.as_u16();
    // A vendor or a gateway in front of it may have put its error in a 2xx body, or the
    // envelope says the call failed: say what the vendor said (a vendor that reports
    // throttling in-band may still say how long to wait).
    if let Some(details) = described.error_details(body) {
        let retry_after = retry_after(headers);
        return Err(vendor_error(
            account,
            &redactor,
            status,
            details,
            retry_after,
        ));
    }
    Err(match failure {
        Failure::Json(e) if e.is_eof() => Error::Transient {
            account: name,
            vendor,
            status: Some(status),
            reason: "truncated response body".into(),
            retry_after: None,
            source: None,
        },
        Failure::Envelope => Error::Vendor {
            account: name,
            vendor,
            status,
            code: status.to_string(),
            message: "the response's envelope reports a failure".into(),
        },
        // serde's message may quote a value from the body: redact it too.
        other => Error::Undecodable {
            account: name,
            vendor,
            status: Some(status),
            reason: redactor.redact(&other.to_string()),
            excerpt: redactor.excerpt(body),
        },
    })
}

/// The error for a response whose status is not 2xx. The status decides the kind (through
/// the vendor's overrides, then the shared table); the vendor's error body (when it parsed)
/// supplies code and message, else a redacted excerpt.
pub(crate) fn status_error(
    account: &Account,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    let described = described(account);
    let details = described.error_details(body);
    let redactor = Redactor::for_account(account);
    let (name, vendor) = (account.name().to_owned(), account.vendor());
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let message = match &details {
        Some(d) => redactor.redact(&d.message),
        None if blank => status.canonical_reason().unwrap_or("no message").to_owned(),
        None => redactor.excerpt(body),
    };
    let retry_after = retry_after(headers);
    let status = status.as_u16();

    // The description's status override first, then what the description says the body's
    // code means (whatever the status), then the shared table.
    let kind = described
        .status_kind(status)
        .or(details.as_ref().and_then(|d| d.kind))
        .or(match status {
            401 | 403 => Some(ErrorKindName::Authentication),
            402 => Some(ErrorKindName::InsufficientBalance),
            410 => Some(ErrorKindName::EndpointRetired),
            429 => Some(ErrorKindName::RateLimited),
            408 | 500..=599 => Some(ErrorKindName::Transient),
            _ => None,
        });
    let code = details
        .as_ref()
        .and_then(|d| d.code.as_deref())
        .map(|code| redactor.redact(code));
    match (kind, details) {
        (Some(kind), _) if kind != ErrorKindName::Vendor => {
            error_of_kind(kind, account, status, message, retry_after, code)
        }
        // Other 4xx (and stray 1xx, or a 3xx the redirect policy left unfollowed, such as one
        // without a Location): the vendor's own error when the body says which, else an
        // answer we cannot read.
        (_, Some(details)) => vendor_error(account, &redactor, status, details, retry_after),
        (_, None) => Error::Undecodable {
            account: name,
            vendor,
            status: Some(status),
            reason: format!("HTTP {status} without the vendor's error body"),
            excerpt: redactor.excerpt(body),
        },
    }
}

/// The error a vendor's own error body describes: the kind its code means (authentication
/// when it says the key was refused), else the vendor's error with its code (or the status,
/// without one).
fn vendor_error(
    account: &Account,
    redactor: &Redactor<'_>,
    status: u16,
    details: VendorMessage,
    retry_after: Option<std::time::Duration>,
) -> Error {
    let message = redactor.redact(&details.message);
    match details.code_kind() {
        Some(kind) if kind != ErrorKindName::Vendor => {
            let code = details.code.as_deref().map(|code| redactor.redact(code));
            error_of_kind(kind, account, status, message, retry_after, code)
        }
        _ => Error::Vendor {
            account: account.name().to_owned(),
            vendor: account.vendor(),
            status,
            code: details
                .code
                .map(|code| redactor.redact(&code))
                .unwrap_or_else(|| status.to_string()),
            message,
        },
    }
}

/// The `Retry-After` a response carries, when it parses.
fn retry_after(headers: &HeaderMap) -> Option<std::time::Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()))
}

/// The error of a kind the status table or the vendor's description names (not
/// [`ErrorKindName::Vendor`], which needs the vendor's code). `code` is the vendor's
/// (redacted), when its body had one.
fn error_of_kind(
    kind: ErrorKindName,
    account: &Account,
    status: u16,
    message: String,
    retry_after: Option<std::time::Duration>,
    code: Option<String>,
) -> Error {
    let (account, vendor) = (account.name().to_owned(), account.vendor());
    match kind {
        ErrorKindName::ClockSkew => Error::ClockSkew {
            account,
            vendor,
            status,
            code: code.unwrap_or_else(|| status.to_string()),
            message,
        },
        ErrorKindName::EndpointRetired => Error::EndpointRetired {
            account,
            vendor,
            status,
            code: code.unwrap_or_else(|| status.to_string()),
            message,
        },
        ErrorKindName::Authentication => Error::Authentication {
            account,
            vendor,
            status,
            message,
        },
        ErrorKindName::InsufficientBalance => Error::InsufficientBalance {
            account,
            vendor,
            status,
            message,
        },
        ErrorKindName::RateLimited => Error::RateLimited {
            account,
            vendor,
            status,
            retry_after,
        },
        _ => Error::Transient {
            account,
            vendor,
            status: Some(status),
            reason: message,
            retry_after,
            source: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use bytes::Bytes;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn raw(status: u16, body: &str) -> Exchange {
        Exchange {
            status: StatusCode::from_u16(status).expect("valid status"),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    fn run(account: &Account, raw: Exchange) -> Result<Balance, Error> {
        interpret(account, raw.status, &raw.headers, &raw.body)
    }

    fn kind_of(account: &Account, status: u16, body: &str) -> ErrorKind {
        match run(account, raw(status, body)) {
            Ok(balance) => panic!("HTTP {status} gave a balance: {balance:?}"),
            Err(e) => e.kind(),
        }
    }

    fn vendor(id: &str) -> crate::Vendor {
        crate::Vendor::find(id).expect("in the registry")
    }

    fn key_account(id: &str, name: &str, key: &str) -> Account {
        Account::api_key(name, vendor(id), key).expect("a key vendor")
    }

    const DS_ERROR: &str = r#"{"error":{"message":"m","type":"t","param":null,"code":"c"}}"#;
    const GK_ERROR: &str = r#"{"code":"c","message":"m"}"#;
    const HTML: &str = "<html><body><h1>Error</h1></body></html>";

    #[test]
    fn deepseek_status_table() {
        use ErrorKind::*;
        let account = key_account("deepseek", "a", "k");
        let table = [
            (400, Vendor),
            (401, Authentication),
            (402, InsufficientBalance),
            (422, Vendor),
            (429, RateLimited),
            (500, Transient),
            (503, Transient),
            (502, Transient),
            (504, Transient),
        ];
        for (status, kind) in table {
            assert_eq!(kind_of(&account, status, DS_ERROR), kind, "HTTP {status}");
        }
    }

    #[test]
    fn geekai_status_table() {
        use ErrorKind::*;
        let account = key_account("geekai", "a", "k");
        let table = [
            (400, Vendor),
            (401, Authentication),
            (402, InsufficientBalance),
            (403, Authentication),
            (404, Vendor),
            (413, Vendor),
            (429, RateLimited),
            (500, Transient),
            (503, Transient),
            (504, Transient),
        ];
        for (status, kind) in table {
            assert_eq!(kind_of(&account, status, GK_ERROR), kind, "HTTP {status}");
        }
    }

    #[test]
    fn a_description_overrides_statuses_and_maps_codes() {
        use ErrorKind::*;
        let mut entry = vendor("geekai").entry().clone();
        entry.description.errors = toml::from_str(
            "code = [\"/code\"]\nmessage = [\"/message\"]\n\
             status = { \"422\" = \"rate_limited\", \"503\" = \"vendor\" }\n\
             codes = { out_of_coins = \"insufficient_balance\", busy = \"transient\" }",
        )
        .expect("an error mapping");
        let account =
            Account::api_key("a", crate::Vendor::unregistered(entry), "k").expect("a key vendor");
        let body = |code: &str| format!(r#"{{"code":"{code}","message":"m"}}"#);
        for (status, code, kind) in [
            (422, "x", RateLimited),
            (503, "x", Vendor),
            (400, "out_of_coins", InsufficientBalance),
            (200, "out_of_coins", InsufficientBalance),
            (400, "busy", Transient),
            (400, "other", Vendor),
            // The shared table still holds where the description says nothing.
            (401, "x", Authentication),
            (429, "x", RateLimited),
        ] {
            assert_eq!(
                kind_of(&account, status, &body(code)),
                kind,
                "HTTP {status} {code}"
            );
        }
    }

    #[test]
    fn html_pages_are_judged_by_status() {
        use ErrorKind::*;
        let account = key_account("deepseek", "a", "k");
        for (status, kind) in [
            (200, Undecodable),
            (404, Undecodable),
            (401, Authentication),
            (429, RateLimited),
            (502, Transient),
            (503, Transient),
        ] {
            assert_eq!(kind_of(&account, status, HTML), kind, "HTTP {status}");
        }
    }

    #[test]
    fn vendor_error_carries_code_and_message() {
        let account = key_account("deepseek", "a", "k");
        let error = run(&account, raw(422, DS_ERROR));
        assert_eq!(
            error,
            Err(Error::Vendor {
                account: "a".into(),
                vendor: vendor("deepseek"),
                status: 422,
                code: "c".into(),
                message: "m".into()
            })
        );
    }

    #[test]
    fn retry_after_is_read_on_429_and_503() {
        let account = key_account("geekai", "a", "k");
        for status in [429, 503] {
            let mut response = raw(status, GK_ERROR);
            response
                .headers
                .insert(RETRY_AFTER, HeaderValue::from_static("7"));
            let error = run(&account, response).expect_err("error");
            assert_eq!(error.retry_after(), Some(std::time::Duration::from_secs(7)));
        }
    }

    #[test]
    fn empty_and_truncated_success_bodies_are_transient() {
        let account = key_account("deepseek", "a", "k");
        for body in [
            "",
            " \n\n ",
            r#"{"is_available":true,"balance_infos":[{"curr"#,
        ] {
            assert_eq!(
                kind_of(&account, 200, body),
                ErrorKind::Transient,
                "{body:?}"
            );
        }
    }

    #[test]
    fn an_error_body_inside_a_2xx_says_what_the_vendor_said() {
        let geekai = key_account("geekai", "a", "gk-test-key");
        let body = r#"{"code":"unauthorized","message":"Invalid API key or token"}"#;
        assert_eq!(
            run(&geekai, raw(200, body)),
            Err(Error::Authentication {
                account: "a".into(),
                vendor: vendor("geekai"),
                status: 200,
                message: "Invalid API key or token".into(),
            })
        );
        let body = r#"{"code":"quota_exceeded","message":"slow down"}"#;
        assert_eq!(
            run(&geekai, raw(200, body)),
            Err(Error::Vendor {
                account: "a".into(),
                vendor: vendor("geekai"),
                status: 200,
                code: "quota_exceeded".into(),
                message: "slow down".into(),
            })
        );

        // A gateway in front of DeepSeek answering 200 with an OpenAI-style error.
        let deepseek = key_account("deepseek", "a", "sk-test-key");
        let body = r#"{"error":{"message":"Incorrect API key","type":"authentication_error"}}"#;
        let error = run(&deepseek, raw(200, body)).expect_err("an error body");
        assert_eq!(error.kind(), ErrorKind::Authentication);
        assert!(error.to_string().contains("Incorrect API key"), "{error}");
        let body = r#"{"error":{"message":"upstream overloaded","type":"server_error"}}"#;
        let error = run(&deepseek, raw(200, body)).expect_err("an error body");
        assert_eq!(error.kind(), ErrorKind::Vendor);
        assert!(error.to_string().contains("upstream overloaded"), "{error}");
    }

    #[test]
    fn a_4xx_whose_code_means_authentication_is_authentication() {
        let geekai = key_account("geekai", "a", "k");
        let body = r#"{"code":"unauthorized","message":"Invalid API key or token"}"#;
        assert_eq!(kind_of(&geekai, 400, body), ErrorKind::Authentication);
    }

    // Property tests over arbitrary bodies, statuses and near-valid JSON, through the
    // public `decode` (which is this function), are in tests/properties.rs.

    #[test]
    fn echoed_key_is_redacted_from_message_and_excerpt() {
        let account = key_account("geekai", "a", "gk-canary");
        let body = r#"{"code":"unauthorized","message":"bad key gk-canary"}"#;
        let error = run(&account, raw(401, body)).expect_err("401");
        assert!(!format!("{error} {error:?}").contains("gk-canary"));
        let error = run(&account, raw(404, "no route gk-canary")).expect_err("404");
        assert!(!format!("{error} {error:?}").contains("gk-canary"));
    }
}
