//! Accounts: which vendor, which credentials, which server.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::str::FromStr;

use balances_registry::VendorEntry;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::{Host, Url};

use crate::credential;
use crate::error::ConfigError;
use crate::threshold::Threshold;

/// A balance API this crate can query: one folder `specs/<vendor>/` of the workspace,
/// compiled into the vendor registry by `cargo xtask codegen`.
///
/// Serialized, displayed and parsed as the vendor's id, its folder name (`"deepseek"`).
/// Every vendor is data: [`Vendor::all`] lists them, [`Vendor::find`] looks one up.
///
/// ```
/// use balances::Vendor;
///
/// let deepseek: Vendor = "deepseek".parse()?;
/// assert_eq!(deepseek.display_name(), "DeepSeek");
/// assert_eq!(deepseek.credential_fields(), ["api_key"]);
/// assert!(Vendor::all().any(|vendor| vendor == deepseek));
/// # Ok::<(), balances::UnknownVendor>(())
/// ```
#[derive(Clone, Copy)]
pub struct Vendor(&'static VendorEntry);

/// The registry's vendors whose generated client is compiled in (a feature of
/// `balances-vendors` each, all on by default), sorted by id.
static COMPILED_IN: std::sync::LazyLock<Vec<Vendor>> = std::sync::LazyLock::new(|| {
    balances_registry::vendors()
        .iter()
        .filter(|entry| balances_vendors::binding(&entry.id).is_some())
        .map(Vendor)
        .collect()
});

impl Vendor {
    /// Every vendor compiled into this build, sorted by id: by default every vendor folder
    /// of the workspace; with `balances-vendors`' default features off, the ones named.
    pub fn all() -> impl ExactSizeIterator<Item = Vendor> + Clone {
        COMPILED_IN.iter().copied()
    }

    /// The vendor with this id, if it is compiled into this build.
    pub fn find(id: &str) -> Option<Vendor> {
        Vendor::all().find(|vendor| vendor.as_str() == id)
    }

    /// The id: the vendor's folder name, lower case (`deepseek`), used in configuration
    /// and output.
    pub fn as_str(self) -> &'static str {
        &self.0.id
    }

    /// The name people know the vendor by (`DeepSeek`).
    pub fn display_name(self) -> &'static str {
        &self.0.description.name
    }

    /// Which key the balance endpoint wants, when the vendor's description says (a
    /// management key, an admin key): shown with authentication errors.
    pub fn key_hint(self) -> Option<&'static str> {
        self.0.description.key_hint.as_deref()
    }

    /// What to do when the vendor says its balance endpoint is retired (HTTP 410), as its
    /// description says (`use region global with a key from cloud.siliconflow.com`).
    pub fn retired_hint(self) -> Option<&'static str> {
        self.0.description.errors.retired_hint.as_deref()
    }

    /// The credential fields an account needs, in order: `["api_key"]`, or
    /// `["appkey", "secret"]` for a signing vendor. Config files take each as `<field>` or
    /// `<field>_env`; the environment as `<PREFIX>_<FIELD>` ([`Vendor::env_prefix`]).
    pub fn credential_fields(self) -> &'static [&'static str] {
        self.0.description.auth.credential_fields()
    }

    /// The account parameters the vendor's balance path needs besides credentials (xAI's
    /// `team_id`): not secrets, never redacted. Config files take each as `<name>` or
    /// `<name>_env`; the environment as `<PREFIX>_<NAME>`.
    pub fn account_parameters(self) -> impl ExactSizeIterator<Item = &'static str> + Clone {
        self.0
            .description
            .account_parameters
            .iter()
            .map(String::as_str)
    }

    /// The prefix of this vendor's environment variables (`DEEPSEEK`).
    pub fn env_prefix(self) -> &'static str {
        &self.0.env_prefix
    }

    /// The names of the vendor's regions (`cn`, `global`); empty for a vendor with one
    /// server.
    pub fn regions(self) -> impl ExactSizeIterator<Item = &'static str> + Clone {
        self.0.description.regions.iter().map(|r| r.name.as_str())
    }

    /// The region used when an account names none, for a vendor with regions.
    pub fn default_region(self) -> Option<&'static str> {
        self.0.description.default_region.as_deref()
    }

    /// The server used when an account sets neither base URL nor region: the vendor's,
    /// or its default region's.
    pub fn default_base_url(self) -> &'static str {
        match (&self.0.description.base_url, self.default_region()) {
            (Some(url), _) => url,
            (None, Some(region)) => self.region(region).map_or("", |r| &r.base_url),
            // The xtask refuses a description with neither.
            (None, None) => "",
        }
    }

    /// What an account's base URL is, for a vendor with no server of its own (new-api
    /// relays): every account must give one ([`Account::with_base_url`]).
    pub fn account_base_url(self) -> Option<&'static str> {
        self.0.description.account_base_url.as_deref()
    }

    /// The currency amounts are in when an account sets none, for a vendor whose accounts
    /// choose it ([`Account::with_currency`]): a new-api site may display CNY.
    pub fn default_currency(self) -> Option<&'static str> {
        match &self.0.description.balance.denomination {
            balances_registry::Denomination::AccountCurrency(code) => Some(code),
            _ => None,
        }
    }

    pub(crate) fn region(self, name: &str) -> Option<&'static balances_registry::Region> {
        self.0.description.regions.iter().find(|r| r.name == name)
    }

    pub(crate) fn entry(self) -> &'static VendorEntry {
        self.0
    }

    /// A vendor that is not in the registry, for tests of what no registered vendor uses.
    #[cfg(test)]
    pub(crate) fn unregistered(entry: VendorEntry) -> Vendor {
        Vendor(Box::leak(Box::new(entry)))
    }

    /// A vendor like DeepSeek but authenticated by the auth scheme `auth` (TOML), for tests
    /// of the schemes no registered vendor uses as such.
    #[cfg(test)]
    pub(crate) fn like_deepseek_with_auth(auth: &str) -> Vendor {
        let mut entry = Vendor::find("deepseek")
            .expect("in the registry")
            .entry()
            .clone();
        entry.description.auth = toml::from_str(auth).expect("an auth scheme");
        Vendor::unregistered(entry)
    }
}

