//! The monitoring files in `deploy/` (alert rules, their unit tests, the example Prometheus
//! config, the Grafana dashboard, the systemd unit and the Containerfile) stay valid and name
//! only metrics the exporter really exports.
//!
//! The Prometheus files are checked with `promtool` when it is on PATH. Without it the
//! promtool tests print a skip line, except under CI (`CI` set), where they fail: CI must
//! install Debian's `prometheus` package.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The metric names of the exporter's metric contract (`balances --format prometheus` and
/// `balances serve`). A name here that the exporter does not export, or a file naming a metric
/// missing here, is a broken dashboard panel or an alert that can never fire.
const CONTRACT_METRICS: &[&str] = &[
    "balances_balance",
    "balances_granted_balance",
    "balances_topped_up_balance",
    "balances_available",
    "balances_alert_threshold",
    "balances_fetch_success",
    "balances_fetch_error_info",
    "balances_last_attempt_timestamp_seconds",
    "balances_last_success_timestamp_seconds",
    "balances_fetch_duration_seconds",
    "balances_fetches_total",
    "balances_unit_balance",
    "balances_spend_per_second",
    "balances_unit_spend_per_second",
    "balances_depletion_timestamp_seconds",
    "balances_unit_depletion_timestamp_seconds",
    "balances_history_writes_total",
    "balances_up",
    "balances_accounts",
    "balances_config_last_reload_successful",
    "balances_build_info",
    "balances_spent",
    "balances_budget",
    "balances_budget_remaining",
    "balances_budget_projected_spend",
    "balances_budget_depletion_timestamp_seconds",
    "balances_spend_period_start_timestamp_seconds",
];

/// The alerts `alerts.yml` defines, each of which `alerts.test.yml` must test.
const ALERTS: &[&str] = &[
    "BalanceBelowThreshold",
    "RunsOutSoon",
    "BalanceFetchFailing",
    "BalanceEndpointRetired",
    "BalanceDataStale",
    "BalanceExporterDown",
    "BalanceExporterAbsent",
    "BudgetNearlySpent",
    "BudgetRunsOutSoon",
];

fn deploy_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    dir.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn deploy_file(relative: &str) -> PathBuf {
    deploy_dir().join(relative)
}

