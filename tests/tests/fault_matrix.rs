//! The fault matrix: every vendor of the registry × every fault the fake vendors can play,
//! through the real facade (`BalanceClient::fetch_all`), against `fake-vendors` on 127.0.0.1.
//! No vendor is named here: vendors come from `balances_registry::vendors()`, and what each
//! must give comes from its folder (its default example's expected balance, its documented
//! errors, its auth scheme and status overrides).
//!
//! Each case starts its own server with one *faulted* account (of the vendor under test) among
//! one *healthy* account per registry vendor (the faulted one second), all answering their
//! vendor's default example (the first, by name, whose expected result is a balance), and
//! fetches them all at once. It asserts:
//!
//! - the faulted account's outcome: its exact balance (the default example's `expected`,
//!   compared as the conformance suite does), or an error of the expected [`ErrorKind`] (with
//!   its status, `Retry-After`, vendor code, message or time limit where the error carries
//!   one), about that account and vendor;
//! - how many attempts reached the fake for it (its request counter);
//! - every healthy account's exact balance, in one attempt each;
//! - that the case ends within [`HANG_GUARD`] (a hang fails the test instead of hanging CI;
//!   this is not a performance assertion) and does not panic.
//!
//! Policy used here: 3 attempts, 10 ms backoff doubling up to 50 ms, `Retry-After` waited out
//! up to 5 s; 700 ms per attempt, 5 s per call.
//!
//! | fault                                   | plan        | every vendor | attempts |
//! |-----------------------------------------|-------------|--------------|----------|
//! | latency 10 s (past the attempt timeout) | always      | `timeout` (after 700 ms) | 3 |
//! | 429, `Retry-After: 1`                   | once        | balance (≥ 1 s) | 2 |
//! | 429, `Retry-After: <HTTP date, 2 s>`    | once        | balance (≥ 0.9 s) | 2 |
//! | 429 without `Retry-After`               | once        | balance (backoff) | 2 |
//! | 429, `Retry-After: 0`                   | always      | rate limit¹ (wait 0 s) | 3 |
//! | 429, `Retry-After: 60` (> 5 s allowed)  | always      | rate limit¹ (wait 60 s), at once | 1 |
//! | 500                                     | once        | balance | 2 |
//! | 503                                     | always      | server error¹ (503) | 3 |
//! | empty body (200)                        | once/always | balance / `transient` (200) | 2 / 3 |
//! | truncated JSON (200, complete message)  | once/always | balance / `transient` (200) | 2 / 3 |
//! | truncated transfer (socket closes)      | once/always | balance / `transient` (200) | 2 / 3 |
//! | HTML page, 502                          | once/always | balance / `transient` (502) | 2 / 3 |
//! | HTML page, 200                          | always      | `undecodable` (200) | 1 |
//! | 5 MiB body (chunked)                    | always      | `response_too_large` | 1 |
//! | dropped connection (no response)        | once/always | balance / `transient` (no status) | 2 / 3 |
//! | valid JSON as `text/plain`              | always      | balance | 1 |
//! | blank lines before the JSON             | always      | balance | 1 |
//! | revoked credentials                     | always      | rejected key² | 1 |
//! | 402                                     | always      | insufficient balance¹ | 1 |
//!
//! ¹ The fake serves the vendor's documented error of that kind when its folder has one (an
//! example whose expected result is that error, with that status for server errors): the
//! facade must then give exactly what the example's `expected` says (kind, code, message),
//! with the example's status. Otherwise the fake builds a body at the vendor's error pointers
//! with the named status, and the kind is the status's in the shared table (429
//! `rate_limited`, 402 `insufficient_balance`, 5xx `transient`) unless the vendor's
//! description overrides that status (`errors.status`). `Error::status` is the response's
//! status, also for a rate limit a vendor answers with 422.
//!
//! ² The vendor's documented `authentication` example when it has one (the first by name);
//! else by auth scheme: the header schemes get a 401 (`authentication`), and the signature
//! scheme its failure envelope in HTTP 200 with code
//! [`UNKNOWN_APPKEY`](fake_vendors::eiotclub_codes::UNKNOWN_APPKEY), which the facade reports
//! as `vendor` with that code ("any code other than 200 is a failure"), not `authentication`.
//!
//! Beside the matrix, every request-signing vendor is fetched from a fake vendor whose clock
//! is an hour ahead, then behind (`FakeVendorsHandle::set_clock_offset`): its documented
//! clock-skew refusal must be the facade's `clock_skew`, once, not retried.
//!
//! A `text/plain` answer is a success: the facade decodes the body by its documented JSON
//! shape and never looks at `Content-Type` (`crates/balances/src/vendor/mod.rs`, `interpret`),
//! and the README's `undecodable` is "a body that is not the documented JSON".

