//! The fault matrix: every vendor × every fault the fake vendors can play, through the real
//! facade (`BalanceClient::fetch_all`), against `fake-vendors` on 127.0.0.1.
//!
//! Each case starts its own server with four accounts: the *faulted* one (of the vendor under
//! test) between three *healthy* ones (one per vendor), and fetches all four at once. It
//! asserts:
//!
//! - the faulted account's outcome: its exact balance, or an error of the documented
//!   [`ErrorKind`] (with its status, `Retry-After` or time limit where the error carries one),
//!   about that account and vendor;
//! - how many attempts reached the fake for it (its request counter);
//! - the healthy accounts' exact balances, in one attempt each;
//! - that the case ends within [`HANG_GUARD`] (a hang fails the test instead of hanging CI;
//!   this is not a performance assertion) and does not panic.
//!
//! Policy used here: 3 attempts, 10 ms backoff doubling up to 50 ms, `Retry-After` waited out
//! up to 5 s; 700 ms per attempt, 5 s per call.
//!
//! | fault                                   | plan        | DeepSeek | GeekAI | EIOTClub | attempts |
//! |-----------------------------------------|-------------|----------|--------|----------|----------|
//! | latency 10 s (past the attempt timeout) | always      | `timeout` (after 700 ms) | same | same | 3 |
//! | 429, `Retry-After: 1`                   | once        | balance (≥ 1 s)   | same   | same     | 2 |
//! | 429, `Retry-After: <HTTP date, 2 s>`    | once        | balance (≥ 0.9 s) | same | same     | 2 |
//! | 429 without `Retry-After`               | once        | balance (backoff) | same | same     | 2 |
//! | 429, `Retry-After: 0`                   | always      | `rate_limited` (wait 0 s) | same | same | 3 |
//! | 429, `Retry-After: 60` (> 5 s allowed)  | always      | `rate_limited` (wait 60 s), at once | same | same | 1 |
//! | 500                                     | once        | balance  | same   | same     | 2 |
//! | 503                                     | always      | `transient` (503) | same | same | 3 |
//! | empty body (200)                        | once/always | balance / `transient` (200) | same | same | 2 / 3 |
//! | truncated JSON (200, complete message)  | once/always | balance / `transient` (200) | same | same | 2 / 3 |
//! | truncated transfer (socket closes)      | once/always | balance / `transient` (200) | same | same | 2 / 3 |
//! | HTML page, 502                          | once/always | balance / `transient` (502) | same | same | 2 / 3 |
//! | HTML page, 200                          | always      | `undecodable` (200) | same | same | 1 |
//! | 5 MiB body (chunked)                    | always      | `response_too_large` | same | same | 1 |
//! | dropped connection (no response)        | once/always | balance / `transient` (no status) | same | same | 2 / 3 |
//! | valid JSON as `text/plain`              | always      | balance  | same   | same     | 1 |
//! | blank lines before the JSON             | always      | balance  | same   | same     | 1 |
//! | revoked credentials                     | always      | `authentication` (401) | `authentication` (401) | `vendor` (200, code 10005) | 1 |
//! | 402                                     | always      | `insufficient_balance` | same | same | 1 |
//!
//! A `text/plain` answer is a success: the facade decodes the body by its documented JSON
//! shape and never looks at `Content-Type` (`crates/balances/src/vendor/mod.rs`, `interpret`),
//! and the README's `undecodable` is "a body that is not the documented JSON". The EIOTClub
//! vendor answers a bad appkey with HTTP 200 and an envelope code, which the facade's error
//! table maps to `vendor`, not `authentication`.

use std::time::{Duration, SystemTime};

use balances::{BalanceClient, Config, Error, ErrorKind, RetryConfig, TimeoutConfig, Vendor};
use fake_vendors::{
    AccountSeed, DeepSeekBalance, DeepSeekRow, FakeVendor, FakeVendors, FakeVendorsHandle, Fault,
    RetryAfter,
};
use futures::StreamExt;
use serde_json::{Value, json};
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
    /// Its exact balance.
    Balance,
    /// An error of this kind, with these details.
    Error {
        kind: ErrorKind,
        status: Option<u16>,
        retry_after: Option<Duration>,
        /// Only for `ErrorKind::Vendor`: the vendor's code.
        code: Option<&'static str>,
    },
}

fn error(kind: ErrorKind, status: Option<u16>) -> Expect {
    Expect::Error {
        kind,
        status,
        retry_after: None,
        code: None,
    }
}

