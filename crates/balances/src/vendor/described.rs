//! What a vendor's description (`specs/<vendor>/vendor.toml`, compiled into
//! `balances_registry`) says beyond the generated code: how an account authenticates (the
//! named auth scheme, implemented once each) and how an error body is read. Error bodies are
//! read from the raw bytes by the description's pointers, so a vendor whose errors are
//! untyped in its spec still gives its code and message.

use balances_registry::{ErrorKindName, VendorEntry};
use serde_json::Value;

use super::{VendorMessage, means_authentication};
use crate::account::Account;
use crate::auth::auth_headers;
use crate::eiotclub::Signer;
use crate::error::{ConfigError, Error};

/// A vendor's compiled description.
#[derive(Clone, Copy)]
pub(crate) struct Described {
    entry: &'static VendorEntry,
}

/// The description of `account`'s vendor, from the registry `cargo xtask codegen` compiled.
pub(crate) fn described(account: &Account) -> Described {
    Described {
        entry: account.vendor().entry(),
    }
}

/// What one attempt sends besides the generated operation itself.
pub(crate) struct Authentication {
    /// The context of the generated client: the scheme's headers, marked sensitive.
    pub(crate) context: balances_runtime::Context,
    /// A signed request body, for a scheme that signs bodies (fresh per attempt).
    pub(crate) body: Option<Value>,
}

impl Described {
    fn balance(&self) -> &'static balances_registry::BalanceMapping {
        &self.entry.description.balance
    }

    /// The account's authentication for one attempt: its scheme's headers, a body signed
    /// now (EIOTClub's scheme), or a request signer that signs the request as it leaves
    /// (the cloud schemes), so a retry is signed afresh.
    pub(crate) fn authenticate(&self, account: &Account) -> Result<Authentication, Error> {
        if let balances_registry::Auth::EiotclubSignature = &self.entry.description.auth {
            let signer = Signer::for_account(account).ok_or_else(|| {
                Error::from(ConfigError::MissingCredential {
                    account: account.name().to_owned(),
                    field: "secret".into(),
                    env_field: "secret_env".into(),
                })
            })?;
            return Ok(Authentication {
                context: balances_runtime::Context::default(),
                body: Some(Value::Object(signer.signed_body())),
            });
        }
        let mut context = balances_runtime::Context::new(auth_headers(account)?);
        if let Some(signer) = crate::cloud::request_signer(account)? {
            context = context.with_signer(signer);
        }
        Ok(Authentication {
            context,
            body: None,
        })
    }

    /// Whether the body passes the description's success conditions (none: it does).
    fn succeeded(&self, json: &Value) -> bool {
        self.balance().success.iter().all(|condition| {
            json.pointer(&condition.pointer).is_some_and(|value| {
                condition
                    .equals
                    .iter()
                    .any(|expected| same(value, expected))
            })
        })
    }

    /// What a description maps an error status to, when it overrides the shared table
    /// (ZenMux answers 422 when it rate-limits).
    pub(crate) fn status_kind(&self, status: u16) -> Option<ErrorKindName> {
        self.entry.description.errors.status_override(status)
    }

    /// The vendor's code and message from an error body (or a failed envelope), when it has
    /// the documented shape.
    pub(crate) fn error_details(&self, body: &[u8]) -> Option<VendorMessage> {
        let json: Value = serde_json::from_slice(body).ok()?;
        // A body saying success is not an error body, whatever else is wrong with it.
        if !self.balance().success.is_empty() && self.succeeded(&json) {
            return None;
        }
        let errors = &self.entry.description.errors;
        let has_message = errors.message.iter().any(|p| json.pointer(p).is_some());
        let has_code = errors.code.iter().any(|p| json.pointer(p).is_some());
        (has_message || has_code).then(|| self.details(&json))
    }

    fn details(&self, json: &Value) -> VendorMessage {
        let errors = &self.entry.description.errors;
        let codes: Vec<String> = errors
            .code
            .iter()
            .filter_map(|pointer| json.pointer(pointer).and_then(code_text))
            .collect();
        let message = errors
            .message
            .iter()
            .find_map(|pointer| json.pointer(pointer).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        let kind = codes
            .iter()
            .find_map(|code| errors.codes.get(code).copied())
            .or_else(|| kind_of_message(&errors.messages, &message));
        let refused_key = codes.iter().any(|code| means_authentication(code));
        VendorMessage {
            code: codes.into_iter().next(),
            message,
            kind,
            refused_key,
        }
    }
}

/// What the description says a message means, by text it contains (new-api's 401
/// `该令牌额度已用尽`: the key is used up), the first listed that matches.
fn kind_of_message(
    messages: &std::collections::BTreeMap<String, ErrorKindName>,
    message: &str,
) -> Option<ErrorKindName> {
    messages
        .iter()
        .find(|(text, _)| !text.is_empty() && message.contains(text.as_str()))
        .map(|(_, kind)| *kind)
}

/// A code as text: a string as is, a number as written.
fn code_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Equal as JSON, numbers compared by their text (`200` and `200.0` differ, as written).
fn same(value: &Value, expected: &Value) -> bool {
    match (value, expected) {
        (Value::Number(a), Value::Number(b)) => a.to_string() == b.to_string(),
        _ => value == expected,
    }
}

#[cfg(test)]
mod message_kind_tests {
    use super::*;

    #[test]
    fn a_message_containing_a_listed_text_has_its_kind_and_others_none() {
        let messages = [("额度已用尽".to_owned(), ErrorKindName::InsufficientBalance)]
            .into_iter()
            .collect();
        for used_up in [
            "该令牌额度已用尽",
            "令牌 sk-…（#12）额度已用尽 (request id: 1)",
        ] {
            assert_eq!(
                kind_of_message(&messages, used_up),
                Some(ErrorKindName::InsufficientBalance),
                "{used_up}"
            );
        }
        assert_eq!(kind_of_message(&messages, "无效的令牌"), None);
        assert_eq!(
            kind_of_message(&Default::default(), "该令牌额度已用尽"),
            None
        );
    }
}
