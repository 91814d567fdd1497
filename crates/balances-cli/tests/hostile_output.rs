//! The real `balances` binary against vendors that send hostile text, configs with broken
//! keys, wide account names and `NO_COLOR`: what reaches a terminal is what the user should
//! see, and nothing a vendor sends can move the cursor or repaint the screen.

mod common;

use common::{balances, run};
use std::path::Path;

use unicode_width::UnicodeWidthStr;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOSTILE: &str = "\u{1b}[2J\u{1b}[31mHACKED\r\n";
const OVERWRITE: &str = "bad\rdeepseek  CNY  999999.00  yes\u{9b}2K";

fn deepseek_error(message: &str) -> String {
    serde_json::json!({"error": {"message": message, "type": "t", "param": null, "code": "c\u{7}"}})
        .to_string()
}

fn deepseek_balance(currency: &str) -> String {
    serde_json::json!({"is_available": true, "balance_infos": [{"currency": currency,
        "total_balance": "1.00", "granted_balance": "0.00", "topped_up_balance": "1.00"}]})
    .to_string()
}

/// A vendor answering each key with its own response.
async fn vendor(responses: &[(&str, u16, String)]) -> MockServer {
    let server = MockServer::start().await;
    for (key, status, body) in responses {
        Mock::given(method("GET"))
            .and(path("/user/balance"))
            .and(header("authorization", format!("Bearer {key}").as_str()))
            .respond_with(
                ResponseTemplate::new(*status).set_body_raw(body.clone(), "application/json"),
            )
            .mount(&server)
            .await;
    }
    server
}

/// Writes a config with one DeepSeek account per (name, key) at `server`, mode 0600.
fn config(dir: &Path, server: &MockServer, accounts: &[(&str, &str)]) -> std::path::PathBuf {
    let mut text = String::new();
    for (name, key) in accounts {
        text.push_str(&format!(
            "[[accounts]]\nname = \"{name}\"\nvendor = \"deepseek\"\napi_key = \"{key}\"\nbase_url = \"{}\"\n\n",
            server.uri()
        ));
    }
    let path = dir.join("balances.toml");
    std::fs::write(&path, text).expect("config written");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// Every C0 control but the line feed that ends each line, DEL, and every C1 control.
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|&c| c != '\n' && c.is_control())
}

#[tokio::test]
async fn table_output_never_carries_a_control_character_from_a_vendor() {
    let server = vendor(&[
        ("sk-clear", 401, deepseek_error(HOSTILE)),
        ("sk-over", 422, deepseek_error(OVERWRITE)),
        ("sk-cur", 200, deepseek_balance("C\rN\u{1b}Y")),
    ])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(
        dir.path(),
        &server,
        &[
            ("clear", "sk-clear"),
            ("over", "sk-over"),
            ("cur", "sk-cur"),
        ],
    );

    let mut command = balances(dir.path());
    command
        .arg("--config")
        .arg(&path)
        .args(["--format", "table"]);
    let output = run(command).await;
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert_eq!(raw_control(&stdout), None, "{stdout:?}");
    assert!(
        stdout.contains("\\u{1b}[2J"),
        "escaped, still readable: {stdout}"
    );
    assert!(stdout.contains("bad\\u{d}deepseek"), "{stdout}");
    assert_eq!(
        stdout.lines().count(),
        4,
        "one header and three rows: {stdout}"
    );

    // JSON carries the same messages and stays valid JSON.
    let mut command = balances(dir.path());
    command
        .arg("--config")
        .arg(&path)
        .args(["--format", "json"]);
    let output = run(command).await;
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(rows[0]["error"]["kind"], "authentication");
    assert_eq!(rows[2]["balance"]["amounts"][0]["currency"], "C\rN\u{1b}Y");
}

