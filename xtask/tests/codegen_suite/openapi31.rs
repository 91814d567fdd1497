//! Seed 003, a third-party catalog's OpenAPI 3.1 description of DeepSeek's balance endpoint,
//! as a fixture: the pipeline handles it, and the test records why it is not what we ship.

use xtask::codegen::{generate_vendor, load, repair, validate};

use crate::support::{all_keys, write_vendor};

const CATALOG: &str = include_str!("../fixtures/openapi31_deepseek_catalog.yaml");

#[test]
fn the_31_catalog_spec_repairs_validates_and_generates() {
    // The steps one by one.
    let mut document = load::parse_document(CATALOG.as_bytes(), false).expect("parses");
    assert_eq!(document["openapi"], "3.1.0");
    let report = repair::repair(&mut document).expect("repairs");
    assert_eq!(report.pass_names(), ["downgrade_openapi_31_document"]);
    assert_eq!(document["openapi"], "3.0.3");
    let text = serde_json::to_string_pretty(&document).expect("prints");
    let openapi = validate::validate(&text).expect("validates as 3.0");
    assert_eq!(openapi.openapi, "3.0.3");

    // And the whole pipeline, as a vendor folder of its own.
    let temp = tempfile::tempdir().expect("temporary folder");
    write_vendor(temp.path(), "catalog", CATALOG, None);
    let generated = generate_vendor(temp.path(), "catalog").expect("generates");
    assert_eq!(generated.document["openapi"], "3.0.3");
    assert_eq!(
        generated.repairs.pass_names(),
        ["downgrade_openapi_31_document"]
    );
    let lib_rs = &generated
        .files
        .iter()
        .find(|f| f.relative.ends_with("src/lib.rs"))
        .expect("lib.rs planned")
        .contents;
    assert!(
        lib_rs.contains("pub fn get_user_balance(&self)"),
        "operationId getUserBalance becomes get_user_balance:\n{lib_rs}"
    );

    // Why it is not shipped: its balance row is {type, amount, currency}, while the official
    // reference (and the real API) answers {currency, total_balance, granted_balance,
    // topped_up_balance}. Decoding a real answer with it drops every amount.
    let item = &generated.document["paths"]["/user/balance"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["properties"]["balance_infos"]["items"];
    let properties: Vec<&str> = item["properties"]
        .as_object()
        .expect("item properties")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(properties, ["amount", "currency", "type"]);
    assert_eq!(item["properties"]["amount"]["type"], "number");
    assert!(
        all_keys(&generated.document)
            .iter()
            .all(|(_, key)| key != "total_balance"),
        "no total_balance anywhere"
    );
    assert!(
        lib_rs.contains("pub amount: ::std::option::Option<f64>,"),
        "{lib_rs}"
    );
    assert!(!lib_rs.contains("total_balance"));
    assert!(
        !lib_rs.contains("balances_runtime::ExactDecimal,"),
        "no money field is exact"
    );
}
