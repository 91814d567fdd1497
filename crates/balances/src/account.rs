//! Accounts: which vendor, which credentials, which server.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::credential;
use crate::error::ConfigError;
use crate::threshold::Threshold;

/// A balance API this crate can query.
///
/// Serialized, displayed and parsed as `"deepseek"`, `"geekai"` or `"eiotclub"`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
// Vendors are added in minor releases.
#[non_exhaustive]
pub enum Vendor {
    /// DeepSeek (`GET /user/balance`, bearer API key).
    DeepSeek,
    /// GeekAI / 极客智坊 (`GET /credit/balance`, bearer system key, balance in coins).
    GeekAi,
    /// EIOTClub (`POST /api/v3/agent/balance`, signed body with appkey and secret).
    EiotClub,
}

impl Vendor {
    /// Every vendor, in a stable order.
    pub const ALL: [Vendor; 3] = [Vendor::DeepSeek, Vendor::GeekAi, Vendor::EiotClub];

    /// The lower-case name used in configuration and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::DeepSeek => "deepseek",
            Vendor::GeekAi => "geekai",
            Vendor::EiotClub => "eiotclub",
        }
    }

    /// The server used when an account sets no base URL (for GeekAI: the [`Region::Cn`] one).
    pub fn default_base_url(self) -> &'static str {
        match self {
            Vendor::DeepSeek => "https://api.deepseek.com",
            Vendor::GeekAi => Region::Cn.base_url(),
            Vendor::EiotClub => "https://oapi.eiotclub.com",
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown vendor name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown vendor `{0}` (expected {list})", list = crate::vendor::vendor_list())]
pub struct UnknownVendor(pub String);

impl FromStr for Vendor {
    type Err = UnknownVendor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Vendor::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownVendor(s.to_owned()))
    }
}

/// GeekAI's two deployments. Defaults to [`Region::Cn`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Region {
    /// Mainland China: `https://geekai.co/api`.
    #[default]
    Cn,
    /// Overseas: `https://geekai.dev/api`.
    Global,
}

impl Region {
    /// `"cn"` or `"global"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Cn => "cn",
            Region::Global => "global",
        }
    }

    /// The GeekAI base URL of this region.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Cn => "https://geekai.co/api",
            Region::Global => "https://geekai.dev/api",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cn" => Ok(Region::Cn),
            "global" => Ok(Region::Global),
            other => Err(format!("unknown region `{other}` (expected cn or global)")),
        }
    }
}

/// What an account authenticates with. Every part is a secret, the EIOTClub appkey included:
/// it identifies the account and is half of what a signature needs.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// A bearer key (DeepSeek API key, GeekAI system key).
    ApiKey(SecretString),
    /// EIOTClub's appkey and the secret it signs with.
    AppKey {
        appkey: SecretString,
        secret: SecretString,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ApiKey(_) => f.write_str("ApiKey([REDACTED])"),
            Credentials::AppKey { .. } => {
                f.write_str("AppKey { appkey: [REDACTED], secret: [REDACTED] }")
            }
        }
    }
}

/// One account at one vendor: a unique name, credentials, and optionally a server to use.
///
/// Build one in code ([`Account::deepseek`], [`Account::geekai`], [`Account::eiotclub`]), from
/// the well-known environment variables ([`Account::from_env`]), or load many from a TOML file
/// ([`crate::Config`]).
///
/// `Debug` never shows a credential:
///
/// ```
/// let account = balances::Account::deepseek("work", "sk-do-not-print");
/// assert!(!format!("{account:?}").contains("sk-do-not-print"));
/// ```
#[derive(Clone)]
pub struct Account {
    name: String,
    vendor: Vendor,
    credentials: Credentials,
    base_url: Option<Url>,
    region: Option<Region>,
    alert_below: Option<Threshold>,
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
            .finish()
    }
}

/// Environment variables read by [`Account::from_env`].
pub mod env {
    /// For every vendor, its id and the variables that carry its credentials
    /// (`("deepseek", ["DEEPSEEK_API_KEY"])`), derived from the vendor registry: what to tell
    /// a user who has none set.
    pub fn credential_variables() -> Vec<(&'static str, Vec<String>)> {
        crate::vendor::credential_variables()
    }

