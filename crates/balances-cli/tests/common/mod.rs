//! Helpers shared by the command's integration tests.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

/// The real binary with a clean environment: no vendor variables, and `home` as HOME and
/// XDG config home, so no default config file is found.
pub fn balances(home: &Path) -> Command {
    let mut command = Command::cargo_bin("balances").expect("the balances binary");
    command
        .env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .timeout(Duration::from_secs(60));
    command
}

/// Runs the binary off the async runtime that serves the test's vendors.
pub async fn run(mut command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("the blocking task ends")
}

/// A running `balances serve`, stopped when dropped.
pub struct Served {
    child: std::process::Child,
    pub address: std::net::SocketAddr,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Served {
    /// Starts `balances serve --listen 127.0.0.1:0` with `args` (a clean environment, as
    /// [`balances`]), and waits until it says where it listens.
    pub fn start(home: &Path, args: &[&std::ffi::OsStr]) -> Served {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_balances"))
            .env_clear()
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("balances serve starts");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (found, address) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().expect("stderr is piped");
        let collected = stderr.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("on http://").nth(1) {
                    let _ = found.send(rest.split('/').next().unwrap_or("").to_owned());
                }
                let mut text = collected.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let address = match address.recv_timeout(Duration::from_secs(30)) {
            Ok(address) => address.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                panic!("balances serve did not start: {}", stderr.lock().unwrap());
            }
        };
        Served {
            child,
            address,
            stderr,
        }
    }

    /// Everything the exporter wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends a signal by name (`HUP`, `TERM`).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// `GET path`, with an optional `Accept` header: status, content type and body.
    pub async fn get(&self, path: &str, accept: Option<&str>) -> (u16, String, String) {
        let mut request =
            balances::reqwest::Client::new().get(format!("http://{}{path}", self.address));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.expect("the exporter answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (
            status,
            content_type,
            response.text().await.expect("a text body"),
        )
    }

    /// Scrapes `/metrics` until `ready` holds for its text (up to 30 s).
    pub async fn metrics_when(&self, ready: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (_, _, text) = self.get("/metrics", None).await;
            if ready(&text) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "metrics never got ready:\n{text}\nstderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the sample that starts with `series` (name and labels), if any.
pub fn sample<'t>(text: &'t str, series: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
}

/// Runs `promtool check metrics` on `text`; `None` when promtool is not installed and this
/// is not CI (where it must be).
pub fn promtool_check_metrics(text: &str) -> Option<String> {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(_) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: promtool is not installed (Debian: apt-get install prometheus)");
            return None;
        }
        Err(error) => {
            panic!("promtool must be installed in CI (apt-get install prometheus): {error}")
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool check metrics failed:\n{report}\non:\n{text}"
    );
    Some(report)
}
