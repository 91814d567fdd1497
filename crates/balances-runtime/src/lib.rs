#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod binding;
mod context;
mod decimal;
pub mod further;
pub mod pages;
pub mod projection;

pub use binding::{Binding, Call, Further, Pending, Sent};
pub use context::{Context, Exchange, MAX_RESPONSE_BODY_BYTES, Outgoing, Received, RequestSigner};
pub use decimal::{ExactDecimal, NotExact, parse_exact};

// What generated code names, so that a generated crate needs no dependency the runtime
// does not already have.
pub use progenitor_client;
pub use rust_decimal;