#[path = "../../crates/balances/tests/support/expected_balance.rs"]
mod expected_balance;

use expected_balance::{same_balance, same_spend};
use std::time::{Duration, SystemTime};

use balances::balances_registry::{Auth, Example, Expected, VendorEntry, vendors};
use balances::{
    Balance, BalanceClient, Config, Error, ErrorKind, RetryConfig, TimeoutConfig, Vendor,
};
use fake_vendors::{AccountSeed, FakeVendors, FakeVendorsHandle, Fault, RetryAfter};
use futures::StreamExt;
use serde_json::Value;
use tokio::time::Instant;

const MAX_ATTEMPTS: u32 = 3;
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(700);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// Far past the attempt timeout.
const LATENCY: Duration = Duration::from_secs(10);
/// How many cases run at once.
const CASES_AT_ONCE: usize = 12;
/// Every case must end within this; it only catches hangs.
const HANG_GUARD: Duration = Duration::from_secs(10);

/// The name of the faulted account (every vendor).
const FAULTED: &str = "faulted";

/// A vendor of the registry.
type Entry = &'static VendorEntry;

/// How the faulted account misbehaves.
#[derive(Clone, Debug)]
enum Plan {
    /// This fault on every request.
    Always(Fault),
    /// This fault on the first request, then normal answers.
    Once(Fault),
    /// Normal answers, each after this much latency.
    Latency(Duration),
    /// A 429 whose `Retry-After` is an HTTP date this far from when the case starts, once.
    RateLimitedUntil(Duration),
}

/// What the faulted account's result must be.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    /// Its exact balance: its vendor's default example's.
    Balance,
    /// An error of this kind, with these details.
    Error(ExpectedError),
}

/// An expected error.
#[derive(Clone, Debug, PartialEq)]
struct ExpectedError {
    kind: ErrorKind,
    status: Option<u16>,
    retry_after: Option<Duration>,
    /// The vendor's code: the error must be `ErrorKind::Vendor` with it.
    code: Option<String>,
    /// Text the error's message must contain (a documented example's `message_contains`).
    message_contains: Option<String>,
}

impl ExpectedError {
    fn new(kind: ErrorKind, status: Option<u16>) -> Self {
        ExpectedError {
            kind,
            status,
            retry_after: None,
            code: None,
            message_contains: None,
        }
    }

    fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    fn retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimited | ErrorKind::Transient | ErrorKind::Timeout
        )
    }
}

fn error(kind: ErrorKind, status: Option<u16>) -> Expect {
    Expect::Error(ExpectedError::new(kind, status))
}

/// The facade's kind for a kind name of the registry (`"authentication"`).
fn kind_named(name: &str) -> ErrorKind {
    serde_json::from_value(Value::String(name.to_owned()))
        .unwrap_or_else(|e| panic!("{name:?} is not an error kind of the facade: {e}"))
}

/// The kind the facade gives an error status of `entry`: the description's override for that
/// status (`errors.status`), else `shared` (the shared status table's).
fn kind_of_status(entry: Entry, status: u16, shared: ErrorKind) -> ErrorKind {
    entry
        .description
        .errors
        .status_override(status)
        .map_or(shared, |kind| kind_named(kind.as_str()))
}

/// The vendor's default example: the first, by name, whose expected result is a balance
/// (what the fake answers by default). Every vendor in the matrix must have one.
fn default_example(entry: Entry) -> &'static Example {
    entry
        .default_balance_example()
        .unwrap_or_else(|| panic!("{}: no example shows a balance", entry.id))
}

/// Whether `balance` is what the vendor's default example shows: its balance, or (for a
/// vendor that reports spend) its sums, the period being this month's.
fn same_as_default(entry: Entry, balance: &Balance) -> Result<(), String> {
    match &default_example(entry).expected {
        Expected::Balance(expected) => same_balance(expected, balance),
        Expected::Spend(expected) => same_spend(expected, balance, false),
        _ => unreachable!("the default example shows a balance or spend"),
    }
}