    /// DeepSeek API key.
    pub const DEEPSEEK_API_KEY: &str = "DEEPSEEK_API_KEY";
    /// Optional DeepSeek base URL.
    pub const DEEPSEEK_BASE_URL: &str = "DEEPSEEK_BASE_URL";
    /// GeekAI system key.
    pub const GEEKAI_API_KEY: &str = "GEEKAI_API_KEY";
    /// Optional GeekAI region, `cn` or `global`.
    pub const GEEKAI_REGION: &str = "GEEKAI_REGION";
    /// Optional GeekAI base URL (wins over the region).
    pub const GEEKAI_BASE_URL: &str = "GEEKAI_BASE_URL";
    /// EIOTClub appkey.
    pub const EIOTCLUB_APPKEY: &str = "EIOTCLUB_APPKEY";
    /// EIOTClub secret.
    pub const EIOTCLUB_SECRET: &str = "EIOTCLUB_SECRET";
    /// Optional EIOTClub base URL.
    pub const EIOTCLUB_BASE_URL: &str = "EIOTCLUB_BASE_URL";
}

impl Account {
    /// A DeepSeek account authenticated by an API key.
    pub fn deepseek(name: impl Into<String>, api_key: impl Into<SecretString>) -> Self {
        Self::new(name, Vendor::DeepSeek, Credentials::ApiKey(api_key.into()))
    }

    /// A GeekAI account authenticated by a system key, in the [`Region::Cn`] region unless
    /// [`Account::with_region`] says otherwise.
    pub fn geekai(name: impl Into<String>, system_key: impl Into<SecretString>) -> Self {
        Self::new(name, Vendor::GeekAi, Credentials::ApiKey(system_key.into()))
    }

    /// An EIOTClub account: the appkey and the secret it signs requests with.
    pub fn eiotclub(
        name: impl Into<String>,
        appkey: impl Into<SecretString>,
        secret: impl Into<SecretString>,
    ) -> Self {
        Self::new(
            name,
            Vendor::EiotClub,
            Credentials::AppKey {
                appkey: appkey.into(),
                secret: secret.into(),
            },
        )
    }

