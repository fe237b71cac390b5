//! The test rig, kept out of the product: what the unit tests, the integration tests in
//! `tests/` and the benches share but the `mcu` binary never runs. Compiled only for tests
//! (`cfg(test)`) or with the `testkit` feature, which the crate's dev-dependency on itself
//! turns on for integration tests and benches (see Cargo.toml). The rig may use anything in
//! the crate; nothing in the product may use the rig.
//!
//! - `contract`: the behaviour both server stores must show, one suite run on SQLite and
//!   PostgreSQL alike, with the console-like `Client` and `Harness` the tests drive.
//! - `checker`: the global sync invariants (I1–I5) between a server's store and console files.
//! - `pg_cluster`: a throw-away PostgreSQL cluster from the machine's own binaries.
//! - `sample`: generated requests for tests, benches and the report's figures.
//! - `fuzz`: generated input for every parser of outside input (a short run in the unit
//!   tests, a long one in `cargo bench --bench fuzz`).
//! - `raw_file`: a console file on the test's own thread, for counts in plain SQL.

pub mod checker;
pub mod contract;
pub mod fuzz;
pub mod pg_cluster;
pub mod raw_file;
pub mod sample;
