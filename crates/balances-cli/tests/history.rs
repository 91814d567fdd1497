//! Balance history through the real binary: runs replayed at chosen times (`BALANCES_NOW`,
//! no sleeping) against fake vendors whose balance falls, the `RUNS OUT` column and JSON
//! `forecast`, where the file lives, the switches that turn it off, and a history that
//! cannot be used costing one warning and nothing else.

mod common;

use common::{balances, run};
use std::path::{Path, PathBuf};

use fake_vendors::{AccountSeed, FakeVendors, FakeVendorsHandle, Fault};
use serde_json::Value;

/// A Unix time to replay runs from (2026-01-01T00:00:00Z).
const START: i64 = 1_767_225_600;
const HOUR: i64 = 3_600;

fn deepseek_body(cny: &str, usd: &str) -> String {
    format!(
        r#"{{"is_available":true,"balance_infos":[{{"currency":"CNY","total_balance":"{cny}","granted_balance":"0.00","topped_up_balance":"{cny}"}},{{"currency":"USD","total_balance":"{usd}","granted_balance":"0.00","topped_up_balance":"{usd}"}}]}}"#
    )
}

/// One DeepSeek account ("work", key `sk-history-canary`) and one that fails with a vendor
/// message.
async fn start_vendors() -> FakeVendorsHandle {
    FakeVendors::builder()
        .account(
            AccountSeed::new("deepseek", [("api_key", "sk-history-canary")])
                .name("work")
                .body(deepseek_body("100.00", "5.00")),
        )
        .account(
            AccountSeed::new("deepseek", [("api_key", "sk-refused")])
                .name("refused")
                .fault(Fault::vendor_error("quota", "vendor-message-canary")),
        )
        .start()
        .await
        .expect("fake vendors start")
}

