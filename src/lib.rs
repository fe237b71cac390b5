//! mcu-desk: the operator console of a city's Municipal Control Center.
//!
//! Layers (docs/architecture.md): `domain` is pure; `wire` holds the words layers share, just
//! above it; `store` owns SQLite; `cli` is the binary's edge.

pub mod channels;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod incidents;
pub mod lang;
pub mod macros;
pub mod present;
pub mod report;
pub mod sanitize;
pub mod server;
pub mod store;
pub mod sync;
pub mod templates;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod triage;
pub mod tui;
pub mod wire;

#[cfg(test)]
mod fuzz_tests;