impl PartialEq for Vendor {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Vendor {}

impl Hash for Vendor {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Vendor {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Vendor {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Vendor").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Vendor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Vendor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Vendor {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Vendor".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let ids: Vec<&str> = Vendor::all().map(Vendor::as_str).collect();
        schemars::json_schema!({
            "description": "The vendor's id: its folder under `specs/` (see the README's vendor table).",
            "type": "string",
            "enum": ids,
        })
    }
}

/// The error of parsing an unknown vendor name, or the name of a vendor this build was
/// compiled without.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownVendor(pub String);

impl fmt::Display for UnknownVendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = crate::escape_control(&self.0);
        if balances_registry::find(&self.0).is_some() {
            write!(
                f,
                "vendor `{id}` is not compiled into this build: enable the `{id}` feature of \
                 the balances-vendors crate (compiled in: {})",
                vendor_list()
            )
        } else {
            write!(f, "unknown vendor `{id}` (expected {})", vendor_list())
        }
    }
}

impl std::error::Error for UnknownVendor {}

/// Every vendor's id, as a list for messages: `deepseek, eiotclub or geekai`.
pub(crate) fn vendor_list() -> String {
    let ids: Vec<&str> = Vendor::all().map(Vendor::as_str).collect();
    match ids.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "none".to_owned(),
    }
}

impl FromStr for Vendor {
    type Err = UnknownVendor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Vendor::find(s).ok_or_else(|| UnknownVendor(s.to_owned()))
    }
}

/// What an account authenticates with: one secret per credential field of its vendor's
/// auth scheme, in the scheme's order. Every part is a secret, an appkey included: it
/// identifies the account and is half of what a signature needs.
#[derive(Clone)]
pub(crate) struct Credentials(Vec<(&'static str, SecretString)>);

impl Credentials {
    /// The value of one credential field (`api_key`, `appkey`, `secret`).
    pub(crate) fn get(&self, field: &str) -> Option<&SecretString> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, value)| value)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &SecretString> {
        self.0.iter().map(|(_, value)| value)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, _) in &self.0 {
            map.entry(name, &"[REDACTED]");
        }
        map.finish()
    }
}

