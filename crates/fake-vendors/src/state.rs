//! Shared server state: the account table, per-account answers, faults and counters, and
//! per-vendor counters.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use balances_registry::VendorEntry;
use bytes::Bytes;

use crate::fault::{Fault, FaultPlan};
use crate::respond::Served;
use crate::routes::{self, Route, Routes};
use crate::seed::{AccountInfo, AccountSeed};
use crate::signature::NonceLedger;
use crate::{FakeVendorsError, catalog};

/// Mutable per-account state, behind the account's own mutex.
#[derive(Debug)]
pub(crate) struct AccountState {
    pub(crate) served: Served,
    pub(crate) plan: FaultPlan,
    pub(crate) nonces: NonceLedger,
}

/// One account: immutable identity plus its counter and locked state.
pub(crate) struct Account {
    pub(crate) name: String,
    pub(crate) vendor: &'static VendorEntry,
    pub(crate) region: Option<&'static str>,
    /// `(field, value)` in the order of the vendor's credential fields.
    pub(crate) credentials: Vec<(&'static str, String)>,
    pub(crate) note: String,
    pub(crate) requests: AtomicU64,
    /// Requests that identified the account but whose signature was refused.
    pub(crate) refusals: AtomicU64,
    pub(crate) state: Mutex<AccountState>,
}

/// What one request to an account gets, decided when it arrives.
#[derive(Debug)]
pub(crate) struct Turn {
    pub(crate) fault: Option<Fault>,
    pub(crate) latency: Duration,
    pub(crate) served: Served,
}

impl Account {
    pub(crate) fn lock(&self) -> MutexGuard<'_, AccountState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of the credential field `field`.
    pub(crate) fn credential(&self, field: &str) -> Option<&str> {
        self.credentials
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }

    /// The lookup key: the first credential's value.
    fn key(&self) -> &str {
        self.credentials.first().map_or("", |(_, v)| v.as_str())
    }

    /// Count a request that identified this account and take its fault and answer.
    pub(crate) fn begin(&self) -> Turn {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        Turn {
            fault: state.plan.next(),
            latency: state.plan.latency,
            served: state.served.clone(),
        }
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("vendor", &self.vendor.id)
            .field("region", &self.region)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

/// The whole server's state, shared by the handlers and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) addr: SocketAddr,
    pub(crate) routes: Routes,
    /// By first credential value, whatever the vendor: a handler checks the vendor and region.
    accounts: RwLock<HashMap<String, Arc<Account>>>,
    /// The same accounts in seeding order, for listings.
    order: Mutex<Vec<Arc<Account>>>,
    /// Requests per vendor id; every registry vendor has an entry from the start.
    totals: HashMap<&'static str, AtomicU64>,
    latency_nanos: AtomicU64,
    max_skew_secs: AtomicU64,
    /// Seconds the server's clock is ahead of the machine's (negative: behind).
    clock_offset_secs: std::sync::atomic::AtomicI64,
    /// The `acs3-hmac-sha256` nonces seen, per key id, within the scheme's window.
    pub(crate) aliyun_nonces: Mutex<crate::cloud_signature::aliyun::NonceLedger>,
}

impl Shared {
    pub(crate) fn new(addr: SocketAddr, latency: Duration, max_skew: Duration) -> Self {
        Shared {
            addr,
            routes: Routes::from_registry(),
            accounts: RwLock::default(),
            order: Mutex::default(),
            totals: balances_registry::vendors()
                .iter()
                .map(|v| (v.id.as_str(), AtomicU64::new(0)))
                .collect(),
            latency_nanos: AtomicU64::new(duration_nanos(latency)),
            max_skew_secs: AtomicU64::new(max_skew.as_secs()),
            clock_offset_secs: std::sync::atomic::AtomicI64::new(0),
            aliyun_nonces: Mutex::default(),
        }
    }

