//! `/`: one self-contained status page. Every account with its balances, its last refresh
//! and error, its forecast and a small chart of its history (inline SVG). No external asset
//! and no script: the page's one style sheet is inline and allowed by its hash in a strict
//! Content-Security-Policy, and every string that came from a config or a vendor is
//! escaped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use balances::{Balance, Scope, Spend, Vendor, escape_control};
use balances_history::{Estimate, Measure, SeriesKey, human_remaining, ms_since_epoch};
use rust_decimal::Decimal;

use crate::history::SeriesForecast;
use crate::report::rfc3339;

/// The page's only style sheet. Its hash is in the Content-Security-Policy, so nothing else
/// can style (or script) the page.
const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#f7f8fa}
h1{font-size:1.3rem;margin:0 0 .25rem}
.meta{color:#5b6475;margin:0 0 1rem}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:.75rem 1rem;margin:0 0 1rem}
h2{font-size:1.05rem;margin:0 0 .35rem}
.vendor{color:#5b6475;font-weight:normal}
.ok{color:#1a7f37}.failed{color:#b42318}
.error{background:#fff4f2;border-left:3px solid #b42318;padding:.35rem .6rem;margin:.4rem 0;white-space:pre-wrap;word-break:break-word}
table{border-collapse:collapse;margin:.4rem 0}
th,td{padding:.2rem .7rem .2rem 0;text-align:left;vertical-align:middle}
td.num{text-align:right;font-variant-numeric:tabular-nums}
th{color:#5b6475;font-weight:600;font-size:.85rem}
svg{display:block}
.soon{color:#b42318;font-weight:600}
footer{color:#5b6475;font-size:.85rem}
";

/// The `Content-Security-Policy` of the page: nothing loads, nothing runs, only the inline
/// style sheet above applies.
pub fn content_security_policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'"
        )
    })
}

/// What the page shows of one account.
#[derive(Debug)]
pub struct AccountView<'a> {
    pub name: &'a str,
    pub vendor: Vendor,
    pub balance: Option<&'a Balance>,
    pub error: Option<&'a balances::Error>,
    pub last_attempt: Option<SystemTime>,
    pub last_success: Option<SystemTime>,
    pub forecasts: &'a [SeriesForecast],
    pub charts: &'a HashMap<SeriesKey, Vec<(i64, Decimal)>>,
}

/// The whole page.
#[derive(Debug)]
pub struct PageView<'a> {
    pub accounts: &'a [AccountView<'a>],
    pub history: bool,
    pub interval: Duration,
    pub now: SystemTime,
}

