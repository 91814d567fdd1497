//! Canary credentials never reach the output of the real `balances` binary: not stdout, not
//! stderr, at any log level (trace included, where reqwest's and hyper's own logs are on),
//! through every fault the fake vendors can play, through configuration errors, and on
//! success.
//!
//! A leak is any substring of 8 or more characters of a canary (the DeepSeek and GeekAI keys,
//! the EIOTClub appkey and its secret). EIOTClub's `sign` is not a secret and may be logged;
//! the secret it is made with may not.
//!
//! Every scenario is checked for what it must produce too (exit code, each account's outcome
//! in the chosen format, requests reaching the fake, trace logs actually containing the HTTP
//! stack), so a run that silently did nothing cannot pass as "no leak".

mod common;

use common::run;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use fake_vendors::{
    AccountInfo, AccountSeed, DeepSeekBalance, FakeVendor, FakeVendors, FakeVendorsHandle, Fault,
};
use serde_json::Value;

const DS_KEY: &str = "sk-CANARY-7f3a9c";
const GK_KEY: &str = "gk-CANARY-2d8e1b";
const APPKEY: &str = "CANARYAPP42";
const SECRET: &str = "CANARY-SECRET-e41d";
const CANARIES: [&str; 4] = [DS_KEY, GK_KEY, APPKEY, SECRET];
/// The shortest substring of a canary that counts as a leak.
const LEAK_LEN: usize = 8;

/// `--timeout` for every fetching run: the latency fault ends there, and a 429 with
/// `Retry-After: 1` still fits a retry.
const TIMEOUT_SECS: &str = "3";

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
    for canary in CANARIES {
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
    for text in [
        "key=sk-CANARY-7f3a9c",
        "…ARY-7f3a9c",
        "gk-CANAR",
        "appkey CANARYAP",
        "SECRET-e41d",
        "x CANARY-SECRET y",
    ] {
        assert!(!leaks(text).is_empty(), "{text:?} must count as a leak");
    }
    // Seven characters are not enough to identify a secret.
    assert!(leaks("CANARY-").is_empty());
}

/// What one fault scenario does to all three canary accounts, and what each must end in.
struct Scenario {
    name: &'static str,
    /// Applied to the DeepSeek, GeekAI and EIOTClub account respectively.
    plan: fn(FakeVendor) -> Plan,
    /// The error kind (as the JSON output names it) for the DeepSeek, GeekAI and EIOTClub
    /// account, or `None` for a balance.
    expect: [Option<&'static str>; 3],
}

impl Scenario {
    fn expect(&self, vendor: FakeVendor) -> Option<&'static str> {
        let index = FakeVendor::ALL
            .iter()
            .position(|v| *v == vendor)
            .expect("a vendor of ALL");
        self.expect[index]
    }
}

const BALANCE: [Option<&str>; 3] = [None; 3];

const fn all(kind: &'static str) -> [Option<&'static str>; 3] {
    [Some(kind); 3]
}

enum Plan {
    Healthy,
    Always(Fault),
    Once(Fault),
    Latency(Duration),
}

/// A vendor error whose code and message echo every credential the vendor knows of.
fn echo(vendor: FakeVendor) -> Fault {
    let (code, message) = match vendor {
        FakeVendor::DeepSeek => (DS_KEY.to_owned(), format!("invalid api key {DS_KEY}")),
        FakeVendor::GeekAi => (GK_KEY.to_owned(), format!("invalid system key {GK_KEY}")),
        FakeVendor::Eiotclub => (
            APPKEY.to_owned(),
            format!("sign mismatch for appkey {APPKEY} with secret {SECRET}"),
        ),
    };
    Fault::VendorError {
        code: Value::String(code),
        message,
    }
}

