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
