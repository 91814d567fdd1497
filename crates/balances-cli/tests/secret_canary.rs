//! Canary credentials never reach the output of the real `balances` binary: not stdout, not
//! stderr, at any log level (trace included, where reqwest's and hyper's own logs are on),
//! through every fault the fake vendors can play, through vendors echoing the credentials
//! back in their error bodies, through configuration errors, and on success.
//!
//! Every vendor of the registry (`balances_registry::vendors()`) goes through every scenario;
//! none is named here. Each credential field of each vendor has its own canary
//! ([`canary`]), and a leak is any substring of 8 or more characters of any canary. The
//! signature scheme's `sign` is not a secret and may be logged; the secret it is made with
//! may not.
//!
//! Every scenario is checked for what it must produce too (exit code, each account's outcome
//! in the chosen format, requests reaching the fake, trace logs actually containing the HTTP
//! stack), so a run that silently did nothing cannot pass as "no leak".

mod common;

use common::run;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use balances::balances_registry::{Auth, Expected, VendorEntry, vendors};
use fake_vendors::{AccountInfo, AccountSeed, FakeVendors, FakeVendorsHandle, Fault};
use serde_json::{Map, Value};

/// A vendor of the registry.
type Entry = &'static VendorEntry;

/// The shortest substring of a canary that counts as a leak.
const LEAK_LEN: usize = 8;

/// `--timeout` (the per-call limit) for every fetching run: the latency fault ends there.
/// Well above what the other scenarios need (three attempts with backoff, a 429 with
/// `Retry-After: 1` waited out), because six runs of every vendor × every scenario share the
/// machine and a starved retrying call must not be taken for a timeout. At 10 s, with 25
/// vendors, a dropped connection's retries were starved past the limit in 2 of 4 runs on a
/// loaded 2-core machine; the latency scenario's wait grows with it, once per run.
const TIMEOUT_SECS: &str = "30";

/// The canary credential of `vendor`'s credential field `field`:
/// `c4n4ry-<vendor>-<field>-0123456789`, vendor and field in leetspeak (`a` → `4`, `e` → `3`,
/// `i` → `1`, `o` → `0`, `s` → `5`). Readable, one per vendor and field, and no 8 characters
/// of it are a vendor id, a field name or a variable name, which the output names freely.
fn canary(vendor: &str, field: &str) -> String {
    let leet = |text: &str| -> String {
        text.chars()
            .map(|c| match c {
                'a' => '4',
                'e' => '3',
                'i' => '1',
                'o' => '0',
                's' => '5',
                c => c,
            })
            .collect()
    };
    format!("c4n4ry-{}-{}-0123456789", leet(vendor), leet(field))
}

/// `entry`'s credentials, `(field, canary)` in the order of its scheme's fields.
fn canaries_of(entry: Entry) -> Vec<(&'static str, String)> {
    entry
        .description
        .auth
        .credential_fields()
        .iter()
        .map(|field| (*field, canary(&entry.id, field)))
        .collect()
}

/// Every canary of every vendor.
fn all_canaries() -> Vec<String> {
    vendors()
        .iter()
        .flat_map(|entry| canaries_of(entry).into_iter().map(|(_, value)| value))
        .collect()
}

/// `<ENV_PREFIX>_<FIELD>`: the environment variable of one of `entry`'s settings.
fn variable(entry: Entry, field: &str) -> String {
    format!("{}_{}", entry.env_prefix, field.to_ascii_uppercase())
}

/// How a run is logged and printed.
#[derive(Clone, Copy, Debug)]
struct Level {
    label: &'static str,
    args: &'static [&'static str],
    balances_log: Option<&'static str>,
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Format {
    Table,
    Json,
    Prometheus,
}

