//! `--demo`: the fake vendors in-process, so a newcomer sees real output with no keys.

use balances::{Account, ConfigError};
use fake_vendors::{AccountInfo, FakeVendor, FakeVendors, FakeVendorsHandle};

/// Starts the demo vendors on 127.0.0.1 and returns the server with accounts pointing at it.
pub async fn start() -> std::io::Result<(FakeVendorsHandle, Vec<Account>)> {
    let server = FakeVendors::demo().start().await?;
    let accounts = server
        .accounts()
        .iter()
        .map(account_for)
        .collect::<Result<Vec<_>, _>>()
        .map_err(std::io::Error::other)?;
    Ok((server, accounts))
}

fn account_for(info: &AccountInfo) -> Result<Account, ConfigError> {
    let account = match info.vendor {
        FakeVendor::DeepSeek => Account::deepseek(info.name.clone(), info.credential.clone()),
        FakeVendor::GeekAi => Account::geekai(info.name.clone(), info.credential.clone()),
        FakeVendor::Eiotclub => Account::eiotclub(
            info.name.clone(),
            info.credential.clone(),
            info.secret.clone().unwrap_or_default(),
        ),
    };
    account.with_base_url(&info.base_url)
}