#[tokio::test]
async fn a_key_with_a_newline_from_the_environment_works_and_a_broken_one_is_exit_2() {
    let server = vendor(&[("sk-from-file", 200, deepseek_balance("CNY"))]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("balances.toml");
    std::fs::write(
        &path,
        format!(
            "[[accounts]]\nname = \"work\"\nvendor = \"deepseek\"\napi_key_env = \"WORK_DS_KEY\"\nbase_url = \"{}\"\n",
            server.uri()
        ),
    )
    .expect("config");

    // `WORK_DS_KEY=$(cat keyfile)` keeps the file's newline.
    let mut command = balances(dir.path());
    command
        .arg("--config")
        .arg(&path)
        .env("WORK_DS_KEY", "sk-from-file\n");
    let output = run(command).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut command = balances(dir.path());
    command
        .arg("--config")
        .arg(&path)
        .env("WORK_DS_KEY", "sk-schlüssel");
    let output = run(command).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("api_key_env") && stderr.contains("WORK_DS_KEY"),
        "{stderr}"
    );
    assert!(!stderr.contains("schlüssel"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was fetched");
}

#[tokio::test]
async fn wide_account_names_keep_the_columns_aligned() {
    let server = vendor(&[("sk-a", 200, deepseek_balance("CNY"))]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(
        dir.path(),
        &server,
        &[("工作账户", "sk-a"), ("work", "sk-a")],
    );
    let mut command = balances(dir.path());
    command.arg("--config").arg(&path);
    let output = run(command).await;
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let columns: Vec<usize> = stdout
        .lines()
        .map(|line| {
            let at = line.find("deepseek").or_else(|| line.find("VENDOR"));
            line[..at.expect("a vendor cell")].width()
        })
        .collect();
    assert_eq!(columns.len(), 3, "{stdout}");
    assert!(
        columns.iter().all(|&c| c == columns[0]),
        "{columns:?}\n{stdout}"
    );
}

/// Runs the binary under a pseudo-terminal (`script`), where log lines may be colored.
async fn on_a_terminal(args: &str, no_color: Option<&str>) -> String {
    let bin = assert_cmd::cargo::cargo_bin("balances");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = std::process::Command::new("script");
    command
        .args(["-qec", &format!("{} {args}", bin.display()), "/dev/null"])
        .env_clear()
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("TERM", "xterm");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let output = tokio::task::spawn_blocking(move || command.output().expect("script runs"))
        .await
        .expect("joined");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether `text` holds a color (SGR) sequence, `ESC [ <digits and ;> m`. Other control
/// sequences (the progress bar's line clearing) are not colors.
fn has_color(text: &str) -> bool {
    text.split('\u{1b}').skip(1).any(|rest| {
        rest.strip_prefix('[').is_some_and(|params| {
            let end = params.find(|c: char| !(c.is_ascii_digit() || c == ';'));
            end.is_some_and(|at| params[at..].starts_with('m'))
        })
    })
}

#[tokio::test]
async fn no_color_turns_off_colored_logs_on_a_terminal() {
    assert!(has_color("a \u{1b}[1;31mred\u{1b}[0m"));
    assert!(!has_color("\r\u{1b}[2K progress"));
    // Debug logs are colored on a terminal: the control this test relies on.
    let colored = on_a_terminal("--demo -v", None).await;
    assert!(colored.contains("DEBUG"), "debug logs shown: {colored}");
    assert!(has_color(&colored), "colored without NO_COLOR: {colored:?}");

    let plain = on_a_terminal("--demo -v", Some("1")).await;
    assert!(plain.contains("DEBUG"), "debug logs shown: {plain}");
    assert!(!has_color(&plain), "no color: {plain:?}");

    let never = on_a_terminal("--demo -v --color never", None).await;
    assert!(never.contains("DEBUG") && !has_color(&never), "{never:?}");
}

#[tokio::test]
async fn color_always_colors_logs_even_into_a_pipe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = balances(dir.path());
    command.args(["--demo", "-v", "--color", "always"]);
    let output = run(command).await;
    assert!(output.stderr.contains(&0x1b), "colored on request");
    let mut command = balances(dir.path());
    command.args(["--demo", "-v"]);
    let output = run(command).await;
    assert!(
        !output.stderr.contains(&0x1b),
        "auto: a pipe is not a terminal"
    );
}