/// The vendor's documented error of this kind (with this status when given): the first
/// example, by name, whose expected result is that error. The fake serves it for the fault
/// of that kind.
fn documented_error(
    entry: Entry,
    kind: ErrorKind,
    status: Option<u16>,
) -> Option<&'static Example> {
    entry.error_example(kind.as_str(), status)
}

/// What a documented error example must give: its expected kind, code and message, with its
/// status.
fn from_example(example: &Example) -> ExpectedError {
    let Expected::Error(expected) = &example.expected else {
        unreachable!("an example of an error")
    };
    let kind = kind_named(&expected.kind);
    ExpectedError {
        code: expected.code.clone(),
        message_contains: expected.message_contains.clone(),
        ..ExpectedError::new(kind, Some(example.status))
    }
}

/// The error a fault of `kind` gives: the vendor's documented error of that kind (with
/// `status` when given), else a body built with the status `built`, whose kind is the
/// status's (`kind` in the shared table, unless the vendor overrides the status).
fn vendor_error(entry: Entry, kind: ErrorKind, status: Option<u16>, built: u16) -> ExpectedError {
    match documented_error(entry, kind, status) {
        Some(example) => from_example(example),
        None => {
            let kind = kind_of_status(entry, built, kind);
            ExpectedError::new(kind, Some(built))
        }
    }
}

/// What a revoked (unknown) key gets: the vendor's documented authentication error; else, by
/// scheme, a 401 for the header schemes and, for the signature scheme, its failure envelope
/// in HTTP 200 with code `UNKNOWN_APPKEY`, which is the vendor's error, not `authentication`.
fn revoked(entry: Entry) -> ExpectedError {
    if let Some(example) = documented_error(entry, ErrorKind::Authentication, None) {
        return from_example(example);
    }
    match &entry.description.auth {
        Auth::EiotclubSignature => ExpectedError {
            code: Some(fake_vendors::eiotclub_codes::UNKNOWN_APPKEY.to_owned()),
            ..ExpectedError::new(ErrorKind::Vendor, Some(200))
        },
        _ => {
            let kind = kind_of_status(entry, 401, ErrorKind::Authentication);
            ExpectedError::new(kind, Some(401))
        }
    }
}

#[derive(Clone, Debug)]
struct Case {
    fault: &'static str,
    plan: Plan,
    expect: Expect,
    /// Requests that must reach the fake for the faulted account.
    attempts: u64,
    /// The whole `fetch_all` takes at least this long (a `Retry-After` waited out, timeouts
    /// that really elapsed).
    min_elapsed: Duration,
}

fn case(fault: &'static str, plan: Plan, expect: Expect, attempts: u64) -> Case {
    Case {
        fault,
        plan,
        expect,
        attempts,
        min_elapsed: Duration::ZERO,
    }
}

/// A fault that fails every request with `expected`: every attempt when it is retryable,
/// else one.
fn always(fault: &'static str, plan: Fault, expected: ExpectedError) -> Case {
    let attempts = if expected.retryable() {
        u64::from(MAX_ATTEMPTS)
    } else {
        1
    };
    case(fault, Plan::Always(plan), Expect::Error(expected), attempts)
}

