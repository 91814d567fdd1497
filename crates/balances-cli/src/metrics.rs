//! The metric set, in the Prometheus text format or OpenMetrics, for the one-shot
//! `--format prometheus` and for `balances serve`.
//!
//! Hand-written rather than built on `prometheus-client`: that crate encodes gauge values
//! as `i64` or `f64` only, and an amount must be exported as the exact decimal text the
//! vendor sent (`49.58894`, `-0.00`, 28 decimal places), which a float cannot carry. The
//! format rules this file follows are checked by `promtool check metrics` in the tests.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use balances::{Balance, ErrorKind, Threshold, Vendor, escape_control};
use balances_history::{Estimate, Forecast, Measure};

/// Everything exported about one account.
#[derive(Debug)]
pub struct AccountSeries<'a> {
    pub account: &'a str,
    pub vendor: Vendor,
    pub threshold: Option<&'a Threshold>,
    /// The last balance fetched, even when a later refresh failed.
    pub balance: Option<&'a Balance>,
    /// Why the latest refresh failed; `None` when it succeeded (or none ended yet).
    pub error: Option<ErrorKind>,
    pub last_attempt: Option<SystemTime>,
    pub last_success: Option<SystemTime>,
    pub duration: Option<Duration>,
    /// Refreshes so far; only a long-running exporter has them.
    pub fetches: Option<Fetches>,
    /// Spend and depletion per currency and unit, from the history (empty without one).
    pub forecasts: &'a [crate::history::SeriesForecast],
}

/// How many refreshes of one account succeeded and failed since the exporter started.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fetches {
    pub successes: u64,
    pub failures: u64,
}

/// What only a long-running exporter reports about itself.
#[derive(Clone, Copy, Debug)]
pub struct ExporterStatus {
    pub config_reload_successful: bool,
    /// Refreshes recorded into the balance history, or not; `None` when history is off.
    pub history_writes: Option<Fetches>,
}

/// The two text formats Prometheus scrapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposition {
    /// `text/plain; version=0.0.4`, what `promtool check metrics` and node_exporter read.
    Prometheus,
    /// OpenMetrics 1.0, which Prometheus asks for first when it scrapes.
    OpenMetrics,
}

