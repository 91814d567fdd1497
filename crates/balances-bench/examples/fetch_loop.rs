//! A tight loop of facade calls against one fake account of the call-overhead row's vendor
//! (the first registry vendor with the `bearer` scheme that documents a balance), for
//! profilers: `cargo build --release -p balances-bench --example fetch_loop` then
//! `perf record --call-graph dwarf target/release/examples/fetch_loop`.

use balances::balances_registry::{self, Auth};
use balances::{BalanceClient, Config};
use fake_vendors::{AccountSeed, FakeVendors};

const CALLS: usize = 20_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let vendor = balances_registry::vendors()
        .iter()
        .find(|vendor| {
            vendor.description.auth == Auth::Bearer && vendor.default_balance_example().is_some()
        })
        .ok_or("no registry vendor with the bearer scheme documents a balance")?;
    let credentials = vendor
        .description
        .auth
        .credential_fields()
        .iter()
        .map(|field| (*field, format!("bench-{field}")));
    let server = FakeVendors::builder()
        .account(AccountSeed::new(vendor.id.as_str(), credentials).name("bench"))
        .start()
        .await?;
    let config = Config::from_toml_str(&fake_vendors::config_toml(&server.accounts()), |_| None)?;
    let client = BalanceClient::builder().build()?;
    for account in config.accounts().iter().cycle().take(CALLS) {
        client.fetch(account).await?;
    }
    Ok(())
}
