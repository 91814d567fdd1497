//! The one rule every credential value follows, wherever it comes from.
//!
//! - A value read from the environment (a `*_env` field, or a variable that
//!   [`crate::Account::from_env`] reads) has surrounding whitespace removed first:
//!   `KEY=$(cat keyfile)` and editors leave a trailing newline, and nobody means it.
//! - Then any value, from the environment or written in the file, must be non-empty visible
//!   ASCII (`!` to `~`): keys travel in HTTP headers and signed strings, where a space, a line
//!   break or a non-ASCII character is never part of a real key.
//!
//! A value that breaks the rule is a [`ConfigError::InvalidCredential`] when the config is
//! loaded, naming the account and the field the user wrote, never the value.

use crate::error::ConfigError;

/// What is left of a value read from the environment.
pub(crate) fn from_env(value: &str) -> &str {
    value.trim()
}

/// Why `value` cannot be a credential, if it cannot.
pub(crate) fn problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("is empty")
    } else if value.chars().any(char::is_whitespace) {
        Some("contains whitespace (a space or a line break) inside it")
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        Some("contains a character that is not visible ASCII (keys are `!` to `~` only)")
    } else {
        None
    }
}

/// Checks `value` against the rule; the error names `account`, `field` and, when the value
/// came from one, the environment `variable`.
pub(crate) fn check(
    value: &str,
    account: &str,
    field: &str,
    variable: Option<&str>,
) -> Result<(), ConfigError> {
    match problem(value) {
        None => Ok(()),
        Some(reason) => Err(ConfigError::InvalidCredential {
            account: account.to_owned(),
            field: field.to_owned(),
            variable: variable.map(str::to_owned),
            reason: reason.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrounding_whitespace_from_the_environment_is_dropped() {
        assert_eq!(from_env("sk-abc\n"), "sk-abc");
        assert_eq!(from_env(" \tsk-abc\r\n"), "sk-abc");
        assert_eq!(problem(from_env("sk-abc\n")), None);
    }

    #[test]
    fn what_remains_must_be_visible_ascii() {
        assert_eq!(problem("sk-abc_123.XYZ~!"), None);
        assert!(problem("").is_some());
        assert!(problem("sk abc").is_some());
        assert!(
            problem("sk-abc\n").is_some(),
            "inline values are not trimmed"
        );
        assert!(problem("sk-ключ").is_some());
        assert!(problem("sk-\u{7f}").is_some());
    }

    #[test]
    fn the_error_names_field_and_variable_but_never_the_value() {
        let error = check(
            "sk-secret value",
            "work",
            "api_key_env",
            Some("WORK_DS_KEY"),
        )
        .expect_err("a space inside");
        let text = error.to_string();
        assert!(
            text.contains("work") && text.contains("api_key_env"),
            "{text}"
        );
        assert!(text.contains("WORK_DS_KEY"), "{text}");
        assert!(!text.contains("sk-secret"), "{text}");
        assert_eq!(error.field(), Some("api_key_env"));
    }
}
