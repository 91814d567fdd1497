//! Integration tests of `cargo xtask codegen`: golden outputs, the repairs each vendored spec
//! needs, determinism, `--check` with the real binary, adding a vendor, the OpenAPI 3.1
//! catalog spec, and error reporting.
//!
//! One test binary with modules, so the xtask and its dependencies are linked once.

mod cli;
mod determinism;
mod errors;
mod new_vendor;
mod new_vendor_mistakes;
mod openapi31;
mod repairs;
mod selection;
mod snapshots;
mod support;
mod swagger2;
