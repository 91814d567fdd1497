//! Account parameters (a description's `account_parameters`: xAI's `team_id`): config fields
//! and `<PREFIX>_<NAME>` variables like credentials, never redacted, sent in the path; a
//! missing one is a config error naming the field and the variable.

use balances::{Account, BalanceClient, ConfigError, Error, RetryConfig, Vendor};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn xai() -> Vendor {
    Vendor::find("xai").expect("xai is in the registry")
}

fn config(text: &str, env: &[(&str, &str)]) -> Result<Vec<Account>, ConfigError> {
    balances::Config::from_toml_str(text, |name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .map(balances::Config::into_accounts)
}

#[test]
fn the_vendor_lists_its_parameters_and_others_have_none() {
    assert_eq!(xai().account_parameters().collect::<Vec<_>>(), ["team_id"]);
    let deepseek = Vendor::find("deepseek").expect("deepseek");
    assert_eq!(deepseek.account_parameters().len(), 0);
    let variables = balances::env::credential_variables();
    let (_, xai_variables) = variables
        .iter()
        .find(|(id, _)| *id == "xai")
        .expect("xai's variables");
    assert_eq!(xai_variables, &["XAI_API_KEY", "XAI_TEAM_ID"]);
}

#[test]
fn a_parameter_is_read_inline_or_from_a_variable_and_is_not_redacted() {
    let inline = config(
        "[[accounts]]\nname = \"x\"\nvendor = \"xai\"\napi_key = \"xai-secret-key\"\nteam_id = \"team-123\"\n",
        &[],
    )
    .expect("valid");
    assert_eq!(inline[0].parameter("team_id"), Some("team-123"));
    let debug = format!("{:?}", inline[0]);
    assert!(debug.contains("team-123"), "{debug}");
    assert!(!debug.contains("xai-secret-key"), "{debug}");

    let from_variable = config(
        "[[accounts]]\nname = \"x\"\nvendor = \"xai\"\napi_key = \"k\"\nteam_id_env = \"MY_TEAM\"\n",
        &[("MY_TEAM", " team-456 ")],
    )
    .expect("valid");
    assert_eq!(from_variable[0].parameter("team_id"), Some("team-456"));
}

#[test]
fn a_missing_parameter_names_the_field_and_the_variable() {
    let error = config(
        "[[accounts]]\nname = \"x\"\nvendor = \"xai\"\napi_key = \"k\"\n",
        &[],
    )
    .expect_err("no team_id");
    assert!(
        matches!(&error, ConfigError::MissingParameter { account, field, variable, .. }
            if account == "x" && field == "team_id" && variable == "XAI_TEAM_ID"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("`team_id`")
            && message.contains("team_id_env")
            && message.contains("XAI_TEAM_ID"),
        "{message}"
    );
    assert_eq!(error.field(), Some("team_id"));
}

#[test]
fn a_parameter_of_another_vendor_is_refused() {
    let error = config(
        "[[accounts]]\nname = \"d\"\nvendor = \"deepseek\"\napi_key = \"k\"\nteam_id = \"t\"\n",
        &[],
    )
    .expect_err("deepseek has no team_id");
    assert!(
        matches!(&error, ConfigError::FieldNotAllowed { field, .. } if field == "team_id"),
        "{error:?}"
    );
    let account = Account::api_key("d", Vendor::find("deepseek").expect("deepseek"), "k")
        .expect("an account");
    assert!(account.with_parameter("team_id", "t").is_err());
}

#[test]
fn the_environment_needs_the_parameter_once_the_key_is_set() {
    let lookup = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let accounts =
        Account::from_env_with(lookup(&[("XAI_API_KEY", "k"), ("XAI_TEAM_ID", "team-789")]))
            .expect("both set");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].parameter("team_id"), Some("team-789"));
    let error = Account::from_env_with(lookup(&[("XAI_API_KEY", "k")])).expect_err("no team");
    assert!(
        matches!(&error, ConfigError::MissingParameter { account, field, variable, .. }
            if account == "xai" && field == "team_id" && variable == "XAI_TEAM_ID"),
        "{error:?}"
    );
    // Nothing set for the vendor: no account, no error.
    assert_eq!(Account::from_env_with(lookup(&[])).map(|a| a.len()), Ok(0));
}

#[tokio::test]
async fn the_parameter_goes_in_the_path_and_an_account_without_it_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/billing/teams/team%2F1/prepaid/balance"))
        .and(header("authorization", "Bearer k"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"total":{"val":"-150"}}"#))
        .expect(1)
        .mount(&server)
        .await;
    let client = BalanceClient::builder()
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let account = Account::api_key("x", xai(), "k")
        .and_then(|a| a.with_base_url(&server.uri()))
        .expect("an account");
    // A value is escaped as one path segment.
    let with_team = account
        .clone()
        .with_parameter("team_id", "team/1")
        .expect("valid");
    let balance = client.fetch(&with_team).await.expect("a balance");
    assert_eq!(balance.amounts()[0].total.to_string(), "1.50");

    let error = client.fetch(&account).await.expect_err("no team_id");
    assert!(
        matches!(
            &error,
            Error::InvalidConfig(ConfigError::MissingParameter { field, variable, .. })
                if field == "team_id" && variable == "XAI_TEAM_ID"
        ),
        "{error:?}"
    );
    server.verify().await;
}
