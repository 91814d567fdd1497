//! Vendors that report spend over a period instead of a balance (every folder with
//! `[balance.spend]`): the period asked for follows the client's clock, a report that goes
//! on past the description's page bound is an error (never a partial sum), and a monthly
//! budget turns the spend into what is left, which thresholds then apply to.

use std::str::FromStr;

use balances::balances_registry::{Example, Expected, VendorEntry, vendors};
use balances::{Balance, BalanceClient, Config, Error, RetryConfig, Threshold};
use chrono::{DateTime, Utc};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn spend_vendors() -> impl Iterator<Item = &'static VendorEntry> {
    vendors()
        .iter()
        .filter(|entry| entry.description.balance.spend.is_some())
}

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

fn client_at(now: DateTime<Utc>) -> BalanceClient {
    BalanceClient::builder()
        .retry(RetryConfig::disabled())
        .clock(move || now)
        .build()
        .expect("client")
}

/// One account of `entry` at `base_url`, with `extra` config lines.
fn account(entry: &VendorEntry, base_url: &str, extra: &str) -> balances::Account {
    let mut text = format!(
        "{extra}\n[[accounts]]\nname = \"a\"\nvendor = \"{}\"\nbase_url = \"{base_url}\"\n",
        entry.id
    );
    for field in entry.description.auth.credential_fields() {
        text.push_str(&format!("{field} = \"cred-{field}\"\n"));
    }
    Config::from_toml_str(&text, |_| None)
        .expect("config")
        .into_accounts()
        .remove(0)
}

/// The vendor's one-page example with some spend in it.
fn one_page_with_spend(entry: &VendorEntry) -> Option<&Example> {
    entry.examples.iter().find(|e| {
        e.responses.is_empty()
            && matches!(&e.expected, Expected::Spend(spend) if !spend.spent.is_empty())
    })
}

#[tokio::test]
async fn the_period_is_the_calendar_month_of_the_clock_in_utc() {
    let mut checked = 0;
    for entry in spend_vendors() {
        let spend = entry.description.balance.spend.as_ref().expect("spend");
        let server = MockServer::start().await;
        // The last second of a year: December, ending at the next year's first midnight.
        let start = spend
            .start
            .format
            .write(instant("2024-12-01T00:00:00Z").timestamp())
            .expect("written");
        let mut expected = Mock::given(method(entry.method.as_str()))
            .and(path(entry.path.as_str()))
            .and(query_param(spend.start.name.as_str(), start.as_str()));
        if let Some(end) = &spend.end {
            let text = end
                .format
                .write(instant("2025-01-01T00:00:00Z").timestamp())
                .expect("written");
            expected = expected.and(query_param(end.name.as_str(), text.as_str()));
        }
        let empty = entry
            .examples
            .iter()
            .find(|e| matches!(&e.expected, Expected::Spend(s) if s.spent.is_empty()))
            .expect("an empty month is documented");
        expected
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(empty.body.clone(), "application/json"),
            )
            .expect(1)
            .mount(&server)
            .await;
        let client = client_at(instant("2024-12-31T23:59:59Z"));
        let balance = client
            .fetch(&account(entry, &server.uri(), ""))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", entry.id));
        let spend = balance.spend().expect("a spend reading");
        assert_eq!(spend.from, instant("2024-12-01T00:00:00Z"), "{}", entry.id);
        assert_eq!(spend.to, instant("2025-01-01T00:00:00Z"), "{}", entry.id);
        assert!(
            balance.amounts().is_empty(),
            "{}: spend is no balance",
            entry.id
        );
        checked += 1;
    }
    assert!(checked >= 2, "OpenAI and Anthropic report spend");
}

