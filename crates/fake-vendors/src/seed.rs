//! Accounts as a caller describes them ([`AccountSeed`]) and as a client needs to know them
//! ([`AccountInfo`]). Nothing here names a vendor: the vendor id, its credential fields and
//! its examples all come from the registry.

use std::fmt;
use std::time::Duration;

use balances_registry::VendorEntry;
use bytes::Bytes;
use serde::{Serialize, Serializer};

use crate::respond::Served;
use crate::{FakeVendorsError, Fault, catalog};

/// What an account answers when no fault applies.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// The vendor's default example.
    Default,
    /// The example with this name.
    Example(String),
    /// This body, with status 200.
    Body(String),
}

/// One account to seed: a vendor id from the registry, the credentials its auth scheme needs,
/// and what it answers.
///
/// ```
/// use fake_vendors::{AccountSeed, Fault};
///
/// let seed = AccountSeed::new("deepseek", [("api_key", "sk-1")])
///     .name("work")
///     .example("two_currencies");
/// let raw = AccountSeed::new("geekai", [("api_key", "gk-1")]).body(r#"{"balance":7}"#);
/// let revoked = AccountSeed::new("deepseek", [("api_key", "sk-2")]).fault(Fault::Unauthorized);
/// # let _ = (seed, raw, revoked);
/// ```
///
/// Nothing is checked until the seed is used ([`start`](crate::FakeVendorsBuilder::start),
/// [`add_account`](crate::FakeVendorsHandle::add_account)): an unknown vendor, region or
/// example, or a missing credential, is a [`FakeVendorsError`] then. `Debug` redacts the
/// credentials.
#[derive(Clone)]
pub struct AccountSeed {
    vendor: String,
    credentials: Vec<(String, String)>,
    name: Option<String>,
    region: Option<String>,
    answer: Answer,
    fault: Option<Fault>,
    latency: Duration,
    note: String,
}

impl AccountSeed {
    /// An account of the vendor `vendor` (a registry id) with these credentials, by field
    /// name: `[("api_key", key)]`, or `[("appkey", appkey), ("secret", secret)]` for the
    /// signature scheme (the fields are the vendor's `auth.credential_fields()`). The first
    /// field's value identifies the account ([`FakeVendorsHandle::account`](crate::FakeVendorsHandle::account)).
    ///
    /// It answers the vendor's default example: the first, by name, whose expected result is
    /// a balance.
    pub fn new<K, V>(
        vendor: impl Into<String>,
        credentials: impl IntoIterator<Item = (K, V)>,
    ) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        AccountSeed {
            vendor: vendor.into(),
            credentials: credentials
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            name: None,
            region: None,
            answer: Answer::Default,
            fault: None,
            latency: Duration::ZERO,
            note: String::new(),
        }
    }

    /// A display name (logs and [`AccountInfo`]; never a secret). Default `<vendor>-<n>`.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Put the account in this region of a vendor with regions: it answers only on that
    /// region's route. Default: the example's region, else the vendor's default region.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Answer the vendor's example called `name` (its file stem): its status, headers and
    /// body, exactly.
    #[must_use]
    pub fn example(mut self, name: impl Into<String>) -> Self {
        self.answer = Answer::Example(name.into());
        self
    }

    /// Answer this body, verbatim, with status 200 and `Content-Type: application/json`.
    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.answer = Answer::Body(body.into());
        self
    }

    /// Apply `fault` to every request until cleared.
    #[must_use]
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// Wait `latency` before every answer.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Attach a note, shown by the binary (for example "overdrawn").
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// The vendor id as given.
    pub fn vendor_id(&self) -> &str {
        &self.vendor
    }

    /// Check the seed against the registry. `default_name` is asked only when the seed has
    /// no name.
    pub(crate) fn resolve(
        self,
        default_name: impl FnOnce(&str) -> String,
    ) -> Result<Resolved, FakeVendorsError> {
        let vendor = catalog::vendor(&self.vendor)?;
        let credentials = ordered_credentials(vendor, self.credentials)?;
        let served = match &self.answer {
            Answer::Default => Served::Example(catalog::default_example(vendor)?),
            Answer::Example(name) => Served::Example(catalog::example(vendor, name)?),
            Answer::Body(body) => Served::Body(Bytes::from(body.clone())),
        };
        let region = if vendor.description.regions.is_empty() {
            match self.region {
                Some(region) => {
                    return Err(FakeVendorsError::UnknownRegion {
                        vendor: vendor.id.clone(),
                        region,
                    });
                }
                None => None,
            }
        } else {
            let example_region = match served {
                Served::Example(example) => example.region.as_deref(),
                Served::Body(_) | Served::Page(_) => None,
            };
            match self.region.as_deref().or(example_region) {
                Some(region) => Some(catalog::region(vendor, region)?),
                None => catalog::default_region(vendor),
            }
        };
        Ok(Resolved {
            name: self.name.unwrap_or_else(|| default_name(&vendor.id)),
            vendor,
            region,
            credentials,
            served,
            fault: self.fault,
            latency: self.latency,
            note: self.note,
        })
    }
}

