//! Many accounts from one TOML file; the format and lookup order are documented on
//! [`Config`].

use std::collections::HashSet;
use std::path::Path;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use toml::{Table, Value};

use crate::account::{Account, Vendor};
use crate::credential;
use crate::error::ConfigError;
use crate::threshold::Threshold;

/// A list of accounts loaded from a TOML file.
///
/// ```toml
/// alert_below = "5"             # optional: default threshold for accounts without one
///
/// [[accounts]]
/// name = "work"                 # unique, used in output
/// vendor = "deepseek"           # a vendor's id: the README's vendor table lists them
/// api_key_env = "WORK_DS_KEY"   # or api_key = "..." in the file
/// # base_url = "https://..."    # optional: mirrors, proxies, tests (may carry a path)
///
/// [[accounts]]
/// name = "overseas"
/// vendor = "geekai"
/// api_key_env = "GEEKAI_GLOBAL_KEY"
/// region = "global"             # for vendors with regions (GeekAI: cn, the default, or global)
/// alert_below = "10 CNY"        # optional: low-balance threshold for this account
///
/// [[accounts]]
/// name = "iot"
/// vendor = "eiotclub"
/// appkey = "..."                # or appkey_env
/// secret_env = "IOT_SECRET"     # or secret
///
/// [[accounts]]
/// name = "models"
/// vendor = "openai"             # reports spend this month, not a balance (an Admin key)
/// api_key_env = "OPENAI_ADMIN_KEY"
/// monthly_budget = "500 USD"    # optional (also file-wide): alert_below applies to what is left
/// ```
///
/// # Where each value comes from
///
/// - **A file, when one is given, is the whole list.** The well-known variables that
///   [`crate::Account::from_env`] reads (`DEEPSEEK_API_KEY`, ...) are *not* consulted for it,
///   so what runs is exactly what the file says. With no file, use
///   [`crate::Account::from_env`] instead: one account per vendor whose variables are set.
/// - **The credential fields are the vendor's** ([`Vendor::credential_fields`]): `api_key` for
///   most, `appkey` and `secret` for a signing vendor such as EIOTClub. So are its account
///   parameters ([`Vendor::account_parameters`]: xAI's `team_id`), given the same two ways
///   (`team_id` or `team_id_env`) and required, but not secrets: they go in the URL.
/// - **Inside the file, each credential is given one way.** `api_key = "..."` (the value
///   itself) or `api_key_env = "VAR"` (the name of an environment variable, read when the file
///   is loaded), likewise `appkey`/`appkey_env` and `secret`/`secret_env`. The explicit value
///   in the file is used as written; the `*_env` variable is looked up only when there is no
///   explicit value, and giving both is an error rather than a silent preference, because one
///   of them is then stale. An unset or empty variable is an error naming the account, the
///   field and the variable.
/// - Keys kept in the file make the file a secret; prefer `*_env`.
///
/// Every mistake is a [`ConfigError`] naming the account and the field: unknown vendor,
/// missing key, both key and key_env, unset variable, duplicate name, malformed or non-https
/// base URL, region on a vendor without regions, a credential field of another vendor, unknown
/// field. Values of credentials never
/// appear in an error.
///
/// # Example
///
/// ```
/// use balances::{Config, Vendor};
///
/// let text = r#"
///     [[accounts]]
///     name = "work"
///     vendor = "deepseek"
///     api_key_env = "WORK_DS_KEY"
/// "#;
/// let config = Config::from_toml_str(text, |var| {
///     (var == "WORK_DS_KEY").then(|| "sk-example".to_owned())
/// })?;
/// assert_eq!(config.accounts()[0].name(), "work");
/// assert_eq!(config.accounts()[0].vendor(), "deepseek".parse::<Vendor>()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Config {
    // `Account`'s Debug is redacted, so deriving Debug here shows no secret.
    accounts: Vec<Account>,
}

/// The top level of the file. Unknown top-level keys (a mistyped `[[acounts]]`) are
/// rejected by serde; accounts are checked field by field below, so that each error can
/// name its account.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// The file-wide default for accounts without their own `alert_below`.
    alert_below: Option<String>,
    /// The file-wide default for accounts without their own `monthly_budget`.
    monthly_budget: Option<String>,
    #[serde(default, deserialize_with = "account_tables")]
    accounts: Vec<Table>,
}

