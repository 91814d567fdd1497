//! What the exporter knows: per account, the last balance and how its refreshes went.
//! Refreshes write here; scrapes only read, so a scrape never waits on a vendor.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use balances::{Account, Balance, Error};
use balances_history::{SeriesKey, ms_since_epoch};
use rust_decimal::Decimal;

use super::recorder::Recording;
use crate::fetch::Fetched;
use crate::history::SeriesForecast;
use crate::metrics::{self, AccountSeries, ExporterStatus, Exposition, Fetches};

/// The exporter's shared state.
#[derive(Debug)]
pub struct Exporter {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    accounts: Vec<Tracked>,
    config_reload_successful: bool,
    /// How recording the history went, when history is on.
    history_writes: Option<Fetches>,
    /// The status page's charts: per series, the last sample of each hour of the last
    /// [`super::recorder::CHART_SPAN`], oldest first.
    charts: HashMap<SeriesKey, Vec<(i64, Decimal)>>,
    /// Seconds between refreshes, for the status page.
    interval: Duration,
}

/// A chart keeps one point per hour.
const CHART_SLICE_MS: i64 = 3_600_000;

#[derive(Debug)]
struct Tracked {
    account: Account,
    balance: Option<Balance>,
    error: Option<Error>,
    last_attempt: Option<SystemTime>,
    last_success: Option<SystemTime>,
    duration: Option<Duration>,
    fetches: Fetches,
    /// From the history, as of the last refresh that recorded this account.
    forecasts: Vec<SeriesForecast>,
}

impl Tracked {
    fn new(account: Account) -> Self {
        Self {
            account,
            balance: None,
            error: None,
            last_attempt: None,
            last_success: None,
            duration: None,
            fetches: Fetches::default(),
            forecasts: Vec::new(),
        }
    }
}

impl Exporter {
    /// The state of a new exporter; `history` says whether balance history is on.
    pub fn new(accounts: Vec<Account>, history: bool, interval: Duration) -> Self {
        Self {
            state: Mutex::new(State {
                accounts: accounts.into_iter().map(Tracked::new).collect(),
                config_reload_successful: true,
                history_writes: history.then(Fetches::default),
                charts: HashMap::new(),
                interval,
            }),
        }
    }

    /// What recording a refresh into the history gave: forecasts per account index (as in
    /// [`Exporter::accounts`] when the refresh began), or a failure to count.
    pub fn recorded(&self, recording: Recording) {
        let mut state = self.lock();
        let failed = matches!(recording, Recording::Failed);
        if let Some(writes) = state.history_writes.as_mut() {
            if failed {
                writes.failures += 1;
            } else {
                writes.successes += 1;
            }
        }
        let Recording::Recorded {
            forecasts,
            added,
            loaded,
        } = recording
        else {
            return;
        };
        for (index, forecasts) in forecasts {
            if let Some(tracked) = state.accounts.get_mut(index) {
                tracked.forecasts = forecasts;
            }
        }
        if let Some(loaded) = loaded {
            state.charts = loaded
                .into_iter()
                .map(|series| {
                    let mut points = Vec::new();
                    for sample in series.samples {
                        add_point(&mut points, sample.at_ms, sample.total);
                    }
                    (series.key, points)
                })
                .collect();
        }
        for (key, at_ms, total) in added {
            add_point(state.charts.entry(key).or_default(), at_ms, total);
        }
        let oldest = ms_since_epoch(SystemTime::now())
            .saturating_sub(super::recorder::CHART_SPAN.as_millis() as i64);
        state.charts.retain(|_, points| {
            points.retain(|(at_ms, _)| *at_ms >= oldest);
            !points.is_empty()
        });
    }

    /// `/`: the status page.
    pub fn status_page(&self) -> String {
        let state = self.lock();
        let now = SystemTime::now();
        let accounts: Vec<super::page::AccountView<'_>> = state
            .accounts
            .iter()
            .map(|t| super::page::AccountView {
                name: t.account.name(),
                vendor: t.account.vendor(),
                balance: t.balance.as_ref(),
                error: t.error.as_ref(),
                last_attempt: t.last_attempt,
                last_success: t.last_success,
                forecasts: &t.forecasts,
                charts: &state.charts,
            })
            .collect();
        super::page::render(&super::page::PageView {
            accounts: &accounts,
            history: state.history_writes.is_some(),
            interval: state.interval,
            now,
        })
    }

