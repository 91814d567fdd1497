//! `balances serve` as a process against the fake vendors: what it serves, that scrapes
//! never wait on a vendor, that a failed refresh keeps the last balance, SIGHUP reloads,
//! SIGTERM stops, and that no endpoint or log line carries a credential. Also the one-shot
//! Prometheus output (promtool, `--output`) and `alert_below`.
#![cfg(unix)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Served, balances, promtool_check_metrics, run, sample};
use fake_vendors::{AccountInfo, AccountSeed, FakeVendors, FakeVendorsHandle, Fault};

async fn start_vendors() -> FakeVendorsHandle {
    FakeVendors::builder()
        .account(AccountSeed::new("deepseek", [("api_key", "sk-canary-work-0001")]).name("work").body(r#"{"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]}"#))
        .account(AccountSeed::new("geekai", [("api_key", "gk-canary-low-0002")]).name("low").body(r#"{"balance":150}"#))
        .account(AccountSeed::new("eiotclub", [("appkey", "app-canary-0003"), ("secret", "secret-canary-0004")]).name("iot").body(r#"{"code":"200","message":"操作成功","data":{"balance":"88.50","currency":"USD"}}"#))
        .start()
        .await
        .expect("fake vendors start")
}

const CANARIES: [&str; 4] = [
    "sk-canary-work-0001",
    "gk-canary-low-0002",
    "app-canary-0003",
    "secret-canary-0004",
];

/// The fake vendors' config with `preamble` (file-wide settings) before the accounts and
/// `alert_below` on the account named `low`.
fn write_config(dir: &Path, accounts: &[AccountInfo], preamble: &str) -> PathBuf {
    let accounts_toml = fake_vendors::config_toml(accounts).replace(
        "name = \"low\"\n",
        "name = \"low\"\nalert_below = \"2 CNY\"\n",
    );
    let path = dir.join("balances.toml");
    std::fs::write(&path, format!("{preamble}{accounts_toml}")).unwrap();
    path
}

fn serve(dir: &Path, config: &Path, extra: &[&str]) -> Served {
    let mut args: Vec<&OsStr> = vec![OsStr::new("--config"), config.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    Served::start(dir, &args)
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_metrics_in_both_formats_json_and_health() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &vendors.accounts(), "");
    let exporter = serve(dir.path(), &config, &["--interval", "60"]);

    let text = exporter
        .metrics_when(|t| t.contains("balances_fetch_success{account=\"iot\""))
        .await;
    assert_eq!(
        sample(
            &text,
            r#"balances_balance{account="work",vendor="deepseek",currency="CNY"}"#
        ),
        Some("110.00")
    );
    assert_eq!(
        sample(
            &text,
            r#"balances_balance{account="low",vendor="geekai",currency="CNY"}"#
        ),
        Some("1.50"),
        "GeekAI's 150 coins are 1.50 CNY"
    );
    assert_eq!(
        sample(
            &text,
            r#"balances_alert_threshold{account="low",vendor="geekai",currency="CNY"}"#
        ),
        Some("2")
    );
    assert_eq!(
        sample(
            &text,
            r#"balances_fetches_total{account="iot",vendor="eiotclub",result="success"}"#
        ),
        Some("1")
    );
    assert_eq!(sample(&text, "balances_up"), Some("1"));
    assert_eq!(
        sample(&text, "balances_config_last_reload_successful"),
        Some("1")
    );
    promtool_check_metrics(&text);

    let (status, content_type, open) = exporter
        .get(
            "/metrics",
            Some("application/openmetrics-text;version=1.0.0"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert!(open.contains("# TYPE balances_fetches counter\n"), "{open}");

    let (status, content_type, json) = exporter.get("/balances", None).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let items: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(items[0]["account"], "work");
    assert_eq!(items[0]["balance"]["amounts"][0]["total"], "110.00");

    assert_eq!(exporter.get("/healthz", None).await.0, 200);
    assert_eq!(exporter.get("/nothing-here", None).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scrape_answers_while_a_vendor_hangs_and_a_failure_keeps_the_last_balance() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &vendors.accounts(), "");
    let exporter = serve(
        dir.path(),
        &config,
        &["--interval", "0.2", "--timeout", "30"],
    );
    exporter
        .metrics_when(|t| t.contains("balances_fetch_success{account=\"work\""))
        .await;

    // The next refreshes fail: the balance stays, beside the failure and its kind.
    vendors
        .account("sk-canary-work-0001")
        .set_fault(Fault::ServerError { status: 503 });
    let text = exporter
        .metrics_when(|t| {
            sample(
                t,
                r#"balances_fetch_success{account="work",vendor="deepseek"}"#,
            ) == Some("0")
        })
        .await;
    assert_eq!(
        sample(
            &text,
            r#"balances_balance{account="work",vendor="deepseek",currency="CNY"}"#
        ),
        Some("110.00")
    );
    assert_eq!(
        sample(
            &text,
            r#"balances_fetch_error_info{account="work",vendor="deepseek",kind="transient"}"#
        ),
        Some("1")
    );
    let attempt: f64 = sample(
        &text,
        r#"balances_last_attempt_timestamp_seconds{account="work",vendor="deepseek"}"#,
    )
    .unwrap()
    .parse()
    .unwrap();
    let success: f64 = sample(
        &text,
        r#"balances_last_success_timestamp_seconds{account="work",vendor="deepseek"}"#,
    )
    .unwrap()
    .parse()
    .unwrap();
    assert!(
        attempt > success,
        "attempt {attempt} after success {success}"
    );

    // A vendor that takes 30 s: scrapes still answer from what the exporter knows.
    vendors
        .account("sk-canary-work-0001")
        .set_latency(Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let (status, _, text) = exporter.get("/metrics", None).await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a scrape waited {:?} for a vendor",
        started.elapsed()
    );
    assert!(text.contains("balances_balance{account=\"work\""), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_config_and_a_bad_one_keeps_the_old() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let all = vendors.accounts();
    let config = write_config(dir.path(), &all[..1], "");
    let mut exporter = serve(dir.path(), &config, &["--interval", "60"]);
    exporter
        .metrics_when(|t| t.contains("balances_fetch_success{account=\"work\""))
        .await;

    write_config(dir.path(), &all, "");
    exporter.signal("HUP");
    let text = exporter
        .metrics_when(|t| t.contains("balances_fetch_success{account=\"iot\""))
        .await;
    assert_eq!(sample(&text, "balances_accounts"), Some("3"));

    std::fs::write(
        &config,
        "[[accounts]]\nname = \"x\"\nvendor = \"nope\"\napi_key = \"k\"\n",
    )
    .unwrap();
    exporter.signal("HUP");
    let text = exporter
        .metrics_when(|t| sample(t, "balances_config_last_reload_successful") == Some("0"))
        .await;
    assert_eq!(
        sample(&text, "balances_accounts"),
        Some("3"),
        "the old accounts stay"
    );
    assert!(
        exporter.stderr().contains("the previous one stays"),
        "{}",
        exporter.stderr()
    );

    // SIGTERM during a refresh that hangs on a vendor: the exporter still stops at once.
    vendors
        .account("sk-canary-work-0001")
        .set_latency(Duration::from_secs(30));
    write_config(dir.path(), &all, "");
    exporter.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    exporter.signal("TERM");
    let status = exporter.wait_exit(Duration::from_secs(5));
    let took = asked.elapsed();
    assert!(
        status.is_some_and(|s| s.success()),
        "no clean exit after SIGTERM: {status:?}"
    );
    eprintln!("stopped {took:?} after SIGTERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_credential_on_any_endpoint_or_log_line() {
    let vendors = start_vendors().await;
    // Every vendor fails once with an error body that echoes the credentials it was sent.
    for info in vendors.accounts() {
        if let Some(control) = vendors.find_account(info.key()) {
            let values: Vec<&str> = info.credentials.iter().map(|(_, v)| v.as_str()).collect();
            let echo = format!("bad key {}", values.join(" "));
            control.fail_next(
                1,
                Fault::VendorError {
                    code: serde_json::json!(400),
                    message: echo,
                },
            );
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &vendors.accounts(), "");
    let exporter = serve(dir.path(), &config, &["--interval", "0.3", "-vv"]);
    exporter
        .metrics_when(|t| {
            sample(
                t,
                r#"balances_fetches_total{account="iot",vendor="eiotclub",result="success"}"#,
            )
            .is_some_and(|n| n != "0")
        })
        .await;
    let mut seen = exporter.stderr();
    for path in ["/metrics", "/balances", "/healthz", "/"] {
        seen.push_str(&exporter.get(path, None).await.2);
        seen.push_str(
            &exporter
                .get(path, Some("application/openmetrics-text"))
                .await
                .2,
        );
    }
    assert!(seen.contains("refresh failed"), "the failures were logged");
    for canary in CANARIES {
        assert!(!seen.contains(canary), "{canary} leaked:\n{seen}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_prometheus_passes_promtool_and_output_writes_the_file() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &vendors.accounts(), "");
    let target = dir.path().join("balances.prom");
    let mut command = balances(dir.path());
    command
        .arg("--config")
        .arg(&config)
        .args(["--format", "prometheus", "--output"])
        .arg(&target);
    let output = run(command).await;
    assert!(
        output.stdout.is_empty(),
        "--output writes nothing on stdout"
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert_eq!(
        sample(
            &text,
            r#"balances_alert_threshold{account="low",vendor="geekai",currency="CNY"}"#
        ),
        Some("2")
    );
    assert!(
        !text.contains("balances_fetches_total"),
        "no counters from one run"
    );
    promtool_check_metrics(&text);
    // `low` (1.50 CNY) is below its own alert_below of 2 CNY.
    assert_eq!(output.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_below_sets_the_exit_status_and_below_replaces_it() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    for (preamble, args, expected) in [
        // `low` has its own 2 CNY; the file-wide default applies to the others.
        ("", &[][..], 1),
        ("alert_below = \"100 USD\"\n", &[][..], 1),
        // --below replaces every account's threshold, its own included.
        ("", &["--below", "1"][..], 0),
        ("", &["--below", "100"][..], 1),
    ] {
        let config = write_config(dir.path(), &vendors.accounts(), preamble);
        let mut command = balances(dir.path());
        command.arg("--config").arg(&config).args(args);
        let output = run(command).await;
        assert_eq!(
            output.status.code(),
            Some(expected),
            "{preamble:?} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    // Only the file-wide default, above every balance but one: still exit 1 via `iot`.
    let plain = fake_vendors::config_toml(&vendors.accounts());
    let config = dir.path().join("plain.toml");
    std::fs::write(&config, format!("alert_below = \"90 USD\"\n{plain}")).unwrap();
    let mut command = balances(dir.path());
    command.arg("--config").arg(&config);
    assert_eq!(
        run(command).await.status.code(),
        Some(1),
        "iot has 88.50 USD"
    );
    std::fs::write(&config, format!("alert_below = \"80 USD\"\n{plain}")).unwrap();
    let mut command = balances(dir.path());
    command.arg("--config").arg(&config);
    assert_eq!(run(command).await.status.code(), Some(0));
}