fn rate_limited(retry_after: Duration) -> Expect {
    Expect::Error {
        kind: ErrorKind::RateLimited,
        status: Some(429),
        retry_after: Some(retry_after),
        code: None,
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

/// The matrix row by row, for one vendor.
fn matrix(vendor: FakeVendor) -> Vec<Case> {
    use ErrorKind::*;
    let all = u64::from(MAX_ATTEMPTS);
    let revoked = match vendor {
        FakeVendor::DeepSeek | FakeVendor::GeekAi => error(Authentication, Some(401)),
        // HTTP 200 with envelope code 10005: "any code other than 200 is a failure".
        FakeVendor::Eiotclub => Expect::Error {
            kind: Vendor,
            status: Some(200),
            retry_after: None,
            code: Some(fake_vendors::eiotclub_codes::UNKNOWN_APPKEY),
        },
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
        case(
            "429 Retry-After: 0, always",
            Plan::Always(Fault::rate_limited(0)),
            rate_limited(Duration::ZERO),
            all,
        ),
        case(
            "429 Retry-After: 60 (over max_retry_after)",
            Plan::Always(Fault::rate_limited(60)),
            rate_limited(Duration::from_secs(60)),
            1,
        ),
        case(
            "500, then success",
            Plan::Once(Fault::server_error(500)),
            Expect::Balance,
            2,
        ),
        case(
            "503, always",
            Plan::Always(Fault::server_error(503)),
            error(Transient, Some(503)),
            all,
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
            error(Transient, Some(502)),
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
        case(
            "revoked credentials",
            Plan::Always(Fault::Unauthorized),
            revoked,
            1,
        ),
        case(
            "402",
            Plan::Always(Fault::InsufficientBalance),
            error(InsufficientBalance, Some(402)),
            1,
        ),
    ]
}

/// The faulted account of `vendor`, answering a balance distinct from the healthy ones.
fn faulted_seed(vendor: FakeVendor) -> AccountSeed {
    match vendor {
        FakeVendor::DeepSeek => AccountSeed::deepseek(
            FAULTED,
            "sk-faulted",
            DeepSeekBalance::cny("7.77", "0.77", "7.00"),
        ),
        FakeVendor::GeekAi => AccountSeed::geekai(FAULTED, "gk-faulted", "150"),
        FakeVendor::Eiotclub => {
            AccountSeed::eiotclub(FAULTED, "app-faulted", "s-faulted", "12.34", "USD")
        }
    }
}

fn faulted_credential(vendor: FakeVendor) -> &'static str {
    match vendor {
        FakeVendor::DeepSeek => "sk-faulted",
        FakeVendor::GeekAi => "gk-faulted",
        FakeVendor::Eiotclub => "app-faulted",
    }
}

/// The faulted account's balance as the facade must report it.
fn faulted_balance(vendor: FakeVendor) -> Value {
    match vendor {
        FakeVendor::DeepSeek => json!({
            "account": FAULTED, "vendor": "deepseek", "available": true,
            "amounts": [{"currency": "CNY", "total": "7.77", "granted": "0.77",
                         "topped_up": "7.00", "native": null}]
        }),
        FakeVendor::GeekAi => json!({
            "account": FAULTED, "vendor": "geekai", "available": null,
            "amounts": [{"currency": "CNY", "total": "1.50", "granted": null, "topped_up": null,
                         "native": {"unit": "coin", "amount": "150"}}]
        }),
        FakeVendor::Eiotclub => json!({
            "account": FAULTED, "vendor": "eiotclub", "available": null,
            "amounts": [{"currency": "USD", "total": "12.34", "granted": null,
                         "topped_up": null, "native": null}]
        }),
    }
}

/// The healthy accounts: (name, vendor, credential, seed, balance the facade must report).
fn healthy() -> Vec<(&'static str, FakeVendor, &'static str, AccountSeed, Value)> {
    vec![
        (
            "healthy-deepseek",
            FakeVendor::DeepSeek,
            "sk-healthy",
            AccountSeed::deepseek(
                "healthy-deepseek",
                "sk-healthy",
                DeepSeekBalance::new(
                    true,
                    [
                        DeepSeekRow::new("USD", "5.00", "0.00", "5.00"),
                        DeepSeekRow::new("CNY", "110.00", "10.00", "100.00"),
                    ],
                ),
            ),
            json!({
                "account": "healthy-deepseek", "vendor": "deepseek", "available": true,
                "amounts": [
                    {"currency": "CNY", "total": "110.00", "granted": "10.00",
                     "topped_up": "100.00", "native": null},
                    {"currency": "USD", "total": "5.00", "granted": "0.00",
                     "topped_up": "5.00", "native": null},
                ]
            }),
        ),
        (
            "healthy-geekai",
            FakeVendor::GeekAi,
            "gk-healthy",
            AccountSeed::geekai("healthy-geekai", "gk-healthy", "12345678901234567.89"),
            json!({
                "account": "healthy-geekai", "vendor": "geekai", "available": null,
                "amounts": [{"currency": "CNY", "total": "123456789012345.6789",
                             "granted": null, "topped_up": null,
                             "native": {"unit": "coin", "amount": "12345678901234567.89"}}]
            }),
        ),
        (
            "healthy-eiotclub",
            FakeVendor::Eiotclub,
            "app-healthy",
            AccountSeed::eiotclub(
                "healthy-eiotclub",
                "app-healthy",
                "s-healthy",
                "88.50",
                "USD",
            ),
            json!({
                "account": "healthy-eiotclub", "vendor": "eiotclub", "available": null,
                "amounts": [{"currency": "USD", "total": "88.50", "granted": null,
                             "topped_up": null, "native": null}]
            }),
        ),
    ]
}

fn facade_vendor(vendor: FakeVendor) -> Vendor {
    match vendor {
        FakeVendor::DeepSeek => vendor("deepseek"),
        FakeVendor::GeekAi => vendor("geekai"),
        FakeVendor::Eiotclub => vendor("eiotclub"),
    }
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

/// Starts a server with the healthy accounts and the faulted one (second of four), with
/// the case's plan applied.
async fn start(vendor: FakeVendor, plan: &Plan) -> FakeVendorsHandle {
    let mut seeds: Vec<AccountSeed> = healthy().into_iter().map(|h| h.3).collect();
    seeds.insert(1, faulted_seed(vendor));
    let server = FakeVendors::builder()
        .accounts(seeds)
        .start()
        .await
        .expect("fake vendors start");
    let faulted = server.account(vendor, faulted_credential(vendor));
    let faulted = faulted.expect("faulted account seeded");
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
    server
}

fn as_json(balance: &balances::Balance) -> Value {
    serde_json::to_value(balance).expect("a balance serializes")
}

/// Checks the faulted account's result; `Err` describes every mismatch.
fn check_faulted(
    vendor: FakeVendor,
    case: &Case,
    result: &Result<balances::Balance, Error>,
) -> Result<(), String> {
    match (&case.expect, result) {
        (Expect::Balance, Ok(balance)) => {
            let expected = faulted_balance(vendor);
            if as_json(balance) == expected {
                Ok(())
            } else {
                Err(format!("balance {} != {expected}", as_json(balance)))
            }
        }
        (Expect::Balance, Err(error)) => Err(format!(
            "expected the balance, got a {} error: {error}",
            error.kind()
        )),
        (Expect::Error { kind, .. }, Ok(balance)) => Err(format!(
            "expected a {kind} error, got the balance {}",
            as_json(balance)
        )),
        (
            Expect::Error {
                kind,
                status,
                retry_after,
                code,
            },
            Err(error),
        ) => {
            let mut problems = Vec::new();
            if error.kind() != *kind {
                problems.push(format!("kind {} (expected {kind})", error.kind()));
            }
            if error.status() != *status {
                problems.push(format!("status {:?} (expected {status:?})", error.status()));
            }
            if error.retry_after() != *retry_after {
                problems.push(format!(
                    "retry_after {:?} (expected {retry_after:?})",
                    error.retry_after()
                ));
            }
            if error.account() != Some(FAULTED) {
                problems.push(format!("account {:?}", error.account()));
            }
            if error.vendor() != Some(facade_vendor(vendor)) {
                problems.push(format!("vendor {:?}", error.vendor()));
            }
            let retryable = matches!(
                kind,
                ErrorKind::RateLimited | ErrorKind::Transient | ErrorKind::Timeout
            );
            if error.is_retryable() != retryable {
                problems.push(format!("is_retryable {}", error.is_retryable()));
            }
            match error {
                Error::Timeout { after, .. } if *after != ATTEMPT_TIMEOUT => {
                    problems.push(format!(
                        "timed out after {after:?} (expected {ATTEMPT_TIMEOUT:?})"
                    ));
                }
                Error::Vendor { code: got, .. } if Some(got.as_str()) != *code => {
                    problems.push(format!("vendor code {got:?} (expected {code:?})"));
                }
                _ => {}
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(format!("{} [error: {error}]", problems.join("; ")))
            }
        }
    }
}

/// What one case observed, for the report.
struct Observed {
    outcome: String,
    attempts: u64,
    elapsed: Duration,
}

/// Runs one case; `Err` lists every way it differs from the table.
async fn run_case(vendor: FakeVendor, case: Case) -> Result<Observed, String> {
    let server = start(vendor, &case.plan).await;
    let config = Config::from_toml_str(&fake_vendors::config_toml(&server.accounts()), |_| None)
        .map_err(|e| format!("config of the fake's accounts: {e}"))?;
    let accounts = config.into_accounts();
    let names: Vec<&str> = accounts.iter().map(|a| a.name()).collect();
    assert_eq!(
        names,
        [
            "healthy-deepseek",
            FAULTED,
            "healthy-geekai",
            "healthy-eiotclub"
        ]
    );

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

    let mut problems = Vec::new();
    if results.len() != 4 {
        return Err(format!("{} results for 4 accounts", results.len()));
    }
    let faulted = &results[1];
    if let Err(problem) = check_faulted(vendor, &case, faulted) {
        problems.push(problem);
    }
    let attempts = server
        .account(vendor, faulted_credential(vendor))
        .map(|a| a.requests())
        .unwrap_or_default();
    if attempts != case.attempts {
        problems.push(format!(
            "{attempts} attempts reached the server (expected {})",
            case.attempts
        ));
    }
    if elapsed < case.min_elapsed {
        problems.push(format!(
            "took {elapsed:?}, less than the {:?} the waits add up to",
            case.min_elapsed
        ));
    }
    // The healthy accounts, fetched in the same `fetch_all`, are untouched.
    for ((name, hvendor, credential, _, expected), result) in
        healthy()
            .into_iter()
            .zip([&results[0], &results[2], &results[3]])
    {
        match result {
            Ok(balance) if as_json(balance) == expected => {}
            Ok(balance) => problems.push(format!("{name}: balance {}", as_json(balance))),
            Err(error) => problems.push(format!("{name}: {} error: {error}", error.kind())),
        }
        let requests = server
            .account(hvendor, credential)
            .map(|a| a.requests())
            .unwrap_or_default();
        if requests != 1 {
            problems.push(format!("{name}: {requests} requests (expected 1)"));
        }
    }

    if problems.is_empty() {
        let outcome = match faulted {
            Ok(_) => "balance".to_owned(),
            Err(error) => error.kind().to_string(),
        };
        Ok(Observed {
            outcome,
            attempts,
            elapsed,
        })
    } else {
        Err(problems.join("\n    "))
    }
}

/// Runs every row of the matrix for every vendor and fails with every mismatch at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_through_every_fault() {
    let cases: Vec<(FakeVendor, Case)> = FakeVendor::ALL
        .into_iter()
        .flat_map(|vendor| matrix(vendor).into_iter().map(move |case| (vendor, case)))
        .collect();
    let total = cases.len();
    // Up to CASES_AT_ONCE cases at a time (each with its own server and client), so the
    // slow rows (the timeouts, the `Retry-After` waits) overlap; reported in table order.
    let mut outcomes: Vec<(usize, FakeVendor, &str, Result<Observed, String>)> =
        futures::stream::iter(cases.into_iter().enumerate())
            .map(|(index, (vendor, case))| async move {
                (index, vendor, case.fault, run_case(vendor, case).await)
            })
            .buffer_unordered(CASES_AT_ONCE)
            .collect()
            .await;
    outcomes.sort_by_key(|(index, ..)| *index);
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for (_, vendor, fault, outcome) in outcomes {
        match outcome {
            Ok(observed) => report.push(format!(
                "{:>8} | {fault:<45} | {:<20} | {} attempt(s) | {:?}",
                vendor.as_str(),
                observed.outcome,
                observed.attempts,
                observed.elapsed
            )),
            Err(problem) => failures.push(format!("{vendor} × {fault}:\n    {problem}")),
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

/// The matrix itself must not silently shrink: every fault the brief names is a row.
#[test]
fn the_matrix_covers_every_fault() {
    let rows = matrix(FakeVendor::DeepSeek);
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
        "Unauthorized",
    ] {
        assert!(
            faults.iter().any(|f| f.starts_with(needle)),
            "no row for {needle}"
        );
    }
    for vendor in FakeVendor::ALL {
        assert_eq!(matrix(vendor).len(), rows.len());
    }
}

/// A vendor of the registry, by id.
fn vendor(id: &str) -> balances::Vendor {
    balances::Vendor::find(id).expect("in the vendor registry")
}