/// Text for HTML, in an element or a quoted attribute: control characters escaped as for
/// a terminal, then the five characters HTML gives a meaning. Hand-written: five
/// replacements need no dependency.
pub fn escape(text: &str) -> String {
    let text = escape_control(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's HTML.
pub fn render(page: &PageView<'_>) -> String {
    let now_ms = ms_since_epoch(page.now);
    let mut html = String::new();
    let failing = page.accounts.iter().filter(|a| a.error.is_some()).count();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"{refresh}\">\
         <title>balances: {count} accounts</title><style>{STYLE}</style></head><body>\
         <h1>balances</h1><p class=\"meta\">{count} accounts, {failing} failing; refreshed every {interval}; \
         this page at {generated}{history}</p>",
        refresh = page.interval.as_secs().clamp(5, 3_600),
        count = page.accounts.len(),
        interval = human_interval(page.interval),
        generated = rfc3339(now_ms),
        history = if page.history {
            ""
        } else {
            "; balance history is off, so there is no forecast and no chart"
        },
    );
    for account in page.accounts {
        render_account(&mut html, account, now_ms);
    }
    html.push_str(
        "<footer>Also: <a href=\"/metrics\">/metrics</a> (Prometheus), \
         <a href=\"/balances\">/balances</a> (JSON), <a href=\"/healthz\">/healthz</a>.</footer>\
         </body></html>\n",
    );
    html
}

fn render_account(html: &mut String, account: &AccountView<'_>, now_ms: i64) {
    let status = match (account.error, account.last_attempt) {
        (Some(_), _) => "<span class=\"failed\">failing</span>",
        (None, Some(_)) => "<span class=\"ok\">ok</span>",
        (None, None) => "not refreshed yet",
    };
    let _ = write!(
        html,
        "<section class=\"account\" data-account=\"{name}\"><h2>{name} <span class=\"vendor\">{vendor}</span></h2>\
         <p class=\"meta\">{status}; last refresh {attempt}; last success {success}</p>",
        name = escape(account.name),
        vendor = escape(&crate::report::vendor_cell(
            account.vendor,
            account.balance.map_or(Scope::Account, Balance::scope)
        )),
        attempt = when(account.last_attempt),
        success = when(account.last_success),
    );
    if let Some(error) = account.error {
        let _ = write!(
            html,
            "<div class=\"error\"><strong>{kind}</strong>: {message}</div>",
            kind = escape(error.kind().as_str()),
            message = escape(&error.to_string()),
        );
    }
    let Some(balance) = account.balance else {
        html.push_str("</section>");
        return;
    };
    if let Some(spend) = balance.spend() {
        render_spend(html, spend, account.last_success, now_ms);
        html.push_str("</section>");
        return;
    }
    html.push_str(
        "<table><tr><th>currency/unit</th><th>total</th><th>granted</th><th>topped up</th>\
         <th>spend per day</th><th>runs out</th><th>last 7 days</th></tr>",
    );
    let money = balance.amounts().iter().map(|a| {
        (
            Measure::Currency,
            &a.currency,
            a.total,
            a.granted,
            a.topped_up,
        )
    });
    let units = balance
        .units()
        .iter()
        .map(|a| (Measure::Unit, &a.unit, a.total, a.granted, a.topped_up));
    for (measure, code, total, granted, topped_up) in money.chain(units) {
        let forecast = account
            .forecasts
            .iter()
            .find(|f| f.measure == measure && f.code == *code);
        let key = SeriesKey {
            account: account.name.to_owned(),
            vendor: account.vendor.as_str().to_owned(),
            measure,
            code: code.clone(),
        };
        let chart = account
            .charts
            .get(&key)
            .map_or_else(String::new, |points| chart(points, code));
        let _ = write!(
            html,
            "<tr class=\"series\" data-code=\"{code}\"><td>{code}</td><td class=\"num total\">{total}</td>\
             <td class=\"num\">{granted}</td><td class=\"num\">{topped_up}</td>\
             <td class=\"num\">{spend}</td><td class=\"num runs-out{soon}\">{runs_out}</td><td>{chart}</td></tr>",
            code = escape(code),
            granted = optional(granted),
            topped_up = optional(topped_up),
            spend = forecast.and_then(|f| f.forecast.spend_per_day).map_or_else(
                || "-".to_owned(),
                |rate| rate.round_dp(2).normalize().to_string()
            ),
            runs_out = escape(&runs_out(forecast, now_ms)),
            soon = if forecast
                .and_then(|f| f.forecast.remaining_ms(now_ms))
                .is_some_and(|ms| ms < 3 * 86_400_000)
            {
                " soon"
            } else {
                ""
            },
        );
    }
    // A currency without limit has no amount, no spend rate and no forecast.
    for unlimited in balance.unlimited() {
        let _ = write!(
            html,
            "<tr class=\"series\" data-code=\"{code}\"><td>{code}</td><td class=\"num total\">unlimited</td>\
             <td class=\"num\">-</td><td class=\"num\">-</td><td class=\"num\">-</td><td class=\"num\">-</td><td></td></tr>",
            code = escape(&unlimited.currency),
        );
    }
    html.push_str("</table></section>");
}

/// A spend reading (a vendor with no balance): what was spent over the period, and what is
/// left of the budget. Never a balance, never charted as one.
///
/// The budget's `runs out` is at the period's average pace as of `read_at`, counted from now.
fn render_spend(html: &mut String, spend: &Spend, read_at: Option<SystemTime>, now_ms: i64) {
    let _ = write!(
        html,
        "<p class=\"meta\">spend from {from} to {to} (UTC), from the vendor's cost report, which \
         lags by hours: not a live figure</p>\
         <table><tr><th>currency</th><th>spent</th><th>budget</th><th>budget left</th>\
         <th>budget runs out</th></tr>",
        from = spend.from.date_naive(),
        to = spend.to.date_naive(),
    );
    let now = balances_history::time_of_ms(now_ms);
    for spent in &spend.spent {
        let runs_out = read_at.map_or_else(
            || "-".to_owned(),
            |read_at| crate::spend::runs_out_cell(spend, spent, read_at, now),
        );
        let _ = write!(
            html,
            "<tr class=\"spend\" data-code=\"{code}\"><td>{code}</td><td class=\"num spent\">{amount}</td>\
             <td class=\"num\">{budget}</td><td class=\"num budget-left\">{left}</td>\
             <td class=\"num budget-runs-out\">{runs_out}</td></tr>",
            code = escape(&spent.currency),
            amount = spent.amount,
            budget = optional(spent.budget),
            left = optional(spent.remaining),
            runs_out = escape(&runs_out),
        );
    }
    html.push_str("</table>");
}

fn runs_out(forecast: Option<&SeriesForecast>, now_ms: i64) -> String {
    let Some(forecast) = forecast else {
        return "-".to_owned();
    };
    match forecast.forecast.estimate {
        Estimate::Reached => "reached".to_owned(),
        Estimate::RunsOut { .. } => forecast
            .forecast
            .remaining_ms(now_ms)
            .map_or_else(|| "-".to_owned(), human_remaining),
        Estimate::None(why) => format!("- ({})", why.as_str().replace('_', " ")),
    }
}

fn optional(value: Option<Decimal>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn when(time: Option<SystemTime>) -> String {
    time.map_or_else(|| "never".to_owned(), |t| rfc3339(ms_since_epoch(t)))
}

fn human_interval(interval: Duration) -> String {
    let seconds = interval.as_secs_f64();
    if seconds >= 60.0 && seconds % 60.0 == 0.0 {
        format!("{} min", seconds / 60.0)
    } else {
        format!("{seconds} s")
    }
}

/// Chart size in SVG user units.
const WIDTH: i64 = 240;
const HEIGHT: i64 = 48;

/// An inline SVG line of `points` (time, total), scaled to their span. Coordinates are
/// display only, so they may be rounded; the amounts in the table are exact.
fn chart(points: &[(i64, Decimal)], code: &str) -> String {
    if points.len() < 2 {
        return String::new();
    }
    let (first_at, last_at) = (points[0].0, points[points.len() - 1].0);
    let span = (last_at - first_at).max(1);
    let low = points.iter().map(|p| p.1).min().unwrap_or_default();
    let high = points.iter().map(|p| p.1).max().unwrap_or_default();
    let range = high - low;
    let mut coordinates = String::new();
    for (at_ms, total) in points {
        let x = (at_ms - first_at) * WIDTH / span;
        let y = if range.is_zero() {
            Decimal::from(HEIGHT / 2)
        } else {
            Decimal::from(HEIGHT - 2) - (*total - low) * Decimal::from(HEIGHT - 4) / range
        };
        let _ = write!(coordinates, "{x},{} ", y.round_dp(1));
    }
    format!(
        "<svg class=\"chart\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{label}\"><polyline fill=\"none\" stroke=\"#3b6fd8\" stroke-width=\"1.5\" \
         points=\"{points}\"/></svg>",
        label = escape(&format!(
            "{code} from {} to {} over the last 7 days",
            points[0].1,
            points[points.len() - 1].1
        )),
        points = coordinates.trim_end(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape(r#"<script>alert("x&y")</script>'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
        assert_eq!(escape("a\u{1b}[2Jb"), r"a\u{1b}[2Jb");
    }

    #[test]
    fn the_policy_allows_exactly_the_inline_style_sheet() {
        let policy = content_security_policy();
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(!policy.contains("unsafe"));
        assert!(
            !policy.contains("script-src"),
            "scripts fall back to 'none'"
        );
    }

    /// The page of one refreshed account with `balance` and no history.
    fn page_of(balance: &Balance) -> String {
        let charts = HashMap::new();
        render(&PageView {
            accounts: &[AccountView {
                name: balance.account(),
                vendor: balance.vendor(),
                balance: Some(balance),
                error: None,
                last_attempt: None,
                last_success: None,
                forecasts: &[],
                charts: &charts,
            }],
            history: false,
            interval: Duration::from_secs(300),
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000),
        })
    }

    #[test]
    fn a_budget_runs_out_at_its_pace_counted_from_the_page_not_the_reading() {
        let vendor = Vendor::find("openai").expect("in the registry");
        let at = |text: &str| -> SystemTime {
            text.parse::<chrono::DateTime<chrono::Utc>>()
                .expect("an RFC 3339 instant")
                .into()
        };
        let budget: balances::Budget = "500 USD".parse().expect("a budget");
        let spend = Spend::new(
            "2026-12-01T00:00:00Z".parse().expect("an instant"),
            "2027-01-01T00:00:00Z".parse().expect("an instant"),
            [("USD".to_owned(), Decimal::from(250))],
            Some(&budget),
        )
        .expect("a spend");
        let balance = Balance::spent("ops", vendor, spend);
        let charts = HashMap::new();
        // Read on day 10 at 25 a day: the 250 left run out on the 21st; the page is a day
        // later, so 9 days are left.
        let html = render(&PageView {
            accounts: &[AccountView {
                name: balance.account(),
                vendor: balance.vendor(),
                balance: Some(&balance),
                error: None,
                last_attempt: Some(at("2026-12-11T00:00:00Z")),
                last_success: Some(at("2026-12-11T00:00:00Z")),
                forecasts: &[],
                charts: &charts,
            }],
            history: false,
            interval: Duration::from_secs(300),
            now: at("2026-12-12T00:00:00Z"),
        });
        assert!(
            html.contains(r#"<td class="num budget-runs-out">~9d</td>"#),
            "{html}"
        );
    }

    #[test]
    fn spend_is_shown_as_spend_with_the_budget_left_never_as_a_balance() {
        let vendor = Vendor::find("openai").expect("in the registry");
        let month = |day: &str| -> chrono::DateTime<chrono::Utc> {
            day.parse().expect("an RFC 3339 instant")
        };
        let budget: balances::Budget = "500 USD".parse().expect("a budget");
        let spend = Spend::new(
            month("2026-12-01T00:00:00Z"),
            month("2027-01-01T00:00:00Z"),
            [("USD".to_owned(), Decimal::new(12_345, 2))],
            Some(&budget),
        )
        .expect("a spend");
        let balance = Balance::spent("ops", vendor, spend);
        let html = page_of(&balance);
        assert!(
            html.contains("spend from 2026-12-01 to 2027-01-01"),
            "{html}"
        );
        assert!(html.contains("lags by hours"), "{html}");
        assert!(
            html.contains(r#"<td class="num spent">123.45</td>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<td class="num budget-left">376.55</td>"#),
            "{html}"
        );
        assert!(
            !html.contains("currency/unit"),
            "no balance table for spend: {html}"
        );
        assert!(
            html.contains(r#"<td class="num budget-runs-out">-</td>"#),
            "not read yet, no pace: {html}"
        );
    }

    #[test]
    fn an_unlimited_key_quota_says_so_and_shows_no_amount() {
        let vendor = Vendor::find("newapi").expect("in the registry");
        let balance = Balance::new("relay", vendor, None, Vec::new())
            .and_then(|b| b.with_unlimited(vec![balances::Unlimited::new("USD")]))
            .expect("a balance")
            .with_scope(Scope::Key);
        let html = page_of(&balance);
        assert!(html.contains("newapi (key quota)"), "{html}");
        assert!(
            html.contains(r#"<td>USD</td><td class="num total">unlimited</td>"#),
            "{html}"
        );
        assert!(!html.contains("100000000"), "{html}");
    }

    #[test]
    fn a_chart_spans_its_box() {
        let points = [
            (0, Decimal::from(100)),
            (1_800_000, Decimal::from(90)),
            (3_600_000, Decimal::from(80)),
        ];
        let svg = chart(&points, "CNY");
        assert!(svg.contains(r#"points="0,2 120,24 240,46""#), "{svg}");
        assert!(chart(&points[..1], "CNY").is_empty());
    }
}
