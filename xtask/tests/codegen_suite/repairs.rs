//! Which generic repair passes each vendored spec needs, and proof that the defects they exist
//! for are gone: from the repaired document alone (the passes' job, not the overlay's) and from
//! the final document given to progenitor.

use serde_json::Value;
use xtask::codegen::{generate_vendor, load, repair};

use crate::support::{all_keys, all_strings, vendors, workspace_root};

/// The upstream document of `vendor` after the repair passes only, with their report.
fn repaired(vendor: &str) -> (Value, repair::RepairReport) {
    let spec = load::load_vendor(&workspace_root().join("specs"), vendor)
        .unwrap_or_else(|e| panic!("load {vendor}: {e}"));
    let mut document = spec.document;
    let report = repair::repair(&mut document).unwrap_or_else(|e| panic!("repair {vendor}: {e:?}"));
    (document, report)
}

/// The document given to progenitor (repairs and overlay applied).
fn final_document(vendor: &str) -> Value {
    generate_vendor(&workspace_root(), vendor)
        .unwrap_or_else(|e| panic!("codegen {vendor}: {e}"))
        .document
}

#[track_caller]
fn assert_passes(vendor: &str, expected: &[(&str, usize)]) {
    let (_, report) = repaired(vendor);
    let names: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    assert_eq!(report.pass_names(), names, "repair passes {vendor} needs");
    assert_eq!(
        report.applied, expected,
        "places each pass changed in {vendor}"
    );
    let through_pipeline = generate_vendor(&workspace_root(), vendor)
        .unwrap_or_else(|e| panic!("codegen {vendor}: {e}"))
        .repairs;
    assert_eq!(through_pipeline, report, "generate_vendor reports the same");
}

#[test]
fn deepseek_needs_the_apifox_passes_and_a_derived_operation_id() {
    assert_passes(
        "deepseek",
        &[
            // 5 x-apifox-* keys on schemas/operations, x-run-in-apifox, and the x-apifox key
            // inside the top-level security requirement.
            ("strip_exporter_extensions", 7),
            // securitySchemes.bearer has `type: bearer`.
            ("bearer_security_scheme_type", 1),
            // GET /user/balance has no operationId (the overlay then publishes getUserBalance).
            ("missing_or_duplicate_operation_ids", 1),
        ],
    );
}

#[test]
fn geekai_needs_the_31_downgrade_the_uuid_removal_and_one_error_body() {
    assert_passes(
        "geekai",
        &[
            ("downgrade_openapi_31_document", 1),
            // The shared UuidParam on /credit/balance, which has no {uuid}.
            ("path_parameters_not_in_template", 1),
            // 401 (Unauthorized) and 500 (StandardError) bodies differ: merged, then both
            // responses point at the merged body.
            ("differing_response_bodies", 2),
        ],
    );
}

#[test]
fn eiotclub_needs_the_apifox_passes_and_a_derived_operation_id() {
    assert_passes(
        "eiotclub",
        &[
            ("strip_exporter_extensions", 7),
            // The request body schema's `title: ''` (it would be named `X`).
            ("empty_titles", 1),
            // appkey's `default: '{{APPKEY}}'`.
            ("placeholder_defaults", 1),
            // POST /api/v3/agent/balance has no operationId.
            ("missing_or_duplicate_operation_ids", 1),
        ],
    );
}

#[test]
fn venice_needs_its_closed_response_opened() {
    // Through the pipeline: `source.toml` selects the balance operation before the repairs
    // (the whole spec needs more passes).
    let generated = generate_vendor(&workspace_root(), "venice")
        .unwrap_or_else(|e| panic!("codegen venice: {e}"));
    assert_eq!(
        generated.repairs.applied,
        [
            // The balance response is `additionalProperties: false`.
            ("closed_response_objects", 1),
            // Its `consumptionCurrency` is a closed enum of four currencies.
            ("closed_response_enums", 1),
        ]
    );
    let response = &generated.document["paths"]["/billing/balance"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert!(response.get("additionalProperties").is_none(), "{response}");
    let currency = &response["properties"]["consumptionCurrency"];
    assert!(currency.get("enum").is_none(), "{currency}");
    assert!(
        currency["description"]
            .as_str()
            .is_some_and(|d| d.ends_with("Known values: `USD`, `VCU`, `DIEM`, `BUNDLED_CREDITS`.")),
        "{currency}"
    );
    let lib_rs = &generated
        .files
        .iter()
        .find(|f| f.relative.ends_with("src/lib.rs"))
        .expect("lib.rs")
        .contents;
    assert!(!lib_rs.contains("deny_unknown_fields"), "{lib_rs}");
    assert!(
        lib_rs.contains("pub consumption_currency: ::std::option::Option<::std::string::String>,"),
        "{lib_rs}"
    );
}

/// Every `parameters` entry (resolved through `#/components/parameters`) of every path item and
/// operation, as (path template, parameter).
fn operation_parameters(doc: &Value) -> Vec<(String, Value)> {
    let shared = doc.pointer("/components/parameters");
    let resolve = |parameter: &Value| -> Value {
        match parameter.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference
                    .strip_prefix("#/components/parameters/")
                    .unwrap_or_else(|| panic!("unexpected parameter $ref {reference}"));
                shared
                    .and_then(|shared| shared.get(name))
                    .cloned()
                    .unwrap_or_else(|| panic!("dangling $ref {reference}"))
            }
            None => parameter.clone(),
        }
    };
    let mut found = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths").iter() {
        let item = item.as_object().expect("path item");
        let mut lists = vec![item.get("parameters")];
        lists.extend(item.values().map(|operation| operation.get("parameters")));
        for parameter in lists
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
        {
            found.push((template.clone(), resolve(parameter)));
        }
    }
    found
}

