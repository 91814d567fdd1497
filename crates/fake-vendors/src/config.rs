//! Renders accounts as a `balances` config file, so the command, its tests and the benchmarks
//! point the real facade at this server through the same documented file format users write.

use std::fmt::Write as _;

use crate::AccountInfo;

/// A TOML config (the `balances` `[[accounts]]` format) holding `accounts`, in order: per
/// account `name`, `vendor`, `base_url` (pointing at this server), `region` for a vendor with
/// regions, then each credential inline under its field name (`api_key = ...`, or
/// `appkey = ...` and `secret = ...`).
pub fn config_toml(accounts: &[AccountInfo]) -> String {
    let mut text = String::new();
    for info in accounts {
        let _ = writeln!(text, "[[accounts]]");
        let _ = writeln!(text, "name = {}", quoted(&info.name));
        let _ = writeln!(text, "vendor = {}", quoted(&info.vendor));
        let _ = writeln!(text, "base_url = {}", quoted(&info.base_url));
        if let Some(region) = &info.region {
            let _ = writeln!(text, "region = {}", quoted(region));
        }
        for (field, value) in &info.credentials {
            let _ = writeln!(text, "{field} = {}", quoted(value));
        }
        // The vendor's account parameters (xAI's `team_id`): any value reaches the account's
        // route, which matches a path parameter by position.
        let parameters = balances_registry::find(&info.vendor)
            .map(|vendor| vendor.description.account_parameters.as_slice())
            .unwrap_or_default();
        for parameter in parameters {
            let _ = writeln!(
                text,
                "{parameter} = {}",
                quoted(&format!("{}-{parameter}", info.name))
            );
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

    fn info(vendor: &str, region: Option<&str>, credentials: &[(&str, &str)]) -> AccountInfo {
        AccountInfo {
            name: format!("a \"quoted\" {vendor}"),
            vendor: vendor.into(),
            region: region.map(str::to_owned),
            credentials: credentials
                .iter()
                .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
                .collect(),
            base_url: format!("http://127.0.0.1:1/{vendor}"),
            note: "not written".into(),
        }
    }

    #[test]
    fn renders_one_table_per_account_with_escaped_strings() {
        let accounts = [
            info("v1", None, &[("api_key", "sk-1")]),
            info(
                "v2",
                Some("global"),
                &[("appkey", "app"), ("secret", "s\\x")],
            ),
        ];
        assert_eq!(
            config_toml(&accounts),
            "[[accounts]]\nname = \"a \\\"quoted\\\" v1\"\nvendor = \"v1\"\nbase_url = \"http://127.0.0.1:1/v1\"\napi_key = \"sk-1\"\n\n\
             [[accounts]]\nname = \"a \\\"quoted\\\" v2\"\nvendor = \"v2\"\nbase_url = \"http://127.0.0.1:1/v2\"\nregion = \"global\"\nappkey = \"app\"\nsecret = \"s\\\\x\"\n\n"
        );
    }
}
