//! The `balances` command against what a user would run instead: `curl` for one account
//! (start-up cost), and an `xargs -P 8 curl` loop for 1,000 accounts (fan-out cost).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_vendors::{AccountSeed, DeepSeekBalance, FakeVendors};

use crate::{Row, Target, set_private};

/// `balances --format json` for one account vs `curl` for the same request, interleaved.
pub async fn start(balances: &Path) -> Result<Row, Box<dyn std::error::Error>> {
    let server = crate::one_deepseek_account().await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(&config, fake_vendors::config_toml(&server.accounts()))?;
    set_private(&config)?;
    let url = format!("{}/user/balance", server.deepseek_url());
    let mut ours = Command::new(balances);
    ours.arg("--config").arg(&config).args(["--format", "json"]);
    let mut curl = Command::new("curl");
    curl.args([
        "-sS",
        "-f",
        "-o",
        "/dev/null",
        "-H",
        "Authorization: Bearer sk-bench",
        &url,
    ]);
    let (mut our_times, mut their_times) = (Vec::new(), Vec::new());
    for round in 0..22 {
        let our_time = time(&mut ours)?;
        let their_time = time(&mut curl)?;
        // The first two rounds warm the page cache.
        if round >= 2 {
            our_times.push(millis(our_time));
            their_times.push(millis(their_time));
        }
    }
    Ok(Row::from_samples(
        "command start (balances --format json vs curl)".to_owned(),
        Some(our_times),
        Some(their_times),
        "ms",
        Some(Target::RatioAtMost(1.5)),
        "",
    ))
}

const LOOP_ACCOUNTS: usize = 1_000;
const LOOP_CONCURRENCY: usize = 8;

/// `balances` fetching 1,000 bearer-key accounts at concurrency 8 vs the loop a user would
/// write for the same requests: `xargs -P 8` running `curl` once per account.
pub async fn against_curl_loop(balances: &Path) -> Result<Row, Box<dyn std::error::Error>> {
    let seeds = (0..LOOP_ACCOUNTS).map(|i| {
        if i % 2 == 0 {
            AccountSeed::deepseek(
                format!("ds-{i}"),
                format!("sk-loop-{i}"),
                DeepSeekBalance::cny("1.00", "0.00", "1.00"),
            )
        } else {
            AccountSeed::geekai(format!("gk-{i}"), format!("gk-loop-{i}"), "150")
        }
    });
    let server = FakeVendors::builder().accounts(seeds).start().await?;
    let infos = server.accounts();
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(&config, fake_vendors::config_toml(&infos))?;
    set_private(&config)?;
    let requests: String = infos
        .iter()
        .map(|info| {
            let path = balances::balances_registry::find(info.vendor.as_str())
                .map_or("", |entry| entry.path.as_str());
            format!("{} {}{path}\n", info.credential, info.base_url)
        })
        .collect();
    let list = dir.path().join("requests.txt");
    std::fs::write(&list, requests)?;

    let concurrency = LOOP_CONCURRENCY.to_string();
    let mut ours = Command::new(balances);
    ours.arg("--config")
        .arg(&config)
        .args(["--format", "json", "--concurrency", &concurrency]);
    let mut loop_command = Command::new("sh");
    loop_command.arg("-c").arg(format!(
        "xargs -P {concurrency} -L 1 sh -c 'curl -sS -f -o /dev/null -H \"Authorization: Bearer $0\" \"$1\"' < '{}'",
        list.display()
    ));
    let (mut our_times, mut their_times) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        our_times.push(millis(time(&mut ours)?));
        their_times.push(millis(time(&mut loop_command)?));
    }
    Ok(Row::from_samples(
        format!("balances vs xargs -P {LOOP_CONCURRENCY} curl loop, {LOOP_ACCOUNTS} accounts"),
        Some(our_times),
        Some(their_times),
        "ms",
        Some(Target::RatioAtMost(0.05)),
        "",
    ))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn time(command: &mut Command) -> Result<Duration, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let output = tokio::task::block_in_place(|| command.stdin(Stdio::null()).output())?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(elapsed)
}