    /// A refresh never holds the lock while it calls a vendor, and a panic elsewhere must
    /// not take the metrics down with it: a poisoned lock is still read.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The accounts a refresh fetches, in config order.
    pub fn accounts(&self) -> Vec<Account> {
        self.lock()
            .accounts
            .iter()
            .map(|t| t.account.clone())
            .collect()
    }

    /// Records one account's fetch. `index` is its position in [`Exporter::accounts`] as
    /// taken by the refresh, which is cancelled before a reload changes the list.
    pub fn record(&self, fetched: Fetched) {
        let mut state = self.lock();
        let Some(tracked) = state.accounts.get_mut(fetched.index) else {
            return;
        };
        tracked.last_attempt = Some(fetched.finished_at);
        tracked.duration = Some(fetched.duration);
        match fetched.result {
            Ok(balance) => {
                tracked.balance = Some(balance);
                tracked.error = None;
                tracked.last_success = Some(fetched.finished_at);
                tracked.fetches.successes += 1;
            }
            Err(error) => {
                // The last good balance stays: the failure is exported beside it.
                tracked.error = Some(error);
                tracked.fetches.failures += 1;
            }
        }
    }

    /// Swaps in a reloaded account list. An account whose name and vendor did not change
    /// keeps what the exporter knew about it (its series continue); the rest start empty.
    pub fn replace_accounts(&self, accounts: Vec<Account>) {
        let mut state = self.lock();
        let mut previous = std::mem::take(&mut state.accounts);
        state.accounts = accounts
            .into_iter()
            .map(|account| {
                let kept = previous.iter().position(|t| {
                    t.account.name() == account.name() && t.account.vendor() == account.vendor()
                });
                match kept {
                    Some(at) => Tracked {
                        account,
                        ..previous.swap_remove(at)
                    },
                    None => Tracked::new(account),
                }
            })
            .collect();
        state.config_reload_successful = true;
    }

    /// A reload failed: the previous accounts stay, and the metrics say so.
    pub fn reload_failed(&self) {
        self.lock().config_reload_successful = false;
    }

    /// `/metrics`.
    pub fn metrics(&self, format: Exposition) -> String {
        let state = self.lock();
        let series: Vec<AccountSeries<'_>> = state
            .accounts
            .iter()
            .map(|t| AccountSeries {
                account: t.account.name(),
                vendor: t.account.vendor(),
                threshold: t.account.alert_below(),
                balance: t.balance.as_ref(),
                error: t.error.as_ref().map(Error::kind),
                last_attempt: t.last_attempt,
                last_success: t.last_success,
                duration: t.duration,
                fetches: Some(t.fetches),
                forecasts: &t.forecasts,
            })
            .collect();
        metrics::render(
            &series,
            Some(ExporterStatus {
                config_reload_successful: state.config_reload_successful,
                history_writes: state.history_writes,
            }),
            format,
        )
    }

    /// `/balances`: the JSON of `--format json`, with the last balance beside a later error.
    pub fn balances_json(&self) -> String {
        let state = self.lock();
        crate::report::json_of(
            state.accounts.iter().map(|t| crate::report::JsonItem {
                account: t.account.name(),
                vendor: t.account.vendor(),
                balance: t.balance.as_ref(),
                error: t.error.as_ref(),
                forecasts: &t.forecasts,
                read_at: t.last_success,
            }),
            state.history_writes.map(|_| SystemTime::now()),
        )
    }
}