/// One account at one vendor: a unique name, credentials, and optionally a server to use.
///
/// Build one in code ([`Account::api_key`] for a vendor that takes one key,
/// [`Account::from_credentials`] for any), from the vendors' environment variables
/// ([`Account::from_env`]), or load many from a TOML file ([`crate::Config`]).
///
/// `Debug` never shows a credential:
///
/// ```
/// use balances::{Account, Vendor};
///
/// let account = Account::api_key("work", "deepseek".parse::<Vendor>()?, "sk-do-not-print")?;
/// assert!(!format!("{account:?}").contains("sk-do-not-print"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Account {
    name: String,
    vendor: Vendor,
    credentials: Credentials,
    base_url: Option<Url>,
    region: Option<&'static str>,
    alert_below: Option<Threshold>,
    currency: Option<String>,
    /// The vendor's account parameters, by name (not secrets).
    parameters: Vec<(&'static str, String)>,
    monthly_budget: Option<crate::Budget>,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hand-written so a change to `Credentials` can never leak through a derive.
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("vendor", &self.vendor)
            .field("credentials", &"[REDACTED]")
            .field("base_url", &self.base_url.as_ref().map(Url::as_str))
            .field("region", &self.region)
            .field("alert_below", &self.alert_below)
            .field("currency", &self.currency)
            .field("parameters", &self.parameters)
            .field("monthly_budget", &self.monthly_budget)
            .finish()
    }
}

/// Environment variables read by [`Account::from_env`], derived from the vendor registry.
pub mod env {
    use super::Vendor;

    /// For every vendor, its id and the variables an account needs: its credentials, its
    /// account parameters and, for a vendor without a server of its own, its base URL
    /// (`("deepseek", ["DEEPSEEK_API_KEY"])`, `("xai", ["XAI_API_KEY", "XAI_TEAM_ID"])`,
    /// `("newapi", ["NEWAPI_API_KEY", "NEWAPI_BASE_URL"])`): what to tell a user who has none
    /// set.
    pub fn credential_variables() -> Vec<(&'static str, Vec<String>)> {
        Vendor::all()
            .map(|vendor| {
                let base_url = vendor.account_base_url().map(|_| "base_url");
                let names = vendor
                    .credential_fields()
                    .iter()
                    .copied()
                    .chain(vendor.account_parameters())
                    .chain(base_url)
                    .map(|field| variable(vendor, field))
                    .collect();
                (vendor.as_str(), names)
            })
            .collect()
    }

    /// The variable of one of `vendor`'s settings: `<PREFIX>_<FIELD>` (`DEEPSEEK_API_KEY`,
    /// `GEEKAI_REGION`, `EIOTCLUB_BASE_URL`).
    pub fn variable(vendor: Vendor, field: &str) -> String {
        format!("{}_{}", vendor.env_prefix(), field.to_ascii_uppercase())
    }
}

impl Account {
    /// An account at a vendor whose auth scheme takes one key (`api_key`): a bearer key,
    /// a key in a header. Fails for a vendor that needs other credentials.
    pub fn api_key(
        name: impl Into<String>,
        vendor: Vendor,
        api_key: impl Into<SecretString>,
    ) -> Result<Self, ConfigError> {
        Self::from_credentials(name, vendor, [("api_key", api_key.into())])
    }

