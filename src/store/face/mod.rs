//! What the console's store can do: every way in is a typed method on `Store`, grouped here
//! one file per concern, each saying what it promises. Callers never see SQL nor the
//! connection (`Store::call` is the store's own), so this folder is the whole list.

mod console;
mod gateway;
mod incidents;
mod report;
mod sync;
pub mod triage;
mod views;

#[cfg(test)]
mod probes;

pub use sync::SyncIdentity;