    /// Check `seed` and insert the account, replacing one with the same first credential.
    pub(crate) fn insert(&self, seed: AccountSeed) -> Result<Arc<Account>, FakeVendorsError> {
        let mut order = self.order.lock().unwrap_or_else(PoisonError::into_inner);
        let seed = seed.resolve(|vendor| {
            let n = order.iter().filter(|a| a.vendor.id == vendor).count() + 1;
            format!("{vendor}-{n}")
        })?;
        let mut plan = FaultPlan {
            latency: seed.latency,
            ..FaultPlan::default()
        };
        plan.steady = seed.fault;
        let account = Arc::new(Account {
            name: seed.name,
            vendor: seed.vendor,
            region: seed.region,
            credentials: seed.credentials,
            note: seed.note,
            requests: AtomicU64::new(0),
            refusals: AtomicU64::new(0),
            state: Mutex::new(AccountState {
                served: seed.served,
                plan,
                nonces: NonceLedger::default(),
            }),
        });
        let key = account.key().to_owned();
        match order.iter_mut().find(|a| a.key() == key) {
            Some(existing) => *existing = Arc::clone(&account),
            None => order.push(Arc::clone(&account)),
        }
        self.accounts
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, Arc::clone(&account));
        Ok(account)
    }

    /// The account with this first credential, whatever its vendor.
    pub(crate) fn find(&self, key: &str) -> Option<Arc<Account>> {
        self.accounts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// The account with this first credential if `route` serves it: same vendor, same
    /// region. A key of another vendor or region is unknown here, as on the real servers.
    pub(crate) fn lookup(&self, route: &Route, key: &str) -> Option<Arc<Account>> {
        self.find(key)
            .filter(|a| a.vendor.id == route.vendor.id && a.region == route.region)
    }

    pub(crate) fn count(&self, vendor: &VendorEntry) {
        if let Some(total) = self.totals.get(vendor.id.as_str()) {
            total.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn total(&self, vendor: &str) -> Result<u64, FakeVendorsError> {
        self.totals
            .get(vendor)
            .map(|t| t.load(Ordering::Relaxed))
            .ok_or_else(|| FakeVendorsError::UnknownVendor {
                vendor: vendor.to_owned(),
            })
    }

    pub(crate) fn reset_counters(&self) {
        for total in self.totals.values() {
            total.store(0, Ordering::Relaxed);
        }
        for account in self
            .order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            account.requests.store(0, Ordering::Relaxed);
            account.refusals.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_nanos.load(Ordering::Relaxed))
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        self.latency_nanos
            .store(duration_nanos(latency), Ordering::Relaxed);
    }

    pub(crate) fn max_skew_secs(&self) -> u64 {
        self.max_skew_secs.load(Ordering::Relaxed)
    }

    pub(crate) fn set_clock_offset(&self, seconds: i64) {
        self.clock_offset_secs.store(seconds, Ordering::Relaxed);
    }

    /// The server's time in Unix seconds: the machine's, moved by the clock offset.
    pub(crate) fn unix_now(&self) -> i64 {
        let machine = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        machine.saturating_add(self.clock_offset_secs.load(Ordering::Relaxed))
    }

    pub(crate) fn set_max_skew(&self, max_skew: Duration) {
        self.max_skew_secs
            .store(max_skew.as_secs(), Ordering::Relaxed);
    }

    /// `http://127.0.0.1:PORT/<vendor>[/<region>]`.
    pub(crate) fn base_url(&self, vendor: &str, region: Option<&str>) -> String {
        format!("http://{}{}", self.addr, routes::prefix(vendor, region))
    }

    /// The base URL of `vendor` in `region`, or in its default region when `None`.
    pub(crate) fn checked_base_url(
        &self,
        vendor: &str,
        region: Option<&str>,
    ) -> Result<String, FakeVendorsError> {
        let entry = catalog::vendor(vendor)?;
        let region = match region {
            Some(region) => Some(catalog::region(entry, region)?),
            None => catalog::default_region(entry),
        };
        Ok(self.base_url(&entry.id, region))
    }

    pub(crate) fn infos(&self) -> Vec<AccountInfo> {
        self.order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|a| self.info(a))
            .collect()
    }

    fn info(&self, account: &Account) -> AccountInfo {
        AccountInfo {
            name: account.name.clone(),
            vendor: account.vendor.id.clone(),
            region: account.region.map(str::to_owned),
            credentials: account
                .credentials
                .iter()
                .map(|(f, v)| ((*f).to_owned(), v.clone()))
                .collect(),
            base_url: self.base_url(&account.vendor.id, account.region),
            note: account.note.clone(),
        }
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A live account on a running server: change what it answers and its faults between
/// requests, read its request counter and the signature nonces it saw.
///
/// Obtained from [`FakeVendorsHandle::account`](crate::FakeVendorsHandle::account). Cheap to
/// clone; changes take effect for the next request.
#[derive(Clone)]
pub struct AccountControl {
    pub(crate) account: Arc<Account>,
}

impl fmt::Debug for AccountControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountControl")
            .field("name", &self.account.name)
            .field("vendor", &self.account.vendor.id)
            .field("requests", &self.requests())
            .finish()
    }
}

impl AccountControl {
    /// The account's display name.
    pub fn name(&self) -> &str {
        &self.account.name
    }