const LEVELS: [Level; 6] = [
    Level {
        label: "default",
        args: &[],
        balances_log: None,
        format: Format::Table,
    },
    Level {
        label: "-v",
        args: &["-v"],
        balances_log: None,
        format: Format::Table,
    },
    Level {
        label: "-vv",
        args: &["-vv"],
        balances_log: None,
        format: Format::Table,
    },
    Level {
        label: "BALANCES_LOG=trace",
        args: &[],
        balances_log: Some("trace"),
        format: Format::Table,
    },
    Level {
        label: "BALANCES_LOG=trace --format json",
        args: &["--format", "json"],
        balances_log: Some("trace"),
        format: Format::Json,
    },
    Level {
        label: "BALANCES_LOG=trace --format prometheus",
        args: &["--format", "prometheus"],
        balances_log: Some("trace"),
        format: Format::Prometheus,
    },
];

impl Level {
    fn traces(&self) -> bool {
        self.balances_log == Some("trace") || self.args.contains(&"-vv")
    }
}

/// Every window of [`LEAK_LEN`] characters of every canary found in `text`, with the line
/// it is on.
fn leaks(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for canary in all_canaries() {
        let chars: Vec<char> = canary.chars().collect();
        for window in chars.windows(LEAK_LEN) {
            let needle: String = window.iter().collect();
            if let Some(line) = text.lines().find(|line| line.contains(&needle)) {
                found.push(format!("{needle:?} (of {canary:?}) in: {line}"));
            }
        }
    }
    found
}

fn assert_no_leak(context: &str, output: &std::process::Output) {
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let found = leaks(&text);
        assert!(
            found.is_empty(),
            "{context}: {stream} leaks a canary:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_leak_check_finds_any_eight_character_piece_of_a_canary() {
    assert!(leaks("nothing to see").is_empty());
    assert!(leaks("Bearer [REDACTED]").is_empty());
    let mut seen = std::collections::HashSet::new();
    for entry in vendors() {
        for (_, canary) in canaries_of(entry) {
            assert!(seen.insert(canary.clone()), "{canary} is not unique");
            let chars: Vec<char> = canary.chars().collect();
            let head: String = chars[..LEAK_LEN].iter().collect();
            let tail: String = chars[chars.len() - LEAK_LEN..].iter().collect();
            let middle: String = chars[5..5 + LEAK_LEN].iter().collect();
            for text in [
                format!("key={canary}"),
                format!("…{tail}"),
                format!("{head}…"),
                format!("x {middle} y"),
            ] {
                assert!(!leaks(&text).is_empty(), "{text:?} must count as a leak");
            }
            // Seven characters are not enough to identify a secret.
            assert!(leaks(&chars[..LEAK_LEN - 1].iter().collect::<String>()).is_empty());
        }
    }
    // What the output names freely (vendor ids and names, fields, variables, account names)
    // holds no piece of a canary, so a leak found is a real one.
    let mut public = Vec::new();
    for entry in vendors() {
        public.push(entry.id.clone());
        public.push(entry.description.name.clone());
        for field in entry.description.auth.credential_fields() {
            public.push(format!("{field} {field}_env {}", variable(entry, field)));
        }
        for (field, value) in parameters_of(entry) {
            public.push(format!(
                "{field} {field}_env {} {value}",
                variable(entry, field)
            ));
        }
        for field in ["base_url", "region"] {
            public.push(variable(entry, field));
        }
        for scenario in scenarios() {
            public.push(account_name(scenario.name, entry));
        }
    }
    let public = public.join("\n");
    assert!(leaks(&public).is_empty(), "{:?}", leaks(&public));
}

/// What one fault scenario does to every vendor's canary account, and what each must end in.
struct Scenario {
    name: &'static str,
    /// What the vendor's account does.
    plan: fn(Entry) -> Plan,
    /// The error kind (as the JSON output names it) the vendor's account must end in, or
    /// `None` for a balance.
    expect: fn(Entry) -> Option<String>,
}

enum Plan {
    Healthy,
    Always(Fault),
    Once(Fault),
    Latency(Duration),
    /// Answer this body (HTTP 200) instead of the default example.
    Body(String),
}

fn balance(_: Entry) -> Option<String> {
    None
}

/// The kind the facade gives an error status of `entry`: the description's override for
/// that status, else `shared` (the shared status table's).
fn kind_of_status(entry: Entry, status: u16, shared: &str) -> String {
    entry
        .description
        .errors
        .status_override(status)
        .map_or(shared, |kind| kind.as_str())
        .to_owned()
}

/// The kind a fault of `kind` ends in: the vendor's documented error of that kind (with
/// `status` when given) is what the fake serves, and gives the kind its example expects;
/// else the fake builds one with the status `built`, whose kind is the status's.
fn documented_or_built(entry: Entry, kind: &str, status: Option<u16>, built: u16) -> String {
    entry
        .examples
        .iter()
        .filter(|e| matches!(&e.expected, Expected::Error(error) if error.kind == kind))
        .filter(|e| status.is_none_or(|s| s == e.status))
        .min_by(|a, b| a.name.cmp(&b.name))
        .map_or_else(
            || kind_of_status(entry, built, kind),
            |example| match &example.expected {
                Expected::Error(error) => error.kind.clone(),
                _ => unreachable!("an error example"),
            },
        )
}

/// A revoked key: the documented authentication error; else, by scheme, a 401 for the
/// header schemes, and for the signature scheme its failure envelope in HTTP 200 (code
/// `UNKNOWN_APPKEY`), which is the vendor's error.
fn revoked(entry: Entry) -> String {
    match &entry.description.auth {
        Auth::EiotclubSignature
            if !entry.examples.iter().any(
                |e| matches!(&e.expected, Expected::Error(error) if error.kind == "authentication"),
            ) =>
        {
            "vendor".to_owned()
        }
        _ => documented_or_built(entry, "authentication", None, 401),
    }
}

/// A vendor error the fake builds at the vendor's error pointers ([`Fault::VendorError`]):
/// HTTP 200 for a vendor with a success envelope, else 400.
fn built_vendor_error(entry: Entry) -> String {
    if entry.description.balance.success.is_empty() {
        kind_of_status(entry, 400, "vendor")
    } else {
        "vendor".to_owned()
    }
}

/// The vendor's credentials as `field=value` pairs, as a signed string or a careless error
/// message would hold them.
fn echoed(entry: Entry, wrap: impl Fn(&str) -> String) -> String {
    canaries_of(entry)
        .iter()
        .map(|(field, value)| wrap(&format!("{field}={value}")))
        .collect::<Vec<_>>()
        .join("&")
}

/// The first credential: what the fake knows the account by.
fn key(entry: Entry) -> String {
    canaries_of(entry)
        .into_iter()
        .next()
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("{}: a scheme without credentials", entry.id))
}

