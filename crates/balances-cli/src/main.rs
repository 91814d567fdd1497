//! The `balances` command: one row per account and currency, for a person, a script or a
//! monitoring job. Built only on the `balances` facade (plus the fake vendors for `--demo`).

#![forbid(unsafe_code)]

mod accounts;
mod cli;
mod demo;
mod fetch;
mod history;
mod metrics;
mod output;
mod past;
mod report;
mod serve;
mod spend;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use balances::{Account, BalanceClient, TimeoutConfig};
use clap::FromArgMatches;
use futures::StreamExt;

use cli::{Args, Exit, Format};
use report::Outcome;

/// At least this many accounts on a terminal get a progress bar.
const PROGRESS_BAR_MIN_ACCOUNTS: usize = 8;

fn main() -> ExitCode {
    let args = match Args::from_arg_matches(&cli::command().get_matches()) {
        Ok(args) => args,
        Err(error) => error.exit(),
    };
    if let Some(command) = args
        .command
        .as_ref()
        .filter(|c| !matches!(c, cli::Command::Serve(_) | cli::Command::History(_)))
    {
        return print_generated(command).into();
    }
    init_logging(args.verbose, args.color);
    if let Some(cli::Command::History(history_args)) = &args.command {
        return show_history(&args, history_args).into();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return Exit::Config.into();
        }
    };
    runtime.block_on(run(args)).into()
}

/// Completions and the man page, generated from the same clap definition as `--help`.
fn print_generated(command: &cli::Command) -> Exit {
    let mut definition = cli::command();
    let mut out = std::io::stdout().lock();
    let written = match command {
        cli::Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut definition, "balances", &mut out);
            Ok(())
        }
        cli::Command::Man => clap_mangen::Man::new(definition).render(&mut out),
        cli::Command::Schema => {
            std::io::Write::write_all(&mut out, report::json_schema().as_bytes())
        }
        // Not generated: `main` runs them.
        cli::Command::Serve(_) | cli::Command::History(_) => Ok(()),
    };
    match written {
        Ok(()) => Exit::Ok,
        Err(error) => {
            eprintln!("error: {error}");
            Exit::Config
        }
    }
}

/// `balances history`: reads the file, fetches nothing and needs no credentials.
fn show_history(args: &Args, history_args: &cli::HistoryArgs) -> Exit {
    let config = match accounts::history_config(args.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return Exit::Config;
        }
    };
    let history = history::resolve(args.history.as_deref(), args.no_history, false, &config);
    past::run(args, history_args, history.as_ref())
}

fn init_logging(verbose: u8, color: cli::Color) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BALANCES_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(log_colors(
            color,
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .init();
}

/// Whether log lines are colored: `--color always`/`never` decide; `auto` colors only a
/// terminal, and never when `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
fn log_colors(color: cli::Color, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    match color {
        cli::Color::Always => true,
        cli::Color::Never => false,
        cli::Color::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

async fn run(args: Args) -> Exit {
    let source = if args.demo {
        None
    } else {
        match accounts::read(args.config.as_deref()) {
            Ok(source) => Some(source),
            Err(error) => {
                eprintln!("error: {error}");
                return Exit::Config;
            }
        }
    };
    let history = history::resolve(
        args.history.as_deref(),
        args.no_history,
        args.demo,
        source.as_ref().map_or(
            &history::HistoryConfig::default(),
            accounts::Source::history,
        ),
    );
    // The one-shot command's history lookups (`Store::prepare`, a few ms for 1,000
    // accounts) run on another thread while the accounts are parsed and the client is
    // built, single-threaded work, rather than during the fetches, which keep both cores
    // busy against fast vendors; only the writes wait for the fetches. A mistake in the
    // accounts found after this point leaves the file opened (created, the first time) for
    // nothing, as the next run would.
    let opening = history
        .as_ref()
        .filter(|_| !matches!(args.command, Some(cli::Command::Serve(_))))
        .map(|history| history::open_and_prepare(history, history::now()));
    // The demo server must outlive the fetches; it stops when this binding is dropped.
    let (_demo_server, accounts) = match source {
        None => match demo::start().await {
            Ok(demo) => {
                eprintln!("{}", demo.banner);
                (Some(demo.server), demo.accounts)
            }
            Err(error) => {
                eprintln!("error: {error}");
                return Exit::Config;
            }
        },
        Some(source) => match source.accounts() {
            Ok(loaded) => {
                tracing::debug!(source = %loaded.source, accounts = loaded.accounts.len(), "loaded accounts");
                (None, loaded.accounts)
            }
            Err(error) => {
                eprintln!("error: {error}");
                return Exit::Config;
            }
        },
    };

    let mut timeout = TimeoutConfig::default();
    if let Some(seconds) = args.timeout {
        timeout = timeout.with_call(Duration::from_secs_f64(seconds));
    }
    let client = match BalanceClient::builder()
        .concurrency(args.concurrency)
        .timeout(timeout)
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error}");
            return Exit::Config;
        }
    };

    if let Some(cli::Command::Serve(serve_args)) = &args.command {
        return run_exporter(serve_args, &args, client, accounts, history).await;
    }

    let show_progress = args.format == Format::Table
        && args.output.is_none()
        && accounts.len() >= PROGRESS_BAR_MIN_ACCOUNTS
        && std::io::stderr().is_terminal();
    let mut outcomes = fetch(&client, &accounts, args.below.as_ref(), show_progress).await;
    let now = history::now();
    if std::env::var_os("BALANCES_NOW").is_some() {
        // Tests replay runs at chosen times: the fetches "ended" then.
        for outcome in &mut outcomes {
            outcome.finished_at = now;
        }
    }
    // History never costs a balance: a failure is one warning, and the balances and exit
    // code are what they would be without history.
    let (forecasts_at, recording) = match (history.as_ref(), opening) {
        (Some(history), Some(opening)) => {
            let fetched: Vec<history::Fetched<'_>> = outcomes
                .iter()
                .map(|outcome| history::Fetched {
                    balance: outcome.result.as_ref().ok(),
                    finished_at: outcome.finished_at,
                    threshold: outcome.threshold.as_ref(),
                })
                .collect();
            match history::record_in_background(history, opening, &fetched, now).await {
                Ok((forecasts, recording)) => {
                    for (outcome, forecasts) in outcomes.iter_mut().zip(forecasts) {
                        outcome.forecasts = forecasts;
                    }
                    (Some(now), Some(recording))
                }
                Err(error) => {
                    history::warn(&error);
                    (None, None)
                }
            }
        }
        _ => (None, None),
    };

    let text = match args.format {
        Format::Table => report::table(&outcomes, forecasts_at),
        Format::Json => report::json(&outcomes, forecasts_at),
        Format::Prometheus => {
            let series: Vec<_> = outcomes.iter().map(Outcome::series).collect();
            metrics::render(&series, None, metrics::Exposition::Prometheus)
        }
    };
    let written = match &args.output {
        Some(path) => output::write_atomically(path, text.as_bytes()),
        // A closed stdout (`balances | head`) is not worth a panic or an error message.
        None => {
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
            Ok(())
        }
    };
    // The samples were written while the output was; a failure now is the run's one
    // warning, after the balances.
    if let Some(recording) = recording
        && let Err(error) = recording.finished().await
    {
        history::warn(&error);
    }
    if let Err(error) = written {
        eprintln!("error: {error}");
        return Exit::Config;
    }

    let exit = exit_for(&outcomes);
    if args.demo && exit != Exit::Ok {
        // The demo is a newcomer's first command: it shows an error row on purpose, and
        // says what that would mean instead of ending as a failure.
        eprintln!(
            "demo: with real accounts this run would exit with status {} ({}); the demo exits 0",
            exit as u8,
            exit.meaning()
        );
        return Exit::Ok;
    }
    exit
}