fn read(relative: &str) -> String {
    let path = deploy_file(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether promtool can be run. Outside CI a missing promtool skips the test (with a line on
/// stderr); under CI it fails it.
fn promtool_available() -> bool {
    let found = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "promtool is not on PATH, and CI must check deploy/prometheus: install Debian's \
             prometheus package (apt-get install prometheus), which provides promtool"
        );
    }
    eprintln!(
        "skipped: promtool is not on PATH (install Debian's prometheus package to check deploy/prometheus)"
    );
    false
}

/// Runs promtool with `args` from a directory other than `deploy/`, so relative paths inside
/// the files must resolve against the files themselves; returns stdout and stderr together.
fn promtool(args: &[&str]) -> String {
    let cwd = tempfile::tempdir().expect("tempdir");
    let output = Command::new("promtool")
        .args(args)
        .current_dir(cwd.path())
        .output()
        .expect("promtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool {} failed ({}):\n{text}",
        args.join(" "),
        output.status
    );
    text
}

fn path_arg(relative: &str) -> String {
    deploy_file(relative)
        .to_str()
        .expect("UTF-8 path")
        .to_owned()
}

#[test]
fn promtool_accepts_the_alert_rules() {
    if !promtool_available() {
        return;
    }
    let output = promtool(&["check", "rules", &path_arg("prometheus/alerts.yml")]);
    assert!(
        output.contains(&format!("SUCCESS: {} rules found", ALERTS.len())),
        "expected {} rules:\n{output}",
        ALERTS.len()
    );
}

#[test]
fn the_alert_rule_unit_tests_pass() {
    if !promtool_available() {
        return;
    }
    promtool(&["test", "rules", &path_arg("prometheus/alerts.test.yml")]);
}

/// The recording rules of `forecast.rules.yml`.
const RECORDING_RULES: &[&str] = &[
    "balances:balance:predict_linear_3d",
    "balances:balance:seconds_to_zero",
];

#[test]
fn the_predict_linear_recording_rules_are_valid_tested_and_name_contract_metrics() {
    let rules = read("prometheus/forecast.rules.yml");
    let tests = read("prometheus/forecast.rules.test.yml");
    for rule in RECORDING_RULES {
        assert!(rules.contains(&format!("- record: {rule}")), "{rule}");
        assert!(
            tests.contains(&format!("- expr: {rule}")),
            "{rule} is not tested"
        );
    }
    for expr in alert_expressions(&rules) {
        for name in metric_names(&expr) {
            assert!(
                CONTRACT_METRICS.contains(&name.as_str()),
                "forecast.rules.yml: `{expr}` names {name}, which is not in the metric contract"
            );
        }
    }
    if !promtool_available() {
        return;
    }
    let output = promtool(&["check", "rules", &path_arg("prometheus/forecast.rules.yml")]);
    assert!(
        output.contains(&format!("SUCCESS: {} rules found", RECORDING_RULES.len())),
        "{output}"
    );
    promtool(&[
        "test",
        "rules",
        &path_arg("prometheus/forecast.rules.test.yml"),
    ]);
}

#[test]
fn promtool_accepts_the_example_config_and_finds_its_rules() {
    if !promtool_available() {
        return;
    }
    let output = promtool(&["check", "config", &path_arg("prometheus/prometheus.yml")]);
    // rule_files are resolved relative to prometheus.yml: the rules must have been found.
    assert!(
        output.contains(&format!("SUCCESS: {} rules found", ALERTS.len())),
        "the config's rule_files did not load alerts.yml:\n{output}"
    );
}

#[test]
fn every_alert_is_defined_and_unit_tested() {
    let rules = read("prometheus/alerts.yml");
    let tests = read("prometheus/alerts.test.yml");
    for alert in ALERTS {
        assert!(
            rules
                .lines()
                .any(|l| l.trim() == format!("- alert: {alert}")),
            "alerts.yml does not define {alert}"
        );
        assert!(
            tests
                .lines()
                .any(|l| l.trim() == format!("alertname: {alert}")),
            "alerts.test.yml does not test {alert}"
        );
    }
    let defined = rules
        .lines()
        .filter(|l| l.trim().starts_with("- alert:"))
        .count();
    assert_eq!(defined, ALERTS.len(), "alerts.yml defines other alerts");
    assert!(
        tests
            .lines()
            .any(|l| l.trim() == "- alerts.yml" || l.trim() == "- \"alerts.yml\""),
        "alerts.test.yml does not load alerts.yml"
    );
}

/// The PromQL expressions of `alerts.yml`: one per `expr:` line, which must hold the whole
/// expression (no block scalars), so that this test sees all of it.
fn alert_expressions(rules: &str) -> Vec<String> {
    rules
        .lines()
        .filter_map(|line| line.trim().strip_prefix("expr:"))
        .map(|value| {
            let value = value.trim();
            assert!(
                !value.starts_with('|') && !value.starts_with('>'),
                "keep each alert expression on its `expr:` line: {value}"
            );
            let unquoted = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .map(|v| v.replace("''", "'"));
            unquoted.unwrap_or_else(|| value.to_owned())
        })
        .collect()
}

#[test]
fn the_alerts_name_only_contract_metrics_and_up() {
    let rules = read("prometheus/alerts.yml");
    let expressions = alert_expressions(&rules);
    assert_eq!(expressions.len(), ALERTS.len(), "{expressions:?}");
    for expr in &expressions {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "no metric found in {expr}");
        for name in names {
            assert!(
                name == "up" || CONTRACT_METRICS.contains(&name.as_str()),
                "alerts.yml: `{expr}` names {name}, which is not in the metric contract"
            );
        }
    }
    // The annotations' query templates name metrics too.
    for word in balances_words(&rules) {
        assert!(
            CONTRACT_METRICS.contains(&word.as_str()),
            "alerts.yml names {word}, which is not in the metric contract"
        );
    }
}

/// Every string in the dashboard, with the JSON key it is the value of.
fn strings<'a>(value: &'a Value, key: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
    match value {
        Value::String(s) => out.push((key, s)),
        Value::Array(items) => items.iter().for_each(|v| strings(v, key, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| strings(v, k, out)),
        _ => {}
    }
}

fn dashboard() -> Value {
    serde_json::from_str(&read("grafana/balances-dashboard.json"))
        .unwrap_or_else(|e| panic!("balances-dashboard.json is not valid JSON: {e}"))
}