    /// An account with its credentials by field name, exactly the fields
    /// [`Vendor::credential_fields`] lists (`[("appkey", ..), ("secret", ..)]`). A missing
    /// or extra field is an error naming it, never its value.
    pub fn from_credentials<F: AsRef<str>>(
        name: impl Into<String>,
        vendor: Vendor,
        credentials: impl IntoIterator<Item = (F, SecretString)>,
    ) -> Result<Self, ConfigError> {
        let name = name.into();
        let mut given: Vec<(F, SecretString)> = credentials.into_iter().collect();
        let fields = vendor.credential_fields();
        if let Some((extra, _)) = given.iter().find(|(f, _)| !fields.contains(&f.as_ref())) {
            return Err(ConfigError::FieldNotAllowed {
                account: name,
                field: extra.as_ref().to_owned(),
                vendor,
            });
        }
        let mut ordered = Vec::with_capacity(fields.len());
        for field in fields {
            let Some(at) = given.iter().position(|(f, _)| f.as_ref() == *field) else {
                return Err(ConfigError::MissingCredential {
                    account: name,
                    field: (*field).to_owned(),
                    env_field: format!("{field}_env"),
                });
            };
            ordered.push((*field, given.swap_remove(at).1));
        }
        Ok(Self {
            name,
            vendor,
            credentials: Credentials(ordered),
            base_url: None,
            region: None,
            alert_below: None,
            currency: None,
            parameters: Vec::new(),
            monthly_budget: None,
        })
    }

    /// Sends this account's requests to `url` instead of the vendor's server: a mirror, a
    /// proxy, a local test server. The URL may carry a path prefix
    /// (`https://proxy.example/deepseek`); the API path is appended to it.
    ///
    /// The URL must be `https://`, except on a loopback host (`localhost`, `127.0.0.0/8`,
    /// `::1`), which may use `http://`. It must not carry user info, a query or a fragment.
    pub fn with_base_url(mut self, url: &str) -> Result<Self, ConfigError> {
        self.base_url = Some(parse_base_url(&self.name, url)?);
        Ok(self)
    }

    /// The currency this account's amounts are in, for a vendor whose accounts choose it
    /// ([`Vendor::default_currency`]: a new-api site set to display CNY puts CNY in its
    /// `*_usd` fields). A code of three capital letters; another vendor refuses the field.
    pub fn with_currency(mut self, currency: &str) -> Result<Self, ConfigError> {
        if self.vendor.default_currency().is_none() {
            return Err(ConfigError::FieldNotAllowed {
                account: self.name.clone(),
                field: "currency".into(),
                vendor: self.vendor,
            });
        }
        if !(currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(ConfigError::InvalidType {
                account: self.name.clone(),
                field: "currency".into(),
                expected: "a currency code of three capital letters, such as USD or CNY".into(),
            });
        }
        self.currency = Some(currency.to_owned());
        Ok(self)
    }

    /// The currency the account set ([`Account::with_currency`]), if any.
    pub fn currency(&self) -> Option<&str> {
        self.currency.as_deref()
    }

    /// A vendor with no server of its own needs the account's base URL: the error naming
    /// the field and its environment variable when there is none.
    pub(crate) fn check_base_url(&self) -> Result<(), ConfigError> {
        match (self.vendor.account_base_url(), &self.base_url) {
            (Some(hint), None) => Err(ConfigError::MissingBaseUrl {
                account: self.name.clone(),
                vendor: self.vendor,
                hint: hint.to_owned(),
                variable: env::variable(self.vendor, "base_url"),
            }),
            _ => Ok(()),
        }
    }

    /// Picks one of the vendor's regions ([`Vendor::regions`]): its server and, for a
    /// vendor whose body names no currency, its currency. A vendor without regions, or a
    /// region it does not have, is an error. A base URL set with [`Account::with_base_url`]
    /// wins over the region's server; the region still gives the currency.
    pub fn with_region(mut self, region: &str) -> Result<Self, ConfigError> {
        if self.vendor.regions().len() == 0 {
            return Err(ConfigError::FieldNotAllowed {
                account: self.name.clone(),
                field: "region".into(),
                vendor: self.vendor,
            });
        }
        let known = self
            .vendor
            .region(region)
            .ok_or_else(|| ConfigError::UnknownRegion {
                account: self.name.clone(),
                value: region.to_owned(),
                expected: self.vendor.regions().collect::<Vec<_>>().join(", "),
            })?;
        self.region = Some(&known.name);
        Ok(self)
    }