/// A config file of the "work" account (and `extra`), mode 0600.
fn write_config(dir: &Path, vendors: &FakeVendorsHandle, extra: &str) -> PathBuf {
    let path = dir.join("balances.toml");
    let text = format!(
        "{}{extra}",
        fake_vendors::config_toml(&vendors.accounts()[..1])
    );
    write_private(&path, &text);
    path
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `balances` with `args` at Unix time `at`.
async fn run_at(home: &Path, at: i64, args: &[&str]) -> std::process::Output {
    let mut command = balances(home);
    command.env("BALANCES_NOW", at.to_string()).args(args);
    run(command).await
}

/// The `RUNS OUT` cell of the row for `currency`.
fn runs_out(table: &str, currency: &str) -> String {
    let header = table.lines().next().unwrap();
    let column = header.find("RUNS OUT").expect("a RUNS OUT column");
    let row = table
        .lines()
        .find(|line| line.split_whitespace().nth(2) == Some(currency))
        .unwrap_or_else(|| panic!("no {currency} row in\n{table}"));
    row.get(column..).unwrap_or("").trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_runs_with_a_falling_balance_show_when_it_runs_out() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &vendors, "");
    let config = config.to_str().unwrap();
    let work = vendors.account("sk-history-canary");

    // 100, 90, 80 CNY an hour apart; USD stays at 5.
    let mut last = None;
    for (run_index, cny) in ["100.00", "90.00", "80.00"].into_iter().enumerate() {
        work.set_body(deepseek_body(cny, "5.00"));
        let output = run_at(dir.path(), START + run_index as i64 * HOUR, &["-c", config]).await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stderr(&output), "", "no warning");
        last = Some(output);
    }
    let table = stdout(&last.unwrap());
    // 10 an hour, 80 left: 8 hours. USD was not spent: no estimate.
    assert_eq!(runs_out(&table, "CNY"), "~8h", "{table}");
    assert_eq!(runs_out(&table, "USD"), "-", "{table}");

    // The file is where XDG says, private.
    let file = dir.path().join(".local/state/balances/history.sqlite3");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // JSON, a little later: the estimate counts from the newest sample, the remaining time
    // from now.
    let output = run_at(
        dir.path(),
        START + 2 * HOUR,
        &["-c", config, "--format", "json"],
    )
    .await;
    let items: Value = serde_json::from_slice(&output.stdout).unwrap();
    // Forecasts follow the checked-in schema, which can fail.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("output.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a schema");
    let errors: Vec<String> = validator
        .iter_errors(&items)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut broken = items.clone();
    broken[0]["forecast"][0]["status"] = Value::from("soon");
    assert!(!validator.is_valid(&broken));
    let forecast = &items[0]["forecast"];
    assert_eq!(forecast[0]["currency"], "CNY");
    assert_eq!(forecast[0]["status"], "estimate");
    assert_eq!(forecast[0]["spend_per_day"], "240");
    assert_eq!(forecast[0]["floor"], "0");
    assert_eq!(forecast[0]["runs_out_at"], "2026-01-01T10:00:00Z");
    assert_eq!(forecast[0]["runs_out_in_seconds"], 8 * HOUR);
    assert_eq!(forecast[0]["observed_seconds"], 2 * HOUR);
    assert_eq!(forecast[1]["currency"], "USD");
    assert_eq!(forecast[1]["status"], "no_estimate");
    assert_eq!(forecast[1]["reason"], "no_spend");

    // With `alert_below = 20` the estimate is about 20: 60 left, 6 hours.
    let with_threshold = write_config(dir.path(), &vendors, "");
    let text = std::fs::read_to_string(&with_threshold).unwrap();
    write_private(&with_threshold, &format!("alert_below = \"20\"\n{text}"));
    let output = run_at(dir.path(), START + 2 * HOUR, &["-c", config]).await;
    assert_eq!(runs_out(&stdout(&output), "CNY"), "~6h");

    // `balances history` shows the three samples.
    let output = run_at(
        dir.path(),
        START + 2 * HOUR,
        &["-c", config, "history", "work", "--format", "json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let series: Value = serde_json::from_slice(&output.stdout).unwrap();
    let cny = series
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["currency"] == "CNY")
        .expect("a CNY series");
    let totals: Vec<&str> = cny["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals, ["100.00", "90.00", "80.00"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_file_holds_no_key_and_no_vendor_message() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("both.toml");
    write_private(&config, &fake_vendors::config_toml(&vendors.accounts()));
    let file = dir.path().join("h.sqlite3");
    let output = run_at(
        dir.path(),
        START,
        &[
            "-c",
            config.to_str().unwrap(),
            "--history",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(3));
    assert!(stdout(&output).contains("vendor-message-canary"));
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = file.clone().into_os_string();
        name.push(suffix);
        bytes.extend(std::fs::read(&name).unwrap_or_default());
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("100.00"), "the balance is recorded");
    for secret in ["sk-history-canary", "sk-refused", "vendor-message-canary"] {
        assert!(!text.contains(secret), "{secret} is in the history file");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_history_and_the_config_keys_choose_whether_and_where() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let default_file = dir.path().join(".local/state/balances/history.sqlite3");

    let config = write_config(dir.path(), &vendors, "");
    let output = run_at(
        dir.path(),
        START,
        &["-c", config.to_str().unwrap(), "--no-history"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0));
    assert!(!stdout(&output).contains("RUNS OUT"));
    assert!(!default_file.exists());

    let config = write_config(dir.path(), &vendors, "\n[history]\nenabled = false\n");
    let output = run_at(dir.path(), START, &["-c", config.to_str().unwrap()]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stdout(&output).contains("RUNS OUT"));
    assert!(!default_file.exists());

    let chosen = dir.path().join("elsewhere/h.sqlite3");
    let config = write_config(
        dir.path(),
        &vendors,
        &format!(
            "\n[history]\npath = {:?}\nforecast_window_days = 3\n",
            chosen.to_str().unwrap()
        ),
    );
    let output = run_at(dir.path(), START, &["-c", config.to_str().unwrap()]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("RUNS OUT"));
    assert!(chosen.exists() && !default_file.exists());

    // XDG_STATE_HOME moves the default.
    let config = write_config(dir.path(), &vendors, "");
    let mut command = balances(dir.path());
    command
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .args(["-c", config.to_str().unwrap()]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0));
    assert!(dir.path().join("state/balances/history.sqlite3").exists());

    // A wrong key in the table is a configuration error, named.
    let config = write_config(dir.path(), &vendors, "\n[history]\nkeep_for = 3\n");
    let output = run_at(dir.path(), START, &["-c", config.to_str().unwrap()]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("history"), "{}", stderr(&output));
    assert!(stderr(&output).contains("keep_for"), "{}", stderr(&output));
}

/// What breaking the history file does to a run: the same balances, the same exit code,
/// and one warning line.
async fn run_with_broken_history(
    break_it: impl FnOnce(&Path),
    extra: &[&str],
) -> (String, String, Option<i32>) {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("both.toml");
    write_private(&config, &fake_vendors::config_toml(&vendors.accounts()));
    let file = dir.path().join("h.sqlite3");
    break_it(&file);
    let mut args = vec!["-c", config.to_str().unwrap()];
    if extra.is_empty() {
        args.extend(["--history", file.to_str().unwrap()]);
    }
    args.extend(extra);
    let output = run_at(dir.path(), START, &args).await;
    (stdout(&output), stderr(&output), output.status.code())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_history_that_cannot_be_used_costs_one_warning_and_nothing_else() {
    // Without a usable history, the output is the one of --no-history.
    let (expected, quiet, code) = run_with_broken_history(|_| {}, &["--no-history"]).await;
    assert_eq!(code, Some(3), "one account fails: exit 3");
    assert_eq!(quiet, "");

    let newer = |file: &Path| {
        let connection = rusqlite::Connection::open(file).unwrap();
        connection.pragma_update(None, "user_version", 999).unwrap();
    };
    let corrupt = |file: &Path| std::fs::write(file, vec![0x5a_u8; 4096]).unwrap();
    let unwritable = |file: &Path| {
        // A directory where the file should be.
        std::fs::create_dir_all(file).unwrap();
    };
    type Breaker = Box<dyn FnOnce(&Path)>;
    let cases: [(&str, Breaker); 3] = [
        ("newer schema", Box::new(newer)),
        ("not a database", Box::new(corrupt)),
        ("unwritable", Box::new(unwritable)),
    ];
    for (case, break_it) in cases {
        let (out, err, status) = run_with_broken_history(break_it, &[]).await;
        assert_eq!(status, code, "{case}: same exit code");
        let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
        assert_eq!(warnings.len(), 1, "{case}: one warning: {err}");
        assert!(
            warnings[0].starts_with("warning: balance history not used: "),
            "{case}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{case}: nothing else: {err}");
        assert_eq!(out, expected, "{case}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_fails_after_the_forecasts_are_shown_is_one_warning_after_them() {
    let (expected, _, code) = run_with_broken_history(|_| {}, &["--no-history"]).await;
    // The samples are refused once the forecasts are known, as a full disk would.
    let refuse_writes = |file: &Path| {
        balances_history::Store::open(file).unwrap();
        let connection = rusqlite::Connection::open(file).unwrap();
        connection
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON recent BEGIN SELECT RAISE(ABORT, 'full'); END",
            )
            .unwrap();
    };
    let (out, err, status) = run_with_broken_history(refuse_writes, &[]).await;
    assert_eq!(status, code, "same exit code");
    assert_eq!(err.lines().count(), 1, "one warning: {err}");
    assert!(
        err.starts_with("warning: balance history not used: "),
        "{err}"
    );
    // Every balance is shown, with the forecast column the history gave.
    assert!(out.contains("RUNS OUT"), "{out}");
    for line in expected.lines().skip(1) {
        let account = line.split_whitespace().next().unwrap();
        assert!(out.contains(account), "{account} missing from\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_history_costs_one_warning_after_the_busy_timeout() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &vendors, "");
    let file = dir.path().join("h.sqlite3");
    // Another writer holds the file's write lock for the whole run.
    balances_history::Store::open(&file).unwrap();
    let holder = rusqlite::Connection::open(&file).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = std::time::Instant::now();
    let output = run_at(
        dir.path(),
        START,
        &[
            "-c",
            config.to_str().unwrap(),
            "--history",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("100.00"));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("database is locked"), "{err}");
    assert!(started.elapsed() >= balances_history::DEFAULT_BUSY_TIMEOUT);
    holder.execute_batch("ROLLBACK").unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_output_has_spend_and_depletion_gauges_that_pass_promtool() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &vendors, "");
    let config = config.to_str().unwrap();
    let work = vendors.account("sk-history-canary");
    let mut text = String::new();
    for (run_index, cny) in ["100.00", "90.00", "80.00"].into_iter().enumerate() {
        work.set_body(deepseek_body(cny, "5.00"));
        let output = run_at(
            dir.path(),
            START + run_index as i64 * HOUR,
            &["-c", config, "--format", "prometheus"],
        )
        .await;
        text = stdout(&output);
    }
    let labels = r#"{account="work",vendor="deepseek",currency="CNY"}"#;
    // 240 a day is 1/360 a second; zero is reached 8 hours after the newest sample.
    assert_eq!(
        common::sample(&text, &format!("balances_spend_per_second{labels}")),
        Some("0.0027777777777777777777777778"),
        "{text}"
    );
    assert_eq!(
        common::sample(
            &text,
            &format!("balances_depletion_timestamp_seconds{labels}")
        ),
        Some((START + 10 * HOUR).to_string().as_str())
    );
    // USD is not spent: a rate of zero, no depletion time.
    assert_eq!(
        common::sample(
            &text,
            r#"balances_spend_per_second{account="work",vendor="deepseek",currency="USD"}"#
        ),
        Some("0")
    );
    assert!(!text.contains(
        r#"balances_depletion_timestamp_seconds{account="work",vendor="deepseek",currency="USD"}"#
    ));
    common::promtool_check_metrics(&text);
}

/// Seeds a history with a falling balance ending an hour ago, then starts `balances serve`
/// on it while the vendor answers `now_cny`.
async fn serve_with_history(
    vendors: &FakeVendorsHandle,
    home: &Path,
    file: &Path,
    now_cny: &str,
) -> common::Served {
    let config = write_config(home, vendors, "");
    let work = vendors.account("sk-history-canary");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for (hours_ago, cny) in [(3, "130.00"), (2, "120.00"), (1, "110.00")] {
        work.set_body(deepseek_body(cny, "5.00"));
        let output = run_at(
            home,
            now - hours_ago * HOUR,
            &[
                "-c",
                config.to_str().unwrap(),
                "--history",
                file.to_str().unwrap(),
            ],
        )
        .await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    work.set_body(deepseek_body(now_cny, "5.00"));
    common::Served::start(
        home,
        &[
            "--config".as_ref(),
            config.as_os_str(),
            "--history".as_ref(),
            file.as_os_str(),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_exporter_records_each_refresh_and_exports_its_forecast() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("h.sqlite3");
    let served = serve_with_history(&vendors, dir.path(), &file, "100.00").await;
    let text = served
        .metrics_when(|text| text.contains(r#"balances_history_writes_total{result="success"} 1"#))
        .await;
    let labels = r#"{account="work",vendor="deepseek",currency="CNY"}"#;
    // 10 an hour (the refresh comes a few seconds more than an hour after the last seeded
    // run): about 240 a day, and 100 left is about 10 hours from the refresh.
    let rate: f64 = common::sample(&text, &format!("balances_spend_per_second{labels}"))
        .unwrap_or_else(|| panic!("{text}"))
        .parse()
        .unwrap();
    assert!((rate * 86_400.0 - 240.0).abs() < 1.0, "{rate}");
    let depletion: f64 = common::sample(
        &text,
        &format!("balances_depletion_timestamp_seconds{labels}"),
    )
    .unwrap()
    .parse()
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        (depletion - (now + 10.0 * 3600.0)).abs() < 120.0,
        "{depletion} vs {now}"
    );
    assert!(text.contains(r#"balances_history_writes_total{result="failure"} 0"#));
    common::promtool_check_metrics(&text);

    // /balances carries the forecast too.
    let (_, _, json) = served.get("/balances", None).await;
    let items: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(items[0]["forecast"][0]["status"], "estimate", "{json}");
    let per_day: f64 = items[0]["forecast"][0]["spend_per_day"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((per_day - 240.0).abs() < 1.0, "{json}");

    // The refresh is in the file: four samples.
    let store = balances_history::Store::open(&file).unwrap();
    let history = store
        .history(&balances_history::HistoryQuery::default())
        .unwrap();
    assert_eq!(history[0].samples.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exporter_with_an_unusable_history_still_serves_balances_and_counts_failures() {
    let vendors = start_vendors().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("h.sqlite3");
    std::fs::write(&file, vec![0x5a_u8; 4096]).unwrap();
    let config = write_config(dir.path(), &vendors, "");
    let served = common::Served::start(
        dir.path(),
        &[
            "--config".as_ref(),
            config.as_os_str(),
            "--history".as_ref(),
            file.as_os_str(),
            "--interval".as_ref(),
            "0.2".as_ref(),
        ],
    );
    let text = served
        .metrics_when(|text| text.contains(r#"balances_history_writes_total{result="failure"} 3"#))
        .await;
    assert!(
        text.contains(
            r#"balances_balance{account="work",vendor="deepseek",currency="CNY"} 100.00"#
        ),
        "{text}"
    );
    assert!(!text.contains("balances_depletion_timestamp_seconds"));
    // Three failed recordings, one warning line.
    let warnings = served
        .stderr()
        .lines()
        .filter(|l| l.starts_with("warning: balance history not used"))
        .count();
    assert_eq!(warnings, 1, "{}", served.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spend_reading_is_recorded_as_spend_and_gets_no_balance_forecast() {
    let vendors = FakeVendors::demo()
        .start()
        .await
        .expect("fake vendors start");
    let openai: Vec<_> = vendors
        .accounts()
        .into_iter()
        .filter(|account| account.vendor == "openai")
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("balances.toml");
    write_private(&config, &fake_vendors::config_toml(&openai));
    let config = config.to_str().unwrap();
    let account = openai[0].name.as_str();

    for run_index in 0..2 {
        let output = run_at(
            dir.path(),
            START + run_index * HOUR,
            &["-c", config, "--format", "json"],
        )
        .await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stderr(&output), "", "no warning");
        let items: Value = serde_json::from_slice(&output.stdout).unwrap();
        // Spend is not a balance: no balance forecast, whatever the history holds.
        assert_eq!(items[0]["forecast"], Value::Array(Vec::new()), "{items}");
    }

    let output = run_at(
        dir.path(),
        START + HOUR,
        &["-c", config, "history", account, "--format", "json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let series: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(series.as_array().map(Vec::len), Some(1), "{series}");
    assert_eq!(series[0]["spent"], "USD", "{series}");
    assert!(series[0].get("currency").is_none(), "{series}");
    let totals: Vec<&str> = series[0]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals, ["0.06", "0.06"]);

    let output = run_at(
        dir.path(),
        START + HOUR,
        &["-c", config, "history", account, "--color", "never"],
    )
    .await;
    assert!(stdout(&output).contains("USD spent"), "{}", stdout(&output));
}
