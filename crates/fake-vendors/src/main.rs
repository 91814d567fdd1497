//! `fake-vendors`: serve the fake DeepSeek, GeekAI and EIOTClub APIs on 127.0.0.1 until Ctrl-C.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use fake_vendors::{FakeVendor, FakeVendors, FakeVendorsBuilder, FakeVendorsHandle};

/// Serve local fakes of the DeepSeek, GeekAI and EIOTClub balance APIs on 127.0.0.1.
///
/// Prints the three base URLs and the seeded accounts' credentials on standard output, then
/// serves until Ctrl-C (or SIGTERM). Logs go to standard error (`RUST_LOG=fake_vendors=debug`
/// shows every request; secrets are never logged).
#[derive(Debug, Parser)]
#[command(name = "fake-vendors", version)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Which accounts to seed.
    #[arg(long, value_enum, default_value_t = Seed::Demo)]
    seed: Seed,
    /// How many accounts `--seed bulk` creates.
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    /// Latency added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Print the URLs and accounts as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Seed {
    /// The demo preset: a handful of accounts, one of them revoked.
    Demo,
    /// `--accounts N` working accounts spread over the three vendors.
    Bulk,
    /// No accounts.
    Empty,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("fake_vendors=info")),
        )
        .init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fake-vendors: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let builder: FakeVendorsBuilder = match args.seed {
        Seed::Demo => FakeVendors::demo(),
        Seed::Bulk => FakeVendors::bulk(args.accounts),
        Seed::Empty => FakeVendors::builder(),
    };
    let server = match builder
        .port(args.port)
        .latency(Duration::from_millis(args.latency_ms))
        .start()
        .await
    {
        Ok(server) => server,
        Err(error) => {
            eprintln!(
                "fake-vendors: cannot listen on 127.0.0.1:{}: {error}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = print_summary(&server, args.json) {
        eprintln!("fake-vendors: cannot write to standard output: {error}");
        return ExitCode::FAILURE;
    }
    wait_for_signal().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}

fn print_summary(server: &FakeVendorsHandle, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let urls: serde_json::Map<String, serde_json::Value> = FakeVendor::ALL
            .iter()
            .map(|v| (v.as_str().to_owned(), server.base_url(*v).into()))
            .collect();
        let summary = serde_json::json!({
            "addr": server.addr().to_string(),
            "base_urls": urls,
            "accounts": server.accounts(),
        });
        writeln!(out, "{summary}")?;
    } else {
        writeln!(out, "fake-vendors listening on {}", server.addr())?;
        for vendor in FakeVendor::ALL {
            writeln!(out, "  {:<9} {}", vendor.as_str(), server.base_url(vendor))?;
        }
        let accounts = server.accounts();
        if !accounts.is_empty() {
            writeln!(out, "accounts ({}):", accounts.len())?;
        }
        for account in accounts {
            write!(
                out,
                "  {:<20} {:<9} key={}",
                account.name,
                account.vendor.as_str(),
                account.credential
            )?;
            if let Some(secret) = &account.secret {
                write!(out, " secret={secret}")?;
            }
            if !account.note.is_empty() {
                write!(out, "  # {}", account.note)?;
            }
            writeln!(out)?;
        }
        writeln!(out, "press Ctrl-C to stop")?;
    }
    out.flush()
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