#[test]
fn the_dashboard_queries_name_only_contract_metrics() {
    let dashboard = dashboard();
    let mut all = Vec::new();
    strings(&dashboard, "", &mut all);
    let expressions: Vec<&str> = all
        .iter()
        .filter(|(key, _)| *key == "expr")
        .map(|(_, s)| *s)
        .collect();
    assert!(expressions.len() >= 6, "too few queries: {expressions:?}");
    let mut used = Vec::new();
    for expr in &expressions {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "no metric found in {expr}");
        for name in names {
            assert!(
                CONTRACT_METRICS.contains(&name.as_str()),
                "dashboard: `{expr}` names {name}, which is not in the metric contract"
            );
            used.push(name);
        }
    }
    // Variable queries (label_values) and descriptions name metrics too.
    for (_, s) in &all {
        for word in balances_words(s) {
            assert!(
                CONTRACT_METRICS.contains(&word.as_str()),
                "dashboard: {s:?} names {word}, which is not in the metric contract"
            );
        }
    }
    for wanted in [
        "balances_balance",
        "balances_alert_threshold",
        "balances_fetch_success",
        "balances_fetch_error_info",
        "balances_fetch_duration_seconds",
        "balances_last_success_timestamp_seconds",
        "balances_depletion_timestamp_seconds",
        "balances_spend_per_second",
    ] {
        assert!(
            used.iter().any(|name| name == wanted),
            "no dashboard panel queries {wanted}"
        );
    }
}

#[test]
fn the_dashboard_takes_its_data_source_and_filters_as_variables() {
    let dashboard = dashboard();
    let schema = dashboard["schemaVersion"].as_u64().expect("schemaVersion");
    assert!(schema >= 36, "schemaVersion {schema}");
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list");
    let variable = |name: &str| {
        variables
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no templating variable {name}"))
    };
    assert_eq!(variable("DS_PROMETHEUS")["type"], "datasource");
    assert_eq!(variable("vendor")["type"], "query");
    assert_eq!(variable("account")["type"], "query");

    // Every Prometheus data source reference is the variable, never a fixed uid.
    fn datasources<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
        match value {
            Value::Array(items) => items.iter().for_each(|v| datasources(v, out)),
            Value::Object(map) => {
                if let Some(ds) = map.get("datasource") {
                    out.push(ds);
                }
                map.values().for_each(|v| datasources(v, out));
            }
            _ => {}
        }
    }
    let mut refs = Vec::new();
    datasources(&dashboard["panels"], &mut refs);
    assert!(!refs.is_empty());
    for ds in refs {
        assert_eq!(ds["uid"], "${DS_PROMETHEUS}", "data source {ds}");
    }
    let panels = dashboard["panels"].as_array().expect("panels");
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            // The exporter-wide metrics have no account or vendor label to filter on.
            let per_account = metric_names(expr).iter().any(|name| {
                ![
                    "balances_up",
                    "balances_accounts",
                    "balances_config_last_reload_successful",
                    "balances_build_info",
                ]
                .contains(&name.as_str())
            });
            if per_account {
                assert!(
                    expr.contains("$vendor") && expr.contains("$account"),
                    "panel {:?} ignores the vendor/account variables: {expr}",
                    panel["title"]
                );
            }
        }
    }
}

