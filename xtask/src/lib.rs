//! Maintainer tasks for the balances workspace, run as `cargo xtask <task>`.
//!
//! Plain Rust instead of shell scripts, so every task runs the same on every machine.

#![forbid(unsafe_code)]

pub mod bench;
pub mod codegen;
pub mod corpus;
pub mod fuzz;