/// The last sample of each hour: a sample in the same hour as the newest point replaces it.
fn add_point(points: &mut Vec<(i64, Decimal)>, at_ms: i64, total: Decimal) {
    match points.last_mut() {
        Some(last) if last.0 > at_ms => {}
        Some(last) if last.0.div_euclid(CHART_SLICE_MS) == at_ms.div_euclid(CHART_SLICE_MS) => {
            *last = (at_ms, total);
        }
        _ => points.push((at_ms, total)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use balances::{Amount, Decimal};
    use std::str::FromStr;

    fn fetched(index: usize, result: Result<Balance, Error>) -> Fetched {
        Fetched {
            index,
            result,
            duration: Duration::from_millis(20),
            finished_at: SystemTime::now(),
        }
    }

    fn balance(total: &str) -> Balance {
        Balance::new(
            "a",
            vendor("deepseek"),
            Some(true),
            vec![Amount::total("CNY", Decimal::from_str(total).unwrap())],
        )
        .unwrap()
    }

    fn failure() -> Error {
        balances::decode(vendor("deepseek"), "a", 401, br#"{"error":"bad key"}"#).unwrap_err()
    }

    fn sample<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
    }

    #[test]
    fn a_failed_refresh_keeps_the_last_balance_and_says_why() {
        let exporter = Exporter::new(
            vec![deepseek_account("a", "sk-a")],
            false,
            Duration::from_secs(300),
        );
        exporter.record(fetched(0, Ok(balance("12.50"))));
        exporter.record(fetched(0, Err(failure())));
        let text = exporter.metrics(Exposition::Prometheus);
        assert_eq!(sample(&text, "balances_balance{"), Some("12.50"), "{text}");
        assert_eq!(sample(&text, "balances_fetch_success{"), Some("0"));
        assert!(
            text.contains(r#"balances_fetch_error_info{account="a",vendor="deepseek",kind="authentication"} 1"#),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                r#"balances_fetches_total{account="a",vendor="deepseek",result="failure"}"#
            ),
            Some("1")
        );
        let json: serde_json::Value = serde_json::from_str(&exporter.balances_json()).unwrap();
        assert_eq!(json[0]["balance"]["amounts"][0]["total"], "12.50");
        assert_eq!(json[0]["error"]["kind"], "authentication");

        exporter.record(fetched(0, Ok(balance("11.00"))));
        let text = exporter.metrics(Exposition::Prometheus);
        assert_eq!(sample(&text, "balances_balance{"), Some("11.00"));
        assert!(!text.contains("balances_fetch_error_info"), "{text}");
    }

    #[test]
    fn a_reload_keeps_what_is_known_about_accounts_that_stay() {
        let exporter = Exporter::new(
            vec![
                deepseek_account("stays", "sk-a"),
                deepseek_account("goes", "sk-b"),
            ],
            false,
            Duration::from_secs(300),
        );
        exporter.record(fetched(0, Ok(balance("1"))));
        exporter.record(fetched(1, Ok(balance("2"))));
        exporter.reload_failed();
        assert!(
            exporter
                .metrics(Exposition::Prometheus)
                .contains("balances_config_last_reload_successful 0")
        );
        exporter.replace_accounts(vec![
            deepseek_account("new", "sk-c"),
            deepseek_account("stays", "sk-a2"),
        ]);
        let text = exporter.metrics(Exposition::Prometheus);
        let balances: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("balances_balance{"))
            .collect();
        assert_eq!(
            balances,
            [r#"balances_balance{account="stays",vendor="deepseek",currency="CNY"} 1"#]
        );
        assert!(text.contains("balances_config_last_reload_successful 1"));
        assert!(text.contains("balances_accounts 2"));
        let names: Vec<String> = exporter
            .accounts()
            .iter()
            .map(|a| a.name().to_owned())
            .collect();
        assert_eq!(names, ["new", "stays"]);
    }

    /// A vendor of the registry, by id.
    fn vendor(id: &str) -> balances::Vendor {
        balances::Vendor::find(id).expect("in the vendor registry")
    }

    fn deepseek_account(
        name: impl Into<String>,
        key: impl Into<balances::SecretString>,
    ) -> balances::Account {
        balances::Account::api_key(name, vendor("deepseek"), key)
            .expect("deepseek takes an api_key")
    }
}