    /// Sets one of the vendor's account parameters ([`Vendor::account_parameters`]: xAI's
    /// `team_id`), which the balance request carries in its path. A name the vendor does not
    /// have is an error, and so is a value that is not visible ASCII.
    pub fn with_parameter(mut self, name: &str, value: &str) -> Result<Self, ConfigError> {
        let Some(known) = self.vendor.account_parameters().find(|p| *p == name) else {
            return Err(ConfigError::FieldNotAllowed {
                account: self.name.clone(),
                field: name.to_owned(),
                vendor: self.vendor,
            });
        };
        credential::check(value, &self.name, name, None)?;
        self.parameters.retain(|(given, _)| *given != known);
        self.parameters.push((known, value.to_owned()));
        Ok(self)
    }

    /// The account's value of the vendor's parameter `name`, when set.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(given, _)| *given == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every parameter the vendor needs, with the account's value; a missing one is the
    /// error naming its field and variable.
    pub(crate) fn required_parameters(&self) -> Result<Vec<(&'static str, &str)>, ConfigError> {
        self.vendor
            .account_parameters()
            .map(|name| {
                self.parameter(name)
                    .map(|value| (name, value))
                    .ok_or_else(|| ConfigError::MissingParameter {
                        account: self.name.clone(),
                        field: name.to_owned(),
                        variable: env::variable(self.vendor, name),
                    })
            })
            .collect()
    }

    /// Sets the level below which this account's owner wants to be alerted: the command's
    /// exit status 1 and the exporter's `balances_alert_threshold` gauge.
    pub fn with_alert_below(mut self, threshold: Threshold) -> Self {
        self.alert_below = Some(threshold);
        self
    }

    /// The account's low-balance threshold, when one was set.
    pub fn alert_below(&self) -> Option<&Threshold> {
        self.alert_below.as_ref()
    }

    /// A monthly budget for an account whose vendor reports spend (OpenAI, Anthropic):
    /// what is left of it is `budget - spent`, which `alert_below` then applies to. Ignored
    /// for a vendor that reports a balance.
    pub fn with_monthly_budget(mut self, budget: crate::Budget) -> Self {
        self.monthly_budget = Some(budget);
        self
    }

    /// The monthly budget, when one is set.
    pub fn monthly_budget(&self) -> Option<&crate::Budget> {
        self.monthly_budget.as_ref()
    }

    /// The account's name, unique within a configuration.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The vendor this account belongs to.
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// The region set for this account, if any.
    pub fn region(&self) -> Option<&str> {
        self.region
    }