/// `balances serve`. A SIGHUP reloads the accounts from where they first came from; the
/// demo's accounts are fixed.
async fn run_exporter(
    serve_args: &cli::ServeArgs,
    args: &Args,
    client: BalanceClient,
    accounts: Vec<Account>,
    history: Option<history::History>,
) -> Exit {
    let reload: serve::Loader = if args.demo {
        let demo_accounts = accounts.clone();
        Box::new(move || Ok(demo_accounts.clone()))
    } else {
        let config = args.config.clone();
        Box::new(move || {
            accounts::load(config.as_deref())
                .map(|loaded| loaded.accounts)
                .map_err(|error| error.to_string())
        })
    };
    let settings = serve::Settings {
        listen: serve_args.listen,
        interval: Duration::from_secs_f64(serve_args.interval),
        history,
    };
    match serve::run(settings, client, accounts, reload).await {
        Ok(()) => Exit::Ok,
        Err(error) => {
            eprintln!("error: {error}");
            Exit::Config
        }
    }
}

async fn fetch(
    client: &BalanceClient,
    accounts: &[Account],
    below: Option<&balances::Threshold>,
    show_progress: bool,
) -> Vec<Outcome> {
    let progress = show_progress.then(|| {
        let bar = indicatif::ProgressBar::new(accounts.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} accounts {elapsed}")
        {
            bar.set_style(style);
        }
        bar
    });
    let mut fetched: Vec<Option<fetch::Fetched>> = std::iter::repeat_with(|| None)
        .take(accounts.len())
        .collect();
    let mut stream = fetch::fetch_timed(client, accounts);
    while let Some(one) = stream.next().await {
        if let Some(bar) = &progress {
            bar.inc(1);
        }
        let index = one.index;
        if let Some(slot) = fetched.get_mut(index) {
            *slot = Some(one);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    accounts
        .iter()
        .zip(fetched)
        .filter_map(|(account, fetched)| {
            let fetched = fetched?;
            Some(Outcome {
                account: account.name().to_owned(),
                vendor: account.vendor(),
                result: fetched.result,
                threshold: below.or(account.alert_below()).cloned(),
                duration: fetched.duration,
                finished_at: fetched.finished_at,
                forecasts: Vec::new(),
            })
        })
        .collect()
}

fn exit_for(outcomes: &[Outcome]) -> Exit {
    if outcomes.iter().any(|outcome| outcome.result.is_err()) {
        Exit::FetchFailed
    } else if outcomes.iter().any(Outcome::is_below_threshold) {
        Exit::Below
    } else {
        Exit::Ok
    }
}
