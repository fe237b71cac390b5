//! Team mode: consoles keep their local SQLite file and a journal of their actions; the server
//! orders every change of a scope (a city) and hands the changes back. Protocol: SYNC.md; the
//! wire shapes are in `wire`.

#[doc(hidden)]
pub mod checker;
pub mod client;
pub mod runner;
pub mod wire;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_mirror;