/// The seed's credentials in the order of the vendor's credential fields, each present once.
fn ordered_credentials(
    vendor: &'static VendorEntry,
    mut given: Vec<(String, String)>,
) -> Result<Vec<(&'static str, String)>, FakeVendorsError> {
    let fields = vendor.description.auth.credential_fields();
    if let Some((field, _)) = given.iter().find(|(f, _)| !fields.contains(&f.as_str())) {
        return Err(FakeVendorsError::UnexpectedCredential {
            vendor: vendor.id.clone(),
            field: field.clone(),
        });
    }
    fields
        .iter()
        .map(|field| {
            // The last value given for a field wins, as with a map.
            let value = given
                .iter()
                .rposition(|(f, _)| f == field)
                .map(|i| given.swap_remove(i).1);
            value
                .map(|v| (*field, v))
                .ok_or_else(|| FakeVendorsError::MissingCredential {
                    vendor: vendor.id.clone(),
                    field,
                })
        })
        .collect()
}

impl fmt::Debug for AccountSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.credentials.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("AccountSeed")
            .field("vendor", &self.vendor)
            .field("credentials", &fields)
            .field("name", &self.name)
            .field("region", &self.region)
            .field("answer", &self.answer)
            .field("fault", &self.fault)
            .field("latency", &self.latency)
            .field("note", &self.note)
            .finish()
    }
}

/// A seed checked against the registry.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) name: String,
    pub(crate) vendor: &'static VendorEntry,
    pub(crate) region: Option<&'static str>,
    pub(crate) credentials: Vec<(&'static str, String)>,
    pub(crate) served: Served,
    pub(crate) fault: Option<Fault>,
    pub(crate) latency: Duration,
    pub(crate) note: String,
}

/// A seeded account as a client needs to know it: name, vendor, region, credentials, base
/// URL.
///
/// Serializes with the credentials as an object by field name (the binary prints them: they
/// are fake); `Debug` redacts them.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AccountInfo {
    /// The account's display name.
    pub name: String,
    /// Its vendor's id in the registry.
    pub vendor: String,
    /// Its region, for a vendor with regions.
    pub region: Option<String>,
    /// Its credentials, `(field, value)`, in the order of the vendor's credential fields.
    #[serde(serialize_with = "as_map")]
    pub credentials: Vec<(String, String)>,
    /// The base URL to give the vendor's client: `http://127.0.0.1:PORT/<vendor>[/<region>]`.
    pub base_url: String,
    /// The seed's note.
    pub note: String,
}

impl AccountInfo {
    /// The value of the credential field `field`.
    pub fn credential(&self, field: &str) -> Option<&str> {
        self.credentials
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
    }

    /// The first credential's value: what [`FakeVendorsHandle::account`](crate::FakeVendorsHandle::account)
    /// looks the account up by.
    pub fn key(&self) -> &str {
        self.credentials.first().map_or("", |(_, v)| v.as_str())
    }
}

fn as_map<S: Serializer>(credentials: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(credentials.iter().map(|(k, v)| (k, v)))
}

impl fmt::Debug for AccountInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.credentials.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("AccountInfo")
            .field("name", &self.name)
            .field("vendor", &self.vendor)
            .field("region", &self.region)
            .field("credentials", &fields)
            .field("base_url", &self.base_url)
            .field("note", &self.note)
            .finish()
    }
}
