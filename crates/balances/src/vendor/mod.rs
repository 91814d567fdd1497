//! Running one attempt and turning its response into a [`Balance`] or an [`Error`], for
//! every vendor alike: requests and responses follow the vendor's description
//! (`described`).

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use balances_registry::ErrorKindName;

use crate::account::Account;
use crate::auth::Redactor;
use crate::balance::Balance;
use crate::error::{Cause, Error, TimeoutLimit};
use crate::retry::parse_retry_after;
use crate::transport::{self, TransportError};

mod described;

use described::described;

/// The largest response body read, in bytes: the cap every generated client applies too
/// (`cargo xtask codegen` writes the same value into each).
pub const MAX_RESPONSE_BODY_BYTES: usize = 1024 * 1024;

/// An error body's content.
#[derive(Debug)]
pub(crate) struct VendorMessage {
    pub(crate) code: Option<String>,
    pub(crate) message: String,
    /// What the body's code means whatever the HTTP status, when the description maps it
    /// or it plainly says the credentials were refused (`unauthorized`,
    /// `authentication_error`).
    pub(crate) kind: Option<ErrorKindName>,
}

/// Whether a vendor's error code or type means "the key was refused". Vendors spell it
/// `unauthorized`, `authentication_error`, `invalid_api_key`, `AuthenticationError`...
pub(crate) fn means_authentication(label: &str) -> bool {
    let label = label.to_ascii_lowercase();
    ["auth", "invalid_api_key", "invalid_key", "api_key_invalid"]
        .iter()
        .any(|word| label.contains(word))
}

/// Why a 2xx body did not give a balance.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Not JSON of the documented shape (truncated JSON is told apart by `is_eof`).
    Json(serde_json::Error),
    /// The right shape, but contents that cannot be normalized.
    Invalid(String),
    /// The vendor reported an error inside a 2xx response (EIOTClub's envelope).
    Vendor { code: String, message: String },
}

/// Runs one attempt: build, send, read (capped), interpret.
pub(crate) async fn attempt(
    http: &reqwest::Client,
    account: &Account,
    connect_timeout: Option<std::time::Duration>,
) -> Result<Balance, Error> {
    let request = described(account).request(http, account)?;
    let raw = transport::execute(request, MAX_RESPONSE_BODY_BYTES)
        .await
        .map_err(|e| transport_error(account, e, connect_timeout))?;
    tracing::debug!(
        status = raw.status.as_u16(),
        bytes = raw.body.len(),
        "response received"
    );
    interpret(account, raw.status, &raw.headers, &raw.body)
}

fn transport_error(
    account: &Account,
    error: TransportError,
    connect_timeout: Option<std::time::Duration>,
) -> Error {
    let (name, vendor) = (account.name().to_owned(), account.vendor());
    let transient = |status: Option<StatusCode>, reason: String, source: reqwest::Error| {
        network_failure(account, status, reason, source)
    };
    match error {
        TransportError::Timeout(source) => match connect_timeout {
            Some(after) => Error::Timeout {
                account: name.clone(),
                vendor,
                after,
                limit: TimeoutLimit::Connect,
            },
            // Without a connect limit reqwest has no timer of its own: report what it said.
            None => transient(None, transport::describe(&source), source),
        },
        TransportError::Connect(source) => transient(
            None,
            format!("request failed: {}", transport::describe(&source)),
            source,
        ),
        TransportError::Body { status, error } => transient(
            Some(status),
            format!("body broke off: {}", transport::describe(&error)),
            error,
        ),
        TransportError::Other(source) => transient(None, transport::describe(&source), source),
        TransportError::Redirect { origin, too_many } => Error::Redirected {
            account: name.clone(),
            vendor,
            origin,
            too_many,
        },
        TransportError::TooLarge { limit } => Error::ResponseTooLarge {
            account: name.clone(),
            vendor,
            limit,
        },
    }
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

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Turns a complete response into a balance or an error. The status decides first; the
/// body only adds detail. The one decoding path: [`attempt`] calls it for responses read
/// from the network, [`crate::decode`] for bytes a caller got another way.
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
    let described = described(account);
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let failure = if blank {
        None
    } else {
        match described.decode(account, body) {
            Ok(balance) => return Ok(balance),
            Err(failure) => Some(failure),
        }
    };

    // Not a balance. What follows runs on failures only: the success path above copies no
    // name and builds no redactor.
    let redactor = Redactor::for_account(account);
    let (name, vendor) = (account.name().to_owned(), account.vendor());
    let status = http_status.as_u16();
    let excerpt = || redactor.excerpt(body);
    let Some(failure) = failure else {
        // Seen under load: the connection ends before any JSON. Worth another try.
        return Err(Error::Transient {
            account: name,
            vendor,
            status: Some(status),
            reason: "empty response body".into(),
            retry_after: None,
            source: None,
        });
    };
    // A vendor or a gateway in front of it may have put its error in a 2xx body. When the
    // body is the vendor's documented error body, say what it said.
    if !matches!(failure, Failure::Vendor { .. })
        && let Some(details) = described.error_details(body)
    {
        return Err(vendor_error(account, &redactor, status, details));
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
        Failure::Json(e) => Error::Undecodable {
            account: name,
            vendor,
            status: Some(status),
            // serde's message may quote a value from the body: redact it too.
            reason: redactor.redact(&e.to_string()),
            excerpt: excerpt(),
        },
        Failure::Invalid(reason) => Error::Undecodable {
            account: name,
            vendor,
            status: Some(status),
            reason: redactor.redact(&reason),
            excerpt: excerpt(),
        },
        Failure::Vendor { code, message } => Error::Vendor {
            account: name,
            vendor,
            status,
            code: redactor.redact(&code),
            message: redactor.redact(&message),
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
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
    let status = status.as_u16();

    let kind = described.status_kind(status).or(match status {
        401 | 403 => Some(ErrorKindName::Authentication),
        402 => Some(ErrorKindName::InsufficientBalance),
        429 => Some(ErrorKindName::RateLimited),
        408 | 500..=599 => Some(ErrorKindName::Transient),
        _ => None,
    });
    match (kind, details) {
        (Some(kind), _) if kind != ErrorKindName::Vendor => {
            error_of_kind(kind, account, status, message, retry_after)
        }
        // Other 4xx (and stray 1xx, or a 3xx the redirect policy left unfollowed, such as one
        // without a Location): the vendor's own error when the body says which, else an
        // answer we cannot read.
        (_, Some(details)) => vendor_error(account, &redactor, status, details),
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
) -> Error {
    let message = redactor.redact(&details.message);
    match details.kind {
        Some(kind) if kind != ErrorKindName::Vendor => {
            error_of_kind(kind, account, status, message, None)
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

/// The error of a kind the status table or the vendor's description names (not
/// [`ErrorKindName::Vendor`], which needs the vendor's code).
fn error_of_kind(
    kind: ErrorKindName,
    account: &Account,
    status: u16,
    message: String,
    retry_after: Option<std::time::Duration>,
) -> Error {
    let (account, vendor) = (account.name().to_owned(), account.vendor());
    match kind {
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
    use crate::transport::RawResponse;
    use bytes::Bytes;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status: StatusCode::from_u16(status).expect("valid status"),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    fn run(account: &Account, raw: RawResponse) -> Result<Balance, Error> {
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
