//! Secrets stay secret: a canary key and secret never appear in `Debug`, `Display`, an
//! error, or anything logged at TRACE level (this crate's logs and its HTTP stack's).

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

#[path = "support/accounts.rs"]
mod accounts;

use accounts::{deepseek_account, eiotclub_account, geekai_account};

use balances::{Account, BalanceClient, Config, Error};
use common::*;
use tracing_subscriber::util::SubscriberInitExt;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const DS_CANARY: &str = "sk-CANARY-deepseek-7f3a9c";
const GK_CANARY: &str = "gk-CANARY-geekai-51be20";
const APPKEY_CANARY: &str = "APPKEY-CANARY-e4d1";
const SECRET_CANARY: &str = "SECRET-CANARY-88c2";
const CANARIES: [&str; 4] = [DS_CANARY, GK_CANARY, APPKEY_CANARY, SECRET_CANARY];

fn assert_clean(what: &str, text: &str) {
    for canary in CANARIES {
        assert!(!text.contains(canary), "{what} leaks {canary}:\n{text}");
    }
    // A partial leak is a leak too.
    assert!(
        !text.contains("CANARY"),
        "{what} leaks part of a canary:\n{text}"
    );
}

fn accounts(base: &str) -> Vec<Account> {
    vec![
        deepseek_account("ds", DS_CANARY)
            .with_base_url(base)
            .expect("url"),
        geekai_account("gk", GK_CANARY)
            .with_base_url(base)
            .expect("url"),
        eiotclub_account("iot", APPKEY_CANARY, SECRET_CANARY)
            .with_base_url(base)
            .expect("url"),
    ]
}

#[test]
fn debug_of_accounts_config_and_clients_is_redacted() {
    let accounts = accounts("http://127.0.0.1:1");
    for account in &accounts {
        assert_clean("Account Debug", &format!("{account:?} {account:#?}"));
    }
    let config = Config::from_accounts(accounts.clone()).expect("unique names");
    assert_clean("Config Debug", &format!("{config:?}"));

    let client = BalanceClient::new().expect("client");
    assert_clean("BalanceClient Debug", &format!("{client:?}"));
    for account in &accounts {
        let authorized = client.authorize(account).expect("authorized");
        assert_clean(
            "Authorized Debug",
            &format!("{authorized:?} {authorized:#?}"),
        );
        assert_clean("Signer Debug", &format!("{:?}", authorized.signer()));
    }
    let authorized = client.authorize(&accounts[0]).expect("deepseek");
    let ds = balances::vendors::deepseek::Client::new_with_client(
        authorized.base_url(),
        authorized.http_client().clone(),
        authorized.context(),
    );
    assert_clean("generated DeepSeek client Debug", &format!("{ds:?}"));
    // The redaction must not hide everything: the name is still useful.
    assert!(format!("{:?}", accounts[0]).contains("\"ds\""));
}

#[test]
fn config_errors_never_show_a_credential() {
    let cases = [
        format!(
            "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"{DS_CANARY}\"\napi_key_env = \"X\"\n"
        ),
        format!("[[accounts]]\nname = \"a\"\nvendor = \"nope\"\napi_key = \"{DS_CANARY}\"\n"),
        format!("[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"{DS_CANARY}\n"),
        format!("accounts = \"{DS_CANARY}\""),
        format!(
            "[[accounts]]\nname = \"a\"\nvendor = \"deepseek\"\napi_key = \"k\"\nbase_url = \"https://u:{DS_CANARY}@x.example\"\n"
        ),
        format!(
            "[[accounts]]\nname = \"a\"\nvendor = \"eiotclub\"\nappkey = \"{APPKEY_CANARY}\"\nsecret = [\"{SECRET_CANARY}\"]\n"
        ),
    ];
    for text in cases {
        let error = Config::from_toml_str(&text, |_| None).expect_err("invalid");
        assert_clean("ConfigError", &format!("{error} {error:?}"));
        let error = Error::from(error);
        assert_clean("Error", &format!("{error} {error:?}"));
    }
}

/// A vendor that echoes the credential it received (bearer key or appkey) everywhere it
/// can: in the error message, the error code, the body, and a response header.
struct Echo(u16);

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let bearer = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_start_matches("Bearer ").to_owned());
        let appkey = || {
            serde_json::from_slice::<serde_json::Value>(&request.body)
                .ok()
                .and_then(|b| b["appkey"].as_str().map(str::to_owned))
        };
        let key = bearer.or_else(appkey).unwrap_or_default();
        // A 2xx carrying the vendor's error body is that error, so the 200 round echoes the
        // key in a body of no known shape instead (the undecodable path).
        let body = if self.0 == 200 {
            format!(r#"{{"unexpected":"bad key {key}"}}"#)
        } else {
            format!(
                r#"{{"error":{{"message":"bad key {key}","type":"x","param":null,"code":"{key}"}},"code":"{key}","message":"bad key {key}"}}"#
            )
        };
        ResponseTemplate::new(self.0)
            .set_body_raw(body, "application/json")
            .insert_header("x-echo", key.as_str())
    }
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

// One thread, so the thread-local subscriber sees every event, the HTTP stack's included.
#[tokio::test(flavor = "current_thread")]
async fn canaries_never_reach_errors_or_trace_logs() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let _guard = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_env_filter(
            // Everything at TRACE except the mock server's own request dumps: wiremock
            // stands in for the vendor, and what the vendor receives is not our log.
            tracing_subscriber::EnvFilter::new("trace,wiremock=off"),
        )
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();

    let server = MockServer::start().await;
    // Per round: two GET accounts (DeepSeek, GeekAI) and one POST account (EIOTClub); the
    // 500 round is tried twice per account. Mocks are used up in mount order.
    for (status, gets, posts) in [(401, 2, 1), (500, 4, 2), (404, 2, 1), (200, 2, 1)] {
        for (verb, times) in [("GET", gets), ("POST", posts)] {
            Mock::given(method(verb))
                .respond_with(Echo(status))
                .up_to_n_times(times)
                .expect(times)
                .mount(&server)
                .await;
        }
    }

    let accounts = accounts(&server.uri());
    let client = client(2);
    let mut seen = Vec::new();
    // Four rounds: 401, 500 (retried), 404, 200 with an undecodable, echoing body.
    for _ in 0..4 {
        for result in client.fetch_all(&accounts).await {
            let error = result.expect_err("every answer here is an error");
            assert_clean("Error", &format!("{error} {error:?} {error:#?}"));
            seen.push(error.kind());
        }
    }
    // The rounds really produced different errors (so every path above was exercised).
    use balances::ErrorKind::*;
    for kind in [Authentication, Transient, Vendor, Undecodable] {
        assert!(seen.contains(&kind), "no {kind} error among {seen:?}");
    }

    let logs = buffer.text();
    assert!(
        logs.contains("sending request") && logs.contains("response received"),
        "the subscriber must have captured this crate's logs:\n{logs}"
    );
    assert!(
        logs.contains("hyper_util") || logs.contains("reqwest"),
        "the HTTP stack's logs must be captured too:\n{logs}"
    );
    assert_clean("TRACE logs", &logs);
}