/// The matrix row by row, for one vendor.
fn matrix(entry: Entry) -> Vec<Case> {
    use ErrorKind::*;
    let all = u64::from(MAX_ATTEMPTS);
    let rate_limited = |wait: u64| {
        vendor_error(entry, RateLimited, None, 429).retry_after(Duration::from_secs(wait))
    };
    vec![
        Case {
            min_elapsed: ATTEMPT_TIMEOUT * MAX_ATTEMPTS,
            ..case(
                "latency past the attempt timeout",
                Plan::Latency(LATENCY),
                error(Timeout, None),
                all,
            )
        },
        Case {
            min_elapsed: Duration::from_secs(1),
            ..case(
                "429 Retry-After: 1, then success",
                Plan::Once(Fault::rate_limited(1)),
                Expect::Balance,
                2,
            )
        },
        Case {
            // An HTTP date has whole seconds: 2 s from now is between 1 and 2 s away.
            min_elapsed: Duration::from_millis(900),
            ..case(
                "429 Retry-After: HTTP date, then success",
                Plan::RateLimitedUntil(Duration::from_secs(2)),
                Expect::Balance,
                2,
            )
        },
        case(
            "429 without Retry-After, then success",
            Plan::Once(Fault::RateLimited { retry_after: None }),
            Expect::Balance,
            2,
        ),
        always(
            "429 Retry-After: 0, always",
            Fault::rate_limited(0),
            rate_limited(0),
        ),
        case(
            "429 Retry-After: 60 (over max_retry_after)",
            Plan::Always(Fault::rate_limited(60)),
            Expect::Error(rate_limited(60)),
            1,
        ),
        case(
            "500, then success",
            Plan::Once(Fault::server_error(500)),
            Expect::Balance,
            2,
        ),
        always(
            "503, always",
            Fault::server_error(503),
            vendor_error(entry, Transient, Some(503), 503),
        ),
        case(
            "empty body, then success",
            Plan::Once(Fault::EmptyBody),
            Expect::Balance,
            2,
        ),
        case(
            "empty body, always",
            Plan::Always(Fault::EmptyBody),
            error(Transient, Some(200)),
            all,
        ),
        case(
            "truncated JSON, then success",
            Plan::Once(Fault::TruncatedJson),
            Expect::Balance,
            2,
        ),
        case(
            "truncated JSON, always",
            Plan::Always(Fault::TruncatedJson),
            error(Transient, Some(200)),
            all,
        ),
        case(
            "truncated transfer, then success",
            Plan::Once(Fault::TruncatedTransfer),
            Expect::Balance,
            2,
        ),
        case(
            "truncated transfer, always",
            Plan::Always(Fault::TruncatedTransfer),
            error(Transient, Some(200)),
            all,
        ),
        case(
            "HTML 502 page, then success",
            Plan::Once(Fault::html(502)),
            Expect::Balance,
            2,
        ),
        case(
            "HTML 502 page, always",
            Plan::Always(Fault::html(502)),
            error(kind_of_status(entry, 502, Transient), Some(502)),
            all,
        ),
        case(
            "HTML page with 200",
            Plan::Always(Fault::html(200)),
            error(Undecodable, Some(200)),
            1,
        ),
        case(
            "5 MiB body",
            Plan::Always(Fault::huge_body()),
            error(ResponseTooLarge, None),
            1,
        ),
        case(
            "dropped connection, then success",
            Plan::Once(Fault::DropConnection),
            Expect::Balance,
            2,
        ),
        case(
            "dropped connection, always",
            Plan::Always(Fault::DropConnection),
            error(Transient, None),
            all,
        ),
        case(
            "valid JSON as text/plain",
            Plan::Always(Fault::WrongContentType),
            Expect::Balance,
            1,
        ),
        case(
            "blank lines before the JSON",
            Plan::Always(Fault::LeadingBlankLines { lines: 3 }),
            Expect::Balance,
            1,
        ),
        always("revoked credentials", Fault::Unauthorized, revoked(entry)),
        always(
            "402",
            Fault::InsufficientBalance,
            vendor_error(entry, InsufficientBalance, None, 402),
        ),
    ]
}

/// The credentials of `entry`'s account playing `role`: `<role>-<vendor>-<field>` for each of
/// its scheme's credential fields.
fn credentials(entry: Entry, role: &str) -> Vec<(&'static str, String)> {
    entry
        .description
        .auth
        .credential_fields()
        .iter()
        .map(|field| (*field, format!("{role}-{}-{field}", entry.id)))
        .collect()
}

/// The first credential: what the fake knows the account by.
fn key(entry: Entry, role: &str) -> String {
    credentials(entry, role)
        .into_iter()
        .next()
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("{}: a scheme without credentials", entry.id))
}

/// One account in a case: its name, vendor and role (`faulted` or `healthy`).
#[derive(Clone, Debug)]
struct Member {
    name: String,
    entry: Entry,
    role: &'static str,
}

/// The accounts of a case, in config order: one healthy account per registry vendor, and the
/// faulted one (of `faulted`'s vendor) second.
fn members(faulted: Entry) -> Vec<Member> {
    let mut members: Vec<Member> = vendors()
        .iter()
        .map(|entry| Member {
            name: format!("healthy-{}", entry.id),
            entry,
            role: "healthy",
        })
        .collect();
    members.insert(
        1,
        Member {
            name: FAULTED.to_owned(),
            entry: faulted,
            role: FAULTED,
        },
    );
    members
}

fn seed(member: &Member) -> AccountSeed {
    AccountSeed::new(
        member.entry.id.as_str(),
        credentials(member.entry, member.role),
    )
    .name(member.name.as_str())
    .example(default_example(member.entry).name.as_str())
}

