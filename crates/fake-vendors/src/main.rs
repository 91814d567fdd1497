//! `fake-vendors`: serve a fake of every registry vendor's balance API on 127.0.0.1 until
//! Ctrl-C.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use fake_vendors::{FakeVendors, FakeVendorsBuilder, FakeVendorsHandle};

/// Serve local fakes of every registry vendor's balance API on 127.0.0.1.
///
/// Prints every vendor's base URLs (one per region for a vendor with regions) and the seeded accounts' credentials on standard output, then
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
    /// One account per vendor, each answering its default example.
    Demo,
    /// `--accounts N` working accounts spread over every vendor.
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
                "fake-vendors: cannot start on 127.0.0.1:{}: {error}",
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

/// Every vendor's routes as `(vendor, region, base URL)`, regions in the description's order.
fn endpoints(server: &FakeVendorsHandle) -> Vec<(&'static str, Option<&'static str>, String)> {
    let mut endpoints = Vec::new();
    for vendor in balances_registry::vendors() {
        let id = vendor.id.as_str();
        if vendor.description.regions.is_empty()
            && let Ok(url) = server.base_url(id)
        {
            endpoints.push((id, None, url));
        }
        for region in &vendor.description.regions {
            if let Ok(url) = server.region_base_url(id, &region.name) {
                endpoints.push((id, Some(region.name.as_str()), url));
            }
        }
    }
    endpoints
}

fn print_summary(server: &FakeVendorsHandle, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        // `base_urls`: each vendor's default base URL; `endpoints`: every region's.
        let urls: serde_json::Map<String, serde_json::Value> = balances_registry::vendors()
            .iter()
            .filter_map(|v| Some((v.id.clone(), server.base_url(&v.id).ok()?.into())))
            .collect();
        let endpoints: Vec<serde_json::Value> = endpoints(server)
            .into_iter()
            .map(|(vendor, region, url)| {
                serde_json::json!({"vendor": vendor, "region": region, "base_url": url})
            })
            .collect();
        let summary = serde_json::json!({
            "addr": server.addr().to_string(),
            "base_urls": urls,
            "endpoints": endpoints,
            "accounts": server.accounts(),
        });
        writeln!(out, "{summary}")?;
    } else {
        writeln!(out, "fake-vendors listening on {}", server.addr())?;
        for (vendor, region, url) in endpoints(server) {
            let label = match region {
                Some(region) => format!("{vendor} ({region})"),
                None => vendor.to_owned(),
            };
            writeln!(out, "  {label:<20} {url}")?;
        }
        let accounts = server.accounts();
        if !accounts.is_empty() {
            writeln!(out, "accounts ({}):", accounts.len())?;
        }
        for account in accounts {
            write!(out, "  {:<20} {:<12}", account.name, account.vendor)?;
            for (field, value) in &account.credentials {
                write!(out, " {field}={value}")?;
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