/// `accounts` must be an array of tables. Checked by hand so that a wrong type is reported
/// without quoting the value (serde's message would, and it might be a key).
fn account_tables<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Table>, D::Error> {
    let not_tables =
        || serde::de::Error::custom("`accounts` must be an array of tables (`[[accounts]]`)");
    match Value::deserialize(deserializer)? {
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Table(table) => Ok(table),
                _ => Err(not_tables()),
            })
            .collect(),
        _ => Err(not_tables()),
    }
}

/// The fields every account may have; the credential fields are the vendors' own.
const COMMON_FIELDS: &[&str] = &[
    "name",
    "vendor",
    "base_url",
    "region",
    "alert_below",
    "currency",
    "monthly_budget",
];

/// Whether `field` is a field of some account: a common one, or a credential field (or its
/// `_env` form) of some vendor.
fn is_known_field(field: &str) -> bool {
    let credential = field.strip_suffix("_env").unwrap_or(field);
    COMMON_FIELDS.contains(&field)
        || Vendor::all().any(|vendor| {
            vendor.credential_fields().contains(&credential)
                || vendor.account_parameters().any(|p| p == credential)
        })
}

impl Config {
    /// Parses a config from TOML text, resolving `*_env` fields through `lookup` (which
    /// returns the variable's value, or `None` when it is unset).
    pub fn from_toml_str(
        text: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
        let default_threshold = raw
            .alert_below
            .as_deref()
            .map(|text| parse_threshold(None, text))
            .transpose()?;
        let default_budget = raw
            .monthly_budget
            .as_deref()
            .map(|text| parse_budget(None, text))
            .transpose()?;
        let mut names = HashSet::new();
        let mut accounts = Vec::with_capacity(raw.accounts.len());
        for (index, table) in raw.accounts.into_iter().enumerate() {
            let mut account = parse_account(index, table, &lookup)?;
            if account.alert_below().is_none()
                && let Some(threshold) = &default_threshold
            {
                account = account.with_alert_below(threshold.clone());
            }
            if account.monthly_budget().is_none()
                && let Some(budget) = &default_budget
            {
                account = account.with_monthly_budget(budget.clone());
            }
            if !names.insert(account.name().to_owned()) {
                return Err(ConfigError::DuplicateName {
                    account: account.name().to_owned(),
                });
            }
            accounts.push(account);
        }
        Ok(Self { accounts })
    }

    /// Reads and parses a config file, resolving `*_env` fields from the process
    /// environment.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::from_path_with(path, |name| std::env::var(name).ok())
    }

    /// [`Config::from_path`] with an injectable environment.
    pub fn from_path_with(
        path: impl AsRef<Path>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text, lookup)
    }

    /// A config holding `accounts` (checked for duplicate names).
    pub fn from_accounts(accounts: Vec<Account>) -> Result<Self, ConfigError> {
        let mut names = HashSet::new();
        for account in &accounts {
            if !names.insert(account.name()) {
                return Err(ConfigError::DuplicateName {
                    account: account.name().to_owned(),
                });
            }
        }
        Ok(Self { accounts })
    }

    /// The accounts, in file order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The accounts, in file order.
    pub fn into_accounts(self) -> Vec<Account> {
        self.accounts
    }
}

/// A TOML error as position and message. `message()` is used rather than the error's
/// `Display`, which quotes the offending line of the file, and that line may hold a key.
fn syntax_error(text: &str, error: &toml::de::Error) -> ConfigError {
    let offset = error.span().map_or(0, |span| span.start).min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ConfigError::Syntax {
        line,
        column,
        message: error.message().trim().to_owned(),
    }
}

/// Reads one account's table, field by field.
struct Fields<'a, L> {
    account: String,
    table: Table,
    lookup: &'a L,
}