#[tokio::test]
async fn a_report_that_goes_on_past_the_page_bound_is_an_error_not_a_partial_sum() {
    for entry in spend_vendors() {
        let spend = entry.description.balance.spend.as_ref().expect("spend");
        let first_of_many = entry
            .examples
            .iter()
            .find(|e| !e.responses.is_empty())
            .expect("a report in pages is documented");
        let server = MockServer::start().await;
        // Every page says another follows.
        Mock::given(method(entry.method.as_str()))
            .and(path(entry.path.as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(first_of_many.body.clone(), "application/json"),
            )
            .expect(u64::from(spend.pages.max_pages))
            .mount(&server)
            .await;
        let client = client_at(instant("2025-08-15T00:00:00Z"));
        let error = client
            .fetch(&account(entry, &server.uri(), ""))
            .await
            .expect_err("past the bound");
        match &error {
            Error::Undecodable { reason, .. } => assert!(
                reason.contains(&format!("more pages after {}", spend.pages.max_pages)),
                "{}: {reason}",
                entry.id
            ),
            other => panic!("{}: {other}", entry.id),
        }
        server.verify().await;
    }
}

async fn fetched(entry: &VendorEntry, extra: &str) -> Balance {
    let example = one_page_with_spend(entry).expect("a month with spend is documented");
    let server = MockServer::start().await;
    Mock::given(method(entry.method.as_str()))
        .and(path(entry.path.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(example.body.clone(), "application/json"),
        )
        .mount(&server)
        .await;
    let now = instant(example.now.as_deref().expect("now"));
    client_at(now)
        .fetch(&account(entry, &server.uri(), extra))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", entry.id))
}

#[tokio::test]
async fn a_budget_gives_what_is_left_and_thresholds_apply_to_it_alone() {
    let mut checked = 0;
    for entry in spend_vendors().filter(|e| one_page_with_spend(e).is_some()) {
        let Some(Expected::Spend(expected)) = one_page_with_spend(entry).map(|e| &e.expected)
        else {
            unreachable!()
        };
        let spent = balances::Decimal::from_str(&expected.spent[0].amount).expect("decimal");
        let currency = expected.spent[0].currency.as_str();

        let without = fetched(entry, "").await;
        let line = &without.spend().expect("spend").spent[0];
        assert_eq!(
            (line.amount, line.budget, line.remaining),
            (spent, None, None)
        );
        // Without a budget, no threshold applies: the spend is not what is left.
        let huge = Threshold::new(balances::Decimal::from(1_000_000), None);
        assert!(!huge.is_below(&without), "{}", entry.id);

        let with = fetched(entry, &format!("monthly_budget = \"100 {currency}\"")).await;
        let line = with
            .spend()
            .expect("spend")
            .in_currency(currency)
            .expect("line");
        let left = balances::Decimal::from(100) - spent;
        assert_eq!(
            (line.budget, line.remaining),
            (Some(100.into()), Some(left))
        );
        let above_left = Threshold::new(left + balances::Decimal::ONE, Some(currency));
        let below_left = Threshold::new(left - balances::Decimal::ONE, Some(currency));
        assert!(above_left.is_below(&with), "{}", entry.id);
        assert!(!below_left.is_below(&with), "{}", entry.id);
        // The JSON carries the period, the spend and what is left, as decimal strings.
        let json = serde_json::to_value(&with).expect("json");
        assert_eq!(json["amounts"], serde_json::json!([]));
        assert_eq!(json["spend"]["spent"][0]["remaining"], left.to_string());
        checked += 1;
    }
    assert!(checked >= 1);
}

#[test]
fn a_budget_is_an_amount_and_a_currency_per_account_or_file_wide() {
    let text = |budget_line: &str| {
        format!(
            "{budget_line}\n[[accounts]]\nname = \"a\"\nvendor = \"{}\"\napi_key = \"k\"\n",
            spend_vendors().next().expect("a spend vendor").id
        )
    };
    let config = Config::from_toml_str(&text("monthly_budget = \"500 usd\""), |_| None)
        .expect("a file-wide budget");
    assert_eq!(
        config.accounts()[0]
            .monthly_budget()
            .map(ToString::to_string),
        Some("500 USD".to_owned())
    );
    let error = Config::from_toml_str(&text("monthly_budget = \"500\""), |_| None)
        .expect_err("no currency");
    assert_eq!(error.field(), Some("monthly_budget"));
    assert!(error.to_string().contains("500 USD"), "{error}");
}
