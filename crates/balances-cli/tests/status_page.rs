//! The status page of `balances serve`, loaded in a real headless Chromium (Debian's
//! `chromium` package, which `.ci/run` installs) against the fake vendors: the accounts,
//! their values and forecasts and charts are in the rendered page, a vendor message holding
//! `<script>` renders as text, and a screenshot is kept under `target/tmp/`.
//!
//! Skipped with a message where Chromium is not installed, except in CI (`CI` set), where
//! a missing browser fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use fake_vendors::{AccountSeed, FakeVendors, Fault};

const HOUR: i64 = 3_600;
const HOSTILE: &str = "<script>document.title='pwned'</script><img src=x>";

fn deepseek_body(cny: &str) -> String {
    format!(
        r#"{{"is_available":true,"balance_infos":[{{"currency":"CNY","total_balance":"{cny}","granted_balance":"0.00","topped_up_balance":"{cny}"}}]}}"#
    )
}

/// The browser, or `None` (with a skip message) where it is not installed outside CI.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|path| !path.is_empty());
        if let Some(path) = found {
            return Some(PathBuf::from(path));
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "chromium must be installed in CI (apt-get install chromium)"
    );
    eprintln!("skipped: chromium is not installed (Debian: apt-get install chromium)");
    None
}

/// Runs headless Chromium on `url` with a fresh profile and `mode` (`--dump-dom`,
/// `--screenshot=...`); returns its stdout.
fn run_chromium(browser: &Path, profile: &Path, mode: &[String], url: &str) -> String {
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(mode)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_renders_accounts_forecasts_and_charts_in_chromium() {
    let Some(browser) = chromium() else {
        return;
    };
    let vendors = FakeVendors::builder()
        .account(
            AccountSeed::new("deepseek", [("api_key", "sk-page-work")])
                .name("work")
                .body(deepseek_body("130.00")),
        )
        .account(
            AccountSeed::new("deepseek", [("api_key", "sk-page-hostile")])
                .name("hostile")
                .fault(Fault::vendor_error("invalid", HOSTILE)),
        )
        .start()
        .await
        .expect("fake vendors start");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("balances.toml");
    std::fs::write(&config, fake_vendors::config_toml(&vendors.accounts())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let file = dir.path().join("h.sqlite3");

    // Three one-shot runs an hour apart (times injected), then the exporter at 100.
    let work = vendors.account("sk-page-work");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for (hours_ago, cny) in [(3, "130.00"), (2, "120.00"), (1, "110.00")] {
        work.set_body(deepseek_body(cny));
        let mut command = common::balances(dir.path());
        command
            .env("BALANCES_NOW", (now - hours_ago * HOUR).to_string())
            .arg("--config")
            .arg(&config)
            .arg("--history")
            .arg(&file);
        let output = common::run(command).await;
        assert_eq!(output.status.code(), Some(3), "the hostile account fails");
    }
    work.set_body(deepseek_body("100.00"));
    let served = common::Served::start(
        dir.path(),
        &[
            "--config".as_ref(),
            config.as_os_str(),
            "--history".as_ref(),
            file.as_os_str(),
        ],
    );
    served
        .metrics_when(|t| t.contains(r#"balances_history_writes_total{result="success"} 1"#))
        .await;
    let url = format!("http://{}/", served.address);

    // The headers: a strict policy, and the page is HTML.
    let response = balances::reqwest::get(&url).await.unwrap();
    let headers = response.headers().clone();
    let html = response.text().await.unwrap();
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-"),
        "{policy}"
    );
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // Self-contained: nothing is loaded from anywhere.
    for external in ["<img", "<link", "<script", "<iframe", "url("] {
        assert!(!html.contains(external), "the page holds {external}");
    }

    let browser_dir = tempfile::tempdir().unwrap();
    let dom = run_chromium(
        &browser,
        &browser_dir.path().join("profile-dom"),
        &["--dump-dom".to_owned()],
        &url,
    );
    // The accounts, their values, forecast and chart, as the browser parsed them.
    assert!(
        dom.contains(r#"<section class="account" data-account="work">"#),
        "{dom}"
    );
    assert!(
        dom.contains(r#"<td class="num total">100.00</td>"#),
        "{dom}"
    );
    assert!(
        dom.contains(r#"<td class="num runs-out soon">~10h</td>"#),
        "{dom}"
    );
    assert!(dom.contains("<svg class=\"chart\""), "{dom}");
    assert!(dom.contains("<polyline"), "{dom}");
    assert!(dom.contains(r#"data-account="hostile""#), "{dom}");
    // The vendor's markup is text: no script element ran or exists, no image was added.
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<script"), "{dom}");
    assert!(!dom.contains("<img"), "{dom}");
    assert!(dom.contains("<title>balances: 2 accounts</title>"), "{dom}");
    // No key reached the page.
    for key in ["sk-page-work", "sk-page-hostile"] {
        assert!(!dom.contains(key));
    }

    // The screenshot, kept as a test artifact.
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let _ = std::fs::remove_file(&screenshot);
    run_chromium(
        &browser,
        &browser_dir.path().join("profile-shot"),
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1200,900".to_owned(),
            "--hide-scrollbars".to_owned(),
        ],
        &url,
    );
    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 10_000,
        "a page, not a blank: {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", screenshot.display());
}