impl Exposition {
    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// OpenMetrics when the `Accept` header lists it with a non-zero quality, as Prometheus
    /// does; the classic text format for anything else (curl, browsers, old scrapers).
    pub fn negotiate(accept: Option<&str>) -> Self {
        let wants_openmetrics = accept.is_some_and(|accept| {
            accept.split(',').any(|range| {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next().unwrap_or("");
                let quality = parts
                    .filter_map(|p| p.strip_prefix("q="))
                    .find_map(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                media.eq_ignore_ascii_case("application/openmetrics-text") && quality > 0.0
            })
        });
        if wants_openmetrics {
            Exposition::OpenMetrics
        } else {
            Exposition::Prometheus
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
    /// A constant 1 whose labels carry the information (`_info` suffix).
    Info,
}

/// Renders the metric set. Families without samples are left out.
pub fn render(
    accounts: &[AccountSeries<'_>],
    exporter: Option<ExporterStatus>,
    format: Exposition,
) -> String {
    let mut out = Encoder {
        text: String::new(),
        format,
    };
    out.family(
        "balances_balance",
        Kind::Gauge,
        "Total balance, in units of the currency label, exactly as the vendor reported it; sum only by currency.",
        amounts(accounts, |a| Some(a.total)),
    );
    out.family(
        "balances_granted_balance",
        Kind::Gauge,
        "Granted (promotional) part of the balance, where the vendor reports it.",
        amounts(accounts, |a| a.granted),
    );
    out.family(
        "balances_topped_up_balance",
        Kind::Gauge,
        "Paid-in part of the balance, where the vendor reports it.",
        amounts(accounts, |a| a.topped_up),
    );
    out.family(
        "balances_unit_balance",
        Kind::Gauge,
        "Balance in a unit that is not money (points, tokens), exactly as the vendor reported it; never add it to a currency.",
        unit_amounts(accounts),
    );
    out.family(
        "balances_unlimited",
        Kind::Gauge,
        "1 for a currency the vendor says can be spent without limit (a new-api key with unlimited quota); balances_balance has no sample for it, since there is no amount.",
        accounts
            .iter()
            .filter_map(|s| Some((s, s.balance?)))
            .flat_map(|(s, balance)| {
                balance.unlimited().iter().map(move |u| {
                    let labels = format!("{},currency=\"{}\"", account_labels(s), label(&u.currency));
                    (labels, "1".to_owned())
                })
            })
            .collect(),
    );
    out.family(
        "balances_key_quota",
        Kind::Gauge,
        "1 when the account's balance is only the remaining quota of the key used (a new-api relay), which may differ from the account's own balance.",
        accounts
            .iter()
            .filter(|s| s.balance.is_some_and(|b| b.scope() == balances::Scope::Key))
            .map(|s| (account_labels(s), "1".to_owned()))
            .collect(),
    );
    out.family(
        "balances_available",
        Kind::Gauge,
        "1 when the vendor says the account can make API calls, 0 when it says it cannot.",
        accounts
            .iter()
            .filter_map(|s| {
                let flag = s.balance?.available()?;
                Some((account_labels(s), u8::from(flag).to_string()))
            })
            .collect(),
    );
    out.family(
        "balances_alert_threshold",
        Kind::Gauge,
        "The account's alert_below threshold from the config, per currency it applies to.",
        thresholds(accounts),
    );
    out.family(
        "balances_spent",
        Kind::Gauge,
        "Spent over the period (the calendar month in UTC) by a vendor that reports spend instead of a balance, from its cost report, which lags by hours; never a balance.",
        crate::spend::samples(accounts, |s| Some(s.amount)),
    );
    out.family(
        "balances_budget",
        Kind::Gauge,
        "The account's monthly_budget from the config, for a vendor that reports spend.",
        crate::spend::samples(accounts, |s| s.budget),
    );
    out.family(
        "balances_budget_remaining",
        Kind::Gauge,
        "What is left of the monthly budget: budget minus spent (negative when overspent); lags as the cost report does.",
        crate::spend::samples(accounts, |s| s.remaining),
    );
    out.family(
        "balances_budget_projected_spend",
        Kind::Gauge,
        "What the period costs at its average pace so far (spent over the time elapsed, from a cost report that lags by hours), for a spend account with a monthly_budget; absent in the period's first day.",
        crate::spend::pace_samples(accounts, |pace, _| pace.projected),
    );
    out.family(
        "balances_budget_depletion_timestamp_seconds",
        Kind::Gauge,
        "When the monthly_budget is used up at the period's average pace so far, in Unix seconds; the reading's time once it is; absent when it lasts the period or in the period's first day.",
        crate::spend::pace_samples(accounts, crate::spend::depletion_seconds),
    );
    out.family(
        "balances_spend_period_start_timestamp_seconds",
        Kind::Gauge,
        "The start of the period balances_spent covers, in Unix seconds.",
        crate::spend::period_starts(accounts),
    );
    out.family(
        "balances_spend_per_second",
        Kind::Gauge,
        "Spend per second over the forecast window, from the balance history (top-ups and refunds left out); absent with too little history.",
        forecasts(accounts, Measure::Currency, spend_per_second),
    );
    out.family(
        "balances_unit_spend_per_second",
        Kind::Gauge,
        "Spend per second of a unit that is not money, as balances_spend_per_second.",
        forecasts(accounts, Measure::Unit, spend_per_second),
    );
    out.family(
        "balances_depletion_timestamp_seconds",
        Kind::Gauge,
        "When the balance is estimated to reach the account's alert_below in this currency (else zero) at the current spend, in Unix seconds; the newest sample's time once reached; absent without an estimate.",
        forecasts(accounts, Measure::Currency, depletion_time),
    );
    out.family(
        "balances_unit_depletion_timestamp_seconds",
        Kind::Gauge,
        "When a unit that is not money is estimated to reach zero, as balances_depletion_timestamp_seconds.",
        forecasts(accounts, Measure::Unit, depletion_time),
    );
    out.family(
        "balances_fetch_success",
        Kind::Gauge,
        "1 when the latest refresh of the account succeeded, 0 when it failed.",
        accounts
            .iter()
            .filter(|s| s.last_attempt.is_some())
            .map(|s| (account_labels(s), u8::from(s.error.is_none()).to_string()))
            .collect(),
    );
    out.family(
        "balances_fetch_error",
        Kind::Info,
        "Why the latest refresh of the account failed; present only while it is failing.",
        accounts
            .iter()
            .filter_map(|s| {
                let kind = s.error?;
                let labels = format!("{},kind=\"{}\"", account_labels(s), kind.as_str());
                Some((labels, "1".to_owned()))
            })
            .collect(),
    );
    out.family(
        "balances_last_attempt_timestamp_seconds",
        Kind::Gauge,
        "When the latest refresh of the account ended, in Unix seconds.",
        times(accounts, |s| s.last_attempt),
    );
    out.family(
        "balances_last_success_timestamp_seconds",
        Kind::Gauge,
        "When the account was last refreshed successfully, in Unix seconds.",
        times(accounts, |s| s.last_success),
    );
    out.family(
        "balances_fetch_duration_seconds",
        Kind::Gauge,
        "How long the latest refresh of the account took, retries included.",
        accounts
            .iter()
            .filter_map(|s| Some((account_labels(s), seconds(s.duration?))))
            .collect(),
    );
    out.family(
        "balances_fetches",
        Kind::Counter,
        "Refreshes of the account since the exporter started, by result.",
        accounts
            .iter()
            .filter_map(|s| {
                let fetches = s.fetches?;
                let labels = account_labels(s);
                Some([
                    (
                        format!("{labels},result=\"success\""),
                        fetches.successes.to_string(),
                    ),
                    (
                        format!("{labels},result=\"failure\""),
                        fetches.failures.to_string(),
                    ),
                ])
            })
            .flatten()
            .collect(),
    );
    out.family(
        "balances_accounts",
        Kind::Gauge,
        "Accounts configured.",
        vec![(String::new(), accounts.len().to_string())],
    );
    if let Some(exporter) = exporter {
        out.family(
            "balances_up",
            Kind::Gauge,
            "1 while the exporter's refresh loop runs.",
            vec![(String::new(), "1".to_owned())],
        );
        if let Some(writes) = exporter.history_writes {
            out.family(
                "balances_history_writes",
                Kind::Counter,
                "Refreshes recorded into the balance history, by result; a failure costs no balance.",
                vec![
                    (
                        "result=\"success\"".to_owned(),
                        writes.successes.to_string(),
                    ),
                    (
                        "result=\"failure\"".to_owned(),
                        writes.failures.to_string(),
                    ),
                ],
            );
        }
        out.family(
            "balances_config_last_reload_successful",
            Kind::Gauge,
            "1 when the latest load of the config succeeded, 0 when the exporter kept the previous one.",
            vec![(
                String::new(),
                u8::from(exporter.config_reload_successful).to_string(),
            )],
        );
    }
    out.family(
        "balances_build",
        Kind::Info,
        "The balances command's version.",
        vec![(
            format!("version=\"{}\"", env!("CARGO_PKG_VERSION")),
            "1".to_owned(),
        )],
    );
    if format == Exposition::OpenMetrics {
        out.text.push_str("# EOF\n");
    }
    out.text
}

struct Encoder {
    text: String,
    format: Exposition,
}

impl Encoder {
    /// One metric family: `base` is the name without the `_total`/`_info` suffix that
    /// counters and info metrics carry on their samples.
    fn family(&mut self, base: &str, kind: Kind, help: &str, samples: Vec<(String, String)>) {
        if samples.is_empty() {
            return;
        }
        let sample_name = match kind {
            Kind::Gauge => base.to_owned(),
            Kind::Counter => format!("{base}_total"),
            Kind::Info => format!("{base}_info"),
        };
        // The classic format has no info type and names a counter family by its samples;
        // OpenMetrics names every family by its base.
        let (family_name, type_name) = match (self.format, kind) {
            (Exposition::Prometheus, Kind::Gauge | Kind::Info) => (sample_name.as_str(), "gauge"),
            (Exposition::Prometheus, Kind::Counter) => (sample_name.as_str(), "counter"),
            (Exposition::OpenMetrics, Kind::Gauge) => (base, "gauge"),
            (Exposition::OpenMetrics, Kind::Counter) => (base, "counter"),
            (Exposition::OpenMetrics, Kind::Info) => (base, "info"),
        };
        let _ = writeln!(self.text, "# HELP {family_name} {help}");
        let _ = writeln!(self.text, "# TYPE {family_name} {type_name}");
        for (labels, value) in samples {
            if labels.is_empty() {
                let _ = writeln!(self.text, "{sample_name} {value}");
            } else {
                let _ = writeln!(self.text, "{sample_name}{{{labels}}} {value}");
            }
        }
    }
}

pub(crate) fn account_labels(series: &AccountSeries<'_>) -> String {
    format!(
        "account=\"{}\",vendor=\"{}\"",
        label(series.account),
        series.vendor
    )
}

fn amounts(
    accounts: &[AccountSeries<'_>],
    pick: fn(&balances::Amount) -> Option<balances::Decimal>,
) -> Vec<(String, String)> {
    accounts
        .iter()
        .filter_map(|s| Some((s, s.balance?)))
        .flat_map(|(s, balance)| {
            balance.amounts().iter().filter_map(move |amount| {
                let value = pick(amount)?;
                let labels = format!(
                    "{},currency=\"{}\"",
                    account_labels(s),
                    label(&amount.currency)
                );
                Some((labels, value.to_string()))
            })
        })
        .collect()
}

/// One sample per forecast of `measure` that `value` has a value for.
fn forecasts(
    accounts: &[AccountSeries<'_>],
    measure: Measure,
    value: fn(&Forecast) -> Option<String>,
) -> Vec<(String, String)> {
    let label_name = match measure {
        // A spend series has no forecast of its own (its budget's pace is `spend.rs`'s).
        Measure::Currency | Measure::Spend => "currency",
        Measure::Unit => "unit",
    };
    accounts
        .iter()
        .flat_map(|s| {
            s.forecasts
                .iter()
                .filter(move |f| f.measure == measure)
                .filter_map(move |f| {
                    let labels =
                        format!("{},{label_name}=\"{}\"", account_labels(s), label(&f.code));
                    Some((labels, value(&f.forecast)?))
                })
        })
        .collect()
}

/// Spend per day over 86,400, exact to `Decimal`'s 28 digits.
fn spend_per_second(forecast: &Forecast) -> Option<String> {
    let per_day = forecast.spend_per_day?;
    let per_second = per_day.checked_div(balances::Decimal::from(86_400))?;
    Some(per_second.normalize().to_string())
}

/// The estimated depletion time in Unix seconds (milliseconds as decimals).
fn depletion_time(forecast: &Forecast) -> Option<String> {
    let at_ms = match forecast.estimate {
        Estimate::RunsOut { at_ms } => at_ms,
        Estimate::Reached => forecast.as_of_ms,
        Estimate::None(_) => return None,
    };
    Some(unix_seconds(at_ms).to_string())
}

/// A time in milliseconds since the epoch as Unix seconds, the milliseconds as decimals:
/// the value of every `*_timestamp_seconds` estimate.
pub fn unix_seconds(at_ms: i64) -> balances::Decimal {
    (balances::Decimal::from(at_ms) / balances::Decimal::from(1_000)).normalize()
}

fn unit_amounts(accounts: &[AccountSeries<'_>]) -> Vec<(String, String)> {
    accounts
        .iter()
        .filter_map(|s| Some((s, s.balance?)))
        .flat_map(|(s, balance)| {
            balance.units().iter().map(move |amount| {
                let labels = format!("{},unit=\"{}\"", account_labels(s), label(&amount.unit));
                (labels, amount.total.to_string())
            })
        })
        .collect()
}

/// A threshold in one currency is exported in that currency, spelled as the account's
/// balance spells it so that `on (account, vendor, currency)` matches (a vendor may send
/// `usd`); a threshold for every currency is exported once per currency of the balance.
fn thresholds(accounts: &[AccountSeries<'_>]) -> Vec<(String, String)> {
    let mut samples = Vec::new();
    for series in accounts {
        let Some(threshold) = series.threshold else {
            continue;
        };
        let balance_currencies = series
            .balance
            .map(|b| b.amounts())
            .unwrap_or_default()
            .iter()
            .map(|a| a.currency.as_str())
            .filter(|c| threshold.applies_to(c));
        let currencies: Vec<&str> = match threshold.currency() {
            Some(currency) => vec![balance_currencies.clone().next().unwrap_or(currency)],
            None => balance_currencies.collect(),
        };
        for currency in currencies {
            samples.push((
                format!(
                    "{},currency=\"{}\"",
                    account_labels(series),
                    label(currency)
                ),
                threshold.amount().to_string(),
            ));
        }
    }
    samples
}

fn times(
    accounts: &[AccountSeries<'_>],
    pick: fn(&AccountSeries<'_>) -> Option<SystemTime>,
) -> Vec<(String, String)> {
    accounts
        .iter()
        .filter_map(|s| {
            let since_epoch = pick(s)?.duration_since(SystemTime::UNIX_EPOCH).ok()?;
            Some((account_labels(s), seconds(since_epoch)))
        })
        .collect()
}

fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

/// Escapes a label value as both formats require, after escaping control characters (a
/// label value may come from a vendor, and ends up on terminals and in logs).
pub(crate) fn label(value: &str) -> String {
    // Line breaks are control characters too: after `escape_control` only `\` and `"` are
    // left for the exposition format to escape.
    escape_control(value)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use balances::{Amount, Decimal};
    use std::str::FromStr;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn series<'a>(
        account: &'a str,
        balance: Option<&'a Balance>,
        threshold: Option<&'a Threshold>,
    ) -> AccountSeries<'a> {
        AccountSeries {
            account,
            vendor: vendor("deepseek"),
            threshold,
            balance,
            error: None,
            last_attempt: Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_250)),
            last_success: None,
            duration: Some(Duration::from_millis(1500)),
            fetches: None,
            forecasts: &[],
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn a_budget_gets_its_projected_spend_and_when_it_runs_out_at_its_pace() {
        let month = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        let spend = |account: &str, spent: &str| {
            let spend = balances::Spend::new(
                month("2026-12-01T00:00:00Z"),
                month("2027-01-01T00:00:00Z"),
                [("USD".to_owned(), dec(spent))],
                Some(&"25 USD".parse().unwrap()),
            )
            .unwrap();
            Balance::spent(account, vendor("openai"), spend)
        };
        // Ten days in: 20 spent is 2 a day (62 for the month), the 5 left last 2.5 days;
        // 1 spent lasts the month; 30 spent is past the budget already.
        let (fast, slow, over) = (spend("fast", "20"), spend("slow", "1"), spend("over", "30"));
        let read_at = SystemTime::from(month("2026-12-11T00:00:00Z"));
        let accounts: Vec<AccountSeries<'_>> = [("fast", &fast), ("slow", &slow), ("over", &over)]
            .into_iter()
            .map(|(name, balance)| AccountSeries {
                vendor: vendor("openai"),
                last_success: Some(read_at),
                ..series(name, Some(balance), None)
            })
            .collect();
        let text = render(&accounts, None, Exposition::Prometheus);
        let of = |family: &str| -> Vec<&str> {
            lines(&text)
                .into_iter()
                .filter(|line| line.starts_with(&format!("{family}{{")))
                .collect()
        };
        let labels =
            |account: &str| format!(r#"account="{account}",vendor="openai",currency="USD""#);
        assert_eq!(
            of("balances_budget_projected_spend"),
            [
                format!("balances_budget_projected_spend{{{}}} 62", labels("fast")),
                format!("balances_budget_projected_spend{{{}}} 3.1", labels("slow")),
                format!("balances_budget_projected_spend{{{}}} 93", labels("over")),
            ]
        );
        let in_two_and_a_half_days = month("2026-12-13T12:00:00Z").timestamp();
        let at_reading = month("2026-12-11T00:00:00Z").timestamp();
        assert_eq!(
            of("balances_budget_depletion_timestamp_seconds"),
            [
                format!(
                    "balances_budget_depletion_timestamp_seconds{{{}}} {in_two_and_a_half_days}",
                    labels("fast")
                ),
                format!(
                    "balances_budget_depletion_timestamp_seconds{{{}}} {at_reading}",
                    labels("over")
                ),
            ]
        );
    }

    #[test]
    fn label_values_are_escaped_as_the_exposition_format_requires() {
        assert_eq!(label(r#"a"b\c"#), r#"a\"b\\c"#);
        // A line break arrives as the text `\u{a}`, its backslash escaped for the format.
        assert_eq!(label("two\nlines"), "two\\\\u{a}lines");
        assert_eq!(label("\u{1b}[2J"), "\\\\u{1b}[2J");
    }

    #[test]
    fn amounts_keep_the_vendors_exact_text() {
        // As the facade decodes DeepSeek's "-0.00" (parsing text would drop the sign).
        let mut negative_zero = dec("0.00");
        negative_zero.set_sign_negative(true);
        let balance = Balance::new(
            r#"team "a""#,
            vendor("deepseek"),
            None,
            vec![
                Amount::total("CNY", negative_zero).with_granted(dec("49.58894")),
                Amount::total("USD", dec("79228162514264337593543950335")),
            ],
        )
        .unwrap();
        let text = render(
            &[series(r#"team "a""#, Some(&balance), None)],
            None,
            Exposition::Prometheus,
        );
        let lines = lines(&text);
        for expected in [
            r#"balances_balance{account="team \"a\"",vendor="deepseek",currency="CNY"} -0.00"#,
            r#"balances_balance{account="team \"a\"",vendor="deepseek",currency="USD"} 79228162514264337593543950335"#,
            r#"balances_granted_balance{account="team \"a\"",vendor="deepseek",currency="CNY"} 49.58894"#,
            r#"balances_last_attempt_timestamp_seconds{account="team \"a\"",vendor="deepseek"} 1700000000.250"#,
            r#"balances_fetch_duration_seconds{account="team \"a\"",vendor="deepseek"} 1.500"#,
        ] {
            assert!(lines.contains(&expected), "missing {expected} in\n{text}");
        }
        assert!(
            !text.contains("balances_topped_up_balance"),
            "no vendor reported a topped-up part: {text}"
        );
        assert!(
            !text.contains("balances_available"),
            "the vendor did not say: {text}"
        );
    }

    #[test]
    fn counters_and_info_metrics_follow_each_formats_naming() {
        let mut failing = series("a", None, None);
        failing.error = Some(ErrorKind::RateLimited);
        failing.fetches = Some(Fetches {
            successes: 2,
            failures: 1,
        });
        let accounts = [failing];
        let status = Some(ExporterStatus {
            config_reload_successful: true,
            history_writes: None,
        });

        let classic = render(&accounts, status, Exposition::Prometheus);
        let classic_lines = lines(&classic);
        for expected in [
            "# TYPE balances_fetches_total counter",
            r#"balances_fetches_total{account="a",vendor="deepseek",result="failure"} 1"#,
            "# TYPE balances_fetch_error_info gauge",
            r#"balances_fetch_error_info{account="a",vendor="deepseek",kind="rate_limited"} 1"#,
            r#"balances_fetch_success{account="a",vendor="deepseek"} 0"#,
            "balances_up 1",
        ] {
            assert!(classic_lines.contains(&expected), "{expected}:\n{classic}");
        }
        assert!(!classic.contains("# EOF"));

        let open = render(&accounts, status, Exposition::OpenMetrics);
        let open_lines = lines(&open);
        for expected in [
            "# TYPE balances_fetches counter",
            r#"balances_fetches_total{account="a",vendor="deepseek",result="success"} 2"#,
            "# TYPE balances_fetch_error info",
            "# TYPE balances_build info",
        ] {
            assert!(open_lines.contains(&expected), "{expected}:\n{open}");
        }
        assert_eq!(open_lines.last(), Some(&"# EOF"));
    }

    #[test]
    fn a_threshold_follows_the_balances_currency_spelling() {
        let balance = Balance::new(
            "z",
            vendor("deepseek"),
            None,
            vec![
                Amount::total("usd", dec("3")),
                Amount::total("CNY", dec("1")),
            ],
        )
        .unwrap();
        let in_usd: Threshold = "10 USD".parse().unwrap();
        let everywhere: Threshold = "5".parse().unwrap();
        let no_balance_yet: Threshold = "7 EUR".parse().unwrap();
        let text = render(
            &[
                series("usd", Some(&balance), Some(&in_usd)),
                series("all", Some(&balance), Some(&everywhere)),
                series("new", None, Some(&no_balance_yet)),
            ],
            None,
            Exposition::Prometheus,
        );
        let thresholds: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("balances_alert_threshold{"))
            .collect();
        assert_eq!(
            thresholds,
            [
                r#"balances_alert_threshold{account="usd",vendor="deepseek",currency="usd"} 10"#,
                r#"balances_alert_threshold{account="all",vendor="deepseek",currency="CNY"} 5"#,
                r#"balances_alert_threshold{account="all",vendor="deepseek",currency="usd"} 5"#,
                r#"balances_alert_threshold{account="new",vendor="deepseek",currency="EUR"} 7"#,
            ]
        );
    }

    #[test]
    fn openmetrics_is_chosen_only_when_asked_for() {
        let prometheus_scraper = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(
            Exposition::negotiate(Some(prometheus_scraper)),
            Exposition::OpenMetrics
        );
        assert_eq!(Exposition::negotiate(None), Exposition::Prometheus);
        assert_eq!(
            Exposition::negotiate(Some("text/plain")),
            Exposition::Prometheus
        );
        assert_eq!(
            Exposition::negotiate(Some("application/openmetrics-text;q=0")),
            Exposition::Prometheus
        );
    }

    #[test]
    fn an_unlimited_currency_has_no_amount_and_a_key_quota_says_so() {
        let unlimited = Balance::new("relay", vendor("deepseek"), None, Vec::new())
            .unwrap()
            .with_unlimited(vec![balances::Unlimited::new("USD")])
            .unwrap()
            .with_scope(balances::Scope::Key);
        let text = render(
            &[series("relay", Some(&unlimited), None)],
            None,
            Exposition::Prometheus,
        );
        let lines = lines(&text);
        for expected in [
            r#"balances_unlimited{account="relay",vendor="deepseek",currency="USD"} 1"#,
            r#"balances_key_quota{account="relay",vendor="deepseek"} 1"#,
        ] {
            assert!(lines.contains(&expected), "missing {expected} in\n{text}");
        }
        assert!(!text.contains("balances_balance{"), "no amount: {text}");
        // An account's own balance has neither family.
        let plain = Balance::new(
            "a",
            vendor("deepseek"),
            None,
            vec![Amount::total("USD", dec("1"))],
        )
        .unwrap();
        let text = render(
            &[series("a", Some(&plain), None)],
            None,
            Exposition::Prometheus,
        );
        assert!(
            !text.contains("balances_unlimited") && !text.contains("balances_key_quota"),
            "{text}"
        );
    }

    /// A vendor of the registry, by id.
    fn vendor(id: &str) -> balances::Vendor {
        balances::Vendor::find(id).expect("in the vendor registry")
    }
}
