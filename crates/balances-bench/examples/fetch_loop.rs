//! A tight loop of facade calls against one fake DeepSeek account, for profilers:
//! `cargo build --release -p balances-bench --example fetch_loop` then
//! `perf record --call-graph dwarf target/release/examples/fetch_loop`.

use balances::{BalanceClient, Config};
use fake_vendors::{AccountSeed, DeepSeekBalance, FakeVendors};

const CALLS: usize = 20_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = FakeVendors::builder()
        .account(AccountSeed::deepseek(
            "bench",
            "sk-bench",
            DeepSeekBalance::cny("110.00", "10.00", "100.00"),
        ))
        .start()
        .await?;
    let config = Config::from_toml_str(&fake_vendors::config_toml(&server.accounts()), |_| None)?;
    let client = BalanceClient::builder().build()?;
    for account in config.accounts().iter().cycle().take(CALLS) {
        client.fetch(account).await?;
    }
    Ok(())
}
