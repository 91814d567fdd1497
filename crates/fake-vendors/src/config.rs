//! Renders accounts as a `balances` config file, so the command, its tests and the benchmarks
//! point the real facade at this server through the same documented file format users write.

use std::fmt::Write as _;

use crate::{AccountInfo, FakeVendor};

/// A TOML config (the `balances` `[[accounts]]` format) holding `accounts`, in order, with
/// their credentials inline and their base URLs pointing at this server.
pub fn config_toml(accounts: &[AccountInfo]) -> String {
    let mut text = String::new();
    for info in accounts {
        let _ = writeln!(text, "[[accounts]]");
        let _ = writeln!(text, "name = {}", quoted(&info.name));
        let _ = writeln!(text, "vendor = \"{}\"", info.vendor.as_str());
        let _ = writeln!(text, "base_url = {}", quoted(&info.base_url));
        match (info.vendor, &info.secret) {
            (FakeVendor::Eiotclub, Some(secret)) => {
                let _ = writeln!(text, "appkey = {}", quoted(&info.credential));
                let _ = writeln!(text, "secret = {}", quoted(secret));
            }
            _ => {
                let _ = writeln!(text, "api_key = {}", quoted(&info.credential));
            }
        }
        text.push('\n');
    }
    text
}

/// A TOML basic string.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_table_per_account_with_escaped_strings() {
        let accounts = [
            AccountInfo {
                name: "a \"quoted\" name".into(),
                vendor: FakeVendor::DeepSeek,
                credential: "sk-1".into(),
                secret: None,
                base_url: "http://127.0.0.1:1/deepseek".into(),
                note: String::new(),
            },
            AccountInfo {
                name: "iot".into(),
                vendor: FakeVendor::Eiotclub,
                credential: "app".into(),
                secret: Some("s\\x".into()),
                base_url: "http://127.0.0.1:1/eiotclub".into(),
                note: String::new(),
            },
        ];
        assert_eq!(
            config_toml(&accounts),
            "[[accounts]]\nname = \"a \\\"quoted\\\" name\"\nvendor = \"deepseek\"\nbase_url = \"http://127.0.0.1:1/deepseek\"\napi_key = \"sk-1\"\n\n\
             [[accounts]]\nname = \"iot\"\nvendor = \"eiotclub\"\nbase_url = \"http://127.0.0.1:1/eiotclub\"\nappkey = \"app\"\nsecret = \"s\\\\x\"\n\n"
        );
    }
}