fn facade_vendor(entry: Entry) -> Vendor {
    Vendor::find(&entry.id).unwrap_or_else(|| panic!("{}: unknown to the facade", entry.id))
}

fn client() -> BalanceClient {
    BalanceClient::builder()
        .retry(
            RetryConfig::default()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(50))
                .with_max_retry_after(MAX_RETRY_AFTER),
        )
        .timeout(
            TimeoutConfig::default()
                .with_connect(Duration::from_secs(1))
                .with_attempt(ATTEMPT_TIMEOUT)
                .with_call(CALL_TIMEOUT),
        )
        .build()
        .expect("client builds")
}

/// Starts a server with the case's accounts, the case's plan applied to the faulted one.
async fn start(
    members: &[Member],
    faulted: Entry,
    plan: &Plan,
) -> Result<FakeVendorsHandle, String> {
    let server = FakeVendors::builder()
        .accounts(members.iter().map(seed))
        .start()
        .await
        .map_err(|e| format!("fake vendors start: {e}"))?;
    let faulted = server
        .find_account(&key(faulted, FAULTED))
        .ok_or("the faulted account was not seeded")?;
    match plan {
        Plan::Always(fault) => faulted.set_fault(fault.clone()),
        Plan::Once(fault) => faulted.fail_next(1, fault.clone()),
        Plan::Latency(latency) => faulted.set_latency(*latency),
        Plan::RateLimitedUntil(wait) => faulted.fail_next(
            1,
            Fault::RateLimited {
                retry_after: Some(RetryAfter::Date(SystemTime::now() + *wait)),
            },
        ),
    }
    Ok(server)
}

/// Checks that `balance` is `member`'s: its name, its vendor, its default example's amounts.
fn check_balance(member: &Member, balance: &Balance) -> Result<(), String> {
    let mut problems = Vec::new();
    if balance.account() != member.name {
        problems.push(format!("account {:?}", balance.account()));
    }
    if balance.vendor() != facade_vendor(member.entry) {
        problems.push(format!("vendor {}", balance.vendor()));
    }
    if let Err(problem) = same_as_default(member.entry, balance) {
        problems.push(problem);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("balance {balance:?}: {}", problems.join("; ")))
    }
}

/// Checks the faulted account's result; `Err` describes every mismatch.
fn check_faulted(
    member: &Member,
    case: &Case,
    result: &Result<Balance, Error>,
) -> Result<(), String> {
    let (expected, error) = match (&case.expect, result) {
        (Expect::Balance, Ok(balance)) => return check_balance(member, balance),
        (Expect::Balance, Err(error)) => {
            return Err(format!(
                "expected the balance, got a {} error: {error}",
                error.kind()
            ));
        }
        (Expect::Error(expected), Ok(balance)) => {
            return Err(format!(
                "expected a {} error, got the balance {balance:?}",
                expected.kind
            ));
        }
        (Expect::Error(expected), Err(error)) => (expected, error),
    };
    let mut problems = Vec::new();
    if error.kind() != expected.kind {
        problems.push(format!(
            "kind {} (expected {})",
            error.kind(),
            expected.kind
        ));
    }
    if error.status() != expected.status {
        problems.push(format!(
            "status {:?} (expected {:?})",
            error.status(),
            expected.status
        ));
    }
    if error.retry_after() != expected.retry_after {
        problems.push(format!(
            "retry_after {:?} (expected {:?})",
            error.retry_after(),
            expected.retry_after
        ));
    }
    if error.account() != Some(FAULTED) {
        problems.push(format!("account {:?}", error.account()));
    }
    if error.vendor() != Some(facade_vendor(member.entry)) {
        problems.push(format!("vendor {:?}", error.vendor()));
    }
    if error.is_retryable() != expected.retryable() {
        problems.push(format!("is_retryable {}", error.is_retryable()));
    }
    if let Error::Timeout { after, .. } = error
        && *after != ATTEMPT_TIMEOUT
    {
        problems.push(format!(
            "timed out after {after:?} (expected {ATTEMPT_TIMEOUT:?})"
        ));
    }
    match (error, &expected.code) {
        (Error::Vendor { code: got, .. }, Some(code)) if got != code => {
            problems.push(format!("vendor code {got:?} (expected {code:?})"));
        }
        (Error::Vendor { .. }, _) | (_, None) => {}
        (_, Some(code)) => problems.push(format!("no vendor code (expected {code:?})")),
    }
    if let Some(text) = &expected.message_contains
        && !error.to_string().contains(text.as_str())
    {
        problems.push(format!("the message lacks {text:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{} [error: {error}]", problems.join("; ")))
    }
}