impl<L: Fn(&str) -> Option<String>> Fields<'_, L> {
    /// An optional string field.
    fn string(&mut self, field: &str) -> Result<Option<String>, ConfigError> {
        match self.table.remove(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ConfigError::InvalidType {
                account: self.account.clone(),
                field: field.to_owned(),
                expected: "a string".into(),
            }),
        }
    }

    /// A required, non-empty string field.
    fn required(&mut self, field: &str) -> Result<String, ConfigError> {
        match self.string(field)? {
            None => Err(ConfigError::MissingField {
                account: self.account.clone(),
                field: field.to_owned(),
            }),
            Some(s) if s.is_empty() => Err(ConfigError::EmptyValue {
                account: self.account.clone(),
                field: field.to_owned(),
            }),
            Some(s) => Ok(s),
        }
    }

    /// An account parameter (xAI's `team_id`), given like a credential (inline or through a
    /// variable) but not a secret.
    fn parameter(&mut self, field: &str, vendor: Vendor) -> Result<String, ConfigError> {
        match self.secret(field) {
            Ok(value) => Ok(secrecy::ExposeSecret::expose_secret(&value).to_owned()),
            Err(ConfigError::MissingCredential { account, field, .. }) => {
                Err(ConfigError::MissingParameter {
                    variable: crate::account::env::variable(vendor, &field),
                    account,
                    field,
                })
            }
            Err(other) => Err(other),
        }
    }

    /// A credential given inline (`field`) or through a variable (`field_env`).
    fn secret(&mut self, field: &str) -> Result<SecretString, ConfigError> {
        let env_field = format!("{field}_env");
        let inline = self.string(field)?.map(SecretString::from);
        let variable = self.string(&env_field)?;
        let account = self.account.clone();
        match (inline, variable) {
            (Some(_), Some(_)) => Err(ConfigError::Conflicting {
                account,
                field: field.to_owned(),
                env_field,
            }),
            (Some(value), None) => {
                let text = secrecy::ExposeSecret::expose_secret(&value);
                if text.is_empty() {
                    Err(ConfigError::EmptyValue {
                        account,
                        field: field.to_owned(),
                    })
                } else {
                    credential::check(text, &account, field, None)?;
                    Ok(value)
                }
            }
            (None, Some(variable)) => match (self.lookup)(&variable)
                .map(|value| credential::from_env(&value).to_owned())
            {
                Some(value) if !value.is_empty() => {
                    credential::check(&value, &account, &env_field, Some(&variable))?;
                    Ok(SecretString::from(value))
                }
                // A value that does not look like a variable name is most likely the key
                // itself, pasted into the wrong field: never repeat it.
                _ if !looks_like_variable_name(&variable) => Err(ConfigError::InvalidType {
                    account,
                    field: env_field,
                    expected: format!(
                        "the name of an environment variable (A-Z, 0-9, _); to give the value itself, use `{field}`"
                    ),
                }),
                _ => Err(ConfigError::UnsetEnv {
                    account,
                    field: env_field,
                    variable,
                }),
            },
            (None, None) => Err(ConfigError::MissingCredential {
                account,
                field: field.to_owned(),
                env_field,
            }),
        }
    }
}

fn parse_account<L: Fn(&str) -> Option<String>>(
    index: usize,
    table: Table,
    lookup: &L,
) -> Result<Account, ConfigError> {
    // Name errors by the account's name when it has a usable one, else by position.
    let account = match table.get("name") {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        _ => format!("accounts[{index}]"),
    };
    if let Some(unknown) = table.keys().find(|k| !is_known_field(k)) {
        return Err(ConfigError::UnknownField {
            account,
            field: unknown.clone(),
        });
    }
    let mut fields = Fields {
        account,
        table,
        lookup,
    };
    let name = fields.required("name")?;
    let vendor_text = fields.required("vendor")?;
    let vendor: Vendor = vendor_text
        .parse()
        .map_err(|_| ConfigError::UnknownVendor {
            account: fields.account.clone(),
            // Repeat a typo ("deepsek"), not whatever else was pasted there (a key).
            value: if vendor_text.len() <= 16
                && vendor_text.chars().all(|c| c.is_ascii_alphabetic())
            {
                vendor_text
            } else {
                "(not shown)".to_owned()
            },
        })?;

    // A field that belongs to another vendor's scheme (`api_key` on a signing vendor,
    // `region` on a vendor with one server) is a mistake worth naming, not ignoring.
    let credential_fields = vendor.credential_fields();
    let foreign = fields.table.keys().find(|key| {
        let base = key.strip_suffix("_env").unwrap_or(key);
        let credential = !COMMON_FIELDS.contains(&key.as_str());
        (credential
            && !credential_fields.contains(&base)
            && !vendor.account_parameters().any(|p| p == base))
            || (key.as_str() == "region" && vendor.regions().len() == 0)
            || (key.as_str() == "currency" && vendor.default_currency().is_none())
    });
    if let Some(field) = foreign {
        return Err(ConfigError::FieldNotAllowed {
            account: fields.account.clone(),
            field: field.clone(),
            vendor,
        });
    }
    let mut credentials = Vec::with_capacity(credential_fields.len());
    for field in credential_fields {
        credentials.push((*field, fields.secret(field)?));
    }
    let mut account = Account::from_credentials(name, vendor, credentials)?;
    for parameter in vendor.account_parameters() {
        let value = fields.parameter(parameter, vendor)?;
        account = account.with_parameter(parameter, &value)?;
    }
    if let Some(region) = fields.string("region")? {
        account = account.with_region(&region).map_err(|e| match e {
            ConfigError::UnknownRegion {
                value, expected, ..
            } => ConfigError::UnknownRegion {
                account: fields.account.clone(),
                value,
                expected,
            },
            other => other,
        })?;
    }
    if let Some(text) = fields.string("alert_below")? {
        account = account.with_alert_below(parse_threshold(Some(&fields.account), &text)?);
    }
    if let Some(text) = fields.string("monthly_budget")? {
        account = account.with_monthly_budget(parse_budget(Some(&fields.account), &text)?);
    }
    if let Some(url) = fields.string("base_url")? {
        account = account.with_base_url(&url).map_err(|e| match e {
            // Report under the label used for every other error of this account.
            ConfigError::InvalidBaseUrl { reason, .. } => ConfigError::InvalidBaseUrl {
                account: fields.account.clone(),
                reason,
            },
            other => other,
        })?;
    }
    if let Some(currency) = fields.string("currency")? {
        account = account.with_currency(&currency)?;
    }
    account.check_base_url()?;
    Ok(account)
}

