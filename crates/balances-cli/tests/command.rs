//! The real `balances` binary against the fake vendors on 127.0.0.1: every format, every exit
//! code, a failing account among good ones, the demo, and bad configuration.

mod common;

use common::{balances, promtool_check_metrics, run};
use std::path::{Path, PathBuf};
use std::time::Duration;

use fake_vendors::{AccountInfo, AccountSeed, FakeVendors, FakeVendorsHandle, Fault};
use serde_json::Value;

/// Four accounts, in this config order: two healthy, one revoked, one EIOTClub.
async fn start_vendors() -> FakeVendorsHandle {
    FakeVendors::builder()
        .account(AccountSeed::new("deepseek", [("api_key", "sk-work")]).name("work").body(r#"{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"5.00","granted_balance":"0.00","topped_up_balance":"5.00"},{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]}"#))
        .account(AccountSeed::new("geekai", [("api_key", "gk-1")]).name("geek").body(r#"{"balance":150}"#))
        .account(
            AccountSeed::new("deepseek", [("api_key", "sk-revoked")]).name("revoked").fault(Fault::Unauthorized),
        )
        .account(AccountSeed::new("eiotclub", [("appkey", "app-1"), ("secret", "s3cret-1")]).name("iot").body(r#"{"code":"200","message":"操作成功","data":{"balance":"88.50","currency":"USD"}}"#))
        .start()
        .await
        .expect("fake vendors start")
}

/// A config file naming the server's accounts (in seed order), with mode 0600.
fn write_config(dir: &Path, accounts: &[AccountInfo]) -> PathBuf {
    let path = dir.join("balances.toml");
    std::fs::write(&path, fake_vendors::config_toml(accounts)).unwrap();
    set_mode(&path, 0o600);
    path
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs the binary with a config file naming `accounts`, plus `args`.
async fn run_with_accounts(accounts: &[AccountInfo], args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), accounts);
    let mut command = balances(dir.path());
    command.arg("--config").arg(&config).args(args);
    run(command).await
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn table_shows_every_account_and_the_failing_one_in_its_row() {
    let vendors = start_vendors().await;
    let output = run_with_accounts(&vendors.accounts(), &[]).await;
    assert_eq!(
        output.status.code(),
        Some(3),
        "a failed account exits 3: {}",
        stderr(&output)
    );
    let table = stdout(&output);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "ACCOUNT",
            "VENDOR",
            "CURRENCY/UNIT",
            "TOTAL",
            "GRANTED",
            "TOPPED",
            "UP",
            "AVAILABLE",
            "RUNS",
            "OUT"
        ]
    );
    let cells: Vec<Vec<&str>> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        cells[0],
        [
            "work", "deepseek", "CNY", "110.00", "10.00", "100.00", "yes", "-"
        ],
        "one sample: no estimate yet"
    );
    assert_eq!(
        cells[1],
        [
            "work", "deepseek", "USD", "5.00", "0.00", "5.00", "yes", "-"
        ]
    );
    assert_eq!(
        cells[2],
        ["geek", "geekai", "CNY", "1.50", "-", "-", "-", "-"]
    );
    assert_eq!(&cells[3][..3], ["revoked", "deepseek", "error"]);
    assert!(
        lines[4].ends_with("error (authentication): authentication failed (HTTP 401): Authentication Fails (no such user) (the balance endpoint needs an API key from https://platform.deepseek.com/api_keys)"),
        "{}",
        lines[4]
    );
    assert_eq!(
        cells[4],
        ["iot", "eiotclub", "USD", "88.50", "-", "-", "-", "-"]
    );
    assert_eq!(lines.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_is_one_object_per_account_in_config_order() {
    let vendors = start_vendors().await;
    let output = run_with_accounts(&vendors.accounts(), &["--format", "json"]).await;
    assert_eq!(output.status.code(), Some(3));
    let items: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|i| i["account"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["work", "geek", "revoked", "iot"]);

    let work = &items[0];
    assert_eq!(work["vendor"], "deepseek");
    assert_eq!(work["error"], Value::Null);
    assert_eq!(work["balance"]["available"], true);
    assert_eq!(work["balance"]["amounts"][0]["currency"], "CNY");
    assert_eq!(
        work["balance"]["amounts"][0]["total"], "110.00",
        "amounts are decimal strings"
    );
    assert_eq!(work["balance"]["amounts"][1]["topped_up"], "5.00");
    assert_eq!(
        items[1]["balance"]["amounts"][0]["native"],
        serde_json::json!({"unit": "coin", "amount": "150"})
    );

    let revoked = &items[2];
    assert_eq!(revoked["balance"], Value::Null);
    assert_eq!(revoked["error"]["kind"], "authentication");
    assert!(
        revoked["error"]["message"]
            .as_str()
            .unwrap()
            .contains("401")
    );

    // Each balance has exactly the shape of the checked-in schema's type: it round-trips
    // through `balances::Balance`, which rejects unknown fields.
    for item in items.iter().filter(|i| !i["balance"].is_null()) {
        let balance: balances::Balance = serde_json::from_value(item["balance"].clone()).unwrap();
        assert_eq!(serde_json::to_value(&balance).unwrap(), item["balance"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_exposes_gauges_and_fetch_success() {
    let vendors = start_vendors().await;
    let output = run_with_accounts(&vendors.accounts(), &["--format", "prometheus"]).await;
    assert_eq!(output.status.code(), Some(3));
    let text = stdout(&output);
    for line in [
        "# TYPE balances_balance gauge",
        r#"balances_balance{account="work",vendor="deepseek",currency="CNY"} 110.00"#,
        r#"balances_balance{account="iot",vendor="eiotclub",currency="USD"} 88.50"#,
        r#"balances_granted_balance{account="work",vendor="deepseek",currency="USD"} 0.00"#,
        r#"balances_available{account="work",vendor="deepseek"} 1"#,
        "# TYPE balances_fetch_success gauge",
        r#"balances_fetch_success{account="work",vendor="deepseek"} 1"#,
        r#"balances_fetch_success{account="revoked",vendor="deepseek"} 0"#,
        r#"balances_fetch_error_info{account="revoked",vendor="deepseek",kind="authentication"} 1"#,
        "balances_accounts 4",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(
        !text.contains("revoked\",vendor=\"deepseek\",currency"),
        "a failed account has no amount gauges"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn below_exits_1_when_a_healthy_account_is_under_the_threshold_and_0_otherwise() {
    let vendors = start_vendors().await;
    let healthy: Vec<AccountInfo> = vendors
        .accounts()
        .into_iter()
        .filter(|a| a.name != "revoked")
        .collect();
    for (threshold, expected) in [
        ("1", 0),
        ("2", 1),
        ("2USD", 0),
        ("100CNY", 1),
        ("100usd", 1),
        ("1.50CNY", 0),
    ] {
        let output = run_with_accounts(&healthy, &["--below", threshold, "--format", "json"]).await;
        assert_eq!(
            output.status.code(),
            Some(expected),
            "--below {threshold}: {}",
            stderr(&output)
        );
    }
    // A failed fetch wins over "below": the script cannot vouch for that account.
    let output = run_with_accounts(&vendors.accounts(), &["--below", "1000"]).await;
    assert_eq!(output.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_bounds_a_slow_account_without_hiding_the_others() {
    let vendors = start_vendors().await;
    vendors
        .account("sk-work")
        .set_latency(Duration::from_secs(30));
    let output = run_with_accounts(
        &vendors.accounts(),
        &["--format", "json", "--timeout", "0.5", "--concurrency", "2"],
    )
    .await;
    assert_eq!(output.status.code(), Some(3));
    let items: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(items[0]["error"]["kind"], "timeout");
    assert_eq!(items[1]["balance"]["amounts"][0]["total"], "1.50");
    assert_eq!(items[3]["balance"]["amounts"][0]["total"], "88.50");
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_come_from_the_environment_without_a_config_file() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = balances(dir.path());
    command
        .env("DEEPSEEK_API_KEY", "sk-work")
        .env("DEEPSEEK_BASE_URL", vendors.base_url("deepseek").unwrap())
        .args(["--format", "json"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let items: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["balance"]["amounts"][0]["total"], "110.00");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_config_file_is_used_and_a_readable_one_is_warned_about() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let healthy: Vec<AccountInfo> = vendors
        .accounts()
        .into_iter()
        .filter(|a| a.name == "work")
        .collect();
    let default_dir = dir.path().join("config").join("balances");
    std::fs::create_dir_all(&default_dir).unwrap();
    let written = write_config(&default_dir, &healthy);
    std::fs::rename(&written, default_dir.join("config.toml")).unwrap();

    let output = run(balances(dir.path())).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("110.00"));
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));

    set_mode(&default_dir.join("config.toml"), 0o644);
    let output = run(balances(dir.path())).await;
    assert_eq!(output.status.code(), Some(0));
    let err = stderr(&output);
    assert!(
        err.contains("warning:") && err.contains("0644") && err.contains("chmod 600"),
        "{err}"
    );
}

#[test]
fn bad_configuration_exits_2_naming_the_account_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[[accounts]]\nname = \"a\"\nvendor = \"nosuchvendor\"\napi_key = \"k\"\n",
            &["account a", "vendor", "nosuchvendor"][..],
        ),
        (
            "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\n",
            &["account a", "api_key"][..],
        ),
        (
            "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"k\"\n[[accounts]]\nname = \"a\"\nvendor = \"geekai\"\napi_key = \"k\"\n",
            &["account a", "name"][..],
        ),
        (
            "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"k\"\nbase_url = \"http://example.com\"\n",
            &["account a", "base_url"][..],
        ),
        ("[[accounts]\n", &["line 1"][..]),
    ];
    for (text, needles) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        set_mode(&path, 0o600);
        let output = balances(dir.path())
            .arg("--config")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{text}");
        let err = stderr(&output);
        for needle in needles {
            assert!(err.contains(needle), "{text:?}: {err:?} lacks {needle:?}");
        }
        assert!(output.stdout.is_empty());
    }
    let output = balances(dir.path())
        .arg("--config")
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = balances(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no accounts configured"),
        "{}",
        stderr(&output)
    );
    let output = balances(dir.path())
        .args(["--below", "ten"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap reports usage errors with 2"
    );
}

#[test]
fn help_documents_every_exit_code() {
    let output = balances(Path::new("/nonexistent"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for line in [
        "  0  ",
        "  1  ",
        "  2  ",
        "  3  ",
        "--below",
        "--demo",
        "--concurrency",
        "--timeout",
        "prometheus",
        "--color",
        "Examples:",
        "completions",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}");
    }
}

#[test]
fn demo_runs_against_in_process_fake_vendors() {
    let dir = tempfile::tempdir().unwrap();
    let output = balances(dir.path())
        .args(["--demo", "--format", "json"])
        .output()
        .unwrap();
    let items: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    // One account per vendor folder, each answering its first documented balance, then one
    // with a revoked key, to show an error row.
    let vendors: Vec<&str> = items
        .iter()
        .map(|i| i["vendor"].as_str().unwrap())
        .collect();
    let registered: Vec<&str> = balances::balances_registry::vendors()
        .iter()
        .map(|v| v.id.as_str())
        .collect();
    assert_eq!(vendors[..registered.len()], registered[..], "{items:?}");
    assert_eq!(items.len(), registered.len() + 1);
    let failed: Vec<(&str, &str)> = items
        .iter()
        .filter(|i| !i["error"].is_null())
        .map(|i| {
            (
                i["account"].as_str().unwrap(),
                i["error"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    let revoked = format!("{}-revoked", registered[0]);
    assert_eq!(failed, [(revoked.as_str(), "authentication")]);
    // It is a newcomer's first command, so it exits 0 and says what the status would be for
    // real accounts (the exit-code tests above cover every code for real).
    assert_eq!(output.status.code(), Some(0));
    let stderr = stderr(&output);
    assert!(stderr.contains("demo: fake vendors on http://127.0.0.1:"));
    assert!(
        stderr.contains("would exit with status 3 (an account could not be fetched)"),
        "{stderr}"
    );
}

#[test]
fn completions_and_a_man_page_come_from_the_same_definition() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker, option) in [
        ("bash", "complete -F", "--below"),
        ("zsh", "#compdef balances", "--below"),
        ("fish", "complete -c balances", "-l below"),
    ] {
        let output = balances(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains(option), "{shell}: {script}");
    }
    let output = balances(dir.path()).arg("man").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let page = stdout(&output);
    assert!(page.contains(".TH balances"), "{page}");
    assert!(
        page.contains("\\-\\-below"),
        "the options are in the page: {page}"
    );
    let output = balances(dir.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn help_and_the_no_accounts_message_name_every_vendor_of_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let mut help = balances(dir.path());
    help.arg("--help");
    let help = stdout(&run(help).await);
    let output = run(balances(dir.path())).await;
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    // Written out for the three vendors a person knows about...
    for variable in [
        "DEEPSEEK_API_KEY",
        "GEEKAI_API_KEY",
        "EIOTCLUB_APPKEY",
        "EIOTCLUB_SECRET",
    ] {
        assert!(help.contains(variable), "{variable} in --help:\n{help}");
        assert!(message.contains(variable), "{variable}: {message}");
    }
    assert!(help.contains("DeepSeek") && help.contains("GeekAI") && help.contains("EIOTClub"));
    // ...and for every vendor folder, whichever there are.
    for entry in balances::balances_registry::vendors() {
        assert!(help.contains(&entry.description.name), "{}", entry.id);
        assert!(
            message.contains(&entry.env_prefix),
            "{}: {message}",
            entry.id
        );
    }
}

/// Every vendor folder reaches the Prometheus output: money as `balances_balance` per
/// currency, units that are not money as `balances_unit_balance`, spend (a vendor with no
/// balance API) as `balances_spent` and never as a balance, and the whole passes
/// `promtool check metrics`.
#[test]
fn demo_metrics_cover_every_vendor_and_pass_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let output = balances(dir.path())
        .args(["--demo", "--format", "prometheus"])
        .output()
        .unwrap();
    let text = stdout(&output);
    for vendor in balances::Vendor::all() {
        let label = format!("vendor=\"{vendor}\"");
        assert!(
            text.lines().any(|line| {
                (line.starts_with("balances_balance{")
                    || line.starts_with("balances_unit_balance{")
                    || line.starts_with("balances_spent{"))
                    && line.contains(&label)
            }),
            "no balance of {vendor}:\n{text}"
        );
    }
    // The demo's file-wide monthly_budget of 25 USD, less the documented 0.06 USD.
    assert!(
        text.contains(
            r#"balances_budget_remaining{account="openai-main",vendor="openai",currency="USD"} 24.94"#
        ),
        "{text}"
    );
    assert!(
        !text.contains(r#"balances_balance{account="openai-main""#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"balances_unit_balance{account="poe-main",vendor="poe",unit="points"} 1500"#
        ),
        "{text}"
    );
    promtool_check_metrics(&text);
}
