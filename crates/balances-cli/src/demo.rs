//! `--demo`: the fake vendors in-process, so a newcomer sees real output with no keys.

use balances::{Account, Config};
use fake_vendors::{FakeVendors, FakeVendorsHandle};

/// Starts the demo vendors on 127.0.0.1 and returns the server with accounts pointing at it,
/// read through the same config format a user writes.
pub async fn start() -> std::io::Result<(FakeVendorsHandle, Vec<Account>)> {
    let server = FakeVendors::demo().start().await?;
    let config = fake_vendors::config_toml(&server.accounts());
    let accounts = Config::from_toml_str(&config, |_| None)
        .map_err(std::io::Error::other)?
        .into_accounts();
    Ok((server, accounts))
}
