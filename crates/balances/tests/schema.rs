//! The JSON Schema of `Balance` is checked in at `crates/balances/balance.schema.json`, so any
//! change to the output format shows up in review. Its vendor list is the registry's, kept by
//! `cargo xtask codegen` (a new vendor folder changes it without a hand edit).
//!
//! After an intended change: `BALANCES_UPDATE_SCHEMA=1 cargo test -p balances --test schema`
//! rewrites the checked-in file; read the diff before committing.

use std::path::Path;

fn generated() -> String {
    let schema = balances::balance_schema();
    let mut text = serde_json::to_string_pretty(&schema).expect("schema serializes");
    text.push('\n');
    text
}

#[test]
fn checked_in_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("balance.schema.json");
    let generated = generated();
    if std::env::var_os("BALANCES_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write balance.schema.json");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is stale; rerun with BALANCES_UPDATE_SCHEMA=1 and review the diff.\n--- generated ---\n{generated}",
        path.display()
    );
}

#[test]
fn schema_describes_amounts_as_decimal_strings() {
    let schema = serde_json::to_value(balances::balance_schema()).expect("serializes");
    let total = &schema["$defs"]["Amount"]["properties"]["total"];
    assert_eq!(total["type"], "string");
    assert_eq!(total["pattern"], r"^-?\d+(\.\d+)?$");
    assert_eq!(
        schema["required"],
        serde_json::json!(["account", "vendor", "available", "amounts"])
    );
    assert_eq!(schema["properties"]["vendor"]["$ref"], "#/$defs/Vendor");
    // Every vendor of the registry, and nothing else.
    let vendors: Vec<_> = schema["$defs"]["Vendor"]["enum"]
        .as_array()
        .expect("the vendors' ids")
        .iter()
        .map(|v| v.as_str().unwrap_or_default())
        .collect();
    let registered: Vec<_> = balances::Vendor::all().map(|v| v.as_str()).collect();
    assert_eq!(vendors, registered);
    assert!(vendors.contains(&"deepseek"), "{vendors:?}");
    // Units that are not money are their own list, left out when empty.
    let unit = &schema["$defs"]["UnitAmount"]["properties"];
    assert_eq!(unit["total"]["type"], "string");
    assert!(unit["currency"].is_null(), "a unit amount has no currency");
}