/// A vendor error (at the vendor's error code and message pointers, with an error status)
/// whose code is the key and whose message holds every credential.
fn echo(entry: Entry) -> Fault {
    Fault::VendorError {
        code: Value::String(key(entry)),
        message: format!("invalid credentials: {}", echoed(entry, str::to_owned)),
    }
}

/// Like [`echo`], with every credential wrapped in terminal control sequences: escaping them
/// for display must not undo the redaction.
fn echo_in_control_sequences(entry: Entry) -> Fault {
    let wrap = |text: &str| format!("\u{1b}[2J\u{1b}[31m{text}\u{1b}[0m\r\u{9b}K");
    Fault::VendorError {
        code: Value::String(wrap(&key(entry))),
        message: format!("bad credentials\r{}\n", echoed(entry, wrap)),
    }
}

/// The body a careless vendor might answer with HTTP 200: the key at the vendor's first
/// error code pointer and every credential at its first error message pointer.
fn echo_body(entry: Entry) -> String {
    let mut body = Value::Object(Map::new());
    let errors = &entry.description.errors;
    if let Some(pointer) = errors.code.first() {
        write_at(&mut body, pointer, Value::String(key(entry)));
    }
    let pointer = errors
        .message
        .first()
        .unwrap_or_else(|| panic!("{}: no error message pointer", entry.id));
    write_at(
        &mut body,
        pointer,
        Value::String(format!("unknown key: {}", echoed(entry, str::to_owned))),
    );
    body.to_string()
}

