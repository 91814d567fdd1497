use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use xtask::codegen;

/// Maintainer tasks for the balances workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Regenerate the client crates under crates/ from the specs under specs/.
    Codegen {
        /// Write nothing; print a unified diff and fail if any generated file, openapi.json
        /// or recorded upstream sha256 is out of date.
        #[arg(long)]
        check: bool,
        /// Only this vendor (a folder name under specs/).
        #[arg(long, value_name = "VENDOR")]
        only: Option<String>,
        /// Write a changed crate without compiling it first (by default each changed crate
        /// is built alone before anything of its vendor is written).
        #[arg(long, conflicts_with = "check")]
        no_build: bool,
        /// The workspace root; defaults to the one this xtask was built from.
        #[arg(long, value_name = "DIR", hide = true)]
        root: Option<PathBuf>,
    },
    /// Run every spec of the real-world corpus (xtask/tests/corpus/) through the pipeline and
    /// through plain progenitor, compiling each result; prints a table and writes
    /// target/corpus/report.json. Slow: minutes.
    Corpus {
        /// Only specs whose name contains this.
        #[arg(long, value_name = "TEXT")]
        only: Option<String>,
    },
    /// Benchmark the facade and the command against the fake vendors (release build); writes
    /// target/bench/report.json.
    Bench {
        /// Accounts in the 30-day history file `balances history` is timed over (filling
        /// 1,000 takes about two minutes more than the default).
        #[arg(long, default_value_t = 100)]
        history_accounts: usize,
    },
    /// Run one fuzz target (cargo-fuzz, stable toolchain, no sanitizer) for a bounded time.
    Fuzz {
        /// The target: one of the names in `fuzz/Cargo.toml`.
        target: String,
        /// How long to run.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
}

fn main() -> ExitCode {
    match Cli::parse().task {
        Task::Codegen {
            check,
            only,
            no_build,
            root,
        } => {
            let root = root.unwrap_or_else(workspace_root);
            run_codegen(codegen::Options {
                root,
                only,
                check,
                build: !no_build,
            })
        }
        Task::Corpus { only } => match xtask::corpus::run(&workspace_root(), only.as_deref()) {
            Ok(rows) => {
                print!("{}", xtask::corpus::table(&rows));
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        },
        Task::Bench { history_accounts } => {
            match xtask::bench::run(&workspace_root(), history_accounts) {
                Ok(report) => {
                    print!("{}", xtask::bench::table(&report));
                    println!("report: target/bench/report.json");
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Task::Fuzz { target, seconds } => {
            match xtask::fuzz::run(&workspace_root(), &target, seconds) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn run_codegen(options: codegen::Options) -> ExitCode {
    let started = Instant::now();
    let outcomes = match codegen::run(&options) {
        Ok(outcomes) => outcomes,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = false;
    for outcome in &outcomes {
        let state = match (outcome.changed.is_empty(), options.check) {
            (true, _) => "unchanged",
            (false, false) => "updated",
            (false, true) => "STALE",
        };
        if outcome.vendor == codegen::REGISTRY_OUTCOME {
            println!(
                "{:<12} {:<9} {}",
                outcome.vendor,
                state,
                codegen::describe::REGISTRY_FILE
            );
            if options.check {
                for (_, diff) in &outcome.changed {
                    stale = true;
                    print!("{diff}");
                }
            }
            continue;
        }
        let repairs: Vec<String> = outcome
            .repairs
            .applied
            .iter()
            .map(|(name, count)| format!("{name}×{count}"))
            .collect();
        println!(
            "{:<12} {:<9} {} file(s) differ; repairs: {}",
            outcome.vendor,
            state,
            outcome.changed.len(),
            if repairs.is_empty() {
                "none".to_owned()
            } else {
                repairs.join(", ")
            }
        );
        if options.check {
            for (_, diff) in &outcome.changed {
                stale = true;
                print!("{diff}");
            }
        }
    }
    let vendors = outcomes
        .iter()
        .filter(|o| o.vendor != codegen::REGISTRY_OUTCOME)
        .count();
    println!("codegen: {vendors} vendor(s) in {:.2?}", started.elapsed());
    if stale {
        eprintln!("error: generated files are out of date; run `cargo xtask codegen`");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
