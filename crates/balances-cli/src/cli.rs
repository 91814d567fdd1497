//! Command-line arguments and exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use balances::Threshold;

/// What the process exit status means. Documented in `--help`; scripts depend on the numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every account was fetched (and, with `--below`, none is below the threshold).
    Ok = 0,
    /// Every account was fetched, and at least one is below its threshold (`--below`, else
    /// its `alert_below`).
    Below = 1,
    /// Bad usage or configuration: nothing was fetched.
    Config = 2,
    /// At least one account could not be fetched (its row shows why).
    FetchFailed = 3,
}

impl Exit {
    /// What the status means, as `--help` says.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "every account was fetched",
            Exit::Below => "an account is below its threshold",
            Exit::Config => "bad usage or configuration",
            Exit::FetchFailed => "an account could not be fetched",
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// The help text after the options. The vendors and their variables come from the vendor
/// registry, so a new vendor folder appears here without an edit.
fn after_help() -> String {
    format!(
        "Accounts are read from, in order: --config FILE; the default config file
($XDG_CONFIG_HOME/balances/config.toml, usually ~/.config/balances/config.toml) if it
exists; otherwise the environment ({}).{AFTER_HELP_REST}",
        crate::accounts::environment_hint()
    )
}

/// What the command is, naming every vendor of the registry.
fn about() -> String {
    let names: Vec<&str> = balances::balances_registry::vendors()
        .iter()
        .map(|entry| entry.description.name.as_str())
        .collect();
    let vendors = if names.is_empty() {
        "paid APIs".to_owned()
    } else {
        crate::accounts::listed(&names, " and ")
    };
    format!("Show how much money each account has left at {vendors}.")
}

/// The command's definition: the derived arguments with the registry-made texts.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
        .about(about())
        .after_help(after_help())
}

const AFTER_HELP_REST: &str = "

An account's threshold is --below when given, else its `alert_below` in the config file.

Vendors without a balance API (OpenAI, Anthropic, with an admin key) report what was spent
this calendar month (UTC) from their cost reports, which lag by hours. Set `monthly_budget =
\"500 USD\"` on such an account (or file-wide) to get BUDGET LEFT = budget - spent: --below
and `alert_below` then apply to what is left. Without a budget only the spend is shown, and
the thresholds apply to nothing.

Exit codes:
  0  every account was fetched (and none is below its threshold)
  1  every account was fetched, and at least one is below its threshold
  2  bad usage or configuration; nothing was fetched
  3  at least one account could not be fetched (its row says why); this wins over 1

Logs go to stderr: -v for debug, -vv for trace, or set BALANCES_LOG (e.g. BALANCES_LOG=debug).
Log colors follow --color; `auto` colors only a terminal and honours NO_COLOR. Keys and
secrets never appear in output or logs.

Examples:
  balances --demo                           try it against local fake vendors, no keys
  balances --config accounts.toml           every account in a file
  DEEPSEEK_API_KEY=sk-... balances          one account from the environment
  balances --format json | jq '.[].balance' for programs
  balances --below 10CNY || notify-send low exit 1 when an account is below 10 CNY
  balances serve --config accounts.toml     a Prometheus exporter and status page on 127.0.0.1:9464
  balances history work --since 30d         an account's past balances
  balances -f prometheus -o /var/lib/node_exporter/balances.prom   for node_exporter (cron)
  balances completions bash > ~/.local/share/bash-completion/completions/balances
  balances man > balances.1";

/// Extra commands beside fetching balances.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout: `balances man | man -l -`.
    Man,
    /// Print the JSON Schema of `--format json` output on stdout.
    Schema,
    /// Run a Prometheus exporter: refresh every account in the background and serve
    /// a status page at /, /metrics, /balances (JSON) and /healthz. SIGHUP reloads the
    /// config; SIGTERM stops.
    Serve(ServeArgs),
    /// Print past balances from the balance history, as a table (with a sparkline per
    /// account and currency on a terminal) or JSON (--format json).
    History(HistoryArgs),
}

/// `balances history` options.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Only this account.
    pub account: Option<String>,

    /// How far back: a number and d, h, m or s (`30d`, `12h`).
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = crate::past::parse_duration)]
    pub since: std::time::Duration,

    /// Show only the last sample of each slice of this long (`1h`, `1d`); every sample by
    /// default.
    #[arg(long, value_name = "DURATION", value_parser = crate::past::parse_duration)]
    pub every: Option<std::time::Duration>,
}

/// `balances serve` options (besides --config, --demo, --concurrency, --timeout, -v).
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. 9464 is the port OpenTelemetry's Prometheus exporters use; the
    /// exporter port registry (9100-9999) has no free numbers left. Port 0 picks a free one.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:9464")]
    pub listen: std::net::SocketAddr,

    /// Seconds between refreshes of every account (each wait varies by up to 10% so that
    /// exporters do not call a vendor in lockstep). Balances move slowly and vendors
    /// rate-limit: the default calls each account 288 times a day.
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_seconds)]
    pub interval: f64,
}

/// When log lines on stderr are colored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Show how much money each account has left (the vendors are listed by [`command`]).
#[derive(Debug, Parser)]
#[command(name = "balances", version)]
pub struct Args {
    /// Read accounts from this TOML file instead of the default config file.
    #[arg(long, short = 'c', value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,

    /// Write the output to FILE instead of stdout, atomically (a temporary file in the
    /// same directory, then a rename), as node_exporter's textfile collector needs.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit with 1 when any account's balance is below AMOUNT (in CURRENCY, if given), e.g.
    /// `--below 10` or `--below 5CNY`; replaces the accounts' own `alert_below`. For an
    /// account that reports spend, it applies to its budget left (nothing without a
    /// `monthly_budget`).
    #[arg(long, value_name = "AMOUNT[CURRENCY]")]
    pub below: Option<Threshold>,

    /// Start local fake vendors with a handful of accounts and show the real output against
    /// them: no keys needed.
    #[arg(long, conflicts_with = "config", global = true)]
    pub demo: bool,

    /// How many accounts to fetch at once.
    #[arg(long, value_name = "N", default_value_t = balances::DEFAULT_CONCURRENCY, value_parser = parse_concurrency, global = true)]
    pub concurrency: usize,

    /// Give up on an account after this many seconds, retries included.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, global = true)]
    pub timeout: Option<f64>,

    /// More logs on stderr (-v debug, -vv trace).
    #[arg(long, short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Keep the balance history in FILE (default: $XDG_STATE_HOME/balances/history.sqlite3,
    /// usually ~/.local/state/balances/history.sqlite3, or the config's [history] path).
    #[arg(long, value_name = "FILE", global = true)]
    pub history: Option<PathBuf>,

    /// Record no history and show no forecast.
    #[arg(long, conflicts_with = "history", global = true)]
    pub no_history: bool,

    /// Color log lines: auto (a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN", global = true)]
    pub color: Color,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How results are printed on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table for a terminal.
    Table,
    /// A JSON array, one object per account in config order, for programs.
    Json,
    /// Prometheus text exposition, for monitoring.
    Prometheus,
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 86400"
        )),
    }
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        _ => Err(format!("`{text}` is not a whole number from 1 to 1024")),
    }
}