/// Puts `value` at the JSON Pointer `pointer` in `root`, making objects on the way.
fn write_at(root: &mut Value, pointer: &str, value: Value) {
    let mut target = root;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !target.is_object() {
            *target = Value::Object(Map::new());
        }
        let Value::Object(map) = target else {
            unreachable!("an object, made just above")
        };
        target = map.entry(token).or_insert(Value::Null);
    }
    *target = value;
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "success",
            plan: |_| Plan::Healthy,
            expect: balance,
        },
        Scenario {
            name: "latency",
            plan: |_| Plan::Latency(Duration::from_secs(30)),
            expect: |_| Some("timeout".into()),
        },
        Scenario {
            name: "rate-limited-once",
            plan: |_| Plan::Once(Fault::rate_limited(1)),
            expect: balance,
        },
        Scenario {
            name: "rate-limited",
            plan: |_| Plan::Always(Fault::rate_limited(0)),
            expect: |entry| Some(documented_or_built(entry, "rate_limited", None, 429)),
        },
        Scenario {
            name: "server-error-once",
            plan: |_| Plan::Once(Fault::server_error(500)),
            expect: balance,
        },
        Scenario {
            name: "server-error",
            plan: |_| Plan::Always(Fault::server_error(503)),
            expect: |entry| Some(documented_or_built(entry, "transient", Some(503), 503)),
        },
        Scenario {
            name: "empty-body",
            plan: |_| Plan::Always(Fault::EmptyBody),
            expect: |_| Some("transient".into()),
        },
        Scenario {
            name: "truncated-json",
            plan: |_| Plan::Always(Fault::TruncatedJson),
            expect: |_| Some("transient".into()),
        },
        Scenario {
            name: "truncated-transfer",
            plan: |_| Plan::Always(Fault::TruncatedTransfer),
            expect: |_| Some("transient".into()),
        },
        Scenario {
            name: "html-502",
            plan: |_| Plan::Always(Fault::html(502)),
            expect: |entry| Some(kind_of_status(entry, 502, "transient")),
        },
        Scenario {
            name: "html-200",
            plan: |_| Plan::Always(Fault::html(200)),
            expect: |_| Some("undecodable".into()),
        },
        Scenario {
            name: "huge-body",
            plan: |_| Plan::Always(Fault::huge_body()),
            expect: |_| Some("response_too_large".into()),
        },
        Scenario {
            name: "dropped-connection",
            plan: |_| Plan::Always(Fault::DropConnection),
            expect: |_| Some("transient".into()),
        },
        Scenario {
            name: "wrong-content-type",
            plan: |_| Plan::Always(Fault::WrongContentType),
            expect: balance,
        },
        Scenario {
            name: "unauthorized",
            plan: |_| Plan::Always(Fault::Unauthorized),
            expect: |entry| Some(revoked(entry)),
        },
        Scenario {
            name: "insufficient-balance",
            plan: |_| Plan::Always(Fault::InsufficientBalance),
            expect: |entry| {
                Some(documented_or_built(
                    entry,
                    "insufficient_balance",
                    None,
                    402,
                ))
            },
        },
        Scenario {
            name: "vendor-echoes-credentials",
            plan: |entry| Plan::Always(echo(entry)),
            expect: |entry| Some(built_vendor_error(entry)),
        },
        Scenario {
            name: "vendor-echoes-credentials-in-control-sequences",
            plan: |entry| Plan::Always(echo_in_control_sequences(entry)),
            expect: |entry| Some(built_vendor_error(entry)),
        },
        Scenario {
            name: "body-echoes-credentials",
            plan: |entry| Plan::Body(echo_body(entry)),
            // A 2xx body that is the vendor's error body (or a failed envelope).
            expect: |_| Some("vendor".into()),
        },
    ]
}

/// The vendor's account parameters (xAI's `team_id`) with a value each: not secrets, so
/// not canaries; every account carries them, as a config would.
fn parameters_of(entry: Entry) -> Vec<(&'static str, String)> {
    entry
        .description
        .account_parameters
        .iter()
        .map(|name| (name.as_str(), format!("param-{name}")))
        .collect()
}

