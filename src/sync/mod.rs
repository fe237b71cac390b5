//! Team mode: consoles keep their local SQLite file and a journal of their actions; the server
//! orders every change of a scope (a city) and hands the changes back. Protocol: docs/sync-protocol.md; the
//! wire shapes are in `crate::wire::sync`. Who is on which request (`presence`) is not synced
//! state: it lives seconds, in the server's memory; nor is the team (`team`: the server's
//! channels, who is on shift), which the console polls. Files citizens attach stay on the
//! server's disk and are asked for when a card shows them (`files`).

pub mod client;
pub mod files;
pub mod presence;
pub mod runner;
pub mod team;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_mirror;
#[cfg(test)]
mod tests_poison;
#[cfg(test)]
mod tests_reset;
