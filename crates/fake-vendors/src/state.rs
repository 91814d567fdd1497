//! Shared server state: the account table, per-account faults and counters.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use serde::Serialize;

use crate::fault::{Fault, FaultPlan};
use crate::{Balance, DeepSeekBalance, EiotclubBalance, FakeVendor, GeekAiBalance};

/// How many EIOTClub nonces each account remembers for [`AccountControl::nonces`].
pub const RECENT_NONCES: usize = 64;

/// Everything needed to seed one account: see [`FakeVendorsBuilder::account`](crate::FakeVendorsBuilder::account).
///
/// `Debug` redacts the credential and the secret.
#[derive(Clone)]
pub struct AccountSeed {
    /// A display name (logs and [`AccountInfo`]); never a secret.
    pub name: String,
    /// The DeepSeek or GeekAI key, or the EIOTClub appkey; the lookup key.
    pub credential: String,
    /// EIOTClub's signing secret; `None` for the bearer vendors.
    pub secret: Option<String>,
    /// The balance answered on success; its variant decides the vendor.
    pub balance: Balance,
    /// A fault applied to every request until cleared.
    pub fault: Option<Fault>,
    /// Latency before every answer.
    pub latency: Duration,
    /// A free-text note shown by the binary (for example "overdrawn").
    pub note: String,
}

impl AccountSeed {
    /// A DeepSeek account.
    pub fn deepseek(
        name: impl Into<String>,
        key: impl Into<String>,
        balance: DeepSeekBalance,
    ) -> Self {
        Self::with_balance(name, key, None, balance.into())
    }

    /// A GeekAI account (`coins` is written verbatim as the JSON number).
    pub fn geekai(
        name: impl Into<String>,
        key: impl Into<String>,
        balance: impl Into<GeekAiBalance>,
    ) -> Self {
        Self::with_balance(name, key, None, balance.into().into())
    }

    /// An EIOTClub account with its signing secret.
    pub fn eiotclub(
        name: impl Into<String>,
        appkey: impl Into<String>,
        secret: impl Into<String>,
        balance: impl Into<String>,
        currency: impl Into<String>,
    ) -> Self {
        Self::with_balance(
            name,
            appkey,
            Some(secret.into()),
            EiotclubBalance::new(balance, currency).into(),
        )
    }

    fn with_balance(
        name: impl Into<String>,
        credential: impl Into<String>,
        secret: Option<String>,
        balance: Balance,
    ) -> Self {
        AccountSeed {
            name: name.into(),
            credential: credential.into(),
            secret,
            balance,
            fault: None,
            latency: Duration::ZERO,
            note: String::new(),
        }
    }

    /// The vendor, from the balance's variant.
    pub fn vendor(&self) -> FakeVendor {
        self.balance.vendor()
    }

    /// Apply `fault` to every request until cleared.
    #[must_use]
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// Wait `latency` before every answer.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Attach a note.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

impl fmt::Debug for AccountSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountSeed")
            .field("name", &self.name)
            .field("vendor", &self.vendor())
            .field("credential", &"<redacted>")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("balance", &self.balance)
            .field("fault", &self.fault)
            .field("latency", &self.latency)
            .field("note", &self.note)
            .finish()
    }
}

/// A seeded account as a client needs to know it: name, vendor, credentials, base URL.
///
/// Serializes with the credentials (the binary prints them: they are fake); `Debug` redacts them.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AccountInfo {
    /// The account's display name.
    pub name: String,
    /// Its vendor.
    pub vendor: FakeVendor,
    /// The key (DeepSeek, GeekAI) or appkey (EIOTClub).
    pub credential: String,
    /// EIOTClub's signing secret.
    pub secret: Option<String>,
    /// The base URL to give the vendor's client, for example `http://127.0.0.1:PORT/geekai/api`.
    pub base_url: String,
    /// The seed's note.
    pub note: String,
}

impl fmt::Debug for AccountInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountInfo")
            .field("name", &self.name)
            .field("vendor", &self.vendor)
            .field("credential", &"<redacted>")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("note", &self.note)
            .finish()
    }
}

/// Mutable per-account state, behind the account's own mutex.
#[derive(Debug)]
pub(crate) struct AccountState {
    pub(crate) balance: Balance,
    pub(crate) plan: FaultPlan,
    pub(crate) recent_nonces: VecDeque<u32>,
    pub(crate) seen: HashSet<(u32, i64)>,
}

/// One account: immutable identity plus counters and locked state.
pub(crate) struct Account {
    pub(crate) name: String,
    pub(crate) vendor: FakeVendor,
    pub(crate) secret: Option<String>,
    pub(crate) requests: AtomicU64,
    pub(crate) state: Mutex<AccountState>,
}

impl Account {
    pub(crate) fn lock(&self) -> MutexGuard<'_, AccountState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("vendor", &self.vendor)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

/// The whole server's state, shared by the handlers and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    accounts: [RwLock<HashMap<String, Arc<Account>>>; 3],
    totals: [AtomicU64; 3],
    /// Seeds in insertion order, for [`AccountInfo`] listings.
    /// (`base_url` is filled in by the handle.)
    seeds: Mutex<Vec<AccountInfo>>,
    latency_nanos: AtomicU64,
    max_skew_secs: AtomicU64,
}

