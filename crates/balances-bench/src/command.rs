//! The `balances` command against what a user would run instead: `curl` for one account
//! (start-up cost), and an `xargs -P 8 curl` loop for 1,000 accounts (fan-out cost). Each
//! curl request is built from the registry ([`BareTarget`]), as the bare reqwest baselines
//! are.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_vendors::FakeVendors;

use crate::bare::{self, BareTarget, Nonces};
use crate::{Row, Target, set_private};

/// `balances --format json` for one account of the baseline vendor (the first registry
/// vendor with the `bearer` scheme) vs `curl` for the same request (method, URL and auth
/// header from the registry), interleaved.
pub async fn start(balances: &Path) -> Result<Row, Box<dyn std::error::Error>> {
    // The curl requests of every scheme are valid before any is timed.
    bare::check_curl().await?;
    let server = bare::one_baseline_account().await?;
    let infos = server.accounts();
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(&config, fake_vendors::config_toml(&infos))?;
    set_private(&config)?;
    let target = BareTarget::of(&infos[0])?;
    let nonces = Nonces::default();
    let mut ours = Command::new(balances);
    ours.arg("--config").arg(&config).args(["--format", "json"]);
    let (mut our_times, mut their_times) = (Vec::new(), Vec::new());
    for round in 0..22 {
        let our_time = time(&mut ours)?;
        let mut curl = Command::new("curl");
        curl.args(["-sS", "-f", "-o", "/dev/null"])
            .args(target.curl_args(&nonces)?);
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
const LOOP_SAMPLES: usize = 3;

/// `balances` fetching 1,000 accounts, round-robin over every registry vendor
/// (`FakeVendors::bulk`), at concurrency 8 vs the loop a user would write for the same
/// requests: `xargs -P 8` running `curl` once per account, each with a `--config` file of its
/// request (method, URL, auth header or, for the signature scheme, a body signed just before
/// the loop starts). Every run, on either side, gets accounts of its own, so no signature
/// nonce can repeat across processes (the fake vendor would call it a replay).
pub async fn against_curl_loop(balances: &Path) -> Result<Row, Box<dyn std::error::Error>> {
    let server = FakeVendors::bulk(LOOP_ACCOUNTS * LOOP_SAMPLES * 2)
        .start()
        .await?;
    let infos = server.accounts();
    let dir = tempfile::tempdir()?;
    let nonces = Nonces::default();
    let concurrency = LOOP_CONCURRENCY.to_string();
    let (mut our_times, mut their_times) = (Vec::new(), Vec::new());
    let mut chunks = infos.chunks(LOOP_ACCOUNTS);
    for sample in 0..LOOP_SAMPLES {
        let (Some(our_accounts), Some(their_accounts)) = (chunks.next(), chunks.next()) else {
            return Err("fewer bulk accounts than samples".into());
        };
        let config = dir.path().join(format!("config-{sample}.toml"));
        std::fs::write(&config, fake_vendors::config_toml(our_accounts))?;
        set_private(&config)?;
        let mut ours = Command::new(balances);
        ours.arg("--config")
            .arg(&config)
            .args(["--format", "json", "--concurrency", &concurrency]);
        our_times.push(millis(time(&mut ours)?));

        // One curl config per account, written (and signed) now, then listed for xargs.
        let requests = dir.path().join(format!("requests-{sample}"));
        std::fs::create_dir(&requests)?;
        let mut list = String::new();
        for (i, info) in their_accounts.iter().enumerate() {
            let path = requests.join(format!("{i}.curl"));
            std::fs::write(&path, BareTarget::of(info)?.curl_config(&nonces)?)?;
            set_private(&path)?;
            writeln!(list, "{}", path.display())?;
        }
        let list_path = requests.join("list.txt");
        std::fs::write(&list_path, list)?;
        let mut loop_command = Command::new("sh");
        loop_command.arg("-c").arg(format!(
            "xargs -P {concurrency} -L 1 sh -c 'curl -sS -f -o /dev/null --config \"$0\"' < '{}'",
            list_path.display()
        ));
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
