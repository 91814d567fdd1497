//! The conformance suite: every documented example of every vendor folder
//! (`specs/<vendor>/examples/*.toml`, compiled into `balances_registry`) goes through the
//! facade's decoder, and through the client against a local server that answers only the
//! request the description prescribes (method, path, the parameters the spec fixes, auth),
//! and must give exactly the result a person wrote down for it: the amounts with their scale
//! and sign, or the error's kind, code and message. A new folder's examples are picked up
//! without a line of Rust.
//!
//! The examples are read from the registry `cargo xtask codegen` compiled; each test first
//! checks that no file under `specs/` changed since (`support/registry_current.rs`), and
//! says to run codegen when one did.

use std::str::FromStr;

use balances::balances_registry::{Auth, Example, Expected, ExpectedError, VendorEntry, vendors};
use balances::{Balance, BalanceClient, Config, Error, RetryConfig, Vendor};
use fake_vendors::{AccountSeed, FakeVendors};
use wiremock::matchers::{
    body_partial_json, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[path = "support/expected_balance.rs"]
mod expected_balance;

use expected_balance::{same_balance, same_spend};

#[path = "support/registry_current.rs"]
mod registry_current;

use registry_current::assert_registry_is_current;

#[test]
fn every_vendor_folder_has_examples_and_each_gives_its_documented_result() {
    assert_registry_is_current();
    assert!(
        !vendors().is_empty(),
        "the registry is compiled by `cargo xtask codegen`"
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in vendors() {
        assert!(
            entry.examples.len() >= 2,
            "{}: a vendor folder documents at least a balance and an error",
            entry.id
        );
        let vendor = Vendor::from_str(&entry.id)
            .unwrap_or_else(|_| panic!("{}: the facade does not know this vendor", entry.id));
        for example in &entry.examples {
            checked += 1;
            if let Err(why) = conforms(vendor, example) {
                failures.push(format!(
                    "{}/examples/{}.toml: {why}",
                    entry.id, example.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{checked} examples, failing:\n{}",
        failures.join("\n")
    );
}

/// The suite's guard against a stale registry names what changed under `specs/` since
/// codegen ran, and the command to run: here on a copy of one vendor folder.
#[test]
fn a_folder_changed_since_codegen_is_named_with_the_command_to_run() {
    use registry_current::{changed_since_codegen, specs_dir, stale_registry_message};
    let entry = vendors()
        .iter()
        .find(|entry| entry.examples.len() >= 2)
        .expect("a vendor with examples");
    let id = entry.id.as_str();
    let temp = tempfile::tempdir().expect("temp dir");
    let specs = temp.path().join("specs");
    copy_dir(&specs_dir().join(id), &specs.join(id));
    let entries = std::slice::from_ref(entry);
    assert_eq!(
        changed_since_codegen(&specs, entries),
        Vec::<String>::new(),
        "a copy of the folder as it is"
    );

    let examples = specs.join(id).join("examples");
    let edited = format!("{}.toml", entry.examples[0].name);
    let removed = format!("{}.toml", entry.examples[1].name);
    let text = std::fs::read_to_string(examples.join(&edited)).expect("read example");
    std::fs::write(examples.join(&edited), text + "# edited after codegen\n").expect("write");
    std::fs::remove_file(examples.join(&removed)).expect("remove example");
    std::fs::write(examples.join("added.toml"), "description = \"new\"\n").expect("write");
    std::fs::write(examples.join(".added.toml.swp"), "an editor's").expect("write");
    std::fs::create_dir_all(specs.join("zz-added")).expect("create folder");
    std::fs::write(specs.join("zz-added/vendor.toml"), "name = \"Added\"\n").expect("write");
    let mut gone = entry.clone();
    gone.id = "zz-gone".to_owned();
    let entries = [entry.clone(), gone];

    let changes = changed_since_codegen(&specs, &entries);
    // Each change once, in whatever order the folder's files sort.
    let mut sorted = changes.clone();
    sorted.sort();
    let mut expected = [
        format!("specs/{id}/examples/added.toml is new"),
        format!("specs/{id}/examples/{edited} changed"),
        format!("specs/{id}/examples/{removed} was removed"),
        "specs/zz-added/ is new: the registry has no `zz-added`".to_owned(),
        "specs/zz-gone/ was removed, but the registry still has `zz-gone`".to_owned(),
    ];
    expected.sort();
    assert_eq!(sorted, expected);
    let message = stale_registry_message(&changes);
    assert!(
        message.contains("run `cargo xtask codegen`")
            && message.contains(&format!("\n  specs/{id}/examples/{edited} changed")),
        "{message}"
    );
}

/// A wrong `code` in an example is reported with the code the facade gave, or with why the
/// error has none (an example a registry compiled before codegen refused it may still have).
#[test]
fn a_code_mismatch_says_what_code_was_got_or_why_there_is_none() {
    assert_registry_is_current();
    let with_code = |kind: &str, code: &str| -> ExpectedError {
        serde_json::from_value(serde_json::json!({"kind": kind, "code": code}))
            .expect("an expected error")
    };
    let examples = vendors().iter().flat_map(|entry| {
        entry
            .examples
            .iter()
            .map(move |example| (Vendor::from_str(&entry.id).expect("compiled in"), example))
    });
    let (mut vendor_codes, mut without_codes) = (0, 0);
    for (vendor, example) in examples.filter(|(_, e)| e.region.is_none()) {
        let Expected::Error(expected) = &example.expected else {
            continue;
        };
        let error = balances::decode(vendor, "example", example.status, example.body.as_bytes())
            .expect_err("an error example");
        let message = same_error(&with_code(&expected.kind, "not-this-code"), &error)
            .expect_err("a code the error does not carry");
        match &error {
            Error::Vendor { code, .. } => {
                vendor_codes += 1;
                assert!(
                    message.starts_with(&format!(
                        "expected vendor code `not-this-code`, got code `{code}` ("
                    )),
                    "{message}"
                );
            }
            other => {
                without_codes += 1;
                assert!(
                    message.starts_with(&format!(
                        "expected vendor code `not-this-code`, but an error of kind `{}` keeps \
                         no code (only kind `vendor` does)",
                        other.kind().as_str()
                    )),
                    "{message}"
                );
            }
        }
    }
    assert!(vendor_codes > 0 && without_codes > 0, "both cases are seen");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// The same examples fetched through the client from a local server that answers only a
/// request sent as the description says: the operation's method and path, the parameters
/// its spec fixes, and the auth scheme's credentials (a bearer header, or a signed body
/// carrying the appkey). A request-signing scheme's request goes to the fake vendors, whose
/// own verifier of the scheme (written apart from the facade's signer) checks the signature
/// before the example is answered. Accounts come from a config file whose fields are the
/// scheme's credential fields, so nothing here names a vendor.
#[tokio::test(flavor = "multi_thread")]
async fn every_example_fetched_with_the_described_request_gives_the_same_result() {
    assert_registry_is_current();
    let client = BalanceClient::builder()
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let mut failures = Vec::new();
    let mut signed = 0;
    for entry in vendors() {
        for example in &entry.examples {
            if entry.description.auth.signs_requests() {
                signed += 1;
                if let Err(why) = fetched_from_the_fake_vendor(&client, entry, example).await {
                    failures.push(format!(
                        "{}/examples/{}.toml: {why}",
                        entry.id, example.name
                    ));
                }
                continue;
            }
            let server = MockServer::start().await;
            let answer = ResponseTemplate::new(example.status)
                .set_body_raw(example.body.clone(), "application/json");
            let mut expected_request =
                Mock::given(method(entry.method.as_str())).and(path(concrete_path(entry)));
            // A report in pages: the first request carries the period and no cursor; each
            // further response answers only the request carrying its own parameters.
            let pages = entry.description.balance.spend.as_ref();
            for (name, value) in &example.query {
                expected_request = expected_request.and(query_param(name.as_str(), value.as_str()));
            }
            if let Some(spend) = pages {
                expected_request =
                    expected_request.and(query_param_is_missing(spend.pages.parameter.as_str()));
            }
            for further in example.responses.iter().filter(|_| pages.is_some()) {
                let mut page =
                    Mock::given(method(entry.method.as_str())).and(path(concrete_path(entry)));
                for (name, value) in &further.query {
                    page = page.and(query_param(name.as_str(), value.as_str()));
                }
                page.respond_with(
                    ResponseTemplate::new(further.status)
                        .set_body_raw(further.body.clone(), "application/json"),
                )
                .expect(1)
                .mount(&server)
                .await;
            }
            let client = clocked(&client, example);
            for fixed in &entry.request.headers {
                expected_request =
                    expected_request.and(header(fixed.name.as_str(), fixed.value.as_str()));
            }
            for fixed in &entry.request.query {
                expected_request =
                    expected_request.and(query_param(fixed.name.as_str(), fixed.value.as_str()));
            }
            let expected_request = match &entry.description.auth {
                Auth::Bearer => {
                    expected_request.and(header("authorization", "Bearer cred-api_key"))
                }
                Auth::Header { header: name } => {
                    expected_request.and(header(name.as_str(), "cred-api_key"))
                }
                Auth::Authorization => {
                    expected_request.and(header("authorization", "cred-api_key"))
                }
                Auth::Prefixed { prefix } => expected_request.and(header(
                    "authorization",
                    format!("{prefix} cred-api_key").as_str(),
                )),
                Auth::EiotclubSignature => expected_request.and(body_partial_json(
                    serde_json::json!({"appkey": "cred-appkey"}),
                )),
                other => panic!("{}: a scheme this suite does not know: {other:?}", entry.id),
            };
            expected_request
                .respond_with(answer)
                .expect(1)
                .mount(&server)
                .await;
            // A balance of several operations: each further operation answers with the
            // example's response for it, once, when the balance operation succeeded.
            for (index, further) in entry.operations.iter().enumerate() {
                let Some(response) = example.responses.get(index) else {
                    continue;
                };
                let bearer = match &entry.description.auth {
                    Auth::Bearer => header("authorization", "Bearer cred-api_key"),
                    other => panic!("{}: further operations with {other:?}", entry.id),
                };
                Mock::given(method(further.method.as_str()))
                    .and(path(further.path.as_str()))
                    .and(bearer)
                    .respond_with(
                        ResponseTemplate::new(response.status)
                            .set_body_raw(response.body.clone(), "application/json"),
                    )
                    .expect(1)
                    .mount(&server)
                    .await;
            }
            let config = account_toml(entry, example, &server.uri());
            let account = Config::from_toml_str(&config, |_| None)
                .unwrap_or_else(|e| panic!("{}: {e}\n{config}", entry.id))
                .into_accounts()
                .remove(0);
            let result = client.fetch(&account).await;
            if let Err(why) = matches_expectation(example, result) {
                failures.push(format!(
                    "{}/examples/{}.toml: {why}",
                    entry.id, example.name
                ));
            }
            server.verify().await;
        }
    }
    assert!(
        vendors()
            .iter()
            .all(|e| !e.description.auth.signs_requests())
            || signed > 0,
        "the signing vendors' examples were fetched"
    );
    assert!(failures.is_empty(), "failing:\n{}", failures.join("\n"));
}

/// One example of a request-signing vendor, fetched from a fake vendor account that answers
/// it only when the scheme's signature, the method, the path and the fixed parameters are
/// right; exactly one request must reach it.
async fn fetched_from_the_fake_vendor(
    client: &BalanceClient,
    entry: &VendorEntry,
    example: &Example,
) -> Result<(), String> {
    let credentials: Vec<(&str, String)> = entry
        .description
        .auth
        .credential_fields()
        .iter()
        .map(|field| (*field, format!("cred-{field}")))
        .collect();
    let key = credentials[0].1.clone();
    let mut seed = AccountSeed::new(entry.id.as_str(), credentials).example(example.name.as_str());
    if let Some(region) = &example.region {
        seed = seed.region(region.as_str());
    }
    let server = FakeVendors::builder()
        .account(seed)
        .start()
        .await
        .map_err(|e| format!("fake vendors: {e}"))?;
    let info = server.accounts().remove(0);
    let config = account_toml(entry, example, &info.base_url);
    let account = Config::from_toml_str(&config, |_| None)
        .map_err(|e| format!("{e}\n{config}"))?
        .into_accounts()
        .remove(0);
    let result = client.fetch(&account).await;
    let control = server.account(&key);
    if control.requests() != 1 || control.refusals() != 0 {
        return Err(format!(
            "{} requests reached the account, {} refused (expected 1 and 0): {result:?}",
            control.requests(),
            control.refusals()
        ));
    }
    matches_expectation(example, result)
}

/// One account of `entry`'s vendor in config-file form, its credentials `cred-<field>`.
/// The balance path with each account parameter as [`account_toml`] gives it, so the mock
/// answers only a request that carries the account's values in its path.
fn concrete_path(entry: &VendorEntry) -> String {
    entry
        .description
        .account_parameters
        .iter()
        .fold(entry.path.clone(), |path, name| {
            path.replace(&format!("{{{name}}}"), &format!("param-{name}"))
        })
}

fn account_toml(entry: &VendorEntry, example: &Example, base_url: &str) -> String {
    let mut text = format!(
        "[[accounts]]\nname = \"example\"\nvendor = \"{}\"\nbase_url = \"{base_url}\"\n",
        entry.id
    );
    for field in entry.description.auth.credential_fields() {
        text.push_str(&format!("{field} = \"cred-{field}\"\n"));
    }
    for parameter in &entry.description.account_parameters {
        text.push_str(&format!("{parameter} = \"param-{parameter}\"\n"));
    }
    if let Some(region) = &example.region {
        text.push_str(&format!("region = \"{region}\"\n"));
    }
    if let Some(currency) = &example.currency {
        text.push_str(&format!("currency = \"{currency}\"\n"));
    }
    text
}

/// The example through the decoder alone, for an account in the example's region (the
/// region may choose the currency).
fn conforms(vendor: Vendor, example: &Example) -> Result<(), String> {
    if let Expected::Spend(expected) = &example.expected {
        // One body decoded alone: a report in one page gives the period's sums (read as
        // this month's); a first page that says more follow is refused, never summed.
        let result = balances::decode(vendor, "example", example.status, example.body.as_bytes());
        return match (example.responses.is_empty(), result) {
            (true, Ok(balance)) => same_spend(expected, &balance, false),
            (false, Err(Error::Undecodable { reason, .. })) if reason.contains("more pages") => {
                Ok(())
            }
            (_, other) => Err(format!("decoded alone: {other:?}")),
        };
    }
    let several = !example.responses.is_empty() || example.currency.is_some();
    let result = match &example.region {
        None if several => {
            let credentials = vendor.credential_fields().iter().map(|field| {
                (
                    *field,
                    balances::SecretString::from(format!("cred-{field}")),
                )
            });
            let mut account = balances::Account::from_credentials("example", vendor, credentials)
                .map_err(|e| e.to_string())?;
            if let Some(currency) = &example.currency {
                account = account.with_currency(currency).map_err(|e| e.to_string())?;
            }
            let mut responses = vec![(example.status, example.body.as_bytes())];
            responses.extend(
                example
                    .responses
                    .iter()
                    .map(|r| (r.status, r.body.as_bytes())),
            );
            balances::decode_responses(&account, &responses)
        }
        None => balances::decode(vendor, "example", example.status, example.body.as_bytes()),
        Some(region) => {
            let credentials = vendor.credential_fields().iter().map(|field| {
                (
                    *field,
                    balances::SecretString::from(format!("cred-{field}")),
                )
            });
            let account = balances::Account::from_credentials("example", vendor, credentials)
                .and_then(|account| account.with_region(region))
                .map_err(|e| e.to_string())?;
            balances::decode_response(&account, example.status, None, example.body.as_bytes())
        }
    };
    matches_expectation(example, result)
}

/// `client`, or for an example that says when it was fetched (a spend report), a client
/// whose clock reads that instant.
fn clocked(client: &BalanceClient, example: &Example) -> BalanceClient {
    let Some(now) = &example.now else {
        return client.clone();
    };
    let now = chrono::DateTime::parse_from_rfc3339(now)
        .expect("codegen checked `now`")
        .with_timezone(&chrono::Utc);
    BalanceClient::builder()
        .retry(RetryConfig::disabled())
        .clock(move || now)
        .build()
        .expect("client")
}

fn matches_expectation(example: &Example, result: Result<Balance, Error>) -> Result<(), String> {
    match (&example.expected, result) {
        (Expected::Balance(expected), Ok(balance)) => same_balance(expected, &balance),
        (Expected::Spend(expected), Ok(balance)) => same_spend(expected, &balance, true),
        (Expected::Spend(_), Err(error)) => Err(format!("expected spend, got: {error}")),
        (Expected::Error(expected), Err(error)) => same_error(expected, &error),
        (Expected::Balance(_), Err(error)) => Err(format!("expected a balance, got: {error}")),
        (Expected::Error(expected), Ok(balance)) => Err(format!(
            "expected a {} error, got a balance: {balance:?}",
            expected.kind
        )),
        (other, _) => Err(format!("an expectation this suite cannot check: {other:?}")),
    }
}

fn same_error(expected: &ExpectedError, error: &Error) -> Result<(), String> {
    if error.kind().as_str() != expected.kind {
        return Err(format!(
            "expected kind {}, got {} ({error})",
            expected.kind,
            error.kind().as_str()
        ));
    }
    if let Some(code) = &expected.code {
        match error {
            Error::Vendor { code: got, .. } if got == code => {}
            Error::Vendor { code: got, .. } => {
                return Err(format!(
                    "expected vendor code `{code}`, got code `{got}` ({error})"
                ));
            }
            // Codegen refuses such an example; a registry compiled before it was refused
            // still has one.
            other => {
                return Err(format!(
                    "expected vendor code `{code}`, but an error of kind `{}` keeps no code \
                     (only kind `vendor` does): remove `code` from the example, or check the \
                     text with `message_contains` ({other})",
                    other.kind().as_str()
                ));
            }
        }
    }
    if let Some(text) = &expected.message_contains
        && !error.to_string().contains(text.as_str())
    {
        return Err(format!("the message lacks {text:?}: {error}"));
    }
    // A refused key is told which key the vendor's balance endpoint wants (a management or
    // admin key at OpenRouter, ZenMux and Venice), when the description says.
    if let Error::Authentication { vendor, .. } = error
        && let Some(hint) = vendor.key_hint()
        && !error.to_string().contains(hint)
    {
        return Err(format!(
            "the message does not say which key is needed: {error}"
        ));
    }
    Ok(())
}

/// Generated response types tolerate what vendors add: every documented balance, with an
/// unknown member added to one object at a time (at every level of the body), and with every
/// member the vendor's spec closed as an enum set to a value the spec does not list, still
/// gives its documented result.
#[test]
fn every_balance_example_tolerates_unknown_members_and_enum_values() {
    assert_registry_is_current();
    let mut failures = Vec::new();
    let (mut variants, mut enum_variants) = (0, 0);
    for entry in vendors() {
        let vendor = Vendor::from_str(&entry.id).expect("compiled in");
        let enum_members = opened_enum_members(&entry.id);
        for example in &entry.examples {
            if !matches!(example.expected, Expected::Balance(_)) {
                continue;
            }
            let body: serde_json::Value =
                serde_json::from_str(&example.body).expect("a balance example is JSON");
            let mut bodies = with_an_unknown_member_at_each_object(&body);
            let mut renamed = body.clone();
            if set_enum_members(&mut renamed, &enum_members) {
                enum_variants += 1;
                bodies.push(renamed);
            }
            for changed in bodies {
                variants += 1;
                let mut changed_example = example.clone();
                changed_example.body = changed.to_string();
                if let Err(why) = conforms(vendor, &changed_example) {
                    failures.push(format!(
                        "{}/examples/{}.toml with {changed}: {why}",
                        entry.id, example.name
                    ));
                }
            }
        }
    }
    // Every balance example has at least its root object; Venice's `consumptionCurrency`
    // was a closed enum in its spec.
    assert!(variants >= 30, "only {variants} variants");
    assert!(
        enum_variants > 0,
        "no example has a member that was a closed enum"
    );
    assert!(failures.is_empty(), "failing:\n{}", failures.join("\n"));
}

/// The body once per object in it, that object given a member no spec documents.
fn with_an_unknown_member_at_each_object(body: &serde_json::Value) -> Vec<serde_json::Value> {
    fn objects(value: &serde_json::Value, at: String, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(members) => {
                found.push(at.clone());
                for (key, member) in members {
                    objects(
                        member,
                        format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                        found,
                    );
                }
            }
            serde_json::Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    objects(item, format!("{at}/{index}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    objects(body, String::new(), &mut found);
    found
        .iter()
        .map(|pointer| {
            let mut changed = body.clone();
            if let Some(serde_json::Value::Object(members)) = changed.pointer_mut(pointer) {
                members.insert(
                    "x_added_by_the_vendor_later".into(),
                    serde_json::json!({"nested": [1, "two", true, null]}),
                );
            }
            changed
        })
        .collect()
}

/// The members whose schema the codegen opened from a closed response enum (their generated
/// description lists the known values), read from the document progenitor was given.
fn opened_enum_members(vendor: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(format!("{vendor}-client"))
        .join("openapi.json");
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("openapi.json")).expect("JSON");
    fn walk(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(members) => {
                if let Some(serde_json::Value::Object(properties)) = members.get("properties") {
                    for (name, schema) in properties {
                        if schema
                            .get("description")
                            .and_then(serde_json::Value::as_str)
                            .is_some_and(|d| d.contains("Known values:"))
                        {
                            found.push(name.clone());
                        }
                    }
                }
                members.values().for_each(|member| walk(member, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&document, &mut found);
    found
}

/// Sets every string member named in `names` to a value no spec lists; whether any was set.
fn set_enum_members(value: &mut serde_json::Value, names: &[String]) -> bool {
    let mut changed = false;
    match value {
        serde_json::Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if names.contains(key) && member.is_string() {
                    *member = "A_VALUE_THE_SPEC_DOES_NOT_LIST".into();
                    changed = true;
                } else {
                    changed |= set_enum_members(member, names);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                changed |= set_enum_members(item, names);
            }
        }
        _ => {}
    }
    changed
}