#[test]
fn the_systemd_unit_reloads_with_sighup_and_is_sandboxed() {
    let unit = read("systemd/balances.service");
    let directive = |key: &str| {
        unit.lines()
            .filter_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
            .collect::<Vec<_>>()
    };
    let reload = directive("ExecReload");
    assert!(
        reload.len() == 1 && reload[0].contains("-HUP") && reload[0].contains("$MAINPID"),
        "ExecReload must send SIGHUP to $MAINPID: {reload:?}"
    );
    let start = directive("ExecStart");
    assert!(
        start.len() == 1
            && start[0].starts_with("/usr/local/bin/balances serve")
            && start[0].contains("--config /etc/balances/config.toml")
            && start[0].contains("--listen 127.0.0.1:9464")
            && start[0].contains("--history /var/lib/balances/history.sqlite3"),
        "ExecStart: {start:?}"
    );
    for (key, value) in [
        ("DynamicUser", "yes"),
        ("EnvironmentFile", "/etc/balances/keys.env"),
        ("Restart", "on-failure"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("PrivateTmp", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        // The history: under ProtectSystem=strict only the state directory is writable.
        ("StateDirectory", "balances"),
        ("StateDirectoryMode", "0700"),
    ] {
        assert_eq!(directive(key), [value], "{key}");
    }
    assert!(
        unit.contains("0600"),
        "the unit documents keys.env's mode 0600"
    );
}

#[test]
fn the_containerfile_builds_the_command_and_runs_it_unprivileged() {
    let containerfile = read("Containerfile");
    let build = containerfile
        .lines()
        .find(|l| l.contains("cargo build"))
        .expect("a cargo build step");
    for part in ["--release", "--locked", "-p balances-cli"] {
        assert!(build.contains(part), "cargo build without {part}: {build}");
    }
    let instructions: Vec<&str> = containerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    for wanted in [
        "FROM docker.io/library/rust:1.95-slim-bookworm AS builder",
        "FROM docker.io/library/debian:bookworm-slim",
        "EXPOSE 9464",
        "ENTRYPOINT [\"balances\"]",
    ] {
        assert!(instructions.contains(&wanted), "no `{wanted}`");
    }
    assert!(
        instructions
            .iter()
            .any(|l| l.starts_with("USER ") && !l.contains("root") && *l != "USER 0"),
        "the runtime stage must run as a non-root user"
    );
    assert!(containerfile.contains("ca-certificates"));
}

// A small PromQL scanner: enough to find the metric names in the expressions above.

/// Words that are not metric names: keywords, aggregations and literals.
const NOT_METRICS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];

/// Keywords followed by a parenthesised label list.
const LABEL_LISTS: &[&str] = &[
    "on",
    "ignoring",
    "by",
    "without",
    "group_left",
    "group_right",
];

/// The index after the string literal that starts at `start`.
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if quote != '`' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The index after the `close` that ends the group opened at `start`, skipping strings.
fn skip_group(chars: &[char], start: usize, close: char) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '"' | '\'' | '`' => i = skip_string(chars, i),
            c if c == close => return i + 1,
            _ => i += 1,
        }
    }
    i
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The metric names an expression selects (Grafana's `$variables` allowed).
fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            i = skip_string(&chars, i);
        } else if c == '{' {
            i = skip_group(&chars, i, '}');
        } else if c == '[' {
            i = skip_group(&chars, i, ']');
        } else if c == '$' {
            // A Grafana variable: $name or ${name}.
            i += 1;
            if chars.get(i) == Some(&'{') {
                i = skip_group(&chars, i, '}');
            } else {
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit() || c == '.' {
            // Numbers and durations (offset 5m).
            while i < chars.len() && (is_name_char(chars[i]) || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let before_paren = chars.get(next) == Some(&'(');
            let lower = word.to_ascii_lowercase();
            if LABEL_LISTS.contains(&lower.as_str()) {
                if before_paren {
                    i = skip_group(&chars, next, ')');
                }
            } else if NOT_METRICS.contains(&lower.as_str()) || before_paren {
                // A keyword, an aggregation or a function call.
            } else {
                names.push(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// Every word in `text` that starts with `balances_`: a metric name wherever it appears (a
/// colon ends the word, as in prose like "balances_up: 1 while ...").
fn balances_words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("balances_"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_scanner_finds_metric_names_and_nothing_else() {
    assert_eq!(
        metric_names(
            r#"count by (kind) (balances_fetch_error_info{vendor=~"$vendor", kind!="a b"}) or vector(0)"#
        ),
        ["balances_fetch_error_info"]
    );
    assert_eq!(
        metric_names(
            "(balances_fetch_success == 0) * on (account, vendor) group_left (kind) balances_fetch_error_info offset 5m"
        ),
        ["balances_fetch_success", "balances_fetch_error_info"]
    );
    assert_eq!(
        metric_names(
            "time() - balances_last_success_timestamp_seconds{account=~\"${account}\"} > 3600"
        ),
        ["balances_last_success_timestamp_seconds"]
    );
    assert_eq!(
        metric_names("sum without (instance) (rate(balances_fetches_total[$__rate_interval]))"),
        ["balances_fetches_total"]
    );
    assert_eq!(metric_names(r#"absent(up{job="balances"})"#), ["up"]);
    // A misspelt name is found, so the contract checks above would reject it.
    assert_eq!(
        metric_names("balance_balance < on (account) balances_threshold"),
        ["balance_balance", "balances_threshold"]
    );
    assert_eq!(
        balances_words("query(\"balances_alert_treshold{a=\\\"b\\\"}\") balances-x balances_up: 1"),
        ["balances_alert_treshold", "balances_up"]
    );
}