    fn new(name: impl Into<String>, vendor: Vendor, credentials: Credentials) -> Self {
        Self {
            name: name.into(),
            vendor,
            credentials,
            base_url: None,
            region: None,
            alert_below: None,
        }
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

    /// Picks the GeekAI region. Only GeekAI accounts have regions; any other vendor is an
    /// error. A base URL set with [`Account::with_base_url`] wins over the region.
    pub fn with_region(mut self, region: Region) -> Result<Self, ConfigError> {
        if self.vendor != Vendor::GeekAi {
            return Err(ConfigError::FieldNotAllowed {
                account: self.name.clone(),
                field: "region".into(),
                vendor: self.vendor,
            });
        }
        self.region = Some(region);
        Ok(self)
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

    /// The account's name, unique within a configuration.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The vendor this account belongs to.
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// The GeekAI region, when one was set.
    pub fn region(&self) -> Option<Region> {
        self.region
    }

    /// The base URL set for this account, if any.
    pub fn base_url(&self) -> Option<&Url> {
        self.base_url.as_ref()
    }

    /// The base URL requests go to, without a trailing slash: the account's own, else the
    /// region's (GeekAI), else the vendor's default.
    pub fn effective_base_url(&self) -> String {
        match (&self.base_url, self.region) {
            (Some(url), _) => url.as_str().trim_end_matches('/').to_owned(),
            (None, Some(region)) => region.base_url().to_owned(),
            (None, None) => self.vendor.default_base_url().to_owned(),
        }
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Builds the accounts whose well-known environment variables are set, each named after
    /// its vendor (`deepseek`, `geekai`, `eiotclub`):
    ///
    /// | vendor   | required                               | optional                               |
    /// |----------|----------------------------------------|----------------------------------------|
    /// | DeepSeek | `DEEPSEEK_API_KEY`                     | `DEEPSEEK_BASE_URL`                    |
    /// | GeekAI   | `GEEKAI_API_KEY`                       | `GEEKAI_REGION`, `GEEKAI_BASE_URL`     |
    /// | EIOTClub | `EIOTCLUB_APPKEY` and `EIOTCLUB_SECRET` | `EIOTCLUB_BASE_URL`                    |
    ///
    /// An empty variable counts as unset. Setting only one of the EIOTClub pair is an error,
    /// and so is a malformed optional variable.
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
        // A credential variable must also hold a valid credential; the error names the
        // account the variable makes and the variable, never the value.
        let key = |account: &str, name: &str| -> Result<Option<String>, ConfigError> {
            match get(name) {
                Some(value) => {
                    credential::check(&value, account, name, Some(name))?;
                    Ok(Some(value))
                }
                None => Ok(None),
            }
        };
        let mut accounts = Vec::new();

        if let Some(key) = key("deepseek", env::DEEPSEEK_API_KEY)? {
            let mut account = Account::deepseek("deepseek", key);
            if let Some(url) = get(env::DEEPSEEK_BASE_URL) {
                account = account.with_base_url(&url)?;
            }
            accounts.push(account);
        }

        if let Some(key) = key("geekai", env::GEEKAI_API_KEY)? {
            let mut account = Account::geekai("geekai", key);
            if let Some(region) = get(env::GEEKAI_REGION) {
                let region = region.parse().map_err(|_| ConfigError::UnknownRegion {
                    account: "geekai".into(),
                    value: region,
                })?;
                account = account.with_region(region)?;
            }
            if let Some(url) = get(env::GEEKAI_BASE_URL) {
                account = account.with_base_url(&url)?;
            }
            accounts.push(account);
        }

        match (
            key("eiotclub", env::EIOTCLUB_APPKEY)?,
            key("eiotclub", env::EIOTCLUB_SECRET)?,
        ) {
            (Some(appkey), Some(secret)) => {
                let mut account = Account::eiotclub("eiotclub", appkey, secret);
                if let Some(url) = get(env::EIOTCLUB_BASE_URL) {
                    account = account.with_base_url(&url)?;
                }
                accounts.push(account);
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(ConfigError::IncompleteEnv {
                    set: env::EIOTCLUB_APPKEY.into(),
                    missing: env::EIOTCLUB_SECRET.into(),
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::IncompleteEnv {
                    set: env::EIOTCLUB_SECRET.into(),
                    missing: env::EIOTCLUB_APPKEY.into(),
                });
            }
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

    #[test]
    fn vendor_names_round_trip() {
        for vendor in Vendor::ALL {
            assert_eq!(vendor.to_string().parse::<Vendor>(), Ok(vendor));
            assert_eq!(
                serde_json::to_string(&vendor).unwrap_or_default(),
                format!("\"{vendor}\"")
            );
        }
        assert_eq!(
            "DeepSeek".parse::<Vendor>(),
            Err(UnknownVendor("DeepSeek".into()))
        );
    }

    #[test]
    fn default_base_urls() {
        assert_eq!(
            Account::deepseek("a", "k").effective_base_url(),
            "https://api.deepseek.com"
        );
        assert_eq!(
            Account::geekai("a", "k").effective_base_url(),
            "https://geekai.co/api"
        );
        let global = Account::geekai("a", "k").with_region(Region::Global);
        assert_eq!(
            global.map(|a| a.effective_base_url()).ok().as_deref(),
            Some("https://geekai.dev/api")
        );
        assert_eq!(
            Account::eiotclub("a", "k", "s").effective_base_url(),
            "https://oapi.eiotclub.com"
        );
    }

    #[test]
    fn base_url_keeps_path_prefix_and_drops_trailing_slash() {
        let account = Account::deepseek("a", "k").with_base_url("https://proxy.example/deepseek/");
        assert_eq!(
            account.map(|a| a.effective_base_url()).ok().as_deref(),
            Some("https://proxy.example/deepseek")
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
    fn region_only_for_geekai() {
        assert_eq!(
            Account::deepseek("ds", "k")
                .with_region(Region::Global)
                .map(|_| ()),
            Err(ConfigError::FieldNotAllowed {
                account: "ds".into(),
                field: "region".into(),
                vendor: Vendor::DeepSeek
            })
        );
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
            [("deepseek", Vendor::DeepSeek), ("geekai", Vendor::GeekAi)]
        );
        assert_eq!(accounts[1].effective_base_url(), "https://geekai.dev/api");
    }

    #[test]
    fn from_env_rejects_half_an_eiotclub_pair() {
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
