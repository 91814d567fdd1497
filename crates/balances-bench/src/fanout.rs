//! Fan-out at 100, 1,000 and 10,000 accounts round-robin over every registry vendor
//! (`FakeVendors::bulk`): the facade's `fetch_all` against a bare reqwest loop with the same
//! concurrency, each sample a child process of its own (see `side.rs`), the two sides
//! interleaved. Rows: wall time of the timed round, peak resident memory and CPU time per
//! account.

use fake_vendors::FakeVendors;

use crate::side::{Side, SideReport, run_child};
use crate::{Row, Target, set_private};

const CONCURRENCY: usize = 64;
/// (accounts, samples per side): fewer samples where one takes longer.
const SIZES: [(usize, usize); 3] = [(100, 7), (1_000, 5), (10_000, 3)];

pub async fn rows() -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let ballast = std::env::var("BALANCES_BENCH_BALLAST_MIB")
        .ok()
        .and_then(|mib| mib.parse().ok());
    let mut rows = Vec::new();
    for (accounts, samples) in SIZES {
        // Every sample gets accounts of its own (round-robin over every registry vendor): two
        // processes never sign for the same signature-scheme appkey, so no nonce can repeat
        // across them (the fake vendor would call it a replay).
        let server = FakeVendors::bulk(accounts * samples * 2).start().await?;
        let infos = server.accounts();
        let dir = tempfile::tempdir()?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for (sample, chunk) in infos.chunks(accounts).enumerate() {
            let config = dir.path().join(format!("sample-{sample}.toml"));
            std::fs::write(&config, fake_vendors::config_toml(chunk))?;
            set_private(&config)?;
            let side = if sample % 2 == 0 {
                Side::Facade
            } else {
                Side::Bare
            };
            let report =
                tokio::task::block_in_place(|| run_child(side, &config, CONCURRENCY, ballast))?;
            match side {
                Side::Facade => ours.push(report),
                Side::Bare => theirs.push(report),
            }
        }
        rows.extend(size_rows(accounts, &ours, &theirs));
    }
    Ok(rows)
}

fn size_rows(accounts: usize, ours: &[SideReport], theirs: &[SideReport]) -> Vec<Row> {
    let wall =
        |reports: &[SideReport]| -> Vec<f64> { reports.iter().map(|r| r.timed_round_ms).collect() };
    let rss = |reports: &[SideReport]| -> Option<Vec<f64>> {
        reports
            .iter()
            .map(|r| r.usage.peak_rss_kib.map(|kib| kib as f64 / 1024.0))
            .collect()
    };
    // Two rounds per sample (warm-up and timed) fetch every account.
    let cpu_per_account = |reports: &[SideReport]| -> Option<Vec<f64>> {
        reports
            .iter()
            .map(|r| r.usage.cpu_ms.map(|ms| ms * 1e3 / (2 * accounts) as f64))
            .collect()
    };
    let wall_target = (accounts == 1_000).then_some(Target::RatioAtMost(1.05));
    vec![
        Row::from_samples(
            format!("fan-out {accounts} accounts, concurrency {CONCURRENCY}: wall"),
            Some(wall(ours)),
            Some(wall(theirs)),
            "ms",
            wall_target,
            "",
        ),
        Row::from_samples(
            format!("fan-out {accounts} accounts: peak RSS, process of its own"),
            rss(ours),
            rss(theirs),
            "MiB",
            Some(Target::RatioAtMost(1.10)),
            "no /proc/self/status on this system",
        ),
        Row::from_samples(
            format!("fan-out {accounts} accounts: CPU per account"),
            cpu_per_account(ours),
            cpu_per_account(theirs),
            "µs",
            None,
            "no /proc/self/stat on this system",
        ),
    ]
}