fn account_name(scenario: &str, entry: Entry) -> String {
    format!("{scenario}-{}", entry.id)
}

/// One server per scenario (the fake keys accounts by credential, and every scenario uses
/// the same canary credentials), each with one account per registry vendor answering its
/// default example, the scenario's plan applied.
async fn start_scenarios(scenarios: &[Scenario]) -> Vec<FakeVendorsHandle> {
    let mut servers = Vec::new();
    for scenario in scenarios {
        let server = FakeVendors::builder()
            .accounts(vendors().iter().map(|entry| {
                AccountSeed::new(entry.id.as_str(), canaries_of(entry))
                    .name(account_name(scenario.name, entry))
            }))
            .start()
            .await
            .expect("fake vendors start");
        for entry in vendors() {
            let control = server.account(&key(entry));
            match (scenario.plan)(entry) {
                Plan::Healthy => {}
                Plan::Always(fault) => control.set_fault(fault),
                Plan::Once(fault) => control.fail_next(1, fault),
                Plan::Latency(latency) => control.set_latency(latency),
                Plan::Body(body) => control.set_body(body),
            }
        }
        servers.push(server);
    }
    servers
}

/// A config file, mode 0600 (no "readable by others" warning), holding `text`.
fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("balances.toml");
    std::fs::write(&path, text).expect("write config");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod config");
    }
    path
}

/// The binary with a clean environment (no vendor variables, no default config file) at
/// `level`.
fn balances(home: &Path, level: &Level) -> Command {
    let mut command = Command::cargo_bin("balances").expect("the balances binary");
    command
        .env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .args(level.args)
        .timeout(Duration::from_secs(120));
    if let Some(filter) = level.balances_log {
        command.env("BALANCES_LOG", filter);
    }
    command
}

/// Checks that `stdout` (in `format`) reports `name` as expected: a balance, or an error of
/// `kind`.
fn check_outcome(
    context: &str,
    format: Format,
    stdout: &str,
    name: &str,
    entry: Entry,
    kind: Option<&str>,
) {
    let vendor = entry.id.as_str();
    match format {
        Format::Json => {
            let items: Vec<Value> = serde_json::from_str(stdout)
                .unwrap_or_else(|e| panic!("{context}: stdout is not JSON ({e}):\n{stdout}"));
            let item = items
                .iter()
                .find(|i| i["account"] == name)
                .unwrap_or_else(|| panic!("{context}: {name} missing from the JSON"));
            assert_eq!(item["vendor"], vendor, "{context}: {name}");
            match kind {
                None => assert!(
                    item["error"].is_null() && item["balance"]["account"] == name,
                    "{context}: {name} should have a balance: {item}"
                ),
                Some(kind) => assert_eq!(item["error"]["kind"], kind, "{context}: {name}: {item}"),
            }
        }
        Format::Prometheus => {
            let line = format!(
                "balances_fetch_success{{account=\"{name}\",vendor=\"{vendor}\"}} {}",
                u8::from(kind.is_none())
            );
            assert!(
                stdout.lines().any(|l| l == line),
                "{context}: missing {line:?} in\n{stdout}"
            );
        }
        Format::Table => {
            let row = stdout
                .lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("{context}: no row for {name} in\n{stdout}"));
            match kind {
                None => assert!(!row.contains("error ("), "{context}: {row}"),
                Some(kind) => assert!(
                    row.contains(&format!("error ({kind}):")),
                    "{context}: {name} should fail with {kind}: {row}"
                ),
            }
        }
    }
}