/// Like [`echo`], with every credential (and EIOTClub's signed string) wrapped in terminal
/// control sequences: escaping them for display must not undo the redaction.
fn echo_in_control_sequences(vendor: FakeVendor) -> Fault {
    let wrap = |text: &str| format!("\u{1b}[2J\u{1b}[31m{text}\u{1b}[0m\r\u{9b}K");
    let (code, message) = match vendor {
        FakeVendor::DeepSeek => (wrap(DS_KEY), format!("bad key {}", wrap(DS_KEY))),
        FakeVendor::GeekAi => (wrap(GK_KEY), format!("bad key\r{}\n", wrap(GK_KEY))),
        FakeVendor::Eiotclub => (
            wrap(APPKEY),
            format!(
                "sign mismatch: {}",
                wrap(&format!(
                    "appkey={APPKEY}&nonce=12345&timestamp=1700000000&secret={SECRET}"
                ))
            ),
        ),
    };
    Fault::VendorError {
        code: Value::String(code),
        message,
    }
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "success",
            plan: |_| Plan::Healthy,
            expect: BALANCE,
        },
        Scenario {
            name: "latency",
            plan: |_| Plan::Latency(Duration::from_secs(30)),
            expect: all("timeout"),
        },
        Scenario {
            name: "rate-limited-once",
            plan: |_| Plan::Once(Fault::rate_limited(1)),
            expect: BALANCE,
        },
        Scenario {
            name: "rate-limited",
            plan: |_| Plan::Always(Fault::rate_limited(0)),
            expect: all("rate_limited"),
        },
        Scenario {
            name: "server-error-once",
            plan: |_| Plan::Once(Fault::server_error(500)),
            expect: BALANCE,
        },
        Scenario {
            name: "server-error",
            plan: |_| Plan::Always(Fault::server_error(503)),
            expect: all("transient"),
        },
        Scenario {
            name: "empty-body",
            plan: |_| Plan::Always(Fault::EmptyBody),
            expect: all("transient"),
        },
        Scenario {
            name: "truncated-json",
            plan: |_| Plan::Always(Fault::TruncatedJson),
            expect: all("transient"),
        },
        Scenario {
            name: "truncated-transfer",
            plan: |_| Plan::Always(Fault::TruncatedTransfer),
            expect: all("transient"),
        },
        Scenario {
            name: "html-502",
            plan: |_| Plan::Always(Fault::html(502)),
            expect: all("transient"),
        },
        Scenario {
            name: "html-200",
            plan: |_| Plan::Always(Fault::html(200)),
            expect: all("undecodable"),
        },
        Scenario {
            name: "huge-body",
            plan: |_| Plan::Always(Fault::huge_body()),
            expect: all("response_too_large"),
        },
        Scenario {
            name: "dropped-connection",
            plan: |_| Plan::Always(Fault::DropConnection),
            expect: all("transient"),
        },
        Scenario {
            name: "wrong-content-type",
            plan: |_| Plan::Always(Fault::WrongContentType),
            expect: BALANCE,
        },
        Scenario {
            name: "unauthorized",
            plan: |_| Plan::Always(Fault::Unauthorized),
            // EIOTClub answers a bad appkey with HTTP 200 and envelope code 10005.
            expect: [
                Some("authentication"),
                Some("authentication"),
                Some("vendor"),
            ],
        },
        Scenario {
            name: "insufficient-balance",
            plan: |_| Plan::Always(Fault::InsufficientBalance),
            expect: all("insufficient_balance"),
        },
        Scenario {
            name: "vendor-echoes-credentials",
            plan: |vendor| Plan::Always(echo(vendor)),
            expect: all("vendor"),
        },
        Scenario {
            name: "vendor-echoes-credentials-in-control-sequences",
            plan: |vendor| Plan::Always(echo_in_control_sequences(vendor)),
            expect: all("vendor"),
        },
    ]
}

fn account_name(scenario: &str, vendor: FakeVendor) -> String {
    format!("{scenario}-{}", vendor.as_str())
}

fn credential(vendor: FakeVendor) -> &'static str {
    match vendor {
        FakeVendor::DeepSeek => DS_KEY,
        FakeVendor::GeekAi => GK_KEY,
        FakeVendor::Eiotclub => APPKEY,
    }
}

