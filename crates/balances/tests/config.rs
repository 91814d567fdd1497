//! Configuration files: many accounts across vendors, fetched together; every kind of
//! mistake reported as a typed error naming the account and the field.

mod common;

use std::collections::HashMap;

#[path = "support/accounts.rs"]
mod accounts;

use accounts::vendor;

use balances::{Config, ConfigError, Vendor};
use common::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse_err(text: &str) -> ConfigError {
    Config::from_toml_str(text, env(&[("SET", "value")])).expect_err("config must be rejected")
}

#[tokio::test]
async fn ten_accounts_across_three_vendors() {
    let server = MockServer::start().await;
    for n in 0..4 {
        Mock::given(method("GET"))
            .and(path("/user/balance"))
            .and(header("authorization", format!("Bearer ds-key-{n}").as_str()))
            .respond_with(json(
                200,
                &format!(
                    r#"{{"is_available":true,"balance_infos":[{{"currency":"CNY","total_balance":"{n}.00","granted_balance":"0.00","topped_up_balance":"{n}.00"}}]}}"#
                ),
            ))
            .expect(1)
            .mount(&server)
            .await;
    }
    for n in 0..3 {
        Mock::given(method("GET"))
            .and(path("/geekai/credit/balance"))
            .and(header(
                "authorization",
                format!("Bearer gk-key-{n}").as_str(),
            ))
            .respond_with(json(200, &format!(r#"{{"balance": {}}}"#, n * 100)))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/api/v3/agent/balance"))
        .respond_with(json(200, EIOTCLUB_EXAMPLE))
        .expect(3)
        .mount(&server)
        .await;

    let base = server.uri();
    let mut text = String::new();
    for n in 0..4 {
        // Half the keys inline, half through variables.
        let key = if n % 2 == 0 {
            format!("api_key = \"ds-key-{n}\"")
        } else {
            format!("api_key_env = \"DS_KEY_{n}\"")
        };
        text.push_str(&format!(
            "[[accounts]]\nname = \"ds-{n}\"\nvendor = \"deepseek\"\n{key}\nbase_url = \"{base}\"\n\n"
        ));
    }
    for n in 0..3 {
        text.push_str(&format!(
            "[[accounts]]\nname = \"gk-{n}\"\nvendor = \"geekai\"\napi_key = \"gk-key-{n}\"\nregion = \"global\"\nbase_url = \"{base}/geekai\"\n\n"
        ));
    }
    for n in 0..3 {
        text.push_str(&format!(
            "[[accounts]]\nname = \"iot-{n}\"\nvendor = \"eiotclub\"\nappkey = \"app-{n}\"\nsecret_env = \"IOT_SECRET\"\nbase_url = \"{base}\"\n\n"
        ));
    }
    let config = Config::from_toml_str(
        &text,
        env(&[
            ("DS_KEY_1", "ds-key-1"),
            ("DS_KEY_3", "ds-key-3"),
            ("IOT_SECRET", "shared-secret"),
        ]),
    )
    .expect("valid config");
    assert_eq!(config.accounts().len(), 10);
    assert_eq!(config.accounts()[4].region(), Some("global"));

    let results = client(1).fetch_all(config.accounts()).await;
    let summary: Vec<(String, Vendor, String)> = results
        .into_iter()
        .map(|r| {
            let b = r.expect("every account succeeds");
            (
                b.account().to_owned(),
                b.vendor(),
                b.amounts()[0].total.to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, Vendor, String)> = [
        ("ds-0", vendor("deepseek"), "0.00"),
        ("ds-1", vendor("deepseek"), "1.00"),
        ("ds-2", vendor("deepseek"), "2.00"),
        ("ds-3", vendor("deepseek"), "3.00"),
        ("gk-0", vendor("geekai"), "0.00"),
        ("gk-1", vendor("geekai"), "1.00"),
        ("gk-2", vendor("geekai"), "2.00"),
        ("iot-0", vendor("eiotclub"), "0.00"),
        ("iot-1", vendor("eiotclub"), "0.00"),
        ("iot-2", vendor("eiotclub"), "0.00"),
    ]
    .into_iter()
    .map(|(a, v, t)| (a.to_owned(), v, t.to_owned()))
    .collect();
    assert_eq!(summary, expected);
    server.verify().await;
}

#[test]
fn the_documented_example_parses() {
    let text = r#"
        [[accounts]]
        name = "work"                 # unique, used in output
        vendor = "deepseek"           # deepseek | geekai | eiotclub
        api_key_env = "WORK_DS_KEY"   # or api_key = "..." in the file
        # base_url = "https://..."    # optional: mirrors, proxies, tests (may carry a path)

        [[accounts]]
        name = "overseas"
        vendor = "geekai"
        api_key = "gk-inline"
        region = "global"

        [[accounts]]
        name = "iot"
        vendor = "eiotclub"
        appkey = "000001"             # or appkey_env
        secret_env = "IOT_SECRET"     # or secret
    "#;
    let config = Config::from_toml_str(text, env(&[("WORK_DS_KEY", "sk-1"), ("IOT_SECRET", "s")]))
        .expect("valid");
    let accounts: Vec<_> = config
        .accounts()
        .iter()
        .map(|a| (a.name(), a.vendor(), a.effective_base_url()))
        .collect();
    assert_eq!(
        accounts,
        [
            (
                "work",
                vendor("deepseek"),
                "https://api.deepseek.com".to_owned()
            ),
            (
                "overseas",
                vendor("geekai"),
                "https://geekai.dev/api".to_owned()
            ),
            (
                "iot",
                vendor("eiotclub"),
                "https://oapi.eiotclub.com".to_owned()
            ),
        ]
    );
}

#[test]
fn from_path_reads_a_file_and_reports_a_missing_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("accounts.toml");
    std::fs::write(
        &file,
        "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key_env = \"A_KEY\"\n",
    )
    .expect("write");
    let config = Config::from_path_with(&file, env(&[("A_KEY", "k")])).expect("valid");
    assert_eq!(config.accounts()[0].name(), "a");

    let missing = dir.path().join("nope.toml");
    match Config::from_path(&missing) {
        Err(ConfigError::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn unknown_vendor() {
    assert_variant!(
        parse_err("[[accounts]]\nname = \"a\"\nvendor = \"nosuchvendor\"\napi_key = \"k\"\n"),
        ConfigError::UnknownVendor {
            account: String::from("a"),
            value: String::from("nosuchvendor")
        }
    );
}

#[test]
fn missing_key() {
    let error = parse_err("[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\n");
    assert_variant!(
        error,
        ConfigError::MissingCredential {
            account: String::from("a"),
            field: String::from("api_key"),
            env_field: String::from("api_key_env")
        }
    );
    assert_eq!(
        error.to_string(),
        "account a: missing `api_key` (or `api_key_env` naming an environment variable)"
    );
    assert_variant!(
        parse_err("[[accounts]]\nname = \"a\"\nvendor = \"eiotclub\"\nappkey = \"x\"\n"),
        ConfigError::MissingCredential {
            account: String::from("a"),
            field: String::from("secret"),
            env_field: String::from("secret_env")
        }
    );
}

#[test]
fn both_key_and_key_env() {
    assert_variant!(
        parse_err(
            "[[accounts]]\nname = \"a\"\nvendor = \"geekai\"\napi_key = \"k\"\napi_key_env = \"SET\"\n"
        ),
        ConfigError::Conflicting {
            account: String::from("a"),
            field: String::from("api_key"),
            env_field: String::from("api_key_env")
        }
    );
}

#[test]
fn unset_or_empty_env_var() {
    let text = "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key_env = \"NOT_SET\"\n";
    for lookup in [env(&[]), env(&[("NOT_SET", "")])] {
        assert_variant!(
            Config::from_toml_str(text, lookup).expect_err("unset or empty"),
            ConfigError::UnsetEnv {
                account: String::from("a"),
                field: String::from("api_key_env"),
                variable: String::from("NOT_SET"),
            }
        );
    }
}

#[test]
fn duplicate_account_name() {
    let text = "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"k\"\n\
                [[accounts]]\nname = \"a\"\nvendor = \"geekai\"\napi_key = \"k\"\n";
    assert_variant!(
        parse_err(text),
        ConfigError::DuplicateName {
            account: String::from("a")
        }
    );
}

#[test]
fn malformed_and_non_https_urls() {
    let with_url = |url: &str| {
        parse_err(&format!(
            "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"k\"\nbase_url = \"{url}\"\n"
        ))
    };
    for (url, reason) in [
        ("not a url", "not a valid URL"),
        ("http://api.example.com", "must use https://"),
        ("http://192.168.1.10:8080", "must use https://"),
        ("https://user:hunter2@api.example.com", "user info"),
    ] {
        match with_url(url) {
            ConfigError::InvalidBaseUrl {
                account, reason: r, ..
            } => {
                assert_eq!(account, "a");
                assert!(r.contains(reason), "{url}: {r}");
                assert!(!r.contains("hunter2"));
            }
            other => panic!("{url}: expected InvalidBaseUrl, got {other:?}"),
        }
    }
    // Loopback may be plain http.
    for url in [
        "http://127.0.0.1:9",
        "http://localhost:9/x",
        "http://[::1]:9",
    ] {
        let text = format!(
            "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"k\"\nbase_url = \"{url}\"\n"
        );
        assert!(Config::from_toml_str(&text, no_env).is_ok(), "{url}");
    }
}

#[test]
fn region_on_a_non_geekai_account() {
    assert_variant!(
        parse_err(
            "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"k\"\nregion = \"global\"\n"
        ),
        ConfigError::FieldNotAllowed {
            account: String::from("a"),
            field: String::from("region"),
            vendor: vendor("deepseek")
        }
    );
    assert_variant!(
        parse_err(
            "[[accounts]]\nname = \"a\"\nvendor = \"geekai\"\napi_key = \"k\"\nregion = \"mars\"\n"
        ),
        ConfigError::UnknownRegion {
            account: String::from("a"),
            value: String::from("mars")
        }
    );
}

#[test]
fn credential_fields_of_another_vendor() {
    assert_variant!(
        parse_err("[[accounts]]\nname = \"a\"\nvendor = \"eiotclub\"\napi_key = \"k\"\n"),
        ConfigError::FieldNotAllowed {
            account: String::from("a"),
            field: String::from("api_key"),
            vendor: vendor("eiotclub")
        }
    );
    assert_variant!(
        parse_err("[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\nsecret = \"s\"\n"),
        ConfigError::FieldNotAllowed {
            account: String::from("a"),
            field: String::from("secret"),
            vendor: vendor("deepseek")
        }
    );
}

#[test]
fn unknown_field() {
    assert_variant!(
        parse_err("[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_kye = \"k\"\n"),
        ConfigError::UnknownField {
            account: String::from("a"),
            field: String::from("api_kye")
        }
    );
}

#[test]
fn account_without_a_name_is_named_by_position() {
    let text = "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"k\"\n\
                [[accounts]]\nvendor = \"deepseek\"\napi_key = \"k\"\n";
    assert_variant!(
        parse_err(text),
        ConfigError::MissingField {
            account: String::from("accounts[1]"),
            field: String::from("name")
        }
    );
}

#[test]
fn wrong_type_is_reported_without_the_value() {
    let error =
        parse_err("[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = 123456789\n");
    assert_variant!(
        error,
        ConfigError::InvalidType {
            account: String::from("a"),
            field: String::from("api_key"),
            expected: String::from("a string")
        }
    );
    assert!(!error.to_string().contains("123456789"));
}

#[test]
fn empty_values() {
    assert_variant!(
        parse_err("[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"\"\n"),
        ConfigError::EmptyValue {
            account: String::from("a"),
            field: String::from("api_key")
        }
    );
}

#[test]
fn errors_name_account_and_field() {
    let error = parse_err(
        "[[accounts]]\nname = \"prod\"\nvendor = \"deepseek\"\napi_key = \"k\"\nregion = \"cn\"\n",
    );
    assert_eq!(error.account(), Some("prod"));
    assert_eq!(error.field(), Some("region"));
    assert_eq!(
        error.to_string(),
        "account prod: field `region` does not apply to deepseek accounts"
    );
}

/// `KEY=$(cat keyfile)` leaves a newline; a value from the environment is trimmed, and the
/// key on the wire is exactly the key (no leading space, no newline).
#[tokio::test]
async fn keys_from_the_environment_are_trimmed_before_they_are_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/balance"))
        .and(header("authorization", "Bearer sk-trimmed"))
        .respond_with(json(
            200,
            r#"{"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"1.00","granted_balance":"0.00","topped_up_balance":"1.00"}]}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let text = format!(
        "[[accounts]]\nname = \"work\"\nvendor = \"deepseek\"\napi_key_env = \"WORK_DS_KEY\"\nbase_url = \"{}\"\n",
        server.uri()
    );
    let config = Config::from_toml_str(&text, env(&[("WORK_DS_KEY", " sk-trimmed\n")]))
        .expect("a trailing newline is not an error");
    let client = balances::BalanceClient::builder().build().expect("client");
    client
        .fetch(&config.accounts()[0])
        .await
        .expect("the trimmed key is accepted");
}

#[test]
fn an_invalid_key_is_a_config_error_at_load_naming_the_field_the_user_wrote() {
    let file =
        "[[accounts]]\nname = \"work\"\nvendor = \"deepseek\"\napi_key_env = \"WORK_DS_KEY\"\n";
    for bad in ["sk-ключ", "sk in two", "sk-\u{1b}[2J"] {
        let error = Config::from_toml_str(file, env(&[("WORK_DS_KEY", bad)]))
            .expect_err("an invalid key must not load");
        let text = error.to_string();
        assert!(
            matches!(&error, ConfigError::InvalidCredential { account, field, variable, .. }
                if account == "work" && field == "api_key_env"
                    && variable.as_deref() == Some("WORK_DS_KEY")),
            "{error:?}"
        );
        assert!(!text.contains(bad) && !text.contains("sk-"), "{text}");
    }

    let inline = "[[accounts]]\nname = \"iot\"\nvendor = \"eiotclub\"\nappkey = \"app key\"\nsecret = \"s\"\n";
    let error = Config::from_toml_str(inline, no_env).expect_err("a space inside");
    assert_eq!(error.field(), Some("appkey"));
    assert!(!error.to_string().contains("app key"), "{error}");
}

#[test]
fn variables_read_without_a_file_follow_the_same_rule() {
    let accounts =
        balances::Account::from_env_with(env(&[("DEEPSEEK_API_KEY", "sk-ok\n")])).expect("trimmed");
    assert_eq!(accounts.len(), 1);

    let error = balances::Account::from_env_with(env(&[("GEEKAI_API_KEY", "gk-κλειδί")]))
        .expect_err("not ASCII");
    assert_eq!(error.field(), Some("GEEKAI_API_KEY"));
    assert_eq!(error.account(), Some("geekai"));
    assert!(!error.to_string().contains("κλειδί"), "{error}");
}

/// The helper the assertions above rely on fails on a wrong field value.
#[test]
#[should_panic(expected = "assertion `left == right` failed")]
fn assert_variant_fails_on_a_wrong_field() {
    assert_variant!(
        parse_err("[[accounts]]\nvendor = \"deepseek\"\napi_key = \"k\"\n"),
        ConfigError::MissingField {
            field: String::from("vendor"),
        }
    );
}
