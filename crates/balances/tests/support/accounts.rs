//! Accounts of the vendors whose documented behaviour a test is about, by vendor id.
//! (`#[path]`-included by the facade's test binaries; each uses some of these.)
#![allow(dead_code)]

use balances::{Account, SecretString, Vendor};

/// A vendor of the registry, by id.
pub fn vendor(id: &str) -> Vendor {
    Vendor::find(id).expect("in the vendor registry")
}

pub fn deepseek_account(name: impl Into<String>, key: impl Into<SecretString>) -> Account {
    Account::api_key(name, vendor("deepseek"), key).expect("deepseek takes an api_key")
}

pub fn geekai_account(name: impl Into<String>, key: impl Into<SecretString>) -> Account {
    Account::api_key(name, vendor("geekai"), key).expect("geekai takes an api_key")
}

pub fn eiotclub_account(
    name: impl Into<String>,
    appkey: impl Into<SecretString>,
    secret: impl Into<SecretString>,
) -> Account {
    Account::from_credentials(
        name,
        vendor("eiotclub"),
        [("appkey", appkey.into()), ("secret", secret.into())],
    )
    .expect("eiotclub takes an appkey and a secret")
}
