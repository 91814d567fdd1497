//! Shared authentication: the header schemes of vendor descriptions (bearer, a named
//! header, a raw `Authorization`), and keeping credentials out of errors. (The body
//! signature scheme lives in [`crate::eiotclub`].)

use balances_registry::Auth;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::account::Account;
use crate::error::ConfigError;

/// The headers that authenticate `account` under its vendor's auth scheme: `Authorization:
/// Bearer <key>`, `<Header>: <key>`, a raw `Authorization: <key>` or one with another
/// scheme's prefix (`Authorization: Key <key>`); none for a scheme that
/// signs the body instead. Values are marked sensitive so that `Debug` of the header map (and
/// of a generated client holding it) prints `Sensitive` instead of the key.
pub(crate) fn auth_headers(account: &Account) -> Result<HeaderMap, ConfigError> {
    let auth = &account.vendor().entry().description.auth;
    let scheme_prefix;
    let (name, prefix) = match auth {
        Auth::Bearer => (AUTHORIZATION, "Bearer "),
        Auth::Authorization => (AUTHORIZATION, ""),
        Auth::Prefixed { prefix } => {
            scheme_prefix = format!("{prefix} ");
            (AUTHORIZATION, scheme_prefix.as_str())
        }
        Auth::Header { header } => {
            let name = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
                ConfigError::InvalidType {
                    account: account.name().to_owned(),
                    field: "api_key".into(),
                    expected: format!("a vendor description whose header `{header}` is valid"),
                }
            })?;
            (name, "")
        }
        _ => return Ok(HeaderMap::new()),
    };
    let key =
        account
            .credentials()
            .get("api_key")
            .ok_or_else(|| ConfigError::MissingCredential {
                account: account.name().to_owned(),
                field: "api_key".into(),
                env_field: "api_key_env".into(),
            })?;
    let mut headers = HeaderMap::new();
    headers.insert(name, key_value(account, prefix, key)?);
    Ok(headers)
}

fn key_value(
    account: &Account,
    prefix: &str,
    key: &SecretString,
) -> Result<HeaderValue, ConfigError> {
    let mut value = HeaderValue::from_str(&format!("{prefix}{}", key.expose_secret())).map_err(
        // The error would not show the key, but say nothing about it anyway.
        |_| ConfigError::InvalidType {
            account: account.name().to_owned(),
            field: "api_key".into(),
            expected: "a key of visible ASCII characters (it goes in an HTTP header)".into(),
        },
    )?;
    value.set_sensitive(true);
    Ok(value)
}

/// Replaces every credential of one account with `[REDACTED]` in text that came from the
/// network (vendor messages, body excerpts): a vendor that echoes the key back must not put
/// it into an error.
pub(crate) struct Redactor<'a> {
    secrets: Vec<&'a str>,
}

pub(crate) const REDACTED: &str = "[REDACTED]";

impl<'a> Redactor<'a> {
    pub(crate) fn for_account(account: &'a Account) -> Self {
        let mut secrets: Vec<&str> = account
            .credentials()
            .values()
            .map(|value| value.expose_secret())
            .collect();
        // An empty string would match everywhere.
        secrets.retain(|s| !s.is_empty());
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets }
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret) {
                out = out.replace(secret, REDACTED);
            }
        }
        out
    }

    /// The start of a body for an error: decoded leniently, credentials redacted *before*
    /// cutting (so no part of a secret survives at the cut), whitespace runs collapsed, at
    /// most [`EXCERPT_CHARS`] characters.
    pub(crate) fn excerpt(&self, body: &[u8]) -> String {
        // Look at a bounded prefix only: the excerpt is short, a secret is not megabytes.
        let prefix = &body[..body.len().min(16 * 1024)];
        let text = self.redact(&String::from_utf8_lossy(prefix));
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut excerpt: String = collapsed.chars().take(EXCERPT_CHARS).collect();
        if collapsed.chars().nth(EXCERPT_CHARS).is_some() {
            excerpt.pop();
            excerpt.push('…');
        }
        excerpt
    }
}