impl Shared {
    pub(crate) fn new(latency: Duration, max_skew: Duration) -> Self {
        Shared {
            accounts: Default::default(),
            totals: Default::default(),
            seeds: Mutex::new(Vec::new()),
            latency_nanos: AtomicU64::new(duration_nanos(latency)),
            max_skew_secs: AtomicU64::new(max_skew.as_secs()),
        }
    }

    /// Insert (or replace) an account; returns it.
    pub(crate) fn insert(&self, seed: AccountSeed) -> Arc<Account> {
        let vendor = seed.vendor();
        let mut plan = FaultPlan {
            latency: seed.latency,
            ..FaultPlan::default()
        };
        plan.steady = seed.fault;
        let account = Arc::new(Account {
            name: seed.name.clone(),
            vendor,
            secret: seed.secret.clone(),
            requests: AtomicU64::new(0),
            state: Mutex::new(AccountState {
                balance: seed.balance,
                plan,
                recent_nonces: VecDeque::with_capacity(RECENT_NONCES),
                seen: HashSet::new(),
            }),
        });
        self.accounts[vendor.index()]
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(seed.credential.clone(), Arc::clone(&account));
        let mut seeds = self.seeds.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = AccountInfo {
            name: seed.name,
            vendor,
            credential: seed.credential,
            secret: seed.secret,
            base_url: String::new(),
            note: seed.note,
        };
        match seeds
            .iter_mut()
            .find(|e| e.vendor == vendor && e.credential == entry.credential)
        {
            Some(existing) => *existing = entry,
            None => seeds.push(entry),
        }
        account
    }

    /// O(1) lookup by credential.
    pub(crate) fn lookup(&self, vendor: FakeVendor, credential: &str) -> Option<Arc<Account>> {
        self.accounts[vendor.index()]
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(credential)
            .cloned()
    }

    pub(crate) fn count(&self, vendor: FakeVendor) {
        self.totals[vendor.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn total(&self, vendor: FakeVendor) -> u64 {
        self.totals[vendor.index()].load(Ordering::Relaxed)
    }

    pub(crate) fn reset_counters(&self) {
        for (i, total) in self.totals.iter().enumerate() {
            total.store(0, Ordering::Relaxed);
            for account in self.accounts[i]
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
            {
                account.requests.store(0, Ordering::Relaxed);
            }
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

    pub(crate) fn set_max_skew(&self, max_skew: Duration) {
        self.max_skew_secs
            .store(max_skew.as_secs(), Ordering::Relaxed);
    }

    pub(crate) fn infos(&self, base_url: impl Fn(FakeVendor) -> String) -> Vec<AccountInfo> {
        self.seeds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|info| AccountInfo {
                base_url: base_url(info.vendor),
                ..info.clone()
            })
            .collect()
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A live account on a running server: change its balance and faults between requests, read
/// its request counter and the EIOTClub nonces it saw.
///
/// Obtained from [`FakeVendorsHandle::account`](crate::FakeVendorsHandle::account) and friends.
/// Cheap to clone; changes take effect for the next request.
#[derive(Clone)]
pub struct AccountControl {
    pub(crate) account: Arc<Account>,
}

impl fmt::Debug for AccountControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountControl")
            .field("name", &self.account.name)
            .field("vendor", &self.account.vendor)
            .field("requests", &self.requests())
            .finish()
    }
}

impl AccountControl {
    /// The account's display name.
    pub fn name(&self) -> &str {
        &self.account.name
    }

    /// The account's vendor.
    pub fn vendor(&self) -> FakeVendor {
        self.account.vendor
    }

    /// How many requests identified this account (by key or appkey), faulted, rejected or
    /// answered, since the start or the last reset.
    pub fn requests(&self) -> u64 {
        self.account.requests.load(Ordering::Relaxed)
    }

    /// Reset [`requests`](Self::requests) to zero.
    pub fn reset_requests(&self) {
        self.account.requests.store(0, Ordering::Relaxed);
    }

    /// The balance currently answered.
    pub fn balance(&self) -> Balance {
        self.account.lock().balance.clone()
    }

    /// Answer `balance` from the next request on.
    ///
    /// # Panics
    ///
    /// If `balance` belongs to another vendor than the account (a mistake in the test).
    pub fn set_balance(&self, balance: impl Into<Balance>) {
        let balance = balance.into();
        assert_eq!(
            balance.vendor(),
            self.account.vendor,
            "set_balance: balance for {} given to a {} account",
            balance.vendor(),
            self.account.vendor
        );
        self.account.lock().balance = balance;
    }

    /// Apply `fault` to every request until [`clear_faults`](Self::clear_faults). Faults queued
    /// with [`fail_next`](Self::fail_next) still come first.
    pub fn set_fault(&self, fault: Fault) {
        self.account.lock().plan.steady = Some(fault);
    }

    /// Apply `fault` to the next `n` requests, then answer normally (or with the steady fault).
    /// For retry tests: `fail_next(1, Fault::server_error(500))` gives 500 then 200.
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

    /// The nonces of the last [`RECENT_NONCES`] EIOTClub requests for this appkey that carried a
    /// parseable nonce, oldest first (valid, rejected and faulted requests alike).
    pub fn nonces(&self) -> Vec<u32> {
        self.account.lock().recent_nonces.iter().copied().collect()
    }

    /// The last nonce seen, if any.
    pub fn last_nonce(&self) -> Option<u32> {
        self.account.lock().recent_nonces.back().copied()
    }
}