    /// The region in effect: the account's, else the vendor's default (for a vendor with
    /// regions).
    pub fn effective_region(&self) -> Option<&'static str> {
        self.region.or_else(|| self.vendor.default_region())
    }

    /// The base URL set for this account, if any.
    pub fn base_url(&self) -> Option<&Url> {
        self.base_url.as_ref()
    }

    /// The base URL requests go to, without a trailing slash: the account's own, else its
    /// region's, else the vendor's default.
    pub fn effective_base_url(&self) -> String {
        if let Some(url) = &self.base_url {
            return url.as_str().trim_end_matches('/').to_owned();
        }
        match self.region.and_then(|name| self.vendor.region(name)) {
            Some(region) => region.base_url.clone(),
            None => self.vendor.default_base_url().to_owned(),
        }
    }

    /// An account of `vendor` whose credentials are all empty: for decoding a response
    /// without an account (nothing to redact, nothing to send).
    pub(crate) fn without_credentials(name: &str, vendor: Vendor) -> Self {
        let empty = vendor
            .credential_fields()
            .iter()
            .map(|field| (*field, SecretString::from("")));
        Self {
            name: name.to_owned(),
            vendor,
            credentials: Credentials(empty.collect()),
            base_url: None,
            region: None,
            alert_below: None,
            currency: None,
            parameters: Vec::new(),
            monthly_budget: None,
        }
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Builds the accounts whose environment variables are set, one per vendor, each named
    /// after its vendor (`deepseek`). A vendor's variables are its prefix
    /// ([`Vendor::env_prefix`]) and a field, upper-cased ([`env::variable`]):
    ///
    /// - required: one per credential field (`DEEPSEEK_API_KEY`; `EIOTCLUB_APPKEY` and
    ///   `EIOTCLUB_SECRET`);
    /// - required: one per account parameter of the vendor (`XAI_TEAM_ID`), once its
    ///   credentials are set;
    /// - optional: `<PREFIX>_BASE_URL`, and `<PREFIX>_REGION` for a vendor with regions.
    ///
    /// An empty variable counts as unset. Setting only some of a vendor's credential
    /// variables is an error, and so is a malformed optional variable.
    pub fn from_env() -> Result<Vec<Account>, ConfigError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// [`Account::from_env`] with an injectable lookup, for tests and for callers that keep
    /// their variables elsewhere.
    pub fn from_env_with(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<Account>, ConfigError> {
        // Every variable is read under the credential rule: surrounding whitespace dropped,
        // an empty value unset.
        let get = |name: &str| {
            lookup(name)
                .map(|v| credential::from_env(&v).to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut accounts = Vec::new();
        for vendor in Vendor::all() {
            let name = vendor.as_str();
            let mut set = Vec::new();
            let mut missing = None;
            for field in vendor.credential_fields() {
                let variable = env::variable(vendor, field);
                match get(&variable) {
                    // The error names the account the variable makes and the variable,
                    // never the value.
                    Some(value) => {
                        credential::check(&value, name, &variable, Some(&variable))?;
                        set.push((*field, variable, SecretString::from(value)));
                    }
                    None => missing = missing.or(Some(variable)),
                }
            }
            match (set.first(), missing) {
                (None, _) => continue,
                (Some((_, set, _)), Some(missing)) => {
                    return Err(ConfigError::IncompleteEnv {
                        set: set.clone(),
                        missing,
                    });
                }
                (Some(_), None) => {}
            }
            let credentials = set.into_iter().map(|(field, _, value)| (field, value));
            let mut account = Account::from_credentials(name, vendor, credentials)?;
            for parameter in vendor.account_parameters() {
                let variable = env::variable(vendor, parameter);
                if let Some(value) = get(&variable) {
                    credential::check(&value, name, &variable, Some(&variable))?;
                    account = account.with_parameter(parameter, &value)?;
                }
            }
            // A parameter not set is the error naming its field and variable.
            account.required_parameters()?;
            if vendor.regions().len() > 0
                && let Some(region) = get(&env::variable(vendor, "region"))
            {
                account = account.with_region(&region)?;
            }
            if let Some(url) = get(&env::variable(vendor, "base_url")) {
                account = account.with_base_url(&url)?;
            }
            if vendor.default_currency().is_some()
                && let Some(currency) = get(&env::variable(vendor, "currency"))
            {
                account = account.with_currency(&currency)?;
            }
            account.check_base_url()?;
            accounts.push(account);
        }
        Ok(accounts)
    }
}

/// Parses and checks a base URL. The error never repeats the URL: a mistyped one may carry a
/// password in its user info.
pub(crate) fn parse_base_url(account: &str, text: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidBaseUrl {
        account: account.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(text).map_err(|e| invalid(&format!("not a valid URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not carry user info (credentials go in the key fields)",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or a fragment"));
    }
    let loopback = match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(invalid("has no host")),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(invalid(
            "must use https:// (http:// is allowed only for localhost, 127.0.0.0/8 and ::1)",
        )),
        _ => Err(invalid("must use https://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendor(id: &str) -> Vendor {
        Vendor::find(id).expect("in the registry")
    }

    #[test]
    fn vendor_ids_round_trip_through_text_and_json() {
        assert!(Vendor::all().len() >= 3);
        for vendor in Vendor::all() {
            assert_eq!(vendor.to_string().parse::<Vendor>(), Ok(vendor));
            assert_eq!(
                serde_json::to_string(&vendor).unwrap_or_default(),
                format!("\"{vendor}\"")
            );
            assert_eq!(
                serde_json::from_str::<Vendor>(&format!("\"{vendor}\"")).ok(),
                Some(vendor)
            );
        }
        assert_eq!(
            "DeepSeek".parse::<Vendor>(),
            Err(UnknownVendor("DeepSeek".into()))
        );
    }

    #[test]
    fn every_vendor_has_a_default_server() {
        // A vendor whose accounts give the server (new-api relays) has none of its own.
        for vendor in Vendor::all().filter(|v| v.account_base_url().is_none()) {
            assert!(
                vendor.default_base_url().starts_with("https://"),
                "{vendor}: {}",
                vendor.default_base_url()
            );
        }
    }

    #[test]
    fn a_vendor_without_a_server_needs_the_accounts_naming_field_and_variable() {
        let relay = Vendor::find("newapi").expect("in the registry");
        assert!(relay.account_base_url().is_some());
        // What a user with nothing set is told to set names it too.
        let variables = env::credential_variables();
        let (_, relay_variables) = variables
            .iter()
            .find(|(id, _)| *id == "newapi")
            .expect("newapi's variables");
        assert_eq!(relay_variables, &["NEWAPI_API_KEY", "NEWAPI_BASE_URL"]);
        let account = Account::api_key("relay", relay, "sk-1").expect("a key vendor");
        let error = account.check_base_url().expect_err("no base URL");
        assert_eq!(error.field(), Some("base_url"));
        let message = error.to_string();
        assert!(
            message.contains("account relay: field `base_url` is required")
                && message.contains("NEWAPI_BASE_URL"),
            "{message}"
        );
        let with_url = account
            .with_base_url("https://relay.example")
            .expect("a URL");
        assert_eq!(with_url.check_base_url(), Ok(()));
        assert_eq!(with_url.effective_base_url(), "https://relay.example");
        // Vendors with a server of their own need nothing.
        let deepseek = Account::api_key("d", Vendor::find("deepseek").unwrap(), "sk").unwrap();
        assert_eq!(deepseek.check_base_url(), Ok(()));
    }

    #[test]
    fn a_currency_is_chosen_per_account_where_the_vendor_allows_it() {
        let relay = Vendor::find("newapi").expect("in the registry");
        assert_eq!(relay.default_currency(), Some("USD"));
        let account = Account::api_key("relay", relay, "sk-1").expect("a key vendor");
        assert_eq!(account.currency(), None);
        let cny = account.clone().with_currency("CNY").expect("a code");
        assert_eq!(cny.currency(), Some("CNY"));
        for bad in ["cny", "CN", "RMB¥", ""] {
            let error = account.clone().with_currency(bad).expect_err(bad);
            assert_eq!(error.field(), Some("currency"), "{bad}");
        }
        let deepseek = Account::api_key("d", Vendor::find("deepseek").unwrap(), "sk").unwrap();
        assert!(matches!(
            deepseek.with_currency("USD"),
            Err(ConfigError::FieldNotAllowed { .. })
        ));
    }

    #[test]
    fn the_environment_gives_a_relays_base_url_and_currency_or_names_what_is_missing() {
        let only_key = |name: &str| (name == "NEWAPI_API_KEY").then(|| "sk-1".to_owned());
        let error = Account::from_env_with(only_key).expect_err("no base URL");
        assert!(
            matches!(&error, ConfigError::MissingBaseUrl { variable, .. } if variable == "NEWAPI_BASE_URL"),
            "{error}"
        );
        let all = |name: &str| match name {
            "NEWAPI_API_KEY" => Some("sk-1".to_owned()),
            "NEWAPI_BASE_URL" => Some("https://relay.example".to_owned()),
            "NEWAPI_CURRENCY" => Some("CNY".to_owned()),
            _ => None,
        };
        let accounts = Account::from_env_with(all).expect("complete");
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].currency(), Some("CNY"));
        assert_eq!(accounts[0].effective_base_url(), "https://relay.example");
    }

    #[test]
    fn regions_choose_the_server_and_a_base_url_wins() {
        let geekai = vendor("geekai");
        let account = Account::api_key("a", geekai, "k").unwrap();
        assert_eq!(account.effective_base_url(), "https://geekai.co/api");
        assert_eq!(account.effective_region(), Some("cn"));
        let global = account.clone().with_region("global").unwrap();
        assert_eq!(global.effective_base_url(), "https://geekai.dev/api");
        let proxied = global.with_base_url("https://proxy.example/gk/").unwrap();
        assert_eq!(proxied.effective_base_url(), "https://proxy.example/gk");
        assert_eq!(proxied.effective_region(), Some("global"));
        assert_eq!(
            account.with_region("mars").map(|_| ()),
            Err(ConfigError::UnknownRegion {
                account: "a".into(),
                value: "mars".into(),
                expected: "cn, global".into(),
            })
        );
    }

    #[test]
    fn region_only_for_vendors_with_regions() {
        let deepseek = vendor("deepseek");
        assert_eq!(
            Account::api_key("ds", deepseek, "k")
                .unwrap()
                .with_region("global")
                .map(|_| ()),
            Err(ConfigError::FieldNotAllowed {
                account: "ds".into(),
                field: "region".into(),
                vendor: deepseek,
            })
        );
    }

    #[test]
    fn credentials_must_be_the_schemes_fields() {
        let eiotclub = vendor("eiotclub");
        assert_eq!(
            Account::api_key("iot", eiotclub, "k").map(|_| ()),
            Err(ConfigError::FieldNotAllowed {
                account: "iot".into(),
                field: "api_key".into(),
                vendor: eiotclub,
            })
        );
        let missing = Account::from_credentials("iot", eiotclub, [("appkey", "a".into())]);
        assert_eq!(
            missing.map(|_| ()),
            Err(ConfigError::MissingCredential {
                account: "iot".into(),
                field: "secret".into(),
                env_field: "secret_env".into(),
            })
        );
        let account = Account::from_credentials(
            "iot",
            eiotclub,
            [("secret", "s".into()), ("appkey", "a".into())],
        )
        .unwrap();
        let debug = format!("{account:?} {:?}", account.credentials());
        assert!(
            !debug.contains("\"a\"") && !debug.contains("\"s\""),
            "{debug}"
        );
    }

    #[test]
    fn base_url_rules() {
        let ok = [
            "https://api.example",
            "http://127.0.0.1:8080",
            "http://127.5.6.7",
            "http://localhost:1234/x",
            "http://[::1]:9000",
        ];
        for url in ok {
            assert!(parse_base_url("a", url).is_ok(), "{url} should be accepted");
        }
        let bad = [
            ("http://api.example", "must use https://"),
            ("http://10.0.0.1", "must use https://"),
            ("ftp://api.example", "must use https://"),
            ("not a url", "not a valid URL"),
            ("https://user:pw@api.example", "user info"),
            ("https://api.example/?key=1", "query"),
        ];
        for (url, reason) in bad {
            match parse_base_url("a", url) {
                Err(ConfigError::InvalidBaseUrl { account, reason: r }) => {
                    assert_eq!(account, "a");
                    assert!(r.contains(reason), "{url}: {r}");
                    assert!(!r.contains("pw"), "reason must not repeat the URL: {r}");
                }
                other => panic!("{url}: expected InvalidBaseUrl, got {other:?}"),
            }
        }
    }

    #[test]
    fn from_env_builds_accounts_for_set_variables() {
        let vars = [
            ("DEEPSEEK_API_KEY", "sk-1"),
            ("GEEKAI_API_KEY", "gk-1"),
            ("GEEKAI_REGION", "global"),
            ("EIOTCLUB_APPKEY", ""),
        ];
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let accounts = Account::from_env_with(lookup).unwrap_or_default();
        let names: Vec<_> = accounts.iter().map(|a| (a.name(), a.vendor())).collect();
        assert_eq!(
            names,
            [
                ("deepseek", vendor("deepseek")),
                ("geekai", vendor("geekai"))
            ]
        );
        assert_eq!(accounts[1].effective_base_url(), "https://geekai.dev/api");
    }

    #[test]
    fn from_env_rejects_part_of_a_credential_set() {
        let lookup = |name: &str| (name == "EIOTCLUB_SECRET").then(|| "s".to_owned());
        assert_eq!(
            Account::from_env_with(lookup).map(|a| a.len()),
            Err(ConfigError::IncompleteEnv {
                set: "EIOTCLUB_SECRET".into(),
                missing: "EIOTCLUB_APPKEY".into()
            })
        );
    }
}