/// The defects the passes exist for, checked on a document.
#[track_caller]
fn assert_defects_gone(vendor: &str, doc: &Value, stage: &str) {
    let keys = all_keys(doc);
    let apifox: Vec<_> = keys
        .iter()
        .filter(|(_, key)| key.starts_with("x-apifox") || key.starts_with("x-run-in-apifox"))
        .collect();
    assert!(
        apifox.is_empty(),
        "{vendor} {stage}: exporter keys left: {apifox:?}"
    );

    let schemes = doc
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    for (name, scheme) in schemes.into_iter().flatten() {
        let kind = scheme["type"].as_str().unwrap_or_default();
        assert!(
            ["http", "apiKey", "oauth2", "openIdConnect"].contains(&kind),
            "{vendor} {stage}: security scheme {name} has type {kind:?}"
        );
    }

    let empty_titles: Vec<_> = all_strings(doc)
        .into_iter()
        .filter(|(at, title)| {
            at.ends_with("/title") && !at.contains("/properties/title") && title.trim().is_empty()
        })
        // info.title is not a schema title; the overlay sets it (checked on the final document).
        .filter(|(at, _)| stage == "final" || at != "/info/title")
        .collect();
    assert!(
        empty_titles.is_empty(),
        "{vendor} {stage}: empty titles at {empty_titles:?}"
    );

    let placeholders: Vec<_> = all_strings(doc)
        .into_iter()
        .filter(|(at, value)| at.ends_with("/default") && value.contains("{{"))
        .collect();
    assert!(
        placeholders.is_empty(),
        "{vendor} {stage}: placeholder defaults {placeholders:?}"
    );

    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3.0."),
        "{vendor} {stage}: openapi {version:?}"
    );

    for (template, parameter) in operation_parameters(doc) {
        if parameter["in"] == "path" {
            let name = parameter["name"].as_str().unwrap_or_default();
            assert!(
                template.contains(&format!("{{{name}}}")),
                "{vendor} {stage}: path parameter {name:?} is not in {template}"
            );
        }
    }
}

#[test]
fn defects_are_gone_after_the_repairs_alone_and_from_the_final_document() {
    for vendor in vendors() {
        let vendor = vendor.as_str();
        let (repaired, _) = repaired(vendor);
        assert_defects_gone(vendor, &repaired, "repaired");
        assert_defects_gone(vendor, &final_document(vendor), "final");
    }
}

#[test]
fn geekai_is_served_to_progenitor_as_303_without_the_uuid_parameter() {
    let (repaired, _) = repaired("geekai");
    assert_eq!(repaired["openapi"], "3.0.3");
    let doc = final_document("geekai");
    assert_eq!(doc["openapi"], "3.0.3");
    let parameters = operation_parameters(&doc);
    assert!(
        parameters.iter().all(|(_, p)| p["name"] != "uuid"),
        "{parameters:?}"
    );
    // No operation or path item still references the shared parameter. (The unused
    // `components.parameters.UuidParam` definition itself is left in place; progenitor ignores
    // parameters nothing references.)
    let references: Vec<_> = all_strings(&doc)
        .into_iter()
        .filter(|(at, value)| at.ends_with("/$ref") && value.ends_with("/UuidParam"))
        .collect();
    assert!(references.is_empty(), "{references:?}");
}

#[test]
fn the_apifox_specs_lose_their_exporter_quirks() {
    let (deepseek, _) = repaired("deepseek");
    assert_eq!(
        deepseek["components"]["securitySchemes"]["bearer"],
        serde_json::json!({"type": "http", "scheme": "bearer"})
    );
    assert_eq!(
        deepseek["security"],
        serde_json::json!([{"bearer": []}]),
        "the x-apifox key inside the security requirement is gone"
    );
    assert_eq!(
        deepseek["paths"]["/user/balance"]["get"]["operationId"],
        "get_user_balance"
    );

    let (eiotclub, _) = repaired("eiotclub");
    let body = &eiotclub["paths"]["/api/v3/agent/balance"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert!(body.get("title").is_none(), "{body}");
    assert!(
        body["properties"]["appkey"].get("default").is_none(),
        "{body}"
    );
    assert_eq!(
        final_document("eiotclub")["info"]["title"],
        "EIOTClub API",
        "the overlay names the API"
    );
    assert_eq!(final_document("deepseek")["info"]["title"], "DeepSeek API");
}