/// What one case observed, for the report.
struct Observed {
    outcome: String,
    attempts: u64,
    elapsed: Duration,
}

/// Runs one case; `Err` lists every way it differs from the table.
async fn run_case(faulted: Entry, case: Case) -> Result<Observed, String> {
    let members = members(faulted);
    let server = start(&members, faulted, &case.plan).await?;
    let config = Config::from_toml_str(&fake_vendors::config_toml(&server.accounts()), |_| None)
        .map_err(|e| format!("config of the fake's accounts: {e}"))?;
    let accounts = config.into_accounts();
    let names: Vec<&str> = accounts.iter().map(|a| a.name()).collect();
    let expected_names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    if names != expected_names {
        return Err(format!("accounts {names:?} (expected {expected_names:?})"));
    }

    let client = client();
    let started = Instant::now();
    // The fetch runs in its own task so that a panic is reported for this case (and the
    // other cases still run) rather than tearing the whole test down.
    let task = tokio::spawn(async move { client.fetch_all(&accounts).await });
    let results = match tokio::time::timeout(HANG_GUARD, task).await {
        Err(_) => return Err(format!("did not finish within {HANG_GUARD:?} (hang)")),
        Ok(Err(join)) if join.is_panic() => return Err(format!("panicked: {join}")),
        Ok(Err(join)) => return Err(format!("task failed: {join}")),
        Ok(Ok(results)) => results,
    };
    let elapsed = started.elapsed();

    if results.len() != members.len() {
        return Err(format!(
            "{} results for {} accounts",
            results.len(),
            members.len()
        ));
    }
    let mut problems = Vec::new();
    let requests = |member: &Member| {
        server
            .find_account(&key(member.entry, member.role))
            .map(|a| a.requests())
            .unwrap_or_default()
    };
    let mut attempts = 0;
    let mut outcome = String::new();
    for (member, result) in members.iter().zip(&results) {
        if member.role == FAULTED {
            if let Err(problem) = check_faulted(member, &case, result) {
                problems.push(problem);
            }
            attempts = requests(member);
            if attempts != case.attempts {
                problems.push(format!(
                    "{attempts} attempts reached the server (expected {})",
                    case.attempts
                ));
            }
            outcome = match result {
                Ok(_) => "balance".to_owned(),
                Err(error) => error.kind().to_string(),
            };
            continue;
        }
        // The healthy accounts, fetched in the same `fetch_all`, are untouched.
        let name = &member.name;
        match result {
            Ok(balance) => {
                if let Err(problem) = check_balance(member, balance) {
                    problems.push(format!("{name}: {problem}"));
                }
            }
            Err(error) => problems.push(format!("{name}: {} error: {error}", error.kind())),
        }
        let requests = requests(member);
        if requests != 1 {
            problems.push(format!("{name}: {requests} requests (expected 1)"));
        }
    }
    if elapsed < case.min_elapsed {
        problems.push(format!(
            "took {elapsed:?}, less than the {:?} the waits add up to",
            case.min_elapsed
        ));
    }

    if problems.is_empty() {
        Ok(Observed {
            outcome,
            attempts,
            elapsed,
        })
    } else {
        Err(problems.join("\n    "))
    }
}

