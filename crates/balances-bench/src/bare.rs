//! The bare baselines' requests: what a hand-written client sends for one account, from the
//! registry alone. The balance operation's method and path come from the vendor's entry, as
//! do the parameters its spec fixes and whether it sends a JSON body; the credentials go
//! where its auth scheme puts them: written once per scheme, for every vendor that uses it,
//! so no vendor is named here. The same request goes out through `reqwest` (call overhead,
//! the fan-out's bare side) or `curl` (the command rows).
//!
//! A signature-scheme request gets a body signed with `fake_vendors::sign` (the fake's own
//! implementation, not the facade's), with a fresh timestamp and a nonce this process never
//! used with that appkey in that second, as a careful client (and the facade) does. A cloud
//! scheme's request is signed with `balances-signing` when it is built, as a hand-written
//! client would use a signing library.

use std::collections::HashSet;
use std::sync::Mutex;

use balances::balances_registry::{self, Auth, VendorEntry};
use balances::eiotclub::NONCE_RANGE;
use balances_signing::{Attempt, Scheme, SigningRequest};
use fake_vendors::{AccountInfo, AccountSeed, FakeVendors, FakeVendorsHandle};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use secrecy::SecretString;
use serde_json::{Map, Value};

type BenchError = Box<dyn std::error::Error>;

/// The vendor of the single-vendor rows (call overhead, command start, the profiling
/// example): the first registry vendor, by id, with the `bearer` scheme that documents a
/// balance.
pub(crate) fn baseline_vendor() -> Result<&'static VendorEntry, BenchError> {
    balances_registry::vendors()
        .iter()
        .find(|vendor| {
            vendor.description.auth == Auth::Bearer && vendor.default_balance_example().is_some()
        })
        .ok_or_else(|| "no registry vendor with the bearer scheme documents a balance".into())
}

/// A fake server with one account, `bench`, of [`baseline_vendor`], answering its default
/// example; each credential field `<field>` is `bench-<field>`.
pub(crate) async fn one_baseline_account() -> Result<FakeVendorsHandle, BenchError> {
    let vendor = baseline_vendor()?;
    let credentials = vendor
        .description
        .auth
        .credential_fields()
        .iter()
        .map(|field| (*field, format!("bench-{field}")));
    Ok(FakeVendors::builder()
        .account(AccountSeed::new(vendor.id.as_str(), credentials).name("bench"))
        .start()
        .await?)
}

/// The (appkey, timestamp, nonce) triples this process signed, so none repeats.
#[derive(Debug, Default)]
pub(crate) struct Nonces(Mutex<HashSet<(String, i64, u32)>>);

impl Nonces {
    /// The current Unix time and a nonce not yet used with `appkey` in that second.
    fn fresh(&self, appkey: &str) -> Result<(i64, u32), BenchError> {
        let timestamp = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs(),
        )?;
        let mut used = self.0.lock().map_err(|_| "nonce set poisoned")?;
        loop {
            let nonce = rand::random_range(NONCE_RANGE);
            if used.insert((appkey.to_owned(), timestamp, nonce)) {
                return Ok((timestamp, nonce));
            }
        }
    }
}

/// Where an account's credentials go, by scheme.
#[derive(Debug)]
enum Credentials {
    /// One header with the key (`bearer`, `header`, `authorization`).
    Header(HeaderName, HeaderValue),
    /// A JSON body signed per request (`eiotclub-signature`).
    SignedBody { appkey: String, secret: String },
    /// Headers signing the request, made per request (the cloud schemes).
    Signed {
        scheme: Scheme,
        credentials: balances_signing::Credentials,
    },
}

/// One account's balance request as a bare client builds it.
#[derive(Debug)]
pub(crate) struct BareTarget {
    method: reqwest::Method,
    url: reqwest::Url,
    /// The headers the spec fixes (a cloud API's action and version).
    fixed: HeaderMap,
    /// The operation sends a JSON body (`{}` unless the scheme signs one).
    json_body: bool,
    credentials: Credentials,
}