fn parse_budget(account: Option<&str>, text: &str) -> Result<crate::Budget, ConfigError> {
    text.parse()
        .map_err(|error: crate::InvalidBudget| ConfigError::InvalidBudget {
            account: account.map(str::to_owned),
            reason: error.to_string(),
        })
}

fn parse_threshold(account: Option<&str>, text: &str) -> Result<Threshold, ConfigError> {
    text.parse().map_err(
        |error: crate::InvalidThreshold| ConfigError::InvalidThreshold {
            account: account.map(str::to_owned),
            reason: error.to_string(),
        },
    )
}

/// Conventional environment variable names: upper-case letters, digits and `_`, not starting
/// with a digit. Keys and secrets are mixed-case or contain `-`, so they fail this test.
fn looks_like_variable_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn a_relay_account_needs_its_base_url_and_may_choose_its_currency() {
        let relay = "[[accounts]]\nname = \"relay\"\nvendor = \"newapi\"\napi_key = \"sk-1\"\n";
        let error = Config::from_toml_str(relay, no_env).expect_err("no base_url");
        assert!(
            matches!(&error, ConfigError::MissingBaseUrl { account, variable, .. }
                if account == "relay" && variable == "NEWAPI_BASE_URL"),
            "{error}"
        );
        let text = format!("{relay}base_url = \"https://relay.example\"\ncurrency = \"CNY\"\n");
        let config = Config::from_toml_str(&text, no_env).expect("complete");
        assert_eq!(config.accounts()[0].currency(), Some("CNY"));
        // Another vendor has no currency setting: a mistake worth naming.
        let deepseek = "[[accounts]]\nname = \"d\"\nvendor = \"deepseek\"\napi_key = \"sk\"\ncurrency = \"USD\"\n";
        let error = Config::from_toml_str(deepseek, no_env).expect_err("not a relay");
        assert_eq!(error.field(), Some("currency"), "{error}");
    }

    #[test]
    fn syntax_error_has_position_and_no_quote_of_the_file() {
        let text = "[[accounts]]\nname = \"a\"\napi_key = \"sk-canary\nvendor = \"deepseek\"\n";
        match Config::from_toml_str(text, no_env) {
            Err(ConfigError::Syntax { line, message, .. }) => {
                assert_eq!(line, 3);
                assert!(!message.contains("canary"), "{message}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn accounts_of_the_wrong_type_are_not_quoted() {
        let error = Config::from_toml_str("accounts = \"sk-canary\"", no_env)
            .expect_err("accounts must be tables");
        assert!(!error.to_string().contains("canary"), "{error}");
        assert!(error.to_string().contains("array of tables"), "{error}");
    }

    #[test]
    fn unknown_top_level_key() {
        let error = Config::from_toml_str("[[acounts]]\nname = \"a\"\n", no_env)
            .expect_err("typo must fail");
        assert!(
            matches!(&error, ConfigError::Syntax { message, line: 1, .. } if message.contains("unknown field `acounts`")),
            "{error:?}"
        );
    }

    proptest::proptest! {
        /// Arbitrary text never panics the parser.
        #[test]
        fn any_text_parses_or_fails_cleanly(text in "\\PC{0,200}") {
            let _ = Config::from_toml_str(&text, no_env);
        }

        /// Account tables made of known and unknown keys with string, number and array
        /// values: always a result, and an error always names an account.
        #[test]
        fn any_account_table_parses_or_fails_cleanly(
            entries in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "name", "vendor", "api_key", "api_key_env", "appkey", "appkey_env",
                        "secret", "secret_env", "base_url", "region", "other",
                    ]),
                    proptest::sample::select(vec![
                        "\"a\"", "\"deepseek\"", "\"geekai\"", "\"eiotclub\"", "\"\"",
                        "\"SET\"", "\"global\"", "\"http://127.0.0.1:1\"",
                        "\"https://x.example/p\"", "\"ftp://x\"", "5", "[]",
                    ]),
                ),
                0..8,
            ),
        ) {
            let mut text = String::from("[[accounts]]\n");
            let mut seen = std::collections::HashSet::new();
            for (key, value) in entries {
                if seen.insert(key) {
                    text.push_str(&format!("{key} = {value}\n"));
                }
            }
            let lookup = |name: &str| (name == "SET").then(|| "value".to_owned());
            if let Err(error) = Config::from_toml_str(&text, lookup) {
                proptest::prop_assert!(error.account().is_some(), "{error:?} for {text}");
            }
        }
    }

    #[test]
    fn empty_file_is_no_accounts() {
        let config = Config::from_toml_str("", no_env).expect("empty is valid");
        assert!(config.accounts().is_empty());
    }

    #[test]
    fn only_conventional_variable_names_are_repeated_in_errors() {
        assert!(looks_like_variable_name("WORK_DS_KEY"));
        assert!(looks_like_variable_name("_X1"));
        for pasted in [
            "sk-0123456789abcdef",
            "a1b1c1d1",
            "Work_Key",
            "1ABC",
            "",
            "A B",
        ] {
            assert!(!looks_like_variable_name(pasted), "{pasted:?}");
        }
        let text = "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key_env = \"sk-pasted-key-42\"\n";
        let error = Config::from_toml_str(text, |_| None).unwrap_err();
        assert!(!error.to_string().contains("sk-pasted"), "{error}");
        assert_eq!(error.field(), Some("api_key_env"));
        let text = "[[accounts]]\nname = \"a\"\nvendor = \"sk-pasted-key-42\"\napi_key = \"k\"\n";
        let error = Config::from_toml_str(text, |_| None).unwrap_err();
        assert!(!error.to_string().contains("sk-pasted"), "{error}");
        let text = "[[accounts]]\nname = \"a\"\nvendor = \"deepsek\"\napi_key = \"k\"\n";
        assert!(
            Config::from_toml_str(text, |_| None)
                .unwrap_err()
                .to_string()
                .contains("deepsek")
        );
    }

    #[test]
    fn alert_below_per_account_overrides_the_file_default() {
        let text = r#"
            alert_below = "5"
            [[accounts]]
            name = "own"
            vendor = "deepseek"
            api_key = "sk-a"
            alert_below = "10 cny"
            [[accounts]]
            name = "default"
            vendor = "deepseek"
            api_key = "sk-b"
        "#;
        let config = Config::from_toml_str(text, no_env).unwrap();
        let thresholds: Vec<String> = config
            .accounts()
            .iter()
            .map(|a| a.alert_below().map(ToString::to_string).unwrap_or_default())
            .collect();
        assert_eq!(thresholds, ["10 CNY", "5"]);
    }

    #[test]
    fn no_alert_below_anywhere_leaves_accounts_without_threshold() {
        let text = "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"sk-a\"\n";
        let config = Config::from_toml_str(text, no_env).unwrap();
        assert_eq!(config.accounts()[0].alert_below(), None);
    }

    #[test]
    fn a_bad_alert_below_names_the_account_or_the_file_and_the_field() {
        let per_account = "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"sk-a\"\nalert_below = \"ten\"\n";
        let error = Config::from_toml_str(per_account, no_env).unwrap_err();
        assert_eq!(error.account(), Some("a"));
        assert_eq!(error.field(), Some("alert_below"));
        assert!(error.to_string().contains("AMOUNT[CURRENCY]"), "{error}");

        let file_wide = format!("alert_below = \"10 EURO\"\n{per_account}");
        let error = Config::from_toml_str(&file_wide, no_env).unwrap_err();
        assert_eq!(error.account(), None);
        assert!(
            error.to_string().starts_with("field `alert_below`: `EURO`"),
            "{error}"
        );
    }
}
