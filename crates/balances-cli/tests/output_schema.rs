//! `--format json` output has a checked-in JSON Schema (`output.schema.json`, printed by
//! `balances schema`), and real output, success and error rows alike, validates against it
//! and, per balance, against the facade's `balance.schema.json`.

mod common;

use common::balances;
use std::path::Path;

use serde_json::Value;

fn read_json(path: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

#[test]
fn the_checked_in_schema_is_what_the_command_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = balances(dir.path()).arg("schema").output().expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        printed,
        read_json("output.schema.json"),
        "output.schema.json is stale: run `balances schema > crates/balances-cli/output.schema.json` and review the diff"
    );
}

#[test]
fn real_output_validates_against_both_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = balances(dir.path())
        .args(["--demo", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let rows: Value = serde_json::from_slice(&output.stdout).expect("JSON");

    let outcome = jsonschema::validator_for(&read_json("output.schema.json")).expect("schema");
    let errors: Vec<String> = outcome.iter_errors(&rows).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");

    let balance =
        jsonschema::validator_for(&read_json("../balances/balance.schema.json")).expect("schema");
    let (mut balances, mut failures) = (0, 0);
    for row in rows.as_array().expect("an array") {
        if row["balance"].is_null() {
            failures += 1;
            assert!(row["error"]["kind"].is_string(), "{row}");
        } else {
            balances += 1;
            let errors: Vec<String> = balance
                .iter_errors(&row["balance"])
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{row}: {errors:?}");
        }
    }
    assert!(
        balances > 0 && failures > 0,
        "success and error rows both checked"
    );

    // The schemas can fail: a row without its account, or a balance with a float amount.
    let mut broken = rows.clone();
    broken[0].as_object_mut().expect("object").remove("account");
    assert!(!outcome.is_valid(&broken));
    let mut float = rows[0]["balance"].clone();
    float["amounts"][0]["total"] = Value::Bool(true);
    assert!(!balance.is_valid(&float));
}
