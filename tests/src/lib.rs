//! Workspace-level end-to-end tests live in `tests/`; this library is empty.

// The workspace README's examples ("Using the facade") are compiled with these doctests, so
// they cannot drift from the facade's API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}
