//! What can go wrong before a request is signed. No variant carries a credential, a header
//! value or any other text that could hold one: only the names of things.

/// A request or credential that cannot be signed. Nothing here holds a secret, a key id or a
/// header value, so the error can be shown and logged as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The access key id is empty or has a character the schemes' `Authorization` syntax
    /// cannot carry (anything but visible ASCII, or one of `/ , ; =`).
    #[error(
        "the access key id is empty or has a character a signature cannot carry (only visible ASCII without '/', ',', ';' or '=')"
    )]
    InvalidAccessKeyId,
    /// The secret is empty.
    #[error("the secret is empty")]
    EmptySecret,
    /// The method is empty or not an HTTP token.
    #[error("the HTTP method is empty or not a token")]
    InvalidMethod,
    /// The host is empty or has whitespace or control characters.
    #[error("the host is empty or has whitespace or control characters")]
    InvalidHost,
    /// The path does not start with `/` (an empty path is read as `/`).
    #[error("the path does not start with '/'")]
    InvalidPath,
    /// A header name is empty or not an HTTP token.
    #[error("a header name is empty or not an HTTP token: {name:?}")]
    InvalidHeaderName {
        /// The name, as given.
        name: String,
    },
    /// A header value has a control character (a line break would forge a line of the
    /// canonical request).
    #[error("the value of header {name:?} has a control character")]
    InvalidHeaderValue {
        /// The header's name.
        name: String,
    },
    /// A header that this scheme signs is given twice; the scheme's documents do not say how
    /// two values are combined.
    #[error("header {name:?} is given more than once")]
    DuplicateHeader {
        /// The header's lowercase name.
        name: String,
    },
    /// A `Host` header disagrees with the request's host.
    #[error("a Host header disagrees with the request's host")]
    ConflictingHost,
    /// A header the scheme needs is missing.
    #[error("header {name:?} is required by this signature scheme")]
    MissingHeader {
        /// The header's lowercase name.
        name: &'static str,
    },
    /// The time is before 1970 or after 9999 (the schemes write four-digit years).
    #[error("the signing time is outside 1970..=9999")]
    TimeOutOfRange,
    /// The nonce is empty or not visible ASCII.
    #[error("the nonce is empty or not visible ASCII")]
    InvalidNonce,
    /// A credential-scope part (region or service) is empty or has a character other than
    /// ASCII letters, digits, `-` and `_`.
    #[error(
        "the {part} of the credential scope is empty or has characters other than [A-Za-z0-9_-]"
    )]
    InvalidScope {
        /// `region` or `service`.
        part: &'static str,
    },
    /// The URL cannot be signed: it has no host, or its path or query is not UTF-8 once
    /// percent-decoded.
    #[error("the URL cannot be signed: {reason}")]
    InvalidUrl {
        /// Why.
        reason: &'static str,
    },
}