/// Runs every row of the matrix for every registry vendor and fails with every mismatch at
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_through_every_fault() {
    let cases: Vec<(Entry, Case)> = vendors()
        .iter()
        .flat_map(|entry| matrix(entry).into_iter().map(move |case| (entry, case)))
        .collect();
    let total = cases.len();
    // Up to CASES_AT_ONCE cases at a time (each with its own server and client), so the
    // slow rows (the timeouts, the `Retry-After` waits) overlap; reported in table order.
    let mut outcomes: Vec<(usize, Entry, &str, Result<Observed, String>)> =
        futures::stream::iter(cases.into_iter().enumerate())
            .map(|(index, (entry, case))| async move {
                (index, entry, case.fault, run_case(entry, case).await)
            })
            .buffer_unordered(CASES_AT_ONCE)
            .collect()
            .await;
    outcomes.sort_by_key(|(index, ..)| *index);
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for (_, entry, fault, outcome) in outcomes {
        match outcome {
            Ok(observed) => report.push(format!(
                "{:>12} | {fault:<45} | {:<20} | {} attempt(s) | {:?}",
                entry.id, observed.outcome, observed.attempts, observed.elapsed
            )),
            Err(problem) => failures.push(format!("{} × {fault}:\n    {problem}", entry.id)),
        }
    }
    // Shown with --nocapture: the observed table.
    eprintln!("{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ from the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The matrix itself must not silently shrink: every fault the brief names is a row, for
/// every vendor of the registry, and every vendor can play it (a default example, a facade
/// vendor).
#[test]
fn the_matrix_covers_every_fault_for_every_vendor() {
    assert!(!vendors().is_empty(), "the registry has vendors");
    assert_eq!(
        Vendor::all().map(Vendor::as_str).collect::<Vec<_>>(),
        vendors().iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        "the facade's vendors are the registry's"
    );
    let rows = matrix(&vendors()[0]);
    let faults: Vec<String> = rows
        .iter()
        .map(|c| match &c.plan {
            Plan::Always(f) | Plan::Once(f) => format!("{f:?}"),
            Plan::Latency(_) => "Latency".to_owned(),
            Plan::RateLimitedUntil(_) => "RateLimited".to_owned(),
        })
        .collect();
    for needle in [
        "Latency",
        "RateLimited",
        "ServerError",
        "EmptyBody",
        "TruncatedJson",
        "TruncatedTransfer",
        "Html",
        "HugeBody",
        "DropConnection",
        "WrongContentType",
        "LeadingBlankLines",
        "Unauthorized",
        "InsufficientBalance",
    ] {
        assert!(
            faults.iter().any(|f| f.starts_with(needle)),
            "no row for {needle}"
        );
    }
    for entry in vendors() {
        let vendor_rows = matrix(entry);
        assert_eq!(vendor_rows.len(), rows.len(), "{}", entry.id);
        for (row, other) in vendor_rows.iter().zip(&rows) {
            assert_eq!(row.fault, other.fault, "{}: the same rows", entry.id);
        }
        // Panics for a vendor without a balance example or unknown to the facade.
        default_example(entry);
        facade_vendor(entry);
    }
}

/// A vendor whose clock is an hour off the machine's (so the machine's clock is wrong, as the
/// vendor sees it): every request-signing vendor refuses the facade's fresh signature with
/// its documented clock-skew code, which its description maps to `clock_skew`; the error is
/// not retried and tells the user to fix the clock. Run against the fake vendors' own
/// verifiers of each scheme; no vendor is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_clock_an_hour_off_is_clock_skew_for_every_signing_vendor() {
    let signing: Vec<Entry> = vendors()
        .iter()
        .filter(|entry| entry.description.auth.signs_requests())
        .collect();
    assert!(
        !signing.is_empty(),
        "the registry has request-signing vendors"
    );
    let mut failures = Vec::new();
    for offset in [3600_i64, -3600] {
        let members: Vec<Member> = signing
            .iter()
            .map(|entry| Member {
                name: format!("skewed-{}", entry.id),
                entry,
                role: "skewed",
            })
            .collect();
        let server = FakeVendors::builder()
            .accounts(members.iter().map(seed))
            .start()
            .await
            .expect("fake vendors start");
        server.set_clock_offset(offset);
        let config =
            Config::from_toml_str(&fake_vendors::config_toml(&server.accounts()), |_| None)
                .expect("config of the fake's accounts");
        let results = client().fetch_all(config.accounts()).await;
        for (member, result) in members.iter().zip(&results) {
            let context = format!("{} (vendor clock {offset:+} s)", member.entry.id);
            let control = server
                .find_account(&key(member.entry, member.role))
                .expect("seeded");
            match result {
                Err(error @ Error::ClockSkew { .. }) => {
                    if !error.to_string().contains("synchronize it") {
                        failures.push(format!(
                            "{context}: the message does not say to fix the clock: {error}"
                        ));
                    }
                    if error.is_retryable() || control.requests() != 1 || control.refusals() != 1 {
                        failures.push(format!(
                            "{context}: {} requests, {} refused (expected one refused, not retried)",
                            control.requests(),
                            control.refusals()
                        ));
                    }
                }
                other => failures.push(format!("{context}: expected clock_skew, got {other:?}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