/// One server per scenario (the fake keys accounts by credential, and every scenario uses
/// the same canary credentials), each with a DeepSeek, a GeekAI and an EIOTClub account.
async fn start_scenarios(scenarios: &[Scenario]) -> Vec<FakeVendorsHandle> {
    let mut servers = Vec::new();
    for scenario in scenarios {
        let server = FakeVendors::builder()
            .account(AccountSeed::deepseek(
                account_name(scenario.name, FakeVendor::DeepSeek),
                DS_KEY,
                DeepSeekBalance::cny("110.00", "10.00", "100.00"),
            ))
            .account(AccountSeed::geekai(
                account_name(scenario.name, FakeVendor::GeekAi),
                GK_KEY,
                "150",
            ))
            .account(AccountSeed::eiotclub(
                account_name(scenario.name, FakeVendor::Eiotclub),
                APPKEY,
                SECRET,
                "88.50",
                "USD",
            ))
            .start()
            .await
            .expect("fake vendors start");
        for vendor in FakeVendor::ALL {
            let control = server.account(vendor, credential(vendor)).expect("seeded");
            match (scenario.plan)(vendor) {
                Plan::Healthy => {}
                Plan::Always(fault) => control.set_fault(fault),
                Plan::Once(fault) => control.fail_next(1, fault),
                Plan::Latency(latency) => control.set_latency(latency),
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
        .timeout(Duration::from_secs(60));
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
    vendor: FakeVendor,
    kind: Option<&str>,
) {
    match format {
        Format::Json => {
            let items: Vec<Value> = serde_json::from_str(stdout)
                .unwrap_or_else(|e| panic!("{context}: stdout is not JSON ({e}):\n{stdout}"));
            let item = items
                .iter()
                .find(|i| i["account"] == name)
                .unwrap_or_else(|| panic!("{context}: {name} missing from the JSON"));
            assert_eq!(item["vendor"], vendor.as_str(), "{context}: {name}");
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
                "balances_fetch_success{{account=\"{name}\",vendor=\"{}\"}} {}",
                vendor.as_str(),
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

/// Every fault, all three vendors, in one config, at one log level.
async fn fetch_through_every_fault(level: Level) {
    let scenarios = scenarios();
    let servers = start_scenarios(&scenarios).await;
    let accounts: Vec<AccountInfo> = servers.iter().flat_map(|s| s.accounts()).collect();
    assert_eq!(accounts.len(), 3 * scenarios.len());
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &fake_vendors::config_toml(&accounts));
    assert!(
        !leaks(&std::fs::read_to_string(&config).expect("read back")).is_empty(),
        "the config must hold the canaries, or this test proves nothing"
    );

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
        "{context}: some accounts fail, so the exit code is 3; stderr:\n{stderr}"
    );
    for (scenario, server) in scenarios.iter().zip(&servers) {
        for vendor in FakeVendor::ALL {
            let name = account_name(scenario.name, vendor);
            let requests = server
                .account(vendor, credential(vendor))
                .map(|a| a.requests())
                .unwrap_or_default();
            assert!(
                requests >= 1,
                "{context}: {name} never reached the fake vendor"
            );
            let context = format!("{context} {}", scenario.name);
            check_outcome(
                &context,
                level.format,
                &stdout,
                &name,
                vendor,
                scenario.expect(vendor),
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

/// Credentials from the environment (no config file), to a working fake, at every level.
#[tokio::test(flavor = "multi_thread")]
async fn no_canary_in_any_output_with_credentials_from_the_environment() {
    let scenarios = [Scenario {
        name: "env",
        plan: |_| Plan::Healthy,
        expect: BALANCE,
    }];
    let servers = start_scenarios(&scenarios).await;
    let server = &servers[0];
    let dir = tempfile::tempdir().expect("temp dir");
    for level in LEVELS {
        let mut command = balances(dir.path(), &level);
        command
            .env("DEEPSEEK_API_KEY", DS_KEY)
            .env("DEEPSEEK_BASE_URL", server.deepseek_url())
            .env("GEEKAI_API_KEY", GK_KEY)
            .env("GEEKAI_BASE_URL", server.geekai_url())
            .env("EIOTCLUB_APPKEY", APPKEY)
            .env("EIOTCLUB_SECRET", SECRET)
            .env("EIOTCLUB_BASE_URL", server.eiotclub_url())
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
        for vendor in FakeVendor::ALL {
            check_outcome(
                &context,
                level.format,
                &stdout,
                vendor.as_str(),
                vendor,
                None,
            );
        }
    }
    for vendor in FakeVendor::ALL {
        let requests = server
            .account(vendor, credential(vendor))
            .map(|a| a.requests());
        assert_eq!(requests, Some(LEVELS.len() as u64), "{vendor}");
    }
}

/// Extra environment variables for one run.
type Env = &'static [(&'static str, &'static str)];

/// Configuration errors next to (or about) canary credentials, at every level. Nothing is
/// fetched: the only base URL is loopback port 1, where nothing listens.
#[test]
fn no_canary_in_any_output_on_configuration_errors() {
    const URL: &str = "http://127.0.0.1:1/deepseek";
    let deepseek =
        |extra: &str| format!("[[accounts]]\nname = \"work\"\nvendor = \"deepseek\"\n{extra}\n");
    // (what, config text, extra environment, exit code, a piece of the message)
    let cases: Vec<(&str, String, Env, i32, &str)> = vec![
        (
            "unknown field next to an inline key",
            deepseek(&format!(
                "api_key = \"{DS_KEY}\"\nbase_url = \"{URL}\"\napi_kye_note = \"x\""
            )),
            &[],
            2,
            "unknown field `api_kye_note`",
        ),
        (
            "the key under a misspelled field",
            deepseek(&format!("apikey = \"{DS_KEY}\"\nbase_url = \"{URL}\"")),
            &[],
            2,
            "apikey",
        ),
        (
            "plain-http base_url off loopback next to an inline key",
            deepseek(&format!(
                "api_key = \"{DS_KEY}\"\nbase_url = \"http://balances.example/deepseek\""
            )),
            &[],
            2,
            "base_url",
        ),
        (
            "malformed base_url next to an inline key",
            deepseek(&format!(
                "api_key = \"{DS_KEY}\"\nbase_url = \"http//127.0.0.1::1/x\""
            )),
            &[],
            2,
            "base_url",
        ),
        (
            "the key inside base_url",
            deepseek(&format!(
                "api_key = \"{DS_KEY}\"\nbase_url = \"https://work:{DS_KEY}@balances.example/\""
            )),
            &[],
            2,
            "base_url",
        ),
        (
            "TOML syntax error on the key's line",
            deepseek(&format!("api_key = \"{DS_KEY}\nbase_url = \"{URL}\"")),
            &[],
            2,
            "line",
        ),
        (
            "the key given twice",
            deepseek(&format!(
                "api_key = \"{DS_KEY}\"\napi_key_env = \"WORK_KEY\"\nbase_url = \"{URL}\""
            )),
            &[("WORK_KEY", DS_KEY)],
            2,
            "not both",
        ),
        (
            "EIOTClub secret of the wrong type",
            format!(
                "[[accounts]]\nname = \"iot\"\nvendor = \"eiotclub\"\nappkey = \"{APPKEY}\"\nsecret = [\"{SECRET}\"]\n"
            ),
            &[],
            2,
            "secret",
        ),
        (
            "EIOTClub field on a GeekAI account",
            format!(
                "[[accounts]]\nname = \"gk\"\nvendor = \"geekai\"\napi_key = \"{GK_KEY}\"\nsecret = \"{SECRET}\"\n"
            ),
            &[],
            2,
            "secret",
        ),
        (
            "EIOTClub appkey in the environment without its secret",
            String::new(),
            &[("EIOTCLUB_APPKEY", APPKEY)],
            2,
            "EIOTCLUB_SECRET",
        ),
        (
            "a key that cannot go in a header (found when the config is loaded)",
            deepseek(&format!("api_key = \"{DS_KEY}\\n\"\nbase_url = \"{URL}\"")),
            &[],
            2,
            "api_key",
        ),
        (
            "a key with a control sequence in its variable",
            deepseek(&format!("api_key_env = \"WORK_KEY\"\nbase_url = \"{URL}\"")),
            &[("WORK_KEY", "sk-CANARY-7f3a9c\u{1b}[2J")],
            2,
            "api_key_env",
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (what, text, env, code, needle) in &cases {
        for level in LEVELS {
            let mut command = balances(dir.path(), &level);
            if !text.is_empty() {
                command.arg("--config").arg(write_config(dir.path(), text));
            }
            command.envs(env.iter().copied()).args(["--timeout", "1"]);
            let output = command.output().expect("the binary runs");
            let context = format!("[{}] {what}", level.label);
            assert_no_leak(&context, &output);
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(*code),
                "{context}: stdout:\n{stdout}\nstderr:\n{stderr}"
            );
            // Configuration errors go to stderr; an account's error to its row on stdout
            // (where Prometheus output has no room for the message).
            let shown = if *code == 2 { &stderr } else { &stdout };
            if *code == 2 || level.format != Format::Prometheus {
                assert!(
                    shown.contains(needle),
                    "{context}: expected {needle:?} in\n{shown}"
                );
            }
        }
    }
}

/// A key pasted where the *name* of its variable belongs (`api_key_env = "sk-…"`, a common
/// slip) must not be repeated by the "unset variable" error: the facade only repeats values
/// that look like variable names.
#[test]
fn no_canary_when_a_credential_is_pasted_into_a_env_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    for text in [
        format!(
            "[[accounts]]\nname = \"work\"\nvendor = \"deepseek\"\napi_key_env = \"{DS_KEY}\"\n"
        ),
        format!(
            "[[accounts]]\nname = \"iot\"\nvendor = \"eiotclub\"\nappkey = \"x\"\nsecret_env = \"{SECRET}\"\n"
        ),
    ] {
        let output = balances(dir.path(), &LEVELS[0])
            .arg("--config")
            .arg(write_config(dir.path(), &text))
            .output()
            .expect("the binary runs");
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert_no_leak(&text, &output);
    }
}