/// Every scenario, every vendor, in one config, at one log level.
async fn fetch_through_every_fault(level: Level) {
    let scenarios = scenarios();
    let servers = start_scenarios(&scenarios).await;
    let accounts: Vec<AccountInfo> = servers.iter().flat_map(|s| s.accounts()).collect();
    assert_eq!(accounts.len(), vendors().len() * scenarios.len());
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &fake_vendors::config_toml(&accounts));
    let text = std::fs::read_to_string(&config).expect("read back");
    for canary in all_canaries() {
        assert!(
            text.contains(&canary),
            "the config must hold every canary ({canary}), or this test proves nothing"
        );
    }

    let mut command = balances(dir.path(), &level);
    command
        .arg("--config")
        .arg(&config)
        .args(["--timeout", TIMEOUT_SECS, "--concurrency", "64"]);
    let output = run(command).await;
    let context = format!("[{}]", level.label);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();

    assert_no_leak(&context, &output);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{context}: some accounts fail, so the exit code is 3; stderr:\n{}",
        stderr.chars().take(4000).collect::<String>()
    );
    for (scenario, server) in scenarios.iter().zip(&servers) {
        for entry in vendors() {
            let name = account_name(scenario.name, entry);
            let requests = server.account(&key(entry)).requests();
            assert!(
                requests >= 1,
                "{context}: {name} never reached the fake vendor"
            );
            let context = format!("{context} {}", scenario.name);
            let kind = (scenario.expect)(entry);
            check_outcome(
                &context,
                level.format,
                &stdout,
                &name,
                entry,
                kind.as_deref(),
            );
        }
    }

    // The logs really were at the level under test: otherwise "no leak" means nothing.
    if level.traces() {
        assert!(
            stderr.contains("TRACE") && (stderr.contains("hyper") || stderr.contains("reqwest")),
            "{context}: trace logs must include the HTTP stack's; stderr starts:\n{}",
            stderr.chars().take(2000).collect::<String>()
        );
    } else if level.args.contains(&"-v") {
        assert!(
            stderr.contains("DEBUG") && stderr.contains("sending request"),
            "{context}: debug logs expected; stderr:\n{stderr}"
        );
        assert!(!stderr.contains("TRACE"), "{context}: no trace at -v");
    } else {
        assert!(
            !stderr.contains("DEBUG") && !stderr.contains("TRACE"),
            "{context}: only warnings by default; stderr:\n{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_canary_in_any_output_through_every_fault_at_every_log_level() {
    // The six runs are independent (own servers, own process), so they run at once.
    let runs = LEVELS.map(|level| tokio::spawn(fetch_through_every_fault(level)));
    let mut failures = Vec::new();
    for (level, run) in LEVELS.iter().zip(runs) {
        if let Err(error) = run.await {
            failures.push(format!("[{}] {error}", level.label));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Credentials from the environment (no config file), to a working fake, at every level:
/// `<ENV_PREFIX>_<FIELD>` for each credential field, `<ENV_PREFIX>_BASE_URL` (and
/// `<ENV_PREFIX>_REGION` for an account in a region) for every registry vendor.
#[tokio::test(flavor = "multi_thread")]
async fn no_canary_in_any_output_with_credentials_from_the_environment() {
    let scenarios = [Scenario {
        name: "env",
        plan: |_| Plan::Healthy,
        expect: balance,
    }];
    let servers = start_scenarios(&scenarios).await;
    let server = &servers[0];
    let mut env = Vec::new();
    for entry in vendors() {
        let info = server
            .account_info(&account_name("env", entry))
            .expect("seeded");
        for (field, value) in canaries_of(entry) {
            env.push((variable(entry, field), value));
        }
        for (field, value) in parameters_of(entry) {
            env.push((variable(entry, field), value));
        }
        env.push((variable(entry, "base_url"), info.base_url.clone()));
        if let Some(region) = &info.region {
            env.push((variable(entry, "region"), region.clone()));
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for level in LEVELS {
        let mut command = balances(dir.path(), &level);
        command
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args(["--timeout", TIMEOUT_SECS]);
        let output = run(command).await;
        let context = format!("[{}] environment", level.label);
        assert_no_leak(&context, &output);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{context}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        // Accounts from the environment are named after their vendor.
        for entry in vendors() {
            check_outcome(&context, level.format, &stdout, &entry.id, entry, None);
        }
    }
    for entry in vendors() {
        let requests = server.account(&key(entry)).requests();
        assert_eq!(requests, LEVELS.len() as u64, "{}", entry.id);
    }
}

/// One configuration error: what, the config text, extra environment, a piece of the
/// message.
struct ConfigCase {
    what: String,
    text: String,
    env: Vec<(String, String)>,
    needle: String,
}

/// The fields of every other scheme, which no account of `entry`'s takes.
fn foreign_fields(entry: Entry) -> Vec<&'static str> {
    let own = entry.description.auth.credential_fields();
    let mut fields: Vec<&'static str> = vendors()
        .iter()
        .flat_map(|other| other.description.auth.credential_fields().iter().copied())
        .filter(|field| !own.contains(field))
        .collect();
    fields.sort_unstable();
    fields.dedup();
    fields
}

/// `field` misspelled: its last two characters swapped (`api_kye`).
fn misspelled(field: &str) -> String {
    let mut chars: Vec<char> = field.chars().collect();
    let n = chars.len();
    chars.swap(n - 1, n - 2);
    chars.into_iter().collect()
}

/// Configuration errors next to (or about) `entry`'s canary credentials, each field in turn
/// where the error is about one. Nothing is fetched: the only base URL is loopback port 1,
/// where nothing listens.
fn config_cases(entry: Entry) -> Vec<ConfigCase> {
    let url = format!("http://127.0.0.1:1/{}", entry.id);
    let credentials = canaries_of(entry);
    // The account with every credential inline except `skip`, and `extra` lines.
    let account = |skip: Option<&str>, extra: &str| {
        let mut text = format!("[[accounts]]\nname = \"work\"\nvendor = \"{}\"\n", entry.id);
        for (field, value) in &credentials {
            if Some(*field) != skip {
                text.push_str(&format!("{field} = \"{value}\"\n"));
            }
        }
        for (field, value) in parameters_of(entry) {
            text.push_str(&format!("{field} = \"{value}\"\n"));
        }
        text.push_str(extra);
        text.push('\n');
        text
    };
    let case = |what: String, text: String, needle: &str| ConfigCase {
        what,
        text,
        env: Vec::new(),
        needle: needle.to_owned(),
    };
    let mut cases = vec![
        case(
            "unknown field next to inline credentials".into(),
            account(
                None,
                &format!("base_url = \"{url}\"\ncredential_note = \"x\""),
            ),
            "unknown field `credential_note`",
        ),
        case(
            "plain-http base_url off loopback next to inline credentials".into(),
            account(
                None,
                &format!("base_url = \"http://balances.example/{}\"", entry.id),
            ),
            "base_url",
        ),
        case(
            "malformed base_url next to inline credentials".into(),
            account(None, "base_url = \"http//127.0.0.1::1/x\""),
            "base_url",
        ),
    ];
    for (field, value) in &credentials {
        let field = *field;
        let wrong = misspelled(field);
        cases.push(case(
            format!("`{field}` under a misspelled field"),
            account(
                Some(field),
                &format!("{wrong} = \"{value}\"\nbase_url = \"{url}\""),
            ),
            &wrong,
        ));
        cases.push(case(
            format!("`{field}` inside base_url"),
            account(
                None,
                &format!("base_url = \"https://work:{value}@balances.example/\""),
            ),
            "base_url",
        ));
        cases.push(case(
            format!("TOML syntax error on the line of `{field}`"),
            account(
                Some(field),
                &format!("{field} = \"{value}\nbase_url = \"{url}\""),
            ),
            "line",
        ));
        cases.push(ConfigCase {
            env: vec![("WORK_VAR".into(), value.clone())],
            ..case(
                format!("`{field}` given twice"),
                account(
                    None,
                    &format!("{field}_env = \"WORK_VAR\"\nbase_url = \"{url}\""),
                ),
                "not both",
            )
        });
        cases.push(case(
            format!("`{field}` of the wrong type"),
            account(
                Some(field),
                &format!("{field} = [\"{value}\"]\nbase_url = \"{url}\""),
            ),
            field,
        ));
        cases.push(case(
            format!("`{field}` that cannot go in a request (found when the config is loaded)"),
            account(
                Some(field),
                &format!("{field} = \"{value}\\n\"\nbase_url = \"{url}\""),
            ),
            field,
        ));
        cases.push(ConfigCase {
            env: vec![("WORK_VAR".into(), format!("{value}\u{1b}[2J"))],
            ..case(
                format!("`{field}` with a control sequence in its variable"),
                account(
                    Some(field),
                    &format!("{field}_env = \"WORK_VAR\"\nbase_url = \"{url}\""),
                ),
                &format!("{field}_env"),
            )
        });
        // A scheme with several fields: this one in the environment without the others.
        if credentials.len() > 1 {
            let missing = credentials
                .iter()
                .find(|(other, _)| *other != field)
                .map(|(other, _)| variable(entry, other))
                .expect("another field");
            cases.push(ConfigCase {
                env: vec![(variable(entry, field), value.clone())],
                ..case(
                    format!(
                        "`{}` in the environment without the rest",
                        variable(entry, field)
                    ),
                    String::new(),
                    &missing,
                )
            });
        }
    }
    for foreign in foreign_fields(entry) {
        cases.push(case(
            format!("`{foreign}` (another scheme's field) on this account"),
            account(
                None,
                &format!("{foreign} = \"{}\"\nbase_url = \"{url}\"", key(entry)),
            ),
            foreign,
        ));
    }
    for case in &mut cases {
        case.what = format!("{}: {}", entry.id, case.what);
    }
    cases
}

/// Runs each configuration error case at every level; returns every failure.
fn run_config_cases(cases: &[ConfigCase]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for case in cases {
        for level in LEVELS {
            let mut command = balances(dir.path(), &level);
            if !case.text.is_empty() {
                command
                    .arg("--config")
                    .arg(write_config(dir.path(), &case.text));
            }
            command
                .envs(case.env.iter().map(|(k, v)| (k, v)))
                .args(["--timeout", "1"]);
            let output = command.output().expect("the binary runs");
            let context = format!("[{}] {}", level.label, case.what);
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let found: Vec<String> = [&stdout, &stderr]
                .into_iter()
                .flat_map(|text| leaks(text))
                .collect();
            if !found.is_empty() {
                failures.push(format!("{context}: leaks a canary:\n{}", found.join("\n")));
            }
            if output.status.code() != Some(2) {
                failures.push(format!(
                    "{context}: exit code {:?} (expected 2); stdout:\n{stdout}\nstderr:\n{stderr}",
                    output.status.code()
                ));
            } else if !stderr.contains(&case.needle) {
                // Configuration errors go to stderr.
                failures.push(format!(
                    "{context}: expected {:?} in\n{stderr}",
                    case.needle
                ));
            }
        }
    }
    failures
}

/// Configuration errors next to (or about) every vendor's canary credentials, at every
/// level; the vendors' cases run at once.
#[test]
fn no_canary_in_any_output_on_configuration_errors() {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = vendors()
            .iter()
            .map(|entry| scope.spawn(move || run_config_cases(&config_cases(entry))))
            .collect();
        runs.into_iter()
            .flat_map(|run| run.join().expect("the cases run"))
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A credential pasted where the *name* of its variable belongs (`api_key_env = "sk-…"`, a
/// common slip) must not be repeated by the "unset variable" error: the facade only repeats
/// values that look like variable names. Every field of every vendor, the others inline.
#[test]
fn no_canary_when_a_credential_is_pasted_into_a_env_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in vendors() {
        let credentials = canaries_of(entry);
        for (pasted, _) in &credentials {
            let mut text = format!("[[accounts]]\nname = \"work\"\nvendor = \"{}\"\n", entry.id);
            for (field, value) in &credentials {
                if field == pasted {
                    text.push_str(&format!("{field}_env = \"{value}\"\n"));
                } else {
                    text.push_str(&format!("{field} = \"{value}\"\n"));
                }
            }
            let output = balances(dir.path(), &LEVELS[0])
                .arg("--config")
                .arg(write_config(dir.path(), &text))
                .output()
                .expect("the binary runs");
            assert_eq!(output.status.code(), Some(2), "{text}");
            assert_no_leak(&text, &output);
        }
    }
}