/// The longest body excerpt an error carries, in characters.
pub(crate) const EXCERPT_CHARS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vendor;

    fn account(vendor: &str, key: &str) -> Account {
        let vendor = Vendor::find(vendor).expect("in the registry");
        Account::api_key("a", vendor, key).expect("a key vendor")
    }

    #[test]
    fn bearer_header_is_sensitive() {
        let headers = auth_headers(&account("deepseek", "sk-canary")).expect("valid key");
        let value = headers.get(AUTHORIZATION).expect("header set");
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().ok(), Some("Bearer sk-canary"));
        assert!(!format!("{headers:?}").contains("canary"));
    }

    #[test]
    fn bearer_header_rejects_newlines_without_echoing() {
        let error = auth_headers(&account("deepseek", "sk-\ncanary")).expect_err("invalid");
        assert!(!error.to_string().contains("canary"));
        assert_eq!(error.field(), Some("api_key"));
    }

    #[test]
    fn header_schemes_put_the_key_where_the_description_says() {
        for (scheme, name, value) in [
            (
                "scheme = \"header\"\nheader = \"X-Api-Key\"",
                "x-api-key",
                "k-canary",
            ),
            ("scheme = \"authorization\"", "authorization", "k-canary"),
            ("scheme = \"bearer\"", "authorization", "Bearer k-canary"),
            (
                "scheme = \"prefixed\"\nprefix = \"Key\"",
                "authorization",
                "Key k-canary",
            ),
            (
                "scheme = \"prefixed\"\nprefix = \"Token\"",
                "authorization",
                "Token k-canary",
            ),
        ] {
            let account =
                Account::api_key("a", Vendor::like_deepseek_with_auth(scheme), "k-canary")
                    .expect("a key");
            let headers = auth_headers(&account).expect("valid key");
            assert_eq!(headers.len(), 1, "{scheme}");
            let got = headers.get(name).expect("the header");
            assert_eq!(got.to_str().ok(), Some(value), "{scheme}");
            assert!(got.is_sensitive(), "{scheme}");
        }
        let bad = Account::api_key(
            "a",
            Vendor::like_deepseek_with_auth("scheme = \"header\"\nheader = \"X Key\""),
            "k",
        )
        .expect("a key");
        assert!(
            auth_headers(&bad).is_err(),
            "an invalid header name is an error, not a panic"
        );
    }

    #[test]
    fn a_signing_scheme_sends_no_header() {
        let vendor = Vendor::find("eiotclub").expect("in the registry");
        let account = Account::from_credentials(
            "a",
            vendor,
            [("appkey", "k".into()), ("secret", "s".into())],
        )
        .expect("the scheme's fields");
        assert!(auth_headers(&account).expect("no header").is_empty());
    }

    #[test]
    fn redacts_every_credential() {
        let vendor = Vendor::find("eiotclub").expect("in the registry");
        let account = Account::from_credentials(
            "a",
            vendor,
            [
                ("appkey", "app-canary".into()),
                ("secret", "sec-canary".into()),
            ],
        )
        .expect("the scheme's fields");
        let redactor = Redactor::for_account(&account);
        assert_eq!(
            redactor.redact("bad appkey app-canary signed with sec-canary"),
            "bad appkey [REDACTED] signed with [REDACTED]"
        );
    }

    #[test]
    fn excerpt_is_short_and_redacted_before_cutting() {
        let account = account("deepseek", "sk-canary-0123456789");
        let redactor = Redactor::for_account(&account);
        let mut body = "x".repeat(195);
        body.push_str("sk-canary-0123456789 and more");
        let excerpt = redactor.excerpt(body.as_bytes());
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS);
        assert!(!excerpt.contains("sk-can"), "{excerpt}");
        assert!(excerpt.ends_with('…'));
        assert_eq!(
            redactor.excerpt(b"  <html>\n\n <b>502</b> </html> "),
            "<html> <b>502</b> </html>"
        );
    }
}