impl BareTarget {
    /// The request of an account of vendor `vendor` (a registry id) served at `base_url`,
    /// whose credential field `f` is `credential(f)`.
    pub(crate) fn new(
        vendor: &str,
        base_url: &str,
        credential: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, BenchError> {
        let entry = balances_registry::find(vendor)
            .ok_or_else(|| format!("no vendor {vendor} in the registry"))?;
        let auth = &entry.description.auth;
        let field = |name: &str| {
            credential(name).ok_or_else(|| format!("a {vendor} account without its {name}"))
        };
        let fields = auth.credential_fields();
        let key = || match fields {
            [key] => field(key),
            _ => Err(format!("{vendor}: a header scheme with fields {fields:?}")),
        };
        let credentials = match auth {
            Auth::Bearer => Credentials::Header(
                AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {}", key()?))?,
            ),
            Auth::Header { header } => Credentials::Header(
                HeaderName::from_bytes(header.as_bytes())?,
                HeaderValue::from_str(&key()?)?,
            ),
            Auth::Authorization => {
                Credentials::Header(AUTHORIZATION, HeaderValue::from_str(&key()?)?)
            }
            Auth::Prefixed { prefix } => Credentials::Header(
                AUTHORIZATION,
                HeaderValue::from_str(&format!("{prefix} {}", key()?))?,
            ),
            Auth::EiotclubSignature => match fields {
                [appkey, secret] => Credentials::SignedBody {
                    appkey: field(appkey)?,
                    secret: field(secret)?,
                },
                _ => {
                    return Err(
                        format!("{vendor}: a signature scheme with fields {fields:?}").into(),
                    );
                }
            },
            other => match (Scheme::for_auth(other), fields) {
                (Some(scheme), [id, secret]) => Credentials::Signed {
                    scheme,
                    credentials: balances_signing::Credentials::new(
                        SecretString::from(field(id)?),
                        SecretString::from(field(secret)?),
                    )?,
                },
                _ => {
                    return Err(format!(
                        "the bare baseline has no request for {other:?} ({vendor})"
                    )
                    .into());
                }
            },
        };
        // An account parameter in the path (`{team_id}`) is the account's value, else its name.
        let path =
            entry
                .description
                .account_parameters
                .iter()
                .fold(entry.path.clone(), |path, name| {
                    let value = credential(name).unwrap_or_else(|| name.clone());
                    path.replace(&format!("{{{name}}}"), &value)
                });
        let mut url = reqwest::Url::parse(&format!("{base_url}{path}"))?;
        for fixed in &entry.request.query {
            url.query_pairs_mut().append_pair(&fixed.name, &fixed.value);
        }
        // A spend report is asked for a period: this calendar month, as the facade asks.
        if let Some(spend) = &entry.description.balance.spend {
            let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
            let period = balances::Period::month_of(now);
            let instants = std::iter::once((&spend.start, period.start_unix_seconds()))
                .chain(spend.end.iter().map(|end| (end, period.end_unix_seconds())));
            for (parameter, instant) in instants {
                let value = parameter.format.write(instant).ok_or_else(|| {
                    format!(
                        "{vendor}: the period's {} cannot be written",
                        parameter.name
                    )
                })?;
                url.query_pairs_mut().append_pair(&parameter.name, &value);
            }
            for (name, value) in &spend.query {
                url.query_pairs_mut().append_pair(name, value);
            }
        }
        let mut fixed = HeaderMap::new();
        for parameter in &entry.request.headers {
            fixed.insert(
                HeaderName::from_bytes(parameter.name.as_bytes())?,
                HeaderValue::from_str(&parameter.value)?,
            );
        }
        Ok(Self {
            method: reqwest::Method::from_bytes(entry.method.as_bytes())?,
            url,
            fixed,
            json_body: entry.request.json_body,
            credentials,
        })
    }

    /// The request of a seeded account.
    pub(crate) fn of(info: &AccountInfo) -> Result<Self, BenchError> {
        Self::new(&info.vendor, &info.base_url, |field| {
            info.credential(field).map(str::to_owned)
        })
    }

    /// A body signed now with a fresh timestamp and nonce.
    fn signed_body(
        appkey: &str,
        secret: &str,
        nonces: &Nonces,
    ) -> Result<Map<String, Value>, BenchError> {
        let (timestamp, nonce) = nonces.fresh(appkey)?;
        Ok(fake_vendors::sign::signed_body(
            appkey,
            secret,
            timestamp,
            nonce,
            &Map::new(),
        ))
    }

    /// The headers and body of one request (a signed body or signature made now).
    fn parts(&self, nonces: &Nonces) -> Result<(HeaderMap, Option<Vec<u8>>), BenchError> {
        let mut headers = self.fixed.clone();
        let json = HeaderValue::from_static("application/json");
        let body = match &self.credentials {
            Credentials::Header(name, value) => {
                headers.insert(name.clone(), value.clone());
                self.json_body.then(|| b"{}".to_vec())
            }
            Credentials::SignedBody { appkey, secret } => {
                let body = Self::signed_body(appkey, secret, nonces)?;
                Some(serde_json::to_vec(&body)?)
            }
            Credentials::Signed {
                scheme,
                credentials,
            } => {
                let body = self.json_body.then(|| b"{}".to_vec());
                if body.is_some() {
                    headers.insert(CONTENT_TYPE, json.clone());
                }
                let request = SigningRequest::from_http(
                    &self.method,
                    &self.url,
                    &headers,
                    body.as_deref().unwrap_or_default(),
                )?;
                headers.extend(scheme.sign(&request, credentials, &Attempt::fresh()?)?);
                body
            }
        };
        if body.is_some() {
            headers.entry(CONTENT_TYPE).or_insert(json);
        }
        Ok((headers, body))
    }

    /// The request, ready to send (a signed body or signature is made now).
    pub(crate) fn request(
        &self,
        client: &reqwest::Client,
        nonces: &Nonces,
    ) -> Result<reqwest::RequestBuilder, BenchError> {
        let (headers, body) = self.parts(nonces)?;
        let request = client
            .request(self.method.clone(), self.url.clone())
            .headers(headers);
        Ok(match body {
            Some(body) => request.body(body),
            None => request,
        })
    }

    /// The request as `curl` options, long name and value (`request`, `header`,
    /// `data-binary`, `url`); a signed body or signature is made now.
    fn curl_options(&self, nonces: &Nonces) -> Result<Vec<(&'static str, String)>, BenchError> {
        let mut options = vec![("request", self.method.to_string())];
        let (headers, body) = self.parts(nonces)?;
        for (name, value) in &headers {
            options.push(("header", format!("{name}: {}", value.to_str()?)));
        }
        if let Some(body) = body {
            options.push(("data-binary", String::from_utf8(body)?));
        }
        options.push(("url", self.url.to_string()));
        Ok(options)
    }

    /// The request as `curl` arguments (`--request GET --header ... --url ...`).
    pub(crate) fn curl_args(&self, nonces: &Nonces) -> Result<Vec<String>, BenchError> {
        Ok(self
            .curl_options(nonces)?
            .into_iter()
            .flat_map(|(name, value)| [format!("--{name}"), value])
            .collect())
    }

    /// The request as a `curl --config` file.
    pub(crate) fn curl_config(&self, nonces: &Nonces) -> Result<String, BenchError> {
        let mut text = String::new();
        for (name, value) in self.curl_options(nonces)? {
            let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
            text.push_str(&format!("{name} = \"{quoted}\"\n"));
        }
        Ok(text)
    }
}

/// Whether `body` (with `status`) is a balance for the account, decoded as the facade reads
/// its vendor: the self-check that a bare request is a valid one.
fn check_balance(info: &AccountInfo, status: u16, body: &[u8]) -> Result<(), BenchError> {
    let vendor: balances::Vendor = info.vendor.parse()?;
    // A balance of several operations (new-api: subscription, then usage): the bare request
    // is the first of them, so its body is checked by that operation's generated decoder;
    // the amount needs the further responses the baseline does not send.
    if let Some(binding) = balances::vendors::binding(&info.vendor)
        && !binding.further.is_empty()
    {
        return (binding.decode)(body).map(drop).map_err(|e| {
            format!("the bare request of {} did not decode: {e}", info.vendor).into()
        });
    }
    balances::decode(vendor, &info.name, status, body)
        .map(drop)
        .map_err(|e| format!("the bare request of {} got no balance: {e}", info.vendor).into())
}

/// Sends one bare request per registry vendor with `reqwest` (the fake's demo set) and checks
/// each answer is a balance, before anything is timed.
pub(crate) async fn check_reqwest() -> Result<(), BenchError> {
    let server = FakeVendors::demo().start().await?;
    let client = reqwest::Client::new();
    let nonces = Nonces::default();
    for info in server.accounts() {
        let response = BareTarget::of(&info)?
            .request(&client, &nonces)?
            .send()
            .await?;
        let status = response.status().as_u16();
        check_balance(&info, status, &response.bytes().await?)?;
    }
    Ok(())
}

/// As [`check_reqwest`], with `curl`: once with the request as arguments (the command-start
/// row), once as a `--config` file (the curl loop).
pub(crate) async fn check_curl() -> Result<(), BenchError> {
    let server = FakeVendors::demo().start().await?;
    let nonces = Nonces::default();
    let dir = tempfile::tempdir()?;
    for info in server.accounts() {
        let target = BareTarget::of(&info)?;
        let config = dir.path().join(format!("{}.curl", info.vendor));
        std::fs::write(&config, target.curl_config(&nonces)?)?;
        crate::set_private(&config)?;
        let as_config = vec!["--config".into(), config.to_string_lossy().into_owned()];
        for args in [target.curl_args(&nonces)?, as_config] {
            let output = tokio::task::block_in_place(|| {
                std::process::Command::new("curl")
                    .args(["-sS", "-f"])
                    .args(&args)
                    .output()
            })?;
            if !output.status.success() {
                return Err(format!(
                    "curl for {} failed: {}",
                    info.vendor,
                    String::from_utf8_lossy(&output.stderr)
                )
                .into());
            }
            check_balance(&info, 200, &output.stdout)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every registry vendor's bare request, through reqwest and through curl, gets its
    /// balance from the fake vendors (which check the spec's fixed parameters and verify
    /// each scheme's signature): what the bench checks before timing anything.
    #[tokio::test(flavor = "multi_thread")]
    async fn every_vendors_bare_request_gets_a_balance() {
        check_reqwest().await.expect("reqwest");
        if std::process::Command::new("curl")
            .arg("--version")
            .output()
            .is_ok()
        {
            check_curl().await.expect("curl");
        }
    }
}