    /// The account's vendor id.
    pub fn vendor(&self) -> &str {
        &self.account.vendor.id
    }

    /// The account's region, for a vendor with regions.
    pub fn region(&self) -> Option<&str> {
        self.account.region
    }

    /// How many requests identified this account (by key or appkey), faulted, rejected or
    /// answered, since the start or the last reset.
    pub fn requests(&self) -> u64 {
        self.account.requests.load(Ordering::Relaxed)
    }

    /// How many of those [`requests`](Self::requests) a signature scheme refused (a bad,
    /// incomplete, stale or replayed signature, answered with the vendor's documented
    /// refusal instead of the account's answer); faulted requests are not checked.
    pub fn refusals(&self) -> u64 {
        self.account.refusals.load(Ordering::Relaxed)
    }

    /// Reset [`requests`](Self::requests) to zero.
    pub fn reset_requests(&self) {
        self.account.requests.store(0, Ordering::Relaxed);
    }

    /// Answer the vendor's example called `name` from the next request on.
    ///
    /// # Errors
    ///
    /// [`FakeVendorsError::UnknownExample`] if the vendor has no such example; the answer is
    /// then unchanged.
    pub fn set_example(&self, name: &str) -> Result<(), FakeVendorsError> {
        let example = catalog::example(self.account.vendor, name)?;
        self.account.lock().served = Served::Example(example);
        Ok(())
    }

    /// Answer this body, verbatim, with status 200 from the next request on.
    pub fn set_body(&self, body: impl Into<String>) {
        self.account.lock().served = Served::Body(Bytes::from(body.into()));
    }

    /// The name of the example answered now, or `None` when a raw body is.
    pub fn example(&self) -> Option<&'static str> {
        self.account.lock().served.example_name()
    }

    /// The body answered now when no fault applies.
    pub fn body(&self) -> String {
        String::from_utf8_lossy(&self.account.lock().served.body()).into_owned()
    }

    /// Apply `fault` to every request until [`clear_faults`](Self::clear_faults). Faults queued
    /// with [`fail_next`](Self::fail_next) still come first.
    pub fn set_fault(&self, fault: Fault) {
        self.account.lock().plan.steady = Some(fault);
    }

    /// Apply `fault` to the next `n` requests, then answer normally (or with the steady fault).
    /// For retry tests: `fail_next(1, Fault::server_error(500))` gives 500 then the answer.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        let mut state = self.account.lock();
        state.plan.queue.extend(std::iter::repeat_n(fault, n));
    }

    /// Queue a sequence of faults, one per request, in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.account.lock().plan.queue.extend(faults);
    }

    /// How many queued faults are still to be served.
    pub fn queued_faults(&self) -> usize {
        self.account.lock().plan.queue.len()
    }

    /// Remove the steady fault and every queued fault (latency is kept).
    pub fn clear_faults(&self) {
        let mut state = self.account.lock();
        state.plan.queue.clear();
        state.plan.steady = None;
    }

    /// Wait `latency` before every answer (faults included), on top of the server-wide latency.
    pub fn set_latency(&self, latency: Duration) {
        self.account.lock().plan.latency = latency;
    }

    /// The nonces of the last [`RECENT_NONCES`](crate::RECENT_NONCES) signature-scheme
    /// requests for this appkey that carried a parseable nonce, oldest first (valid, rejected
    /// and faulted requests alike). Empty for the other schemes.
    pub fn nonces(&self) -> Vec<u32> {
        self.account.lock().nonces.recent()
    }

    /// The last nonce seen, if any.
    pub fn last_nonce(&self) -> Option<u32> {
        self.account.lock().nonces.last()
    }
}
