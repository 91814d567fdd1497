//! The real thing: a Prometheus server (Debian's `prometheus` package) scrapes
//! `balances serve` on 127.0.0.1 with the shipped alert rules, and its HTTP API shows the
//! balance and threshold series and a firing low-balance alert.
//!
//! Skipped with a message where `prometheus` is not installed, except in CI (`CI` set),
//! where `.ci/run` installs it and a missing binary fails the test.
#![cfg(unix)]

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Served;
use fake_vendors::{AccountSeed, FakeVendors};
use serde_json::Value;

struct Prometheus {
    child: Child,
    url: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Starts Prometheus scraping `target` every second and evaluating `rules` every second.
fn start_prometheus(dir: &Path, target: &str, rules: &Path) -> Option<Prometheus> {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {}\n\
             scrape_configs:\n  - job_name: balances\n    static_configs:\n      - targets: ['{target}']\n",
            rules.display()
        ),
    )
    .unwrap();
    let port = free_port();
    let spawned = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(child) => Some(Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }),
        Err(_) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: prometheus is not installed (Debian: apt-get install prometheus)");
            None
        }
        Err(error) => {
            panic!("prometheus must be installed in CI (apt-get install prometheus): {error}")
        }
    }
}

/// Polls Prometheus' API at `path` until `found` picks something out of the JSON answer.
async fn wait_for<T>(
    prometheus: &Prometheus,
    path: &str,
    found: impl Fn(&Value) -> Option<T>,
) -> T {
    let client = balances::reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        if let Ok(response) = client.get(format!("{}{path}", prometheus.url)).send().await
            && let Ok(json) = response.json::<Value>().await
        {
            if let Some(value) = found(&json) {
                return value;
            }
            last = json;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("Prometheus never answered {path} as expected; last answer: {last}");
}

/// The value of the only series an instant query returns.
fn single_value(json: &Value) -> Option<String> {
    let result = json["data"]["result"].as_array()?;
    match result.as_slice() {
        [series] => series["value"][1].as_str().map(str::to_owned),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_the_exporter_and_fires_the_low_balance_alert() {
    let vendors = FakeVendors::builder()
        .account(AccountSeed::new("deepseek", [("api_key", "sk-work")]).name("work").body(r#"{"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]}"#))
        .account(AccountSeed::new("geekai", [("api_key", "gk-low")]).name("low").body(r#"{"balance":150}"#))
        .start()
        .await
        .expect("fake vendors start");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("balances.toml");
    let accounts = fake_vendors::config_toml(&vendors.accounts()).replace(
        "name = \"low\"\n",
        "name = \"low\"\nalert_below = \"2 CNY\"\n",
    );
    // `work` is above the file-wide threshold: it must not alert.
    std::fs::write(&config, format!("alert_below = \"50\"\n{accounts}")).unwrap();
    let exporter = Served::start(
        dir.path(),
        &[
            OsStr::new("--config"),
            config.as_os_str(),
            OsStr::new("--interval"),
            OsStr::new("1"),
        ],
    );

    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/prometheus/alerts.yml");
    let Some(prometheus) = start_prometheus(dir.path(), &exporter.address.to_string(), &rules)
    else {
        return;
    };

    let low = r#"{account="low",vendor="geekai",currency="CNY"}"#;
    let balance = wait_for(
        &prometheus,
        &format!("/api/v1/query?query=balances_balance{low}"),
        single_value,
    )
    .await;
    assert_eq!(balance, "1.5", "150 GeekAI coins are 1.50 CNY");
    let threshold = wait_for(
        &prometheus,
        &format!("/api/v1/query?query=balances_alert_threshold{low}"),
        single_value,
    )
    .await;
    assert_eq!(threshold, "2");

    let firing = wait_for(&prometheus, "/api/v1/alerts", |json| {
        let alerts = json["data"]["alerts"].as_array()?;
        let firing: Vec<&Value> = alerts
            .iter()
            .filter(|a| {
                a["labels"]["alertname"] == "BalanceBelowThreshold" && a["state"] == "firing"
            })
            .collect();
        (!firing.is_empty()).then(|| firing.into_iter().cloned().collect::<Vec<Value>>())
    })
    .await;
    let accounts: Vec<&str> = firing
        .iter()
        .filter_map(|a| a["labels"]["account"].as_str())
        .collect();
    assert_eq!(
        accounts,
        ["low"],
        "only the account below its threshold: {firing:?}"
    );

    // The exporter is up, and Prometheus scraped it without errors.
    let up = wait_for(
        &prometheus,
        "/api/v1/query?query=up{job=\"balances\"}",
        single_value,
    )
    .await;
    assert_eq!(up, "1");
}
